//! A consumer of the podnet facade, without privileges: a network and a container recorded
//! under a temporary directory (nothing is set up, so no root is needed), inspected and
//! removed.
// structs are set field by field, the way that keeps compiling when they are #[non_exhaustive]
#![allow(clippy::field_reassign_with_default)]

use std::process::ExitCode;

use podnet::{ContainerSpec, Netavark, Network, NetworkRequest, Runtime, RuntimeConfig};

fn main() -> ExitCode {
    let root = std::env::temp_dir().join(format!("consumer-podnet-{}", std::process::id()));
    let outcome = run(&root);
    let _ = std::fs::remove_dir_all(&root);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podnet consumer: {}", podnet::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(root: &std::path::Path) -> Result<(), podnet::Error> {
    let backend = Netavark::new(root.join("netavark"))?;
    let rt = Runtime::new(RuntimeConfig::under(root), backend)?;
    let mut net = Network::default();
    net.name = "consumer-net".into();
    let net = rt.networks().create(net)?;
    println!("podnet: network {} with {:?}", net.name, net.subnets);
    let mut spec = ContainerSpec::default();
    spec.name = "consumer-c".into();
    spec.networks = vec![NetworkRequest::new("consumer-net")];
    let record = rt.create(&spec)?;
    assert!(record.networks.contains_key("consumer-net"));
    assert!(!record.running);
    println!("podnet: container {} ({})", record.name, &record.id[..12]);
    rt.remove("consumer-c", false)?;
    rt.networks().remove("consumer-net")?;
    assert!(rt.containers()?.is_empty());
    Ok(())
}

/// The example of podnet's crate documentation, compiled here against the public API
/// alone (it needs root and netavark to run: the crate's doctest is `no_run`, and this
/// program does not call it). Keep it equal to the one in `crates/podnet/src/lib.rs`.
#[allow(dead_code)]
fn crate_doc_example() -> Result<(), Box<dyn std::error::Error>> {
    // podman's files and directories; `RuntimeConfig::under(dir)` keeps everything in `dir`
    let rt = Runtime::new(RuntimeConfig::system()?, Netavark::new("/run/containers/networks")?)?;
    let mut web = ContainerSpec::new("web");
    web.networks = vec![NetworkRequest::new("podman")];
    web.ports = vec![podnet::portmap::parse_publish("127.0.0.1:8080:80")?];
    rt.create(&web)?;
    let web = rt.setup("web")?; // podman start: netns, addresses, veth, DNAT, hosts, resolv.conf
    println!("{:?}", web.netns_path);
    println!("{:?}", rt.inspect("web")?.networks.keys()); // podman inspect: NetworkSettings
    rt.teardown("web")?; // podman stop
    rt.remove("web", false)?;
    Ok(())
}
