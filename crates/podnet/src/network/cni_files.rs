//! podman 4's CNI network files: every `*.conflist` of the CNI config directory read as a
//! [`Network`] the way containers/common's `createNetworkFromCNIConfigList` reads it (its
//! `podman_labels` and `podman_options` args, the bridge or macvlan plugin, host-local's
//! ranges, dnsname, the firewall's isolation), with podman's ID for it: the SHA-256 of the
//! name. Files are read unchanged; writing uses the backend's podman 4.3 conflist.

use std::fs;
use std::path::Path;

use serde_json::{Map, Value};
use tracing::warn;

use super::error::NetworkError;
use super::types::*;
use super::validate::{format_rfc3339, is_valid_name};

/// The lock podman 4's CNI backend takes in the config directory around create and remove.
pub(crate) const LOCK_FILE: &str = "cni.lock";
/// The prefix of the networks and bridges podman 4's CNI backend names (`cni-podman0` is the
/// default network's bridge; an unnamed network is `cni-podmanN` with a bridge of that name).
pub(crate) const BRIDGE_PREFIX: &str = "cni-podman";

/// podman's ID of a CNI network: the hex SHA-256 of its name.
pub(crate) fn network_id(name: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every readable `*.conflist` in `dir` as a network (none when `dir` does not exist);
/// others are skipped with a warning, as podman skips them.
pub(crate) fn load_dir(dir: &Path) -> Result<Vec<Network>, NetworkError> {
    let read_err = |source| NetworkError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                paths.push(entry.map_err(read_err)?.path());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(read_err(source)),
    }
    // libcni's ConfFiles order: sorted by file name; the first of two same-named networks wins
    paths.sort();
    let mut out: Vec<Network> = Vec::new();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("conflist") || path.is_dir() {
            continue;
        }
        let Some(net) = load_file(&path) else {
            continue;
        };
        if out.iter().any(|n| n.name == net.name) {
            warn!(path = %path.display(), name = %net.name, "a CNI network with this name was already loaded, skipping");
            continue;
        }
        out.push(net);
    }
    Ok(out)
}

fn load_file(path: &Path) -> Option<Network> {
    let list = match cni::NetworkConfigList::from_file(path) {
        Ok(l) => l,
        Err(e) => {
            warn!(path = %path.display(), error = %e, "error loading CNI config file, skipping");
            return None;
        }
    };
    if !is_valid_name(list.name()) {
        warn!(path = %path.display(), name = list.name(), "CNI config has an invalid name, skipping");
        return None;
    }
    // podman's fileTime: the inode's change time
    let created = fs::metadata(path)
        .ok()
        .and_then(|m| {
            use std::os::unix::fs::MetadataExt;
            Some(format_rfc3339(
                u64::try_from(m.ctime()).ok()?,
                u32::try_from(m.ctime_nsec()).ok()?,
            ))
        })
        .unwrap_or_default();
    match from_conflist(&list, created) {
        Ok(net) => Some(net),
        Err(reason) => {
            warn!(path = %path.display(), reason, "CNI config could not be converted, skipping");
            None
        }
    }
}

/// The network a conflist describes (`created`: its file's time). `Err` is the reason.
pub(crate) fn from_conflist(
    list: &cni::NetworkConfigList,
    created: String,
) -> Result<Network, String> {
    let mut net = Network {
        name: list.name().to_string(),
        id: network_id(list.name()),
        created,
        ..Network::default()
    };
    if let Some(args) = list.raw().get("args").and_then(Value::as_object) {
        net.labels = string_map(args, "podman_labels");
        net.options = string_map(args, "podman_options");
    }
    let first = list
        .plugins()
        .first()
        .ok_or_else(|| "no plugins".to_string())?;
    net.driver = first.plugin_type().to_string();
    let raw = first.raw();
    let number = |key: &str| raw.get(key).and_then(Value::as_u64).filter(|n| *n != 0);
    match first.plugin_type() {
        BRIDGE_DRIVER => {
            net.network_interface = text(raw, "bridge");
            net.internal = !raw
                .get("isGateway")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let Some(mtu) = number("mtu") {
                net.options.insert("mtu".into(), mtu.to_string());
            }
            if let Some(vlan) = number("vlan") {
                net.options.insert("vlan".into(), vlan.to_string());
            }
            ipam_to_network(&mut net, raw.get("ipam"))?;
        }
        MACVLAN_DRIVER | "ipvlan" => {
            net.network_interface = text(raw, "master");
            if let Some(mtu) = number("mtu") {
                net.options.insert("mtu".into(), mtu.to_string());
            }
            let mode = text(raw, "mode");
            if !mode.is_empty() {
                net.options.insert("mode".into(), mode);
            }
            ipam_to_network(&mut net, raw.get("ipam"))?;
        }
        other => {
            tracing::info!(network = %net.name, plugin = other, "unsupported CNI plugin type: the network works, inspect shows less");
        }
    }
    net.dns_enabled = list.plugins().iter().any(|p| p.plugin_type() == "dnsname");
    let isolated = list
        .plugins()
        .iter()
        .find(|p| p.plugin_type() == "firewall")
        .is_some_and(|p| {
            p.raw().get("ingressPolicy").and_then(Value::as_str) == Some("same-bridge")
        });
    if isolated {
        net.options.insert("isolate".into(), "true".into());
    }
    Ok(net)
}

fn text(raw: &Map<String, Value>, key: &str) -> String {
    raw.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The string values of `args[key]` (others are dropped, as podman drops them).
fn string_map(args: &Map<String, Value>, key: &str) -> std::collections::BTreeMap<String, String> {
    args.get(key)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// podman's `convertIPAMConfToNetwork`.
fn ipam_to_network(net: &mut Network, ipam: Option<&Value>) -> Result<(), String> {
    let kind = ipam
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let driver = match kind {
        "" => NONE_IPAM,
        other => other,
    };
    net.ipam_options
        .insert(IPAM_DRIVER_KEY.into(), driver.to_string());
    if kind != HOST_LOCAL_IPAM {
        return Ok(());
    }
    let ranges = ipam
        .and_then(|i| i.get("ranges"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for range in ranges
        .iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
    {
        let field = |key: &str| range.get(key).and_then(Value::as_str).unwrap_or_default();
        let subnet: ipnet::IpNet = field("subnet")
            .parse()
            .map_err(|_| format!("subnet {:?} is not a CIDR", field("subnet")))?;
        let subnet = subnet.trunc();
        let addr = |key: &str| -> Result<Option<std::net::IpAddr>, String> {
            match field(key) {
                "" => Ok(None),
                s => s
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{key} {s:?} is not an address")),
            }
        };
        let gateway = match addr("gateway")? {
            Some(gw) => Some(gw),
            None if !net.internal => Some(super::addr::first_ip(&subnet)),
            None => None,
        };
        let (start_ip, end_ip) = (addr("rangeStart")?, addr("rangeEnd")?);
        let lease_range =
            (start_ip.is_some() || end_ip.is_some()).then_some(LeaseRange { start_ip, end_ip });
        if matches!(subnet, ipnet::IpNet::V6(_)) {
            net.ipv6_enabled = true;
        }
        net.subnets.push(Subnet {
            subnet,
            gateway,
            lease_range,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> cni::NetworkConfigList {
        let path = format!(
            "{}/../cni/tests/fixtures/podman43/{name}.conflist",
            env!("CARGO_MANIFEST_DIR")
        );
        cni::NetworkConfigList::from_file(Path::new(&path)).unwrap()
    }

    #[test]
    fn reads_podman_43_files_as_podman_does() {
        let net = from_conflist(&fixture("shapenet"), "t".into()).unwrap();
        assert_eq!(net.name, "shapenet");
        // sha256("shapenet"), as podman's getNetworkIDFromName
        assert_eq!(net.id, network_id("shapenet"));
        assert_eq!(net.id.len(), 64);
        assert_eq!(net.driver, "bridge");
        assert_eq!(net.network_interface, "cni-podman1");
        assert!(!net.internal);
        assert_eq!(net.labels["app"], "x");
        assert_eq!(net.options["mtu"], "1400");
        assert_eq!(net.subnets[0].subnet.to_string(), "10.77.3.0/24");
        assert_eq!(net.subnets[0].gateway.unwrap().to_string(), "10.77.3.1");
        assert_eq!(net.ipam_driver(), HOST_LOCAL_IPAM);

        let dual = from_conflist(&fixture("dualnet"), "t".into()).unwrap();
        assert!(dual.internal && dual.ipv6_enabled && !dual.dns_enabled);
        // internal: no gateway is made up
        assert_eq!(dual.subnets.len(), 2);
        assert!(dual.subnets.iter().all(|s| s.gateway.is_none()));
    }

    #[test]
    fn what_podman_writes_reads_back_to_the_same_network() {
        let mut net = from_conflist(&fixture("shapenet"), "t".into()).unwrap();
        net.dns_enabled = true;
        net.options.insert("isolate".into(), "true".into());
        let bytes = crate::backend::podman_conflist(&net, true).unwrap();
        let list = cni::NetworkConfigList::from_conflist_bytes(&bytes, "x").unwrap();
        assert_eq!(from_conflist(&list, "t".into()).unwrap(), net);
    }

    #[test]
    fn a_known_sha256() {
        assert_eq!(
            network_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
