//! Crash points for the crash-consistency tests: when `PODNET_FAILPOINT` names a point, the
//! process kills itself there with SIGKILL, exactly as `kill -9` would stop it (no
//! destructor, no cleanup, no core file). Only with the `failpoints` feature (this crate's
//! own tests); in any other build `hit` does nothing and the variable is ignored.
//!
//! [`FAILPOINTS`] lists every point; a unit test checks it against the `hit` calls in the
//! sources, so the crash suites, which iterate over it, cannot forget one.

/// Every crash point, `flow:where`. The flow names which command reaches it.
pub const FAILPOINTS: &[&str] = &[
    "setup:netns-created",
    "setup:intent-committed",
    "setup:backend-done",
    "connect:intent-committed",
    "connect:backend-done",
    "disconnect:backend-done",
    "reload:torn-down",
    "teardown:backend-done",
    "shared-ipam:allocated",
];

/// Kills the process if the environment names this point.
pub(crate) fn hit(point: &str) {
    debug_assert!(
        FAILPOINTS.contains(&point),
        "failpoint {point} is not listed"
    );
    #[cfg(feature = "failpoints")]
    if std::env::var_os("PODNET_FAILPOINT").is_some_and(|p| p == point) {
        tracing::warn!(point, "failpoint hit: SIGKILL");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn scan(dir: &Path, found: &mut BTreeSet<String>) {
        const CALL: &str = "failpoint::hit(\"";
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                scan(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices(CALL) {
                    let rest = &text[at + CALL.len()..];
                    found.insert(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
    }

    #[test]
    fn the_list_names_exactly_the_points_the_sources_hit() {
        let mut found = BTreeSet::new();
        scan(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        let listed: BTreeSet<String> = super::FAILPOINTS.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            listed.len(),
            super::FAILPOINTS.len(),
            "a point is listed twice"
        );
        assert_eq!(listed, found);
    }
}
