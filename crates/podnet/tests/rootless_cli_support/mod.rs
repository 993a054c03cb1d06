//! The `podnet` binary run by the unprivileged user, for the rootless CLI suites: a CLI with
//! its own `--root`, containers it removes on drop, a listener inside a container, and a
//! client on the host's loopback.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: xtask copies it next to the suite for the unprivileged user.
pub fn podnet_bin() -> PathBuf {
    std::env::var_os("PODNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podnet")))
}

/// `podnet --root ROOT`; the containers named in `cleanup` are removed (`rm -f`) on drop.
pub struct Cli {
    pub root: tempfile::TempDir,
    pub cleanup: Vec<String>,
}

impl Cli {
    pub fn new(prefix: &str) -> Self {
        Cli {
            root: tempfile::Builder::new().prefix(prefix).tempdir().unwrap(),
            cleanup: Vec::new(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(podnet_bin());
        c.arg("--root")
            .arg(self.root.path())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    pub fn out(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// A command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.out(args);
        assert!(
            out.status.success(),
            "podnet {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `podnet exec CONTAINER -- CMD...`.
    pub fn exec(&self, container: &str, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", container, "--"];
        args.extend_from_slice(cmd);
        self.out(&args)
    }

    /// `busybox nc -l -p PORT -e echo TEXT` in the container, once it listens.
    pub fn listen(&self, container: &str, port: u16, text: &str) -> Child {
        let p = port.to_string();
        let mut child = self
            .command(&[
                "exec", container, "--", "busybox", "nc", "-l", "-p", &p, "-e", "echo", text,
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let netstat = self.ok(&["exec", container, "--", "busybox", "netstat", "-ltn"]);
            if netstat.contains(&format!(":{port} ")) {
                return child;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("no listener on {port} in {container}");
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        // twice: a pod's owner is removed only after its dependents
        for _ in 0..2 {
            for name in &self.cleanup {
                let _ = self.out(&["rm", "-f", name]);
            }
        }
    }
}

/// A client on the host's loopback: what `127.0.0.1:port` said, if anything.
pub fn fetch(port: u16) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}
