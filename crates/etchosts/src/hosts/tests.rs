//! Unit tests of the hosts module: rendering and edits on plain temp files.
#![allow(clippy::unwrap_used)]

use super::*;
use std::fs;

const BASE: &str = "127.0.0.1 localhost localhost.localdomain\n::1\tlocalhost   localhost6 # six\n";
const BASE_OUT: &str = "127.0.0.1\tlocalhost localhost.localdomain\n::1\tlocalhost localhost6\n";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn render_with(
    base: &str,
    extra: &[&str],
    ips: Vec<HostEntry>,
    hci: Option<&str>,
) -> Result<String, Error> {
    let dir = tempfile::tempdir().unwrap();
    let base_path = dir.path().join("base");
    fs::write(&base_path, base).unwrap();
    let params = HostsParams {
        base_file: Some(base_path),
        extra_hosts: extra.iter().map(|s| s.to_string()).collect(),
        container_ips: ips,
        host_containers_internal_ip: hci.map(ip),
        target_file: dir.path().join("hosts"),
    };
    new(&params)?;
    let written = fs::read(&params.target_file).unwrap();
    assert_eq!(written, render(&params).unwrap());
    Ok(String::from_utf8(written).unwrap())
}

#[test]
fn base_entries_then_localhost_only_when_missing() {
    assert_eq!(render_with(BASE, &[], vec![], None).unwrap(), BASE_OUT);
    assert_eq!(
        render_with("# nothing\n\n1.1.1.1\n", &[], vec![], None).unwrap(),
        "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
    );
}

#[test]
fn extra_hosts_come_first_and_win_names() {
    let got = render_with(
        "127.0.0.1 localhost\n",
        &["name1:1.1.1.1", "name2;name3:2.2.2.2", "v6:fd00::1"],
        vec![],
        None,
    )
    .unwrap();
    assert_eq!(
        got,
        "1.1.1.1\tname1\n2.2.2.2\tname2 name3\nfd00::1\tv6\n127.0.0.1\tlocalhost\n"
    );
    let got = render_with("", &["localhost:127.0.1.1"], vec![], None).unwrap();
    assert_eq!(got, "127.0.1.1\tlocalhost\n");
}

#[test]
fn container_names_already_present_are_skipped() {
    let ips = vec![
        HostEntry::new(ip("10.88.0.5"), ["ctr", "host1"]),
        HostEntry::new(ip("fd00::5"), ["ctr", "host1"]),
    ];
    let got = render_with(BASE, &["host1:1.1.1.1"], ips, None).unwrap();
    assert_eq!(
        got,
        format!("1.1.1.1\thost1\n{BASE_OUT}10.88.0.5\tctr\nfd00::5\tctr\n")
    );
}

#[test]
fn host_containers_internal_and_host_gateway() {
    let got = render_with(BASE, &["gw:host-gateway"], vec![], Some("10.88.0.1")).unwrap();
    assert_eq!(
        got,
        format!(
            "10.88.0.1\tgw\n{BASE_OUT}10.88.0.1\thost.containers.internal host.docker.internal\n"
        )
    );
    let got = render_with(
        BASE,
        &["host.containers.internal:1.1.1.1"],
        vec![],
        Some("10.88.0.1"),
    )
    .unwrap();
    assert_eq!(
        got,
        format!("1.1.1.1\thost.containers.internal\n{BASE_OUT}10.88.0.1\thost.docker.internal\n")
    );
}

#[test]
fn bad_extra_hosts_are_named() {
    let cases = [
        ("nocolon", "no ':'"),
        (":1.1.1.1", "host name is empty"),
        ("a:", "IP address is empty"),
        ("a:999.1.1.1", "invalid IP address"),
        ("a;;b:1.1.1.1", "name is empty"),
        ("a b:1.1.1.1", "white space"),
        ("gw:host-gateway", "host-gateway"),
    ];
    for (entry, want) in cases {
        let err = render_with("", &[entry], vec![], None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(want), "{entry}: {err}");
        assert!(
            err.contains(
                &entry
                    .split(':')
                    .next()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_string()
            ),
            "{err}"
        );
    }
}

#[test]
fn base_file_missing_is_an_error_unless_it_is_etc_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let params = HostsParams {
        base_file: Some(dir.path().join("missing")),
        target_file: dir.path().join("hosts"),
        ..Default::default()
    };
    assert!(matches!(new(&params), Err(Error::Read { .. })));
    let params = HostsParams {
        base_file: None,
        target_file: dir.path().join("hosts"),
        ..Default::default()
    };
    new(&params).unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join("hosts")).unwrap(),
        "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
    );
}

fn file_with(content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hosts");
    fs::write(&p, content).unwrap();
    (dir, p)
}

#[test]
fn add_appends_free_names_and_keeps_comments() {
    let (_d, p) = file_with("# keep me\n10.0.0.1\ta b\n");
    add(
        &p,
        &[
            HostEntry::new(ip("10.0.0.2"), ["b", "c"]),
            HostEntry::new(ip("10.0.0.3"), ["a"]),
        ],
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "# keep me\n10.0.0.1\ta b\n10.0.0.2\tc\n"
    );
}

#[test]
fn add_if_exists_needs_a_matching_line() {
    let (_d, p) = file_with("10.0.0.1\tctr host\n");
    let old = [HostEntry::new(ip("10.0.0.1"), ["ctr"])];
    let new_ = [HostEntry::new(ip("10.0.1.1"), ["ctr", "host"])];
    add_if_exists(&p, &old, &new_).unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "10.0.0.1\tctr host\n10.0.1.1\tctr host\n"
    );
    let other = [HostEntry::new(ip("10.0.0.9"), ["ctr"])];
    add_if_exists(&p, &other, &[HostEntry::new(ip("10.0.2.1"), ["ctr"])]).unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "10.0.0.1\tctr host\n10.0.1.1\tctr host\n"
    );
    // No existing entries: a plain add, which skips taken names.
    add_if_exists(&p, &[], &[HostEntry::new(ip("10.0.3.1"), ["ctr", "new"])]).unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "10.0.0.1\tctr host\n10.0.1.1\tctr host\n10.0.3.1\tnew\n"
    );
}

#[test]
fn remove_needs_ip_and_one_common_name_and_normalises() {
    let (_d, p) = file_with("# c\n10.0.0.1  ctr host\n10.0.0.2\tctr\n10.0.0.1 other\n");
    remove(&p, &[HostEntry::new(ip("10.0.0.1"), ["host"])]).unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "10.0.0.2\tctr\n10.0.0.1\tother\n"
    );
    remove(&p, &[HostEntry::new(ip("10.0.0.9"), ["ctr"])]).unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "10.0.0.2\tctr\n10.0.0.1\tother\n"
    );
}

#[test]
fn edits_of_a_missing_file_fail_and_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope");
    let err = add(&p, &[]).err().unwrap();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn many_container_names_use_the_hashed_lookup_too() {
    let ips: Vec<HostEntry> = (0..20)
        .map(|i| {
            HostEntry::new(
                ip(&format!("10.88.0.{}", i + 1)),
                [format!("c{i}"), format!("d{i}")],
            )
        })
        .collect();
    let got = render_with("1.1.1.1 c3 d7\n", &[], ips, None).unwrap();
    assert!(
        got.starts_with("1.1.1.1\tc3 d7\n127.0.0.1\tlocalhost\n::1\tlocalhost\n10.88.0.1\tc0 d0\n")
    );
    assert!(got.contains("10.88.0.4\td3\n"), "{got}");
    assert!(got.contains("10.88.0.8\tc7\n"), "{got}");
    assert_eq!(got.lines().count(), 23);
}

#[test]
fn a_target_that_cannot_be_opened_is_named_with_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing-dir").join("hosts");
    let entry = HostEntry::new("10.0.0.1".parse().unwrap(), ["a"]);
    let err = add(&target, &[entry]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot open {}: No such file or directory (os error 2)",
            target.display()
        )
    );
}
