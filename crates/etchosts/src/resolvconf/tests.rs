//! Tests of resolv.conf creation and edits on temp files.
#![allow(clippy::unwrap_used)]

use super::*;
use std::fs;

const R2: &str = "search example.com\nnameserver 1.1.1.1\noptions edns0\n";

struct Case {
    base: &'static str,
    host: bool,
    ipv6: bool,
    ns: &'static [&'static str],
    search: &'static [&'static str],
    opts: &'static [&'static str],
    keep: (bool, bool, bool),
}

const DEF: Case = Case {
    base: R2,
    host: false,
    ipv6: false,
    ns: &[],
    search: &[],
    opts: &[],
    keep: (false, false, false),
};

fn run(c: Case) -> String {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("host-resolv.conf");
    fs::write(&base, c.base).unwrap();
    let mut p = ResolvParams::new(dir.path().join("resolv.conf"));
    p.host = HostSources {
        resolv_conf: base,
        etc_netns: dir.path().join("netns"),
        systemd_resolved: dir.path().join("resolved"),
        network_manager: dir.path().join("nm"),
    };
    if c.host {
        p.netns = NetnsMode::Host;
    }
    p.ipv6_enabled = c.ipv6;
    p.nameservers = c.ns.iter().map(|s| s.parse().unwrap()).collect();
    p.searches = c.search.iter().map(|s| s.to_string()).collect();
    p.options = c.opts.iter().map(|s| s.to_string()).collect();
    (
        p.keep_host_servers,
        p.keep_host_searches,
        p.keep_host_options,
    ) = c.keep;
    new(&p).unwrap();
    fs::read_to_string(&p.path).unwrap()
}

#[test]
fn host_values_are_used_by_default() {
    assert_eq!(run(DEF), R2);
    assert_eq!(
        run(Case {
            base: "#c\nnameserver 1.1.1.1\n",
            ..DEF
        }),
        "nameserver 1.1.1.1\n"
    );
}

#[test]
fn explicit_values_replace_host_ones() {
    let got = run(Case {
        ns: &["1.2.3.4", "5.6.7.8"],
        ..DEF
    });
    assert_eq!(
        got,
        "search example.com\nnameserver 1.2.3.4\nnameserver 5.6.7.8\noptions edns0\n"
    );
    assert_eq!(
        run(Case {
            opts: &["ndots:2"],
            ..DEF
        }),
        "search example.com\nnameserver 1.1.1.1\noptions ndots:2\n"
    );
    assert_eq!(
        run(Case {
            search: &["t.com"],
            ..DEF
        }),
        "search t.com\nnameserver 1.1.1.1\noptions edns0\n"
    );
    assert_eq!(
        run(Case {
            search: &["."],
            ..DEF
        }),
        "nameserver 1.1.1.1\noptions edns0\n"
    );
    let all = Case {
        ns: &["1.2.3.4"],
        search: &["t.com"],
        opts: &["ndots:2"],
        ..DEF
    };
    assert_eq!(
        run(all),
        "search t.com\nnameserver 1.2.3.4\noptions ndots:2\n"
    );
}

#[test]
fn keep_switches_are_separate() {
    let base = Case {
        ns: &["1.2.3.4"],
        search: &["t.com"],
        opts: &["ndots:2"],
        ..DEF
    };
    assert_eq!(
        run(Case {
            keep: (true, false, false),
            ..base
        }),
        "search t.com\nnameserver 1.2.3.4\nnameserver 1.1.1.1\noptions ndots:2\n"
    );
    let base = Case {
        ns: &["1.2.3.4"],
        search: &["t.com"],
        opts: &["ndots:2"],
        ..DEF
    };
    assert_eq!(
        run(Case {
            keep: (false, true, false),
            ..base
        }),
        "search t.com example.com\nnameserver 1.2.3.4\noptions ndots:2\n"
    );
    let base = Case {
        ns: &["1.2.3.4"],
        search: &["."],
        opts: &["ndots:2"],
        ..DEF
    };
    assert_eq!(
        run(Case {
            keep: (true, true, true),
            ..base
        }),
        "nameserver 1.2.3.4\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"
    );
}

#[test]
fn private_netns_filters_and_falls_back() {
    let lo = "nameserver 127.0.0.1\nnameserver ::1\n";
    assert_eq!(
        run(Case { base: lo, ..DEF }),
        "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    );
    assert_eq!(
        run(Case { base: lo, ipv6: true, ..DEF }),
        "nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n"
    );
    assert_eq!(
        run(Case {
            base: lo,
            host: true,
            ..DEF
        }),
        lo
    );
    let v6 = "nameserver 1.1.1.1\nnameserver fe80::1%eth1\nnameserver fd::1\n";
    assert_eq!(run(Case { base: v6, ..DEF }), "nameserver 1.1.1.1\n");
    assert_eq!(
        run(Case {
            base: v6,
            ipv6: true,
            ..DEF
        }),
        "nameserver 1.1.1.1\nnameserver fd::1\n"
    );
    assert_eq!(
        run(Case {
            base: v6,
            host: true,
            ..DEF
        }),
        v6
    );
}

#[test]
fn kept_extras_domain_sortlist_and_all_options_lines() {
    let base = "domain corp.example\nnameserver 1.1.1.1\nsortlist 10.0.0.0/8\noptions ndots:2\noptions edns0\n";
    assert_eq!(
        run(Case { base, ..DEF }),
        "domain corp.example\nnameserver 1.1.1.1\nsortlist 10.0.0.0/8\noptions ndots:2 edns0\n"
    );
    // Explicit searches replace the domain too.
    assert_eq!(
        run(Case {
            base,
            search: &["x.org"],
            ..DEF
        }),
        "search x.org\nnameserver 1.1.1.1\nsortlist 10.0.0.0/8\noptions ndots:2 edns0\n"
    );
}

fn sources(dir: &Path, host: &str) -> ResolvParams {
    let mut p = ResolvParams::new(dir.join("resolv.conf"));
    p.host = HostSources {
        resolv_conf: dir.join("host"),
        etc_netns: dir.join("netns"),
        systemd_resolved: dir.join("resolved"),
        network_manager: dir.join("nm"),
    };
    fs::write(&p.host.resolv_conf, host).unwrap();
    p
}

#[test]
fn local_stub_resolvers_are_looked_through_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let p = sources(dir.path(), "nameserver 127.0.0.53\nsearch lan\n");
    // Not present: the stub is filtered, the fallback used, the search kept.
    assert_eq!(
        render(&p).unwrap(),
        b"search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    );
    fs::write(dir.path().join("resolved"), "nameserver 192.168.1.1\n").unwrap();
    assert_eq!(render(&p).unwrap(), b"nameserver 192.168.1.1\n");
    let p = sources(dir.path(), "nameserver 127.0.0.1\n");
    fs::write(dir.path().join("nm"), "nameserver 192.168.2.1\n").unwrap();
    assert_eq!(render(&p).unwrap(), b"nameserver 192.168.2.1\n");
    let mut p = sources(dir.path(), "nameserver 127.0.0.1\n");
    p.netns = NetnsMode::Host;
    assert_eq!(render(&p).unwrap(), b"nameserver 127.0.0.1\n");
}

#[test]
fn ip_netns_resolv_conf_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = sources(dir.path(), "nameserver 1.1.1.1\n");
    fs::create_dir_all(dir.path().join("netns/blue")).unwrap();
    fs::write(
        dir.path().join("netns/blue/resolv.conf"),
        "nameserver 9.9.9.9\n",
    )
    .unwrap();
    p.netns = NetnsMode::Private(Some("/run/netns/blue".into()));
    assert_eq!(render(&p).unwrap(), b"nameserver 9.9.9.9\n");
    p.netns = NetnsMode::Private(Some("/run/netns/red".into()));
    assert_eq!(render(&p).unwrap(), b"nameserver 1.1.1.1\n");
    p.netns = NetnsMode::Private(Some("/proc/1/ns/blue".into()));
    assert_eq!(render(&p).unwrap(), b"nameserver 1.1.1.1\n");
}

#[test]
fn fallback_is_a_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = sources(dir.path(), "nameserver 127.0.0.1\n");
    p.fallback_nameservers = vec!["9.9.9.9".parse().unwrap()];
    assert_eq!(render(&p).unwrap(), b"nameserver 9.9.9.9\n");
    p.fallback_nameservers.clear();
    assert_eq!(render(&p).unwrap(), b"");
}

#[test]
fn bad_search_or_option_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = sources(dir.path(), "");
    p.searches = vec!["a b".into()];
    let err = render(&p).err().unwrap().to_string();
    assert!(err.contains("\"a b\"") && err.contains("search"), "{err}");
    p.searches.clear();
    p.options = vec![String::new()];
    assert!(render(&p).err().unwrap().to_string().contains("option"));
}

#[test]
fn add_prepends_once_and_remove_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resolv.conf");
    fs::write(&path, R2).unwrap();
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    add_nameservers(&path, &[ip("10.89.0.1"), ip("1.1.1.1"), ip("10.89.0.1")]).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "search example.com\nnameserver 10.89.0.1\nnameserver 1.1.1.1\noptions edns0\n"
    );
    add_nameservers(&path, &[ip("fd00::1")]).unwrap();
    remove_nameservers(&path, &[ip("10.89.0.1"), ip("9.9.9.9")]).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "search example.com\nnameserver fd00::1\nnameserver 1.1.1.1\noptions edns0\n"
    );
    remove_nameservers(&path, &[ip("fd00::1"), ip("1.1.1.1")]).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "search example.com\noptions edns0\n"
    );
}
