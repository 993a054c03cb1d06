//! Privileged: using namespaces from a tokio program and from plain threads, as the crate
//! doc shows: a route socket opened inside, sockets opened inside and driven by the
//! caller's runtime, a current-thread runtime on a netns thread, the sysfs pitfall, and
//! open-by-name / the current thread's namespace. Each test works in its own namespaces.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::Path;

use common::in_private_mount_ns;
use netns::NetNs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `(st_dev, st_ino)`: what identifies a namespace.
fn ns_id(fd: impl AsFd) -> (u64, u64) {
    let st = nix::sys::stat::fstat(fd.as_fd()).unwrap();
    (st.st_dev, st.st_ino)
}

/// Runs `ip ARGS` inside `ns` and asserts it succeeded.
fn ip_in(ns: &NetNs, args: &[&str]) {
    let out = ns.command("ip").unwrap().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Interface names in a `/proc/.../net/dev` file.
fn dev_names(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .collect()
}

fn link_names(ns: &NetNs) -> Vec<(u32, String)> {
    let socket = ns.route_socket().unwrap();
    assert_eq!(socket.netns(), ns.path());
    // used from this thread, which never entered the namespace
    socket
        .links()
        .unwrap()
        .into_iter()
        .map(|l| (l.index, l.name))
        .collect()
}

#[test]
fn a_route_socket_opened_inside_lists_the_namespaces_links_from_outside() {
    in_private_mount_ns(
        "a_route_socket_opened_inside_lists_the_namespaces_links_from_outside",
        |dir| {
            let ns = NetNs::create_in(dir, "embed-route").unwrap();
            assert_eq!(link_names(&ns), [(1, "lo".to_string())]);
            ip_in(
                &ns,
                &[
                    "link", "add", "pnemb-a0", "type", "veth", "peer", "name", "pnemb-b0",
                ],
            );
            let mut names: Vec<String> = link_names(&ns).into_iter().map(|l| l.1).collect();
            names.sort();
            assert_eq!(names, ["lo", "pnemb-a0", "pnemb-b0"]);
            // the test thread's own namespace does not have it
            let here = NetNs::current_thread().unwrap().route_socket().unwrap();
            assert!(!here.links().unwrap().iter().any(|l| l.name == "pnemb-a0"));
            ns.remove().unwrap();
        },
    );
}

#[test]
fn sysfs_and_proc_self_show_the_process_namespace_not_the_threads() {
    in_private_mount_ns(
        "sysfs_and_proc_self_show_the_process_namespace_not_the_threads",
        |dir| {
            let ns = NetNs::create_in(dir, "embed-sysfs").unwrap();
            ip_in(
                &ns,
                &[
                    "link", "add", "pnemb-a1", "type", "veth", "peer", "name", "pnemb-b1",
                ],
            );
            let (thread_self, proc_self, sysfs) = ns
                .run_in(|| {
                    let sysfs: Vec<String> = std::fs::read_dir("/sys/class/net")
                        .unwrap()
                        .map(|e| e.unwrap().file_name().into_string().unwrap())
                        .collect();
                    (
                        dev_names("/proc/thread-self/net/dev"),
                        dev_names("/proc/self/net/dev"),
                        sysfs,
                    )
                })
                .unwrap();
            // the pitfall: both still show the namespace of the main thread / of the mount
            assert!(
                !proc_self.contains(&"pnemb-a1".to_string()),
                "{proc_self:?}"
            );
            assert!(!sysfs.contains(&"pnemb-a1".to_string()), "{sysfs:?}");
            // the alternatives: /proc/thread-self, or a sysfs mounted in a new mount namespace
            let want = vec!["lo", "pnemb-a1", "pnemb-b1"];
            let mut got = thread_self;
            got.sort();
            assert_eq!(got, want);
            let out = ns
                .command("unshare")
                .unwrap()
                .args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg("mount -t sysfs sysfs /sys && ls /sys/class/net")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let mut fresh: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            fresh.sort();
            assert_eq!(fresh, want);
            ns.remove().unwrap();
        },
    );
}

#[test]
fn current_thread_is_the_entered_namespace_on_a_run_in_thread() {
    in_private_mount_ns(
        "current_thread_is_the_entered_namespace_on_a_run_in_thread",
        |dir| {
            let ns = NetNs::create_in(dir, "embed-current").unwrap();
            let inside = ns
                .run_in(|| ns_id(NetNs::current_thread().unwrap()))
                .unwrap();
            assert_eq!(inside, ns_id(&ns));
            assert_ne!(ns_id(NetNs::current_thread().unwrap()), ns_id(&ns));
            ns.remove().unwrap();
        },
    );
}

#[test]
fn open_by_name_opens_a_pin_of_the_default_directory() {
    in_private_mount_ns(
        "open_by_name_opens_a_pin_of_the_default_directory",
        |_dir| {
            // a tmpfs over /run, in this test's private mount namespace only, so the
            // default pin directory /run/netns is this test's own
            nix::mount::mount(
                Some("tmpfs"),
                "/run",
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                Some("mode=0755,size=16m"),
            )
            .unwrap();
            assert_eq!(netns::run_dir().unwrap(), Path::new("/run/netns"));
            let made = NetNs::create_named("embed-byname").unwrap();
            let opened = NetNs::open_by_name("embed-byname").unwrap();
            assert_eq!(opened.path(), Path::new("/run/netns/embed-byname"));
            assert_eq!(ns_id(&opened), ns_id(&made));
            let missing = NetNs::open_by_name("embed-missing").unwrap_err();
            assert_eq!(
                missing.to_string(),
                "cannot open namespace /run/netns/embed-missing: No such file or directory \
                 (os error 2)"
            );
            made.remove().unwrap();
        },
    );
}

#[test]
fn a_current_thread_runtime_on_a_netns_thread_serves_inside() {
    in_private_mount_ns(
        "a_current_thread_runtime_on_a_netns_thread_serves_inside",
        |dir| {
            let ns = NetNs::create_in(dir, "embed-rt").unwrap();
            ip_in(&ns, &["link", "set", "lo", "up"]);
            let outer = tokio::runtime::Runtime::new().unwrap();
            let ns = std::sync::Arc::new(ns);
            let task_ns = ns.clone();
            // the caller's runtime stays responsive: the netns thread is a blocking task
            let (echoed, where_) = outer.block_on(async move {
                tokio::task::spawn_blocking(move || {
                    task_ns.run_in(|| {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        rt.block_on(echo_once_on_loopback())
                    })
                })
                .await
                .unwrap()
                .unwrap()
            });
            assert_eq!(echoed, b"ping");
            assert_eq!(where_, ns_id(&*ns));
            std::sync::Arc::into_inner(ns).unwrap().remove().unwrap();
        },
    );
}

/// Binds an echo server on 127.0.0.1, sends it `ping`, returns the answer and the netns
/// of the thread it ran on.
async fn echo_once_on_loopback() -> (Vec<u8>, (u64, u64)) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await.unwrap();
        conn.write_all(&buf).await.unwrap();
    });
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    let mut answer = vec![0u8; 4];
    client.read_exact(&mut answer).await.unwrap();
    server.await.unwrap();
    (answer, ns_id(NetNs::current_thread().unwrap()))
}

#[test]
fn sockets_opened_inside_are_driven_by_the_callers_runtime() {
    in_private_mount_ns(
        "sockets_opened_inside_are_driven_by_the_callers_runtime",
        |dir| {
            let ns = NetNs::create_in(dir, "embed-fds").unwrap();
            ip_in(&ns, &["link", "set", "lo", "up"]);
            let (listener, mut client) = ns
                .run_in(|| {
                    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                    let client =
                        std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
                    listener.set_nonblocking(true).unwrap();
                    (listener, client)
                })
                .unwrap();
            // the listener lives in the namespace: `ss` there lists it
            let port = format!(":{}", listener.local_addr().unwrap().port());
            let ss = ns.command("ss").unwrap().arg("-Htln").output().unwrap();
            assert!(
                String::from_utf8_lossy(&ss.stdout).contains(&port),
                "{ss:?}"
            );
            client.write_all(b"hello").unwrap();
            let outer = tokio::runtime::Runtime::new().unwrap();
            let handle = outer.handle().clone();
            // a tokio socket made inside, registered with the caller's reactor by entering
            // its handle on the netns thread (without it: "no reactor running")
            let udp = ns
                .run_in(|| {
                    let _reactor = handle.enter();
                    let std_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                    std_udp.set_nonblocking(true).unwrap();
                    tokio::net::UdpSocket::from_std(std_udp).unwrap()
                })
                .unwrap();
            let got = outer.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                conn.read_exact(&mut buf).await.unwrap();
                udp.send_to(&buf, udp.local_addr().unwrap()).await.unwrap();
                let mut back = [0u8; 5];
                let n = udp.recv(&mut back).await.unwrap();
                conn.write_all(&back[..n]).await.unwrap();
                back[..n].to_vec()
            });
            let mut reply = [0u8; 5];
            client.read_exact(&mut reply).unwrap();
            assert_eq!(&reply, b"hello");
            assert_eq!(got, b"hello");
            ns.remove().unwrap();
        },
    );
}
