//! Rootless container networking as an unprivileged user (run by `cargo xtask
//! integration` as `podnet-ci`): netavark `--rootless=true` inside the rootless netns,
//! containers reaching the host's loopback and each other by name, published ports
//! through per-container forwarders, reload after a flushed firewall.
//!
//! Each test re-runs itself inside a user namespace holder (see `rootless_support`).
#![allow(clippy::unwrap_used)]

#[path = "../../podnet/tests/rootless_support/mod.rs"]
mod rootless_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use podnet::{run_port_forwarder, ForwardProtocol, PortForward, RootlessNetNs};
use rootless_support::*;

/// `inside(test)` for the tests that need netavark: a loud skip (a failure in CI) when it is
/// not installed.
fn inside_with_netavark(test: &str) -> Option<PathBuf> {
    if skip_if_cannot_run(test) {
        return None;
    }
    let dir = inside(test)?;
    if !Path::new(NETAVARK).exists() {
        testkit::skip(test, &format!("{NETAVARK} is not installed"));
        return None;
    }
    Some(dir)
}

/// netavark (with aardvark-dns) behind the rootless backend adapter, config under `dir`.
fn rootless_netavark(dir: &Path, ns: &RootlessNetNs) -> podnet::RootlessBackend<podnet::Netavark> {
    podnet::RootlessBackend::new(
        podnet::Netavark::with_binaries(
            NETAVARK,
            Some(PathBuf::from("/usr/lib/podman/aardvark-dns")),
            dir.join("netavark-config"),
        )
        .rootless(true),
        ns.clone(),
    )
}

#[test]
fn container_behind_netavark_in_the_rootless_netns_reaches_host_loopback() {
    if skip_if_cannot_run("container_behind_netavark_in_the_rootless_netns_reaches_host_loopback") {
        return;
    }
    let Some(dir) = inside("container_behind_netavark_in_the_rootless_netns_reaches_host_loopback")
    else {
        return;
    };
    if !Path::new(NETAVARK).exists() {
        testkit::skip(
            "container_behind_netavark_in_the_rootless_netns_reaches_host_loopback",
            &format!("{NETAVARK} is not installed"),
        );
        return;
    }
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let id = "c0ffee01";
    let rootless = ns.join(id).unwrap();
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-c1").unwrap();
    let options = netavark_options(id, "pntrl-c1", 77, 2, false);
    let out = run_netavark(&ns, &dir, "setup", container.path(), &options);
    assert!(out.contains("10.89.77.2"), "{out}");

    // container -> bridge in the rootless netns -> NAT -> pasta -> host loopback.
    let gw = default_gateway(&rootless);
    assert_eq!(
        default_gateway(container.path()),
        Ipv4Addr::new(10, 89, 77, 1)
    );
    let reply = connect_from(container.path(), SocketAddr::from((gw, port))).unwrap();
    assert!(reply.starts_with("pong"), "{reply}");

    // netavark's own files went to the private /run, not the user's namespace.
    assert!(
        !Path::new("/run/xtables.lock").exists() || dir.join("state/run/xtables.lock").exists()
    );

    run_netavark(&ns, &dir, "teardown", container.path(), &options);
    container.remove().unwrap();
    assert!(ns.leave(id).unwrap());
    assert!(!rootless.exists());
}

#[test]
fn two_rootless_containers_reach_each_other_by_name() {
    if skip_if_cannot_run("two_rootless_containers_reach_each_other_by_name") {
        return;
    }
    let Some(dir) = inside("two_rootless_containers_reach_each_other_by_name") else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let pins = dir.join("ctr-pins");
    let mut containers = Vec::new();
    for (id, name, host) in [("d00d0001", "pntrl-a", 2u8), ("d00d0002", "pntrl-b", 3)] {
        ns.join(id).unwrap();
        let netns = netns::NetNs::create_in(&pins, name).unwrap();
        let options = netavark_options(id, name, 78, host, true);
        run_netavark(&ns, &dir, "setup", netns.path(), &options);
        containers.push((id, netns, options));
    }
    listen_in(containers[1].1.path(), "b");
    let gw = Ipv4Addr::new(10, 89, 78, 1);
    let b = resolve_a(containers[0].1.path(), gw, "pntrl-b");
    assert_eq!(b, Some(Ipv4Addr::new(10, 89, 78, 3)));
    let reply = connect_from(containers[0].1.path(), SocketAddr::from((b.unwrap(), 8080))).unwrap();
    assert_eq!(reply, "hello from b\n");

    for (id, netns, options) in containers {
        run_netavark(&ns, &dir, "teardown", netns.path(), &options);
        netns.remove().unwrap();
        ns.leave(id).unwrap();
    }
    assert!(ns.lock().unwrap().status().is_none());
}

/// The port forwarder entry point, when this binary is started as one (as the CLI's
/// hidden subcommand would be); otherwise checks that a forwarder without its spec
/// refuses to start.
#[test]
fn port_forwarder_main() {
    if podnet::is_port_forwarder() {
        let err = run_port_forwarder().unwrap_err();
        panic!("port forwarder failed: {err}");
    }
    let err = run_port_forwarder().unwrap_err().to_string();
    assert!(err.contains("_PODNET_PORT_FORWARDER"), "{err}");
}

#[test]
fn published_ports_reach_containers_and_change_independently() {
    let Some(dir) =
        inside_with_netavark("published_ports_reach_containers_and_change_independently")
    else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let pins = dir.join("ctr-pins");
    let mut containers = Vec::new();
    for (id, name, host, tag) in [
        ("beef0001", "pntrl-p1", 2u8, "p1"),
        ("beef0002", "pntrl-p2", 3, "p2"),
    ] {
        ns.join(id).unwrap();
        let netns = netns::NetNs::create_in(&pins, name).unwrap();
        let options = netavark_options(id, name, 79, host, false);
        run_netavark(&ns, &dir, "setup", netns.path(), &options);
        listen_in(netns.path(), tag);
        containers.push((id, netns, options, host));
    }
    let port_of = |host: u8, host_port: u16| PortForward {
        host_ip: Ipv4Addr::LOCALHOST.into(),
        host_port,
        container_ip: Ipv4Addr::new(10, 89, 79, host).into(),
        container_port: 8080,
        protocol: ForwardProtocol::Tcp,
    };
    let (p1, p2) = (free_port(), free_port());
    let f1 = ns
        .lock()
        .unwrap()
        .forward_ports("beef0001", forwarder_command(), &[port_of(2, p1)])
        .unwrap()
        .unwrap();
    let f2 = ns
        .lock()
        .unwrap()
        .forward_ports("beef0002", forwarder_command(), &[port_of(3, p2)])
        .unwrap()
        .unwrap();
    let on = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(ask(on(p1)).unwrap(), "hello from p1\n");
    assert_eq!(ask(on(p2)).unwrap(), "hello from p2\n");

    // Unpublishing p1 leaves p2's forwarder (same process) working.
    assert!(ns.lock().unwrap().unforward_ports("beef0001").unwrap());
    assert!(wait_dead(f1));
    assert!(ask(on(p1)).is_err(), "port {p1} still published");
    assert_eq!(ns.lock().unwrap().forwarder_pid("beef0002"), Some(f2));
    assert_eq!(ask(on(p2)).unwrap(), "hello from p2\n");

    // Teardown of the last member stops the remaining forwarder with everything else.
    for (id, netns, options, _) in containers {
        run_netavark(&ns, &dir, "teardown", netns.path(), &options);
        netns.remove().unwrap();
        ns.leave(id).unwrap();
    }
    assert!(wait_dead(f2));
    assert!(ask(on(p2)).is_err());
    assert!(!dir.join("state/ports").exists());
}

#[test]
fn reload_after_the_rootless_firewall_is_flushed_restores_everything() {
    if skip_if_cannot_run("reload_after_the_rootless_firewall_is_flushed_restores_everything") {
        return;
    }
    let Some(dir) = inside("reload_after_the_rootless_firewall_is_flushed_restores_everything")
    else {
        return;
    };
    if !Path::new(NETAVARK).exists() {
        testkit::skip(
            "reload_after_the_rootless_firewall_is_flushed_restores_everything",
            &format!("{NETAVARK} is not installed"),
        );
        return;
    }
    let host_port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let id = "f1a50001";
    let rootless = ns.join(id).unwrap();
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-r1").unwrap();
    let options = netavark_options(id, "pntrl-r1", 81, 2, false);
    run_netavark(&ns, &dir, "setup", container.path(), &options);
    listen_in(container.path(), "r1");
    let published = free_port();
    let forward = [PortForward {
        host_ip: Ipv4Addr::LOCALHOST.into(),
        host_port: published,
        container_ip: Ipv4Addr::new(10, 89, 81, 2).into(),
        container_port: 8080,
        protocol: ForwardProtocol::Tcp,
    }];
    let forwarder = ns
        .lock()
        .unwrap()
        .forward_ports(id, forwarder_command(), &forward)
        .unwrap()
        .unwrap();
    let on = SocketAddr::from((Ipv4Addr::LOCALHOST, published));
    let gw = SocketAddr::from((default_gateway(&rootless), host_port));

    // Flush every firewall rule of the rootless netns (what `nft flush ruleset` or a
    // firewalld reload inside it would do).
    let run_in_rootless = |args: &[&str]| nft_in(&ns, args);
    assert!(run_in_rootless(&["list", "ruleset"]).contains("NETAVARK"));
    run_in_rootless(&["flush", "ruleset"]);
    assert!(!run_in_rootless(&["list", "ruleset"]).contains("NETAVARK"));

    // Reload, as podman does it: teardown (errors ignored), setup with the same static
    // address (podman 4.3 fails here with "requested ip address ... is already
    // allocated"), then the ports again.
    let _ = {
        let locked = ns.lock().unwrap();
        let mut cmd = locked.command(NETAVARK).unwrap();
        // the PATH podman gives netavark (the user's login PATH has no sbin directory)
        cmd.env(
            "PATH",
            podnet::netavark_path(std::env::var_os("PATH").as_deref()),
        );
        std::fs::write(dir.join("netavark-in.json"), &options).unwrap();
        cmd.arg("--config")
            .arg(dir.join("netavark"))
            .args(["--rootless=true", "teardown"])
            .arg(container.path())
            .stdin(std::fs::File::open(dir.join("netavark-in.json")).unwrap())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
    };
    let out = run_netavark(&ns, &dir, "setup", container.path(), &options);
    assert!(out.contains("10.89.81.2"), "{out}");
    assert!(run_in_rootless(&["list", "ruleset"]).contains("NETAVARK"));
    let again = ns
        .lock()
        .unwrap()
        .forward_ports(id, forwarder_command(), &forward)
        .unwrap()
        .unwrap();
    assert!(wait_dead(forwarder));
    assert_ne!(again, forwarder);
    assert_eq!(ask(on).unwrap(), "hello from r1\n");
    assert!(connect_from(container.path(), gw)
        .unwrap()
        .starts_with("pong"));

    run_netavark(&ns, &dir, "teardown", container.path(), &options);
    container.remove().unwrap();
    assert!(ns.leave(id).unwrap());
    assert!(wait_dead(again));
}

#[test]
fn netavark_backend_runs_inside_the_rootless_netns_through_run() {
    let Some(dir) =
        inside_with_netavark("netavark_backend_runs_inside_the_rootless_netns_through_run")
    else {
        return;
    };
    use podnet::Backend;
    let port = loopback_server();
    let backend = podnet::Netavark::with_binaries(
        NETAVARK,
        Some(PathBuf::from("/usr/lib/podman/aardvark-dns")),
        dir.join("netavark-config"),
    )
    .rootless(true);
    let ns = RootlessNetNs::new(config(&dir));
    let id = "0b0e0001";
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-k1").unwrap();
    let options: podnet::NetworkOptions =
        serde_json::from_str(&netavark_options(id, "pntrl-k1", 82, 2, true)).unwrap();

    // What a rootless setup flow does: lock, ensure, backend inside, then membership.
    let rootless = {
        let mut locked = ns.lock().unwrap();
        let rootless = locked.ensure().unwrap();
        let status = locked
            .run(|| backend.setup(container.path(), &options))
            .unwrap()
            .unwrap();
        assert!(format!("{status:?}").contains("10.89.82.2"), "{status:?}");
        locked.add_member(id).unwrap();
        rootless
    };
    // The bridge is in the rootless netns, not in the user's (host) network namespace.
    assert!(!Path::new("/sys/class/net/pntrl82").exists());
    let gw = SocketAddr::from((default_gateway(&rootless), port));
    assert!(connect_from(container.path(), gw)
        .unwrap()
        .starts_with("pong"));
    // A panic inside `run` reaches the caller.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ns.lock().unwrap().run(|| panic!("inside")).unwrap();
    }));
    assert!(caught.is_err());

    {
        let mut locked = ns.lock().unwrap();
        locked
            .run(|| backend.teardown(container.path(), &options))
            .unwrap()
            .unwrap();
        locked.remove_member(id).unwrap();
        locked.teardown().unwrap();
    }
    container.remove().unwrap();
    assert!(!rootless.exists());
}

#[test]
fn rootless_backend_adapter_runs_netavark_inside_and_heals_pasta() {
    let Some(dir) =
        inside_with_netavark("rootless_backend_adapter_runs_netavark_inside_and_heals_pasta")
    else {
        return;
    };
    use podnet::Backend;
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let backend = rootless_netavark(&dir, &ns);
    let id = "ada97e01";
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-ad1").unwrap();
    let options: podnet::NetworkOptions =
        serde_json::from_str(&netavark_options(id, "pntrl-ad1", 83, 2, true)).unwrap();

    let rootless = ns.join(id).unwrap();
    let status = backend.setup(container.path(), &options).unwrap();
    assert!(format!("{status:?}").contains("10.89.83.2"), "{status:?}");
    let gw = SocketAddr::from((default_gateway(&rootless), port));
    assert!(connect_from(container.path(), gw)
        .unwrap()
        .starts_with("pong"));

    // pasta dies; the next backend call heals it before running netavark.
    let pasta = ns.lock().unwrap().status().unwrap().helper_pid;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pasta as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_dead(pasta));
    backend.teardown(container.path(), &options).unwrap();
    backend.setup(container.path(), &options).unwrap();
    let healed = ns.lock().unwrap().status().unwrap().helper_pid;
    assert_ne!(healed, pasta);
    assert!(connect_from(container.path(), gw)
        .unwrap()
        .starts_with("pong"));

    backend.teardown(container.path(), &options).unwrap();
    assert!(ns.leave(id).unwrap());
    assert!(!rootless.exists());
    // Tearing down again once the rootless netns is gone is a no-op.
    backend.teardown(container.path(), &options).unwrap();
    container.remove().unwrap();
}

/// A bridge network `pntrl-n<octet>` on 10.89.<octet>.0/24.
/// `nft ARGS` inside the rootless netns; its output.
fn nft_in(ns: &RootlessNetNs, args: &[&str]) -> String {
    let locked = ns.lock().unwrap();
    let out = locked
        .command("/usr/sbin/nft")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "nft {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn network(octet: u8) -> podnet::Network {
    {
        let mut v = podnet::Network::default();
        v.name = format!("pntrl-n{octet}");
        v.network_interface = format!("pntrl{octet}");
        v.dns_enabled = true;
        v.subnets = vec![podnet::Subnet::new(
            format!("10.89.{octet}.0/24").parse().unwrap(),
        )];
        v
    }
}

#[test]
fn runtime_flows_run_rootless_through_the_rootless_backend() {
    let Some(dir) = inside_with_netavark("runtime_flows_run_rootless_through_the_rootless_backend")
    else {
        return;
    };
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let backend = rootless_netavark(&dir, &ns);
    let runtime =
        podnet::Runtime::new(podnet::RuntimeConfig::under(dir.join("rt")), backend).unwrap();
    runtime.networks().create(network(84)).unwrap();
    runtime.networks().create(network(85)).unwrap();
    let spec = {
        let mut v = podnet::ContainerSpec::new("pntrl-web");
        v.networks = vec![podnet::NetworkRequest::new("pntrl-n84")];
        v
    };
    let id = runtime.create(&spec).unwrap().id;

    // The backend joins the rootless netns on setup; the caller releases after the last
    // teardown.
    let record = runtime.setup(&id).unwrap();
    let rootless = ns.config().pin_path();
    assert!(ns.lock().unwrap().members().unwrap().contains(&id));
    let netns = record.netns_path.clone().unwrap();
    assert!(
        format!("{:?}", record.network_status).contains("10.89.84."),
        "{record:?}"
    );
    let gw = SocketAddr::from((default_gateway(&rootless), port));
    assert!(connect_from(&netns, gw).unwrap().starts_with("pong"));

    let connected = runtime
        .connect(&id, &podnet::NetworkRequest::new("pntrl-n85"))
        .unwrap();
    assert!(format!("{:?}", connected.network_status).contains("10.89.85."));
    let disconnected = runtime.disconnect(&id, "pntrl-n84").unwrap();
    assert!(!format!("{:?}", disconnected.network_status).contains("10.89.84."));
    assert!(connect_from(&netns, gw).unwrap().starts_with("pong"));

    runtime.teardown(&id).unwrap();
    assert!(runtime.backend().release(&id).unwrap());
    assert!(!rootless.exists());
    runtime.remove(&id, true).unwrap();
}

/// A UDP echo inside `netns` on port 8081 answering "udp <payload>".
fn udp_echo_in(netns: &Path) {
    let ns = std::fs::File::open(netns).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 8081)).unwrap();
        tx.send(()).unwrap();
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let mut reply = b"udp ".to_vec();
            reply.extend_from_slice(&buf[..n]);
            let _ = socket.send_to(&reply, from);
        }
    });
    rx.recv().unwrap();
}

#[test]
fn published_udp_port_reaches_the_container() {
    let Some(dir) = inside_with_netavark("published_udp_port_reaches_the_container") else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let id = "0dd00001";
    ns.join(id).unwrap();
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-u1").unwrap();
    let options = netavark_options(id, "pntrl-u1", 86, 2, false);
    run_netavark(&ns, &dir, "setup", container.path(), &options);
    udp_echo_in(container.path());
    let published = {
        let probe = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        probe.local_addr().unwrap().port()
    };
    let forwarder = ns
        .lock()
        .unwrap()
        .forward_ports(
            id,
            forwarder_command(),
            &[PortForward {
                host_ip: Ipv4Addr::LOCALHOST.into(),
                host_port: published,
                container_ip: Ipv4Addr::new(10, 89, 86, 2).into(),
                container_port: 8081,
                protocol: ForwardProtocol::Udp,
            }],
        )
        .unwrap()
        .unwrap();
    // Two clients, each answered on its own session.
    for payload in ["one", "two"] {
        let client = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        client
            .send_to(payload.as_bytes(), (Ipv4Addr::LOCALHOST, published))
            .unwrap();
        let mut buf = [0u8; 64];
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("udp {payload}").as_bytes());
    }
    run_netavark(&ns, &dir, "teardown", container.path(), &options);
    container.remove().unwrap();
    assert!(ns.leave(id).unwrap());
    assert!(wait_dead(forwarder));
}

#[test]
fn failed_rootless_setup_rolls_back_membership_and_the_netns() {
    let Some(dir) =
        inside_with_netavark("failed_rootless_setup_rolls_back_membership_and_the_netns")
    else {
        return;
    };
    use podnet::Backend;
    let ns = RootlessNetNs::new(config(&dir));
    let backend = podnet::RootlessBackend::new(
        podnet::Netavark::with_binaries(NETAVARK, None, dir.join("netavark-config")).rootless(true),
        ns.clone(),
    );
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-f1").unwrap();
    // A static address outside the subnet: netavark refuses it.
    let bad =
        netavark_options("fa11ed01", "pntrl-f1", 87, 2, false).replace("10.89.87.2", "10.89.99.2");
    let options: podnet::NetworkOptions = serde_json::from_str(&bad).unwrap();
    let err = backend.setup(container.path(), &options).unwrap_err();
    assert!(format!("{err}").contains("netavark"), "{err}");
    assert!(ns.lock().unwrap().members().unwrap().is_empty());
    assert!(ns.lock().unwrap().status().is_none());
    assert!(!ns.config().pin_path().exists());
    container.remove().unwrap();
}

/// The podnet binary, which serves as the port forwarder (xtask copies it for the user).
fn podnet_bin() -> PathBuf {
    std::env::var_os("PODNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podnet")))
}

#[test]
fn runtime_reload_after_a_rootless_firewall_flush_restores_port_and_names() {
    let test = "runtime_reload_after_a_rootless_firewall_flush_restores_port_and_names";
    let Some(dir) = inside_with_netavark(test) else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let backend = rootless_netavark(&dir, &ns).with_forwarder(podnet_bin());
    let runtime =
        podnet::Runtime::new(podnet::RuntimeConfig::under(dir.join("rt")), backend).unwrap();
    let subnet = testkit::free_subnet_v4();
    let gateway = Ipv4Addr::from(u32::from(subnet.network()) + 1);
    runtime
        .networks()
        .create({
            let mut v = podnet::Network::default();
            v.name = "pntrl-reload".into();
            v.network_interface = format!("pntrlr{}", std::process::id() % 10_000);
            v.dns_enabled = true;
            v.subnets = vec![podnet::Subnet::new(subnet.into())];
            v
        })
        .unwrap();
    let port = testkit::free_port(testkit::Protocol::Tcp);
    let web = {
        let mut v = podnet::ContainerSpec::new("pntrl-rweb");
        v.networks = vec![podnet::NetworkRequest::new("pntrl-reload")];
        v.ports = vec![portmap::parse_publish(&format!("127.0.0.1:{port}:8080")).unwrap()];
        v
    };
    let client = {
        let mut v = podnet::ContainerSpec::new("pntrl-rclient");
        v.networks = vec![podnet::NetworkRequest::new("pntrl-reload")];
        v
    };
    let web = runtime.create(&web).unwrap().id;
    let client = runtime.create(&client).unwrap().id;
    let web_record = runtime.setup(&web).unwrap();
    let client_ns = runtime.setup(&client).unwrap().netns_path.unwrap();
    let web_ns = web_record.netns_path.clone().unwrap();
    listen_in(&web_ns, "rweb");
    let on = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let web_ip = resolve_a(&client_ns, gateway, "pntrl-rweb").expect("name before the flush");
    assert!(subnet.contains(&web_ip), "{web_ip}");

    let nft = |args: &[&str]| nft_in(&ns, args).to_lowercase();
    assert!(nft(&["list", "ruleset"]).contains("masquerade"));
    nft(&["flush", "ruleset"]);
    assert!(!nft(&["list", "ruleset"]).contains("masquerade"));

    for id in [&web, &client] {
        runtime.reload(id).unwrap();
    }
    let rules = nft(&["list", "ruleset"]);
    assert!(
        rules.contains("masquerade") && rules.contains(&subnet.to_string()),
        "{rules}"
    );
    assert_eq!(ask(on).unwrap(), "hello from rweb\n");
    assert_eq!(
        resolve_a(&client_ns, gateway, "pntrl-rweb"),
        Some(web_ip),
        "name after the reload"
    );

    for id in [&web, &client] {
        runtime.teardown(id).unwrap();
        runtime.backend().release(id).unwrap();
        runtime.remove(id, true).unwrap();
    }
    assert!(!ns.config().pin_path().exists());
}
