//! Prints what rootless-detect sees for the running process: the
//! classification with its reason, the rootless uid, the runtime directory
//! and the user's subordinate ids.
//!
//! podman equivalent: `podman info --format '{{.Host.Security.Rootless}} {{.Host.IDMappings}}'`.
//!
//! Run: `cargo run -p podnet-rootless-detect --example whoami [USER]`

use rootless_detect::{available_id_maps, classify, rootless_uid, runtime_dir};

fn main() {
    match classify() {
        Ok(class) => println!("classification: {class}"),
        Err(err) => println!("classification failed: {err}"),
    }
    let uid = rootless_uid();
    println!("rootless uid:   {uid}");
    match runtime_dir() {
        Ok(dir) => println!("runtime dir:    {}", dir.display()),
        Err(err) => println!("runtime dir:    none: {err}"),
    }
    let user = std::env::args().nth(1).unwrap_or_else(|| uid.to_string());
    match available_id_maps(&user) {
        Ok(maps) => {
            println!("subuid maps of {user}: {:?}", maps.uid_maps);
            println!("subgid maps of {user}: {:?}", maps.gid_maps);
            for problem in &maps.problems {
                println!("warning: {problem}");
            }
        }
        Err(err) => println!("subordinate ids of {user}: {err}"),
    }
}
