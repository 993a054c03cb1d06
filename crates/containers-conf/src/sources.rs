//! Which containers.conf files are read, and in which order ([`Sources::files`]).
//!
//! Every directory is a field of [`Sources`], so tests point them into a temporary
//! directory ([`Sources::under`]) and never read the real `/etc`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::Error;

/// The vendor's directory (`/usr/share/containers`): the distribution's defaults.
pub const VENDOR_DIR: &str = "/usr/share/containers";
/// The administrator's directory (`/etc/containers`).
pub const ADMIN_DIR: &str = "/etc/containers";
/// `CONTAINERS_CONF`: one file that replaces the whole chain of system and user files.
pub const CONTAINERS_CONF_ENV: &str = "CONTAINERS_CONF";
/// `CONTAINERS_CONF_OVERRIDE`: one file read after everything else.
pub const CONTAINERS_CONF_OVERRIDE_ENV: &str = "CONTAINERS_CONF_OVERRIDE";

const FILE_NAME: &str = "containers.conf";

/// The lookup rules of one generation of the Go library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// containers/common v0.58 to v0.66 (podman 5.x; also what podman 4.3 reads for a
    /// root user without a user file): the vendor file, the admin file, the admin
    /// `containers.conf.d/`; for a uid above 0 the admin `containers.rootless.conf`,
    /// `containers.rootless.conf.d/` and `containers.rootless.conf.d/<uid>/`; then the
    /// user's file and its `containers.conf.d/`. Every file found is read in turn.
    #[default]
    Common,
    /// go.podman.io's `configfile` (podman 6): only the first of the user's, the
    /// admin's and the vendor's `containers.conf` is read; the drop-ins of
    /// `containers.conf.d/`, `containers.rootful.conf.d/` (uid 0) or
    /// `containers.rootless.conf.d/` and `containers.rootless.conf.d/<uid>/` (uid above
    /// 0) under the vendor and admin directories, and the user's `containers.conf.d/`,
    /// are merged by file name (a later directory replaces an earlier file of the same
    /// name) and read in file-name order.
    ConfigFile,
}

/// Where containers.conf files are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sources {
    /// The vendor's directory ([`VENDOR_DIR`]).
    pub vendor_dir: PathBuf,
    /// The administrator's directory ([`ADMIN_DIR`]).
    pub admin_dir: PathBuf,
    /// The user's directory (`$XDG_CONFIG_HOME/containers`, else
    /// `$HOME/.config/containers`); `None` when neither variable is set.
    pub user_dir: Option<PathBuf>,
    /// The user podman runs for (the rootless uid; 0 for root).
    pub uid: u32,
    /// [`CONTAINERS_CONF_ENV`]'s value.
    pub containers_conf: Option<PathBuf>,
    /// [`CONTAINERS_CONF_OVERRIDE_ENV`]'s value.
    pub containers_conf_override: Option<PathBuf>,
    /// Modules (`podman --module NAME`): an absolute path, or a name looked up in the
    /// user's (uid above 0 only), the admin's and the vendor's `containers.conf.modules/`.
    pub modules: Vec<String>,
    /// The lookup rules.
    pub layout: Layout,
}

impl Sources {
    /// The real locations for `uid` (the rootless user's uid, 0 for root), with the user
    /// directory and the two `CONTAINERS_CONF*` variables taken from the environment.
    pub fn system(uid: u32) -> Self {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let user_dir = env("XDG_CONFIG_HOME")
            .map(|dir| PathBuf::from(dir).join("containers"))
            .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".config/containers")));
        Self {
            vendor_dir: VENDOR_DIR.into(),
            admin_dir: ADMIN_DIR.into(),
            user_dir,
            uid,
            containers_conf: env(CONTAINERS_CONF_ENV).map(PathBuf::from),
            containers_conf_override: env(CONTAINERS_CONF_OVERRIDE_ENV).map(PathBuf::from),
            modules: Vec::new(),
            layout: Layout::default(),
        }
    }

    /// The same tree below `root`: `root/usr/share/containers`, `root/etc/containers`,
    /// `root/home/.config/containers`; no environment variable is read.
    pub fn under(root: impl AsRef<Path>, uid: u32) -> Self {
        let root = root.as_ref();
        Self {
            vendor_dir: root.join("usr/share/containers"),
            admin_dir: root.join("etc/containers"),
            user_dir: Some(root.join("home/.config/containers")),
            uid,
            containers_conf: None,
            containers_conf_override: None,
            modules: Vec::new(),
            layout: Layout::default(),
        }
    }

    /// The files to read, in order (later ones override earlier ones key by key).
    /// Missing files and drop-in directories are skipped; a `CONTAINERS_CONF*` file or
    /// a module that does not exist is an error, as in podman.
    pub fn files(&self) -> Result<Vec<PathBuf>, Error> {
        let mut files = match (&self.containers_conf, self.layout) {
            (Some(path), _) => vec![env_file(CONTAINERS_CONF_ENV, path)?],
            (None, Layout::Common) => self.common_chain()?,
            (None, Layout::ConfigFile) => self.configfile_chain()?,
        };
        for module in &self.modules {
            files.push(self.resolve_module(module)?);
        }
        if let Some(path) = &self.containers_conf_override {
            files.push(env_file(CONTAINERS_CONF_OVERRIDE_ENV, path)?);
        }
        Ok(files)
    }

    fn common_chain(&self) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        push_if_file(&mut files, self.vendor_dir.join(FILE_NAME));
        push_if_file(&mut files, self.admin_dir.join(FILE_NAME));
        files.extend(drop_ins(&self.admin_dir.join("containers.conf.d"))?);
        if self.uid > 0 {
            push_if_file(&mut files, self.admin_dir.join("containers.rootless.conf"));
            let dir = self.admin_dir.join("containers.rootless.conf.d");
            files.extend(drop_ins(&dir)?);
            files.extend(drop_ins(&dir.join(self.uid.to_string()))?);
        }
        if let Some(user) = &self.user_dir {
            push_if_file(&mut files, user.join(FILE_NAME));
            files.extend(drop_ins(&user.join("containers.conf.d"))?);
        }
        Ok(files)
    }

    fn configfile_chain(&self) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        let mains = self
            .user_dir
            .iter()
            .chain([&self.admin_dir, &self.vendor_dir]);
        if let Some(main) = mains.map(|d| d.join(FILE_NAME)).find(|p| p.is_file()) {
            files.push(main);
        }
        let special = if self.uid > 0 { "rootless" } else { "rootful" };
        let mut dirs = Vec::new();
        for base in [&self.vendor_dir, &self.admin_dir] {
            dirs.push(base.join("containers.conf.d"));
            let dir = base.join(format!("containers.{special}.conf.d"));
            if self.uid > 0 {
                dirs.push(dir.clone());
                dirs.push(dir.join(self.uid.to_string()));
            } else {
                dirs.push(dir);
            }
        }
        dirs.extend(self.user_dir.iter().map(|d| d.join("containers.conf.d")));
        // A later directory's file replaces an earlier one of the same name; the
        // survivors are read in file-name order, wherever they live.
        let mut by_name = std::collections::BTreeMap::new();
        for dir in &dirs {
            for file in drop_ins(dir)? {
                if let Some(name) = file.file_name() {
                    by_name.insert(name.to_os_string(), file);
                }
            }
        }
        files.extend(by_name.into_values());
        Ok(files)
    }

    fn module_dirs(&self) -> Vec<PathBuf> {
        let user = self.user_dir.iter().filter(|_| self.uid > 0);
        user.chain([&self.admin_dir, &self.vendor_dir])
            .map(|d| d.join("containers.conf.modules"))
            .collect()
    }

    fn resolve_module(&self, module: &str) -> Result<PathBuf, Error> {
        let candidates: Vec<PathBuf> = if Path::new(module).is_absolute() {
            vec![PathBuf::from(module)]
        } else {
            self.module_dirs().iter().map(|d| d.join(module)).collect()
        };
        candidates
            .iter()
            .find(|p| p.exists())
            .cloned()
            .ok_or_else(|| Error::ModuleNotFound {
                name: module.to_string(),
                searched: candidates,
            })
    }
}

fn env_file(var: &'static str, path: &Path) -> Result<PathBuf, Error> {
    std::fs::metadata(path).map_err(|source| Error::EnvFile {
        var,
        path: path.to_path_buf(),
        source,
    })?;
    Ok(path.to_path_buf())
}

fn push_if_file(files: &mut Vec<PathBuf>, path: PathBuf) {
    if path.is_file() {
        files.push(path);
    }
}

/// The `*.conf` entries of `dir` that are not directories, sorted by name as Go's
/// `os.ReadDir` sorts them (bytewise); nothing when `dir` does not exist.
fn drop_ins(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read_dir_err = |source| Error::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_dir_err(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_dir_err)?;
        let is_dir = entry.file_type().map_err(read_dir_err)?.is_dir();
        let name = entry.file_name();
        if !is_dir && has_conf_suffix(&name) {
            files.push(entry.path());
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn has_conf_suffix(name: &OsStr) -> bool {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().ends_with(b".conf")
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
