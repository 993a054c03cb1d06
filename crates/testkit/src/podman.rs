//! A throwaway podman 4.3 peer: its own storage (`--root`, `--runroot`, vfs), its own
//! network directory, libpod tmp dir and containers.conf, optionally inside a test netns,
//! so a suite comparing against podman never reads or changes the host's podman state.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The busybox rootfs `cargo xtask setup` builds from Debian's static busybox.
pub const BUSYBOX_TARBALL: &str = "/var/tmp/podnet-busybox-rootfs.tar";
/// The image name the suites run.
pub const BUSYBOX_IMAGE: &str = "localhost/busybox:latest";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A podman whose every file lives under one directory, removed (with its containers and
/// networks) on drop.
pub struct Podman {
    dir: PathBuf,
    netns: Option<PathBuf>,
}

impl Podman {
    /// A fresh, empty podman under a new directory in the temp dir.
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "pntpodman-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        for sub in ["root", "runroot", "tmp", "networks"] {
            std::fs::create_dir_all(dir.join(sub))
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.join(sub).display()));
        }
        let conf = format!(
            "[containers]\ndefault_ulimits = [\"nofile=1024:20000\", \"nproc=32768:32768\"]\n\n\
             [network]\nnetwork_backend = \"netavark\"\nnetwork_config_dir = \"{}\"\n\n\
             [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\
             tmp_dir = \"{}\"\n",
            dir.join("networks").display(),
            dir.join("tmp").display()
        );
        let conf_path = dir.join("containers.conf");
        std::fs::write(&conf_path, conf)
            .unwrap_or_else(|e| panic!("writing {}: {e}", conf_path.display()));
        Podman { dir, netns: None }
    }

    /// Runs every later podman command in the network namespace pinned at `netns`.
    pub fn in_netns(mut self, netns: impl Into<PathBuf>) -> Self {
        self.netns = Some(netns.into());
        self
    }

    /// Where this podman keeps its network files.
    pub fn network_dir(&self) -> PathBuf {
        self.dir.join("networks")
    }

    /// `podman` with this peer's storage, directories and configuration.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net={}", ns.display()))
                    .args(["--", "podman"]);
                c
            }
            None => Command::new("podman"),
        };
        let sub = |s: &str| self.dir.join(s);
        cmd.env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .arg("--root")
            .arg(sub("root"))
            .arg("--runroot")
            .arg(sub("runroot"))
            .args(["--storage-driver", "vfs"])
            .arg("--tmpdir")
            .arg(sub("tmp"))
            .arg("--network-config-dir")
            .arg(sub("networks"))
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs podman; its output, whatever the exit status.
    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run podman {args:?}: {e}"))
    }

    /// Runs podman, which must succeed; its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Imports [`BUSYBOX_IMAGE`] from [`BUSYBOX_TARBALL`]; `Err` says what is missing.
    pub fn import_busybox(&self) -> Result<(), String> {
        if !Path::new(BUSYBOX_TARBALL).exists() {
            return Err(format!(
                "{BUSYBOX_TARBALL} is missing (cargo xtask setup makes it)"
            ));
        }
        let out = self.output(&[
            "import",
            "--change",
            "CMD [\"/bin/sh\"]",
            BUSYBOX_TARBALL,
            BUSYBOX_IMAGE,
        ]);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "podman import {BUSYBOX_TARBALL}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Default for Podman {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // containers first (their netns pins, conmon, shm mounts), then networks
        let _ = self.output(&["rm", "-a", "-f", "-t", "0"]);
        let _ = self.output(&["network", "prune", "-f"]);
        let _ = self.output(&["rmi", "-a", "-f"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
