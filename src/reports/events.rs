//! `events`: the custom events of the range (every event name but `pageview` and
//! `engagement`; the beacon's link tracking sends `outbound` and `download`), a row per
//! name with its events, visitors and conversion rate; or, with `breakdown=prop.KEY` and
//! `event=NAME`, one event's rows per value of its property KEY. Always read from
//! `events` (no summary has event names). Conversion rates divide by the visitors of the
//! range that the filters keep (`range_visitors.sql`). Rows with fewer than
//! `min_visitors` visitors are folded into `(other)`, whose visitors are counted again
//! exactly (`events_other.sql`, `event_props_other.sql`).

use std::collections::HashMap;

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{previous, Against};
use super::exec::{Ctx, Scope};
use super::render::{share, Header, SmallCounts};
use super::small_counts::{self, Folding, OtherVisitors, OTHER};
use super::sql::{self, BindScope, SqlTuple};
use crate::store::StoreError;

/// One event name as [`sql::events`] returns it.
#[derive(Debug, Row, Deserialize)]
pub(crate) struct NameCount {
    name: String,
    events: u64,
    visitors: u64,
}

/// One property value as [`sql::event_props`] returns it.
#[derive(Debug, Row, Deserialize)]
pub(crate) struct ValueCount {
    value: String,
    events: u64,
    visitors: u64,
}

/// The answer of `events`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Events {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// Visitors (visitor-days) of the range that the filters keep: what
    /// `conversion_rate` divides by.
    pub total_visitors: u64,
    /// With `compare`: `total_visitors` over the comparison range; absent without
    /// `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<TotalPrevious>,
    /// By events, then visitors, then name; the `(other)` row last.
    pub rows: Vec<EventsRow>,
}

previous! {
    /// The answer's total over the comparison range.
    TotalPrevious {
        /// Visitors (visitor-days) of the comparison range that the filters keep.
        total_visitors: u64,
    }
}

previous! {
    /// A row's numbers over the comparison range (0 for a name or value it does not have;
    /// its rate of the comparison's `total_visitors`).
    EventsPrevious for EventsRow, EventPropsRow {
        events: u64,
        visitors: u64,
        conversion_rate: f64,
    }
}

/// One custom event of `events` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct EventsRow {
    /// The event's name, or `(other)` for the folded rows.
    #[schema(example = "signup")]
    pub name: String,
    /// Events of this name.
    pub events: u64,
    /// Visitors (visitor-days) who sent it.
    pub visitors: u64,
    /// `visitors` / `total_visitors`, 4 places; `null` without visitors.
    #[schema(required = true)]
    pub conversion_rate: Option<f64>,
    /// With `compare`: the event's numbers over the comparison range (`(other)`: of the
    /// same folded names); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<EventsPrevious>,
}

/// The answer of `events` with `breakdown=prop.KEY`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventProps {
    #[serde(flatten)]
    pub header: Header,
    /// The event broken down (`event`).
    #[schema(example = "signup")]
    pub event: String,
    /// The property whose values are the rows (`breakdown=prop.KEY`: KEY).
    #[schema(example = "plan")]
    pub property: String,
    pub small_counts: SmallCounts,
    /// Visitors (visitor-days) of the range that the filters keep.
    pub total_visitors: u64,
    /// With `compare`: `total_visitors` over the comparison range; absent without
    /// `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<TotalPrevious>,
    /// By events, then visitors, then value; the `(other)` row last. Events without the
    /// property are not counted.
    pub rows: Vec<EventPropsRow>,
}

/// One value of the property (also the CSV line of `events` with `breakdown`).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct EventPropsRow {
    /// The property's value, or `(other)` for the folded rows.
    #[schema(example = "pro")]
    pub value: String,
    /// Events of the event with this value.
    pub events: u64,
    /// Visitors (visitor-days) who sent them.
    pub visitors: u64,
    /// `visitors` / `total_visitors`, 4 places; `null` without visitors.
    #[schema(required = true)]
    pub conversion_rate: Option<f64>,
    /// With `compare`: the value's numbers over the comparison range (`(other)`: of the
    /// same folded values); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<EventsPrevious>,
}

/// The event and property of a breakdown (`event=NAME&breakdown=prop.KEY`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PropBreakdown<'a> {
    pub event: &'a str,
    pub key: &'a str,
}

/// A row before it is answered: its key (name or value) and counts.
#[derive(Debug, Clone)]
struct Count {
    key: String,
    events: u64,
    visitors: u64,
}

/// Binds a query that reads the range like a `*_by_day` query, with the breakdown's
/// event and property after the range when there is one (`event_props*.sql`).
pub(crate) fn query(query: Query, scope: &Scope<'_>, breakdown: Option<PropBreakdown<'_>>) -> Query {
    let range = scope.range;
    let query = query.bind(range.tz.name()).bind(range.start).bind(range.end);
    let query = match breakdown {
        Some(breakdown) => query.bind(breakdown.event).bind(breakdown.key),
        None => query,
    };
    query.bind_scope(&scope.events(range.start, range.end))
}

/// Binds [`sql::events_other`] or [`sql::event_props_other`] for the folded `keys`.
pub(crate) fn other_query(
    sql_query: Query,
    scope: &Scope<'_>,
    breakdown: Option<PropBreakdown<'_>>,
    keys: &[String],
) -> Query {
    sql::allow_length(query(sql_query, scope, breakdown).bind(SqlTuple(keys)))
}

/// Visitors of the range that the filters keep.
pub(crate) async fn range_visitors(ctx: &Ctx, scope: &Scope<'_>) -> clickhouse::error::Result<u64> {
    query(ctx.query(&sql::range_visitors(scope.filters)), scope, None).fetch_one().await
}

/// A range's rows (each key's counts) and its visitors.
struct Counts {
    counts: Vec<Count>,
    total: u64,
}

/// The rows of `scope` (by name, or with `breakdown` by value) and its visitors.
async fn counts(ctx: &Ctx, scope: &Scope<'_>, breakdown: Option<PropBreakdown<'_>>) -> Result<Counts, StoreError> {
    let (counts, total) = match breakdown {
        None => {
            let sql = sql::events(scope.filters);
            let (names, total) = tokio::try_join!(
                query(ctx.query(&sql), scope, None).fetch_all::<NameCount>(),
                range_visitors(ctx, scope)
            )?;
            (
                names
                    .into_iter()
                    .map(|row| Count { key: row.name, events: row.events, visitors: row.visitors })
                    .collect(),
                total,
            )
        }
        Some(_) => {
            let sql = sql::event_props(scope.filters);
            let (values, total) = tokio::try_join!(
                query(ctx.query(&sql), scope, breakdown).fetch_all::<ValueCount>(),
                range_visitors(ctx, scope)
            )?;
            (
                values
                    .into_iter()
                    .map(|row| Count { key: row.value, events: row.events, visitors: row.visitors })
                    .collect(),
                total,
            )
        }
    };
    Ok(Counts { counts, total })
}

/// What [`answer`] answers: the rows (each with its `previous`), what folding did, the
/// range's visitors and their `previous`.
type Answered = (Vec<(Count, Option<EventsPrevious>)>, Folding, u64, Option<TotalPrevious>);

/// The rows of `scope` (with `breakdown`, by value), small ones folded, at most `limit`
/// besides `(other)`; with `against`, each with the same key's numbers over the
/// comparison range.
async fn answer(
    ctx: &Ctx,
    scope: &Scope<'_>,
    breakdown: Option<PropBreakdown<'_>>,
    (limit, min_visitors): (u64, u64),
    against: Option<&Against<'_>>,
) -> Result<Answered, StoreError> {
    let (now, then) = tokio::try_join!(
        counts(ctx, scope, breakdown),
        Against::read(against, |scope| async move { counts(ctx, &scope, breakdown).await }),
    )?;
    let small_counts::Folded { mut kept, mut other, mut folding, keys } = small_counts::fold(
        now.counts,
        min_visitors,
        |count| count.visitors,
        |count| count.key.clone(),
        |total, count| {
            total.events += count.events;
            total.visitors += count.visitors;
        },
        |other| other.key = OTHER.into(),
    );
    kept.truncate(limit as usize);
    let other_sql = match breakdown {
        Some(_) => sql::event_props_other(scope.filters),
        None => sql::events_other(scope.filters),
    };
    // Each key's numbers over the comparison range, and the folded keys' together.
    let then_by_key: Option<HashMap<&str, &Count>> =
        then.as_ref().map(|then| then.counts.iter().map(|count| (count.key.as_str(), count)).collect());
    let then_folded: Vec<&Count> = match (&then_by_key, &other) {
        (Some(by_key), Some(_)) => keys.folded.iter().filter_map(|key| by_key.get(key.as_str()).copied()).collect(),
        _ => Vec::new(),
    };
    let other_visitors = async {
        match &other {
            Some(_) if keys.folded.len() > 1 => {
                other_query(ctx.query(&other_sql), scope, breakdown, &keys.folded).fetch_one::<u64>().await.map(Some)
            }
            _ => Ok(None),
        }
    };
    let then_other_visitors = async {
        match (against, then_folded.as_slice()) {
            (Some(against), [_, _, ..]) => {
                let folded: Vec<String> = then_folded.iter().map(|count| count.key.clone()).collect();
                other_query(ctx.query(&other_sql), &against.scope, breakdown, &folded).fetch_one::<u64>().await
            }
            (_, folded) => Ok(folded.iter().map(|count| count.visitors).sum()),
        }
    };
    let (counted, then_other_visitors) = tokio::try_join!(other_visitors, then_other_visitors)?;
    if let (Some(other), Some(visitors)) = (other.as_mut(), counted) {
        other.visitors = visitors;
        folding.other_visitors = Some(OtherVisitors::Exact);
    }

    let previous_of = |then: &Counts, count: Option<&Count>| {
        let (events, visitors) = count.map_or((0, 0), |count| (count.events, count.visitors));
        let previous = EventsPrevious {
            events: Some(events),
            visitors: Some(visitors),
            conversion_rate: share(visitors, then.total),
            suppressed: false,
        };
        (previous, visitors)
    };
    let mut rows: Vec<(Count, Option<EventsPrevious>)> = kept
        .into_iter()
        .map(|count| {
            let previous = Against::previous(against, then.as_ref(), |then| {
                let by_key = then_by_key.as_ref().expect("read with then");
                previous_of(then, by_key.get(count.key.as_str()).copied())
            });
            (count, previous)
        })
        .collect();
    if let Some(other) = other {
        let previous = Against::previous(against, then.as_ref(), |then| {
            let events = then_folded.iter().map(|count| count.events).sum();
            previous_of(then, Some(&Count { key: OTHER.into(), events, visitors: then_other_visitors }))
        });
        rows.push((other, previous));
    }
    let total = Against::unguarded(against, then.as_ref(), |then| TotalPrevious {
        total_visitors: Some(then.total),
        suppressed: false,
    });
    Ok((rows, folding, now.total, total))
}

/// The custom events by name, at most `limit` rows besides `(other)`, and the range's
/// visitors; with `against`, the comparison's.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<EventsRow>, Folding, u64, Option<TotalPrevious>), StoreError> {
    let (counts, folding, total, previous) = answer(ctx, scope, None, (limit, min_visitors), against).await?;
    let rows = counts
        .into_iter()
        .map(|(count, previous)| EventsRow {
            conversion_rate: share(count.visitors, total),
            name: count.key,
            events: count.events,
            visitors: count.visitors,
            previous,
        })
        .collect();
    Ok((rows, folding, total, previous))
}

/// One event's rows per value of its property, as [`rows`].
pub(crate) async fn prop_rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    breakdown: PropBreakdown<'_>,
    limit: u64,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<EventPropsRow>, Folding, u64, Option<TotalPrevious>), StoreError> {
    let (counts, folding, total, previous) =
        answer(ctx, scope, Some(breakdown), (limit, min_visitors), against).await?;
    let rows = counts
        .into_iter()
        .map(|(count, previous)| EventPropsRow {
            conversion_rate: share(count.visitors, total),
            value: count.key,
            events: count.events,
            visitors: count.visitors,
            previous,
        })
        .collect();
    Ok((rows, folding, total, previous))
}
