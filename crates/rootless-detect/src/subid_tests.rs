//! Unit tests for `subid`: fixtures in a tempdir, a passwd fixture for names.

use std::path::{Path, PathBuf};

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    host: Host,
}

fn fixture(subuid: &str, subgid: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mut host = Host::system();
    host.subuid = w("subuid", subuid);
    host.subgid = w("subgid", subgid);
    host.users = UserDb::File(w(
        "passwd",
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1500::/home/bob:/bin/sh\n",
    ));
    Fixture { _dir: dir, host }
}

fn m(container_id: u32, host_id: u32, size: u32) -> IdMapping {
    IdMapping {
        container_id,
        host_id,
        size,
    }
}

#[test]
fn parses_with_comments_and_blank_lines() {
    let text = "# comment\n\nalice:100000:65536\n  1001:165536:65536  \n";
    let got = parse_subids(Path::new("/etc/subuid"), text).unwrap();
    assert_eq!(
        got,
        vec![
            SubIdRange {
                owner: "alice".into(),
                start: 100000,
                count: 65536,
                line: 3
            },
            SubIdRange {
                owner: "1001".into(),
                start: 165536,
                count: 65536,
                line: 4
            },
        ]
    );
}

#[test]
fn bad_lines_name_file_and_line() {
    let p = Path::new("/x/subuid");
    let err = |t: &str| parse_subids(p, t).unwrap_err().to_string();
    assert_eq!(
        err("alice:1:1\nbob:100000\n"),
        "invalid line 2 of /x/subuid: \"bob:100000\": expected OWNER:START:COUNT, found 2 fields"
    );
    assert_eq!(
        err(":1:1"),
        "invalid line 1 of /x/subuid: \":1:1\": owner is empty"
    );
    assert!(err("a:-1:5").ends_with("start is not an unsigned decimal number"));
    assert!(err("a:1:9999999999").ends_with("count does not fit in 32 bits"));
    assert!(err("a:1:0").ends_with("count is 0"));
    assert!(err("a:4294967295:1").ends_with("start + count exceeds 4294967295"));
}

#[test]
fn selects_by_name_and_by_uid_lines() {
    let f = fixture(
        "alice:100000:65536\nbob:300000:10\n1000:400000:5\n",
        "alice:100000:65536\n",
    );
    for user in ["alice", "1000"] {
        let got = f.host.available_id_maps(user).unwrap();
        assert_eq!(
            got.uid_maps,
            vec![m(0, 100000, 65536), m(65536, 400000, 5)],
            "user {user}"
        );
        assert_eq!(got.gid_maps, vec![m(0, 100000, 65536)]);
        assert!(got.problems.is_empty(), "{:?}", got.problems);
    }
}

#[test]
fn unknown_user_matches_as_written_and_may_be_empty() {
    let f = fixture("ghost:500:10\n4242:600:10\n", "");
    assert_eq!(
        f.host.available_id_maps("ghost").unwrap().uid_maps,
        vec![m(0, 500, 10)]
    );
    assert_eq!(
        f.host.available_id_maps("4242").unwrap().uid_maps,
        vec![m(0, 600, 10)]
    );
    let none = f.host.available_id_maps("nobody-here").unwrap();
    assert!(none.uid_maps.is_empty() && none.gid_maps.is_empty());
}

#[test]
fn ranges_sorted_and_overlaps_merged_and_reported() {
    let f = fixture(
        "alice:200000:100\nalice:100000:100\nalice:100050:100\nbob:200050:10\n",
        "",
    );
    let got = f.host.available_id_maps("alice").unwrap();
    assert_eq!(got.uid_maps, vec![m(0, 100000, 150), m(150, 200000, 100)]);
    let subuid = f.host.subuid.clone();
    assert_eq!(
        got.problems,
        vec![
            SubIdProblem::Overlap {
                path: subuid.clone(),
                line: 1,
                other_line: 4,
                other_owner: "bob".into()
            },
            SubIdProblem::Overlap {
                path: subuid.clone(),
                line: 2,
                other_line: 3,
                other_owner: "alice".into()
            },
        ]
    );
    assert_eq!(
        got.problems[0].to_string(),
        format!("{} line 1 overlaps line 4 (owner bob)", subuid.display())
    );
}

#[test]
fn own_id_inside_range_is_reported_per_file() {
    // bob: uid 1001, primary gid 1500.
    let f = fixture("bob:1000:10\n", "bob:1000:10\nbob:1400:200\n");
    let got = f.host.available_id_maps("bob").unwrap();
    assert_eq!(
        got.problems,
        vec![
            SubIdProblem::ContainsOwnId {
                path: f.host.subuid.clone(),
                line: 1,
                id: 1001
            },
            SubIdProblem::ContainsOwnId {
                path: f.host.subgid.clone(),
                line: 2,
                id: 1500
            },
        ]
    );
    assert!(got.problems[1]
        .to_string()
        .ends_with("line 2 contains the user's own id 1500"));
}

#[test]
fn missing_file_and_bad_line_errors_name_the_file() {
    let mut f = fixture("alice:1:1\n", "alice:1:1\n");
    let good_subgid = f.host.subgid.clone();
    f.host.subgid = PathBuf::from("/nonexistent/subgid");
    let e = f.host.available_id_maps("alice").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read subordinate id file /nonexistent/subgid: No such file or directory (os \
         error 2)"
    );
    std::fs::write(&good_subgid, "alice:1:1\nalice:oops:1\n").unwrap();
    f.host.subgid = good_subgid.clone();
    let e = f.host.available_id_maps("alice").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("invalid line 2 of {}", good_subgid.display())),
        "{e}"
    );
}

#[test]
fn invalid_user_names_the_input() {
    let f = fixture("", "");
    assert_eq!(
        f.host.available_id_maps("").unwrap_err().to_string(),
        "invalid user \"\": empty"
    );
    assert_eq!(
        f.host.available_id_maps("a:b").unwrap_err().to_string(),
        "invalid user \"a:b\": contains ':' or a newline"
    );
}

#[test]
fn unreadable_passwd_file_is_an_error_naming_it() {
    let mut f = fixture("", "");
    f.host.users = UserDb::File(PathBuf::from("/nonexistent/passwd"));
    assert_eq!(
        f.host.available_id_maps("alice").unwrap_err().to_string(),
        "cannot look up user \"alice\" in /nonexistent/passwd: No such file or directory (os \
         error 2)"
    );
}

#[test]
fn system_user_db_resolves_root() {
    // uid 0 is "root" on any Linux system: a "root:" line matches uid 0.
    let mut f = fixture("root:700:7\n", "");
    f.host.users = UserDb::System;
    assert_eq!(
        f.host.available_id_maps("0").unwrap().uid_maps,
        vec![m(0, 700, 7)]
    );
}

#[test]
fn full_range_user_maps_whole_id_space() {
    let f = fixture("alice:0:4294967295\n", "");
    let got = f.host.available_id_maps("alice").unwrap();
    assert_eq!(got.uid_maps, vec![m(0, 0, u32::MAX)]);
}
