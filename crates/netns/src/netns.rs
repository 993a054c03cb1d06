//! The `NetNs` handle: an open namespace fd plus its pin path; open, enter, inspect.

use std::any::Any;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::sys::statfs::{fstatfs, NSFS_MAGIC};

use crate::{create, remove, run_dir, Error};

/// The calling thread's network namespace; `/proc/self/ns/net` is the main thread's.
const CURRENT_THREAD_NETNS: &str = "/proc/thread-self/ns/net";

// ioctl requests of <linux/nsfs.h>: NSIO = 0xb7
const NS_GET_USERNS: libc::c_ulong = nix::request_code_none!(0xb7, 0x1) as libc::c_ulong;
const NS_GET_NSTYPE: libc::c_ulong = nix::request_code_none!(0xb7, 0x3) as libc::c_ulong;

/// A network namespace: an open fd of it plus the path it was opened from (its pin).
///
/// Dropping a `NetNs` closes the fd only; the pin stays until [`NetNs::remove`] or
/// [`remove`](crate::remove()).
#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
    path: PathBuf,
}

impl NetNs {
    pub(crate) fn from_parts(fd: OwnedFd, path: PathBuf) -> Self {
        NetNs { fd, path }
    }

    /// Creates a namespace with a random name (`netns-<uuid>`) in [`run_dir()`].
    ///
    /// Equivalent: `ip netns add netns-<uuid>`.
    pub fn create() -> Result<NetNs, Error> {
        create::create_in(&run_dir()?, None)
    }

    /// Creates the namespace `name` in [`run_dir()`]; fails if it exists.
    ///
    /// Equivalent: `ip netns add NAME`.
    pub fn create_named(name: &str) -> Result<NetNs, Error> {
        create::create_in(&run_dir()?, Some(name))
    }

    /// Creates the namespace `name` pinned in `dir` (created when missing).
    ///
    /// Equivalent: `ip netns add NAME`, with `dir` in place of `/run/netns`.
    pub fn create_in(dir: impl AsRef<Path>, name: &str) -> Result<NetNs, Error> {
        create::create_in(dir.as_ref(), Some(name))
    }

    /// Creates a namespace with a random name (`netns-<uuid>`) pinned in `dir`.
    pub fn create_random_in(dir: impl AsRef<Path>) -> Result<NetNs, Error> {
        create::create_in(dir.as_ref(), None)
    }

    /// Opens an existing network namespace: a pin, or `/proc/PID/ns/net`.
    ///
    /// Equivalent: what `ip netns exec NAME` opens before it enters.
    pub fn open(path: impl AsRef<Path>) -> Result<NetNs, Error> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let fd = OwnedFd::from(file);
        let not_netns = || Error::NotANetns {
            path: path.to_path_buf(),
        };
        let fs = fstatfs(&fd).map_err(|_| not_netns())?;
        if fs.filesystem_type() != NSFS_MAGIC {
            return Err(not_netns());
        }
        // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd, which is open.
        let kind = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
        if kind != libc::CLONE_NEWNET {
            return Err(not_netns());
        }
        Ok(NetNs {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Opens the namespace pinned as `name` in [`run_dir()`] (`/run/netns` as root,
    /// `$XDG_RUNTIME_DIR/netns` rootless); `name` must be a plain file name.
    ///
    /// Equivalent: what `ip netns exec NAME` opens before it enters.
    pub fn open_by_name(name: &str) -> Result<NetNs, Error> {
        crate::name::validate(name)?;
        NetNs::open(run_dir()?.join(name))
    }

    /// The calling thread's own network namespace (`/proc/thread-self/ns/net`).
    ///
    /// On a [`run_in`](NetNs::run_in) thread this is the namespace entered, not the
    /// process's: `/proc/self/...` names the main thread, which never moves.
    pub fn current_thread() -> Result<NetNs, Error> {
        NetNs::open(CURRENT_THREAD_NETNS)
    }

    /// The path this namespace was created at or opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file name of the pin (what `ip netns list` shows).
    pub fn name(&self) -> Option<&str> {
        self.path.file_name().and_then(|n| n.to_str())
    }

    /// Runs `f` on a fresh OS thread that joined this namespace, and returns its result.
    ///
    /// The thread exits when `f` returns (it is never reused) and the calling thread never
    /// changes namespace. A panic in `f` comes back as [`Error::Panicked`].
    ///
    /// Equivalent: `ip netns exec NAME ...`, for code instead of a command.
    pub fn run_in<F, T>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("netns-run-in".into())
                .spawn_scoped(scope, || -> Result<T, Error> {
                    setns(&self.fd, CloneFlags::CLONE_NEWNET).map_err(|source| Error::Setns {
                        path: self.path.clone(),
                        source,
                    })?;
                    Ok(f())
                })
                .map_err(|source| Error::Thread {
                    path: self.path.clone(),
                    source,
                })?;
            match handle.join() {
                Ok(result) => result,
                Err(payload) => Err(Error::Panicked {
                    path: self.path.clone(),
                    message: panic_message(payload.as_ref()),
                }),
            }
        })
    }

    /// The user namespace that owns this network namespace (`ioctl(NS_GET_USERNS)`).
    pub fn owner_userns(&self) -> Result<OwnedFd, Error> {
        // SAFETY: NS_GET_USERNS takes no argument; on success it returns a new fd we own.
        let raw = unsafe { libc::ioctl(self.fd.as_raw_fd(), NS_GET_USERNS as _) };
        if raw < 0 {
            return Err(Error::OwnerUserns {
                path: self.path.clone(),
                source: Errno::last(),
            });
        }
        // SAFETY: `raw` is a fresh, valid fd returned by the kernel and owned by no one else.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    }

    /// Unmounts and removes this namespace's pin (see [`remove`](crate::remove())).
    ///
    /// Equivalent: `ip netns del NAME`.
    pub fn remove(self) -> Result<(), Error> {
        let NetNs { fd, path } = self;
        drop(fd);
        remove::remove(&path)
    }

    /// A duplicate of the namespace fd.
    pub fn try_clone_fd(&self) -> Result<OwnedFd, Error> {
        self.fd.try_clone().map_err(|source| Error::Dup {
            path: self.path.clone(),
            source,
        })
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_recovered() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&42u8), "non-string panic payload");
    }

    #[test]
    fn ioctl_numbers_match_linux_nsfs_h() {
        // _IO(0xb7, n) = (0xb7 << 8) | n
        assert_eq!(NS_GET_USERNS, 0xb701);
        assert_eq!(NS_GET_NSTYPE, 0xb703);
    }

    #[test]
    fn open_refuses_a_regular_file() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            NetNs::open(file.path()),
            Err(Error::NotANetns { .. })
        ));
    }

    #[test]
    fn open_of_a_missing_path_names_it() {
        let err = NetNs::open("/nonexistent/netns/x").unwrap_err();
        assert!(matches!(err, Error::Open { .. }));
        assert!(err.to_string().contains("/nonexistent/netns/x"), "{err}");
    }

    #[test]
    fn open_by_name_refuses_a_path_before_looking() {
        let err = NetNs::open_by_name("../etc").unwrap_err();
        assert!(matches!(err, Error::InvalidName { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "invalid network namespace name \"../etc\": contains `/`"
        );
    }

    #[test]
    fn current_thread_is_the_threads_namespace() {
        use std::os::unix::fs::MetadataExt;
        let ns = NetNs::current_thread().unwrap();
        assert_eq!(ns.path(), Path::new("/proc/thread-self/ns/net"));
        let st = nix::sys::stat::fstat(&ns).unwrap();
        let meta = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
        assert_eq!((st.st_dev, st.st_ino), (meta.dev(), meta.ino()));
    }

    #[test]
    fn open_accepts_own_netns_and_refuses_other_namespace_kinds() {
        let ns = NetNs::open("/proc/self/ns/net").unwrap();
        assert_eq!(ns.path(), Path::new("/proc/self/ns/net"));
        assert!(ns.owner_userns().is_ok());
        assert!(matches!(
            NetNs::open("/proc/self/ns/user"),
            Err(Error::NotANetns { .. })
        ));
    }
}
