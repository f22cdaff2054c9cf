//! Dashboard sessions and the login limiter.
//!
//! A session is 32 random bytes (hex) in the `footfall_session` cookie, mapped in memory
//! to the token that opened it: the admin token, a site's report token typed into the
//! login form, or a share link's token. The token stays in this process's memory only
//! and is checked again on every request, so revoking it (`footfall tokens revoke`,
//! `footfall share revoke`) ends its sessions within the reports' refresh interval.
//! Sessions end after [`SESSION_TTL`] and when footfall restarts.
//!
//! Failed logins are limited per client: the client address is hashed with a key made
//! at start-up (never kept in the clear), and after [`FREE_FAILURES`] failures each
//! further attempt must wait twice as long as the last, up to [`MAX_BACKOFF`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The cookie holding the session id.
pub const COOKIE: &str = "footfall_session";
/// Failed logins a client may make before it has to wait.
pub const FREE_FAILURES: u32 = 5;
/// The first wait after [`FREE_FAILURES`]; it doubles with each further failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Sessions held at once; the oldest are dropped beyond this.
const MAX_SESSIONS: usize = 100_000;
/// Clients whose failures are remembered at once.
const MAX_CLIENTS: usize = 100_000;

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

/// Sessions by id.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session for `token`; returns its id.
    pub fn open(&self, token: String, kind: Kind) -> String {
        let id = random_hex(32);
        let mut sessions = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, session| session.created.elapsed() < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.created).map(|(id, _)| id.clone()) {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(id.clone(), Session { token, kind, created: Instant::now() });
        id
    }

    /// The live session `id`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let sessions = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        sessions.get(id).filter(|session| session.created.elapsed() < SESSION_TTL).cloned()
    }

    /// Ends session `id`.
    pub fn close(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failed logins per client (by keyed hash of the address).
#[derive(Debug)]
pub struct LoginLimiter {
    key: [u8; 32],
    failures: Mutex<HashMap<u64, Failures>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system provides random bytes");
        Self { key, failures: Mutex::default() }
    }
}

impl LoginLimiter {
    fn client(&self, address: IpAddr) -> u64 {
        let hash = blake3::keyed_hash(&self.key, address.to_string().as_bytes());
        u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
    }

    /// How long `address` must still wait before it may try again; `None`: it may now.
    pub fn wait(&self, address: IpAddr) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.get(&self.client(address))?;
        let backoff = backoff(entry.count)?;
        backoff.checked_sub(entry.last.elapsed()).filter(|left| !left.is_zero())
    }

    /// Counts a failed attempt.
    pub fn failed(&self, address: IpAddr) {
        let client = self.client(address);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_CLIENTS {
            failures.retain(|_, entry| entry.last.elapsed() < MAX_BACKOFF);
        }
        let entry = failures.entry(client).or_insert(Failures { count: 0, last: Instant::now() });
        entry.count = entry.count.saturating_add(1);
        entry.last = Instant::now();
    }

    /// Forgets the failures of `address` after a successful login.
    pub fn succeeded(&self, address: IpAddr) {
        let client = self.client(address);
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&client);
    }
}

/// The wait after `count` failures: none up to [`FREE_FAILURES`], then 1 s, 2 s, 4 s ...
fn backoff(count: u32) -> Option<Duration> {
    let over = count.checked_sub(FREE_FAILURES)?;
    Some(FIRST_BACKOFF.saturating_mul(1u32 << over.min(20)).min(MAX_BACKOFF))
}

/// `bytes` random bytes as hex.
///
/// # Panics
/// When the operating system has no random source.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system provides random bytes");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_after_the_free_failures_and_doubles() {
        assert_eq!(backoff(FREE_FAILURES - 1), None);
        assert_eq!(backoff(FREE_FAILURES), Some(Duration::from_secs(1)));
        assert_eq!(backoff(FREE_FAILURES + 3), Some(Duration::from_secs(8)));
        assert_eq!(backoff(FREE_FAILURES + 40), Some(MAX_BACKOFF));
    }

    #[test]
    fn limiter_counts_per_client_and_forgets_on_success() {
        let limiter = LoginLimiter::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..FREE_FAILURES {
            assert_eq!(limiter.wait(a), None);
            limiter.failed(a);
        }
        assert!(limiter.wait(a).is_some_and(|left| left <= Duration::from_secs(1)));
        assert_eq!(limiter.wait(b), None);
        limiter.succeeded(a);
        assert_eq!(limiter.wait(a), None);
    }

    #[test]
    fn sessions_open_and_close() {
        let sessions = Sessions::default();
        let id = sessions.open("t".into(), Kind::Share);
        assert_eq!(id.len(), 64);
        assert_eq!(sessions.get(&id).map(|s| (s.token, s.kind)), Some(("t".into(), Kind::Share)));
        sessions.close(&id);
        assert!(sessions.get(&id).is_none());
    }
}
