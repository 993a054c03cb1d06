//! `cargo xtask demo`: the main job, run on this machine.
//!
//! Part 1 shows the leaf crates on their own: what rootless-detect sees here, `-p` specs
//! parsed and merged, and a netavark result captured on this machine kind turned into
//! `podman inspect` JSON. Part 2 drives the `podnet` CLI through two containers' network
//! life with the real netavark: names resolved by aardvark-dns, a published port reached from
//! the host, a second network connected and disconnected, a reload after a firewall flush,
//! inspect output, and a complete clean-up. Part 2 runs in a network namespace standing in for
//! the host (`podnet-demo`), so flushing "the host's" firewall never touches yours.

use std::path::Path;

use netstatus::{network_settings, Attachment, NetnsState, SettingsInput};

/// A real `netavark setup` result captured on this machine kind (see the netstatus test data).
const CAPTURED_SETUP: &str = include_str!("../../crates/netstatus/tests/data/setup-dualstack.json");

/// Installs what the demo needs, then runs both parts.
pub fn run() -> Result<(), String> {
    crate::setup::run(&crate::setup::Wanted { peers: false })?;
    leaf_crates()?;
    if !crate::is_root() {
        return Err(
            "part 2 needs root (namespaces, bridges, firewall rules): run `sudo cargo xtask demo`"
                .into(),
        );
    }
    let mut build = crate::cmd::cargo();
    build.args(["build", "--quiet", "-p", "podnet-cli", "--bin", "podnet"]);
    crate::cmd::run(build)?;
    let demo = crate::demo_host::DemoHost::new()?;
    let result = flows(&demo);
    let cleanup = demo.clean_up();
    result.and(cleanup)
}

fn flows(demo: &crate::demo_host::DemoHost) -> Result<(), String> {
    heading("podnet: a network and two containers (in the demo host netns `podnet-demo`)");
    demo.podnet(
        &["network", "create", "--subnet", "10.89.10.0/24", "demo-net"],
        12,
    )?;
    demo.podnet(
        &[
            "create",
            "web",
            "--network",
            "demo-net",
            "-p",
            "127.0.0.1:8080:80",
        ],
        0,
    )?;
    demo.podnet(&["create", "client", "--network", "demo-net"], 0)?;
    demo.podnet(&["start", "web", "client"], 0)?;
    demo.podnet(&["ps"], 0)?;

    heading("names resolve through aardvark-dns: client pings web");
    demo.podnet(
        &[
            "exec", "client", "--", "busybox", "ping", "-c", "1", "-W", "2", "web",
        ],
        0,
    )?;

    heading("a published port reached from the host: 127.0.0.1:8080 -> web:80");
    let listener = demo.listen("web", 80, "hello from web")?;
    demo.host(&["busybox", "nc", "-w", "2", "127.0.0.1", "8080"])?;
    drop(listener);

    heading("a second network, connected and disconnected");
    demo.podnet(
        &[
            "network",
            "create",
            "--subnet",
            "10.89.11.0/24",
            "demo-net2",
        ],
        0,
    )?;
    demo.podnet(&["connect", "demo-net2", "client"], 9)?;
    demo.podnet(
        &["exec", "client", "--", "ip", "-o", "-4", "addr", "show"],
        0,
    )?;
    demo.podnet(
        &[
            "exec",
            "client",
            "--",
            "cat",
            "/etc/hosts",
            "/etc/resolv.conf",
        ],
        0,
    )?;
    demo.podnet(&["disconnect", "demo-net2", "client"], 6)?;
    demo.podnet(
        &["exec", "client", "--", "ip", "-o", "-4", "addr", "show"],
        0,
    )?;

    heading("reload after a firewall flush restores the published port");
    demo.host(&["iptables", "-F"])?;
    demo.host(&["iptables", "-t", "nat", "-F"])?;
    let listener = demo.listen("web", 80, "hello again")?;
    // the port holder keeps 127.0.0.1:8080 bound (as podman's conmon does), so a connection
    // may be accepted; what matters is whether the container's answer comes back
    let after_flush = demo
        .host(&["busybox", "nc", "-w", "1", "127.0.0.1", "8080"])
        .unwrap_or_default();
    println!(
        "(after the flush: {})",
        if after_flush.contains("hello again") {
            "the container still answers?!"
        } else {
            "the container does not answer, as expected"
        }
    );
    demo.podnet(&["reload", "--all"], 7)?;
    let after_reload = demo.host(&["busybox", "nc", "-w", "2", "127.0.0.1", "8080"])?;
    if !after_reload.contains("hello again") {
        return Err(format!(
            "after `podnet reload --all` the published port did not answer with the container's text (got {after_reload:?})"
        ));
    }
    drop(listener);

    heading("inspect: podman's NetworkSettings");
    demo.podnet(&["inspect", "web"], 0)?;

    heading("clean-up");
    demo.podnet(&["rm", "--force", "web", "client"], 0)?;
    demo.podnet(&["network", "rm", "demo-net", "demo-net2"], 0)?;
    demo.host(&["ip", "-o", "link", "show"])?;
    Ok(())
}

fn heading(text: &str) {
    println!("\n== {text}");
}

fn leaf_crates() -> Result<(), String> {
    heading("rootless-detect: what this process is");
    match rootless_detect::classify() {
        Ok(c) => println!("{c}"),
        Err(e) => println!("could not classify: {e}"),
    }
    match rootless_detect::runtime_dir() {
        Ok(dir) => println!("runtime dir: {}", dir.display()),
        Err(e) => println!("runtime dir: {e}"),
    }

    heading("portmap: -p specs parsed, then merged into netavark's ranges");
    let specs = [
        "8080:80/tcp",
        "8081:81",
        "127.0.0.1:5353:53/udp,tcp",
        "[::1]:9000-9001:9000-9001",
        "90000:80",
    ];
    let mut parsed = Vec::new();
    for spec in specs {
        match portmap::parse_publish(spec) {
            Ok(mapping) => {
                let json = serde_json::to_string(&mapping).map_err(|e| e.to_string())?;
                println!("-p {spec:<28} -> {json}");
                parsed.push(mapping);
            }
            Err(e) => println!("-p {spec:<28} -> error: {}", podnet::error_chain(&e)),
        }
    }
    let canonical = portmap::canonicalize(&parsed).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&canonical).map_err(|e| e.to_string())?;
    println!("canonical form:\n{json}");

    heading("netstatus: a captured netavark result as `podman inspect` NetworkSettings");
    let status = netstatus::parse_setup_output("captured setup-dualstack.json", CAPTURED_SETUP)
        .map_err(|e| e.to_string())?;
    let networks: Vec<Attachment> = status
        .keys()
        .map(|name| Attachment::new(name.clone(), None, vec!["demo".into()]))
        .collect();
    let settings = network_settings(
        &SettingsInput::new(NetnsState::Own(Path::new("/run/netns/netns-demo")))
            .with_networks(&networks, &status)
            .with_port_mappings(&canonical),
    )
    .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&settings).map_err(|e| e.to_string())?
    );
    Ok(())
}
