//! Which netavark and aardvark-dns the rootful suites run: `$PODNET_TEST_NETAVARK` and
//! `$PODNET_TEST_AARDVARK` when set (`cargo xtask integration`'s second pass points them at
//! netavark 2.x, see xtask/src/tools.rs), else the ones podnet finds (Debian's 1.4).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use podnet::find_helper_binary;

/// The netavark binary the suite runs instead of the one podnet finds.
pub const NETAVARK_ENV: &str = "PODNET_TEST_NETAVARK";
/// The aardvark-dns binary passed to that netavark.
pub const AARDVARK_ENV: &str = "PODNET_TEST_AARDVARK";

fn from_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The netavark binary under test.
pub fn netavark() -> Result<PathBuf, String> {
    match from_env(NETAVARK_ENV) {
        Some(path) if path.is_file() => Ok(path),
        Some(path) => Err(format!("{NETAVARK_ENV}={} does not exist", path.display())),
        None => find_helper_binary("netavark", None).map_err(|e| e.to_string()),
    }
}

/// The aardvark-dns binary under test.
pub fn aardvark() -> Result<PathBuf, String> {
    match from_env(AARDVARK_ENV) {
        Some(path) if path.is_file() => Ok(path),
        Some(path) => Err(format!("{AARDVARK_ENV}={} does not exist", path.display())),
        None => find_helper_binary("aardvark-dns", None).map_err(|e| e.to_string()),
    }
}

/// Whether the suite runs a netavark other than the one podnet finds.
pub fn overridden() -> bool {
    from_env(NETAVARK_ENV).is_some()
}
