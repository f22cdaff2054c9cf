//! The bounded queue between handlers and the writer.
//!
//! Policy when full: a handler waits up to `pipeline.queue_full_wait_ms` for room, then
//! answers 503 with `Retry-After` and the events are counted as dropped
//! (`footfall_events_dropped_total{reason="queue_full"}`). An array is queued whole or
//! not at all, so a client that retries a 503 never duplicates part of it.
//!
//! Wake-ups: handlers run on the HTTP server's threads, the writer on the main runtime,
//! so waking the writer costs a futex call and a context switch. While the writer has a
//! batch open it does not wait on the channel (which would wake it for every event) but
//! on [`QueueReceiver::wait_for`]: a handler wakes it only once the queue holds the rows
//! the writer asked for, and the writer's own timer covers the batch deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};

use crate::store::EventRow;

/// The handlers' end of the queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventQueue {
    sender: mpsc::Sender<EventRow>,
    capacity: usize,
    full_wait: Duration,
    wake: Arc<Wake>,
}

/// The writer's end of the queue.
#[derive(Debug)]
pub struct QueueReceiver {
    receiver: mpsc::Receiver<EventRow>,
    wake: Arc<Wake>,
}

/// When handlers wake a writer waiting in [`QueueReceiver::wait_for`].
#[derive(Debug)]
struct Wake {
    /// Queue depth at which a push wakes the writer; `usize::MAX` while it is not waiting.
    at_depth: AtomicUsize,
    notify: Notify,
}

/// The queue stayed full (or closed) for the whole wait.
#[derive(Debug, PartialEq, Eq)]
pub struct QueueFull;

/// A queue holding at most `capacity` events; senders wait at most `full_wait` for room.
pub fn queue(capacity: usize, full_wait: Duration) -> (EventQueue, QueueReceiver) {
    let (sender, receiver) = mpsc::channel(capacity);
    let wake = Arc::new(Wake { at_depth: AtomicUsize::new(usize::MAX), notify: Notify::new() });
    (EventQueue { sender, capacity, full_wait, wake: Arc::clone(&wake) }, QueueReceiver { receiver, wake })
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
        // Pairs with the fence in `wait_for`: either this push sees the writer's depth,
        // or the writer sees this push in the queue's length.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.depth() >= self.wake.at_depth.load(Ordering::Relaxed) {
            self.wake.notify.notify_one();
        }
        Ok(())
    }

    /// Events waiting in the queue now.
    pub fn depth(&self) -> usize {
        self.capacity - self.sender.capacity()
    }
}

impl QueueReceiver {
    /// Waits for the next event; `None` once the queue is closed and empty.
    pub async fn recv(&mut self) -> Option<EventRow> {
        self.receiver.recv().await
    }

    /// The next event if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Option<EventRow> {
        self.receiver.try_recv().ok()
    }

    /// Waits until the queue holds at least `rows` events (at least 1). Cancel-safe.
    ///
    /// Handlers wake the waiting writer only when a push brings the queue to that depth,
    /// not for every event. A notice left over from an earlier wait can end a wait early;
    /// callers check what is queued either way.
    pub async fn wait_for(&self, rows: usize) {
        let rows = rows.max(1);
        let _disarm = Disarm(&self.wake);
        self.wake.at_depth.store(rows, Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.receiver.len() < rows {
            self.wake.notify.notified().await;
        }
    }

    /// Events waiting in the queue now.
    pub fn depth(&self) -> usize {
        self.receiver.len()
    }

    /// Refuses further pushes; what is queued can still be received.
    pub fn close(&mut self) {
        self.receiver.close();
    }
}

/// Stops handlers waking the writer when its wait ends (or is cancelled).
struct Disarm<'a>(&'a Wake);

impl Drop for Disarm<'_> {
    fn drop(&mut self) {
        self.0.at_depth.store(usize::MAX, Ordering::Relaxed);
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_writer_is_woken_only_when_the_queue_holds_what_it_asked_for() {
        let (queue, receiver) = queue(100, Duration::from_millis(10));
        let waiter = tokio::spawn(async move {
            receiver.wait_for(5).await;
            receiver
        });
        // Until the writer waits (it armed the depth it asked for).
        while queue.wake.at_depth.load(Ordering::Relaxed) != 5 {
            tokio::task::yield_now().await;
        }
        for _ in 0..4 {
            queue.push_all(vec![EventRow::default()]).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "woken before the queue held 5 events");
        queue.push_all(vec![EventRow::default(); 2]).await.unwrap();
        let receiver = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert_eq!(receiver.depth(), 6);
        assert_eq!(receiver.wake.at_depth.load(Ordering::Relaxed), usize::MAX, "disarmed after the wait");
    }

    #[tokio::test]
    async fn a_wait_for_what_is_already_queued_returns_at_once() {
        let (queue, receiver) = queue(10, Duration::from_millis(10));
        queue.push_all(vec![EventRow::default(); 3]).await.unwrap();
        tokio::time::timeout(Duration::from_secs(1), receiver.wait_for(3)).await.unwrap();
    }
}
