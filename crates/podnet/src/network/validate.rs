//! Normalization of a network definition, as podman's `CommonNetworkCreate`,
//! `ValidateSubnets` and the per-driver option checks do; the rules that refuse a value
//! live in [`crate::validate`].

use std::time::{SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use rand::RngCore;

use super::addr;
use super::error::NetworkError;
use super::types::{Network, Subnet, BRIDGE_DRIVER, IPVLAN_DRIVER, MACVLAN_DRIVER};

/// Podman's `NameRegex`: `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$` (the syntax only; the
/// rules of [`crate::InvalidInput`] also bound the length).
pub fn is_valid_name(name: &str) -> bool {
    crate::validate::has_name_syntax(name)
}

/// Validates the subnets of `net` (podman's `ValidateSubnets`): host bits
/// cleared, no overlap with `used`, gateway and lease range inside the
/// subnet, a gateway added when `add_gateway` and none is set;
/// `ipv6_enabled` set when any subnet is IPv6.
pub(crate) fn validate_subnets(
    net: &mut Network,
    add_gateway: bool,
    used: &[IpNet],
) -> Result<(), NetworkError> {
    for s in &mut net.subnets {
        validate_subnet(s, add_gateway, used)?;
        if matches!(s.subnet, IpNet::V6(_)) {
            net.ipv6_enabled = true;
        }
    }
    Ok(())
}

fn validate_subnet(s: &mut Subnet, add_gateway: bool, used: &[IpNet]) -> Result<(), NetworkError> {
    let subnet = addr::trunc(s.subnet);
    if used.iter().any(|u| addr::intersects(&subnet, u)) {
        return Err(NetworkError::SubnetInUse { subnet });
    }
    s.subnet = subnet;
    match s.gateway {
        Some(gw) => {
            let gw = addr::normalize(gw);
            if !subnet.contains(&gw) {
                return Err(NetworkError::GatewayOutsideSubnet {
                    gateway: gw,
                    subnet,
                });
            }
            s.gateway = Some(gw);
        }
        None if add_gateway => s.gateway = Some(addr::first_ip(&subnet)),
        None => {}
    }
    if let Some(range) = &mut s.lease_range {
        for bound in [&mut range.start_ip, &mut range.end_ip]
            .into_iter()
            .flatten()
        {
            let ip = addr::normalize(*bound);
            if !subnet.contains(&ip) {
                return Err(NetworkError::LeaseRangeOutsideSubnet { ip, subnet });
            }
            *bound = ip;
        }
    }
    Ok(())
}

/// Checks (and for `isolate` normalizes) the driver options, as podman's
/// `networkCreate` and `createMacvlan` do.
pub(crate) fn validate_options(net: &mut Network) -> Result<(), NetworkError> {
    let driver = net.driver.clone();
    for (key, value) in net.options.iter_mut() {
        match (driver.as_str(), key.as_str()) {
            (BRIDGE_DRIVER | MACVLAN_DRIVER | IPVLAN_DRIVER, "mtu") => {
                parse_bounded(key, value, i64::from(i32::MAX))?;
            }
            (BRIDGE_DRIVER, "vlan") => {
                parse_bounded(key, value, 4094)?;
            }
            (BRIDGE_DRIVER, "isolate") => {
                // Go's strconv.ParseBool; netavark only takes "true"/"false".
                let b = match value.as_str() {
                    "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
                    "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
                    _ => return Err(invalid(key, value, "not a boolean")),
                };
                *value = b.to_string();
            }
            (MACVLAN_DRIVER, "mode") => {
                if !["bridge", "private", "vepa", "passthru"].contains(&value.as_str()) {
                    return Err(invalid(key, value, "unknown macvlan mode"));
                }
            }
            // podman's `ValidIPVLANModes`
            (IPVLAN_DRIVER, "mode") => {
                if !["l2", "l3", "l3s"].contains(&value.as_str()) {
                    return Err(invalid(key, value, "unknown ipvlan mode"));
                }
            }
            _ => {
                return Err(NetworkError::UnsupportedOption {
                    driver,
                    key: key.clone(),
                })
            }
        }
    }
    Ok(())
}

fn parse_bounded(key: &str, value: &str, max: i64) -> Result<(), NetworkError> {
    if value.is_empty() {
        return Ok(());
    }
    match value.parse::<i64>() {
        Ok(v) if (0..=max).contains(&v) => Ok(()),
        Ok(_) => Err(invalid(key, value, &format!("must be between 0 and {max}"))),
        Err(_) => Err(invalid(key, value, "not an integer")),
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> NetworkError {
    NetworkError::InvalidOption {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A random 64-hex-character ID whose 12-character short form is not all
/// digits (containers/storage `stringid.GenerateNonCryptoID`).
pub(crate) fn random_id() -> String {
    let mut rng = rand::thread_rng();
    loop {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
        if !id[..12].bytes().all(|c| c.is_ascii_digit()) {
            return id;
        }
    }
}

/// Now as Go's RFC3339Nano in UTC (`2026-11-24T01:59:14.495440019Z`).
pub(crate) fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs(), d.subsec_nanos())
}

/// Formats seconds + nanoseconds since the epoch; trailing zeros of the
/// fraction are trimmed and a zero fraction is omitted, as Go does.
pub(crate) fn format_rfc3339(secs: u64, nanos: u32) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut s = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_as_podman() {
        for ok in ["a", "pntfoo", "my.net-1_x", "9lives", "A"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", ".a", "_a", "a/b", "a b", "ä", "a:b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_64_hex_not_numeric_short() {
        for _ in 0..50 {
            let id = random_id();
            assert_eq!(id.len(), 64);
            assert!(id
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            assert!(!id[..12].bytes().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn rfc3339_like_go() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
        // date -u -d @1795485554 +%FT%T => 2026-11-24T01:59:14
        assert_eq!(
            format_rfc3339(1_795_485_554, 495_440_019),
            "2026-11-24T01:59:14.495440019Z"
        );
        assert_eq!(
            format_rfc3339(1_795_485_554, 594_736_320),
            "2026-11-24T01:59:14.59473632Z"
        );
        assert_eq!(format_rfc3339(951_782_400, 0), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn options_checked_and_isolate_normalized() {
        let mut n = Network {
            driver: "bridge".into(),
            ..Default::default()
        };
        n.options.insert("isolate".into(), "1".into());
        n.options.insert("mtu".into(), "1400".into());
        validate_options(&mut n).unwrap();
        assert_eq!(n.options["isolate"], "true");
        n.options.insert("vlan".into(), "5000".into());
        assert!(matches!(
            validate_options(&mut n),
            Err(NetworkError::InvalidOption { .. })
        ));
        n.options.remove("vlan");
        n.options.insert("bogus".into(), "1".into());
        assert!(matches!(
            validate_options(&mut n),
            Err(NetworkError::UnsupportedOption { .. })
        ));
    }
}
