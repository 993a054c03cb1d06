//! Unit tests of the key rules: typed values, key-by-key override, `{append = true}`,
//! one error line per bad value, warnings for unknown keys.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load_texts(texts: &[&str]) -> Result<ContainersConf, Error> {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| write(dir.path(), &format!("{i}.conf"), t))
        .collect();
    load_files(&files)
}

/// The error's text with the temporary directory cut off the file name.
fn error_of(text: &str) -> String {
    let err = load_texts(&[text]).unwrap_err().to_string();
    let (_, rest) = err.split_once("0.conf: ").unwrap();
    rest.to_string()
}

#[test]
fn defaults_are_containers_common_builtins() {
    let conf = load_files(&[]).unwrap();
    let net = &conf.network;
    assert_eq!(net.network_backend, None);
    assert_eq!(net.default_network, "podman");
    assert_eq!(net.default_subnet.to_string(), "10.88.0.0/16");
    assert_eq!(net.default_subnet_pools.len(), 5);
    assert_eq!(net.default_subnet_pools[0].base.to_string(), "10.89.0.0/16");
    assert_eq!(net.default_subnet_pools[4].base.to_string(), "10.128.0.0/9");
    assert_eq!(net.dns_bind_port, None);
    assert_eq!(net.default_rootless_network_cmd, RootlessNetworkCmd::Pasta);
    assert_eq!(net.cni_plugin_dirs[0], Path::new("/usr/local/libexec/cni"));
    assert!(conf.engine.enable_port_reservation);
    assert_eq!(
        conf.engine.helper_binaries_dir.last().unwrap(),
        Path::new("/usr/lib/podman")
    );
}

#[test]
fn every_network_and_engine_key_is_read() {
    let conf = load_texts(&[r#"
[network]
network_backend = "netavark"
default_network = "web-net"
default_subnet = "10.77.0.9/16"
default_subnet_pools = [{base = "10.10.0.0/16", size = 26}, {"base" = "192.168.0.0/16", "size" = 24}]
network_config_dir = "/srv/networks"
firewall_driver = "nftables"
dns_bind_port = 5353
pasta_options = ["--mtu", "1500"]
default_rootless_network_cmd = "slirp4netns"
cni_plugin_dirs = ["/opt/cni"]
netavark_plugin_dirs = ["/opt/np"]

[engine]
helper_binaries_dir = ["/opt/podman"]
enable_port_reservation = false
static_dir = "/srv/libpod"
tmp_dir = "/run/mylibpod"
"#])
    .unwrap();
    let net = &conf.network;
    assert_eq!(net.network_backend, Some(NetworkBackend::Netavark));
    assert_eq!(net.default_network, "web-net");
    assert_eq!(net.default_subnet.to_string(), "10.77.0.0/16");
    let pools: Vec<String> = net
        .default_subnet_pools
        .iter()
        .map(|p| format!("{} {}", p.base, p.size))
        .collect();
    assert_eq!(pools, ["10.10.0.0/16 26", "192.168.0.0/16 24"]);
    assert_eq!(
        net.network_config_dir.as_deref(),
        Some(Path::new("/srv/networks"))
    );
    assert_eq!(net.firewall_driver, Some(FirewallDriver::Nftables));
    assert_eq!(net.dns_bind_port, Some(5353));
    assert_eq!(net.pasta_options, ["--mtu", "1500"]);
    assert_eq!(
        net.default_rootless_network_cmd,
        RootlessNetworkCmd::Slirp4netns
    );
    assert_eq!(net.cni_plugin_dirs, [PathBuf::from("/opt/cni")]);
    assert_eq!(net.netavark_plugin_dirs, [PathBuf::from("/opt/np")]);
    let engine = &conf.engine;
    assert_eq!(engine.helper_binaries_dir, [PathBuf::from("/opt/podman")]);
    assert!(!engine.enable_port_reservation);
    assert_eq!(engine.static_dir.as_deref(), Some(Path::new("/srv/libpod")));
    assert_eq!(engine.tmp_dir.as_deref(), Some(Path::new("/run/mylibpod")));
}

#[test]
fn later_files_override_key_by_key() {
    let conf = load_texts(&[
        "[network]\nnetwork_backend = \"cni\"\ndns_bind_port = 54\ndefault_network = \"a\"\n",
        "[network]\ndefault_network = \"b\"\n",
        "[engine]\nenable_port_reservation = false\n[network]\nnetwork_backend = \"\"\n",
    ])
    .unwrap();
    assert_eq!(conf.network.default_network, "b");
    assert_eq!(conf.network.dns_bind_port, Some(54));
    // an empty string is podman's "unset": the marker file decides again
    assert_eq!(conf.network.network_backend, None);
    assert!(!conf.engine.enable_port_reservation);
    assert_eq!(conf.files.len(), 3);
}

#[test]
fn a_list_replaces_unless_it_ends_with_append_true() {
    let conf = load_texts(&[
        "[network]\npasta_options = [\"-a\"]\n",
        "[network]\npasta_options = [\"-b\", {append = true}]\n",
    ])
    .unwrap();
    assert_eq!(conf.network.pasta_options, ["-a", "-b"]);
    let conf = load_texts(&[
        "[engine]\nhelper_binaries_dir = [\"/x\", {append = true}]\n",
        "[network]\npasta_options = [\"-a\"]\n",
        "[network]\npasta_options = [\"-b\", {append = false}]\n",
    ])
    .unwrap();
    assert_eq!(conf.network.pasta_options, ["-b"]);
    assert_eq!(conf.engine.helper_binaries_dir.len(), 5);
    assert_eq!(conf.engine.helper_binaries_dir[4], Path::new("/x"));
}

#[test]
fn zero_dns_port_is_unset() {
    let conf = load_texts(&[
        "[network]\ndns_bind_port = 53\n",
        "[network]\ndns_bind_port = 0\n",
    ])
    .unwrap();
    assert_eq!(conf.network.dns_bind_port, None);
}

#[test]
fn bad_values_are_one_line_naming_file_key_and_value() {
    let cases = [
        ("[network]\nnetwork_backend = \"slirp\"\n", "[network] network_backend = \"slirp\": expected \"netavark\" or \"cni\""),
        ("[network]\nnetwork_backend = 1\n", "[network] network_backend = 1: expected a string"),
        ("[network]\ndefault_subnet = \"10.88.0.0/33\"\n", "[network] default_subnet = \"10.88.0.0/33\": expected a CIDR subnet"),
        ("[network]\ndefault_subnet = \"\"\n", "[network] default_subnet = \"\": expected a CIDR subnet"),
        ("[network]\ndns_bind_port = 70000\n", "[network] dns_bind_port = 70000: expected a port from 0 to 65535"),
        ("[network]\ndns_bind_port = \"53\"\n", "[network] dns_bind_port = \"53\": expected a port from 0 to 65535"),
        ("[network]\nfirewall_driver = \"pf\"\n", "[network] firewall_driver = \"pf\": expected \"iptables\", \"nftables\", \"firewalld\" or \"none\""),
        ("[network]\ndefault_rootless_network_cmd = \"vpnkit\"\n", "[network] default_rootless_network_cmd = \"vpnkit\": expected \"pasta\" or \"slirp4netns\""),
        ("[network]\ndefault_network = \"-bad\"\n", "[network] default_network = \"-bad\": a network name is [a-zA-Z0-9][a-zA-Z0-9_.-]*"),
        ("[network]\npasta_options = \"--mtu\"\n", "[network] pasta_options = \"--mtu\": expected an array of strings"),
        ("[network]\npasta_options = [1]\n", "[network] pasta_options = [1]: expected an array of strings"),
        ("[network]\ncni_plugin_dirs = [{append = true}, \"/x\"]\n", "[network] cni_plugin_dirs = [{ append = true }, \"/x\"]: expected an array of strings"),
        ("[network]\ndefault_subnet_pools = [{base = \"fd00::/8\", size = 64}]\n", "[network] default_subnet_pools = [{ base = \"fd00::/8\", size = 64 }]: { base = \"fd00::/8\", size = 64 }: base must be an IPv4 subnet"),
        ("[network]\ndefault_subnet_pools = [{base = \"10.0.0.0/16\", size = 8}]\n", "[network] default_subnet_pools = [{ base = \"10.0.0.0/16\", size = 8 }]: { base = \"10.0.0.0/16\", size = 8 }: size must be from the base's prefix length (16) to 32"),
        ("[network]\ndefault_subnet_pools = [{base = \"10.0.0.0/16\", size = 33}]\n", "[network] default_subnet_pools = [{ base = \"10.0.0.0/16\", size = 33 }]: { base = \"10.0.0.0/16\", size = 33 }: size must be from the base's prefix length (16) to 32"),
        ("[network]\ndefault_subnet_pools = [{base = \"nope\", size = 24}]\n", "[network] default_subnet_pools = [{ base = \"nope\", size = 24 }]: { base = \"nope\", size = 24 }: base must be a CIDR string"),
        ("[engine]\nenable_port_reservation = \"yes\"\n", "[engine] enable_port_reservation = \"yes\": expected true or false"),
        ("[engine]\nstatic_dir = \"relative/dir\"\n", "[engine] static_dir = \"relative/dir\": must be an absolute path"),
        ("[engine]\ntmp_dir = \"tmp\"\n", "[engine] tmp_dir = \"tmp\": must be an absolute path"),
    ];
    for (text, want) in cases {
        let got = error_of(text);
        assert_eq!(got, want, "{text}");
        assert!(!got.contains('\n'), "{got}");
    }
}

#[test]
fn a_bad_value_leaves_nothing_of_its_file_applied() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "a.conf", "[network]\ndefault_network = \"a\"\n");
    let bad = write(
        dir.path(),
        "b.conf",
        "[network]\ndefault_network = \"b\"\ndns_bind_port = -1\n",
    );
    let err = load_files(&[good, bad.clone()]).unwrap_err();
    assert!(err
        .to_string()
        .starts_with(&format!("{}: [network] dns_bind_port = -1", bad.display())));
    let mut conf = ContainersConf::default();
    let err = apply::apply_file(
        &mut conf,
        &bad,
        "[network]\ndefault_network = \"b\"\ndns_bind_port = -1\n",
    );
    assert!(err.is_err());
    assert_eq!(conf, ContainersConf::default());
}

#[test]
fn a_known_table_that_is_not_a_table_is_an_error() {
    assert_eq!(
        error_of("network = 1\n"),
        "network = 1: expected a [network] table"
    );
}

#[test]
fn syntax_errors_are_one_line_naming_the_file() {
    let got = error_of("[network\nx = 1\n");
    assert!(got.starts_with("not valid TOML: "), "{got}");
    assert!(!got.contains('\n'), "{got}");
}

/// Collects what `tracing` prints while `f` runs.
fn logs_of(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || out.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn unknown_keys_are_ignored_with_a_warning_naming_file_and_key() {
    let text = "top = 1\n[network]\nnetwork_backen = \"x\"\n[engine]\nruntime = \"crun\"\n[containers]\nfoo = 2\n[engine.runtimes]\ncrun = [\"/usr/bin/crun\"]\n[nonsense]\na = 1\n";
    let mut result = None;
    let logs = logs_of(|| result = Some(load_texts(&[text])));
    let conf = result.unwrap().unwrap();
    assert_eq!(conf.network, NetworkConfig::default());
    for key in [
        "key=top",
        "key=network.network_backen",
        "key=containers.foo",
        "key=nonsense",
    ] {
        assert!(logs.contains(key), "{key} missing in {logs}");
    }
    assert!(logs.contains("0.conf"), "{logs}");
    // known to containers.conf, not used by podnet: no warning
    assert!(!logs.contains("engine.runtime"), "{logs}");
    assert_eq!(logs.lines().count(), 4, "{logs}");
}

#[test]
fn podman_43_debian_files_are_accepted() {
    // /usr/share/containers/containers.conf and /etc/containers/containers.conf of
    // Debian 12's podman 4.3 (comments dropped)
    let usr = "[containers]\ndefault_capabilities = [\n  \"CHOWN\",\n  \"SYS_CHROOT\"\n]\ndefault_sysctls = [\n  \"net.ipv4.ping_group_range=0 0\",\n]\n[secrets]\n[secrets.opts]\n[network]\n[engine]\n[engine.runtimes]\n[engine.volume_plugins]\n[machine]\n";
    let etc = "[containers]\ndefault_ulimits = [\"nofile=1024:20000\", \"nproc=32768:32768\"]\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";
    let mut result = None;
    let logs = logs_of(|| result = Some(load_texts(&[usr, etc])));
    assert_eq!(result.unwrap().unwrap().network, NetworkConfig::default());
    assert_eq!(logs, "");
}
