//! `cargo xtask ci`: everything CI checks, in the order a developer would fix it, ending with
//! one `N passed, N failed` line.

use crate::cmd;
use crate::integration::{self, Tally};

/// Runs setup, fmt, clippy, unit + doc tests (tidy included) and the integration suites.
pub fn run() -> Result<(), String> {
    let mut tally = Tally::default();
    tally.step(
        "setup",
        crate::setup::run(&crate::setup::Wanted::all()).map(|_| ()),
    );

    let mut fmt = cmd::cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    tally.step("cargo fmt --check", cmd::run(fmt));

    let mut clippy = cmd::cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    tally.step("cargo clippy", cmd::run(clippy));
    tally.step(
        "cargo package (every publishable crate)",
        crate::publish::package(),
    );
    tally.step("rust-version toolchain check", crate::publish::msrv());
    tally.step("cargo doc -D warnings", crate::publish::docs());

    let mut unit = cmd::cargo();
    unit.args(["test", "--workspace", "--lib", "--bins"]);
    let (ok, out) = cmd::tee(unit)?;
    tally.record("unit tests", ok, &out);

    let mut doc = cmd::cargo();
    doc.args(["test", "--workspace", "--doc"]);
    let (ok, out) = cmd::tee(doc)?;
    tally.record("doc tests", ok, &out);

    match integration::run() {
        Ok(suites) => {
            tally.passed += suites.passed;
            tally.failed += suites.failed;
            tally.failed_steps.extend(suites.failed_steps);
        }
        Err(e) => tally.step("integration", Err(e)),
    }

    if !tally.failed_steps.is_empty() {
        eprintln!("ci: failed steps: {}", tally.failed_steps.join("; "));
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    tally.into_result()
}
