//! Peers that may fail without sinking the bench. Each peer command is tried up to
//! [`ATTEMPTS`] times; a peer that still fails stops measuring and is reported with its
//! error, while every other function of the run is still measured. The outcome is one
//! `bench-peer: {json}` line on stdout, which `cargo xtask bench` puts in its table
//! (failed, or how many retries the figure includes).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;

/// How many times one peer command is tried before the peer counts as failed.
pub const ATTEMPTS: u32 = 3;
/// The start of the line `cargo xtask bench` reads.
pub const REPORT_PREFIX: &str = "bench-peer: ";

/// One peer function of a criterion group.
pub struct Peer {
    group: String,
    id: String,
    retries: Cell<u32>,
    failure: RefCell<Option<String>>,
}

impl Peer {
    /// The peer function `id` of `group`.
    pub fn new(group: &str, id: &str) -> Self {
        Peer {
            group: group.to_string(),
            id: id.to_string(),
            retries: Cell::new(0),
            failure: RefCell::new(None),
        }
    }

    /// Runs `step` until it succeeds, at most [`ATTEMPTS`] times; the last error otherwise.
    pub fn retry(&self, mut step: impl FnMut() -> Result<(), String>) -> Result<(), String> {
        let mut attempt = 1;
        loop {
            match step() {
                Ok(()) => return Ok(()),
                Err(e) if attempt >= ATTEMPTS => {
                    return Err(format!("failed {ATTEMPTS} times, last: {e}"))
                }
                Err(e) => {
                    eprintln!("{}/{}: retrying after: {e}", self.group, self.id);
                    self.retries.set(self.retries.get() + 1);
                    attempt += 1;
                }
            }
        }
    }

    /// `command` through [`Peer::retry`]: it must exit 0.
    pub fn run(&self, command: impl Fn() -> Command) -> Result<(), String> {
        self.retry(|| run(&mut command()))
    }

    /// Marks the peer failed before it is measured (its set-up failed).
    pub fn fail(&self, error: String) {
        self.failure.borrow_mut().get_or_insert(error);
    }

    /// Measures `op` as this peer's function in `group`, unless it failed already. The
    /// first `op` that fails (after its retries) ends the measurement: the group goes
    /// on with its other functions. Then reports.
    pub fn bench(
        &self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        mut op: impl FnMut(&Peer) -> Result<(), String>,
    ) {
        if self.failure.borrow().is_none() {
            group.bench_function(self.id.as_str(), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        if self.failure.borrow().is_some() {
                            break;
                        }
                        if let Err(e) = op(self) {
                            self.fail(e);
                        }
                    }
                    if self.failure.borrow().is_some() {
                        // criterion's warm-up runs until this much time has passed: end it
                        return Duration::from_secs(3600);
                    }
                    start.elapsed()
                })
            });
        }
        self.report();
    }

    fn report(&self) {
        let failure = self.failure.borrow();
        if failure.is_none() && self.retries.get() == 0 {
            return;
        }
        let line = serde_json::json!({
            "group": self.group,
            "id": self.id,
            "retries": self.retries.get(),
            "error": *failure,
        });
        if let Some(e) = failure.as_deref() {
            eprintln!("{}/{} FAILED: {e}", self.group, self.id);
        }
        println!("{REPORT_PREFIX}{line}");
    }
}

/// `podman network connect` + `disconnect` of a running podman container (podman's side of
/// a connect round trip), as `group_name/peer_podman` in `group`. `podman` builds a podman
/// command line (as root, or through `runuser` for the rootless user); `prefix` names the
/// two networks (on `subnets`) and the container, which are removed afterwards.
pub fn podman_connect_disconnect(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    podman: impl Fn(&[&str]) -> Command,
    prefix: &str,
    subnets: [&str; 2],
) {
    let peer = Peer::new(group_name, "peer_podman");
    let pid = std::process::id();
    let (n1, n2, ctr) = (
        format!("{prefix}1-{pid}"),
        format!("{prefix}2-{pid}"),
        format!("{prefix}c-{pid}"),
    );
    let ready = peer
        .run(|| podman(&["image", "exists", "localhost/busybox:latest"]))
        .map_err(|e| format!("no localhost/busybox image (run `cargo xtask setup`): {e}"))
        .and_then(|()| peer.run(|| podman(&["network", "create", "--subnet", subnets[0], &n1])))
        .and_then(|()| peer.run(|| podman(&["network", "create", "--subnet", subnets[1], &n2])))
        .and_then(|()| {
            peer.run(|| {
                podman(&[
                    "run",
                    "-d",
                    "--replace",
                    "--name",
                    &ctr,
                    "--network",
                    &n1,
                    "localhost/busybox",
                    "sleep",
                    "3600",
                ])
            })
        });
    if let Err(e) = ready {
        peer.fail(e);
    }
    peer.bench(group, |peer| {
        peer.run(|| podman(&["network", "connect", &n2, &ctr]))?;
        peer.run(|| podman(&["network", "disconnect", &n2, &ctr]))
    });
    let _ = podman(&["rm", "-f", "-t", "0", &ctr]).output();
    let _ = podman(&["network", "rm", "-f", &n1, &n2]).output();
}

/// Runs `command`; its stderr is the error when it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
