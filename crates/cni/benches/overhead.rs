//! podnet-cni's own overhead around one ADD + DEL of podman 4.3's four-plugin chain (bridge,
//! portmap, firewall, tuning; `tests/fixtures/podman43/shapenet.conflist`) with a published
//! port, against Go libcni 1.1 (the libcni podman 4.3 uses) driving the same conflist in the
//! same run through `tests/go_peer` (`peer_go_libcni`).
//!
//! `cni_add_del_overhead`: plugin execution is left out on both sides through each runtime's
//! own exec seam (libcni's `invoke.Exec`, podnet-cni's `PluginExec`): a stand-in answers
//! ADD with a fixed bridge result and DEL with nothing, so what is timed is everything the
//! runtime does itself: plugin lookup (a stat per plugin), stdin building with `prevResult`
//! and `runtimeConfig`, the `CNI_*` environment (the Rust stand-in builds the full
//! environment as libcni's `AsEnv` does, so neither side skips that cost), result parsing
//! and conversion, and the cache write, read and removal. Both caches live on tmpfs
//! (/dev/shm) so the disk is not measured.
//!
//! `cni_add_del_exec`: the same with real processes, for context: the plugin is this bench
//! binary itself (it acts as a plugin when `CNI_COMMAND` is set), started through symlinks
//! named after the plugin types: a trivial plugin that costs the same for both runtimes.
#![allow(clippy::unwrap_used)]
#![allow(missing_docs)]

#[path = "../tests/support/go_peer.rs"]
mod go_peer;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command as Process, Stdio};
use std::time::Duration;

use cni::{
    Capability, ExecFailure, NetworkConfigList, PluginEnv, PluginExec, PortMapping, Runtime,
    RuntimeConf,
};
use criterion::Criterion;
use serde_json::json;

const CONFLIST: &str = "tests/fixtures/podman43/shapenet.conflist";
const PLUGINS: [&str; 4] = ["bridge", "portmap", "firewall", "tuning"];
const CANNED: &str = r#"{"cniVersion":"0.4.0","interfaces":[{"name":"cni-podman1","mac":"3a:5e:1c:4b:0d:11"},{"name":"veth2d5f","mac":"c6:91:9b:4c:7e:20"},{"name":"eth0","mac":"fa:2b:55:3e:9a:01","sandbox":"/run/netns/bench"}],"ips":[{"version":"4","interface":2,"address":"10.77.3.2/24","gateway":"10.77.3.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#;

/// The stand-in for plugin processes: ADD answers the canned result.
struct Canned;

impl PluginExec for Canned {
    fn exec(
        &self,
        _plugin: &Path,
        _stdin: &[u8],
        env: &PluginEnv<'_>,
        _limit: Duration,
    ) -> Result<Vec<u8>, ExecFailure> {
        // what libcni's Args.AsEnv does before every exec: the whole environment, deduplicated
        let mut merged: HashMap<OsString, OsString> = std::env::vars_os().collect();
        for (k, v) in env.vars() {
            merged.insert(k.into(), v.to_os_string());
        }
        std::hint::black_box(merged);
        Ok(if env.command == cni::Command::Add {
            CANNED.as_bytes().to_vec()
        } else {
            Vec::new()
        })
    }
}

/// Acts as a trivial plugin: reads stdin, answers ADD with the canned result.
fn act_as_plugin(command: &str) {
    let mut stdin = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut stdin);
    if command == "ADD" {
        let _ = std::io::stdout().write_all(CANNED.as_bytes());
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    root: PathBuf,
    conflist: PathBuf,
    plugin_dir: PathBuf,
}

fn bench_dir() -> Bench {
    let dir = tempfile::Builder::new()
        .prefix("pncni-bench")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let root = dir.path().to_path_buf();
    let plugin_dir = root.join("bin");
    std::fs::create_dir(&plugin_dir).unwrap();
    let me = std::env::current_exe().unwrap();
    for p in PLUGINS {
        std::os::unix::fs::symlink(&me, plugin_dir.join(p)).unwrap();
    }
    let conflist = Path::new(env!("CARGO_MANIFEST_DIR")).join(CONFLIST);
    Bench {
        _dir: dir,
        root,
        conflist,
        plugin_dir,
    }
}

fn rt() -> RuntimeConf {
    RuntimeConf::new("bench-ctr", "/run/netns/bench", "eth0").with_capability(
        Capability::PortMappings(vec![PortMapping {
            host_port: 8080,
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: String::new(),
        }]),
    )
}

/// The Go peer in `bench` mode, serving iteration requests.
struct GoPeer {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl GoPeer {
    fn start(peer: &Path, b: &Bench, cache: &Path, canned: bool) -> GoPeer {
        let request = json!({
            "conflist": b.conflist,
            "pluginDirs": [b.plugin_dir],
            "cacheDir": cache,
            "containerId": "bench-ctr",
            "netns": "/run/netns/bench",
            "ifName": "eth0",
            "capabilityArgs": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]},
            "cannedResult": serde_json::from_str::<serde_json::Value>(CANNED).unwrap(),
        });
        let req = b
            .root
            .join(if canned { "canned.json" } else { "exec.json" });
        std::fs::write(&req, request.to_string()).unwrap();
        let mut child = Process::new(peer)
            .arg(if canned { "bench" } else { "bench-exec" })
            .arg(&req)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        GoPeer { child, out }
    }

    fn run(&mut self, iters: u64) -> Duration {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{iters}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        Duration::from_nanos(line.trim().parse().unwrap())
    }
}

impl Drop for GoPeer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn group(c: &mut Criterion, name: &str, canned: bool, b: &Bench, peer: Option<&Path>) {
    let list = NetworkConfigList::from_file(&b.conflist).unwrap();
    let cache = b.root.join(format!("{name}-rust-cache"));
    let mut runtime = Runtime::new([&b.plugin_dir]).with_cache_dir(&cache);
    if canned {
        runtime = runtime.with_exec(Canned);
    }
    let rt = rt();
    let mut g = c.benchmark_group(name);
    g.sample_size(if canned { 50 } else { 20 });
    g.measurement_time(Duration::from_secs(if canned { 5 } else { 10 }));
    g.bench_function("podnet_cni", |bench| {
        bench.iter(|| {
            runtime.add(&list, &rt).unwrap();
            runtime.del(&list, &rt).unwrap();
        })
    });
    if let Some(peer) = peer {
        let mut go = GoPeer::start(peer, b, &b.root.join(format!("{name}-go-cache")), canned);
        g.bench_function("peer_go_libcni", |bench| {
            bench.iter_custom(|iters| go.run(iters))
        });
    }
    g.finish();
}

fn main() {
    if let Some(command) = std::env::var_os("CNI_COMMAND") {
        act_as_plugin(&command.to_string_lossy());
        return;
    }
    let b = bench_dir();
    let peer = match go_peer::build(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("cni-go-peer")) {
        Ok(p) => Some(p),
        Err(why) => {
            go_peer::skip("cni overhead bench peer", &why);
            None
        }
    };
    let mut c = Criterion::default().configure_from_args();
    group(&mut c, "cni_add_del_overhead", true, &b, peer.as_deref());
    group(&mut c, "cni_add_del_exec", false, &b, peer.as_deref());
    c.final_summary();
}
