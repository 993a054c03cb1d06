//! Building the Go reference peers offline: GOPATH mode, with Debian's Go sources
//! (`/usr/share/gocode`) on the path, so no module download is ever attempted.

use std::path::Path;
use std::process::Command;

/// Where Debian's `golang-*-dev` packages put their sources.
pub const GOCODE: &str = "/usr/share/gocode";

/// A `go build -o out target` of a Go reference peer.
pub struct GoBuild<'a> {
    /// What to build: an import path under `gopath`, or a file or `.` (see `dir`).
    pub target: &'a str,
    /// The binary to write.
    pub out: &'a Path,
    /// A GOPATH of the test's own, searched before [`GOCODE`] (its `src/` holds the peer).
    pub gopath: Option<&'a Path>,
    /// Go's build cache.
    pub cache: &'a Path,
    /// The directory `go` runs in, when `target` is relative to it.
    pub dir: Option<&'a Path>,
}

impl GoBuild<'_> {
    /// Runs the build; `Err` says why (no `go` installed, or the compiler's own output).
    pub fn run(&self) -> Result<(), String> {
        let gopath = match self.gopath {
            Some(own) => format!("{}:{GOCODE}", own.display()),
            None => GOCODE.to_string(),
        };
        let mut go = Command::new("go");
        go.args(["build", "-o"])
            .arg(self.out)
            .arg(self.target)
            .env("GO111MODULE", "off")
            .env("GOPATH", gopath)
            .env("GOCACHE", self.cache)
            .env("GOFLAGS", "");
        if let Some(dir) = self.dir {
            go.current_dir(dir);
        }
        let out = go
            .output()
            .map_err(|e| format!("cannot run go: {e} (apt-get install golang-go)"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "go build failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}
