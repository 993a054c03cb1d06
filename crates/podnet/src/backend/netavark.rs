//! [`Netavark`]: the [`Backend`] that runs the netavark binary, as podman does.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use containers_conf::FirewallDriver;
use netns::{CommandExt, NetNs};
use nix::sys::memfd::{memfd_create, MFdFlags};
use serde::Deserialize;
use tracing::level_filters::LevelFilter;

use super::{
    aardvark, bounded, find, leftovers, parse_setup_output, Backend, BackendError, NetworkOptions,
    StatusBlock,
};
use crate::Network;

/// netavark's `--config` directory podman uses when running as root.
pub const ROOTFUL_CONFIG_DIR: &str = "/run/containers/networks";

/// Runs `netavark [--config DIR --rootless=BOOL --aardvark-binary=PATH] setup|teardown NETNS`
/// with the [`NetworkOptions`] as JSON on stdin, like podman's libnetwork.
///
/// netavark's stdout and stderr go to anonymous memory files, not pipes: an
/// aardvark-dns that netavark starts inherits them and lives on, so waiting
/// for end-of-file on a pipe would hang.
///
/// Every call is bounded ([`Netavark::timeout`], default [`DEFAULT_BACKEND_TIMEOUT`](super::DEFAULT_BACKEND_TIMEOUT)):
/// netavark runs in its own process group, which is killed on expiry, and dies with
/// podnet (`PR_SET_PDEATHSIG`); the aardvark-dns server it starts is in neither (it
/// calls `setsid`) and outlives both, as podman's containers need.
///
/// ```no_run
/// use std::path::Path;
/// use podnet::{Backend, Netavark, NetworkOptions, PerNetworkOptions, ROOTFUL_CONFIG_DIR};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // podman's default network, as in /etc/containers/networks/podman.json
/// let network: podnet::Network = serde_json::from_value(serde_json::json!({
///     "name": "podman", "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
///     "driver": "bridge", "network_interface": "podman0",
///     "subnets": [{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}],
///     "ipv6_enabled": false, "internal": false, "dns_enabled": false,
///     "ipam_options": {"driver": "host-local"}
/// }))?;
/// let mut options = NetworkOptions::new("3f2a9c...full container id", "web");
/// let mut per_network = PerNetworkOptions::new("eth0");
/// per_network.static_ips = vec!["10.88.0.5".parse()?];
/// options.add_network(&network, per_network);
///
/// let netavark = Netavark::new(ROOTFUL_CONFIG_DIR)?;
/// let netns = Path::new("/run/netns/web"); // e.g. made with netns::NetNs::create_named
/// let status = netavark.setup(netns, &options)?; // podman: netavark setup
/// println!("{:?}", status["podman"].interfaces["eth0"].subnets);
/// netavark.teardown(netns, &options)?; // podman: netavark teardown
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Netavark {
    binary: PathBuf,
    aardvark_binary: Option<PathBuf>,
    config_dir: PathBuf,
    rootless: bool,
    dns_port: Option<u16>,
    firewall_driver: Option<FirewallDriver>,
    log_level: Option<String>,
    host_netns: Option<Arc<NetNs>>,
    proc_root: PathBuf,
    /// `netavark version`, detected on first use (see `version.rs`).
    pub(super) version: Arc<std::sync::OnceLock<super::NetavarkVersion>>,
    timeout: Duration,
}

/// netavark 1.4's whole message when teardown found no aardvark-dns to signal.
const AARDVARK_GONE: &str = "IO error: aardvark pid not found";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorOutput {
    error: String,
}

impl Netavark {
    /// Finds netavark (podman's helper directories, then `$PATH`) and
    /// aardvark-dns (same search; without it DNS is disabled, with a warning)
    /// and uses `config_dir` as netavark's `--config` directory.
    pub fn new(config_dir: impl Into<PathBuf>) -> Result<Self, BackendError> {
        let binary = find::find_helper_binary("netavark", None)?;
        let aardvark = match find::find_helper_binary("aardvark-dns", None) {
            Ok(path) => Some(path),
            Err(err) => {
                tracing::warn!(%err, "aardvark-dns not found: container DNS will not be enabled");
                None
            }
        };
        Ok(Self::with_binaries(binary, aardvark, config_dir))
    }

    /// Uses the given binaries as they are (`aardvark_binary: None` disables DNS).
    pub fn with_binaries(
        binary: impl Into<PathBuf>,
        aardvark_binary: Option<PathBuf>,
        config_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            binary: binary.into(),
            aardvark_binary,
            config_dir: config_dir.into(),
            rootless: false,
            dns_port: None,
            firewall_driver: None,
            log_level: None,
            host_netns: None,
            proc_root: PathBuf::from("/proc"),
            version: Arc::default(),
            timeout: bounded::DEFAULT_BACKEND_TIMEOUT,
        }
    }

    /// The time one netavark call may take before its process group is killed and the
    /// call fails with [`BackendError::Timeout`].
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Passes `--rootless=true` (aardvark-dns is then started with `systemd-run --user`).
    pub fn rootless(mut self, rootless: bool) -> Self {
        self.rootless = rootless;
        self
    }

    /// The port aardvark-dns listens on (`NETAVARK_DNS_PORT`; netavark's default is 53).
    pub fn dns_port(mut self, port: u16) -> Self {
        self.dns_port = Some(port);
        self
    }

    /// netavark's firewall driver, passed as `--firewall-driver` (netavark 1.10 and later;
    /// [`BackendConfig::netavark`](super::BackendConfig::netavark) checks the version first).
    /// Unset, netavark picks its own default (`NETAVARK_FW`, else its build's default).
    pub fn firewall_driver(mut self, driver: FirewallDriver) -> Self {
        self.firewall_driver = Some(driver);
        self
    }

    /// The firewall driver asked for, if any.
    pub fn configured_firewall_driver(&self) -> Option<FirewallDriver> {
        self.firewall_driver
    }

    /// netavark's log level (`RUST_LOG=netavark=LEVEL`): `error`, `warn`,
    /// `info`, `debug` or `trace`. Unset, it follows the current `tracing` level.
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.log_level = Some(level.into());
        self
    }

    /// Runs netavark inside `netns`, which then plays the host: bridges,
    /// veth host ends, firewall rules and aardvark-dns live there (the
    /// rootless network namespace, or a test's throwaway host). The switch
    /// happens in the child between fork and exec; no thread of ours moves.
    pub fn host_netns(mut self, netns: Arc<NetNs>) -> Self {
        self.host_netns = Some(netns);
        self
    }

    /// The netavark binary run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The aardvark-dns binary passed to netavark, if any.
    pub fn aardvark_binary(&self) -> Option<&Path> {
        self.aardvark_binary.as_deref()
    }

    /// netavark's `--config` directory.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    #[cfg(test)]
    pub(crate) fn with_proc_root(mut self, proc_root: PathBuf) -> Self {
        self.proc_root = proc_root;
        self
    }

    fn level(&self) -> String {
        if let Some(level) = &self.log_level {
            return level.clone();
        }
        match LevelFilter::current() {
            LevelFilter::TRACE => "trace",
            LevelFilter::DEBUG => "debug",
            LevelFilter::INFO => "info",
            LevelFilter::WARN => "warn",
            _ => "error",
        }
        .to_string()
    }

    fn prepare(&self, options: &NetworkOptions) -> Result<(), BackendError> {
        options.validate()?;
        std::fs::create_dir_all(&self.config_dir).map_err(|source| BackendError::ConfigDir {
            path: self.config_dir.clone(),
            source,
        })
    }

    /// Runs one netavark command on a netns with `options` on stdin and returns its stdout.
    fn run(
        &self,
        command: &'static str,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<String, BackendError> {
        let input = serde_json::to_vec(options).map_err(|e| BackendError::Spawn {
            binary: self.binary.clone(),
            command,
            source: std::io::Error::other(e),
        })?;
        self.exec(
            command,
            &[netns.as_os_str()],
            &input,
            netns,
            &options.container_id,
        )
    }

    /// Runs `netavark [global options] COMMAND ARGS...` with `input` on stdin and returns
    /// its stdout; `target` (the netns, or the file a command changes) names the run in
    /// errors. At debug level the JSON sent and received is logged, as podman's debug log
    /// shows it.
    fn exec(
        &self,
        command: &'static str,
        args: &[&std::ffi::OsStr],
        input: &[u8],
        target: &Path,
        container_id: &str,
    ) -> Result<String, BackendError> {
        let spawn_err = |source| BackendError::Spawn {
            binary: self.binary.clone(),
            command,
            source,
        };
        let mut stdin = memfile("netavark-stdin").map_err(spawn_err)?;
        stdin
            .write_all(input)
            .and_then(|()| stdin.seek(SeekFrom::Start(0)))
            .map_err(spawn_err)?;
        let mut stdout = memfile("netavark-stdout").map_err(spawn_err)?;
        let mut stderr = memfile("netavark-stderr").map_err(spawn_err)?;
        let level = self.level();

        let mut cmd = Command::new(&self.binary);
        cmd.arg("--config")
            .arg(&self.config_dir)
            .arg(format!("--rootless={}", self.rootless))
            .arg(format!(
                "--aardvark-binary={}",
                self.aardvark_binary
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
        if let Some(driver) = self.firewall_driver {
            cmd.arg("--firewall-driver").arg(driver.as_str());
        }
        cmd.arg(command)
            .args(args)
            .env("RUST_LOG", format!("netavark={level}"))
            .stdin(Stdio::from(stdin))
            .stdout(Stdio::from(stdout.try_clone().map_err(spawn_err)?))
            .stderr(Stdio::from(stderr.try_clone().map_err(spawn_err)?));
        if matches!(level.as_str(), "debug" | "trace") {
            cmd.env("RUST_BACKTRACE", "1");
        }
        if let Some(port) = self.dns_port {
            cmd.env("NETAVARK_DNS_PORT", port.to_string());
        }
        super::env::prepare(&mut cmd)?;
        if let Some(host) = &self.host_netns {
            cmd.netns(host).map_err(|source| BackendError::HostNetns {
                path: host.path().to_path_buf(),
                source,
            })?;
        }
        tracing::debug!(binary = %self.binary.display(), command, target = %target.display(), container_id, "running netavark");
        if !input.is_empty() {
            // the JSON last on the line, so the line can be cut at the marker and read back
            tracing::debug!(target: "podnet::netavark", "netavark {command}: sent to netavark: {}", String::from_utf8_lossy(input));
        }
        let status = bounded::status(&mut cmd, &self.binary, command, self.timeout)?;
        drop(cmd);

        let out = read_back(&mut stdout).map_err(spawn_err)?;
        let log = read_back(&mut stderr).map_err(spawn_err)?;
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            tracing::debug!(target: "podnet::netavark", "{line}");
        }
        if !out.trim().is_empty() {
            tracing::debug!(target: "podnet::netavark", "netavark {command}: received from netavark: {}", out.trim());
        }
        if status.success() {
            return Ok(out);
        }
        let message = match serde_json::from_str::<ErrorOutput>(out.trim()) {
            Ok(e) => e.error,
            Err(_) if !out.trim().is_empty() => out.trim().to_string(),
            Err(_) => log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output")
                .to_string(),
        };
        Err(BackendError::Netavark {
            command,
            netns: target.to_path_buf(),
            exit_code: status.code(),
            message,
        })
    }
}

impl Netavark {
    /// The bridges of `options` that no link of the host has, as `survey` (run in the host)
    /// finds them.
    fn bridges_to_make(
        &self,
        options: &NetworkOptions,
        survey: fn(&[String]) -> std::io::Result<Vec<String>>,
    ) -> Result<Vec<String>, BackendError> {
        let bridges = leftovers::bridge_names(options);
        if bridges.is_empty() {
            return Ok(bridges);
        }
        leftovers::in_host(self.host_netns.as_deref(), || survey(&bridges)).map_err(|source| {
            BackendError::Leftovers {
                container_id: options.container_id.clone(),
                source,
            }
        })
    }
}

fn memfile(name: &str) -> std::io::Result<File> {
    let fd: OwnedFd = memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(std::io::Error::from)?;
    Ok(File::from(fd))
}

fn read_back(file: &mut File) -> std::io::Result<String> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Backend for Netavark {
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError> {
        self.prepare(options)?;
        if let Some(aardvark) = self
            .aardvark_binary
            .as_deref()
            .filter(|_| options.dns_enabled())
        {
            aardvark::recover(
                &self.config_dir,
                &self.proc_root,
                &aardvark::comm_of(aardvark),
            )?;
        }
        // one look at the links: which bridges this setup makes, and the others pinned
        let new_bridges = self.bridges_to_make(options, leftovers::missing_pinning_the_rest)?;
        let out = self.run("setup", netns, options)?;
        if !new_bridges.is_empty() {
            let pinned = leftovers::in_host(self.host_netns.as_deref(), || {
                leftovers::pin_bridge_addresses(&new_bridges)
            });
            if let Err(e) = pinned {
                tracing::warn!(bridges = ?new_bridges, error = %e, "could not pin the new bridges' addresses: containers may lose their gateway for seconds when another joins");
            }
        }
        let result = parse_setup_output(&out).map_err(|source| BackendError::BadOutput {
            command: "setup",
            output: out.clone(),
            source,
        })?;
        if !result.keys().eq(options.networks.keys()) {
            return Err(BackendError::ResultMismatch {
                want: options.networks.keys().cloned().collect(),
                got: result.keys().cloned().collect(),
            });
        }
        Ok(result)
    }

    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError> {
        self.prepare(options)?;
        let stale = match self
            .aardvark_binary
            .as_deref()
            .filter(|_| options.dns_enabled())
        {
            Some(aardvark) => matches!(
                aardvark::check(
                    &self.config_dir,
                    &self.proc_root,
                    &aardvark::comm_of(aardvark)
                ),
                Ok(aardvark::PidState::Stale(_))
            ),
            None => false,
        };
        match self.run("teardown", netns, options) {
            // netavark 1.4 removes the interfaces and rules, then fails only
            // because it could not signal the dead aardvark-dns: nothing to undo.
            Err(BackendError::Netavark { message, .. }) if stale && message == AARDVARK_GONE => {
                tracing::warn!(netns = %netns.display(), container_id = %options.container_id, "aardvark-dns was not running during teardown: {message}");
                Ok(())
            }
            other => other.map(drop),
        }
    }

    fn repair_dns(&self) -> Result<Option<String>, BackendError> {
        let Some(aardvark) = self.aardvark_binary.as_deref() else {
            return Ok(None);
        };
        let start = || {
            let mut cmd = Command::new(aardvark);
            cmd.arg("--config")
                .arg(self.config_dir.join("aardvark-dns"))
                .arg("-p")
                .arg(self.dns_port.unwrap_or(53).to_string())
                .arg("run")
                .env("RUST_LOG", self.level())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(host) = &self.host_netns {
                cmd.netns(host).map_err(|source| BackendError::HostNetns {
                    path: host.path().to_path_buf(),
                    source,
                })?;
            }
            let status = bounded::status(&mut cmd, aardvark, "run", self.timeout)?;
            if status.success() {
                Ok(())
            } else {
                Err(BackendError::Netavark {
                    command: "run",
                    netns: self.config_dir.clone(),
                    exit_code: status.code(),
                    message: String::from("aardvark-dns did not start"),
                })
            }
        };
        let restarted = aardvark::restart_if_needed(
            &self.config_dir,
            &self.proc_root,
            &aardvark::comm_of(aardvark),
            start,
        )?;
        Ok(restarted.map(|why| format!("aardvark-dns restarted ({why:?})")))
    }

    fn missing_bridges(&self, options: &NetworkOptions) -> Result<Vec<String>, BackendError> {
        self.bridges_to_make(options, leftovers::missing)
    }

    fn undo_setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        new_bridges: &[String],
    ) -> Result<(), BackendError> {
        if let Err(e) = self.teardown(netns, options) {
            // expected when setup stopped early: the checks below find what is left
            tracing::debug!(container_id = %options.container_id, error = %e, "undo: netavark teardown");
        }
        let mut left = leftovers::remove_interfaces(netns, options);
        if !new_bridges.is_empty() {
            match leftovers::in_host(self.host_netns.as_deref(), || {
                leftovers::remove_idle_bridges(new_bridges)
            }) {
                Ok(bridges) => left.extend(bridges),
                Err(e) => left.push(format!("bridges: {e}")),
            }
        }
        if left.is_empty() {
            Ok(())
        } else {
            Err(BackendError::Undo {
                container_id: options.container_id.clone(),
                left,
            })
        }
    }

    /// ipvlan needs netavark 1.5, the DHCP IPAM driver its proxy (1.6).
    fn check_network(&self, network: &Network) -> Result<(), BackendError> {
        if network.driver == crate::IPVLAN_DRIVER {
            self.require(super::Feature::Ipvlan)?;
        }
        if network.ipam_driver() == "dhcp" {
            self.require(super::Feature::DhcpProxy)?;
        }
        Ok(())
    }

    /// `netavark update NAME --network-dns-servers A,B` as podman 5 runs it (netavark 1.4
    /// rewrites aardvark-dns's file of the network and signals it). Only while aardvark-dns
    /// serves the network (its file exists): otherwise the next setup reads the servers
    /// from the network definition, and netavark would fail on the missing file.
    fn update_dns_servers(&self, network: &Network) -> Result<(), BackendError> {
        let file = self.config_dir.join("aardvark-dns").join(&network.name);
        if self.aardvark_binary.is_none() || !network.dns_enabled || !file.exists() {
            tracing::debug!(network = %network.name, "no aardvark-dns serves the network: nothing to update");
            return Ok(());
        }
        self.require(super::Feature::Update)?;
        let servers: Vec<String> = network
            .network_dns_servers
            .iter()
            .map(ToString::to_string)
            .collect();
        let servers = servers.join(",");
        let args = [
            std::ffi::OsStr::new(&network.name),
            std::ffi::OsStr::new("--network-dns-servers"),
            std::ffi::OsStr::new(&servers),
        ];
        self.exec("update", &args, &[], &file, "")?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "netavark_tests.rs"]
mod tests;
