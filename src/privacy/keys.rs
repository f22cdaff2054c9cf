//! Day keys: 32 random bytes per UTC day that visitor and session hashes are keyed with.
//!
//! Keys live in ClickHouse (`day_keys`, in its own database apart from the events, which
//! readers of events cannot read) so every collector node hashes with the same key.
//! A node that finds no key for a day inserts a random candidate; when nodes race, the
//! smallest candidate wins on every node, so they converge without coordination. Keys
//! are created a day ahead, which leaves a whole day for all nodes to agree before a key
//! is first used, and makes the switch at UTC midnight local to each node (no gap).
//! Yesterday's key is kept for visitor-rights requests (`/api/forget`); keys of days that
//! started more than 48 h ago are deleted.
//!
//! This module holds the keys and the rules; it does no I/O. Requests never wait on
//! ClickHouse: they read the in-memory [`KeyRing`], which a background job
//! (`jobs::day_keys`) keeps in step with the `day_keys` table through `store`, handing
//! the stored candidates to [`KeyRing::adopt`].
//!
//! Backfills (an admin's `ts` on another day than today) never use a live key, which
//! would link the imported person to today's visitor: they are hashed with an
//! [`ImportKeys`] key of the event's day, random, held in this process's memory only and
//! dropped an hour after its last use ([`IMPORT_KEY_IDLE`]).

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

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

    /// The key this node offers for `day` when no node has stored one yet: the
    /// provisional key it already hashes with, else a new random one.
    pub fn candidate(&self, day: u16) -> [u8; 32] {
        self.lookup(day).unwrap_or_else(random_key)
    }

    /// Holds exactly the winning keys of the days in `days`, from every node's stored
    /// `candidates` (day, key): the smallest candidate of a day wins on every node, so
    /// nodes converge without coordination. Keys of other days, and provisional keys,
    /// are forgotten here.
    pub fn adopt(&self, days: &[u16], candidates: &[(u16, [u8; 32])]) {
        let winners: Vec<DayKey> = days
            .iter()
            .filter_map(|&day| {
                let key = candidates.iter().filter(|(of, _)| *of == day).map(|(_, key)| *key).min()?;
                Some(DayKey { day, key, provisional: false })
            })
            .collect();
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if keys.iter().any(|k| k.provisional) {
            tracing::warn!("replacing a provisional day key made while ClickHouse was unreachable");
        }
        *keys = winners;
    }

    /// The key of `day` if this node holds it (yesterday's, today's or tomorrow's);
    /// `None` for days whose key is gone or was never made.
    pub fn existing_key(&self, day: u16) -> Option<[u8; 32]> {
        self.lookup(day)
    }
}

/// How long an import key outlives its last use: one import that spans many requests
/// counts a person once per day, and two imports further apart than this are not linked.
pub const IMPORT_KEY_IDLE: Duration = Duration::from_secs(3600);

/// Throw-away keys for backfilled days: one random key per UTC day, never written
/// anywhere, forgotten [`IMPORT_KEY_IDLE`] after its last use.
#[derive(Debug, Default)]
pub struct ImportKeys {
    keys: Mutex<HashMap<u16, ImportKey>>,
}

#[derive(Debug)]
struct ImportKey {
    key: [u8; 32],
    last_used: Instant,
}

impl ImportKeys {
    /// The import key of `day` at `now`: the one in use when it was last used less than
    /// [`IMPORT_KEY_IDLE`] ago, else a new random one.
    pub fn key_for(&self, day: u16, now: Instant) -> [u8; 32] {
        let mut keys = self.live(now);
        let entry = keys.entry(day).or_insert_with(|| ImportKey { key: random_key(), last_used: now });
        entry.last_used = entry.last_used.max(now);
        entry.key
    }

    /// Forgets the keys last used [`IMPORT_KEY_IDLE`] or longer before `now` (the
    /// background housekeeping calls this, so an idle key does not wait for the next import).
    pub fn expire(&self, now: Instant) {
        drop(self.live(now));
    }

    /// The keys, locked, after forgetting those idle for [`IMPORT_KEY_IDLE`] at `now`.
    fn live(&self, now: Instant) -> std::sync::MutexGuard<'_, HashMap<u16, ImportKey>> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.retain(|_, key| now.saturating_duration_since(key.last_used) < IMPORT_KEY_IDLE);
        keys
    }

    /// How many import keys are held.
    pub fn len(&self) -> usize {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when no import key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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
    fn an_import_key_lives_until_an_hour_after_its_last_use() {
        let imports = ImportKeys::default();
        let start = Instant::now();
        let first = imports.key_for(100, start);
        // Used again within the hour: the same key, and the hour starts again.
        let later = start + Duration::from_secs(50 * 60);
        assert_eq!(imports.key_for(100, later), first);
        assert_eq!(imports.key_for(100, later + Duration::from_secs(50 * 60)), first);
        assert_ne!(imports.key_for(101, later), first, "each day has its own key");
        // An hour after its last use it is gone: a new import is not linked to the old one.
        let idle = later + Duration::from_secs(50 * 60) + IMPORT_KEY_IDLE;
        imports.expire(idle);
        assert!(imports.is_empty());
        assert_ne!(imports.key_for(100, idle), first);
    }

    #[test]
    fn import_keys_are_never_the_live_keys() {
        let ring = KeyRing::default();
        let imports = ImportKeys::default();
        assert_ne!(imports.key_for(100, Instant::now()), ring.key_for(100));
    }

    #[test]
    fn provisional_key_is_stable_until_refreshed() {
        let ring = KeyRing::default();
        let first = ring.key_for(100);
        assert_eq!(ring.key_for(100), first);
        assert_ne!(ring.key_for(101), first);
    }
}
