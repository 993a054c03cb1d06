//! Address rules: MACs, subnets, gateways and `--add-host` entries.

use std::net::IpAddr;

use ipnet::IpNet;

use super::names::hostname;
use super::{InvalidInput, Rule};

/// Ranges no container network may overlap, with what they are reserved for.
const RESERVED: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\", RFC 1122"),
    ("127.0.0.0/8", "loopback, RFC 1122"),
    ("169.254.0.0/16", "link-local, RFC 3927"),
    ("224.0.0.0/4", "multicast, RFC 5771"),
    (
        "240.0.0.0/4",
        "reserved, with the limited broadcast address, RFC 1112",
    ),
    ("::/128", "the unspecified address, RFC 4291"),
    ("::1/128", "loopback, RFC 4291"),
    ("fe80::/10", "link-local, RFC 4291"),
    ("ff00::/8", "multicast, RFC 4291"),
];

/// A MAC for an interface: six `:`-separated hex octets, unicast, not all zero.
pub fn mac(value: &str) -> Result<(), InvalidInput> {
    let bad = |rule| InvalidInput::new("MAC address", value, rule);
    let octets: Vec<&str> = value.split(':').collect();
    if octets.len() != 6
        || octets
            .iter()
            .any(|o| o.len() != 2 || !o.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(bad(Rule::Mac));
    }
    let first = u8::from_str_radix(octets[0], 16).map_err(|_| bad(Rule::Mac))?;
    if first & 1 == 1 {
        return Err(bad(Rule::MulticastMac));
    }
    if octets.iter().all(|o| *o == "00") {
        return Err(bad(Rule::ZeroMac));
    }
    Ok(())
}

/// A subnet for a container network: room for a gateway and a container, and outside
/// every reserved range (which also refuses 0.0.0.0/0 and ::/0).
pub fn subnet(net: &IpNet) -> Result<(), InvalidInput> {
    let bad = |rule| InvalidInput::new("subnet", net.to_string(), rule);
    let max = match net {
        IpNet::V4(_) => 30,
        IpNet::V6(_) => 126,
    };
    if net.prefix_len() > max {
        return Err(bad(Rule::PrefixTooLong {
            prefix: net.prefix_len(),
            max,
        }));
    }
    let net = net.trunc();
    if net.prefix_len() == 0 {
        let range = if net.network().is_ipv4() {
            "0.0.0.0/0"
        } else {
            "::/0"
        };
        return Err(bad(Rule::Reserved {
            range,
            why: "every address: the host's default route and all its other networks",
        }));
    }
    for (range, why) in RESERVED {
        let Ok(reserved) = range.parse::<IpNet>() else {
            continue;
        };
        if net.contains(&reserved.network()) || reserved.contains(&net.network()) {
            return Err(bad(Rule::Reserved { range, why }));
        }
    }
    Ok(())
}

/// A gateway of `subnet`: inside it, not its network address, not its IPv4 broadcast.
pub fn gateway(gw: IpAddr, subnet: &IpNet) -> Result<(), InvalidInput> {
    let bad = |rule| InvalidInput::new("gateway", gw.to_string(), rule);
    let net = subnet.trunc();
    if !net.contains(&gw) {
        return Err(bad(Rule::GatewayOutside(net.to_string())));
    }
    if gw == net.network() {
        return Err(bad(Rule::GatewayNetworkAddress(net.to_string())));
    }
    if matches!(net, IpNet::V4(_)) && gw == net.broadcast() {
        return Err(bad(Rule::GatewayBroadcast(net.to_string())));
    }
    Ok(())
}

/// An `--add-host` entry: `NAME[;NAME...]:IP`, each name a hostname, the IP an address or
/// `host-gateway` (split at the first `:`, so `h:::1` is h at ::1, as podman splits it).
pub fn add_host(entry: &str) -> Result<(), InvalidInput> {
    const WHAT: &str = "--add-host entry";
    let bad = |why| InvalidInput::new(WHAT, entry, Rule::AddHost(why));
    let (names, ip) = entry
        .split_once(':')
        .ok_or_else(|| bad("no ':' between the names and the IP"))?;
    if names.is_empty() {
        return Err(bad("no host name"));
    }
    if ip != etchosts::hosts::HOST_GATEWAY && ip.parse::<IpAddr>().is_err() {
        return Err(bad("the part after the first ':' is not an IP address"));
    }
    for name in names.split(';') {
        hostname(name).map_err(|e| InvalidInput {
            what: WHAT,
            value: entry.to_string(),
            ..e
        })?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rule(r: Result<(), InvalidInput>) -> Option<Rule> {
        r.err().map(|e| e.rule)
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn macs_are_unicast_six_octets() {
        assert_eq!(rule(mac("02:42:ac:11:00:02")), None);
        assert_eq!(rule(mac("02:42:AC:11:00:02")), None);
        for bad in [
            "zz:zz",
            "02:42:ac:11:00",
            "02:42:ac:11:00:02:03",
            "0242ac110002",
            "2:42:ac:11:0:2",
            "",
        ] {
            assert_eq!(rule(mac(bad)), Some(Rule::Mac), "{bad}");
        }
        assert_eq!(rule(mac("01:00:5e:00:00:01")), Some(Rule::MulticastMac));
        assert_eq!(rule(mac("ff:ff:ff:ff:ff:ff")), Some(Rule::MulticastMac));
        assert_eq!(rule(mac("00:00:00:00:00:00")), Some(Rule::ZeroMac));
    }

    #[test]
    fn subnets_need_room_and_stay_out_of_reserved_ranges() {
        for ok in [
            "10.89.0.0/24",
            "10.0.0.0/30",
            "fd00::/64",
            "fd00::/126",
            "192.168.1.0/24",
        ] {
            assert_eq!(rule(subnet(&net(ok))), None, "{ok}");
        }
        for (bad, prefix, max) in [
            ("10.0.0.0/31", 31, 30),
            ("10.0.0.1/32", 32, 30),
            ("fd00::/127", 127, 126),
            ("fd00::/128", 128, 126),
        ] {
            assert_eq!(
                rule(subnet(&net(bad))),
                Some(Rule::PrefixTooLong { prefix, max }),
                "{bad}"
            );
        }
        for (bad, range) in [
            ("127.0.0.0/24", "127.0.0.0/8"),
            ("224.0.0.0/24", "224.0.0.0/4"),
            // found by the fuzz run: class E, with 255.255.255.255, was accepted
            ("240.0.0.0/4", "240.0.0.0/4"),
            ("255.255.255.0/24", "240.0.0.0/4"),
            ("169.254.0.0/24", "169.254.0.0/16"),
            ("0.0.0.0/8", "0.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("::/0", "::/0"),
            ("fe80::/64", "fe80::/10"),
            ("ff02::/64", "ff00::/8"),
        ] {
            assert!(
                matches!(rule(subnet(&net(bad))), Some(Rule::Reserved { range: r, .. }) if r == range),
                "{bad}: {:?}",
                subnet(&net(bad))
            );
        }
    }

    #[test]
    fn gateways_are_host_addresses_of_their_subnet() {
        let s = net("10.89.0.0/24");
        assert_eq!(rule(gateway("10.89.0.1".parse().unwrap(), &s)), None);
        assert_eq!(rule(gateway("10.89.0.254".parse().unwrap(), &s)), None);
        assert_eq!(
            rule(gateway("10.89.0.0".parse().unwrap(), &s)),
            Some(Rule::GatewayNetworkAddress("10.89.0.0/24".into()))
        );
        assert_eq!(
            rule(gateway("10.89.0.255".parse().unwrap(), &s)),
            Some(Rule::GatewayBroadcast("10.89.0.0/24".into()))
        );
        assert_eq!(
            rule(gateway("10.90.0.1".parse().unwrap(), &s)),
            Some(Rule::GatewayOutside("10.89.0.0/24".into()))
        );
        let v6 = net("fd00::/64");
        assert_eq!(rule(gateway("fd00::1".parse().unwrap(), &v6)), None);
        assert_eq!(
            rule(gateway("fd00::".parse().unwrap(), &v6)),
            Some(Rule::GatewayNetworkAddress("fd00::/64".into()))
        );
    }

    #[test]
    fn add_host_entries_parse_at_create() {
        for ok in [
            "db:10.0.0.2",
            "a;b.example:10.0.0.3",
            "h:::1",
            "gw:host-gateway",
        ] {
            assert_eq!(rule(add_host(ok)), None, "{ok}");
        }
        assert!(matches!(rule(add_host("garbage")), Some(Rule::AddHost(_))));
        assert!(matches!(
            rule(add_host(":10.0.0.1")),
            Some(Rule::AddHost(_))
        ));
        assert!(matches!(rule(add_host("db:")), Some(Rule::AddHost(_))));
        assert!(matches!(
            rule(add_host("db:10.0.0.300")),
            Some(Rule::AddHost(_))
        ));
        let e = add_host("a b:10.0.0.1").unwrap_err();
        assert_eq!(e.rule, Rule::WhitespaceOrControl);
        assert_eq!(e.value, "a b:10.0.0.1");
        assert_eq!(
            rule(add_host("x\n6.6.6.6 victim:10.0.0.1")),
            Some(Rule::WhitespaceOrControl)
        );
    }
}
