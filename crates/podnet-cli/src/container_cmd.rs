//! `create`, `start`, `stop` and `rm` print what podman 4.3 prints: `create` the new
//! container's full ID, the others each name or ID as it was given, one line per container
//! done (`start` of a running container prints nothing). Every name is looked up before
//! anything changes, so one unknown name changes nothing; after that each container's
//! failure is its own `podnet: error:` line and the others go on. Exit codes are podman's:
//! 125, and for `rm` 1 for an unknown container and 2 for a running one without `--force`.

use std::process::ExitCode;

use podnet::{Backend, ContainerRecord, ContainerSpec, Error, Runtime, RuntimeError};

use crate::output::{emit, error_line};
use crate::run::CliError;

/// `podnet create`: the new container's full ID.
pub fn create(rt: &Runtime<Box<dyn Backend>>, spec: &ContainerSpec) -> Result<ExitCode, CliError> {
    let record = rt.create(spec)?;
    emit(&format!("{}\n", record.id));
    Ok(ExitCode::SUCCESS)
}

/// `podnet start`: each container set up; one already running is left as it is and not
/// printed (podman 4.3 prints only the containers it started).
pub fn start(rt: &Runtime<Box<dyn Backend>>, names: &[String]) -> Result<ExitCode, CliError> {
    let found = lookup_all(rt, names)?;
    let running: Vec<bool> = found.iter().map(|c| c.running).collect();
    Ok(each(
        names,
        |_| 125,
        |i, name| {
            if running[i] {
                return Ok(false);
            }
            rt.setup(name).map(|_| true)
        },
    ))
}

/// `podnet stop`: each container's network torn down (a stopped one is printed too).
pub fn stop(rt: &Runtime<Box<dyn Backend>>, names: &[String]) -> Result<ExitCode, CliError> {
    lookup_all(rt, names)?;
    Ok(each(
        names,
        |_| 125,
        |_, name| rt.teardown(name).map(|_| true),
    ))
}

/// `podnet rm`: each container removed; with `force` a running one is stopped first and an
/// unknown name is no error (podman 4.3's `rm -f` of an unknown and a known name removes
/// neither, exit 0: podnet removes the known one).
pub fn rm(
    rt: &Runtime<Box<dyn Backend>>,
    names: &[String],
    force: bool,
) -> Result<ExitCode, CliError> {
    if !force {
        lookup_all(rt, names).map_err(|error| CliError::Coded {
            code: rm_code(&error),
            source: error,
        })?;
    }
    Ok(each(names, rm_code, |_, name| {
        match rt.remove(name, force) {
            Ok(()) => Ok(true),
            Err(Error::Runtime(RuntimeError::NoSuchContainer(_))) if force => Ok(false),
            Err(e) => Err(e),
        }
    }))
}

/// Every container, before anything is done: the first unknown name is the error.
fn lookup_all(
    rt: &Runtime<Box<dyn Backend>>,
    names: &[String],
) -> Result<Vec<ContainerRecord>, Error> {
    names.iter().map(|name| rt.container(name)).collect()
}

/// Runs `act` on each name in order: prints the name when it did something, a failure as
/// its own error line; the exit code is the last failure's (`code`), else success.
fn each(
    names: &[String],
    code: fn(&Error) -> u8,
    mut act: impl FnMut(usize, &str) -> Result<bool, Error>,
) -> ExitCode {
    let mut exit = ExitCode::SUCCESS;
    for (i, name) in names.iter().enumerate() {
        match act(i, name) {
            Ok(true) => emit(&format!("{name}\n")),
            Ok(false) => {}
            Err(e) => {
                error_line(&e);
                exit = ExitCode::from(code(&e));
            }
        }
    }
    exit
}

/// podman's exit codes of `rm`: 1 for a container that does not exist, 2 for one running.
fn rm_code(error: &Error) -> u8 {
    match error {
        Error::Runtime(RuntimeError::NoSuchContainer(_)) => 1,
        Error::Runtime(RuntimeError::Running(_)) => 2,
        _ => 125,
    }
}
