//! `cargo xtask demo`: the main job, run on this machine. It grows as the crates land.

use crate::cmd;

/// Installs what the demo needs, then runs the `podnet` demo binary's steps.
pub fn run() -> Result<(), String> {
    crate::setup::run(&crate::setup::Wanted { peers: false })?;
    let mut demo = cmd::cargo();
    demo.args(["run", "--quiet", "-p", "podnet", "--example", "demo"]);
    cmd::run(demo)
}
