//! The replayer task: delivers what the spool holds to ClickHouse, oldest first, and
//! deletes each segment once every row in it was acknowledged.
//!
//! It reads records from where the segment's `.ack` says delivery stopped, up to
//! `pipeline.batch_max_rows` rows, gives rows without an id the ids
//! `hash(segment, offset) + index` (the same after a restart), records the batch as in
//! flight, inserts it (retrying transient failures with backoff, and first asking which
//! rows are stored when an earlier attempt may have landed), then records it delivered.
//! A restart finds an in-flight batch in the `.ack` and resumes it with the same ids, so
//! no row is lost or stored twice.
//!
//! Bytes that are not valid records (a torn tail after a crash, or corruption) are copied
//! to the quarantine, counted in `footfall_spool_corrupt_bytes_total` and logged; the
//! records before them are delivered.
//!
//! [`ReplayStatus::caught_up`] tells the writer when the spool has no backlog, so new
//! batches may go straight to ClickHouse.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::delivery::{assign_event_ids, Delivery, MAX_BATCH_ROWS};
use super::retry::Backoff;
use super::segment::{Next, SegmentReader};
use super::spool::{Ack, InFlight, Spool};
use crate::config::PipelineSettings;
use crate::metrics::Metrics;
use crate::store::EventRow;

/// Whether the replayer has delivered everything spooled so far. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReplayStatus(Arc<AtomicBool>);

impl ReplayStatus {
    /// True when the spool holds nothing undelivered.
    pub fn caught_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Handle on the running replayer task.
#[derive(Debug)]
pub struct Replayer {
    stop: watch::Sender<Option<Instant>>,
    task: JoinHandle<()>,
    status: ReplayStatus,
}

/// A run of records of one segment, to be inserted as one batch.
struct Batch {
    segment: u64,
    start: u64,
    end: u64,
    rows: Vec<EventRow>,
    /// Base of the ids given to rows without one: the in-flight batch's when resuming it.
    id_base: u64,
    /// Rows may already be stored: ask before sending.
    check_first: bool,
    /// The segment can still grow (so a small batch may wait for more).
    open: bool,
}

/// What the spool offers next.
enum Work {
    Batch(Batch),
    /// Everything is delivered.
    CaughtUp,
}

struct ReplayTask {
    delivery: Delivery,
    settings: PipelineSettings,
    status: ReplayStatus,
    stop: watch::Receiver<Option<Instant>>,
}

impl Replayer {
    /// Starts the replayer; it begins with whatever an earlier run left in the spool.
    pub fn spawn(delivery: Delivery, settings: PipelineSettings) -> Self {
        let status = ReplayStatus(Arc::new(AtomicBool::new(false)));
        let (stop, stop_receiver) = watch::channel(None);
        let task = ReplayTask { delivery, settings, status: status.clone(), stop: stop_receiver };
        Self { stop, task: tokio::spawn(task.run()), status }
    }

    /// Whether the spool has a backlog.
    pub fn status(&self) -> ReplayStatus {
        self.status.clone()
    }

    /// Delivers what the spool holds until it is empty or `deadline` passes, then ends.
    /// What is left stays on disk for the next start.
    pub async fn shutdown(self, deadline: Instant) {
        let _ = self.stop.send(Some(deadline));
        if let Err(error) = self.task.await {
            tracing::error!(%error, "replay task failed; spooled events stay on disk for the next start");
        }
    }
}

impl ReplayTask {
    fn spool(&self) -> &Arc<Spool> {
        &self.delivery.spool
    }

    fn deadline(&self) -> Option<Instant> {
        *self.stop.borrow()
    }

    async fn run(mut self) {
        let mut frontier = self.spool().watch_frontier();
        let mut backoff = self.backoff();
        let mut waited = false;
        loop {
            frontier.mark_unchanged();
            let spool = Arc::clone(self.spool());
            let metrics = Arc::clone(&self.delivery.metrics);
            let max_rows = self.settings.batch_max_rows.min(MAX_BATCH_ROWS);
            let work = tokio::task::spawn_blocking(move || next_work(&spool, &metrics, max_rows)).await;
            match work {
                Ok(Ok(Work::Batch(batch))) => {
                    self.status.0.store(false, Ordering::Relaxed);
                    let small = batch.open && batch.rows.len() < max_rows && self.deadline().is_none();
                    if small && !waited {
                        // A segment still being written (durable mode): let a small batch
                        // grow for up to batch_max_wait, as the writer does.
                        waited = true;
                        self.pause(self.settings.batch_max_wait()).await;
                        continue;
                    }
                    waited = false;
                    if !self.deliver(batch, &mut backoff).await {
                        return;
                    }
                }
                Ok(Ok(Work::CaughtUp)) => {
                    self.status.0.store(true, Ordering::Relaxed);
                    if self.deadline().is_some() {
                        return;
                    }
                    tokio::select! {
                        _ = frontier.changed() => {}
                        _ = self.stop.changed() => {}
                    }
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "cannot read the spool; retrying");
                    if !self.pause(backoff.next_delay()).await {
                        return;
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "spool reader failed; retrying");
                    if !self.pause(backoff.next_delay()).await {
                        return;
                    }
                }
            }
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::from_settings(&self.settings)
    }

    /// Sleeps, unless the shutdown deadline comes first. False when it is time to stop.
    async fn pause(&mut self, delay: Duration) -> bool {
        if let Some(deadline) = self.deadline() {
            if Instant::now() + delay > deadline {
                return false;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            _ = self.stop.changed() => true,
        }
    }

    /// Delivers one batch and records it. False when shutdown cut it short (the batch
    /// stays in flight in its `.ack`, resumed by the next start).
    async fn deliver(&mut self, batch: Batch, backoff: &mut Backoff) -> bool {
        let Batch { segment, start, end, mut rows, id_base: base, mut check_first, .. } = batch;
        let spool = Arc::clone(self.spool());
        let in_flight = Ack { delivered: start, in_flight: Some(InFlight { end, batch: base }) };
        if let Err(error) = blocking(move || spool.set_ack(segment, in_flight)).await {
            tracing::error!(%error, segment, "cannot record the batch in flight; will retry");
            return self.pause(backoff.next_delay()).await;
        }
        assign_event_ids(&mut rows, base);
        let count = rows.len() as u64;
        loop {
            match self.delivery.attempt(rows, check_first).await {
                Ok(()) => break,
                Err(pending) => {
                    self.delivery.metrics.insert_retries.inc();
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %pending.error, rows = pending.rows.len(), retry_in_ms = delay.as_millis() as u64, "spool replay failed; will retry");
                    rows = pending.rows;
                    check_first |= pending.maybe_stored;
                    if !self.pause(delay).await {
                        return false;
                    }
                }
            }
        }
        *backoff = self.backoff();
        self.delivery.metrics.replayed.inc_by(count);
        let spool = Arc::clone(self.spool());
        let finished = blocking(move || -> std::io::Result<()> {
            spool.set_ack(segment, Ack { delivered: end, in_flight: None })?;
            spool.remove_if_delivered(segment, end).map(drop)
        })
        .await;
        if let Err(error) = finished {
            tracing::error!(%error, segment, "cannot record delivery; the batch will be checked again");
        }
        true
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)?
}

/// The id base of the batch starting at `offset` of `segment`: the same on every run.
fn id_base(segment: u64, offset: u64) -> u64 {
    let hash = blake3::hash(&[segment.to_le_bytes(), offset.to_le_bytes()].concat());
    u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// Finds the next batch: an in-flight one to resume, else records after the delivered
/// offset of the oldest segment with any. Deletes segments that are fully delivered and
/// quarantines corrupt bytes on the way.
fn next_work(spool: &Spool, metrics: &Metrics, max_rows: usize) -> std::io::Result<Work> {
    for segment in spool.segment_ids()? {
        let ack = spool.ack(segment)?;
        let limit = spool.readable_len(segment)?;
        let open = spool.is_open(segment);
        let (until, base, check_first) = match ack.in_flight {
            Some(in_flight) => (in_flight.end, in_flight.batch, true),
            None => (limit, id_base(segment, ack.delivered), false),
        };
        let mut reader = SegmentReader::open(&spool.segment_path(segment), ack.delivered, until)?;
        let mut batch = Batch {
            segment,
            start: ack.delivered,
            end: ack.delivered,
            rows: Vec::new(),
            id_base: base,
            check_first,
            open,
        };
        loop {
            match reader.next_record()? {
                Next::Record(read) => {
                    if read.record.maybe_stored && !batch.rows.is_empty() && ack.in_flight.is_none() {
                        break; // a record that may be stored goes in a batch of its own
                    }
                    batch.check_first |= read.record.maybe_stored;
                    batch.end = read.end;
                    batch.rows.extend(read.record.rows);
                    if ack.in_flight.is_none() && (batch.rows.len() >= max_rows || read.record.maybe_stored) {
                        break;
                    }
                }
                Next::End => break,
                Next::Corrupt(corruption) => {
                    if !batch.rows.is_empty() {
                        break; // deliver what precedes it first
                    }
                    let path = spool.quarantine_bytes(segment, corruption.offset, corruption.len)?;
                    tracing::error!(
                        segment,
                        offset = corruption.offset,
                        bytes = corruption.len,
                        path = %path.display(),
                        "spool segment holds bytes that are not valid records; copied to quarantine"
                    );
                    metrics.spool_corrupt_bytes.inc_by(corruption.len);
                    spool.set_ack(segment, Ack { delivered: corruption.offset + corruption.len, in_flight: None })?;
                    batch.start = corruption.offset + corruption.len;
                    batch.end = batch.start;
                    batch.id_base = id_base(segment, batch.start);
                    break;
                }
            }
        }
        if !batch.rows.is_empty() {
            return Ok(Work::Batch(batch));
        }
        if !spool.remove_if_delivered(segment, batch.end)? && open {
            return Ok(Work::CaughtUp);
        }
    }
    Ok(Work::CaughtUp)
}
