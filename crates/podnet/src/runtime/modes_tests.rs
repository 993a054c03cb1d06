//! Unit tests of the none, host, `ns:` and `container:` flows with the recording fake
//! backend and plain-file pins (no root); `tests/modes.rs` proves them with real
//! namespaces and packets.

#![allow(clippy::unwrap_used)]

use super::super::tests::{fixture, pins, read, spec, Fixture};
use super::super::{ContainerSpec, NetworkRequest};
use crate::NetworkMode;

fn with_mode(name: &str, mode: NetworkMode) -> ContainerSpec {
    ContainerSpec {
        network_mode: Some(mode),
        ..spec(name, &[])
    }
}

fn started(f: &Fixture, name: &str, mode: NetworkMode) -> crate::ContainerRecord {
    f.rt.create(&with_mode(name, mode)).unwrap();
    f.rt.setup(name).unwrap()
}

#[test]
fn none_gets_its_own_pin_loopback_names_and_no_backend_work() {
    let f = fixture();
    let rec = started(&f, "iso", NetworkMode::None);
    assert_eq!(rec.network_mode, NetworkMode::None);
    assert!(rec.running && rec.networks.is_empty());
    assert_eq!(pins(&f).len(), 1);
    assert!(f.rt.backend().calls().is_empty());
    let hosts = read(rec.hosts_path.as_ref().unwrap());
    let short = &rec.id[..12];
    assert!(
        hosts.contains(&format!("127.0.0.1\t{short} iso")),
        "{hosts}"
    );
    assert!(read(rec.resolv_conf_path.as_ref().unwrap()).contains("192.0.2.53"));
    let stopped = f.rt.teardown("iso").unwrap();
    assert!(!stopped.running && stopped.netns_path.is_none());
    assert!(pins(&f).is_empty());
    assert_eq!(
        f.rt.container("iso").unwrap().network_mode,
        NetworkMode::None
    );
}

#[test]
fn host_has_no_namespace_and_the_hosts_resolv_conf() {
    let f = fixture();
    let rec = started(&f, "h", NetworkMode::Host);
    assert!(rec.running && rec.netns_path.is_none());
    assert!(pins(&f).is_empty());
    let hosts = read(rec.hosts_path.as_ref().unwrap());
    assert!(
        !hosts.contains(&rec.id[..12]),
        "podman adds no own entry: {hosts}"
    );
    assert!(read(rec.resolv_conf_path.as_ref().unwrap()).contains("nameserver 192.0.2.53"));
    // reconcile does not take a host container for one whose netns vanished
    let report = f.rt.reconcile().unwrap();
    assert!(report.containers_stopped.is_empty(), "{report:?}");
    assert!(f.rt.container("h").unwrap().running);
    assert!(f.rt.reload("h").unwrap().running);
}

#[test]
fn ns_joins_the_path_and_leaves_it_standing() {
    let f = fixture();
    let outside = f.dir.path().join("their-netns");
    std::fs::write(&outside, b"").unwrap();
    let rec = started(&f, "j", NetworkMode::Path(outside.clone()));
    assert_eq!(rec.netns_path.as_deref(), Some(outside.as_path()));
    f.rt.teardown("j").unwrap();
    f.rt.remove("j", false).unwrap();
    assert!(
        outside.exists(),
        "ns: never removes the namespace it joined"
    );
    // a path that is no namespace is refused at start, naming it
    let gone = f.dir.path().join("nothing-here");
    f.rt.create(&with_mode("k", NetworkMode::Path(gone.clone())))
        .unwrap();
    let e = f.rt.setup("k").unwrap_err().to_string();
    assert!(
        e.contains(&gone.display().to_string()) && e.contains("not a network namespace"),
        "{e}"
    );
    assert!(!f.rt.container("k").unwrap().running);
}

#[test]
fn a_pod_shares_the_owner_namespace_and_files_with_libpods_rules() {
    let f = fixture();
    let owner = f.rt.create(&with_mode("infra", NetworkMode::None)).unwrap();
    let member =
        f.rt.create(&with_mode("app", NetworkMode::Container("infra".into())))
            .unwrap();
    assert_eq!(
        member.network_mode,
        NetworkMode::Container(owner.id.clone())
    );
    // a dependent starts only while its owner runs
    let e = f.rt.setup("app").unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "some dependencies of container {} are not started: {}: container state improper",
            member.id, owner.id
        )
    );
    let owner = f.rt.setup("infra").unwrap();
    let member = f.rt.setup("app").unwrap();
    assert_eq!(member.netns_path, owner.netns_path);
    assert_eq!(member.hosts_path, owner.hosts_path);
    assert_eq!(member.resolv_conf_path, owner.resolv_conf_path);
    assert_eq!(pins(&f).len(), 1);
    assert_eq!(f.rt.inspect("app").unwrap(), f.rt.inspect("infra").unwrap());
    // the owner is not removed while it has dependents, force or not, running or not
    for force in [false, true] {
        let e = f.rt.remove("infra", force).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "container {} has dependent containers which must be removed before it: {}: container already exists",
                owner.id, member.id
            )
        );
    }
    // stopping the owner stops its dependent: their namespace is the owner's pin
    f.rt.teardown("infra").unwrap();
    let member = f.rt.container("app").unwrap();
    assert!(!member.running && member.netns_path.is_none() && member.hosts_path.is_none());
    assert!(pins(&f).is_empty());
    assert!(f.rt.remove("infra", true).is_err());
    f.rt.remove("app", false).unwrap();
    f.rt.remove("infra", false).unwrap();
}

#[test]
fn reconcile_stops_a_dependent_whose_owner_namespace_is_gone() {
    let f = fixture();
    let owner = started(&f, "infra", NetworkMode::None);
    started(&f, "app", NetworkMode::Container("infra".into()));
    // the owner's pin vanishes (a reboot): both are found without their namespace
    std::fs::remove_file(owner.netns_path.unwrap()).unwrap();
    let report = f.rt.reconcile().unwrap();
    assert_eq!(report.containers_stopped.len(), 2, "{report:?}");
    assert!(!f.rt.container("app").unwrap().running);
    assert!(!f.rt.container("infra").unwrap().running);
}

#[test]
fn mode_rules_refuse_at_create_and_record_nothing() {
    let f = fixture();
    let mut s = with_mode("a", NetworkMode::Host);
    s.networks = vec![NetworkRequest::new("front")];
    let e = f.rt.create(&s).unwrap_err().to_string();
    assert!(e.contains("host") && e.contains("front"), "{e}");
    let mut s = with_mode("b", NetworkMode::None);
    s.ports = vec![portmap::parse_publish("8080:80").unwrap()];
    assert!(f
        .rt
        .create(&s)
        .unwrap_err()
        .to_string()
        .contains("publishes no ports"));
    let e =
        f.rt.create(&with_mode("c", NetworkMode::Container("nobody".into())))
            .unwrap_err()
            .to_string();
    assert!(e.contains("nobody"), "{e}");
    if !crate::in_user_namespace() {
        let e =
            f.rt.create(&with_mode("d", NetworkMode::Pasta(Default::default())))
                .unwrap_err()
                .to_string();
        assert!(e.contains("only supported for rootless mode"), "{e}");
    }
    assert!(f.rt.containers().unwrap().is_empty());
}

#[test]
fn only_bridge_containers_connect() {
    let f = fixture();
    started(&f, "iso", NetworkMode::None);
    let e =
        f.rt.connect("iso", &NetworkRequest::new("front"))
            .unwrap_err()
            .to_string();
    assert!(e.contains("network mode none"), "{e}");
    assert!(f.rt.backend().calls().is_empty());
}

#[test]
fn bridge_options_name_the_default_network() {
    let f = fixture();
    let flags = crate::parse_network_flags(&["bridge:alias=db"]).unwrap();
    let rec =
        f.rt.create(&ContainerSpec {
            name: "b".into(),
            network_mode: flags.mode,
            networks: flags.networks,
            ..ContainerSpec::default()
        })
        .unwrap();
    let default = f.rt.networks().default_network_name().to_string();
    assert!(rec.networks[&default].aliases.contains(&"db".to_string()));
}
