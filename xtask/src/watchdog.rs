//! A time limit per test binary, so one hung test fails its run instead of holding CI until
//! the outer runner's deadline and losing every result after it.
//!
//! A thread walks the process tree under the command xtask started every two seconds. The
//! outermost descendant that is a test binary (cargo's `target/*/deps/NAME-HASH`, or a
//! rootless suite's copy under `/tmp/podnet-rootless-*`) is timed from when it was first
//! seen; past the limit it is killed with all its descendants. cargo (`--no-fail-fast`)
//! then goes on with the next binary, and the tally counts the killed one as failed, as it
//! ended without a result line.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The default limit: the slowest binary takes about two minutes on a loaded two-core VM.
const DEFAULT_LIMIT: Duration = Duration::from_secs(15 * 60);
const LIMIT_VAR: &str = "PODNET_TEST_BINARY_LIMIT_SECS";
const POLL: Duration = Duration::from_secs(2);

/// The limit for one test binary: `PODNET_TEST_BINARY_LIMIT_SECS` or 15 minutes.
pub fn limit() -> Duration {
    std::env::var(LIMIT_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIMIT)
}

/// Watches the process tree under `root` until dropped.
pub struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub fn start(root: u32, limit: Duration) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut first_seen: HashMap<u32, Instant> = HashMap::new();
            while !flag.load(Ordering::Relaxed) {
                let tree = ProcessTree::read();
                let binaries = tree.outermost_test_binaries(root);
                first_seen.retain(|pid, _| binaries.iter().any(|(p, _)| p == pid));
                for (pid, exe) in binaries {
                    let since = *first_seen.entry(pid).or_insert_with(Instant::now);
                    if since.elapsed() > limit {
                        eprintln!(
                            "xtask: test binary {exe} (pid {pid}) still running after {} s \
                             ({LIMIT_VAR}): killed with its processes; its run counts as failed",
                            limit.as_secs()
                        );
                        kill_all(&tree.with_descendants(pid));
                    }
                }
                std::thread::sleep(POLL);
            }
        });
        Watchdog {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Parent of every process, read from `/proc/PID/stat`.
struct ProcessTree {
    parent: HashMap<u32, u32>,
}

impl ProcessTree {
    fn read() -> ProcessTree {
        let mut parent = HashMap::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // the command name may hold spaces and parentheses: fields start after the last ')'
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent.insert(pid, ppid);
            }
        }
        ProcessTree { parent }
    }

    fn children(&self, pid: u32) -> impl Iterator<Item = u32> + '_ {
        self.parent
            .iter()
            .filter(move |(_, &p)| p == pid)
            .map(|(&c, _)| c)
    }

    /// The first test binary on each path down from `root`, with its executable.
    fn outermost_test_binaries(&self, root: u32) -> Vec<(u32, String)> {
        let mut found = Vec::new();
        let mut queue = vec![root];
        while let Some(pid) = queue.pop() {
            for child in self.children(pid) {
                match test_binary(child) {
                    Some(exe) => found.push((child, exe)),
                    None => queue.push(child),
                }
            }
        }
        found
    }

    fn with_descendants(&self, pid: u32) -> Vec<u32> {
        let mut all = vec![pid];
        let mut i = 0;
        while i < all.len() {
            let next: Vec<u32> = self.children(all[i]).collect();
            all.extend(next);
            i += 1;
        }
        all
    }
}

/// The executable of `pid` when it is a test binary.
fn test_binary(pid: u32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let text = exe.to_string_lossy().into_owned();
    let in_deps = exe
        .parent()
        .is_some_and(|d| d.file_name() == Some("deps".as_ref()))
        && text.contains("/target/");
    let rootless_copy = exe.starts_with(Path::new("/tmp"))
        && exe
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|d| d.to_string_lossy().starts_with("podnet-rootless-"));
    (in_deps || rootless_copy).then_some(text)
}

fn kill_all(pids: &[u32]) {
    let mut kill = Command::new("kill");
    kill.arg("-KILL").args(pids.iter().map(u32::to_string));
    let _ = kill.status();
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A "test binary" (a copy of sleep where cargo puts test binaries) that outlives the
    /// limit is killed, and its parent sees it die by SIGKILL.
    #[test]
    fn a_test_binary_past_the_limit_is_killed() {
        let dir = tempdir();
        let deps = dir.join("target/debug/deps");
        std::fs::create_dir_all(&deps).unwrap();
        let fake = deps.join("hangs-0123456789abcdef");
        std::fs::copy("/bin/sleep", &fake).unwrap();
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("{} 600; echo status=$?", fake.display()));
        let child = sh.stdout(std::process::Stdio::piped()).spawn().unwrap();
        let dog = Watchdog::start(child.id(), Duration::from_secs(1));
        let out = child.wait_with_output().unwrap();
        drop(dog);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "status=137");
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-watchdog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
