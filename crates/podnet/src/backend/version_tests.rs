//! Unit tests of version parsing (outputs captured from real binaries) and feature gates.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;

use super::*;

/// `/usr/lib/podman/netavark version` of Debian 12's netavark 1.4.0-3, captured here.
const NETAVARK_1_4_JSON: &str = r#"{
  "version": "1.4.0",
  "commit": "",
  "build_time": "2023-02-03T11:31:00+00:00",
  "target": "x86_64-unknown-linux-gnu"
}
"#;

/// `netavark --version` of the same binary.
const NETAVARK_1_4_TEXT: &str = "netavark 1.4.0\n";

/// The shape netavark 1.11 and later print (`src/commands/version.rs` at v2.1.0:
/// `default_fw_driver` added by commit b161e758); commit and build time as in an
/// upstream build.
const NETAVARK_2_1_JSON: &str = r#"{
  "version": "2.1.0",
  "commit": "9a10e4621012095d56a262c3856bc1d61ef3f29b",
  "build_time": "2026-08-18T19:05:10.000000000+00:00",
  "target": "x86_64-unknown-linux-gnu",
  "default_fw_driver": "nftables"
}
"#;

fn v(text: &str) -> NetavarkVersion {
    NetavarkVersion::parse(text).unwrap()
}

#[test]
fn debian_1_4_json_and_text_parse_alike() {
    let json = v(NETAVARK_1_4_JSON);
    assert_eq!(json.release, Release(1, 4, 0));
    assert_eq!(json.to_string(), "1.4.0");
    assert_eq!(json.commit, "");
    assert_eq!(json.default_fw_driver, None);
    assert_eq!(v(NETAVARK_1_4_TEXT), json);
}

#[test]
fn version_2_json_has_the_default_firewall_driver() {
    let two = v(NETAVARK_2_1_JSON);
    assert_eq!(two.release, Release(2, 1, 0));
    assert_eq!(two.default_fw_driver.as_deref(), Some("nftables"));
    assert!(two.commit.starts_with("9a10e46"));
}

#[test]
fn suffixes_are_kept_and_garbage_is_refused() {
    let dev = v(r#"{"version": "1.10.0-dev"}"#);
    assert_eq!(dev.release, Release(1, 10, 0));
    assert_eq!(dev.to_string(), "1.10.0-dev");
    assert!(dev.supports(Feature::Nftables));
    assert_eq!(v("netavark 1.12.2+ds").to_string(), "1.12.2+ds");
    for bad in [
        "",
        "{}",
        r#"{"version": "1.4"}"#,
        r#"{"version": "1.4.0.1"}"#,
        r#"{"version": "v1.4.0"}"#,
        "netavark one",
        "aardvark-dns 1.4.0",
        "netavark 1.4.0beta",
    ] {
        assert_eq!(NetavarkVersion::parse(bad), None, "{bad}");
    }
}

#[test]
fn features_are_gated_by_the_version_that_added_them() {
    let at = |text: &str| v(&format!("netavark {text}"));
    let cases = [
        (Feature::Update, "1.3.0", "1.4.0"),
        (Feature::Ipvlan, "1.4.0", "1.5.0"),
        (Feature::DhcpProxy, "1.5.1", "1.6.0"),
        (Feature::StaticRoutes, "1.6.0", "1.7.0"),
        (Feature::IsolateStrict, "1.6.0", "1.7.0"),
        (Feature::FirewalldReload, "1.8.0", "1.9.0"),
        (Feature::Nftables, "1.9.0", "1.10.0"),
        (Feature::FirewallDriverOption, "1.9.0", "1.10.0"),
        (Feature::FirewallReload, "1.16.1", "1.17.0"),
    ];
    for (feature, without, with) in cases {
        assert!(!at(without).supports(feature), "{feature:?} in {without}");
        assert!(at(with).supports(feature), "{feature:?} in {with}");
        assert!(v(NETAVARK_2_1_JSON).supports(feature), "{feature:?} in 2.1");
    }
    assert!(at("1.17.2").supports(Feature::Iptables));
    assert!(!at("2.0.0").supports(Feature::Iptables));
}

#[test]
fn debian_1_4_has_update_and_dns_port_but_not_ipvlan_or_nftables() {
    let deb = v(NETAVARK_1_4_JSON);
    for yes in [
        Feature::Update,
        Feature::DnsPort,
        Feature::RouteMetric,
        Feature::Iptables,
    ] {
        assert!(deb.supports(yes), "{yes:?}");
    }
    for no in [
        Feature::Ipvlan,
        Feature::Nftables,
        Feature::FirewalldReload,
        Feature::FirewallNone,
    ] {
        assert!(!deb.supports(no), "{no:?}");
    }
}

#[test]
fn unsupported_feature_names_feature_binary_version_and_need() {
    let bin = Path::new("/usr/lib/podman/netavark");
    let err = v(NETAVARK_1_4_JSON)
        .require(Feature::Ipvlan, bin)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ipvlan needs netavark 1.5 or later; /usr/lib/podman/netavark is 1.4.0"
    );
    let err = v(NETAVARK_2_1_JSON)
        .require(Feature::Iptables, bin)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the iptables firewall driver needs netavark older than 2.0; /usr/lib/podman/netavark is 2.1.0"
    );
    assert!(v(NETAVARK_2_1_JSON).require(Feature::Ipvlan, bin).is_ok());
}

/// A stand-in netavark that prints `version_json` and counts its runs in `runs`.
fn fake_netavark(dir: &Path, version_json: &str) -> (PathBuf, PathBuf) {
    let runs = dir.join("runs");
    let bin = dir.join("netavark");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\necho run >> {}\ncat <<'EOF'\n{version_json}EOF\n",
            runs.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, runs)
}

#[test]
fn netavark_detects_its_version_once_and_clones_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, runs) = fake_netavark(dir.path(), NETAVARK_1_4_JSON);
    let netavark = Netavark::with_binaries(&bin, None, dir.path().join("config"));
    let clone = netavark.clone();
    assert_eq!(netavark.version().unwrap().release, Release(1, 4, 0));
    assert_eq!(clone.version().unwrap().release, Release(1, 4, 0));
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n");
    let err = netavark.require(Feature::Ipvlan).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "ipvlan needs netavark 1.5 or later; {} is 1.4.0",
            bin.display()
        )
    );
}

#[test]
fn unreadable_or_missing_binary_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, _) = fake_netavark(dir.path(), "hello\n");
    let err = Netavark::with_binaries(&bin, None, dir.path())
        .version()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} version printed no version this podnet can read: \"hello\\n\"",
            bin.display()
        )
    );
    let missing = dir.path().join("nope");
    let err = NetavarkVersion::detect(&missing).unwrap_err();
    assert!(err
        .to_string()
        .starts_with(&format!("run {} version: ", missing.display())));
}

#[test]
fn installed_netavark_version_agrees_with_its_version_flag() {
    let bin = Path::new("/usr/lib/podman/netavark");
    if !bin.exists() {
        testkit::skip(
            "installed_netavark_version_agrees_with_its_version_flag",
            &format!("{} not installed (apt-get install netavark)", bin.display()),
        );
        return;
    }
    let version = NetavarkVersion::detect(bin).unwrap();
    let flag = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .unwrap();
    let text = v(&String::from_utf8_lossy(&flag.stdout));
    assert_eq!(version.release, text.release);
    assert!(version.release >= Release(1, 4, 0), "{version}");
}
