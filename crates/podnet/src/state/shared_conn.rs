//! The state database's one connection, shared by threads one at a time, so a `Runtime`
//! (and its [`StateStore`](super::StateStore)) can be used from several threads.
//!
//! A rusqlite `Connection` may move between threads but not be used by two at once. The
//! lock here hands it to one thread at a time and is re-entrant on that thread: a flow
//! holds it for its whole write transaction ([`StateTx`](super::StateTx)) and may still
//! call the store's read shortcuts, which see the transaction's own writes, as they did
//! when the store was single-threaded. Another thread waits until the transaction ends,
//! so it never sees uncommitted writes. The flows themselves are serialized across threads
//! and processes by the flow lock (a `flock` per open file); this lock only keeps SQLite's
//! one connection to one thread at a time.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread::ThreadId;

use rusqlite::Connection;

/// A connection and the thread that holds it (with how many times it took it).
pub(crate) struct SharedConn {
    conn: Connection,
    owner: Mutex<Option<(ThreadId, usize)>>,
    released: Condvar,
}

// SAFETY: `conn` is reached only through a `ConnGuard`, and guards of two different
// threads never exist at once (`lock` waits until the owner's last guard is dropped).
// `Connection` is `Send`, so using it from whichever thread holds the lock is sound; the
// guard is `!Send`, so it cannot leave the thread that took it.
unsafe impl Sync for SharedConn {}

impl std::fmt::Debug for SharedConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedConn").finish_non_exhaustive()
    }
}

impl SharedConn {
    pub(crate) fn new(conn: Connection) -> Self {
        SharedConn {
            conn,
            owner: Mutex::new(None),
            released: Condvar::new(),
        }
    }

    /// The connection, once no other thread holds it (at once when this one does).
    pub(crate) fn lock(&self) -> ConnGuard<'_> {
        let me = std::thread::current().id();
        let mut owner = self.owner.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match owner.as_mut() {
                None => {
                    *owner = Some((me, 1));
                    break;
                }
                Some((thread, depth)) if *thread == me => {
                    *depth += 1;
                    break;
                }
                Some(_) => {
                    owner = self
                        .released
                        .wait(owner)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
        ConnGuard {
            shared: self,
            _not_send: PhantomData,
        }
    }
}

/// The connection while this thread holds it.
pub(crate) struct ConnGuard<'a> {
    shared: &'a SharedConn,
    _not_send: PhantomData<*const ()>,
}

impl Deref for ConnGuard<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.shared.conn
    }
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        let mut owner = self
            .shared
            .owner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, depth)) = owner.as_mut() {
            *depth -= 1;
            if *depth == 0 {
                *owner = None;
                self.shared.released.notify_one();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_holder_reenters_and_another_thread_waits_for_its_last_guard() {
        let shared = Arc::new(SharedConn::new(Connection::open_in_memory().unwrap()));
        let outer = shared.lock();
        let inner = shared.lock();
        inner.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        let got_it = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (shared, got_it) = (Arc::clone(&shared), Arc::clone(&got_it));
            std::thread::spawn(move || {
                let conn = shared.lock();
                got_it.store(true, Ordering::SeqCst);
                conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            })
        };
        drop(inner);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !got_it.load(Ordering::SeqCst),
            "took it while the holder still had a guard"
        );
        outer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        drop(outer);
        assert_eq!(waiter.join().unwrap(), 1);
    }
}
