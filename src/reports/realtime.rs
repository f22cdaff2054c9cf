//! `realtime`: distinct visitors and pageviews in the last 5 minutes, read from events
//! (a window this short and this fresh is cheap to read, and no rollup is finer than 15
//! minutes).

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{previous, RealtimeCompare};
use super::exec::Ctx;
use super::filters::Filters;
use super::sql::{self, BindScope, EventScope};
use crate::store::StoreError;

/// The window, in seconds.
pub(crate) const WINDOW_SECS: u32 = 300;

/// Pageviews and visitors of `[since, until)`.
#[derive(Debug, Row, Deserialize)]
pub(crate) struct Now {
    pub views: u64,
    pub visitors: u64,
}

/// The answer of `realtime`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Realtime {
    /// The report's name: `realtime`.
    pub report: &'static str,
    /// The site's domain.
    pub site: String,
    /// The time zone of `since` and `until`.
    pub tz: String,
    /// The comparison window (`compare`); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<RealtimeCompare>,
    #[serde(flatten)]
    pub now: RealtimeRow,
}

/// The counts of the last 5 minutes (also realtime's CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct RealtimeRow {
    /// Start of the window (RFC 3339).
    #[schema(format = DateTime)]
    pub since: String,
    /// End of the window, exclusive.
    #[schema(format = DateTime)]
    pub until: String,
    /// Pageviews.
    pub views: u64,
    /// Distinct visitors.
    pub visitors: u64,
    /// With `compare`: the counts of the comparison window; absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<RealtimePrevious>,
}

previous! {
    /// realtime's counts over the comparison window.
    RealtimePrevious for RealtimeRow {
        views: u64,
        visitors: u64,
    }
}

/// Pageviews and distinct visitors with `until - 300 <= ts < until` (UTC seconds).
pub(crate) async fn now(ctx: &Ctx, site: &str, until: u32, filters: Filters<'_>) -> Result<Now, StoreError> {
    query(ctx.query(&sql::realtime(filters)), site, until, filters).fetch_one().await.map_err(StoreError::from)
}

/// Binds [`sql::realtime`] for `filters`.
pub(crate) fn query(query: Query, site: &str, until: u32, filters: Filters<'_>) -> Query {
    let (start, end) = (until - WINDOW_SECS, until);
    query.bind(start).bind(end).bind_scope(&EventScope { site, tz: "UTC", start, end, filters })
}
