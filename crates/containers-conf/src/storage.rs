//! podman's storage roots as containers/storage reads them from `storage.conf`: the run
//! root (rootless podman keeps its `ipam.db` in `RUNROOT/networks`) and the graph root
//! (rootless networks in `GRAPHROOT/networks`, the `defaultNetworkBackend` marker).
//!
//! The lookup follows containers/storage's `types/options.go`: the system options come
//! from `CONTAINERS_STORAGE_CONF`, else the administrator's file, else the vendor's; a
//! rootless user starts from `$XDG_RUNTIME_DIR/containers` and the system file's
//! `rootless_storage_path` (else `$XDG_DATA_HOME/containers/storage`); then the file
//! podman itself reads (`CONTAINERS_STORAGE_CONF`, the user's file when rootless, else the
//! system one) replaces them with its `runroot`, `graphroot` (or its
//! `rootless_storage_path`), each unset key keeping the value before it. `$HOME`, `$UID`
//! and `$USER` in a path are expanded. Only these keys are read; every other key of the
//! file is left to containers/storage.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// `CONTAINERS_STORAGE_CONF`: the one storage.conf podman reads when set.
pub const STORAGE_CONF_ENV: &str = "CONTAINERS_STORAGE_CONF";
/// containers/storage's built-in run root for root.
pub const DEFAULT_RUN_ROOT: &str = "/run/containers/storage";
/// containers/storage's built-in graph root for root.
pub const DEFAULT_GRAPH_ROOT: &str = "/var/lib/containers/storage";

const FILE_NAME: &str = "storage.conf";

/// The user a rootless podman runs for, and its directories.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RootlessUser {
    /// The user's uid (`$UID` in paths).
    pub uid: u32,
    /// The user's name (`$USER` in paths).
    pub name: String,
    /// The user's home (`$HOME` in paths).
    pub home: PathBuf,
    /// `$XDG_RUNTIME_DIR` (the default run root is `containers` in it).
    pub runtime_dir: PathBuf,
    /// `$XDG_DATA_HOME`, else `$HOME/.local/share` (the default graph root is
    /// `containers/storage` in it).
    pub data_home: PathBuf,
}

impl RootlessUser {
    /// A user with its data home at `home/.local/share`.
    pub fn new(uid: u32, name: impl Into<String>, home: PathBuf, runtime_dir: PathBuf) -> Self {
        RootlessUser {
            uid,
            name: name.into(),
            data_home: home.join(".local/share"),
            home,
            runtime_dir,
        }
    }
}

/// Where storage.conf files are looked for, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorageSources {
    /// The vendor's file (`/usr/share/containers/storage.conf`).
    pub vendor_file: PathBuf,
    /// The administrator's file (`/etc/containers/storage.conf`).
    pub admin_file: PathBuf,
    /// The user's file (`$XDG_CONFIG_HOME/containers/storage.conf`, else
    /// `$HOME/.config/containers/storage.conf`); read for a rootless user only.
    pub user_file: Option<PathBuf>,
    /// [`STORAGE_CONF_ENV`]'s value.
    pub env_file: Option<PathBuf>,
    /// `None` for root.
    pub rootless: Option<RootlessUser>,
}

/// The two roots podman's storage uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorageRoots {
    /// `runroot`: run-time state, gone at reboot.
    pub run_root: PathBuf,
    /// `graphroot`: images, containers and (rootless) networks.
    pub graph_root: PathBuf,
}

impl StorageSources {
    /// The real files, with the user's file and [`STORAGE_CONF_ENV`] from the environment.
    pub fn system(rootless: Option<RootlessUser>) -> Self {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let user_file = env("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".config")))
            .map(|dir| dir.join("containers").join(FILE_NAME));
        StorageSources {
            vendor_file: Path::new(crate::VENDOR_DIR).join(FILE_NAME),
            admin_file: Path::new(crate::ADMIN_DIR).join(FILE_NAME),
            user_file,
            env_file: env(STORAGE_CONF_ENV).map(PathBuf::from),
            rootless,
        }
    }

    /// The same files below `root` (`root/usr/share/containers`, `root/etc/containers`,
    /// `root/home/.config/containers`); no environment variable is read.
    pub fn under(root: impl AsRef<Path>, rootless: Option<RootlessUser>) -> Self {
        let root = root.as_ref();
        StorageSources {
            vendor_file: root.join("usr/share/containers").join(FILE_NAME),
            admin_file: root.join("etc/containers").join(FILE_NAME),
            user_file: Some(root.join("home/.config/containers").join(FILE_NAME)),
            env_file: None,
            rootless,
        }
    }

    /// podman's run and graph roots.
    ///
    /// ```
    /// use containers_conf::{RootlessUser, StorageSources};
    /// # fn main() -> Result<(), containers_conf::Error> {
    /// let root = tempfile::tempdir().unwrap();
    /// let user = RootlessUser::new(1000, "alice", "/home/alice".into(), "/run/user/1000".into());
    /// let user_conf = root.path().join("home/.config/containers");
    /// std::fs::create_dir_all(&user_conf).unwrap();
    /// std::fs::write(user_conf.join("storage.conf"), "[storage]\ngraphroot = \"$HOME/big/$UID\"\n").unwrap();
    /// let roots = StorageSources::under(root.path(), Some(user)).roots()?;
    /// assert_eq!(roots.graph_root, std::path::Path::new("/home/alice/big/1000"));
    /// assert_eq!(roots.run_root, std::path::Path::new("/run/user/1000/containers"));
    /// # Ok(()) }
    /// ```
    pub fn roots(&self) -> Result<StorageRoots, Error> {
        let system = self.system_options()?;
        let mut roots = match &self.rootless {
            None => StorageRoots {
                run_root: system.runroot.clone().unwrap_or(DEFAULT_RUN_ROOT.into()),
                graph_root: system
                    .graphroot
                    .clone()
                    .unwrap_or(DEFAULT_GRAPH_ROOT.into()),
            },
            Some(user) => StorageRoots {
                run_root: user.runtime_dir.join("containers"),
                graph_root: match &system.rootless_storage_path {
                    Some(path) => self.expand(path),
                    None => user.data_home.join("containers/storage"),
                },
            },
        };
        if let Some(file) = self.podmans_file().filter(|f| f.exists()) {
            let own = read(&file)?;
            if let Some(run) = own.runroot {
                roots.run_root = run;
            }
            if let Some(graph) = own.graphroot.or(own.rootless_storage_path) {
                roots.graph_root = graph;
            }
        }
        roots.run_root = self.expand(&roots.run_root);
        roots.graph_root = self.expand(&roots.graph_root);
        Ok(roots)
    }

    /// The system options: the environment's file, else the administrator's when it
    /// exists, else the vendor's when it exists, else none.
    fn system_options(&self) -> Result<StorageTable, Error> {
        if let Some(file) = &self.env_file {
            return read(file);
        }
        for file in [&self.admin_file, &self.vendor_file] {
            if file.exists() {
                return read(file);
            }
        }
        Ok(StorageTable::default())
    }

    /// The file podman reads for its own options (containers/storage's
    /// `DefaultConfigFile`).
    fn podmans_file(&self) -> Option<PathBuf> {
        if let Some(file) = &self.env_file {
            return Some(file.clone());
        }
        if self.rootless.is_some() {
            return self.user_file.clone();
        }
        [&self.admin_file, &self.vendor_file]
            .into_iter()
            .find(|f| f.exists())
            .cloned()
    }

    /// `$UID`, `$USER` and `$HOME` (also in braces) replaced by the user's; for root,
    /// `0`, `root` and `/root`.
    fn expand(&self, path: &Path) -> PathBuf {
        let (uid, user, home) = match &self.rootless {
            Some(u) => (
                u.uid.to_string(),
                u.name.clone(),
                u.home.display().to_string(),
            ),
            None => ("0".to_string(), "root".to_string(), "/root".to_string()),
        };
        let mut text = path.display().to_string();
        for (name, value) in [("UID", &uid), ("USER", &user), ("HOME", &home)] {
            text = text
                .replace(&format!("${{{name}}}"), value)
                .replace(&format!("${name}"), value);
        }
        PathBuf::from(text)
    }
}

/// The `[storage]` keys podnet needs.
#[derive(Debug, Default, Deserialize)]
struct StorageTable {
    runroot: Option<PathBuf>,
    graphroot: Option<PathBuf>,
    rootless_storage_path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct StorageFile {
    #[serde(default)]
    storage: StorageTable,
}

/// The `[storage]` table of `file` (empty values count as unset, as in Go).
fn read(file: &Path) -> Result<StorageTable, Error> {
    let text = std::fs::read_to_string(file).map_err(|source| Error::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let parsed: StorageFile = toml::from_str(&text).map_err(|e| Error::Syntax {
        path: file.to_path_buf(),
        message: e.message().replace('\n', " "),
    })?;
    let set = |p: Option<PathBuf>| p.filter(|p| !p.as_os_str().is_empty());
    Ok(StorageTable {
        runroot: set(parsed.storage.runroot),
        graphroot: set(parsed.storage.graphroot),
        rootless_storage_path: set(parsed.storage.rootless_storage_path),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn alice() -> RootlessUser {
        RootlessUser::new(1000, "alice", "/home/alice".into(), "/run/user/1000".into())
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn roots(sources: &StorageSources) -> (PathBuf, PathBuf) {
        let r = sources.roots().unwrap();
        (r.run_root, r.graph_root)
    }

    #[test]
    fn without_files_the_built_in_roots() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            roots(&StorageSources::under(tmp.path(), None)),
            (DEFAULT_RUN_ROOT.into(), DEFAULT_GRAPH_ROOT.into())
        );
        assert_eq!(
            roots(&StorageSources::under(tmp.path(), Some(alice()))),
            (
                "/run/user/1000/containers".into(),
                "/home/alice/.local/share/containers/storage".into()
            )
        );
    }

    #[test]
    fn root_reads_the_admin_file_before_the_vendor_one() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "usr/share/containers/storage.conf",
            "[storage]\ndriver = \"overlay\"\nrunroot = \"/run/vendor\"\ngraphroot = \"/var/vendor\"\n",
        );
        let sources = StorageSources::under(tmp.path(), None);
        assert_eq!(
            roots(&sources),
            ("/run/vendor".into(), "/var/vendor".into())
        );
        // the admin file replaces the vendor's whole; an unset key is the built-in one
        write(
            tmp.path(),
            "etc/containers/storage.conf",
            "[storage]\ngraphroot = \"/srv/containers\"\n[storage.options]\nmount_program = \"x\"\n",
        );
        assert_eq!(
            roots(&sources),
            (DEFAULT_RUN_ROOT.into(), "/srv/containers".into())
        );
    }

    #[test]
    fn rootless_takes_the_system_rootless_storage_path_and_its_own_file() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "etc/containers/storage.conf",
            "[storage]\nrunroot = \"/run/sys\"\ngraphroot = \"/var/sys\"\nrootless_storage_path = \"/data/$USER/${UID}\"\n",
        );
        let sources = StorageSources::under(tmp.path(), Some(alice()));
        // the system's runroot and graphroot are root's: not taken
        assert_eq!(
            roots(&sources),
            (
                "/run/user/1000/containers".into(),
                "/data/alice/1000".into()
            )
        );
        write(
            tmp.path(),
            "home/.config/containers/storage.conf",
            "[storage]\nrunroot = \"$HOME/run\"\n",
        );
        assert_eq!(
            roots(&sources),
            ("/home/alice/run".into(), "/data/alice/1000".into())
        );
        write(
            tmp.path(),
            "home/.config/containers/storage.conf",
            "[storage]\nrootless_storage_path = \"/fast/$USER\"\n",
        );
        assert_eq!(
            roots(&sources),
            ("/run/user/1000/containers".into(), "/fast/alice".into())
        );
    }

    #[test]
    fn the_environments_file_is_the_only_one_and_a_bad_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "etc/containers/storage.conf",
            "[storage]\ngraphroot = \"/var/admin\"\n",
        );
        write(
            tmp.path(),
            "env.conf",
            "[storage]\ngraphroot = \"/var/env\"\n",
        );
        let mut sources = StorageSources::under(tmp.path(), None);
        sources.env_file = Some(tmp.path().join("env.conf"));
        assert_eq!(
            roots(&sources),
            (DEFAULT_RUN_ROOT.into(), "/var/env".into())
        );

        write(tmp.path(), "env.conf", "[storage\n");
        let err = sources.roots().unwrap_err().to_string();
        assert!(
            err.contains("env.conf") && err.contains("not valid TOML"),
            "{err}"
        );
        sources.env_file = Some(tmp.path().join("missing.conf"));
        let err = sources.roots().unwrap_err().to_string();
        assert!(err.contains("missing.conf"), "{err}");
    }
}
