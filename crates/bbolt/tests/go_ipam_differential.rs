//! Differential test against containers/common's own IPAM code (`ipam.go` of Debian's
//! 0.50, what podman 4.3 runs): random sequences of allocations (free and static) and
//! releases on small networks (IPv4, dual-stack, IPv6 without gateway), run by Go on one
//! database and by this crate on another, must give the same address or both fail at
//! every step, and leave the same database content (dumped by bbolt).
//!
//! The Go side is `tests/go_ipam_peer/main.go`, built at test time in GOPATH mode against
//! a temp copy of the netavark package (and the `internal` tree it needs) plus
//! `tests/go_ipam_peer/export_podnet.go`, which exposes `allocIPs` and `deallocIPs`.
//! Lease ranges are left out: Go stores a range's first address under a 16-byte key
//! (see the module doc of `podman_ipam`).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bbolt::podman_ipam::{self, IpamError, Subnet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LIBNETWORK: &str = "/usr/share/gocode/src/github.com/containers/common/libnetwork";

fn copy_go_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            copy_go_tree(&path, &to.join(&name));
        } else if name.ends_with(".go") && !name.ends_with("_test.go") {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn build_ipam_peer() -> Result<PathBuf, String> {
    if !Path::new(LIBNETWORK).join("netavark/ipam.go").exists() {
        return Err(format!(
            "no containers/common source at {LIBNETWORK} (golang-github-containers-common-dev)"
        ));
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bbolt-go-ipam-peer");
    // one GOPATH per test process, one shared build cache
    common::sweep(&work);
    let gopath = work.join(format!("gopath-{}", std::process::id()));
    let common = gopath.join("src/github.com/containers/common/libnetwork");
    // a copy of the tree, so the package may import libnetwork/internal
    let package = common.join("netavark");
    std::fs::create_dir_all(&package).unwrap();
    for entry in std::fs::read_dir(Path::new(LIBNETWORK).join("netavark")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".go") && !name.ends_with("_test.go") {
            std::fs::copy(&path, package.join(&name)).unwrap();
        }
    }
    copy_go_tree(
        &Path::new(LIBNETWORK).join("internal"),
        &common.join("internal"),
    );
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go_ipam_peer");
    std::fs::copy(
        here.join("export_podnet.go"),
        package.join("export_podnet.go"),
    )
    .unwrap();
    let main = gopath.join("src/ipampeer");
    std::fs::create_dir_all(&main).unwrap();
    std::fs::copy(here.join("main.go"), main.join("main.go")).unwrap();
    let bin = work.join(format!("ipampeer-{}", std::process::id()));
    testkit::GoBuild {
        target: "ipampeer",
        out: &bin,
        gopath: Some(&gopath),
        cache: &work.join("cache"),
        dir: None,
    }
    .run()?;
    Ok(bin)
}

/// A network as podman's file has it, and the same as this crate's subnets.
struct Net {
    json: String,
    subnets: Vec<Subnet>,
}

fn net(subnets: &[(&str, Option<&str>)]) -> Net {
    let json_subnets: Vec<serde_json::Value> = subnets
        .iter()
        .map(|(s, g)| match g {
            Some(g) => serde_json::json!({ "subnet": s, "gateway": g }),
            None => serde_json::json!({ "subnet": s }),
        })
        .collect();
    let json = serde_json::json!({
        "name": "diff", "driver": "bridge", "subnets": json_subnets,
        "ipam_options": { "driver": "host-local" },
    });
    Net {
        json: json.to_string(),
        subnets: subnets
            .iter()
            .map(|(s, g)| Subnet {
                gateway: g.map(|g| g.parse().unwrap()),
                ..Subnet::new(s.parse().unwrap())
            })
            .collect(),
    }
}

enum Op {
    Alloc { id: String, static_ips: Vec<IpAddr> },
    Release { id: String },
}

fn random_ops(rng: &mut StdRng, n: &Net) -> Vec<Op> {
    (0..rng.gen_range(10..50))
        .map(|_| {
            let id = format!("c{}", rng.gen_range(0..9));
            if rng.gen_bool(0.4) {
                return Op::Release { id };
            }
            let mut static_ips = Vec::new();
            for s in &n.subnets {
                if rng.gen_bool(0.25) {
                    let hosts: Vec<IpAddr> = s.subnet.hosts().collect();
                    static_ips.push(hosts[rng.gen_range(0..hosts.len())]);
                }
            }
            Op::Alloc { id, static_ips }
        })
        .collect()
}

/// Go's answers, one per op: the addresses, or `None` for an error.
fn go_answers(peer: &Path, db: &Path, n: &Net, ops: &[Op]) -> Vec<Option<Vec<IpAddr>>> {
    let mut child = Command::new(peer)
        .arg(db)
        .arg(&n.json)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for op in ops {
        let line = match op {
            Op::Alloc { id, static_ips } => {
                serde_json::json!({ "op": "alloc", "id": id, "static": static_ips })
            }
            Op::Release { id } => serde_json::json!({ "op": "release", "id": id }),
        };
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.get("error").is_none().then(|| {
                let ips = v["ips"].as_array().cloned().unwrap_or_default();
                ips.iter()
                    .map(|ip| ip.as_str().unwrap().parse().unwrap())
                    .collect()
            })
        })
        .collect()
}

fn rust_answer(db: &mut bbolt::Db, n: &Net, op: &Op) -> Option<Vec<IpAddr>> {
    let r = db.update(|tx| match op {
        Op::Alloc { id, static_ips } => {
            podman_ipam::allocate(tx, "diff", &n.subnets, id, static_ips)
        }
        Op::Release { id } => {
            let ips = podman_ipam::lookup(tx, "diff", id)?;
            podman_ipam::release(tx, "diff", &n.subnets, id, &ips)?;
            Ok::<_, IpamError>(ips)
        }
    });
    r.ok()
}

#[test]
fn allocations_and_releases_match_containers_common() {
    let Some(dump_peer) = common::peer("go_ipam_differential") else {
        return;
    };
    let peer = match build_ipam_peer() {
        Ok(p) => p,
        Err(reason) => return common::skip("go_ipam_differential", &reason),
    };
    let networks = [
        net(&[("10.9.0.0/29", Some("10.9.0.1"))]),
        net(&[
            ("10.9.1.0/29", Some("10.9.1.1")),
            ("fd00:9::/125", Some("fd00:9::1")),
        ]),
        net(&[("fd00:9:1::/126", None)]),
        net(&[("10.9.2.0/28", Some("10.9.2.9"))]),
    ];
    let mut rng = StdRng::seed_from_u64(11);
    let dir = tempfile::tempdir().unwrap();
    let mut steps = 0;
    for round in 0..40 {
        let n = &networks[round % networks.len()];
        let ops = random_ops(&mut rng, n);
        let go_db = dir.path().join(format!("go-{round}.db"));
        let rust_db = dir.path().join(format!("rust-{round}.db"));
        let go = go_answers(&peer, &go_db, n, &ops);
        assert_eq!(go.len(), ops.len());
        let mut db = bbolt::Db::open(&rust_db).unwrap();
        for (i, op) in ops.iter().enumerate() {
            let ours = rust_answer(&mut db, n, op);
            assert_eq!(
                ours, go[i],
                "round {round}, step {i}: ours vs containers/common"
            );
            steps += 1;
        }
        drop(db);
        common::go_check(dump_peer, &rust_db);
        assert_eq!(
            common::go_dump(dump_peer, &rust_db),
            common::go_dump(dump_peer, &go_db),
            "round {round}: database content"
        );
    }
    eprintln!("go_ipam_differential: {steps} steps agree");
}
