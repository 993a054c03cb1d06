//! Container records: rows of the `containers` table, JSON columns decoded.

use std::path::PathBuf;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::StateError;
use super::record::ContainerRecord;

const COLUMNS: &str = "id, name, hostname, network_mode, port_mappings, networks, dns_servers, \
     dns_search, add_hosts, running, netns_path, network_status, hosts_path, resolv_conf_path, \
     applied_networks, options";

/// Migration 6: the `options` column (`--dns-option`, `--no-hosts`).
pub(crate) const MIGRATION_OPTIONS: &str = "
    ALTER TABLE containers ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
";

/// The `options` column: container options that are neither networks nor ports, one JSON
/// object, so an option added later needs no new column (absent keys read as defaults).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Options {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dns_options: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    no_hosts: bool,
}

fn enc<T: Serialize>(id: &str, field: &'static str, v: &T) -> Result<String, StateError> {
    serde_json::to_string(v).map_err(|source| StateError::Encode {
        id: id.to_owned(),
        field,
        source,
    })
}

fn dec<T: DeserializeOwned>(id: &str, field: &'static str, s: &str) -> Result<T, StateError> {
    serde_json::from_str(s).map_err(|source| StateError::Decode {
        id: id.to_owned(),
        field,
        source,
    })
}

/// The raw row, before JSON decoding.
struct RawRow {
    id: String,
    name: String,
    hostname: String,
    network_mode: String,
    json: [String; 8],
    running: bool,
    paths: [Option<String>; 3],
}

fn raw(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: row.get(0)?,
        name: row.get(1)?,
        hostname: row.get(2)?,
        network_mode: row.get(3)?,
        json: [
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
            row.get(8)?,
            row.get(11)?,
            row.get(14)?,
            row.get(15)?,
        ],
        running: row.get(9)?,
        paths: [row.get(10)?, row.get(12)?, row.get(13)?],
    })
}

fn decode(r: RawRow) -> Result<ContainerRecord, StateError> {
    let id = r.id;
    let [ports, nets, dns, search, hosts, status, applied, options] = r.json;
    let options: Options = dec(&id, "options", &options)?;
    let [netns, hosts_path, resolv] = r.paths;
    Ok(ContainerRecord {
        port_mappings: dec(&id, "port_mappings", &ports)?,
        networks: dec(&id, "networks", &nets)?,
        dns_servers: dec(&id, "dns_servers", &dns)?,
        dns_search: dec(&id, "dns_search", &search)?,
        add_hosts: dec(&id, "add_hosts", &hosts)?,
        network_status: dec(&id, "network_status", &status)?,
        applied_networks: dec(&id, "applied_networks", &applied)?,
        name: r.name,
        hostname: r.hostname,
        network_mode: r.network_mode.parse().map_err(|e: crate::InvalidInput| {
            StateError::BadColumn {
                id: id.clone(),
                field: "network_mode",
                why: e.to_string(),
            }
        })?,
        running: r.running,
        netns_path: netns.map(PathBuf::from),
        hosts_path: hosts_path.map(PathBuf::from),
        resolv_conf_path: resolv.map(PathBuf::from),
        dns_options: options.dns_options,
        no_hosts: options.no_hosts,
        id,
    })
}

fn one(conn: &Connection, key: &str, sql: &str, arg: &str) -> Result<Option<RawRow>, StateError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.query_row([arg], raw).optional())
        .map_err(|source| StateError::ReadContainer {
            key: key.to_owned(),
            source,
        })
}

/// By exact name only.
pub(crate) fn by_name(
    conn: &Connection,
    name: &str,
) -> Result<Option<ContainerRecord>, StateError> {
    let sql = format!("SELECT {COLUMNS} FROM containers WHERE name = ?1");
    one(conn, name, &sql, name)?.map(decode).transpose()
}

/// By exact ID, else exact name, else unique ID prefix.
pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<ContainerRecord>, StateError> {
    let by_id = format!("SELECT {COLUMNS} FROM containers WHERE id = ?1");
    let by_name = format!("SELECT {COLUMNS} FROM containers WHERE name = ?1");
    if let Some(r) = one(conn, key, &by_id, key)? {
        return decode(r).map(Some);
    }
    if let Some(r) = one(conn, key, &by_name, key)? {
        return decode(r).map(Some);
    }
    if key.is_empty() {
        return Ok(None);
    }
    // IDs are hex; a prefix range scan on the primary key, no LIKE escaping.
    let sql = format!("SELECT {COLUMNS} FROM containers WHERE id >= ?1 AND substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 2");
    let rows: Vec<RawRow> = conn
        .prepare_cached(&sql)
        .and_then(|mut st| st.query_map([key], raw)?.collect())
        .map_err(|source| StateError::ReadContainer {
            key: key.to_owned(),
            source,
        })?;
    match rows.len() {
        0 => Ok(None),
        1 => rows.into_iter().next().map(decode).transpose(),
        _ => Err(StateError::AmbiguousContainer {
            prefix: key.to_owned(),
            matches: rows.into_iter().map(|r| r.id).collect(),
        }),
    }
}

/// Inserts or replaces the record with this ID; the name must be free.
pub(crate) fn put(conn: &Connection, rec: &ContainerRecord) -> Result<(), StateError> {
    let id = rec.id.as_str();
    let wr = |source| StateError::WriteContainer {
        id: id.to_owned(),
        source,
    };
    let other: Option<String> = conn
        .prepare_cached("SELECT id FROM containers WHERE name = ?1 AND id <> ?2")
        .and_then(|mut st| st.query_row([&rec.name, &rec.id], |r| r.get(0)).optional())
        .map_err(wr)?;
    if let Some(other_id) = other {
        return Err(StateError::ContainerNameInUse {
            name: rec.name.clone(),
            other_id,
        });
    }
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
    let options = Options {
        dns_options: rec.dns_options.clone(),
        no_hosts: rec.no_hosts,
    };
    let sql = format!(
        "INSERT OR REPLACE INTO containers ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    );
    conn.prepare_cached(&sql)
        .and_then(|mut st| {
            st.execute(params![
                rec.id,
                rec.name,
                rec.hostname,
                rec.network_mode.to_string(),
                enc(id, "port_mappings", &rec.port_mappings).map_err(to_sql)?,
                enc(id, "networks", &rec.networks).map_err(to_sql)?,
                enc(id, "dns_servers", &rec.dns_servers).map_err(to_sql)?,
                enc(id, "dns_search", &rec.dns_search).map_err(to_sql)?,
                enc(id, "add_hosts", &rec.add_hosts).map_err(to_sql)?,
                rec.running,
                path(&rec.netns_path),
                enc(id, "network_status", &rec.network_status).map_err(to_sql)?,
                path(&rec.hosts_path),
                path(&rec.resolv_conf_path),
                enc(id, "applied_networks", &rec.applied_networks).map_err(to_sql)?,
                enc(id, "options", &options).map_err(to_sql)?,
            ])
        })
        .map_err(wr)?;
    Ok(())
}

/// JSON encoding of our own types does not fail in practice; if it does, it
/// surfaces as a write error carrying the cause.
fn to_sql(e: StateError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// Deletes by exact ID; true when a row was deleted.
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool, StateError> {
    conn.prepare_cached("DELETE FROM containers WHERE id = ?1")
        .and_then(|mut st| st.execute([id]))
        .map(|n| n > 0)
        .map_err(|source| StateError::DeleteContainer {
            id: id.to_owned(),
            source,
        })
}

/// Every record, by name.
pub(crate) fn list(conn: &Connection) -> Result<Vec<ContainerRecord>, StateError> {
    let sql = format!("SELECT {COLUMNS} FROM containers ORDER BY name");
    let rows: Vec<RawRow> = conn
        .prepare_cached(&sql)
        .and_then(|mut st| st.query_map([], raw)?.collect())
        .map_err(StateError::ListContainers)?;
    rows.into_iter().map(decode).collect()
}

/// The records whose mode is `container:<owner_id>` (the column holds the owner's full
/// ID), by name.
pub(crate) fn dependents(
    conn: &Connection,
    owner_id: &str,
) -> Result<Vec<ContainerRecord>, StateError> {
    let sql = format!("SELECT {COLUMNS} FROM containers WHERE network_mode = ?1 ORDER BY name");
    let mode = crate::NetworkMode::Container(owner_id.to_string()).to_string();
    let rows: Vec<RawRow> = conn
        .prepare_cached(&sql)
        .and_then(|mut st| st.query_map([&mode], raw)?.collect())
        .map_err(|source| StateError::ReadContainer {
            key: mode.clone(),
            source,
        })?;
    rows.into_iter().map(decode).collect()
}
