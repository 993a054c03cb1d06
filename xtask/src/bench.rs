//! `cargo xtask bench`: runs every criterion bench, then prints one table from criterion's
//! saved estimates, with the ratio of each of our functions against each `peer_*` function of
//! the same group (measured in the same run).
//!
//! A peer that fails does not sink the run: the benches retry each peer command a bounded
//! number of times and report a peer that still fails on a `bench-peer:` line
//! (`crates/podnet/benches/peer_support`); it is shown in the table as failed, with its
//! error, and a figure that needed retries says how many. A bench target that crashes does
//! not stop the others (`--no-fail-fast`); the table is printed, then the run fails.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cmd;

/// One measured function: criterion group, function id and mean time in nanoseconds.
struct Measured {
    group: String,
    id: String,
    mean_ns: f64,
}

/// The start of a bench's line about a peer that failed or needed retries.
const PEER_REPORT_PREFIX: &str = "bench-peer: ";

/// The start of a bench's line with a figure that is not a timing (a size, a share).
const FIGURE_PREFIX: &str = "bench-figure: ";

/// The `bench-figure:` lines of a bench run's output, in order.
fn figures(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix(FIGURE_PREFIX))
        .collect()
}

/// A peer function that failed or needed retries, as a bench reported it.
#[derive(Debug, PartialEq)]
struct PeerReport {
    group: String,
    id: String,
    retries: u64,
    error: Option<String>,
}

/// The `bench-peer:` lines of a bench run's output.
fn peer_reports(output: &str) -> Vec<PeerReport> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix(PEER_REPORT_PREFIX))
        .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .filter_map(|v| {
            Some(PeerReport {
                group: v["group"].as_str()?.to_string(),
                id: v["id"].as_str()?.to_string(),
                retries: v["retries"].as_u64().unwrap_or(0),
                error: v["error"].as_str().map(str::to_string),
            })
        })
        .collect()
}

/// Runs the benches (extra args go to `cargo bench`, e.g. `-p podnet-netns`) and prints the table.
pub fn run(extra: &[String]) -> Result<(), String> {
    crate::setup::run(&crate::setup::Wanted::all())?;
    if crate::is_root() {
        // the rootless benches run podnet and podman as the test user
        let user = crate::integration::prepare_test_user()?;
        crate::setup::import_peer_image_for(&user)?;
    }
    let started = SystemTime::now();
    let mut bench = cmd::cargo();
    bench.args(["bench", "--no-fail-fast"]);
    if crate::is_root() {
        // the scale bench measures netavark 2.x too (setup built it)
        let current = crate::tools::install()?;
        bench
            .env(crate::tools::TEST_NETAVARK_ENV, &current.netavark)
            .env(crate::tools::TEST_AARDVARK_ENV, &current.aardvark);
    }
    if !extra.iter().any(|a| a.starts_with("--bench")) {
        // every bench target (and no libtest pass over the unit tests)
        bench.args(["--bench", "*"]);
    }
    if !extra
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package"))
    {
        bench.arg("--workspace");
    }
    bench.args(extra);
    let run = cmd::tee(bench)?;
    // peers report on either stream
    let (ok, output) = (run.ok, format!("{}{}", run.stdout, run.stderr));
    let peers = peer_reports(&output);
    let mut measured = Vec::new();
    collect(&target_dir().join("criterion"), started, &mut measured);
    if measured.is_empty() && peers.is_empty() {
        return Err("no criterion results were written by this run".into());
    }
    measured.sort_by(|a, b| (&a.group, &a.id).cmp(&(&b.group, &b.id)));
    print!("{}", table(&measured, &peers));
    for figure in figures(&output) {
        println!("- {figure}");
    }
    if ok {
        Ok(())
    } else {
        Err("a bench target failed (its output is above); the figures of the others are in the table".into())
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::project_root().join("target"))
}

/// Walks `target/criterion`, keeping estimates written since `since`.
fn collect(dir: &Path, since: SystemTime, out: &mut Vec<Measured>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(m) = read_measurement(&path, since) {
                out.push(m);
            }
        } else {
            collect(&path, since, out);
        }
    }
}

fn read_measurement(dir: &Path, since: SystemTime) -> Option<Measured> {
    let estimates = dir.join("estimates.json");
    let fresh = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let read = |p: PathBuf| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
    };
    let bench = read(dir.join("benchmark.json"))?;
    let est = read(estimates)?;
    let group = bench["group_id"].as_str()?.to_string();
    let id = match (bench["function_id"].as_str(), bench["value_str"].as_str()) {
        (Some(f), Some(v)) => format!("{f}/{v}"),
        (Some(f), None) => f.to_string(),
        (None, Some(v)) => v.to_string(),
        (None, None) => String::from("-"),
    };
    Some(Measured {
        group,
        id,
        mean_ns: est["mean"]["point_estimate"].as_f64()?,
    })
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn table(measured: &[Measured], peers: &[PeerReport]) -> String {
    let report = |group: &str, id: &str| peers.iter().find(|p| p.group == group && p.id == id);
    let failed = |m: &Measured| report(&m.group, &m.id).is_some_and(|p| p.error.is_some());
    let mut out = format!(
        "\n{:<34} {:<28} {:>12}  {}\n",
        "group", "function", "mean", "vs peers"
    );
    for m in measured.iter().filter(|m| !failed(m)) {
        let mut notes: Vec<String> = if m.id.starts_with("peer_") {
            Vec::new()
        } else {
            measured
                .iter()
                .filter(|p| p.group == m.group && p.id.starts_with("peer_") && !failed(p))
                .map(|p| format!("{:.2}x {}", m.mean_ns / p.mean_ns, p.id))
                .collect()
        };
        if let Some(p) = report(&m.group, &m.id).filter(|p| p.retries > 0) {
            notes.push(format!("(includes {} retried command(s))", p.retries));
        }
        out.push_str(&format!(
            "{:<34} {:<28} {:>12}  {}\n",
            m.group,
            m.id,
            human(m.mean_ns),
            notes.join(", ")
        ));
    }
    for p in peers {
        if let Some(error) = &p.error {
            out.push_str(&format!(
                "{:<34} {:<28} {:>12}  {error}\n",
                p.group, p.id, "FAILED"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(group: &str, id: &str, mean_ns: f64) -> Measured {
        Measured {
            group: group.into(),
            id: id.into(),
            mean_ns,
        }
    }

    #[test]
    fn ratios_are_against_peers_of_the_same_group_only() {
        let rows = vec![
            measured("g", "podnet", 500.0),
            measured("g", "peer_ip", 2000.0),
            measured("h", "peer_x", 10.0),
        ];
        let text = table(&rows, &[]);
        let ours = text
            .lines()
            .find(|l| l.contains("podnet"))
            .unwrap_or_default();
        assert!(ours.contains("0.25x peer_ip"), "{ours}");
        assert!(!ours.contains("peer_x"), "{ours}");
    }

    #[test]
    fn a_failed_peer_is_a_row_with_its_error_and_the_other_figures_stay() {
        let output = "criterion noise\n\
            bench-peer: {\"group\":\"g\",\"id\":\"peer_podman\",\"retries\":2,\"error\":\"podman network disconnect failed: netavark: IO error: aardvark pid not found\"}\n\
            bench-peer: {\"group\":\"g\",\"id\":\"peer_netavark\",\"retries\":1,\"error\":null}\n";
        let peers = peer_reports(output);
        assert_eq!(peers.len(), 2);
        let rows = vec![
            measured("g", "podnet", 500.0),
            measured("g", "peer_netavark", 250.0),
            // criterion still wrote an estimate for the failed peer: it must not be used
            measured("g", "peer_podman", 1.0),
        ];
        let text = table(&rows, &peers);
        let ours = text
            .lines()
            .find(|l| l.contains("podnet "))
            .unwrap_or_default();
        assert!(ours.contains("2.00x peer_netavark"), "{ours}");
        assert!(!ours.contains("peer_podman"), "{ours}");
        let failed: Vec<&str> = text.lines().filter(|l| l.contains("peer_podman")).collect();
        assert_eq!(failed.len(), 1, "{text}");
        assert!(
            failed[0].contains("FAILED") && failed[0].contains("aardvark pid not found"),
            "{text}"
        );
        let retried = text
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some("peer_netavark"))
            .unwrap_or_default();
        assert!(retried.contains("includes 1 retried"), "{retried}");
    }

    #[test]
    fn figure_lines_are_listed_in_order() {
        let out = "noise\nbench-figure: a: 1\nbench-peer: {}\nbench-figure: b: 2\n";
        assert_eq!(figures(out), ["a: 1", "b: 2"]);
    }

    #[test]
    fn human_units() {
        assert_eq!(human(1500.0), "1.50 µs");
        assert_eq!(human(2_500_000.0), "2.500 ms");
    }
}
