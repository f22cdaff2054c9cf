//! The writer task: the only consumer of the in-memory queue.
//!
//! It collects rows into a batch and writes the batch when it reaches
//! `pipeline.batch_max_rows` rows or `batch_max_bytes` bytes, or when its oldest row has
//! waited `batch_max_wait_ms`. While a batch is open the writer sleeps until the queue
//! holds enough rows to fill it or the batch's time is up ([`QueueReceiver::wait_for`]),
//! so handlers do not wake it for every event. Each batch gets its event ids, then
//! either goes straight to ClickHouse or, when that is not possible, to the disk spool,
//! from which the [`replayer`](super::replay) delivers it:
//! - straight to ClickHouse when the spool has no backlog and the queue is below half
//!   full (ClickHouse keeps up);
//! - to the spool when ClickHouse fails (the batch is spooled at once, flagged "maybe
//!   stored" when the failure came after the data was sent), while the spool has a
//!   backlog (so delivery stays in order), or when the queue fills faster than ClickHouse
//!   takes rows.
//!
//! When the spool is full too, the writer keeps the batch and alternates between
//! ClickHouse and the spool with backoff; the queue then fills and intake answers 503.
//!
//! Shutdown ([`Writer::shutdown`]): the queue is closed and drained the same way.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::delivery::{assign_event_ids, random_base, Delivery, MAX_BATCH_ROWS};
use super::queue::QueueReceiver;
use super::replay::ReplayStatus;
use super::retry::Backoff;
use super::segment::SpoolRecord;
use super::spool::SpoolError;
use crate::config::PipelineSettings;
use crate::metrics::DropReason;
use crate::store::EventRow;

/// Handle on the running writer task.
#[derive(Debug)]
pub struct Writer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct WriterTask {
    delivery: Delivery,
    replay: ReplayStatus,
    settings: PipelineSettings,
    queue_capacity: usize,
    stop: watch::Receiver<bool>,
    /// Set when shutdown begins: past it, rows that can go nowhere are lost (and counted).
    deadline: Option<Instant>,
}

/// The rows collected for the next write.
struct Batch {
    rows: Vec<EventRow>,
    /// Sum of the rows' [`EventRow::approx_size`].
    bytes: usize,
    /// When the oldest row has waited `batch_max_wait_ms`.
    deadline: Instant,
    max_rows: usize,
    max_bytes: usize,
    max_wait: Duration,
    /// The most rows a waiting writer asks the queue to hold before waking it.
    max_wake_rows: usize,
}

impl Batch {
    fn push(&mut self, row: EventRow) {
        if self.rows.is_empty() {
            self.deadline = Instant::now() + self.max_wait;
        }
        self.bytes += row.approx_size();
        self.rows.push(row);
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= self.max_rows || self.bytes >= self.max_bytes
    }

    /// Rows that would fill the batch, by count or by bytes at the batch's average row
    /// size (at least 1, at most `max_wake_rows`).
    fn rows_to_fill(&self) -> usize {
        let by_rows = self.max_rows.saturating_sub(self.rows.len());
        let average = (self.bytes / self.rows.len().max(1)).max(1);
        let by_bytes = self.max_bytes.saturating_sub(self.bytes).div_ceil(average);
        by_rows.min(by_bytes).min(self.max_wake_rows).max(1)
    }

    /// The rows, leaving room for as many in the next batch (growing a batch of tens of
    /// thousands of rows by doubling copies it over and over).
    fn take(&mut self) -> Vec<EventRow> {
        self.bytes = 0;
        let room = self.rows.len().min(self.max_rows);
        std::mem::replace(&mut self.rows, Vec::with_capacity(room))
    }
}

impl Writer {
    /// Starts the writer on the current runtime.
    pub fn spawn(
        delivery: Delivery,
        receiver: QueueReceiver,
        replay: ReplayStatus,
        settings: PipelineSettings,
        queue_capacity: usize,
    ) -> Self {
        let (stop, stop_receiver) = watch::channel(false);
        let task = WriterTask { delivery, replay, settings, queue_capacity, stop: stop_receiver, deadline: None };
        Self { stop, task: tokio::spawn(task.run(receiver)) }
    }

    /// Closes the queue, writes or spools everything still queued or batched, and waits
    /// for the task to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "writer task failed; queued events may be lost");
        }
    }
}

impl WriterTask {
    async fn run(mut self, mut receiver: QueueReceiver) {
        let mut batch = Batch {
            rows: Vec::new(),
            bytes: 0,
            deadline: Instant::now(),
            max_rows: self.settings.batch_max_rows.min(MAX_BATCH_ROWS),
            max_bytes: self.settings.batch_max_bytes,
            max_wait: self.settings.batch_max_wait(),
            // A waiting writer is woken by half a queue at most, so handlers find room.
            max_wake_rows: self.queue_capacity / 2,
        };
        loop {
            if batch.rows.is_empty() || self.deadline.is_some() {
                // Idle: the first event wakes the writer. Draining for shutdown: the queue
                // is closed, so this answers at once, `None` when it is empty.
                tokio::select! {
                    biased;
                    changed = self.stop.changed(), if self.deadline.is_none() => {
                        let _ = changed;
                        self.begin_shutdown();
                        receiver.close();
                    }
                    received = receiver.recv() => match received {
                        Some(row) => batch.push(row),
                        None => {
                            self.write(batch.take(), 0).await;
                            return;
                        }
                    },
                }
            } else {
                // A batch is open: sleep until the queue holds enough events to fill it or
                // the batch's time is up, instead of being woken by every event.
                tokio::select! {
                    biased;
                    changed = self.stop.changed() => {
                        let _ = changed;
                        self.begin_shutdown();
                        receiver.close();
                    }
                    () = receiver.wait_for(batch.rows_to_fill()) => {}
                    () = sleep_until(batch.deadline) => {}
                }
            }
            while !batch.is_full() {
                match receiver.try_recv() {
                    Some(row) => batch.push(row),
                    None => break,
                }
            }
            if batch.is_full() || (!batch.rows.is_empty() && Instant::now() >= batch.deadline) {
                self.write(batch.take(), receiver.depth()).await;
            }
        }
    }

    fn begin_shutdown(&mut self) {
        tracing::info!(deadline_ms = self.settings.shutdown_deadline_ms, "writer draining the queue");
        self.deadline = Some(Instant::now() + Duration::from_millis(self.settings.shutdown_deadline_ms));
    }

    /// Sends a batch to ClickHouse or the spool; returns once it is in one of them (or,
    /// past the shutdown deadline, counted as lost).
    async fn write(&mut self, mut rows: Vec<EventRow>, queued_behind: usize) {
        if rows.is_empty() {
            return;
        }
        assign_event_ids(&mut rows, random_base());
        let mut maybe_stored = false;
        let mut backoff = Backoff::from_settings(&self.settings);
        let mut direct = self.replay.caught_up() && queued_behind < self.queue_capacity / 2;
        loop {
            if direct {
                match self.delivery.attempt(rows, maybe_stored).await {
                    Ok(()) => return,
                    Err(pending) => {
                        tracing::warn!(error = %pending.error, rows = pending.rows.len(), "insert failed; spooling the batch");
                        self.delivery.metrics.insert_retries.inc();
                        rows = pending.rows;
                        maybe_stored |= pending.maybe_stored;
                    }
                }
            }
            match self.spool(rows, maybe_stored).await {
                Ok(()) => return,
                Err((returned, error)) => {
                    rows = returned;
                    let delay = backoff.next_delay();
                    if self.deadline.is_some_and(|deadline| Instant::now() + delay > deadline) {
                        tracing::error!(%error, rows = rows.len(), "shutdown deadline passed with events neither stored nor spooled; they are lost");
                        self.delivery.metrics.drop_events(DropReason::Shutdown, rows.len() as u64);
                        return;
                    }
                    tracing::warn!(%error, rows = rows.len(), retry_in_ms = delay.as_millis() as u64, "cannot spool; holding the batch");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = self.stop.changed(), if self.deadline.is_none() => self.begin_shutdown(),
                    }
                    direct = true;
                }
            }
        }
    }

    /// Appends rows to the spool; gives them back when it cannot.
    async fn spool(&self, rows: Vec<EventRow>, maybe_stored: bool) -> Result<(), (Vec<EventRow>, SpoolError)> {
        let spool = Arc::clone(&self.delivery.spool);
        let count = rows.len() as u64;
        let result = tokio::task::spawn_blocking(move || {
            let records = [SpoolRecord { maybe_stored, rows }];
            match spool.append(&records) {
                Ok(()) => Ok(()),
                Err(error) => {
                    let [record] = records;
                    Err((record.rows, error))
                }
            }
        })
        .await
        .expect("spool append does not panic");
        if result.is_ok() {
            self.delivery.metrics.spooled.inc_by(count);
        }
        result
    }
}
