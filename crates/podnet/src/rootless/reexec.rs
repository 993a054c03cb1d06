//! Re-executing the current program inside the user's namespaces (podman's
//! `rootless.BecomeRootInUserNS`).

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

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
/// 0 with a marker variable set; waits for it (passing on SIGINT, SIGTERM, SIGHUP and
/// SIGQUIT) and returns its status. For root, or inside
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
    // Signals sent to this process go to the copy that does the work: a process-wide
    // handler (whatever threads exist) passes them on; the child starts with default
    // dispositions (exec resets caught signals).
    let previous = install_forwarding();
    let result = cmd.spawn().and_then(|mut child| {
        CHILD.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
        let status = child.wait();
        CHILD.store(0, Ordering::SeqCst);
        status
    });
    restore(previous);
    let status = result.map_err(|source| RootlessError::Spawn {
        program: "/proc/self/exe".to_string(),
        source,
    })?;
    Ok(Reexec::Exited(status))
}

/// The pid signals are passed on to (0: none).
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn pass_on(signal: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes plain integers.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

fn install_forwarding() -> Vec<(Signal, SigAction)> {
    let action = SigAction::new(
        SigHandler::Handler(pass_on),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    FORWARDED
        .iter()
        .filter_map(|&signal| {
            // SAFETY: the handler only reads an atomic and calls kill(2), both
            // async-signal-safe.
            unsafe { sigaction(signal, &action) }
                .ok()
                .map(|old| (signal, old))
        })
        .collect()
}

fn restore(previous: Vec<(Signal, SigAction)>) {
    for (signal, old) in previous {
        // SAFETY: puts back the disposition that was in place before.
        let _ = unsafe { sigaction(signal, &old) };
    }
}

/// The signals a re-executed copy receives in place of its parent.
const FORWARDED: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];
