//! Test support (feature `testing`): [`FakeBackend`], a recording backend for unit tests
//! of the flows (no root, no netavark), and the internals that crash and fault tests
//! reach into (state transactions, flow intents, failpoint names, the re-exec markers).
//! None of it is part of the stable API.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Backend, BackendError, NetworkOptions, StatusBlock};
use crate::Subnet;
use netstatus::{NetAddress, NetInterface};

pub use crate::rootless::forwarder::PORT_FORWARDER_ENV;
pub use crate::rootless::holder::USERNS_ENV;
pub use crate::runtime::failpoint::FAILPOINTS;
pub use crate::state::{Intent, IntentKind, StateTx, SCHEMA_VERSION};

/// A write transaction on `store`, as the flows open them (for tests that put records or
/// leases in place, or fill a disk under a commit).
pub fn begin(store: &crate::StateStore) -> Result<StateTx<'_>, crate::StateError> {
    store.begin()
}

/// The flow intents recorded in `store` (flows interrupted, or running now).
pub fn intents(store: &crate::StateStore) -> Result<Vec<Intent>, crate::StateError> {
    store.list_intents()
}

/// One call made to a [`FakeBackend`].
#[derive(Debug, Clone, PartialEq)]
pub enum BackendCall {
    /// A `setup` call.
    Setup {
        /// The netns path passed.
        netns: PathBuf,
        /// The options passed.
        options: NetworkOptions,
    },
    /// A `teardown` call.
    Teardown {
        /// The netns path passed.
        netns: PathBuf,
        /// The options passed.
        options: NetworkOptions,
    },
    /// An `undo_setup` call.
    Undo {
        /// The netns path passed.
        netns: PathBuf,
        /// The options passed.
        options: NetworkOptions,
        /// The bridges the undo may remove.
        new_bridges: Vec<String>,
    },
}

/// Called with every [`BackendCall`] as it is made, before it answers (e.g. to look at
/// the state database at that moment).
pub type Observer = Box<dyn Fn(&BackendCall) + Send + Sync>;

/// Records every call; fails the calls numbered in [`FakeBackend::fail_at`].
///
/// `missing_bridges` names every bridge of the options (a host where none exists yet);
/// `undo_setup` is recorded as one call and fails like the others. `setup` answers with one interface per network: the requested interface
/// name, the static MAC (or `02:00:00:00:00:NN`), and each static IP with the
/// prefix length and gateway of the network's subnet that holds it; on a `dhcp` network,
/// as netavark with its DHCP proxy, the next lease of [`FAKE_DHCP_POOL`] instead.
#[derive(Default)]
pub struct FakeBackend {
    state: Mutex<FakeState>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for FakeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBackend")
            .field("state", &self.state)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

#[derive(Debug, Default)]
struct FakeState {
    calls: Vec<BackendCall>,
    fail_at: Vec<usize>,
    dhcp_leases: u8,
}

/// The pool of the fake DHCP server of a [`FakeBackend`] (TEST-NET-2): leases `.100`,
/// `.101`, ... with gateway `.1`, one per setup of a `dhcp` network.
pub const FAKE_DHCP_POOL: &str = "198.51.100.0/24";

impl FakeBackend {
    /// A backend whose calls all succeed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes call number `call` (1-based, setup and teardown counted together) fail.
    pub fn fail_at(self, call: usize) -> Self {
        self.lock().fail_at.push(call);
        self
    }

    /// Calls `observer` with every call as it is made.
    pub fn observe(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The calls made so far, in order (failed ones included).
    pub fn calls(&self) -> Vec<BackendCall> {
        self.lock().calls.clone()
    }

    /// The next address of [`FAKE_DHCP_POOL`], as netavark reports a DHCP lease.
    fn dhcp_lease(&self) -> NetAddress {
        let mut state = self.lock();
        let host = 100u8.saturating_add(state.dhcp_leases);
        state.dhcp_leases = state.dhcp_leases.saturating_add(1);
        NetAddress {
            ipnet: ipnet::IpNet::V4(
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(198, 51, 100, host), 24)
                    .unwrap_or_default(),
            ),
            gateway: Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, call: BackendCall, command: &'static str) -> Result<(), BackendError> {
        if let Some(observer) = &self.observer {
            observer(&call);
        }
        let mut state = self.lock();
        state.calls.push(call);
        let n = state.calls.len();
        if state.fail_at.contains(&n) {
            return Err(BackendError::Injected { command, call: n });
        }
        Ok(())
    }
}

impl Backend for FakeBackend {
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError> {
        let call = BackendCall::Setup {
            netns: netns.to_path_buf(),
            options: options.clone(),
        };
        self.record(call, "setup")?;
        options.validate()?;
        let mut result = BTreeMap::new();
        for (i, (name, per)) in options.networks.iter().enumerate() {
            let subnets = options
                .network_info
                .get(name)
                .map_or(&[][..], |n| &n.subnets[..]);
            let dhcp = options
                .network_info
                .get(name)
                .is_some_and(|n| n.ipam_driver() == crate::DHCP_IPAM);
            let addresses = if dhcp {
                vec![self.dhcp_lease()]
            } else {
                per.static_ips
                    .iter()
                    .map(|ip| address_in(*ip, subnets))
                    .collect()
            };
            let mac = per
                .static_mac
                .clone()
                .unwrap_or_else(|| format!("02:00:00:00:00:{:02x}", i + 1));
            let mut block = StatusBlock::default();
            block.interfaces.insert(
                per.interface_name.clone(),
                NetInterface {
                    mac_address: mac,
                    subnets: addresses,
                },
            );
            result.insert(name.clone(), block);
        }
        Ok(result)
    }

    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError> {
        let call = BackendCall::Teardown {
            netns: netns.to_path_buf(),
            options: options.clone(),
        };
        self.record(call, "teardown")
    }

    fn missing_bridges(&self, options: &NetworkOptions) -> Result<Vec<String>, BackendError> {
        Ok(super::bridge_names(options))
    }

    fn undo_setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        new_bridges: &[String],
    ) -> Result<(), BackendError> {
        let call = BackendCall::Undo {
            netns: netns.to_path_buf(),
            options: options.clone(),
            new_bridges: new_bridges.to_vec(),
        };
        self.record(call, "undo")
    }
}

fn address_in(ip: IpAddr, subnets: &[Subnet]) -> NetAddress {
    let found = subnets
        .iter()
        .find(|s| s.subnet.contains(&ip))
        .map(|s| (s.subnet.prefix_len(), s.gateway));
    let host_prefix = if ip.is_ipv4() { 32 } else { 128 };
    let (prefix, gateway) = found.unwrap_or((host_prefix, None));
    NetAddress {
        ipnet: ipnet::IpNet::new(ip, prefix).unwrap_or_else(|_| ip.into()),
        gateway,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backend::PerNetworkOptions;
    use serde_json::json;

    fn options() -> NetworkOptions {
        let mut opts = NetworkOptions::new("c1", "web");
        let net: crate::Network = serde_json::from_value(
            json!({"name": "n1", "subnets": [{"subnet": "10.89.3.0/24", "gateway": "10.89.3.1"}]}),
        )
        .unwrap();
        let per = PerNetworkOptions {
            static_ips: vec!["10.89.3.7".parse().unwrap(), "fd00::7".parse().unwrap()],
            interface_name: "eth0".into(),
            ..Default::default()
        };
        opts.add_network(&net, per);
        opts
    }

    #[test]
    fn records_calls_and_answers_with_subnet_prefix_and_gateway() {
        let fake = FakeBackend::new();
        let result = fake.setup(Path::new("/run/netns/x"), &options()).unwrap();
        let eth0 = &result["n1"].interfaces["eth0"];
        assert_eq!(eth0.mac_address, "02:00:00:00:00:01");
        assert_eq!(eth0.subnets[0].ipnet.to_string(), "10.89.3.7/24");
        assert_eq!(eth0.subnets[0].gateway, Some("10.89.3.1".parse().unwrap()));
        assert_eq!(eth0.subnets[1].ipnet.to_string(), "fd00::7/128");
        fake.teardown(Path::new("/run/netns/x"), &options())
            .unwrap();
        let calls = fake.calls();
        assert_eq!(calls.len(), 2);
        assert!(
            matches!(&calls[0], BackendCall::Setup { netns, .. } if netns == Path::new("/run/netns/x"))
        );
        assert!(
            matches!(&calls[1], BackendCall::Teardown { options, .. } if options == &self::options())
        );
    }

    #[test]
    fn fails_exactly_the_chosen_calls() {
        let fake = FakeBackend::new().fail_at(2);
        let ns = Path::new("/run/netns/y");
        assert!(fake.setup(ns, &options()).is_ok());
        let err = fake.teardown(ns, &options()).unwrap_err();
        assert_eq!(err.to_string(), "injected teardown failure at call 2");
        assert!(fake.setup(ns, &options()).is_ok());
        assert_eq!(fake.calls().len(), 3);
    }
}
