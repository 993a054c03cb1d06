//! `cargo xtask ci`: everything CI checks, in the order a developer would fix it, ending with
//! one `N passed, N failed, N skipped` line. Every test run gets the skip protocol's
//! environment with skips fatal (see [`crate::skips`]), runs with `--no-fail-fast`, and is
//! counted from its output.

use crate::cmd;
use crate::skips::SkipLog;
use crate::tally::Tally;

/// Runs setup, fmt, clippy, unit + doc tests (tidy included) and the integration suites.
pub fn run() -> Result<(), String> {
    let log = SkipLog::create(true)?;
    log.export();
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
    unit.args(["test", "--no-fail-fast", "--workspace", "--lib", "--bins"]);
    tally.record("unit tests", &cmd::tee_tests(unit)?, None);

    let mut doc = cmd::cargo();
    doc.args(["test", "--no-fail-fast", "--workspace", "--doc"]);
    tally.record("doc tests", &cmd::tee_tests(doc)?, None);
    tally.step(
        "consumer programs (outside the workspace)",
        crate::consumers::run(),
    );

    if let Err(e) = crate::integration::run(&mut tally) {
        tally.step("integration", Err(e));
    }

    tally.finish(&log);
    tally.print("ci");
    tally.into_result()
}
