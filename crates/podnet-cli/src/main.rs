//! The `podnet` command line: a thin layer over the library's [`podnet::Runtime`].
//!
//! Commands print as podman prints them (tables for `ps` and `network ls`, JSON for
//! `inspect`, `--format` templates; `create` the container's ID, `start`, `stop` and `rm`
//! the names given, `network create` and `rm` the network's name); any failure, a usage error too, is one
//! `podnet: error: ...` line (with the causes) and exit code 125 like podman
//! (`network exists` answers with 0 or 1). `--root DIR` keeps everything (networks, state,
//! pins, container files, netavark's config) under DIR, apart from podman's files.

mod args;
mod container_cmd;
mod create_options;
mod exec;
mod network_cmd;
mod output;
mod ps;
mod run;
mod template;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Started as a rootless container's port forwarder (by `podnet start`, not by a user).
    if podnet::is_port_forwarder() {
        return match podnet::run_port_forwarder() {
            Ok(never) => match never {},
            Err(e) => fail(&e),
        };
    }
    // Before any thread starts: an unprivileged user runs the rest inside its user namespace.
    match podnet::reexec_in_user_namespace() {
        Ok(podnet::Reexec::NotNeeded) => {}
        Ok(podnet::Reexec::Exited(status)) => {
            let code = podnet::Reexec::exit_code(&status);
            return ExitCode::from(u8::try_from(code).unwrap_or(125));
        }
        Err(e) => return fail(&e),
    }
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    init_logging(cli.log_level.as_deref());
    match run::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            fail(&e);
            ExitCode::from(code)
        }
    }
}

fn init_logging(level: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // colour codes only for a person at a terminal, never into a pipe or a log file
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// `--help` and `--version` print and succeed; any other usage error is one
/// `podnet: error:` line (clap's first line, without its usage block) and exit 125.
fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // clap's first paragraph, on one line (a missing argument is named on the next line)
    let text = e.to_string();
    let first: Vec<&str> = text
        .trim_start()
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = first.join(" ");
    eprintln!("podnet: error: {}", line.trim_start_matches("error: "));
    ExitCode::from(125)
}

/// Prints the error line; exit code 125.
fn fail(error: &dyn std::error::Error) -> ExitCode {
    output::error_line(error);
    ExitCode::from(125)
}
