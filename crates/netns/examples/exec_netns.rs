//! Run a command, and a closure, inside a pinned network namespace.
//!
//! Equivalent: `ip netns exec NAME PROGRAM ARGS...`.
//! Run: `sudo cargo run -p podnet-netns --example exec_netns -- /run/netns/NAME ip link`.

use netns::{CommandExt, NetNs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: exec_netns PIN PROGRAM [ARGS...]")?;
    let program = args
        .next()
        .ok_or("usage: exec_netns PIN PROGRAM [ARGS...]")?;
    let ns = NetNs::open(&path)?;
    // code: on a throwaway thread that joined the namespace
    let links = ns.run_in(|| std::fs::read_to_string("/proc/thread-self/net/dev"))??;
    eprintln!("{} interfaces", links.lines().count().saturating_sub(2));
    // a process: setns between fork and exec
    let status = std::process::Command::new(program)
        .args(args)
        .netns(&ns)?
        .status()?;
    std::process::exit(status.code().unwrap_or(1));
}
