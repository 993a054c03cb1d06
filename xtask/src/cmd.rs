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

/// Runs a command, echoing its stdout live while also returning it (so test counts can be
/// parsed), plus whether it succeeded.
pub fn tee(mut command: Command) -> Result<(bool, String), String> {
    let line = display(&command);
    eprintln!("$ {line}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
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
    Ok((status.success(), captured))
}
