//! The skip protocol between tests and `cargo xtask ci`.
//!
//! A test that cannot run calls [`skip`]. The environment decides what that means:
//!
//! | variable | set by | effect |
//! |---|---|---|
//! | `PODNET_SKIP_LOG` | xtask | each skip appends `<test>\t<reason>\n` to this file |
//! | `PODNET_SKIP_FATAL` | xtask in CI mode | a skip panics, unless declared expected |
//! | `PODNET_EXPECTED_SKIPS` | xtask, from its table for this machine | comma list of test names allowed to skip |

use std::io::Write;
use std::path::PathBuf;

/// Names the file skips are appended to.
pub const LOG_ENV: &str = "PODNET_SKIP_LOG";
/// When set, an undeclared skip is a failure.
pub const FATAL_ENV: &str = "PODNET_SKIP_FATAL";
/// Comma-separated test names whose skip is expected on this machine.
pub const EXPECTED_ENV: &str = "PODNET_EXPECTED_SKIPS";

/// Says that `test` cannot run and why. Prints `SKIPPED <test>: <reason>` to stderr and
/// records it in `PODNET_SKIP_LOG`; panics instead when `PODNET_SKIP_FATAL` is set and
/// `test` is not listed in `PODNET_EXPECTED_SKIPS`. The caller returns right after.
pub fn skip(test: &str, reason: &str) {
    let env = SkipEnv {
        fatal: std::env::var_os(FATAL_ENV).is_some_and(|v| !v.is_empty()),
        expected: std::env::var(EXPECTED_ENV).unwrap_or_default(),
        log: std::env::var_os(LOG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    skip_with(test, reason, &env);
}

/// The skip protocol's environment, read once per skip.
struct SkipEnv {
    fatal: bool,
    expected: String,
    log: Option<PathBuf>,
}

fn skip_with(test: &str, reason: &str, env: &SkipEnv) {
    let expected = env
        .expected
        .split(',')
        .any(|t| !t.trim().is_empty() && t.trim() == test);
    if env.fatal && !expected {
        panic!(
            "{test}: cannot run: {reason} (skips are failures under {FATAL_ENV}; declare it \
             in xtask's expected skips for this machine if it must skip here)"
        );
    }
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = &env.log {
        let line = format!("{test}\t{}\n", reason.replace(['\n', '\t'], " "));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            // a skip that cannot be counted must not pass quietly
            panic!("{test}: cannot record skip in {}: {e}", log.display());
        }
    }
}

/// True when the effective uid is 0; otherwise skips `test` and returns false.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    skip(test, "needs root");
    false
}

/// Where the executable `name` is, searched in `PATH` and then in `/usr/sbin`, `/sbin`,
/// `/usr/libexec/podman` and `/usr/lib/podman`; skips `test` when it is nowhere.
pub fn require_binary(test: &str, name: &str) -> Option<PathBuf> {
    let found = find_binary(name);
    if found.is_none() {
        skip(
            test,
            &format!(
                "{name} is not installed (searched PATH, /usr/sbin, /sbin, /usr/libexec/podman, \
                 /usr/lib/podman)"
            ),
        );
    }
    found
}

fn find_binary(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/sbin",
                "/sbin",
                "/usr/libexec/podman",
                "/usr/lib/podman",
            ]
            .into_iter()
            .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// True when this process is uid 0 inside a user namespace that maps 0 to another host uid
/// (a rootless user's namespace), where host-root-only work is impossible.
pub fn in_user_namespace() -> bool {
    rootless_detect::classify()
        .is_ok_and(|c| matches!(c.kind, rootless_detect::ProcessKind::MappedRoot { .. }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(fatal: bool, expected: &str, log: Option<PathBuf>) -> SkipEnv {
        SkipEnv {
            fatal,
            expected: expected.to_string(),
            log,
        }
    }

    #[test]
    fn a_skip_is_logged_with_its_reason() {
        let dir = std::env::temp_dir().join(format!("testkit-skip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log");
        skip_with(
            "t_one",
            "needs\ta thing",
            &env(false, "", Some(log.clone())),
        );
        skip_with("t_two", "x", &env(true, "a, t_two", Some(log.clone())));
        let text = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(text, "t_one\tneeds a thing\nt_two\tx\n");
    }

    #[test]
    fn an_undeclared_skip_is_fatal_under_ci() {
        let r = std::panic::catch_unwind(|| skip_with("t_x", "no tool", &env(true, "t_y", None)));
        let msg = r.unwrap_err();
        let msg = msg.downcast_ref::<String>().unwrap();
        assert!(msg.contains("t_x: cannot run: no tool"), "{msg}");
    }

    #[test]
    fn a_prefix_of_a_declared_name_is_not_declared() {
        let r = std::panic::catch_unwind(|| skip_with("t", "r", &env(true, "t_long", None)));
        assert!(r.is_err());
    }

    #[test]
    fn binaries_are_found_in_sbin_too() {
        assert!(find_binary("sh").is_some());
        assert!(find_binary("no-such-binary-podnet-testkit").is_none());
    }
}
