//! Shared helpers for the user namespace tests: run one test of this binary
//! again inside a new user namespace and read back what it observed.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Env var telling a re-executed test binary that it runs as the child.
pub const CHILD_ENV: &str = "PNT_RD_CHILD";

/// What the child reports, one `PNTRD key=value` line per fact.
#[derive(Debug, Default)]
pub struct Report {
    pub kind: String,
    pub rootless: String,
    pub rootless_uid: String,
    pub reason: String,
}

/// In the child: print the report lines and return true.
pub fn child_report_if_child() -> bool {
    if std::env::var_os(CHILD_ENV).is_none() {
        return false;
    }
    let class = rootless_detect::classify().expect("classify in child");
    println!("PNTRD kind={:?}", class.kind);
    println!("PNTRD rootless={}", rootless_detect::is_rootless());
    println!("PNTRD rootless_uid={}", rootless_detect::rootless_uid());
    println!("PNTRD reason={}", class.reason);
    true
}

fn parse(stdout: &str) -> Report {
    let mut r = Report::default();
    for line in stdout.lines() {
        // libtest prints `test NAME ... ` on the same line as the first report line.
        let Some(at) = line.find("PNTRD ") else {
            continue;
        };
        let rest = &line[at + "PNTRD ".len()..];
        let (k, v) = rest.split_once('=').expect("key=value");
        match k {
            "kind" => r.kind = v.to_string(),
            "rootless" => r.rootless = v.to_string(),
            "rootless_uid" => r.rootless_uid = v.to_string(),
            "reason" => r.reason = v.to_string(),
            _ => {}
        }
    }
    r
}

/// A reason the environment cannot run the test (missing `unshare`), or None.
pub fn missing_unshare() -> Option<String> {
    match Command::new("unshare").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!("unshare --version failed: {:?}", o.status)),
        Err(e) => Some(format!("cannot run unshare: {e}")),
    }
}

/// Says why `test` cannot run, through the one skip path (a failure under `cargo xtask ci`).
pub fn skip(test: &str, reason: &str) {
    testkit::skip(test, reason);
}

fn child_command(test: &str) -> Command {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new("unshare");
    cmd.env(CHILD_ENV, "1");
    cmd.arg("--user");
    // Wait until the maps are written before running the test binary.
    cmd.arg("--")
        .arg("sh")
        .arg("-c")
        .arg("read _go; exec \"$0\" \"$@\"");
    cmd.arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"]);
    cmd
}

/// Runs `test` of this binary under `unshare --user --map-root-user`, as
/// `uid`:`uid` when given (this process must then be root), else as the
/// current user: the child is uid 0 mapped to that host uid.
pub fn run_as_mapped_root(test: &str, uid: Option<u32>) -> Report {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new("unshare");
    cmd.env(CHILD_ENV, "1")
        .args(["--user", "--map-root-user", "--"]);
    cmd.arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"]);
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    finish(test, cmd.output().expect("run unshare"))
}

fn finish(test: &str, out: std::process::Output) -> Report {
    testkit::assert_child_ran(test, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = parse(&stdout);
    assert!(
        !report.kind.is_empty(),
        "child printed no report:\n{stdout}"
    );
    report
}

/// Runs `test` of this binary as a new user namespace whose uid and gid
/// maps are `map`, written by this process (which must be root). The
/// process keeps its host ids, so `map` must map host uid 0 to see root.
pub fn run_in_userns(test: &str, map: &str) -> Report {
    let mut child = child_command(test)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unshare");
    let pid = child.id();
    let own = std::fs::metadata("/proc/self/ns/user")
        .expect("own userns")
        .ino();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Wait until unshare has made the namespace (then it execs sh).
    loop {
        let theirs = std::fs::metadata(format!("/proc/{pid}/ns/user")).map(|m| m.ino());
        if matches!(theirs, Ok(ino) if ino != own) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "child never entered a user namespace"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(format!("/proc/{pid}/setgroups"), "deny").expect("setgroups");
    std::fs::write(format!("/proc/{pid}/uid_map"), map).expect("write uid_map");
    std::fs::write(format!("/proc/{pid}/gid_map"), map).expect("write gid_map");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"go\n")
        .expect("release child");
    finish(test, child.wait_with_output().expect("child output"))
}
