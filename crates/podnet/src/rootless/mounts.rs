//! Commands run inside the rootless netns, in a private mount namespace where `/run` and
//! `/var` are the rootless netns' own writable directories (what netavark, iptables and
//! aardvark-dns write there stays out of the user's namespace), the runtime directory
//! (with the netns pins) and `/run/systemd` are bound back, and resolv.conf points at
//! the user-mode stack's DNS forwarder.
//!
//! All paths are prepared before the fork; the `pre_exec` hook makes raw syscalls only:
//! `setns(net)`, `unshare(mnt)`, then the mounts below in order.
//!
//! ```text
//! /                      made rslave (host mounts still propagate in, nothing leaks out)
//! <dir>/run/<rt>         <- bind of the runtime dir (when it lies under /run)
//! <dir>/run/systemd      <- bind of /run/systemd (when it exists)
//! resolv.conf target     <- bind of <dir>/resolv.conf (target: end of the symlink chain,
//!                           rebased into <dir>/run when it lies under /run)
//! /var                   <- bind of <dir>/var (with var/run -> /run)
//! /run                   <- rbind of <dir>/run
//! ```

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::MsFlags;
use nix::sched::CloneFlags;

use super::error::RootlessError;
use super::holder::create_private_dir;
use super::resolv;

/// One `mount(2)` call.
#[derive(Debug)]
struct Step {
    source: Option<CString>,
    target: CString,
    flags: MsFlags,
}

/// Where things are, for [`command`].
#[derive(Debug)]
pub(crate) struct Layout<'a> {
    /// The rootless netns state directory (holds `run/`, `var/`, `resolv.conf`).
    pub dir: &'a Path,
    /// The user's runtime directory.
    pub runtime_dir: &'a Path,
    /// The host's resolv.conf path (normally `/etc/resolv.conf`).
    pub resolv_conf: &'a Path,
}

fn cstring(path: &Path) -> Result<CString, RootlessError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| RootlessError::File {
        action: "use path containing NUL",
        path: path.to_path_buf(),
        source: std::io::Error::from_raw_os_error(libc::EINVAL),
    })
}

fn mkdir(path: &Path) -> Result<(), RootlessError> {
    create_private_dir(path)
}

fn touch(path: &Path) -> Result<(), RootlessError> {
    if let Some(parent) = path.parent() {
        mkdir(parent)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(drop)
        .map_err(|source| RootlessError::File {
            action: "create",
            path: path.to_path_buf(),
            source,
        })
}

/// Computes the mount steps (creating the directories and files they need).
fn plan(layout: &Layout<'_>) -> Result<Vec<Step>, RootlessError> {
    let run = layout.dir.join("run");
    let var = layout.dir.join("var");
    mkdir(&run)?;
    mkdir(&var)?;
    let var_run = var.join("run");
    if std::fs::symlink_metadata(&var_run).is_err() {
        std::os::unix::fs::symlink("/run", &var_run).map_err(|source| RootlessError::File {
            action: "create symlink",
            path: var_run.clone(),
            source,
        })?;
    }
    let bind = |source: &Path, target: &Path, recursive: bool| -> Result<Step, RootlessError> {
        let mut flags = MsFlags::MS_BIND;
        if recursive {
            flags |= MsFlags::MS_REC;
        }
        Ok(Step {
            source: Some(cstring(source)?),
            target: cstring(target)?,
            flags,
        })
    };
    let mut steps = vec![Step {
        source: None,
        target: cstring(Path::new("/"))?,
        flags: MsFlags::MS_REC | MsFlags::MS_SLAVE,
    }];
    if let Ok(rel) = layout.runtime_dir.strip_prefix("/run") {
        let target = run.join(rel);
        mkdir(&target)?;
        steps.push(bind(layout.runtime_dir, &target, true)?);
    }
    let systemd = Path::new("/run/systemd");
    let has_systemd = systemd.is_dir();
    if has_systemd {
        let target = run.join("systemd");
        mkdir(&target)?;
        steps.push(bind(systemd, &target, true)?);
    }
    let ours = layout.dir.join("resolv.conf");
    let end = resolv::resolve_chain(layout.resolv_conf);
    let target = match end.strip_prefix("/run") {
        Ok(rel) if has_systemd && rel.starts_with("systemd") => {
            // Inside the bound-back /run/systemd: the file must exist there already.
            end.exists().then(|| run.join(rel))
        }
        Ok(rel) => {
            let t = run.join(rel);
            touch(&t)?;
            Some(t)
        }
        Err(_) => end.is_file().then_some(end.clone()),
    };
    match target {
        Some(t) => steps.push(bind(&ours, &t, false)?),
        None => tracing::warn!(
            resolv_conf = %end.display(),
            "resolv.conf target does not exist; the rootless netns keeps the host's"
        ),
    }
    steps.push(bind(&var, Path::new("/var"), true)?);
    steps.push(bind(&run, Path::new("/run"), true)?);
    Ok(steps)
}

/// Enters `netns` and a new mount namespace laid out by `steps`: raw syscalls only, so
/// it is safe between fork and exec; on a thread, the thread's `fs` is unshared with it.
fn apply(netns: &OwnedFd, steps: &[Step]) -> std::io::Result<()> {
    nix::sched::setns(netns, CloneFlags::CLONE_NEWNET)?;
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)?;
    for step in steps {
        nix::mount::mount(
            step.source.as_deref(),
            step.target.as_c_str(),
            None::<&std::ffi::CStr>,
            step.flags,
            None::<&std::ffi::CStr>,
        )?;
    }
    Ok(())
}

/// Makes `cmd` run inside the network namespace `netns` and a private mount namespace
/// laid out as described in the module documentation.
pub(crate) fn enter(
    cmd: &mut Command,
    netns: OwnedFd,
    layout: &Layout<'_>,
) -> Result<(), RootlessError> {
    let steps = plan(layout)?;
    // SAFETY: between fork and exec in the single-threaded child; `apply` makes only raw
    // syscalls (setns, unshare, mount) on values prepared before the fork.
    unsafe {
        cmd.pre_exec(move || apply(&netns, &steps));
    }
    Ok(())
}

/// Runs `f` on a fresh thread that entered `netns` and a private mount namespace laid
/// out as described in the module documentation; processes `f` starts inherit both.
/// The thread exits afterwards, so no other code ever runs in those namespaces.
pub(crate) fn run<F, T>(netns: OwnedFd, layout: &Layout<'_>, f: F) -> Result<T, RootlessError>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    let steps = plan(layout)?;
    let dir = layout.dir.to_path_buf();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            apply(&netns, &steps).map_err(|source| RootlessError::EnterNetNs { dir, source })?;
            Ok(f())
        });
        match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Where `resolv.conf` content for the netns is kept.
pub(crate) fn resolv_path(dir: &Path) -> PathBuf {
    dir.join("resolv.conf")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn targets(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| s.target.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn plan_binds_run_last_and_rebases_resolv_conf_under_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        let etc = tmp.path().join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        let resolv = etc.join("resolv.conf");
        // A stub resolver file under /run that this machine does not have.
        std::os::unix::fs::symlink("/run/pntrl-absent/stub-resolv.conf", &resolv).unwrap();
        let steps = plan(&Layout {
            dir: &dir,
            runtime_dir: Path::new("/run/user/4242"),
            resolv_conf: &resolv,
        })
        .unwrap();
        let t = targets(&steps);
        let run = dir.join("run");
        assert_eq!(t.first().unwrap(), "/");
        assert_eq!(steps[0].flags, MsFlags::MS_REC | MsFlags::MS_SLAVE);
        assert_eq!(t[1], run.join("user/4242").to_str().unwrap());
        let rebased = run.join("pntrl-absent/stub-resolv.conf");
        assert!(t.contains(&rebased.to_str().unwrap().to_string()), "{t:?}");
        assert!(rebased.is_file(), "mount target not created");
        assert_eq!(&t[t.len() - 2..], ["/var", "/run"]);
        assert!(steps.last().unwrap().flags.contains(MsFlags::MS_REC));
        assert_eq!(
            std::fs::read_link(dir.join("var/run")).unwrap(),
            Path::new("/run")
        );
    }

    #[test]
    fn plan_binds_a_plain_resolv_conf_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let resolv = tmp.path().join("resolv.conf");
        std::fs::write(&resolv, "nameserver 192.0.2.53\n").unwrap();
        let steps = plan(&Layout {
            dir: &tmp.path().join("state"),
            runtime_dir: Path::new("/home/u/rt"),
            resolv_conf: &resolv,
        })
        .unwrap();
        let t = targets(&steps);
        assert!(t.contains(&resolv.to_str().unwrap().to_string()), "{t:?}");
        // A runtime dir outside /run needs no bind: it stays reachable.
        assert!(!t.iter().any(|x| x.contains("/home/u/rt")), "{t:?}");
    }
}
