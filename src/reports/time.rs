//! Site-local dates and hours as UTC instants: a report's range `[from 00:00, to + 1
//! 00:00)` in its time zone, day and hour starts across DST changes, and the RFC 3339
//! local times reports print. ClickHouse computes the same boundaries with
//! `toDate(ts, zone)` and `toStartOfHour(ts, zone)` from the same tz database.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Seconds in a quarter-hour: every time zone's hour and day boundaries are on one.
const QUARTER_SECS: i64 = 900;

/// A report's dates, inclusive, in a time zone, with their UTC bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: Tz,
    /// Start of `from` in `tz`, UTC seconds.
    pub start: u32,
    /// Start of the day after `to` in `tz`, UTC seconds (exclusive end).
    pub end: u32,
}

impl Range {
    /// The range of local dates `from..=to` in `tz`. Callers check `from <= to` and that
    /// both dates lie between 2000 and 2099, so the bounds fit ClickHouse's `DateTime`.
    pub(crate) fn new(from: NaiveDate, to: NaiveDate, tz: Tz) -> Self {
        let end_date = to.checked_add_days(Days::new(1)).expect("dates are before 2100");
        Self { from, to, tz, start: day_start(tz, from), end: day_start(tz, end_date) }
    }

    /// Every date of the range, in order.
    pub(crate) fn dates(&self) -> impl Iterator<Item = NaiveDate> {
        let to = self.to;
        self.from.iter_days().take_while(move |date| *date <= to)
    }

    /// The start of every local hour in the range (UTC seconds), in order; an hour repeated
    /// at a DST change appears twice, a skipped hour not at all.
    pub(crate) fn hour_starts(&self) -> Vec<u32> {
        (i64::from(self.start)..i64::from(self.end))
            .step_by(QUARTER_SECS as usize)
            .filter(|&instant| local(self.tz, instant).minute() == 0)
            .map(|instant| instant as u32)
            .collect()
    }
}

/// The first instant of local date `date` in `tz`, UTC seconds: local midnight, or where
/// midnight is skipped by a DST change, the first instant after the gap; where midnight
/// happens twice, the first.
pub(crate) fn day_start(tz: Tz, date: NaiveDate) -> u32 {
    let midnight = date.and_time(NaiveTime::MIN);
    let first = (0..=4 * 24)
        .find_map(|quarters| tz.from_local_datetime(&(midnight + chrono::Duration::minutes(15 * quarters))).earliest())
        .expect("every day has a first instant");
    first.timestamp() as u32
}

/// `instant` (UTC seconds) as a local time in `tz`.
pub(crate) fn local(tz: Tz, instant: i64) -> DateTime<Tz> {
    Utc.timestamp_opt(instant, 0).single().expect("seconds within chrono's range").with_timezone(&tz)
}

/// `instant` as RFC 3339 in `tz`, e.g. `2026-03-29T02:00:00+01:00`.
pub(crate) fn rfc3339(tz: Tz, instant: i64) -> String {
    local(tz, instant).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Days since 1970-01-01 (ClickHouse `Date`) as a date.
pub(crate) fn date_from_day_number(day: u16) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(i64::from(day))
}

/// The local date of `instant` in `tz`.
pub(crate) fn local_date(tz: Tz, instant: i64) -> NaiveDate {
    local(tz, instant).date_naive()
}

/// The UTC offset of `tz` at `instant`, in seconds (for tests and logs).
#[cfg(test)]
pub(crate) fn offset_secs(tz: Tz, instant: i64) -> i32 {
    use chrono::Offset;
    local(tz, instant).offset().fix().local_minus_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn utc(s: &str) -> u32 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp() as u32
    }

    #[test]
    fn london_range_across_the_spring_change_is_71_hours() {
        let range = Range::new(date("2026-03-28"), date("2026-03-30"), chrono_tz::Europe::London);
        assert_eq!(range.start, utc("2026-03-28T00:00:00Z"));
        assert_eq!(range.end, utc("2026-03-30T23:00:00Z"));
        assert_eq!(range.hour_starts().len(), 71);
        assert_eq!(range.dates().count(), 3);
    }

    #[test]
    fn autumn_change_repeats_an_hour() {
        let range = Range::new(date("2026-10-25"), date("2026-10-25"), chrono_tz::Europe::London);
        let hours = range.hour_starts();
        assert_eq!(hours.len(), 25);
        assert_eq!(rfc3339(range.tz, i64::from(hours[1])), "2026-10-25T01:00:00+01:00");
        assert_eq!(rfc3339(range.tz, i64::from(hours[2])), "2026-10-25T01:00:00+00:00");
    }

    #[test]
    fn skipped_midnight_starts_the_day_after_the_gap() {
        // Chile moved clocks forward at midnight on 2026-09-06: 00:00 becomes 01:00.
        let tz = chrono_tz::America::Santiago;
        let start = day_start(tz, date("2026-09-06"));
        assert_eq!(rfc3339(tz, i64::from(start)), "2026-09-06T01:00:00-03:00");
        assert_eq!(local_date(tz, i64::from(start) - 1), date("2026-09-05"));
    }

    #[test]
    fn half_hour_zones_have_hours_on_their_own_clock() {
        let range = Range::new(date("2026-03-29"), date("2026-03-29"), chrono_tz::Asia::Kolkata);
        assert_eq!(range.start, utc("2026-03-28T18:30:00Z"));
        assert_eq!(offset_secs(range.tz, i64::from(range.start)), 19_800);
        assert_eq!(range.hour_starts().len(), 24);
        assert_eq!(date_from_day_number(20_541), date("2026-03-29"));
    }
}
