//! The aardvark-dns pid file netavark trusts, and recovery when it is stale.
//!
//! Layout under netavark's `--config` directory (netavark 1.4):
//!
//! ```text
//! <config>/aardvark.lock              flock netavark holds while it commits DNS
//!                                     entries and starts or signals aardvark-dns
//! <config>/aardvark-dns/aardvark.pid  pid of the running aardvark-dns
//! <config>/aardvark-dns/<network>     one entry file per DNS-enabled network
//! ```
//!
//! netavark sends SIGHUP to the pid in `aardvark.pid` and starts a new server
//! only when that fails with ESRCH. A zombie (killed, not yet reaped: init is a
//! slow reaper on some machines) still accepts signals, so netavark believes
//! the server runs and DNS silently stops. A reused pid is worse: an
//! unrelated process gets the SIGHUP. Before a DNS-enabled setup the pid file
//! is checked under netavark's own lock and removed when stale, so netavark
//! starts a fresh server that reads every network's entries.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use super::{BackendError, DEFAULT_BACKEND_TIMEOUT};

/// Why a pid file does not name a live aardvark-dns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stale {
    /// The content is not a pid.
    Unparsable,
    /// No such process.
    Missing(i32),
    /// The process exited and was not reaped yet.
    Zombie(i32),
    /// The pid now belongs to another program (its name).
    OtherProcess(i32, String),
}

/// What the pid file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PidState {
    /// There is no pid file: netavark starts a server when one is needed.
    NoPidFile,
    /// The pid is a live aardvark-dns.
    Alive(i32),
    /// The pid file is stale.
    Stale(Stale),
}

/// The pid file under a netavark config directory.
pub(crate) fn pid_file(config_dir: &Path) -> PathBuf {
    config_dir.join("aardvark-dns").join("aardvark.pid")
}

/// Reads the pid file and checks the process in `proc_root` (`/proc`).
/// `comm` is the expected process name (the binary's file name, at most 15 bytes).
pub(crate) fn check(config_dir: &Path, proc_root: &Path, comm: &str) -> std::io::Result<PidState> {
    let content = match fs::read_to_string(pid_file(config_dir)) {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(PidState::NoPidFile),
        Err(e) => return Err(e),
    };
    let Ok(pid) = content.trim().parse::<i32>() else {
        return Ok(PidState::Stale(Stale::Unparsable));
    };
    if pid <= 0 {
        return Ok(PidState::Stale(Stale::Unparsable));
    }
    let stat = match fs::read_to_string(proc_root.join(pid.to_string()).join("stat")) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) => {
            return Ok(PidState::Stale(Stale::Missing(pid)));
        }
        Err(e) => return Err(e),
    };
    // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return Ok(PidState::Stale(Stale::Missing(pid)));
    };
    let name = stat.get(open + 1..close).unwrap_or_default();
    let state = stat
        .get(close + 1..)
        .unwrap_or_default()
        .trim_start()
        .chars()
        .next();
    if matches!(state, Some('Z' | 'X' | 'x')) {
        return Ok(PidState::Stale(Stale::Zombie(pid)));
    }
    if name != comm {
        return Ok(PidState::Stale(Stale::OtherProcess(pid, name.to_string())));
    }
    Ok(PidState::Alive(pid))
}

/// The name the kernel shows for a binary: its file name cut to 15 bytes.
pub(crate) fn comm_of(binary: &Path) -> String {
    let name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// Removes a stale pid file under netavark's `aardvark.lock`, so the next
/// setup starts a fresh server. Returns what was found stale, if anything.
pub(crate) fn recover(
    config_dir: &Path,
    proc_root: &Path,
    comm: &str,
) -> Result<Option<Stale>, BackendError> {
    let pid_path = pid_file(config_dir);
    // a live server (the common case) needs no lock: netavark may hold it for long
    if matches!(
        check(config_dir, proc_root, comm),
        Ok(PidState::NoPidFile | PidState::Alive(_))
    ) {
        return Ok(None);
    }
    let lock = commit_lock(config_dir)?;
    let pid_err = |source| BackendError::AardvarkPidFile {
        path: pid_path.clone(),
        source,
    };
    let stale = match check(config_dir, proc_root, comm).map_err(pid_err)? {
        PidState::Stale(stale) => stale,
        PidState::NoPidFile | PidState::Alive(_) => return Ok(None),
    };
    tracing::warn!(pid_file = %pid_path.display(), ?stale, "aardvark-dns is not running: removing its stale pid file so netavark starts a new one");
    match fs::remove_file(&pid_path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(pid_err(e)),
    }
    drop(lock);
    Ok(Some(stale))
}

/// netavark's commit lock, waited for at most [`DEFAULT_BACKEND_TIMEOUT`]: netavark holds
/// it only while it writes entries and signals or starts the server, so a longer wait
/// means a hung holder, and podnet's flow lock must not wait on it without end.
fn commit_lock(config_dir: &Path) -> Result<File, BackendError> {
    let path = config_dir.join("aardvark.lock");
    let lock_err = |source| BackendError::AardvarkPidFile {
        path: path.clone(),
        source,
    };
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(lock_err)?;
    let deadline = Instant::now() + DEFAULT_BACKEND_TIMEOUT;
    // flock has no timed wait: poll, as `flock -w` does
    while lock.try_lock_exclusive().is_err() {
        if Instant::now() >= deadline {
            return Err(lock_err(std::io::Error::new(
                ErrorKind::TimedOut,
                format!("still held by another process after {DEFAULT_BACKEND_TIMEOUT:?}"),
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(lock)
}

/// True when some network's entry file is in the config (a server is needed).
pub(crate) fn has_entries(config_dir: &Path) -> bool {
    fs::read_dir(config_dir.join("aardvark-dns"))
        .map(|dir| {
            dir.flatten()
                .any(|e| e.file_name() != "aardvark.pid" && e.metadata().is_ok_and(|m| m.len() > 0))
        })
        .unwrap_or(false)
}

/// Why [`restart_if_needed`] restarted aardvark-dns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Restarted {
    /// There was no pid file.
    NoPidFile,
    /// The pid file was stale.
    Stale(Stale),
}

/// When DNS entries exist but no live aardvark-dns serves them (no pid file, a dead,
/// zombie or reused pid), starts one the way netavark 1.4 does
/// (`aardvark-dns --config DIR -p PORT run`: it forks, the server calls `setsid` and
/// writes the pid file, the parent exits once it is ready), under netavark's commit lock
/// so no netavark starts a second one meanwhile. `start` runs the command to completion.
pub(crate) fn restart_if_needed(
    config_dir: &Path,
    proc_root: &Path,
    comm: &str,
    start: impl FnOnce() -> Result<(), BackendError>,
) -> Result<Option<Restarted>, BackendError> {
    if !has_entries(config_dir) {
        return Ok(None);
    }
    if matches!(check(config_dir, proc_root, comm), Ok(PidState::Alive(_))) {
        return Ok(None);
    }
    let lock = commit_lock(config_dir)?;
    let pid_path = pid_file(config_dir);
    let pid_err = |source| BackendError::AardvarkPidFile {
        path: pid_path.clone(),
        source,
    };
    let why = match check(config_dir, proc_root, comm).map_err(pid_err)? {
        PidState::Alive(_) => return Ok(None),
        PidState::NoPidFile => Restarted::NoPidFile,
        PidState::Stale(stale) => {
            match fs::remove_file(&pid_path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(pid_err(e)),
            }
            Restarted::Stale(stale)
        }
    };
    tracing::warn!(config = %config_dir.display(), ?why, "aardvark-dns is not running although DNS entries exist: starting it");
    start()?;
    drop(lock);
    Ok(Some(why))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Fake {
        _tmp: tempfile::TempDir,
        config: PathBuf,
        proc_root: PathBuf,
    }

    fn fake() -> Fake {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("config");
        let proc_root = tmp.path().join("proc");
        fs::create_dir_all(config.join("aardvark-dns")).unwrap();
        fs::create_dir_all(&proc_root).unwrap();
        Fake {
            _tmp: tmp,
            config,
            proc_root,
        }
    }

    impl Fake {
        fn pid_file(&self, content: &str) {
            fs::write(pid_file(&self.config), content).unwrap();
        }
        fn process(&self, pid: i32, stat: &str) {
            let dir = self.proc_root.join(pid.to_string());
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("stat"), stat).unwrap();
        }
        fn check(&self) -> PidState {
            check(&self.config, &self.proc_root, "aardvark-dns").unwrap()
        }
    }

    #[test]
    fn classifies_every_case() {
        let f = fake();
        assert_eq!(f.check(), PidState::NoPidFile);

        f.pid_file("4242");
        assert_eq!(f.check(), PidState::Stale(Stale::Missing(4242)));

        f.process(
            4242,
            "4242 (aardvark-dns) S 1 4242 4242 0 -1 4194624 88 0 0 0",
        );
        assert_eq!(f.check(), PidState::Alive(4242));

        f.process(
            4242,
            "4242 (aardvark-dns) Z 1 4242 4242 0 -1 4227084 94 0 0 0",
        );
        assert_eq!(f.check(), PidState::Stale(Stale::Zombie(4242)));

        f.process(4242, "4242 (my (odd) prog) R 1 4242");
        assert_eq!(
            f.check(),
            PidState::Stale(Stale::OtherProcess(4242, "my (odd) prog".into()))
        );

        f.pid_file("garbage");
        assert_eq!(f.check(), PidState::Stale(Stale::Unparsable));
        f.pid_file("-1");
        assert_eq!(f.check(), PidState::Stale(Stale::Unparsable));
    }

    #[test]
    fn recover_removes_only_stale_pid_files() {
        let f = fake();
        assert_eq!(
            recover(&f.config, &f.proc_root, "aardvark-dns").unwrap(),
            None
        );

        f.pid_file("77\n");
        f.process(77, "77 (aardvark-dns) S 1 77 77");
        assert_eq!(
            recover(&f.config, &f.proc_root, "aardvark-dns").unwrap(),
            None
        );
        assert!(pid_file(&f.config).exists());

        f.process(77, "77 (aardvark-dns) Z 1 77 77");
        assert_eq!(
            recover(&f.config, &f.proc_root, "aardvark-dns").unwrap(),
            Some(Stale::Zombie(77))
        );
        assert!(!pid_file(&f.config).exists());
        assert!(f.config.join("aardvark.lock").exists());
    }

    #[test]
    fn real_proc_sees_this_process_alive() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("aardvark-dns")).unwrap();
        fs::write(pid_file(tmp.path()), std::process::id().to_string()).unwrap();
        let me = fs::read_to_string("/proc/self/comm").unwrap();
        let state = check(tmp.path(), Path::new("/proc"), me.trim_end()).unwrap();
        assert_eq!(state, PidState::Alive(std::process::id() as i32));
    }

    #[test]
    fn restarts_only_when_entries_exist_without_a_live_server() {
        let f = fake();
        let started = std::cell::Cell::new(0);
        let start = || {
            started.set(started.get() + 1);
            Ok(())
        };
        // no entries: nothing to serve
        f.pid_file("55");
        assert_eq!(
            restart_if_needed(&f.config, &f.proc_root, "aardvark-dns", start).unwrap(),
            None
        );
        fs::write(
            f.config.join("aardvark-dns").join("net1"),
            "10.89.0.1\nabc 10.89.0.2  a\n",
        )
        .unwrap();
        f.process(55, "55 (aardvark-dns) S 1 55 55");
        assert_eq!(
            restart_if_needed(&f.config, &f.proc_root, "aardvark-dns", start).unwrap(),
            None
        );
        f.process(55, "55 (bash) S 1 55 55");
        assert_eq!(
            restart_if_needed(&f.config, &f.proc_root, "aardvark-dns", start).unwrap(),
            Some(Restarted::Stale(Stale::OtherProcess(55, "bash".into())))
        );
        assert!(!pid_file(&f.config).exists());
        assert_eq!(
            restart_if_needed(&f.config, &f.proc_root, "aardvark-dns", start).unwrap(),
            Some(Restarted::NoPidFile)
        );
        assert_eq!(started.get(), 2);
    }

    #[test]
    fn comm_is_cut_to_15_bytes() {
        assert_eq!(
            comm_of(Path::new("/usr/lib/podman/aardvark-dns")),
            "aardvark-dns"
        );
        assert_eq!(
            comm_of(Path::new("/x/a-very-long-binary-name")),
            "a-very-long-bin"
        );
    }
}
