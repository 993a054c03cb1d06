//! Rootless podman keeps its networks in `GRAPHROOT/networks` and its `ipam.db` in
//! `RUNROOT/networks`, where the user's storage.conf puts the two roots. Run as the
//! unprivileged test user with a throwaway `HOME`: podnet's default network directory and
//! `ipam.db` path are compared with what rootless podman 4.3 itself reports (`podman info`)
//! without a storage.conf, and with one that moves both roots.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use podnet::{NetworkStore, RuntimeConfig};

/// podman's own answer, `podman info --format TEMPLATE`, as a path.
fn podman_info(template: &str) -> PathBuf {
    let out = Command::new("podman")
        .args(["info", "--format", template])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "podman info: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// podnet's paths are podman's.
fn assert_podnet_follows_podman(graph: &Path, run: &Path) {
    assert_eq!(
        podman_info("{{.Store.GraphRoot}}"),
        graph,
        "podman's graph root"
    );
    assert_eq!(podman_info("{{.Store.RunRoot}}"), run, "podman's run root");
    assert_eq!(NetworkStore::default_dir().unwrap(), graph.join("networks"));
    assert_eq!(
        RuntimeConfig::podman_ipam_db(),
        run.join("networks/ipam.db")
    );
}

#[test]
fn rootless_network_paths_follow_storage_conf_as_podman_does() {
    const NAME: &str = "rootless_network_paths_follow_storage_conf_as_podman_does";
    if !rootless_detect::is_rootless() {
        testkit::skip(
            NAME,
            "running as root (cargo xtask integration runs it as podnet-ci)",
        );
        return;
    }
    if testkit::require_binary(NAME, "podman").is_none() {
        return;
    }
    let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) else {
        testkit::skip(NAME, "needs XDG_RUNTIME_DIR");
        return;
    };
    let tmp = tempfile::Builder::new().prefix("pntrsc").tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // the only test of this binary: nothing else reads the environment meanwhile; podman
    // inherits the same variables
    std::env::set_var("HOME", &home);
    std::env::remove_var("XDG_CONFIG_HOME");
    std::env::remove_var("XDG_DATA_HOME");
    std::env::set_var("STORAGE_DRIVER", "vfs");

    // no storage.conf of the user's: the defaults under the (throwaway) home
    assert_podnet_follows_podman(
        &home.join(".local/share/containers/storage"),
        &runtime.join("containers"),
    );

    // the user's storage.conf moves both roots
    let (graph, run) = (tmp.path().join("graph"), tmp.path().join("run"));
    let conf = home.join(".config/containers");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("storage.conf"),
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            graph.display(),
            run.display()
        ),
    )
    .unwrap();
    assert_podnet_follows_podman(&graph, &run);

    // a storage.conf podman cannot read is named by podnet too
    std::fs::write(conf.join("storage.conf"), "[storage\n").unwrap();
    let err = NetworkStore::default_dir().unwrap_err().to_string();
    assert!(
        err.contains("storage.conf") && err.contains("not valid TOML"),
        "{err}"
    );
}
