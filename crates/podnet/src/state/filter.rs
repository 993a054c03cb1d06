//! `podman ps --filter` for podnet's containers: `id` (prefix), `name` (unanchored regular
//! expression), `status` (`created` or `running`) and `network` (name); values of one key
//! are alternatives, different keys must all match, as podman combines them.

use regex::Regex;

use super::record::ContainerRecord;
use crate::validate::InvalidInput;

/// A parsed set of container filters; the empty set matches every container.
#[derive(Debug, Clone, Default)]
pub struct ContainerFilter {
    ids: Vec<String>,
    names: Vec<Regex>,
    statuses: Vec<String>,
    networks: Vec<String>,
}

impl ContainerFilter {
    /// Each item `KEY=VALUE`; an unknown key (or status), a missing `=` or a bad regular
    /// expression is an error naming the item.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, InvalidInput> {
        let mut filter = ContainerFilter::default();
        for item in items {
            let (key, value, bad) = crate::validate::filter_item(item.as_ref())?;
            match key {
                "id" => filter.ids.push(value.to_owned()),
                "name" => filter
                    .names
                    .push(Regex::new(value).map_err(|e| bad(e.to_string()))?),
                "status" if ["created", "running"].contains(&value) => {
                    filter.statuses.push(value.to_owned())
                }
                "status" => return Err(bad("podnet's containers are created or running".into())),
                "network" => filter.networks.push(value.to_owned()),
                _ => {
                    return Err(bad(format!(
                        "{key:?} is not a supported filter (supported: id, name, status, network)"
                    )))
                }
            }
        }
        Ok(filter)
    }

    /// Whether `c` passes every filter.
    pub fn matches(&self, c: &ContainerRecord) -> bool {
        let status = if c.running { "running" } else { "created" };
        (self.ids.is_empty() || self.ids.iter().any(|p| c.id.starts_with(p.as_str())))
            && (self.names.is_empty() || self.names.iter().any(|r| r.is_match(&c.name)))
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s == status))
            && (self.networks.is_empty()
                || self.networks.iter().any(|n| c.networks.contains_key(n)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_combine_as_podman_does() {
        let rec = |id: &str, name: &str, running: bool, net: &str| ContainerRecord {
            id: id.into(),
            name: name.into(),
            running,
            networks: [(net.to_string(), Default::default())]
                .into_iter()
                .collect(),
            ..ContainerRecord::default()
        };
        let all = [
            rec("ab12", "web-1", true, "front"),
            rec("cd34", "db-1", false, "back"),
        ];
        let sel = |items: &[&str]| {
            let f = ContainerFilter::parse(items).unwrap();
            all.iter()
                .filter(|c| f.matches(c))
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(sel(&[]), ["web-1", "db-1"]);
        assert_eq!(sel(&["name=^web"]), ["web-1"]);
        assert_eq!(sel(&["id=cd"]), ["db-1"]);
        assert_eq!(sel(&["status=created"]), ["db-1"]);
        assert_eq!(sel(&["network=front", "network=back"]), ["web-1", "db-1"]);
        assert!(sel(&["network=front", "status=created"]).is_empty());
        for bad in ["x", "label=a", "status=exited", "name=("] {
            let err = ContainerFilter::parse(&[bad]).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }
}
