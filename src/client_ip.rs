//! Who the client is: the one place that reads a request's client address, for intake's
//! cookieless hash and rate limit, `/api/forget`, the wrong-token throttle (reports API,
//! dashboard login, share links) and the dashboard's session throttle; the throttles
//! themselves are in [`crate::throttle`].
//!
//! The client is the TCP peer, unless the peer is one of `ingest.trusted_proxies`; then
//! it is the right-most address of `ingest.client_ip_header` that is not itself a trusted
//! proxy (as nginx's `real_ip_recursive` and Rails' trusted proxies do). Addresses to the
//! left of it were written by the client and are never believed. A header nobody trusted
//! set is ignored; an unreadable one leaves the peer.
//!
//! Limits: an address taken from the header is never exempt, loopback or not. The peer's
//! loopback exemption (local load tests, a local proxy not yet configured) holds only
//! while no `client_ip_header` is configured. IPv6 clients are limited per /64, which is
//! what one subscriber usually holds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::config::IngestSettings;

/// How to find the client of a request: built once from the settings.
#[derive(Debug, Clone, Default)]
pub struct ClientAddressing {
    header: Option<HeaderName>,
    trusted_proxies: Vec<IpNet>,
}

/// The client of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The address: for hashing and limiting only, never stored or logged.
    pub ip: IpAddr,
    /// True when limits do not apply: a loopback peer while no proxy header is configured.
    pub exempt_from_limits: bool,
}

impl ClientAddressing {
    /// Reads the client from `header` when the peer is in `trusted_proxies` (addresses or
    /// CIDRs). Malformed entries are returned, not trusted; the caller warns about them.
    pub fn new(header: Option<&str>, trusted_proxies: &[String]) -> (Self, Vec<String>) {
        let mut malformed = Vec::new();
        let trusted_proxies = trusted_proxies
            .iter()
            .filter_map(|entry| {
                let entry = entry.trim();
                let parsed = entry.parse::<IpNet>().ok().or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from));
                if parsed.is_none() {
                    malformed.push(entry.to_string());
                }
                parsed
            })
            .collect();
        let header = header.and_then(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok());
        (Self { header, trusted_proxies }, malformed)
    }

    /// [`ClientAddressing::new`] from `ingest.client_ip_header` and
    /// `ingest.trusted_proxies`, with a warning at start for each setting that does not
    /// do what its operator probably meant.
    pub fn from_settings(ingest: &IngestSettings) -> Self {
        let (addressing, malformed) =
            ClientAddressing::new(ingest.client_ip_header.as_deref(), &ingest.trusted_proxies);
        for entry in malformed {
            tracing::warn!(entry, "ingest.trusted_proxies: not an address or CIDR; skipped, not trusted");
        }
        if !addressing.has_header() {
            tracing::warn!(
                "no ingest.client_ip_header: clients on loopback are not rate-limited; behind a local proxy, \
                 set client_ip_header and trusted_proxies, or every visitor counts as the proxy"
            );
        } else if addressing.header_is_ignored() {
            tracing::warn!(
                "ingest.client_ip_header is set but ingest.trusted_proxies is empty: the header is never read"
            );
        }
        addressing
    }

    /// True when a proxy header is configured.
    pub fn has_header(&self) -> bool {
        self.header.is_some()
    }

    /// True when a proxy header is configured but no proxy is trusted to set it, so it
    /// is never read.
    pub fn header_is_ignored(&self) -> bool {
        self.header.is_some() && self.trusted_proxies.is_empty()
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client of `req`.
    pub fn client(&self, req: &HttpRequest) -> Client {
        let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| canonical(addr.ip()));
        let from_header = match &self.header {
            Some(name) if self.is_trusted(peer) => {
                let values = req.headers().get_all(name).filter_map(|value| value.to_str().ok());
                right_most_untrusted(values, |ip| self.is_trusted(ip))
            }
            _ => None,
        };
        match from_header {
            Some(ip) => Client { ip, exempt_from_limits: false },
            None => Client { ip: peer, exempt_from_limits: self.header.is_none() && peer.is_loopback() },
        }
    }
}

impl Client {
    /// What rate limits count by: the address, or for IPv6 its /64.
    pub fn limit_key(&self) -> [u8; 16] {
        match self.ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                octets
            }
        }
    }
}

/// An IPv4-mapped IPv6 address as IPv4 (a dual-stack listener reports IPv4 peers so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The right-most address in the comma-separated `values` (header lines in order) that
/// `trusted` does not accept; `None` when every address is trusted or one on the way is
/// unreadable (nothing left of a garbled entry can be believed).
fn right_most_untrusted<'a>(values: impl Iterator<Item = &'a str>, trusted: impl Fn(IpAddr) -> bool) -> Option<IpAddr> {
    let entries: Vec<&str> = values.flat_map(|value| value.split(',')).collect();
    for entry in entries.into_iter().rev() {
        let ip = canonical(parse_entry(entry.trim())?);
        if !trusted(ip) {
            return Some(ip);
        }
    }
    None
}

/// One address of a forwarding header: `203.0.113.9`, `2001:db8::1`, and the forms
/// proxies also write, `203.0.113.9:4711` and `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split_once(']').and_then(|(v6, _)| v6.parse::<Ipv6Addr>().ok()).map(IpAddr::V6);
    }
    entry
        .split_once(':')
        .and_then(|(v4, port)| port.parse::<u16>().ok().and(v4.parse::<Ipv4Addr>().ok()))
        .map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    use super::*;

    fn addressing(trusted: &[&str]) -> ClientAddressing {
        let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
        ClientAddressing::new(Some("X-Forwarded-For"), &trusted).0
    }

    fn client_of(addressing: &ClientAddressing, peer: &str, header: Option<&str>) -> Client {
        let mut request = TestRequest::default().peer_addr(peer.parse().unwrap());
        if let Some(value) = header {
            request = request.insert_header(("X-Forwarded-For", value));
        }
        addressing.client(&request.to_http_request())
    }

    #[test]
    fn the_client_is_the_right_most_address_no_trusted_proxy_wrote() {
        let two_proxies = addressing(&["127.0.0.1", "10.0.0.0/8"]);
        let cases: &[(&str, Option<&str>, &str)] = &[
            // The client wrote the left-most entry: it is never believed.
            ("127.0.0.1:1", Some("1.1.1.1, 203.0.113.7"), "203.0.113.7"),
            ("127.0.0.1:1", Some("1.1.1.1, 203.0.113.7, 10.1.2.3"), "203.0.113.7"),
            ("127.0.0.1:1", Some("127.0.0.1"), "127.0.0.1"),
            ("127.0.0.1:1", Some("[2001:db8::1]:443"), "2001:db8::1"),
            ("127.0.0.1:1", Some("203.0.113.7:4711"), "203.0.113.7"),
            // An untrusted peer's header is ignored.
            ("198.51.100.4:1", Some("203.0.113.7"), "198.51.100.4"),
            // Nothing usable: the peer.
            ("127.0.0.1:1", None, "127.0.0.1"),
            ("127.0.0.1:1", Some("10.0.0.1, 10.0.0.2"), "127.0.0.1"),
            ("127.0.0.1:1", Some("203.0.113.7, garbage"), "127.0.0.1"),
        ];
        for (peer, header, expected) in cases {
            assert_eq!(client_of(&two_proxies, peer, *header).ip, expected.parse::<IpAddr>().unwrap(), "{header:?}");
        }
    }

    #[test]
    fn only_a_loopback_peer_without_a_proxy_header_is_exempt() {
        let no_header = ClientAddressing::new(None, &[]).0;
        assert!(client_of(&no_header, "127.0.0.1:1", None).exempt_from_limits);
        assert!(!client_of(&no_header, "203.0.113.7:1", None).exempt_from_limits);
        let proxied = addressing(&["127.0.0.1"]);
        assert!(!client_of(&proxied, "127.0.0.1:1", Some("127.0.0.1")).exempt_from_limits, "from the header");
        assert!(!client_of(&proxied, "127.0.0.1:1", None).exempt_from_limits, "a proxy is configured");
    }

    #[test]
    fn malformed_proxies_are_skipped_and_reported() {
        let (addressing, malformed) =
            ClientAddressing::new(Some("X-Forwarded-For"), &["10.0.0.0/8".into(), "10.0.0/8".into(), "proxy".into()]);
        assert_eq!(malformed, vec!["10.0.0/8".to_string(), "proxy".to_string()]);
        assert_eq!(addressing.trusted_proxies.len(), 1);
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let a = Client { ip: "2001:db8:1:2:aaaa::1".parse().unwrap(), exempt_from_limits: false };
        let b = Client { ip: "2001:db8:1:2:bbbb::2".parse().unwrap(), exempt_from_limits: false };
        let c = Client { ip: "2001:db8:1:3::1".parse().unwrap(), exempt_from_limits: false };
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.limit_key(), c.limit_key());
    }

    fn address() -> impl Strategy<Value = IpAddr> {
        prop_oneof![any::<[u8; 4]>().prop_map(IpAddr::from), any::<[u8; 16]>().prop_map(IpAddr::from)]
            .prop_map(canonical)
    }

    proptest! {
        /// The rule as a property: the chosen address is in the header, is not trusted,
        /// and every entry right of it is trusted; with no such entry, nothing is chosen.
        #[test]
        fn right_most_untrusted_rule(
            entries in proptest::collection::vec(address(), 0..8),
            trusted_mask in proptest::collection::vec(any::<bool>(), 8),
        ) {
            let trusted_set: Vec<IpAddr> =
                entries.iter().zip(&trusted_mask).filter(|(_, t)| **t).map(|(ip, _)| *ip).collect();
            let trusted = |ip: IpAddr| trusted_set.contains(&ip);
            let header = entries.iter().map(|ip| match ip {
                IpAddr::V6(v6) => format!("[{v6}]"),
                v4 => v4.to_string(),
            }).collect::<Vec<_>>().join(", ");
            let chosen = right_most_untrusted(std::iter::once(header.as_str()).filter(|h| !h.is_empty()), trusted);
            let expected = entries.iter().rev().find(|ip| !trusted(**ip)).copied();
            prop_assert_eq!(chosen, expected);
        }
    }
}
