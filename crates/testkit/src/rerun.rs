//! Checks on a test that re-ran itself in a child process (in fresh namespaces, say): the
//! child's exit status alone does not prove the test ran, since a filter that matches
//! nothing also exits 0.

use std::process::Output;

/// Panics unless `out`, the output of a child run of the test binary filtered to `test`
/// with `--exact`, succeeded and shows that exactly `test` ran and passed: its
/// `test <test> ... ` line (the `ok` may follow the test's own output) and
/// `1 passed; 0 failed` in the result line. Prints the child's output
/// indented on stderr first, so its own `test result:` line is not counted twice.
pub fn assert_child_ran(test: &str, out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stdout.lines().chain(stderr.lines()) {
        eprintln!("  [{test}] {line}");
    }
    assert!(
        out.status.success(),
        "{test}: the child run failed ({})",
        out.status
    );
    check_ran(test, &stdout).unwrap_or_else(|e| panic!("{test}: {e}"));
}

fn check_ran(test: &str, stdout: &str) -> Result<(), String> {
    // with --nocapture the test's own output may come between `... ` and `ok`
    let started = format!("test {test} ... ");
    if !stdout.lines().any(|l| l.starts_with(&started)) {
        return Err(format!(
            "the child run has no `{started}ok` line: it did not run the test"
        ));
    }
    let one = stdout
        .lines()
        .any(|l| l.starts_with("test result: ok. 1 passed; 0 failed"));
    if !one {
        return Err("the child run's result line is not `1 passed; 0 failed`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_ran;

    #[test]
    fn an_empty_filter_is_not_a_run() {
        let out = "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out\n";
        assert!(check_ran("a", out).is_err());
    }

    #[test]
    fn output_between_the_name_and_ok_is_allowed() {
        let out = "running 1 test\ntest a ... REPORT x=1\nok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out\n";
        assert!(check_ran("a", out).is_ok());
    }

    #[test]
    fn the_named_test_passing_alone_is_a_run() {
        let out = "running 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out\n";
        assert!(check_ran("a", out).is_ok());
        assert!(check_ran("b", out).is_err());
    }
}
