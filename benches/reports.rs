//! Reports benchmark: by default 10 million events over 30 days for one site, plus the
//! long tail of 20,000 rarely viewed paths that a busy site has; every report over the
//! whole range (and over its last 30 days when it is longer), then with each filter the
//! API accepts, through the real HTTP API: median and 90th percentile of repeated
//! requests, and the rows each request read according to ClickHouse's `system.query_log`;
//! then the disk each table uses and the summarizer's time per day.
//!
//! ```sh
//! CLICKHOUSE_TEST_URL=http://127.0.0.1:18123 cargo bench --bench reports
//! CLICKHOUSE_TEST_URL=http://127.0.0.1:18123 cargo bench --bench reports -- --events 100000000 --days 365
//! ```
//!
//! Options (after `--`, or as environment variables): `--events N`
//! (`FOOTFALL_BENCH_EVENTS`, default 10,000,000), `--days N` (`FOOTFALL_BENCH_DAYS`, 2 to
//! 366, default 30). Environment only: `FOOTFALL_BENCH_RUNS` (requests per unfiltered
//! report, after two warm-ups, default 21), `FOOTFALL_BENCH_FILTER_RUNS` (per filtered
//! one, after one warm-up, default 5),
//! `FOOTFALL_BENCH_FILTER_REPORTS` (the reports each filter is measured on, comma
//! separated, default `timeseries,top-content`), `FOOTFALL_BENCH_KEEP=1` (keep the
//! database).
//!
//! It creates a fresh database on that server (`footfall_bench_<random>`), generates the
//! events inside ClickHouse (`INSERT INTO events SELECT ... FROM numbers(N)`, so the
//! materialised views fill as they would from the collector), runs the summarizer once,
//! waits for ClickHouse's background merges of the new data to finish (the steady state
//! of old data), starts footfall on a free port, measures, prints Markdown tables and drops
//! the database and its day keys database (`<database>_keys`).
//!
//! `cargo test --all-targets` builds this file but does not run the benchmark (it only
//! runs when cargo passes `--bench`).

use std::time::{Duration, Instant};

use anyhow::Context;

use chrono::{Days, NaiveTime, TimeZone, Utc};
use footfall::config::{ClickHouseSettings, ReportsSettings, Settings};
use footfall::goals::{Goal, GoalName, Target};
use footfall::sites::Site;
use footfall::store::Store;
use footfall::Application;

const SITE: &str = "bench.example";
const PAGES: u32 = 3000;
const ADMIN: &str = "bench-admin-token-0123456789";

/// The events: sessions of four events (2.5 million by default) over the range's days (day by session,
/// hour of day from a daytime-heavy curve); 150,000 people whose visitor hash changes
/// daily; 3000 pages by a Zipf-like popularity; every 33rd page is a post published in
/// the range, viewed only after its publish time; 80 % pageviews, 20 % engagement events
/// (each of the page view of the event before it, with a scroll depth of 0 to 100)
/// after the first one; entry sources direct 35 %, search 30 %, social 15 %, other 15 %
/// (with utm values), internal 5 %. Parameters: the range's days, range start and now
/// (UTC seconds), range start and its length in seconds (twice), the number of events.
const GENERATE: &str = "
INSERT INTO events
SELECT
    'bench.example' AS site,
    toDateTime(ts_final, 'UTC') AS ts,
    name,
    'bench.example' AS hostname,
    concat('/posts/', toString(page)) AS path,
    referrer_host,
    if(referrer_host = '', '', '/') AS referrer_path,
    source_class,
    if(source_class = 'other', 'newsletter', '') AS utm_source,
    if(source_class = 'other', 'email', '') AS utm_medium,
    if(source_class = 'other', 'spring', '') AS utm_campaign,
    '' AS utm_term,
    '' AS utm_content,
    sipHash64(person, day) AS visitor,
    sipHash64(session_no) AS session,
    toUInt8(k = 0 AND name = 'pageview') AS entry,
    toUInt8(intHash32(person) % 100 < 40) AS returning,
    if(is_post, toNullable(toDateTime(publish_at, 'UTC')), NULL) AS published,
    if(name = 'engagement', toUInt32(1000 + intHash32(number) % 120000), toUInt32(0)) AS engaged_ms,
    arrayElement(['mobile', 'tablet', 'laptop', 'desktop'], 1 + sipHash64(person, 2) % 4) AS screen,
    arrayElement(['Chrome', 'Safari', 'Firefox', 'Edge', 'Other'], 1 + sipHash64(person, 3) % 5) AS browser,
    arrayElement(['Windows', 'macOS', 'iOS', 'Android', 'Linux'], 1 + sipHash64(person, 4) % 5) AS os,
    arrayElement(['desktop', 'mobile', 'tablet', 'other'], 1 + sipHash64(person, 2) % 4) AS device,
    arrayElement(['GB', 'US', 'DE', 'FR', 'IN', 'AU', 'JP', 'BR', ''], 1 + sipHash64(person, 6) % 9) AS country,
    emptyArrayString() AS prop_keys,
    emptyArrayString() AS prop_values,
    number + 1 AS event_id,
    -- An engagement event belongs to the page view of the event before it (a pageview,
    -- or an engagement event, whose page view then has no pageview event: an orphan).
    -- (One type for both: sipHash64 hashes a UInt8 1 and an Int16 1 differently.)
    sipHash64(session_no, toUInt8(if(name = 'engagement', k - 1, k))) AS pageview,
    if(name = 'engagement', toUInt8(sipHash64(number, 8) % 101), toUInt8(0)) AS scroll
FROM
(
    SELECT
        number,
        intDiv(number, 4) AS session_no,
        number % 4 AS k,
        session_no % ? AS day,
        intHash32(session_no) % 150000 AS person,
        arrayFirstIndex(x -> x > sipHash64(session_no, 1) % 1000,
            [10, 20, 28, 35, 42, 55, 80, 120, 170, 230, 300, 370, 440, 510, 580, 640, 700, 760, 820, 880, 930, 965, 990, 1000]) - 1 AS hour,
        ? + day * 86400 + hour * 3600 + sipHash64(session_no, 2) % 3300 + k * 47 AS ts_raw,
        if(ts_raw > ?, ts_raw - 86400, ts_raw) AS ts_final,
        if(k != 0 AND intHash32(number) % 100 < 20, 'engagement', 'pageview') AS name,
        toUInt32(pow((sipHash64(session_no, k) % 1000000) / 1000000, 3) * 3000) AS drawn,
        drawn % 33 = 0 AS drawn_is_post,
        ? + sipHash64(drawn, 5) % ? AS drawn_publish_at,
        if(drawn_is_post AND ts_final < drawn_publish_at, drawn + 1, drawn) AS page,
        page % 33 = 0 AS is_post,
        ? + sipHash64(page, 5) % ? AS publish_at,
        sipHash64(session_no, 7) % 100 AS r,
        multiIf(k != 0, 'bench.example', r < 35, '', r < 65, 'www.google.com', r < 80, 't.co', r < 95, 'news.ycombinator.com', 'bench.example') AS referrer_host,
        multiIf(k != 0, 'internal', r < 35, 'direct', r < 65, 'search', r < 80, 'social', r < 95, 'other', 'internal') AS source_class
    FROM numbers(?)
)";

/// One pageview per page 40 days before the range: the site existed before, so its
/// pages are not all new. Parameter: that time (UTC seconds).
const SEED_OLD_PAGES: &str = "
INSERT INTO events (site, ts, name, hostname, path, source_class, visitor, session, entry, browser, os, device)
SELECT 'bench.example', toDateTime(?, 'UTC'), 'pageview', 'bench.example', concat('/posts/', toString(number)),
       'direct', number, number, 1, 'Chrome', 'Windows', 'desktop'
FROM numbers(?)";

/// The long tail of a busy site: 20,000 paths (searches, query strings, old links) viewed
/// twice each, by two of the 150,000 people on random days of the range, each view
/// beginning a session from one of 5,000 referrer hosts. Parameters: range start and its
/// length in seconds. Each tail path and host has fewer than 5 visitors, so top-content
/// and sources fold thousands of rows into `(other)`.
const LONG_TAIL: &str = "
INSERT INTO events (site, ts, name, hostname, path, referrer_host, referrer_path, source_class, visitor, session,
                    entry, browser, os, device, country, screen)
SELECT 'bench.example', toDateTime(? + sipHash64(number, 1) % ?, 'UTC') AS ts, 'pageview', 'bench.example',
       concat('/tail/', toString(intDiv(number, 2))), concat('ref', toString(number % 5000), '.example'), '/',
       'other', sipHash64(sipHash64(number, 2) % 150000, toDate(ts)), 100000000 + number, 1,
       'Chrome', 'Windows', 'desktop', 'GB', 'desktop'
FROM numbers(40000)";

/// One pageview at yesterday noon (parameter: UTC seconds), after yesterday was summarized.
const LATE_EVENT: &str = "
INSERT INTO events (site, ts, name, hostname, path, source_class, visitor, session, browser, os, device)
SELECT 'bench.example', toDateTime(?, 'UTC'), 'pageview', 'bench.example', '/late', 'direct', 1, 1, 'Chrome', 'Windows', 'desktop'";

/// What each request of one report read: its queries' rows summed (query ids are
/// `footfall:<database>:<report>:<request>:<n>`). Parameter: `footfall:<database>:<report>:`.
const ROWS_READ: &str = "
SELECT splitByChar(':', query_id)[4] AS request, sum(read_rows) AS rows, count() AS queries
FROM system.query_log
WHERE type = 2 AND event_date >= yesterday() AND startsWith(query_id, ?)
GROUP BY request";

/// A request's range.
#[derive(Clone, Copy)]
enum Span {
    /// The benchmark's whole range.
    All,
    /// Its last this many local days.
    Last(u64),
}

struct Case {
    label: &'static str,
    report: &'static str,
    extra: &'static str,
    span: Span,
}

/// Every report unfiltered (over the whole range, and over its last 30 days when it is
/// longer): the ones the speed target is for.
const CASES: &[Case] = &[
    Case { label: "top-content", report: "top-content", extra: "", span: Span::All },
    Case { label: "busiest-times", report: "busiest-times", extra: "", span: Span::All },
    Case {
        label: "busiest-times ?measure=average",
        report: "busiest-times",
        extra: "&measure=average",
        span: Span::All,
    },
    Case {
        label: "top-content ?sort=read_through",
        report: "top-content",
        extra: "&sort=read_through",
        span: Span::All,
    },
    Case { label: "content-discovery", report: "content-discovery", extra: "", span: Span::All },
    Case { label: "sources", report: "sources", extra: "", span: Span::All },
    Case { label: "devices", report: "devices", extra: "", span: Span::All },
    Case { label: "countries", report: "countries", extra: "", span: Span::All },
    Case { label: "timeseries (day)", report: "timeseries", extra: "&interval=day", span: Span::All },
    Case { label: "timeseries (hour)", report: "timeseries", extra: "&interval=hour", span: Span::All },
    Case { label: "realtime", report: "realtime", extra: "", span: Span::All },
];

/// The range [`CASES`] are measured over again when the benchmark's is longer.
const RECENT_DAYS: u64 = 30;

/// Whether summaries serve `case` (content-discovery and realtime never read them), so
/// that it is measured again once yesterday's summary is stale.
fn summaries_serve(case: &&Case) -> bool {
    !matches!(case.report, "content-discovery" | "realtime")
}

/// Shorter ranges, whose summarized days hold fewer events than
/// `EXACT_OTHER_VISITORS_MAX_EVENTS`: their `(other)` rows are counted exactly from events.
const EXACT_OTHER_CASES: &[Case] = &[
    Case { label: "top-content, last 5 days", report: "top-content", extra: "", span: Span::Last(5) },
    Case { label: "top-content, last 5 days ?tz=UTC", report: "top-content", extra: "&tz=UTC", span: Span::Last(5) },
];

/// Another time zone than the site's: no daily summary serves it (measured as often as a
/// filtered request).
const TZ_CASES: &[Case] =
    &[Case { label: "top-content ?tz=UTC", report: "top-content", extra: "&tz=UTC", span: Span::All }];

/// The goal the `goal` filter names (defined before measuring).
const GOAL: &str = "read-post-1";

/// One value per filter the API accepts (docs/reports.md, "Filters"), in its order, for
/// the generated events: `(parameter=value, what answers it)`. Each is measured on the
/// reports of `FOOTFALL_BENCH_FILTER_REPORTS`. The generated events have no custom events
/// and no utm_content or utm_term: those filters are negated, so that they keep every
/// event and measure what applying them costs.
const FILTERS: &[&str] = &[
    "path=%2Fposts%2F1",
    "page=!%2Fposts%2F1",
    "entry=%2Fposts%2F1",
    "hostname=bench.example",
    "source=www.google.com",
    "source_class=search",
    "utm_source=newsletter",
    "utm_medium=email",
    "utm_campaign=spring",
    "utm_content=!none",
    "utm_term=!none",
    "country=!US",
    "browser=Chrome",
    "os=Windows",
    "device=mobile",
    "screen=mobile",
    "event=!signup",
    "prop.plan=!pro",
    "goal=read-post-1",
];

/// The benchmark's size, from `--NAME N` after `--` or the environment variable `env`.
fn option(name: &str, env: &str, default: u64) -> anyhow::Result<u64> {
    let args: Vec<String> = std::env::args().collect();
    let given = args.iter().position(|arg| arg == name).and_then(|at| args.get(at + 1)).cloned();
    match given.or_else(|| std::env::var(env).ok()) {
        Some(value) => value.replace('_', "").parse().with_context(|| format!("{name} ({env}): a whole number")),
        None => Ok(default),
    }
}

/// A measured request kind: label, median, 90th percentile, rows read, queries.
type Measured = (String, Duration, Duration, u64, u64);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("reports benchmark: run it with `cargo bench --bench reports`");
        return Ok(());
    }
    let events = option("--events", "FOOTFALL_BENCH_EVENTS", 10_000_000)?;
    let range_days = option("--days", "FOOTFALL_BENCH_DAYS", 30)?;
    anyhow::ensure!((2..=366).contains(&range_days), "--days: 2 to 366 (a report's longest range)");
    let url = std::env::var("CLICKHOUSE_TEST_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into());
    let runs: usize = std::env::var("FOOTFALL_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(21);
    let filter_runs: usize = std::env::var("FOOTFALL_BENCH_FILTER_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let filter_reports: Vec<String> = std::env::var("FOOTFALL_BENCH_FILTER_REPORTS")
        .unwrap_or_else(|_| "timeseries,top-content".into())
        .split(',')
        .filter(|report| !report.is_empty())
        .map(str::to_string)
        .collect();
    let database = format!("footfall_bench_{}", footfall::random::hex(4));
    let clickhouse = ClickHouseSettings {
        url: url.clone(),
        database: database.clone(),
        request_timeout_ms: 3_600_000,
        ..ClickHouseSettings::default()
    };
    let store = Store::new(&clickhouse);
    store.migrate().await?;
    let tz = chrono_tz::Europe::London;
    store.put_site(&Site::new(SITE, tz.name(), &[])?).await?;
    store
        .put_goal(&Goal { site: SITE.into(), name: GoalName::parse(GOAL)?, target: Target::page("/posts/1")? })
        .await?;

    // The range: the local days ending today.
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let from = today.checked_sub_days(Days::new(range_days - 1)).unwrap();
    let start = tz.from_local_datetime(&from.and_time(NaiveTime::MIN)).earliest().unwrap().timestamp() as u32;
    let now_secs = now.timestamp() as u32;
    let span_secs = range_days as u32 * 86_400;

    eprintln!("database {database} on {url}: generating {events} events from {from} to {today}...");
    let began = Instant::now();
    store
        .client()
        .query(GENERATE)
        .bind(range_days)
        .bind(start)
        .bind(now_secs)
        .bind(start)
        .bind(span_secs)
        .bind(start)
        .bind(span_secs)
        .bind(events)
        .execute()
        .await?;
    store.client().query(SEED_OLD_PAGES).bind(start - 40 * 86_400).bind(PAGES).execute().await?;
    store.client().query(LONG_TAIL).bind(start).bind(now_secs - start).execute().await?;
    let generated = began.elapsed();
    let stored: u64 = store.client().query("SELECT count() FROM events").fetch_one().await?;
    eprintln!("{stored} events stored in {generated:.1?}");

    let began = Instant::now();
    let days = footfall::reports::summarize::summarize(&store, Utc::now()).await?;
    let summarizing = began.elapsed();
    eprintln!("summarized {days} days in {summarizing:.1?}");

    // Measure the steady state: old data has long been merged in production, and merges
    // right after a large insert would compete for the CPU.
    let began = Instant::now();
    loop {
        let merging: u64 = store
            .client()
            .query("SELECT count() FROM system.merges WHERE database = ?")
            .bind(&database)
            .fetch_one()
            .await?;
        if merging == 0 || began.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    eprintln!("background merges settled after {:.1?}", began.elapsed());

    // Removed when the benchmark ends.
    let spool_dir = tempfile::Builder::new().prefix("footfall-bench-spool-").tempdir()?;
    let settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        admin_token: Some(ADMIN.into()),
        spool_dir: spool_dir.path().to_path_buf(),
        log_level: "warn".into(),
        // The benchmark summarizes itself, and yesterday must stay stale in the last phase.
        reports: ReportsSettings { summarize_every_secs: 0, ..ReportsSettings::default() },
        clickhouse,
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let mut bench = Bench {
        http: reqwest::Client::new(),
        store: &store,
        database: &database,
        address: &address,
        today,
        range_days,
        seen: std::collections::HashSet::new(),
    };

    // The spans the unfiltered reports are measured over.
    let spans: Vec<(Span, String)> = if range_days > RECENT_DAYS {
        vec![(Span::All, String::new()), (Span::Last(RECENT_DAYS), format!(", last {RECENT_DAYS} days"))]
    } else {
        vec![(Span::All, String::new())]
    };
    let mut results: Vec<Measured> = Vec::new();
    for (span, suffix) in &spans {
        for case in CASES {
            results.push(
                bench.measure(&format!("{}{suffix}", case.label), case.report, case.extra, *span, (runs, 2)).await?,
            );
        }
    }
    for case in EXACT_OTHER_CASES {
        results.push(bench.measure(case.label, case.report, case.extra, case.span, (runs, 2)).await?);
    }
    for case in TZ_CASES {
        results.push(bench.measure(case.label, case.report, case.extra, case.span, (filter_runs, 1)).await?);
    }
    let mut filtered: Vec<Measured> = Vec::new();
    for (span, suffix) in &spans {
        for report in &filter_reports {
            for filter in FILTERS {
                let label = format!("{report} ?{}{suffix}", filter.replace("%2F", "/"));
                filtered.push(bench.measure(&label, report, &format!("&{filter}"), *span, (filter_runs, 1)).await?);
            }
        }
    }
    // Then the worst case of the planner: a late event makes yesterday's summary stale, so
    // the summarized reports read yesterday and today from events.
    let yesterday_noon = start + (range_days as u32 - 2) * 86_400 + 43_200;
    store.client().query(LATE_EVENT).bind(yesterday_noon).execute().await?;
    for case in CASES.iter().filter(summaries_serve) {
        let label = format!("{} [yesterday stale]", case.label);
        results.push(bench.measure(&label, case.report, case.extra, case.span, (runs, 2)).await?);
    }

    let sizes: Vec<(String, u64, u64)> = store
        .client()
        .query(
            "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE database = ? AND active \
             GROUP BY table ORDER BY table",
        )
        .bind(&database)
        .fetch_all()
        .await?;

    println!(
        "\nReports over {range_days} days ({from} to {today}, Europe/London), {stored} events, {runs} runs each \
         ({filter_runs} with a filter):\n"
    );
    print_table(&results);
    println!("\nWith each filter (median under 1 s is the target):\n");
    print_table(&filtered);
    println!("\nRows read: the median over a report's requests of the rows its queries read, from system.query_log.");
    println!("\n| table | rows | on disk |\n|---|---:|---:|");
    for (table, rows, bytes) in &sizes {
        println!("| {table} | {rows} | {:.1} MiB |", *bytes as f64 / 1_048_576.0);
    }
    println!(
        "\nGenerating the events took {generated:.1?}; summarizing {days} days took {summarizing:.1?} ({:.0} ms a day).",
        summarizing.as_secs_f64() * 1000.0 / days.max(1) as f64
    );

    handle.stop(true).await;
    server.await??;
    if std::env::var_os("FOOTFALL_BENCH_KEEP").is_none() {
        // And the database of the day keys beside it (`<database>_keys`), first: the
        // client names `database` as its own, so nothing runs once that one is gone.
        for name in [format!("{database}_keys"), database.clone()] {
            store.client().query(&format!("DROP DATABASE IF EXISTS {name}")).execute().await?;
        }
    }
    Ok(())
}

/// What measuring needs: the served footfall and the database to read the query log of.
struct Bench<'a> {
    http: reqwest::Client,
    store: &'a Store,
    database: &'a str,
    address: &'a str,
    today: chrono::NaiveDate,
    range_days: u64,
    /// The requests already counted in the query log.
    seen: std::collections::HashSet<String>,
}

impl Bench<'_> {
    /// Times `runs` requests of `report` with `extra` parameters over `span` (after
    /// `warmups` untimed ones), then reads what they read from the query log.
    async fn measure(
        &mut self,
        label: &str,
        report: &str,
        extra: &str,
        span: Span,
        (runs, warmups): (usize, usize),
    ) -> anyhow::Result<Measured> {
        let days = match span {
            Span::All => self.range_days,
            Span::Last(days) => days.min(self.range_days),
        };
        let first = self.today.checked_sub_days(Days::new(days - 1)).unwrap();
        let today = self.today;
        let query = if report == "realtime" { String::new() } else { format!("from={first}&to={today}{extra}") };
        let url = format!("{}/api/v1/sites/{SITE}/reports/{report}?{query}", self.address);
        let mut times = Vec::new();
        for run in 0..runs + warmups {
            let began = Instant::now();
            let response = self.http.get(&url).bearer_auth(ADMIN).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            anyhow::ensure!(status.is_success(), "{label}: {status} {}", String::from_utf8_lossy(&body));
            if run >= warmups {
                times.push(began.elapsed());
            }
        }
        times.sort();
        // This case's requests in the query log: the ones not seen before.
        self.store.client().query("SYSTEM FLUSH LOGS").execute().await?;
        let requests: Vec<(String, u64, u64)> = self
            .store
            .client()
            .query(ROWS_READ)
            .bind(format!("footfall:{}:{report}:", self.database))
            .fetch_all()
            .await?;
        let mut read: Vec<(u64, u64)> =
            requests.into_iter().filter(|(id, _, _)| self.seen.insert(id.clone())).map(|(_, r, q)| (r, q)).collect();
        read.sort();
        let (rows, queries) = read.get(read.len() / 2).copied().unwrap_or_default();
        eprintln!("{label}: {}", ms(times[times.len() / 2]));
        Ok((label.to_string(), times[times.len() / 2], times[times.len() * 9 / 10], rows, queries))
    }
}

fn print_table(results: &[Measured]) {
    println!("| report | median | p90 | rows read | queries |");
    println!("|---|---:|---:|---:|---:|");
    for (label, median, p90, rows, queries) in results {
        println!("| {label} | {} | {} | {rows} | {queries} |", ms(*median), ms(*p90));
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
