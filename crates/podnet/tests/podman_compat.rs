//! The same steps through real podman 4.3 and through podnet give the same files: hosts and
//! resolv.conf after start, after `network connect` and after `network disconnect`. podman
//! runs on the host (its own networks, a busybox container); podnet in a throwaway host
//! namespace with networks of the same names and subnets. Needs root and podman (`cargo
//! xtask setup` installs it and imports `localhost/busybox`).
//!
//! The one difference allowed: current containers/common also names the host address
//! `host.docker.internal`; podman 4.3 predates that, so the name is removed before comparing.
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::process::Command;

use flows_support::{can_run, Host};

fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn podman_ready(test: &str) -> bool {
    let ready = Command::new("podman")
        .args(["image", "exists", "localhost/busybox:latest"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ready {
        return true;
    }
    let why = "podman or its localhost/busybox image is missing (run `cargo xtask setup`)";
    testkit::skip(test, why);
    false
}

/// Removes podman's container and networks even when an assertion failed.
struct PodmanObjects {
    container: String,
    networks: Vec<String>,
}

impl Drop for PodmanObjects {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.container])
            .output();
        for n in &self.networks {
            let _ = Command::new("podman")
                .args(["network", "rm", "-f", n])
                .output();
        }
    }
}

fn files_podman(container: &str) -> String {
    podman(&["exec", container, "cat", "/etc/hosts", "/etc/resolv.conf"])
}

fn files_podnet(host: &Host, container: &str) -> String {
    host.podnet(&[
        "exec",
        container,
        "--",
        "cat",
        "/etc/hosts",
        "/etc/resolv.conf",
    ])
    .replace(" host.docker.internal", "")
}

#[test]
fn hosts_and_resolv_conf_match_podman_through_connect_and_disconnect() {
    let test = "hosts_and_resolv_conf_match_podman";
    if !can_run(test) || !podman_ready(test) {
        return;
    }
    let pid = std::process::id();
    let (n1, n2, ctr) = (
        format!("pntpc1-{pid}"),
        format!("pntpc2-{pid}"),
        format!("pntpcc-{pid}"),
    );
    let _cleanup = PodmanObjects {
        container: ctr.clone(),
        networks: vec![n1.clone(), n2.clone()],
    };
    let host = Host::new();
    for (net, subnet) in [(&n1, "10.89.233.0/24"), (&n2, "10.89.234.0/24")] {
        podman(&["network", "create", "--subnet", subnet, net]);
        host.podnet(&["network", "create", "--subnet", subnet, net]);
    }
    podman(&[
        "run",
        "-d",
        "--name",
        &ctr,
        "--hostname",
        "box",
        "--network",
        &n1,
        "localhost/busybox",
        "sleep",
        "600",
    ]);
    host.podnet(&["create", &ctr, "--hostname", "box", "--network", &n1]);
    host.podnet(&["start", &ctr]);
    let started = files_podman(&ctr);
    assert!(started.contains("10.89.233.2\tbox "), "{started}");
    assert_eq!(files_podnet(&host, &ctr), started, "after start");

    podman(&["network", "connect", &n2, &ctr]);
    host.podnet(&["connect", &n2, &ctr]);
    let connected = files_podman(&ctr);
    assert!(connected.contains("10.89.234.2\tbox "), "{connected}");
    assert_eq!(files_podnet(&host, &ctr), connected, "after connect");

    podman(&["network", "disconnect", &n2, &ctr]);
    host.podnet(&["disconnect", &n2, &ctr]);
    let disconnected = files_podman(&ctr);
    assert_eq!(
        disconnected, started,
        "podman itself returns to the first files"
    );
    assert_eq!(files_podnet(&host, &ctr), disconnected, "after disconnect");
}
