//! `Sources::system` reads the environment (`XDG_CONFIG_HOME`, `HOME`, `CONTAINERS_CONF`,
//! `CONTAINERS_CONF_OVERRIDE`): process-global, so in its own test binary, one test.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use containers_conf::{load, Layout, Sources, ADMIN_DIR, VENDOR_DIR};

#[test]
fn system_sources_follow_the_environment() {
    // SAFETY: this binary has one test and no other thread reads the environment.
    let set = |k: &str, v: Option<&str>| unsafe {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    };
    set("CONTAINERS_CONF", None);
    set("CONTAINERS_CONF_OVERRIDE", None);

    set("XDG_CONFIG_HOME", Some("/xdg"));
    set("HOME", Some("/home/u"));
    let s = Sources::system(1000);
    assert_eq!(s.vendor_dir, Path::new(VENDOR_DIR));
    assert_eq!(s.admin_dir, Path::new(ADMIN_DIR));
    assert_eq!(s.user_dir.as_deref(), Some(Path::new("/xdg/containers")));
    assert_eq!(s.uid, 1000);
    assert_eq!(s.layout, Layout::Common);

    set("XDG_CONFIG_HOME", Some(""));
    let s = Sources::system(0);
    assert_eq!(
        s.user_dir.as_deref(),
        Some(Path::new("/home/u/.config/containers"))
    );
    set("HOME", None);
    set("XDG_CONFIG_HOME", None);
    assert_eq!(Sources::system(0).user_dir, None);

    // CONTAINERS_CONF replaces every system file, CONTAINERS_CONF_OVERRIDE comes last
    let dir = tempfile::tempdir().unwrap();
    let only = dir.path().join("only.conf");
    let last = dir.path().join("last.conf");
    std::fs::write(
        &only,
        "[network]\ndefault_network = \"from-env\"\ndns_bind_port = 54\n",
    )
    .unwrap();
    std::fs::write(&last, "[network]\ndns_bind_port = 55\n").unwrap();
    set("CONTAINERS_CONF", Some(only.to_str().unwrap()));
    set("CONTAINERS_CONF_OVERRIDE", Some(last.to_str().unwrap()));
    let s = Sources::system(0);
    assert_eq!(s.containers_conf.as_deref(), Some(only.as_path()));
    let conf = load(&s).unwrap();
    assert_eq!(conf.files, [only.clone(), last.clone()] as [PathBuf; 2]);
    assert_eq!(conf.network.default_network, "from-env");
    assert_eq!(conf.network.dns_bind_port, Some(55));

    set("CONTAINERS_CONF", None);
    set("CONTAINERS_CONF_OVERRIDE", None);
}
