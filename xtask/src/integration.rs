//! `cargo xtask integration`: the privileged suites.
//!
//! Every `tests/*.rs` target of every crate runs as root; targets whose name starts with
//! `rootless` are built as root and then run as the unprivileged user `podnet-ci`, which this
//! module prepares (account, subuid/subgid ranges, a private `XDG_RUNTIME_DIR`). The test
//! binary and its package's binaries are copied where the user can run them; a binary NAME is
//! passed as `NAME_BIN` (`PODNET_BIN`). The user runs them with the PATH its login shell gets
//! (no sbin directory on Debian), as a user who logged in with `su - USER` would.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd;
use crate::skips::SkipLog;
use crate::tally::Tally;

/// The unprivileged account the rootless suites run as.
pub const TEST_USER: &str = "podnet-ci";
const SUBID_RANGE: &str = "200000-265535";

/// A `tests/*.rs` target of a workspace package.
struct TestTarget {
    package: String,
    name: String,
}

impl TestTarget {
    fn rootless(&self) -> bool {
        self.name.starts_with("rootless")
    }
}

/// `cargo xtask integration`: the suites on their own, with the skip protocol (fatal when
/// `CI` is set), ending with the same closing line as `ci`.
pub fn run_standalone() -> Result<(), String> {
    let log = SkipLog::create(crate::in_ci())?;
    log.export();
    let mut tally = Tally::default();
    tally.step(
        "setup",
        crate::setup::run(&crate::setup::Wanted::all()).map(|_| ()),
    );
    run(&mut tally)?;
    tally.finish(&log);
    tally.print("integration");
    tally.into_result()
}

/// Runs every integration target into `tally`; fails loudly without root. The caller ran
/// setup (a failed setup does not stop the suites: each test that needs what is missing
/// fails naming it) and exported the skip protocol's environment ([`SkipLog::export`]).
pub fn run(tally: &mut Tally) -> Result<(), String> {
    if !crate::is_root() {
        return Err(
            "integration: the privileged suites need root (namespaces, mounts, bridges, \
             firewall rules); run `sudo cargo xtask integration`"
                .to_string(),
        );
    }
    let targets = test_targets()?;
    let mut by_package: Vec<(String, Vec<String>)> = Vec::new();
    for t in targets.iter().filter(|t| !t.rootless()) {
        match by_package.iter_mut().find(|(p, _)| *p == t.package) {
            Some((_, names)) => names.push(t.name.clone()),
            None => by_package.push((t.package.clone(), vec![t.name.clone()])),
        }
    }
    for (package, names) in &by_package {
        let mut test = cmd::cargo();
        test.args(["test", "--no-fail-fast", "-p", package]);
        for name in names {
            test.args(["--test", name]);
        }
        let out = cmd::tee_tests(test)?;
        tally.record(&format!("{package} integration tests (root)"), &out, None);
    }
    crate::tools::record_second_backend_pass(tally);
    let rootless: Vec<&TestTarget> = targets.iter().filter(|t| t.rootless()).collect();
    if !rootless.is_empty() {
        let user = prepare_test_user()?;
        for target in rootless {
            let step = format!("{} {} (as {TEST_USER})", target.package, target.name);
            match run_as_user(&user, target) {
                Ok(out) => tally.record(&step, &out, Some(1)),
                Err(e) => tally.step(&step, Err(e)),
            }
        }
        tally.step(
            &format!("nothing of {TEST_USER}'s outlives the rootless suites"),
            check_user_leftovers(&user),
        );
    }
    Ok(())
}

fn test_targets() -> Result<Vec<TestTarget>, String> {
    let mut metadata = cmd::cargo();
    metadata.args(["metadata", "--no-deps", "--format-version", "1"]);
    let json: serde_json::Value = serde_json::from_str(&cmd::output(metadata)?)
        .map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))?;
    let mut targets = Vec::new();
    for package in json["packages"].as_array().into_iter().flatten() {
        let Some(pname) = package["name"].as_str() else {
            continue;
        };
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_test = target["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "test"));
            if let (true, Some(name)) = (is_test, target["name"].as_str()) {
                targets.push(TestTarget {
                    package: pname.to_string(),
                    name: name.to_string(),
                });
            }
        }
    }
    Ok(targets)
}

/// The unprivileged test account.
pub struct TestUser {
    pub uid: u32,
    pub runtime_dir: PathBuf,
    pub home: PathBuf,
}

/// Creates `podnet-ci` with subuid/subgid ranges and a 0700 runtime dir; idempotent.
pub fn prepare_test_user() -> Result<TestUser, String> {
    let exists = Command::new("id")
        .arg("-u")
        .arg(TEST_USER)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let mut add = Command::new("useradd");
        add.args(["-m", "-s", "/bin/bash", TEST_USER]);
        cmd::run(add)?;
    }
    for (file, flag) in [
        ("/etc/subuid", "--add-subuids"),
        ("/etc/subgid", "--add-subgids"),
    ] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if !text
            .lines()
            .any(|l| l.starts_with(&format!("{TEST_USER}:")))
        {
            let mut usermod = Command::new("usermod");
            usermod.args([flag, SUBID_RANGE, TEST_USER]);
            cmd::run(usermod)?;
        }
    }
    let uid: u32 = {
        let mut id = Command::new("id");
        id.args(["-u", TEST_USER]);
        cmd::output(id)?
            .trim()
            .parse()
            .map_err(|e| format!("id -u {TEST_USER}: {e}"))?
    };
    let runtime_dir = PathBuf::from(format!("/run/user/{uid}"));
    let mut install = Command::new("install");
    install
        .args(["-d", "-m", "0700", "-o", TEST_USER, "-g", TEST_USER])
        .arg(&runtime_dir);
    cmd::run(install)?;
    Ok(TestUser {
        uid,
        runtime_dir,
        home: PathBuf::from(format!("/home/{TEST_USER}")),
    })
}

/// Builds a rootless target as root, copies the binary where the user can read it (the
/// checkout may sit under a 0700 home), and runs it as the user with a clean environment.
fn run_as_user(user: &TestUser, target: &TestTarget) -> Result<crate::tally::RunOutput, String> {
    let mut build = cmd::cargo();
    build.args([
        "test",
        "-p",
        &target.package,
        "--test",
        &target.name,
        "--no-run",
        "--message-format=json",
    ]);
    let out = cmd::output(build)?;
    let artifacts: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .collect();
    let exe = artifacts
        .iter()
        .filter(|m| m["profile"]["test"] == true && m["target"]["name"] == target.name.as_str())
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo did not report a test binary for {}", target.name))?;
    // the package's own binaries (e.g. `podnet`), which the suite runs as the user too
    let bins: Vec<(String, PathBuf)> = artifacts
        .iter()
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_string();
            Some((name, PathBuf::from(m["executable"].as_str()?)))
        })
        .collect();
    let dir = Path::new("/tmp").join(format!("podnet-rootless-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = dir.join(format!("{}-{}", target.package, target.name));
    std::fs::copy(&exe, &copy).map_err(|e| format!("copying {}: {e}", exe.display()))?;
    set_mode(&dir, 0o755)?;
    set_mode(&copy, 0o755)?;
    let mut bin_env = Vec::new();
    for (name, path) in &bins {
        let bin_copy = dir.join(name);
        std::fs::copy(path, &bin_copy).map_err(|e| format!("copying {}: {e}", path.display()))?;
        set_mode(&bin_copy, 0o755)?;
        bin_env.push(format!(
            "{}_BIN={}",
            name.to_uppercase().replace('-', "_"),
            bin_copy.display()
        ));
    }
    let mut run = Command::new("runuser");
    run.args(["-u", TEST_USER, "--", "env", "-i"])
        .arg(format!("PATH={}", login_path()?))
        .arg(format!("HOME={}", user.home.display()))
        .arg(format!("USER={TEST_USER}"))
        .arg(format!("XDG_RUNTIME_DIR={}", user.runtime_dir.display()))
        .arg(format!("PODNET_TEST_UID={}", user.uid))
        .arg("RUST_BACKTRACE=1")
        .args(&bin_env);
    for var in [
        "CI",
        "RUST_LOG",
        "PODNET_SKIP_LOG",
        "PODNET_SKIP_FATAL",
        "PODNET_EXPECTED_SKIPS",
    ] {
        if let Ok(v) = std::env::var(var) {
            run.arg(format!("{var}={v}"));
        }
    }
    run.arg(&copy).arg("--test-threads=1").current_dir(&dir);
    let result = cmd::tee_tests(run);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The PATH a login shell of the test user gets (`su - USER`: on Debian
/// `/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games`, no sbin directory), so the
/// rootless suites see what a user sees, not an environment made to suit them.
fn login_path() -> Result<String, String> {
    let mut shell = Command::new("runuser");
    shell.args(["-l", TEST_USER, "-c", "printf %s \"$PATH\""]);
    let path = cmd::output(shell)?;
    if path.is_empty() {
        return Err(format!("a login shell of {TEST_USER} has an empty PATH"));
    }
    Ok(path)
}

/// After the rootless suites: the user's namespace holder (`podnet-pause`, our counterpart of
/// podman's pause process, kept between commands by design) is stopped, and so is rootless
/// podman's (`catatonit -P`, from the peer benches); any other live process of the user
/// or any netns pin left in its runtime dir is a leak, reported with what it is.
fn check_user_leftovers(user: &TestUser) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let mut leaks = Vec::new();
        for (pid, cmdline) in live_processes_of(user.uid) {
            // ours, and rootless podman's own pause process (left by the peer benches)
            if cmdline.starts_with("podnet-pause") || cmdline.starts_with("catatonit -P") {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            } else {
                leaks.push(format!("process {pid}: {cmdline}"));
            }
        }
        let pins = user.runtime_dir.join("netns");
        for entry in std::fs::read_dir(&pins).into_iter().flatten().flatten() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                leaks.push(format!("netns pin {}", entry.path().display()));
            }
        }
        if leaks.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "left behind by the rootless suites: {}",
                leaks.join("; ")
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Live (not zombie: init reaps slowly here) processes of `uid`, with their command lines.
fn live_processes_of(uid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let dir = entry.path();
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        };
        if field("Uid:").and_then(|u| u.parse::<u32>().ok()) != Some(uid)
            || field("State:").as_deref() == Some("Z")
        {
            continue;
        }
        let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        found.push((
            pid,
            String::from_utf8_lossy(&cmdline)
                .replace('\0', " ")
                .trim()
                .to_string(),
        ));
    }
    found
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {:o} {}: {e}", mode, path.display()))
}
