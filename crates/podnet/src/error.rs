//! The facade's error: one variant per area, each wrapping that area's own error enum.

/// Any failure of a podnet operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Each area (network, state, backend, runtime) adds one `#[error(transparent)]`
    // variant wrapping its own error enum here.
    /// A network backend (netavark) failed.
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    /// A network definition operation failed.
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    /// A state database or IP allocation operation failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A container network flow failed.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// An input broke a rule of the validation layer.
    #[error(transparent)]
    Invalid(#[from] crate::validate::InvalidInput),
    /// A network mode's rule was broken (dependencies, ports, networks with a mode).
    #[error(transparent)]
    Mode(#[from] crate::mode::ModeError),
    /// Entering the user namespace or managing the rootless netns failed.
    #[error(transparent)]
    Rootless(#[from] crate::rootless::RootlessError),
    /// A container's hosts file or resolv.conf could not be edited.
    #[error(transparent)]
    EtcFiles(#[from] etchosts::Error),
    /// containers.conf or podman's backend marker file could not be used.
    #[error(transparent)]
    ContainersConf(#[from] containers_conf::Error),
}

/// An error and all its causes on one line, `outer: cause: root cause`, as the `podnet` CLI
/// prints them.
///
/// The crates' messages already state their direct reason, so a cause whose text ends the
/// line so far is not repeated.
///
/// ```
/// let missing = std::fs::File::open("/nonexistent/podnet").unwrap_err();
/// let err = etchosts::Error::Open { path: "/nonexistent/podnet".into(), source: missing };
/// let line = podnet::error_chain(&err);
/// assert!(line.starts_with("cannot open /nonexistent/podnet: No such file or directory"), "{line}");
/// assert_eq!(line.matches("No such file").count(), 1, "{line}");
/// ```
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    /// An error whose message does not state its cause, as foreign crates' errors may be.
    #[derive(Debug, thiserror::Error)]
    #[error("outer step failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_cause_missing_from_the_message_is_appended() {
        let err = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(error_chain(&err), "outer step failed: disk on fire");
    }

    #[test]
    fn a_cause_the_message_already_states_is_not_repeated() {
        let err = netns::Error::NotANetns {
            path: "/tmp/x".into(),
        };
        assert_eq!(error_chain(&err), "/tmp/x is not a network namespace");
        let err = etchosts::Error::Read {
            path: "/etc/hosts".into(),
            source: std::io::Error::from_raw_os_error(13),
        };
        assert_eq!(
            error_chain(&err),
            "cannot read /etc/hosts: Permission denied (os error 13)"
        );
    }
}
