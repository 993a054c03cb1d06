//! `create`, `start`, `stop`, `rm` and `network connect|disconnect|reload` through the CLI
//! next to a throwaway podman 4.3 (its own
//! storage and network directory, in the same test netns), the same steps on both: the same
//! stdout (a full ID from `create`, each name or ID as given from the others, nothing for a
//! container already running), the same exit codes (125; `rm` 1 for an unknown name, 2 for a
//! running container), one error line per failure, and an unknown name among several
//! changing nothing. Needs root, netavark, aardvark-dns and podman.

#![allow(clippy::unwrap_used)]

mod flows_support;

use std::process::Output;

use flows_support::host_and_podman;

/// What a step printed: exit code, stdout, and how many error lines on stderr.
#[derive(Debug, PartialEq, Eq)]
struct Printed {
    code: Option<i32>,
    stdout: String,
    errors: usize,
}

fn printed(out: &Output, error_prefix: &str) -> Printed {
    let stderr = String::from_utf8_lossy(&out.stderr);
    Printed {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        errors: stderr
            .lines()
            .filter(|l| l.starts_with(error_prefix))
            .count(),
    }
}

/// `stdout`'s lines in the order of `want`'s when they are the same lines.
fn in_order(stdout: &str, want: &str) -> String {
    fn sorted(text: &str) -> Vec<&str> {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines
    }
    if sorted(stdout) == sorted(want) {
        want.to_string()
    } else {
        stdout.to_string()
    }
}

/// A full container ID on one line, as podman prints it.
fn is_full_id(stdout: &str) -> bool {
    let id = stdout.strip_suffix('\n').unwrap_or(stdout);
    id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn container_commands_print_and_exit_as_podman_43_does() {
    let Some((host, podman)) =
        host_and_podman("container_commands_print_and_exit_as_podman_43_does")
    else {
        return;
    };
    podman.import_busybox().unwrap();
    let tag = std::process::id();
    let net = format!("pntcc{tag}");
    // the same network name on both, each with its own subnet (podman 4.3 names its bridge
    // podmanN; podnet's gets its own name, so the two never share one)
    let (s1, s2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    podman.run(&["network", "create", "--subnet", &s1.to_string(), &net]);
    let bridge = format!("pntcc{}", tag % 100_000);
    let subnet = s2.to_string();
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        &subnet,
        "--interface-name",
        &bridge,
        &net,
    ]);
    // a second network of the same name on both, for `network connect` and `disconnect`
    let net2 = format!("pntcc{tag}n");
    let (s3, s4) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    podman.run(&["network", "create", "--subnet", &s3.to_string(), &net2]);
    let bridge2 = format!("pntcd{}", tag % 100_000);
    let subnet2 = s4.to_string();
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        &subnet2,
        "--interface-name",
        &bridge2,
        &net2,
    ]);
    let (c1, c2) = (format!("pntcc{tag}a"), format!("pntcc{tag}b"));

    // create: the new container's full ID; a name taken: 125 and nothing printed
    // (the podman container ends at once on SIGTERM, so its stop takes no 10 s)
    let podman_create = |name: &str| {
        podman.output(&[
            "create",
            "--name",
            name,
            "--network",
            &net,
            testkit::BUSYBOX_IMAGE,
            "sh",
            "-c",
            "trap 'exit 0' TERM; sleep 1000 & wait",
        ])
    };
    let podnet_create = |name: &str| host.podnet_out(&["create", name, "--network", &net]);
    let mut short_ids = (String::new(), String::new());
    let mut c1_ids = (String::new(), String::new());
    for name in [&c1, &c1, &c2] {
        let theirs = printed(&podman_create(name), "Error: ");
        let ours = printed(&podnet_create(name), "podnet: error: ");
        assert_eq!(ours.code, theirs.code, "create {name}: {ours:?} {theirs:?}");
        assert_eq!(ours.errors, theirs.errors, "create {name}");
        match ours.code {
            Some(0) => {
                assert!(is_full_id(&theirs.stdout), "podman: {theirs:?}");
                assert!(is_full_id(&ours.stdout), "podnet: {ours:?}");
                short_ids = (theirs.stdout[..12].into(), ours.stdout[..12].into());
                if name == &c1 {
                    c1_ids = (theirs.stdout[..64].into(), ours.stdout[..64].into());
                }
            }
            _ => assert_eq!(
                (ours, theirs.stdout.as_str()),
                (
                    Printed {
                        code: Some(125),
                        stdout: String::new(),
                        errors: 1
                    },
                    ""
                )
            ),
        }
    }
    // the short IDs of c2, created last; c1's full IDs
    let (podman_c2, podnet_c2) = short_ids;
    let (podman_c1_id, podnet_c1_id) = c1_ids;

    // each step: arguments (`{c2}` is that tool's own short ID of c2), exit code, stdout
    let steps: Vec<(Vec<&str>, i32, String)> = vec![
        (vec!["start", &c1], 0, format!("{c1}\n")),
        // already running: nothing printed
        (vec!["start", &c1], 0, String::new()),
        // as given: the short ID
        (vec!["start", "{c2}", &c1], 0, "{c2}\n".into()),
        // podman's network commands: connect and disconnect print nothing, reload the
        // full ID; an unknown container is one error line
        (vec!["network", "connect", &net2, &c1], 0, String::new()),
        (vec!["network", "reload", &c1], 0, "{c1id}\n".into()),
        (vec!["network", "disconnect", &net2, &c1], 0, String::new()),
        (vec!["network", "reload", "pntccnosuch"], 125, String::new()),
        (
            vec!["network", "connect", &net2, "pntccnosuch"],
            125,
            String::new(),
        ),
        // one unknown name: nothing done
        (vec!["stop", &c1, "pntccnosuch", &c2], 125, String::new()),
        (vec!["rm", &c1], 2, String::new()),
        (vec!["rm", "pntccnosuch", &c1], 1, String::new()),
        (vec!["rm", "-f", "pntccnosuch"], 0, String::new()),
        (vec!["stop", &c1, &c2], 0, format!("{c1}\n{c2}\n")),
        // a stopped container is printed too
        (vec!["stop", &c1], 0, format!("{c1}\n")),
        (vec!["start", &c1], 0, format!("{c1}\n")),
        // c2 removed, c1 running: refused, exit 2
        (vec!["rm", &c2, &c1], 2, format!("{c2}\n")),
        (vec!["rm", "-f", &c1], 0, format!("{c1}\n")),
        (vec!["rm", &c1], 1, String::new()),
    ];
    for (args, code, stdout) in steps {
        let with = |id: &str, c1_id: &str| -> (Vec<String>, String) {
            let args = args.iter().map(|a| a.replace("{c2}", id)).collect();
            (args, stdout.replace("{c2}", id).replace("{c1id}", c1_id))
        };
        let (podman_args, podman_stdout) = with(&podman_c2, &podman_c1_id);
        let (podnet_args, podnet_stdout) = with(&podnet_c2, &podnet_c1_id);
        let podman_args: Vec<&str> = podman_args.iter().map(String::as_str).collect();
        let podnet_args: Vec<&str> = podnet_args.iter().map(String::as_str).collect();
        let mut theirs = printed(&podman.output(&podman_args), "Error: ");
        // podman 4.3 works on several containers in parallel and prints each as it is
        // done; podnet goes in the order given
        theirs.stdout = in_order(&theirs.stdout, &podman_stdout);
        let ours = printed(&host.podnet_out(&podnet_args), "podnet: error: ");
        let want = |stdout: String| Printed {
            code: Some(code),
            stdout,
            errors: usize::from(code != 0),
        };
        assert_eq!(theirs, want(podman_stdout), "podman {podman_args:?}");
        assert_eq!(ours, want(podnet_stdout), "podnet {podnet_args:?}");
    }
    assert_eq!(host.podnet(&["ps", "-q"]), "", "every container removed");
}
