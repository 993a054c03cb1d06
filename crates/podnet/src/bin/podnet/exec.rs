//! `podnet exec`: a command inside the container's network namespace (the caller's own
//! for a host-mode container), in a private mount
//! namespace where the container's hosts and resolv.conf are bind-mounted over /etc's, so
//! names resolve as they would in the container.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt as _;
use std::process::ExitCode;

use netns::NetNs;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use podnet::{ContainerRecord, Error, RuntimeError};

use crate::run::CliError;

/// Runs `command` in the container's network and prints nothing itself; the exit code is
/// the command's.
pub fn exec(record: &ContainerRecord, command: &[String]) -> Result<ExitCode, CliError> {
    if !record.running {
        return Err(Error::from(RuntimeError::NotRunning(record.name.clone())).into());
    }
    let (program, args) = command.split_first().ok_or_else(|| CliError::Argument {
        what: "command",
        value: String::new(),
        why: "empty".into(),
    })?;
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
    cmd.args(args);
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
    let status = cmd.status().map_err(|source| CliError::Exec {
        container: record.name.clone(),
        command: command.join(" "),
        source,
    })?;
    let code = status
        .code()
        .or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            status.signal().map(|s| 128 + s)
        })
        .unwrap_or(125);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(125)))
}
