//! Rules for what a container asks for: the `--network NAME:opts` string, a network
//! request (create and connect), and a whole container spec.

use super::addrs::{add_host, mac};
use super::names::{alias, container_name, hostname, interface_name, search_domain};
use super::{InvalidInput, Rule};
use crate::runtime::{ContainerSpec, NetworkRequest};

/// Parses podman's `--network` syntax, `NAME[:ip=IP,alias=A,mac=MAC,interface_name=IF]`
/// (`ip6=` is taken as `ip=`). Only the syntax: [`network_request`] checks the values.
pub(crate) fn parse_network_option(spec: &str) -> Result<NetworkRequest, InvalidInput> {
    let bad = |why| InvalidInput::new("--network", spec, Rule::NetworkOption(why));
    let (name, opts) = spec.split_once(':').unwrap_or((spec, ""));
    if name.is_empty() {
        return Err(bad("no network name"));
    }
    let mut request = NetworkRequest::new(name);
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        let (key, value) = opt
            .split_once('=')
            .ok_or_else(|| bad("options are key=value"))?;
        match key {
            "ip" | "ip6" => request
                .static_ips
                .push(value.parse().map_err(|_| bad("ip= is not an IP address"))?),
            "alias" => request.aliases.push(value.to_string()),
            "mac" => request.static_mac = Some(value.to_string()),
            "interface_name" => request.interface_name = Some(value.to_string()),
            _ => return Err(bad("unknown option (ip, alias, mac, interface_name)")),
        }
    }
    Ok(request)
}

/// Checks a request to join a network (at create and at connect): aliases, MAC and
/// interface name; the network itself is looked up by the flow, under its lock.
pub fn network_request(request: &NetworkRequest) -> Result<(), InvalidInput> {
    if request.network.is_empty() {
        return Err(InvalidInput::new("network", "", Rule::Empty));
    }
    super::no_whitespace_or_control("network", &request.network)?;
    for a in &request.aliases {
        alias(a)?;
    }
    if let Some(m) = &request.static_mac {
        mac(m)?;
    }
    if let Some(name) = &request.interface_name {
        interface_name(name)?;
    }
    Ok(())
}

/// Checks everything `create` records: the name, hostname, search domains, `--add-host`
/// entries and every network request (ports are checked by `portmap` on the way in).
pub fn container_spec(spec: &ContainerSpec) -> Result<(), InvalidInput> {
    container_name(&spec.name)?;
    if let Some(h) = &spec.hostname {
        hostname(h)?;
    }
    for d in &spec.dns_search {
        search_domain(d)?;
    }
    for h in &spec.add_hosts {
        add_host(h)?;
    }
    for o in &spec.dns_options {
        super::dns_option(o)?;
    }
    if spec.no_hosts && !spec.add_hosts.is_empty() {
        return Err(InvalidInput::new(
            "--add-host",
            spec.add_hosts.join(","),
            Rule::AddHostWithNoHosts,
        ));
    }
    for r in &spec.networks {
        network_request(r)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn network_option_syntax() {
        let r = parse_network_option("front:ip=10.89.0.9,alias=db,mac=02:00:00:00:00:01").unwrap();
        assert_eq!(r.network, "front");
        assert_eq!(
            r.static_ips,
            vec!["10.89.0.9".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(r.aliases, vec!["db"]);
        assert_eq!(r.static_mac.as_deref(), Some("02:00:00:00:00:01"));
        let err = parse_network_option("front:ip=nope")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"front:ip=nope\"") && err.contains("not an IP"),
            "{err}"
        );
        let err = parse_network_option("front:speed=9")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option"), "{err}");
        assert!(parse_network_option(":alias=x").is_err());
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let injected = parse_network_option("net:alias=evil\n6.6.6.6 x").unwrap();
        let e = network_request(&injected).unwrap_err();
        assert_eq!((e.what, e.rule), ("alias", Rule::WhitespaceOrControl));
        let e = network_request(&parse_network_option("net:mac=zz:zz").unwrap()).unwrap_err();
        assert_eq!(e.rule, Rule::Mac);
        let e =
            network_request(&parse_network_option("net:interface_name=../x").unwrap()).unwrap_err();
        assert_eq!(e.rule, Rule::InterfaceName);
        assert!(network_request(
            &parse_network_option("net:alias=db,interface_name=eth3").unwrap()
        )
        .is_ok());
    }

    #[test]
    fn container_specs_are_checked_before_anything_is_stored() {
        let mut spec = ContainerSpec {
            name: "web".into(),
            ..ContainerSpec::default()
        };
        assert!(container_spec(&spec).is_ok());
        spec.dns_search = vec!["a b".into()];
        assert_eq!(container_spec(&spec).unwrap_err().what, "search domain");
        spec.dns_search.clear();
        spec.add_hosts = vec!["garbage".into()];
        assert_eq!(container_spec(&spec).unwrap_err().what, "--add-host entry");
        spec.add_hosts.clear();
        spec.hostname = Some("h\nx".into());
        assert_eq!(container_spec(&spec).unwrap_err().what, "hostname");
        spec.hostname = None;
        spec.name = "x".repeat(300);
        assert_eq!(container_spec(&spec).unwrap_err().what, "container name");
    }
}
