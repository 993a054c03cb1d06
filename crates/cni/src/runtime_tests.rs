//! Flow tests of [`Runtime`] with a recording fake in place of plugin processes: order,
//! `prevResult` chaining, version conversion, the environment, rollback of a failed ADD,
//! best-effort DEL, CHECK's rules and DEL from the cache alone. Real plugins are in
//! `tests/plugins.rs`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    Capability, Command, Error, ExecFailure, NetworkConfigList, PluginEnv, PluginExec, PortMapping,
    Runtime, RuntimeConf, SpecVersion,
};

/// One recorded invocation.
#[derive(Debug, Clone)]
struct Call {
    plugin: String,
    command: String,
    stdin: Value,
    env: Vec<(String, String)>,
}

type Answer = dyn Fn(&str, Command, &Value) -> Result<Vec<u8>, ExecFailure> + Send + Sync;

#[derive(Clone)]
struct Fake {
    calls: Arc<Mutex<Vec<Call>>>,
    answer: Arc<Answer>,
}

impl PluginExec for Fake {
    fn exec(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &PluginEnv<'_>,
        _limit: Duration,
    ) -> Result<Vec<u8>, ExecFailure> {
        let name = plugin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stdin: Value = serde_json::from_slice(stdin).unwrap_or(Value::Null);
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Call {
                plugin: name.clone(),
                command: env.command.as_str().into(),
                stdin: stdin.clone(),
                env: env
                    .vars()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string_lossy().into_owned()))
                    .collect(),
            });
        (self.answer)(&name, env.command, &stdin)
    }
}

/// Each plugin adds one interface named after itself to its prevResult, in 1.0.0.
fn chaining(name: &str, command: Command, stdin: &Value) -> Result<Vec<u8>, ExecFailure> {
    if command != Command::Add {
        return Ok(Vec::new());
    }
    let mut interfaces = stdin["prevResult"]["interfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    interfaces.push(json!({"name": name}));
    let ips = if name == "bridge" {
        json!([{"interface": 0, "address": "10.9.0.7/24", "gateway": "10.9.0.1"}])
    } else {
        stdin["prevResult"]["ips"].clone()
    };
    Ok(
        serde_json::to_vec(&json!({"cniVersion": "1.0.0", "interfaces": interfaces, "ips": ips}))
            .unwrap_or_default(),
    )
}

struct Setup {
    _dirs: tempfile::TempDir,
    plugin_dir: PathBuf,
    cache_dir: PathBuf,
    calls: Arc<Mutex<Vec<Call>>>,
    runtime: Runtime,
}

fn setup(
    answer: impl Fn(&str, Command, &Value) -> Result<Vec<u8>, ExecFailure> + Send + Sync + 'static,
) -> Setup {
    let dirs = tempfile::tempdir().expect("tempdir");
    let plugin_dir = dirs.path().join("bin");
    std::fs::create_dir(&plugin_dir).expect("mkdir");
    for p in ["bridge", "portmap", "tuning"] {
        std::fs::write(plugin_dir.join(p), "").expect("plugin file");
    }
    let cache_dir = dirs.path().join("cache");
    let calls = Arc::new(Mutex::new(Vec::new()));
    let fake = Fake {
        calls: calls.clone(),
        answer: Arc::new(answer),
    };
    let runtime = Runtime::new([dirs.path().join("empty"), plugin_dir.clone()])
        .with_cache_dir(&cache_dir)
        .with_exec(fake);
    Setup {
        _dirs: dirs,
        plugin_dir,
        cache_dir,
        calls,
        runtime,
    }
}

impl Setup {
    fn calls(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn cache_file(&self) -> PathBuf {
        self.cache_dir.join("results/net1-ctr1-eth0")
    }
}

fn list(version: &str) -> NetworkConfigList {
    NetworkConfigList::from_value(json!({
        "cniVersion": version,
        "name": "net1",
        "plugins": [
            {"type": "bridge", "capabilities": {"ips": true}},
            {"type": "portmap", "capabilities": {"portMappings": true}},
            {"type": "tuning"}
        ]
    }))
    .expect("list")
}

fn rt() -> RuntimeConf {
    RuntimeConf::new("ctr1", "/run/netns/c1", "eth0")
        .with_arg("IgnoreUnknown", "1")
        .with_capability(Capability::PortMappings(vec![PortMapping {
            host_port: 8080,
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: String::new(),
        }]))
}

fn order(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .map(|c| format!("{} {}", c.command, c.plugin))
        .collect()
}

#[test]
fn add_chains_results_in_order_converts_them_and_caches_the_last() {
    let s = setup(chaining);
    let result = s.runtime.add(&list("0.4.0"), &rt()).expect("add");
    let calls = s.calls();
    assert_eq!(order(&calls), ["ADD bridge", "ADD portmap", "ADD tuning"]);
    // the first plugin has no prevResult; the next get the previous result in the list's
    // version (0.4.0: ips carry "version")
    assert!(calls[0].stdin.get("prevResult").is_none());
    assert_eq!(
        calls[1].stdin["prevResult"],
        json!({"cniVersion": "0.4.0", "interfaces": [{"name": "bridge"}],
               "ips": [{"version": "4", "interface": 0, "address": "10.9.0.7/24", "gateway": "10.9.0.1"}],
               "dns": {}})
    );
    assert_eq!(
        calls[2].stdin["prevResult"]["interfaces"],
        json!([{"name": "bridge"}, {"name": "portmap"}])
    );
    // runtimeConfig only where declared
    assert!(calls[0].stdin.get("runtimeConfig").is_none());
    assert_eq!(
        calls[1].stdin["runtimeConfig"],
        json!({"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]})
    );
    assert!(calls[2].stdin.get("runtimeConfig").is_none());
    for call in &calls {
        assert_eq!(call.stdin["name"], "net1");
        assert_eq!(call.stdin["cniVersion"], "0.4.0");
    }
    let env: std::collections::BTreeMap<_, _> = calls[0].env.iter().cloned().collect();
    let cni_path = format!(
        "{}:{}",
        s._dirs.path().join("empty").display(),
        s.plugin_dir.display()
    );
    assert_eq!(env["CNI_COMMAND"], "ADD");
    assert_eq!(env["CNI_CONTAINERID"], "ctr1");
    assert_eq!(env["CNI_NETNS"], "/run/netns/c1");
    assert_eq!(env["CNI_IFNAME"], "eth0");
    assert_eq!(env["CNI_ARGS"], "IgnoreUnknown=1");
    assert_eq!(env["CNI_PATH"], cni_path);

    assert_eq!(result.cni_version, SpecVersion::V0_4_0);
    assert_eq!(result.interfaces.len(), 3);
    let cached: Value =
        serde_json::from_slice(&std::fs::read(s.cache_file()).expect("cache")).expect("json");
    assert_eq!(cached["kind"], "cniCacheV1");
    assert_eq!(
        cached["result"],
        serde_json::to_value(&result).expect("json")
    );
    assert_eq!(
        cached["capabilityArgs"],
        Value::Object(rt().capability_args)
    );
}

#[test]
fn a_failed_add_deletes_what_ran_in_reverse_and_caches_nothing() {
    let s = setup(|name, command, stdin| {
        if name == "portmap" && command == Command::Add {
            return Err(ExecFailure::Failed {
                status: "exit status: 1".into(),
                stdout:
                    br#"{"cniVersion":"0.4.0","code":7,"msg":"port in use","details":"8080/tcp"}"#
                        .to_vec(),
                stderr: Vec::new(),
            });
        }
        chaining(name, command, stdin)
    });
    let err = s
        .runtime
        .add(&list("0.4.0"), &rt())
        .expect_err("portmap fails");
    assert_eq!(
        err.to_string(),
        "plugin \"portmap\" of network \"net1\" (ADD) failed with CNI error 7: port in use (8080/tcp)"
    );
    assert!(matches!(err, Error::Plugin { code: 7, .. }));
    let calls = s.calls();
    assert_eq!(
        order(&calls),
        ["ADD bridge", "ADD portmap", "DEL portmap", "DEL bridge"]
    );
    assert_eq!(
        calls[3].stdin["prevResult"]["interfaces"],
        json!([{"name": "bridge"}])
    );
    assert!(!s.cache_file().exists());
}

#[test]
fn del_runs_in_reverse_with_the_cached_result_and_goes_on_after_a_failure() {
    let fail_portmap_del = Arc::new(Mutex::new(true));
    let flag = fail_portmap_del.clone();
    let s = setup(move |name, command, stdin| {
        if name == "portmap"
            && command == Command::Del
            && *flag.lock().unwrap_or_else(|e| e.into_inner())
        {
            return Err(ExecFailure::Failed {
                status: "exit status: 1".into(),
                stdout: Vec::new(),
                stderr: b"iptables: resource busy\n".to_vec(),
            });
        }
        chaining(name, command, stdin)
    });
    let added = s.runtime.add(&list("0.4.0"), &rt()).expect("add");
    s.calls();

    let err = s
        .runtime
        .del(&list("0.4.0"), &rt())
        .expect_err("portmap DEL fails");
    assert!(
        err.to_string()
            .contains("(DEL) failed with CNI error 0: exit status: 1: \"iptables: resource busy\""),
        "{err}"
    );
    let calls = s.calls();
    assert_eq!(order(&calls), ["DEL tuning", "DEL portmap", "DEL bridge"]);
    for call in &calls {
        assert_eq!(
            call.stdin["prevResult"],
            serde_json::to_value(&added).expect("json")
        );
    }
    assert!(
        s.cache_file().exists(),
        "a failed DEL keeps the entry for a retry"
    );

    *fail_portmap_del.lock().unwrap_or_else(|e| e.into_inner()) = false;
    s.runtime.del(&list("0.4.0"), &rt()).expect("retry");
    assert!(!s.cache_file().exists());
    // DEL is idempotent: without a cache entry plugins still run, without prevResult
    s.calls();
    s.runtime.del(&list("0.4.0"), &rt()).expect("again");
    assert!(s
        .calls()
        .iter()
        .all(|c| c.stdin.get("prevResult").is_none()));
}

#[test]
fn before_0_4_0_del_gets_no_cached_result_and_check_does_not_exist() {
    let s = setup(chaining);
    s.runtime.add(&list("0.3.1"), &rt()).expect("add");
    s.calls();
    s.runtime.del(&list("0.3.1"), &rt()).expect("del");
    assert!(s
        .calls()
        .iter()
        .all(|c| c.stdin.get("prevResult").is_none()));
    let err = s
        .runtime
        .check(&list("0.3.1"), &rt())
        .expect_err("no CHECK");
    assert_eq!(
        err.to_string(),
        "network \"net1\" declares cniVersion 0.3.1, which has no CHECK command"
    );
}

#[test]
fn check_uses_the_cached_result_and_honours_disable_check() {
    let s = setup(chaining);
    let err = s
        .runtime
        .check(&list("1.0.0"), &rt())
        .expect_err("nothing cached");
    assert!(matches!(err, Error::NotCached { .. }), "{err}");
    let added = s.runtime.add(&list("1.0.0"), &rt()).expect("add");
    s.calls();
    s.runtime.check(&list("1.0.0"), &rt()).expect("check");
    let calls = s.calls();
    assert_eq!(
        order(&calls),
        ["CHECK bridge", "CHECK portmap", "CHECK tuning"]
    );
    assert_eq!(
        calls[0].stdin["prevResult"],
        serde_json::to_value(&added).expect("json")
    );
    // 1.0.0: no "version" in ips
    assert!(calls[0].stdin["prevResult"]["ips"][0]
        .get("version")
        .is_none());

    let mut doc = Value::Object(list("1.0.0").raw().clone());
    doc["disableCheck"] = json!(true);
    let disabled = NetworkConfigList::from_value(doc).expect("list");
    s.runtime.check(&disabled, &rt()).expect("disabled");
    assert!(s.calls().is_empty());
}

#[test]
fn del_from_the_cache_alone_uses_the_cached_config_and_arguments() {
    let s = setup(chaining);
    s.runtime.add(&list("0.4.0"), &rt()).expect("add");
    s.calls();
    // a restart: only the ids are known
    let bare = RuntimeConf::new("ctr1", "/run/netns/c1", "eth0");
    s.runtime.del_cached("net1", &bare).expect("del from cache");
    let calls = s.calls();
    assert_eq!(order(&calls), ["DEL tuning", "DEL portmap", "DEL bridge"]);
    assert_eq!(
        calls[1].stdin["runtimeConfig"]["portMappings"][0]["hostPort"],
        8080
    );
    let env: std::collections::BTreeMap<_, _> = calls[1].env.iter().cloned().collect();
    assert_eq!(env["CNI_ARGS"], "IgnoreUnknown=1");
    assert!(!s.cache_file().exists());
    let err = s.runtime.del_cached("net1", &bare).expect_err("gone");
    assert!(
        err.to_string()
            .starts_with("no CNI cache entry for network \"net1\", container \"ctr1\""),
        "{err}"
    );
}

#[test]
fn bad_names_and_missing_plugins_stop_before_anything_runs() {
    let s = setup(chaining);
    for (id, ifname, want) in [
        ("", "eth0", "invalid container id \"\": is empty"),
        (
            "ctr/1",
            "eth0",
            "invalid container id \"ctr/1\": may contain only",
        ),
        ("ctr1", "eth0:1", "invalid interface name \"eth0:1\""),
        ("ctr1", "averyveryverylongname", "is longer than 15 bytes"),
    ] {
        let err = s
            .runtime
            .add(&list("0.4.0"), &RuntimeConf::new(id, "/n", ifname))
            .expect_err(want);
        assert!(err.to_string().contains(want), "{err}");
    }
    std::fs::remove_file(s.plugin_dir.join("tuning")).expect("rm");
    let err = s.runtime.add(&list("0.4.0"), &rt()).expect_err("no tuning");
    assert!(
        err.to_string()
            .starts_with("plugin \"tuning\" of network \"net1\" (ADD) not found in "),
        "{err}"
    );
    assert!(s.calls().is_empty());
}

#[test]
fn unusable_plugin_output_is_reported_with_the_plugin() {
    let s = setup(|name, command, stdin| match (name, command) {
        ("portmap", Command::Add) => Ok(b"not json".to_vec()),
        _ => chaining(name, command, stdin),
    });
    let err = s
        .runtime
        .add(&list("0.4.0"), &rt())
        .expect_err("bad output");
    assert!(err.to_string().starts_with("plugin \"portmap\" of network \"net1\" (ADD) printed an unusable result: not a CNI result"), "{err}");
    let timeout = super::runtime::tests_support::exec_error_text(ExecFailure::TimedOut);
    assert_eq!(
        timeout,
        "plugin \"p\" of network \"n\" (ADD) did not finish within 2s and was killed"
    );
    let garbage = super::runtime::tests_support::exec_error_text(ExecFailure::Failed {
        status: "exit status: 2".into(),
        stdout: b"garbage".to_vec(),
        stderr: Vec::new(),
    });
    assert!(
        garbage.contains("CNI error 0: exit status: 2, and its output is not a CNI error"),
        "{garbage}"
    );
}

#[test]
fn a_pre_0_3_0_network_is_refused_before_anything_runs() {
    let s = setup(chaining);
    let err = s.runtime.add(&list("0.2.0"), &rt()).expect_err("0.2.0");
    assert_eq!(
        err.to_string(),
        "network \"net1\" declares cniVersion 0.2.0: results of 0.1.0 and 0.2.0 (ip4/ip6) are not supported"
    );
    assert!(s.calls().is_empty());
}

#[test]
fn a_cni_path_list_splits_on_colons_and_skips_empty_parts() {
    assert_eq!(
        crate::split_path_list("/usr/lib/cni::/opt/cni/bin:".as_ref()),
        [PathBuf::from("/usr/lib/cni"), PathBuf::from("/opt/cni/bin")]
    );
}
