//! libcni's result cache, read and written in its own format so a DEL works after a restart
//! and entries written by podman 4.3 (libcni 1.1) are read as they are.
//!
//! ```text
//! <cache dir>/                         default /var/lib/cni
//!   results/                           0700
//!     <network>-<container id>-<ifname>    0600, one JSON object per attachment:
//!       {"kind":"cniCacheV1",
//!        "containerId":"…",
//!        "config":"<base64 of the network's conflist bytes>",
//!        "ifName":"eth0",
//!        "networkName":"…",
//!        "cniArgs":[["K","V"],…],          (omitted when empty)
//!        "capabilityArgs":{…},             (omitted when empty)
//!        "result":{…}}                     (the chain's ADD result)
//! ```
//!
//! A file that is not `cniCacheV1` is libcni's legacy layout: the whole file is the result.
//! Entries are written to a temporary file and renamed, so a crash leaves the old entry or
//! the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{base64, CniResult, Error, RuntimeConf};

/// The `kind` of libcni's current cache format.
pub const CACHE_KIND_V1: &str = "cniCacheV1";

/// One cached attachment.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CacheEntry {
    /// The container id.
    pub container_id: String,
    /// The network's configuration bytes at ADD time (for a `.conflist`, the file's bytes).
    pub config: Vec<u8>,
    /// The interface name.
    pub ifname: String,
    /// The network name.
    pub network: String,
    /// `CNI_ARGS` pairs given at ADD.
    pub cni_args: Vec<(String, String)>,
    /// Capability arguments given at ADD.
    pub capability_args: Map<String, Value>,
    /// The chain's ADD result; none for a legacy entry's unparseable result.
    pub result: Option<Value>,
}

#[derive(Serialize, Deserialize)]
struct WireEntry {
    kind: String,
    #[serde(rename = "containerId", default)]
    container_id: String,
    #[serde(default)]
    config: Option<String>,
    #[serde(rename = "ifName", default)]
    if_name: String,
    #[serde(rename = "networkName", default)]
    network_name: String,
    #[serde(rename = "cniArgs", default, skip_serializing_if = "Option::is_none")]
    cni_args: Option<Vec<(String, String)>>,
    #[serde(
        rename = "capabilityArgs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    capability_args: Option<Map<String, Value>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "sorted_option"
    )]
    result: Option<Value>,
}

/// The result as Go marshals its map: keys sorted.
fn sorted_option<S: serde::Serializer>(value: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(&crate::sorted::Sorted(v)),
        None => s.serialize_none(),
    }
}

/// The cache file of one attachment.
pub fn entry_path(cache_dir: &Path, network: &str, container_id: &str, ifname: &str) -> PathBuf {
    cache_dir
        .join("results")
        .join(format!("{network}-{container_id}-{ifname}"))
}

impl CacheEntry {
    /// The entry an ADD of `config` with `rt` that produced `result` leaves.
    pub(crate) fn new(
        network: &str,
        config: &[u8],
        rt: &RuntimeConf,
        result: &CniResult,
    ) -> Result<Self, serde_json::Error> {
        Ok(CacheEntry {
            container_id: rt.container_id.clone(),
            config: config.to_vec(),
            ifname: rt.ifname.clone(),
            network: network.to_string(),
            cni_args: rt.args.clone(),
            capability_args: rt.capability_args.clone(),
            result: Some(serde_json::to_value(result)?),
        })
    }

    /// The ADD result, typed; `Err` is why it cannot be used.
    pub fn typed_result(&self) -> Result<Option<CniResult>, String> {
        self.result.as_ref().map(CniResult::from_json).transpose()
    }

    /// The runtime configuration DEL should use: `rt` with the cached arguments, as libcni's
    /// `GetNetworkListCachedConfig` gives it.
    pub fn runtime_conf(&self, rt: &RuntimeConf) -> RuntimeConf {
        let mut cached = rt.clone();
        if !self.cni_args.is_empty() {
            cached.args = self.cni_args.clone();
        }
        cached.capability_args = self.capability_args.clone();
        cached
    }

    /// Reads the entry of one attachment; `Ok(None)` when there is none.
    pub fn read(
        cache_dir: &Path,
        network: &str,
        container_id: &str,
        ifname: &str,
    ) -> Result<Option<Self>, Error> {
        let path = entry_path(cache_dir, network, container_id, ifname);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Cache {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        let bad = |reason: String| Error::BadCache {
            path: path.clone(),
            reason,
        };
        match serde_json::from_slice::<WireEntry>(&bytes) {
            Ok(wire) if wire.kind == CACHE_KIND_V1 => {
                let config = match wire.config {
                    Some(text) => {
                        base64::decode(&text).map_err(|why| bad(format!("config: {why}")))?
                    }
                    None => Vec::new(),
                };
                Ok(Some(CacheEntry {
                    container_id: wire.container_id,
                    config,
                    ifname: wire.if_name,
                    network: wire.network_name,
                    cni_args: wire.cni_args.unwrap_or_default(),
                    capability_args: wire.capability_args.unwrap_or_default(),
                    result: wire.result,
                }))
            }
            _ => {
                // libcni's legacy layout: the file is the result itself
                let result: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    bad(format!("neither a {CACHE_KIND_V1} entry nor a result: {e}"))
                })?;
                Ok(Some(CacheEntry {
                    container_id: container_id.to_string(),
                    config: Vec::new(),
                    ifname: ifname.to_string(),
                    network: network.to_string(),
                    cni_args: Vec::new(),
                    capability_args: Map::new(),
                    result: Some(result),
                }))
            }
        }
    }

    /// Writes the entry (atomically: temporary file, then rename).
    pub fn write(&self, cache_dir: &Path) -> Result<PathBuf, Error> {
        let path = entry_path(cache_dir, &self.network, &self.container_id, &self.ifname);
        let fail = |source| Error::Cache {
            action: "write",
            path: path.clone(),
            source,
        };
        let wire = WireEntry {
            kind: CACHE_KIND_V1.to_string(),
            container_id: self.container_id.clone(),
            config: Some(base64::encode(&self.config)),
            if_name: self.ifname.clone(),
            network_name: self.network.clone(),
            cni_args: (!self.cni_args.is_empty()).then(|| self.cni_args.clone()),
            capability_args: (!self.capability_args.is_empty())
                .then(|| self.capability_args.clone()),
            result: self.result.clone(),
        };
        let bytes = serde_json::to_vec(&wire).map_err(|e| fail(e.into()))?;
        let dir = cache_dir.join("results");
        create_private_dir(&dir).map_err(fail)?;
        let tmp = dir.join(format!(".{}.tmp", file_name(&path)));
        let written = (|| {
            let mut file = open_private(&tmp)?;
            file.write_all(&bytes)?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(source) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(source));
        }
        Ok(path)
    }

    /// Removes the entry of one attachment; a missing entry is not an error.
    pub fn remove(
        cache_dir: &Path,
        network: &str,
        container_id: &str,
        ifname: &str,
    ) -> Result<(), Error> {
        let path = entry_path(cache_dir, network, container_id, ifname);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Cache {
                action: "remove",
                path,
                source,
            }),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capability, SpecVersion};
    use serde_json::json;

    fn result() -> CniResult {
        CniResult::from_plugin_output(
            br#"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/a"}],"ips":[{"version":"4","interface":0,"address":"10.5.0.2/24","gateway":"10.5.0.1"}]}"#,
            SpecVersion::V0_4_0,
        )
        .expect("result")
    }

    #[test]
    fn an_entry_round_trips_in_libcni_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rt = RuntimeConf::new("ctr1", "/run/netns/a", "eth0")
            .with_arg("IgnoreUnknown", "1")
            .with_capability(Capability::Mac("02:00:00:00:00:02".into()));
        let entry = CacheEntry::new("net1", b"{\"name\":\"net1\"}", &rt, &result()).expect("entry");
        let path = entry.write(dir.path()).expect("write");
        assert_eq!(path, dir.path().join("results/net1-ctr1-eth0"));
        let raw: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(
            raw,
            json!({
                "kind": "cniCacheV1",
                "containerId": "ctr1",
                "config": "eyJuYW1lIjoibmV0MSJ9",
                "ifName": "eth0",
                "networkName": "net1",
                "cniArgs": [["IgnoreUnknown", "1"]],
                "capabilityArgs": {"mac": "02:00:00:00:00:02"},
                "result": {
                    "cniVersion": "0.4.0",
                    "interfaces": [{"name": "eth0", "sandbox": "/run/netns/a"}],
                    "ips": [{"version": "4", "interface": 0, "address": "10.5.0.2/24", "gateway": "10.5.0.1"}],
                    "dns": {}
                }
            })
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("results")), 0o700);

        let back = CacheEntry::read(dir.path(), "net1", "ctr1", "eth0")
            .expect("read")
            .expect("present");
        assert_eq!(back, entry);
        assert_eq!(back.typed_result().expect("typed"), Some(result()));
        let del_rt = back.runtime_conf(&RuntimeConf::new("ctr1", "/run/netns/a", "eth0"));
        assert_eq!(del_rt.args, rt.args);
        assert_eq!(del_rt.capability_args, rt.capability_args);

        CacheEntry::remove(dir.path(), "net1", "ctr1", "eth0").expect("remove");
        assert!(!path.exists());
        CacheEntry::remove(dir.path(), "net1", "ctr1", "eth0").expect("idempotent");
        assert_eq!(
            CacheEntry::read(dir.path(), "net1", "ctr1", "eth0").expect("read"),
            None
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("results"))
            .expect("dir")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_legacy_entry_is_the_result_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("results")).expect("mkdir");
        std::fs::write(
            dir.path().join("results/old-c-eth0"),
            br#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.6.0.9/16"}]}"#,
        )
        .expect("write");
        let entry = CacheEntry::read(dir.path(), "old", "c", "eth0")
            .expect("read")
            .expect("present");
        let typed = entry.typed_result().expect("typed").expect("some");
        assert_eq!(typed.cni_version, SpecVersion::V0_3_1);
        assert!(entry.config.is_empty());
    }

    #[test]
    fn a_corrupt_entry_names_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("results")).expect("mkdir");
        let path = dir.path().join("results/n-c-eth0");
        std::fs::write(&path, b"{\"kind\":\"cniCacheV1\",\"config\":\"!!\"}").expect("write");
        let err = CacheEntry::read(dir.path(), "n", "c", "eth0").expect_err("bad base64");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        std::fs::write(&path, b"{truncated").expect("write");
        let err = CacheEntry::read(dir.path(), "n", "c", "eth0").expect_err("not json");
        assert!(
            err.to_string()
                .contains("neither a cniCacheV1 entry nor a result"),
            "{err}"
        );
    }
}
