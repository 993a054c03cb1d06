//! Counting test results over several runs: libtest's `test result:` lines, test binaries
//! that ended without one (a crash, a kill, a build error), steps without a test count (fmt,
//! clippy), and skips read from the skip log, so the closing line never counts a test that
//! did not run as passed.

use std::collections::BTreeMap;

use crate::skips;

/// Test counts summed over several runs, plus steps that failed outright.
#[derive(Default)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
    pub failed_steps: Vec<String>,
    /// Skipped tests and why; each also reported `ok` by libtest, so it is taken off
    /// `passed` by [`Tally::finish`].
    pub skipped: BTreeMap<String, String>,
}

/// What one `cargo test` (or one test binary) printed.
pub struct RunOutput {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Tally {
    /// Adds one run. `binaries` is how many test binaries the run started when known
    /// (a directly run binary: 1); for `cargo test` it is read from cargo's `Running` and
    /// `Doc-tests` lines. A binary without a result line counts as one failure, and so does
    /// a failed run without any failed test.
    pub fn record(&mut self, step: &str, run: &RunOutput, binaries: Option<u64>) {
        let (passed, failed, results) = count_results(&run.stdout);
        self.passed += passed;
        self.failed += failed;
        let started = binaries.unwrap_or_else(|| count_binaries(&run.stderr));
        let mut problems = Vec::new();
        if results < started {
            let lost = started - results;
            self.failed += lost;
            problems.push(format!(
                "{lost} of {started} test binaries ended without a result line (crashed or killed)"
            ));
        } else if !run.ok && failed == 0 {
            // a build error, or a failure libtest did not count
            self.failed += 1;
            problems.push("failed without a failed test (build error?)".to_string());
        }
        if failed > 0 {
            problems.push(format!("{failed} failed"));
        }
        if !problems.is_empty() {
            self.failed_steps
                .push(format!("{step} ({})", problems.join(", ")));
        }
    }

    /// Adds a step that has no test count (fmt, clippy); a failure counts as one failed.
    pub fn step(&mut self, step: &str, result: Result<(), String>) {
        if let Err(e) = result {
            eprintln!("xtask: {e}");
            self.failed += 1;
            self.failed_steps.push(step.to_string());
        }
    }

    /// Takes the skips of `log` into the counts: a skip is not a pass, and one not declared
    /// expected for this machine is a failure (a suite that skips without `testkit::skip`'s
    /// fatal check, or a run without the protocol's environment).
    pub fn finish(&mut self, log: &skips::SkipLog) {
        for (test, reason) in log.read() {
            self.passed = self.passed.saturating_sub(1);
            if skips::declared_reason(&test).is_some() {
                self.skipped.insert(test, reason);
            } else {
                self.failed += 1;
                self.failed_steps
                    .push(format!("{test} skipped without being declared: {reason}"));
            }
        }
    }

    /// Prints the skipped tests, the failed steps and the closing line.
    pub fn print(&self, what: &str) {
        for (test, reason) in &self.skipped {
            let declared = skips::declared_reason(test).unwrap_or("");
            eprintln!("{what}: skipped {test}: {reason} (expected here: {declared})");
        }
        if !self.failed_steps.is_empty() {
            eprintln!("{what}: failed: {}", self.failed_steps.join("; "));
        }
        println!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed,
            self.skipped.len()
        );
    }

    /// `Ok` when nothing failed, else an error listing the failed steps.
    pub fn into_result(self) -> Result<(), String> {
        if self.failed_steps.is_empty() && self.failed == 0 {
            Ok(())
        } else {
            Err(format!("failed: {}", self.failed_steps.join("; ")))
        }
    }
}

/// Sums `test result: ... N passed; M failed` lines of libtest output, and counts them.
/// xtask never filters tests, so a result line with tests filtered out is a suite re-running
/// one of its own tests in a child: its test is counted once, by its parent.
pub fn count_results(output: &str) -> (u64, u64, u64) {
    let mut totals = (0, 0, 0);
    let nested = |line: &str| {
        line.split(';')
            .any(|part| part.trim().ends_with("filtered out") && !part.trim().starts_with("0 "))
    };
    for line in output
        .lines()
        .filter(|l| l.starts_with("test result:") && !nested(l))
    {
        totals.2 += 1;
        for part in line.split([';', '.']) {
            let mut words = part.split_whitespace();
            if let (Some(n), Some(what)) = (words.next(), words.next()) {
                if let Ok(n) = n.parse::<u64>() {
                    match what {
                        "passed" => totals.0 += n,
                        "failed" => totals.1 += n,
                        _ => {}
                    }
                }
            }
        }
    }
    totals
}

/// The test binaries cargo started: its `Running ...` and `Doc-tests ...` lines.
fn count_binaries(cargo_stderr: &str) -> u64 {
    cargo_stderr
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("Running ") || l.starts_with("Doc-tests "))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ok: bool, stdout: &str, stderr: &str) -> RunOutput {
        RunOutput {
            ok,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn counts_ok_and_failed_result_lines() {
        let out = "running 3 tests\n\
                   test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\
                   test result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n\
                   test something ... ok\n";
        assert_eq!(count_results(out), (8, 2, 2));
    }

    #[test]
    fn ignores_lines_that_are_not_results() {
        assert_eq!(
            count_results("test a ... ok\n3 passed; 1 failed\n"),
            (0, 0, 0)
        );
    }

    #[test]
    fn a_nested_rerun_of_one_test_is_not_counted_twice() {
        let out = "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out; finished in 0.1s\n\
                   test result: ok. 10 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 6s\n";
        assert_eq!(count_results(out), (10, 0, 1));
    }

    #[test]
    fn a_binary_that_crashed_counts_as_a_failure() {
        let mut t = Tally::default();
        let stderr = "     Running unittests src/lib.rs (target/debug/deps/a-1)\n\
                      \x20    Running tests/b.rs (target/debug/deps/b-2)\n\
                      error: test failed, to rerun pass `--test b`\n";
        let stdout = "test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
                      running 2 tests\n";
        t.record("x", &run(false, stdout, stderr), None);
        assert_eq!((t.passed, t.failed), (4, 1));
        assert!(t.failed_steps[0].contains("1 of 2 test binaries"));
    }

    #[test]
    fn a_failed_run_without_a_count_is_a_failure() {
        let mut t = Tally::default();
        t.record("build", &run(false, "", "error[E0425]: x\n"), None);
        assert_eq!(t.failed, 1);
    }

    #[test]
    fn a_direct_binary_run_expects_one_result() {
        let mut t = Tally::default();
        t.record("as user", &run(false, "running 9 tests\n", ""), Some(1));
        assert_eq!(t.failed, 1);
    }
}
