//! Period comparison (`compare=previous|year`): every report answered a second time over
//! a comparison range, each number with its comparison value beside it. This module owns
//! what is the same for every report: the comparison range ([`Comparison`]), the answer's
//! `compare` header, the `previous` objects ([`previous!`], [`Previous`]) and their
//! small-count rule ([`Against::guard`]), a breakdown's comparison rows by key and its
//! `(other)` row's ([`breakdown`]), and how timeseries buckets pair up ([`Comparison::pairs`]).
//! Each report's module attaches the values to its own rows.
//!
//! - `previous`: the same number of days just before `from`; `year`: the same dates a year
//!   earlier (29 February compares with 28 February). Dates are local to the answer's time
//!   zone, as the range's are.
//! - A row's comparison values are those of the same key (path, source, device, country,
//!   event name, property value, goal, funnel step, not-stored reason, weekday and hour);
//!   a key the comparison range does not have gets zeros (and `null` where zero would be
//!   divided). `(other)` compares the same folded keys, its visitors counted as its own.
//! - Small counts: a `previous` with 1 to `reports.min_visitors - 1` visitors, of a report
//!   whose rows are held to that rule, is suppressed (`{"suppressed": true}`, its numbers
//!   `null`); when the request's filters match fewer than `reports.min_visitors` visitors
//!   in the comparison range (the admin token is exempt), nothing of it is read and every
//!   `previous` is suppressed; the request itself is not refused for that.
//!
//! The comparison's queries run beside the main range's (one `join`), never per row.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::exec::{Scope, Split};
use super::params::Interval;
use super::small_counts::{self, BreakdownRow, EventsSide, Keys, OtherVisitors};
use super::time::{self, Range};
use crate::store::StoreError;

/// What a range is compared with (`compare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// The same number of days just before `from`.
    Previous,
    /// The same dates a year earlier (29 February: 28 February).
    Year,
}

impl Mode {
    /// Every mode, as `compare` names them.
    pub(crate) const ALL: [Self; 2] = [Self::Previous, Self::Year];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Previous => "previous",
            Self::Year => "year",
        }
    }

    /// The mode `compare=value` names.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.as_str() == value)
    }
}

/// A request's comparison: its mode and the range it compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comparison {
    pub mode: Mode,
    /// The comparison range, in the main range's time zone.
    pub range: Range,
    /// Days of the main range (`to - from + 1`).
    days: u64,
}

impl Comparison {
    /// The comparison of `main` by `mode`.
    pub(crate) fn new(mode: Mode, main: &Range) -> Self {
        let days = (main.to - main.from).num_days() as u64 + 1;
        let mut comparison = Self { mode, range: *main, days };
        comparison.range = Range::new(comparison.date_of(main.from), comparison.date_of(main.to), main.tz);
        comparison
    }

    /// The date that `date` of the main range compares with: `days` earlier, or the same
    /// date a year earlier (29 February: 28 February).
    pub(crate) fn date_of(&self, date: NaiveDate) -> NaiveDate {
        match self.mode {
            Mode::Previous => date - chrono::Days::new(self.days),
            // chrono ends a month that is too short on its last day: 29 Feb -> 28 Feb.
            Mode::Year => date.checked_sub_months(Months::new(12)).expect("dates are after 2000"),
        }
    }

    /// The answer's `compare`.
    pub(crate) fn header(&self) -> CompareHeader {
        CompareHeader { mode: self.mode, from: self.range.from.to_string(), to: self.range.to.to_string() }
    }

    /// For each bucket of the main range (their starts, UTC seconds, in order), the index
    /// of its comparison bucket among `previous` (the comparison range's buckets, in
    /// order), `None` when there is none. A local day pairs with the day [`date_of`] gives
    /// (in `previous` mode the day at the same position); a local hour with the same
    /// wall-clock hour of that day, so across a DST change an hour only one side has pairs
    /// with nothing, and an hour repeated on one side pairs in order (its first with the
    /// other side's only one, its second with nothing; both with both sides' repeats).
    ///
    /// [`date_of`]: Self::date_of
    pub(crate) fn pairs(&self, interval: Interval, current: &[u32], previous: &[u32]) -> Vec<Option<usize>> {
        let tz = self.range.tz;
        let keys = |starts: &[u32]| -> Vec<(NaiveDate, u32, usize)> {
            let mut seen: HashMap<(NaiveDate, u32), usize> = HashMap::new();
            starts
                .iter()
                .map(|&start| {
                    let local = time::local(tz, i64::from(start));
                    let hour = match interval {
                        Interval::Day => 0,
                        Interval::Hour => local.hour(),
                    };
                    let occurrence = seen.entry((local.date_naive(), hour)).or_insert(0);
                    *occurrence += 1;
                    (local.date_naive(), hour, *occurrence - 1)
                })
                .collect()
        };
        let index: HashMap<(NaiveDate, u32, usize), usize> =
            keys(previous).into_iter().enumerate().map(|(at, key)| (key, at)).collect();
        keys(current)
            .into_iter()
            .map(|(date, hour, occurrence)| index.get(&(self.date_of(date), hour, occurrence)).copied())
            .collect()
    }
}

/// realtime's comparison window for the window ending at `until` (UTC seconds,
/// exclusive): the 5 minutes before it (`previous`), or the same 5 minutes of the local
/// clock of `tz` a year earlier (`year`; 29 February: 28 February; a local time a DST
/// change skipped that year: the first instant after the gap). Returns its end.
pub(crate) fn realtime_until(mode: Mode, tz: Tz, until: u32, window: u32) -> u32 {
    match mode {
        Mode::Previous => until - window,
        Mode::Year => {
            let local = time::local(tz, i64::from(until)).naive_local();
            let then = local.checked_sub_months(Months::new(12)).expect("dates are after 2000");
            instant_of(tz, then)
        }
    }
}

/// The first instant of local time `local` in `tz`, or of the first quarter-hour after it
/// that exists (a DST gap).
fn instant_of(tz: Tz, local: NaiveDateTime) -> u32 {
    (0..=8)
        .find_map(|quarters| tz.from_local_datetime(&(local + chrono::Duration::minutes(15 * quarters))).earliest())
        .map(|instant| instant.timestamp() as u32)
        .unwrap_or_else(|| panic!("{local} exists in {} within two hours", tz.name()))
}

/// The answer's `compare`: absent without `compare`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct CompareHeader {
    /// `previous` or `year`, as asked.
    pub mode: Mode,
    /// First day of the comparison range.
    #[schema(format = Date, example = "2026-03-24")]
    pub from: String,
    /// Last day of the comparison range, inclusive.
    #[schema(format = Date, example = "2026-03-26")]
    pub to: String,
}

/// realtime's `compare`: absent without `compare`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct RealtimeCompare {
    /// `previous` (the 5 minutes before) or `year` (the same 5 minutes a year earlier).
    pub mode: Mode,
    /// Start of the comparison window (RFC 3339).
    #[schema(format = DateTime)]
    pub since: String,
    /// Its end, exclusive.
    #[schema(format = DateTime)]
    pub until: String,
}

/// A `previous` object: a row's numbers over the comparison range, or suppressed.
pub(crate) trait Previous: Default {
    /// Suppressed: `suppressed` true, every number `null`.
    fn suppressed() -> Self;
}

/// A row type whose answer may carry a `previous` (the CSV's `previous_*` columns).
pub(crate) trait Compared {
    type Previous: Serialize + Default;
}

/// Declares a `previous` type: every field an `Option` (`null` when suppressed), then
/// `suppressed`; `Default` (all `null`, not suppressed) and [`Previous`]. With `for
/// Row, ...`, also `From<&Row>` taking each field of the same name from the row (a plain
/// value or an `Option` of it), and `Compared` for each row type.
macro_rules! previous {
    (@from $name:ident [$($row:ty),*] $fields:tt) => {
        $($crate::reports::compare::previous!(@one $name, $row, $fields);)*
    };
    (@one $name:ident, $row:ty, { $($field:ident: $ty:ty),* }) => {
        impl From<&$row> for $name {
            #[allow(clippy::clone_on_copy)]
            fn from(row: &$row) -> Self {
                Self { $($field: Option::<$ty>::from(row.$field.clone()),)* suppressed: false }
            }
        }

        impl $crate::reports::compare::Compared for $row {
            type Previous = $name;
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident $(for $($row:ty),+)? {
            $($(#[$field_meta:meta])* $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
        pub(crate) struct $name {
            $(
                $(#[$field_meta])*
                #[schema(required = true)]
                pub $field: Option<$ty>,
            )*
            /// The comparison's numbers are not shown (all `null`): fewer than
            /// `reports.min_visitors` visitors, or the filters match fewer than that in the
            /// comparison range.
            pub suppressed: bool,
        }

        impl $crate::reports::compare::Previous for $name {
            fn suppressed() -> Self {
                Self { suppressed: true, ..Self::default() }
            }
        }

        $crate::reports::compare::previous!(@from $name [$($($row),+)?] { $($field: $ty),* });
    };
}
pub(crate) use previous;

/// The comparison side of one request, as each report's module receives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Against<'a> {
    pub comparison: &'a Comparison,
    /// The request's scope over the comparison range (same site, filters, time zone).
    pub scope: Scope<'a>,
    /// The filters match fewer than `min_visitors` visitors in the comparison range
    /// (not for the admin token): nothing is read, every `previous` is suppressed.
    pub suppressed: bool,
    /// `reports.min_visitors`, which the comparison rows are held to as the rows are.
    pub min_visitors: u64,
}

impl<'a> Against<'a> {
    /// `read` over the comparison scope, unless `against` is `None` or every `previous`
    /// is suppressed.
    pub(crate) async fn read<T, F, Fut>(against: Option<&Self>, read: F) -> Result<Option<T>, StoreError>
    where
        F: FnOnce(Scope<'a>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        match against {
            Some(against) if !against.suppressed => read(against.scope).await.map(Some),
            _ => Ok(None),
        }
    }

    /// A row's `previous`: `None` without a comparison; suppressed when every one is
    /// (`then`, what was read of the comparison range, is then `None`); else what `of`
    /// makes of `then` (the values and the visitors they count), [`guard`]ed.
    ///
    /// [`guard`]: Self::guard
    pub(crate) fn previous<T, P: Previous>(
        against: Option<&Self>,
        then: Option<&T>,
        of: impl FnOnce(&T) -> (P, u64),
    ) -> Option<P> {
        let against = against?;
        Some(match then {
            Some(then) => {
                let (previous, visitors) = of(then);
                against.guard(previous, visitors)
            }
            None => P::suppressed(),
        })
    }

    /// [`previous`](Self::previous) of numbers the small-count rule does not hold (the
    /// time-based reports' and the totals'): only suppressed when every one is.
    pub(crate) fn unguarded<T, P: Previous>(
        against: Option<&Self>,
        then: Option<&T>,
        of: impl FnOnce(&T) -> P,
    ) -> Option<P> {
        against?;
        Some(then.map_or_else(P::suppressed, of))
    }

    /// `previous` as a row with `visitors` visitors may show it: suppressed with 1 to
    /// `min_visitors - 1` visitors (none is a true zero), as rows that small are folded.
    pub(crate) fn guard<P: Previous>(&self, previous: P, visitors: u64) -> P {
        if self.min_visitors > 1 && (1..self.min_visitors).contains(&visitors) {
            P::suppressed()
        } else {
            previous
        }
    }
}

/// What [`breakdown`] reads the comparison's `(other)` row from: the comparison rows as
/// [`small_counts::read`] gave them, merged, with the plan they were read by.
pub(crate) struct Sides<R: BreakdownRow> {
    /// The rows, each key once.
    pub rows: Vec<R>,
    pub split: Option<Split>,
    pub events_side: EventsSide<R::Key>,
}

/// A breakdown's comparison rows for an answer: each shown key's row of the comparison
/// range (`None`: the key has none there), and, when the answer has an `(other)` row of
/// the keys `folded`, its comparison row: the comparison rows of the same keys added up
/// by `add` (`None` when it has none of them), with their visitors counted as
/// [`small_counts::other_visitors`] counts the `(other)` row's (each visitor-day once).
///
/// # Errors
/// ClickHouse failing.
pub(crate) async fn breakdown<R: BreakdownRow>(
    ctx: &super::exec::Ctx,
    scope: &Scope<'_>,
    sides: Sides<R>,
    shown: &[R::Key],
    folded: Option<&[R::Key]>,
    add: impl Fn(&mut R, &R),
) -> Result<(Vec<Option<R>>, Option<Option<R>>), StoreError> {
    let Sides { rows, split, events_side } = sides;
    let folded_set: HashSet<&R::Key> = folded.unwrap_or_default().iter().collect();
    let shown_set: HashSet<&R::Key> = shown.iter().collect();
    let mut by_key: HashMap<R::Key, R> = HashMap::new();
    let mut keys = Keys { kept: Vec::new(), folded: Vec::new(), folded_visitors: Vec::new() };
    let mut other: Option<R> = None;
    for row in rows {
        let key = row.key();
        if folded_set.contains(&key) {
            keys.folded.push(key);
            keys.folded_visitors.push(row.visitors());
            match other.as_mut() {
                Some(total) => add(total, &row),
                None => other = Some(row),
            }
        } else {
            keys.kept.push(key.clone());
            if shown_set.contains(&key) {
                by_key.insert(key, row);
            }
        }
    }
    let shown_rows = shown.iter().map(|key| by_key.remove(key)).collect();
    let Some(_) = folded else { return Ok((shown_rows, None)) };
    if let Some(other) = other.as_mut() {
        let summed = keys.folded_visitors.iter().sum();
        let (visitors, _how): (u64, OtherVisitors) =
            small_counts::other_visitors::<R>(ctx, scope, split, &keys, summed, &events_side).await?;
        other.set_visitors(visitors);
    }
    Ok((shown_rows, Some(other)))
}

/// The weekday (0 = Monday) and local hour of `instant` in `tz`: a grid cell.
pub(crate) fn cell_of(tz: Tz, instant: u32) -> (usize, usize) {
    let local = time::local(tz, i64::from(instant));
    (local.weekday().num_days_from_monday() as usize, local.hour() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const LONDON: Tz = chrono_tz::Europe::London;

    fn comparison(mode: Mode, from: &str, to: &str) -> Comparison {
        Comparison::new(mode, &Range::new(date(from), date(to), LONDON))
    }

    #[test]
    fn previous_is_the_same_number_of_days_just_before() {
        let c = comparison(Mode::Previous, "2026-03-29", "2026-04-04");
        assert_eq!((c.range.from, c.range.to), (date("2026-03-22"), date("2026-03-28")));
        let one = comparison(Mode::Previous, "2026-03-01", "2026-03-01");
        assert_eq!((one.range.from, one.range.to), (date("2026-02-28"), date("2026-02-28")));
    }

    #[test]
    fn year_is_the_same_dates_a_year_earlier_and_29_february_is_28() {
        let c = comparison(Mode::Year, "2026-03-29", "2026-04-04");
        assert_eq!((c.range.from, c.range.to), (date("2025-03-29"), date("2025-04-04")));
        let leap = comparison(Mode::Year, "2024-02-28", "2024-03-01");
        assert_eq!((leap.range.from, leap.range.to), (date("2023-02-28"), date("2023-03-01")));
        assert_eq!(leap.date_of(date("2024-02-29")), date("2023-02-28"));
        assert_eq!(leap.date_of(date("2024-03-01")), date("2023-03-01"));
    }

    #[test]
    fn days_pair_by_date_and_hours_by_wall_clock_across_dst() {
        // 2026-03-29 (London: 23 hours, no 01:00) against 2025-03-29 (24 hours).
        let c = comparison(Mode::Year, "2026-03-29", "2026-03-30");
        let main = Range::new(date("2026-03-29"), date("2026-03-30"), LONDON);
        let (now, then) = (main.hour_starts(), c.range.hour_starts());
        assert_eq!((now.len(), then.len()), (47, 47), "2025-03-30 lost its 01:00 instead");
        let pairs = c.pairs(Interval::Hour, &now, &then);
        let hour = |instant: u32| time::rfc3339(LONDON, i64::from(instant));
        assert_eq!(hour(now[1]), "2026-03-29T02:00:00+01:00");
        assert_eq!(pairs[1].map(|at| hour(then[at])).as_deref(), Some("2025-03-29T02:00:00+00:00"));
        // 2026-03-30 01:00 has no 2025-03-30 01:00.
        assert_eq!(hour(now[24]), "2026-03-30T01:00:00+01:00");
        assert_eq!(pairs[24], None);
        assert_eq!(pairs.iter().filter(|pair| pair.is_none()).count(), 1);
        let days = c.pairs(
            Interval::Day,
            &main.dates().map(|d| time::day_start(LONDON, d)).collect::<Vec<_>>(),
            &[time::day_start(LONDON, date("2025-03-29")), time::day_start(LONDON, date("2025-03-30"))],
        );
        assert_eq!(days, [Some(0), Some(1)]);
    }

    #[test]
    fn a_repeated_hour_pairs_in_order() {
        // 2026-10-25 has 01:00 twice; the week before, once.
        let c = comparison(Mode::Previous, "2026-10-25", "2026-10-25");
        let main = Range::new(date("2026-10-25"), date("2026-10-25"), LONDON);
        let pairs = c.pairs(Interval::Hour, &main.hour_starts(), &c.range.hour_starts());
        assert_eq!(pairs.len(), 25);
        assert_eq!(&pairs[..4], &[Some(0), Some(1), None, Some(2)]);
    }

    #[test]
    fn realtime_compares_with_the_window_before_or_a_year_earlier() {
        let until = 1_774_750_000; // 2026-03-29T02:06:40Z
        assert_eq!(realtime_until(Mode::Previous, LONDON, until, 300), until - 300);
        let then = realtime_until(Mode::Year, LONDON, until, 300);
        assert_eq!(time::rfc3339(LONDON, i64::from(then)), "2025-03-29T03:06:40+00:00");
    }

    #[test]
    fn previous_rows_are_suppressed_between_one_and_the_threshold() {
        #[derive(Default, PartialEq, Debug)]
        struct P(bool);
        impl Previous for P {
            fn suppressed() -> Self {
                P(true)
            }
        }
        let range = Range::new(date("2026-03-29"), date("2026-03-29"), LONDON);
        let c = Comparison::new(Mode::Previous, &range);
        let scope =
            Scope { site: "example.com", range, filters: super::super::filters::Filters::NONE, site_time_zone: true };
        let against = Against { comparison: &c, scope, suppressed: false, min_visitors: 5 };
        assert_eq!(against.guard(P(false), 0), P(false), "no visitors: a true zero");
        assert_eq!(against.guard(P(false), 4), P(true));
        assert_eq!(against.guard(P(false), 5), P(false));
        let off = Against { min_visitors: 1, ..against };
        assert_eq!(off.guard(P(false), 1), P(false));
    }
}
