//! Unit tests of the file lookup rules, in a temporary tree (never the real `/etc`).

#![allow(clippy::unwrap_used)]

use super::*;
use std::fs;

struct Tree(tempfile::TempDir);

impl Tree {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    /// Creates `rel` (relative to the fake root) with some content.
    fn file(&self, rel: &str) -> &Self {
        let path = self.0.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "").unwrap();
        self
    }

    fn sources(&self, uid: u32, layout: Layout) -> Sources {
        Sources {
            layout,
            ..Sources::under(self.0.path(), uid)
        }
    }

    /// The files found, relative to the fake root.
    fn found(&self, sources: &Sources) -> Vec<String> {
        sources
            .files()
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(self.0.path()).unwrap().display().to_string())
            .collect()
    }
}

const USR: &str = "usr/share/containers";
const ETC: &str = "etc/containers";
const HOME: &str = "home/.config/containers";

fn all_places(t: &Tree) {
    for rel in [
        format!("{USR}/containers.conf"),
        format!("{USR}/containers.conf.d/05-usr.conf"),
        format!("{ETC}/containers.conf"),
        format!("{ETC}/containers.conf.d/20-b.conf"),
        format!("{ETC}/containers.conf.d/10-a.conf"),
        format!("{ETC}/containers.conf.d/notes.txt"),
        format!("{ETC}/containers.conf.d/sub.conf/x.conf"),
        format!("{ETC}/containers.rootless.conf"),
        format!("{ETC}/containers.rootless.conf.d/30-all.conf"),
        format!("{ETC}/containers.rootless.conf.d/1000/40-me.conf"),
        format!("{ETC}/containers.rootless.conf.d/1001/40-other.conf"),
        format!("{ETC}/containers.rootful.conf.d/50-root.conf"),
        format!("{HOME}/containers.conf"),
        format!("{HOME}/containers.conf.d/60-user.conf"),
    ] {
        t.file(&rel);
    }
}

#[test]
fn common_rootful_reads_every_file_in_order_skipping_rootless_and_non_conf() {
    let t = Tree::new();
    all_places(&t);
    assert_eq!(
        t.found(&t.sources(0, Layout::Common)),
        [
            format!("{USR}/containers.conf"),
            format!("{ETC}/containers.conf"),
            format!("{ETC}/containers.conf.d/10-a.conf"),
            format!("{ETC}/containers.conf.d/20-b.conf"),
            format!("{HOME}/containers.conf"),
            format!("{HOME}/containers.conf.d/60-user.conf"),
        ]
    );
}

#[test]
fn common_rootless_adds_rootless_file_dir_and_own_uid_dir() {
    let t = Tree::new();
    all_places(&t);
    assert_eq!(
        t.found(&t.sources(1000, Layout::Common)),
        [
            format!("{USR}/containers.conf"),
            format!("{ETC}/containers.conf"),
            format!("{ETC}/containers.conf.d/10-a.conf"),
            format!("{ETC}/containers.conf.d/20-b.conf"),
            format!("{ETC}/containers.rootless.conf"),
            format!("{ETC}/containers.rootless.conf.d/30-all.conf"),
            format!("{ETC}/containers.rootless.conf.d/1000/40-me.conf"),
            format!("{HOME}/containers.conf"),
            format!("{HOME}/containers.conf.d/60-user.conf"),
        ]
    );
}

#[test]
fn configfile_reads_one_main_file_and_drop_ins_merged_by_name() {
    let t = Tree::new();
    all_places(&t);
    // same name in the vendor and the user directory: the user's replaces it
    t.file(&format!("{USR}/containers.conf.d/60-user.conf"));
    assert_eq!(
        t.found(&t.sources(0, Layout::ConfigFile)),
        [
            format!("{HOME}/containers.conf"),
            format!("{USR}/containers.conf.d/05-usr.conf"),
            format!("{ETC}/containers.conf.d/10-a.conf"),
            format!("{ETC}/containers.conf.d/20-b.conf"),
            format!("{ETC}/containers.rootful.conf.d/50-root.conf"),
            format!("{HOME}/containers.conf.d/60-user.conf"),
        ]
    );
    assert_eq!(
        t.found(&t.sources(1000, Layout::ConfigFile)),
        [
            format!("{HOME}/containers.conf"),
            format!("{USR}/containers.conf.d/05-usr.conf"),
            format!("{ETC}/containers.conf.d/10-a.conf"),
            format!("{ETC}/containers.conf.d/20-b.conf"),
            format!("{ETC}/containers.rootless.conf.d/30-all.conf"),
            format!("{ETC}/containers.rootless.conf.d/1000/40-me.conf"),
            format!("{HOME}/containers.conf.d/60-user.conf"),
        ]
    );
}

#[test]
fn configfile_main_file_falls_back_from_user_to_admin_to_vendor() {
    let t = Tree::new();
    t.file(&format!("{USR}/containers.conf"));
    assert_eq!(
        t.found(&t.sources(0, Layout::ConfigFile)),
        [format!("{USR}/containers.conf")]
    );
    t.file(&format!("{ETC}/containers.conf"));
    assert_eq!(
        t.found(&t.sources(0, Layout::ConfigFile)),
        [format!("{ETC}/containers.conf")]
    );
}

#[test]
fn containers_conf_replaces_the_chain_and_override_comes_after_modules() {
    let t = Tree::new();
    all_places(&t);
    t.file("elsewhere/only.conf")
        .file("elsewhere/last.conf")
        .file(&format!("{ETC}/containers.conf.modules/net.conf"));
    for layout in [Layout::Common, Layout::ConfigFile] {
        let sources = Sources {
            containers_conf: Some(t.0.path().join("elsewhere/only.conf")),
            containers_conf_override: Some(t.0.path().join("elsewhere/last.conf")),
            modules: vec!["net.conf".into()],
            ..t.sources(0, layout)
        };
        assert_eq!(
            t.found(&sources),
            [
                "elsewhere/only.conf".to_string(),
                format!("{ETC}/containers.conf.modules/net.conf"),
                "elsewhere/last.conf".to_string(),
            ]
        );
    }
}

#[test]
fn override_alone_is_appended_to_the_normal_chain() {
    let t = Tree::new();
    t.file(&format!("{ETC}/containers.conf")).file("o.conf");
    let sources = Sources {
        containers_conf_override: Some(t.0.path().join("o.conf")),
        ..t.sources(0, Layout::Common)
    };
    assert_eq!(
        t.found(&sources),
        [format!("{ETC}/containers.conf"), "o.conf".to_string()]
    );
}

#[test]
fn missing_env_file_is_an_error_naming_the_variable() {
    let t = Tree::new();
    let missing = t.0.path().join("nope.conf");
    let sources = Sources {
        containers_conf_override: Some(missing.clone()),
        ..t.sources(0, Layout::Common)
    };
    let err = sources.files().unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "CONTAINERS_CONF_OVERRIDE file {}: ",
            missing.display()
        )),
        "{err}"
    );
}

#[test]
fn modules_resolve_user_first_only_when_rootless_and_missing_lists_candidates() {
    let t = Tree::new();
    t.file(&format!("{HOME}/containers.conf.modules/m.conf"))
        .file(&format!("{USR}/containers.conf.modules/m.conf"));
    let with = |uid| Sources {
        modules: vec!["m.conf".into()],
        ..t.sources(uid, Layout::Common)
    };
    assert_eq!(
        t.found(&with(1000)),
        [format!("{HOME}/containers.conf.modules/m.conf")]
    );
    assert_eq!(
        t.found(&with(0)),
        [format!("{USR}/containers.conf.modules/m.conf")]
    );

    let missing = Sources {
        modules: vec!["x.conf".into()],
        ..t.sources(0, Layout::Common)
    };
    let root = t.0.path().display();
    assert_eq!(
        missing.files().unwrap_err().to_string(),
        format!("containers.conf module x.conf not found (searched {root}/{ETC}/containers.conf.modules/x.conf, {root}/{USR}/containers.conf.modules/x.conf)")
    );
}

#[test]
fn nothing_present_means_no_files() {
    let t = Tree::new();
    assert!(t.found(&t.sources(1000, Layout::Common)).is_empty());
    assert!(t.found(&t.sources(1000, Layout::ConfigFile)).is_empty());
}
