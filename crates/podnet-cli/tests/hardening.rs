//! The hardening findings, each reproduced with the real `podnet` binary (and, where a
//! container runs, the real netavark and aardvark-dns) in a throwaway network namespace
//! standing for the host: the DNS-alias injection, network removal by ID while in use,
//! `create` racing `network rm`, hostile files in the network directory, a full and a
//! read-only filesystem under `--root`. Each asserts what a user needs: one clear
//! `podnet: error:` line, exit code 125, nothing stored, nothing hung. Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use flows_support::{can_run, Host, PODNET};

/// Asserts `out` is a refusal: exit 125 and exactly one `podnet: error:` line on stderr
/// containing every piece of `expect`. Returns the line.
fn refused(out: &Output, expect: &[&str]) -> String {
    refused_with(out, 125, expect)
}

/// [`refused`] with podman's own exit code (`network rm` of a network in use: 2).
fn refused_with(out: &Output, code: i32, expect: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "not refused: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr:?}");
    assert!(lines[0].starts_with("podnet: error: "), "{stderr}");
    for piece in expect {
        assert!(
            lines[0].contains(piece),
            "{piece:?} missing from {stderr:?}"
        );
    }
    lines[0].to_string()
}

/// Every file of a directory with its bytes (none when it does not exist), for "nothing
/// changed" checks.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter(|e| e.file_name() != "netavark.lock")
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn container_names(host: &Host) -> Vec<String> {
    host.podnet_json(&["ps", "--format", "json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap().to_string())
        .collect()
}

fn aardvark_config(host: &Host, network: &str) -> String {
    std::fs::read_to_string(host.root.path().join("netavark/aardvark-dns").join(network))
        .unwrap_or_default()
}

#[test]
fn an_alias_newline_is_refused_at_create_and_connect_and_reaches_no_dns_config() {
    if !can_run("an_alias_newline_is_refused_at_create_and_connect_and_reaches_no_dns_config") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.232.7.0/24", "hdns"]);
    host.podnet(&["network", "create", "--subnet", "10.232.8.0/24", "hdns2"]);
    host.podnet(&["create", "victim", "--network", "hdns"]);
    let started = host.start_json("victim");
    let victim_id = started["Id"].as_str().unwrap().to_string();
    let networks = host.root.path().join("networks");
    let before = (
        snapshot(&networks),
        container_names(&host),
        aardvark_config(&host, "hdns"),
    );
    assert!(
        before.2.contains(&victim_id[..12]),
        "aardvark config: {}",
        before.2
    );

    // the reproduction of the finding: a newline and a fake record for another container
    let injected = format!("hdns:alias=evil\n{} 10.232.7.99  victim", "f".repeat(64));
    let line = refused(
        &host.podnet_out(&["create", "c1", "--network", &injected]),
        &["invalid alias", "\"evil\\n", "white space"],
    );
    assert!(!line.contains("c1\n"), "{line}");
    refused(
        &host.podnet_out(&["create", "c2", "--network", "hdns:alias=evil\n6.6.6.6 x"]),
        &["invalid alias"],
    );
    refused(
        &host.podnet_out(&["connect", "--alias", "a\nb c", "hdns2", "victim"]),
        &["invalid alias \"a\\nb c\""],
    );
    refused(
        &host.podnet_out(&["create", "c3", "--network", "hdns", "--hostname", "h\nx"]),
        &["invalid hostname"],
    );
    refused(
        &host.podnet_out(&["create", "c4", "--network", "hdns", "--dns-search", "a b"]),
        &["invalid search domain"],
    );
    refused(
        &host.podnet_out(&["create", "c5", "--network", "hdns", "--add-host", "garbage"]),
        &["invalid --add-host entry \"garbage\""],
    );

    let after = (
        snapshot(&networks),
        container_names(&host),
        aardvark_config(&host, "hdns"),
    );
    assert_eq!(after.0, before.0, "network files changed");
    assert_eq!(after.1, ["victim"], "containers stored");
    assert_eq!(after.2, before.2, "aardvark-dns config changed");
    for bad in ["evil", "10.232.7.99", "6.6.6.6"] {
        assert!(
            !after.2.contains(bad),
            "{bad} in aardvark config:\n{}",
            after.2
        );
    }
    assert!(
        !aardvark_config(&host, "hdns2").contains("evil"),
        "connect wrote into hdns2's DNS config"
    );
    // the victim is still only on hdns, its record untouched
    let inspect = host.podnet_json(&["inspect", "victim"]);
    let nets = inspect[0]["NetworkSettings"]["Networks"]
        .as_object()
        .unwrap();
    assert_eq!(nets.keys().collect::<Vec<_>>(), ["hdns"]);
}

#[test]
fn a_network_in_use_is_not_removed_by_full_id_or_prefix() {
    if !can_run("a_network_in_use_is_not_removed_by_full_id_or_prefix") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.232.9.0/24", "hbusy"]);
    let net = host.podnet_json(&["network", "inspect", "hbusy"])[0].clone();
    let id = net["id"].as_str().unwrap().to_string();
    let bridge = net["network_interface"].as_str().unwrap().to_string();
    host.podnet(&["create", "web", "--network", "hbusy"]);
    host.podnet(&["start", "web"]);
    for key in [id.as_str(), &id[..12], &id[..4], "hbusy"] {
        refused_with(
            &host.podnet_out(&["network", "rm", key]),
            2,
            &["network hbusy is in use", "web"],
        );
    }
    // nothing happened: the file, the bridge, the lease and a clean stop
    assert!(host.root.path().join("networks/hbusy.json").exists());
    assert!(host.links().contains(&bridge), "bridge {bridge} gone");
    let leases = podnet::StateStore::open(host.state_db())
        .unwrap()
        .list_leases()
        .unwrap();
    assert_eq!(leases.len(), 1, "{leases:?}");
    host.podnet(&["stop", "web"]);
    // a stopped container still on the network keeps it too
    refused_with(
        &host.podnet_out(&["network", "rm", &id[..12]]),
        2,
        &["in use"],
    );
    host.podnet(&["rm", "web"]);
    let removed = host.podnet(&["network", "rm", &id[..12]]);
    assert_eq!(removed, "hbusy\n", "podman prints the removed names");
    assert!(!host.root.path().join("networks/hbusy.json").exists());
}

#[test]
fn create_racing_network_rm_never_leaves_a_container_on_a_missing_network() {
    if !can_run("create_racing_network_rm_never_leaves_a_container_on_a_missing_network") {
        return;
    }
    let host = Host::new();
    let mut both = 0;
    for round in 0..40 {
        let net = format!("hrace{round}");
        host.podnet(&[
            "network",
            "create",
            "--subnet",
            &format!("10.233.{round}.0/24"),
            &net,
        ]);
        let spawn = |args: &[&str]| {
            host.command(PODNET)
                .arg("--root")
                .arg(host.root.path())
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let container = format!("hc{round}");
        let creator = spawn(&["create", &container, "--network", &net]);
        let remover = spawn(&["network", "rm", &net]);
        let created = creator.wait_with_output().unwrap().status.success();
        let removed = remover.wait_with_output().unwrap().status.success();
        if created && removed {
            both += 1;
        }
        let exists = host
            .podnet_out(&["network", "inspect", &net])
            .status
            .success();
        let recorded = container_names(&host).contains(&container);
        assert!(
            !recorded || exists,
            "round {round}: container {container} references the removed network {net}"
        );
        assert_eq!(created, recorded, "round {round}");
        assert_eq!(removed, !exists, "round {round}");
    }
    assert_eq!(
        both, 0,
        "create and network rm both succeeded in {both} of 40 rounds"
    );
}

/// Runs `podnet args` in the fake host and waits at most `limit`; `None` when it had to be
/// killed (it hung).
fn run_bounded(host: &Host, args: &[&str], limit: Duration) -> Option<Output> {
    let mut child = host
        .command(PODNET)
        .arg("--root")
        .arg(host.root.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn a_fifo_a_symlink_and_a_huge_file_in_the_network_dir_neither_hang_nor_balloon() {
    if !can_run("a_fifo_a_symlink_and_a_huge_file_in_the_network_dir_neither_hang_nor_balloon") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.232.10.0/24", "hreal"]);
    let dir = host.root.path().join("networks");
    nix::unistd::mkfifo(
        &dir.join("hfifo.json"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("hzero.json")).unwrap();
    // sparse: 200 MB to read, nothing to store
    let huge = std::fs::File::create(dir.join("hhuge.json")).unwrap();
    huge.set_len(200 << 20).unwrap();
    // a hang is what is being tested for: a generous limit, far above a normal run
    let limit = Duration::from_secs(60);
    let ls =
        run_bounded(&host, &["network", "ls", "--format", "json"], limit).expect("network ls hung");
    assert!(
        ls.status.success(),
        "{}",
        String::from_utf8_lossy(&ls.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hreal", "podman"]);
    let warnings = String::from_utf8_lossy(&ls.stderr);
    for f in ["hfifo.json", "hzero.json", "hhuge.json"] {
        assert!(warnings.contains(f), "no warning about {f}: {warnings}");
    }
    for (name, why) in [
        ("hfifo", "FIFO"),
        ("hzero", "symbolic link"),
        ("hhuge", "1048576-byte limit"),
    ] {
        // the other files' warnings are logs; the answer is the one error line
        let quiet = ["--log-level", "error"];
        let out = run_bounded(
            &host,
            &[&quiet[..], &["network", "inspect", name]].concat(),
            limit,
        )
        .unwrap_or_else(|| panic!("network inspect {name} hung"));
        refused(&out, &[&format!("{name}.json"), why]);
        let container = format!("c-{name}");
        let create = ["create", container.as_str(), "--network", name];
        let out = run_bounded(&host, &[&quiet[..], &create[..]].concat(), limit)
            .unwrap_or_else(|| panic!("create on {name} hung"));
        refused(&out, &[&format!("{name}.json"), why]);
    }
    host.podnet(&["create", "ok", "--network", "hreal"]);
    assert_eq!(container_names(&host), ["ok"]);
}

/// A tmpfs of `size` mounted on a directory this test owns, unmounted on drop.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn new(size: &str) -> SmallFs {
        let dir = tempfile::Builder::new()
            .prefix("pnthard")
            .tempdir()
            .unwrap();
        nix::mount::mount(
            Some("tmpfs"),
            dir.path(),
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some(format!("size={size},mode=0755").as_str()),
        )
        .unwrap();
        SmallFs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes zeros into a file until the filesystem is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        path
    }

    fn remount_read_only(&self) {
        nix::mount::mount(
            None::<&str>,
            self.path(),
            None::<&str>,
            nix::mount::MsFlags::MS_REMOUNT | nix::mount::MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .unwrap();
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// `podnet --root ROOT args` (no netns needed: these commands touch no interface).
fn podnet_at(root: &Path, args: &[&str]) -> Output {
    Command::new(PODNET)
        .arg("--root")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn names_under(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_full_disk_under_root_is_named_and_leaves_no_partial_state() {
    if !can_run("a_full_disk_under_root_is_named_and_leaves_no_partial_state") {
        return;
    }
    let fs = SmallFs::new("2m");
    let root = fs.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let filler = fs.fill();
    let out = podnet_at(&root, &["ps"]);
    refused(
        &out,
        &[
            &root.join("state.db").display().to_string(),
            "no space left",
        ],
    );
    // no database, no half-made one, no temp file
    let left = names_under(&root);
    assert!(
        left.iter().all(|n| !n.contains("state.db")),
        "left under the root: {left:?}"
    );

    // with room again, a database is made; then the disk fills: a container create fails
    // in one line and stores nothing
    std::fs::remove_file(&filler).unwrap();
    let out = podnet_at(
        &root,
        &["network", "create", "--subnet", "10.232.11.0/24", "hfull"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let filler = fs.fill();
    let out = podnet_at(&root, &["create", "c1", "--network", "hfull"]);
    let line = refused(&out, &[]);
    assert!(
        line.contains("full") || line.contains("no space"),
        "full disk not named: {line}"
    );
    std::fs::remove_file(&filler).unwrap();
    let ps = podnet_at(&root, &["ps", "--format", "json"]);
    assert!(
        ps.status.success(),
        "{}",
        String::from_utf8_lossy(&ps.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ps.stdout).trim(), "[]");
}

#[test]
fn a_disk_filling_up_under_an_open_database_is_named_and_commits_nothing() {
    if !can_run("a_disk_filling_up_under_an_open_database_is_named_and_commits_nothing") {
        return;
    }
    let fs = SmallFs::new("2m");
    let db = fs.path().join("state.db");
    let store = podnet::StateStore::open(&db).unwrap();
    let filler = fs.fill();
    let mut failed = None;
    // a transaction big enough that the WAL must grow
    for i in 0..50 {
        let tx = podnet::testing::begin(&store).and_then(|tx| {
            let record = {
                let mut v = podnet::ContainerRecord::default();
                v.id = format!("{i:064x}");
                v.name = format!("c{i}");
                v.hostname = "x".repeat(4000);
                v
            };
            tx.put_container(&record)?;
            tx.commit()
        });
        if let Err(e) = tx {
            failed = Some(e);
            break;
        }
    }
    let err = failed.expect("50 commits on a full disk all succeeded");
    let text = err.to_string();
    assert!(
        text.contains(&db.display().to_string()) && text.contains("no space left"),
        "{text}"
    );
    std::fs::remove_file(&filler).unwrap();
    let listed = store.list_containers().unwrap();
    assert!(
        listed.iter().all(|c| c.hostname.len() == 4000),
        "a partial record: {listed:?}"
    );
}

#[test]
fn a_read_only_root_is_named() {
    if !can_run("a_read_only_root_is_named") {
        return;
    }
    let fs = SmallFs::new("4m");
    let root = fs.path().join("root");
    std::fs::create_dir(&root).unwrap();
    fs.remount_read_only();
    let out = podnet_at(&root, &["ps"]);
    refused(
        &out,
        &["read-only file system", &root.display().to_string()],
    );
}

/// A zero-length or foreign state database is refused, never reinitialised.
#[test]
fn an_empty_or_foreign_state_database_is_refused() {
    if !can_run("an_empty_or_foreign_state_database_is_refused") {
        return;
    }
    let root = tempfile::Builder::new()
        .prefix("pnthard")
        .tempdir()
        .unwrap();
    let db = root.path().join("state.db");
    std::fs::write(&db, b"").unwrap();
    refused(
        &podnet_at(root.path(), &["ps"]),
        &[
            &db.display().to_string(),
            "not a podnet state database",
            "empty",
        ],
    );
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "the empty file was written"
    );
    std::fs::write(
        &db,
        b"hello, this is not sqlite at all, but it is long enough to look",
    )
    .unwrap();
    refused(
        &podnet_at(root.path(), &["ps"]),
        &["not an SQLite database"],
    );
}

/// `-p` errors say why, in the one line.
#[test]
fn a_bad_publish_spec_names_its_reason() {
    if !can_run("a_bad_publish_spec_names_its_reason") {
        return;
    }
    let root = tempfile::Builder::new()
        .prefix("pnthard")
        .tempdir()
        .unwrap();
    refused(
        &podnet_at(root.path(), &["create", "c", "-p", "70000:80"]),
        &["invalid publish spec \"70000:80\": port \"70000\" is out of range 1-65535"],
    );
    let ps = podnet_at(root.path(), &["ps", "--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&ps.stdout).trim(), "[]");
}
