//! Differential test against the Go reference itself: Debian's containers/common 0.50
//! (the version podman 4.3 is built with, source in /usr/share/gocode) runs
//! `etchosts.New`/`Add`/`AddIfExists`/`Remove` and `resolvconf.New`/`Add`/`Remove` on a
//! few hundred generated files full of edge
//! cases (odd white space, CRLF, comments, invalid UTF-8, Unicode spaces, malformed
//! addresses, localhost and zoned IPv6 servers, 64 KiB line limits), and this crate must
//! write the same bytes, or fail where Go fails.
//!
//! The Go side is `tests/go_peer/main.go`, built at test time with Go in GOPATH mode
//! against a temp copy of the resolvconf package plus `tests/go_peer/export.go` (a hook
//! to set the host resolv.conf path). Inputs avoid the documented differences (`domain`,
//! `sortlist`, several `options` lines) and, with IPv6 on, zoned servers (0.50 predates
//! that filter).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use etchosts::{hosts, resolvconf, HostEntry};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// One edit applied to a copy of the input file.
type Edit = dyn Fn(&Path) -> Result<(), etchosts::Error>;

const GOCODE: &str = "/usr/share/gocode/src/github.com/containers/common/libnetwork";
const CASES: usize = 400;

fn skip(reason: &str) {
    testkit::skip(
        "output_equals_containers_common_for_generated_inputs",
        reason,
    );
}

/// Builds the Go peer; `Err` says why it cannot be built here.
fn build_peer(work: &Path) -> Result<PathBuf, String> {
    if Command::new("go").arg("version").output().is_err() {
        return Err("no `go` toolchain".into());
    }
    if !Path::new(GOCODE).join("resolvconf/resolvconf.go").exists() {
        return Err(format!(
            "no containers/common source at {GOCODE} (golang-github-containers-common-dev)"
        ));
    }
    let gopath = work.join("gopath");
    let pkg = gopath.join("src/pntpeer/resolvconf");
    let cmd = gopath.join("src/pntpeer/cmd");
    fs::create_dir_all(&pkg).unwrap();
    fs::create_dir_all(&cmd).unwrap();
    for f in ["resolv.go", "resolvconf.go"] {
        fs::copy(Path::new(GOCODE).join("resolvconf").join(f), pkg.join(f)).unwrap();
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go_peer");
    fs::copy(here.join("export.go"), pkg.join("export.go")).unwrap();
    fs::copy(here.join("main.go"), cmd.join("main.go")).unwrap();
    let bin = work.join("peer");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("etchosts-gocache");
    testkit::GoBuild {
        target: "pntpeer/cmd",
        out: &bin,
        gopath: Some(&gopath),
        cache: &cache,
        dir: None,
    }
    .run()?;
    Ok(bin)
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from.choose(rng).unwrap()
}

/// One generated base file: hosts-style and resolv.conf-style lines mixed.
fn generate(rng: &mut StdRng) -> Vec<u8> {
    let lead = ["", "", " ", "\t", "  \t", "\x0b", "\u{a0}"];
    let sep = [" ", " ", "\t", "  ", "", " \t ", "\u{85}", "\u{a0}", "\x0c"];
    let addrs = [
        "127.0.0.1",
        "127.0.0.53",
        "127.1.2.3",
        "127.0.0.1234",
        "127.0.0.",
        "::1",
        "1.1.1.1",
        "10.0.0.1",
        "256.0.0.1",
        "255.255.255.255",
        "010.001.0.1",
        "1.2.3",
        "fd00::1",
        "fe80::1%eth0",
        "fe80::2%",
        "::ffff:1.2.3.4",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8",
        "a::b",
        "12345::1",
        "::",
        "fe80::1%e-th",
        "1.1.1.1 2.2.2.2",
        "8.8.8.8 # c",
        "2001:db8::53",
        "caf\u{e9}",
        "\u{ff}x",
    ];
    let names = [
        "localhost",
        "host",
        "a.b",
        "x",
        "h\u{e9}",
        "n\u{2003}m",
        "dup",
        "dup",
        "#c",
        "a#b",
        "1.2.3.4",
    ];
    let words = [
        "example.com",
        "a",
        ".",
        "b.c",
        "ndots:2",
        "edns0",
        "rotate",
        "x\u{a0}y",
    ];
    let keys = [
        "nameserver",
        "nameserver",
        "nameserver",
        "search",
        "nameservers",
        "searchx",
        "#nameserver",
        "name",
    ];
    let mut out = String::new();
    let mut options_done = false;
    for _ in 0..rng.gen_range(0..12) {
        let mut line = String::from(pick(rng, &lead));
        match rng.gen_range(0..10) {
            0..=4 => {
                line.push_str(pick(rng, &keys));
                line.push_str(pick(rng, &sep));
                line.push_str(pick(rng, &addrs));
                if rng.gen_bool(0.2) {
                    line.push_str(pick(rng, &["", " ", "\t", " #x", "\r"]));
                }
            }
            5 if !options_done => {
                options_done = true;
                line.push_str("options");
                for _ in 0..rng.gen_range(0..3) {
                    line.push_str(pick(rng, &sep));
                    line.push_str(pick(rng, &words));
                }
            }
            5 | 6 => {
                line.push_str("search");
                for _ in 0..rng.gen_range(0..4) {
                    line.push_str(pick(rng, &sep));
                    line.push_str(pick(rng, &words));
                }
            }
            7 | 8 => {
                line.push_str(pick(rng, &addrs));
                for _ in 0..rng.gen_range(0..4) {
                    line.push_str(pick(rng, &sep));
                    line.push_str(pick(rng, &names));
                }
            }
            _ => line.push_str(pick(rng, &["# comment", "", "   ", "\r", "#", "garbage"])),
        }
        out.push_str(&line);
        out.push_str(pick(rng, &["\n", "\n", "\n", "\r\n", "\n\n"]));
    }
    if rng.gen_bool(0.2) {
        out.pop();
    }
    let mut bytes = out.into_bytes();
    // Invalid UTF-8 now and then.
    if rng.gen_bool(0.1) && !bytes.is_empty() {
        let at = rng.gen_range(0..bytes.len());
        bytes.insert(at, 0xff);
    }
    bytes
}

/// Lines at and around Go's 64 KiB `bufio.Scanner` limit.
fn long_lines() -> Vec<Vec<u8>> {
    let mut cases = Vec::new();
    for len in [65534usize, 65535, 65536, 70000] {
        for newline in [true, false] {
            let mut c = b"1.1.1.1 a\n9.9.9.9 ".to_vec();
            c.extend(std::iter::repeat_n(b'x', len - 8));
            if newline {
                c.extend_from_slice(b"\n2.2.2.2 b\n");
            }
            cases.push(c);
        }
    }
    cases
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().unwrap()
}

fn ours_or_error(r: Result<Vec<u8>, etchosts::Error>) -> Vec<u8> {
    r.unwrap_or_else(|_| b"ERROR".to_vec())
}

#[test]
fn output_equals_containers_common_for_generated_inputs() {
    // tmpfs when there is one: ~2,000 fsync'd edits on a VM disk take a while.
    let work = tempfile::Builder::new()
        .prefix("pntetc")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let peer = match build_peer(work.path()) {
        Ok(p) => p,
        Err(reason) => return skip(&reason),
    };
    let cases_dir = work.path().join("cases");
    fs::create_dir(&cases_dir).unwrap();
    let mut rng = StdRng::seed_from_u64(0x7e7c_4057);
    let mut inputs: Vec<Vec<u8>> = (0..CASES).map(|_| generate(&mut rng)).collect();
    inputs.extend(long_lines());
    for (i, input) in inputs.iter().enumerate() {
        fs::write(cases_dir.join(format!("{i}.in")), input).unwrap();
    }
    let status = Command::new(&peer)
        .arg(&cases_dir)
        .arg(inputs.len().to_string())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the Go peer failed");

    let mut compared = 0;
    let mut go_errors = 0;
    let mut edited = 0;
    for (i, input) in inputs.iter().enumerate() {
        let base = cases_dir.join(format!("{i}.in"));
        let read = |ext: &str| fs::read(cases_dir.join(format!("{i}.{ext}"))).unwrap();
        let show = String::from_utf8_lossy(input);

        let go_hosts = read("hosts");
        go_errors += usize::from(go_hosts == b"ERROR");
        let ours = ours_or_error(hosts::render(&hosts::HostsParams {
            base_file: Some(base.clone()),
            target_file: work.path().join("unused"),
            ..Default::default()
        }));
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&go_hosts),
            "hosts differ for case {i}: {show:?}"
        );
        compared += 1;

        for (ext, netns, ipv6) in [
            ("r0", resolvconf::NetnsMode::Private(None), false),
            ("r1", resolvconf::NetnsMode::Private(None), true),
            ("rh", resolvconf::NetnsMode::Host, false),
        ] {
            if ext == "r1" && input.contains(&b'%') {
                continue;
            }
            let mut p = resolvconf::ResolvParams::new(work.path().join("unused"));
            p.host.resolv_conf = base.clone();
            p.netns = netns;
            p.ipv6_enabled = ipv6;
            let ours = ours_or_error(resolvconf::render(&p));
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&read(ext)),
                "resolv.conf ({ext}) differs for case {i}: {show:?}"
            );
            compared += 1;
        }

        // Edits of the same content as a container's file.
        let target = work.path().join("edit");
        let edits: [(&str, &Edit); 5] = [
            ("hadd", &|p| {
                hosts::add(p, &[HostEntry::new(ip("10.9.9.9"), ["localhost", "fresh"])])
            }),
            ("hrm", &|p| {
                hosts::remove(p, &[HostEntry::new(ip("1.1.1.1"), ["host", "a.b"])])
            }),
            ("hif", &|p| {
                hosts::add_if_exists(
                    p,
                    &[HostEntry::new(ip("10.0.0.1"), ["x"])],
                    &[HostEntry::new(ip("10.9.9.8"), ["x", "localhost"])],
                )
            }),
            ("radd", &|p| {
                resolvconf::add_nameservers(p, &[ip("10.89.0.1")])
            }),
            ("rrm", &|p| {
                resolvconf::remove_nameservers(p, &[ip("1.1.1.1"), ip("fd00::1")])
            }),
        ];
        for (ext, edit) in edits {
            fs::write(&target, input).unwrap();
            let ours = match edit(&target) {
                Ok(()) => fs::read(&target).unwrap(),
                Err(_) => b"ERROR".to_vec(),
            };
            edited += usize::from(ours != *input && ours != b"ERROR");
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&read(ext)),
                "{ext} differs for case {i}: {show:?}"
            );
            compared += 1;
        }
    }
    assert!(edited > 100, "too few edits changed a file ({edited})");
    assert!(
        go_errors >= 4,
        "the 64 KiB cases should make Go fail ({go_errors})"
    );
    eprintln!("{compared} outputs identical to containers/common 0.50 ({go_errors} hosts errors on both sides)");
}
