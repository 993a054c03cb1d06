//! podman's IPAM layout and allocation order, with expected values worked out by hand
//! from containers/common's `ipam.go` (the podman test in `podman_compat.rs` checks the
//! same against podman itself).
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use bbolt::podman_ipam::{self, Holder, IpamError, Subnet};
use bbolt::Db;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn subnet(cidr: &str, gateway: Option<&str>) -> Subnet {
    Subnet {
        gateway: gateway.map(ip),
        ..Subnet::new(cidr.parse().unwrap())
    }
}

fn alloc(db: &mut Db, net: &str, subnets: &[Subnet], id: &str) -> Result<Vec<IpAddr>, IpamError> {
    db.update(|tx| podman_ipam::allocate(tx, net, subnets, id, &[]))
}

#[test]
fn addresses_go_in_order_after_the_gateway_and_the_layout_is_podmans() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("ipam.db")).unwrap();
    let subnets = [subnet("10.89.0.0/24", Some("10.89.0.1"))];
    assert_eq!(
        alloc(&mut db, "n1", &subnets, "c1").unwrap(),
        [ip("10.89.0.2")]
    );
    assert_eq!(
        alloc(&mut db, "n1", &subnets, "c2").unwrap(),
        [ip("10.89.0.3")]
    );
    db.view(|tx| {
        let net = tx.bucket(b"n1").unwrap();
        let sub = net.bucket(b"10.89.0.0/24").unwrap();
        assert_eq!(sub.get(&[10, 89, 0, 2]), Some(&b"c1"[..]));
        assert_eq!(sub.get(&[10, 89, 0, 3]), Some(&b"c2"[..]));
        assert_eq!(sub.get(b"lastIP"), Some(&[10, 89, 0, 3][..]));
        let ids = net.bucket(b"ids").unwrap();
        assert_eq!(ids.get(b"c1"), Some(&br#"["10.89.0.2"]"#[..]));
        Ok::<_, bbolt::Error>(())
    })
    .unwrap();
}

#[test]
fn dual_stack_gets_one_address_per_subnet_in_subnet_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("ipam.db")).unwrap();
    let subnets = [
        subnet("fd00:1::/64", Some("fd00:1::1")),
        subnet("10.89.1.0/24", Some("10.89.1.1")),
    ];
    let got = alloc(&mut db, "dual", &subnets, "c1").unwrap();
    assert_eq!(got, [ip("fd00:1::2"), ip("10.89.1.2")]);
    db.view(|tx| {
        let net = tx.bucket(b"dual").unwrap();
        let v6 = net.bucket(b"fd00:1::/64").unwrap();
        let mut key = [0u8; 16];
        key[..4].copy_from_slice(&[0xfd, 0, 0, 1]);
        key[15] = 2;
        assert_eq!(v6.get(&key), Some(&b"c1"[..]));
        let ids = net.bucket(b"ids").unwrap();
        assert_eq!(ids.get(b"c1"), Some(&br#"["fd00:1::2","10.89.1.2"]"#[..]));
        assert_eq!(
            podman_ipam::lookup(tx, "dual", "c1").unwrap(),
            [ip("fd00:1::2"), ip("10.89.1.2")]
        );
        Ok::<_, IpamError>(())
    })
    .unwrap();
}

#[test]
fn a_released_address_is_reused_only_after_the_search_wraps() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("ipam.db")).unwrap();
    // 10.0.0.0/29: the range is .1 to .6 (.7 is the broadcast), .1 is the gateway.
    let subnets = [subnet("10.0.0.0/29", Some("10.0.0.1"))];
    for (n, want) in ["10.0.0.2", "10.0.0.3", "10.0.0.4"].iter().enumerate() {
        assert_eq!(
            alloc(&mut db, "w", &subnets, &format!("c{n}")).unwrap(),
            [ip(want)]
        );
    }
    db.update(|tx| podman_ipam::release(tx, "w", &subnets, "c1", &[ip("10.0.0.3")]))
        .unwrap();
    assert_eq!(
        alloc(&mut db, "w", &subnets, "c3").unwrap(),
        [ip("10.0.0.5")]
    );
    assert_eq!(
        alloc(&mut db, "w", &subnets, "c4").unwrap(),
        [ip("10.0.0.6")]
    );
    assert_eq!(
        alloc(&mut db, "w", &subnets, "c5").unwrap(),
        [ip("10.0.0.3")]
    );
    let err = alloc(&mut db, "w", &subnets, "c6").unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to find free IP in range: 10.0.0.1 - 10.0.0.6 (network w, subnet 10.0.0.0/29)"
    );
    // the failed transaction changed nothing
    let holders = db.view(|tx| podman_ipam::holders(tx, "w")).unwrap();
    assert_eq!(holders.len(), 5);
    assert!(!holders.iter().any(|h| h.container_id == "c6"));
}

#[test]
fn a_static_address_must_be_free_and_does_not_move_last_ip() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("ipam.db")).unwrap();
    let subnets = [subnet("10.89.2.0/24", Some("10.89.2.1"))];
    let got = db
        .update(|tx| podman_ipam::allocate(tx, "s", &subnets, "c1", &[ip("10.89.2.50")]))
        .unwrap();
    assert_eq!(got, [ip("10.89.2.50")]);
    let err = db
        .update(|tx| podman_ipam::allocate(tx, "s", &subnets, "c2", &[ip("10.89.2.50")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "requested ip address 10.89.2.50 is already allocated to container ID c1 on network s"
    );
    assert_eq!(
        alloc(&mut db, "s", &subnets, "c3").unwrap(),
        [ip("10.89.2.2")]
    );
    let holders = db.view(|tx| podman_ipam::holders(tx, "s")).unwrap();
    assert_eq!(
        holders,
        [
            Holder {
                container_id: "c1".into(),
                ips: vec![ip("10.89.2.50")]
            },
            Holder {
                container_id: "c3".into(),
                ips: vec![ip("10.89.2.2")]
            },
        ]
    );
}

#[test]
fn a_lease_range_bounds_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("ipam.db")).unwrap();
    let subnets = [Subnet {
        gateway: Some(ip("10.89.3.1")),
        lease_start: Some(ip("10.89.3.100")),
        lease_end: Some(ip("10.89.3.101")),
        ..Subnet::new("10.89.3.0/24".parse().unwrap())
    }];
    assert_eq!(
        alloc(&mut db, "l", &subnets, "a").unwrap(),
        [ip("10.89.3.100")]
    );
    assert_eq!(
        alloc(&mut db, "l", &subnets, "b").unwrap(),
        [ip("10.89.3.101")]
    );
    assert!(matches!(
        alloc(&mut db, "l", &subnets, "c"),
        Err(IpamError::NoFreeAddress { .. })
    ));
}

#[test]
fn release_and_lookup_name_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("ipam.db")).unwrap();
    let subnets = [subnet("10.89.4.0/24", None)];
    let err = db
        .view(|tx| podman_ipam::lookup(tx, "nope", "c1"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "network nope has no bucket in the IPAM database"
    );
    assert_eq!(
        alloc(&mut db, "r", &subnets, "c1").unwrap(),
        [ip("10.89.4.1")]
    );
    let err = db
        .view(|tx| podman_ipam::lookup(tx, "r", "c9"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to get ips for container ID c9 on network r"
    );
    let err = db
        .update(|tx| podman_ipam::release(tx, "r", &subnets, "c1", &[ip("10.1.1.1")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to find ip for subnet 10.89.4.0/24 on network r"
    );
    // releasing with the wrong container leaves the address to its holder
    db.update(|tx| podman_ipam::release(tx, "r", &subnets, "c2", &[ip("10.89.4.1")]))
        .unwrap();
    assert_eq!(
        db.view(|tx| podman_ipam::lookup(tx, "r", "c1")).unwrap(),
        [ip("10.89.4.1")]
    );
    db.update(|tx| podman_ipam::release(tx, "r", &subnets, "c1", &[ip("10.89.4.1")]))
        .unwrap();
    assert!(db
        .view(|tx| podman_ipam::holders(tx, "r"))
        .unwrap()
        .is_empty());
}
