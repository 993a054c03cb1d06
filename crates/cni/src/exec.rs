//! The seam between the runtime and plugin processes ([`PluginExec`], libcni's `invoke.Exec`),
//! its real implementation ([`ProcessExec`]), and the plugin search (libcni's `FindInPath`:
//! the first regular file named after the plugin type in the plugin directories, in order).

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::{self, RunFailure};
use crate::Command;

/// The `CNI_*` environment of one invocation.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PluginEnv<'a> {
    /// `CNI_COMMAND`.
    pub command: Command,
    /// `CNI_CONTAINERID`.
    pub container_id: &'a str,
    /// `CNI_NETNS`.
    pub netns: &'a OsStr,
    /// `CNI_IFNAME`.
    pub ifname: &'a str,
    /// `CNI_ARGS`.
    pub args: &'a str,
    /// `CNI_PATH`: the plugin directories, `:`-separated.
    pub path: &'a OsStr,
}

impl<'a> PluginEnv<'a> {
    /// The variables, added to (and overriding) the runtime's own environment.
    pub fn vars(&self) -> [(&'static str, &'a OsStr); 6] {
        [
            ("CNI_COMMAND", OsStr::new(self.command.as_str())),
            ("CNI_CONTAINERID", OsStr::new(self.container_id)),
            ("CNI_NETNS", self.netns),
            ("CNI_ARGS", OsStr::new(self.args)),
            ("CNI_IFNAME", OsStr::new(self.ifname)),
            ("CNI_PATH", self.path),
        ]
    }
}

/// Why one plugin invocation did not succeed.
#[derive(Debug)]
pub enum ExecFailure {
    /// The plugin could not be started or talked to.
    Io(io::Error),
    /// It did not finish within the time limit and was killed.
    TimedOut,
    /// It exited unsuccessfully; stdout should hold a CNI error.
    Failed {
        /// How it exited (`exit status: 1`, `signal: 9`).
        status: String,
        /// What it printed on stdout.
        stdout: Vec<u8>,
        /// What it printed on stderr.
        stderr: Vec<u8>,
    },
}

/// Runs plugins. The runtime calls this for every invocation; tests and benches substitute
/// their own to leave processes out.
pub trait PluginExec: Send + Sync {
    /// Runs the plugin at `plugin` with `stdin` and `env`, killing it after `limit`; returns
    /// what it printed on stdout when it succeeded.
    fn exec(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &PluginEnv<'_>,
        limit: Duration,
    ) -> Result<Vec<u8>, ExecFailure>;
}

/// Plugins as processes (the default), with this process's environment plus the `CNI_*`
/// variables, and `PATH` replaced when one is given.
#[derive(Debug, Clone, Default)]
pub struct ProcessExec {
    path: Option<std::ffi::OsString>,
}

impl ProcessExec {
    /// Plugins get `path` as their `PATH`: the reference plugins run `iptables` (in an sbin
    /// directory) by name, and a user's login shell may have no sbin directory on its
    /// `PATH` (podman adds `/usr/sbin` to its own for this reason).
    ///
    /// ```
    /// let rt = cni::Runtime::new(cni::DEFAULT_PLUGIN_DIRS)
    ///     .with_exec(cni::ProcessExec::with_path("/usr/bin:/bin:/usr/sbin:/sbin"));
    /// # drop(rt);
    /// ```
    pub fn with_path(path: impl Into<std::ffi::OsString>) -> Self {
        ProcessExec {
            path: Some(path.into()),
        }
    }
}

impl PluginExec for ProcessExec {
    fn exec(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &PluginEnv<'_>,
        limit: Duration,
    ) -> Result<Vec<u8>, ExecFailure> {
        let path = self.path.as_deref().map(|p| ("PATH", p));
        let vars = env.vars().into_iter().chain(path);
        match process::run(plugin, stdin, vars, limit) {
            Ok(done) if done.status.success() => {
                if !done.stderr.is_empty() {
                    tracing::debug!(
                        plugin = %plugin.display(),
                        stderr = %String::from_utf8_lossy(&done.stderr),
                        "plugin wrote to stderr"
                    );
                }
                Ok(done.stdout)
            }
            Ok(done) => Err(ExecFailure::Failed {
                status: done.status.to_string(),
                stdout: done.stdout,
                stderr: done.stderr,
            }),
            Err(RunFailure::Io(e)) => Err(ExecFailure::Io(e)),
            Err(RunFailure::TimedOut) => Err(ExecFailure::TimedOut),
        }
    }
}

/// The plugin executable for `plugin_type`: the first regular file of that name in `dirs`.
pub fn find_plugin(plugin_type: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    if plugin_type.is_empty() || plugin_type.contains('/') {
        return None;
    }
    dirs.iter()
        .map(|dir| dir.join(plugin_type))
        .find(|path| std::fs::metadata(path).is_ok_and(|m| m.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_directory_holding_a_regular_file_wins() {
        let a = tempfile::tempdir().expect("a");
        let b = tempfile::tempdir().expect("b");
        std::fs::create_dir(a.path().join("bridge")).expect("a dir is not a plugin");
        std::fs::write(b.path().join("bridge"), "").expect("file");
        std::fs::write(a.path().join("tuning"), "").expect("file");
        std::fs::write(b.path().join("tuning"), "").expect("file");
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(find_plugin("bridge", &dirs), Some(b.path().join("bridge")));
        assert_eq!(find_plugin("tuning", &dirs), Some(a.path().join("tuning")));
        assert_eq!(find_plugin("portmap", &dirs), None);
        assert_eq!(find_plugin("../b/tuning", &dirs), None);
        assert_eq!(find_plugin("", &dirs), None);
    }
}
