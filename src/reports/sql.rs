//! The report SQL, compiled in from `src/reports/sql/*.sql`, and the binding of its
//! parameters. Every value a request supplies reaches ClickHouse through the clickhouse
//! crate's `.bind()` (escaped), never through string formatting; the only text composed
//! here is footfall's own SQL: a `*_by_day` query inlined into its wrappers, the two
//! shared conditions `{event_scope}` (`event_scope.sql`, bound by [`bind_events`]) and
//! `{current_summary}` (`current_summary.sql`, bound by [`bind_summary`]) inlined where a
//! query names them, and `{filters}`: the conditions of the filters a request gives
//! (`filters.sql`, see [`Filters::sql`]), inside `{event_scope}` and in the summary
//! queries, so a query's text depends on which filters are given, never on their values.
//!
//! Report queries run with `log_queries = 1` and a `query_id` of
//! `footfall:<database>:<report>:<request>:<n>`, so `system.query_log` shows what each
//! report read (the benchmark reads it from there).

use std::sync::LazyLock;

use clickhouse::query::Query;

use super::filters::{Dimension, Filters, GOAL_CONDITION};

macro_rules! sql_file {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// Per-day event counts and the newest summary of each day (the planner's input).
pub(crate) const PLAN: &str = sql_file!("plan");
/// Records one summarized day.
pub(crate) const SUMMARY_DAY: &str = sql_file!("summary_day");
/// Busiest 15-minute windows from the `site_quarters` view.
pub(crate) const QUARTERS: &str = sql_file!("quarters");
/// Busiest 15-minute windows from events (filtered requests).
pub(crate) fn quarters_from_events(filters: Filters<'_>) -> String {
    expand(sql_file!("quarters_from_events"), filters)
}
/// content-discovery: the pages whose start falls in the range (and whose path the
/// `path` and `page` filters keep).
pub(crate) fn discovery_pages(filters: Filters<'_>) -> String {
    sql_file!("discovery_pages").replace("{filters}", &filters.sql(&DISCOVERY_PAGE_FILTERS))
}
/// The filters that narrow content-discovery's list of pages (the others narrow what its
/// pages' windows count).
pub(crate) const DISCOVERY_PAGE_FILTERS: [Dimension; 2] = [Dimension::Path, Dimension::Page];
/// The filters `page_views` can apply (it has their columns); content-discovery's windows
/// read `events` for any other.
pub(crate) const PAGE_VIEWS_FILTERS: [Dimension; 7] = [
    Dimension::Path,
    Dimension::Page,
    Dimension::Source,
    Dimension::SourceClass,
    Dimension::Event,
    Dimension::Prop,
    Dimension::Goal,
];
/// content-discovery: its pages' first 24 hours and 7 days, a row per page and day, or
/// for the pages folded into `(other)` (`other`) a row per day for all of them; from
/// `page_views`, or `events` when a filter needs columns `page_views` lacks.
pub(crate) fn discovery_windows(filters: Filters<'_>, other: bool) -> String {
    let page = if other { format!("'{}'", super::small_counts::OTHER) } else { "path".to_string() };
    let (table, pageviews) = pageviews_table(filters);
    let sql = sql_file!("discovery_windows").replace("{page}", &page).replace("{table}", table);
    expand(&sql.replace("{pageviews}", pageviews), filters)
}
/// content-discovery: how its pages' first 7 days were read (10th and 100th visitor,
/// engaged time per pageview, read-through), from `events` (`page_views` has neither the
/// pageview hash nor scroll).
pub(crate) fn discovery_reading(filters: Filters<'_>) -> String {
    expand(sql_file!("discovery_reading"), filters)
}
/// content-discovery: the referrer hosts and internal referrer paths of its pages' first
/// 7 days with at least `min_visitors` visitors, from `events`.
pub(crate) fn discovery_referrers(filters: Filters<'_>) -> String {
    expand(sql_file!("discovery_referrers"), filters)
}
/// content-discovery's yardstick: the first-24-hour visitors of the pages that started
/// before its pages, from `page_views`, or `events` as [`discovery_windows`] decides.
pub(crate) fn discovery_reach(filters: Filters<'_>) -> String {
    let (table, pageviews) = pageviews_table(filters);
    expand(&sql_file!("discovery_reach").replace("{table}", table).replace("{pageviews}", pageviews), filters)
}
/// The table content-discovery's windows read with `filters`, and the condition that
/// keeps its pageviews (none for `page_views`).
fn pageviews_table(filters: Filters<'_>) -> (&'static str, &'static str) {
    if filters.all_among(&PAGE_VIEWS_FILTERS) {
        ("page_views", "")
    } else {
        ("events", "AND name = 'pageview'")
    }
}
/// Visitors and views of the last 5 minutes.
pub(crate) fn realtime(filters: Filters<'_>) -> String {
    expand(sql_file!("realtime"), filters)
}
/// events: custom events per name.
pub(crate) fn events(filters: Filters<'_>) -> String {
    expand(sql_file!("events"), filters)
}
/// events: the visitors of the names folded into `(other)`.
pub(crate) fn events_other(filters: Filters<'_>) -> String {
    expand(sql_file!("events_other"), filters)
}
/// events with `breakdown=prop.KEY`: one event per value of its property.
pub(crate) fn event_props(filters: Filters<'_>) -> String {
    expand(sql_file!("event_props"), filters)
}
/// events with `breakdown`: the visitors of the values folded into `(other)`.
pub(crate) fn event_props_other(filters: Filters<'_>) -> String {
    expand(sql_file!("event_props_other"), filters)
}
/// events and goals: the visitors of the range, what conversion rates divide by.
pub(crate) fn range_visitors(filters: Filters<'_>) -> String {
    expand(sql_file!("range_visitors"), filters)
}
/// goals: the conversions of `goals` goals together (1: one goal's; more: the `(other)`
/// row's, an event reaching any of them).
pub(crate) fn goal_conversions(filters: Filters<'_>, goals: usize) -> String {
    let reached = vec![GOAL_CONDITION.as_str(); goals].join(" OR ");
    expand(&sql_file!("goal_conversions").replace("{goals}", &reached), filters)
}
/// funnel: the visitor-days per number of `steps` steps reached in order.
pub(crate) fn funnel(filters: Filters<'_>, steps: usize) -> String {
    let conditions = vec![GOAL_CONDITION.as_str(); steps].join(", ");
    expand(&sql_file!("funnel").replace("{steps}", &conditions), filters)
}
/// not-stored: events answered but not stored, per reason.
pub(crate) const NOT_STORED: &str = sql_file!("not_stored");
/// The visitors of a breakdown's `(other)` row per local day ([`Breakdown::other_visitors_sql`]).
const OTHER_VISITORS: &str = sql_file!("other_visitors");
/// Distinct visitors matching a filtered request (small-count protection).
pub(crate) fn filter_visitors(filters: Filters<'_>) -> String {
    expand(sql_file!("filter_visitors"), filters)
}

/// The shared conditions: each placeholder with its file's text, without the comments.
static CONDITIONS: LazyLock<[(&str, String); 2]> = LazyLock::new(|| {
    let text = |file: &str| file.lines().filter(|line| !line.starts_with("--")).collect::<Vec<_>>().join("\n");
    [("{event_scope}", text(sql_file!("event_scope"))), ("{current_summary}", text(sql_file!("current_summary")))]
});

/// `sql` over events with the shared conditions it names inlined, and in `{event_scope}`
/// the conditions of `filters` (all of them: events have every column).
fn expand(sql: &str, filters: Filters<'_>) -> String {
    inline(sql, &filters.sql(&Dimension::ALL))
}

/// `sql` with the shared conditions it names inlined and `{filters}` replaced by
/// `filter_conditions` (from [`Filters::sql`]).
fn inline(sql: &str, filter_conditions: &str) -> String {
    let sql =
        CONDITIONS.iter().fold(sql.to_string(), |sql, (placeholder, condition)| sql.replace(placeholder, condition));
    sql.replace("{filters}", filter_conditions)
}

/// Data kept per site-local day: computed from events (`by_day`), summed over a range
/// (`from_events`), stored by the summarizer (`summarize`) and read back (`summary`).
#[derive(Debug)]
pub(crate) struct Dataset {
    /// The files' common prefix, e.g. `pages` (`pages_by_day.sql`, ...).
    pub name: &'static str,
    /// Rows per day from events.
    pub by_day: &'static str,
    /// `by_day` summed over days; `None` when the rows of `by_day` are the answer.
    pub from_events: Option<&'static str>,
    /// The same rows as `from_events` (or `by_day`), from the summary table.
    pub summary: &'static str,
    /// `INSERT ... SELECT` of one day's `by_day` rows into the summary table.
    pub summarize: &'static str,
    /// The filters whose columns the summary table has, so it applies them itself
    /// (`{filters}` in `summary`); a request with any other filter reads events.
    pub summary_dims: &'static [Dimension],
}

macro_rules! dataset {
    ($name:literal, $from_events:expr, $filter:expr) => {
        Dataset {
            name: $name,
            by_day: include_str!(concat!("sql/", $name, "_by_day.sql")),
            from_events: $from_events,
            summary: include_str!(concat!("sql/", $name, "_summary.sql")),
            summarize: include_str!(concat!("sql/", $name, "_summarize.sql")),
            summary_dims: $filter,
        }
    };
}

/// Per path: top-content.
pub(crate) const PAGES: Dataset =
    dataset!("pages", Some(sql_file!("pages_from_events")), &[Dimension::Path, Dimension::Page]);
/// Per path, page views by engaged time and read depth: top-content's engagement figures.
pub(crate) const ENGAGEMENT: Dataset =
    dataset!("engagement", Some(sql_file!("engagement_from_events")), &[Dimension::Path, Dimension::Page]);
/// Per entry source: sources.
pub(crate) const SOURCES: Dataset = dataset!(
    "sources",
    Some(sql_file!("sources_from_events")),
    &[Dimension::Source, Dimension::SourceClass, Dimension::UtmSource, Dimension::UtmMedium, Dimension::UtmCampaign]
);
/// Per browser, OS and device class: devices.
pub(crate) const DEVICES: Dataset = dataset!(
    "devices",
    Some(sql_file!("devices_from_events")),
    &[Dimension::Browser, Dimension::Os, Dimension::Device]
);
/// Per country: countries.
pub(crate) const COUNTRIES: Dataset =
    dataset!("countries", Some(sql_file!("countries_from_events")), &[Dimension::Country]);
/// The site per day: timeseries by day.
pub(crate) const DAYS: Dataset = dataset!("days", None, &[]);
/// The site per local hour: timeseries by hour, busiest-times.
pub(crate) const HOURS: Dataset = dataset!("hours", None, &[]);

/// Every dataset, in the order the summarizer writes them.
pub(crate) const DATASETS: [&Dataset; 7] = [&PAGES, &ENGAGEMENT, &SOURCES, &DEVICES, &COUNTRIES, &DAYS, &HOURS];

impl Dataset {
    /// The query that reads a range from events with `filters`.
    pub(crate) fn events_sql(&self, filters: Filters<'_>) -> String {
        expand(&self.from_events.unwrap_or("{by_day}").replace("{by_day}", self.by_day), filters)
    }

    /// Binds the events side of [`Dataset::events_sql`] or [`Dataset::summarize_sql`]:
    /// [`bind_events`] for each time `by_day` reads events (each `{event_scope}`, bound in
    /// turn; engagement's reads them twice).
    pub(crate) fn bind_events(&self, query: Query, scope: &EventScope<'_>) -> Query {
        (0..self.by_day.matches("{event_scope}").count()).fold(query, |query, _| bind_events(query, scope))
    }

    /// The statement that stores one day (unfiltered).
    pub(crate) fn summarize_sql(&self) -> String {
        expand(&self.summarize.replace("{by_day}", self.by_day), Filters::NONE)
    }

    /// The query that reads a range from the summary table with those of `filters` it
    /// has columns for ([`Dataset::summary_dims`]; bound by `exec::summary_query`).
    pub(crate) fn summary_sql(&self, filters: Filters<'_>) -> String {
        inline(self.summary, &filters.sql(self.summary_dims))
    }
}

/// A dataset whose rows small counts can fold, and how its rows are found among events:
/// what counts the `(other)` row's visitors exactly. `key` and `counted` say in SQL what
/// the dataset's `by_day` query groups by (besides the day) and which events it counts
/// visitors of.
#[derive(Debug)]
pub(crate) struct Breakdown {
    pub dataset: &'static Dataset,
    /// The key columns, in the order of the key tuples bound for them.
    pub key: &'static str,
    /// The events whose visitors a row counts.
    pub counted: &'static str,
}

/// top-content's rows: paths, counting pageviews.
pub(crate) const PAGE_ROWS: Breakdown = Breakdown { dataset: &PAGES, key: "path", counted: "name = 'pageview'" };
/// sources' rows: the pageviews that began a session.
pub(crate) const SOURCE_ROWS: Breakdown = Breakdown {
    dataset: &SOURCES,
    key: "referrer_host, source_class, utm_source, utm_medium, utm_campaign",
    counted: "name = 'pageview' AND entry = 1",
};
/// devices' rows.
pub(crate) const DEVICE_ROWS: Breakdown =
    Breakdown { dataset: &DEVICES, key: "browser, os, device", counted: "name = 'pageview'" };
/// countries' rows.
pub(crate) const COUNTRY_ROWS: Breakdown =
    Breakdown { dataset: &COUNTRIES, key: "country", counted: "name = 'pageview'" };

/// Every breakdown.
pub(crate) const BREAKDOWNS: [&Breakdown; 4] = [&PAGE_ROWS, &SOURCE_ROWS, &DEVICE_ROWS, &COUNTRY_ROWS];

impl Breakdown {
    /// The visitors per local day of the rows whose keys are bound (`kept`: false) or of
    /// the rows whose keys are not (`kept`: true), with `filters`. Bound by
    /// [`bind_other_visitors`].
    pub(crate) fn other_visitors_sql(&self, kept: bool, filters: Filters<'_>) -> String {
        let among = if kept { "NOT IN" } else { "IN" };
        let sql = OTHER_VISITORS.replace("{key}", self.key).replace("{counted}", self.counted).replace("{in}", among);
        expand(&sql, filters)
    }
}

/// Binds [`Breakdown::other_visitors_sql`]: `keys` (not empty) within `scope`.
pub(crate) fn bind_other_visitors<K: serde::Serialize>(query: Query, scope: &EventScope<'_>, keys: &[K]) -> Query {
    query.bind(scope.tz).bind(scope.start).bind(scope.end).bind(SqlTuple(keys)).bind_scope(scope)
}

/// `query` allowed to be as long as it is: ClickHouse parses at most `max_query_size`
/// bytes (256 KiB by default), and a query that lists many keys can be longer.
pub(crate) fn allow_length(query: Query) -> Query {
    let length = query.sql_display().to_string().len();
    query.with_setting("max_query_size", (length + 1024).max(262_144).to_string())
}

/// What the events side of a query selects: a site, a UTC range, a time zone, filters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventScope<'a> {
    pub site: &'a str,
    /// IANA name of the time zone days and hours are local to.
    pub tz: &'a str,
    /// UTC seconds, inclusive.
    pub start: u32,
    /// UTC seconds, exclusive.
    pub end: u32,
    pub filters: Filters<'a>,
}

/// Binds the parameters of a `*_by_day` query (and of its wrappers).
pub(crate) fn bind_events(query: Query, scope: &EventScope<'_>) -> Query {
    query.bind(scope.tz).bind(scope.start).bind(scope.end).bind_scope(scope)
}

/// Binds the parameters of a `*_summary` query up to its filter: the site's summaries in
/// time zone `tz` for the days `[first, end)` (`YYYY-MM-DD`), twice (table and ledger),
/// and the ledger's current format ([`super::summarize::FORMAT`]).
pub(crate) fn bind_summary(query: Query, site: &str, tz: &str, first: &str, end: &str) -> Query {
    let query = query.bind(site).bind(tz).bind(first).bind(end);
    query.bind(site).bind(tz).bind(first).bind(end).bind(super::summarize::FORMAT)
}

/// Binding `{event_scope}` itself.
pub(crate) trait BindScope {
    /// Binds `{event_scope}`'s own parameters: the site, then the filters' (the range
    /// comes from the query's `WITH`, bound before).
    fn bind_scope(self, scope: &EventScope<'_>) -> Self;
}

impl BindScope for Query {
    fn bind_scope(self, scope: &EventScope<'_>) -> Self {
        scope.filters.bind(self.bind(scope.site), &Dimension::ALL, scope.site, scope.start, scope.end)
    }
}

/// A list bound as a tuple, `('a', 'b')`, the form `IN` takes on every ClickHouse version
/// (18.16 refuses an array there). Never bind an empty list: `IN ()` is not SQL.
#[derive(Debug)]
pub(crate) struct SqlTuple<'a, T>(pub &'a [T]);

impl<T: serde::Serialize> serde::Serialize for SqlTuple<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for item in self.0 {
            tuple.serialize_element(item)?;
        }
        tuple.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sql_file_has_a_question_mark_in_a_comment() {
        // Every `?` is a bind placeholder to the clickhouse crate, comments included.
        let mut files = vec![
            PLAN,
            SUMMARY_DAY,
            QUARTERS,
            sql_file!("quarters_from_events"),
            sql_file!("discovery_pages"),
            sql_file!("discovery_windows"),
            sql_file!("discovery_reading"),
            sql_file!("discovery_referrers"),
            sql_file!("discovery_reach"),
            sql_file!("realtime"),
            NOT_STORED,
            sql_file!("filter_visitors"),
            OTHER_VISITORS,
            sql_file!("event_scope"),
            sql_file!("current_summary"),
            sql_file!("filters"),
            sql_file!("events"),
            sql_file!("events_other"),
            sql_file!("event_props"),
            sql_file!("event_props_other"),
            sql_file!("range_visitors"),
            sql_file!("goal_conversions"),
            sql_file!("goal"),
            sql_file!("funnel"),
        ];
        for dataset in DATASETS {
            files.extend([dataset.by_day, dataset.summary, dataset.summarize]);
            files.extend(dataset.from_events);
        }
        for file in files {
            for line in file.lines().filter(|line| line.trim_start().starts_with("--")) {
                assert!(!line.contains('?'), "comment with `?`: {line}");
                // These expand to several lines, which would end the comment.
                assert!(
                    !line.contains("{event_scope}") && !line.contains("{filters}"),
                    "placeholder in a comment: {line}"
                );
            }
        }
    }

    #[test]
    fn every_shared_condition_is_inlined() {
        let every = super::super::describe::sample_filters();
        let mut queries = Vec::new();
        for filters in [Filters::NONE, Filters(&every)] {
            queries.extend([
                quarters_from_events(filters),
                realtime(filters),
                filter_visitors(filters),
                discovery_pages(filters),
                discovery_windows(filters, false),
                discovery_windows(filters, true),
                discovery_reading(filters),
                discovery_referrers(filters),
                discovery_reach(filters),
                events(filters),
                events_other(filters),
                event_props(filters),
                event_props_other(filters),
                range_visitors(filters),
                goal_conversions(filters, 1),
                goal_conversions(filters, 3),
                funnel(filters, 3),
            ]);
            for dataset in DATASETS {
                queries.extend([dataset.events_sql(filters), dataset.summarize_sql(), dataset.summary_sql(filters)]);
            }
            for breakdown in BREAKDOWNS {
                queries.extend([
                    breakdown.other_visitors_sql(false, filters),
                    breakdown.other_visitors_sql(true, filters),
                ]);
            }
        }
        for query in queries {
            assert!(!query.contains('{'), "a placeholder is left: {query}");
            assert!(query.contains("site = ?"), "no scope: {query}");
        }
    }

    #[test]
    fn summaries_apply_the_filters_they_have_columns_for() {
        let every = super::super::describe::sample_filters();
        let filters = Filters(&every);
        for dataset in DATASETS {
            let sql = dataset.summary_sql(filters);
            let applied = sql.matches("AND ").count() - dataset.summary_sql(Filters::NONE).matches("AND ").count();
            assert_eq!(applied, dataset.summary_dims.len(), "{sql}");
        }
    }

    #[test]
    fn tuples_bind_as_tuples() {
        let paths = ["/a".to_string(), "/b'; DROP TABLE events; --".to_string()];
        let sql = clickhouse::Client::default().query("SELECT 1 WHERE path IN ?").bind(SqlTuple(&paths));
        assert_eq!(sql.sql_display().to_string(), r"SELECT 1 WHERE path IN ('/a','/b\'; DROP TABLE events; --')");
    }
}
