//! Adds a network namespace to a conflist network, checks it, or deletes it again: what
//! `cnitool add|check|del NETWORK NETNS` (containernetworking/cni) does, with the network
//! read from a file instead of a directory.
//!
//! ```sh
//! ip netns add demo
//! CNI_PATH=/usr/lib/cni cargo run -p podnet-cni --example cnitool -- add my.conflist /run/netns/demo
//! CNI_PATH=/usr/lib/cni cargo run -p podnet-cni --example cnitool -- del my.conflist /run/netns/demo
//! ```
//!
//! Plugins are looked for in `CNI_PATH` (default: containers.conf's plugin directories); the
//! result cache is `CNI_CACHE_DIR` (default `/var/lib/cni`). The container id defaults to
//! the netns file name; the interface is `eth0`. Needs root, as the plugins do.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cni::{NetworkConfigList, Runtime, RuntimeConf};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, conflist, netns, rest @ ..] = args.as_slice() else {
        eprintln!("usage: cnitool add|check|del CONFLIST NETNS_PATH [CONTAINER_ID]");
        return ExitCode::from(2);
    };
    let container_id = match rest.first() {
        Some(id) => id.clone(),
        None => Path::new(netns)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    match run(command, Path::new(conflist), netns, &container_id) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // the error, then each cause (an io error behind a path, ...)
            let mut line = format!("cnitool: {e}");
            let mut cause = e.source();
            while let Some(c) = cause {
                line.push_str(&format!(": {c}"));
                cause = c.source();
            }
            eprintln!("{line}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    command: &str,
    conflist: &Path,
    netns: &str,
    container_id: &str,
) -> Result<(), Box<dyn Error>> {
    let list = NetworkConfigList::from_file(conflist)?;
    let plugin_dirs: Vec<PathBuf> = match std::env::var_os("CNI_PATH") {
        Some(path) => cni::split_path_list(&path),
        None => cni::DEFAULT_PLUGIN_DIRS.iter().map(PathBuf::from).collect(),
    };
    let cache_dir = std::env::var_os("CNI_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(cni::DEFAULT_CACHE_DIR));
    let runtime = Runtime::new(plugin_dirs).with_cache_dir(cache_dir);
    let rt = RuntimeConf::new(container_id, netns, "eth0");
    match command {
        "add" => {
            let result = runtime.add(&list, &rt)?;
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
        "check" => runtime.check(&list, &rt)?,
        "del" => runtime.del(&list, &rt)?,
        other => return Err(format!("unknown command {other:?}: use add, check or del").into()),
    }
    Ok(())
}
