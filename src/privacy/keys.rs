//! Day keys: 32 random bytes per UTC day that visitor and session hashes are keyed with.
//!
//! Keys live in ClickHouse (`day_keys`) so every collector node hashes with the same key.
//! A node that finds no key for a day inserts a random candidate; when nodes race, the
//! smallest candidate wins on every node, so they converge without coordination. Keys
//! are created a day ahead, which leaves a whole day for all nodes to agree before a key
//! is first used, and makes the switch at UTC midnight local to each node (no gap).
//! Yesterday's key is kept for visitor-rights requests (`/api/forget`); keys of days that
//! started more than 48 h ago are deleted.
//!
//! Requests never wait on ClickHouse: they read the in-memory [`KeyRing`], which
//! [`KeyRing::refresh`] updates from a background task.

use std::sync::RwLock;

use chrono::{DateTime, Utc};

use crate::store::{DayKeyRow, Store, StoreError};

/// Days since 1970-01-01 for a UTC instant (the ClickHouse `Date` encoding).
pub fn day_number(now: DateTime<Utc>) -> u16 {
    (now.timestamp().div_euclid(86_400)) as u16
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DayKey {
    day: u16,
    key: [u8; 32],
    /// True until the key has been read back from ClickHouse as the winning candidate.
    provisional: bool,
}

/// The keys this node hashes with: today's and tomorrow's.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: RwLock<Vec<DayKey>>,
}

impl KeyRing {
    /// The key for `day`. When ClickHouse could not be reached to agree on one, a random
    /// provisional key is made here and offered to ClickHouse at the next refresh.
    pub fn key_for(&self, day: u16) -> [u8; 32] {
        if let Some(found) = self.lookup(day) {
            return found;
        }
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = keys.iter().find(|k| k.day == day) {
            return found.key;
        }
        let key = random_key();
        keys.push(DayKey { day, key, provisional: true });
        key
    }

    fn lookup(&self, day: u16) -> Option<[u8; 32]> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.iter().find(|k| k.day == day).map(|k| k.key)
    }

    /// Makes sure today's and tomorrow's keys exist in ClickHouse, adopts the winning
    /// candidate of yesterday, today and tomorrow, forgets older keys here and deletes
    /// keys of days before yesterday from ClickHouse.
    ///
    /// When a day has no key yet, this node offers a candidate and waits
    /// [`CANDIDATE_SETTLE`] before reading the candidates back, so that nodes racing to
    /// create the same day's key all see each other's candidates and pick the same one.
    ///
    /// # Errors
    /// ClickHouse being unreachable; the ring keeps what it had.
    pub async fn refresh(&self, store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let today = day_number(now);
        let (yesterday, tomorrow) = (today - 1, today + 1);
        let mut stored = store.day_keys(yesterday, tomorrow).await?;
        let missing: Vec<u16> =
            [today, tomorrow].into_iter().filter(|day| !stored.iter().any(|row| row.day == *day)).collect();
        if !missing.is_empty() {
            for &day in &missing {
                let candidate = {
                    let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
                    keys.iter().find(|k| k.day == day).map_or_else(random_key, |k| k.key)
                };
                store.insert_day_key(&DayKeyRow { day, key: candidate, created_at: now.timestamp() as u32 }).await?;
            }
            tokio::time::sleep(CANDIDATE_SETTLE).await;
            stored = store.day_keys(yesterday, tomorrow).await?;
        }
        let winners: Vec<DayKey> = [yesterday, today, tomorrow]
            .into_iter()
            .filter_map(|day| {
                let key = stored.iter().filter(|row| row.day == day).map(|row| row.key).min()?;
                Some(DayKey { day, key, provisional: false })
            })
            .collect();
        {
            let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
            if keys.iter().any(|k| k.provisional) {
                tracing::warn!("replacing a provisional day key made while ClickHouse was unreachable");
            }
            *keys = winners;
        }
        store.delete_day_keys_before(yesterday).await
    }

    /// The key of `day` if this node holds it (yesterday's, today's or tomorrow's);
    /// `None` for days whose key is gone or was never made.
    pub fn existing_key(&self, day: u16) -> Option<[u8; 32]> {
        self.lookup(day)
    }
}

/// How long a node that offered a candidate key waits before reading the candidates back.
pub const CANDIDATE_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random number generator failed");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_number_matches_clickhouse_dates() {
        let noon = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().with_timezone(&Utc);
        // SELECT toUInt16(toDate('2026-11-28')) = 20785
        assert_eq!(day_number(noon), 20785);
    }

    #[test]
    fn provisional_key_is_stable_until_refreshed() {
        let ring = KeyRing::default();
        let first = ring.key_for(100);
        assert_eq!(ring.key_for(100), first);
        assert_ne!(ring.key_for(101), first);
    }
}
