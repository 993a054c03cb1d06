//! Child processes inside a namespace: `setns` between fork and exec.

use std::ffi::OsStr;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

use nix::sched::{setns, CloneFlags};

use crate::{Error, NetNs};

/// Makes a [`Command`] start its child inside a network namespace.
///
/// The child calls `setns(2)` between fork and exec (a raw syscall, nothing else), so the
/// parent's threads never change namespace. Equivalent: `ip netns exec NAME PROGRAM`.
pub trait CommandExt {
    /// Runs the child in `netns`. The namespace fd is duplicated and kept by the command.
    fn netns(&mut self, netns: &NetNs) -> Result<&mut Self, Error>;
}

impl CommandExt for Command {
    fn netns(&mut self, netns: &NetNs) -> Result<&mut Self, Error> {
        let fd = netns.try_clone_fd()?;
        let hook = move || {
            // no allocation here: setns is one syscall, Errno -> io::Error is a raw code
            setns(&fd, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
        };
        // SAFETY: the hook runs in the forked child before exec and only makes the setns
        // syscall on an fd it owns; it allocates nothing and takes no lock.
        unsafe {
            self.pre_exec(hook);
        }
        Ok(self)
    }
}

impl NetNs {
    /// A [`Command`] for `program` that runs inside this namespace.
    ///
    /// Equivalent: `ip netns exec NAME PROGRAM`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Result<Command, Error> {
        let mut cmd = Command::new(program);
        cmd.netns(self)?;
        Ok(cmd)
    }
}
