//! Rootless networking as an unprivileged user (run by `cargo xtask integration` as
//! `podnet-ci`): the user namespace holder, re-exec, and the rootless netns with pasta
//! and slirp4netns (creation, membership, healing, teardown, recovery).
//!
//! Tests that need the user namespace run twice: the outer run (the unprivileged test
//! process) creates a holder in a throwaway directory and re-runs the same test binary,
//! filtered to that one test, inside the holder's namespaces; the inner run does the work.
#![allow(clippy::unwrap_used)]

mod rootless_support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use podnet::{
    in_user_namespace, reexec_in_user_namespace, Reexec, RootlessNetHelper, RootlessNetNs,
    UserNamespace,
};
use rootless_support::*;

/// The user's lowest subordinate uid range, read from /etc/subuid by this test.
fn first_subuid_range() -> (u32, u32) {
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap();
    let uid = user.uid.to_string();
    let text = std::fs::read_to_string("/etc/subuid").unwrap();
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() == 3 && (f[0] == user.name || f[0] == uid))
        .map(|f| (f[1].parse().unwrap(), f[2].parse().unwrap()))
        .min()
        .unwrap()
}

#[test]
fn holder_is_created_once_and_reused() {
    if skip_if_cannot_run("holder_is_created_once_and_reused")
        || skip_if_inside_user_namespace("holder_is_created_once_and_reused")
    {
        return;
    }
    let dir = TestDir::new("holder");
    let holder_dir = dir.0.join("holder");
    let first = UserNamespace::ensure_in(&holder_dir).unwrap();
    let pid = first.pid();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        cmdline.starts_with(b"podnet-pause\0"),
        "{:?}",
        String::from_utf8_lossy(&cmdline)
    );
    drop(first);

    // A second invocation finds the same holder through the pid file.
    let second = UserNamespace::ensure_in(&holder_dir).unwrap();
    assert_eq!(second.pid(), pid);

    // A joined process is uid 0 in the holder's user namespace, mapped to the user and
    // the user's subordinate range.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "id -u; readlink /proc/self/ns/user /proc/self/ns/mnt; cat /proc/self/uid_map",
    ]);
    second.join(&mut cmd).unwrap();
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(
        lines[1],
        std::fs::read_link(format!("/proc/{pid}/ns/user"))
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(
        lines[2],
        std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_ne!(
        lines[1],
        std::fs::read_link("/proc/self/ns/user")
            .unwrap()
            .to_str()
            .unwrap()
    );
    let maps: Vec<Vec<u64>> = lines[3..]
        .iter()
        .map(|l| l.split_whitespace().map(|f| f.parse().unwrap()).collect())
        .collect();
    let uid = u64::from(nix::unistd::geteuid().as_raw());
    assert_eq!(maps[0], vec![0, uid, 1]);
    let (start, count) = first_subuid_range();
    assert_eq!(maps[1], vec![1, u64::from(start), u64::from(count)]);

    // Stopped: the process is gone and the next invocation makes a new one.
    second.stop().unwrap();
    assert!(wait_dead(pid));
    assert!(!holder_dir.join("pause.pid").exists());
    let third = UserNamespace::ensure_in(&holder_dir).unwrap();
    assert_ne!(third.pid(), pid);

    // A pid file naming a live process that is not a holder (this test, with the right
    // pid but the wrong start time; then this test exactly) is not trusted.
    let third_pid = third.pid();
    third.stop().unwrap();
    assert!(wait_dead(third_pid));
    std::fs::write(
        holder_dir.join("pause.pid"),
        format!("{} 1\n", std::process::id()),
    )
    .unwrap();
    assert!(UserNamespace::find_in(&holder_dir).unwrap().is_none());
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let start_time = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap();
    std::fs::write(
        holder_dir.join("pause.pid"),
        format!("{} {start_time}\n", std::process::id()),
    )
    .unwrap();
    assert!(
        UserNamespace::find_in(&holder_dir).unwrap().is_none(),
        "own process taken for a holder"
    );
    std::fs::remove_file(holder_dir.join("pause.pid")).unwrap();
}

#[test]
fn rootless_netns_lifecycle_with_pasta() {
    if skip_if_cannot_run("rootless_netns_lifecycle_with_pasta") {
        return;
    }
    let Some(dir) = inside("rootless_netns_lifecycle_with_pasta") else {
        return;
    };
    let port = loopback_server();
    let host_resolv = dir.join("host-resolv.conf");
    std::fs::write(
        &host_resolv,
        "nameserver 127.0.0.53\nnameserver 10.89.200.53\n",
    )
    .unwrap();
    let mut cfg = config(&dir);
    cfg.resolv_conf = host_resolv.clone();
    let ns = RootlessNetNs::new(cfg);
    let pin = ns.config().pin_path();

    let netns = ns.join("ctr-a").unwrap();
    assert_eq!(netns, pin);
    let status = ns.lock().unwrap().status().unwrap();
    let helper = status.helper_pid;
    let comm = std::fs::read_to_string(format!("/proc/{helper}/comm")).unwrap();
    assert!(comm.starts_with("pass"), "helper is {comm:?}");

    // Outbound: the netns reaches a listener on the host's loopback through pasta.
    assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));

    // Commands run in the netns with private /run and /var and the DNS forwarder.
    let probe = format!("pntrl-probe-{}", std::process::id());
    let script = format!(
        "readlink /proc/self/ns/net; cat {}; touch /run/{probe} /var/{probe}; \
         test -e {} && echo pin-reachable",
        host_resolv.display(),
        pin.display()
    );
    let out = {
        let locked = ns.lock().unwrap();
        let mut cmd = locked.command("sh").unwrap();
        cmd.args(["-c", &script]).output().unwrap()
    };
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let ino = std::fs::metadata(&pin).unwrap().ino();
    assert_eq!(text.lines().next().unwrap(), format!("net:[{ino}]"));
    assert!(
        text.contains("nameserver 169.254.1.1\nnameserver 10.89.200.53\n"),
        "{text}"
    );
    assert!(!text.contains("127.0.0.53"), "{text}");
    assert!(text.contains("pin-reachable"), "{text}");
    assert!(dir.join("state/run").join(&probe).exists());
    assert!(dir.join("state/var").join(&probe).exists());
    assert!(!Path::new("/run").join(&probe).exists());
    assert!(!Path::new("/var").join(&probe).exists());

    // Membership: idempotent add and remove; removed with the last member only.
    assert_eq!(ns.join("ctr-a").unwrap(), netns);
    // A changed host resolv.conf reaches the next command after the next operation.
    std::fs::write(&host_resolv, "nameserver 10.89.201.53\n").unwrap();
    ns.join("ctr-b").unwrap();
    let out = {
        let locked = ns.lock().unwrap();
        let mut cmd = locked.command("cat").unwrap();
        cmd.arg(&host_resolv).output().unwrap()
    };
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "nameserver 169.254.1.1\nnameserver 10.89.201.53\n"
    );
    let members: Vec<String> = ns.lock().unwrap().members().unwrap().into_iter().collect();
    assert_eq!(members, ["ctr-a", "ctr-b"]);
    assert!(!ns.leave("ctr-a").unwrap());
    assert!(!ns.leave("ctr-a").unwrap());
    assert_eq!(ns.lock().unwrap().status().unwrap().helper_pid, helper);
    assert!(ns.leave("ctr-b").unwrap());
    assert!(ns.lock().unwrap().status().is_none());
    assert!(!pin.exists(), "pin left behind");
    assert!(wait_dead(helper), "pasta {helper} still running");
    assert!(ns.leave("ctr-b").unwrap());
}

#[test]
fn killed_pasta_is_healed_on_next_operation() {
    if skip_if_cannot_run("killed_pasta_is_healed_on_next_operation") {
        return;
    }
    let Some(dir) = inside("killed_pasta_is_healed_on_next_operation") else {
        return;
    };
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let netns = ns.join("ctr-h").unwrap();
    let ino = std::fs::metadata(&netns).unwrap().ino();
    let first = ns.lock().unwrap().status().unwrap().helper_pid;
    // With the default configuration, /etc/resolv.conf itself names pasta's forwarder.
    let out = {
        let locked = ns.lock().unwrap();
        let mut cmd = locked.command("cat").unwrap();
        cmd.arg("/etc/resolv.conf").output().unwrap()
    };
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("nameserver 169.254.1.1\n"), "{text}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_dead(first));
    assert!(
        ns.lock().unwrap().status().is_none(),
        "dead pasta not noticed"
    );
    assert!(
        via_gateway(&netns, port).is_err(),
        "reachable without pasta"
    );

    // The next operation restarts pasta in the same netns.
    assert_eq!(ns.join("ctr-h2").unwrap(), netns);
    assert_eq!(
        std::fs::metadata(&netns).unwrap().ino(),
        ino,
        "netns was recreated"
    );
    let second = ns.lock().unwrap().status().unwrap().helper_pid;
    assert_ne!(second, first);
    assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));

    assert!(!ns.leave("ctr-h").unwrap());
    assert!(ns.leave("ctr-h2").unwrap());
    assert!(wait_dead(second));
    assert!(!netns.exists());
}

#[test]
fn slirp4netns_helper_reaches_host_loopback() {
    if skip_if_cannot_run("slirp4netns_helper_reaches_host_loopback") {
        return;
    }
    if !Path::new("/usr/bin/slirp4netns").exists() {
        testkit::skip(
            "slirp4netns_helper_reaches_host_loopback",
            "slirp4netns is not installed",
        );
        return;
    }
    let Some(dir) = inside("slirp4netns_helper_reaches_host_loopback") else {
        return;
    };
    let port = loopback_server();
    let mut cfg = config(&dir);
    cfg.helper = RootlessNetHelper::Slirp4netns;
    let ns = RootlessNetNs::new(cfg);
    let netns = ns.join("ctr-s").unwrap();
    let helper = ns.lock().unwrap().status().unwrap().helper_pid;
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{helper}/comm"))
            .unwrap()
            .trim(),
        "slirp4netns"
    );
    assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));
    assert!(ns.leave("ctr-s").unwrap());
    assert!(wait_dead(helper));
    assert!(!netns.exists());
}

#[test]
fn concurrent_callers_share_one_holder() {
    if skip_if_cannot_run("concurrent_callers_share_one_holder")
        || skip_if_inside_user_namespace("concurrent_callers_share_one_holder")
    {
        return;
    }
    let dir = TestDir::new("race");
    let holder_dir = dir.0.join("holder");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (barrier, holder_dir) = (barrier.clone(), holder_dir.clone());
            std::thread::spawn(move || {
                barrier.wait();
                UserNamespace::ensure_in(&holder_dir).unwrap().pid()
            })
        })
        .collect();
    let pids: std::collections::BTreeSet<u32> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(pids.len(), 1, "several holders: {pids:?}");
    let pid = *pids.first().unwrap();
    UserNamespace::find_in(&holder_dir)
        .unwrap()
        .unwrap()
        .stop()
        .unwrap();
    assert!(wait_dead(pid));
}

const REEXEC_ENV: &str = "PODNET_TEST_REEXEC";

#[test]
fn reexec_runs_the_program_again_inside_the_user_namespace() {
    if skip_if_cannot_run("reexec_runs_the_program_again_inside_the_user_namespace") {
        return;
    }
    let name = "reexec_runs_the_program_again_inside_the_user_namespace";
    if in_user_namespace() {
        // Third level: the re-executed copy, inside the namespaces, in the caller's cwd.
        assert!(std::env::var_os(podnet::testing::USERNS_ENV).is_some());
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(cwd, PathBuf::from(std::env::var_os(DIR_ENV).unwrap()));
        std::fs::write(cwd.join("inner-ran"), "yes").unwrap();
        return;
    }
    if std::env::var_os(REEXEC_ENV).is_some() {
        // Second level: a process of its own (its arguments select only this test), as a
        // CLI's main would do it.
        match reexec_in_user_namespace().unwrap() {
            Reexec::Exited(status) => assert!(status.success(), "re-executed copy: {status}"),
            Reexec::NotNeeded => panic!("an unprivileged process needs the re-exec"),
        }
        return;
    }
    let dir = TestDir::new("reexec");
    let default_dir = UserNamespace::default_dir().unwrap();
    let had_holder = UserNamespace::find_in(&default_dir)
        .unwrap()
        .map(|h| h.pid());
    let status = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(REEXEC_ENV, "1")
        .env(DIR_ENV, &dir.0)
        .current_dir(&dir.0)
        .status()
        .unwrap();
    let holder = UserNamespace::find_in(&default_dir).unwrap();
    if had_holder.is_none() {
        if let Some(h) = holder {
            let pid = h.pid();
            h.stop().unwrap();
            assert!(wait_dead(pid));
        }
        for f in ["pause.lock", "pause.pid"] {
            let _ = std::fs::remove_file(default_dir.join(f));
        }
        let _ = std::fs::remove_dir(&default_dir);
    }
    assert!(status.success(), "{status}");
    assert_eq!(
        std::fs::read_to_string(dir.0.join("inner-ran")).unwrap(),
        "yes"
    );
}

#[test]
fn concurrent_teardown_of_the_last_two_members_leaves_nothing() {
    if skip_if_cannot_run("concurrent_teardown_of_the_last_two_members_leaves_nothing") {
        return;
    }
    let Some(dir) = inside("concurrent_teardown_of_the_last_two_members_leaves_nothing") else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let netns = ns.join("ctr-x").unwrap();
    ns.join("ctr-y").unwrap();
    let helper = ns.lock().unwrap().status().unwrap().helper_pid;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = ["ctr-x", "ctr-y"]
        .into_iter()
        .map(|id| {
            let (ns, barrier) = (ns.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                ns.leave(id).unwrap()
            })
        })
        .collect();
    let torn_down: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(torn_down.iter().filter(|t| **t).count(), 1, "{torn_down:?}");
    assert!(wait_dead(helper), "pasta {helper} still running");
    assert!(!netns.exists());
    assert!(ns.lock().unwrap().members().unwrap().is_empty());
}

const PHASE_ENV: &str = "PODNET_TEST_PHASE";

#[test]
fn rootless_netns_is_recreated_after_the_holder_died() {
    if skip_if_cannot_run("rootless_netns_is_recreated_after_the_holder_died") {
        return;
    }
    let name = "rootless_netns_is_recreated_after_the_holder_died";
    if in_user_namespace() {
        let dir = PathBuf::from(std::env::var_os(DIR_ENV).unwrap());
        let ns = RootlessNetNs::new(config(&dir));
        let phase = std::env::var(PHASE_ENV).unwrap();
        if phase == "1" {
            ns.join("ctr-old").unwrap();
            let old = ns.lock().unwrap().status().unwrap().helper_pid;
            std::fs::write(dir.join("old-helper"), old.to_string()).unwrap();
            return;
        }
        // Phase 2, in a new holder: the pin is a plain file now (its mount died with the
        // old mount namespace) and the recorded pasta is gone.
        let pin = ns.config().pin_path();
        assert!(pin.exists() && !netns::is_netns(&pin));
        assert!(ns.lock().unwrap().status().is_none());
        let port = loopback_server();
        let netns = ns.join("ctr-new").unwrap();
        assert!(netns::is_netns(&netns));
        let helper = ns.lock().unwrap().status().unwrap().helper_pid;
        let old: u32 = std::fs::read_to_string(dir.join("old-helper"))
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(helper, old);
        assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));
        // The old member is still recorded: the facade's teardown of it must be able to
        // leave, and only the last leave removes the netns.
        assert!(!ns.leave("ctr-old").unwrap());
        assert!(ns.leave("ctr-new").unwrap());
        assert!(wait_dead(helper));
        assert!(!netns.exists());
        return;
    }
    let dir = TestDir::new("crash");
    for phase in ["1", "2"] {
        let holder = UserNamespace::ensure_in(&dir.0.join("holder")).unwrap();
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(DIR_ENV, &dir.0)
            .env(PHASE_ENV, phase);
        holder.join(&mut cmd).unwrap();
        let out = output_via_files(&mut cmd, &dir.0);
        // Phase 1 leaves pasta running on purpose: the "crash" kills it with the holder.
        let leftovers = kill_user_namespace(holder.pid());
        holder.stop().unwrap();
        testkit::assert_child_ran(name, &out);
        if phase == "2" {
            assert_eq!(leftovers, Vec::<u32>::new());
        }
    }
}

const SIGNAL_ENV: &str = "PODNET_TEST_SIGNAL";

#[test]
fn reexec_passes_sigterm_to_the_copy() {
    if skip_if_cannot_run("reexec_passes_sigterm_to_the_copy") {
        return;
    }
    let name = "reexec_passes_sigterm_to_the_copy";
    if in_user_namespace() {
        if std::env::var_os(SIGNAL_ENV).is_none() {
            return;
        }
        // Third level: report readiness, then wait to be terminated.
        let dir = PathBuf::from(std::env::var_os(DIR_ENV).unwrap());
        std::fs::write(dir.join("ready"), "").unwrap();
        std::thread::sleep(std::time::Duration::from_secs(30));
        // reached only when SIGTERM was not passed on
        std::fs::write(dir.join("not-terminated"), "").unwrap();
        return;
    }
    if std::env::var_os(SIGNAL_ENV).is_some() {
        // Second level: a process of its own that re-executes itself, with the test
        // harness's other threads running (signals must still be passed on).
        match reexec_in_user_namespace().unwrap() {
            Reexec::Exited(status) => {
                use std::os::unix::process::ExitStatusExt;
                assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
            }
            Reexec::NotNeeded => panic!("an unprivileged process needs the re-exec"),
        }
        return;
    }
    let dir = TestDir::new("signal");
    let default_dir = UserNamespace::default_dir().unwrap();
    let had_holder = UserNamespace::find_in(&default_dir).unwrap().is_some();
    let started = std::time::Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SIGNAL_ENV, "1")
        .env(DIR_ENV, &dir.0)
        .spawn()
        .unwrap();
    while !dir.0.join("ready").exists() {
        assert!(started.elapsed().as_secs() < 20, "the copy never got ready");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    if !had_holder {
        if let Some(h) = UserNamespace::find_in(&default_dir).unwrap() {
            let pid = h.pid();
            h.stop().unwrap();
            assert!(wait_dead(pid));
        }
        for f in ["pause.lock", "pause.pid"] {
            let _ = std::fs::remove_file(default_dir.join(f));
        }
        let _ = std::fs::remove_dir(&default_dir);
    }
    assert!(status.success(), "{status}");
    assert!(
        !dir.0.join("not-terminated").exists(),
        "SIGTERM was not passed on"
    );
}
