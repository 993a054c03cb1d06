//! A tokio program driving the podnet facade through a real connect and disconnect, as
//! root: the real netavark runs in a throwaway network namespace standing for the host
//! (named `pncons<pid>-host`, removed at the end with every file under a temporary root),
//! so the machine's own network is never touched.
//!
//! `Runtime` calls block (netavark, SQLite, file locks), so each runs in
//! `tokio::task::spawn_blocking`; `Runtime` is `Send` and `Sync`, so the tasks share it as
//! `Arc<Runtime>`. Interfaces are checked through netns' route socket, opened
//! inside each namespace and read from the runtime's threads.
// structs are set field by field, the way that keeps compiling when they are #[non_exhaustive]
#![allow(clippy::field_reassign_with_default)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use netns::NetNs;
use podnet::{ContainerSpec, Netavark, Network, NetworkRequest, Runtime, RuntimeConfig};

type Shared = Arc<Runtime<Netavark>>;
type BoxError = Box<dyn Error + Send + Sync>;

fn main() -> ExitCode {
    if !nix_is_root() {
        eprintln!("podnet-tokio: needs root (network namespaces, bridges, firewall rules)");
        return ExitCode::from(2);
    }
    let tag = format!("pncons{}", std::process::id());
    let root = std::env::temp_dir().join(&tag);
    let reactor = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(reactor) => reactor,
        Err(e) => {
            eprintln!("podnet-tokio: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = reactor.block_on(run(&tag, &root));
    let cleaned = cleanup(&tag, &root);
    match (outcome, cleaned) {
        (Ok(()), Ok(())) => {
            println!("podnet-tokio: connect and disconnect done, {tag} cleaned up");
            ExitCode::SUCCESS
        }
        (outcome, cleaned) => {
            for e in [outcome.err(), cleaned.err()].into_iter().flatten() {
                eprintln!("podnet-tokio: {}", podnet::error_chain(e.as_ref()));
            }
            ExitCode::FAILURE
        }
    }
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Runs `f` on the runtime in a blocking task.
async fn blocking<T: Send + 'static>(
    rt: &Shared,
    f: impl FnOnce(&Runtime<Netavark>) -> Result<T, podnet::Error> + Send + 'static,
) -> Result<T, BoxError> {
    let rt = rt.clone();
    let out = tokio::task::spawn_blocking(move || f(&rt).map_err(BoxError::from)).await??;
    Ok(out)
}

/// Interface names in a namespace, through a route socket opened inside it.
async fn links(ns: PathBuf) -> Result<Vec<String>, BoxError> {
    let names = tokio::task::spawn_blocking(move || -> Result<Vec<String>, netns::Error> {
        let links = NetNs::open(&ns)?.route_socket()?.links()?;
        Ok(links.into_iter().map(|l| l.name).collect())
    })
    .await??;
    Ok(names)
}

async fn run(tag: &str, root: &Path) -> Result<(), BoxError> {
    let host = NetNs::create_named(&format!("{tag}-host"))?;
    let up = host
        .command("ip")?
        .args(["link", "set", "lo", "up"])
        .status()?;
    if !up.success() {
        return Err(format!("ip link set lo up in {}: {up}", host.path().display()).into());
    }
    let host = Arc::new(host);
    let backend = Netavark::new(root.join("netavark"))?.host_netns(host.clone());
    let rt: Shared = Arc::new(Runtime::new(RuntimeConfig::under(root), backend)?);
    let (net1, net2) = (format!("{tag}-a"), format!("{tag}-b"));
    let c = format!("{tag}-c");

    let (n1, n2, c1) = (net1.clone(), net2.clone(), c.clone());
    let record = blocking(&rt, move |rt| {
        for name in [&n1, &n2] {
            let mut net = Network::default();
            net.name = name.clone();
            rt.networks().create(net)?;
        }
        let mut spec = ContainerSpec::default();
        spec.name = c1.clone();
        spec.networks = vec![NetworkRequest::new(n1)];
        rt.create(&spec)?;
        rt.setup(&c1)
    })
    .await?;
    let ns = record
        .netns_path
        .clone()
        .ok_or("setup left no netns path")?;
    expect(
        &links(ns.clone()).await?,
        &["eth0"],
        &["eth1"],
        "after setup",
    )?;

    let (c1, n2) = (c.clone(), net2.clone());
    blocking(&rt, move |rt| rt.connect(&c1, &NetworkRequest::new(n2))).await?;
    expect(
        &links(ns.clone()).await?,
        &["eth0", "eth1"],
        &[],
        "after connect",
    )?;
    println!("podnet-tokio: connected {c} to {net2}: eth0 and eth1 in its namespace");

    let (c1, n2) = (c.clone(), net2.clone());
    blocking(&rt, move |rt| rt.disconnect(&c1, &n2)).await?;
    expect(
        &links(ns.clone()).await?,
        &["eth0"],
        &["eth1"],
        "after disconnect",
    )?;
    println!("podnet-tokio: disconnected {c} from {net2}: eth1 is gone");

    let (c1, n1, n2) = (c.clone(), net1.clone(), net2.clone());
    blocking(&rt, move |rt| {
        rt.teardown(&c1)?;
        rt.remove(&c1, false)?;
        rt.networks().remove(&n1)?;
        rt.networks().remove(&n2)?;
        Ok(())
    })
    .await?;
    if ns.exists() {
        return Err(format!("{} is still there after remove", ns.display()).into());
    }
    Ok(())
}

/// Checks that `names` has every `present` and no `absent` interface.
fn expect(names: &[String], present: &[&str], absent: &[&str], when: &str) -> Result<(), BoxError> {
    let has = |n: &&str| names.iter().any(|x| x == n);
    if present.iter().all(has) && !absent.iter().any(has) {
        Ok(())
    } else {
        Err(
            format!("{when}: want {present:?} and none of {absent:?}, container has {names:?}")
                .into(),
        )
    }
}

/// Removes the fake host namespace and the temporary root, whatever happened before.
fn cleanup(tag: &str, root: &Path) -> Result<(), BoxError> {
    let pin = netns::run_dir()?.join(format!("{tag}-host"));
    let mut problems = Vec::new();
    if pin.exists() {
        if let Err(e) = netns::remove(&pin) {
            problems.push(podnet::error_chain(&e));
        }
    }
    // container pins left by a failed run, then the pin directory's own bind mount
    let pins = root.join("netns");
    for entry in std::fs::read_dir(&pins).into_iter().flatten().flatten() {
        if netns::is_netns(entry.path()) {
            if let Err(e) = netns::remove(entry.path()) {
                problems.push(podnet::error_chain(&e));
            }
        }
    }
    if pins.exists() {
        // the directory is bound onto itself (and shared) when its first pin is made
        let _ = std::process::Command::new("umount")
            .arg("--lazy")
            .arg(&pins)
            .stderr(std::process::Stdio::null())
            .status();
    }
    if root.exists() {
        if let Err(e) = std::fs::remove_dir_all(root) {
            problems.push(format!("cannot remove {}: {e}", root.display()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; ").into())
    }
}
