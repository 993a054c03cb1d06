//! podman's storage roots for this process, from storage.conf as containers/storage reads
//! it (`containers_conf::StorageSources`): rootless podman keeps its networks in
//! `GRAPHROOT/networks` and its `ipam.db` in `RUNROOT/networks`, so a user whose
//! storage.conf moves either root has podman's files there, and podnet must look there
//! too.

use std::path::PathBuf;

use containers_conf::{RootlessUser, StorageRoots, StorageSources};

use super::NetworkError;

/// The run and graph roots podman uses for this process (root's, or the rootless user's).
pub(crate) fn podman_storage_roots() -> Result<StorageRoots, NetworkError> {
    let rootless = if rootless_detect::is_rootless() {
        Some(rootless_user()?)
    } else {
        None
    };
    StorageSources::system(rootless)
        .roots()
        .map_err(NetworkError::StorageConf)
}

/// Where rootless podman keeps its network files under `roots`.
pub(crate) fn rootless_networks_dir(roots: &StorageRoots) -> PathBuf {
    roots.graph_root.join("networks")
}

/// Where rootless podman keeps `ipam.db` under `roots`.
pub(crate) fn rootless_ipam_db(roots: &StorageRoots) -> PathBuf {
    roots.run_root.join("networks/ipam.db")
}

/// The rootless user with its directories, from the environment (`HOME`, `USER`,
/// `XDG_DATA_HOME`) and the runtime directory rootless-detect finds.
fn rootless_user() -> Result<RootlessUser, NetworkError> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let home = set("HOME").map(PathBuf::from);
    let data_home = set("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".local/share")))
        .ok_or(NetworkError::NoDataDir)?;
    let uid = rootless_detect::rootless_uid();
    let runtime_dir = rootless_detect::runtime_dir()
        .unwrap_or_else(|_| std::env::temp_dir().join(format!("run-{uid}")));
    let name = set("USER")
        .map(|u| u.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut user = RootlessUser::new(uid, name, home.unwrap_or_default(), runtime_dir);
    user.data_home = data_home;
    Ok(user)
}
