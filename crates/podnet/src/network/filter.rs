//! `--filter` of `podman network ls` and `podman network prune`, as containers/common's
//! `libnetwork/util` filters networks: values of one key are alternatives (any may match),
//! different keys must all match; `label` values must all match, `label!` values must all
//! miss. `name` is an unanchored regular expression, `id` an ID prefix, `driver` exact.
//! `until` (one value: a duration, time or Unix seconds, see [`super::until`]) passes the
//! networks created strictly before it. `dangling` (one boolean, as Go's `ParseBool` reads
//! it) is podman's own filter, outside containers/common: it needs to know which networks
//! containers use, so [`crate::Runtime::list_networks`] applies it, not
//! [`NetworkFilter::matches`]. Prune knows only `label`, `label!` and `until` (podman
//! refuses the others for prune; a prune removes only dangling networks anyway).

use regex::Regex;

use super::types::Network;
use super::until::{self, Nanos};
use crate::validate::InvalidInput;

/// A parsed set of network filters; the empty set matches every network.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    names: Vec<Regex>,
    ids: Vec<String>,
    drivers: Vec<String>,
    labels: Vec<LabelMatch>,
    not_labels: Vec<LabelMatch>,
    until: Option<Nanos>,
    dangling: Option<bool>,
}

/// `key` or `key=value` of a label filter.
#[derive(Debug, Clone)]
struct LabelMatch {
    key: String,
    value: Option<String>,
}

impl LabelMatch {
    fn parse(text: &str) -> Self {
        match text.split_once('=') {
            Some((key, value)) => LabelMatch {
                key: key.to_owned(),
                value: Some(value.to_owned()),
            },
            None => LabelMatch {
                key: text.to_owned(),
                value: None,
            },
        }
    }

    fn matches(&self, net: &Network) -> bool {
        match (net.labels.get(&self.key), &self.value) {
            (Some(_), None) => true,
            (Some(have), Some(want)) => have == want,
            (None, _) => false,
        }
    }
}

impl NetworkFilter {
    /// Filters for `network ls`: each item `KEY=VALUE` with KEY `name`, `id`, `driver`,
    /// `label`, `label!`, `until` or `dangling`. An unknown key, a missing `=`, a bad
    /// regular expression, a second `until` or `dangling`, or a value of them that is no
    /// time or boolean is an error naming the item.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, InvalidInput> {
        Self::parse_keys(
            items,
            &[
                "name", "id", "driver", "label", "label!", "until", "dangling",
            ],
        )
    }

    /// `dangling=true`: only networks no container uses; `false`: only those some
    /// container uses; `None`: either.
    pub fn dangling(&self) -> Option<bool> {
        self.dangling
    }

    /// Filters for `network prune`: only `label`, `label!` and `until`.
    pub fn parse_prune<S: AsRef<str>>(items: &[S]) -> Result<Self, InvalidInput> {
        Self::parse_keys(items, &["label", "label!", "until"])
    }

    fn parse_keys<S: AsRef<str>>(items: &[S], known: &[&str]) -> Result<Self, InvalidInput> {
        Self::parse_at(items, known, until::now(), until::local_offset())
    }

    /// [`NetworkFilter::parse_keys`] with durations counted back from `now`, and times
    /// without a zone at `local_offset` seconds east of UTC.
    fn parse_at<S: AsRef<str>>(
        items: &[S],
        known: &[&str],
        now: Nanos,
        local_offset: i64,
    ) -> Result<Self, InvalidInput> {
        let mut filter = NetworkFilter::default();
        for item in items {
            let (key, value, bad) = crate::validate::filter_item(item.as_ref())?;
            if !known.contains(&key) {
                return Err(bad(format!(
                    "{key:?} is not a supported filter here (supported: {})",
                    known.join(", ")
                )));
            }
            match key {
                "name" => filter
                    .names
                    .push(Regex::new(value).map_err(|e| bad(e.to_string()))?),
                "id" => filter.ids.push(value.to_owned()),
                "driver" => filter.drivers.push(value.to_owned()),
                "label" => filter.labels.push(LabelMatch::parse(value)),
                "until" if filter.until.is_some() => {
                    return Err(bad("until takes exactly one timestamp".into()))
                }
                "until" => {
                    let instant = until::parse_until(value, now, local_offset)
                        .ok_or_else(|| bad(until::UNTIL_FORMS.into()))?;
                    filter.until = Some(instant);
                }
                "dangling" if filter.dangling.is_some() => {
                    return Err(bad("dangling takes exactly one value".into()))
                }
                "dangling" => {
                    filter.dangling = Some(go_bool(value).ok_or_else(|| {
                        bad(
                        "dangling is true or false (1, t, T, TRUE, True, 0, f, F, FALSE, False)"
                            .into(),
                    )
                    })?)
                }
                _ => filter.not_labels.push(LabelMatch::parse(value)),
            }
        }
        Ok(filter)
    }

    /// Whether `net` passes every filter.
    pub fn matches(&self, net: &Network) -> bool {
        (self.names.is_empty() || self.names.iter().any(|r| r.is_match(&net.name)))
            && (self.ids.is_empty() || self.ids.iter().any(|p| net.id.starts_with(p.as_str())))
            && (self.drivers.is_empty() || self.drivers.contains(&net.driver))
            && self.labels.iter().all(|l| l.matches(net))
            && !self.not_labels.iter().any(|l| l.matches(net))
            && self.until.is_none_or(|until| created(net) < until)
    }
}

/// A boolean as Go's `strconv.ParseBool` reads it (podman's `dangling` value).
fn go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// When the network was created; a `created` that does not read as a time counts as the
/// earliest, as Go's zero time does in podman's filter.
fn created(net: &Network) -> Nanos {
    until::parse_created(&net.created).unwrap_or(Nanos::MIN)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn net(name: &str, id: &str, driver: &str, labels: &[(&str, &str)]) -> Network {
        Network {
            name: name.into(),
            id: id.into(),
            driver: driver.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Network::default()
        }
    }

    #[test]
    fn keys_and_values_combine_as_podman_does() {
        let a = net("web-a", "abc123", "bridge", &[("tier", "front"), ("x", "")]);
        let b = net("db-b", "abd456", "macvlan", &[("tier", "back")]);
        let sel = |items: &[&str]| {
            let f = NetworkFilter::parse(items).unwrap();
            [&a, &b]
                .iter()
                .filter(|n| f.matches(n))
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(sel(&[]), ["web-a", "db-b"]);
        assert_eq!(sel(&["name=^web"]), ["web-a"]);
        assert_eq!(sel(&["name=-"]), ["web-a", "db-b"], "unanchored");
        assert_eq!(
            sel(&["name=web", "name=db"]),
            ["web-a", "db-b"],
            "alternatives"
        );
        assert_eq!(sel(&["id=abd"]), ["db-b"]);
        assert_eq!(sel(&["driver=macvlan"]), ["db-b"]);
        assert_eq!(sel(&["label=tier"]), ["web-a", "db-b"]);
        assert_eq!(sel(&["label=tier=back"]), ["db-b"]);
        assert_eq!(sel(&["label=tier", "label=x"]), ["web-a"], "all labels");
        assert_eq!(sel(&["label!=x"]), ["db-b"]);
        assert!(sel(&["driver=bridge", "id=abd"]).is_empty(), "keys AND");
    }

    #[test]
    fn bad_filters_name_the_item() {
        for (items, want) in [
            (&["nokey"][..], "expected KEY=VALUE"),
            (&["colour=red"][..], "not a supported filter"),
            (&["name=("][..], "regex"),
        ] {
            let err = NetworkFilter::parse(items).unwrap_err().to_string();
            assert!(err.contains(items[0]) && err.contains(want), "{err}");
        }
        let err = NetworkFilter::parse_prune(&["name=x"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("name=x") && err.contains("label!"), "{err}");
        assert!(NetworkFilter::parse_prune(&["label!=keep"]).is_ok());
        assert!(NetworkFilter::parse_prune(&["dangling=true"]).is_err());
        for (items, want) in [
            (&["dangling=yes"][..], "true or false"),
            (&["dangling=true", "dangling=0"][..], "exactly one"),
        ] {
            let err = NetworkFilter::parse(items).unwrap_err().to_string();
            assert!(
                err.contains(items[items.len() - 1]) && err.contains(want),
                "{err}"
            );
        }
        for (value, want) in [("T", true), ("1", true), ("False", false), ("0", false)] {
            let f = NetworkFilter::parse(&[format!("dangling={value}")]).unwrap();
            assert_eq!(f.dangling(), Some(want), "{value}");
        }
        for (items, want) in [
            (&["until=yesterday"][..], "Go duration"),
            (&["until=10m", "until=1h"][..], "exactly one"),
        ] {
            let err = NetworkFilter::parse_prune(items).unwrap_err().to_string();
            assert!(
                err.contains(items[items.len() - 1]) && err.contains(want),
                "{err}"
            );
        }
    }

    #[test]
    fn until_passes_networks_created_strictly_before_it() {
        let at = |created: &str| Network {
            name: created.into(),
            created: created.into(),
            ..Network::default()
        };
        let nets = [
            at("2026-11-29T03:59:59.999999999Z"),
            at("2026-11-29T05:00:00+01:00"),
            at("2026-11-29T04:00:01Z"),
            at(""),
        ];
        // now: 2026-11-29T04:10:00Z; local zone UTC
        let now = 1_795_925_400 * 1_000_000_000;
        let sel = |items: &[&str]| {
            let f = NetworkFilter::parse_at(items, &["until", "label"], now, 0).unwrap();
            nets.iter()
                .filter(|n| f.matches(n))
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
        };
        let before_four = ["2026-11-29T03:59:59.999999999Z", ""];
        assert_eq!(sel(&["until=2026-11-29T04:00:00Z"]), before_four);
        assert_eq!(sel(&["until=1795924800"]), before_four);
        assert_eq!(sel(&["until=10m"]), before_four);
        assert_eq!(sel(&["until=2026-11-29T04:00:00"]), before_four);
        assert_eq!(sel(&["until=1795924800.000000001"]).len(), 3);
        assert_eq!(sel(&["until=1h"]), [""]);
        assert_eq!(sel(&["until=1h", "label=x"]), Vec::<&str>::new());
    }
}
