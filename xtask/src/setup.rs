//! `cargo xtask setup`: install the Debian packages podnet needs, fix what this machine kind
//! gets wrong (`/dev/net/tun` mode), and, for the test suites, prepare the podman peer.

use std::path::Path;
use std::process::Command;

use crate::cmd;

/// What podnet itself needs at run time.
const RUNTIME_PACKAGES: &[&str] = &[
    "iproute2",
    "netavark",
    "aardvark-dns",
    "iptables",
    "nftables",
    "passt",
    "slirp4netns",
    "uidmap",
    // the CNI reference plugins (/usr/lib/cni) that podnet-cni runs
    "containernetworking-plugins",
    // CNI's dnsname plugin (with dnsmasq): name resolution on podman 4 CNI networks
    "golang-github-containernetworking-plugin-dnsname",
    // not podnet's own needs: the in-container tools of the demo and the tests (ping, nc)
    "busybox-static",
];

/// What the tests and benchmarks compare against, never a dependency: podman 4.3, and the Go
/// references of containers/common and go.etcd.io/bbolt (their source, and Go to build the
/// differential test peers).
const PEER_PACKAGES: &[&str] = &[
    "podman",
    "runc",
    "conmon",
    "catatonit",
    "golang-go",
    "golang-github-containers-common-dev",
    // Go libcni 1.1 sources: podnet-cni's differential test and benchmark peer
    "golang-github-appc-cni-dev",
    // Go bbolt sources: podnet-bbolt's integrity checker and differential peer
    "golang-github-coreos-bbolt-dev",
    // protoc, to build netavark 2.x from the crate registry (tools.rs)
    "protobuf-compiler",
];

/// Which parts of the set-up a command needs.
pub struct Wanted {
    /// Also install and configure the podman peer used by tests and benches.
    pub peers: bool,
}

impl Wanted {
    /// Everything `cargo xtask setup` does by default: the runtime packages and the peers.
    pub fn all() -> Self {
        Wanted { peers: true }
    }
}

/// Installs what is missing (as root on Debian) or explains exactly what is missing.
/// Returns the packages that were already present.
pub fn run(wanted: &Wanted) -> Result<Vec<String>, String> {
    let mut packages: Vec<&str> = RUNTIME_PACKAGES.to_vec();
    if wanted.peers {
        packages.extend_from_slice(PEER_PACKAGES);
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    let present = packages
        .iter()
        .filter(|p| !missing.contains(p))
        .map(|p| p.to_string())
        .collect();
    if missing.is_empty() {
        eprintln!("setup: all {} packages present", packages.len());
    } else {
        install(&missing)?;
    }
    check_executables(wanted)?;
    if crate::is_root() {
        fix_tun_mode()?;
        if wanted.peers {
            configure_podman_peer()?;
            crate::tools::install()?;
        }
    } else {
        eprintln!("setup: not root: /dev/net/tun mode and the podman peer were not checked");
    }
    Ok(present)
}

/// The executables podnet and its suites run, with the package that ships each: a package
/// can be installed while its file is gone (moved away, a broken upgrade).
const EXECUTABLES: &[(&str, &str)] = &[
    ("/usr/lib/podman/netavark", "netavark"),
    ("/usr/lib/podman/aardvark-dns", "aardvark-dns"),
    ("/usr/sbin/iptables-save", "iptables"),
    ("/usr/sbin/ip6tables-save", "iptables"),
    ("/usr/sbin/nft", "nftables"),
    ("/usr/bin/pasta", "passt"),
    ("/usr/bin/slirp4netns", "slirp4netns"),
    ("/usr/bin/newuidmap", "uidmap"),
    ("/usr/bin/newgidmap", "uidmap"),
    ("/bin/busybox", "busybox-static"),
];
const PEER_EXECUTABLES: &[(&str, &str)] =
    &[("/usr/bin/podman", "podman"), ("/usr/bin/go", "golang-go")];

/// Fails naming every expected executable that is missing or not executable.
fn check_executables(wanted: &Wanted) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mut all = EXECUTABLES.to_vec();
    if wanted.peers {
        all.extend_from_slice(PEER_EXECUTABLES);
    }
    let missing: Vec<String> = all
        .iter()
        .filter(|(path, _)| {
            !std::fs::metadata(path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .map(|(path, package)| format!("{path} (package {package})"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "missing executables: {}\n  reinstall: apt-get install --reinstall {}",
        missing.join(", "),
        all.iter()
            .filter(|(p, _)| missing.iter().any(|m| m.starts_with(p)))
            .map(|(_, pkg)| *pkg)
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", package])
        .output()
        .map(|out| out.status.success() && out.stdout == b"installed")
        .unwrap_or(false)
}

fn install(missing: &[&str]) -> Result<(), String> {
    let list = missing.join(" ");
    let debian = Path::new("/etc/debian_version").exists();
    if !debian || !crate::is_root() {
        let why = if debian { "not root" } else { "not Debian" };
        return Err(format!(
            "missing packages: {list}\n  ({why}: cannot install them here)\n  on Debian, as root: \
             apt-get update && apt-get install -y --no-install-recommends {list}"
        ));
    }
    eprintln!("setup: installing {list}");
    let mut update = Command::new("apt-get");
    update.args(["-o", "DPkg::Lock::Timeout=600", "update", "-qq"]);
    cmd::run(update)?;
    let mut apt = Command::new("apt-get");
    apt.env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq"])
        .arg("--no-install-recommends")
        .args(missing);
    cmd::run(apt).map_err(|e| format!("{e}\n  missing packages: {list}"))?;
    let still: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "apt-get ran but these are still missing: {}",
            still.join(" ")
        ))
    }
}

/// Without udev, /dev/net/tun comes up 0600 and pasta/slirp4netns fail for users.
fn fix_tun_mode() -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let tun = Path::new("/dev/net/tun");
    let Ok(meta) = std::fs::metadata(tun) else {
        eprintln!("setup: warning: /dev/net/tun does not exist; rootless networking will fail");
        return Ok(());
    };
    if meta.permissions().mode() & 0o777 != 0o666 {
        std::fs::set_permissions(tun, std::fs::Permissions::from_mode(0o666))
            .map_err(|e| format!("chmod 0666 /dev/net/tun: {e}"))?;
        eprintln!("setup: /dev/net/tun was not 0666 (no udev on this machine); set it to 0666");
    }
    Ok(())
}

const PEER_MARKER: &str = "# written by cargo xtask setup (podnet) for the podman peer";
const PEER_IMAGE: &str = "localhost/busybox:latest";

/// podman 4.3 on this VM kind needs runc, cgroupfs, file events and smaller ulimits; the
/// tests also want an offline image. Idempotent.
fn configure_podman_peer() -> Result<(), String> {
    let conf = Path::new("/etc/containers/containers.conf");
    let current = std::fs::read_to_string(conf).unwrap_or_default();
    if !current.contains("podman-peer.sh") && !current.contains(PEER_MARKER) {
        if conf.exists() {
            let backup = conf.with_extension("conf.podnet-backup");
            std::fs::copy(conf, &backup)
                .map_err(|e| format!("backing up {}: {e}", conf.display()))?;
        }
        let text = format!(
            "{PEER_MARKER}\n[containers]\ndefault_ulimits = [\"nofile=1024:20000\", \"nproc=32768:32768\"]\n\n\
             [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
        );
        std::fs::create_dir_all("/etc/containers").map_err(|e| format!("/etc/containers: {e}"))?;
        std::fs::write(conf, text).map_err(|e| format!("writing {}: {e}", conf.display()))?;
        eprintln!("setup: wrote {} for the podman peer", conf.display());
    }
    let exists = Command::new("podman")
        .args(["image", "exists", PEER_IMAGE])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !exists {
        let tarball = busybox_rootfs_tarball()?;
        let mut import = Command::new("podman");
        import
            .args(["import", "--change", "CMD [\"/bin/sh\"]"])
            .arg(&tarball)
            .arg(PEER_IMAGE);
        cmd::output(import)?;
        eprintln!("setup: imported {PEER_IMAGE} from Debian's static busybox");
    }
    Ok(())
}

/// Imports the peer image into `user`'s rootless podman storage (the rootless bench compares
/// against rootless podman). Idempotent.
pub fn import_peer_image_for(user: &crate::integration::TestUser) -> Result<(), String> {
    let as_user = |args: &[&str]| {
        let mut c = Command::new("runuser");
        c.args(["-u", crate::integration::TEST_USER, "--", "env", "-i"])
            .arg("PATH=/usr/bin:/bin:/usr/sbin:/sbin")
            .arg(format!("HOME={}", user.home.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", user.runtime_dir.display()))
            .args(args)
            .current_dir("/");
        c
    };
    let exists = as_user(&["podman", "image", "exists", PEER_IMAGE])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let tarball = busybox_rootfs_tarball()?;
        let tar = tarball.to_string_lossy().into_owned();
        cmd::output(as_user(&[
            "podman",
            "import",
            "--change",
            "CMD [\"/bin/sh\"]",
            &tar,
            PEER_IMAGE,
        ]))?;
        eprintln!(
            "setup: imported {PEER_IMAGE} for {}",
            crate::integration::TEST_USER
        );
    }
    Ok(())
}

/// A minimal rootfs of Debian's static busybox, as a tarball podman can import offline.
pub fn busybox_rootfs_tarball() -> Result<std::path::PathBuf, String> {
    let tarball = std::path::PathBuf::from("/var/tmp/podnet-busybox-rootfs.tar");
    if tarball.exists() {
        return Ok(tarball);
    }
    let root = std::env::temp_dir().join(format!("podnet-busybox-{}", std::process::id()));
    let dirs = [
        "bin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var",
    ];
    for dir in dirs {
        std::fs::create_dir_all(root.join(dir)).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))
        .map_err(|e| format!("copying /bin/busybox (package busybox-static): {e}"))?;
    let applets = cmd::output({
        let mut c = Command::new(root.join("bin/busybox"));
        c.arg("--list");
        c
    })?;
    for applet in applets.lines().filter(|a| *a != "busybox" && !a.is_empty()) {
        let _ = std::os::unix::fs::symlink("/bin/busybox", root.join("bin").join(applet));
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
        .and_then(|()| std::fs::write(root.join("etc/group"), "root:x:0:\n"))
        .map_err(|e| format!("writing the busybox rootfs: {e}"))?;
    let mut tar = Command::new("tar");
    tar.arg("-C").arg(&root).arg("-cf").arg(&tarball).arg(".");
    let result = cmd::run(tar);
    let _ = std::fs::remove_dir_all(&root);
    result?;
    Ok(tarball)
}
