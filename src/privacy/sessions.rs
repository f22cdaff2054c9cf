//! Sessions: a visitor's run of events with no gap longer than 30 minutes.
//!
//! The table maps a visitor hash (already anonymous) to its current session, so a
//! session id and the "entry" flag (first pageview of a session) can be stored with each
//! event. It holds no personal data, lives in memory only, and forgets a visitor 30
//! minutes after their last event. Because visitor hashes change with the day key,
//! sessions also end at midnight UTC. With several collector nodes a session is only
//! stitched when the visitor's requests reach the same node (see docs/privacy.md, "Sessions").

use std::collections::HashMap;
use std::sync::Mutex;

/// Inactivity after which the next event starts a new session, in seconds.
pub const SESSION_TIMEOUT_SECS: u32 = 30 * 60;
const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct SessionState {
    started: u32,
    last_seen: u32,
    had_pageview: bool,
}

/// What the table says about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionMark {
    /// When the event's session started (seconds since the epoch); hashed into the id.
    pub started: u32,
    /// True when this is the session's first pageview.
    pub entry: bool,
}

/// Sharded map of live sessions with a capacity bound.
#[derive(Debug)]
pub struct SessionTable {
    shards: Vec<Mutex<HashMap<u64, SessionState>>>,
    max_per_shard: usize,
}

impl SessionTable {
    /// A table that tracks at most `capacity` visitors at once; beyond it, the least
    /// useful entries (expired first, else arbitrary) are forgotten.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            max_per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// Records an event of `visitor` at `ts` and says which session it belongs to.
    pub fn observe(&self, visitor: u64, ts: u32, is_pageview: bool) -> SessionMark {
        let mut shard = self.shards[(visitor as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = shard.get_mut(&visitor) {
            if ts.saturating_sub(state.last_seen) <= SESSION_TIMEOUT_SECS {
                state.last_seen = state.last_seen.max(ts);
                let entry = is_pageview && !state.had_pageview;
                state.had_pageview |= is_pageview;
                return SessionMark { started: state.started, entry };
            }
        }
        if shard.len() >= self.max_per_shard {
            shard.retain(|_, state| ts.saturating_sub(state.last_seen) <= SESSION_TIMEOUT_SECS);
            if shard.len() >= self.max_per_shard {
                if let Some(evict) = shard.keys().next().copied() {
                    shard.remove(&evict);
                }
            }
        }
        shard.insert(visitor, SessionState { started: ts, last_seen: ts, had_pageview: is_pageview });
        SessionMark { started: ts, entry: is_pageview }
    }

    /// Forgets sessions idle for longer than the timeout at `now`.
    pub fn expire(&self, now: u32) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.retain(|_, state| now.saturating_sub(state.last_seen) <= SESSION_TIMEOUT_SECS);
        }
    }

    /// Visitors currently tracked.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    /// True when no visitor is tracked.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pageview_is_the_entry_and_timeout_starts_a_new_session() {
        let table = SessionTable::new(100);
        assert_eq!(table.observe(7, 1000, false), SessionMark { started: 1000, entry: false });
        assert_eq!(table.observe(7, 1010, true), SessionMark { started: 1000, entry: true });
        assert_eq!(table.observe(7, 1020, true), SessionMark { started: 1000, entry: false });
        let later = 1020 + SESSION_TIMEOUT_SECS + 1;
        assert_eq!(table.observe(7, later, true), SessionMark { started: later, entry: true });
    }

    #[test]
    fn capacity_is_bounded_and_expiry_forgets() {
        let table = SessionTable::new(32);
        for visitor in 0..1000 {
            table.observe(visitor, 5000, true);
        }
        assert!(table.len() <= 32, "{}", table.len());
        table.expire(5000 + SESSION_TIMEOUT_SECS + 1);
        assert!(table.is_empty());
    }
}
