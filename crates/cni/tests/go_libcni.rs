//! Differential test against Go libcni 1.1 (the libcni podman 4.3 uses), built from Debian's
//! sources by `support/go_peer.rs`: the same conflist and runtime arguments run through both
//! runtimes with recording script plugins, and
//! - every plugin receives the same stdin bytes and the same `CNI_*` environment, ADD and DEL;
//! - both return the same result and write the same cache entry;
//! - each runtime reads the other's cache entry: podnet-cni's DEL from the cache alone of an
//!   entry Go wrote, and Go's DEL of an entry podnet-cni wrote, feed plugins the same bytes.
#![allow(clippy::unwrap_used)]

#[path = "support/go_peer.rs"]
mod go_peer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cni::{CacheEntry, NetworkConfigList, Runtime, RuntimeConf};
use serde_json::{json, Value};

/// Records stdin and the CNI environment of each call; ADD prints `result.json`.
const RECORDING_PLUGIN: &str = r#"#!/bin/sh
d=$(dirname "$0")
n=$(cat "$d/counter" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$d/counter"
f="$d/rec/$(printf %02d $n)-$CNI_COMMAND-$(basename "$0")"
cat > "$f.stdin"
env | grep '^CNI_' | sort > "$f.env"
if [ "$CNI_COMMAND" = ADD ]; then cat "$d/result.json"; fi
"#;

const RESULT: &str = r#"{"cniVersion":"0.4.0","interfaces":[{"name":"cni-rec0","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/run/netns/rec"}],"ips":[{"version":"4","interface":1,"address":"10.91.0.5/24","gateway":"10.91.0.1"},{"version":"6","interface":1,"address":"fd91::5/64"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.91.0.1"}],"dns":{"nameservers":["10.91.0.1"],"search":["dns.podman"]}}"#;

struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
    conflist: PathBuf,
    peer: PathBuf,
}

fn world() -> Option<World> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let peer = match go_peer::build(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("cni-go-peer")) {
        Ok(p) => p,
        Err(why) => {
            go_peer::skip("go_libcni", &why);
            return None;
        }
    };
    let bin = root.join("bin");
    std::fs::create_dir_all(bin.join("rec")).unwrap();
    for p in ["recbridge", "recportmap", "rectuning"] {
        let path = bin.join(p);
        std::fs::write(&path, RECORDING_PLUGIN).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(bin.join("result.json"), RESULT).unwrap();
    let conflist = root.join("rec.conflist");
    std::fs::write(
        &conflist,
        r#"{
   "args": {"podman_labels": {"k": "v"}},
   "cniVersion": "0.4.0",
   "name": "recnet",
   "plugins": [
      {"type": "recbridge", "bridge": "cni-rec0", "isGateway": true, "mtu": 1400,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.91.0.0/24"}]]},
       "capabilities": {"ips": true, "mac": true}},
      {"type": "recportmap", "capabilities": {"portMappings": true, "bandwidth": false}},
      {"type": "rectuning", "runtimeConfig": {"fromFile": 1}}
   ]
}
"#,
    )
    .unwrap();
    Some(World {
        _tmp: tmp,
        root,
        bin,
        conflist,
        peer,
    })
}

fn capability_args() -> Value {
    json!({
        "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "127.0.0.1"}],
        "mac": "aa:bb:cc:dd:ee:02",
        "bandwidth": {"ingressRate": 1}
    })
}

fn rt() -> RuntimeConf {
    let mut rt = RuntimeConf::new("rec-ctr", "/run/netns/rec", "eth0")
        .with_arg("IgnoreUnknown", "1")
        .with_arg("K8S_POD_NAME", "web");
    let Value::Object(caps) = capability_args() else {
        unreachable!()
    };
    rt.capability_args = caps;
    rt
}

impl World {
    fn go(&self, command: &str, cache: &Path) -> String {
        let request = json!({
            "conflist": self.conflist,
            "pluginDirs": [self.bin],
            "cacheDir": cache,
            "containerId": "rec-ctr",
            "netns": "/run/netns/rec",
            "ifName": "eth0",
            "args": [["IgnoreUnknown", "1"], ["K8S_POD_NAME", "web"]],
            "capabilityArgs": capability_args(),
        });
        let req = self.root.join("request.json");
        std::fs::write(&req, request.to_string()).unwrap();
        let out = Command::new(&self.peer)
            .arg(command)
            .arg(&req)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go peer {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn runtime(&self, cache: &Path) -> Runtime {
        Runtime::new([&self.bin]).with_cache_dir(cache)
    }

    /// Takes what the plugins recorded since the last call: file name -> content.
    fn recorded(&self) -> BTreeMap<String, String> {
        let rec = self.bin.join("rec");
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&rec).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(&path).unwrap());
            std::fs::remove_file(&path).unwrap();
        }
        let _ = std::fs::remove_file(self.bin.join("counter"));
        out
    }
}

fn cache_json(cache: &Path) -> Value {
    let file = cache.join("results/recnet-rec-ctr-eth0");
    serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()
}

#[test]
fn plugins_see_the_same_bytes_and_caches_are_interchangeable() {
    let Some(w) = world() else { return };
    let list = NetworkConfigList::from_file(&w.conflist).unwrap();
    let (go_cache, rust_cache) = (w.root.join("go-cache"), w.root.join("rust-cache"));

    // ADD through both
    let go_result: Value = serde_json::from_str(&w.go("add", &go_cache)).unwrap();
    let go_add = w.recorded();
    let rust_result = w.runtime(&rust_cache).add(&list, &rt()).unwrap();
    let rust_add = w.recorded();
    assert_eq!(go_add.len(), 6, "{go_add:#?}");
    assert_eq!(rust_add, go_add, "plugin stdin/env differ on ADD");
    assert_eq!(serde_json::to_value(&rust_result).unwrap(), go_result);
    assert_eq!(cache_json(&rust_cache), cache_json(&go_cache));

    // podnet-cni reads Go's entry as libcni does
    let entry = CacheEntry::read(&go_cache, "recnet", "rec-ctr", "eth0")
        .unwrap()
        .unwrap();
    assert_eq!(entry.config, std::fs::read(&w.conflist).unwrap());
    assert_eq!(entry.cni_args, rt().args);
    assert_eq!(entry.capability_args, rt().capability_args);
    assert_eq!(entry.typed_result().unwrap(), Some(rust_result.clone()));

    // CHECK through both
    w.go("check", &go_cache);
    let go_check = w.recorded();
    w.runtime(&rust_cache).check(&list, &rt()).unwrap();
    assert_eq!(w.recorded(), go_check, "plugin stdin/env differ on CHECK");

    // DEL crosswise: Go on podnet-cni's entry, podnet-cni on Go's entry from the cache alone
    w.go("del", &rust_cache);
    let go_del = w.recorded();
    let bare = RuntimeConf::new("rec-ctr", "/run/netns/rec", "eth0");
    w.runtime(&go_cache).del_cached("recnet", &bare).unwrap();
    let rust_del = w.recorded();
    assert_eq!(go_del.len(), 6, "{go_del:#?}");
    assert!(
        go_del.keys().next().unwrap().contains("DEL-rectuning"),
        "{go_del:#?}"
    );
    assert_eq!(rust_del, go_del, "plugin stdin/env differ on DEL");
    assert!(go_del.values().any(|v| v.contains("\"prevResult\"")));
    for cache in [&go_cache, &rust_cache] {
        assert!(!cache.join("results/recnet-rec-ctr-eth0").exists());
    }
}
