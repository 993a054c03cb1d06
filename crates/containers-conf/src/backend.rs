//! Which network backend podman uses when `network_backend` is unset: containers/common's
//! `defaultNetworkBackend` and `networkBackendFromStore`, as a pure function of their inputs.

use std::path::{Path, PathBuf};

use crate::{Error, NetworkBackend};

/// The file in podman's graphroot that pins the backend chosen on first use.
pub const BACKEND_MARKER_FILE: &str = "defaultNetworkBackend";

/// What podman looks at to choose a backend when containers.conf names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendFacts {
    /// `$graphroot/defaultNetworkBackend` (named in errors).
    pub marker_path: PathBuf,
    /// Its content, byte for byte (podman does not trim it); `None` when it does not exist.
    pub marker: Option<String>,
    /// Whether this podman was built with CNI (podman 4.x: yes; podman 5 builds
    /// without the `cni` tag, as most distributions ship them: no).
    pub cni_supported: bool,
    /// Whether a netavark binary was found in the helper directories.
    pub netavark_found: bool,
    /// Whether the store has any container.
    pub has_containers: bool,
    /// Whether the store has an image that is not read-only.
    pub has_writable_images: bool,
    /// How many CNI networks exist (the default one is always counted).
    pub cni_networks: usize,
}

/// The backend podman would use, and whether it would (re)write the marker file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendChoice {
    /// The backend.
    pub backend: NetworkBackend,
    /// Podman writes the backend into `defaultNetworkBackend` (first use, or the
    /// migration of a `cni` marker on a podman without CNI).
    pub write_marker: bool,
}

/// The backend for `configured` (containers.conf's `network_backend`) and `facts`:
///
/// 1. a configured backend is used as it is;
/// 2. a marker saying `netavark` gives netavark; `cni` gives CNI where CNI is built in,
///    else netavark (and the marker is rewritten); anything else is an error;
/// 3. with no marker, a podman without CNI takes netavark; one with CNI takes CNI
///    when netavark is missing or the store looks used (containers, writable images,
///    more than the default CNI network), netavark on a fresh system. The choice is
///    written to the marker.
pub fn choose_backend(
    configured: Option<NetworkBackend>,
    facts: &BackendFacts,
) -> Result<BackendChoice, Error> {
    if let Some(backend) = configured {
        return Ok(BackendChoice {
            backend,
            write_marker: false,
        });
    }
    if let Some(value) = &facts.marker {
        return match NetworkBackend::parse(value) {
            Some(NetworkBackend::Netavark) => Ok(keep(NetworkBackend::Netavark)),
            Some(NetworkBackend::Cni) if facts.cni_supported => Ok(keep(NetworkBackend::Cni)),
            Some(NetworkBackend::Cni) => Ok(BackendChoice {
                backend: NetworkBackend::Netavark,
                write_marker: true,
            }),
            None => Err(Error::BackendMarker {
                path: facts.marker_path.clone(),
                value: value.clone(),
            }),
        };
    }
    let used_store = facts.has_containers || facts.has_writable_images || facts.cni_networks > 1;
    let backend = if facts.cni_supported && (!facts.netavark_found || used_store) {
        NetworkBackend::Cni
    } else {
        NetworkBackend::Netavark
    };
    Ok(BackendChoice {
        backend,
        write_marker: true,
    })
}

fn keep(backend: NetworkBackend) -> BackendChoice {
    BackendChoice {
        backend,
        write_marker: false,
    }
}

/// Reads `graphroot/defaultNetworkBackend`: `None` when it does not exist.
pub fn read_backend_marker(graphroot: &Path) -> Result<Option<String>, Error> {
    let path = graphroot.join(BACKEND_MARKER_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadMarker { path, source }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fresh() -> BackendFacts {
        BackendFacts {
            marker_path: PathBuf::from("/g/defaultNetworkBackend"),
            marker: None,
            cni_supported: true,
            netavark_found: true,
            has_containers: false,
            has_writable_images: false,
            cni_networks: 1,
        }
    }

    fn choose(configured: Option<NetworkBackend>, facts: &BackendFacts) -> (NetworkBackend, bool) {
        let c = choose_backend(configured, facts).unwrap();
        (c.backend, c.write_marker)
    }

    #[test]
    fn configured_backend_wins_over_marker_and_store() {
        let facts = BackendFacts {
            marker: Some("netavark".into()),
            ..fresh()
        };
        assert_eq!(
            choose(Some(NetworkBackend::Cni), &facts),
            (NetworkBackend::Cni, false)
        );
    }

    #[test]
    fn marker_is_followed_and_not_rewritten() {
        for (marker, want) in [
            ("netavark", NetworkBackend::Netavark),
            ("cni", NetworkBackend::Cni),
        ] {
            let facts = BackendFacts {
                marker: Some(marker.into()),
                netavark_found: false,
                ..fresh()
            };
            assert_eq!(choose(None, &facts), (want, false), "{marker}");
        }
    }

    #[test]
    fn cni_marker_migrates_to_netavark_without_cni_support() {
        let facts = BackendFacts {
            marker: Some("cni".into()),
            cni_supported: false,
            ..fresh()
        };
        assert_eq!(choose(None, &facts), (NetworkBackend::Netavark, true));
    }

    #[test]
    fn marker_is_compared_byte_for_byte() {
        let facts = BackendFacts {
            marker: Some("netavark\n".into()),
            ..fresh()
        };
        let err = choose_backend(None, &facts).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/g/defaultNetworkBackend: unknown network backend value \"netavark\\n\" (podman accepts \"netavark\" or \"cni\")"
        );
    }

    #[test]
    fn fresh_system_takes_netavark_and_writes_the_marker() {
        assert_eq!(choose(None, &fresh()), (NetworkBackend::Netavark, true));
    }

    #[test]
    fn used_store_or_missing_netavark_keeps_cni_where_built_in() {
        let cases = [
            BackendFacts {
                netavark_found: false,
                ..fresh()
            },
            BackendFacts {
                has_containers: true,
                ..fresh()
            },
            BackendFacts {
                has_writable_images: true,
                ..fresh()
            },
            BackendFacts {
                cni_networks: 2,
                ..fresh()
            },
        ];
        for facts in &cases {
            assert_eq!(
                choose(None, facts),
                (NetworkBackend::Cni, true),
                "{facts:?}"
            );
            let without_cni = BackendFacts {
                cni_supported: false,
                ..facts.clone()
            };
            assert_eq!(
                choose(None, &without_cni),
                (NetworkBackend::Netavark, true),
                "{facts:?}"
            );
        }
    }

    #[test]
    fn marker_file_is_read_raw_and_absent_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_backend_marker(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join(BACKEND_MARKER_FILE), "cni").unwrap();
        assert_eq!(
            read_backend_marker(dir.path()).unwrap().as_deref(),
            Some("cni")
        );
    }
}
