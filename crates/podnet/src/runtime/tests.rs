//! Unit tests of the flows' ordering and rollback, with the recording fake backend and
//! plain files for namespace pins (no root). Real namespaces and netavark are the proof
//! that the flows work: see `tests/flows.rs`.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use super::*;
use crate::backend::testing::{BackendCall, FakeBackend};
use crate::Network;

pub(super) struct Fixture {
    pub(super) dir: TempDir,
    pub(super) rt: Runtime<FakeBackend>,
}

fn fixture_with(backend: FakeBackend) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RuntimeConfig::under(dir.path());
    config.base_hosts = None;
    let resolv = dir.path().join("host-resolv.conf");
    std::fs::write(&resolv, "nameserver 192.0.2.53\n").unwrap();
    config.resolv_sources.resolv_conf = resolv;
    config.resolv_sources.etc_netns = dir.path().join("etc-netns");
    let proc_net = dir.path().join("proc-net");
    std::fs::create_dir_all(&proc_net).unwrap();
    for f in ["route", "ipv6_route", "dev"] {
        std::fs::write(proc_net.join(f), "").unwrap();
    }
    let store = crate::NetworkStore::new(&config.networks_dir).with_proc_net_dir(&proc_net);
    let rt = Runtime::new(config, backend)
        .unwrap()
        .with_network_store(store)
        .with_plain_file_namespaces();
    rt.networks()
        .create(Network {
            name: "front".into(),
            ..Network::default()
        })
        .unwrap();
    rt.networks()
        .create(Network {
            name: "back".into(),
            dns_enabled: true,
            ..Network::default()
        })
        .unwrap();
    Fixture { dir, rt }
}

pub(super) fn fixture() -> Fixture {
    fixture_with(FakeBackend::new())
}

pub(super) fn spec(name: &str, networks: &[&str]) -> ContainerSpec {
    ContainerSpec {
        name: name.into(),
        networks: networks.iter().map(|n| NetworkRequest::new(*n)).collect(),
        ..ContainerSpec::default()
    }
}

pub(super) fn pins(f: &Fixture) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&f.rt.config().netns_dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The names of the recorded containers (by name only: a lookup by `container(NAME)` also
/// matches a container whose ID starts with NAME).
pub(super) fn container_names(f: &Fixture) -> Vec<String> {
    f.rt.containers()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

fn leased(f: &Fixture) -> Vec<IpAddr> {
    f.rt.state()
        .list_leases()
        .unwrap()
        .into_iter()
        .map(|l| l.ip)
        .collect()
}

pub(super) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn create_rejects_bad_input_and_records_nothing() {
    let f = fixture();
    let bad_name = f.rt.create(&spec("-bad", &["front"])).unwrap_err();
    assert!(bad_name.to_string().contains("-bad"), "{bad_name}");
    let unknown = f.rt.create(&spec("c1", &["nope"])).unwrap_err();
    assert!(unknown.to_string().contains("nope"), "{unknown}");
    let mut ports = spec("c1", &["front"]);
    ports.ports = vec![
        portmap::parse_publish("8080:80").unwrap(),
        portmap::parse_publish("8080:81").unwrap(),
    ];
    let conflict = f.rt.create(&ports).unwrap_err();
    assert!(format!("{conflict:?}").contains("8080"), "{conflict:?}");
    let mut outside = spec("c1", &["front"]);
    outside.networks[0].static_ips = vec!["192.0.2.9".parse().unwrap()];
    let err = f.rt.create(&outside).unwrap_err();
    assert!(err.to_string().contains("192.0.2.9"), "{err}");
    assert!(f.rt.containers().unwrap().is_empty());
    assert!(leased(&f).is_empty());

    f.rt.create(&spec("c1", &["front"])).unwrap();
    let dup = f.rt.create(&spec("c1", &["front"])).unwrap_err();
    assert!(dup.to_string().contains("c1"), "{dup}");
    assert_eq!(f.rt.containers().unwrap().len(), 1);
}

#[test]
fn create_defaults_to_the_default_network_with_short_id_alias() {
    let f = fixture();
    let c = f.rt.create(&spec("solo", &[])).unwrap();
    let per = &c.networks["podman"];
    assert_eq!(per.interface_name, "eth0");
    assert_eq!(per.aliases, vec![c.id[..12].to_string()]);
    assert_eq!(c.hostname, c.id[..12]);
}

#[test]
fn setup_leases_calls_backend_writes_files_then_records() {
    let f = fixture();
    f.rt.create(&spec("web", &["front", "back"])).unwrap();
    let c = f.rt.setup("web").unwrap();
    assert!(c.running);
    let calls = f.rt.backend().calls();
    assert_eq!(calls.len(), 1);
    let BackendCall::Setup { netns, options } = &calls[0] else {
        panic!("expected setup, got {calls:?}")
    };
    assert_eq!(Some(netns), c.netns_path.as_ref());
    // interfaces in the order the networks were asked for
    assert_eq!(options.networks["front"].interface_name, "eth0");
    assert_eq!(options.networks["back"].interface_name, "eth1");
    // the first free address of each subnet (gateway .1 excluded) went to the backend
    let front = f.rt.networks().inspect("front").unwrap();
    let first: IpAddr = match front.subnets[0].subnet {
        ipnet::IpNet::V4(n) => IpAddr::V4((u32::from(n.network()) + 2).into()),
        ipnet::IpNet::V6(_) => unreachable!(),
    };
    assert_eq!(options.networks["front"].static_ips, vec![first]);
    assert_eq!(leased(&f).len(), 2);
    assert!(f.rt.state().list_intents().unwrap().is_empty());
    let hosts = read(c.hosts_path.as_ref().unwrap());
    assert!(
        hosts.contains(&format!("{first}\t{} web\n", c.hostname)),
        "{hosts}"
    );
    let resolv = read(c.resolv_conf_path.as_ref().unwrap());
    assert!(resolv.contains("nameserver 192.0.2.53"), "{resolv}");
    assert_eq!(pins(&f).len(), 1);
}

#[test]
fn failed_backend_setup_leaves_nothing() {
    let f = fixture_with(FakeBackend::new().fail_at(1));
    f.rt.create(&spec("web", &["front"])).unwrap();
    let err = f.rt.setup("web").unwrap_err();
    assert!(err.to_string().contains("setup"), "{err}");
    let c = f.rt.container("web").unwrap();
    assert!(!c.running && c.netns_path.is_none());
    assert!(leased(&f).is_empty());
    assert!(f.rt.state().list_intents().unwrap().is_empty());
    assert!(pins(&f).is_empty(), "{:?}", pins(&f));
}

#[test]
fn connect_running_adds_one_network_hosts_line_and_lease() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let before = f.rt.setup("web").unwrap();
    let after = f.rt.connect("web", &NetworkRequest::new("back")).unwrap();
    let calls = f.rt.backend().calls();
    let BackendCall::Setup { options, .. } = &calls[1] else {
        panic!("{calls:?}")
    };
    assert_eq!(options.networks.keys().collect::<Vec<_>>(), ["back"]);
    assert_eq!(options.networks["back"].interface_name, "eth1");
    assert!(options.networks["back"]
        .aliases
        .contains(&after.id[..12].to_string()));
    assert_eq!(after.network_status.len(), 2);
    let new_ip = options.networks["back"].static_ips[0];
    let hosts = read(after.hosts_path.as_ref().unwrap());
    assert!(hosts.contains(&format!("{new_ip}\t")), "{hosts}");
    assert_eq!(leased(&f).len(), 2);
    // already connected and running: an error, and nothing changes
    let again =
        f.rt.connect("web", &NetworkRequest::new("back"))
            .unwrap_err();
    assert!(again.to_string().contains("already connected"), "{again}");
    assert_eq!(f.rt.backend().calls().len(), 2);
    assert_eq!(before.netns_path, after.netns_path);
}

#[test]
fn connect_stopped_is_recorded_and_repeat_is_a_no_op() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let c = f.rt.connect("web", &NetworkRequest::new("back")).unwrap();
    assert_eq!(c.networks.len(), 2);
    let again = f.rt.connect("web", &NetworkRequest::new("back")).unwrap();
    assert_eq!(again, c);
    assert!(f.rt.backend().calls().is_empty());
    assert!(leased(&f).is_empty());
}

#[test]
fn failed_connect_releases_lease_and_keeps_record() {
    let f = fixture_with(FakeBackend::new().fail_at(2));
    f.rt.create(&spec("web", &["front"])).unwrap();
    let before = f.rt.setup("web").unwrap();
    f.rt.connect("web", &NetworkRequest::new("back"))
        .unwrap_err();
    assert_eq!(f.rt.container("web").unwrap(), before);
    assert_eq!(leased(&f).len(), 1);
    assert!(f.rt.state().list_intents().unwrap().is_empty());
}

#[test]
fn disconnect_running_tears_down_releases_and_edits_hosts() {
    let f = fixture();
    f.rt.create(&spec("web", &["front", "back"])).unwrap();
    let c = f.rt.setup("web").unwrap();
    let back_ip = c.network_status["back"].interfaces["eth1"].subnets[0]
        .ipnet
        .addr();
    let hosts_path = c.hosts_path.clone().unwrap();
    assert!(read(&hosts_path).contains(&back_ip.to_string()));
    let c = f.rt.disconnect("web", "back").unwrap();
    assert_eq!(c.networks.keys().collect::<Vec<_>>(), ["front"]);
    assert!(!read(&hosts_path).contains(&back_ip.to_string()));
    assert_eq!(leased(&f).len(), 1);
    let calls = f.rt.backend().calls();
    assert!(
        matches!(&calls[1], BackendCall::Teardown { options, .. } if options.networks.len() == 1)
    );
    let err = f.rt.disconnect("web", "back").unwrap_err();
    assert!(err.to_string().contains("not connected"), "{err}");
}

#[test]
fn failed_disconnect_changes_nothing() {
    let f = fixture_with(FakeBackend::new().fail_at(2));
    f.rt.create(&spec("web", &["front", "back"])).unwrap();
    let before = f.rt.setup("web").unwrap();
    f.rt.disconnect("web", "back").unwrap_err();
    assert_eq!(f.rt.container("web").unwrap(), before);
    assert_eq!(leased(&f).len(), 2);
}

#[test]
fn reload_reuses_interface_mac_and_ips_without_new_leases() {
    let f = fixture();
    let mut s = spec("web", &["front"]);
    s.networks[0].static_mac = None;
    f.rt.create(&s).unwrap();
    let c = f.rt.setup("web").unwrap();
    let leases = leased(&f);
    let r = f.rt.reload("web").unwrap();
    assert_eq!(r.network_status, c.network_status);
    assert_eq!(leased(&f), leases);
    let calls = f.rt.backend().calls();
    assert!(matches!(calls[1], BackendCall::Teardown { .. }));
    let BackendCall::Setup { options, .. } = &calls[2] else {
        panic!("{calls:?}")
    };
    let iface = &c.network_status["front"].interfaces["eth0"];
    assert_eq!(
        options.networks["front"].static_mac.as_deref(),
        Some(iface.mac_address.as_str())
    );
    assert_eq!(
        options.networks["front"].static_ips,
        vec![iface.subnets[0].ipnet.addr()]
    );
}

#[test]
fn teardown_releases_everything_but_keeps_the_record_and_files() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let c = f.rt.setup("web").unwrap();
    let inode = std::fs::metadata(c.hosts_path.as_ref().unwrap()).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.ino()
    });
    let t = f.rt.teardown("web").unwrap();
    assert!(!t.running && t.netns_path.is_none() && t.network_status.is_empty());
    assert!(leased(&f).is_empty());
    assert!(pins(&f).is_empty());
    // a second start rewrites the same files in place
    let again = f.rt.setup("web").unwrap();
    let inode2 = std::fs::metadata(again.hosts_path.as_ref().unwrap()).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.ino()
    });
    assert_eq!(inode.unwrap(), inode2.unwrap());
    f.rt.remove("web", false).unwrap_err();
    f.rt.remove("web", true).unwrap();
    assert!(f.rt.containers().unwrap().is_empty());
    assert!(leased(&f).is_empty() && pins(&f).is_empty());
    assert!(!f.dir.path().join("containers").join(&again.id).exists());
}

#[test]
fn reconcile_undoes_an_interrupted_setup() {
    let f = fixture();
    let c = f.rt.create(&spec("web", &["front"])).unwrap();
    // what a crash right after the intent's commit leaves: a pin, a lease, an intent
    let pin = f.rt.create_netns(&c).unwrap();
    let nets = f.rt.record_networks(&c).unwrap();
    f.rt.lease_and_intend(&c, &nets, &pin, crate::state::IntentKind::Setup)
        .unwrap();
    // and a stray pin from a crash before the intent
    let stray = f.rt.create_netns(&c).unwrap();
    assert_eq!(leased(&f).len(), 1);
    let report = f.rt.reconcile().unwrap();
    assert_eq!(report.intents_undone, vec![c.id.clone()]);
    assert!(report.netns_removed.contains(&pin) && report.netns_removed.contains(&stray));
    assert!(leased(&f).is_empty());
    assert!(pins(&f).is_empty());
    assert!(f.rt.state().list_intents().unwrap().is_empty());
    let calls = f.rt.backend().calls();
    assert!(
        matches!(&calls[..], [BackendCall::Undo { new_bridges, .. }] if !new_bridges.is_empty()),
        "{calls:?}"
    );
    // idempotent
    let report = f.rt.reconcile().unwrap();
    assert!(report.is_empty(), "{report:?}");
    // and the container can start normally afterwards
    assert!(f.rt.setup("web").unwrap().running);
}

#[test]
fn inspect_shows_podman_network_settings() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let down = f.rt.inspect("web").unwrap();
    let json = serde_json::to_value(&down).unwrap();
    assert_eq!(json["Networks"]["front"]["IPAddress"], "");
    let c = f.rt.setup("web").unwrap();
    let up = serde_json::to_value(f.rt.inspect("web").unwrap()).unwrap();
    let ip = c.network_status["front"].interfaces["eth0"].subnets[0]
        .ipnet
        .addr();
    assert_eq!(up["Networks"]["front"]["IPAddress"], ip.to_string());
    assert_eq!(
        up["SandboxKey"],
        c.netns_path.unwrap().to_string_lossy().as_ref()
    );
}

#[test]
fn a_failure_after_the_backend_undoes_the_backend_work() {
    let f = fixture();
    let c = f.rt.create(&spec("web", &["front"])).unwrap();
    // a directory where the hosts file goes: etchosts refuses it after netavark ran
    std::fs::create_dir_all(f.dir.path().join("containers").join(&c.id).join("hosts")).unwrap();
    let err = f.rt.setup("web").unwrap_err();
    assert!(err.to_string().contains("hosts"), "{err}");
    let calls = f.rt.backend().calls();
    assert!(
        matches!(&calls[..], [BackendCall::Setup { options: a, .. }, BackendCall::Undo { options: b, .. }] if a == b),
        "{calls:?}"
    );
    assert!(leased(&f).is_empty());
    assert!(pins(&f).is_empty());
    assert!(f.rt.state().list_intents().unwrap().is_empty());
    assert!(!f.rt.container("web").unwrap().running);
}

#[test]
fn teardown_hands_the_backend_the_addresses_it_set_up() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let c = f.rt.setup("web").unwrap();
    f.rt.teardown("web").unwrap();
    let calls = f.rt.backend().calls();
    let BackendCall::Teardown { options, .. } = &calls[1] else {
        panic!("{calls:?}")
    };
    // netavark finds the port forwarding rules to delete by these addresses
    let ip = c.network_status["front"].interfaces["eth0"].subnets[0]
        .ipnet
        .addr();
    assert_eq!(options.networks["front"].static_ips, vec![ip]);
}

/// Each backend call's kind, with the number of leases held when it was made.
type Seen = Arc<Mutex<Vec<(&'static str, usize)>>>;

/// A fixture whose backend notes, at each call, its kind and how many leases the state
/// database holds at that moment (read through a second connection).
fn observed_fixture(fail: &[usize]) -> (Fixture, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let db: Arc<Mutex<Option<std::path::PathBuf>>> = Arc::default();
    let (seen2, db2) = (seen.clone(), db.clone());
    let mut backend = FakeBackend::new().observe(Box::new(move |call| {
        let kind = match call {
            BackendCall::Setup { .. } => "setup",
            BackendCall::Teardown { .. } => "teardown",
            BackendCall::Undo { .. } => "undo",
        };
        let path = db2.lock().unwrap().clone().unwrap();
        let leases = crate::StateStore::open(&path)
            .unwrap()
            .list_leases()
            .unwrap()
            .len();
        seen2.lock().unwrap().push((kind, leases));
    }));
    for n in fail {
        backend = backend.fail_at(*n);
    }
    let f = fixture_with(backend);
    *db.lock().unwrap() = Some(f.rt.config().state_db.clone());
    (f, seen)
}

#[test]
fn a_failed_setup_is_undone_in_the_backend_before_its_lease_is_released() {
    let (f, seen) = observed_fixture(&[1]);
    f.rt.create(&spec("web", &["front"])).unwrap();
    f.rt.setup("web").unwrap_err();
    assert_eq!(*seen.lock().unwrap(), [("setup", 1), ("undo", 1)]);
    assert!(leased(&f).is_empty() && pins(&f).is_empty());
    assert!(f.rt.state().list_intents().unwrap().is_empty());
}

#[test]
fn a_failure_after_the_backend_is_undone_before_the_lease_is_released() {
    let (f, seen) = observed_fixture(&[]);
    let c = f.rt.create(&spec("web", &["front"])).unwrap();
    std::fs::create_dir_all(f.dir.path().join("containers").join(&c.id).join("hosts")).unwrap();
    f.rt.setup("web").unwrap_err();
    assert_eq!(*seen.lock().unwrap(), [("setup", 1), ("undo", 1)]);
    assert!(leased(&f).is_empty());
}

#[test]
fn a_failed_connect_is_undone_before_its_lease_is_released() {
    let (f, seen) = observed_fixture(&[2]);
    f.rt.create(&spec("web", &["front"])).unwrap();
    let before = f.rt.setup("web").unwrap();
    f.rt.connect("web", &NetworkRequest::new("back"))
        .unwrap_err();
    // the connect's lease (the second) is still held while the backend undoes it
    assert_eq!(
        *seen.lock().unwrap(),
        [("setup", 1), ("setup", 2), ("undo", 2)]
    );
    let calls = f.rt.backend().calls();
    let BackendCall::Undo {
        options,
        new_bridges,
        ..
    } = &calls[2]
    else {
        panic!("{calls:?}")
    };
    assert_eq!(options.networks.keys().collect::<Vec<_>>(), ["back"]);
    assert_eq!(new_bridges, &crate::backend::bridge_names(options));
    assert_eq!(f.rt.container("web").unwrap(), before);
    assert_eq!(leased(&f).len(), 1);
    // and the same network connects afterwards
    f.rt.connect("web", &NetworkRequest::new("back")).unwrap();
    assert_eq!(leased(&f).len(), 2);
}

#[test]
fn an_undo_that_leaves_something_keeps_the_lease_and_intent_for_reconcile() {
    // connect's setup (call 2) fails and so does its undo (call 3)
    let f = fixture_with(FakeBackend::new().fail_at(2).fail_at(3));
    f.rt.create(&spec("web", &["front"])).unwrap();
    f.rt.setup("web").unwrap();
    f.rt.connect("web", &NetworkRequest::new("back"))
        .unwrap_err();
    assert_eq!(leased(&f).len(), 2, "the address may still be up: kept");
    let intents = f.rt.state().list_intents().unwrap();
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].kind, crate::state::IntentKind::Connect);
    let report = f.rt.reconcile().unwrap();
    assert_eq!(report.intents_undone.len(), 1, "{report:?}");
    assert!(matches!(
        f.rt.backend().calls().last(),
        Some(BackendCall::Undo { .. })
    ));
    assert_eq!(leased(&f).len(), 1);
    assert!(f.rt.state().list_intents().unwrap().is_empty());
}

#[test]
fn a_failed_setup_whose_undo_fails_keeps_lease_and_intent_until_reconcile() {
    let f = fixture_with(FakeBackend::new().fail_at(1).fail_at(2));
    f.rt.create(&spec("web", &["front"])).unwrap();
    f.rt.setup("web").unwrap_err();
    assert_eq!(leased(&f).len(), 1);
    assert_eq!(f.rt.state().list_intents().unwrap().len(), 1);
    assert!(
        pins(&f).is_empty(),
        "the netns goes, with the interfaces in it"
    );
    f.rt.reconcile().unwrap();
    assert!(leased(&f).is_empty());
    assert!(f.rt.state().list_intents().unwrap().is_empty());
    // a start after that works
    assert!(f.rt.setup("web").unwrap().running);
}

#[test]
fn connect_refuses_an_interface_name_the_container_has() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let before = f.rt.setup("web").unwrap();
    let mut request = NetworkRequest::new("back");
    request.interface_name = Some("eth0".into());
    let err = f.rt.connect("web", &request).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid interface name \"eth0\" for container web: the container has an interface of that name"
    );
    assert_eq!(f.rt.container("web").unwrap(), before);
    assert_eq!(f.rt.backend().calls().len(), 1);
}

#[test]
fn reconcile_tears_down_a_container_whose_netns_vanished_in_a_scratch_netns() {
    let f = fixture();
    f.rt.create(&spec("web", &["back"])).unwrap();
    let c = f.rt.setup("web").unwrap();
    std::fs::remove_file(c.netns_path.as_ref().unwrap()).unwrap();
    let report = f.rt.reconcile().unwrap();
    assert_eq!(report.containers_stopped, vec![c.id.clone()]);
    let calls = f.rt.backend().calls();
    // netavark removes DNS entries and port forwards without the container's netns
    let Some(BackendCall::Teardown { netns, options }) = calls.last() else {
        panic!("{calls:?}")
    };
    assert_ne!(Some(netns), c.netns_path.as_ref());
    assert!(netns
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("podnet-scratch-"));
    assert_eq!(options.container_id, c.id);
    assert!(pins(&f).is_empty(), "{:?}", pins(&f));
    assert!(leased(&f).is_empty());
}

#[test]
fn a_new_connect_first_finishes_the_undo_an_earlier_one_left() {
    // connect's setup (call 2) and its undo (call 3) fail; the retry undoes first (call 4)
    let f = fixture_with(FakeBackend::new().fail_at(2).fail_at(3));
    f.rt.create(&spec("web", &["front"])).unwrap();
    f.rt.setup("web").unwrap();
    f.rt.connect("web", &NetworkRequest::new("back"))
        .unwrap_err();
    let c = f.rt.connect("web", &NetworkRequest::new("back")).unwrap();
    let calls = f.rt.backend().calls();
    assert!(
        matches!(
            &calls[3..],
            [BackendCall::Undo { .. }, BackendCall::Setup { .. }]
        ),
        "{calls:?}"
    );
    assert_eq!(c.network_status.len(), 2);
    assert_eq!(leased(&f).len(), 2);
    assert!(f.rt.state().list_intents().unwrap().is_empty());
}

/// Every file under the runtime's network directory, with its bytes.
fn network_files(f: &Fixture) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&f.rt.config().networks_dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn an_alias_newline_is_refused_at_create_and_connect_and_nothing_is_stored() {
    let f = fixture();
    f.rt.create(&spec("web", &["front"])).unwrap();
    let before = (f.rt.containers().unwrap(), network_files(&f), leased(&f));
    let injected = format!("evil\n{} 10.232.7.99  victim", "a".repeat(64));
    let mut bad = spec("c1", &[]);
    bad.networks = vec![NetworkRequest {
        aliases: vec![injected.clone()],
        ..NetworkRequest::new("front")
    }];
    let err = f.rt.create(&bad).unwrap_err().to_string();
    assert!(
        err.contains("invalid alias") && err.contains("evil\\n") && !err.contains('\n'),
        "{err}"
    );
    let connect = NetworkRequest {
        aliases: vec!["a\nb c".into()],
        ..NetworkRequest::new("back")
    };
    let err = f.rt.connect("web", &connect).unwrap_err().to_string();
    assert!(err.contains("invalid alias \"a\\nb c\""), "{err}");
    f.rt.setup("web").unwrap();
    let running = f.rt.connect("web", &connect).unwrap_err().to_string();
    assert!(running.contains("white space"), "{running}");
    assert!(f.rt.backend().calls().iter().all(
        |c| !matches!(c, BackendCall::Setup { options, .. } if options.networks.contains_key("back"))
    ));
    f.rt.teardown("web").unwrap();
    let after = (f.rt.containers().unwrap(), network_files(&f), leased(&f));
    assert_eq!(before.1, after.1);
    assert_eq!(before.2, after.2);
    assert_eq!(
        before
            .0
            .iter()
            .map(|c| (&c.name, &c.networks))
            .collect::<Vec<_>>(),
        after
            .0
            .iter()
            .map(|c| (&c.name, &c.networks))
            .collect::<Vec<_>>()
    );
}

#[test]
fn each_create_time_rule_refuses_before_anything_is_stored() {
    let f = fixture();
    let mut cases: Vec<ContainerSpec> = Vec::new();
    for opts in [
        "mac=zz:zz",
        "mac=01:00:5e:00:00:01",
        "interface_name=../x",
        "interface_name=lo",
        "interface_name=seventeen-chars-x",
    ] {
        let mut s = spec("c1", &[]);
        s.networks = vec![format!("front:{opts}").parse().unwrap()];
        cases.push(s);
    }
    let mut s = spec("c1", &["front"]);
    s.hostname = Some("h x".into());
    cases.push(s);
    let mut s = spec("c1", &["front"]);
    s.dns_search = vec!["a\nb".into()];
    cases.push(s);
    let mut s = spec("c1", &["front"]);
    s.add_hosts = vec!["garbage".into()];
    cases.push(s);
    cases.push(spec(&"n".repeat(300), &["front"]));
    for case in cases {
        let err = f.rt.create(&case).unwrap_err();
        assert!(matches!(err, crate::Error::Invalid(_)), "{case:?}: {err}");
    }
    assert!(f.rt.containers().unwrap().is_empty());
}

#[test]
fn a_network_in_use_is_not_removed_by_name_full_id_or_prefix() {
    let f = fixture();
    let front = f.rt.networks().inspect("front").unwrap();
    f.rt.create(&spec("web", &["front"])).unwrap();
    f.rt.setup("web").unwrap();
    let opts = RemoveNetworkOptions::default();
    for key in ["front", front.id.as_str(), &front.id[..12], &front.id[..3]] {
        let err = f.rt.remove_network(key, &opts).unwrap_err().to_string();
        assert!(
            err.contains("in use") && err.contains("web"),
            "{key}: {err}"
        );
    }
    assert!(f.rt.networks().inspect("front").is_ok());
    assert_eq!(leased(&f).len(), 1);
    // stopped but still recorded on it: still refused
    f.rt.teardown("web").unwrap();
    assert!(f.rt.remove_network(&front.id, &opts).is_err());
    f.rt.remove("web", false).unwrap();
    let removed = f.rt.remove_network(&front.id[..12], &opts).unwrap();
    assert_eq!(removed.name, "front");
    assert!(matches!(
        f.rt.networks().inspect("front"),
        Err(crate::NetworkError::NotFound { .. })
    ));
    assert!(f.rt.remove_network("podman", &opts).is_err());
}

#[test]
fn an_ambiguous_id_prefix_names_the_candidates() {
    let f = fixture();
    for (name, id) in [("twin1", "abc1"), ("twin2", "abc2")] {
        let net = Network {
            name: name.into(),
            id: format!("{id}{}", "0".repeat(60)),
            driver: "bridge".into(),
            ..Network::default()
        };
        std::fs::write(
            f.rt.config().networks_dir.join(format!("{name}.json")),
            net.to_podman_json().unwrap(),
        )
        .unwrap();
    }
    let opts = RemoveNetworkOptions::default();
    let err = f.rt.remove_network("abc", &opts).unwrap_err().to_string();
    assert!(err.contains("twin1") && err.contains("twin2"), "{err}");
    assert_eq!(f.rt.remove_network("abc2", &opts).unwrap().name, "twin2");
    assert!(f.rt.networks().inspect("twin1").is_ok());
}

#[test]
fn create_racing_network_rm_never_leaves_a_record_on_a_missing_network() {
    let f = fixture();
    for round in 0..40 {
        let name = format!("race{round}");
        f.rt.networks()
            .create(Network {
                name: name.clone(),
                ..Network::default()
            })
            .unwrap();
        let config = f.rt.config().clone();
        let store = f.rt.networks().clone();
        let remover = {
            let (config, store, name) = (config.clone(), store.clone(), name.clone());
            std::thread::spawn(move || {
                let rt = Runtime::new(config, FakeBackend::new())
                    .unwrap()
                    .with_network_store(store);
                rt.remove_network(&name, &RemoveNetworkOptions::default())
                    .is_ok()
            })
        };
        let rt = Runtime::new(config, FakeBackend::new())
            .unwrap()
            .with_network_store(store);
        let created = rt.create(&spec(&format!("c{round}"), &[&name])).is_ok();
        let removed = remover.join().unwrap();
        assert!(!(created && removed), "round {round}: both succeeded");
        let exists = f.rt.networks().inspect(&name).is_ok();
        for c in f.rt.containers().unwrap() {
            for net in c.networks.keys() {
                assert!(
                    f.rt.networks().inspect(net).is_ok(),
                    "round {round}: {} references missing network {net}",
                    c.name
                );
            }
        }
        assert_eq!(exists, !removed, "round {round}");
    }
}

/// `podman network rm` does not know podnet's containers: once a network's file is gone,
/// disconnect and teardown still hand the backend the definition the container was set up
/// with (from the state database), and release the addresses.
#[test]
fn a_network_removed_by_another_tool_is_torn_down_from_the_recorded_definition() {
    let f = fixture();
    f.rt.create(&spec("web", &["front", "back"])).unwrap();
    let c = f.rt.setup("web").unwrap();
    let back = f.rt.networks().inspect("back").unwrap();
    let front = f.rt.networks().inspect("front").unwrap();
    for net in [&back, &front] {
        std::fs::remove_file(
            f.rt.config()
                .networks_dir
                .join(format!("{}.json", net.name)),
        )
        .unwrap();
    }
    assert!(f.rt.networks().inspect("back").is_err());

    f.rt.disconnect("web", "back").unwrap();
    f.rt.teardown("web").unwrap();
    let calls = f.rt.backend().calls();
    let torn: Vec<&NetworkOptions> = calls
        .iter()
        .filter_map(|c| match c {
            BackendCall::Teardown { options, .. } => Some(options),
            _ => None,
        })
        .collect();
    assert_eq!(torn.len(), 2, "{calls:?}");
    assert_eq!(torn[0].network_info["back"].id, back.id);
    assert_eq!(torn[1].network_info["front"].id, front.id);
    let ip = c.network_status["front"].interfaces["eth0"].subnets[0]
        .ipnet
        .addr();
    assert_eq!(torn[1].networks["front"].static_ips, vec![ip]);
    assert!(leased(&f).is_empty());
    let after = f.rt.container("web").unwrap();
    assert!(!after.running && after.applied_networks.is_empty());
}

/// A name is only compared with names: one that is also a prefix of several containers' IDs
/// (any one-letter hex name, sooner or later) is free.
#[test]
fn a_name_that_prefixes_several_ids_is_still_free() {
    let f = fixture();
    let mut by_first: std::collections::BTreeMap<char, usize> = Default::default();
    let mut i = 0;
    // IDs are random: create until two start with the same hex digit
    let letter = loop {
        let c = f.rt.create(&spec(&format!("c{i}"), &["front"])).unwrap();
        i += 1;
        let first = c.id.chars().next().unwrap();
        let n = by_first.entry(first).or_default();
        *n += 1;
        if *n == 2 {
            break first;
        }
    };
    let named = f.rt.create(&spec(&letter.to_string(), &["front"])).unwrap();
    assert_eq!(f.rt.container(&letter.to_string()).unwrap().id, named.id);
    assert!(f.rt.create(&spec(&letter.to_string(), &["front"])).is_err());
}

/// Compile-time: one `Runtime` can be shared by threads (`Arc<Runtime<_>>`).
#[test]
fn runtimes_of_every_backend_are_sync() {
    fn assert_sync<T: Sync + Send>() {}
    assert_sync::<Runtime<crate::Netavark>>();
    assert_sync::<Runtime<crate::CniBackend>>();
    assert_sync::<Runtime<crate::RootlessBackend<crate::Netavark>>>();
}

/// Threads sharing one `Runtime` run whole flows at once: every container gets its own
/// address and every record and lease is consistent afterwards.
#[test]
fn threads_sharing_one_runtime_run_flows_at_once() {
    let f = fixture();
    let rt = &f.rt;
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                for i in 0..5 {
                    let name = format!("t{t}c{i}");
                    rt.create(&spec(&name, &["front"])).unwrap();
                    rt.setup(&name).unwrap();
                    if i % 2 == 0 {
                        rt.teardown(&name).unwrap();
                    }
                }
            });
        }
    });
    let running: Vec<ContainerRecord> = rt
        .containers()
        .unwrap()
        .into_iter()
        .filter(|c| c.running)
        .collect();
    assert_eq!(running.len(), 8);
    let mut ips = leased(&f);
    assert_eq!(ips.len(), 8, "one lease per running container");
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 8, "an address handed out twice");
}
