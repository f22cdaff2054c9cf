//! Per-client rate limits on intake: a token bucket per client address, so one client
//! cannot flood the collector.
//!
//! Clients are keyed by a keyed blake3 hash of their address (an IPv6 client by its /64)
//! with a random key made at start and never stored, so the limiter holds no address and
//! its keys mean nothing after a restart. Requests with the admin token are not limited
//! (server-side import), nor are clients that [`crate::client_ip`] exempts: a loopback
//! peer while no `ingest.client_ip_header` is configured (a local proxy not yet set up,
//! local load tests). An address a trusted proxy reported is always limited.
//! Memory is bounded: at most [`MAX_CLIENTS`] buckets; idle full buckets are forgotten by
//! [`RateLimiter::forget_idle`].

use std::collections::HashMap;

use crate::client_ip::Client;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
/// Most clients tracked at once; beyond it, the oldest-idle are forgotten first.
pub const MAX_CLIENTS: usize = 1_000_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by hashed client address.
#[derive(Debug)]
pub struct RateLimiter {
    key: [u8; 32],
    per_second: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<u64, Bucket>>>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` requests per client on average, and bursts of
    /// `burst`. `per_second == 0` disables it.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random number generator failed");
        Self {
            key,
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Takes one token for `client`. `Err` holds how long until one is available.
    pub fn check(&self, client: Client, now: Instant) -> Result<(), Duration> {
        if self.per_second == 0.0 || client.exempt_from_limits {
            return Ok(());
        }
        let hash = blake3::keyed_hash(&self.key, &client.limit_key());
        let id = u64::from_le_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"));
        let mut shard = self.shards[(id as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= MAX_CLIENTS / SHARDS && !shard.contains_key(&id) {
            self.forget_idle_in(&mut shard, now);
        }
        let bucket = shard.entry(id).or_insert(Bucket { tokens: self.burst, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
        }
    }

    /// Forgets clients whose bucket has refilled (they have been idle long enough that
    /// forgetting them changes nothing).
    pub fn forget_idle(&self, now: Instant) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            self.forget_idle_in(&mut shard, now);
        }
    }

    fn forget_idle_in(&self, shard: &mut HashMap<u64, Bucket>, now: Instant) {
        let refill = Duration::from_secs_f64(self.burst / self.per_second.max(f64::MIN_POSITIVE));
        shard.retain(|_, bucket| now.saturating_duration_since(bucket.updated) < refill);
        if shard.len() >= MAX_CLIENTS / SHARDS {
            // Still full of active clients: drop the stalest half rather than grow.
            let mut updated: Vec<Instant> = shard.values().map(|b| b.updated).collect();
            updated.sort_unstable();
            let cutoff = updated[updated.len() / 2];
            shard.retain(|_, bucket| bucket.updated > cutoff);
        }
    }

    /// Clients tracked now.
    #[cfg(test)]
    fn clients(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    const CLIENT: Client = Client { ip: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)), exempt_from_limits: false };
    const OTHER: Client = Client { ip: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 6)), exempt_from_limits: false };

    #[test]
    fn a_burst_is_allowed_then_the_rate() {
        let limiter = RateLimiter::new(10, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(CLIENT, start), Ok(()));
        }
        let wait = limiter.check(CLIENT, start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert_eq!(limiter.check(OTHER, start), Ok(()), "clients are limited separately");
        assert_eq!(limiter.check(CLIENT, start + Duration::from_millis(100)), Ok(()));
        assert!(limiter.check(CLIENT, start + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn zero_disables_and_idle_clients_are_forgotten() {
        let off = RateLimiter::new(0, 0);
        for _ in 0..1000 {
            assert_eq!(off.check(CLIENT, Instant::now()), Ok(()));
        }
        let strict = RateLimiter::new(1, 1);
        for _ in 0..1000 {
            let exempt = Client { ip: "127.0.0.1".parse().unwrap(), exempt_from_limits: true };
            assert_eq!(strict.check(exempt, Instant::now()), Ok(()), "an exempt client is not limited");
        }
        let limiter = RateLimiter::new(10, 5);
        let start = Instant::now();
        limiter.check(CLIENT, start).unwrap();
        limiter.check(OTHER, start).unwrap();
        limiter.forget_idle(start + Duration::from_millis(100));
        assert_eq!(limiter.clients(), 2);
        limiter.forget_idle(start + Duration::from_secs(1));
        assert_eq!(limiter.clients(), 0);
    }
}
