//! `funnel`: how many visitors reach a funnel's goals in order (`funnel=NAME`, defined
//! with `footfall funnels add`). A visitor counts at a step when, on one day, it reached
//! every earlier step and then this one, in that order: the visitor hash lives one UTC
//! day, so funnels are same-day by design (docs/reports.md). One query
//! (`funnel.sql`, `windowFunnel`, a `goal.sql` condition per step) over `events`;
//! visitors are visitor-days. A step with fewer than `min_visitors` visitors shows no
//! numbers (`suppressed`), nor does the drop-off that would reveal them; the steps'
//! names are the site's own goals and are always shown.

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{previous, Against};
use super::exec::{Ctx, Scope};
use super::render::{share, Header};
use super::sql::{self, BindScope};
use crate::goals::Matcher;
use crate::store::StoreError;

/// A funnel as a request reads it: its name and each step's goal name and matcher.
#[derive(Debug, Clone)]
pub(crate) struct Steps {
    pub name: String,
    pub steps: Vec<(String, Matcher)>,
}

/// What [`sql::funnel`] returns: the visitor-days that got exactly `level` steps far.
#[derive(Debug, Row, Deserialize)]
pub(crate) struct Level {
    level: u8,
    visitors: u64,
}

/// The answer of `funnel`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Funnel {
    #[serde(flatten)]
    pub header: Header,
    /// The funnel's name.
    #[schema(example = "Sign-up")]
    pub funnel: String,
    /// Steps with fewer visitors show no numbers.
    pub min_visitors: u64,
    /// The steps, in order.
    pub steps: Vec<FunnelStep>,
}

/// One step of `funnel` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct FunnelStep {
    /// The step's goal.
    #[schema(example = "Signed up")]
    pub name: String,
    /// Visitors (visitor-days) who reached this step after every earlier one, the same
    /// day; `null` when suppressed.
    #[schema(required = true)]
    pub visitors: Option<u64>,
    /// Visitors of the previous step who did not reach this one; `null` for the first
    /// step, or when either step is suppressed.
    #[schema(required = true)]
    pub dropped_off: Option<u64>,
    /// `dropped_off` / the previous step's visitors, 4 places.
    #[schema(required = true)]
    pub drop_off_rate: Option<f64>,
    /// `visitors` / the first step's visitors, 4 places.
    #[schema(required = true)]
    pub conversion_rate: Option<f64>,
    /// Fewer than `min_visitors` visitors reached it: its numbers are not shown.
    pub suppressed: bool,
    /// With `compare`: the step over the comparison range, by the same rules (its
    /// `suppressed` as the step's); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<FunnelPrevious>,
}

previous! {
    /// A funnel step over the comparison range.
    FunnelPrevious for FunnelStep {
        visitors: u64,
        dropped_off: u64,
        drop_off_rate: f64,
        conversion_rate: f64,
    }
}

/// Binds [`sql::funnel`] for `steps`.
pub(crate) fn query(query: Query, scope: &Scope<'_>, steps: &[&Matcher]) -> Query {
    let range = scope.range;
    let query = query.bind(range.tz.name()).bind(range.start).bind(range.end);
    let query = steps.iter().fold(query, |query, step| query.bind(&step.event).bind(&step.path_regex));
    query.bind_scope(&scope.events(range.start, range.end))
}

/// The visitors who reached each step of `funnel` over `scope`.
async fn reached(ctx: &Ctx, scope: &Scope<'_>, funnel: &Steps) -> Result<Vec<u64>, StoreError> {
    let matchers: Vec<&Matcher> = funnel.steps.iter().map(|(_, matcher)| matcher).collect();
    let sql = sql::funnel(scope.filters, matchers.len());
    let levels: Vec<Level> = query(ctx.query(&sql), scope, &matchers).fetch_all().await?;
    Ok((1..=funnel.steps.len())
        .map(|step| levels.iter().filter(|level| usize::from(level.level) >= step).map(|level| level.visitors).sum())
        .collect())
}

/// The steps of `funnel` with their visitors and drop-offs; with `against`, each with
/// the same step over the comparison range.
pub(crate) async fn steps(
    ctx: &Ctx,
    scope: &Scope<'_>,
    funnel: &Steps,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<Vec<FunnelStep>, StoreError> {
    let (now, then) = tokio::try_join!(
        reached(ctx, scope, funnel),
        Against::read(against, |scope| async move { reached(ctx, &scope, funnel).await }),
    )?;
    let then = then.map(|reached| answer(funnel, &reached, min_visitors));
    let mut steps = answer(funnel, &now, min_visitors);
    for (at, step) in steps.iter_mut().enumerate() {
        // The steps' own rule suppresses a step; no other guard is needed.
        step.previous = Against::unguarded(against, then.as_ref(), |then: &Vec<FunnelStep>| FunnelPrevious {
            suppressed: then[at].suppressed,
            ..FunnelPrevious::from(&then[at])
        });
    }
    Ok(steps)
}

/// The steps of `funnel` whose steps `reached` visitors reached.
fn answer(funnel: &Steps, reached: &[u64], min_visitors: u64) -> Vec<FunnelStep> {
    let shown = |visitors: u64| (min_visitors <= 1 || visitors >= min_visitors).then_some(visitors);
    funnel
        .steps
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let visitors = shown(reached[i]);
            let previous = i.checked_sub(1).and_then(|before| shown(reached[before]));
            let dropped_off = previous.zip(visitors).map(|(previous, visitors)| previous - visitors);
            FunnelStep {
                name: name.clone(),
                visitors,
                dropped_off,
                drop_off_rate: previous.zip(dropped_off).and_then(|(previous, dropped)| share(dropped, previous)),
                conversion_rate: shown(reached[0]).zip(visitors).and_then(|(first, visitors)| share(visitors, first)),
                suppressed: visitors.is_none(),
                previous: None,
            }
        })
        .collect()
}
