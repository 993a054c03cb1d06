//! A container's `/etc/hosts`: create it ([`new`]) and edit it while the container runs
//! ([`add`], [`add_if_exists`], [`remove`]), with containers/common's
//! `libnetwork/etchosts` output. Every call on a file locks it for the whole
//! read-modify-write and rewrites it in place (see the crate docs).

mod parse;

use std::collections::HashSet;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::entry::{check, name_problem, Checked};
use crate::locked::LockedFile;
use crate::{Error, HostEntry};

pub use parse::MAX_LINE;

/// The host's hosts file; the only base file whose absence is not an error.
pub const DEFAULT_HOSTS_FILE: &str = "/etc/hosts";
/// The name given to [`HostsParams::host_containers_internal_ip`].
pub const HOST_CONTAINERS_INTERNAL: &str = "host.containers.internal";
/// The second name current containers/common gives that address.
pub const HOST_DOCKER_INTERNAL: &str = "host.docker.internal";
/// The extra-host IP that stands for the host.containers.internal address.
pub const HOST_GATEWAY: &str = "host-gateway";

/// Inputs of [`new`], the counterpart of containers/common's `etchosts.Params`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsParams {
    /// Hosts file whose entries are copied (comments dropped). `None`: no base entries.
    /// A missing file is an error, except [`DEFAULT_HOSTS_FILE`]. containers.conf's
    /// `base_hosts_file` maps as: `""` → `Some(DEFAULT_HOSTS_FILE)`, `"none"` → `None`,
    /// `"image"` → the image's `/etc/hosts` resolved inside its root (the caller's job).
    pub base_file: Option<PathBuf>,
    /// Extra hosts, `name1;name2:ip`, split at the first `:` (so IPv6 works). The IP
    /// [`HOST_GATEWAY`] stands for `host_containers_internal_ip`. Written first.
    pub extra_hosts: Vec<String>,
    /// The container's own entries (its IPs with its name and host name), written last,
    /// each name only if no earlier line has it.
    pub container_ips: Vec<HostEntry>,
    /// Address for `host.containers.internal` and `host.docker.internal`; `None`: no entry.
    pub host_containers_internal_ip: Option<IpAddr>,
    /// The file to write: created (mode 0644) if missing, else rewritten in place.
    pub target_file: PathBuf,
}

/// Writes a new hosts file for a container (see [`HostsParams`] for what goes in).
pub fn new(params: &HostsParams) -> Result<(), Error> {
    let content = render(params)?;
    crate::locked::write_whole(&params.target_file, &content)?;
    tracing::debug!(path = %params.target_file.display(), "hosts file written");
    Ok(())
}

/// The bytes [`new`] would write for `params`, without touching the target.
pub fn render(params: &HostsParams) -> Result<Vec<u8>, Error> {
    let extra = parse_extra_hosts(&params.extra_hosts, params.host_containers_internal_ip)?;
    let base = read_base(params.base_file.as_deref())?;
    let base_lines = match (&params.base_file, &base) {
        (Some(p), Some(content)) => parse::parse(content, p)?,
        _ => Vec::new(),
    };
    let container = check(&params.container_ips)?;

    let hci = params.host_containers_internal_ip.map(|ip| ip.to_string());
    let mut wanted: Vec<(&str, Vec<&str>)> =
        vec![("127.0.0.1", vec!["localhost"]), ("::1", vec!["localhost"])];
    if let Some(ip) = &hci {
        wanted.push((ip, vec![HOST_CONTAINERS_INTERNAL, HOST_DOCKER_INTERNAL]));
    }
    wanted.extend(container.iter().map(|c| (c.ip.as_str(), c.names.clone())));
    let mut taken = Taken::new(&wanted);

    let mut out = Vec::with_capacity(base.as_ref().map_or(0, Vec::len) + 256);
    for (ip, names) in &extra {
        taken.saw(names.iter().map(|n| n.as_bytes()));
        parse::format_line(&mut out, ip.as_bytes(), names.iter().map(|n| n.as_bytes()));
    }
    for l in &base_lines {
        taken.saw(l.names.iter().copied());
        parse::format_line(&mut out, l.ip, l.names.iter().copied());
    }
    append_free(&mut out, &wanted, &taken);
    Ok(out)
}

/// Adds the entries, each with only those names no line of the file has yet; nothing
/// else in the file changes (comments stay).
pub fn add(path: impl AsRef<Path>, entries: &[HostEntry]) -> Result<(), Error> {
    let path = path.as_ref();
    let entries = check(entries)?;
    let mut file = LockedFile::open(path, false)?;
    let mut content = file.read()?;
    let before = content.len();
    let appended = {
        let wanted: Vec<(&str, Vec<&str>)> = entries
            .iter()
            .map(|c| (c.ip.as_str(), c.names.clone()))
            .collect();
        let mut taken = Taken::new(&wanted);
        for l in parse::parse(&content, path)? {
            taken.saw(l.names.iter().copied());
        }
        let mut appended = Vec::new();
        append_free(&mut appended, &wanted, &taken);
        appended
    };
    content.extend_from_slice(&appended);
    if content.len() != before {
        file.replace(&content)?;
    }
    tracing::debug!(path = %path.display(), added = content.len() - before, "hosts entries added");
    Ok(())
}

/// Appends `new` (all names, duplicates allowed) only if some line of the file still
/// matches one of `existing` (same IP and at least one common name), so a user's own
/// edit is respected. With `existing` empty this is [`add`].
pub fn add_if_exists(
    path: impl AsRef<Path>,
    existing: &[HostEntry],
    new: &[HostEntry],
) -> Result<(), Error> {
    let path = path.as_ref();
    if existing.is_empty() {
        return add(path, new);
    }
    let existing = check(existing)?;
    let new = check(new)?;
    let mut file = LockedFile::open(path, false)?;
    let mut content = file.read()?;
    let found = parse::parse(&content, path)?
        .iter()
        .any(|l| matches(l, &existing));
    if !found {
        tracing::debug!(path = %path.display(), "no existing entry matched; nothing added");
        return Ok(());
    }
    let before = content.len();
    for c in &new {
        parse::format_line(
            &mut content,
            c.ip.as_bytes(),
            c.names.iter().map(|n| n.as_bytes()),
        );
    }
    if content.len() != before {
        file.replace(&content)?;
    }
    Ok(())
}

/// Removes every line whose IP equals an entry's and which shares a name with it. The
/// rest is written back normalised (comments dropped), as containers/common does.
pub fn remove(path: impl AsRef<Path>, entries: &[HostEntry]) -> Result<(), Error> {
    let path = path.as_ref();
    let entries = check(entries)?;
    let mut file = LockedFile::open(path, false)?;
    let content = file.read()?;
    let mut out = Vec::with_capacity(content.len());
    for l in parse::parse(&content, path)? {
        if !matches(&l, &entries) {
            parse::format_line(&mut out, l.ip, l.names.iter().copied());
        }
    }
    if out != content {
        file.replace(&out)?;
    }
    tracing::debug!(path = %path.display(), "hosts entries removed");
    Ok(())
}

/// Completes an edit of `path` that a crash interrupted (also done by every other call).
pub fn repair(path: impl AsRef<Path>) -> Result<(), Error> {
    LockedFile::open(path.as_ref(), false).map(drop)
}

fn matches(line: &parse::Line<'_>, entries: &[Checked<'_>]) -> bool {
    entries.iter().any(|e| {
        line.ip == e.ip.as_bytes()
            && line
                .names
                .iter()
                .any(|n| e.names.iter().any(|m| m.as_bytes() == *n))
    })
}

/// Which of the names we may write are already used by a line of the file. Only those
/// few names are tracked, so the file's own names are compared, not all hashed.
struct Taken<'w> {
    wanted: HashSet<&'w [u8]>,
    small: Vec<&'w [u8]>,
    seen: HashSet<&'w [u8]>,
}

impl<'w> Taken<'w> {
    const LINEAR_MAX: usize = 16;

    fn new(entries: &[(&'w str, Vec<&'w str>)]) -> Self {
        let wanted: HashSet<&[u8]> = entries
            .iter()
            .flat_map(|(_, names)| names.iter().map(|n| n.as_bytes()))
            .collect();
        let small = if wanted.len() <= Self::LINEAR_MAX {
            wanted.iter().copied().collect()
        } else {
            Vec::new()
        };
        Self {
            wanted,
            small,
            seen: HashSet::new(),
        }
    }

    /// Records the names of one existing line.
    fn saw<'n>(&mut self, names: impl IntoIterator<Item = &'n [u8]>) {
        for name in names {
            let hit = if self.wanted.len() <= Self::LINEAR_MAX {
                self.small.iter().find(|w| **w == name).copied()
            } else {
                self.wanted.get(name).copied()
            };
            if let Some(w) = hit {
                self.seen.insert(w);
            }
        }
    }

    fn contains(&self, name: &[u8]) -> bool {
        self.seen.contains(name)
    }
}

/// Writes each entry with the names no existing line uses; an entry left without names
/// is skipped. Names written here do not count as taken (as in containers/common).
fn append_free(out: &mut Vec<u8>, entries: &[(&str, Vec<&str>)], taken: &Taken<'_>) {
    for (ip, names) in entries {
        let free: Vec<&[u8]> = names
            .iter()
            .map(|n| n.as_bytes())
            .filter(|n| !taken.contains(n))
            .collect();
        if !free.is_empty() {
            parse::format_line(out, ip.as_bytes(), free);
        }
    }
}

fn read_base(base: Option<&Path>) -> Result<Option<Vec<u8>>, Error> {
    let Some(path) = base else { return Ok(None) };
    match std::fs::read(path) {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && path == Path::new(DEFAULT_HOSTS_FILE) => {
            tracing::debug!("no {DEFAULT_HOSTS_FILE} on the host; no base entries");
            Ok(None)
        }
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parses `name1;name2:ip` entries; `host-gateway` becomes `hci`.
fn parse_extra_hosts(
    extra: &[String],
    hci: Option<IpAddr>,
) -> Result<Vec<(String, Vec<&str>)>, Error> {
    extra
        .iter()
        .map(|entry| {
            let bad = |reason| Error::ExtraHost {
                entry: entry.clone(),
                reason,
            };
            let (names, ip) = entry
                .split_once(':')
                .ok_or_else(|| bad("no ':' between names and IP"))?;
            if names.is_empty() {
                return Err(bad("host name is empty"));
            }
            if ip.is_empty() {
                return Err(bad("IP address is empty"));
            }
            let ip = if ip == HOST_GATEWAY {
                hci.ok_or_else(|| {
                    bad("host-gateway used but the host.containers.internal IP is empty")
                })?
                .to_string()
            } else {
                ip.parse::<IpAddr>().map_err(|source| Error::ExtraHostIp {
                    entry: entry.clone(),
                    source,
                })?;
                ip.to_string()
            };
            let names: Vec<&str> = names.split(';').collect();
            for name in &names {
                if let Some(reason) = name_problem(name) {
                    return Err(Error::HostName {
                        ip,
                        name: (*name).to_string(),
                        reason,
                    });
                }
            }
            Ok((ip, names))
        })
        .collect()
}

#[cfg(test)]
mod tests;
