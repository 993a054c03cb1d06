//! The podman network commands users script against, run through the CLI next to a
//! throwaway podman 4.3 (its own storage and network directory, in the same test netns):
//! same output for the same networks (`ls` tables, `-q`, `--noheading`, `--filter`,
//! `--format` templates with `range`, `if`, `index`, pipes and `printf`, `inspect --format`),
//! same exit codes (`exists`, `rm` of a missing
//! network, usage errors, `-p 80:80/tcp,udp`); then podnet alone with netavark and a running
//! container: `network update` reloading aardvark-dns, `rm` refused (exit 2) and `rm -f`,
//! each bad input one line and no change. Needs root, netavark, aardvark-dns and podman.

#![allow(clippy::unwrap_used)]

mod flows_support;

use std::process::Output;

use flows_support::{can_run, host_and_podman, refused, Host};

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn network_commands_print_and_exit_as_podman_43_does() {
    let Some((host, podman)) = host_and_podman("network_commands_print_and_exit_as_podman_43_does")
    else {
        return;
    };
    let tag = std::process::id();
    let (a, b) = (format!("pntcl{tag}a"), format!("pntcl{tag}longer"));
    let (s1, s2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    // one label each: podman joins a network's labels in `ls` in Go's random map order
    let creates: [Vec<String>; 2] = [
        [
            "network",
            "create",
            "--subnet",
            &s1.to_string(),
            "--label",
            "tier=front",
            &a,
        ]
        .map(String::from)
        .to_vec(),
        [
            "network",
            "create",
            "--subnet",
            &s2.to_string(),
            "--internal",
            &b,
        ]
        .map(String::from)
        .to_vec(),
    ];
    for args in &creates {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // both print the new network's name and nothing else
        assert_eq!(host.podnet(&args), podman.run(&args), "{args:?}");
    }
    let both = |args: &[&str]| (text(&podman.output(args)), host.podnet(args));

    // the default table, with each side's own short IDs masked
    let mask = |out: String, ids: &[String]| {
        ids.iter()
            .fold(out, |out, id| out.replace(&id[..12], "<short--id>_"))
    };
    let ids = |run: &dyn Fn(&[&str]) -> String| -> Vec<String> {
        [&a, &b]
            .iter()
            .map(|n| {
                run(&["network", "inspect", n, "--format", "{{.ID}}"])
                    .trim()
                    .to_string()
            })
            .collect()
    };
    let theirs_ids = ids(&|args| text(&podman.output(args)));
    let ours_ids = ids(&|args| host.podnet(args));
    let filter = format!("name=^pntcl{tag}");
    let (theirs, ours) = both(&["network", "ls", "--filter", &filter]);
    assert_eq!(mask(ours, &ours_ids), mask(theirs, &theirs_ids));

    for args in [
        &[
            "network",
            "ls",
            "--format",
            "table {{.Name}} {{.Driver}} {{.Labels}} {{.Internal}}",
        ][..],
        &["network", "ls", "-q", "--filter", "label=tier=front"],
        &[
            "network",
            "ls",
            "--noheading",
            "--format",
            "table {{.Name}}\\t{{.DNSEnabled}}",
            "--filter",
            &filter,
        ],
        &[
            "network",
            "ls",
            "--filter",
            "driver=bridge",
            "--filter",
            "label!=tier",
            "--format",
            "{{.Name}} {{json .Labels}}",
        ],
        &[
            "network",
            "ls",
            "--filter",
            &format!("id={}", &theirs_ids[0][..6]),
            "-q",
        ],
        &[
            "network",
            "inspect",
            &a,
            "--format",
            "{{.Name}} {{.Driver}} {{.Labels}} {{json .Subnets}} {{.Internal}}",
        ],
        // the Go template constructs scripts use, over podman's struct fields
        &[
            "network",
            "inspect",
            &a,
            &b,
            "--format",
            "{{range .Subnets}}{{.Subnet}} via {{.Gateway}};{{end}} {{index .Labels \"tier\"}} \
             {{if .Internal}}internal{{else if .DNSEnabled}}dns{{else}}plain{{end}} \
             {{.Name | upper}} {{len .Subnets}} {{with .Labels}}{{.tier}}{{end}} \
             {{printf \"%-8s|%3d\" .Driver (len .Subnets)}} {{truncate .NetworkInterface 3}}",
        ],
        &[
            "network",
            "inspect",
            &a,
            &b,
            "--format",
            "{{$n := .Name}}{{range $k, $v := .Labels}}{{$n}}:{{$k}}={{$v}}{{end}} \
             {{range $i, $s := .Subnets}}{{$i}} {{$s.Subnet}} {{$n}}{{end}}",
        ],
        &[
            "network",
            "ls",
            "--filter",
            &filter,
            "--format",
            "table {{.Name}}{{if .Internal}} (internal){{end}} {{.Driver | upper}}",
        ],
        // no container on either side yet: both networks dangle, the default never does
        &[
            "network",
            "ls",
            "--filter",
            "dangling=true",
            "--filter",
            &filter,
            "--format",
            "{{.Name}}",
        ],
        &[
            "network",
            "ls",
            "--filter",
            "dangling=T",
            "--format",
            "{{.Name}}",
        ],
        &[
            "network",
            "ls",
            "--filter",
            "dangling=false",
            "--format",
            "{{.Name}}",
        ],
    ] {
        let (theirs, ours) = both(args);
        if args.iter().any(|a| a.starts_with("id=")) {
            // IDs differ between the two tools: only podman's network has that prefix
            assert_eq!(theirs.trim(), a, "{args:?}");
            continue;
        }
        assert_eq!(ours, theirs, "{args:?}");
    }

    // create options: the files podman 4.3 writes for them (its own ID, time and bridge)
    let (m, n, p) = (
        format!("pntcl{tag}m"),
        format!("pntcl{tag}n"),
        format!("pntcl{tag}p"),
    );
    let s3 = testkit::free_subnet_v4();
    let s4 = testkit::free_subnet_v4().to_string();
    host.sh(&[
        "ip", "link", "add", "pntclp0", "type", "veth", "peer", "name", "pntclp1",
    ]);
    let range = format!(
        "{}/25",
        std::net::Ipv4Addr::from(u32::from(s3.network()) + 128)
    );
    for args in [
        vec![
            "network",
            "create",
            "-d",
            "macvlan",
            "--subnet",
            &s3.to_string(),
            "--ip-range",
            &range,
            &m,
        ],
        vec!["network", "create", "--ipam-driver", "none", &n],
        // `-o parent=` names the parent interface (a veth in the test netns)
        vec![
            "network",
            "create",
            "-d",
            "macvlan",
            "-o",
            "parent=pntclp0",
            "--subnet",
            &s4,
            &p,
        ],
    ] {
        podman.run(&args);
        host.podnet(&args);
        let name = args[args.len() - 1];
        if name == p {
            for dir in [host.root.path().join("networks"), podman.network_dir()] {
                let text = std::fs::read_to_string(dir.join(format!("{p}.json"))).unwrap();
                assert!(
                    text.contains("\"network_interface\": \"pntclp0\""),
                    "{text}"
                );
                assert!(!text.contains("parent"), "{text}");
            }
        }
        let file = |dir: &std::path::Path| {
            let mut v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                    .unwrap();
            for own in ["id", "created", "network_interface"] {
                v.as_object_mut().unwrap().remove(own);
            }
            v
        };
        assert_eq!(
            file(&host.root.path().join("networks")),
            file(&podman.network_dir()),
            "{args:?}"
        );
        let (theirs, ours) = both(&["network", "rm", name]);
        assert_eq!(ours, theirs);
    }
    // what podman 4.3's netavark cannot do: refused by both, podnet naming the version
    for (args, needs) in [
        (
            &[
                "network",
                "create",
                "-d",
                "ipvlan",
                "--subnet",
                "10.255.1.0/24",
                "pntcl-iv",
            ][..],
            "ipvlan needs netavark 1.5",
        ),
        (
            &["network", "create", "--ipam-driver", "dhcp", "pntcl-dh"],
            "needs netavark 1.6",
        ),
    ] {
        assert_eq!(podman.output(args).status.code(), Some(125), "{args:?}");
        let err = refused(&host.podnet_out(args), 125);
        // the suite runs Debian's netavark 1.4: each refusal names the version needed
        assert!(err.contains(needs), "{args:?}: {err}");
    }

    // exit codes
    for (args, code) in [
        (&["network", "exists", &a][..], 0),
        (&["network", "exists", "pntcl-none"], 1),
        (&["network", "rm", "pntcl-none"], 1),
        (&["network", "ls", "--filter", "colour=red"], 125),
        (&["network", "ls", "--filter", "dangling=maybe"], 125),
        (
            &[
                "network",
                "ls",
                "--filter",
                "dangling=1",
                "--filter",
                "dangling=0",
            ],
            125,
        ),
        (&["network", "ls", "--bogus"], 125),
        (&["network", "update"], 125),
    ] {
        let theirs = podman.output(args).status.code();
        let ours = host.podnet_out(args);
        if args[1] != "update" {
            // podman 4.3 has no `network update`: its own usage error is 125 too
            assert_eq!(ours.status.code(), theirs, "{args:?}");
        }
        match code {
            0 | 1 if args[1] == "exists" => {
                assert_eq!(ours.status.code(), Some(code), "{args:?}");
                assert!(ours.stderr.is_empty() && ours.stdout.is_empty(), "{args:?}");
            }
            _ => drop(refused(&ours, code)),
        }
    }

    // `-p` is a comma list of specs in podman's CLI: `80:80/tcp,udp` is refused by both
    podman.import_busybox().unwrap();
    let spec = ["create", "--name", "pntclp", "-p", "8080:80/tcp,udp"];
    let theirs = podman.output(&[&spec[..], &[testkit::BUSYBOX_IMAGE, "true"]].concat());
    assert_eq!(theirs.status.code(), Some(125));
    let err = refused(
        &host.podnet_out(&["create", "pntclp", "-p", "8080:80/tcp,udp"]),
        125,
    );
    assert!(err.contains("8080:80/tcp,udp"), "{err}");
    assert_eq!(host.podnet(&["ps", "-q"]), "", "nothing recorded");

    // prune with a filter removes the same networks on both sides
    let (theirs, ours) = both(&["network", "prune", "-f", "--filter", "label=tier=front"]);
    assert_eq!(
        (ours.as_str(), theirs.as_str()),
        (format!("{a}\n").as_str(), format!("{a}\n").as_str())
    );
    let (theirs, ours) = both(&["network", "ls", "-q", "--filter", &filter]);
    assert_eq!(ours, theirs);
    assert_eq!(ours.trim(), b);
    let (theirs, ours) = both(&["network", "rm", &b]);
    assert_eq!(ours, theirs);
}

#[test]
fn update_reloads_dns_and_rm_force_removes_the_containers() {
    const NAME: &str = "update_reloads_dns_and_rm_force_removes_the_containers";
    if !can_run(NAME) {
        return;
    }
    let host = Host::new();
    let net = format!("pntcu{}", std::process::id());
    let subnet = testkit::free_subnet_v4().to_string();
    host.podnet(&["network", "create", "--subnet", &subnet, &net]);
    host.podnet(&["create", "c1", "--network", &net]);
    // --log-level debug shows the JSON sent to netavark and its answer, as podman's does
    let started = host.podnet_out(&["--log-level", "debug", "start", "c1"]);
    assert!(started.status.success());
    let log = String::from_utf8_lossy(&started.stderr);
    let json_after = |marker: &str| -> serde_json::Value {
        let line = log
            .lines()
            .find_map(|l| l.split_once(marker).map(|(_, json)| json.to_string()))
            .unwrap_or_else(|| panic!("no {marker:?} in the debug log: {log}"));
        serde_json::from_str(&line).unwrap()
    };
    let sent = json_after("sent to netavark: ");
    assert_eq!(sent["container_name"], "c1");
    assert!(sent["network_info"][&net].is_object(), "{sent}");
    let received = json_after("received from netavark: ");
    assert!(
        received[&net]["interfaces"]["eth0"].is_object(),
        "{received}"
    );
    let file = host
        .root
        .path()
        .join("networks")
        .join(format!("{net}.json"));
    let aardvark = host.root.path().join("netavark/aardvark-dns").join(&net);
    let header = || {
        std::fs::read_to_string(&aardvark)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    let gateway = header();

    assert_eq!(
        host.podnet(&[
            "network",
            "update",
            &net,
            "--dns-add",
            "192.0.2.53,192.0.2.54"
        ]),
        format!("{net}\n")
    );
    assert_eq!(header(), format!("{gateway} 192.0.2.53,192.0.2.54"));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        written["network_dns_servers"],
        serde_json::json!(["192.0.2.53", "192.0.2.54"])
    );
    host.podnet(&["network", "update", &net, "--dns-drop", "192.0.2.53"]);
    assert_eq!(header(), format!("{gateway} 192.0.2.54"));

    // bad input: one line, nothing changes
    let before = std::fs::read(&file).unwrap();
    let err = refused(
        &host.podnet_out(&["network", "update", &net, "--dns-add", "not-an-ip"]),
        125,
    );
    assert!(err.contains("not-an-ip"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_eq!(header(), format!("{gateway} 192.0.2.54"));

    // in use: podman's exit code 2, the container keeps running
    let err = refused(&host.podnet_out(&["network", "rm", &net]), 2);
    assert!(err.contains("c1"), "{err}");
    assert!(host
        .podnet(&["ps", "--format", "{{.Names}} {{.State}}"])
        .contains("c1 running"));

    // -f: the container is stopped and removed, then the network
    assert_eq!(
        host.podnet(&["network", "rm", "-f", &net]),
        format!("{net}\n")
    );
    assert_eq!(host.podnet(&["ps", "-q"]), "");
    assert!(host.pins().is_empty(), "{:?}", host.pins());
    assert!(!file.exists());
    assert!(
        !aardvark.exists(),
        "aardvark-dns's entries went with the container"
    );
}

#[test]
fn container_options_reach_the_container_and_bad_ones_exit_as_podman_43() {
    let Some((host, podman)) =
        host_and_podman("container_options_reach_the_container_and_bad_ones_exit_as_podman_43")
    else {
        return;
    };
    podman.import_busybox().unwrap();
    let tag = std::process::id();
    let (n1, n2) = (format!("pntco{tag}a"), format!("pntco{tag}b"));
    let subnet = testkit::free_subnet_v4();
    let base = u32::from(subnet.network());
    let ip = std::net::Ipv4Addr::from(base + 9).to_string();
    let gateway = std::net::Ipv4Addr::from(base + 1).to_string();
    for (net, args) in [
        (&n1, vec!["--subnet".to_string(), subnet.to_string()]),
        (&n2, vec![]),
    ] {
        let mut create = vec!["network", "create"];
        create.extend(args.iter().map(String::as_str));
        create.push(net);
        podman.run(&create);
        host.podnet(&create);
    }

    // bad input: podman 4.3 refuses it too; podnet in one line, recording nothing
    let bad_ip = format!("{}.300", &ip[..ip.rfind('.').unwrap()]);
    for (opts, code) in [
        (vec!["--no-hosts", "--add-host", "a:192.0.2.4"], 125),
        (vec!["--network", &n1, "--ip", &bad_ip], 125),
        (vec!["--expose", "8080:80"], 125),
        (
            vec![
                "--network",
                &n1,
                "--network",
                &n2,
                "--mac-address",
                "02:00:00:00:00:01",
            ],
            125,
        ),
        (
            vec![
                "--network",
                &n1,
                "--network",
                &n2,
                "--network-alias",
                "both",
            ],
            0,
        ),
    ] {
        let theirs = podman.output(
            &[
                &["create", "--name", "pntcobad"][..],
                &opts,
                &[testkit::BUSYBOX_IMAGE, "true"],
            ]
            .concat(),
        );
        let _ = podman.output(&["rm", "-f", "pntcobad"]);
        assert_eq!(theirs.status.code(), Some(code), "podman {opts:?}");
        let ours = host.podnet_out(&[&["create", "pntcobad"][..], &opts].concat());
        if code == 0 {
            assert!(
                ours.status.success(),
                "{opts:?}: {}",
                String::from_utf8_lossy(&ours.stderr)
            );
            host.podnet(&["rm", "pntcobad"]);
        } else {
            refused(&ours, code);
            assert_eq!(host.podnet(&["ps", "-q"]), "", "{opts:?}: nothing recorded");
        }
    }

    // the options on a running container
    host.podnet(&[
        "create",
        "c1",
        "--network",
        &n1,
        "--ip",
        &ip,
        "--mac-address",
        "02:00:00:00:00:07",
        "--network-alias",
        "web",
        "--dns-option",
        "ndots:3",
        "--expose",
        "90",
        "-P",
        "--add-host",
        "gw:host-gateway",
    ]);
    host.podnet(&["start", "c1"]);
    let addr = host.podnet(&["exec", "c1", "--", "ip", "-o", "addr", "show", "eth0"]);
    assert!(addr.contains(&format!("{ip}/24")), "{addr}");
    let link = host.podnet(&["exec", "c1", "--", "ip", "-o", "link", "show", "eth0"]);
    assert!(link.contains("02:00:00:00:00:07"), "{link}");
    // the scripts' idioms read what the container has
    let by_range = host.podnet(&[
        "inspect",
        "c1",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.MacAddress}}{{end}}",
    ]);
    assert_eq!(by_range.trim(), format!("{ip} 02:00:00:00:00:07"));
    let by_index = host.podnet(&[
        "inspect",
        "c1",
        "--format",
        &format!("{{{{join (index .NetworkSettings.Networks \"{n1}\").Aliases \",\"}}}}"),
    ]);
    assert!(by_index.trim().split(',').any(|a| a == "web"), "{by_index}");
    // a network a container uses does not dangle
    let names = |value: &str| {
        let filter = format!("dangling={value}");
        let out = host.podnet(&[
            "network",
            "ls",
            "--filter",
            &filter,
            "--format",
            "{{.Name}}",
        ]);
        out.lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert!(names("false").contains(&n1), "{:?}", names("false"));
    assert!(!names("true").contains(&n1), "{:?}", names("true"));
    let resolv = host.podnet(&["exec", "c1", "--", "cat", "/etc/resolv.conf"]);
    assert!(resolv.lines().any(|l| l == "options ndots:3"), "{resolv}");
    let hosts = host.podnet(&["exec", "c1", "--", "cat", "/etc/hosts"]);
    assert!(
        hosts
            .lines()
            .any(|l| l.split_whitespace().eq([gateway.as_str(), "gw"])),
        "{hosts}"
    );
    let ports = host.podnet(&["ps", "--format", "{{.Names}} {{.Ports}}"]);
    let port = ports
        .trim()
        .strip_prefix("c1 0.0.0.0:")
        .and_then(|p| p.strip_suffix("->90/tcp"))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("-P published 90/tcp on a host port: {ports}"));
    assert_ne!(port, 0);

    // --no-hosts: the container sees the host's own file, podnet writes none
    host.podnet(&["create", "c2", "--network", &n1, "--no-hosts"]);
    host.podnet(&["start", "c2"]);
    let seen = host.podnet(&["exec", "c2", "--", "cat", "/etc/hosts"]);
    assert_eq!(seen, std::fs::read_to_string("/etc/hosts").unwrap());

    // ps --filter: keys AND, values OR
    host.podnet(&["create", "c3", "--network", &n2]);
    let names = |filters: &[&str]| {
        let mut args = vec!["ps", "--format", "{{.Names}}"];
        for f in filters {
            args.extend(["--filter", f]);
        }
        host.podnet(&args)
    };
    assert_eq!(names(&["status=running"]), "c1\nc2\n");
    assert_eq!(names(&["status=created", "name=^c"]), "c3\n");
    assert_eq!(names(&[&format!("network={n2}"), "network=nope"]), "c3\n");
    refused(&host.podnet_out(&["ps", "--filter", "status=exited"]), 125);

    // network inspect, as podman 5's: the running containers on it (c3 is only created)
    let on_n1 = host.podnet_json(&["network", "inspect", &n1]);
    let containers = on_n1[0]["containers"].as_object().unwrap();
    let c1 = containers
        .values()
        .find(|c| c["name"] == "c1")
        .unwrap_or_else(|| panic!("c1 on {n1}: {on_n1}"));
    assert_eq!(c1["interfaces"]["eth0"]["mac_address"], "02:00:00:00:00:07");
    assert_eq!(
        c1["interfaces"]["eth0"]["subnets"][0]["ipnet"],
        format!("{ip}/24")
    );
    let names_on = |net: &str| {
        let out = host.podnet(&[
            "network",
            "inspect",
            net,
            "--format",
            "{{range .Containers}}{{.Name}} {{end}}",
        ]);
        let mut names: Vec<String> = out.split_whitespace().map(str::to_string).collect();
        names.sort();
        names
    };
    assert_eq!(names_on(&n1), ["c1", "c2"], "{on_n1}");
    assert!(names_on(&n2).is_empty(), "c3 is not running");
    host.podnet(&["stop", "c2"]);
    assert_eq!(names_on(&n1), ["c1"], "a stopped container is not on it");
    host.podnet(&["rm", "c3"]);

    host.podnet(&["rm", "-f", "c1"]);
    host.podnet(&["rm", "-f", "c2"]);
    for net in [&n1, &n2] {
        host.podnet(&["network", "rm", net]);
        podman.run(&["network", "rm", net]);
    }
    assert!(host.pins().is_empty());
}

/// Whether `pid` still runs (a zombie counts as ended).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        })
        .unwrap_or(false)
}

/// Waits (polling, generously bounded) until `check` holds; false if it never did.
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..600 {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn exec_processes_end_with_stop_and_rm_force_and_only_they() {
    const NAME: &str = "exec_processes_end_with_stop_and_rm_force_and_only_they";
    if !can_run(NAME) {
        return;
    }
    let host = Host::new();
    let net = format!("pntex{}", std::process::id());
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        &testkit::free_subnet_v4().to_string(),
        &net,
    ]);
    host.podnet(&["create", "c1", "--network", &net]);
    // not started by podnet exec: a process of the same name that must survive
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let bystander = Reaped(
        std::process::Command::new("sleep")
            .arg("1000")
            .spawn()
            .unwrap(),
    );

    for end in [&["stop", "c1"][..], &["rm", "--force", "c1"]] {
        host.podnet(&["start", "c1"]);
        let dir = tempfile::tempdir().unwrap();
        let script = format!(
            "sleep 1000 & echo $! > {d}/inner; echo $$ > {d}/outer; wait",
            d = dir.path().display()
        );
        let mut cmd = host.command(flows_support::PODNET);
        cmd.arg("--root")
            .arg(host.root.path())
            .args(["exec", "c1", "--", "sh", "-c", &script])
            .stdin(std::process::Stdio::null());
        let mut exec = cmd.spawn().unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).ok();
        assert!(
            eventually(|| read("inner").is_some_and(|s| !s.trim().is_empty())),
            "the exec'd shell never started"
        );
        let (outer, inner) = (read("outer").unwrap(), read("inner").unwrap());
        let (outer, inner) = (outer.trim(), inner.trim());
        assert!(alive(outer) && alive(inner));

        host.podnet(end);
        let mut status = None;
        let ended = eventually(|| {
            status = exec.try_wait().unwrap();
            status.is_some()
        });
        if !ended {
            let _ = exec.kill();
            let _ = exec.wait();
        }
        assert!(ended, "{end:?}: podnet exec still waits for its command");
        let status = status.unwrap();
        assert_eq!(status.code(), Some(137), "{end:?}: the exec ends as killed");
        assert!(
            eventually(|| !alive(outer) && !alive(inner)),
            "{end:?}: still running"
        );
        assert!(
            alive(&bystander.0.id().to_string()),
            "{end:?}: only tracked processes end"
        );
    }
    assert_eq!(host.podnet(&["ps", "-q"]), "");
    drop(bystander);
    host.podnet(&["network", "rm", &net]);
}
