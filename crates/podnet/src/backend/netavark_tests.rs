//! Unit tests of [`Netavark`] against a fake netavark shell script (no root needed).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::*;
use crate::backend::PerNetworkOptions;

/// A fake netavark: records its arguments, stdin and environment into its
/// directory, prints `out` and exits with `code`.
struct FakeBinary {
    dir: tempfile::TempDir,
    path: PathBuf,
}

fn fake_binary(out: &str, code: i32) -> FakeBinary {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    fs::write(dir.path().join("out"), out).unwrap();
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = probe ] && exit 0\nprintf '%s\\n' \"$@\" > {d}/args\ncat > {d}/stdin\n\
         echo \"$RUST_LOG|$RUST_BACKTRACE|$NETAVARK_DNS_PORT\" > {d}/env\n\
         echo 'a log line' >&2\ncat {d}/out\nexit {code}\n"
    );
    let path = dir.path().join("netavark");
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    // Another test thread forking while the script was open for writing makes
    // exec fail with ETXTBSY for a moment: wait until it runs.
    for _ in 0..100 {
        match Command::new(&path).arg("probe").status() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            _ => break,
        }
    }
    FakeBinary { dir, path }
}

impl FakeBinary {
    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(name)).unwrap()
    }
    fn netavark(&self) -> Netavark {
        Netavark::with_binaries(&self.path, None, self.dir.path().join("run/networks"))
    }
}

fn options(dns: bool) -> NetworkOptions {
    let mut opts = NetworkOptions::new("cid", "cname");
    let per = PerNetworkOptions {
        interface_name: "eth0".into(),
        ..Default::default()
    };
    let net: crate::Network =
        serde_json::from_value(json!({"name": "n1", "driver": "bridge", "dns_enabled": dns}))
            .unwrap();
    opts.add_network(&net, per);
    opts
}

const RESULT: &str = r#"{"n1":{"dns_search_domains":[],"dns_server_ips":[],"interfaces":{"eth0":{"mac_address":"02:00:00:00:00:01","subnets":[{"ipnet":"10.89.0.2/24","gateway":"10.89.0.1"}]}}}}"#;

#[test]
fn setup_passes_podmans_arguments_stdin_and_log_level() {
    let fake = fake_binary(RESULT, 0);
    let nv = fake.netavark().log_level("debug").dns_port(5353);
    let result = nv
        .setup(Path::new("/run/netns/x"), &options(false))
        .unwrap();
    assert_eq!(
        result["n1"].interfaces["eth0"].mac_address,
        "02:00:00:00:00:01"
    );

    let config = fake.dir.path().join("run/networks");
    assert!(config.is_dir(), "config dir created");
    let args: Vec<String> = fake.read("args").lines().map(String::from).collect();
    assert_eq!(
        args,
        [
            "--config".to_string(),
            config.display().to_string(),
            "--rootless=false".into(),
            "--aardvark-binary=".into(),
            "setup".into(),
            "/run/netns/x".into(),
        ]
    );
    let stdin: serde_json::Value = serde_json::from_str(&fake.read("stdin")).unwrap();
    assert_eq!(stdin["container_id"], "cid");
    assert_eq!(stdin["networks"]["n1"]["interface_name"], "eth0");
    assert_eq!(stdin["network_info"]["n1"]["driver"], "bridge");
    assert_eq!(fake.read("env").trim(), "netavark=debug|1|5353");
}

#[test]
fn teardown_and_rootless_flag() {
    let fake = fake_binary("", 0);
    let aardvark = PathBuf::from("/usr/lib/podman/aardvark-dns");
    let nv = Netavark::with_binaries(&fake.path, Some(aardvark), fake.dir.path().join("cfg"))
        .rootless(true)
        .log_level("warn");
    nv.teardown(Path::new("/run/netns/y"), &options(false))
        .unwrap();
    let args = fake.read("args");
    assert!(args.contains("--rootless=true\n--aardvark-binary=/usr/lib/podman/aardvark-dns\nteardown\n/run/netns/y"), "{args}");
    // RUST_BACKTRACE is only added at debug level (it may still come from our own environment).
    let env = fake.read("env");
    assert!(
        env.starts_with("netavark=warn|") && env.trim_end().ends_with('|'),
        "{env}"
    );
}

#[test]
fn error_json_becomes_typed_error_with_exit_code() {
    let fake = fake_binary(r#"{"error":"unsupported driver foo"}"#, 3);
    let err = fake
        .netavark()
        .setup(Path::new("/run/netns/z"), &options(false))
        .unwrap_err();
    match &err {
        BackendError::Netavark {
            command,
            exit_code,
            message,
            netns,
        } => {
            assert_eq!(*command, "setup");
            assert_eq!(*exit_code, Some(3));
            assert_eq!(message, "unsupported driver foo");
            assert_eq!(netns, Path::new("/run/netns/z"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "netavark setup failed (exit code 3): unsupported driver foo"
    );
}

#[test]
fn failure_without_json_reports_raw_output_or_stderr() {
    let fake = fake_binary("thread 'main' panicked", 101);
    let err = fake
        .netavark()
        .teardown(Path::new("/n"), &options(false))
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Netavark { message, exit_code: Some(101), .. } if message == "thread 'main' panicked"),
        "{err:?}"
    );

    let fake = fake_binary("", 1);
    let err = fake
        .netavark()
        .teardown(Path::new("/n"), &options(false))
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Netavark { message, .. } if message == "a log line"),
        "{err:?}"
    );
}

#[test]
fn unreadable_or_mismatched_result_is_an_error() {
    let fake = fake_binary("not json", 0);
    let err = fake
        .netavark()
        .setup(Path::new("/n"), &options(false))
        .unwrap_err();
    assert!(matches!(err, BackendError::BadOutput { .. }), "{err:?}");

    let fake = fake_binary(r#"{"other":{}}"#, 0);
    let err = fake
        .netavark()
        .setup(Path::new("/n"), &options(false))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"netavark setup returned networks ["other"], expected ["n1"]"#
    );
}

#[test]
fn invalid_options_never_reach_netavark() {
    let fake = fake_binary(RESULT, 0);
    let mut opts = options(false);
    opts.network_info.clear();
    let err = fake.netavark().setup(Path::new("/n"), &opts).unwrap_err();
    assert!(
        matches!(err, BackendError::InvalidOptions { .. }),
        "{err:?}"
    );
    assert!(!fake.dir.path().join("args").exists());
}

#[test]
fn dns_setup_removes_a_zombie_aardvark_pid_file_first() {
    let fake = fake_binary(RESULT, 0);
    let proc_root = fake.dir.path().join("proc");
    fs::create_dir_all(proc_root.join("999")).unwrap();
    fs::write(proc_root.join("999/stat"), "999 (aardvark-dns) Z 1 999").unwrap();
    let config = fake.dir.path().join("cfg");
    fs::create_dir_all(config.join("aardvark-dns")).unwrap();
    let pid_file = config.join("aardvark-dns/aardvark.pid");
    let aardvark = PathBuf::from("/usr/lib/podman/aardvark-dns");
    let nv = Netavark::with_binaries(&fake.path, Some(aardvark), &config)
        .with_proc_root(proc_root.clone());

    // Without DNS the pid file is left alone.
    fs::write(&pid_file, "999").unwrap();
    nv.setup(Path::new("/n"), &options(false)).unwrap();
    assert!(pid_file.exists());

    // A live aardvark-dns is left alone too.
    fs::write(proc_root.join("999/stat"), "999 (aardvark-dns) S 1 999").unwrap();
    nv.setup(Path::new("/n"), &options(true)).unwrap();
    assert!(pid_file.exists());

    fs::write(proc_root.join("999/stat"), "999 (aardvark-dns) Z 1 999").unwrap();
    nv.setup(Path::new("/n"), &options(true)).unwrap();
    assert!(
        !pid_file.exists(),
        "stale pid file removed before netavark ran"
    );
}

#[test]
fn missing_binary_is_a_spawn_error() {
    let nv = Netavark::with_binaries(
        "/nonexistent/netavark",
        None,
        std::env::temp_dir().join("pn-none"),
    );
    let err = nv.teardown(Path::new("/n"), &options(false)).unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Spawn {
                command: "teardown",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn teardown_ignores_only_the_dead_aardvark_error() {
    let fake = fake_binary(r#"{"error":"IO error: aardvark pid not found"}"#, 1);
    let config = fake.dir.path().join("cfg");
    fs::create_dir_all(config.join("aardvark-dns")).unwrap();
    let aardvark = PathBuf::from("/usr/lib/podman/aardvark-dns");
    let proc_root = fake.dir.path().join("proc");
    fs::create_dir_all(&proc_root).unwrap();
    let nv = Netavark::with_binaries(&fake.path, Some(aardvark), &config).with_proc_root(proc_root);
    // No pid file: netavark's error is real.
    assert!(nv.teardown(Path::new("/n"), &options(true)).is_err());
    // The pid file names a process that is gone: the error only says so.
    fs::write(config.join("aardvark-dns/aardvark.pid"), "31999").unwrap();
    nv.teardown(Path::new("/n"), &options(true)).unwrap();
    assert!(config.join("aardvark-dns/aardvark.pid").exists());
}
