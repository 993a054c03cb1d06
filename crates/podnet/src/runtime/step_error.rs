//! The failures of best-effort flows: teardown, disconnect, remove and reconcile go on
//! after a failed step and report every failure at the end, each a [`StepError`] that
//! keeps its typed cause and chain (the old string lists lost both).

use std::fmt;

use crate::Error;

/// The step of a best-effort flow that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Reading the definitions of the container's networks.
    Networks,
    /// The backend's teardown of the container's interfaces, rules and DNS entries.
    BackendTeardown,
    /// Withdrawing the container's published ports.
    Ports,
    /// Letting the backend release what the container shared (the rootless netns).
    BackendRelease,
    /// Saving the container's record, leases or intent.
    State,
    /// Removing the container's netns pin.
    Netns,
    /// Editing the container's hosts file.
    Hosts,
    /// Editing the container's resolv.conf.
    ResolvConf,
    /// Ending a process `exec` started in the container (its session record).
    ExecSession,
    /// Stopping the container's pasta or slirp4netns, or its port forwarder.
    NetworkHelper,
    /// Removing the container's directory.
    ContainerDir,
    /// Repairing the shared DNS server (aardvark-dns).
    Dns,
    /// Finishing or undoing the interrupted flow of a container (by ID).
    Intent(String),
    /// Putting a running container right (its netns, port holder or helper), by ID.
    Container(String),
    /// Releasing addresses nobody holds (leases, podman's `ipam.db`).
    Addresses,
    /// Removing network namespace pins no container uses.
    Pins,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Networks => f.write_str("networks"),
            Step::BackendTeardown => f.write_str("backend teardown"),
            Step::Ports => f.write_str("ports"),
            Step::BackendRelease => f.write_str("backend release"),
            Step::State => f.write_str("state"),
            Step::Netns => f.write_str("netns"),
            Step::Hosts => f.write_str("hosts"),
            Step::ResolvConf => f.write_str("resolv.conf"),
            Step::ExecSession => f.write_str("exec session"),
            Step::NetworkHelper => f.write_str("network helper"),
            Step::ContainerDir => f.write_str("container directory"),
            Step::Dns => f.write_str("aardvark-dns"),
            Step::Intent(id) => write!(f, "interrupted flow of container {id}"),
            Step::Container(id) => write!(f, "container {id}"),
            Step::Addresses => f.write_str("addresses"),
            Step::Pins => f.write_str("netns pins"),
        }
    }
}

/// One failed step of a best-effort flow: which step, and why (the typed cause with its
/// own causes, for [`error_chain`](crate::error_chain) or matching).
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
#[non_exhaustive]
pub struct StepError {
    /// The step.
    pub step: Step,
    /// Why it failed.
    #[source]
    pub source: Box<Error>,
}

impl StepError {
    /// A failed `step` with its cause.
    pub fn new(step: Step, source: impl Into<Error>) -> Self {
        StepError {
            step,
            source: Box::new(source.into()),
        }
    }
}

/// Written as its message with every cause ([`error_chain`](crate::error_chain)), as
/// `podnet reconcile` prints its report.
impl serde::Serialize for StepError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::error_chain(self))
    }
}

/// The `; `-joined messages of `errors`, each with its whole chain.
pub(crate) fn join(errors: &[StepError]) -> String {
    errors
        .iter()
        .map(|e| crate::error_chain(e))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::RuntimeError;

    #[test]
    fn the_step_and_every_cause_are_printed_once() {
        let cause = RuntimeError::Io {
            path: "/run/podnet/x".into(),
            source: std::io::Error::from_raw_os_error(13),
        };
        let step = StepError::new(Step::ContainerDir, cause);
        assert_eq!(
            crate::error_chain(&step),
            "container directory: /run/podnet/x: Permission denied (os error 13)"
        );
        assert!(matches!(
            *step.source,
            Error::Runtime(RuntimeError::Io { .. })
        ));
    }
}
