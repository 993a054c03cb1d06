//! Unit tests of the state database and the allocator on a temporary file
//! (no privileges). The multi-process tests re-run this test binary as the
//! worker, selected by an environment variable.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::*;
use crate::{LeaseRange, Subnet};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net_with(name: &str, subnets: &[&str]) -> Network {
    let mut n = Network {
        name: name.into(),
        id: format!(
            "{:0<64}",
            name.bytes().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        driver: "bridge".into(),
        ..Default::default()
    };
    for s in subnets {
        let subnet: IpNet = s.parse().unwrap();
        n.subnets.push(Subnet {
            gateway: Some(crate::network::from_int(
                crate::network::to_int(subnet.network()) + 1,
                subnet.network(),
            )),
            ..Subnet::new(subnet)
        });
    }
    n.ipam_options.insert("driver".into(), "host-local".into());
    n
}

fn net24() -> Network {
    net_with("pnt24", &["10.89.0.0/24"])
}

fn open(dir: &Path) -> StateStore {
    StateStore::open(dir.join("state.db")).unwrap()
}

fn alloc(s: &StateStore, n: &Network, c: &str, statics: &[&str]) -> Result<Vec<IpNet>, StateError> {
    let tx = s.begin()?;
    let statics: Vec<IpAddr> = statics.iter().map(|x| ip(x)).collect();
    let r = tx.allocate_ips(n, c, "eth0", &statics)?;
    tx.commit()?;
    Ok(r)
}

fn one(s: &StateStore, n: &Network, c: &str) -> String {
    alloc(s, n, c, &[]).unwrap()[0].addr().to_string()
}

#[test]
fn allocation_order_follows_podman() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let n = net24();
    let first = alloc(&s, &n, "c1", &[]).unwrap();
    assert_eq!(first[0].to_string(), "10.89.0.2/24"); // .1 is the gateway
    assert_eq!(one(&s, &n, "c2"), "10.89.0.3");
    let tx = s.begin().unwrap();
    assert_eq!(tx.release_ips(&n, "c1").unwrap(), vec![ip("10.89.0.2")]);
    tx.commit().unwrap();
    // podman continues after the last address handed out, not at the hole
    assert_eq!(one(&s, &n, "c3"), "10.89.0.4");
}

#[test]
fn exhaustion_then_wrap_to_released() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let n = net24();
    let tx = s.begin().unwrap();
    let mut seen = BTreeSet::new();
    for i in 0..253 {
        let got = tx.allocate_ips(&n, &format!("c{i}"), "eth0", &[]).unwrap();
        assert!(seen.insert(got[0].addr()));
    }
    tx.commit().unwrap();
    // .2 ..= .254: 253 addresses, never .0, .1 (gateway) or .255
    assert_eq!(seen.first().unwrap().to_string(), "10.89.0.2");
    assert_eq!(seen.last().unwrap().to_string(), "10.89.0.254");
    match alloc(&s, &n, "late", &[]) {
        Err(StateError::NoFreeIp {
            network,
            subnet,
            start,
            end,
        }) => {
            assert_eq!(
                (network.as_str(), subnet.to_string()),
                ("pnt24", "10.89.0.0/24".into())
            );
            assert_eq!(
                (start.to_string(), end.to_string()),
                ("10.89.0.1".into(), "10.89.0.254".into())
            );
        }
        other => panic!("{other:?}"),
    }
    let tx = s.begin().unwrap();
    tx.release_ips(&n, "c100").unwrap(); // held 10.89.0.102
    tx.commit().unwrap();
    assert_eq!(one(&s, &n, "late"), "10.89.0.102");
}

#[test]
fn lease_range_honoured_and_clamped() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let mut n = net24();
    // as `podman network create --ip-range 10.89.0.128/25` writes it: the
    // end is the broadcast address, which is never handed out
    n.subnets[0].lease_range = Some(LeaseRange {
        start_ip: Some(ip("10.89.0.129")),
        end_ip: Some(ip("10.89.0.255")),
    });
    let tx = s.begin().unwrap();
    let got: Vec<String> = (0..126)
        .map(|i| {
            tx.allocate_ips(&n, &format!("c{i}"), "eth0", &[]).unwrap()[0]
                .addr()
                .to_string()
        })
        .collect();
    tx.commit().unwrap();
    assert_eq!(got[0], "10.89.0.129");
    assert_eq!(got[125], "10.89.0.254");
    assert!(matches!(
        alloc(&s, &n, "x", &[]),
        Err(StateError::NoFreeIp { .. })
    ));
    // a static address outside the range but inside the subnet is allowed
    assert_eq!(
        alloc(&s, &n, "x", &["10.89.0.7"]).unwrap()[0].to_string(),
        "10.89.0.7/24"
    );
}

#[test]
fn static_ips_validated_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let n = net24();
    assert_eq!(
        alloc(&s, &n, "a", &["10.89.0.50"]).unwrap()[0].to_string(),
        "10.89.0.50/24"
    );
    let e = alloc(&s, &n, "b", &["10.89.0.50"]).unwrap_err();
    assert!(matches!(&e, StateError::StaticIpTaken { container, .. } if container == "a"));
    assert_eq!(
        e.to_string(),
        "requested ip address 10.89.0.50 on network pnt24 is already allocated to container ID a"
    );
    let e = alloc(&s, &n, "b", &["10.90.0.5"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "requested static ip 10.90.0.5 not in any subnet on network pnt24"
    );
    assert!(matches!(
        alloc(&s, &n, "b", &["10.89.0.1"]),
        Err(StateError::StaticIpIsGateway { .. })
    ));
    assert!(matches!(
        alloc(&s, &n, "b", &["10.89.0.0"]),
        Err(StateError::StaticIpReserved {
            what: "network",
            ..
        })
    ));
    assert!(matches!(
        alloc(&s, &n, "b", &["10.89.0.255"]),
        Err(StateError::StaticIpReserved {
            what: "broadcast",
            ..
        })
    ));
    assert!(matches!(
        alloc(&s, &n, "b", &["10.89.0.8", "10.89.0.9"]),
        Err(StateError::DuplicateStaticIp { .. })
    ));
    // the same checks without the database, for validation before a flow applies anything
    assert!(check_static_ip(&n, ip("10.89.0.50")).is_ok());
    assert!(matches!(
        check_static_ip(&n, ip("10.89.0.1")),
        Err(StateError::StaticIpIsGateway { .. })
    ));
    assert!(matches!(
        check_static_ip(&n, ip("10.90.0.1")),
        Err(StateError::StaticIpOutsideNetwork { .. })
    ));
    assert!(matches!(
        check_static_ip(&n, ip("::ffff:10.89.0.255")),
        Err(StateError::StaticIpReserved { .. })
    ));
    // the same container asking again for its own address is fine
    assert_eq!(
        alloc(&s, &n, "a", &["10.89.0.50"]).unwrap()[0].to_string(),
        "10.89.0.50/24"
    );
    // failed calls left nothing behind
    let leases = s.list_leases().unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(
        (leases[0].ip, leases[0].container_id.as_str()),
        (ip("10.89.0.50"), "a")
    );
    // automatic allocation skips the static one
    let tx = s.begin().unwrap();
    let mut n2 = net24();
    n2.subnets[0].lease_range = Some(LeaseRange {
        start_ip: Some(ip("10.89.0.49")),
        end_ip: None,
    });
    assert_eq!(
        tx.allocate_ips(&n2, "c", "eth0", &[]).unwrap()[0].addr(),
        ip("10.89.0.49")
    );
    assert_eq!(
        tx.allocate_ips(&n2, "d", "eth0", &[]).unwrap()[0].addr(),
        ip("10.89.0.51")
    );
}

#[test]
fn dual_stack_idempotent_and_release() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let n = net_with("pntdual", &["10.89.5.0/24", "fd00:1:2:3::/64"]);
    let got = alloc(&s, &n, "a", &["fd00:1:2:3::99"]).unwrap();
    assert_eq!(
        got.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        vec!["10.89.5.2/24", "fd00:1:2:3::99/64"]
    );
    // again: the same addresses, no new leases
    assert_eq!(alloc(&s, &n, "a", &[]).unwrap(), got);
    assert_eq!(s.list_leases().unwrap().len(), 2);
    let b = alloc(&s, &n, "b", &[]).unwrap();
    assert_eq!(
        b.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        vec!["10.89.5.3/24", "fd00:1:2:3::2/64"]
    );
    let tx = s.begin().unwrap();
    let leases = tx.container_leases("a").unwrap();
    assert_eq!(leases.len(), 2);
    assert!(leases
        .iter()
        .all(|l| l.network_name == "pntdual" && l.interface == "eth0"));
    assert_eq!(
        tx.release_ips(&n, "a").unwrap(),
        vec![ip("10.89.5.2"), ip("fd00:1:2:3::99")]
    );
    assert!(tx.release_ips(&n, "a").unwrap().is_empty());
    tx.commit().unwrap();
    assert_eq!(s.list_leases().unwrap().len(), 2);
}

#[test]
fn no_ipam_networks_get_no_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let mut n = net24();
    n.ipam_options.insert("driver".into(), "none".into());
    assert_eq!(alloc(&s, &n, "a", &[]).unwrap(), vec![]);
    let empty = Network {
        subnets: vec![],
        ..net24()
    };
    assert_eq!(alloc(&s, &empty, "a", &[]).unwrap(), vec![]);
}

fn record(id: &str, name: &str) -> ContainerRecord {
    let mut r = ContainerRecord {
        id: id.into(),
        name: name.into(),
        hostname: name.into(),
        network_mode: crate::NetworkMode::Bridge,
        running: true,
        netns_path: Some("/run/netns/pnt-x".into()),
        hosts_path: Some("/tmp/h".into()),
        dns_servers: vec![ip("1.1.1.1")],
        add_hosts: vec!["db:10.0.0.9".into()],
        ..Default::default()
    };
    r.port_mappings
        .push(portmap::PortMapping::new(80).with_host_port(8080));
    r.networks.insert(
        "pnt24".into(),
        crate::PerNetworkOptions {
            interface_name: "eth0".into(),
            static_ips: vec![ip("10.89.0.9")],
            aliases: vec!["web".into()],
            static_mac: Some("aa:bb:cc:dd:ee:ff".into()),
        },
    );
    r.network_status.insert("pnt24".into(), serde_json::from_str(r#"{"dns_server_ips":["10.89.0.1"],"interfaces":{"eth0":{"mac_address":"aa:bb:cc:dd:ee:ff","subnets":[{"ipnet":"10.89.0.9/24","gateway":"10.89.0.1"}]}}}"#).unwrap());
    r
}

#[test]
fn container_records_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let a = record("abc111", "web");
    let b = record("abc222", "db");
    let tx = s.begin().unwrap();
    tx.put_container(&a).unwrap();
    tx.put_container(&b).unwrap();
    tx.commit().unwrap();
    assert_eq!(s.get_container("abc111").unwrap().unwrap(), a);
    assert_eq!(s.get_container("db").unwrap().unwrap(), b);
    assert_eq!(s.get_container("abc1").unwrap().unwrap().name, "web");
    assert!(matches!(
        s.get_container("abc"),
        Err(StateError::AmbiguousContainer { .. })
    ));
    assert_eq!(s.get_container("zzz").unwrap(), None);
    assert_eq!(
        s.list_containers()
            .unwrap()
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        vec!["db", "web"]
    );
    let tx = s.begin().unwrap();
    let clash = record("abc333", "web");
    assert!(
        matches!(tx.put_container(&clash), Err(StateError::ContainerNameInUse { other_id, .. }) if other_id == "abc111")
    );
    let mut stopped = a.clone();
    stopped.running = false;
    stopped.netns_path = None;
    stopped.network_status.clear();
    tx.put_container(&stopped).unwrap();
    assert!(tx.delete_container("abc222").unwrap());
    assert!(!tx.delete_container("abc222").unwrap());
    tx.commit().unwrap();
    assert_eq!(s.get_container("web").unwrap().unwrap(), stopped);
    assert_eq!(s.list_containers().unwrap().len(), 1);
}

/// Port mappings as rows written before the mappings were typed hold them: host IP and
/// protocol as text, `""` for every address (and, from an API caller, for tcp). They read
/// as typed mappings, and a row written now is the same text.
#[test]
fn port_mappings_stored_as_text_before_typing_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let tx = s.begin().unwrap();
    tx.put_container(&record("abc111", "web")).unwrap();
    tx.commit().unwrap();
    let old = concat!(
        r#"[{"host_ip":"","container_port":80,"host_port":8080,"range":1,"protocol":"tcp"},"#,
        r#"{"host_ip":"127.0.0.1","container_port":53,"host_port":5353,"range":1,"protocol":"udp"},"#,
        r#"{"host_ip":"::1","container_port":9000,"host_port":9000,"range":2,"protocol":"tcp,udp"}]"#
    );
    let conn = Connection::open(tmp.path().join("state.db")).unwrap();
    let column = |conn: &Connection| -> String {
        conn.query_row(
            "SELECT port_mappings FROM containers WHERE id = 'abc111'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    conn.execute(
        "UPDATE containers SET port_mappings = ?1 WHERE id = 'abc111'",
        [old],
    )
    .unwrap();
    let rec = s.get_container("abc111").unwrap().unwrap();
    let shown: Vec<String> = rec.port_mappings.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "8080:80/tcp",
            "127.0.0.1:5353:53/udp",
            "[::1]:9000-9001:9000-9001/tcp,udp"
        ]
    );
    let tx = s.begin().unwrap();
    tx.put_container(&rec).unwrap();
    tx.commit().unwrap();
    assert_eq!(column(&conn), old);

    // an empty protocol (tcp, as podman reads it) from an API caller
    let empty = r#"[{"host_ip":"","container_port":80,"host_port":8080,"range":1,"protocol":""}]"#;
    conn.execute(
        "UPDATE containers SET port_mappings = ?1 WHERE id = 'abc111'",
        [empty],
    )
    .unwrap();
    let rec = s.get_container("abc111").unwrap().unwrap();
    assert_eq!(rec.port_mappings[0].to_string(), "8080:80/tcp");
}

#[test]
fn dropped_transaction_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    {
        let tx = s.begin().unwrap();
        tx.allocate_ips(&net24(), "a", "eth0", &[]).unwrap();
        tx.put_container(&record("a", "a")).unwrap();
        // one transaction at a time per store; reads see the open one
        assert!(matches!(s.begin(), Err(StateError::Begin(_))));
        assert_eq!(s.list_leases().unwrap().len(), 1);
    }
    assert!(s.list_leases().unwrap().is_empty());
    assert!(s.list_containers().unwrap().is_empty());
    // the cursor did not move either
    assert_eq!(one(&s, &net24(), "b"), "10.89.0.2");
}

#[test]
fn only_a_missing_file_becomes_a_new_database() {
    let tmp = tempfile::tempdir().unwrap();
    let foreign = tmp.path().join("foreign.db");
    let conn = Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE photos (id INTEGER)")
        .unwrap();
    drop(conn);
    let garbage = tmp.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 4096]).unwrap();
    let empty = tmp.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for (path, why) in [
        (&empty, "empty (0 bytes)"),
        (&garbage, "not an SQLite database"),
        (&foreign, "another program"),
    ] {
        let before = std::fs::read(path).unwrap();
        let err = StateStore::open(path).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, StateError::NotPodnetDatabase { .. })
                && text.contains(&path.display().to_string())
                && text.contains(why),
            "{text}"
        );
        assert!(
            std::fs::read(path).unwrap() == before,
            "{} changed",
            path.display()
        );
    }
    let fresh = tmp.path().join("fresh.db");
    drop(StateStore::open(&fresh).unwrap());
    drop(StateStore::open(&fresh).unwrap());
    // no temporary file is left next to it
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn schema_version_recorded_and_newer_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.db");
    drop(StateStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let v: u32 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(conn);
    assert!(matches!(
        StateStore::open(&path),
        Err(StateError::SchemaTooNew { found: 99, .. })
    ));
}

#[test]
fn two_connections_never_share_an_address() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.db");
    drop(StateStore::open(&path).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let s = StateStore::open(&path).unwrap();
                (0..60)
                    .map(|i| one(&s, &net24(), &format!("t{t}c{i}")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all: Vec<String> = threads
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), 120);
}

const WORKER_ENV: &str = "PODNET_STATE_TEST_WORKER";

/// Runs this test binary again as a worker for `test` with `arg`.
fn worker(test: &str, arg: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([test, "--exact", "--test-threads=1", "-q"])
        .env(WORKER_ENV, arg);
    c.stdout(std::process::Stdio::null());
    c
}

#[test]
fn two_processes_never_share_an_address() {
    if let Ok(arg) = std::env::var(WORKER_ENV) {
        let (db, tag) = arg.split_once('|').unwrap();
        let s = StateStore::open(db).unwrap();
        for i in 0..60 {
            one(&s, &net24(), &format!("{tag}c{i}"));
        }
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("state.db");
    drop(StateStore::open(&db).unwrap());
    let name = "state::tests::two_processes_never_share_an_address";
    let mut kids: Vec<_> = ["p1", "p2"]
        .iter()
        .map(|t| {
            worker(name, &format!("{}|{t}", db.display()))
                .spawn()
                .unwrap()
        })
        .collect();
    for k in &mut kids {
        assert!(k.wait().unwrap().success());
    }
    let leases = open(tmp.path()).list_leases().unwrap();
    let ips: BTreeSet<IpAddr> = leases.iter().map(|l| l.ip).collect();
    assert_eq!(leases.len(), 120);
    assert_eq!(ips.len(), 120);
}

#[test]
fn killed_process_mid_transaction_leaves_nothing() {
    if let Ok(arg) = std::env::var(WORKER_ENV) {
        let (db, marker) = arg.split_once('|').unwrap();
        let s = StateStore::open(db).unwrap();
        let tx = s.begin().unwrap();
        tx.allocate_ips(&net24(), "victim", "eth0", &[]).unwrap();
        tx.put_container(&record("victim", "victim")).unwrap();
        std::fs::write(marker, "ready").unwrap();
        std::thread::sleep(Duration::from_secs(60)); // killed here, before commit
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("state.db");
    let marker = tmp.path().join("ready");
    let mut kid = worker(
        "state::tests::killed_process_mid_transaction_leaves_nothing",
        &format!("{}|{}", db.display(), marker.display()),
    )
    .spawn()
    .unwrap();
    let t0 = Instant::now();
    while !marker.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "worker never got ready"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    kid.kill().unwrap(); // SIGKILL
    kid.wait().unwrap();
    let s = open(tmp.path());
    assert!(s.list_leases().unwrap().is_empty());
    assert!(s.list_containers().unwrap().is_empty());
    // and the database is usable right away
    assert_eq!(one(&s, &net24(), "next"), "10.89.0.2");
}

#[test]
fn version_2_database_migrates_with_its_leases() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state.db");
    let n = net24();
    {
        // a database as version 2 left it: leases keyed by the network's ID
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2);").unwrap();
        conn.execute(
            "INSERT INTO leases (network_id, ip, network_name, subnet, container_id, interface) VALUES (?1, ?2, 'pnt24', '10.89.0.0/24', 'old', 'eth0')",
            rusqlite::params![n.id, vec![10u8, 89, 0, 7]],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO ipam_cursor (network_id, subnet, last_ip) VALUES (?1, '10.89.0.0/24', ?2)",
            rusqlite::params![n.id, vec![10u8, 89, 0, 7]],
        )
        .unwrap();
    }
    let s = StateStore::open(&path).unwrap();
    let leases = s.list_leases().unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(
        (
            leases[0].ip,
            leases[0].network_id.as_str(),
            leases[0].network_name.as_str()
        ),
        (ip("10.89.0.7"), n.id.as_str(), "pnt24")
    );
    // the cursor came along: the next address follows .7
    assert_eq!(one(&s, &n, "new"), "10.89.0.8");
    assert!(matches!(
        alloc(&s, &n, "x", &["10.89.0.7"]),
        Err(StateError::StaticIpTaken { .. })
    ));
    let tx = s.begin().unwrap();
    assert_eq!(tx.forget_network(&n.id).unwrap(), 2);
    tx.commit().unwrap();
    assert!(s.list_leases().unwrap().is_empty());
}

/// A brute-force model of the allocator: a map of leases and a cursor, the
/// free address found by trying every candidate in order.
struct Model {
    leases: std::collections::BTreeMap<u32, String>,
    cursor: Option<u32>,
}

impl Model {
    fn alloc(
        &mut self,
        c: &str,
        want: Option<u32>,
        (start, end, gw): (u32, u32, u32),
    ) -> Result<u32, &'static str> {
        let held = self.leases.iter().find(|(_, h)| *h == c).map(|(ip, _)| *ip);
        if let Some(w) = want {
            // subnet 10.89.0.0/27: network .0, broadcast .31
            if w >> 5 != (10 << 24 | 89 << 16) >> 5 {
                return Err("outside");
            }
            if w == gw {
                return Err("gateway");
            }
            if w & 31 == 0 || w & 31 == 31 {
                return Err("reserved");
            }
            if self.leases.get(&w).is_some_and(|h| h != c) {
                return Err("taken");
            }
            if let Some(old) = held {
                self.leases.remove(&old);
            }
            self.leases.insert(w, c.into());
            return Ok(w);
        }
        if let Some(ip) = held {
            return Ok(ip);
        }
        let cur = match self.cursor {
            Some(l) if l >= start && l < end => l + 1,
            _ => start,
        };
        let order = (cur..=end).chain(start..cur);
        for cand in order {
            if cand != gw && !self.leases.contains_key(&cand) {
                self.leases.insert(cand, c.into());
                self.cursor = Some(cand);
                return Ok(cand);
            }
        }
        Err("exhausted")
    }
}

#[test]
fn allocator_agrees_with_a_brute_force_model() {
    use rand::{Rng, SeedableRng};
    let base = u32::from(std::net::Ipv4Addr::new(10, 89, 0, 0));
    for seed in 0..4u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let tmp = tempfile::tempdir().unwrap();
        let s = open(tmp.path());
        let mut n = net_with("pntmodel", &["10.89.0.0/27"]);
        // a gateway inside the lease range, and a range that is not the whole subnet
        let gw = base + rng.gen_range(5..20);
        let (start, end) = (base + rng.gen_range(1..6), base + rng.gen_range(24..31));
        n.subnets[0].gateway = Some(IpAddr::V4(gw.into()));
        n.subnets[0].lease_range = Some(LeaseRange {
            start_ip: Some(IpAddr::V4(start.into())),
            end_ip: Some(IpAddr::V4(end.into())),
        });
        let mut model = Model {
            leases: Default::default(),
            cursor: None,
        };
        for step in 0..600 {
            let c = format!("c{}", rng.gen_range(0..30));
            if rng.gen_bool(0.3) {
                let tx = s.begin().unwrap();
                let got: BTreeSet<IpAddr> = tx.release_ips(&n, &c).unwrap().into_iter().collect();
                tx.commit().unwrap();
                let want: BTreeSet<IpAddr> = model
                    .leases
                    .iter()
                    .filter(|(_, h)| **h == c)
                    .map(|(ip, _)| IpAddr::V4((*ip).into()))
                    .collect();
                model.leases.retain(|_, h| *h != c);
                assert_eq!(got, want, "seed {seed} step {step} release {c}");
                continue;
            }
            let want_ip = rng.gen_bool(0.2).then(|| base + rng.gen_range(0..34));
            let statics: Vec<IpAddr> = want_ip.map(|w| IpAddr::V4(w.into())).into_iter().collect();
            let tx = s.begin().unwrap();
            let got = tx.allocate_ips(&n, &c, "eth0", &statics);
            let expected = model.alloc(&c, want_ip, (start, end, gw));
            match (&got, expected) {
                (Ok(v), Ok(ip)) => assert_eq!(
                    v[0].addr(),
                    IpAddr::V4(ip.into()),
                    "seed {seed} step {step}"
                ),
                (Err(StateError::StaticIpOutsideNetwork { .. }), Err("outside"))
                | (Err(StateError::StaticIpIsGateway { .. }), Err("gateway"))
                | (Err(StateError::StaticIpReserved { .. }), Err("reserved"))
                | (Err(StateError::StaticIpTaken { .. }), Err("taken"))
                | (Err(StateError::NoFreeIp { .. }), Err("exhausted")) => {}
                (g, e) => panic!("seed {seed} step {step} {c} {want_ip:?}: got {g:?}, model {e:?}"),
            }
            if got.is_ok() {
                tx.commit().unwrap();
            }
        }
        let db: Vec<(IpAddr, String)> = s
            .list_leases()
            .unwrap()
            .into_iter()
            .map(|l| (l.ip, l.container_id))
            .collect();
        let m: Vec<(IpAddr, String)> = model
            .leases
            .into_iter()
            .map(|(ip, c)| (IpAddr::V4(ip.into()), c))
            .collect();
        assert_eq!(db, m, "seed {seed}");
    }
}

/// The shared `ipam.db` as another tool (podman) sees it: one transaction per call.
fn podman_alloc(path: &Path, n: &Network, c: &str) -> Vec<IpAddr> {
    let subnets: Vec<bbolt::podman_ipam::Subnet> = n
        .subnets
        .iter()
        .map(|s| bbolt::podman_ipam::Subnet {
            gateway: s.gateway,
            ..bbolt::podman_ipam::Subnet::new(s.subnet)
        })
        .collect();
    let mut db = bbolt::Db::open(path).unwrap();
    db.update(|tx| bbolt::podman_ipam::allocate(tx, &n.name, &subnets, c, &[]))
        .unwrap()
}

fn shared_holders(path: &Path, n: &Network) -> Vec<(String, Vec<IpAddr>)> {
    let db = bbolt::Db::open_read_only(path).unwrap();
    db.view(|tx| bbolt::podman_ipam::holders(tx, &n.name))
        .unwrap()
        .into_iter()
        .map(|h| (h.container_id, h.ips))
        .collect()
}

#[test]
fn shared_ipam_is_the_authority_on_both_sides_dual_stack() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run/ipam.db");
    let s = open(dir.path()).with_shared_ipam(Some(db.clone()));
    let n = net_with("pntshared", &["10.89.7.0/24", "fd10:7::/64"]);
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    assert_eq!(
        podman_alloc(&db, &n, "podmanc1"),
        [ip("10.89.7.2"), ip("fd10:7::2")]
    );
    let got = alloc(&s, &n, "podnetc1", &[]).unwrap();
    assert_eq!(
        got.iter().map(|a| a.addr()).collect::<Vec<_>>(),
        [ip("10.89.7.3"), ip("fd10:7::3")]
    );
    // idempotent: the held addresses are kept, in both records
    alloc(&s, &n, "podnetc1", &[]).unwrap();
    assert_eq!(
        podman_alloc(&db, &n, "podmanc2"),
        [ip("10.89.7.4"), ip("fd10:7::4")]
    );
    assert_eq!(
        shared_holders(&db, &n),
        [
            (
                "podmanc1".to_string(),
                vec![ip("10.89.7.2"), ip("fd10:7::2")]
            ),
            (
                "podmanc2".to_string(),
                vec![ip("10.89.7.4"), ip("fd10:7::4")]
            ),
            (
                "podnetc1".to_string(),
                vec![ip("10.89.7.3"), ip("fd10:7::3")]
            ),
        ]
    );
    // a static address podman holds is refused, naming podman's container
    let err = alloc(&s, &n, "podnetc2", &["10.89.7.4"]).unwrap_err();
    assert!(err.to_string().contains("podmanc2"), "{err}");
    let tx = s.begin().unwrap();
    tx.release_ips(&n, "podnetc1").unwrap();
    tx.commit().unwrap();
    let left: Vec<String> = shared_holders(&db, &n).into_iter().map(|h| h.0).collect();
    assert_eq!(left, ["podmanc1", "podmanc2"]);
    assert!(s.list_leases().unwrap().is_empty());
}

#[test]
fn shared_ipam_allocation_of_an_uncommitted_transaction_is_undone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipam.db");
    let s = open(dir.path()).with_shared_ipam(Some(db.clone()));
    let n = net24();
    {
        let tx = s.begin().unwrap();
        tx.allocate_ips(&n, "c1", "eth0", &[]).unwrap();
        assert_eq!(shared_holders(&db, &n).len(), 1);
    }
    assert!(shared_holders(&db, &n).is_empty());
    assert!(s.list_leases().unwrap().is_empty());
}

#[test]
fn shared_ipam_entries_of_podnet_containers_without_lease_are_released_others_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipam.db");
    let s = open(dir.path()).with_shared_ipam(Some(db.clone()));
    let n = net24();
    let known = ContainerRecord {
        id: "known1".into(),
        name: "known".into(),
        ..Default::default()
    };
    let tx = s.begin().unwrap();
    tx.put_container(&known).unwrap();
    tx.commit().unwrap();
    // what a crash between the ipam.db commit and the SQLite commit leaves
    podman_alloc(&db, &n, "known1");
    podman_alloc(&db, &n, "foreign1");
    alloc(&s, &n, "leased1", &[]).unwrap();
    let tx = s.begin().unwrap();
    tx.put_container(&ContainerRecord {
        id: "leased1".into(),
        name: "leased".into(),
        ..Default::default()
    })
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(
        s.release_unleased_shared().unwrap(),
        [(n.name.clone(), "known1".to_string())]
    );
    let left: Vec<String> = shared_holders(&db, &n).into_iter().map(|h| h.0).collect();
    assert_eq!(left, ["foreign1", "leased1"]);
    assert!(s.release_unleased_shared().unwrap().is_empty());
}

#[test]
fn after_a_reboot_a_stale_lease_does_not_block_what_ipam_db_hands_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipam.db");
    let s = open(dir.path()).with_shared_ipam(Some(db.clone()));
    let n = net24();
    alloc(&s, &n, "before", &[]).unwrap();
    std::fs::remove_file(&db).unwrap(); // tmpfs gone at reboot
    let got = alloc(&s, &n, "after", &[]).unwrap();
    assert_eq!(got[0].addr(), ip("10.89.0.2"));
    let leases: Vec<String> = s
        .list_leases()
        .unwrap()
        .into_iter()
        .map(|l| l.container_id)
        .collect();
    assert_eq!(leases, ["after"]);
    // releasing what the new ipam.db never had is no error
    let tx = s.begin().unwrap();
    tx.release_all_ips("before").unwrap();
    tx.commit().unwrap();
}

/// A store (and so a `Runtime`) may be shared by threads: one thread's transaction is
/// invisible to another until committed, and the other waits rather than failing.
#[test]
fn threads_share_one_store_and_wait_for_each_others_transactions() {
    fn assert_sync<T: Sync>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path().join("state.db")).unwrap();
    assert_sync(&store);
    let tx = store.begin().unwrap();
    tx.put_container(&ContainerRecord {
        id: "a".repeat(64),
        name: "shared".into(),
        ..ContainerRecord::default()
    })
    .unwrap();
    // the holder's own reads see its uncommitted write
    assert!(store.get_container("shared").unwrap().is_some());
    std::thread::scope(|s| {
        let reader = s.spawn(|| store.get_container("shared").unwrap().map(|c| c.name));
        tx.commit().unwrap();
        assert_eq!(reader.join().unwrap().as_deref(), Some("shared"));
    });
}
