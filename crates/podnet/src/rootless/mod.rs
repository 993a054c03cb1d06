//! Rootless networking: entering the user's user and mount namespaces (held by a
//! long-lived holder process, podman's pause process) and the rootless network
//! namespace that rootless containers' networks live in, with pasta or slirp4netns for
//! outbound connectivity and one port forwarder process per container.
//!
//! Process model:
//!
//! ```text
//! podnet (uid 1000) --reexec--> podnet (uid 0 in the holder's userns + mount ns)
//!                                 |-- RootlessNetNsLock::run / enter --> netavark --rootless=true
//!                                 |      (thread/child in the rootless netns, private /run, /var)
//!                                 |-- pasta / slirp4netns (daemon; pidfd-watched, recorded)
//!                                 `-- port forwarder per container (host netns, connects in)
//! podnet-pause (sleep infinity): holds the userns and mount ns; netns pins live there
//! ```

mod backend;
mod error;
pub(crate) mod forwarder;
mod helper;
pub(crate) mod holder;
mod ids;
mod members;
mod mounts;
mod pin;
pub(crate) mod ports;
mod privileges;
mod process;
pub(crate) use forwarder::forwards_for;
pub(crate) use process::cloexec_from;
mod reexec;
mod resolv;
mod rootless_netns;
pub(crate) mod user_mode;

pub use backend::RootlessBackend;
pub use error::RootlessError;
pub use forwarder::{
    is_port_forwarder, run_port_forwarder, ForwardProtocol, PortForward, UDP_IDLE,
};
pub use helper::RootlessNetHelper;
pub use holder::{in_user_namespace, UserNamespace};
pub use reexec::{reexec_in_user_namespace, Reexec};
pub use rootless_netns::{
    RootlessNetNs, RootlessNetNsConfig, RootlessNetNsLock, RootlessNetNsStatus,
};
