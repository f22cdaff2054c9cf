//! `events`: the custom events of the range (every event name but `pageview` and
//! `engagement`; the beacon's link tracking sends `outbound` and `download`), a row per
//! name with its events, visitors and conversion rate; or, with `breakdown=prop.KEY` and
//! `event=NAME`, one event's rows per value of its property KEY. Always read from
//! `events` (no summary has event names). Conversion rates divide by the visitors of the
//! range that the filters keep (`range_visitors.sql`). Rows with fewer than
//! `min_visitors` visitors are folded into `(other)`, whose visitors are counted again
//! exactly (`events_other.sql`, `event_props_other.sql`).

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// By events, then visitors, then name; the `(other)` row last.
    pub rows: Vec<EventsRow>,
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
}

/// The event and property of a breakdown (`event=NAME&breakdown=prop.KEY`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PropBreakdown<'a> {
    pub event: &'a str,
    pub key: &'a str,
}

/// A row before it is answered: its key (name or value) and counts.
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

/// The custom events by name, at most `limit` rows besides `(other)`, and the range's
/// visitors.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<EventsRow>, Folding, u64), StoreError> {
    let sql = sql::events(scope.filters);
    let (names, total) =
        tokio::try_join!(query(ctx.query(&sql), scope, None).fetch_all::<NameCount>(), range_visitors(ctx, scope))?;
    let counts = names.into_iter().map(|row| Count { key: row.name, events: row.events, visitors: row.visitors });
    let (counts, folding) = fold(ctx, scope, None, counts.collect(), limit, min_visitors).await?;
    let rows = counts
        .into_iter()
        .map(|count| EventsRow {
            conversion_rate: share(count.visitors, total),
            name: count.key,
            events: count.events,
            visitors: count.visitors,
        })
        .collect();
    Ok((rows, folding, total))
}

/// One event's rows per value of its property, as [`rows`].
pub(crate) async fn prop_rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    breakdown: PropBreakdown<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<EventPropsRow>, Folding, u64), StoreError> {
    let sql = sql::event_props(scope.filters);
    let (values, total) = tokio::try_join!(
        query(ctx.query(&sql), scope, Some(breakdown)).fetch_all::<ValueCount>(),
        range_visitors(ctx, scope)
    )?;
    let counts = values.into_iter().map(|row| Count { key: row.value, events: row.events, visitors: row.visitors });
    let (counts, folding) = fold(ctx, scope, Some(breakdown), counts.collect(), limit, min_visitors).await?;
    let rows = counts
        .into_iter()
        .map(|count| EventPropsRow {
            conversion_rate: share(count.visitors, total),
            value: count.key,
            events: count.events,
            visitors: count.visitors,
        })
        .collect();
    Ok((rows, folding, total))
}

/// Folds the rows with fewer than `min_visitors` visitors into `(other)` (its visitors
/// counted again when two or more rows were folded), keeps `limit` of the others.
async fn fold(
    ctx: &Ctx,
    scope: &Scope<'_>,
    breakdown: Option<PropBreakdown<'_>>,
    counts: Vec<Count>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<Count>, Folding), StoreError> {
    let small_counts::Folded { mut kept, mut other, mut folding, keys } = small_counts::fold(
        counts,
        min_visitors,
        |count| count.visitors,
        |count| count.key.clone(),
        |total, count| {
            total.events += count.events;
            total.visitors += count.visitors;
        },
        |other| other.key = OTHER.into(),
    );
    if let Some(other) = other.as_mut().filter(|_| keys.folded.len() > 1) {
        let sql = match breakdown {
            Some(_) => sql::event_props_other(scope.filters),
            None => sql::events_other(scope.filters),
        };
        other.visitors = other_query(ctx.query(&sql), scope, breakdown, &keys.folded).fetch_one().await?;
        folding.other_visitors = Some(OtherVisitors::Exact);
    }
    kept.truncate(limit as usize);
    kept.extend(other);
    Ok((kept, folding))
}
