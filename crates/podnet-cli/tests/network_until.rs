//! `network ls` and `network prune` with `--filter until=...`, next to a throwaway podman
//! 4.3 in the same test netns: a network made on each side, a Unix second picked after it,
//! the clock waited past that second, a second network made on each; then both tools list
//! and prune the same networks for the boundary as Unix seconds, as an RFC 3339 time with
//! and without its zone, and as durations; a bad value is one line, exit 125, on both, and
//! changes nothing. Needs root, netavark and podman.

#![allow(clippy::unwrap_used)]

mod flows_support;

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flows_support::{host_and_podman, refused};

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

/// `secs` as `date` prints it with `format` (`-u`: in UTC).
fn date(secs: u64, utc: bool, format: &str) -> String {
    let mut cmd = Command::new("date");
    if utc {
        cmd.arg("-u");
    }
    let out = cmd
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(format)
        .output()
        .unwrap();
    assert!(out.status.success(), "date: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn until_selects_the_networks_created_before_it_as_podman_43_does() {
    let Some((host, podman)) =
        host_and_podman("until_selects_the_networks_created_before_it_as_podman_43_does")
    else {
        return;
    };
    let tag = std::process::id();
    let (old, new) = (format!("pntun{tag}old"), format!("pntun{tag}new"));
    // the same name on both sides, each on its own subnet
    let create = |name: &str| {
        let (s1, s2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
        podman.run(&["network", "create", "--subnet", &s1.to_string(), name]);
        host.podnet(&["network", "create", "--subnet", &s2.to_string(), name]);
    };
    create(&old);
    // a whole second after `old` was made on both sides: the boundary
    let boundary = unix_now().as_secs() + 1;
    while unix_now().as_secs() < boundary {
        std::thread::sleep(Duration::from_millis(50));
    }
    create(&new);

    let ours_only = format!("name=^pntun{tag}");
    let ls = |until: &str| {
        let args = [
            "network", "ls", "-q", "--filter", &ours_only, "--filter", until,
        ];
        let theirs = podman.run(&args);
        let ours = host.podnet(&args);
        assert_eq!(ours, theirs, "{until}");
        ours
    };
    let just_old = format!("{old}\n");
    let both = format!("{new}\n{old}\n");
    for until in [
        format!("until={boundary}"),
        format!("until={}", date(boundary, true, "+%Y-%m-%dT%H:%M:%SZ")),
        format!("until={}", date(boundary, true, "+%Y-%m-%dT%H:%M:%S+00:00")),
        // no zone: the local one, on both sides
        format!("until={}", date(boundary, false, "+%Y-%m-%dT%H:%M:%S")),
    ] {
        assert_eq!(ls(&until), just_old, "{until}");
    }
    assert_eq!(ls("until=-1h"), both);
    assert_eq!(ls("until=1h"), "");

    // bad values: one line naming the input, exit 125, nothing removed
    for filters in [
        &["until=yesterday"][..],
        &["until=10m", "until=1h"][..],
        &["until=2026-13-01"][..],
    ] {
        let mut args = vec!["network", "prune", "-f"];
        for f in filters {
            args.extend(["--filter", f]);
        }
        assert_eq!(podman.output(&args).status.code(), Some(125), "{filters:?}");
        let err = refused(&host.podnet_out(&args), 125);
        assert!(err.contains(filters[filters.len() - 1]), "{err}");
        let mut ls = vec!["network", "ls", "-q"];
        ls.extend(args[3..].iter());
        refused(&host.podnet_out(&ls), 125);
        assert_eq!(host.podnet(&["network", "exists", &old]), "");
    }

    // prune: the old network only, on both sides
    let prune = [
        "network",
        "prune",
        "-f",
        "--filter",
        &format!("until={boundary}"),
    ];
    assert_eq!(host.podnet(&prune), just_old);
    assert_eq!(podman.run(&prune), just_old);
    assert_eq!(ls("until=-1h"), format!("{new}\n"));
    host.podnet(&["network", "rm", &new]);
}
