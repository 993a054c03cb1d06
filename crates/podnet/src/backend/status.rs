//! netavark's `setup` result: one status block per network, read in either form.
//!
//! netavark prints a JSON object mapping each network name to its status
//! block. The array forms `[{"name": block}, ...]` and `[["name", block], ...]`
//! are read too, so a backend that lists its results is understood as well.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The status of one container on one network, as the backend reports it.
pub use netstatus::StatusBlock;

#[derive(Deserialize)]
#[serde(untagged)]
enum SetupOutput {
    Map(BTreeMap<String, StatusBlock>),
    List(Vec<ListEntry>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListEntry {
    Pair(String, StatusBlock),
    Map(BTreeMap<String, StatusBlock>),
}

/// Parses netavark's setup output in the map or one of the array forms.
pub(crate) fn parse_setup_output(
    text: &str,
) -> Result<BTreeMap<String, StatusBlock>, serde_json::Error> {
    let trimmed = text.trim();
    let out: SetupOutput = serde_json::from_str(trimmed)?;
    Ok(match out {
        SetupOutput::Map(map) => map,
        SetupOutput::List(entries) => {
            let mut map = BTreeMap::new();
            for entry in entries {
                match entry {
                    ListEntry::Pair(name, block) => {
                        map.insert(name, block);
                    }
                    ListEntry::Map(m) => map.extend(m),
                }
            }
            map
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Captured from netavark 1.4.0 on this machine (bridge network, one static IP).
    const NETAVARK_14: &str = r#"{"pntnv":{"dns_search_domains":[],"dns_server_ips":[],"interfaces":{"eth0":{"mac_address":"de:8a:3a:5c:ad:1b","subnets":[{"ipnet":"10.89.251.10/24","gateway":"10.89.251.1"}]}}}}
"#;

    #[test]
    fn reads_map_form() {
        let map = parse_setup_output(NETAVARK_14).unwrap();
        let eth0 = &map["pntnv"].interfaces["eth0"];
        assert_eq!(eth0.mac_address, "de:8a:3a:5c:ad:1b");
        assert_eq!(eth0.subnets[0].ipnet.to_string(), "10.89.251.10/24");
        assert_eq!(eth0.subnets[0].gateway.unwrap().to_string(), "10.89.251.1");
    }

    #[test]
    fn reads_both_array_forms() {
        let pairs =
            r#"[["a",{"interfaces":{"eth0":{"mac_address":"02:00:00:00:00:01"}}}],["b",{}]]"#;
        let map = parse_setup_output(pairs).unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map["a"].interfaces["eth0"].mac_address, "02:00:00:00:00:01");

        let maps = r#"[{"a":{"dns_server_ips":["10.89.0.1"]}},{"b":{"dns_search_domains":["dns.podman"]}}]"#;
        let map = parse_setup_output(maps).unwrap();
        assert!(map["a"].interfaces.is_empty());
        assert_eq!(map["a"].dns_server_ips[0].to_string(), "10.89.0.1");
        assert_eq!(map["b"].dns_search_domains, ["dns.podman"]);
    }

    #[test]
    fn reads_nulls_as_empty() {
        let text = r#"{"n":{"dns_search_domains":null,"dns_server_ips":null,"interfaces":{"eth0":{"mac_address":"02:00:00:00:00:01","subnets":[{"ipnet":"10.0.0.2/24","gateway":null}]}}}}"#;
        let map = parse_setup_output(text).unwrap();
        assert!(map["n"].dns_search_domains.is_empty());
        assert_eq!(map["n"].interfaces["eth0"].subnets[0].gateway, None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_setup_output("").is_err());
        assert!(parse_setup_output("{\"a\": 3}").is_err());
        assert!(parse_setup_output("not json").is_err());
    }
}
