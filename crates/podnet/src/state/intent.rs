//! Flow intents: what a flow is about to ask the backend to create, committed before the
//! backend runs and deleted in the transaction that records the result. A crash in between
//! leaves the intent for `Runtime::reconcile`, so the backend never holds an interface, rule
//! or lease the database does not know about.
//!
//! ```text
//! intents                                    at most one per container
//!   container_id TEXT PRIMARY KEY
//!   kind TEXT                                setup | connect | reload | teardown | disconnect
//!   netns_path TEXT                          the namespace the backend works in
//!   options TEXT                             JSON: the exact backend options
//!   new_bridges TEXT                         JSON list: bridges absent before the backend
//!                                            ran (migration 4), the only ones an undo may
//!                                            remove itself
//! ```

use std::path::PathBuf;

use rusqlite::{params, Connection};

use super::error::StateError;
use crate::backend::NetworkOptions;

/// The table, created by schema migration 2.
pub(crate) const MIGRATION: &str = "
    CREATE TABLE intents (
        container_id TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        netns_path TEXT NOT NULL,
        options TEXT NOT NULL
    ) WITHOUT ROWID;
";

/// Migration 4: the bridges a setup or connect may have created.
pub(crate) const MIGRATION_NEW_BRIDGES: &str = "
    ALTER TABLE intents ADD COLUMN new_bridges TEXT NOT NULL DEFAULT '[]';
";

/// Which flow left an intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentKind {
    /// A container's first setup: a new netns and every network.
    Setup,
    /// One more network on a running container.
    Connect,
    /// Teardown and setup again with the same addresses.
    Reload,
    /// A container's whole teardown (finished forward by reconcile).
    Teardown,
    /// One network less on a running container (finished forward by reconcile).
    Disconnect,
}

impl IntentKind {
    fn as_str(self) -> &'static str {
        match self {
            IntentKind::Setup => "setup",
            IntentKind::Connect => "connect",
            IntentKind::Reload => "reload",
            IntentKind::Teardown => "teardown",
            IntentKind::Disconnect => "disconnect",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "setup" => Some(IntentKind::Setup),
            "connect" => Some(IntentKind::Connect),
            "reload" => Some(IntentKind::Reload),
            "teardown" => Some(IntentKind::Teardown),
            "disconnect" => Some(IntentKind::Disconnect),
            _ => None,
        }
    }
}

/// A backend operation that was started but whose result is not recorded yet.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Intent {
    /// The container.
    pub container_id: String,
    /// The flow.
    pub kind: IntentKind,
    /// The network namespace the backend works in.
    pub netns_path: PathBuf,
    /// The exact options given to the backend (what a teardown needs).
    pub options: NetworkOptions,
    /// Bridges of these options' networks that did not exist before the backend ran:
    /// podnet's setup brought them up, so an undo may remove them (when nothing is
    /// attached). Empty for flows that create nothing.
    pub new_bridges: Vec<String>,
}

fn io_err(container: &str, source: rusqlite::Error) -> StateError {
    StateError::Intent {
        container: container.to_string(),
        source,
    }
}

pub(crate) fn put(conn: &Connection, intent: &Intent) -> Result<(), StateError> {
    let id = &intent.container_id;
    let options = serde_json::to_string(&intent.options).map_err(|source| StateError::Encode {
        id: id.clone(),
        field: "intent options",
        source,
    })?;
    let new_bridges =
        serde_json::to_string(&intent.new_bridges).map_err(|source| StateError::Encode {
            id: id.clone(),
            field: "intent new_bridges",
            source,
        })?;
    conn.execute(
        "INSERT OR REPLACE INTO intents (container_id, kind, netns_path, options, new_bridges) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, intent.kind.as_str(), intent.netns_path.to_string_lossy(), options, new_bridges],
    )
    .map_err(|e| io_err(id, e))?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, container_id: &str) -> Result<(), StateError> {
    conn.execute(
        "DELETE FROM intents WHERE container_id = ?1",
        [container_id],
    )
    .map_err(|e| io_err(container_id, e))?;
    Ok(())
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<Intent>, StateError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT container_id, kind, netns_path, options, new_bridges FROM intents ORDER BY container_id",
        )
        .map_err(|e| io_err("*", e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(|e| io_err("*", e))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, kind, netns, options, new_bridges) = row.map_err(|e| io_err("*", e))?;
        let options = serde_json::from_str(&options).map_err(|source| StateError::Decode {
            id: id.clone(),
            field: "intent options",
            source,
        })?;
        let new_bridges =
            serde_json::from_str(&new_bridges).map_err(|source| StateError::Decode {
                id: id.clone(),
                field: "intent new_bridges",
                source,
            })?;
        let kind = IntentKind::parse(&kind).unwrap_or(IntentKind::Setup);
        out.push(Intent {
            container_id: id,
            kind,
            netns_path: PathBuf::from(netns),
            options,
            new_bridges,
        });
    }
    Ok(out)
}
