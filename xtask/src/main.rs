//! `cargo xtask`: the project's automation, one binary with subcommands.
//!
//! `setup` installs what the project needs, `ci` runs every check CI runs, `integration` runs
//! the privileged suites (as root, and the rootless ones as an unprivileged user), `bench` runs
//! the criterion benches and prints a table with ratios against the peers, `demo` runs the
//! main job on this machine.

mod bench;
mod ci;
mod cmd;
mod consumers;
mod demo;
mod demo_host;
mod integration;
mod publish;
mod setup;
mod skips;
mod tally;
mod tidy;
mod tools;
mod watchdog;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <setup|ci|integration|bench|demo|consumers>

  setup        install the system packages podnet needs (Debian, as root) or say what is missing
  ci           setup, fmt, clippy, unit + doc tests, tidy, integration; ends with `N passed, N failed, N skipped`;
               a skip fails unless declared expected for this machine (xtask/src/skips.rs)
  integration  the privileged test suites (root), and the rootless ones as user podnet-ci
  bench        criterion benches of every crate, as a table with ratios against the peers
  demo         the main job: podnet on this machine, end to end
  consumers    build and run the programs in consumers/ (one per crate, outside the workspace)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(&setup::Wanted::all()).map(|_| ()),
        Some("ci") => ci::run(),
        Some("integration") => integration::run_standalone(),
        Some("bench") => bench::run(&args[1..]),
        Some("demo") => demo::run(),
        Some("consumers") => consumers::run(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!(
            "unknown subcommand {:?}\n{USAGE}",
            other.unwrap_or("")
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, found from this crate's manifest dir (xtask/ is one level down).
fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Whether this process runs as root (euid 0).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Whether we run under CI (`CI` set and not "false"/"0"), where a skip is a failure even
/// outside `cargo xtask ci`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
