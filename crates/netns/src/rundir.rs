//! Where pins live: `/run/netns` as root, `<runtime dir>/netns` rootless.

use std::path::PathBuf;

use crate::Error;

/// The rootful pin directory, the one `ip netns` uses.
pub const ROOTFUL_RUN_DIR: &str = "/run/netns";

/// The pin directory for this process: `/run/netns` when rootful; rootless (see
/// [`rootless_detect::is_rootless`]), `netns` under the user's runtime directory
/// ([`rootless_detect::runtime_dir`], normally `$XDG_RUNTIME_DIR`), as podman does.
///
/// Equivalent: the directory `ip netns list` reads (as root).
pub fn run_dir() -> Result<PathBuf, Error> {
    if rootless_detect::is_rootless() {
        let dir = rootless_detect::runtime_dir().map_err(|source| Error::RunDir { source })?;
        Ok(dir.join("netns"))
    } else {
        Ok(PathBuf::from(ROOTFUL_RUN_DIR))
    }
}
