//! Builds the Go libcni peer (`tests/go_peer/main.go`) in GOPATH mode against Debian's libcni
//! sources, once per target directory, for the differential test and the benchmark.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's libcni sources (golang-github-containernetworking-cni-dev /
/// golang-github-appc-cni-dev).
pub const LIBCNI_SOURCES: &str = "/usr/share/gocode/src/github.com/containernetworking/cni/libcni";

/// Builds the peer into `out`; `Err` says why it cannot be built here.
pub fn build(out: &Path) -> Result<PathBuf, String> {
    if Command::new("go").arg("version").output().is_err() {
        return Err("no `go` toolchain (golang-go)".into());
    }
    if !Path::new(LIBCNI_SOURCES).join("api.go").exists() {
        return Err(format!("no libcni sources at {LIBCNI_SOURCES}"));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let bin = out.join("cni-go-peer");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go_peer/main.go");
    testkit::GoBuild {
        target: &source.to_string_lossy(),
        out: &bin,
        gopath: None,
        cache: &out.join("gocache"),
        dir: None,
    }
    .run()?;
    Ok(bin)
}

/// Prints why a peer-based check cannot run and fails when `CI` is set.
pub fn skip(test: &str, reason: &str) {
    testkit::skip(test, reason);
}
