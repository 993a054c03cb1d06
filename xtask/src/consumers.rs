//! `cargo xtask consumers` (and a step of `ci`): the programs in `consumers/`, each using one
//! crate by path as an importer outside the workspace would, are built and run.
//!
//! They form a workspace of their own (excluded from podnet's) with their own target dir,
//! `target/consumers`, so nothing is shared with the workspace build: a crate that only
//! compiles thanks to a feature or dependency the workspace turns on fails here.

use std::path::PathBuf;
use std::process::Command;

use crate::cmd;

/// Programs that need no privileges, by package name.
const UNPRIVILEGED: [&str; 9] = [
    "consumer-rootless-detect",
    "consumer-netns",
    "consumer-portmap",
    "consumer-netstatus",
    "consumer-etchosts",
    "consumer-containers-conf",
    "consumer-cni",
    "consumer-bbolt",
    "consumer-podnet",
];

/// The tokio program: a real connect/disconnect in a throwaway namespace, as root.
const AS_ROOT: &str = "consumer-podnet-tokio";

/// Builds every consumer, runs the unprivileged ones, and the tokio one as root (a skip
/// when not root, a failure under CI).
pub fn run() -> Result<(), String> {
    let root = crate::project_root();
    let target = root.join("target").join("consumers");
    let mut build = cmd::cargo();
    build
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("consumers").join("Cargo.toml"))
        .arg("--workspace")
        .arg("--target-dir")
        .arg(&target)
        .arg("--quiet");
    cmd::run(build)?;
    let binary = |name: &str| -> PathBuf { target.join("debug").join(name) };
    let mut failed = Vec::new();
    for name in UNPRIVILEGED {
        if let Err(e) = cmd::run(Command::new(binary(name))) {
            failed.push(e);
        }
    }
    if crate::is_root() {
        if let Err(e) = cmd::run(Command::new(binary(AS_ROOT))) {
            failed.push(e);
        }
    } else if crate::in_ci() {
        failed.push(format!("{AS_ROOT} needs root: run `sudo cargo xtask ci`"));
    } else {
        eprintln!("SKIPPED {AS_ROOT}: needs root (run `sudo cargo xtask consumers`)");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("consumer programs failed: {}", failed.join("; ")))
    }
}
