//! [`SelectedBackend`]: the backend containers.conf's `network_backend` names, netavark or
//! podman 4's CNI backend; [`SelectedBackend::boxed`] makes it one type, so a program (the
//! CLI) runs the same flows on either without knowing which.

use containers_conf::NetworkBackend;

use super::{Backend, CniBackend, Netavark};

/// netavark or podman 4's CNI backend, as [`BackendConfig::select`](super::BackendConfig::select)
/// (or [`RuntimeConfig::select_backend`](crate::RuntimeConfig::select_backend)) chose it.
#[derive(Debug)]
pub enum SelectedBackend {
    /// netavark, run as podman runs it.
    Netavark(Netavark),
    /// podman 4's CNI backend.
    Cni(CniBackend),
}

impl SelectedBackend {
    /// Which backend this is.
    pub fn kind(&self) -> NetworkBackend {
        match self {
            Self::Netavark(_) => NetworkBackend::Netavark,
            Self::Cni(_) => NetworkBackend::Cni,
        }
    }

    /// The backend as it runs inside the user's rootless network namespace (wrapped in a
    /// [`RootlessBackend`](crate::RootlessBackend)): netavark is told so (`--rootless`);
    /// the CNI plugins need nothing more than the namespaces they run in.
    pub fn rootless(self) -> Self {
        match self {
            Self::Netavark(nv) => Self::Netavark(nv.rootless(true)),
            cni @ Self::Cni(_) => cni,
        }
    }

    /// The backend as a trait object, for a program that runs the same flows on either
    /// (`Runtime<Box<dyn Backend + Send + Sync>>`, or inside a
    /// [`RootlessBackend`](crate::RootlessBackend)).
    pub fn boxed(self) -> Box<dyn Backend + Send + Sync> {
        match self {
            Self::Netavark(nv) => Box::new(nv),
            Self::Cni(cni) => Box::new(cni),
        }
    }
}
