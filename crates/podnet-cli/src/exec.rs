//! `podnet exec`: a command inside the container's network namespace (the caller's own
//! for a host-mode container), in a private mount
//! namespace where the container's hosts and resolv.conf are bind-mounted over /etc's, so
//! names resolve as they would in the container. The process leads its own process group
//! and is recorded as the container's ([`podnet::Runtime::start_exec`]): `stop` and
//! `rm --force` end it and what it started. At a terminal the group gets the terminal's
//! foreground while it runs.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt as _;
use std::process::ExitCode;

use netns::NetNs;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use podnet::{Backend, ContainerRecord, Error, Runtime, RuntimeError};

use crate::run::CliError;

/// Runs `command` in the container's network and prints nothing itself; the exit code is
/// the command's.
pub fn exec(
    rt: &Runtime<Box<dyn Backend>>,
    container: &str,
    command: &[String],
) -> Result<ExitCode, CliError> {
    let (program, args) = command.split_first().ok_or_else(|| CliError::Argument {
        what: "command",
        value: String::new(),
        why: "empty".into(),
    })?;
    let spawn = |record: &ContainerRecord| {
        let mut cmd = command_in(record, program)?;
        cmd.args(args).process_group(0);
        cmd.spawn().map_err(|source| {
            Error::from(RuntimeError::Io {
                path: program.into(),
                source,
            })
        })
    };
    let session = rt.start_exec(container, spawn)?;
    let terminal = Foreground::give(session.id());
    let status = session.wait().map_err(|source| CliError::Exec {
        container: container.to_string(),
        command: command.join(" "),
        source,
    })?;
    drop(terminal);
    let code = status
        .code()
        .or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            status.signal().map(|s| 128 + s)
        })
        .unwrap_or(125);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(125)))
}

/// `program` in the container's netns, with its hosts and resolv.conf over /etc's.
fn command_in(record: &ContainerRecord, program: &str) -> Result<std::process::Command, Error> {
    let netns_err = |source| {
        Error::from(RuntimeError::Netns {
            container: record.name.clone(),
            source,
        })
    };
    // no netns of its own or joined: host mode (or a pod around a host-mode owner)
    let mut cmd = match &record.netns_path {
        Some(path) => NetNs::open(path)
            .and_then(|ns| ns.command(program))
            .map_err(netns_err)?,
        None => std::process::Command::new(program),
    };
    let binds: Vec<(CString, CString)> = [
        (&record.hosts_path, "/etc/hosts"),
        (&record.resolv_conf_path, "/etc/resolv.conf"),
    ]
    .into_iter()
    .filter_map(|(src, dst)| {
        let src = CString::new(src.as_ref()?.as_os_str().as_bytes()).ok()?;
        Some((src, CString::new(dst).ok()?))
    })
    .collect();
    // SAFETY: the hook runs in the child between fork and exec and only makes raw syscalls
    // (unshare, mount) on strings allocated before the fork; it neither allocates nor locks.
    unsafe {
        cmd.pre_exec(move || {
            unshare(CloneFlags::CLONE_NEWNS)?;
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )?;
            for (src, dst) in &binds {
                mount(
                    Some(src.as_c_str()),
                    dst.as_c_str(),
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )?;
            }
            Ok(())
        });
    }
    Ok(cmd)
}

/// The terminal's foreground given to the exec's process group (its own, so that `stop`
/// can end the group) and taken back on drop; nothing when stdin is no terminal.
struct Foreground {
    ours: Option<nix::unistd::Pid>,
}

impl Foreground {
    fn give(pid: u32) -> Foreground {
        use nix::unistd::{getpgrp, tcgetpgrp, tcsetpgrp, Pid};
        let stdin = std::io::stdin();
        let Ok(group) = i32::try_from(pid).map(Pid::from_raw) else {
            return Foreground { ours: None };
        };
        // only a foreground podnet hands the terminal on (from the background the call
        // would stop podnet with SIGTTOU)
        if tcgetpgrp(stdin.as_fd()) != Ok(getpgrp()) {
            return Foreground { ours: None };
        }
        if tcsetpgrp(stdin.as_fd(), group).is_err() {
            return Foreground { ours: None };
        }
        // a read before the hand-over stopped it (SIGTTIN): let it go on
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGCONT);
        Foreground {
            ours: Some(getpgrp()),
        }
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        use nix::sys::signal::{signal, SigHandler, Signal};
        let Some(ours) = self.ours else { return };
        // taking the terminal back from the background raises SIGTTOU: ignored meanwhile
        // SAFETY: SIG_IGN installs no handler code; the previous disposition is restored.
        let previous = unsafe { signal(Signal::SIGTTOU, SigHandler::SigIgn) };
        let _ = nix::unistd::tcsetpgrp(std::io::stdin().as_fd(), ours);
        if let Ok(previous) = previous {
            // SAFETY: restores the disposition that was in place before.
            let _ = unsafe { signal(Signal::SIGTTOU, previous) };
        }
    }
}
