//! Loading networks from a configuration directory the way libcni's `LoadConfList` does:
//! `.conflist` files first, in sorted file-name order, then `.conf` and `.json` files (sorted)
//! promoted to one-plugin lists; the first file with the wanted name wins.

use std::path::{Path, PathBuf};

use crate::{Error, NetworkConfigList};

/// Lists the regular files of `dir` with one of `extensions`, sorted by name; a missing
/// directory has none.
fn conf_files(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::ReadConfig {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadConfig {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            continue;
        }
        if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|want| e == *want))
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Every configuration file of `dir` in libcni's search order.
fn search_order(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files = conf_files(dir, &["conflist"])?;
    files.extend(conf_files(dir, &["conf", "json"])?);
    Ok(files)
}

/// Finds the network `name` in `dir` (libcni's `LoadConfList`): the first file in search
/// order whose network has that name. As in libcni, an invalid file met before the match is
/// an error.
pub fn load_network(dir: &Path, name: &str) -> Result<NetworkConfigList, Error> {
    for file in search_order(dir)? {
        let list = NetworkConfigList::from_file(&file)?;
        if list.name() == name {
            return Ok(list);
        }
    }
    Err(Error::NetworkNotFound {
        network: name.to_string(),
        dir: dir.to_path_buf(),
    })
}

/// What [`load_networks`] found in a directory.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct LoadedNetworks {
    /// The valid networks with their files, one per name (the first in search order), in
    /// search order.
    pub networks: Vec<(PathBuf, NetworkConfigList)>,
    /// Files that were skipped: invalid, or a name already taken by an earlier file.
    pub skipped: Vec<(PathBuf, Error)>,
}

/// Loads every network of `dir`, skipping (and reporting) invalid files and later files that
/// repeat a name, as a runtime listing its networks does.
pub fn load_networks(dir: &Path) -> Result<LoadedNetworks, Error> {
    let mut loaded = LoadedNetworks::default();
    for file in search_order(dir)? {
        match NetworkConfigList::from_file(&file) {
            Ok(list) => {
                let earlier = loaded
                    .networks
                    .iter()
                    .find(|(_, l)| l.name() == list.name())
                    .map(|(p, _)| p.clone());
                match earlier {
                    Some(first) => {
                        tracing::debug!(file = %file.display(), network = list.name(), "skipped: name already defined");
                        loaded.skipped.push((
                            file.clone(),
                            Error::InvalidConfig {
                                origin: file.display().to_string(),
                                reason: format!(
                                    "network {:?} is already defined by {}",
                                    list.name(),
                                    first.display()
                                ),
                            },
                        ));
                    }
                    None => loaded.networks.push((file, list)),
                }
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "skipped an invalid CNI configuration");
                loaded.skipped.push((file, e));
            }
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        std::fs::write(dir.join(file), text).expect("write fixture");
    }

    fn list(name: &str, plugin: &str) -> String {
        format!(r#"{{"cniVersion":"0.4.0","name":"{name}","plugins":[{{"type":"{plugin}"}}]}}"#)
    }

    #[test]
    fn conflists_win_over_confs_and_sorted_order_decides() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "20-b.conflist", &list("net", "second"));
        write(dir.path(), "10-a.conflist", &list("net", "first"));
        write(
            dir.path(),
            "00-single.conf",
            r#"{"cniVersion":"0.4.0","name":"net","type":"conf"}"#,
        );
        write(
            dir.path(),
            "05-other.json",
            r#"{"cniVersion":"1.0.0","name":"other","type":"single"}"#,
        );
        write(dir.path(), "notes.txt", "ignored");
        std::fs::create_dir(dir.path().join("sub.conflist")).expect("mkdir");

        let net = load_network(dir.path(), "net").expect("net");
        assert_eq!(net.plugins()[0].plugin_type(), "first");
        let other = load_network(dir.path(), "other").expect("other");
        assert_eq!(other.plugins()[0].plugin_type(), "single");
        let missing = load_network(dir.path(), "nope").expect_err("missing");
        assert!(
            missing
                .to_string()
                .contains("no CNI network named \"nope\""),
            "{missing}"
        );

        let all = load_networks(dir.path()).expect("all");
        let names: Vec<(String, &str)> = all
            .networks
            .iter()
            .map(|(p, l)| {
                (
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    l.name(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("10-a.conflist".to_string(), "net"),
                ("05-other.json".to_string(), "other")
            ]
        );
        // 20-b repeats "net" and 00-single.conf too
        assert_eq!(all.skipped.len(), 2);
    }

    #[test]
    fn an_invalid_file_is_reported_by_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "10-bad.conflist", "{");
        write(dir.path(), "20-ok.conflist", &list("ok", "x"));
        let all = load_networks(dir.path()).expect("all");
        assert_eq!(all.networks.len(), 1);
        assert!(all.skipped[0]
            .1
            .to_string()
            .contains("10-bad.conflist: not JSON"));
        // libcni's LoadConfList stops at an invalid file met before the match
        let err = load_network(dir.path(), "ok").expect_err("bad file first");
        assert!(err.to_string().contains("10-bad.conflist"), "{err}");
    }

    #[test]
    fn a_missing_directory_has_no_networks() {
        let all = load_networks(Path::new("/nonexistent/podnet-cni")).expect("empty");
        assert!(all.networks.is_empty() && all.skipped.is_empty());
    }
}
