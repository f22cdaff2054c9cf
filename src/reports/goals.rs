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

use super::compare::{previous, Against};
use super::events::{self, range_visitors, TotalPrevious};
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
    /// With `compare`: `total_visitors` over the comparison range; absent without
    /// `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<TotalPrevious>,
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
    /// With `compare`: the goal's numbers over the comparison range (`(other)`: of the
    /// same folded goals, counted together); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<GoalsPrevious>,
}

previous! {
    /// A goal's numbers over the comparison range (its rate of the comparison's
    /// `total_visitors`).
    GoalsPrevious for GoalsRow {
        conversions: u64,
        visitors: u64,
        conversion_rate: f64,
    }
}

/// Binds [`sql::goal_conversions`] of `goals` goals, each matched by its matcher.
pub(crate) fn query(query: Query, scope: &Scope<'_>, goals: &[&Matcher]) -> Query {
    goals.iter().fold(events::query(query, scope, None), |query, goal| query.bind(&goal.event).bind(&goal.path_regex))
}

/// Each goal's conversions over `scope`, in the order of `matchers`, and the range's
/// visitors: one query per goal, all at once.
async fn counts(ctx: &Ctx, scope: &Scope<'_>, matchers: &[Matcher]) -> Result<(Vec<Conversions>, u64), StoreError> {
    let one = sql::goal_conversions(scope.filters, 1);
    let counts = try_join_all(matchers.iter().map(|matcher| query(ctx.query(&one), scope, &[matcher]).fetch_one()));
    Ok(tokio::try_join!(counts, range_visitors(ctx, scope))?)
}

/// The conversions of the goals `matchers` together over `scope`: an event that reached
/// two of them once, its visitor once.
async fn together(ctx: &Ctx, scope: &Scope<'_>, matchers: &[&Matcher]) -> Result<Conversions, StoreError> {
    let sql = sql::goal_conversions(scope.filters, matchers.len());
    Ok(query(ctx.query(&sql), scope, matchers).fetch_one().await?)
}

/// Every goal of `goals` (the site's, by name) with its conversions, and the range's
/// visitors; with `against`, the comparison range's.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    goals: &[Goal],
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<GoalsRow>, Folding, u64, Option<TotalPrevious>), StoreError> {
    let matchers: Vec<Matcher> = goals.iter().map(|goal| goal.target.matcher()).collect();
    let matchers = matchers.as_slice();
    let ((counts, total), then) = tokio::try_join!(
        counts(ctx, scope, matchers),
        Against::read(against, |scope| async move { counts(ctx, &scope, matchers).await }),
    )?;
    // Each row with its goal's place among `goals` and matcher (the key folding keeps).
    type Keyed<'m> = (GoalsRow, (usize, &'m Matcher));
    let rows: Vec<Keyed<'_>> = goals
        .iter()
        .zip(counts)
        .zip(matchers)
        .enumerate()
        .map(|(at, ((goal, count), matcher))| {
            let row = GoalsRow {
                name: goal.name.to_string(),
                conversions: count.conversions,
                visitors: count.visitors,
                conversion_rate: None,
                previous: None,
            };
            (row, (at, matcher))
        })
        .collect();
    let small_counts::Folded { kept, mut other, mut folding, keys } = small_counts::fold(
        rows,
        min_visitors,
        |(row, _)| row.visitors,
        |(_, key)| *key,
        |(total, _), (row, _)| {
            total.conversions += row.conversions;
            total.visitors += row.visitors;
        },
        |(other, _)| other.name = OTHER.into(),
    );
    let folded: Vec<&Matcher> = keys.folded.iter().map(|(_, matcher)| *matcher).collect();
    let other_now = async {
        match &other {
            Some(_) if folded.len() > 1 => together(ctx, scope, &folded).await.map(Some),
            _ => Ok(None),
        }
    };
    let other_then = async {
        match (against, &then, keys.folded.as_slice()) {
            (Some(against), Some(_), [_, _, ..]) => together(ctx, &against.scope, &folded).await.map(Some),
            (_, Some((then, _)), [(at, _)]) => {
                Ok(Some(Conversions { conversions: then[*at].conversions, visitors: then[*at].visitors }))
            }
            _ => Ok(None),
        }
    };
    let (counted, other_then) = tokio::try_join!(other_now, other_then)?;
    if let (Some((other, _)), Some(together)) = (other.as_mut(), counted) {
        (other.conversions, other.visitors) = (together.conversions, together.visitors);
        folding.other_visitors = Some(OtherVisitors::Exact);
    }

    let previous_of = |count: &Conversions, total: u64| {
        let previous = GoalsPrevious {
            conversions: Some(count.conversions),
            visitors: Some(count.visitors),
            conversion_rate: share(count.visitors, total),
            suppressed: false,
        };
        (previous, count.visitors)
    };
    let none = Conversions { conversions: 0, visitors: 0 };
    let rows = kept
        .into_iter()
        .map(|(row, (at, _))| {
            let previous = Against::previous(against, then.as_ref(), |(then, total)| previous_of(&then[at], *total));
            (row, previous)
        })
        .chain(other.map(|(row, _)| {
            let previous = Against::previous(against, then.as_ref(), |(_, total)| {
                previous_of(other_then.as_ref().unwrap_or(&none), *total)
            });
            (row, previous)
        }))
        .map(|(row, previous)| GoalsRow { conversion_rate: share(row.visitors, total), previous, ..row })
        .collect();
    let previous = Against::unguarded(against, then.as_ref(), |(_, total)| TotalPrevious {
        total_visitors: Some(*total),
        suppressed: false,
    });
    Ok((rows, folding, total, previous))
}
