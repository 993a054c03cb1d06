//! The runtime directory, with containers/storage's precedence and reasons.
//!
//! Rootless candidates, first usable wins:
//! 1. `$XDG_RUNTIME_DIR`, symlinks resolved;
//! 2. `/run/user/UID`;
//! 3. `$TMPDIR/storage-run-UID` (`/tmp` without `$TMPDIR`), created 0700 if missing.
//!
//! A candidate is usable when it is a directory owned by the process's
//! effective uid, the owner has rwx and neither group nor others may write.
//! Not rootless: `/run`.

use std::fmt;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::{Error, Host};

/// One rejected runtime directory candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CandidateFailure {
    /// Which rule produced the candidate (`$XDG_RUNTIME_DIR`, `/run/user/UID`, `$TMPDIR`).
    pub rule: &'static str,
    /// The candidate path, when the rule yielded one.
    pub path: Option<PathBuf>,
    /// Why it was rejected.
    pub reason: String,
}

/// Every rejected candidate, in the order tried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CandidateFailures(pub Vec<CandidateFailure>);

impl fmt::Display for CandidateFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match &c.path {
                Some(path) => write!(f, "{} {}: {}", c.rule, path.display(), c.reason)?,
                None => write!(f, "{}: {}", c.rule, c.reason)?,
            }
        }
        Ok(())
    }
}

/// Checks a candidate directory; `Err` holds the reason it is unusable.
fn check_dir(path: &Path, owner: u32) -> Result<(), String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err("does not exist".to_string())
        }
        Err(err) => return Err(format!("cannot stat: {err}")),
    };
    if !meta.is_dir() {
        return Err("is not a directory".to_string());
    }
    if meta.uid() != owner {
        return Err(format!("owned by uid {}, not {owner}", meta.uid()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o700 != 0o700 {
        return Err(format!("mode {mode:04o} lacks owner rwx"));
    }
    if mode & 0o022 != 0 {
        return Err(format!("mode {mode:04o} is writable by group or others"));
    }
    Ok(())
}

impl Host {
    /// The runtime directory: `rootful_runtime_dir` (`/run`) when not
    /// rootless, else [`Host::rootless_runtime_dir`] for the rootless uid.
    pub fn runtime_dir(&self) -> Result<PathBuf, Error> {
        if !self.classify()?.is_rootless() {
            return Ok(self.rootful_runtime_dir.clone());
        }
        let uid = self.rootless_uid()?;
        self.rootless_runtime_dir(uid)
    }

    /// The rootless runtime directory for `uid`, by containers/storage's
    /// precedence (see the module docs). Ownership is checked against the
    /// effective uid (what `stat` shows inside a user namespace), names use
    /// `uid`. The error lists every candidate and what it failed on.
    pub fn rootless_runtime_dir(&self, uid: u32) -> Result<PathBuf, Error> {
        let owner = self.euid;
        let mut failures = Vec::new();

        match &self.xdg_runtime_dir {
            None => failures.push(CandidateFailure {
                rule: "$XDG_RUNTIME_DIR",
                path: None,
                reason: "not set".to_string(),
            }),
            Some(value) => {
                let given = PathBuf::from(value);
                match std::fs::canonicalize(&given) {
                    Err(err) => failures.push(CandidateFailure {
                        rule: "$XDG_RUNTIME_DIR",
                        path: Some(given),
                        reason: format!("cannot resolve: {err}"),
                    }),
                    Ok(resolved) => match check_dir(&resolved, owner) {
                        Ok(()) => {
                            tracing::debug!(path = %resolved.display(), "runtime dir from $XDG_RUNTIME_DIR");
                            return Ok(resolved);
                        }
                        Err(reason) => failures.push(CandidateFailure {
                            rule: "$XDG_RUNTIME_DIR",
                            path: Some(resolved),
                            reason,
                        }),
                    },
                }
            }
        }

        let run_user = self.run_user_base.join(uid.to_string());
        match check_dir(&run_user, owner) {
            Ok(()) => {
                tracing::debug!(path = %run_user.display(), "runtime dir under /run/user");
                return Ok(run_user);
            }
            Err(reason) => failures.push(CandidateFailure {
                rule: "/run/user/UID",
                path: Some(run_user),
                reason,
            }),
        }

        let tmp = self
            .tmpdir
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"))
            .join(format!("storage-run-{uid}"));
        let created = std::fs::DirBuilder::new().mode(0o700).create(&tmp);
        let reason = match created {
            Err(err) if err.kind() != io::ErrorKind::AlreadyExists => {
                format!("cannot create: {err}")
            }
            _ => match check_dir(&tmp, owner) {
                Ok(()) => {
                    tracing::warn!(path = %tmp.display(), "using a temporary runtime dir");
                    return Ok(tmp);
                }
                Err(reason) => reason,
            },
        };
        failures.push(CandidateFailure {
            rule: "$TMPDIR",
            path: Some(tmp),
            reason,
        });
        Err(Error::NoRuntimeDir {
            uid,
            candidates: CandidateFailures(failures),
        })
    }
}

/// The runtime directory of the running process (see [`Host::runtime_dir`]).
pub fn runtime_dir() -> Result<PathBuf, Error> {
    Host::system().runtime_dir()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "runtime_dir_tests.rs"]
mod tests;
