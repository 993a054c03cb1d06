//! Thirty concurrent CLI flows on one network, rootful: thirty threads each run the real
//! `podnet` binary (create, start, disconnect, connect, stop) against one `--root` and one
//! network in a throwaway host namespace, with the real netavark and aardvark-dns. Every
//! command must succeed; afterwards the records, the leases, the interfaces in the host and
//! in every container, the hosts files and aardvark-dns's view must be exactly what the
//! thirty flows, applied one at a time, would leave. Nothing is timed. Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flows_support::Host;
use ipnet::IpNet;
use paths_support::{assert_clean, can_run, first_host, kernel_addresses, kernel_links, leases};

const FLOWS: usize = 30;
const NET: &str = "pntcc";

/// What flow `i` runs after `create`, and whether its container ends up running.
fn steps(i: usize, name: &str) -> (Vec<Vec<String>>, bool) {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match i % 3 {
        0 => (
            vec![
                args(&["start", name]),
                args(&["disconnect", NET, name]),
                args(&["connect", NET, name]),
                args(&["stop", name]),
            ],
            false,
        ),
        1 => (
            vec![
                args(&["start", name]),
                args(&["disconnect", NET, name]),
                args(&["connect", NET, name]),
            ],
            true,
        ),
        _ => (
            vec![
                args(&["start", name]),
                args(&["stop", name]),
                args(&["start", name]),
            ],
            true,
        ),
    }
}

/// `(address, names)` per line of a hosts file, comments and blank lines dropped.
fn hosts_entries(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut words = l.split_whitespace().map(String::from);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

/// aardvark-dns's records for the network: container ID to (IPv4, names), from the
/// file netavark writes for it (first line: the gateway; then `ID IPV4 IPV6 NAMES`).
fn aardvark_records(root: &Path) -> BTreeMap<String, (String, BTreeSet<String>)> {
    let path = root.join("netavark/aardvark-dns").join(NET);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert!(f.len() >= 3, "{}: odd line {l:?}", path.display());
            let names = f.last().unwrap().split(',').map(String::from).collect();
            (f[0].to_string(), (f[1].to_string(), names))
        })
        .collect()
}

#[test]
fn thirty_concurrent_cli_flows_leave_exactly_the_expected_state() {
    if !can_run("thirty_concurrent_cli_flows_leave_exactly_the_expected_state") {
        return;
    }
    let host = Host::new();
    let subnet = IpNet::V4(testkit::free_subnet_v4());
    let gateway = first_host(subnet).addr();
    host.podnet(&["network", "create", "--subnet", &subnet.to_string(), NET]);
    let net = host.podnet_json(&["network", "inspect", NET])[0].clone();
    let bridge = net["network_interface"].as_str().unwrap().to_string();

    let names: Vec<String> = (0..FLOWS).map(|i| format!("cc{i:02}")).collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let host = &host;
                scope.spawn(move || {
                    let mut all = vec![vec![
                        "create".to_string(),
                        name.clone(),
                        "--network".into(),
                        NET.into(),
                    ]];
                    all.extend(steps(i, name).0);
                    for args in all {
                        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                        let out = host.podnet_out(&argv);
                        if !out.status.success() {
                            return Some(format!(
                                "podnet {argv:?}: {}",
                                String::from_utf8_lossy(&out.stderr).trim()
                            ));
                        }
                    }
                    None
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "failed commands: {failures:#?}");

    // the records
    let ps = host.podnet_json(&["ps", "--format", "json"]);
    let records: BTreeMap<String, serde_json::Value> = ps
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["Name"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    assert_eq!(
        records.keys().collect::<Vec<_>>(),
        names.iter().collect::<Vec<_>>()
    );
    let mut running = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let record = &records[name];
        let expect_running = steps(i, name).1;
        assert_eq!(record["Running"], expect_running, "{record}");
        assert_eq!(record["Networks"], serde_json::json!([NET]), "{record}");
        if expect_running {
            running.push(name.clone());
        } else {
            assert!(record["NetNS"].is_null(), "stopped with a netns: {record}");
        }
    }

    // the leases: one per running container, on eth0, distinct, inside the subnet
    let leases = leases(&host);
    let id_of = |name: &str| records[name]["Id"].as_str().unwrap().to_string();
    let mut lease_of: BTreeMap<String, IpAddr> = BTreeMap::new();
    for lease in &leases {
        assert_eq!(lease.network_name, NET, "{lease:?}");
        assert_eq!(lease.interface, "eth0", "{lease:?}");
        assert!(
            subnet.contains(&lease.ip) && lease.ip != gateway,
            "{lease:?}"
        );
        let previous = lease_of.insert(lease.container_id.clone(), lease.ip);
        assert_eq!(previous, None, "two leases for {}", lease.container_id);
    }
    let expected_holders: BTreeSet<String> = running.iter().map(|n| id_of(n)).collect();
    assert_eq!(
        lease_of.keys().cloned().collect::<BTreeSet<_>>(),
        expected_holders,
        "lease holders are not the running containers"
    );
    let distinct: BTreeSet<IpAddr> = lease_of.values().copied().collect();
    assert_eq!(
        distinct.len(),
        lease_of.len(),
        "duplicate addresses: {leases:?}"
    );

    // the interfaces: the bridge and one veth per running container in the host; lo and
    // eth0 with the leased address in each running container
    let host_links = host.links();
    assert!(host_links.contains(&bridge), "{host_links:?}");
    assert_eq!(
        host_links.len(),
        2 + running.len(),
        "the host has other interfaces than lo, the bridge and one veth per container: \
         {host_links:?}"
    );
    let mut pins = host.pins();
    pins.sort();
    assert_eq!(pins.len(), running.len(), "pins: {pins:?}");
    let base_hosts = hosts_entries(&std::fs::read_to_string("/etc/hosts").unwrap());
    let mut dns = BTreeMap::new();
    for name in &running {
        let record = &records[name];
        let id = id_of(name);
        let ip = lease_of[&id];
        let netns = PathBuf::from(record["NetNS"].as_str().unwrap());
        assert_eq!(kernel_links(&host, &netns), ["lo", "eth0"], "{name}");
        assert_eq!(
            kernel_addresses(&host, &netns, "eth0"),
            [IpNet::new(ip, subnet.prefix_len()).unwrap()],
            "{name}"
        );
        let inspect = host.podnet_json(&["inspect", name]);
        let settings = &inspect[0]["NetworkSettings"]["Networks"][NET];
        assert_eq!(settings["IPAddress"], ip.to_string(), "{name}: {inspect}");
        assert_eq!(
            settings["Gateway"],
            gateway.to_string(),
            "{name}: {inspect}"
        );

        // the hosts file: the host's entries, host.containers.internal, its own line
        let short_id = &id[..12];
        let mut expected = base_hosts.clone();
        expected.push((
            gateway.to_string(),
            vec![
                "host.containers.internal".into(),
                "host.docker.internal".into(),
            ],
        ));
        expected.push((ip.to_string(), vec![short_id.into(), name.clone()]));
        let hosts_path = record["HostsFile"].as_str().unwrap();
        let hosts = std::fs::read_to_string(hosts_path).unwrap();
        assert_eq!(hosts_entries(&hosts), expected, "{name}: {hosts}");
        dns.insert(
            id.clone(),
            (
                ip.to_string(),
                BTreeSet::from([name.clone(), short_id.to_string()]),
            ),
        );

        // and a packet reaches it from the host
        let ping = host.run(&["busybox", "ping", "-c", "1", "-W", "2", &ip.to_string()]);
        assert!(ping.status.success(), "{name} ({ip}) does not answer");
    }
    // aardvark-dns knows exactly the running containers, with their addresses and names
    assert_eq!(aardvark_records(host.root.path()), dns);

    // and concurrent removal leaves nothing
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let host = &host;
                scope.spawn(move || {
                    let out = host.podnet_out(&["rm", "-f", name]);
                    (!out.status.success()).then(|| {
                        format!("rm {name}: {}", String::from_utf8_lossy(&out.stderr).trim())
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
    host.podnet(&["network", "rm", NET]);
    assert!(
        !host
            .root
            .path()
            .join("netavark/aardvark-dns")
            .join(NET)
            .exists(),
        "aardvark-dns still has a file for the network"
    );
    assert_clean(&host, &[], &[subnet.trunc().addr().to_string()]);
}
