//! `podnet ps` and `podnet inspect --format`: containers printed as podman prints them
//! (a table by default; `--format json` gives podnet's own summaries).

use std::collections::BTreeMap;
use std::process::ExitCode;

use podnet::ContainerRecord;
use serde_json::{json, Value};

use crate::args::ListArgs;
use crate::output::{emit, Format};
use crate::run::{print, summary, CliError};

/// podnet's `ps` table: podman's columns that podnet knows (no image, command, age).
const PS_TABLE: &str = "table {{.ID}}\t{{.Status}}\t{{.Ports}}\t{{.Networks}}\t{{.Names}}";

fn headers() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("ID", "CONTAINER ID")])
}

/// `ps`: every container.
pub fn ps(records: &[ContainerRecord], list: &ListArgs) -> Result<ExitCode, CliError> {
    if list.quiet {
        emit(
            &records
                .iter()
                .map(|c| format!("{}\n", short(&c.id)))
                .collect::<String>(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    match Format::parse(list.format.as_deref(), PS_TABLE)? {
        Format::Json => print(&records.iter().map(summary).collect::<Vec<_>>()),
        Format::Template(t) => {
            let rows: Vec<Value> = records.iter().map(row).collect();
            emit(&t.render(&rows, &headers(), !list.noheading)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `inspect`: podman's shape (`Id`, `Name`, `NetworkSettings`), as JSON or a template.
pub fn inspect(object: Value, format: Option<&str>) -> Result<ExitCode, CliError> {
    match Format::parse(format, "json")? {
        Format::Json => print(&[object]),
        Format::Template(t) => {
            emit(&t.render(&[object], &headers(), false)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

/// A container under podman's `ps` field names.
fn row(c: &ContainerRecord) -> Value {
    // podman: `0.0.0.0:8080->80/tcp`, ranges as `a-b`
    let ports: Vec<String> = c
        .port_mappings
        .iter()
        .map(|p| {
            let ip = p
                .host_ip
                .map_or_else(|| "0.0.0.0".to_owned(), |ip| ip.to_string());
            let span = |start: u16| match p.range {
                0 | 1 => start.to_string(),
                n => format!("{start}-{}", u32::from(start) + u32::from(n) - 1),
            };
            format!(
                "{ip}:{}->{}/{}",
                span(p.host_port),
                span(p.container_port),
                p.protocol
            )
        })
        .collect();
    json!({
        "ID": short(&c.id),
        "Names": c.name,
        "Hostname": c.hostname,
        "Status": if c.running { "Up" } else { "Created" },
        "State": if c.running { "running" } else { "created" },
        "Ports": ports.join(", "),
        "Networks": c.networks.keys().collect::<Vec<_>>(),
    })
}
