//! Differential test (a unit test, so `cargo test --lib` and CI run it): containers/common v0.50's own parser (podman 4.3, Debian 12),
//! built offline from /usr/share/gocode, and this crate read the same containers.conf
//! files and must agree on the `[network]` keys podman 4.3 knows: `network_backend`,
//! `cni_plugin_dirs`, `default_network`, `default_subnet`, `default_subnet_pools`,
//! `network_config_dir`, `dns_bind_port`. The 5.x-only keys (`firewall_driver`,
//! `pasta_options`, `default_rootless_network_cmd`, `netavark_plugin_dirs`, and
//! `{append = true}`) are not compared: 4.3 ignores the first four and rejects the last.
//!
//! Requires: `go` and the Debian packages golang-github-containers-common-dev and
//! golang-github-burntsushi-toml-dev (`cargo xtask setup` installs them). Without them
//! the test says why and passes, except under `CI`, where it fails.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ipnet::IpNet;
use crate::{load, load_files, ContainersConf, NetworkBackend, Sources};
use serde_json::{json, Value};

const GOCODE: &str = "/usr/share/gocode";

/// Builds tests/go43/main.go; `Err` says what is missing.
fn build_go_parser(dir: &Path) -> Result<PathBuf, String> {
    if !Path::new(GOCODE)
        .join("src/github.com/containers/common/pkg/config")
        .is_dir()
    {
        return Err(format!(
            "{GOCODE} has no containers/common (apt-get install golang-github-containers-common-dev)"
        ));
    }
    let src = dir.join("src/confdiff");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go43/main.go"),
        src.join("main.go"),
    )
    .unwrap();
    let binary = dir.join("confdiff");
    testkit::GoBuild {
        target: ".",
        out: &binary,
        gopath: Some(dir),
        cache: &dir.join("cache"),
        dir: Some(&src),
    }
    .run()?;
    Ok(binary)
}

/// What the Go parser makes of `files`: its `NetworkConfig` as JSON, or `{"error": ...}`.
fn go_network(binary: &Path, files: &[PathBuf]) -> Value {
    let out = Command::new(binary).args(files).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// This crate's result in the Go struct's JSON shape.
fn our_network(conf: &ContainersConf) -> Value {
    let net = &conf.network;
    json!({
        "NetworkBackend": net.network_backend.map_or("", NetworkBackend::as_str),
        "CNIPluginDirs": net.cni_plugin_dirs,
        "DefaultNetwork": net.default_network,
        "DefaultSubnet": net.default_subnet.to_string(),
        "DefaultSubnetPools": net.default_subnet_pools.iter()
            .map(|p| json!({"Base": p.base.to_string(), "Size": p.size}))
            .collect::<Vec<_>>(),
        "NetworkConfigDir": net.network_config_dir.as_ref().map_or(String::new(), |d| d.display().to_string()),
        "DNSBindPort": net.dns_bind_port.unwrap_or(0),
    })
}

/// Go keeps `default_subnet` as written; podman parses it when it is used. Compare
/// the subnet it stands for.
fn normalize_go(mut v: Value) -> Value {
    if let Some(s) = v.get("DefaultSubnet").and_then(Value::as_str) {
        if let Ok(net) = s.parse::<IpNet>() {
            v["DefaultSubnet"] = json!(net.trunc().to_string());
        }
    }
    v
}

fn write_files(dir: &Path, case: &str, texts: &[&str]) -> Vec<PathBuf> {
    let case_dir = dir.join(case);
    std::fs::create_dir_all(&case_dir).unwrap();
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = case_dir.join(format!("{i}.conf"));
            std::fs::write(&p, t).unwrap();
            p
        })
        .collect()
}

const DEBIAN_USR: &str = "[containers]\ndefault_capabilities = [\n  \"CHOWN\",\n  \"SYS_CHROOT\"\n]\ndefault_sysctls = [\n  \"net.ipv4.ping_group_range=0 0\",\n]\n[secrets]\n[secrets.opts]\n[network]\n[engine]\n[engine.runtimes]\n[engine.volume_plugins]\n[machine]\n";
const DEBIAN_ETC: &str = "[containers]\ndefault_ulimits = [\"nofile=1024:20000\", \"nproc=32768:32768\"]\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";

/// Chains of files both parsers accept, with the same result.
fn agreeing_cases(existing_dir: &str) -> Vec<(&'static str, Vec<String>)> {
    let s = |t: &str| t.to_string();
    vec![
        ("empty", vec![s("")]),
        ("debian-12-files", vec![s(DEBIAN_USR), s(DEBIAN_ETC)]),
        (
            "every-4.3-key",
            vec![format!(
                "[network]\nnetwork_backend = \"netavark\"\ncni_plugin_dirs = [\"{existing_dir}\"]\ndefault_network = \"web-net\"\ndefault_subnet = \"10.77.0.0/16\"\ndefault_subnet_pools = [{{base = \"10.10.0.0/16\", size = 26}}, {{base = \"192.168.0.0/16\", size = 24}}]\nnetwork_config_dir = \"/srv/networks\"\ndns_bind_port = 5353\n"
            )],
        ),
        (
            "key-by-key-override",
            vec![
                s("[network]\nnetwork_backend = \"cni\"\ndns_bind_port = 54\ndefault_network = \"a\"\n"),
                s("[network]\ndefault_network = \"b\"\n[engine]\nruntime = \"crun\"\n"),
                s("[network]\nnetwork_config_dir = \"/x\"\n"),
            ],
        ),
        (
            "empty-strings-and-zero-unset",
            vec![
                s("[network]\nnetwork_backend = \"cni\"\ndns_bind_port = 54\nnetwork_config_dir = \"/x\"\n"),
                s("[network]\nnetwork_backend = \"\"\ndns_bind_port = 0\nnetwork_config_dir = \"\"\n"),
            ],
        ),
        (
            "pools-replaced-by-a-shorter-list",
            vec![s("[network]\ndefault_subnet_pools = [{base = \"172.16.0.0/12\", size = 20}]\n")],
        ),
        ("empty-pools", vec![s("[network]\ndefault_subnet_pools = []\n")]),
        (
            "non-canonical-subnet",
            vec![s("[network]\ndefault_subnet = \"10.77.3.9/16\"\n")],
        ),
        (
            "unknown-keys-and-tables",
            vec![s("top = 1\n[network]\nnetwork_backen = \"x\"\n[nonsense]\na = 1\n[containers]\nfoo = 2\n")],
        ),
        (
            "5.x-only-keys-ignored-by-4.3",
            vec![s("[network]\nfirewall_driver = \"nftables\"\npasta_options = [\"--mtu\", \"1500\"]\ndefault_rootless_network_cmd = \"slirp4netns\"\nnetavark_plugin_dirs = [\"/opt/np\"]\ndns_bind_port = 1053\n")],
        ),
    ]
}

/// Chains both parsers reject.
const REJECTED_BY_BOTH: &[(&str, &str)] = &[
    ("port-wrong-type", "[network]\ndns_bind_port = \"53\"\n"),
    ("port-out-of-range", "[network]\ndns_bind_port = 70000\n"),
    ("port-negative", "[network]\ndns_bind_port = -1\n"),
    ("backend-wrong-type", "[network]\nnetwork_backend = 1\n"),
    (
        "pool-base-not-cidr",
        "[network]\ndefault_subnet_pools = [{base = \"nope\", size = 24}]\n",
    ),
    (
        "pool-base-ipv6",
        "[network]\ndefault_subnet_pools = [{base = \"fd00::/8\", size = 64}]\n",
    ),
    (
        "pool-size-above-32",
        "[network]\ndefault_subnet_pools = [{base = \"10.0.0.0/16\", size = 33}]\n",
    ),
    (
        "pool-size-below-prefix",
        "[network]\ndefault_subnet_pools = [{base = \"10.0.0.0/16\", size = 8}]\n",
    ),
    (
        "plugin-dirs-not-a-list",
        "[network]\ncni_plugin_dirs = \"/usr\"\n",
    ),
    (
        "engine-bool-wrong-type",
        "[engine]\nenable_port_reservation = \"yes\"\n",
    ),
    ("not-toml", "[network\nx = 1\n"),
    ("network-not-a-table", "network = \"netavark\"\n"),
];

/// Values podman 4.3 stores as they are and rejects only when it uses them (creating the
/// default network, choosing the backend); this crate rejects them when reading, so the
/// error names the file. Pinned here so a change on either side shows.
const STRICTER_HERE: &[(&str, &str)] = &[
    (
        "unknown-backend",
        "[network]\nnetwork_backend = \"slirp\"\n",
    ),
    (
        "bad-default-subnet",
        "[network]\ndefault_subnet = \"10.88.0.0/33\"\n",
    ),
    (
        "bad-default-network",
        "[network]\ndefault_network = \"-bad\"\n",
    ),
    // Go decodes into the default pool's element and keeps its size 24.
    (
        "pool-without-size",
        "[network]\ndefault_subnet_pools = [{base = \"10.10.0.0/16\"}]\n",
    ),
];

/// TOML 1.1 syntax: the `toml` crate reads TOML 1.1, BurntSushi/toml 1.2 (podman 4.3)
/// only TOML 1.0, so podman 4.3 rejects these files and this crate reads them. Pinned
/// here so a change on either side shows.
const LENIENT_HERE: &[(&str, &str)] = &[
    (
        "newline-in-inline-table",
        "[network]\ndefault_subnet_pools = [{base = \"10.10.0.0/16\",\n size = 26}]\n",
    ),
    (
        "trailing-comma-in-inline-table",
        "[network]\ndefault_subnet_pools = [{base = \"10.10.0.0/16\", size = 26,}]\n",
    ),
    ("escape-e", "[network]\nnetwork_config_dir = \"/a\\eb\"\n"),
];

/// Skips loudly, or fails under `CI`.
fn skip(what: &str, why: &str) {
    testkit::skip(what, why);
}

/// One test, so the Go parser is built once.
#[test]
fn go_containers_common_43_and_this_crate_agree() {
    let dir = tempfile::tempdir().unwrap();
    let binary = match build_go_parser(dir.path()) {
        Ok(b) => b,
        Err(why) => return skip("differential test", &why),
    };
    files_agree(&binary, dir.path());
    let mount_points = ["/usr/share/containers", "/etc/containers"];
    if !is_root() {
        skip(
            "chain differential test",
            "needs root for a private mount namespace",
        );
    } else if let Some(missing) = mount_points.iter().find(|p| !Path::new(p).is_dir()) {
        skip(
            "chain differential test",
            &format!("{missing} is missing (apt-get install golang-github-containers-common, which podman needs)"),
        );
    } else {
        chain_agrees(&binary, &dir.path().join("tree"));
    }
}

/// Same files, same order: the same `[network]` values, or both reject them.
fn files_agree(binary: &Path, dir: &Path) {
    let binary = binary.to_path_buf();
    let existing = dir.display().to_string();
    let mut compared = 0;
    for (name, texts) in agreeing_cases(&existing) {
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let files = write_files(dir, name, &texts);
        let go = normalize_go(go_network(&binary, &files));
        assert!(go.get("error").is_none(), "{name}: go rejected it: {go}");
        let ours = our_network(&load_files(&files).unwrap_or_else(|e| panic!("{name}: {e}")));
        assert_eq!(ours, go, "{name}");
        compared += 1;
    }
    for (name, text) in REJECTED_BY_BOTH {
        let files = write_files(dir, name, &[text]);
        let go = go_network(&binary, &files);
        assert!(go.get("error").is_some(), "{name}: go accepted it: {go}");
        let ours = load_files(&files);
        assert!(ours.is_err(), "{name}: we accepted it: {ours:?}");
        compared += 1;
    }
    for (name, text) in STRICTER_HERE {
        let files = write_files(dir, name, &[text]);
        let go = go_network(&binary, &files);
        assert!(go.get("error").is_none(), "{name}: go now rejects it: {go}");
        assert!(load_files(&files).is_err(), "{name}: we accepted it");
        compared += 1;
    }
    for (name, text) in LENIENT_HERE {
        let files = write_files(dir, name, &[text]);
        let go = go_network(&binary, &files);
        assert!(go.get("error").is_some(), "{name}: go now accepts it: {go}");
        assert!(load_files(&files).is_ok(), "{name}: we now reject it");
        compared += 1;
    }
    eprintln!("{compared} containers.conf chains compared with containers/common v0.50");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let uids = s.lines().find(|l| l.starts_with("Uid:"))?.to_string();
            Some(uids.split_whitespace().nth(2)? == "0")
        })
        .unwrap_or(false)
}

/// podman 4.3's whole chain (`config.NewConfig`) over the files of `tree`, run in a
/// private mount namespace where `tree/usr` and `tree/etc` are bind-mounted over
/// `/usr/share/containers` and `/etc/containers` (the real ones are not touched).
fn go_system(binary: &Path, tree: &Path, env: &[(&str, String)]) -> Value {
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(r#"mount --bind "$1" /usr/share/containers && mount --bind "$2" /etc/containers && exec "$3" --system"#)
        .arg("sh")
        .arg(tree.join("usr"))
        .arg(tree.join("etc"))
        .arg(binary)
        .env_remove("CONTAINERS_CONF")
        .env_remove("CONTAINERS_CONF_OVERRIDE")
        .env_remove("_CONTAINERS_ROOTLESS_UID")
        .env("XDG_CONFIG_HOME", tree.join("home"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn put(tree: &Path, rel: &str, text: &str) {
    let path = tree.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The same tree read as podman 4.3 reads it (`config.NewConfig`) and as [`Sources`] reads
/// it, for root, for a rootless uid and with `CONTAINERS_CONF`.
fn chain_agrees(binary: &Path, tree: &Path) {
    // each file overrides what the earlier ones set, so only the right order gives the
    // right values; the user's files are read by podman 4.3 for a rootless uid only
    put(tree, "usr/containers.conf", "[network]\ndefault_network = \"usr\"\ndns_bind_port = 1\nnetwork_config_dir = \"/usr-dir\"\n");
    put(
        tree,
        "etc/containers.conf",
        "[network]\ndefault_network = \"etc\"\nnetwork_backend = \"cni\"\n",
    );
    put(
        tree,
        "etc/containers.conf.d/20-b.conf",
        "[network]\ndns_bind_port = 3\n",
    );
    put(
        tree,
        "etc/containers.conf.d/10-a.conf",
        "[network]\ndns_bind_port = 2\nnetwork_config_dir = \"/a-dir\"\n",
    );
    put(
        tree,
        "etc/containers.conf.d/30-c.txt",
        "[network]\ndns_bind_port = 9\n",
    );
    put(
        tree,
        "etc/containers.conf.d/sub.conf/x.conf",
        "[network]\ndns_bind_port = 9\n",
    );
    let ours = |uid, containers_conf: Option<PathBuf>| {
        let sources = Sources {
            vendor_dir: tree.join("usr"),
            admin_dir: tree.join("etc"),
            user_dir: Some(tree.join("home/containers")),
            uid,
            containers_conf,
            ..Sources::under(tree, uid)
        };
        our_network(&load(&sources).unwrap())
    };

    // root, no user files (podman 5 would also read root's own user file)
    let go = normalize_go(go_system(binary, tree, &[]));
    assert_eq!(go["DNSBindPort"], 3, "{go}");
    assert_eq!(ours(0, None), go, "rootful");

    put(
        tree,
        "home/containers/containers.conf",
        "[network]\ndefault_network = \"home\"\n",
    );
    put(
        tree,
        "home/containers/containers.conf.d/40-d.conf",
        "[network]\ndefault_subnet = \"10.4.0.0/16\"\n",
    );
    let go = normalize_go(go_system(
        binary,
        tree,
        &[("_CONTAINERS_ROOTLESS_UID", "1000".into())],
    ));
    assert_eq!(go["DefaultNetwork"], "home", "{go}");
    assert_eq!(ours(1000, None), go, "rootless");

    let only = tree.join("only.conf");
    std::fs::write(&only, "[network]\ndefault_network = \"only\"\n").unwrap();
    let go = normalize_go(go_system(
        binary,
        tree,
        &[
            ("CONTAINERS_CONF", only.display().to_string()),
            ("_CONTAINERS_ROOTLESS_UID", "1000".into()),
        ],
    ));
    assert_eq!(go["DefaultNetwork"], "only", "{go}");
    assert_eq!(ours(1000, Some(only)), go, "CONTAINERS_CONF");
}
