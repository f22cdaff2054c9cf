//! `content-discovery`, whether people find new content once it is published: every
//! page whose start (the earliest publish time the beacon sent for it, else its first
//! view) falls in the range, newest first, with how it did in its first 24 hours and
//! first 7 days from that start: pageviews, visitors, how those 7-day views arrived
//! (share per source class) and the share of its 7-day visitors who were returning.
//!
//! Pages come from the `page_first_seen` view. Their windows start at arbitrary times, so
//! no daily summary can answer them: they are read from `page_views` (the pageviews
//! ordered by page and time), in groups of pages whose starts are close, so each query
//! reads little more than its pages' first 7 days; from `events` when a filter needs a
//! column `page_views` lacks (`sql::PAGE_VIEWS_FILTERS`). The `path` and `page` filters
//! narrow the list of pages; every filter narrows what their windows count.
//!
//! Pages come from `page_first_seen` and the content registry (`content`), so registered
//! pages nobody viewed are listed too (`found`: false). Pages with fewer than
//! `min_visitors` visitors in their first 7 days: a published page (registered, or with a
//! publish time from the beacon; the site lists it itself) stays in the list with its
//! counts suppressed (`null`, `suppressed`: true); any other is folded into one `(other)`
//! row without times, after the listed pages, whose numbers are those of the folded
//! pages' own windows, read together so that a visitor of two of them on one day counts
//! once.

use std::collections::HashMap;

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::exec::{self, Ctx, Scope};
use super::render::{round, share, Header, SmallCounts};
use super::small_counts::{self, Folding};
use super::sql::{self, BindScope, SqlTuple};
use super::time;
use crate::store::StoreError;

/// `published` of a page without a publish time (the largest DateTime).
const NO_PUBLISH_TIME: u32 = u32::MAX;
/// `first_seen` of a registered page nobody viewed (the largest DateTime).
const NEVER_VIEWED: u32 = u32::MAX;
const DAY_SECS: u32 = 86_400;
const WEEK_SECS: u32 = 7 * DAY_SECS;
/// Most time between the starts of pages read by one query, in seconds: each query reads
/// at most its pages' 7 days plus this (every query costs some 20 ms besides its rows).
const MAX_START_SPREAD_SECS: u32 = 14 * DAY_SECS;
/// Most bytes of paths sent in one windows query (each path is sent twice); ClickHouse
/// refuses queries over 256 KiB by default.
const MAX_PATH_BYTES_PER_QUERY: usize = 64 * 1024;

#[derive(Debug, Row, Deserialize)]
pub(crate) struct PageRow {
    path: String,
    /// [`NEVER_VIEWED`] for a registered page nobody viewed.
    first_seen: u32,
    published_at: u32,
    start: u32,
    /// 1: the page is in the content registry.
    registered: u8,
}

impl PageRow {
    /// The page has a publish time: it is in the content registry or its page says when it
    /// was published.
    fn is_published(&self) -> bool {
        self.registered == 1 || self.published_at != NO_PUBLISH_TIME
    }
}

#[derive(Debug, Default, Row, Deserialize)]
pub(crate) struct WindowRow {
    path: String,
    /// Rows are per local day (visitors count visitor-days); they are added up per path.
    #[serde(rename = "day")]
    _day: u16,
    views_24h: u64,
    visitors_24h: u64,
    views_7d: u64,
    visitors_7d: u64,
    returning_visitors_7d: u64,
    internal: u64,
    search: u64,
    social: u64,
    other: u64,
    direct: u64,
}

/// The answer of `content-discovery`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContentDiscovery {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// Newest start first; the `(other)` row last.
    pub rows: Vec<ContentDiscoveryRow>,
}

/// One page of `content-discovery` (also its CSV line). Shares are of the page's first 7
/// days, to 4 places, `null` when there is nothing to share out.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct ContentDiscoveryRow {
    /// The path, or `(other)` for the folded rows.
    pub path: String,
    /// The earliest publish time the beacon sent (RFC 3339, in the answer's time zone);
    /// `null` when none was sent, and in the `(other)` row.
    #[schema(required = true, format = DateTime)]
    pub published_at: Option<String>,
    /// The first view; `null` in the `(other)` row.
    #[schema(required = true, format = DateTime)]
    pub first_view_at: Option<String>,
    /// Hours from publishing to the first view, to 0.01; `null` without a publish time.
    #[schema(required = true)]
    pub hours_to_first_view: Option<f64>,
    /// Whether anyone viewed the page in its first 7 days.
    pub found: bool,
    /// Pageviews in the first 24 hours from the page's start; `null` when suppressed.
    #[schema(required = true)]
    pub views_24h: Option<u64>,
    /// Visitors in the first 24 hours (visitor-days); `null` when suppressed.
    #[schema(required = true)]
    pub visitors_24h: Option<u64>,
    /// Pageviews in the first 7 days; `null` when suppressed.
    #[schema(required = true)]
    pub views_7d: Option<u64>,
    /// Visitors in the first 7 days (visitor-days); `null` when suppressed.
    #[schema(required = true)]
    pub visitors_7d: Option<u64>,
    /// Share of the 7-day views that came from a link on the site.
    #[schema(required = true)]
    pub internal_share: Option<f64>,
    /// ... from a search engine.
    #[schema(required = true)]
    pub search_share: Option<f64>,
    /// ... from a social network.
    #[schema(required = true)]
    pub social_share: Option<f64>,
    /// ... from another site.
    #[schema(required = true)]
    pub other_share: Option<f64>,
    /// ... without a referrer.
    #[schema(required = true)]
    pub direct_share: Option<f64>,
    /// Share of the 7-day visitors who were returning visitors.
    #[schema(required = true)]
    pub returning_share: Option<f64>,
    /// A published page (registered, or with a publish time from the beacon) seen by fewer
    /// than `reports.min_visitors` visitors in its first 7 days: listed, but its counts,
    /// shares and first view are `null`.
    pub suppressed: bool,
}

/// The `limit` newest pages of the range. Those with fewer than `min_visitors` visitors in
/// their first 7 days: published pages listed with their counts suppressed, the others as
/// one row after them.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<ContentDiscoveryRow>, Folding), StoreError> {
    let range = scope.range;
    let pages: Vec<PageRow> =
        pages_query(ctx.query(&sql::discovery_pages(scope.filters)), scope, limit).fetch_all().await?;

    let reads = groups(&pages).into_iter().map(|group| window_rows(ctx, scope, group));
    let windows: Vec<WindowRow> = futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect();
    let add = |total: &mut WindowRow, row: &WindowRow| {
        total.views_24h += row.views_24h;
        total.visitors_24h += row.visitors_24h;
        total.views_7d += row.views_7d;
        total.visitors_7d += row.visitors_7d;
        total.returning_visitors_7d += row.returning_visitors_7d;
        total.internal += row.internal;
        total.search += row.search;
        total.social += row.social;
        total.other += row.other;
        total.direct += row.direct;
    };
    let mut windows: HashMap<String, WindowRow> =
        exec::merge(windows, |row| row.path.clone(), |total, row| add(total, &row))
            .into_iter()
            .map(|row| (row.path.clone(), row))
            .collect();
    let pages: Vec<(PageRow, WindowRow)> = pages
        .into_iter()
        .map(|page| {
            let window = windows.remove(&page.path).unwrap_or_default();
            (page, window)
        })
        .collect();
    // Published pages (registered, or with a publish time from the beacon) are public: the
    // site lists them itself. Small counts are suppressed on their rows, never folded away.
    let small_counts::Folded { kept: pages, mut other, mut folding, keys } = small_counts::fold(
        pages,
        min_visitors,
        |(page, w)| if page.is_published() { u64::MAX } else { w.visitors_7d },
        |(page, _)| (page.path.clone(), page.start),
        |(_, total), (_, w)| add(total, w),
        |(page, _)| page.path = small_counts::OTHER.into(),
    );
    if let (Some((_, other)), [_, _, ..]) = (other.as_mut(), keys.folded.as_slice()) {
        // Added up, a visitor of two folded pages on one day would count twice.
        let (paths, starts): (Vec<String>, Vec<u32>) = keys.folded.into_iter().unzip();
        let query = windows_query(ctx.query(&sql::discovery_windows(scope.filters, true)), scope, &paths, &starts);
        let days: Vec<WindowRow> = sql::allow_length(query).fetch_all().await?;
        *other = days.iter().fold(WindowRow::default(), |mut total, day| {
            add(&mut total, day);
            total
        });
        folding.other_visitors = Some(small_counts::OtherVisitors::Exact);
    }

    let tz = range.tz;
    // The other row shows no times: they would be one of its pages' times.
    let pages = pages.into_iter().map(|(page, w)| (page, w, false)).chain(other.map(|(page, w)| (page, w, true)));
    let rows = pages
        .map(|(page, w, is_other)| {
            let suppressed = !is_other && w.visitors_7d < min_visitors && min_visitors > 1;
            let shown = |value: u64| (!suppressed).then_some(value);
            let share = |part: u64, whole: u64| if suppressed { None } else { share(part, whole) };
            let published = (!is_other && page.published_at != NO_PUBLISH_TIME).then_some(i64::from(page.published_at));
            let viewed = page.first_seen != NEVER_VIEWED && !is_other && !suppressed;
            let first_view = viewed.then_some(i64::from(page.first_seen));
            ContentDiscoveryRow {
                path: page.path,
                published_at: published.map(|published| time::rfc3339(tz, published)),
                first_view_at: first_view.map(|first| time::rfc3339(tz, first)),
                hours_to_first_view: published
                    .zip(first_view)
                    .map(|(published, first)| round((first - published) as f64 / 3600.0, 2)),
                found: w.views_7d > 0,
                views_24h: shown(w.views_24h),
                visitors_24h: shown(w.visitors_24h),
                views_7d: shown(w.views_7d),
                visitors_7d: shown(w.visitors_7d),
                internal_share: share(w.internal, w.views_7d),
                search_share: share(w.search, w.views_7d),
                social_share: share(w.social, w.views_7d),
                other_share: share(w.other, w.views_7d),
                direct_share: share(w.direct, w.views_7d),
                returning_share: share(w.returning_visitors_7d, w.visitors_7d),
                suppressed,
            }
        })
        .collect();
    Ok((rows, folding))
}

/// The pages (newest first) in groups read by one query each: pages whose starts lie at
/// most [`MAX_START_SPREAD_SECS`] apart (so a query's range is at most that much wider
/// than each page's 7 days) and whose paths fit the query.
fn groups(pages: &[PageRow]) -> Vec<&[PageRow]> {
    let mut groups = Vec::new();
    let (mut first, mut bytes) = (0, 0);
    for (index, page) in pages.iter().enumerate() {
        let too_wide = pages[first].start - page.start > MAX_START_SPREAD_SECS;
        if index > first && (too_wide || bytes + page.path.len() > MAX_PATH_BYTES_PER_QUERY) {
            groups.push(&pages[first..index]);
            (first, bytes) = (index, 0);
        }
        bytes += page.path.len();
    }
    if first < pages.len() {
        groups.push(&pages[first..]);
    }
    groups
}

/// Binds [`sql::discovery_pages`].
pub(crate) fn pages_query(query: Query, scope: &Scope<'_>, limit: u64) -> Query {
    let range = scope.range;
    let bind_filters =
        |query: Query| scope.filters.bind(query, &sql::DISCOVERY_PAGE_FILTERS, scope.site, range.start, range.end);
    // page_first_seen's, then the registry's.
    let query = bind_filters(query.bind(scope.site));
    bind_filters(query.bind(scope.site)).bind(scope.range.start).bind(scope.range.end).bind(scope.site).bind(limit)
}

/// The windows of `pages` (not empty), per page and local day.
async fn window_rows(ctx: &Ctx, scope: &Scope<'_>, pages: &[PageRow]) -> Result<Vec<WindowRow>, StoreError> {
    let paths: Vec<String> = pages.iter().map(|page| page.path.clone()).collect();
    let starts: Vec<u32> = pages.iter().map(|page| page.start).collect();
    windows_query(ctx.query(&sql::discovery_windows(scope.filters, false)), scope, &paths, &starts)
        .fetch_all()
        .await
        .map_err(StoreError::from)
}

/// Binds [`sql::discovery_windows`] for pages `paths` starting at `starts` (not empty).
pub(crate) fn windows_query(query: Query, scope: &Scope<'_>, paths: &[String], starts: &[u32]) -> Query {
    let earliest = starts.iter().copied().min().expect("pages is not empty");
    let latest = starts.iter().copied().max().expect("pages is not empty");
    let (start, end) = (earliest, latest.saturating_add(WEEK_SECS));
    query
        .bind(scope.range.tz.name())
        .bind(start)
        .bind(end)
        .bind(paths)
        .bind(starts)
        .bind(SqlTuple(paths))
        .bind_scope(&scope.events(start, end))
}
