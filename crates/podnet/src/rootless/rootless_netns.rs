//! `RootlessNetNs`: the one network namespace, inside the user's user namespace, that
//! rootless containers' networks live in.
//!
//! On-disk layout, in the state directory (default `<runtime dir>/podnet/rootless-netns`):
//!
//! ```text
//! lock          flock held around setup, membership changes and teardown (never deleted)
//! members       container ids using the netns, one per line
//! helper        "PID STARTTIME" of the pasta / slirp4netns process
//! pasta.pid     pasta's own pid file; pasta.log / slirp4netns.log: the helper's output
//! resolv.conf   the netns' resolv.conf (DNS forwarder first)
//! run/ var/     the private /run and /var of commands run in the netns
//! ```
//!
//! The namespace itself is pinned at `<pin dir>/rootless-netns-<hash of state dir>`
//! (default pin dir `<runtime dir>/netns`), a mount that exists in the holder's mount
//! namespace only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::error::RootlessError;
use super::forwarder::PortForward;
use super::helper::{self, RootlessNetHelper};
use super::holder::{create_private_dir, in_user_namespace, lock, LockGuard};
use super::process::{write_atomic, ProcessRecord};
use super::{ids, members, mounts, pin, ports, resolv};

/// Where and how the rootless netns is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RootlessNetNsConfig {
    /// State directory (lock, members, helper record, private /run and /var).
    pub dir: PathBuf,
    /// Directory the netns is pinned in.
    pub pin_dir: PathBuf,
    /// The user-mode network stack.
    pub helper: RootlessNetHelper,
    /// Let the netns reach the host's loopback through the stack's gateway address
    /// (pasta maps the gateway to the host's 127.0.0.1; slirp4netns uses 10.0.2.2).
    pub host_loopback: bool,
    /// Extra arguments for the helper.
    pub helper_args: Vec<String>,
    /// The host resolv.conf whose symlink chain is followed (normally `/etc/resolv.conf`).
    pub resolv_conf: PathBuf,
}

impl RootlessNetNsConfig {
    /// A configuration with state in `dir` and the pin in `pin_dir`, pasta, host loopback
    /// reachable.
    pub fn new(dir: impl Into<PathBuf>, pin_dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            pin_dir: pin_dir.into(),
            helper: RootlessNetHelper::Pasta,
            host_loopback: true,
            helper_args: Vec::new(),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
        }
    }

    /// The user's default: `<runtime dir>/podnet/rootless-netns`, pins in
    /// `<runtime dir>/netns`.
    pub fn for_user() -> Result<Self, RootlessError> {
        let rt = ids::runtime_dir()?;
        Ok(Self::new(
            rt.join("podnet/rootless-netns"),
            rt.join("netns"),
        ))
    }

    /// The pin path: `<pin dir>/rootless-netns-<16 hex digits of FNV-1a(state dir)>`.
    pub fn pin_path(&self) -> PathBuf {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.dir.as_os_str().as_encoded_bytes() {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.pin_dir.join(format!("rootless-netns-{hash:016x}"))
    }
}

/// The rootless network namespace. Every operation goes through [`RootlessNetNs::lock`].
///
/// A rootless setup flow, inside the user namespace (after
/// [`reexec_in_user_namespace`](crate::reexec_in_user_namespace)):
///
/// ```no_run
/// use podnet::{Backend, Netavark, NetworkOptions, RootlessNetNs, RootlessNetNsConfig};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (container_netns, options) = (std::path::Path::new("/x"), NetworkOptions::default());
/// let rootless = RootlessNetNs::new(RootlessNetNsConfig::for_user()?);
/// let netavark = Netavark::new("/run/user/1000/containers/networks")?.rootless(true);
/// let mut locked = rootless.lock()?; // one flow at a time
/// locked.ensure()?; // create, or heal a dead pasta
/// let status = locked.run(|| netavark.setup(container_netns, &options))??;
/// locked.add_member(&options.container_id)?; // only after the backend succeeded
/// # let _ = status;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RootlessNetNs {
    config: RootlessNetNsConfig,
}

/// What is running, as seen under the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RootlessNetNsStatus {
    /// The pinned network namespace.
    pub netns: PathBuf,
    /// The pasta / slirp4netns process.
    pub helper_pid: u32,
}

impl RootlessNetNs {
    /// A handle; nothing is created until [`RootlessNetNsLock::ensure`].
    pub fn new(config: RootlessNetNsConfig) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &RootlessNetNsConfig {
        &self.config
    }

    fn entry(&self) -> Result<(std::os::fd::OwnedFd, PathBuf), RootlessError> {
        Ok((pin::open(&self.config.pin_path())?, ids::runtime_dir()?))
    }

    fn layout<'a>(&'a self, runtime_dir: &'a Path) -> mounts::Layout<'a> {
        mounts::Layout {
            dir: &self.config.dir,
            runtime_dir,
            resolv_conf: &self.config.resolv_conf,
        }
    }

    /// Like [`RootlessNetNsLock::enter`], without taking the lock: for a backend hook
    /// called while the caller already holds the lock (taking it again would deadlock).
    pub fn enter(&self, cmd: &mut Command) -> Result<(), RootlessError> {
        let (netns, runtime_dir) = self.entry()?;
        mounts::enter(cmd, netns, &self.layout(&runtime_dir))
    }

    /// Takes the exclusive lock (blocking). Must be called inside the user namespace.
    pub fn lock(&self) -> Result<RootlessNetNsLock<'_>, RootlessError> {
        if !in_user_namespace() {
            return Err(RootlessError::NotInUserNamespace);
        }
        create_private_dir(&self.config.dir)?;
        let guard = lock(&self.config.dir.join("lock"))?;
        Ok(RootlessNetNsLock {
            ns: self,
            _guard: guard,
        })
    }

    /// Ensures the netns is up (creating or healing it) and records `container_id` as a
    /// member; returns the netns path. Idempotent.
    pub fn join(&self, container_id: &str) -> Result<PathBuf, RootlessError> {
        members::validate_id(container_id)?;
        let mut locked = self.lock()?;
        let path = locked.ensure()?;
        locked.add_member(container_id)?;
        Ok(path)
    }

    /// Removes `container_id` from the members; when none are left, tears the netns and
    /// its helper down. Returns true when it was torn down. Idempotent.
    pub fn leave(&self, container_id: &str) -> Result<bool, RootlessError> {
        let mut locked = self.lock()?;
        locked.remove_member(container_id)?;
        if locked.members()?.is_empty() {
            locked.teardown()?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// The rootless netns with its lock held; released on drop.
#[derive(Debug)]
pub struct RootlessNetNsLock<'a> {
    ns: &'a RootlessNetNs,
    _guard: LockGuard,
}

impl RootlessNetNsLock<'_> {
    fn config(&self) -> &RootlessNetNsConfig {
        &self.ns.config
    }

    fn file(&self, name: &str) -> PathBuf {
        self.config().dir.join(name)
    }

    /// The netns and helper if both are alive.
    pub fn status(&self) -> Option<RootlessNetNsStatus> {
        let netns = self.config().pin_path();
        if !pin::is_pinned(&netns) {
            return None;
        }
        let helper = ProcessRecord::read(&self.file("helper"))?;
        helper.open_live()?;
        Some(RootlessNetNsStatus {
            netns,
            helper_pid: helper.pid,
        })
    }

    /// Makes sure the netns exists and its helper runs: creates both on first use,
    /// restarts a dead helper in the existing netns (keeping every container's
    /// interfaces), and recreates the netns when its pin is gone (e.g. after the user
    /// namespace holder was restarted). Returns the netns path.
    pub fn ensure(&mut self) -> Result<PathBuf, RootlessError> {
        let config = self.config().clone();
        let netns = config.pin_path();
        let record = ProcessRecord::read(&self.file("helper"));
        let live = record.and_then(|r| r.open_live());
        if pin::is_pinned(&netns) {
            refresh_resolv(&config)?;
            if live.is_some() {
                return Ok(netns);
            }
            tracing::warn!(netns = %netns.display(), "rootless netns helper is dead; restarting it");
            self.start_helper(&config, &netns)?;
            return Ok(netns);
        }
        if let Some(stale) = live {
            tracing::warn!(
                pid = stale.pid(),
                "helper of a vanished rootless netns; stopping it"
            );
            stale.terminate(Duration::from_secs(2))?;
        }
        // Forwarders would still hold the vanished namespace open and forward into it.
        ports::stop_all(&config.dir)?;
        create_private_dir(&config.pin_dir)?;
        pin::remove(&netns)?;
        tracing::debug!(netns = %netns.display(), "creating rootless netns");
        pin::create(&netns)?;
        let started = refresh_resolv(&config).and_then(|()| self.start_helper(&config, &netns));
        if let Err(e) = started {
            if let Err(undo) = pin::remove(&netns) {
                tracing::warn!(error = %undo, "rollback: cannot remove rootless netns pin");
            }
            return Err(e);
        }
        Ok(netns)
    }

    fn start_helper(
        &self,
        config: &RootlessNetNsConfig,
        netns: &Path,
    ) -> Result<(), RootlessError> {
        let record = helper::start(&helper::Start {
            helper: config.helper,
            netns,
            dir: &config.dir,
            host_loopback: config.host_loopback,
            extra_args: &config.helper_args,
            port_args: &[],
            mtu: None,
        })?;
        tracing::debug!(pid = record.pid, "rootless netns helper running");
        record.write(&self.file("helper"))
    }

    /// A command for `program` that runs inside the netns, in a private mount namespace
    /// where `/run` and `/var` are the netns' own (see [`RootlessNetNsLock::enter`]).
    pub fn command(&self, program: &str) -> Result<Command, RootlessError> {
        let mut cmd = Command::new(program);
        self.enter(&mut cmd)?;
        Ok(cmd)
    }

    /// Makes `cmd` run inside the netns, in a fresh private mount namespace where `/run`
    /// and `/var` are the netns' own writable directories (the user's runtime directory,
    /// with every netns pin, and `/run/systemd` bound back in) and resolv.conf names the
    /// helper's DNS forwarder: how netavark (with `--rootless=true`) is run for rootless
    /// containers. The netns must exist ([`RootlessNetNsLock::ensure`]).
    pub fn enter<'c>(&self, cmd: &'c mut Command) -> Result<&'c mut Command, RootlessError> {
        self.ns.enter(cmd)?;
        Ok(cmd)
    }

    /// Runs `f` on a fresh thread inside the netns and a private mount namespace laid out
    /// as for [`RootlessNetNsLock::enter`] (podman's `RootlessNetNS.Do`): every process
    /// `f` starts, e.g. through the [`Netavark`](crate::Netavark) backend, runs there. The
    /// thread exits afterwards. A panic in `f` is propagated.
    pub fn run<F, T>(&self, f: F) -> Result<T, RootlessError>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let (netns, runtime_dir) = self.ns.entry()?;
        mounts::run(netns, &self.ns.layout(&runtime_dir), f)
    }

    /// Publishes `ports` of `container_id`: (re)starts that container's own forwarder
    /// process (`forwarder` is a command whose program calls
    /// [`run_port_forwarder`](super::run_port_forwarder), e.g. the CLI's hidden
    /// subcommand) listening on the host and forwarding into this netns. Other
    /// containers' forwarders are not touched. An empty list stops the forwarder.
    /// Returns the forwarder's pid.
    pub fn forward_ports(
        &mut self,
        container_id: &str,
        forwarder: Command,
        ports: &[PortForward],
    ) -> Result<Option<u32>, RootlessError> {
        let config = self.config();
        let record = ports::start(
            &config.dir,
            container_id,
            &config.pin_path(),
            forwarder,
            ports,
        )?;
        Ok(record.map(|r| r.pid))
    }

    /// Stops `container_id`'s port forwarder; false if none was running.
    pub fn unforward_ports(&mut self, container_id: &str) -> Result<bool, RootlessError> {
        ports::stop(&self.config().dir, container_id)
    }

    /// The pid of `container_id`'s live port forwarder.
    pub fn forwarder_pid(&self, container_id: &str) -> Option<u32> {
        ports::live(&self.config().dir, container_id).map(|r| r.pid)
    }

    /// The container ids using the netns.
    pub fn members(&self) -> Result<BTreeSet<String>, RootlessError> {
        members::read(&self.file("members"))
    }

    /// Records a member; false if it already was one.
    pub fn add_member(&mut self, container_id: &str) -> Result<bool, RootlessError> {
        members::add(&self.file("members"), container_id)
    }

    /// Forgets a member; false if it was not one.
    pub fn remove_member(&mut self, container_id: &str) -> Result<bool, RootlessError> {
        members::remove(&self.file("members"), container_id)
    }

    /// Stops the helper, removes the netns pin and the state files (not the lock).
    /// Idempotent; goes on after a failure and returns the first one.
    pub fn teardown(&mut self) -> Result<(), RootlessError> {
        let config = self.config().clone();
        let mut first: Option<RootlessError> = None;
        let mut note = |r: Result<(), RootlessError>| {
            if let Err(e) = r {
                tracing::warn!(error = %e, "rootless netns teardown step failed");
                first.get_or_insert(e);
            }
        };
        if let Some(live) = ProcessRecord::read(&self.file("helper")).and_then(|r| r.open_live()) {
            tracing::debug!(pid = live.pid(), "stopping rootless netns helper");
            note(live.terminate(Duration::from_secs(2)));
        }
        note(ports::stop_all(&config.dir));
        note(pin::remove(&config.pin_path()));
        for name in [
            "helper",
            "members",
            "pasta.pid",
            "resolv.conf",
            "slirp4netns.sock",
        ] {
            note(remove_file(&self.file(name)));
        }
        for name in ["run", "var"] {
            let path = self.file(name);
            if let Err(source) = std::fs::remove_dir_all(&path) {
                if source.kind() != std::io::ErrorKind::NotFound {
                    note(Err(RootlessError::File {
                        action: "remove",
                        path,
                        source,
                    }));
                }
            }
        }
        tracing::debug!(dir = %config.dir.display(), "rootless netns torn down");
        first.map_or(Ok(()), Err)
    }
}

/// Rewrites the netns' resolv.conf when the host's changed (or it is missing), so every
/// command started afterwards sees the current nameservers.
fn refresh_resolv(config: &RootlessNetNsConfig) -> Result<(), RootlessError> {
    let host = std::fs::read_to_string(&config.resolv_conf).unwrap_or_default();
    let content = resolv::content(&host, config.helper.dns_forwarder());
    let path = mounts::resolv_path(&config.dir);
    if std::fs::read_to_string(&path).is_ok_and(|current| current == content) {
        return Ok(());
    }
    write_atomic(&path, content.as_bytes())
}

fn remove_file(path: &Path) -> Result<(), RootlessError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(RootlessError::File {
            action: "remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pin_path_is_stable_and_per_state_dir() {
        let a = RootlessNetNsConfig::new(
            "/run/user/1000/podnet/rootless-netns",
            "/run/user/1000/netns",
        );
        let b = RootlessNetNsConfig::new("/run/user/1000/other", "/run/user/1000/netns");
        assert_eq!(a.pin_path(), a.clone().pin_path());
        assert_ne!(a.pin_path(), b.pin_path());
        let name = a
            .pin_path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            name.starts_with("rootless-netns-") && name.len() == 15 + 16,
            "{name}"
        );
    }

    #[test]
    fn lock_outside_the_user_namespace_is_refused() {
        if in_user_namespace() {
            testkit::skip(
                "lock_outside_the_user_namespace_is_refused",
                "started inside a user namespace: there is no outside to test from",
            );
            return;
        }
        let ns = RootlessNetNs::new(RootlessNetNsConfig::new("/nonexistent/x", "/nonexistent/y"));
        assert!(matches!(ns.lock(), Err(RootlessError::NotInUserNamespace)));
    }
}
