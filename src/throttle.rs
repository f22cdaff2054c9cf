//! Per-client throttles, with bounded memory and no address kept: [`ClientMap`] holds a
//! state per client keyed by a keyed hash of its [`Client::limit_key`] (the address, an
//! IPv6 client by its /64; the key is made at start-up), and [`RateLimiter`] is a token
//! bucket per client on it. Intake's rate limit and the dashboard's session throttle are
//! [`RateLimiter`]s; the wrong-token throttle (`auth::AuthFailureLimiter`) is a window
//! on a [`ClientMap`]. A refusal is a [`Throttled`] with its `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client_ip::Client;

/// Shards of a [`ClientMap`], so that clients rarely wait on each other's lock.
pub(crate) const SHARDS: usize = 16;

/// What a [`ClientMap`] keeps per client.
pub trait ClientState: Copy {
    /// The last time this state changed: when a map is full of live states, the stalest
    /// are forgotten first.
    fn touched(&self) -> Instant;
    /// True when forgetting this state at `now` would change nothing.
    fn is_spent(&self, now: Instant) -> bool;
}

/// Per-client state, bounded in memory, keyed by a keyed blake3 hash of the client's
/// [`Client::limit_key`] (the address, an IPv6 client by its /64) with a key made at
/// start-up: no address is kept. At most about `max_clients` states; when a shard is
/// full, its spent states are dropped, then its stalest half.
#[derive(Debug)]
pub struct ClientMap<T> {
    key: [u8; 32],
    shards: Vec<Mutex<HashMap<u64, T>>>,
    per_shard: usize,
}

impl<T: ClientState> ClientMap<T> {
    /// An empty map for at most about `max_clients` clients.
    ///
    /// # Panics
    /// When the operating system has no random source.
    pub fn new(max_clients: usize) -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system provides random bytes");
        Self {
            key,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: max_clients.div_ceil(SHARDS).max(1),
        }
    }

    /// The keyed hash `client` is known by.
    pub fn id(&self, client: &Client) -> u64 {
        let hash = blake3::keyed_hash(&self.key, &client.limit_key());
        u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"))
    }

    /// Runs `update` on the state of client `id` (`fresh` when it has none) and forgets
    /// the state when it is spent afterwards.
    pub fn update<R>(&self, id: u64, now: Instant, fresh: T, update: impl FnOnce(&mut T) -> R) -> R {
        let mut shard = self.shards[(id as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= self.per_shard && !shard.contains_key(&id) {
            shard.retain(|_, state| !state.is_spent(now));
            if shard.len() >= self.per_shard {
                let mut touched: Vec<Instant> = shard.values().map(T::touched).collect();
                touched.sort_unstable();
                let cutoff = touched[touched.len() / 2];
                shard.retain(|_, state| state.touched() > cutoff);
            }
        }
        let state = shard.entry(id).or_insert(fresh);
        let answer = update(state);
        if state.is_spent(now) {
            shard.remove(&id);
        }
        answer
    }

    /// Forgets every state that is spent at `now`.
    pub fn forget_spent(&self, now: Instant) {
        for shard in &self.shards {
            shard.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, state| !state.is_spent(now));
        }
    }

    /// Clients with a state now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    /// True when no client has a state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A refusal for now: the client may try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttled {
    /// `retry_after` in whole seconds, rounded up, at least 1: the `Retry-After` value.
    pub fn retry_after_secs(&self) -> u64 {
        (self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)).max(1)
    }
}

/// One client's token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests the client may still send now.
    tokens: f64,
    updated: Instant,
    /// When the bucket will be full again: after that, forgetting it changes nothing.
    full_at: Instant,
}

impl ClientState for Bucket {
    fn touched(&self) -> Instant {
        self.updated
    }

    fn is_spent(&self, now: Instant) -> bool {
        now > self.full_at
    }
}

/// A token bucket per client: bursts of `burst`, then one request per `every`.
#[derive(Debug)]
pub struct RateLimiter {
    clients: ClientMap<Bucket>,
    /// `None`: no limit.
    every: Option<Duration>,
    burst: f64,
    /// Whether a client [`crate::client_ip`] exempts (a loopback peer while no proxy
    /// header is configured) passes unlimited.
    honours_exemption: bool,
}

impl RateLimiter {
    /// Intake's limit: `per_second` requests per client on average with bursts of
    /// `burst`, for at most about [`MAX_INTAKE_CLIENTS`] clients; `per_second == 0`
    /// turns it off. Exempt clients pass.
    pub fn for_intake(per_second: u32, burst: u32) -> Self {
        let every = (per_second > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(per_second)));
        Self {
            clients: ClientMap::new(MAX_INTAKE_CLIENTS),
            every,
            burst: f64::from(burst.max(1)),
            honours_exemption: true,
        }
    }

    /// `burst` at once, then one per `every`, for at most about `max_clients` clients;
    /// no client is exempt.
    pub fn strict(every: Duration, burst: u32, max_clients: usize) -> Self {
        Self {
            clients: ClientMap::new(max_clients),
            every: Some(every),
            burst: f64::from(burst.max(1)),
            honours_exemption: false,
        }
    }

    /// Takes one token for `client` at `now`.
    ///
    /// # Errors
    /// [`Throttled`] with the time until the client has a token again.
    pub fn check(&self, client: &Client, now: Instant) -> Result<(), Throttled> {
        let Some(every) = self.every else { return Ok(()) };
        if self.honours_exemption && client.exempt_from_limits {
            return Ok(());
        }
        let full = Bucket { tokens: self.burst, updated: now, full_at: now };
        self.clients.update(self.clients.id(client), now, full, |bucket| {
            let earned = now.saturating_duration_since(bucket.updated).as_secs_f64() / every.as_secs_f64();
            bucket.tokens = (bucket.tokens + earned).min(self.burst);
            bucket.updated = now;
            let answer = if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                Ok(())
            } else {
                Err(Throttled { retry_after: every.mul_f64(1.0 - bucket.tokens) })
            };
            bucket.full_at = now + every.mul_f64(self.burst - bucket.tokens);
            answer
        })
    }

    /// Forgets the clients whose bucket has refilled (the housekeeping job calls this).
    pub fn forget_idle(&self, now: Instant) {
        self.clients.forget_spent(now);
    }

    /// Clients with a bucket now.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }
}

/// Most clients intake's limit tracks at once; beyond it, the stalest are forgotten first.
pub const MAX_INTAKE_CLIENTS: usize = 1_000_000;

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    const CLIENT: Client = Client { ip: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)), exempt_from_limits: false };
    const OTHER: Client = Client { ip: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 6)), exempt_from_limits: false };

    fn wait(throttled: Result<(), Throttled>) -> Duration {
        throttled.unwrap_err().retry_after
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate() {
        let limiter = RateLimiter::for_intake(10, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(&CLIENT, start), Ok(()));
        }
        assert_eq!(wait(limiter.check(&CLIENT, start)), Duration::from_millis(100));
        assert_eq!(limiter.check(&OTHER, start), Ok(()), "clients are limited separately");
        assert_eq!(limiter.check(&CLIENT, start + Duration::from_millis(100)), Ok(()));
        assert!(limiter.check(&CLIENT, start + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn zero_disables_and_idle_clients_are_forgotten() {
        let off = RateLimiter::for_intake(0, 0);
        for _ in 0..1000 {
            assert_eq!(off.check(&CLIENT, Instant::now()), Ok(()));
        }
        let strict = RateLimiter::for_intake(1, 1);
        let exempt = Client { ip: "127.0.0.1".parse().unwrap(), exempt_from_limits: true };
        for _ in 0..1000 {
            assert_eq!(strict.check(&exempt, Instant::now()), Ok(()), "an exempt client is not limited");
        }
        let limiter = RateLimiter::for_intake(10, 5);
        let start = Instant::now();
        limiter.check(&CLIENT, start).unwrap();
        limiter.check(&OTHER, start).unwrap();
        limiter.forget_idle(start + Duration::from_millis(100));
        assert_eq!(limiter.clients(), 2);
        limiter.forget_idle(start + Duration::from_secs(1));
        assert_eq!(limiter.clients(), 0);
    }

    #[test]
    fn a_full_limiter_forgets_its_stalest_clients_and_stays_bounded() {
        let max_clients = SHARDS * 4;
        let limiter = RateLimiter::strict(Duration::from_secs(10), 1, max_clients);
        let client = |i: u32| Client { ip: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), exempt_from_limits: false };
        let start = Instant::now();
        let at = |ms: u32| start + Duration::from_millis(u64::from(ms));
        // Every bucket stays empty for 10 s: none is spent while the map fills up.
        for i in 0..1_000 {
            assert_eq!(limiter.check(&client(i), at(i)), Ok(()));
        }
        assert!(limiter.clients() <= max_clients, "{}", limiter.clients());
        // The newest client is still limited; the stalest was forgotten and starts afresh.
        assert!(limiter.check(&client(999), at(1_000)).is_err());
        assert_eq!(limiter.check(&client(0), at(1_000)), Ok(()));
    }

    #[test]
    fn a_strict_limiter_exempts_no_one() {
        let limiter = RateLimiter::strict(Duration::from_secs(10), 2, 100);
        let exempt = Client { ip: "127.0.0.1".parse().unwrap(), exempt_from_limits: true };
        let now = Instant::now();
        assert_eq!(limiter.check(&exempt, now), Ok(()));
        assert_eq!(limiter.check(&exempt, now), Ok(()));
        assert_eq!(wait(limiter.check(&exempt, now)), Duration::from_secs(10));
    }
}
