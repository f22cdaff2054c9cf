//! Durable mode: every accepted event is written to the spool, and synced to disk,
//! before the client gets its 202, so even `kill -9` loses nothing acknowledged.
//!
//! Group commit: handlers hand their rows to one task, which writes everything that
//! arrived while the previous write was syncing as one append with one `sync_data`, then
//! answers every handler in the group. The [`replayer`](super::replay) delivers the spool
//! to ClickHouse; the in-memory queue and the writer are not used in this mode.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::segment::SpoolRecord;
use super::spool::{Spool, SpoolError};
use crate::store::EventRow;

/// Appends waiting for the group-commit task; beyond this, handlers wait for room.
const PENDING_APPENDS: usize = 1024;
/// Largest group written with one sync, in events.
const MAX_GROUP_EVENTS: usize = 50_000;

struct Append {
    rows: Vec<EventRow>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Why the write-ahead log could not take events.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("{0}")]
    Spool(String),
    #[error("the write-ahead log has stopped")]
    Stopped,
}

/// The handlers' end of the write-ahead log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Wal {
    sender: mpsc::Sender<Append>,
}

impl Wal {
    /// Starts the group-commit task.
    pub fn spawn(spool: Arc<Spool>) -> (Self, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(PENDING_APPENDS);
        (Self { sender }, tokio::spawn(group_commit(spool, receiver)))
    }

    /// Writes `rows` to disk; returns once they are synced.
    ///
    /// # Errors
    /// When the spool is full ([`SpoolError::Full`]'s message) or cannot be written.
    pub async fn append(&self, rows: Vec<EventRow>) -> Result<(), WalError> {
        let (done, answer) = oneshot::channel();
        self.sender.send(Append { rows, done }).await.map_err(|_| WalError::Stopped)?;
        answer.await.map_err(|_| WalError::Stopped)?.map_err(WalError::Spool)
    }
}

async fn group_commit(spool: Arc<Spool>, mut receiver: mpsc::Receiver<Append>) {
    while let Some(first) = receiver.recv().await {
        let mut events = first.rows.len();
        let mut group = vec![first];
        while events < MAX_GROUP_EVENTS {
            match receiver.try_recv() {
                Ok(next) => {
                    events += next.rows.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let (records, answers): (Vec<SpoolRecord>, Vec<_>) = group
            .into_iter()
            .map(|append| (SpoolRecord { maybe_stored: false, rows: append.rows }, append.done))
            .unzip();
        let spool = Arc::clone(&spool);
        let result = tokio::task::spawn_blocking(move || spool.append(&records))
            .await
            .unwrap_or_else(|error| Err(SpoolError::Io(std::io::Error::other(error))))
            .map_err(|error| error.to_string());
        if let Err(error) = &result {
            tracing::warn!(%error, events, "write-ahead log refused a group");
        }
        for answer in answers {
            let _ = answer.send(result.clone());
        }
    }
}
