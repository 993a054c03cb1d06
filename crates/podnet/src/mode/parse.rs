//! podman's `--network` values (specgen `ParseNetworkFlag`) into a mode and named networks.

use std::path::PathBuf;

use super::{NetworkMode, PastaOptions, SlirpOptions};
use crate::runtime::NetworkRequest;
use crate::validate::{parse_network_option, InvalidInput, Rule};

/// The network name podman's `bridge[:opts]` stands for: the runtime's default network
/// (podman uses the same key before it knows the default's name).
pub(crate) const DEFAULT_NETWORK_KEY: &str = "default";

/// What a container's `--network` values ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkFlags {
    /// The mode; `None` for the runtime's default (no value, `private` or `default`).
    pub mode: Option<NetworkMode>,
    /// Named networks with their options (bridge mode only); `bridge:opts` gives one
    /// request named `default`, the runtime's default network.
    pub networks: Vec<NetworkRequest>,
}

/// One value: a mode keyword, the default, or not a mode (a network name).
enum Value {
    Mode(NetworkMode),
    Default,
    Named,
}

/// A mode keyword's parse; `Ok(None)` when `s` is not one (a network name).
pub(super) fn mode(s: &str) -> Result<Option<NetworkMode>, InvalidInput> {
    Ok(match value(s)? {
        Value::Mode(mode) => Some(mode),
        Value::Default | Value::Named => None,
    })
}

fn value(spec: &str) -> Result<Value, InvalidInput> {
    let bad = |why| InvalidInput::new("--network", spec, Rule::NetworkMode(why));
    let (key, options) = match spec.split_once(':') {
        Some((key, options)) => (key, Some(options)),
        None => (spec, None),
    };
    Ok(match (key, options) {
        ("" | "private" | "default", None) => Value::Default,
        ("bridge", _) => Value::Mode(NetworkMode::Bridge),
        ("none", None) => Value::Mode(NetworkMode::None),
        ("host", None) => Value::Mode(NetworkMode::Host),
        ("none" | "host" | "private" | "default", Some(_)) => {
            return Err(bad("this mode takes no value"))
        }
        ("ns", Some(path)) => {
            if path.is_empty() {
                return Err(bad(
                    "ns: needs the path of a network namespace, e.g. ns:/run/netns/blue",
                ));
            }
            if !path.starts_with('/') {
                return Err(bad("ns: needs an absolute path"));
            }
            if path.chars().any(char::is_control) {
                return Err(bad("the ns: path has a control character"));
            }
            Value::Mode(NetworkMode::Path(PathBuf::from(path)))
        }
        ("container", Some(id)) => {
            if id.is_empty() {
                return Err(bad("container: needs a container name or ID"));
            }
            crate::validate::no_whitespace_or_control("--network", id)?;
            Value::Mode(NetworkMode::Container(id.to_string()))
        }
        ("ns" | "container", None) => {
            return Err(bad("this mode needs a value (ns:PATH, container:ID)"))
        }
        ("pasta", options) => {
            let args: Vec<String> = options
                .unwrap_or_default()
                .split(',')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect();
            if args.iter().any(|a| a.chars().any(char::is_control)) {
                return Err(bad("a pasta option has a control character"));
            }
            Value::Mode(NetworkMode::Pasta(PastaOptions { args }))
        }
        ("slirp4netns", options) => Value::Mode(NetworkMode::Slirp4netns(SlirpOptions::parse(
            spec,
            options.unwrap_or_default(),
        )?)),
        _ => Value::Named,
    })
}

/// Named networks of one value: `NAME:opts`, or `NAME[,NAME...]` (podman's backward
/// compatible list).
fn named(spec: &str) -> Result<Vec<NetworkRequest>, InvalidInput> {
    if spec.contains(':') {
        return Ok(vec![parse_network_option(spec)?]);
    }
    spec.split(',')
        .map(|name| {
            if name.is_empty() {
                Err(InvalidInput::new(
                    "--network",
                    spec,
                    Rule::NetworkMode("empty network name in the list"),
                ))
            } else {
                Ok(NetworkRequest::new(name))
            }
        })
        .collect()
}

/// Parses the values of a container's `--network` options, in order, as podman does: the
/// first may be any mode; more values are allowed only in bridge mode and must be network
/// names. Only the syntax: networks and containers are looked up by
/// [`Runtime::create`](crate::Runtime::create).
pub fn parse_network_flags<S: AsRef<str>>(values: &[S]) -> Result<NetworkFlags, InvalidInput> {
    let mut flags = NetworkFlags::default();
    let Some((first, rest)) = values.split_first() else {
        return Ok(flags);
    };
    let first = first.as_ref();
    match value(first)? {
        Value::Mode(NetworkMode::Bridge) => {
            flags.mode = Some(NetworkMode::Bridge);
            if let Some((_, options)) = first.split_once(':') {
                let mut request = parse_network_option(&format!("{DEFAULT_NETWORK_KEY}:{options}"))
                    .map_err(|e| InvalidInput::new("--network", first, e.rule))?;
                request.network = DEFAULT_NETWORK_KEY.to_string();
                flags.networks.push(request);
            }
        }
        Value::Mode(mode) => flags.mode = Some(mode),
        Value::Default => {}
        Value::Named => {
            flags.mode = Some(NetworkMode::Bridge);
            flags.networks = named(first)?;
        }
    }
    for extra in rest {
        let extra = extra.as_ref();
        if flags.mode != Some(NetworkMode::Bridge) {
            let selected = flags.mode.as_ref().map_or("private", NetworkMode::kind);
            return Err(InvalidInput::new(
                "--network",
                extra,
                Rule::MultipleNetworks(selected.to_string()),
            ));
        }
        match value(extra)? {
            Value::Named => flags.networks.extend(named(extra)?),
            _ => {
                return Err(InvalidInput::new(
                    "--network",
                    extra,
                    Rule::NetworkMode("only network names can follow the first --network value (a mode conflicts with bridge)"),
                ))
            }
        }
    }
    Ok(flags)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mode::PortHandler;

    fn one(s: &str) -> NetworkFlags {
        parse_network_flags(&[s]).unwrap()
    }

    fn err(values: &[&str]) -> String {
        parse_network_flags(values).unwrap_err().to_string()
    }

    #[test]
    fn keywords_give_modes_without_networks() {
        assert_eq!(one("none").mode, Some(NetworkMode::None));
        assert_eq!(one("host").mode, Some(NetworkMode::Host));
        assert_eq!(
            one("ns:/run/netns/blue").mode,
            Some(NetworkMode::Path("/run/netns/blue".into()))
        );
        assert_eq!(
            one("container:web").mode,
            Some(NetworkMode::Container("web".into()))
        );
        for default in ["private", "default", ""] {
            assert_eq!(one(default), NetworkFlags::default(), "{default:?}");
        }
        assert!(parse_network_flags::<&str>(&[]).unwrap().mode.is_none());
        assert!(one("none").networks.is_empty());
    }

    #[test]
    fn names_are_bridge_mode_networks() {
        let f = parse_network_flags(&["a,b", "c:alias=x"]).unwrap();
        assert_eq!(f.mode, Some(NetworkMode::Bridge));
        let names: Vec<&str> = f.networks.iter().map(|r| r.network.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(f.networks[2].aliases, ["x"]);
        let f = one("bridge:ip=10.88.0.9,alias=db");
        assert_eq!(f.mode, Some(NetworkMode::Bridge));
        assert_eq!(f.networks[0].network, DEFAULT_NETWORK_KEY);
        assert_eq!(f.networks[0].aliases, ["db"]);
        assert!(one("bridge").networks.is_empty());
    }

    #[test]
    fn pasta_and_slirp4netns_options() {
        assert_eq!(
            one("pasta:-a,10.0.2.0,--mtu,1500").mode,
            Some(NetworkMode::Pasta(PastaOptions {
                args: vec![
                    "-a".into(),
                    "10.0.2.0".into(),
                    "--mtu".into(),
                    "1500".into()
                ]
            }))
        );
        let Some(NetworkMode::Slirp4netns(s)) =
            one("slirp4netns:allow_host_loopback=true,cidr=10.5.0.0/24,mtu=1500,port_handler=slirp4netns").mode
        else {
            panic!("not slirp4netns");
        };
        assert_eq!(s.allow_host_loopback, Some(true));
        assert_eq!(s.cidr, Some("10.5.0.0/24".parse().unwrap()));
        assert_eq!(s.mtu, Some(1500));
        assert_eq!(s.port_handler, Some(PortHandler::Slirp4netns));
        assert_eq!(
            NetworkMode::Slirp4netns(s).to_string(),
            "slirp4netns:allow_host_loopback=true,cidr=10.5.0.0/24,mtu=1500,port_handler=slirp4netns"
        );
    }

    #[test]
    fn text_form_round_trips() {
        for text in [
            "bridge",
            "none",
            "host",
            "ns:/run/netns/x",
            "container:0123abcd",
            "pasta",
            "pasta:--ipv4-only,-a,10.0.2.0",
            "slirp4netns",
            "slirp4netns:cidr=10.1.0.0/24,port_handler=rootlesskit",
        ] {
            let mode: NetworkMode = text.parse().unwrap();
            assert_eq!(mode.to_string(), text);
        }
        assert!("mynet".parse::<NetworkMode>().is_err());
    }

    #[test]
    fn bad_values_are_one_line_naming_the_value() {
        let e = err(&["ns:"]);
        assert!(e.contains("\"ns:\"") && e.contains("path"), "{e}");
        assert!(err(&["ns:relative/x"]).contains("absolute"));
        assert!(err(&["container:"]).contains("container name or ID"));
        assert!(err(&["host:x"]).contains("takes no value"));
        let e = err(&["slirp4netns:mtu=abc"]);
        assert!(
            e.contains("\"slirp4netns:mtu=abc\"") && e.contains("mtu="),
            "{e}"
        );
        assert!(err(&["slirp4netns:speed=1"]).contains("unknown slirp4netns option"));
        assert!(err(&["slirp4netns:port_handler=x"]).contains("rootlesskit or slirp4netns"));
        assert!(err(&["slirp4netns:cidr=10.0.0.0/31"]).contains("/30"));
        let e = err(&["host", "mynet"]);
        assert!(e.contains("\"mynet\"") && e.contains("host"), "{e}");
        let e = err(&["mynet", "none"]);
        assert!(
            e.contains("\"none\"") && e.contains("conflicts with bridge"),
            "{e}"
        );
        assert!(err(&["a,,b"]).contains("empty network name"));
        assert!(err(&["bridge:speed=1"]).contains("unknown option"));
        for e in [err(&["ns:"]), err(&["host", "x"])] {
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
