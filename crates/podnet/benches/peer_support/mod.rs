//! Peers that may fail without sinking the bench. Each peer command is tried up to
//! [`ATTEMPTS`] times; a peer that still fails stops measuring and is reported with its
//! error, while every other function of the run is still measured. The outcome is one
//! `bench-peer: {json}` line on stdout, which `cargo xtask bench` puts in its table
//! (failed, or how many retries the figure includes). Also the benches' shared helpers:
//! running netavark alone, parallel workers, a pinned throwaway host namespace.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use netns::NetNs;

/// A throwaway host namespace pinned in /run/netns, removed on drop.
pub struct Pinned(pub Arc<NetNs>);

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = netns::remove(self.0.path());
    }
}

/// A criterion group for whole flows (tens to hundreds of milliseconds each): flat
/// sampling, 10 samples, 6 s of measurement.
pub fn flow_group<'a>(c: &'a mut criterion::Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sampling_mode(criterion::SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(6));
    group
}

/// How many times one peer command is tried before the peer counts as failed.
pub const ATTEMPTS: u32 = 3;
/// The start of the line `cargo xtask bench` reads.
pub const REPORT_PREFIX: &str = "bench-peer: ";

/// One peer function of a criterion group (shared by the threads of a parallel peer).
pub struct Peer {
    group: String,
    id: String,
    retries: AtomicU32,
    failure: Mutex<Option<String>>,
}

impl Peer {
    /// The peer function `id` of `group`.
    pub fn new(group: &str, id: &str) -> Self {
        Peer {
            group: group.to_string(),
            id: id.to_string(),
            retries: AtomicU32::new(0),
            failure: Mutex::new(None),
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
                    self.retries.fetch_add(1, Ordering::SeqCst);
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
        self.failure().get_or_insert(error);
    }

    fn failure(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // a panicking peer thread leaves the report readable
        self.failure.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failed(&self) -> bool {
        self.failure().is_some()
    }

    /// Measures `op` as this peer's function in `group`, unless it failed already. The
    /// first `op` that fails (after its retries) ends the measurement: the group goes
    /// on with its other functions. Then reports.
    pub fn bench(
        &self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        mut op: impl FnMut(&Peer) -> Result<(), String>,
    ) {
        if !self.failed() {
            group.bench_function(self.id.as_str(), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        if self.failed() {
                            break;
                        }
                        if let Err(e) = op(self) {
                            self.fail(e);
                        }
                    }
                    if self.failed() {
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
        let failure = self.failure().clone();
        let retries = self.retries.load(Ordering::SeqCst);
        if failure.is_none() && retries == 0 {
            return;
        }
        let line = serde_json::json!({
            "group": self.group,
            "id": self.id,
            "retries": retries,
            "error": failure,
        });
        if let Some(e) = failure.as_deref() {
            eprintln!("{}/{} FAILED: {e}", self.group, self.id);
        }
        println!("{REPORT_PREFIX}{line}");
    }
}

/// `podman network connect` + `disconnect` of `n` running podman containers, `parallel`
/// commands at a time (podman's side of a connect round trip), as
/// `group_name/peer_podman` in `group`. `podman` builds a podman command line (as root, or
/// through `runuser` for the rootless user); `prefix` names the two networks (on
/// `subnets`) and the containers, which are removed afterwards.
pub fn podman_connect_disconnect(
    group: &mut BenchmarkGroup<'_, WallTime>,
    group_name: &str,
    podman: impl Fn(&[&str]) -> Command + Sync,
    prefix: &str,
    subnets: [&str; 2],
    (n, parallel): (usize, usize),
) {
    let peer = Peer::new(group_name, "peer_podman");
    let pid = std::process::id();
    let (n1, n2) = (format!("{prefix}1-{pid}"), format!("{prefix}2-{pid}"));
    let ctrs: Vec<String> = (0..n).map(|i| format!("{prefix}c-{pid}-{i}")).collect();
    let ready = peer
        .run(|| podman(&["image", "exists", "localhost/busybox:latest"]))
        .map_err(|e| format!("no localhost/busybox image (run `cargo xtask setup`): {e}"))
        .and_then(|()| peer.run(|| podman(&["network", "create", "--subnet", subnets[0], &n1])))
        .and_then(|()| peer.run(|| podman(&["network", "create", "--subnet", subnets[1], &n2])))
        .and_then(|()| {
            in_parallel(n, parallel, |i| {
                peer.run(|| {
                    podman(&[
                        "run",
                        "-d",
                        "--replace",
                        "--name",
                        &ctrs[i],
                        "--network",
                        &n1,
                        "localhost/busybox",
                        "sleep",
                        "3600",
                    ])
                })
            })
        });
    if let Err(e) = ready {
        peer.fail(e);
    }
    peer.bench(group, |peer| {
        for command in ["connect", "disconnect"] {
            in_parallel(n, parallel, |i| {
                peer.run(|| podman(&["network", command, &n2, &ctrs[i]]))
            })?;
        }
        Ok(())
    });
    let mut rm = podman(&["rm", "-f", "-t", "0"]);
    rm.args(&ctrs);
    let _ = rm.output();
    let _ = podman(&["network", "rm", "-f", &n1, &n2]).output();
}

/// Runs `job(i)` for every `i < n`, `parallel` at a time; the first failure, if any.
pub fn in_parallel(
    n: usize,
    parallel: usize,
    job: impl Fn(usize) -> Result<(), String> + Sync,
) -> Result<(), String> {
    let next = AtomicUsize::new(0);
    let failure = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..parallel.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                if let Err(e) = job(i) {
                    failure
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// netavark itself, run inside `host` with `input` (podnet's JSON for one container) on
/// stdin, as podnet would run it: `--config config --rootless=false
/// --aardvark-binary=AARDVARK COMMAND NETNS`. Its message is the error when it fails.
pub fn netavark_alone(
    host: &NetNs,
    binary: &Path,
    config: &Path,
    aardvark: Option<&Path>,
    command: &str,
    netns: &Path,
    input: &[u8],
) -> Result<(), String> {
    let failed = |e: &dyn std::fmt::Display| format!("netavark {command}: {e}");
    let mut child = host
        .command(binary)
        .map_err(|e| failed(&e))?
        .arg("--config")
        .arg(config)
        .arg("--rootless=false")
        .arg(format!(
            "--aardvark-binary={}",
            aardvark
                .map(|a| a.display().to_string())
                .unwrap_or_default()
        ))
        .arg(command)
        .arg(netns)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(&e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).map_err(|e| failed(&e))?;
    }
    let out = child.wait_with_output().map_err(|e| failed(&e))?;
    if out.status.success() {
        return Ok(());
    }
    // netavark's own message is JSON on stdout; its log is on stderr
    Err(failed(&format!(
        "{} {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
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
