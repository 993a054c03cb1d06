//! podnet: podman's libpod network layer as a library.
//!
//! TODO(integrator): crate doc with example, written once the flows land.

mod backend;
mod error;
mod network;
mod rootless;
mod runtime;
mod state;

pub use backend::{
    find_helper_binary, testing, Backend, BackendError, Netavark, NetworkOptions,
    PerNetworkOptions, StatusBlock, HELPER_BINARY_DIRS, ROOTFUL_CONFIG_DIR,
};
pub use error::Error;
pub use network::{
    is_valid_name, LeaseRange, Network, NetworkError, NetworkStore, Route, Subnet, SubnetPool,
    BRIDGE_DRIVER, DEFAULT_NETWORK_ID, DEFAULT_NETWORK_NAME, HOST_LOCAL_IPAM, IPAM_DRIVER_KEY,
    MACVLAN_DRIVER, NONE_IPAM,
};
pub use rootless::{
    in_user_namespace, reexec_in_user_namespace, run_port_forwarder, PortForward, Reexec,
    RootlessError, RootlessNetHelper, RootlessNetNs, RootlessNetNsConfig, RootlessNetNsLock,
    RootlessNetNsStatus, UserNamespace, PORT_FORWARDER_ENV, USERNS_ENV,
};
pub use runtime::{
    ContainerSpec, NetworkRequest, ReconcileReport, Runtime, RuntimeConfig, RuntimeError,
};
pub use state::{
    check_static_ip, ContainerRecord, Intent, IntentKind, Lease, StateError, StateStore, StateTx,
    DEFAULT_BUSY_TIMEOUT, SCHEMA_VERSION,
};
