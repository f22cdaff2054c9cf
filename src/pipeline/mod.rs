//! The pipeline between the HTTP handlers and ClickHouse: a bounded in-memory queue
//! ([`queue`]), one writer task that batches, inserts and retries ([`writer`]), the
//! policy that says which ClickHouse errors are worth retrying ([`retry`]), and the disk
//! spool for batches that could not be delivered by shutdown and rows ClickHouse
//! refused ([`spool`]).
//!
//! Data flows one way: handlers push [`EventRow`](crate::store::EventRow)s into the queue;
//! the writer owns every row from the moment it leaves the queue until ClickHouse
//! acknowledged it or it is on disk.

pub mod queue;
pub mod retry;
pub mod spool;
pub mod writer;

pub use queue::{queue, EventQueue, QueueFull, QueueReceiver};
pub use writer::Writer;
