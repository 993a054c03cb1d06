//! The runtime: runs a network's plugin chain for ADD (in order, each plugin's result the
//! next one's `prevResult`), CHECK and DEL (reverse order, with the cached ADD result), keeps
//! libcni's result cache, asks plugins for VERSION, and turns every failure into an
//! [`Error`] naming the plugin, network and command.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::CacheEntry;
use crate::exec::{find_plugin, ExecFailure, PluginEnv, PluginExec, ProcessExec};
use crate::inject::plugin_stdin;
use crate::names::{check_container_id, check_ifname, check_network_name};
use crate::{
    CniResult, Command, Error, NetworkConfigList, PluginConfig, RuntimeConf, SpecVersion,
    VersionInfo,
};

/// Where plugins are looked for when nothing is configured: containers.conf's default
/// `cni_plugin_dirs` (Debian's package installs to `/usr/lib/cni`).
pub const DEFAULT_PLUGIN_DIRS: [&str; 5] = [
    "/usr/local/libexec/cni",
    "/usr/libexec/cni",
    "/usr/local/lib/cni",
    "/usr/lib/cni",
    "/opt/cni/bin",
];

/// libcni's cache directory.
pub const DEFAULT_CACHE_DIR: &str = "/var/lib/cni";

/// The default time limit of one plugin invocation.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(60);

/// A CNI runtime: plugin directories, a cache directory, a time limit, and how plugins run.
pub struct Runtime {
    plugin_dirs: Vec<PathBuf>,
    cni_path: OsString,
    cache_dir: PathBuf,
    limit: Duration,
    exec: Box<dyn PluginExec>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("plugin_dirs", &self.plugin_dirs)
            .field("cache_dir", &self.cache_dir)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Splits a `CNI_PATH`-style list (`:`-separated; empty parts are skipped).
pub fn split_path_list(list: &std::ffi::OsStr) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

impl Runtime {
    /// A runtime looking for plugins in `plugin_dirs` (in order), with libcni's cache
    /// directory and the default time limit.
    pub fn new(plugin_dirs: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        let plugin_dirs: Vec<PathBuf> = plugin_dirs.into_iter().map(Into::into).collect();
        let cni_path = std::env::join_paths(&plugin_dirs).unwrap_or_else(|_| OsString::from(""));
        Runtime {
            plugin_dirs,
            cni_path,
            cache_dir: PathBuf::from(DEFAULT_CACHE_DIR),
            limit: DEFAULT_TIME_LIMIT,
            exec: Box::new(ProcessExec::default()),
        }
    }

    /// Uses `dir` instead of `/var/lib/cni` for the result cache.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = dir.into();
        self
    }

    /// Kills a plugin that runs longer than `limit`.
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Runs plugins through `exec` instead of as processes.
    pub fn with_exec(mut self, exec: impl PluginExec + 'static) -> Self {
        self.exec = Box::new(exec);
        self
    }

    /// The plugin directories, in search order.
    pub fn plugin_dirs(&self) -> &[PathBuf] {
        &self.plugin_dirs
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Attaches a container: runs every plugin's ADD in order and caches the final result.
    /// On failure the plugins already run (and the failing one) get a DEL in reverse order,
    /// nothing is cached, and the original error is returned.
    pub fn add(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<CniResult, Error> {
        check_attachment(list.name(), rt)?;
        let version = list.cni_version();
        if !version.has_typed_result() {
            return Err(Error::UnsupportedVersion {
                network: list.name().into(),
                version: version.to_string(),
                reason: "results of 0.1.0 and 0.2.0 (ip4/ip6) are not supported",
            });
        }
        let paths = self.resolve(list, Command::Add)?;
        let mut prev: Option<CniResult> = None;
        for (i, (plugin, path)) in list.plugins().iter().zip(&paths).enumerate() {
            let step = self
                .invoke(list, plugin, path, Command::Add, prev.as_ref(), rt)
                .and_then(|out| {
                    let result = CniResult::from_plugin_output(&out, version)
                        .map_err(|reason| bad_result(list, plugin, Command::Add, reason))?;
                    result
                        .convert_to(version)
                        .map_err(|reason| bad_result(list, plugin, Command::Add, reason))
                });
            match step {
                Ok(result) => prev = Some(result),
                Err(e) => {
                    self.roll_back(list, &paths[..=i], prev.as_ref(), rt);
                    return Err(e);
                }
            }
        }
        let result = prev.unwrap_or_else(|| CniResult::empty(version));
        let cached = CacheEntry::new(list.name(), list.bytes(), rt, &result)
            .map_err(|e| Error::BadCache {
                path: self.entry_path(list.name(), rt),
                reason: e.to_string(),
            })
            .and_then(|entry| entry.write(&self.cache_dir));
        if let Err(e) = cached {
            self.roll_back(list, &paths, Some(&result), rt);
            return Err(e);
        }
        tracing::info!(network = list.name(), container_id = %rt.container_id, ifname = %rt.ifname, "CNI ADD done");
        Ok(result)
    }

    /// Undoes a failed ADD: DEL for `done` plugins in reverse order, errors logged.
    fn roll_back(
        &self,
        list: &NetworkConfigList,
        done: &[PathBuf],
        prev: Option<&CniResult>,
        rt: &RuntimeConf,
    ) {
        for (plugin, path) in list.plugins()[..done.len()].iter().zip(done).rev() {
            if let Err(e) = self.invoke(list, plugin, path, Command::Del, prev, rt) {
                tracing::warn!(network = list.name(), plugin = plugin.plugin_type(), error = %e, "rolling back a failed ADD");
            }
        }
    }

    /// Verifies an attachment: every plugin's CHECK in order, with the cached ADD result.
    /// A network with `disableCheck` passes without running anything.
    pub fn check(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<(), Error> {
        check_attachment(list.name(), rt)?;
        let version = list.cni_version();
        if !version.supports_check() {
            return Err(Error::CommandUnsupported {
                network: list.name().into(),
                version: version.to_string(),
                command: Command::Check,
            });
        }
        if list.disable_check() {
            return Ok(());
        }
        let paths = self.resolve(list, Command::Check)?;
        let Some(cached) = self.cached_result(list, rt)? else {
            return Err(Error::NotCached {
                network: list.name().into(),
                container_id: rt.container_id.clone(),
                ifname: rt.ifname.clone(),
                dir: self.cache_dir.clone(),
            });
        };
        for (plugin, path) in list.plugins().iter().zip(&paths) {
            self.invoke(list, plugin, path, Command::Check, Some(&cached), rt)?;
        }
        Ok(())
    }

    /// Detaches a container: every plugin's DEL in reverse order (from 0.4.0 with the cached
    /// ADD result as `prevResult`), then the cache entry is removed. Every plugin gets its
    /// DEL even after another one failed; then the first error is returned and the cache
    /// entry is kept, so the DEL can be retried.
    pub fn del(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<(), Error> {
        check_attachment(list.name(), rt)?;
        let paths = self.resolve(list, Command::Del)?;
        let cached = if list.cni_version().del_gets_cached_result() {
            self.cached_result(list, rt)?
        } else {
            None
        };
        let mut first_error = None;
        for (plugin, path) in list.plugins().iter().zip(&paths).rev() {
            if let Err(e) = self.invoke(list, plugin, path, Command::Del, cached.as_ref(), rt) {
                tracing::warn!(network = list.name(), plugin = plugin.plugin_type(), error = %e, "CNI DEL failed");
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        CacheEntry::remove(&self.cache_dir, list.name(), &rt.container_id, &rt.ifname)?;
        tracing::info!(network = list.name(), container_id = %rt.container_id, ifname = %rt.ifname, "CNI DEL done");
        Ok(())
    }

    /// Detaches a container using only the cache: the configuration, `CNI_ARGS` and
    /// capability arguments of the ADD (as podman does after a restart, or when the network
    /// file is gone). `rt` gives the container id, netns and interface name.
    pub fn del_cached(&self, network: &str, rt: &RuntimeConf) -> Result<(), Error> {
        let (list, cached_rt) = self.cached_config(network, rt)?;
        self.del(&list, &cached_rt)
    }

    /// The configuration and runtime arguments an ADD cached, as libcni's
    /// `GetNetworkListCachedConfig` gives them.
    pub fn cached_config(
        &self,
        network: &str,
        rt: &RuntimeConf,
    ) -> Result<(NetworkConfigList, RuntimeConf), Error> {
        check_attachment(network, rt)?;
        let path = self.entry_path(network, rt);
        let entry = CacheEntry::read(&self.cache_dir, network, &rt.container_id, &rt.ifname)?
            .ok_or_else(|| Error::NotCached {
                network: network.into(),
                container_id: rt.container_id.clone(),
                ifname: rt.ifname.clone(),
                dir: self.cache_dir.clone(),
            })?;
        if entry.config.is_empty() {
            return Err(Error::BadCache {
                path,
                reason: "a legacy entry holds no configuration".into(),
            });
        }
        let list =
            NetworkConfigList::from_conflist_bytes(&entry.config, &path.display().to_string())?;
        Ok((list, entry.runtime_conf(rt)))
    }

    /// The cached ADD result of an attachment, in the network's version (libcni's
    /// `GetNetworkListCachedResult`); `None` when nothing is cached.
    pub fn cached_result(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<CniResult>, Error> {
        let path = self.entry_path(list.name(), rt);
        let Some(entry) =
            CacheEntry::read(&self.cache_dir, list.name(), &rt.container_id, &rt.ifname)?
        else {
            return Ok(None);
        };
        let Some(result) = entry.typed_result().map_err(|reason| Error::BadCache {
            path: path.clone(),
            reason,
        })?
        else {
            return Ok(None);
        };
        result
            .convert_to(list.cni_version())
            .map(Some)
            .map_err(|reason| Error::Convert {
                network: list.name().into(),
                from: result.cni_version.to_string(),
                to: list.cni_version().to_string(),
                reason,
            })
    }

    /// Asks a plugin which configuration versions it accepts.
    pub fn version_info(&self, plugin_type: &str) -> Result<VersionInfo, Error> {
        let network = "";
        let path =
            find_plugin(plugin_type, &self.plugin_dirs).ok_or_else(|| Error::PluginNotFound {
                plugin: plugin_type.into(),
                network: network.into(),
                command: Command::Version,
                dirs: self.cni_path.to_string_lossy().into_owned(),
            })?;
        let stdin = format!(r#"{{"cniVersion":"{}"}}"#, SpecVersion::LATEST);
        // plugins built on old skel versions insist on these being set
        let env = PluginEnv {
            command: Command::Version,
            container_id: "",
            netns: "dummy".as_ref(),
            ifname: "dummy",
            args: "",
            path: "dummy".as_ref(),
        };
        let out = self
            .exec
            .exec(&path, stdin.as_bytes(), &env, self.limit)
            .map_err(|f| exec_error(plugin_type, network, Command::Version, self.limit, f))?;
        serde_json::from_slice(&out).map_err(|e| Error::BadResult {
            plugin: plugin_type.into(),
            network: network.into(),
            command: Command::Version,
            reason: e.to_string(),
        })
    }

    /// Checks that every plugin of `list` exists and accepts its version; returns the
    /// capabilities the chain declares (sorted, without repeats).
    pub fn validate(&self, list: &NetworkConfigList) -> Result<Vec<String>, Error> {
        self.resolve(list, Command::Version)?;
        let mut caps: Vec<String> = Vec::new();
        for plugin in list.plugins() {
            let info = self.version_info(plugin.plugin_type())?;
            if !info.supports(list.cni_version()) {
                return Err(Error::Plugin {
                    plugin: plugin.plugin_type().into(),
                    network: list.name().into(),
                    command: Command::Version,
                    code: 1,
                    msg: format!(
                        "does not support config version {} (supports {})",
                        list.cni_version(),
                        info.supported_versions.join(", ")
                    ),
                    details: String::new(),
                });
            }
            caps.extend(plugin.capabilities().map(str::to_string));
        }
        caps.sort();
        caps.dedup();
        Ok(caps)
    }

    fn entry_path(&self, network: &str, rt: &RuntimeConf) -> PathBuf {
        crate::cache::entry_path(&self.cache_dir, network, &rt.container_id, &rt.ifname)
    }

    /// Finds every plugin of the chain before anything runs.
    fn resolve(&self, list: &NetworkConfigList, command: Command) -> Result<Vec<PathBuf>, Error> {
        list.plugins()
            .iter()
            .map(|plugin| {
                find_plugin(plugin.plugin_type(), &self.plugin_dirs).ok_or_else(|| {
                    Error::PluginNotFound {
                        plugin: plugin.plugin_type().into(),
                        network: list.name().into(),
                        command,
                        dirs: self.cni_path.to_string_lossy().into_owned(),
                    }
                })
            })
            .collect()
    }

    fn invoke(
        &self,
        list: &NetworkConfigList,
        plugin: &PluginConfig,
        path: &Path,
        command: Command,
        prev: Option<&CniResult>,
        rt: &RuntimeConf,
    ) -> Result<Vec<u8>, Error> {
        let stdin = plugin_stdin(list.name(), list.cni_version(), plugin, prev, rt)
            .map_err(|e| bad_result(list, plugin, command, format!("building stdin: {e}")))?;
        let args = rt.args_string();
        let env = PluginEnv {
            command,
            container_id: &rt.container_id,
            netns: rt.netns.as_os_str(),
            ifname: &rt.ifname,
            args: &args,
            path: &self.cni_path,
        };
        tracing::debug!(network = list.name(), plugin = plugin.plugin_type(), %command, container_id = %rt.container_id, "running CNI plugin");
        self.exec
            .exec(path, &stdin, &env, self.limit)
            .map_err(|f| exec_error(plugin.plugin_type(), list.name(), command, self.limit, f))
    }
}

fn check_attachment(network: &str, rt: &RuntimeConf) -> Result<(), Error> {
    let invalid = |what, value: &str, reason| Error::InvalidName {
        what,
        value: value.to_string(),
        reason,
    };
    check_container_id(&rt.container_id)
        .map_err(|why| invalid("container id", &rt.container_id, why))?;
    check_network_name(network).map_err(|why| invalid("network name", network, why))?;
    check_ifname(&rt.ifname).map_err(|why| invalid("interface name", &rt.ifname, why))
}

fn bad_result(
    list: &NetworkConfigList,
    plugin: &PluginConfig,
    command: Command,
    reason: String,
) -> Error {
    Error::BadResult {
        plugin: plugin.plugin_type().into(),
        network: list.name().into(),
        command,
        reason,
    }
}

/// A CNI error as plugins print it on stdout.
#[derive(serde::Deserialize)]
struct WireError {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    details: String,
}

fn exec_error(
    plugin: &str,
    network: &str,
    command: Command,
    limit: Duration,
    failure: ExecFailure,
) -> Error {
    let (plugin, network) = (plugin.to_string(), network.to_string());
    match failure {
        ExecFailure::Io(source) => Error::Exec {
            plugin,
            network,
            command,
            source,
        },
        ExecFailure::TimedOut => Error::Timeout {
            plugin,
            network,
            command,
            limit,
        },
        ExecFailure::Failed {
            status,
            stdout,
            stderr,
        } => {
            // libcni's reading of a failed plugin's output
            let parsed = (!stdout.is_empty()).then(|| serde_json::from_slice::<WireError>(&stdout));
            let (code, msg, details) = match parsed {
                Some(Ok(e)) => (e.code, e.msg, e.details),
                Some(Err(e)) => (
                    0,
                    format!(
                        "{status}, and its output is not a CNI error ({e}): {:?}",
                        String::from_utf8_lossy(&stdout)
                    ),
                    String::new(),
                ),
                None if stderr.is_empty() => {
                    (0, format!("{status} with no error message"), String::new())
                }
                None => (
                    0,
                    format!(
                        "{status}: {:?}",
                        String::from_utf8_lossy(&stderr).trim_end()
                    ),
                    String::new(),
                ),
            };
            Error::Plugin {
                plugin,
                network,
                command,
                code,
                msg,
                details,
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    //! Error texts for the flow tests.
    use super::*;

    pub(crate) fn exec_error_text(failure: ExecFailure) -> String {
        exec_error("p", "n", Command::Add, Duration::from_secs(2), failure).to_string()
    }
}
