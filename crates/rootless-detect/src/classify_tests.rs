//! Unit tests for `classify`: pure classification and `Host` with fixture files.

use std::path::PathBuf;

use super::*;

fn m(container_id: u32, host_id: u32, size: u32) -> IdMapping {
    IdMapping {
        container_id,
        host_id,
        size,
    }
}

const FULL: IdMapping = IdMapping {
    container_id: 0,
    host_id: 0,
    size: u32::MAX,
};

#[test]
fn non_zero_euid_is_unprivileged() {
    let c = classify_facts(1000, &[FULL], Some(INITIAL_USER_NS_INODE)).unwrap();
    assert_eq!(c.kind, ProcessKind::Unprivileged { euid: 1000 });
    assert!(c.is_rootless());
    assert_eq!(c.to_string(), "rootless: effective uid 1000 is not 0");
}

#[test]
fn root_in_initial_namespace_is_rootful() {
    let c = classify_facts(0, &[FULL], Some(INITIAL_USER_NS_INODE)).unwrap();
    assert_eq!(c.kind, ProcessKind::InitialNamespace);
    assert!(!c.is_rootless());
    assert!(c
        .reason
        .contains("initial user namespace (inode 4026531837)"));
}

#[test]
fn identity_map_without_inode_is_assumed_initial() {
    let c = classify_facts(0, &[FULL], None).unwrap();
    assert_eq!(c.kind, ProcessKind::InitialNamespace);
    assert!(c.reason.contains("assumed initial"), "{}", c.reason);
}

#[test]
fn root_mapped_to_user_is_rootless() {
    let map = [m(0, 1000, 1), m(1, 200000, 65536)];
    let c = classify_facts(0, &map, Some(4026532999)).unwrap();
    assert_eq!(c.kind, ProcessKind::MappedRoot { host_uid: 1000 });
    assert!(c.is_rootless());
    assert_eq!(
        c.to_string(),
        "rootless: effective uid 0 in user namespace inode 4026532999 whose uid map line \"0 1000 1\" maps 0 to host uid 1000"
    );
}

#[test]
fn root_mapped_from_inside_a_range_uses_offset() {
    let c = classify_facts(0, &[m(0, 5000, 10)], None).unwrap();
    assert_eq!(c.kind, ProcessKind::MappedRoot { host_uid: 5000 });
}

#[test]
fn full_identity_map_in_nested_namespace_is_rootful() {
    let c = classify_facts(0, &[FULL], Some(4026532999)).unwrap();
    assert_eq!(c.kind, ProcessKind::FullyMappedNested { mapping: FULL });
    assert!(!c.is_rootless());
    let c = classify_facts(0, &[m(0, 0, 65536)], None).unwrap();
    assert_eq!(
        c.kind,
        ProcessKind::FullyMappedNested {
            mapping: m(0, 0, 65536)
        }
    );
}

#[test]
fn unmapped_root_gives_none() {
    assert_eq!(classify_facts(0, &[m(1, 1000, 5)], Some(1)), None);
}

fn host_with_map(dir: &tempfile::TempDir, map: &str, euid: u32) -> Host {
    let path = dir.path().join("uid_map");
    std::fs::write(&path, map).unwrap();
    let mut host = Host::system();
    host.euid = euid;
    host.uid_map = path;
    // A regular file: its inode is never the initial namespace's.
    host.userns = dir.path().join("uid_map");
    host.containers_rootless_uid = None;
    host
}

#[test]
fn host_reads_injected_uid_map() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_map(&dir, "0 1234 1\n1 100000 65536\n", 0);
    let c = host.classify().unwrap();
    assert_eq!(c.kind, ProcessKind::MappedRoot { host_uid: 1234 });
    assert_eq!(host.rootless_uid().unwrap(), 1234);
}

#[test]
fn host_missing_userns_link_falls_back_to_map() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = host_with_map(&dir, "0 0 4294967295\n", 0);
    host.userns = PathBuf::from("/nonexistent/ns/user");
    assert_eq!(host.classify().unwrap().kind, ProcessKind::InitialNamespace);
    assert_eq!(host.rootless_uid().unwrap(), 0);
}

#[test]
fn host_errors_name_the_uid_map() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with_map(&dir, "0 0\n", 0);
    let e = host.classify().unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "invalid id map line 1 of {}",
            host.uid_map.display()
        )),
        "{e}"
    );
    let host = host_with_map(&dir, "5 1000 1\n", 0);
    assert_eq!(
        host.classify().unwrap_err().to_string(),
        format!("euid 0 is not mapped by {}", host.uid_map.display())
    );
}

#[test]
fn unprivileged_host_does_not_read_uid_map() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = host_with_map(&dir, "", 1000);
    host.uid_map = PathBuf::from("/nonexistent/uid_map");
    assert!(host.classify().unwrap().is_rootless());
    assert_eq!(host.rootless_uid().unwrap(), 1000);
}

#[test]
fn containers_rootless_uid_env_wins() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = host_with_map(&dir, "0 1234 1\n", 0);
    host.containers_rootless_uid = Some("4321".into());
    assert_eq!(host.rootless_uid().unwrap(), 4321);
    host.containers_rootless_uid = Some("x1".into());
    assert_eq!(
        host.rootless_uid().unwrap_err().to_string(),
        "invalid _CONTAINERS_ROOTLESS_UID value \"x1\": invalid digit found in string"
    );
}

#[test]
fn real_process_classification_agrees_with_euid() {
    let c = classify().unwrap();
    let euid = nix::unistd::geteuid().as_raw();
    if euid != 0 {
        assert_eq!(c.kind, ProcessKind::Unprivileged { euid });
    }
    assert_eq!(is_rootless(), c.is_rootless());
    // Cached: a second call gives the same answer.
    assert_eq!(is_rootless(), c.is_rootless());
}
