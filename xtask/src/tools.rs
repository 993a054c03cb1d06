//! Current netavark and aardvark-dns beside Debian's 1.4: built from the crate registry with
//! `cargo install --locked` into a tools directory outside the checkout
//! (`/var/cache/podnet-tools/<crate>-<version>/bin`, or `$PODNET_TOOLS_DIR`), so one machine
//! builds them once (about 7 CPU-minutes; protoc comes from Debian's protobuf-compiler) and
//! every later CI run finds them. [`second_backend_pass`] re-runs the rootful flow suites
//! against them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fs2::FileExt;

use crate::cmd;
use crate::tally::{RunOutput, Tally};

/// Where the tools are kept when `$PODNET_TOOLS_DIR` is unset: it survives `cargo clean`, a
/// fresh checkout and a reboot.
pub const DEFAULT_TOOLS_DIR: &str = "/var/cache/podnet-tools";
/// Overrides [`DEFAULT_TOOLS_DIR`].
pub const TOOLS_DIR_ENV: &str = "PODNET_TOOLS_DIR";
/// The netavark binary the podnet test support runs instead of the one it finds.
pub const TEST_NETAVARK_ENV: &str = "PODNET_TEST_NETAVARK";
/// The aardvark-dns binary the test support passes as netavark's `--aardvark-binary`.
pub const TEST_AARDVARK_ENV: &str = "PODNET_TEST_AARDVARK";

/// A program installed from the crate registry at a pinned version.
pub struct Tool {
    /// The crate's name.
    pub krate: &'static str,
    /// The exact version (`cargo install --version`).
    pub version: &'static str,
    /// The binary it installs.
    pub binary: &'static str,
}

/// netavark 2.x: nftables by default, no iptables driver, strict isolation across networks.
pub const NETAVARK: Tool = Tool {
    krate: "netavark",
    version: "2.1.0",
    binary: "netavark",
};

/// aardvark-dns of the same release.
pub const AARDVARK_DNS: Tool = Tool {
    krate: "aardvark-dns",
    version: "2.1.0",
    binary: "aardvark-dns",
};

impl Tool {
    /// `cargo install --root` for this version: its own directory, so versions sit side by side.
    fn root(&self, tools_dir: &Path) -> PathBuf {
        tools_dir.join(format!("{}-{}", self.krate, self.version))
    }

    /// The installed binary.
    pub fn path(&self, tools_dir: &Path) -> PathBuf {
        self.root(tools_dir).join("bin").join(self.binary)
    }
}

/// The tools directory in use.
pub fn tools_dir() -> PathBuf {
    std::env::var_os(TOOLS_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_TOOLS_DIR))
}

/// The installed current netavark and aardvark-dns.
pub struct CurrentBackend {
    /// netavark.
    pub netavark: PathBuf,
    /// aardvark-dns.
    pub aardvark: PathBuf,
}

/// Installs [`NETAVARK`] and [`AARDVARK_DNS`] into [`tools_dir`] unless they are there; under
/// a lock, so two CI runs on one machine build them once.
pub fn install() -> Result<CurrentBackend, String> {
    let dir = tools_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let lock_path = dir.join(".lock");
    let lock = File::create(&lock_path)
        .and_then(|f| f.lock_exclusive().map(|()| f))
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    let mut built = false;
    for tool in [&NETAVARK, &AARDVARK_DNS] {
        let path = tool.path(&dir);
        if is_executable(&path) {
            continue;
        }
        let started = Instant::now();
        // one target directory for both: they share most of their dependencies
        let mut install = Command::new("nice");
        install
            .args(["-n", "10"])
            .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["install", "--locked", "--root"])
            .arg(tool.root(&dir))
            .arg("--target-dir")
            .arg(dir.join("build"))
            .args([tool.krate, "--version", tool.version])
            .current_dir(&dir);
        cmd::run(install).map_err(|e| {
            format!(
                "{e}\n  (building {} needs protoc: Debian's protobuf-compiler)",
                tool.krate
            )
        })?;
        eprintln!(
            "setup: built {} {} in {:.0} s",
            tool.krate,
            tool.version,
            started.elapsed().as_secs_f64()
        );
        built = true;
    }
    if built {
        // the build tree is about a gigabyte; the binaries are all that is kept
        let _ = std::fs::remove_dir_all(dir.join("build"));
    } else {
        eprintln!(
            "setup: netavark {} and aardvark-dns {} present in {}",
            NETAVARK.version,
            AARDVARK_DNS.version,
            dir.display()
        );
    }
    drop(lock);
    Ok(CurrentBackend {
        netavark: NETAVARK.path(&dir),
        aardvark: AARDVARK_DNS.path(&dir),
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The rootful suites that run netavark and hold for any version of it: the library's
/// backend suites and the CLI's flow suite.
pub const SECOND_PASS_SUITES: &[&str] = &["flows", "netavark", "netavark_dns"];
/// The packages that hold [`SECOND_PASS_SUITES`].
const SECOND_PASS_PACKAGES: &[&str] = &["podnet", "podnet-cli"];

/// Re-runs the rootful flow suites ([`SECOND_PASS_SUITES`]) with
/// [`TEST_NETAVARK_ENV`] and [`TEST_AARDVARK_ENV`] naming the current netavark and
/// aardvark-dns (installed first if missing); returns the run's output, for
/// `Tally::record`.
pub fn second_backend_pass() -> Result<RunOutput, String> {
    let current = install()?;
    let mut test = cmd::cargo();
    test.args(["test", "--no-fail-fast"]);
    for package in SECOND_PASS_PACKAGES {
        test.args(["-p", package]);
    }
    for suite in SECOND_PASS_SUITES {
        test.args(["--test", suite]);
    }
    test.env(TEST_NETAVARK_ENV, &current.netavark)
        .env(TEST_AARDVARK_ENV, &current.aardvark);
    cmd::tee(test)
}

/// Runs [`second_backend_pass`] and adds its counts to `tally`; a failed build or install
/// of the tools is one failed step, and the other suites still run.
pub fn record_second_backend_pass(tally: &mut Tally) {
    let step = format!(
        "podnet flow suites on netavark {} (nftables)",
        NETAVARK.version
    );
    match second_backend_pass() {
        Ok(out) => tally.record(&step, &out, None),
        Err(e) => tally.step(&step, Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_has_its_own_root_under_the_tools_dir() {
        let dir = Path::new("/cache");
        assert_eq!(
            NETAVARK.path(dir),
            Path::new("/cache/netavark-2.1.0/bin/netavark")
        );
        assert_eq!(
            AARDVARK_DNS.path(dir),
            Path::new("/cache/aardvark-dns-2.1.0/bin/aardvark-dns")
        );
    }
}
