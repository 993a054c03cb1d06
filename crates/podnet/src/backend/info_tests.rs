//! Unit tests of `podnet info`'s network part: the firewall driver rules, the JSON shape,
//! and the real Debian netavark.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;

use super::*;

fn version(json: &str) -> NetavarkVersion {
    NetavarkVersion::parse(json).unwrap()
}

const V1_4: &str = r#"{"version": "1.4.0", "commit": "", "build_time": "2023-02-03T11:31:00+00:00", "target": "x86_64-unknown-linux-gnu"}"#;
const V1_10: &str = r#"{"version": "1.10.3", "commit": "", "build_time": "", "target": ""}"#;
const V1_12_NFT: &str = r#"{"version": "1.12.2", "commit": "", "build_time": "", "target": "", "default_fw_driver": "nftables"}"#;
const V2_1: &str = r#"{"version": "2.1.0", "commit": "", "build_time": "", "target": "", "default_fw_driver": "nftables"}"#;
const V2_0_UNREPORTED: &str = r#"{"version": "2.0.0"}"#;

#[test]
fn unconfigured_driver_is_the_reported_default_else_by_version() {
    let bin = Path::new("/nv");
    let cases = [
        (
            V1_4,
            FirewallDriver::Iptables,
            FirewallDriverSource::VersionDefault,
        ),
        (
            V1_10,
            FirewallDriver::Iptables,
            FirewallDriverSource::VersionDefault,
        ),
        (
            V1_12_NFT,
            FirewallDriver::Nftables,
            FirewallDriverSource::NetavarkDefault,
        ),
        (
            V2_1,
            FirewallDriver::Nftables,
            FirewallDriverSource::NetavarkDefault,
        ),
        (
            V2_0_UNREPORTED,
            FirewallDriver::Nftables,
            FirewallDriverSource::VersionDefault,
        ),
    ];
    for (json, driver, source) in cases {
        assert_eq!(
            firewall_driver(&version(json), None, bin).unwrap(),
            (driver, source),
            "{json}"
        );
    }
}

#[test]
fn configured_driver_wins_when_the_version_has_it() {
    let bin = Path::new("/usr/lib/podman/netavark");
    let ok = |json, driver| firewall_driver(&version(json), Some(driver), bin).unwrap();
    assert_eq!(
        ok(V1_12_NFT, FirewallDriver::Iptables),
        (FirewallDriver::Iptables, FirewallDriverSource::Configured)
    );
    assert_eq!(
        ok(V1_4, FirewallDriver::Firewalld),
        (FirewallDriver::Firewalld, FirewallDriverSource::Configured)
    );
    assert_eq!(
        ok(V1_10, FirewallDriver::Nftables).0,
        FirewallDriver::Nftables
    );

    let err = |json, driver| {
        firewall_driver(&version(json), Some(driver), bin)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(V1_4, FirewallDriver::Nftables),
        "the nftables firewall driver needs netavark 1.10 or later; /usr/lib/podman/netavark is 1.4.0"
    );
    assert_eq!(
        err(V1_4, FirewallDriver::None),
        "the none firewall driver needs netavark 1.6 or later; /usr/lib/podman/netavark is 1.4.0"
    );
    assert_eq!(
        err(V2_1, FirewallDriver::Iptables),
        "the iptables firewall driver needs netavark older than 2.0; /usr/lib/podman/netavark is 2.1.0"
    );
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn info_is_shaped_like_podman_info_host_network_fields() {
    let dir = tempfile::tempdir().unwrap();
    let nv = script(
        dir.path(),
        "netavark",
        &format!("[ \"$1\" = version ] && echo '{V2_1}'\n"),
    );
    let aardvark = script(dir.path(), "aardvark-dns", "echo 'aardvark-dns 2.1.0'\n");
    let netavark = Netavark::with_binaries(&nv, Some(aardvark.clone()), dir.path());
    let info = network_info(&netavark, None).unwrap();
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        serde_json::json!({
            "networkBackend": "netavark",
            "networkBackendInfo": {
                "backend": "netavark",
                "version": "netavark 2.1.0",
                "package": "Unknown",
                "path": nv,
                "dns": {"version": "aardvark-dns 2.1.0", "package": "Unknown", "path": aardvark},
                "firewallDriver": "nftables",
                "firewallDriverSource": "netavark-default"
            }
        })
    );

    let no_dns = Netavark::with_binaries(&nv, None, dir.path());
    let info = network_info(&no_dns, Some(FirewallDriver::Firewalld)).unwrap();
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["networkBackendInfo"]["dns"], serde_json::json!({}));
    assert_eq!(
        json["networkBackendInfo"]["firewallDriverSource"],
        "configured"
    );
}

#[test]
fn info_refuses_a_configured_driver_the_version_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let nv = script(dir.path(), "netavark", &format!("echo '{V1_4}'\n"));
    let netavark = Netavark::with_binaries(&nv, None, dir.path());
    let err = network_info(&netavark, Some(FirewallDriver::Nftables)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "firewall_driver: the nftables firewall driver needs netavark 1.10 or later; {} is 1.4.0",
            nv.display()
        )
    );
}

#[test]
fn debian_netavark_info_names_its_package_and_version() {
    let bin = Path::new("/usr/lib/podman/netavark");
    let dns = Path::new("/usr/lib/podman/aardvark-dns");
    if !bin.exists() || !dns.exists() {
        testkit::skip(
            "debian_netavark_info_names_its_package_and_version",
            &format!("{} or {} not installed", bin.display(), dns.display()),
        );
        return;
    }
    let netavark = Netavark::with_binaries(bin, Some(dns.to_path_buf()), "/nonexistent");
    let info = network_info(&netavark, None).unwrap().network_backend_info;
    let flag = Command::new(bin).arg("--version").output().unwrap();
    assert_eq!(info.version, String::from_utf8_lossy(&flag.stdout).trim());
    let release = info.version.trim_start_matches("netavark ");
    // Debian's package name and version, as `podman info` prints slirp4netns's
    assert!(
        info.package.starts_with(&format!("netavark_{release}-")),
        "{}",
        info.package
    );
    assert!(
        info.dns.version.starts_with("aardvark-dns "),
        "{:?}",
        info.dns
    );
    assert!(
        info.dns.package.starts_with("aardvark-dns_"),
        "{:?}",
        info.dns
    );
    if info.version == "netavark 1.4.0" {
        assert_eq!(info.firewall_driver, FirewallDriver::Iptables);
    }
}
