//! Finding the netavark and aardvark-dns binaries as podman does.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::BackendError;

/// podman's default `helper_binaries_dir` list, searched before `$PATH`.
pub const HELPER_BINARY_DIRS: &[&str] = &[
    "/usr/local/libexec/podman",
    "/usr/local/lib/podman",
    "/usr/libexec/podman",
    "/usr/lib/podman",
];

/// `CONTAINERS_HELPER_BINARY_DIR`: a directory searched before the helper directories
/// (containers/common's hook for tests).
pub const HELPER_BINARY_DIR_ENV: &str = "CONTAINERS_HELPER_BINARY_DIR";

/// A helper directory entry that stands for the running program's own directory.
const BINDIR: &str = "$BINDIR";

/// Finds the executable `name`: `configured` if given (it must exist), else the
/// first hit in [`HELPER_BINARY_DIRS`], else in `$PATH`.
pub fn find_helper_binary(name: &str, configured: Option<&Path>) -> Result<PathBuf, BackendError> {
    let dirs: Vec<PathBuf> = HELPER_BINARY_DIRS.iter().map(PathBuf::from).collect();
    find_helper_binary_in(name, configured, &dirs)
}

/// Finds the executable `name` as containers/common's `FindHelperBinary` does, with
/// `helper_dirs` as containers.conf's `[engine] helper_binaries_dir`: `configured` if
/// given (it must exist), else `$CONTAINERS_HELPER_BINARY_DIR`, then each helper
/// directory in order (`$BINDIR` stands for this program's directory), then `$PATH`
/// (podman stops before `$PATH`; podnet keeps it so a netavark installed by hand is found).
pub fn find_helper_binary_in(
    name: &str,
    configured: Option<&Path>,
    helper_dirs: &[PathBuf],
) -> Result<PathBuf, BackendError> {
    let bindir = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    let dirs: Vec<PathBuf> = std::env::var_os(HELPER_BINARY_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain(
            helper_dirs
                .iter()
                .filter_map(|dir| expand_bindir(dir, bindir.as_deref())),
        )
        .collect();
    let path_env = std::env::var_os("PATH");
    search(name, configured, &dirs, path_env.as_deref())
}

/// `$BINDIR` or `$BINDIR/rest` relative to `bindir`; `None` when it cannot be known.
fn expand_bindir(dir: &Path, bindir: Option<&Path>) -> Option<PathBuf> {
    match dir.strip_prefix(BINDIR) {
        Ok(rest) => bindir.map(|b| b.join(rest)),
        Err(_) => Some(dir.to_path_buf()),
    }
}

fn search(
    name: &str,
    configured: Option<&Path>,
    dirs: &[PathBuf],
    path_env: Option<&OsStr>,
) -> Result<PathBuf, BackendError> {
    let candidates: Vec<PathBuf> = match configured {
        Some(path) => vec![path.to_path_buf()],
        None => dirs
            .iter()
            .cloned()
            .chain(
                path_env
                    .map(|p| std::env::split_paths(p).collect::<Vec<_>>())
                    .unwrap_or_default(),
            )
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(name))
            .collect(),
    };
    for candidate in &candidates {
        if is_executable(candidate) {
            tracing::debug!(binary = %candidate.display(), "found {name}");
            return Ok(candidate.clone());
        }
    }
    Err(BackendError::BinaryNotFound {
        name: name.to_string(),
        searched: candidates,
    })
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;

    fn make(dir: &Path, name: &str, mode: u32) -> PathBuf {
        fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        fs::write(&p, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn helper_dirs_before_path_and_skips_non_executables() {
        let tmp = tempfile::tempdir().unwrap();
        let helper = tmp.path().join("helper");
        let bin = tmp.path().join("bin");
        make(&helper, "netavark", 0o644);
        let in_path = make(&bin, "netavark", 0o755);
        let path_env = std::env::join_paths([&bin]).unwrap();
        let found = search(
            "netavark",
            None,
            std::slice::from_ref(&helper),
            Some(&path_env),
        )
        .unwrap();
        assert_eq!(found, in_path);

        let in_helper = make(&helper, "netavark", 0o755);
        let found = search("netavark", None, &[helper], Some(&path_env)).unwrap();
        assert_eq!(found, in_helper);
    }

    #[test]
    fn configured_path_wins_and_must_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let mine = make(tmp.path(), "my-netavark", 0o700);
        let found = search("netavark", Some(&mine), &[], None).unwrap();
        assert_eq!(found, mine);

        let missing = tmp.path().join("nope");
        let err = search("netavark", Some(&missing), &[], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("netavark binary not found (searched {})", missing.display())
        );
    }

    #[test]
    fn bindir_entries_are_relative_to_the_program() {
        let bin = Path::new("/opt/podnet/bin");
        assert_eq!(
            expand_bindir(Path::new("$BINDIR/../libexec/podman"), Some(bin)),
            Some(PathBuf::from("/opt/podnet/bin/../libexec/podman"))
        );
        assert_eq!(
            expand_bindir(Path::new("$BINDIR"), Some(bin)),
            Some(bin.to_path_buf())
        );
        assert_eq!(expand_bindir(Path::new("$BINDIR"), None), None);
        assert_eq!(
            expand_bindir(Path::new("/usr/lib/podman"), None),
            Some(PathBuf::from("/usr/lib/podman"))
        );
    }

    #[test]
    fn not_found_lists_every_candidate_and_ignores_relative_path_entries() {
        let path_env = std::env::join_paths(["relative", "/nonexistent-pn"]).unwrap();
        let err = search(
            "aardvark-dns",
            None,
            &[PathBuf::from("/nonexistent-h")],
            Some(&path_env),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "aardvark-dns binary not found (searched /nonexistent-h/aardvark-dns, /nonexistent-pn/aardvark-dns)"
        );
    }
}
