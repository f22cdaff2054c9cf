//! The privacy stage: turns an observed event, which still carries the client's IP
//! address, user agent and cookie id, into an [`EventRow`] that carries none of them.
//!
//! What it does (DESIGN.md, "Privacy rules" 1-3):
//! - visitor = `blake3::keyed_hash(day_key, len-prefixed(site, cookie id))`, or without a
//!   cookie `(site, ip, user agent)`, truncated to 64 bits; the day key rotates each UTC
//!   day and is destroyed after 48 h ([`keys`]);
//! - session = keyed hash of the visitor and the session's start ([`sessions`]);
//! - pageview = keyed hash of the beacon's random page-view id, which links a pageview
//!   and the events sent during it (engagement, custom events);
//! - a backfilled event of another day (an admin's `ts`) is hashed with a throw-away
//!   import key of its day, never a live key ([`keys::ImportKeys`]);
//! - URLs keep host + path + `utm_*`, referrers host + path ([`urls`]), the referrer
//!   becomes a source class ([`source`]);
//! - identifiers (e-mail addresses, phone numbers, ids, tokens) in paths, `utm_*` values,
//!   event names and custom properties become placeholders ([`redact`]), and so does
//!   whatever a site's own patterns match in its page paths;
//! - the user agent becomes browser family, OS family and device class ([`useragent`]);
//! - the country comes from the browser's time zone, never from the IP ([`geo`]).
//!
//! The raw values are borrowed from the request for the duration of one call and never
//! copied: nothing here logs, stores or returns them.

pub mod geo;
pub mod keys;
pub mod redact;
pub mod sessions;
pub mod source;
pub mod urls;
pub mod useragent;

use std::net::IpAddr;
use std::time::Instant;

use regex::Regex;

use crate::store::EventRow;
use keys::{ImportKeys, KeyRing};
use sessions::SessionTable;
use urls::{PageUrl, Referrer};
use useragent::ClientInfo;

/// Name of the event the beacon sends for a page view.
pub const PAGEVIEW: &str = "pageview";

/// A validated event as it arrived, before anything identifying is removed.
#[derive(Debug)]
pub struct Observation<'a> {
    /// Registered site domain.
    pub site: &'a str,
    pub name: &'a str,
    /// The page URL, already reduced by [`urls::reduce_page_url`] (ingest validates it).
    pub page: PageUrl,
    pub referrer: Option<Referrer>,
    /// The site's own patterns for identifiers in its page paths.
    pub site_redact: &'a [Regex],
    /// The first-party cookie id, when the beacon has one.
    pub cookie_id: Option<&'a str>,
    pub client_ip: IpAddr,
    /// The raw user agent, for the cookieless hash only.
    pub user_agent: &'a str,
    /// What the user agent says about the browser ([`useragent::describe_unless_bot`]).
    pub client: ClientInfo,
    pub returning: bool,
    /// Seconds since the epoch.
    pub published: Option<u32>,
    pub engaged_ms: u32,
    /// The deepest point of the page seen, percent; 0 when not sent.
    pub scroll: u8,
    /// Screen width in CSS pixels, 0 when not sent.
    pub screen_width: u32,
    /// IANA time zone from the browser, empty when not sent.
    pub time_zone: &'a str,
    /// The beacon's random id of the page view the event belongs to.
    pub pageview_id: Option<&'a str>,
    pub props: Vec<(String, String)>,
    /// Event time, seconds since the epoch.
    pub ts: u32,
    /// Current UTC day number: events of this day are hashed with its live key, events
    /// of other days (backfills) with an import key of their own day.
    pub day: u16,
}

/// Hashes and reduces events. One per application.
#[derive(Debug)]
pub struct Anonymizer {
    keys: KeyRing,
    imports: ImportKeys,
    sessions: SessionTable,
}

impl Anonymizer {
    /// An anonymizer whose session table tracks at most `session_capacity` visitors.
    pub fn new(session_capacity: usize) -> Self {
        Self { keys: KeyRing::default(), imports: ImportKeys::default(), sessions: SessionTable::new(session_capacity) }
    }

    /// The import keys of backfilled days, for the background expiry.
    pub fn imports(&self) -> &ImportKeys {
        &self.imports
    }

    /// The day keys, for the background refresh.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The session table, for the background expiry.
    pub fn sessions(&self) -> &SessionTable {
        &self.sessions
    }

    /// The stored form of an observed event.
    pub fn anonymize(&self, event: Observation<'_>) -> EventRow {
        let event_day = (event.ts / 86_400) as u16;
        let key = if event_day == event.day {
            self.keys.key_for(event.day)
        } else {
            self.imports.key_for(event_day, Instant::now())
        };
        let visitor = visitor_hash(&key, event.site, event.cookie_id, event.client_ip, event.user_agent);
        let is_pageview = event.name == PAGEVIEW;
        let mark = self.sessions.observe(visitor, event.ts, is_pageview);
        let session = keyed_u64(&key, &[b"session", &visitor.to_le_bytes(), &mark.started.to_le_bytes()]);
        let (referrer_host, referrer_path) = event.referrer.map(|r| (r.host, r.path)).unwrap_or_default();
        let source_class = source::classify_source(&referrer_host, event.site, &event.page.utm.source);
        let (prop_keys, prop_values) = event
            .props
            .into_iter()
            .map(|(key, value)| (redact::redact_owned(key), redact::redact_owned(value)))
            .unzip();
        // Hashed like the visitor, so the stored value links the events of one page view
        // (a pageview and its engagement) and nothing else, whatever the client sent.
        let pageview =
            event.pageview_id.map_or(0, |id| keyed_u64(&key, &[b"pageview", event.site.as_bytes(), id.as_bytes()]));
        EventRow {
            site: event.site.to_string(),
            ts: event.ts,
            name: redact::redact_text(event.name).into_owned(),
            hostname: event.page.host,
            path: redact::redact_site_patterns(event.page.path, event.site_redact),
            referrer_host,
            referrer_path,
            source_class: source_class.as_str().into(),
            utm_source: event.page.utm.source,
            utm_medium: event.page.utm.medium,
            utm_campaign: event.page.utm.campaign,
            utm_term: event.page.utm.term,
            utm_content: event.page.utm.content,
            visitor,
            session,
            entry: u8::from(mark.entry),
            returning: u8::from(event.returning),
            published: event.published,
            engaged_ms: event.engaged_ms,
            scroll: event.scroll,
            screen: geo::screen_class(event.screen_width).into(),
            browser: event.client.browser.into(),
            os: event.client.os.into(),
            device: event.client.device.as_str().into(),
            country: geo::country_for_timezone(event.time_zone).into(),
            prop_keys,
            prop_values,
            event_id: 0,
            pageview,
        }
    }
}

/// The visitor hash: keyed blake3 of the length-prefixed (site, cookie id), or without a
/// cookie (site, IP, user agent), truncated to 64 bits.
pub fn visitor_hash(key: &[u8; 32], site: &str, cookie_id: Option<&str>, ip: IpAddr, user_agent: &str) -> u64 {
    match cookie_id {
        Some(cookie) => keyed_u64(key, &[site.as_bytes(), cookie.as_bytes()]),
        None => {
            let ip = match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                IpAddr::V6(v6) => v6.octets(),
            };
            keyed_u64(key, &[site.as_bytes(), &ip, user_agent.as_bytes()])
        }
    }
}

/// Keyed blake3 over length-prefixed parts, first 8 bytes little-endian.
fn keyed_u64(key: &[u8; 32], parts: &[&[u8]]) -> u64 {
    let mut hasher = blake3::Hasher::new_keyed(key);
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let mut out = [0u8; 8];
    hasher.finalize_xof().fill(&mut out);
    u64::from_le_bytes(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: [u8; 32] = [1; 32];
    const KEY_B: [u8; 32] = [2; 32];
    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));

    #[test]
    fn same_cookie_same_key_same_visitor() {
        let a = visitor_hash(&KEY_A, "example.com", Some("c-1"), IP, "UA");
        let b = visitor_hash(&KEY_A, "example.com", Some("c-1"), IpAddr::from([10, 0, 0, 1]), "other UA");
        assert_eq!(a, b);
    }

    #[test]
    fn another_day_key_unlinks_the_visitor() {
        let a = visitor_hash(&KEY_A, "example.com", Some("c-1"), IP, "UA");
        let b = visitor_hash(&KEY_B, "example.com", Some("c-1"), IP, "UA");
        assert_ne!(a, b);
    }

    #[test]
    fn parts_are_length_prefixed() {
        // Without length prefixes ("ab","c") and ("a","bc") would hash alike.
        assert_ne!(keyed_u64(&KEY_A, &[b"ab", b"c"]), keyed_u64(&KEY_A, &[b"a", b"bc"]));
    }

    #[test]
    fn cookieless_visitor_depends_on_ip_and_user_agent_and_site() {
        let base = visitor_hash(&KEY_A, "example.com", None, IP, "UA");
        assert_eq!(base, visitor_hash(&KEY_A, "example.com", None, IP, "UA"));
        assert_ne!(base, visitor_hash(&KEY_A, "example.com", None, IpAddr::from([203, 0, 113, 10]), "UA"));
        assert_ne!(base, visitor_hash(&KEY_A, "example.com", None, IP, "UA2"));
        assert_ne!(base, visitor_hash(&KEY_A, "example.org", None, IP, "UA"));
    }

    proptest::proptest! {
        /// Fuzzing by property: every normaliser takes any text without panicking.
        #[test]
        fn normalisers_take_any_text(text in ".{0,300}", width in proptest::num::u32::ANY) {
            let _ = urls::reduce_page_url(&text);
            let _ = urls::reduce_page_url(&format!("https://example.com/{text}"));
            let _ = urls::reduce_referrer(&text);
            let _ = urls::reduce_referrer(&format!("https://{text}"));
            let _ = useragent::describe_unless_bot(&text);
            let _ = geo::country_for_timezone(&text);
            let _ = geo::screen_class(width);
            let _ = source::classify_source(&text, "example.com", &text);
            let _ = urls::host_belongs_to(&text, "example.com");
        }
    }
}
