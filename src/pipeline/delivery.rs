//! One attempt to store rows in ClickHouse exactly once.
//!
//! Shared by the writer (batches straight from the queue) and the replayer (batches from
//! the spool). What makes an attempt safe to repeat:
//! - every row carries an `event_id` ([`assign_event_ids`]): a random base per batch plus
//!   the row's index;
//! - each INSERT holds rows of one month partition only, which ClickHouse writes
//!   atomically, so a failed INSERT stored all of its rows or none;
//! - before re-sending rows whose earlier INSERT may have landed, the attempt asks
//!   ClickHouse which of their ids it holds and sends only the others.
//!
//! Data errors (ClickHouse refusing the rows themselves) are isolated by bisection: the
//! refused rows alone go to the quarantine, the rest are stored. Rows a data error left
//! stored anyway (a materialised view refusing them after the table took them) are not
//! sent again.

use std::sync::Arc;

use tokio::time::Instant;

use super::retry::{classify, FailureKind};
use super::spool::Spool;
use crate::metrics::{DropReason, Metrics};
use crate::store::{partition_month, EventRow, Store, StoreError};

/// Ids a batch may use: a base with the low 20 bits clear, plus the row index.
pub const MAX_BATCH_ROWS: usize = 1 << 20;

/// Rows an attempt could not store because ClickHouse failed transiently.
#[derive(Debug)]
pub struct Pending {
    pub rows: Vec<EventRow>,
    /// True when some of them may have been stored anyway (the failure came after the
    /// data was sent): the next attempt must check first.
    pub maybe_stored: bool,
    pub error: StoreError,
}

/// Gives rows without an id (`event_id == 0`) the ids `base + index`. `base` has its low
/// 20 bits cleared so a batch of up to [`MAX_BATCH_ROWS`] rows never collides with another.
pub fn assign_event_ids(rows: &mut [EventRow], base: u64) {
    let base = (base & !((MAX_BATCH_ROWS as u64) - 1)).max(MAX_BATCH_ROWS as u64);
    for (index, row) in rows.iter_mut().enumerate() {
        if row.event_id == 0 {
            row.event_id = base + index as u64;
        }
    }
}

/// A random id base for a new batch.
pub fn random_base() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    u64::from_le_bytes(bytes)
}

/// Stores rows in ClickHouse, quarantining the ones it refuses.
#[derive(Clone)]
pub struct Delivery {
    pub store: Store,
    pub spool: Arc<Spool>,
    pub metrics: Arc<Metrics>,
}

impl Delivery {
    /// One attempt to store `rows` (ids assigned). With `check_first`, rows ClickHouse
    /// already holds are skipped. `Ok` when every row is stored or quarantined.
    ///
    /// # Errors
    /// [`Pending`] with the rows still to store when ClickHouse failed transiently.
    pub async fn attempt(&self, rows: Vec<EventRow>, check_first: bool) -> Result<(), Pending> {
        let rows = if check_first { self.without_stored(rows).await? } else { rows };
        let earliest = rows.iter().map(|row| row.ts).min().unwrap_or_default();
        let latest = rows.iter().map(|row| row.ts).max().unwrap_or_default();
        if partition_month(earliest) == partition_month(latest) {
            // Nearly every batch: one month, sent as it is (regrouping moves every row).
            return self.store_isolating(rows).await;
        }
        let mut months: Vec<Vec<EventRow>> = Vec::new();
        for row in rows {
            let month = partition_month(row.ts);
            match months.iter_mut().find(|group| partition_month(group[0].ts) == month) {
                Some(group) => group.push(row),
                None => months.push(vec![row]),
            }
        }
        let mut months = months.into_iter();
        while let Some(group) = months.next() {
            if let Err(mut pending) = self.store_isolating(group).await {
                pending.rows.extend(months.flatten());
                return Err(pending);
            }
        }
        Ok(())
    }

    /// Drops the rows whose ids ClickHouse already holds.
    async fn without_stored(&self, rows: Vec<EventRow>) -> Result<Vec<EventRow>, Pending> {
        match self.store.stored_event_ids(&rows).await {
            Ok(stored) if stored.is_empty() => Ok(rows),
            Ok(stored) => {
                let before = rows.len();
                let rest: Vec<EventRow> = rows.into_iter().filter(|row| !stored.contains(&row.event_id)).collect();
                tracing::info!(already_stored = before - rest.len(), "skipping rows an earlier attempt stored");
                self.metrics.stored.inc_by((before - rest.len()) as u64);
                Ok(rest)
            }
            Err(error) => Err(Pending { rows, maybe_stored: true, error }),
        }
    }

    /// Inserts rows of one month; on a data error, bisects to find the refused rows.
    async fn store_isolating(&self, rows: Vec<EventRow>) -> Result<(), Pending> {
        let mut chunks = vec![rows];
        while let Some(chunk) = chunks.pop() {
            if chunk.is_empty() {
                continue;
            }
            let started = Instant::now();
            let error = match self.store.insert_events(&chunk).await {
                Ok(()) => {
                    let count = chunk.len() as u64;
                    self.metrics.stored.inc_by(count);
                    self.metrics.batch_rows.observe(count as f64);
                    self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
                    continue;
                }
                Err(error) => error,
            };
            match classify(&error) {
                FailureKind::Data => {
                    // A materialised view refuses rows after ClickHouse has written them to
                    // `events` (views run after the table's own write, and nothing is
                    // rolled back): those rows are stored, and sending them again would
                    // store them twice.
                    let chunk = match self.without_stored(chunk).await {
                        Ok(rest) => rest,
                        Err(mut pending) => {
                            pending.rows.extend(chunks.into_iter().rev().flatten());
                            return Err(pending);
                        }
                    };
                    match chunk.len() {
                        0 => {}
                        1 => {
                            tracing::error!(%error, "ClickHouse refused an event as invalid data; quarantined");
                            self.quarantine(chunk, error.to_string()).await;
                        }
                        rows => {
                            tracing::warn!(%error, rows, "ClickHouse refused a batch as invalid data; bisecting");
                            let mut first = chunk;
                            let second = first.split_off(first.len() / 2);
                            chunks.push(second);
                            chunks.push(first);
                        }
                    }
                }
                FailureKind::Transient { maybe_stored } => {
                    chunks.push(chunk);
                    let rows = chunks.into_iter().rev().flatten().collect();
                    return Err(Pending { rows, maybe_stored, error });
                }
            }
        }
        Ok(())
    }

    async fn quarantine(&self, rows: Vec<EventRow>, reason: String) {
        let count = rows.len() as u64;
        self.metrics.drop_events(DropReason::Quarantined, count);
        let spool = Arc::clone(&self.spool);
        match tokio::task::spawn_blocking(move || spool.quarantine_rows(&rows, &reason)).await {
            Ok(Ok(path)) => tracing::warn!(rows = count, path = %path.display(), "rows quarantined"),
            Ok(Err(error)) => tracing::error!(%error, rows = count, "could not write the quarantine file"),
            Err(error) => tracing::error!(%error, rows = count, "quarantine task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_base_plus_index_and_kept_when_set() {
        let mut rows = vec![EventRow::default(); 3];
        rows[1].event_id = 99;
        assign_event_ids(&mut rows, (5 << 20) + 12345);
        let ids: Vec<u64> = rows.iter().map(|r| r.event_id).collect();
        assert_eq!(ids, vec![5 << 20, 99, (5 << 20) + 2]);
    }

    #[test]
    fn a_zero_base_still_gives_non_zero_ids() {
        let mut rows = vec![EventRow::default(); 2];
        assign_event_ids(&mut rows, 7);
        assert_eq!(rows.iter().map(|r| r.event_id).collect::<Vec<_>>(), vec![1 << 20, (1 << 20) + 1]);
    }
}
