//! The state database: container network records and IP leases in SQLite.
//!
//! One file (default `/var/lib/podnet/state.db`, rootless
//! `$XDG_DATA_HOME/podnet/state.db`), WAL journal, `synchronous=NORMAL`, a busy
//! timeout so several podnet processes can share it, and write transactions
//! started `IMMEDIATE` (the write lock is taken at `begin`, so two flows never
//! deadlock upgrading a read lock). A flow does all its writes in one
//! [`StateTx`]: a crash before `commit` leaves nothing of it.
//!
//! On networks shared with podman, podman's `ipam.db` is the address authority and the
//! leases below are podnet's own record of it ([`StateStore::with_shared_ipam`]; what a
//! crash or a reboot leaves, and who repairs it, is in `shared_ipam.rs`).
//!
//! Why not `synchronous=FULL`: in WAL mode `NORMAL` is still atomic and consistent, and a
//! commit survives the process being killed (the frames are in the kernel's page cache); only
//! a power loss can take the last commits back. What those commits describe (namespaces,
//! veths, firewall rules, pins under /run) does not survive a power loss either, and
//! `reconcile` brings the records in line after a reboot; the fsync per commit would double
//! the cost of a connect for nothing.
//!
//! The WAL is not checkpointed when a connection closes (each CLI command would pay for
//! a checkpoint and for creating the WAL again); SQLite checkpoints it at 1000 pages.
//!
//! Schema (version 3; `intents`, from version 2, is described in `intent.rs`):
//!
//! ```text
//! schema_version(version INTEGER)            one row; migrations bump it
//!
//! containers                                 one row per container
//!   id TEXT PRIMARY KEY                      full ID
//!   name TEXT UNIQUE NOT NULL
//!   hostname TEXT
//!   network_mode TEXT                        podman's text form: bridge, none, host,
//!                                            ns:PATH, container:OWNER_ID (the dependency),
//!                                            pasta[:args], slirp4netns[:opts]
//!   port_mappings TEXT                       JSON [portmap::PortMapping]
//!   networks TEXT                            JSON {network name: PerNetworkOptions}
//!   dns_servers, dns_search, add_hosts TEXT  JSON arrays
//!   running INTEGER                          0/1: network set up
//!   netns_path TEXT NULL                     netns pin while it exists
//!   network_status TEXT                      JSON {network name: StatusBlock}
//!   hosts_path, resolv_conf_path TEXT NULL
//!   options TEXT                             JSON {dns_options, no_hosts} (migration 5)
//!
//! ipam_networks                              one row per network with leases
//!   key INTEGER PRIMARY KEY                  short key used by the tables below
//!   network_id TEXT UNIQUE, network_name TEXT
//!
//! leases                                     one row per leased address
//!   net INTEGER, ip BLOB                     PRIMARY KEY (net, ip);
//!                                            ip: 4 or 16 bytes big-endian
//!   subnet TEXT                              the subnet in CIDR form
//!   container_id TEXT, interface TEXT        INDEX (container_id, net, subnet)
//!
//! ipam_cursor                                last automatic address per subnet
//!   net INTEGER, subnet TEXT                 PRIMARY KEY (net, subnet)
//!   last_ip BLOB
//!
//! Version 1 keyed leases and cursors by the network's 64-character ID;
//! migration 3 moved them to the `ipam_networks` key.
//! ```

mod containers;
mod error;
mod filter;
mod intent;
mod ipam;
mod leases;
mod open;
mod record;
mod shared_conn;
mod shared_ipam;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use shared_conn::{ConnGuard, SharedConn};

pub use error::StateError;
pub use filter::ContainerFilter;
pub use intent::{Intent, IntentKind};
pub use ipam::check_static_ip;
use leases::LeaseFilter;
pub use record::{ContainerRecord, Lease};

use crate::Network;

/// Busy timeout used unless [`StateStore::open_with_timeout`] says otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Schema migrations; entry `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE containers (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL UNIQUE,
        hostname TEXT NOT NULL,
        network_mode TEXT NOT NULL,
        port_mappings TEXT NOT NULL,
        networks TEXT NOT NULL,
        dns_servers TEXT NOT NULL,
        dns_search TEXT NOT NULL,
        add_hosts TEXT NOT NULL,
        running INTEGER NOT NULL,
        netns_path TEXT,
        network_status TEXT NOT NULL,
        hosts_path TEXT,
        resolv_conf_path TEXT
    );
    CREATE TABLE leases (
        network_id TEXT NOT NULL,
        ip BLOB NOT NULL,
        network_name TEXT NOT NULL,
        subnet TEXT NOT NULL,
        container_id TEXT NOT NULL,
        interface TEXT NOT NULL,
        PRIMARY KEY (network_id, ip)
    ) WITHOUT ROWID;
    CREATE INDEX leases_by_container ON leases (container_id, network_id);
    CREATE TABLE ipam_cursor (
        network_id TEXT NOT NULL,
        subnet TEXT NOT NULL,
        last_ip BLOB NOT NULL,
        PRIMARY KEY (network_id, subnet)
    ) WITHOUT ROWID;
",
    intent::MIGRATION,
    // 3: networks get a small integer key, so lease keys stay short and a
    // subnet's leases fit in few pages (allocation cost barely grows with the
    // number of leases); the container index also covers the subnet.
    "
    CREATE TABLE ipam_networks (
        key INTEGER PRIMARY KEY,
        network_id TEXT NOT NULL UNIQUE,
        network_name TEXT NOT NULL
    );
    INSERT INTO ipam_networks (network_id, network_name)
        SELECT network_id, max(network_name) FROM leases GROUP BY network_id;
    INSERT OR IGNORE INTO ipam_networks (network_id, network_name)
        SELECT DISTINCT network_id, '' FROM ipam_cursor;
    CREATE TABLE leases_v3 (
        net INTEGER NOT NULL,
        ip BLOB NOT NULL,
        subnet TEXT NOT NULL,
        container_id TEXT NOT NULL,
        interface TEXT NOT NULL,
        PRIMARY KEY (net, ip)
    ) WITHOUT ROWID;
    INSERT INTO leases_v3 SELECT n.key, l.ip, l.subnet, l.container_id, l.interface
        FROM leases l JOIN ipam_networks n ON n.network_id = l.network_id;
    DROP TABLE leases;
    ALTER TABLE leases_v3 RENAME TO leases;
    CREATE INDEX leases_by_container ON leases (container_id, net, subnet);
    CREATE TABLE ipam_cursor_v3 (
        net INTEGER NOT NULL,
        subnet TEXT NOT NULL,
        last_ip BLOB NOT NULL,
        PRIMARY KEY (net, subnet)
    ) WITHOUT ROWID;
    INSERT INTO ipam_cursor_v3 SELECT n.key, c.subnet, c.last_ip
        FROM ipam_cursor c JOIN ipam_networks n ON n.network_id = c.network_id;
    DROP TABLE ipam_cursor;
    ALTER TABLE ipam_cursor_v3 RENAME TO ipam_cursor;
",
    intent::MIGRATION_NEW_BRIDGES,
    // 5: the network definitions a running container was set up with
    "ALTER TABLE containers ADD COLUMN applied_networks TEXT NOT NULL DEFAULT '{}';",
    // 6: container options that are neither networks nor ports
    containers::MIGRATION_OPTIONS,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// An open state database, usable from several threads (one at a time: see
/// `shared_conn.rs`); several processes may open the same file.
#[derive(Debug)]
pub struct StateStore {
    conn: SharedConn,
    path: PathBuf,
    /// podman's `ipam.db`, the address authority when set (see `shared_ipam.rs`).
    shared_ipam: Option<PathBuf>,
}

/// One write transaction: every operation of a flow, committed at once.
/// Dropping it without [`StateTx::commit`] rolls everything back.
pub struct StateTx<'a> {
    /// Held from `BEGIN` to `COMMIT` or `ROLLBACK`: no other thread uses the connection
    /// meanwhile.
    conn: ConnGuard<'a>,
    /// True until committed or rolled back; dropping an open transaction rolls it back.
    open: bool,
    shared: Option<shared_ipam::SharedTx>,
    path: &'a Path,
}

impl std::fmt::Debug for StateTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTx")
            .field("path", &self.path)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Drop for StateTx<'_> {
    fn drop(&mut self) {
        // SQLite itself rolls back after some failures (a full disk during COMMIT)
        if self.open && !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(path = %self.path.display(), error = %e, "rollback of a dropped state transaction failed");
            }
        }
    }
}

impl StateStore {
    /// podnet's default database path: `/var/lib/podnet/state.db` for root,
    /// else `$XDG_DATA_HOME/podnet/state.db` (default `~/.local/share`).
    pub fn default_path() -> Option<PathBuf> {
        if !rootless_detect::is_rootless() {
            return Some(PathBuf::from("/var/lib/podnet/state.db"));
        }
        let data = match std::env::var_os("XDG_DATA_HOME") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?)
                .join(".local/share"),
        };
        Some(data.join("podnet/state.db"))
    }

    /// Opens (creating the file and its directory when missing) and migrates
    /// the database at `path`. An existing file that is not a podnet database (empty,
    /// not SQLite, another program's) is refused, never reinitialised.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        Self::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`StateStore::open`] with a busy timeout: how long an operation waits
    /// for another process's transaction before failing.
    pub fn open_with_timeout(
        path: impl AsRef<Path>,
        busy_timeout: Duration,
    ) -> Result<Self, StateError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        if let open::Existing::Missing = open::existing(&path)? {
            // built aside and linked into place: a crash meanwhile leaves no empty file
            let tmp = open::temp_path(&path);
            let built = Self::open_existing(&tmp, busy_timeout);
            match built {
                Ok(store) => drop(store),
                Err(e) => {
                    open::remove_temp(&tmp);
                    return Err(match e {
                        StateError::Unusable { reason, source, .. } => StateError::Unusable {
                            path,
                            reason,
                            source,
                        },
                        other => other,
                    });
                }
            }
            open::publish(&tmp, &path)?;
        }
        Self::open_existing(&path, busy_timeout)
    }

    /// Opens, checks and migrates the database at `path`, which exists.
    fn open_existing(path: &Path, busy_timeout: Duration) -> Result<Self, StateError> {
        let open_err = |source| {
            open::sqlite_failure(path, source, |source| StateError::Open {
                path: path.to_path_buf(),
                source,
            })
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(busy_timeout).map_err(open_err)?;
        // before anything writes to it (WAL mode rewrites the header)
        open::check_ours(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        // Each CLI command opens and closes the database once. By default the last
        // connection to close checkpoints and deletes the WAL (two fsyncs) and the next one
        // creates it again (a directory fsync): a third of podnet's own time in a connect.
        // The WAL stays instead, and is checkpointed when it reaches 1000 pages.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = StateStore {
            conn: SharedConn::new(conn),
            path: path.to_path_buf(),
            shared_ipam: None,
        };
        store.migrate().map_err(|e| match e {
            StateError::Migrate {
                path,
                version,
                source,
            } => open::sqlite_failure(&path.clone(), source, |source| StateError::Migrate {
                path,
                version,
                source,
            }),
            other => other,
        })?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes podman's IPAM database at `ipam_db` the address authority (`None`: podnet's
    /// own leases only): addresses on networks with host-local IPAM are allocated there
    /// first and released there too, so podman and podnet never hand out one address
    /// twice. The caller holds podman's `netavark.lock` around every transaction.
    pub fn with_shared_ipam(mut self, ipam_db: Option<PathBuf>) -> Self {
        self.shared_ipam = ipam_db;
        self
    }

    /// podman's IPAM database, when it is the authority.
    pub fn shared_ipam(&self) -> Option<&Path> {
        self.shared_ipam.as_deref()
    }

    /// The containers holding addresses on `network` in the shared `ipam.db`, whichever
    /// tool they belong to, as (container ID, addresses); none without a shared `ipam.db`.
    pub fn shared_holders(&self, network: &str) -> Result<Vec<(String, Vec<IpAddr>)>, StateError> {
        let Some(path) = self.shared_ipam.as_deref() else {
            return Ok(Vec::new());
        };
        Ok(shared_ipam::holders(path, network)?
            .into_iter()
            .map(|h| (h.container_id, h.ips))
            .collect())
    }

    /// Releases the entries of podnet's own containers (a record or an intent names
    /// them) in the shared `ipam.db` on networks where they hold no lease: what a crash
    /// between the two commits leaves. Returns (network, container ID) of each. Other
    /// tools' entries are never touched.
    pub fn release_unleased_shared(&self) -> Result<Vec<(String, String)>, StateError> {
        let Some(path) = self.shared_ipam.as_deref() else {
            return Ok(Vec::new());
        };
        let known: std::collections::BTreeSet<String> = self
            .list_containers()?
            .into_iter()
            .map(|r| r.id)
            .chain(self.list_intents()?.into_iter().map(|i| i.container_id))
            .collect();
        let leased = self
            .list_leases()?
            .into_iter()
            .map(|l| (l.network_name, l.container_id))
            .collect();
        Ok(shared_ipam::release_unleased(path, &known, &leased)?
            .into_iter()
            .map(|(network, id, _)| (network, id))
            .collect())
    }

    fn migrate(&mut self) -> Result<(), StateError> {
        let path = self.path.clone();
        let conn = self.conn.lock();
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate).map_err(
            |source| StateError::Migrate {
                path: path.clone(),
                version: 0,
                source,
            },
        )?;
        let err = |version| {
            let path = path.clone();
            move |source| StateError::Migrate {
                path,
                version,
                source,
            }
        };
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .map_err(err(0))?;
        let found: Option<u32> = tx
            .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
            .map_err(err(0))?;
        let found = found.unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StateError::SchemaTooNew {
                path,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = i as u32 + 1;
            tx.execute_batch(sql).map_err(err(version))?;
            tx.execute("DELETE FROM schema_version", [])
                .map_err(err(version))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [version],
            )
            .map_err(err(version))?;
            tracing::debug!(path = %path.display(), version, "state schema migrated");
        }
        tx.commit().map_err(err(SCHEMA_VERSION))
    }

    /// Starts a write transaction (waits up to the busy timeout for other
    /// processes' transactions). One transaction at a time per store: a
    /// second `begin` while a [`StateTx`] is alive fails with
    /// [`StateError::Begin`], and the store's read shortcuts meanwhile see
    /// the open transaction's uncommitted writes.
    pub(crate) fn begin(&self) -> Result<StateTx<'_>, StateError> {
        let conn = self.conn.lock();
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| open::sqlite_failure(&self.path, e, StateError::Begin))?;
        let shared = self.shared_ipam.as_deref().map(shared_ipam::SharedTx::new);
        Ok(StateTx {
            conn,
            open: true,
            shared,
            path: &self.path,
        })
    }

    /// The container with this ID, name or unique ID prefix (read-only shortcut).
    pub fn get_container(&self, id_or_name: &str) -> Result<Option<ContainerRecord>, StateError> {
        containers::get(&self.conn.lock(), id_or_name)
    }

    /// The container with exactly this name (never by ID or prefix).
    pub fn container_named(&self, name: &str) -> Result<Option<ContainerRecord>, StateError> {
        containers::by_name(&self.conn.lock(), name)
    }

    /// Every container record, by name (read-only shortcut).
    pub fn list_containers(&self) -> Result<Vec<ContainerRecord>, StateError> {
        containers::list(&self.conn.lock())
    }

    /// The containers that use `owner_id`'s network namespace (`--network container:ID`),
    /// by name (read-only shortcut).
    pub fn dependents(&self, owner_id: &str) -> Result<Vec<ContainerRecord>, StateError> {
        containers::dependents(&self.conn.lock(), owner_id)
    }

    /// Every lease, by network and address (read-only shortcut).
    pub fn list_leases(&self) -> Result<Vec<Lease>, StateError> {
        leases::list(&self.conn.lock(), LeaseFilter::All)
    }

    /// Every intent left by a flow that has not finished (read-only shortcut).
    pub(crate) fn list_intents(&self) -> Result<Vec<Intent>, StateError> {
        intent::list(&self.conn.lock())
    }
}

impl StateTx<'_> {
    /// Allocates one address in every subnet of `net` for `container_id`'s
    /// `interface` and returns them (address with the subnet's prefix length)
    /// in subnet order; empty when the network has no host-local IPAM.
    ///
    /// A static IP in `static_ips` is used for the subnet containing it (it
    /// must not be the gateway, the network or broadcast address, or leased
    /// to another container); other subnets get the next free address after
    /// the last one handed out (lease range honoured, wrapping once). The call
    /// is idempotent: addresses the container already holds on the network
    /// are kept (a static IP for a subnet replaces the held one).
    pub fn allocate_ips(
        &self,
        net: &Network,
        container_id: &str,
        interface: &str,
        static_ips: &[IpAddr],
    ) -> Result<Vec<IpNet>, StateError> {
        match self.shared.as_ref().filter(|_| net.requires_ipam()) {
            Some(shared) => {
                let ips = shared.allocate(net, container_id, static_ips)?;
                ipam::drop_stale(&self.conn, net, container_id, &ips)?;
                ipam::allocate(&self.conn, net, container_id, interface, &ips)
            }
            None => ipam::allocate(&self.conn, net, container_id, interface, static_ips),
        }
    }

    /// Checks that `static_ips` could be allocated to `container_id` on `net` (the
    /// rules of [`StateTx::allocate_ips`]) without keeping anything.
    pub fn check_static_ips(
        &self,
        net: &Network,
        container_id: &str,
        interface: &str,
        static_ips: &[IpAddr],
    ) -> Result<(), StateError> {
        ipam::allocate(&self.conn, net, container_id, interface, static_ips)?;
        ipam::release(&self.conn, net, container_id)?;
        match self.shared.as_ref().filter(|_| net.requires_ipam()) {
            Some(shared) => shared.check_free(net, container_id, static_ips),
            None => Ok(()),
        }
    }

    /// Releases `container_id`'s leases on `net`; returns the freed
    /// addresses (empty when it held none).
    pub fn release_ips(
        &self,
        net: &Network,
        container_id: &str,
    ) -> Result<Vec<IpAddr>, StateError> {
        if let Some(shared) = &self.shared {
            shared.release_later(&net.name, container_id);
        }
        ipam::release(&self.conn, net, container_id)
    }

    /// Releases `container_id`'s leases on every network; returns them.
    pub fn release_all_ips(&self, container_id: &str) -> Result<Vec<Lease>, StateError> {
        let released = leases::release_all(&self.conn, container_id)?;
        if let Some(shared) = &self.shared {
            for lease in &released {
                shared.release_later(&lease.network_name, container_id);
            }
        }
        Ok(released)
    }

    /// Deletes every lease and allocation cursor of a network (after it was
    /// removed); returns the number of leases deleted.
    pub fn forget_network(&self, network_id: &str) -> Result<usize, StateError> {
        leases::forget_network(&self.conn, network_id)
    }

    /// The leases of one container.
    #[cfg(test)]
    pub fn container_leases(&self, container_id: &str) -> Result<Vec<Lease>, StateError> {
        leases::list(&self.conn, LeaseFilter::Container(container_id))
    }

    /// Inserts or replaces the record with `record.id`; fails when another
    /// container has its name.
    pub fn put_container(&self, record: &ContainerRecord) -> Result<(), StateError> {
        containers::put(&self.conn, record)
    }

    /// Deletes the record with this exact ID; true when it existed. Leases are
    /// not touched (release them in the same transaction).
    pub fn delete_container(&self, id: &str) -> Result<bool, StateError> {
        containers::delete(&self.conn, id)
    }

    /// Records what a flow is about to ask the backend for (replacing the container's
    /// previous intent).
    pub fn put_intent(&self, intent: &Intent) -> Result<(), StateError> {
        intent::put(&self.conn, intent)
    }

    /// Deletes the container's intent (no error when there is none).
    pub fn delete_intent(&self, container_id: &str) -> Result<(), StateError> {
        intent::delete(&self.conn, container_id)
    }

    /// Makes every change of the transaction durable at once.
    pub fn commit(mut self) -> Result<(), StateError> {
        let path = self.path;
        // a full or read-only disk is named, with its path, rather than "disk I/O error";
        // a failed COMMIT leaves the transaction open, and dropping `self` rolls it back
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| open::sqlite_failure(path, e, StateError::Commit))?;
        self.open = false;
        if let Some(shared) = self.shared.take() {
            shared.committed();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
