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
//!
//! Per listed page also: its title (the registry's), how fast it reached 10 and 100
//! visitors, how its first 24 hours compare with the site's typical page (the median of
//! the pages that started in the 90 days before it, read like the windows), how its
//! 7-day pageviews were read (median engaged time, read-through) and where their readers
//! came from (referrer hosts, internal referrer paths). Those read `events` (`discovery_reading.sql`,
//! `discovery_referrers.sql`): `page_views` has neither the pageview hash that ties an
//! engagement event to its view, nor scroll, entry or the referrer path.

use std::collections::HashMap;

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{previous, Against};
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
/// The yardstick's pages started at most this long before the page it is for.
const TYPICAL_SECS: u32 = 90 * DAY_SECS;
/// Fewest such pages the yardstick takes the median of (else `vs_typical_24h` is `null`).
const TYPICAL_MIN_PAGES: usize = 5;
/// Most pages [`started`] reads (the newest): for the yardsticks, those that started in
/// the 90 days before the earliest listed page and up to the latest; for publish-timing,
/// those of its range.
pub(crate) const MAX_STARTED_PAGES: u64 = 100_000;
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
    /// The registry's newest non-empty title; empty when it has none.
    title: String,
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

/// How a page's first 7 days were read (`discovery_reading.sql`).
#[derive(Debug, Default, Row, Deserialize)]
pub(crate) struct ReadingRow {
    path: String,
    /// UTC seconds; 0: not reached in its first 7 days.
    tenth_visitor_at: u32,
    hundredth_visitor_at: u32,
    /// Each 7-day pageview's engaged time, sorted.
    engaged_ms: Vec<u64>,
    /// The 7-day pageviews whose reader reached 75% of the page.
    read_through: u64,
}

/// One source of a page's 7-day readers (`discovery_referrers.sql`).
#[derive(Debug, Row, Deserialize)]
pub(crate) struct ReferrerRow {
    path: String,
    /// `external` (a referrer host of an entry) or `internal` (a referrer path on the site).
    kind: String,
    source: String,
    visitors: u64,
}

/// A page's first-24-hour visitors on one local day (`discovery_reach.sql`).
#[derive(Debug, Row, Deserialize)]
pub(crate) struct ReachRow {
    path: String,
    #[serde(rename = "day")]
    _day: u16,
    visitors_24h: u64,
}

/// Another site that sent a page readers: an entry of `top_referrers`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Referrer {
    /// The referrer's host.
    pub host: String,
    /// Visitors (visitor-days) whose 7-day entries came from it; at least
    /// `reports.min_visitors` (hosts with fewer are left out).
    pub visitors: u64,
}

/// A page of the site that sent a page readers: an entry of `internal_from`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InternalReferrer {
    /// The referring page's path.
    pub path: String,
    /// Visitors (visitor-days) of the page's 7-day views that came from it; at least
    /// `reports.min_visitors` (paths with fewer are left out).
    pub visitors: u64,
}

/// The answer of `content-discovery`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContentDiscovery {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// The rows added up.
    pub totals: ContentTotals,
    /// Newest start first; the `(other)` row last.
    pub rows: Vec<ContentDiscoveryRow>,
}

/// content-discovery's rows added up: what the answer shows, in total. Its rows are pages
/// that started in the range, so no row has a counterpart in another range; the totals
/// do.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub(crate) struct ContentTotals {
    /// Pages of the answer: those listed by name and those folded into `(other)` (at
    /// most `limit` together).
    pub pages: u64,
    /// Of them, the pages viewed in their first 7 days.
    pub found: u64,
    /// The rows' `views_24h` added up (suppressed rows' not shown, so not added).
    pub views_24h: u64,
    /// The rows' `visitors_24h` added up: per page, so a visitor of two pages counts
    /// twice, except within `(other)`.
    pub visitors_24h: u64,
    /// The rows' `views_7d` added up.
    pub views_7d: u64,
    /// The rows' `visitors_7d` added up, as `visitors_24h`.
    pub visitors_7d: u64,
    /// With `compare`: the totals of the answer over the comparison range (the pages that
    /// started there, with the same `limit`); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<ContentTotalsPrevious>,
}

previous! {
    /// content-discovery's totals over the comparison range.
    ContentTotalsPrevious for ContentTotals {
        pages: u64,
        found: u64,
        views_24h: u64,
        visitors_24h: u64,
        views_7d: u64,
        visitors_7d: u64,
    }
}

/// content-discovery's rows are pages that started in the range: none has a
/// counterpart in the comparison range (its `totals` have).
impl super::compare::Compared for ContentDiscoveryRow {
    type Previous = NoPrevious;
}

/// The `previous` of rows that have none: no CSV columns.
#[derive(Debug, Default, Serialize)]
pub(crate) struct NoPrevious {}

/// One page of `content-discovery` (also its CSV line). Shares are of the page's first 7
/// days, to 4 places, `null` when there is nothing to share out.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct ContentDiscoveryRow {
    /// The path, or `(other)` for the folded rows.
    pub path: String,
    /// The page's title from the content registry (the newest non-empty one registered,
    /// as the site's feed or sitemap gave it: untrusted text); `null` when the registry
    /// has none, and in the `(other)` row.
    #[schema(required = true)]
    pub title: Option<String>,
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
    /// Hours from the page's start to its 10th visitor (visitor-days), to 0.01; `null`
    /// when not reached in its first 7 days, when suppressed, and in the `(other)` row.
    #[schema(required = true)]
    pub hours_to_10_visitors: Option<f64>,
    /// ... to its 100th visitor.
    #[schema(required = true)]
    pub hours_to_100_visitors: Option<f64>,
    /// `visitors_24h` over the median `visitors_24h` of the site's pages that started in
    /// the 90 days before this one, to 0.01; `null` with fewer than 5 such pages, when
    /// their median is 0, when suppressed, and in the `(other)` row.
    #[schema(required = true)]
    pub vs_typical_24h: Option<f64>,
    /// Median engaged time of the 7-day pageviews, in seconds to 0.1 (a pageview's: the
    /// sum of its engagement events' `engaged_ms`, 0 without any); `null` without views,
    /// when suppressed, and in the `(other)` row.
    #[schema(required = true)]
    pub median_engaged_seconds_7d: Option<f64>,
    /// Share of the 7-day pageviews whose reader reached 75% of the page (the largest
    /// `scroll` of their engagement events).
    #[schema(required = true)]
    pub read_through_share_7d: Option<f64>,
    /// Up to 5 other sites whose links began the 7-day sessions, by visitors then host;
    /// only hosts with at least `reports.min_visitors` visitors. In CSV, one cell:
    /// `host=visitors` entries separated by spaces.
    pub top_referrers: Vec<Referrer>,
    /// Up to 5 of the site's own pages whose links brought the 7-day views, by visitors
    /// then path; only paths with at least `reports.min_visitors` visitors. In CSV, one
    /// cell: `path=visitors` entries separated by spaces.
    pub internal_from: Vec<InternalReferrer>,
    /// A published page (registered, or with a publish time from the beacon) seen by fewer
    /// than `reports.min_visitors` visitors in its first 7 days: listed, but its counts,
    /// shares and first view are `null`.
    pub suppressed: bool,
}

/// The answer's pages with their windows' counts, small ones folded: what the rows and
/// the totals both need.
struct Counted {
    /// The pages listed by name, newest first (published pages with small counts
    /// included, their counts to be suppressed).
    kept: Vec<(PageRow, WindowRow)>,
    /// The `(other)` row, its counts read again for the folded pages together.
    other: Option<(PageRow, WindowRow)>,
    folding: Folding,
    totals: ContentTotals,
}

/// Whether a listed page's counts are suppressed: fewer than `min_visitors` visitors in its
/// first 7 days (only published pages are listed so; the others are folded).
fn is_suppressed(window: &WindowRow, min_visitors: u64) -> bool {
    min_visitors > 1 && window.visitors_7d < min_visitors
}

/// Adds `row`'s counts to `total`'s.
fn add(total: &mut WindowRow, row: &WindowRow) {
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
}

/// `pages` with their `windows` (rows per page and day), folded: published pages stay
/// (the site lists them itself; small counts are suppressed on their rows), any other
/// with fewer than `min_visitors` visitors in its first 7 days goes into `(other)`, whose
/// counts are read again for its pages together (a visitor of two of them on one day
/// counts once); and the totals of what the answer shows.
async fn count(
    ctx: &Ctx,
    scope: &Scope<'_>,
    pages: Vec<PageRow>,
    windows: Vec<WindowRow>,
    min_visitors: u64,
) -> Result<Counted, StoreError> {
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
    let found = pages.iter().filter(|(_, w)| w.views_7d > 0).count() as u64;
    let count = pages.len() as u64;
    let small_counts::Folded { kept, mut other, mut folding, keys } = small_counts::fold(
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
    // What the rows show, added up: suppressed pages count as pages (and found) only.
    let mut shown = WindowRow::default();
    for (_, w) in kept.iter().filter(|(_, w)| !is_suppressed(w, min_visitors)).chain(&other) {
        add(&mut shown, w);
    }
    let totals = ContentTotals {
        pages: count,
        found,
        views_24h: shown.views_24h,
        visitors_24h: shown.visitors_24h,
        views_7d: shown.views_7d,
        visitors_7d: shown.visitors_7d,
        previous: None,
    };
    Ok(Counted { kept, other, folding, totals })
}

/// The totals of the answer `scope` would give with `limit` (its pages and windows
/// only: what [`count`] needs).
async fn totals(ctx: &Ctx, scope: &Scope<'_>, limit: u64, min_visitors: u64) -> Result<ContentTotals, StoreError> {
    let pages: Vec<PageRow> =
        pages_query(ctx.query(&sql::discovery_pages(scope.filters)), scope, limit).fetch_all().await?;
    let windows = fetch_groups::<WindowRow>(
        ctx,
        &groups(&pages),
        &sql::discovery_windows(scope.filters, false),
        |query, paths, starts| windows_query(query, scope, paths, starts),
    )
    .await?;
    Ok(count(ctx, scope, pages, windows, min_visitors).await?.totals)
}

/// The `limit` newest pages of the range. Those with fewer than `min_visitors` visitors in
/// their first 7 days: published pages listed with their counts suppressed, the others as
/// one row after them. With `against`, the totals gain those of the comparison range.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<(Vec<ContentDiscoveryRow>, Folding, ContentTotals), StoreError> {
    let range = scope.range;
    let now = async {
        let pages: Vec<PageRow> =
            pages_query(ctx.query(&sql::discovery_pages(scope.filters)), scope, limit).fetch_all().await?;
        let groups = groups(&pages);
        let (windows, readings, referrers, typical) = futures_util::future::try_join4(
            fetch_groups::<WindowRow>(
                ctx,
                &groups,
                &sql::discovery_windows(scope.filters, false),
                |query, paths, starts| windows_query(query, scope, paths, starts),
            ),
            fetch_groups::<ReadingRow>(ctx, &groups, &sql::discovery_reading(scope.filters), |query, paths, starts| {
                reading_query(query, scope, paths, starts)
            }),
            fetch_groups::<ReferrerRow>(
                ctx,
                &groups,
                &sql::discovery_referrers(scope.filters),
                |query, paths, starts| referrers_query(query, scope, paths, starts, min_visitors),
            ),
            typical_reach(ctx, scope, &pages),
        )
        .await?;
        let counted = count(ctx, scope, pages, windows, min_visitors).await?;
        Ok::<_, StoreError>((counted, readings, referrers, typical))
    };
    let then = Against::read(against, |scope| async move { totals(ctx, &scope, limit, min_visitors).await });
    let ((counted, readings, referrers, typical), then) = tokio::try_join!(now, then)?;
    let Counted { kept: pages, other, folding, mut totals } = counted;
    totals.previous = Against::unguarded(against, then.as_ref(), |then| ContentTotalsPrevious::from(then));

    let mut readings: HashMap<String, ReadingRow> = readings.into_iter().map(|row| (row.path.clone(), row)).collect();
    let mut sources: HashMap<String, (Vec<Referrer>, Vec<InternalReferrer>)> = HashMap::new();
    for row in referrers {
        let (external, internal) = sources.entry(row.path).or_default();
        match row.kind.as_str() {
            "internal" => internal.push(InternalReferrer { path: row.source, visitors: row.visitors }),
            _ => external.push(Referrer { host: row.source, visitors: row.visitors }),
        }
    }

    let tz = range.tz;
    // The other row shows no times: they would be one of its pages' times.
    let pages = pages.into_iter().map(|(page, w)| (page, w, false)).chain(other.map(|(page, w)| (page, w, true)));
    let rows = pages
        .map(|(page, w, is_other)| {
            let suppressed = !is_other && is_suppressed(&w, min_visitors);
            let shown = |value: u64| (!suppressed).then_some(value);
            let share = |part: u64, whole: u64| if suppressed { None } else { share(part, whole) };
            let published = (!is_other && page.published_at != NO_PUBLISH_TIME).then_some(i64::from(page.published_at));
            let viewed = page.first_seen != NEVER_VIEWED && !is_other && !suppressed;
            let first_view = viewed.then_some(i64::from(page.first_seen));
            let listed = !is_other && !suppressed;
            let reading = readings.remove(&page.path).filter(|_| listed).unwrap_or_default();
            let (top_referrers, internal_from) = sources.remove(&page.path).filter(|_| listed).unwrap_or_default();
            let hours_to = |at: u32| (at != 0).then(|| round(f64::from(at - page.start) / 3600.0, 2));
            let views = reading.engaged_ms.len() as u64;
            let vs_typical_24h = if listed { typical.vs(page.start, w.visitors_24h) } else { None };
            let title = (!is_other && !page.title.is_empty()).then_some(page.title);
            ContentDiscoveryRow {
                path: page.path,
                title,
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
                hours_to_10_visitors: hours_to(reading.tenth_visitor_at),
                hours_to_100_visitors: hours_to(reading.hundredth_visitor_at),
                vs_typical_24h,
                median_engaged_seconds_7d: median(&reading.engaged_ms).map(|ms| round(ms / 1000.0, 1)),
                read_through_share_7d: share(reading.read_through, views),
                top_referrers,
                internal_from,
                suppressed,
            }
        })
        .collect();
    Ok((rows, folding, totals))
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

/// The rows of `sql` for each group of pages (bound by `bind` with the group's paths and
/// starts), one query per group, run together.
async fn fetch_groups<T: clickhouse::RowOwned + clickhouse::RowRead>(
    ctx: &Ctx,
    groups: &[&[PageRow]],
    sql: &str,
    bind: impl Fn(Query, &[String], &[u32]) -> Query,
) -> Result<Vec<T>, StoreError> {
    let reads = groups.iter().map(|group| {
        let (paths, starts) = paths_and_starts(group);
        bind(ctx.query(sql), &paths, &starts).fetch_all::<T>()
    });
    Ok(futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect())
}

/// The paths and starts of `pages`, in order.
fn paths_and_starts(pages: &[PageRow]) -> (Vec<String>, Vec<u32>) {
    pages.iter().map(|page| (page.path.clone(), page.start)).unzip()
}

/// From the earliest of `starts` (not empty) to `window` seconds after the latest.
fn bounds(starts: &[u32], window: u32) -> (u32, u32) {
    let earliest = starts.iter().copied().min().expect("pages is not empty");
    let latest = starts.iter().copied().max().expect("pages is not empty");
    (earliest, latest.saturating_add(window))
}

/// Binds the windows of pages `paths` starting at `starts` (not empty), `window` seconds
/// long: the parameters [`sql::discovery_windows`], [`sql::discovery_reading`],
/// [`sql::discovery_referrers`] and [`sql::discovery_reach`] begin with.
fn bind_windows(query: Query, scope: &Scope<'_>, paths: &[String], starts: &[u32], window: u32) -> Query {
    let (start, end) = bounds(starts, window);
    query
        .bind(scope.range.tz.name())
        .bind(start)
        .bind(end)
        .bind(paths)
        .bind(starts)
        .bind(SqlTuple(paths))
        .bind_scope(&scope.events(start, end))
}

/// Binds [`sql::discovery_windows`] for pages `paths` starting at `starts` (not empty).
pub(crate) fn windows_query(query: Query, scope: &Scope<'_>, paths: &[String], starts: &[u32]) -> Query {
    bind_windows(query, scope, paths, starts, WEEK_SECS)
}

/// Binds [`sql::discovery_reading`] for pages `paths` starting at `starts` (not empty):
/// their engagement events up to a day after their windows.
pub(crate) fn reading_query(query: Query, scope: &Scope<'_>, paths: &[String], starts: &[u32]) -> Query {
    let (start, end) = bounds(starts, WEEK_SECS + DAY_SECS);
    bind_windows(query, scope, paths, starts, WEEK_SECS)
        .bind(scope.site)
        .bind(SqlTuple(paths))
        .bind(start)
        .bind(end)
        .bind(start)
        .bind(end - 1)
}

/// Binds [`sql::discovery_referrers`] for pages `paths` starting at `starts` (not empty),
/// naming only sources with at least `min_visitors` visitors.
pub(crate) fn referrers_query(
    query: Query,
    scope: &Scope<'_>,
    paths: &[String],
    starts: &[u32],
    min_visitors: u64,
) -> Query {
    bind_windows(query, scope, paths, starts, WEEK_SECS).bind(min_visitors)
}

/// Binds [`sql::discovery_reach`] for pages `paths` starting at `starts` (not empty).
pub(crate) fn reach_query(query: Query, scope: &Scope<'_>, paths: &[String], starts: &[u32]) -> Query {
    bind_windows(query, scope, paths, starts, DAY_SECS)
}

/// The starts and first-24-hour visitors of the pages that started before `pages`' own
/// (up to [`TYPICAL_SECS`] before the earliest), for the yardstick `vs_typical_24h`.
async fn typical_reach(ctx: &Ctx, scope: &Scope<'_>, pages: &[PageRow]) -> Result<Typical, StoreError> {
    let (Some(earliest), Some(latest)) =
        (pages.iter().map(|page| page.start).min(), pages.iter().map(|page| page.start).max())
    else {
        return Ok(Typical::default());
    };
    let range = time::Range { start: earliest.saturating_sub(TYPICAL_SECS), end: latest, ..scope.range };
    let before = Scope { site: scope.site, range, filters: scope.filters, site_time_zone: scope.site_time_zone };
    Ok(Typical { pages: started(ctx, &before).await? })
}

/// Every page whose start falls in `scope`'s range (as this report finds its pages, the
/// path and page filters included; at most the [`MAX_STARTED_PAGES`] newest), as its start
/// and its visitors in the 24 hours from it (counted as the windows count, with the
/// filters), by start: the yardstick's pages, and publish-timing's.
pub(crate) async fn started(ctx: &Ctx, scope: &Scope<'_>) -> Result<Vec<(u32, u64)>, StoreError> {
    let pages: Vec<PageRow> =
        pages_query(ctx.query(&sql::discovery_pages(scope.filters)), scope, MAX_STARTED_PAGES).fetch_all().await?;
    let rows =
        fetch_groups::<ReachRow>(ctx, &groups(&pages), &sql::discovery_reach(scope.filters), |query, paths, starts| {
            reach_query(query, scope, paths, starts)
        })
        .await?;
    let mut reach: HashMap<String, u64> = HashMap::new();
    for row in rows {
        *reach.entry(row.path).or_default() += row.visitors_24h;
    }
    let mut started: Vec<(u32, u64)> =
        pages.iter().map(|page| (page.start, reach.get(&page.path).copied().unwrap_or(0))).collect();
    started.sort_unstable();
    Ok(started)
}

/// The pages a yardstick is taken from: their starts and first-24-hour visitors, by start.
#[derive(Debug, Default)]
struct Typical {
    pages: Vec<(u32, u64)>,
}

impl Typical {
    /// `visitors_24h` of a page that started at `start` over the median of the pages that
    /// started in the [`TYPICAL_SECS`] before it, to 0.01; `None` with fewer than
    /// [`TYPICAL_MIN_PAGES`] of them or a median of 0.
    fn vs(&self, start: u32, visitors_24h: u64) -> Option<f64> {
        let first = self.pages.partition_point(|&(at, _)| at < start.saturating_sub(TYPICAL_SECS));
        let last = self.pages.partition_point(|&(at, _)| at < start);
        let mut earlier: Vec<u64> = self.pages[first..last].iter().map(|&(_, visitors)| visitors).collect();
        if earlier.len() < TYPICAL_MIN_PAGES {
            return None;
        }
        earlier.sort_unstable();
        let typical = median(&earlier).filter(|&median| median > 0.0)?;
        Some(round(visitors_24h as f64 / typical, 2))
    }
}

/// The median of `sorted` (ascending): its middle value, or the mean of its two middle
/// values; `None` when it is empty.
pub(crate) fn median(sorted: &[u64]) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| (sorted[(n - 1) / 2] as f64 + sorted[n / 2] as f64) / 2.0)
}
