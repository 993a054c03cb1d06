//! A container's `resolv.conf`: create it ([`new`]) from the host's, and add or remove
//! nameservers while the container runs ([`add_nameservers`], [`remove_nameservers`]),
//! with containers/common's `libnetwork/resolvconf` output (differences in the crate
//! docs). Edits lock the file and rewrite it in place, like the hosts module.

mod parse;

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::locked::LockedFile;
use crate::Error;
use parse::Resolv;

/// The host's resolver configuration.
pub const DEFAULT_RESOLV_CONF: &str = "/etc/resolv.conf";

/// Which network namespace the container uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetnsMode {
    /// The host's: the host file is copied without filtering.
    Host,
    /// Its own. With a path (not under `/proc/`), `ETC_NETNS/<basename>/resolv.conf`
    /// replaces the host file when it exists (the `ip netns` convention).
    Private(Option<PathBuf>),
}

/// Where host-side files are read from; [`Default`] is the real system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostSources {
    /// The host resolv.conf (`/etc/resolv.conf`).
    pub resolv_conf: PathBuf,
    /// The `ip netns` configuration directory (`/etc/netns`).
    pub etc_netns: PathBuf,
    /// Used instead when the only host nameserver is 127.0.0.53
    /// (`/run/systemd/resolve/resolv.conf`).
    pub systemd_resolved: PathBuf,
    /// Used instead when the only host nameserver is 127.0.0.1
    /// (`/run/NetworkManager/no-stub-resolv.conf`).
    pub network_manager: PathBuf,
}

impl Default for HostSources {
    fn default() -> Self {
        Self {
            resolv_conf: DEFAULT_RESOLV_CONF.into(),
            etc_netns: "/etc/netns".into(),
            systemd_resolved: "/run/systemd/resolve/resolv.conf".into(),
            network_manager: "/run/NetworkManager/no-stub-resolv.conf".into(),
        }
    }
}

/// podman's fallback servers (Google Public DNS); the IPv6 ones only with IPv6 on.
pub fn default_fallback_nameservers() -> Vec<IpAddr> {
    [
        IpAddr::from([8, 8, 8, 8]),
        IpAddr::from([8, 8, 4, 4]),
        IpAddr::from([0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888]),
        IpAddr::from([0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8844]),
    ]
    .to_vec()
}

/// Inputs of [`new`], the counterpart of containers/common's `resolvconf.Params`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolvParams {
    /// The file to write: created (mode 0644) if missing, else rewritten in place.
    pub path: PathBuf,
    /// The container's network namespace.
    pub netns: NetnsMode,
    /// Keep IPv6 nameservers (zoned link-local ones are dropped anyway).
    pub ipv6_enabled: bool,
    /// Nameservers to use instead of the host's.
    pub nameservers: Vec<IpAddr>,
    /// Search domains to use instead of the host's; a `.` among them means none.
    pub searches: Vec<String>,
    /// Options to use instead of the host's.
    pub options: Vec<String>,
    /// Append the host's nameservers after `nameservers`.
    pub keep_host_servers: bool,
    /// Append the host's search domains after `searches` (unless `.` cleared them).
    pub keep_host_searches: bool,
    /// Append the host's options after `options`.
    pub keep_host_options: bool,
    /// Used when a private namespace leaves no host nameserver (IPv6 ones only with
    /// `ipv6_enabled`). Defaults to [`default_fallback_nameservers`]; empty: none.
    pub fallback_nameservers: Vec<IpAddr>,
    /// Host-side files.
    pub host: HostSources,
}

impl ResolvParams {
    /// Params for a container in its own network namespace, everything else default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            netns: NetnsMode::Private(None),
            ipv6_enabled: false,
            nameservers: Vec::new(),
            searches: Vec::new(),
            options: Vec::new(),
            keep_host_servers: false,
            keep_host_searches: false,
            keep_host_options: false,
            fallback_nameservers: default_fallback_nameservers(),
            host: HostSources::default(),
        }
    }
}

/// Writes a new resolv.conf for a container.
pub fn new(params: &ResolvParams) -> Result<(), Error> {
    let content = render(params)?;
    crate::locked::write_whole(&params.path, &content)?;
    tracing::debug!(path = %params.path.display(), "resolv.conf written");
    Ok(())
}

/// The bytes [`new`] would write for `params`, without touching the target.
pub fn render(params: &ResolvParams) -> Result<Vec<u8>, Error> {
    check("search domain", &params.searches)?;
    check("option", &params.options)?;
    let explicit: Vec<Vec<u8>> = params
        .nameservers
        .iter()
        .map(|ip| ip.to_string().into_bytes())
        .collect();
    let bytes =
        |v: &[String]| -> Vec<Vec<u8>> { v.iter().map(|s| s.as_bytes().to_vec()).collect() };
    let cleared = params.searches.iter().any(|s| s == ".");
    let searches = if cleared {
        Vec::new()
    } else {
        bytes(&params.searches)
    };

    let keep_any =
        params.keep_host_servers || params.keep_host_searches || params.keep_host_options;
    if !explicit.is_empty()
        && !params.options.is_empty()
        && !params.searches.is_empty()
        && !keep_any
    {
        return Ok(Resolv {
            searches,
            nameservers: explicit,
            options: bytes(&params.options),
            ..Default::default()
        }
        .build());
    }

    let mut content = host_content(params)?;
    if let NetnsMode::Private(_) = params.netns {
        let fallback: Vec<String> = params
            .fallback_nameservers
            .iter()
            .filter(|ip| params.ipv6_enabled || ip.is_ipv4())
            .map(IpAddr::to_string)
            .collect();
        content = parse::filter_private(&content, params.ipv6_enabled, &fallback);
    }

    let mut out = Resolv {
        nameservers: explicit,
        searches,
        options: bytes(&params.options),
        sortlist: parse::sortlist(&content),
        ..Default::default()
    };
    if out.nameservers.is_empty() || params.keep_host_servers {
        out.nameservers.extend(parse::nameservers(&content));
    }
    if params.searches.is_empty() || (params.keep_host_searches && !out.searches.is_empty()) {
        out.searches.extend(parse::searches(&content));
        out.domain = parse::domain(&content);
    }
    if out.options.is_empty() || params.keep_host_options {
        out.options.extend(parse::options(&content));
    }
    Ok(out.build())
}

/// Puts `nameservers` in front of the file's, each once (the file's copies of them go).
pub fn add_nameservers(path: impl AsRef<Path>, nameservers: &[IpAddr]) -> Result<(), Error> {
    edit(path.as_ref(), |r| {
        let mut front: Vec<Vec<u8>> = Vec::with_capacity(nameservers.len() + r.nameservers.len());
        for ns in nameservers.iter().map(|ip| ip.to_string().into_bytes()) {
            if !front.contains(&ns) {
                front.push(ns);
            }
        }
        let old = std::mem::take(&mut r.nameservers);
        front.extend(
            old.into_iter()
                .filter(|ns| !front.contains(ns))
                .collect::<Vec<_>>(),
        );
        r.nameservers = front;
    })
}

/// Removes the nameservers exactly equal to one of `nameservers`.
pub fn remove_nameservers(path: impl AsRef<Path>, nameservers: &[IpAddr]) -> Result<(), Error> {
    let gone: Vec<Vec<u8>> = nameservers
        .iter()
        .map(|ip| ip.to_string().into_bytes())
        .collect();
    edit(path.as_ref(), |r| {
        r.nameservers.retain(|ns| !gone.contains(ns))
    })
}

/// Completes an edit of `path` that a crash interrupted (also done by every other call).
pub fn repair(path: impl AsRef<Path>) -> Result<(), Error> {
    LockedFile::open(path.as_ref(), false).map(drop)
}

fn edit(path: &Path, change: impl FnOnce(&mut Resolv)) -> Result<(), Error> {
    let mut file = LockedFile::open(path, false)?;
    let content = file.read()?;
    let mut r = Resolv::parse(&content);
    change(&mut r);
    let out = r.build();
    if out != content {
        file.replace(&out)?;
    }
    tracing::debug!(path = %path.display(), "resolv.conf nameservers updated");
    Ok(())
}

/// Rejects values that would not read back as themselves.
fn check(kind: &'static str, values: &[String]) -> Result<(), Error> {
    for v in values {
        let reason = if v.is_empty() {
            Some("value is empty")
        } else if v.chars().any(char::is_whitespace) {
            Some("value contains white space")
        } else if v.contains('#') {
            Some("value contains '#', which starts a comment")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::DnsValue {
                kind,
                value: v.clone(),
                reason,
            });
        }
    }
    Ok(())
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// containers/common's `getDefaultResolvConf`: the file to start from.
fn host_content(params: &ResolvParams) -> Result<Vec<u8>, Error> {
    let mut source = params.host.resolv_conf.clone();
    if let NetnsMode::Private(Some(ns)) = &params.netns {
        if !ns.starts_with("/proc/") {
            if let Some(base) = ns.file_name() {
                let candidate = params.host.etc_netns.join(base).join("resolv.conf");
                if std::fs::symlink_metadata(&candidate).is_ok() {
                    source = candidate;
                }
            }
        }
    }
    let content = read_optional(&source)?.unwrap_or_default();
    if params.netns == NetnsMode::Host {
        return Ok(content);
    }
    let servers = parse::nameservers(&content);
    if let [only] = servers.as_slice() {
        let real = match only.as_slice() {
            b"127.0.0.53" => Some(&params.host.systemd_resolved),
            b"127.0.0.1" => Some(&params.host.network_manager),
            _ => None,
        };
        if let Some(real) = real {
            if let Some(c) = read_optional(real)? {
                tracing::debug!(path = %real.display(), "local resolver found; using its upstream servers");
                return Ok(c);
            }
        }
    }
    Ok(content)
}

#[cfg(test)]
mod tests;
