//! Using the facade from a tokio program: which threads a `Runtime` may move to (checked at
//! compile time), and its blocking calls made through `spawn_blocking` while the reactor
//! keeps serving other tasks. The full connect/disconnect from tokio, as root, is the
//! `podnet-tokio` consumer program (`consumers/`, run by `cargo xtask ci`).
#![allow(clippy::unwrap_used)]
// set field by field as an importer must once the structs are `#[non_exhaustive]`
#![allow(clippy::field_reassign_with_default)]

use std::sync::Arc;

use podnet::{ContainerSpec, Netavark, Network, NetworkRequest, Runtime, RuntimeConfig};

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}

/// `Runtime` moves to another thread (a `spawn_blocking` task) and is shared by tasks as
/// `Arc<Runtime>`: its one SQLite connection is handed to one thread at a time.
#[test]
fn a_runtime_moves_between_threads_and_is_shared_as_it_is() {
    assert_send::<Runtime<Netavark>>();
    assert_send_sync::<Arc<Runtime<Netavark>>>();
    assert_send_sync::<podnet::Error>();
    assert_send_sync::<netns::NetNs>();
}

#[test]
fn blocking_calls_run_in_spawn_blocking_while_the_reactor_serves() {
    let root = tempfile::Builder::new()
        .prefix("pnembed")
        .tempdir()
        .unwrap();
    let backend = match Netavark::new(root.path().join("netavark")) {
        Ok(backend) => backend,
        Err(e) => {
            testkit::skip(
                "blocking_calls_run_in_spawn_blocking_while_the_reactor_serves",
                &format!("needs netavark: {}", podnet::error_chain(&e)),
            );
            return;
        }
    };
    let runtime = Runtime::new(RuntimeConfig::under(root.path()), backend).unwrap();
    let shared = Arc::new(runtime);
    let reactor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (record, ticks) = reactor.block_on(async {
        // a task on the single reactor thread: it only advances if nothing blocks it
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let ticker = tokio::spawn(async move {
            for i in 0u32.. {
                if tx.send(i).is_err() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        let rt = shared.clone();
        let record = tokio::task::spawn_blocking(move || {
            let mut net = Network::default();
            net.name = "pnembed-net".into();
            rt.networks().create(net)?;
            let mut spec = ContainerSpec::default();
            spec.name = "pnembed-c".into();
            spec.networks = vec![NetworkRequest::new("pnembed-net")];
            rt.create(&spec)?;
            rt.container("pnembed-c")
        })
        .await
        .unwrap()
        .unwrap();
        ticker.abort();
        let mut ticks = 0;
        while rx.try_recv().is_ok() {
            ticks += 1;
        }
        (record, ticks)
    });
    assert_eq!(record.name, "pnembed-c");
    assert!(record.networks.contains_key("pnembed-net"), "{record:?}");
    assert!(!record.running);
    assert!(
        ticks > 0,
        "the reactor task never ran while the flow was blocking"
    );
    shared.remove("pnembed-c", false).unwrap();
    assert!(shared.containers().unwrap().is_empty());
}
