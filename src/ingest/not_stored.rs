//! The per-site tally of events intake answered but did not store, by reason: bots,
//! refusals (Global Privacy Control, opt-out, Do-Not-Track), foreign origins and missing
//! consent. Counts only, per registered site and UTC hour, held in memory until the
//! `jobs` task takes them (every `ingest.not_stored_write_secs`) and writes them to the
//! `not_stored` table through `store`, so the dashboard can say where a site's events
//! went. A failed write hands the counts back ([`NotStoredTally::restore`]).
//!
//! Its size is bounded by the registered sites times the reasons and the hours between
//! two writes: only sites the registry knows are counted.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::metrics::{RefusalSignal, RejectReason};

/// Why an event for a registered site was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotStoredReason {
    /// An automated or headless browser (answered 202).
    Bot,
    /// A request that refused tracking (answered 202).
    Refused(RefusalSignal),
    /// A page or `Origin` on a host that is not the site's (403).
    ForeignOrigin,
    /// A consent-mode site and an event without consent (403).
    NoConsent,
}

impl NotStoredReason {
    /// The stored name (`not_stored.reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Refused(signal) => signal.as_str(),
            Self::ForeignOrigin => RejectReason::ForeignOrigin.as_str(),
            Self::NoConsent => RejectReason::NoConsent.as_str(),
        }
    }
}

/// One counted key: site, UTC hour (seconds since the epoch, a multiple of 3600), reason.
pub type TallyKey = (String, u32, NotStoredReason);

/// Events not stored, per site, hour and reason, since the last [`NotStoredTally::take`].
/// Keyed by site first, so counting for a site already counted allocates nothing.
#[derive(Debug, Default)]
pub struct NotStoredTally {
    counts: Mutex<HashMap<String, SiteCounts>>,
}

/// One site's counts: (UTC hour, reason) -> events.
type SiteCounts = HashMap<(u32, NotStoredReason), u64>;

impl NotStoredTally {
    /// Counts `events` for `site` at `now` (seconds since the epoch) for `reason`.
    pub fn count(&self, site: &str, now: u32, reason: NotStoredReason, events: u64) {
        let hour = now - now % 3600;
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let of_site = match counts.get_mut(site) {
            Some(of_site) => of_site,
            None => counts.entry(site.to_string()).or_default(),
        };
        *of_site.entry((hour, reason)).or_default() += events;
    }

    /// Everything counted since the last take, leaving the tally empty.
    pub fn take(&self) -> HashMap<TallyKey, u64> {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        counts
            .into_iter()
            .flat_map(|(site, of_site)| {
                of_site.into_iter().map(move |((hour, reason), events)| ((site.clone(), hour, reason), events))
            })
            .collect()
    }

    /// Adds back counts a write could not store.
    pub fn restore(&self, taken: HashMap<TallyKey, u64>) {
        for ((site, hour, reason), events) in taken {
            self.count(&site, hour, reason, events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_site_hour_and_reason_and_survive_a_failed_write() {
        let tally = NotStoredTally::default();
        tally.count("example.com", 7200 + 59, NotStoredReason::Bot, 2);
        tally.count("example.com", 7200 + 3599, NotStoredReason::Bot, 3);
        tally.count("example.com", 10_800, NotStoredReason::Bot, 1);
        tally.count("example.com", 7200, NotStoredReason::Refused(RefusalSignal::OptOut), 4);
        tally.count("other.example", 7200, NotStoredReason::ForeignOrigin, 5);
        let taken = tally.take();
        assert_eq!(taken.len(), 4);
        assert_eq!(taken[&("example.com".to_string(), 7200, NotStoredReason::Bot)], 5);
        assert_eq!(taken[&("example.com".to_string(), 10_800, NotStoredReason::Bot)], 1);
        assert!(tally.take().is_empty());
        tally.count("example.com", 7200, NotStoredReason::Bot, 1);
        tally.restore(taken);
        assert_eq!(tally.take()[&("example.com".to_string(), 7200, NotStoredReason::Bot)], 6);
        assert_eq!(NotStoredReason::Refused(RefusalSignal::GlobalPrivacyControl).as_str(), "gpc");
        assert_eq!(NotStoredReason::NoConsent.as_str(), "no_consent");
    }
}
