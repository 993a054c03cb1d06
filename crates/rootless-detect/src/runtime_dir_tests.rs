//! Unit tests for `runtime_dir`: candidate precedence and failure reasons in a tempdir.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;

fn me() -> u32 {
    nix::unistd::geteuid().as_raw()
}

fn mkdir(path: &Path, mode: u32) {
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A host whose candidates all live under `root`, with euid = our euid.
fn host(root: &Path) -> Host {
    let mut h = Host::system();
    h.euid = me();
    h.xdg_runtime_dir = None;
    h.run_user_base = root.join("run/user");
    h.tmpdir = Some(root.join("tmp").into());
    mkdir(&root.join("tmp"), 0o755);
    h
}

#[test]
fn xdg_runtime_dir_first_with_symlinks_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let h0 = host(dir.path());
    let real = dir.path().join("xdg-real");
    mkdir(&real, 0o700);
    let link = dir.path().join("xdg-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    mkdir(&h0.run_user_base.join("77"), 0o700);
    let h = Host {
        xdg_runtime_dir: Some(link.into()),
        ..h0
    };
    let got = h.rootless_runtime_dir(77).unwrap();
    assert_eq!(got, std::fs::canonicalize(&real).unwrap());
}

#[test]
fn run_user_when_xdg_unset() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    let run_user = h.run_user_base.join("77");
    mkdir(&run_user, 0o700);
    assert_eq!(h.rootless_runtime_dir(77).unwrap(), run_user);
}

#[test]
fn group_writable_run_user_falls_through_to_tmp() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    mkdir(&h.run_user_base.join("77"), 0o770);
    let got = h.rootless_runtime_dir(77).unwrap();
    let want = dir.path().join("tmp/storage-run-77");
    assert_eq!(got, want);
    let meta = std::fs::metadata(&want).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
}

#[test]
fn every_candidate_failure_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = host(dir.path());
    let xdg = dir.path().join("xdg");
    mkdir(&xdg, 0o777);
    h.xdg_runtime_dir = Some(xdg.clone().into());
    // tmp candidate exists but is a file.
    std::fs::write(dir.path().join("tmp/storage-run-77"), "").unwrap();
    let err = h.rootless_runtime_dir(77).unwrap_err();
    let run_user = h.run_user_base.join("77");
    let tmp = dir.path().join("tmp/storage-run-77");
    assert_eq!(
        err.to_string(),
        format!(
            "no usable runtime directory for uid 77: \
             $XDG_RUNTIME_DIR {}: mode 0777 is writable by group or others; \
             /run/user/UID {}: does not exist; \
             $TMPDIR {}: is not a directory",
            std::fs::canonicalize(&xdg).unwrap().display(),
            run_user.display(),
            tmp.display()
        )
    );
}

#[test]
fn wrong_owner_and_unset_xdg_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = host(dir.path());
    mkdir(&h.run_user_base.join("77"), 0o700);
    let mine = me();
    let other = mine.wrapping_add(1);
    h.euid = other;
    h.tmpdir = Some(dir.path().join("no-such-tmp").into());
    let err = h.rootless_runtime_dir(77).unwrap_err().to_string();
    assert!(err.contains("$XDG_RUNTIME_DIR: not set; "), "{err}");
    assert!(
        err.contains(&format!("owned by uid {mine}, not {other}")),
        "{err}"
    );
    assert!(
        err.contains("$TMPDIR ") && err.contains(": cannot create: "),
        "{err}"
    );
}

#[test]
fn unresolvable_xdg_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = host(dir.path());
    h.xdg_runtime_dir = Some(dir.path().join("gone").into());
    mkdir(&h.run_user_base.join("77"), 0o700);
    // Falls through to /run/user/77.
    assert_eq!(
        h.rootless_runtime_dir(77).unwrap(),
        h.run_user_base.join("77")
    );
}

#[test]
fn rootful_host_gets_run() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("uid_map");
    std::fs::write(&map, "0 0 4294967295\n").unwrap();
    let mut h = host(dir.path());
    h.euid = 0;
    h.uid_map = map;
    h.userns = dir.path().join("missing");
    h.rootful_runtime_dir = dir.path().join("run");
    assert_eq!(h.runtime_dir().unwrap(), dir.path().join("run"));
}

#[test]
fn rootless_host_uses_rootless_uid_for_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = host(dir.path());
    h.euid = me().max(1); // non-zero: rootless
    h.containers_rootless_uid = None;
    let run_user = h.run_user_base.join(h.euid.to_string());
    mkdir(&run_user, 0o700);
    if me() == 0 {
        // Root can hand the directory to the made-up user.
        nix::unistd::chown(&run_user, Some(nix::unistd::Uid::from_raw(1)), None).unwrap();
    }
    assert_eq!(h.runtime_dir().unwrap(), run_user);
}
