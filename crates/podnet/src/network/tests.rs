//! Unit tests of the network store on a temporary directory with fixture
//! host tables (no privileges, nothing on the host read or changed).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use super::*;

const ROUTES: &str =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

/// A store on `tmp/networks` whose host tables are `tmp/proc`: the host has
/// the route `10.89.0.0/24` and the interfaces `lo`, `eth0`, `podman1`.
pub(super) fn store(tmp: &Path) -> NetworkStore {
    let proc = tmp.join("proc");
    fs::create_dir_all(&proc).unwrap();
    // 10.89.0.0/24 in native byte order, as the kernel prints it
    let dst = u32::from_ne_bytes([10, 89, 0, 0]);
    let mask = u32::from_ne_bytes([255, 255, 255, 0]);
    let default = "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
    fs::write(
        proc.join("route"),
        format!("{ROUTES}{default}eth0\t{dst:08X}\t00000000\t0001\t0\t0\t0\t{mask:08X}\t0\t0\t0\n"),
    )
    .unwrap();
    fs::write(
        proc.join("dev"),
        "h1\nh2\n    lo: 0\n  eth0: 0\npodman1: 0\n",
    )
    .unwrap();
    NetworkStore::new(tmp.join("networks")).with_proc_net_dir(proc)
}

fn named(name: &str) -> Network {
    Network {
        name: name.into(),
        dns_enabled: true,
        ..Default::default()
    }
}

#[test]
fn default_network_without_file() {
    let tmp = tempfile::tempdir().unwrap();
    let all = store(tmp.path()).list().unwrap();
    assert_eq!(all.len(), 1);
    let d = &all[0];
    assert_eq!(d.name, "podman");
    assert_eq!(
        d.id,
        "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
    );
    assert_eq!(d.network_interface, "podman0");
    assert_eq!(d.subnets[0].subnet.to_string(), "10.88.0.0/16");
    assert_eq!(d.subnets[0].gateway.unwrap().to_string(), "10.88.0.1");
    assert!(!d.dns_enabled && !d.internal && !d.ipv6_enabled);
    assert_eq!(
        d.ipam_options.get("driver").map(String::as_str),
        Some("host-local")
    );
    // no file was written for it
    assert!(!tmp.path().join("networks/podman.json").exists());
}

#[test]
fn create_skips_used_subnets_and_names() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    let a = s.create(named("pnta")).unwrap();
    // 10.89.0.0/24 is a host route; podman1 a host interface
    assert_eq!(a.subnets[0].subnet.to_string(), "10.89.1.0/24");
    assert_eq!(a.subnets[0].gateway.unwrap().to_string(), "10.89.1.1");
    assert_eq!(a.network_interface, "podman2");
    assert_eq!(a.driver, "bridge");
    assert_eq!(a.id.len(), 64);
    assert_eq!(a.ipam_options["driver"], "host-local");
    let b = s.create(named("pntb")).unwrap();
    assert_eq!(b.subnets[0].subnet.to_string(), "10.89.2.0/24");
    assert_eq!(b.network_interface, "podman3");
    // the file is podman's format and reads back equal
    let path = tmp.path().join("networks/pnta.json");
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("{\n     \"name\": \"pnta\",\n     \"id\": "),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(s.inspect("pnta").unwrap(), a);
    // no temp file left behind
    let names: Vec<String> = fs::read_dir(tmp.path().join("networks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
}

#[test]
fn create_without_name_uses_device_name() {
    let tmp = tempfile::tempdir().unwrap();
    let n = store(tmp.path()).create(Network::default()).unwrap();
    assert_eq!(n.name, "podman2");
    assert_eq!(n.network_interface, "podman2");
}

#[test]
fn dual_stack_internal_labels_options() {
    let tmp = tempfile::tempdir().unwrap();
    let mut req = named("pntdual");
    req.ipv6_enabled = true;
    req.labels.insert("app".into(), "x".into());
    req.options.insert("mtu".into(), "1400".into());
    req.options.insert("isolate".into(), "1".into());
    let n = store(tmp.path()).create(req).unwrap();
    assert_eq!(n.subnets.len(), 2);
    let v6 = &n.subnets[1];
    assert_eq!(v6.subnet.prefix_len(), 64);
    assert!(v6.subnet.to_string().starts_with("fd"));
    assert_eq!(
        v6.gateway.unwrap(),
        crate::network::addr::first_ip(&v6.subnet)
    );
    assert!(n.ipv6_enabled);
    assert_eq!(n.options["isolate"], "true");
    assert_eq!(n.labels["app"], "x");

    let mut internal = Network {
        name: "pntint".into(),
        internal: true,
        ..Default::default()
    };
    internal
        .subnets
        .push(Subnet::new("10.77.0.0/24".parse().unwrap()));
    let i = store(tmp.path()).create(internal).unwrap();
    // internal without dns: no gateway, as podman
    assert_eq!(i.subnets[0].gateway, None);
}

#[test]
fn create_rejects_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    assert!(matches!(
        s.create(named("-bad")),
        Err(NetworkError::Invalid(crate::InvalidInput {
            rule: crate::Rule::NameSyntax,
            ..
        }))
    ));
    assert!(matches!(
        s.create(named("podman")),
        Err(NetworkError::NameInUse { .. })
    ));
    let mut with_id = named("x");
    with_id.id = "ab".repeat(32);
    assert!(matches!(
        s.create(with_id),
        Err(NetworkError::IdGiven { .. })
    ));
    let mut used = named("x");
    used.subnets
        .push(Subnet::new("10.89.0.128/25".parse().unwrap()));
    assert!(matches!(
        s.create(used),
        Err(NetworkError::SubnetInUse { .. })
    ));
    let mut gw = named("x");
    gw.subnets.push(Subnet {
        gateway: Some("10.1.1.1".parse().unwrap()),
        ..Subnet::new("10.2.0.0/24".parse().unwrap())
    });
    assert!(matches!(
        s.create(gw),
        Err(NetworkError::Invalid(crate::InvalidInput {
            rule: crate::Rule::GatewayOutside(_),
            ..
        }))
    ));
    let mut drv = named("x");
    drv.driver = "overlay".into();
    assert!(matches!(
        s.create(drv),
        Err(NetworkError::UnsupportedDriver { .. })
    ));
    let mut opt = named("x");
    opt.options.insert("mtu".into(), "-1".into());
    assert!(matches!(
        s.create(opt),
        Err(NetworkError::Invalid(crate::InvalidInput {
            rule: crate::Rule::Mtu { .. },
            ..
        }))
    ));
    s.create(named("first")).unwrap();
    let mut br = named("x");
    br.network_interface = s.inspect("first").unwrap().network_interface;
    assert!(matches!(
        s.create(br),
        Err(NetworkError::BridgeNameInUse { .. })
    ));
    // nothing but `first` was written
    let files: BTreeSet<String> = fs::read_dir(s.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    assert_eq!(
        files,
        ["first.json", "netavark.lock"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

fn write_net(dir: &Path, name: &str, id: &str) {
    fs::create_dir_all(dir).unwrap();
    let n = Network {
        name: name.into(),
        id: id.into(),
        driver: "bridge".into(),
        subnets: vec![Subnet::new("10.60.0.0/24".parse().unwrap())],
        ..Default::default()
    };
    fs::write(
        dir.join(format!("{name}.json")),
        n.to_podman_json().unwrap(),
    )
    .unwrap();
}

#[test]
fn macvlan_needs_parent_and_subnet() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    let mac = |parent: &str, subnet: Option<&str>| Network {
        name: "pntmac".into(),
        driver: "macvlan".into(),
        network_interface: parent.into(),
        subnets: subnet
            .map(|x| Subnet::new(x.parse().unwrap()))
            .into_iter()
            .collect(),
        ..Default::default()
    };
    assert!(matches!(
        s.create(mac("nosuchif", Some("192.168.50.0/24"))),
        Err(NetworkError::ParentMissing { .. })
    ));
    // podman 5: no subnet and no IPAM driver is DHCP; host-local asked for needs a subnet
    let mut host_local = mac("eth0", None);
    host_local
        .ipam_options
        .insert(IPAM_DRIVER_KEY.into(), HOST_LOCAL_IPAM.into());
    assert!(matches!(
        s.create(host_local),
        Err(NetworkError::MacvlanNeedsSubnet { .. })
    ));
    let mut dhcp = mac("eth0", None);
    dhcp.name = "pntmacdhcp".into();
    let dhcp = s.create(dhcp).unwrap();
    assert_eq!(dhcp.ipam_options[IPAM_DRIVER_KEY], "dhcp");
    assert!(dhcp.subnets.is_empty() && !dhcp.dns_enabled);
    s.remove("pntmacdhcp").unwrap();
    let mut ok = mac("eth0", Some("192.168.50.0/24"));
    ok.options.insert("mode".into(), "bridge".into());
    let n = s.create(ok).unwrap();
    assert_eq!(n.network_interface, "eth0");
    assert_eq!(n.ipam_options["driver"], "host-local");
    assert_eq!(n.subnets[0].gateway.unwrap().to_string(), "192.168.50.1");
}

#[test]
fn ipvlan_takes_a_parent_a_subnet_and_its_own_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    let ipvlan = |name: &str, subnet: Option<&str>, mode: &str| {
        let mut n = Network {
            name: name.into(),
            driver: "ipvlan".into(),
            network_interface: "eth0".into(),
            subnets: subnet
                .map(|x| Subnet::new(x.parse().unwrap()))
                .into_iter()
                .collect(),
            ..Default::default()
        };
        n.options.insert("mode".into(), mode.into());
        n
    };
    let err = s
        .create(ipvlan("pntiv0", None, "l2"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ipvlan driver needs at least one subnet"),
        "{err}"
    );
    let err = s
        .create(ipvlan("pntiv1", Some("192.168.51.0/24"), "bridge"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown ipvlan mode"), "{err}");
    let n = s
        .create(ipvlan("pntiv2", Some("192.168.51.0/24"), "l3"))
        .unwrap();
    assert_eq!(
        (n.driver.as_str(), n.options["mode"].as_str()),
        ("ipvlan", "l3")
    );
    assert_eq!(n.ipam_options["driver"], "host-local");
}

#[test]
fn lookup_by_name_id_and_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    let id1 = format!("abc1{}", "0".repeat(60));
    let id2 = format!("abc2{}", "0".repeat(60));
    write_net(s.dir(), "one", &id1);
    write_net(s.dir(), "two", &id2);
    assert_eq!(s.inspect("one").unwrap().id, id1);
    assert_eq!(s.inspect(&id2).unwrap().name, "two");
    assert_eq!(s.inspect("abc1").unwrap().name, "one");
    assert_eq!(s.inspect("2f259b").unwrap().name, "podman");
    match s.inspect("abc") {
        Err(NetworkError::AmbiguousId { matches, .. }) => assert_eq!(matches, vec!["one", "two"]),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.inspect("nope"),
        Err(NetworkError::NotFound { .. })
    ));
    assert!(matches!(s.inspect(""), Err(NetworkError::NotFound { .. })));
}

#[test]
fn invalid_files_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    write_net(s.dir(), "good", &"a".repeat(64));
    fs::write(s.dir().join("broken.json"), "{ \"name\": ").unwrap();
    fs::write(s.dir().join("notanet.json"), "[1, 2]").unwrap();
    write_net(s.dir(), "shortid", "abc");
    // name does not match the file name
    write_net(s.dir(), "mismatch", &"b".repeat(64));
    fs::rename(s.dir().join("mismatch.json"), s.dir().join("other.json")).unwrap();
    fs::write(s.dir().join("README"), "not json").unwrap();
    let (listed, text) = warnings_of(|| s.list());
    let names: Vec<String> = listed.unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names, vec!["good", "podman"]);
    // each skipped file was named in a warning
    for f in ["broken.json", "notanet.json", "shortid.json", "other.json"] {
        assert!(
            text.contains(f) && text.contains("WARN"),
            "{f} not warned about:\n{text}"
        );
    }
    assert!(!text.contains("good.json"), "{text}");
}

#[test]
fn podman_files_podnet_would_refuse_load_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    fs::create_dir_all(s.dir()).unwrap();
    let wide = Network {
        name: "wide".into(),
        id: "d".repeat(64),
        driver: "bridge".into(),
        subnets: vec![Subnet::new("0.0.0.0/0".parse().unwrap())],
        ..Default::default()
    };
    fs::write(s.dir().join("wide.json"), wide.to_podman_json().unwrap()).unwrap();
    let (loaded, text) = warnings_of(|| s.inspect("wide"));
    assert_eq!(loaded.unwrap().subnets[0].subnet.to_string(), "0.0.0.0/0");
    assert!(
        text.contains("WARN")
            && text.contains("wide.json")
            && text.contains("\"0.0.0.0/0\"")
            && text.contains("reserved"),
        "{text}"
    );
}

#[test]
fn fifo_symlink_and_huge_files_are_skipped_without_reading_them() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    write_net(s.dir(), "good", &"a".repeat(64));
    nix::unistd::mkfifo(
        &s.dir().join("fifo.json"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", s.dir().join("zero.json")).unwrap();
    // a regular, valid network file behind a symlink is not followed either
    write_net(tmp.path(), "outside", &"c".repeat(64));
    std::os::unix::fs::symlink(
        tmp.path().join("outside.json"),
        s.dir().join("outside.json"),
    )
    .unwrap();
    // 200 MB, sparse: costs nothing to make, would cost 200 MB to read
    let huge = fs::File::create(s.dir().join("huge.json")).unwrap();
    huge.set_len(200 << 20).unwrap();
    let names: Vec<String> = s.list().unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names, vec!["good", "podman"]);
    for (name, why) in [
        ("fifo", "FIFO"),
        ("zero", "symbolic link"),
        ("outside", "symbolic link"),
        ("huge", "1048576-byte limit"),
    ] {
        let err = s.inspect(name).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, NetworkError::Unreadable { .. }),
            "{name}: {text}"
        );
        assert!(
            text.contains(&format!("{name}.json")) && text.contains(why),
            "{name}: {text}"
        );
        // and create never renames over such a file
        assert!(
            matches!(s.create(named(name)), Err(NetworkError::Unreadable { .. })),
            "{name}"
        );
    }
    assert!(s
        .dir()
        .join("fifo.json")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_fifo());
}

/// What `f` returns, and the warnings it logged.
fn warnings_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

/// Captured log output of a test subscriber.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[test]
fn remove_and_default_protected() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    let n = s.create(named("gone")).unwrap();
    let removed = s.remove(&n.id[..12]).unwrap();
    assert_eq!(removed.name, "gone");
    assert!(!s.dir().join("gone.json").exists());
    assert!(matches!(
        s.inspect("gone"),
        Err(NetworkError::NotFound { .. })
    ));
    assert!(matches!(
        s.remove("podman"),
        Err(NetworkError::RemoveDefault { .. })
    ));
    assert!(matches!(
        s.remove("gone"),
        Err(NetworkError::NotFound { .. })
    ));
}

#[test]
fn a_file_named_like_the_default_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    write_net(s.dir(), "podman", &"c".repeat(64));
    let all = s.list().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, "c".repeat(64));
}

#[test]
fn concurrent_creates_get_distinct_subnets() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path());
    fs::create_dir_all(s.dir()).unwrap();
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..5)
                    .map(|i| s.create(named(&format!("pntc{t}x{i}"))).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let nets: Vec<Network> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let subnets: BTreeSet<String> = nets
        .iter()
        .map(|n| n.subnets[0].subnet.to_string())
        .collect();
    let bridges: BTreeSet<&str> = nets.iter().map(|n| n.network_interface.as_str()).collect();
    assert_eq!(subnets.len(), 10);
    assert_eq!(bridges.len(), 10);
}

#[test]
fn custom_pools_and_default_network() {
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path())
        .with_subnet_pools(vec![SubnetPool::new("172.30.0.0/16".parse().unwrap(), 26)])
        .with_default_network("pntdef", "10.99.0.0/16".parse().unwrap());
    let n = s.create(named("x")).unwrap();
    assert_eq!(n.subnets[0].subnet.to_string(), "172.30.0.0/26");
    let d = s.inspect("pntdef").unwrap();
    assert_eq!(d.subnets[0].subnet.to_string(), "10.99.0.0/16");
    assert!(matches!(
        s.inspect("podman"),
        Err(NetworkError::NotFound { .. })
    ));
}
