//! The pipeline between the HTTP handlers and ClickHouse.
//!
//! Default mode: handlers push `EventRow`s into a bounded in-memory `queue`; one
//! [`writer`] task batches them and sends each batch straight to ClickHouse, or to the
//! disk [`spool`] when ClickHouse is down, slow, or the spool already has a backlog. The
//! [`replay`] task delivers the spool, oldest first. Durable mode: handlers write each
//! event to the spool through the group-commit write-ahead log ([`wal`]) before answering,
//! and the replayer delivers everything.
//!
//! Every INSERT goes through [`delivery`], which makes re-sending safe (event ids, one
//! month per INSERT, asking ClickHouse what it already holds) and quarantines rows
//! ClickHouse refuses; [`retry`] says which failures are worth retrying. Records on disk
//! use the checksummed format of [`segment`].

pub mod delivery;
pub mod queue;
pub mod replay;
pub mod retry;
pub mod segment;
pub mod spool;
pub mod wal;
pub mod writer;

pub use queue::{queue, EventQueue, QueueFull, QueueReceiver};
pub use replay::{ReplayStatus, Replayer};
pub use wal::Wal;
pub use writer::Writer;

use crate::store::EventRow;

/// Where intake hands accepted events: the memory queue, or in durable mode the
/// write-ahead log.
#[derive(Debug, Clone)]
pub enum EventSink {
    Memory(EventQueue),
    Durable(Wal),
}

/// Why the pipeline could not take events (intake answers 503).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The memory queue stayed full for `pipeline.queue_full_wait_ms`.
    QueueFull,
    /// Durable mode: the spool is over its budget or cannot be written.
    SpoolUnavailable(String),
}

impl EventSink {
    /// Takes all `rows` or none of them.
    ///
    /// # Errors
    /// [`Refusal`] when neither memory nor disk can take them now.
    pub async fn accept(&self, rows: Vec<EventRow>) -> Result<(), Refusal> {
        match self {
            Self::Memory(queue) => queue.push_all(rows).await.map_err(|QueueFull| Refusal::QueueFull),
            Self::Durable(wal) => wal.append(rows).await.map_err(|error| Refusal::SpoolUnavailable(error.to_string())),
        }
    }

    /// Events waiting in memory.
    pub fn depth(&self) -> usize {
        match self {
            Self::Memory(queue) => queue.depth(),
            Self::Durable(_) => 0,
        }
    }
}
