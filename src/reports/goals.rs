//! `goals`: a row per goal of the site (`crate::goals`, defined with `footfall goals
//! add`), in name order: its conversions (the custom events or pageviews that reached it),
//! the visitors who reached it and its conversion rate (of the visitors of the range that
//! the filters keep, as `events` divides). One query per goal (`goal_conversions.sql`,
//! the goal's condition from `goal.sql`), all at once; read from `events`. Goals with
//! fewer than `min_visitors` visitors are folded into `(other)`: the events that reached
//! any of them, and their visitors counted once.

use clickhouse::query::Query;
use clickhouse::Row;
use futures_util::future::try_join_all;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::{self, range_visitors};
use super::exec::{Ctx, Scope};
use super::render::{share, Header, SmallCounts};
use super::small_counts::{self, Folding, OtherVisitors, OTHER};
use super::sql;
use crate::goals::{Goal, Matcher};
use crate::store::StoreError;

/// What [`sql::goal_conversions`] returns.
#[derive(Debug, Row, Deserialize)]
pub(crate) struct Conversions {
    conversions: u64,
    visitors: u64,
}

/// The answer of `goals`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Goals {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// Visitors (visitor-days) of the range that the filters keep: what
    /// `conversion_rate` divides by.
    pub total_visitors: u64,
    /// Every goal of the site by name; the `(other)` row last.
    pub rows: Vec<GoalsRow>,
}

/// One goal of `goals` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct GoalsRow {
    /// The goal's name, or `(other)` for the folded goals.
    #[schema(example = "Signed up")]
    pub name: String,
    /// Custom events (event goals) or pageviews (page goals) that reached it.
    pub conversions: u64,
    /// Visitors (visitor-days) who reached it.
    pub visitors: u64,
    /// `visitors` / `total_visitors`, 4 places; `null` without visitors.
    #[schema(required = true)]
    pub conversion_rate: Option<f64>,
}

/// Binds [`sql::goal_conversions`] of `goals` goals, each matched by its matcher.
pub(crate) fn query(query: Query, scope: &Scope<'_>, goals: &[&Matcher]) -> Query {
    goals.iter().fold(events::query(query, scope, None), |query, goal| query.bind(&goal.event).bind(&goal.path_regex))
}

/// Every goal of `goals` (the site's, by name) with its conversions, and the range's
/// visitors.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    goals: &[Goal],
    min_visitors: u64,
) -> Result<(Vec<GoalsRow>, Folding, u64), StoreError> {
    let matchers: Vec<Matcher> = goals.iter().map(|goal| goal.target.matcher()).collect();
    let one = sql::goal_conversions(scope.filters, 1);
    let counts = try_join_all(matchers.iter().map(|matcher| query(ctx.query(&one), scope, &[matcher]).fetch_one()));
    let (counts, total): (Vec<Conversions>, u64) = tokio::try_join!(counts, range_visitors(ctx, scope))?;
    let rows: Vec<(GoalsRow, &Matcher)> = goals
        .iter()
        .zip(counts)
        .zip(&matchers)
        .map(|((goal, count), matcher)| {
            let row = GoalsRow {
                name: goal.name.to_string(),
                conversions: count.conversions,
                visitors: count.visitors,
                conversion_rate: None,
            };
            (row, matcher)
        })
        .collect();
    let small_counts::Folded { kept, mut other, mut folding, keys } = small_counts::fold(
        rows,
        min_visitors,
        |(row, _)| row.visitors,
        |(_, matcher)| *matcher,
        |(total, _), (row, _)| {
            total.conversions += row.conversions;
            total.visitors += row.visitors;
        },
        |(other, _)| other.name = OTHER.into(),
    );
    if let Some((other, _)) = other.as_mut().filter(|_| keys.folded.len() > 1) {
        let sql = sql::goal_conversions(scope.filters, keys.folded.len());
        let together: Conversions = query(ctx.query(&sql), scope, &keys.folded).fetch_one().await?;
        (other.conversions, other.visitors) = (together.conversions, together.visitors);
        folding.other_visitors = Some(OtherVisitors::Exact);
    }
    let rows = kept
        .into_iter()
        .chain(other)
        .map(|(row, _)| GoalsRow { conversion_rate: share(row.visitors, total), ..row })
        .collect();
    Ok((rows, folding, total))
}
