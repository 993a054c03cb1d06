//! Which netavark and aardvark-dns the rootful suites run: `$PODNET_TEST_NETAVARK` and
//! `$PODNET_TEST_AARDVARK` when set (`cargo xtask integration`'s second pass points them at
//! netavark 2.x, see xtask/src/tools.rs), else the ones podnet finds (Debian's 1.4); and,
//! for a test that needs netavark 2.x in any pass, the newest that `cargo xtask setup`
//! installed in the tools directory.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use podnet::find_helper_binary;

/// The netavark binary the suite runs instead of the one podnet finds.
pub const NETAVARK_ENV: &str = "PODNET_TEST_NETAVARK";
/// The aardvark-dns binary passed to that netavark.
pub const AARDVARK_ENV: &str = "PODNET_TEST_AARDVARK";
/// Where `cargo xtask setup` installs netavark 2.x (`<dir>/netavark-<version>/bin/netavark`,
/// the same for aardvark-dns); xtask/src/tools.rs's `TOOLS_DIR_ENV`, `DEFAULT_TOOLS_DIR`.
const TOOLS_DIR_ENV: &str = "PODNET_TOOLS_DIR";
const DEFAULT_TOOLS_DIR: &str = "/var/cache/podnet-tools";

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

/// netavark 2.x and its aardvark-dns, whichever pass runs: the ones the second pass names
/// (`$PODNET_TEST_NETAVARK`, `$PODNET_TEST_AARDVARK`), else the newest of each in the tools
/// directory. `Err` says what is missing.
pub fn current() -> Result<(PathBuf, PathBuf), String> {
    if overridden() {
        return Ok((netavark()?, aardvark()?));
    }
    let dir = from_env(TOOLS_DIR_ENV).unwrap_or_else(|| PathBuf::from(DEFAULT_TOOLS_DIR));
    let newest = |krate: &str| -> Result<PathBuf, String> {
        let prefix = format!("{krate}-");
        let version = |name: &str| -> Option<Vec<u32>> {
            let v = name.strip_prefix(&prefix)?;
            v.split('.').map(|n| n.parse().ok()).collect()
        };
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                Some((version(&name)?, e.path().join("bin").join(krate)))
            })
            .filter(|(_, binary)| binary.is_file())
            .max()
            .map(|(_, binary)| binary)
            .ok_or_else(|| {
                format!(
                    "no {krate} in {} (`cargo xtask setup` builds netavark 2.x there)",
                    dir.display()
                )
            })
    };
    Ok((newest("netavark")?, newest("aardvark-dns")?))
}
