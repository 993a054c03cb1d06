//! The skip protocol, xtask's side (the tests' side is `testkit::skip`).
//!
//! Every test run gets `PODNET_SKIP_LOG` (a file every skip appends `test\treason` to),
//! `PODNET_EXPECTED_SKIPS` (the tests this machine may skip, from [`EXPECTED`]) and, for CI
//! (`cargo xtask ci`, or `CI` set), `PODNET_SKIP_FATAL`, under which any other skip is a
//! test failure. The log is read at the end: skipped tests are named, counted as skipped
//! rather than passed, and one that was not expected is a failure.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A test that may skip on some machines, with the reason, and when this machine is one.
struct Expected {
    test: &'static str,
    reason: &'static str,
    applies: fn() -> bool,
}

/// The skips declared expected, each for the machines where `applies` is true. Empty
/// conditions are not allowed: a skip that is always fine is a test that does not exist.
const EXPECTED: &[Expected] = &[
    Expected {
        test: "slirp4netns_helper_reaches_host_loopback",
        reason: "slirp4netns is optional for podnet (pasta is the default helper); a machine \
                 without it cannot test the fallback",
        applies: || !std::path::Path::new("/usr/bin/slirp4netns").exists(),
    },
    Expected {
        test: "ipvlan_containers_ping_each_other_on_netavark_2_x",
        reason: "a kernel built without ipvlan (CONFIG_IPVLAN) cannot give a container an \
                 ipvlan interface; the test still checks that the start fails cleanly",
        applies: || !kernel_has_ipvlan(),
    },
];

/// Whether the kernel makes an ipvlan link: tried in a throwaway network namespace, on one
/// end of a veth pair (there may be no `dummy` driver either). False also when it cannot
/// tell (not root, no `unshare` or `ip`): the test probes again in its own namespace and
/// checks the clean failure before it skips.
fn kernel_has_ipvlan() -> bool {
    std::process::Command::new("unshare")
        .args([
            "--net",
            "sh",
            "-c",
            "ip link add pntprobe0 type veth peer name pntprobe1 && \
             ip link add link pntprobe0 name pntprobe2 type ipvlan mode l2",
        ])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The environment a test run gets.
pub struct SkipLog {
    path: PathBuf,
    fatal: bool,
}

impl SkipLog {
    /// A fresh, world-writable log (the rootless suites run as another user); `fatal` makes
    /// undeclared skips fail.
    pub fn create(fatal: bool) -> Result<Self, String> {
        use std::os::unix::fs::PermissionsExt;
        // a directory of its own, not sticky: fs.protected_regular refuses another user's
        // O_CREAT open of a root-owned file in a sticky directory such as /tmp
        let dir = std::env::temp_dir().join(format!("podnet-skips-{}", std::process::id()));
        let path = dir.join("skips.log");
        let made = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)))
            .and_then(|()| std::fs::write(&path, ""))
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)));
        made.map_err(|e| format!("creating the skip log {}: {e}", path.display()))?;
        Ok(Self { path, fatal })
    }

    /// `NAME=value` pairs for every test process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PODNET_SKIP_LOG", self.path.display().to_string()),
            ("PODNET_EXPECTED_SKIPS", expected_here().join(",")),
        ];
        if self.fatal {
            env.push(("PODNET_SKIP_FATAL", "1".to_string()));
        }
        env
    }

    /// Sets the environment in this process, so every command xtask starts inherits it.
    pub fn export(&self) {
        for (k, v) in self.env() {
            std::env::set_var(k, v);
        }
    }

    /// The skips recorded so far: test name to reason (a test that skipped in a parent and
    /// a child is one skip).
    pub fn read(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        parse(&text)
    }
}

impl Drop for SkipLog {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(t, r)| (t.to_string(), r.to_string()))
        .collect()
}

/// The names of the tests that may skip on this machine.
fn expected_here() -> Vec<&'static str> {
    EXPECTED
        .iter()
        .filter(|e| (e.applies)())
        .map(|e| e.test)
        .collect()
}

/// Why `test` may skip on this machine, if it may.
pub fn declared_reason(test: &str) -> Option<&'static str> {
    EXPECTED
        .iter()
        .find(|e| e.test == test && (e.applies)())
        .map(|e| e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_is_test_tab_reason_and_repeats_count_once() {
        let skips = parse("a\tno tool\nb\tnot root\na\tno tool\n");
        assert_eq!(skips.len(), 2);
        assert_eq!(skips["a"], "no tool");
    }

    #[test]
    fn every_declared_skip_has_a_reason() {
        assert!(EXPECTED
            .iter()
            .all(|e| e.reason.len() > 20 && !e.test.is_empty()));
    }
}
