//! Is this process rootless? A typed, explained answer, and the cached shortcut.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;

use crate::idmap::read_id_map;
use crate::{Error, Host, IdMapping};

/// Inode number of the initial user namespace (`PROC_USER_INIT_INO`).
pub const INITIAL_USER_NS_INODE: u64 = 0xEFFF_FFFD;

/// What kind of process this is, as far as user namespaces are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessKind {
    /// Root (euid 0) in the initial user namespace: rootful.
    InitialNamespace,
    /// Root inside a user namespace that maps uid 0 to the non-zero host uid
    /// `host_uid` (e.g. podman's rootless user namespace): rootless.
    MappedRoot {
        /// The parent namespace uid that uid 0 maps to.
        host_uid: u32,
    },
    /// A non-root effective uid: rootless.
    Unprivileged {
        /// The effective uid.
        euid: u32,
    },
    /// Root inside a nested user namespace that maps uid 0 to host uid 0
    /// (e.g. a container given an identity mapping): rootful.
    FullyMappedNested {
        /// The mapping that covers uid 0.
        mapping: IdMapping,
    },
}

/// The classification of a process with the reason it was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Classification {
    /// The decision.
    pub kind: ProcessKind,
    /// Why, in words, naming the evidence (euid, uid map line, namespace inode).
    pub reason: String,
}

impl Classification {
    /// True for the kinds that must use rootless code paths.
    pub fn is_rootless(&self) -> bool {
        matches!(
            self.kind,
            ProcessKind::MappedRoot { .. } | ProcessKind::Unprivileged { .. }
        )
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_rootless() {
            "rootless"
        } else {
            "rootful"
        };
        write!(f, "{verdict}: {}", self.reason)
    }
}

/// Classifies from already gathered facts. Pure.
///
/// `userns_inode` is the inode of the process's user namespace when known;
/// without it a uid map of exactly `0 0 4294967295` is taken as the initial
/// namespace.
pub fn classify_facts(
    euid: u32,
    uid_map: &[IdMapping],
    userns_inode: Option<u64>,
) -> Option<Classification> {
    if euid != 0 {
        return Some(Classification {
            kind: ProcessKind::Unprivileged { euid },
            reason: format!("effective uid {euid} is not 0"),
        });
    }
    let full = [IdMapping {
        container_id: 0,
        host_id: 0,
        size: u32::MAX,
    }];
    match userns_inode {
        Some(INITIAL_USER_NS_INODE) => {
            return Some(Classification {
                kind: ProcessKind::InitialNamespace,
                reason: format!(
                    "effective uid 0 in the initial user namespace (inode {INITIAL_USER_NS_INODE})"
                ),
            })
        }
        None if uid_map == full => {
            return Some(Classification {
                kind: ProcessKind::InitialNamespace,
                reason: "effective uid 0 with the identity uid map 0 0 4294967295 \
                         (user namespace inode unknown, assumed initial)"
                    .to_string(),
            })
        }
        _ => {}
    }
    let ns = match userns_inode {
        Some(ino) => format!("user namespace inode {ino}"),
        None => "a user namespace".to_string(),
    };
    let mapping = *uid_map.iter().find(|m| m.to_host(0).is_some())?;
    let host_uid = mapping.to_host(0)?;
    let line = format!(
        "{} {} {}",
        mapping.container_id, mapping.host_id, mapping.size
    );
    Some(if host_uid == 0 {
        Classification {
            kind: ProcessKind::FullyMappedNested { mapping },
            reason: format!(
                "effective uid 0 in {ns} whose uid map line {line:?} maps 0 to host uid 0"
            ),
        }
    } else {
        Classification {
            kind: ProcessKind::MappedRoot { host_uid },
            reason: format!(
                "effective uid 0 in {ns} whose uid map line {line:?} maps 0 to host uid {host_uid}"
            ),
        }
    })
}

impl Host {
    /// Classifies the process described by this host. Uncached.
    pub fn classify(&self) -> Result<Classification, Error> {
        if self.euid != 0 {
            // No need to read anything: a non-zero euid decides.
            return classify_facts(self.euid, &[], None).ok_or(Error::RootNotMapped {
                path: self.uid_map.clone(),
            });
        }
        let uid_map = read_id_map(&self.uid_map)?;
        let inode = match std::fs::metadata(&self.userns) {
            Ok(meta) => Some(meta.ino()),
            Err(err) => {
                tracing::warn!(path = %self.userns.display(), %err, "cannot stat user namespace, judging by uid map alone");
                None
            }
        };
        let class = classify_facts(0, &uid_map, inode).ok_or(Error::RootNotMapped {
            path: self.uid_map.clone(),
        })?;
        tracing::debug!(%class, "classified process");
        Ok(class)
    }

    /// The uid a rootless process acts for: `$_CONTAINERS_ROOTLESS_UID` when
    /// set (podman's convention), else the host uid that uid 0 maps to for
    /// [`ProcessKind::MappedRoot`], else the effective uid.
    pub fn rootless_uid(&self) -> Result<u32, Error> {
        if let Some(value) = &self.containers_rootless_uid {
            return value
                .parse::<u32>()
                .map_err(|source| Error::InvalidRootlessUidEnv {
                    value: value.clone(),
                    source,
                });
        }
        if self.euid != 0 {
            return Ok(self.euid);
        }
        Ok(match self.classify()?.kind {
            ProcessKind::MappedRoot { host_uid } => host_uid,
            _ => self.euid,
        })
    }
}

/// Classifies the running process ([`Host::system`]). Uncached.
pub fn classify() -> Result<Classification, Error> {
    Host::system().classify()
}

/// True when the running process must use rootless code paths: its euid is
/// not 0, or it is root inside a user namespace that maps uid 0 to a non-zero
/// host uid. Computed once and cached for the life of the process.
///
/// If the process cannot be classified (unreadable `/proc`), falls back to
/// `euid != 0` and logs a warning.
pub fn is_rootless() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| match classify() {
        Ok(class) => class.is_rootless(),
        Err(err) => {
            let euid = nix::unistd::geteuid().as_raw();
            tracing::warn!(%err, euid, "cannot classify process, judging by euid alone");
            euid != 0
        }
    })
}

/// The uid the process acts for when rootless (see [`Host::rootless_uid`]);
/// the effective uid when that cannot be determined. Cached.
pub fn rootless_uid() -> u32 {
    static CACHE: OnceLock<u32> = OnceLock::new();
    *CACHE.get_or_init(|| match Host::system().rootless_uid() {
        Ok(uid) => uid,
        Err(err) => {
            let euid = nix::unistd::geteuid().as_raw();
            tracing::warn!(%err, euid, "cannot determine rootless uid, using euid");
            euid
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "classify_tests.rs"]
mod tests;
