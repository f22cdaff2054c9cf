//! Bearer tokens: the admin token from the settings and the per-site read-only report
//! tokens (`footfall tokens create --site S`), their format, hashing and comparison; and
//! the wrong-token throttle that every door taking a token goes through.
//!
//! A report token is `fft_<id>_<secret>`: `id` is 12 hex digits that name the token
//! (`footfall tokens list`, `revoke`), `secret` 64 hex digits from the OS random source.
//! Only `blake3(token)` is stored (in `report_tokens`, see `store::tokens`); the token is
//! shown once. Secrets are compared in constant time. Which token may read which site's
//! reports is the [`Directory`]'s answer ([`tokens`]: tokens as stored, their kinds and
//! grants); ingest uses [`bearer_is`] for the admin token.
//!
//! Wrong tokens are throttled per client ([`AuthFailureLimiter`]): the reports API's
//! bearer token, the dashboard's login form and share links share one budget of
//! [`WRONG_TOKENS_PER_WINDOW`] wrong tokens per [`WRONG_TOKEN_WINDOW`]; beyond it every
//! token from that client, right or wrong, gets 429 until the window has passed. The
//! client is what [`crate::client_ip`] says (an IPv6 client by its /64), kept only as a
//! keyed hash ([`crate::throttle::ClientMap`]) whose key is made at start-up: the limiter
//! holds no address. One client's wrong tokens never delay another client's right one.

pub mod tokens;

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::HttpRequest;
use subtle::ConstantTimeEq;

use crate::client_ip::Client;
use crate::throttle::{ClientMap, ClientState, Throttled};
pub use tokens::{Directory, Grant, TokenKind, TokenRecord, TokenSource, UnknownToken};

/// Prefix of every report token.
const TOKEN_PREFIX: &str = "fft_";
/// Hex digits in a token id.
const ID_HEX_DIGITS: usize = 12;
/// Hex digits in a token secret (32 random bytes).
const SECRET_HEX_DIGITS: usize = 64;

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// True when the request carries `Authorization: Bearer <expected>` (compared in constant
/// time); false when `expected` is `None` (that token is not configured).
pub fn bearer_is(req: &HttpRequest, expected: Option<&str>) -> bool {
    match (bearer_token(req), expected) {
        (Some(given), Some(expected)) => constant_time_eq(given.as_bytes(), expected.as_bytes()),
        _ => false,
    }
}

/// Compares secrets in time that depends only on their lengths (`subtle`).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A freshly made report token: the token to hand out once, and what is stored.
#[derive(Debug)]
pub struct NewToken {
    /// The whole token, `fft_<id>_<secret>`; never stored.
    pub token: String,
    /// Its public id.
    pub id: String,
    /// `blake3(token)`, hex: what is stored.
    pub hash: String,
}

/// Makes a new random report token.
///
/// # Panics
/// When the operating system has no random source.
pub fn new_token() -> NewToken {
    let hex = crate::random::hex(ID_HEX_DIGITS / 2 + SECRET_HEX_DIGITS / 2);
    let (id, secret) = hex.split_at(ID_HEX_DIGITS);
    let token = format!("{TOKEN_PREFIX}{id}_{secret}");
    NewToken { hash: hash_token(&token), id: id.to_string(), token }
}

/// The id of a well-formed report token, `None` for anything else.
pub fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex(id, ID_HEX_DIGITS) && hex(secret, SECRET_HEX_DIGITS)).then_some(id)
}

/// `blake3(token)` as 64 hex digits: the form a report token is stored and compared in.
pub fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// Wrong tokens one client may send per [`WRONG_TOKEN_WINDOW`] (reports API, dashboard
/// login and share links together) before it is throttled.
pub const WRONG_TOKENS_PER_WINDOW: u32 = 10;
/// How long a client's wrong tokens count, from the first one; a throttled client waits
/// until this much time has passed since its first wrong token.
pub const WRONG_TOKEN_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Clients whose wrong tokens are remembered at once (about 50 bytes each).
const MAX_FAILING_CLIENTS: usize = 100_000;
/// One client's wrong tokens in its current window.
#[derive(Debug, Clone, Copy)]
struct Failures {
    /// When the window ends (it starts at the client's first wrong token in it).
    until: Instant,
    /// Tokens checked in the window that were not right (or are still being checked).
    count: u32,
}

impl ClientState for Failures {
    fn touched(&self) -> Instant {
        self.until
    }

    fn is_spent(&self, now: Instant) -> bool {
        self.count == 0 || now >= self.until
    }
}

/// The wrong-token throttle: at most `limit` wrong tokens per client per `window`
/// ([`WRONG_TOKENS_PER_WINDOW`] per [`WRONG_TOKEN_WINDOW`] by default). Each token check
/// takes a slot before the token is looked at and gives it back only when the token was
/// right ([`Attempt::succeeded`]), so concurrent guesses cannot overrun the limit, and a
/// right token sent between wrong ones does not reset the count.
#[derive(Debug)]
pub struct AuthFailureLimiter {
    clients: ClientMap<Failures>,
    limit: u32,
    window: Duration,
}

impl Default for AuthFailureLimiter {
    fn default() -> Self {
        Self::new(WRONG_TOKENS_PER_WINDOW, WRONG_TOKEN_WINDOW)
    }
}

/// A token check in progress: it counts as a wrong token unless [`Attempt::succeeded`]
/// is called (a check abandoned half-way counts too).
#[must_use = "a right token must be reported with `succeeded`, or it counts as wrong"]
#[derive(Debug)]
pub struct Attempt<'a> {
    limiter: &'a AuthFailureLimiter,
    client: u64,
    window_until: Instant,
}

impl AuthFailureLimiter {
    /// A limiter allowing `limit` wrong tokens per client per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { clients: ClientMap::new(MAX_FAILING_CLIENTS), limit: limit.max(1), window }
    }

    /// Starts checking a token `client` sent at `now`.
    ///
    /// # Errors
    /// [`Throttled`] when the client has sent `limit` wrong tokens in its current window;
    /// `retry_after` is what is left of the window.
    pub fn attempt(&self, client: &Client, now: Instant) -> Result<Attempt<'_>, Throttled> {
        let id = self.clients.id(client);
        let fresh = Failures { until: now + self.window, count: 0 };
        let window_until = self.clients.update(id, now, fresh, |failures| {
            if now >= failures.until {
                *failures = fresh;
            }
            if failures.count >= self.limit {
                return Err(Throttled { retry_after: failures.until - now });
            }
            failures.count += 1;
            Ok(failures.until)
        })?;
        Ok(Attempt { limiter: self, client: id, window_until })
    }

    /// Clients with wrong tokens in a live window.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }
}

impl Attempt<'_> {
    /// The token was right: its slot is given back.
    pub fn succeeded(self) {
        let fresh = Failures { until: self.window_until, count: 0 };
        self.limiter.clients.update(self.client, Instant::now(), fresh, |failures| {
            if failures.until == self.window_until {
                failures.count = failures.count.saturating_sub(1);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> Client {
        Client { ip: ip.parse().unwrap(), exempt_from_limits: false }
    }

    #[test]
    fn wrong_tokens_are_limited_per_client_until_the_window_passes() {
        let limiter = AuthFailureLimiter::new(3, Duration::from_secs(60));
        let (a, b) = (client("192.0.2.1"), client("192.0.2.2"));
        let start = Instant::now();
        for _ in 0..3 {
            let _wrong = limiter.attempt(&a, start).unwrap();
        }
        let throttled = limiter.attempt(&a, start + Duration::from_millis(500)).unwrap_err();
        assert_eq!(throttled.retry_after, Duration::from_millis(59_500));
        assert_eq!(throttled.retry_after_secs(), 60);
        // Another client is not affected, and its right token leaves nothing behind.
        limiter.attempt(&b, start).unwrap().succeeded();
        assert_eq!(limiter.clients(), 1);
        // Still throttled at the last moment of the window; free again once it has passed.
        assert!(limiter.attempt(&a, start + Duration::from_millis(59_999)).is_err());
        let later = start + Duration::from_secs(60);
        for _ in 0..3 {
            let _wrong = limiter.attempt(&a, later).unwrap();
        }
        assert!(limiter.attempt(&a, later).is_err());
    }

    #[test]
    fn a_right_token_gives_its_slot_back_but_does_not_reset_the_count() {
        let limiter = AuthFailureLimiter::new(2, Duration::from_secs(60));
        let a = client("2001:db8:1:2::1");
        let now = Instant::now();
        let _wrong = limiter.attempt(&a, now).unwrap();
        for _ in 0..5 {
            limiter.attempt(&a, now).unwrap().succeeded();
        }
        let _wrong = limiter.attempt(&a, now).unwrap();
        // Two wrong tokens: even a right one waits now; the same /64 is the same client.
        assert!(limiter.attempt(&a, now).is_err());
        assert!(limiter.attempt(&client("2001:db8:1:2::ffff"), now).is_err());
        assert!(limiter.attempt(&client("2001:db8:1:3::1"), now).is_ok());
    }

    #[test]
    fn concurrent_checks_cannot_overrun_the_limit() {
        let limiter = AuthFailureLimiter::new(4, Duration::from_secs(60));
        let a = client("198.51.100.9");
        let now = Instant::now();
        let in_flight: Vec<Attempt<'_>> = (0..10).filter_map(|_| limiter.attempt(&a, now).ok()).collect();
        assert_eq!(in_flight.len(), 4);
    }

    #[test]
    fn the_client_map_stays_bounded() {
        let limiter = AuthFailureLimiter::new(1, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..(MAX_FAILING_CLIENTS as u32 + 5_000) {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let _wrong = limiter.attempt(&Client { ip: ip.into(), exempt_from_limits: false }, now).unwrap();
        }
        assert!(limiter.clients() <= MAX_FAILING_CLIENTS + crate::throttle::SHARDS, "{}", limiter.clients());
        assert_eq!(Throttled { retry_after: Duration::ZERO }.retry_after_secs(), 1);
    }

    #[test]
    fn new_tokens_are_well_formed_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 4 + 12 + 1 + 64);
        assert_eq!(token_id(&a.token), Some(a.id.as_str()));
        assert_eq!(a.hash, hash_token(&a.token));
        assert!(!a.hash.contains(&a.token));
    }

    #[test]
    fn malformed_tokens_have_no_id() {
        let good = new_token().token;
        assert_eq!(token_id(&good[..good.len() - 1]), None);
        assert_eq!(token_id(&good.to_uppercase()), None);
        assert_eq!(token_id(&good.replace("fft_", "xyz_")), None);
        assert_eq!(token_id("fft_0123456789ab_' OR 1=1 --"), None);
        assert_eq!(token_id(""), None);
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
    }
}
