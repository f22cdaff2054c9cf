//! Dashboard sessions and the throttle on opening them.
//!
//! A session is 32 random bytes (hex) in the `footfall_session` cookie, mapped in memory
//! to the token that opened it: the admin token, a site's report token typed into the
//! login form, or a share link's token. The token stays in this process's memory only
//! and is checked again on every request, so revoking it (`footfall tokens revoke`,
//! `footfall share revoke`) ends its sessions within the reports' refresh interval.
//! Sessions end after [`SESSION_TTL`] and when footfall restarts.
//!
//! Sessions are found by the blake3 hash of their id in a hash map (O(1); the id itself
//! is not kept). Memory is bounded without letting a flood end real sessions: each token
//! holds at most [`MAX_SESSIONS_PER_TOKEN`] sessions, and a new one beyond that ends the
//! oldest session *of the same token* (so a share link opened over and over only ends
//! its own earlier sessions); all tokens together hold at most [`MAX_SESSIONS`], and
//! beyond that new sessions are refused ([`Full`], 503) rather than old ones ended.
//! Opening sessions is also throttled per client ([`session_throttle`]): a burst of
//! [`SESSIONS_BURST`], then one per [`SESSION_EVERY`].
//!
//! Wrong tokens typed into the login form or carried by share links are throttled by
//! [`crate::auth::AuthFailureLimiter`], shared with the reports API.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::throttle::RateLimiter;

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The cookie holding the session id.
pub const COOKIE: &str = "footfall_session";
/// Sessions one token (a share link, a report token, the admin token) holds at once; a
/// new one beyond this ends that token's oldest session.
pub const MAX_SESSIONS_PER_TOKEN: usize = 1_000;
/// Sessions of all tokens together; beyond this new sessions are refused (503) until
/// old ones end.
pub const MAX_SESSIONS: usize = 100_000;
/// Sessions (logins and share links together) one client may open at once.
pub const SESSIONS_BURST: u32 = 20;
/// After [`SESSIONS_BURST`], one more session per client per this interval (6 a minute).
pub const SESSION_EVERY: Duration = Duration::from_secs(10);
/// Clients whose session openings are remembered at once.
const MAX_OPENING_CLIENTS: usize = 100_000;

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The login form.
    Login,
    /// A share link: one site, read-only, no site picker beyond it.
    Share,
}

/// What a session holds.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub kind: Kind,
    created: Instant,
}

/// No room for another session: [`MAX_SESSIONS`] are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

type Key = [u8; 32];

#[derive(Debug, Default)]
struct Pool {
    /// blake3(session id) -> session.
    by_id: HashMap<Key, Session>,
    /// blake3(token) -> that token's session keys, oldest first. May still hold keys of
    /// sessions closed since; they are dropped when met.
    by_token: HashMap<Key, VecDeque<Key>>,
}

/// Sessions by id.
#[derive(Debug, Default)]
pub struct Sessions {
    pool: Mutex<Pool>,
}

fn key(text: &str) -> Key {
    *blake3::hash(text.as_bytes()).as_bytes()
}

impl Pool {
    fn is_live(&self, key: &Key, now: Instant) -> bool {
        self.by_id.get(key).is_some_and(|session| now.duration_since(session.created) < SESSION_TTL)
    }

    /// Drops the closed and expired sessions at the front of `token`'s queue (its
    /// oldest), so its queue starts with a live session.
    fn expire(&mut self, token: &Key, now: Instant) {
        let Some(queue) = self.by_token.get_mut(token) else { return };
        while let Some(front) = queue.front() {
            let session = self.by_id.get(front);
            if session.is_some_and(|session| now.duration_since(session.created) < SESSION_TTL) {
                break;
            }
            if session.is_some() {
                self.by_id.remove(front);
            }
            queue.pop_front();
        }
        if queue.is_empty() {
            self.by_token.remove(token);
        }
    }
}

impl Sessions {
    /// Opens a session for `token`; returns its id. When the token already holds
    /// [`MAX_SESSIONS_PER_TOKEN`] sessions, its oldest ends.
    ///
    /// # Errors
    /// [`Full`] when [`MAX_SESSIONS`] sessions are open; no session is ended for room.
    pub fn open(&self, token: String, kind: Kind) -> Result<String, Full> {
        self.open_at(token, kind, Instant::now())
    }

    fn open_at(&self, token: String, kind: Kind, now: Instant) -> Result<String, Full> {
        let token_key = key(&token);
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let pool = &mut *pool;
        pool.expire(&token_key, now);
        if pool.by_token.get(&token_key).is_some_and(|queue| queue.len() >= MAX_SESSIONS_PER_TOKEN) {
            let by_id = &pool.by_id;
            let queue = pool.by_token.get_mut(&token_key).expect("checked above");
            queue.retain(|key| by_id.contains_key(key));
            while queue.len() >= MAX_SESSIONS_PER_TOKEN {
                if let Some(oldest) = queue.pop_front() {
                    pool.by_id.remove(&oldest);
                }
            }
        }
        if pool.by_id.len() >= MAX_SESSIONS {
            let tokens: Vec<Key> = pool.by_token.keys().copied().collect();
            for token in &tokens {
                pool.expire(token, now);
            }
            pool.by_id.retain(|_, session| now.duration_since(session.created) < SESSION_TTL);
            if pool.by_id.len() >= MAX_SESSIONS {
                return Err(Full);
            }
        }
        let id = crate::random::hex(32);
        let session_key = key(&id);
        pool.by_id.insert(session_key, Session { token, kind, created: now });
        pool.by_token.entry(token_key).or_default().push_back(session_key);
        Ok(id)
    }

    /// The live session `id`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let session_key = key(id);
        let pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.is_live(&session_key, Instant::now()).then(|| pool.by_id[&session_key].clone())
    }

    /// Ends session `id`.
    pub fn close(&self, id: &str) {
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).by_id.remove(&key(id));
    }

    /// Sessions held now (live or expired but not yet dropped).
    pub fn len(&self) -> usize {
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).by_id.len()
    }

    /// True when no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The throttle on opening sessions: [`SESSIONS_BURST`] per client at once, then one
/// per [`SESSION_EVERY`]; no client is exempt (a flood from an unconfigured proxy's
/// loopback address must be throttled too).
pub fn session_throttle() -> RateLimiter {
    RateLimiter::strict(SESSION_EVERY, SESSIONS_BURST, MAX_OPENING_CLIENTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_ip::Client;
    use crate::throttle::Throttled;

    #[test]
    fn sessions_open_and_close() {
        let sessions = Sessions::default();
        let id = sessions.open("t".into(), Kind::Share).unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(sessions.get(&id).map(|s| (s.token, s.kind)), Some(("t".into(), Kind::Share)));
        sessions.close(&id);
        assert!(sessions.get(&id).is_none());
        assert!(sessions.get("not a session").is_none());
    }

    #[test]
    fn a_token_at_its_quota_ends_only_its_own_oldest_session() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let real = sessions.open_at("admin".into(), Kind::Login, now).unwrap();
        let other_link = sessions.open_at("other".into(), Kind::Share, now).unwrap();
        let flood: Vec<String> = (0..MAX_SESSIONS_PER_TOKEN + 3)
            .map(|_| sessions.open_at("shared".into(), Kind::Share, now).unwrap())
            .collect();
        assert!(sessions.get(&real).is_some());
        assert!(sessions.get(&other_link).is_some());
        assert!(flood[..3].iter().all(|id| sessions.get(id).is_none()), "the link's oldest ended");
        assert!(flood[3..].iter().all(|id| sessions.get(id).is_some()));
        assert_eq!(sessions.len(), MAX_SESSIONS_PER_TOKEN + 2);
    }

    #[test]
    fn closed_sessions_do_not_count_against_the_quota() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let first = sessions.open_at("t".into(), Kind::Login, now).unwrap();
        for _ in 0..MAX_SESSIONS_PER_TOKEN {
            let id = sessions.open_at("t".into(), Kind::Login, now).unwrap();
            sessions.close(&id);
        }
        assert!(sessions.get(&first).is_some());
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn at_the_cap_new_sessions_are_refused_and_old_ones_kept() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let first = sessions.open_at("token-0".into(), Kind::Login, now).unwrap();
        for i in 1..MAX_SESSIONS {
            sessions.open_at(format!("token-{}", i % 200), Kind::Share, now).unwrap();
        }
        assert_eq!(sessions.open_at("token-new".into(), Kind::Share, now), Err(Full));
        assert!(sessions.get(&first).is_some());
        // Expired sessions make room.
        let later = now + SESSION_TTL;
        assert!(sessions.open_at("token-new".into(), Kind::Share, later).is_ok());
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn opening_sessions_is_throttled_per_client_after_a_burst() {
        let throttle = session_throttle();
        let a = Client { ip: "192.0.2.1".parse().unwrap(), exempt_from_limits: false };
        let b = Client { ip: "192.0.2.2".parse().unwrap(), exempt_from_limits: false };
        let now = Instant::now();
        for _ in 0..SESSIONS_BURST {
            assert_eq!(throttle.check(&a, now), Ok(()));
        }
        assert_eq!(throttle.check(&a, now), Err(Throttled { retry_after: SESSION_EVERY }));
        assert_eq!(throttle.check(&b, now), Ok(()), "clients are throttled separately");
        assert_eq!(throttle.check(&a, now + SESSION_EVERY), Ok(()));
        assert!(throttle.check(&a, now + SESSION_EVERY).is_err());
        assert_eq!(throttle.clients(), 2);
    }
}
