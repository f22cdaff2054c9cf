//! The writer task: the only consumer of the queue and the only code that inserts events.
//!
//! It collects rows into a batch and writes the batch when it reaches
//! `pipeline.batch_max_rows` rows or `batch_max_bytes` bytes, or when its oldest row has
//! waited `batch_max_wait_ms`. A batch stays in the writer's hands until ClickHouse
//! acknowledged it: transient failures are retried with backoff (intake meanwhile fills
//! the bounded queue, see [`queue`](super::queue)); data failures are bisected until the
//! offending rows are found, and those alone are quarantined.
//!
//! Shutdown ([`Writer::shutdown`]): the queue is closed, everything in it is drained and
//! written; whatever cannot be delivered within `pipeline.shutdown_deadline_ms` is written
//! to the spool, which the next start replays before anything else.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::queue::QueueReceiver;
use super::retry::{classify, Backoff, FailureKind};
use super::spool::Spool;
use crate::config::PipelineSettings;
use crate::metrics::{DropReason, Metrics};
use crate::store::{EventRow, Store};

/// How often pending spool files are retried while the writer is otherwise idle.
const SPOOL_REPLAY_INTERVAL: Duration = Duration::from_secs(5);

/// Handle on the running writer task.
#[derive(Debug)]
pub struct Writer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct WriterTask {
    store: Store,
    spool: Arc<Spool>,
    metrics: Arc<Metrics>,
    settings: PipelineSettings,
    stop: watch::Receiver<bool>,
    /// Set when shutdown begins: past it, undeliverable rows go to the spool.
    deadline: Option<Instant>,
}

impl Writer {
    /// Starts the writer on the current runtime.
    pub fn spawn(
        store: Store,
        receiver: QueueReceiver,
        spool: Arc<Spool>,
        metrics: Arc<Metrics>,
        settings: PipelineSettings,
    ) -> Self {
        let (stop, stop_receiver) = watch::channel(false);
        let task = WriterTask { store, spool, metrics, settings, stop: stop_receiver, deadline: None };
        Self { stop, task: tokio::spawn(task.run(receiver)) }
    }

    /// Closes the queue, writes everything still queued or batched, spools what cannot
    /// be delivered in time, and waits for the task to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "writer task failed; queued events may be lost");
        }
    }
}

impl WriterTask {
    async fn run(mut self, mut receiver: QueueReceiver) {
        self.replay_spool().await;
        let max_rows = self.settings.batch_max_rows;
        let mut batch: Vec<EventRow> = Vec::with_capacity(max_rows.min(65_536));
        let mut batch_bytes = 0usize;
        let mut batch_deadline = Instant::now();
        let mut next_replay = Instant::now() + SPOOL_REPLAY_INTERVAL;
        loop {
            let before = batch.len();
            tokio::select! {
                biased;
                changed = self.stop.changed(), if self.deadline.is_none() => {
                    let _ = changed;
                    self.begin_shutdown();
                    receiver.close();
                }
                received = receiver.recv_many(&mut batch, max_rows - before) => {
                    if received == 0 {
                        // Closed and empty: deliver the last batch and end.
                        self.deliver(std::mem::take(&mut batch)).await;
                        return;
                    }
                    if before == 0 {
                        batch_deadline = Instant::now() + self.settings.batch_max_wait();
                    }
                    batch_bytes += batch[before..].iter().map(EventRow::approx_size).sum::<usize>();
                    if batch.len() >= max_rows || batch_bytes >= self.settings.batch_max_bytes {
                        self.deliver(std::mem::take(&mut batch)).await;
                        batch_bytes = 0;
                    }
                }
                () = sleep_until(batch_deadline), if !batch.is_empty() => {
                    self.deliver(std::mem::take(&mut batch)).await;
                    batch_bytes = 0;
                }
                () = sleep_until(next_replay), if batch.is_empty() => {
                    self.replay_spool().await;
                    next_replay = Instant::now() + SPOOL_REPLAY_INTERVAL;
                }
            }
        }
    }

    fn begin_shutdown(&mut self) {
        let deadline = Duration::from_millis(self.settings.shutdown_deadline_ms);
        tracing::info!(deadline_ms = self.settings.shutdown_deadline_ms, "writer draining the queue");
        self.deadline = Some(Instant::now() + deadline);
    }

    /// Writes `rows` until ClickHouse acknowledged them all, quarantining rows it refuses
    /// as data errors; once the shutdown deadline has passed, spools what is left.
    async fn deliver(&mut self, rows: Vec<EventRow>) {
        if rows.is_empty() {
            return;
        }
        let mut chunks = vec![rows];
        let mut backoff = Backoff::new(
            Duration::from_millis(self.settings.retry_initial_backoff_ms),
            Duration::from_millis(self.settings.retry_max_backoff_ms),
        );
        while let Some(chunk) = chunks.pop() {
            let started = Instant::now();
            let error = match self.store.insert_events(&chunk).await {
                Ok(()) => {
                    let rows = chunk.len() as u64;
                    self.metrics.stored.fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
                    self.metrics.batch_rows.observe(rows as f64);
                    self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
                    continue;
                }
                Err(error) => error,
            };
            match classify(&error) {
                FailureKind::Data if chunk.len() == 1 => {
                    tracing::error!(%error, "ClickHouse refused an event as invalid data; quarantined");
                    self.quarantine(chunk, error.to_string()).await;
                }
                FailureKind::Data => {
                    tracing::warn!(%error, rows = chunk.len(), "ClickHouse refused a batch as invalid data; bisecting");
                    let mut first = chunk;
                    let second = first.split_off(first.len() / 2);
                    chunks.push(second);
                    chunks.push(first);
                }
                FailureKind::Transient => {
                    self.metrics.insert_retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let delay = backoff.next_delay();
                    if self.deadline.is_some_and(|deadline| Instant::now() + delay > deadline) {
                        chunks.push(chunk);
                        let rest: Vec<EventRow> = chunks.drain(..).flatten().collect();
                        self.spool_rows(rest).await;
                        break;
                    }
                    tracing::warn!(%error, rows = chunk.len(), retry_in_ms = delay.as_millis() as u64, "insert failed; will retry");
                    chunks.push(chunk);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = self.stop.changed(), if self.deadline.is_none() => self.begin_shutdown(),
                    }
                }
            }
        }
    }

    async fn spool_rows(&self, rows: Vec<EventRow>) {
        let count = rows.len() as u64;
        let spool = Arc::clone(&self.spool);
        match tokio::task::spawn_blocking(move || spool.write_batch(&rows)).await {
            Ok(Ok(path)) => {
                self.metrics.spooled.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(rows = count, path = %path.display(), "ClickHouse unavailable at shutdown; batch spooled for the next start");
            }
            Ok(Err(error)) => {
                self.metrics.drop_events(DropReason::Shutdown, count);
                tracing::error!(%error, rows = count, "could not spool undelivered events; they are lost");
            }
            Err(error) => {
                self.metrics.drop_events(DropReason::Shutdown, count);
                tracing::error!(%error, rows = count, "spool task failed; undelivered events are lost");
            }
        }
    }

    async fn quarantine(&self, rows: Vec<EventRow>, reason: String) {
        let count = rows.len() as u64;
        self.metrics.drop_events(DropReason::Quarantined, count);
        let spool = Arc::clone(&self.spool);
        match tokio::task::spawn_blocking(move || spool.quarantine(&rows, &reason)).await {
            Ok(Ok(path)) => tracing::warn!(rows = count, path = %path.display(), "rows quarantined"),
            Ok(Err(error)) => tracing::error!(%error, rows = count, "could not write the quarantine file"),
            Err(error) => tracing::error!(%error, rows = count, "quarantine task failed"),
        }
    }

    /// Delivers pending spool files, oldest first, one insert attempt each; stops at the
    /// first transient failure and leaves the rest for the next try.
    async fn replay_spool(&mut self) {
        let spool = Arc::clone(&self.spool);
        let pending: Vec<PathBuf> = match tokio::task::spawn_blocking(move || spool.pending()).await {
            Ok(Ok(pending)) => pending,
            Ok(Err(error)) => {
                tracing::error!(%error, "cannot list the spool");
                return;
            }
            Err(_) => return,
        };
        for path in pending {
            let file = path.clone();
            let rows = match tokio::task::spawn_blocking(move || Spool::read_batch(&file)).await {
                Ok(Ok(rows)) => rows,
                Ok(Err(error)) => {
                    tracing::error!(%error, path = %path.display(), "unreadable spool file left in place");
                    continue;
                }
                Err(_) => return,
            };
            let count = rows.len() as u64;
            match self.store.insert_events(&rows).await {
                Ok(()) => {
                    self.metrics.stored.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
                    self.metrics.replayed.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
                }
                Err(error) if classify(&error) == FailureKind::Data => {
                    // Bisect and quarantine as for a live batch; spooled again if that fails.
                    self.deliver(rows).await;
                }
                Err(error) => {
                    tracing::debug!(%error, "spool replay postponed: ClickHouse unavailable");
                    return;
                }
            }
            if let Err(error) = Spool::remove(&path) {
                tracing::error!(%error, path = %path.display(), "delivered spool file could not be removed; it will be replayed again");
            } else {
                tracing::info!(rows = count, path = %path.display(), "replayed spooled batch");
            }
        }
    }
}
