//! slirp4netns's per-container options, as podman's `slirp4netns:KEY=VALUE,...` takes them
//! (libpod `parseSlirp4netnsNetworkOptions`).

use std::fmt;

use ipnet::Ipv4Net;

use crate::validate::{InvalidInput, Rule};

/// Who forwards a published port into a slirp4netns container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortHandler {
    /// podman's default: rootlesskit's port driver; podnet's forwarder process plays its
    /// part (the client's source address is not kept).
    Rootlesskit,
    /// slirp4netns's own `add_hostfwd` through its API socket (the source address is kept).
    Slirp4netns,
}

impl PortHandler {
    fn as_str(self) -> &'static str {
        match self {
            PortHandler::Rootlesskit => "rootlesskit",
            PortHandler::Slirp4netns => "slirp4netns",
        }
    }
}

/// `slirp4netns:` options; `None` fields keep slirp4netns's (and podman's) defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlirpOptions {
    /// `allow_host_loopback=true|false`: the host's 127.0.0.1 reachable at the second
    /// address of the CIDR (10.0.2.2). Default false.
    pub allow_host_loopback: Option<bool>,
    /// `cidr=`: the IPv4 network inside the container (default 10.0.2.0/24).
    pub cidr: Option<Ipv4Net>,
    /// `enable_ipv6=true|false`.
    pub enable_ipv6: Option<bool>,
    /// `mtu=` (default 65520).
    pub mtu: Option<u32>,
    /// `outbound_addr=`: interface or IPv4 address slirp4netns sends from.
    pub outbound_addr: Option<String>,
    /// `outbound_addr6=`: interface or IPv6 address slirp4netns sends from.
    pub outbound_addr6: Option<String>,
    /// `port_handler=rootlesskit|slirp4netns`.
    pub port_handler: Option<PortHandler>,
}

impl SlirpOptions {
    /// Parses podman's comma-separated `KEY=VALUE` list; `spec` is the whole `--network`
    /// value, named in the error.
    pub(crate) fn parse(spec: &str, options: &str) -> Result<Self, InvalidInput> {
        let bad = |why| InvalidInput::new("--network", spec, Rule::NetworkMode(why));
        let boolean = |v: &str| match v {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad("slirp4netns boolean options are true or false")),
        };
        let mut opts = SlirpOptions::default();
        for opt in options.split(',').filter(|o| !o.is_empty()) {
            let (key, value) = opt
                .split_once('=')
                .ok_or_else(|| bad("slirp4netns options are key=value"))?;
            match key {
                "allow_host_loopback" => opts.allow_host_loopback = Some(boolean(value)?),
                "enable_ipv6" => opts.enable_ipv6 = Some(boolean(value)?),
                "cidr" => {
                    let net: Ipv4Net = value
                        .parse()
                        .map_err(|_| bad("cidr= is an IPv4 network, e.g. 10.0.2.0/24"))?;
                    if net.prefix_len() > 30 {
                        return Err(bad("cidr= needs room for a gateway, DNS and the container: at most /30"));
                    }
                    opts.cidr = Some(net.trunc());
                }
                "mtu" => {
                    let mtu: u32 = value
                        .parse()
                        .map_err(|_| bad("mtu= is a number"))?;
                    if !(68..=65521).contains(&mtu) {
                        return Err(bad("mtu= must be 68-65521 (slirp4netns's range)"));
                    }
                    opts.mtu = Some(mtu);
                }
                "outbound_addr" if !value.is_empty() => opts.outbound_addr = Some(value.into()),
                "outbound_addr6" if !value.is_empty() => opts.outbound_addr6 = Some(value.into()),
                "port_handler" => {
                    opts.port_handler = Some(match value {
                        "rootlesskit" => PortHandler::Rootlesskit,
                        "slirp4netns" => PortHandler::Slirp4netns,
                        _ => return Err(bad("port_handler= is rootlesskit or slirp4netns")),
                    })
                }
                _ => return Err(bad("unknown slirp4netns option (allow_host_loopback, cidr, enable_ipv6, mtu, outbound_addr, outbound_addr6, port_handler)")),
            }
        }
        Ok(opts)
    }
}

/// podman's text form, keys in a fixed order.
impl fmt::Display for SlirpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(v) = self.allow_host_loopback {
            parts.push(format!("allow_host_loopback={v}"));
        }
        if let Some(v) = self.cidr {
            parts.push(format!("cidr={v}"));
        }
        if let Some(v) = self.enable_ipv6 {
            parts.push(format!("enable_ipv6={v}"));
        }
        if let Some(v) = self.mtu {
            parts.push(format!("mtu={v}"));
        }
        if let Some(v) = &self.outbound_addr {
            parts.push(format!("outbound_addr={v}"));
        }
        if let Some(v) = &self.outbound_addr6 {
            parts.push(format!("outbound_addr6={v}"));
        }
        if let Some(v) = self.port_handler {
            parts.push(format!("port_handler={}", v.as_str()));
        }
        f.write_str(&parts.join(","))
    }
}
