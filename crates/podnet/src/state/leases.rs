//! Reading and bulk-deleting leases: listings joined with the network table,
//! a container's leases on every network, a removed network's leases.

use rusqlite::Connection;

use super::error::StateError;
use super::ipam::blob_ip;
use super::record::Lease;

const LEASE_COLUMNS: &str =
    "n.network_id, n.network_name, l.subnet, l.ip, l.container_id, l.interface";

fn lease_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, Vec<u8>, String, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_lease(raw: (String, String, String, Vec<u8>, String, String)) -> Result<Lease, StateError> {
    let (network_id, network_name, subnet, ip, container_id, interface) = raw;
    let corrupt = |detail: String| StateError::CorruptLease {
        network: network_id.clone(),
        detail,
    };
    let subnet = subnet
        .parse()
        .map_err(|_| corrupt(format!("subnet {subnet:?}")))?;
    let ip = blob_ip(&ip).ok_or_else(|| corrupt(format!("address of {} bytes", ip.len())))?;
    Ok(Lease {
        network_id,
        network_name,
        subnet,
        ip,
        container_id,
        interface,
    })
}

/// Leases matching an optional filter, in (network, address) order.
pub(crate) fn list(conn: &Connection, filter: LeaseFilter<'_>) -> Result<Vec<Lease>, StateError> {
    let (cond, args) = match filter {
        LeaseFilter::All => ("", vec![]),
        LeaseFilter::Container(id) => ("WHERE l.container_id = ?1", vec![id]),
    };
    let sql = format!(
        "SELECT {LEASE_COLUMNS} FROM leases l JOIN ipam_networks n ON n.key = l.net \
         {cond} ORDER BY n.network_id, l.ip"
    );
    let raws: Vec<_> = conn
        .prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_map(rusqlite::params_from_iter(args), lease_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(StateError::ListLeases)?;
    raws.into_iter().map(to_lease).collect()
}

/// Which leases [`list`] returns.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeaseFilter<'a> {
    All,
    Container(&'a str),
}

/// Deletes every lease of `container` on any network.
pub(crate) fn release_all(conn: &Connection, container: &str) -> Result<Vec<Lease>, StateError> {
    let leases = list(conn, LeaseFilter::Container(container))?;
    conn.prepare_cached("DELETE FROM leases WHERE container_id = ?1")
        .and_then(|mut st| st.execute([container]))
        .map_err(|source| StateError::ReleaseAll {
            container: container.to_owned(),
            source,
        })?;
    Ok(leases)
}

/// Deletes every lease and the cursors of a network (after `network rm`).
pub(crate) fn forget_network(conn: &Connection, network_id: &str) -> Result<usize, StateError> {
    let sub = "(SELECT key FROM ipam_networks WHERE network_id = ?1)";
    conn.execute(
        &format!("DELETE FROM ipam_cursor WHERE net = {sub}"),
        [network_id],
    )
    .and_then(|_| {
        conn.execute(
            &format!("DELETE FROM leases WHERE net = {sub}"),
            [network_id],
        )
    })
    .and_then(|n| {
        conn.execute(
            "DELETE FROM ipam_networks WHERE network_id = ?1",
            [network_id],
        )?;
        Ok(n)
    })
    .map_err(|source| StateError::ForgetNetwork {
        network: network_id.to_owned(),
        source,
    })
}
