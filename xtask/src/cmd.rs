//! Running commands: print what runs, fail with the command line in the message.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The `cargo` that invoked us (`$CARGO`), so toolchain overrides carry through.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(crate::project_root());
    command
}

/// A printable form of a command line.
pub fn display(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(shell_quote));
    parts.join(" ")
}

fn shell_quote(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs a command with inherited stdio; an error names the command line and its exit status.
pub fn run(mut command: Command) -> Result<(), String> {
    let line = display(&command);
    eprintln!("$ {line}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed with {status}"))
    }
}

/// Runs a command and returns its stdout; an error names the command line.
pub fn output(mut command: Command) -> Result<String, String> {
    let line = display(&command);
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{line}` failed with {}", out.status));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("`{line}` printed non-UTF-8 output"))
}

/// Runs a command, echoing its stdout and stderr live while also capturing both (so test
/// results and cargo's list of started test binaries can be read).
pub fn tee(command: Command) -> Result<crate::tally::RunOutput, String> {
    tee_with(command, None)
}

/// [`tee`] for a command that runs test binaries: each one is killed when it outlives the
/// [`watchdog::limit`](crate::watchdog::limit).
pub fn tee_tests(command: Command) -> Result<crate::tally::RunOutput, String> {
    tee_with(command, Some(crate::watchdog::limit()))
}

fn tee_with(
    mut command: Command,
    limit: Option<std::time::Duration>,
) -> Result<crate::tally::RunOutput, String> {
    let line = display(&command);
    eprintln!("$ {line}");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    let _watchdog = limit.map(|limit| crate::watchdog::Watchdog::start(child.id(), limit));
    let stderr = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            let mut captured = String::new();
            for text in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("{text}");
                captured.push_str(&text);
                captured.push('\n');
            }
            captured
        })
    });
    let mut captured = String::new();
    if let Some(stdout) = child.stdout.take() {
        for text in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{text}");
            captured.push_str(&text);
            captured.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{line}`: {e}"))?;
    let stderr = stderr
        .map(|t| t.join().unwrap_or_default())
        .unwrap_or_default();
    Ok(crate::tally::RunOutput {
        ok: status.success(),
        stdout: captured,
        stderr,
    })
}
