//! A CNI runtime: what libcni does for podman, containerd and CRI-O, in Rust. It reads network
//! configurations ([`NetworkConfigList`]: `.conflist` files, single `.conf` files promoted, a
//! directory the way libcni searches it), runs plugin chains per the CNI specification 1.0.0
//! and 0.4.0 (results of 0.3.x accepted) with [`Runtime`]: ADD in order with `prevResult`
//! chaining, CHECK, DEL in reverse with the cached result, VERSION; sets the `CNI_*`
//! environment; injects `runtimeConfig` from [`Capability`] arguments a plugin declares; and
//! keeps libcni's result cache ([`CacheEntry`], `/var/lib/cni/results/<network>-<id>-<ifname>`)
//! so a DEL works after a restart and entries written by podman 4.3 are read as they are.
//!
//! Requires: nothing to parse configurations and results. Running plugins needs what the
//! plugins need (the reference plugins: root, or a user namespace owning the netns), a pidfd
//! (Linux 5.3) for the time limit, and the plugin executables (Debian:
//! `containernetworking-plugins`, in `/usr/lib/cni`).
//!
//! Every plugin invocation has a time limit ([`Runtime::with_time_limit`]); a plugin that
//! passes it is killed with its process group. Plugin failures come back as
//! [`Error::Plugin`] with the plugin's CNI error code, message and details.
//!
//! ```
//! use cni::{Capability, NetworkConfigList, PortMapping, RuntimeConf, SpecVersion};
//!
//! # fn main() -> Result<(), cni::Error> {
//! let conflist = br#"{
//!   "cniVersion": "0.4.0",
//!   "name": "web",
//!   "args": {"podman_labels": {"tier": "front"}},
//!   "plugins": [
//!     {"type": "bridge", "bridge": "cni-web0", "isGateway": true,
//!      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/24"}]]}},
//!     {"type": "portmap", "capabilities": {"portMappings": true}}
//!   ]
//! }"#;
//! let list = NetworkConfigList::from_conflist_bytes(conflist, "web.conflist")?;
//! assert_eq!(list.name(), "web");
//! assert_eq!(list.cni_version(), SpecVersion::V0_4_0);
//! let types: Vec<&str> = list.plugins().iter().map(|p| p.plugin_type()).collect();
//! assert_eq!(types, ["bridge", "portmap"]);
//! assert_eq!(list.plugins()[0].ipam_type(), Some("host-local"));
//! // fields the runtime does not act on are kept as written
//! assert_eq!(list.raw()["args"]["podman_labels"]["tier"], "front");
//! assert_eq!(list.plugins()[0].raw()["isGateway"], true);
//! // only portmap declares portMappings, so only portmap will get it as runtimeConfig
//! assert!(list.plugins()[1].has_capability("portMappings"));
//!
//! // what `Runtime::add` takes besides the list
//! let rt = RuntimeConf::new("c0ffee", "/run/netns/web1", "eth0")
//!     .with_arg("IgnoreUnknown", "1")
//!     .with_capability(Capability::PortMappings(vec![PortMapping {
//!         host_port: 8080,
//!         container_port: 80,
//!         protocol: "tcp".into(),
//!         host_ip: String::new(),
//!     }]));
//! assert_eq!(rt.args_string(), "IgnoreUnknown=1");
//!
//! // a bad document is one line naming it and the rule
//! let err = NetworkConfigList::from_conflist_bytes(br#"{"name":"x","cniVersion":"9"}"#, "bad.conflist")
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "invalid CNI configuration bad.conflist: unknown CNI version \"9\" (known: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0)"
//! );
//! # Ok(())
//! # }
//! ```
//!
//! Running the chain (needs root and the plugins; see `examples/cnitool.rs`):
//!
//! ```no_run
//! # fn main() -> Result<(), cni::Error> {
//! let list = cni::load_network("/etc/cni/net.d".as_ref(), "podman")?;
//! let runtime = cni::Runtime::new(["/usr/lib/cni"]).with_cache_dir("/var/lib/cni");
//! let rt = cni::RuntimeConf::new("c0ffee", "/run/netns/web1", "eth0");
//! let result = runtime.add(&list, &rt)?;
//! println!("{}", result.ips[0].address);
//! runtime.check(&list, &rt)?;
//! runtime.del_cached("podman", &rt)?; // after a restart: everything comes from the cache
//! # Ok(())
//! # }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

mod base64;
mod cache;
mod command;
mod config;
mod error;
mod exec;
mod inject;
mod load;
mod names;
mod process;
mod result;
mod runtime;
mod runtime_conf;
#[cfg(test)]
mod runtime_tests;
mod sorted;
mod version;

pub use cache::{entry_path, CacheEntry, CACHE_KIND_V1};
pub use command::Command;
pub use config::{NetworkConfigList, PluginConfig};
pub use error::Error;
pub use exec::{find_plugin, ExecFailure, PluginEnv, PluginExec, ProcessExec};
pub use ipnet;
pub use load::{load_network, load_networks, LoadedNetworks};
pub use result::{CniResult, Dns, Interface, IpConfig, Route};
pub use runtime::{
    split_path_list, Runtime, DEFAULT_CACHE_DIR, DEFAULT_PLUGIN_DIRS, DEFAULT_TIME_LIMIT,
};
pub use runtime_conf::{Bandwidth, Capability, PortMapping, RuntimeConf};
pub use version::{SpecVersion, UnknownVersion, VersionInfo, KNOWN_VERSIONS};
