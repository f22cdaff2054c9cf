//! The bounded queue between handlers and the writer.
//!
//! Policy when full: a handler waits up to `pipeline.queue_full_wait_ms` for room, then
//! answers 503 with `Retry-After` and the events are counted as dropped
//! (`footfall_events_dropped_total{reason="queue_full"}`). An array is queued whole or
//! not at all, so a client that retries a 503 never duplicates part of it.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::store::EventRow;

/// The handlers' end of the queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventQueue {
    sender: mpsc::Sender<EventRow>,
    capacity: usize,
    full_wait: Duration,
}

/// The writer's end of the queue.
pub type QueueReceiver = mpsc::Receiver<EventRow>;

/// The queue stayed full (or closed) for the whole wait.
#[derive(Debug, PartialEq, Eq)]
pub struct QueueFull;

/// A queue holding at most `capacity` events; senders wait at most `full_wait` for room.
pub fn queue(capacity: usize, full_wait: Duration) -> (EventQueue, QueueReceiver) {
    let (sender, receiver) = mpsc::channel(capacity);
    (EventQueue { sender, capacity, full_wait }, receiver)
}

impl EventQueue {
    /// Queues all `rows` or none of them.
    ///
    /// # Errors
    /// [`QueueFull`] when room for all of them did not free up in time, or the writer
    /// has stopped.
    pub async fn push_all(&self, rows: Vec<EventRow>) -> Result<(), QueueFull> {
        if rows.is_empty() {
            return Ok(());
        }
        let permits = match self.sender.try_reserve_many(rows.len()) {
            Ok(permits) => permits,
            Err(mpsc::error::TrySendError::Closed(())) => return Err(QueueFull),
            Err(mpsc::error::TrySendError::Full(())) => {
                tokio::time::timeout(self.full_wait, self.sender.reserve_many(rows.len()))
                    .await
                    .map_err(|_| QueueFull)?
                    .map_err(|_| QueueFull)?
            }
        };
        for (permit, row) in permits.zip(rows) {
            permit.send(row);
        }
        Ok(())
    }

    /// Events waiting in the queue now.
    pub fn depth(&self) -> usize {
        self.capacity - self.sender.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_refuses_the_whole_array() {
        let (queue, mut receiver) = queue(3, Duration::from_millis(10));
        queue.push_all(vec![EventRow::default(); 2]).await.unwrap();
        assert_eq!(queue.depth(), 2);
        assert_eq!(queue.push_all(vec![EventRow::default(); 2]).await, Err(QueueFull));
        assert_eq!(queue.depth(), 2);
        receiver.recv().await.unwrap();
        queue.push_all(vec![EventRow::default(); 2]).await.unwrap();
        assert_eq!(queue.depth(), 3);
    }
}
