//! The report SQL, compiled in from `src/reports/sql/*.sql`, and the binding of its
//! parameters. Every value a request supplies reaches ClickHouse through the clickhouse
//! crate's `.bind()` (escaped), never through string formatting; the only text composed
//! here is footfall's own SQL: a `*_by_day` query inlined into its wrappers, and the two
//! shared conditions `{event_scope}` (`event_scope.sql`, bound by [`bind_events`]) and
//! `{current_summary}` (`current_summary.sql`, bound by [`bind_summary`]) inlined where a
//! query names them.
//!
//! Report queries run with `log_queries = 1` and a `query_id` of
//! `footfall:<database>:<report>:<request>:<n>`, so `system.query_log` shows what each
//! report read (the benchmark reads it from there).

use std::sync::LazyLock;

use clickhouse::query::Query;

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
pub(crate) static QUARTERS_FROM_EVENTS: LazyLock<String> = LazyLock::new(|| expand(sql_file!("quarters_from_events")));
/// content-discovery: the pages whose start falls in the range.
pub(crate) const DISCOVERY_PAGES: &str = sql_file!("discovery_pages");
/// content-discovery: those pages' first 24 hours and 7 days, a row per page and day.
pub(crate) static DISCOVERY_WINDOWS: LazyLock<String> =
    LazyLock::new(|| sql_file!("discovery_windows").replace("{page}", "path"));
/// content-discovery: the first 24 hours and 7 days of the pages folded into `(other)`,
/// a row per day for all of them.
pub(crate) static DISCOVERY_OTHER_WINDOWS: LazyLock<String> =
    LazyLock::new(|| sql_file!("discovery_windows").replace("{page}", &format!("'{}'", super::small_counts::OTHER)));
/// Visitors and views of the last 5 minutes.
pub(crate) static REALTIME: LazyLock<String> = LazyLock::new(|| expand(sql_file!("realtime")));
/// not-stored: events answered but not stored, per reason.
pub(crate) const NOT_STORED: &str = sql_file!("not_stored");
/// The visitors of a breakdown's `(other)` row per local day ([`Breakdown::other_visitors_sql`]).
const OTHER_VISITORS: &str = sql_file!("other_visitors");
/// Distinct visitors matching a filtered request (small-count protection).
pub(crate) static FILTER_VISITORS: LazyLock<String> = LazyLock::new(|| expand(sql_file!("filter_visitors")));

/// The shared conditions: each placeholder with its file's text, without the comments.
static CONDITIONS: LazyLock<[(&str, String); 2]> = LazyLock::new(|| {
    let text = |file: &str| file.lines().filter(|line| !line.starts_with("--")).collect::<Vec<_>>().join("\n");
    [("{event_scope}", text(sql_file!("event_scope"))), ("{current_summary}", text(sql_file!("current_summary")))]
});

/// `sql` with the shared conditions it names inlined.
fn expand(sql: &str) -> String {
    CONDITIONS.iter().fold(sql.to_string(), |sql, (placeholder, condition)| sql.replace(placeholder, condition))
}

/// Which request filters a dataset's summaries can apply themselves. Requests with other
/// filters read events for the whole range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SummaryFilter {
    /// None: a filtered request reads events.
    Nothing,
    /// The `path` prefix (the summary is per path).
    Path,
    /// The `source` filter (the summary is per source).
    Source,
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
    /// The filter `summary` applies itself.
    pub summary_filter: SummaryFilter,
}

macro_rules! dataset {
    ($name:literal, $from_events:expr, $filter:expr) => {
        Dataset {
            name: $name,
            by_day: include_str!(concat!("sql/", $name, "_by_day.sql")),
            from_events: $from_events,
            summary: include_str!(concat!("sql/", $name, "_summary.sql")),
            summarize: include_str!(concat!("sql/", $name, "_summarize.sql")),
            summary_filter: $filter,
        }
    };
}

/// Per path: top-content.
pub(crate) const PAGES: Dataset = dataset!("pages", Some(sql_file!("pages_from_events")), SummaryFilter::Path);
/// Per entry source: sources.
pub(crate) const SOURCES: Dataset = dataset!("sources", Some(sql_file!("sources_from_events")), SummaryFilter::Source);
/// Per browser, OS and device class: devices.
pub(crate) const DEVICES: Dataset = dataset!("devices", Some(sql_file!("devices_from_events")), SummaryFilter::Nothing);
/// Per country: countries.
pub(crate) const COUNTRIES: Dataset =
    dataset!("countries", Some(sql_file!("countries_from_events")), SummaryFilter::Nothing);
/// The site per day: timeseries by day.
pub(crate) const DAYS: Dataset = dataset!("days", None, SummaryFilter::Nothing);
/// The site per local hour: timeseries by hour, busiest-times.
pub(crate) const HOURS: Dataset = dataset!("hours", None, SummaryFilter::Nothing);

/// Every dataset, in the order the summarizer writes them.
pub(crate) const DATASETS: [&Dataset; 6] = [&PAGES, &SOURCES, &DEVICES, &COUNTRIES, &DAYS, &HOURS];

impl Dataset {
    /// The query that reads a range from events.
    pub(crate) fn events_sql(&self) -> String {
        expand(&self.from_events.unwrap_or("{by_day}").replace("{by_day}", self.by_day))
    }

    /// The statement that stores one day.
    pub(crate) fn summarize_sql(&self) -> String {
        expand(&self.summarize.replace("{by_day}", self.by_day))
    }

    /// The query that reads a range from the summary table.
    pub(crate) fn summary_sql(&self) -> String {
        expand(self.summary)
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
    /// the rows whose keys are not (`kept`: true). Bound by [`bind_other_visitors`].
    pub(crate) fn other_visitors_sql(&self, kept: bool) -> String {
        let among = if kept { "NOT IN" } else { "IN" };
        expand(&OTHER_VISITORS.replace("{key}", self.key).replace("{counted}", self.counted).replace("{in}", among))
    }
}

/// Binds [`Breakdown::other_visitors_sql`]: `keys` (not empty) within `scope`.
pub(crate) fn bind_other_visitors<K: serde::Serialize>(query: Query, scope: &EventScope<'_>, keys: &[K]) -> Query {
    query
        .bind(scope.tz)
        .bind(scope.start)
        .bind(scope.end)
        .bind(SqlTuple(keys))
        .bind(scope.site)
        .bind(scope.path)
        .bind_source(scope.source)
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
    /// Path prefix; empty matches every path.
    pub path: &'a str,
    /// Source class or referrer host; empty matches every source.
    pub source: &'a str,
}

/// Binds the parameters of a `*_by_day` query (and of its wrappers).
pub(crate) fn bind_events(query: Query, scope: &EventScope<'_>) -> Query {
    query.bind(scope.tz).bind(scope.start).bind(scope.end).bind(scope.site).bind(scope.path).bind_source(scope.source)
}

/// Binds the parameters of a `*_summary` query up to its filter: the site's summaries in
/// time zone `tz` for the days `[first, end)` (`YYYY-MM-DD`), twice (table and ledger).
pub(crate) fn bind_summary(query: Query, site: &str, tz: &str, first: &str, end: &str) -> Query {
    query.bind(site).bind(tz).bind(first).bind(end).bind(site).bind(tz).bind(first).bind(end)
}

/// Binding the source filter, which each query compares three ways.
pub(crate) trait BindSource {
    /// Binds `source` for `(? = '' OR source_class = ? OR referrer_host = ?)`.
    fn bind_source(self, source: &str) -> Self;
}

impl BindSource for Query {
    fn bind_source(self, source: &str) -> Self {
        self.bind(source).bind(source).bind(source)
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
            DISCOVERY_PAGES,
            sql_file!("discovery_windows"),
            sql_file!("realtime"),
            NOT_STORED,
            sql_file!("filter_visitors"),
            OTHER_VISITORS,
            sql_file!("event_scope"),
            sql_file!("current_summary"),
        ];
        for dataset in DATASETS {
            files.extend([dataset.by_day, dataset.summary, dataset.summarize]);
            files.extend(dataset.from_events);
        }
        for file in files {
            for line in file.lines().filter(|line| line.trim_start().starts_with("--")) {
                assert!(!line.contains('?'), "comment with `?`: {line}");
            }
        }
    }

    #[test]
    fn every_shared_condition_is_inlined() {
        let mut queries = vec![
            QUARTERS_FROM_EVENTS.clone(),
            REALTIME.clone(),
            FILTER_VISITORS.clone(),
            DISCOVERY_WINDOWS.clone(),
            DISCOVERY_OTHER_WINDOWS.clone(),
        ];
        for dataset in DATASETS {
            queries.extend([dataset.events_sql(), dataset.summarize_sql(), dataset.summary_sql()]);
        }
        for breakdown in BREAKDOWNS {
            queries.extend([breakdown.other_visitors_sql(false), breakdown.other_visitors_sql(true)]);
        }
        for query in queries {
            assert!(!query.contains('{'), "a placeholder is left: {query}");
            assert!(query.contains("site = ?"), "no scope: {query}");
        }
    }

    #[test]
    fn tuples_bind_as_tuples() {
        let paths = ["/a".to_string(), "/b'; DROP TABLE events; --".to_string()];
        let sql = clickhouse::Client::default().query("SELECT 1 WHERE path IN ?").bind(SqlTuple(&paths));
        assert_eq!(sql.sql_display().to_string(), r"SELECT 1 WHERE path IN ('/a','/b\'; DROP TABLE events; --')");
    }
}
