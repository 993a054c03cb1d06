//! Rootless tests: run by `cargo xtask integration` as the unprivileged user
//! `podnet-ci` (subuid/subgid 200000:65536, XDG_RUNTIME_DIR=/run/user/UID).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use rootless_detect::{available_id_maps, classify, runtime_dir, ProcessKind};
use support::{child_report_if_child, missing_unshare, run_as_mapped_root, skip};

fn user_reason() -> Option<String> {
    if nix::unistd::geteuid().as_raw() == 0 {
        return Some(
            "must run as an unprivileged user (cargo xtask integration runs it as podnet-ci)"
                .into(),
        );
    }
    None
}

#[test]
fn unprivileged_user_is_rootless_with_runtime_dir() {
    if child_report_if_child() {
        return;
    }
    if let Some(reason) = user_reason() {
        return skip("unprivileged_user_is_rootless_with_runtime_dir", &reason);
    }
    let euid = nix::unistd::geteuid().as_raw();
    let c = classify().unwrap();
    assert_eq!(c.kind, ProcessKind::Unprivileged { euid });
    assert!(rootless_detect::is_rootless());
    assert_eq!(rootless_detect::rootless_uid(), euid);
    let dir = runtime_dir().unwrap();
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(xdg) => assert_eq!(dir, std::fs::canonicalize(xdg).unwrap()),
        None => assert!(
            dir == std::path::Path::new("/run/user").join(euid.to_string())
                || dir.ends_with(format!("storage-run-{euid}")),
            "{}",
            dir.display()
        ),
    }
}

#[test]
fn podnet_ci_subordinate_ids() {
    if child_report_if_child() {
        return;
    }
    if let Some(reason) = user_reason() {
        return skip("podnet_ci_subordinate_ids", &reason);
    }
    let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap();
    if me.name != "podnet-ci" {
        return skip(
            "podnet_ci_subordinate_ids",
            &format!("expects user podnet-ci, running as {}", me.name),
        );
    }
    for user in [me.name.clone(), me.uid.to_string()] {
        let maps = available_id_maps(&user).unwrap();
        for (file, got) in [
            ("/etc/subuid", &maps.uid_maps),
            ("/etc/subgid", &maps.gid_maps),
        ] {
            // xtask gives podnet-ci 200000:65536; the maps are numbered from 0.
            assert!(
                got.iter().any(|m| m.host_id == 200000 && m.size >= 65536),
                "{user} {file}: {got:?}"
            );
            assert_eq!(got[0].container_id, 0, "{got:?}");
            let total: u64 = got.iter().map(|m| u64::from(m.size)).sum();
            assert_eq!(
                total,
                naive_total(file, &me.name, me.uid.as_raw()),
                "{file}"
            );
        }
    }
}

/// Sum of the counts of the user's lines, by a naive reading of the file
/// (assumes no overlapping lines).
fn naive_total(file: &str, name: &str, uid: u32) -> u64 {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim().split(':').collect();
            (f.len() == 3 && (f[0] == name || f[0] == uid.to_string()))
                .then(|| f[2].parse::<u64>().unwrap())
        })
        .sum()
}

#[test]
fn root_of_own_user_namespace_is_rootless() {
    if child_report_if_child() {
        return;
    }
    if let Some(reason) = user_reason().or_else(missing_unshare) {
        return skip("root_of_own_user_namespace_is_rootless", &reason);
    }
    let euid = nix::unistd::geteuid().as_raw();
    let r = run_as_mapped_root("root_of_own_user_namespace_is_rootless", None);
    assert_eq!(r.kind, format!("MappedRoot {{ host_uid: {euid} }}"));
    assert_eq!(r.rootless, "true");
    assert_eq!(r.rootless_uid, euid.to_string());
}
