//! Re-executing the current program inside the user's namespaces (podman's
//! `rootless.BecomeRootInUserNS`).

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};

use super::error::RootlessError;
use super::holder::{UserNamespace, USERNS_ENV};

/// What [`reexec_in_user_namespace`] did.
#[derive(Debug)]
#[must_use]
pub enum Reexec {
    /// Nothing: the process is root, or already inside the user namespace. Go on.
    NotNeeded,
    /// The program ran again inside the namespaces and exited with this status; the
    /// caller should exit with the same code ([`Reexec::exit_code`]).
    Exited(ExitStatus),
}

impl Reexec {
    /// The exit code to pass on: the child's code, or 128 + signal number.
    pub fn exit_code(status: &ExitStatus) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1)
    }
}

/// For an unprivileged user: joins (creating on first use) the user's namespace holder
/// and runs this same program, with the same arguments and environment, inside it as uid
/// 0 with [`USERNS_ENV`] set; waits for it and returns its status. For root, or inside
/// the namespaces already, returns [`Reexec::NotNeeded`].
///
/// Meant for the first lines of `main`, before threads are started:
///
/// ```no_run
/// if let podnet::Reexec::Exited(status) = podnet::reexec_in_user_namespace()? {
///     std::process::exit(podnet::Reexec::exit_code(&status));
/// }
/// # Ok::<(), podnet::RootlessError>(())
/// ```
pub fn reexec_in_user_namespace() -> Result<Reexec, RootlessError> {
    let euid = nix::unistd::geteuid().as_raw();
    if euid == 0 {
        return Ok(Reexec::NotNeeded);
    }
    if std::env::var_os(USERNS_ENV).is_some() {
        return Err(RootlessError::ReexecLoop {
            marker: USERNS_ENV,
            euid,
        });
    }
    let holder = UserNamespace::ensure()?;
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "podnet".into());
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg0(argv0).args(args);
    holder.join(&mut cmd)?;
    tracing::debug!(
        holder = holder.pid(),
        "re-executing inside the user namespace"
    );
    let status = cmd.status().map_err(|source| RootlessError::Spawn {
        program: "/proc/self/exe".to_string(),
        source,
    })?;
    Ok(Reexec::Exited(status))
}
