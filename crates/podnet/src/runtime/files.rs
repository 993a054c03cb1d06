//! A container's hosts and resolv.conf: the glue from backend results to `etchosts` entries.
//!
//! Both files live in `<containers_dir>/<id>/`, are written in place by `etchosts` (their
//! inode never changes: they are bind-mounted into the container) and are removed with the
//! container.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use etchosts::{hosts, resolvconf, HostEntry};

use super::{RuntimeConfig, RuntimeError, Step, StepError};
use crate::backend::StatusBlock;
use crate::ContainerRecord;

/// The container's directory of files.
pub(crate) fn container_dir(config: &RuntimeConfig, id: &str) -> PathBuf {
    config.containers_dir.join(id)
}

/// podman's `GetNetworkHostEntries`: every address of every interface, with the names (in
/// network name order, so the file does not depend on map iteration).
pub(crate) fn host_entries(
    status: &BTreeMap<String, StatusBlock>,
    names: &[&str],
) -> Vec<HostEntry> {
    status
        .values()
        .flat_map(|block| block.interfaces.values())
        .flat_map(|iface| iface.subnets.iter())
        .map(|addr| HostEntry::new(addr.ipnet.addr(), names.iter().copied()))
        .collect()
}

/// The names a container's own entries carry: hostname, then name (podman's order).
pub(crate) fn own_names(record: &ContainerRecord) -> Vec<&str> {
    let mut names = vec![record.hostname.as_str()];
    if record.name != record.hostname {
        names.push(record.name.as_str());
    }
    names
}

/// podman's `getLocalIP`: the host's first global unicast IPv4 address, else an IPv6 one.
/// Rootless, the bridge's gateway is inside the rootless netns, not the host, so this is
/// the address `host.containers.internal` names.
pub(crate) fn host_local_ip() -> Option<IpAddr> {
    let addrs: Vec<IpAddr> = nix::ifaddrs::getifaddrs()
        .ok()?
        .filter_map(|ifa| {
            let addr = ifa.address?;
            if let Some(v4) = addr.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified(),
            IpAddr::V6(v6) => {
                !v6.is_loopback() && !v6.is_unspecified() && (v6.segments()[0] & 0xffc0) != 0xfe80
            }
        })
        .collect();
    addrs
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(addrs.first())
        .copied()
}

/// podman's `host.containers.internal` choice, rootful: the first IPv4 gateway of a bridge
/// network, else an IPv6 one.
pub(crate) fn host_internal_ip(
    status: &BTreeMap<String, StatusBlock>,
    is_bridge: impl Fn(&str) -> bool,
) -> Option<IpAddr> {
    let gateways: Vec<IpAddr> = status
        .iter()
        .filter(|(name, _)| is_bridge(name))
        .flat_map(|(_, block)| block.interfaces.values())
        .flat_map(|iface| iface.subnets.iter())
        .filter_map(|addr| addr.gateway)
        .collect();
    gateways
        .iter()
        .find(|ip| ip.is_ipv4())
        .or_else(|| gateways.first())
        .copied()
}

/// True when any interface has an IPv6 address (podman's `checkForIPv6`).
pub(crate) fn has_ipv6(status: &BTreeMap<String, StatusBlock>) -> bool {
    status
        .values()
        .flat_map(|b| b.interfaces.values())
        .flat_map(|i| i.subnets.iter())
        .any(|a| a.ipnet.addr().is_ipv6())
}

/// The DNS servers the networks' results name (aardvark-dns), IPv6 ones only with IPv6.
pub(crate) fn network_nameservers(status: &BTreeMap<String, StatusBlock>) -> Vec<IpAddr> {
    let ipv6 = has_ipv6(status);
    let mut servers: Vec<IpAddr> = Vec::new();
    for ip in status.values().flat_map(|b| b.dns_server_ips.iter()) {
        if (ip.is_ipv4() || ipv6) && !servers.contains(ip) {
            servers.push(*ip);
        }
    }
    servers
}

/// Writes both files for a container whose networks are set up (`start`); no hosts file
/// with `--no-hosts`.
pub(crate) fn write_new(
    config: &RuntimeConfig,
    record: &ContainerRecord,
    status: &BTreeMap<String, StatusBlock>,
    is_bridge: impl Fn(&str) -> bool,
) -> Result<(Option<PathBuf>, PathBuf), RuntimeError> {
    let host_internal = if rootless_detect::is_rootless() {
        host_local_ip()
    } else {
        host_internal_ip(status, is_bridge).or_else(host_local_ip)
    };
    let content = EtcContent {
        container_ips: host_entries(status, &own_names(record)),
        host_internal,
        netns: resolvconf::NetnsMode::Private(record.netns_path.clone()),
        nameservers: network_nameservers(status),
        status,
    };
    write(config, record, &content)
}

/// What goes into a container's hosts and resolv.conf besides the record's own options.
pub(crate) struct EtcContent<'a> {
    /// The container's own hosts entries.
    pub container_ips: Vec<HostEntry>,
    /// The address `host.containers.internal` names.
    pub host_internal: Option<IpAddr>,
    /// Whose network the resolv.conf is for (the host's keeps loopback nameservers).
    pub netns: resolvconf::NetnsMode,
    /// The network's nameservers (aardvark-dns, a user-mode helper's DNS forwarder),
    /// before the host's unless `--dns` replaces them all.
    pub nameservers: Vec<IpAddr>,
    /// The backend's results (search domains, IPv6); empty without netavark.
    pub status: &'a BTreeMap<String, StatusBlock>,
}

/// Writes both files into the container's directory; their paths.
pub(crate) fn write(
    config: &RuntimeConfig,
    record: &ContainerRecord,
    content: &EtcContent<'_>,
) -> Result<(Option<PathBuf>, PathBuf), RuntimeError> {
    let status = content.status;
    let dir = container_dir(config, &record.id);
    std::fs::create_dir_all(&dir).map_err(|source| RuntimeError::Io {
        path: dir.clone(),
        source,
    })?;
    let etc_err = |file| {
        let container = record.name.clone();
        move |source| RuntimeError::EtcFile {
            container,
            file,
            source,
        }
    };
    // --no-hosts: none written, none mounted (podman: the image's own stays)
    let hosts_path = (!record.no_hosts).then(|| dir.join("hosts"));
    if let Some(hosts_path) = &hosts_path {
        hosts::new(&hosts::HostsParams {
            base_file: config.base_hosts.clone(),
            extra_hosts: record.add_hosts.clone(),
            container_ips: content.container_ips.clone(),
            host_containers_internal_ip: content.host_internal,
            target_file: hosts_path.clone(),
        })
        .map_err(etc_err("hosts"))?;
    }

    // podman: --dns trumps everything; else the networks' servers, then the host's.
    let resolv_path = dir.join("resolv.conf");
    let mut params = resolvconf::ResolvParams::new(&resolv_path);
    params.netns = content.netns.clone();
    params.ipv6_enabled = has_ipv6(status);
    params.host = config.resolv_sources.clone();
    if record.dns_servers.is_empty() {
        params.nameservers = content.nameservers.clone();
        params.keep_host_servers = true;
    } else {
        params.nameservers = record.dns_servers.clone();
    }
    params.searches = if record.dns_search.is_empty() {
        status
            .values()
            .flat_map(|b| b.dns_search_domains.iter().cloned())
            .collect()
    } else {
        record.dns_search.clone()
    };
    params.keep_host_searches = record.dns_search.is_empty();
    // podman: --dns-option replaces the host's options
    params.options.clone_from(&record.dns_options);
    params.keep_host_options = record.dns_options.is_empty();
    resolvconf::new(&params).map_err(etc_err("resolv.conf"))?;
    Ok((hosts_path, resolv_path))
}

/// `connect`: adds the new network's entries (only if one of the old ones is still there,
/// so a user's own edit is respected) and its DNS servers.
pub(crate) fn add_network(
    record: &ContainerRecord,
    old_status: &BTreeMap<String, StatusBlock>,
    new_status: &BTreeMap<String, StatusBlock>,
) -> Result<(), RuntimeError> {
    let names = own_names(record);
    if let Some(path) = &record.hosts_path {
        let old = host_entries(old_status, &names);
        let new = host_entries(new_status, &names);
        hosts::add_if_exists(path, &old, &new).map_err(|source| RuntimeError::EtcFile {
            container: record.name.clone(),
            file: "hosts",
            source,
        })?;
    }
    if let (Some(path), true) = (&record.resolv_conf_path, record.dns_servers.is_empty()) {
        let mut all = old_status.clone();
        all.extend(new_status.iter().map(|(k, v)| (k.clone(), v.clone())));
        let ipv6 = has_ipv6(&all);
        let servers: Vec<IpAddr> = new_status
            .values()
            .flat_map(|b| b.dns_server_ips.iter().copied())
            .filter(|ip| ip.is_ipv4() || ipv6)
            .collect();
        if !servers.is_empty() {
            resolvconf::add_nameservers(path, &servers).map_err(|source| {
                RuntimeError::EtcFile {
                    container: record.name.clone(),
                    file: "resolv.conf",
                    source,
                }
            })?;
        }
    }
    Ok(())
}

/// `disconnect`: removes the network's entries and DNS servers. Best effort: every error is
/// returned, none stops the other file.
pub(crate) fn remove_network(
    record: &ContainerRecord,
    removed: &BTreeMap<String, StatusBlock>,
) -> Vec<StepError> {
    let mut errors = Vec::new();
    if let Some(path) = &record.hosts_path {
        let entries = host_entries(removed, &own_names(record));
        if let Err(e) = hosts::remove(path, &entries) {
            errors.push(StepError::new(Step::Hosts, e));
        }
    }
    if let Some(path) = &record.resolv_conf_path {
        let servers: Vec<IpAddr> = removed
            .values()
            .flat_map(|b| b.dns_server_ips.iter().copied())
            .collect();
        if !servers.is_empty() {
            if let Err(e) = resolvconf::remove_nameservers(path, &servers) {
                errors.push(StepError::new(Step::ResolvConf, e));
            }
        }
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn status(json: &str) -> BTreeMap<String, StatusBlock> {
        serde_json::from_str(json).unwrap()
    }

    const TWO: &str = r#"{
        "a": {"dns_server_ips": ["10.89.0.1"], "dns_search_domains": ["dns.podman"],
              "interfaces": {"eth0": {"mac_address": "aa:aa:aa:aa:aa:aa",
                "subnets": [{"ipnet": "10.89.0.5/24", "gateway": "10.89.0.1"}]}}},
        "b": {"interfaces": {"eth1": {"mac_address": "bb:bb:bb:bb:bb:bb",
                "subnets": [{"ipnet": "fd00::5/64", "gateway": "fd00::1"},
                            {"ipnet": "10.89.1.5/24", "gateway": "10.89.1.1"}]}}}
    }"#;

    #[test]
    fn host_entries_cover_every_address_in_network_order() {
        let entries = host_entries(&status(TWO), &["web", "c1"]);
        let ips: Vec<String> = entries.iter().map(|e| e.ip.to_string()).collect();
        assert_eq!(ips, ["10.89.0.5", "fd00::5", "10.89.1.5"]);
        assert!(entries.iter().all(|e| e.names == ["web", "c1"]));
    }

    #[test]
    fn host_internal_prefers_ipv4_bridge_gateways() {
        let s = status(TWO);
        assert_eq!(
            host_internal_ip(&s, |_| true),
            Some("10.89.0.1".parse().unwrap())
        );
        assert_eq!(
            host_internal_ip(&s, |n| n == "b"),
            Some("10.89.1.1".parse().unwrap())
        );
        assert_eq!(host_internal_ip(&s, |_| false), None);
    }

    #[test]
    fn the_local_ip_is_a_global_address_of_this_machine() {
        // whatever this machine has, it is never loopback or link-local
        if let Some(ip) = host_local_ip() {
            assert!(!ip.is_loopback(), "{ip}");
            if let IpAddr::V4(v4) = ip {
                assert!(!v4.is_link_local(), "{ip}");
            }
        }
    }

    #[test]
    fn ipv6_nameservers_only_with_ipv6_addresses() {
        let v4only = status(
            r#"{"a": {"dns_server_ips": ["10.89.0.1", "fd00::1"],
                "interfaces": {"eth0": {"subnets": [{"ipnet": "10.89.0.5/24"}]}}}}"#,
        );
        assert_eq!(
            network_nameservers(&v4only),
            vec!["10.89.0.1".parse::<IpAddr>().unwrap()]
        );
        assert!(has_ipv6(&status(TWO)));
    }
}
