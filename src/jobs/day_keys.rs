//! Keeping the node's day keys in step with the `day_keys` table, which every collector
//! node shares: the I/O half of `privacy::keys` (which holds the keys and the rules).
//!
//! Each pass makes sure today's and tomorrow's keys exist in ClickHouse, hands the stored
//! candidates of yesterday, today and tomorrow to [`KeyRing::adopt`] (the smallest wins),
//! and deletes the keys of days before yesterday from ClickHouse.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::privacy::keys::{day_number, KeyRing};
use crate::store::{DayKeyRow, Store, StoreError};

/// How long a node that offered a candidate key waits before reading the candidates back,
/// so that nodes racing to create the same day's key all see each other's candidates and
/// pick the same one.
const CANDIDATE_SETTLE: Duration = Duration::from_millis(500);

/// One pass at `now` (see the module docs); a day without a key gets this node's
/// candidate first.
///
/// # Errors
/// ClickHouse being unreachable; the ring keeps what it had.
pub async fn sync(ring: &KeyRing, store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
    let today = day_number(now);
    let (yesterday, tomorrow) = (today - 1, today + 1);
    let mut stored = store.day_keys(yesterday, tomorrow).await?;
    let missing: Vec<u16> =
        [today, tomorrow].into_iter().filter(|day| !stored.iter().any(|row| row.day == *day)).collect();
    if !missing.is_empty() {
        for day in missing {
            let row = DayKeyRow { day, key: ring.candidate(day), created_at: now.timestamp() as u32 };
            store.insert_day_key(&row).await?;
        }
        tokio::time::sleep(CANDIDATE_SETTLE).await;
        stored = store.day_keys(yesterday, tomorrow).await?;
    }
    let candidates: Vec<(u16, [u8; 32])> = stored.iter().map(|row| (row.day, row.key)).collect();
    ring.adopt(&[yesterday, today, tomorrow], &candidates);
    store.delete_day_keys_before(yesterday).await
}
