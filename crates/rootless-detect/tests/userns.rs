//! Privileged tests (run as root by `cargo xtask integration`): the
//! classification seen from real user namespaces made by the kernel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rootless_detect::{classify, ProcessKind};
use support::{child_report_if_child, missing_unshare, run_as_mapped_root, run_in_userns, skip};

fn root_reason() -> Option<String> {
    if nix::unistd::geteuid().as_raw() != 0 {
        return Some("needs root (run by cargo xtask integration)".into());
    }
    missing_unshare()
}

#[test]
fn root_in_initial_namespace_is_rootful() {
    if child_report_if_child() {
        return;
    }
    if let Some(reason) = root_reason() {
        return skip("root_in_initial_namespace_is_rootful", &reason);
    }
    let c = classify().unwrap();
    assert_eq!(c.kind, ProcessKind::InitialNamespace, "{c}");
    assert!(c.reason.contains("inode 4026531837"), "{c}");
    assert!(!rootless_detect::is_rootless());
    assert_eq!(
        rootless_detect::runtime_dir().unwrap(),
        std::path::Path::new("/run")
    );
}

#[test]
fn root_mapped_to_subordinate_uid_is_rootless() {
    if child_report_if_child() {
        return;
    }
    if let Some(reason) = root_reason() {
        return skip("root_mapped_to_subordinate_uid_is_rootless", &reason);
    }
    // As host uid 100000, `unshare -r` maps namespace root to it.
    let r = run_as_mapped_root("root_mapped_to_subordinate_uid_is_rootless", Some(100000));
    assert_eq!(r.kind, "MappedRoot { host_uid: 100000 }", "{r:?}");
    assert_eq!(r.rootless, "true");
    assert_eq!(r.rootless_uid, "100000");
    assert!(r.reason.contains("\"0 100000 1\""), "{r:?}");
}

#[test]
fn identity_mapped_nested_namespace_is_rootful() {
    if child_report_if_child() {
        return;
    }
    if let Some(reason) = root_reason() {
        return skip("identity_mapped_nested_namespace_is_rootful", &reason);
    }
    let r = run_in_userns(
        "identity_mapped_nested_namespace_is_rootful",
        "0 0 4294967295\n",
    );
    assert_eq!(
        r.kind,
        "FullyMappedNested { mapping: IdMapping { container_id: 0, host_id: 0, size: 4294967295 } }",
        "{r:?}"
    );
    assert_eq!(r.rootless, "false");
    assert_eq!(r.rootless_uid, "0");
}
