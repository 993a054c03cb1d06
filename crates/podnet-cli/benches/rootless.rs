//! `rootless_connect_disconnect`: one more network connected to, then disconnected from, a
//! running rootless container, as the unprivileged user `podnet-ci`: `podnet` (the CLI, which
//! re-executes itself in the user's namespaces and runs netavark in the rootless netns) and
//! `peer_podman` (rootless `podman network connect` + `disconnect`), each command started
//! through the same `runuser`, in the same run.
//!
//! Needs root (to become the user), the user `podnet-ci` with subuid/subgid ranges and its
//! runtime dir, and podman with `localhost/busybox` in the user's storage: `cargo xtask bench`
//! prepares all three. A missing piece is named and the group skipped.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, SamplingMode};

#[path = "../../podnet/benches/peer_support/mod.rs"]
mod peer_support;

const USER: &str = "podnet-ci";

struct User {
    uid: u32,
    home: PathBuf,
}

impl User {
    fn find() -> Option<User> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        let line = passwd
            .lines()
            .find(|l| l.starts_with(&format!("{USER}:")))?;
        let fields: Vec<&str> = line.split(':').collect();
        Some(User {
            uid: fields.get(2)?.parse().ok()?,
            home: PathBuf::from(fields.get(5)?),
        })
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", USER, "--", "env", "-i"])
            .arg("PATH=/usr/bin:/bin:/usr/sbin:/sbin")
            .arg(format!("HOME={}", self.home.display()))
            .arg(format!("XDG_RUNTIME_DIR=/run/user/{}", self.uid))
            .arg(program)
            .current_dir("/")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, program: &Path, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?} as {USER}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn main() {
    let why = if !nix::unistd::geteuid().is_root() {
        Some("needs root to run as the test user".to_string())
    } else if User::find().is_none() {
        Some(format!("no user {USER} (cargo xtask bench creates it)"))
    } else {
        None
    };
    if let Some(why) = why {
        eprintln!("rootless benches skipped: {why}");
        return;
    }
    let user = User::find().unwrap();
    // a copy of the binary the user can execute, and a root directory it owns
    let dir = tempfile::Builder::new().prefix("pntrlb").tempdir().unwrap();
    let bin = dir.path().join("podnet");
    std::fs::copy(env!("CARGO_BIN_EXE_podnet"), &bin).unwrap();
    let root = dir.path().join("root");
    run_root(&["chmod", "755", &dir.path().to_string_lossy()]);
    run_root(&["chmod", "755", &bin.to_string_lossy()]);
    run_root(&["install", "-d", "-o", USER, &root.to_string_lossy()]);
    let root_s = root.to_string_lossy().into_owned();
    let podnet = |args: &[&str]| {
        let mut all = vec!["--root", &root_s];
        all.extend_from_slice(args);
        user.run(&bin, &all);
    };
    podnet(&["network", "create", "--subnet", "10.89.171.0/24", "pntrlb1"]);
    podnet(&["network", "create", "--subnet", "10.89.172.0/24", "pntrlb2"]);
    podnet(&["create", "rlbench", "--network", "pntrlb1"]);
    podnet(&["start", "rlbench"]);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("rootless_connect_disconnect");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("podnet", |b| {
        b.iter(|| {
            podnet(&["connect", "pntrlb2", "rlbench"]);
            podnet(&["disconnect", "pntrlb2", "rlbench"]);
        })
    });

    // rootless podman 4.3 on this VM kind can fail "aardvark pid not found": it is retried,
    // then reported, and podnet's figure stands
    sweep_podman_leftovers(&user);
    peer_support::podman_connect_disconnect(
        &mut group,
        "rootless_connect_disconnect",
        |args| {
            let mut c = user.command(Path::new("/usr/bin/podman"));
            c.args(args);
            c
        },
        PEER_PREFIX,
        ["10.89.173.0/24", "10.89.174.0/24"],
        (1, 1),
    );
    group.finish();
    sweep_podman_leftovers(&user);
    podnet(&["rm", "-f", "rlbench"]);
    podnet(&["network", "rm", "pntrlb1", "pntrlb2"]);
    c.final_summary();
}

/// The prefix of the peer's networks (`pntrlp1-PID`, `pntrlp2-PID`).
const PEER_PREFIX: &str = "pntrlp";

/// Removes the aardvark-dns configurations rootless podman 4.3 left of this bench's
/// networks (its prefix) once the network itself is gone.
///
/// After `network connect` and `disconnect`, podman's `rm -f` of the container and `network
/// rm -f` leave the configuration of the container's first network in
/// `$XDG_RUNTIME_DIR/containers/networks/aardvark-dns` (`/run` is on disk here, so it stays).
/// The next run's network has the same gateway; aardvark-dns then cannot bind it and exits,
/// and every podman `disconnect` fails "aardvark pid not found". Only files of ours whose
/// network podman no longer has are removed.
fn sweep_podman_leftovers(user: &User) {
    let dir = PathBuf::from(format!(
        "/run/user/{}/containers/networks/aardvark-dns",
        user.uid
    ));
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PEER_PREFIX) {
            continue;
        }
        let exists = user
            .command(Path::new("/usr/bin/podman"))
            .args(["network", "exists", &name])
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            eprintln!("removing rootless podman's leftover aardvark-dns config {name}");
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn run_root(args: &[&str]) {
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{args:?}");
}
