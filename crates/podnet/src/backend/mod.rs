//! Network backends: the [`Backend`] seam between the flows and the program
//! that builds interfaces and firewall rules, and [`Netavark`], which runs the
//! netavark binary as podman does.

mod aardvark;
mod error;
mod find;
mod netavark;
mod options;
mod status;
pub mod testing;

use std::collections::BTreeMap;
use std::path::Path;

pub use error::BackendError;
pub use find::{find_helper_binary, HELPER_BINARY_DIRS};
pub use netavark::{Netavark, ROOTFUL_CONFIG_DIR};
pub use options::{NetworkOptions, PerNetworkOptions};
pub(crate) use status::parse_setup_output;
pub use status::StatusBlock;

/// Sets up and tears down a container's interfaces in its network namespace.
///
/// `setup` returns one [`StatusBlock`] per network of the options, by network
/// name. `teardown` takes the same options as the setup it undoes (netavark
/// needs the networks and port mappings to find the rules to remove).
pub trait Backend {
    /// Creates the container's interfaces, routes, firewall and DNS entries.
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError>;

    /// Removes what `setup` created for these options.
    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError>;
}
