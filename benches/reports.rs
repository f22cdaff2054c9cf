//! Reports benchmark: 10 million events over 30 days for one site, plus the long tail of
//! 20,000 rarely viewed paths that a busy site has; every report over those 30 days
//! through the real HTTP API, median and 90th percentile of repeated requests, and the
//! rows each request read according to ClickHouse's `system.query_log`.
//!
//! ```sh
//! CLICKHOUSE_TEST_URL=http://127.0.0.1:18123 cargo bench --bench reports
//! ```
//!
//! It creates a fresh database on that server (`footfall_bench_<random>`), generates the
//! events inside ClickHouse (`INSERT INTO events SELECT ... FROM numbers(10000000)`, so
//! the materialised views fill as they would from the collector), runs the summarizer
//! once, waits for ClickHouse's background merges of the new data to finish (the steady
//! state of 30-day-old data), starts footfall on a free port, measures, prints a Markdown
//! table and drops the
//! database (keep it with `FOOTFALL_BENCH_KEEP=1`). Runs per report: `FOOTFALL_BENCH_RUNS`
//! (default 21) after two warm-up requests.
//!
//! `cargo test --all-targets` builds this file but does not run the benchmark (it only
//! runs when cargo passes `--bench`).

use std::time::{Duration, Instant};

use chrono::{Days, NaiveTime, TimeZone, Utc};
use footfall::config::{ClickHouseSettings, ReportsSettings, Settings};
use footfall::sites::Site;
use footfall::store::Store;
use footfall::Application;

const SITE: &str = "bench.example";
const EVENTS: u64 = 10_000_000;
const PAGES: u32 = 3000;
const ADMIN: &str = "bench-admin-token-0123456789";

/// The events: 2.5 million sessions of four events over the 30 days (day by session,
/// hour of day from a daytime-heavy curve); 150,000 people whose visitor hash changes
/// daily; 3000 pages by a Zipf-like popularity; every 33rd page is a post published in
/// the range, viewed only after its publish time; 80 % pageviews, 20 % engagement events
/// (each of the page view of the event before it, with a scroll depth of 0 to 100)
/// after the first one; entry sources direct 35 %, search 30 %, social 15 %, other 15 %
/// (with utm values), internal 5 %. Parameters: range start and now (UTC seconds).
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
    if(name = 'engagement', sipHash64(session_no, k - 1), sipHash64(session_no, k)) AS pageview,
    if(name = 'engagement', toUInt8(sipHash64(number, 8) % 101), toUInt8(0)) AS scroll
FROM
(
    SELECT
        number,
        intDiv(number, 4) AS session_no,
        number % 4 AS k,
        session_no % 30 AS day,
        intHash32(session_no) % 150000 AS person,
        arrayFirstIndex(x -> x > sipHash64(session_no, 1) % 1000,
            [10, 20, 28, 35, 42, 55, 80, 120, 170, 230, 300, 370, 440, 510, 580, 640, 700, 760, 820, 880, 930, 965, 990, 1000]) - 1 AS hour,
        ? + day * 86400 + hour * 3600 + sipHash64(session_no, 2) % 3300 + k * 47 AS ts_raw,
        if(ts_raw > ?, ts_raw - 86400, ts_raw) AS ts_final,
        if(k != 0 AND intHash32(number) % 100 < 20, 'engagement', 'pageview') AS name,
        toUInt32(pow((sipHash64(session_no, k) % 1000000) / 1000000, 3) * 3000) AS drawn,
        drawn % 33 = 0 AS drawn_is_post,
        ? + sipHash64(drawn, 5) % (30 * 86400) AS drawn_publish_at,
        if(drawn_is_post AND ts_final < drawn_publish_at, drawn + 1, drawn) AS page,
        page % 33 = 0 AS is_post,
        ? + sipHash64(page, 5) % (30 * 86400) AS publish_at,
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

struct Case {
    label: &'static str,
    report: &'static str,
    extra: &'static str,
    /// The range: the last this many local days (30 unless a case says otherwise).
    days: u64,
}

const CASES: &[Case] = &[
    Case { label: "top-content", report: "top-content", extra: "", days: 30 },
    Case { label: "busiest-times", report: "busiest-times", extra: "", days: 30 },
    Case { label: "busiest-times ?measure=average", report: "busiest-times", extra: "&measure=average", days: 30 },
    Case { label: "top-content ?sort=read_through", report: "top-content", extra: "&sort=read_through", days: 30 },
    Case { label: "content-discovery", report: "content-discovery", extra: "", days: 30 },
    Case { label: "sources", report: "sources", extra: "", days: 30 },
    Case { label: "devices", report: "devices", extra: "", days: 30 },
    Case { label: "countries", report: "countries", extra: "", days: 30 },
    Case { label: "timeseries (day)", report: "timeseries", extra: "&interval=day", days: 30 },
    Case { label: "timeseries (hour)", report: "timeseries", extra: "&interval=hour", days: 30 },
    Case { label: "realtime", report: "realtime", extra: "", days: 30 },
];

/// Whether summaries serve `case` (content-discovery and realtime never read them), so
/// that it is measured again once yesterday's summary is stale.
fn summaries_serve(case: &&Case) -> bool {
    !matches!(case.report, "content-discovery" | "realtime")
}

/// Shorter ranges, whose summarized days hold fewer events than
/// `EXACT_OTHER_VISITORS_MAX_EVENTS`: their `(other)` rows are counted exactly from events.
const EXACT_OTHER_CASES: &[Case] = &[
    Case { label: "top-content, last 5 days", report: "top-content", extra: "", days: 5 },
    Case { label: "top-content, last 5 days ?tz=UTC", report: "top-content", extra: "&tz=UTC", days: 5 },
];

/// Requests that read events for the whole range (filters, another time zone): measured
/// too, to show what the summaries save; not part of the target.
const RAW_CASES: &[Case] = &[
    Case {
        label: "top-content ?path=/posts/1 (summaries)",
        report: "top-content",
        extra: "&path=%2Fposts%2F1",
        days: 30,
    },
    Case { label: "devices ?source=search (events)", report: "devices", extra: "&source=search", days: 30 },
    Case { label: "top-content ?tz=UTC (events)", report: "top-content", extra: "&tz=UTC", days: 30 },
    Case {
        label: "top-content ?page=!/posts/1 (summaries)",
        report: "top-content",
        extra: "&page=!%2Fposts%2F1",
        days: 30,
    },
    Case { label: "devices ?device=mobile (summaries)", report: "devices", extra: "&device=mobile", days: 30 },
    Case { label: "timeseries ?country=!US (events)", report: "timeseries", extra: "&country=!US", days: 30 },
    Case {
        label: "top-content ?entry=/posts/1 (events)",
        report: "top-content",
        extra: "&entry=%2Fposts%2F1",
        days: 30,
    },
    // The generated events have no custom events: these match no one, and measure what
    // finding the visitors costs (`event` by the primary key, `prop.KEY` by reading every
    // event's properties of the range) on top of reading events.
    Case { label: "timeseries ?event=!signup (events)", report: "timeseries", extra: "&event=!signup", days: 30 },
    Case { label: "countries ?prop.plan=!pro (events)", report: "countries", extra: "&prop.plan=!pro", days: 30 },
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("reports benchmark: run it with `cargo bench --bench reports`");
        return Ok(());
    }
    let url = std::env::var("CLICKHOUSE_TEST_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into());
    let runs: usize = std::env::var("FOOTFALL_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(21);
    let database = format!("footfall_bench_{}", footfall::random::hex(4));
    let clickhouse = ClickHouseSettings {
        url: url.clone(),
        database: database.clone(),
        request_timeout_ms: 600_000,
        ..ClickHouseSettings::default()
    };
    let store = Store::new(&clickhouse);
    store.migrate().await?;
    let tz = chrono_tz::Europe::London;
    store.put_site(&Site::new(SITE, tz.name(), &[])?).await?;

    // The range: the 30 local days ending today.
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let from = today.checked_sub_days(Days::new(29)).unwrap();
    let start = tz.from_local_datetime(&from.and_time(NaiveTime::MIN)).earliest().unwrap().timestamp() as u32;
    let now_secs = now.timestamp() as u32;

    eprintln!("database {database} on {url}: generating {EVENTS} events from {from} to {today}...");
    let began = Instant::now();
    store.client().query(GENERATE).bind(start).bind(now_secs).bind(start).bind(start).bind(EVENTS).execute().await?;
    store.client().query(SEED_OLD_PAGES).bind(start - 40 * 86_400).bind(PAGES).execute().await?;
    store.client().query(LONG_TAIL).bind(start).bind(now_secs - start).execute().await?;
    let generated = began.elapsed();
    let stored: u64 = store.client().query("SELECT count() FROM events").fetch_one().await?;
    eprintln!("{stored} events stored in {generated:.1?}");

    let began = Instant::now();
    let days = footfall::reports::summarize::summarize(&store, Utc::now()).await?;
    let summarizing = began.elapsed();
    eprintln!("summarized {days} days in {summarizing:.1?}");

    // Measure the steady state: 30-day-old data has long been merged in production, and
    // merges right after a 10-million-row insert would compete for the CPU.
    let began = Instant::now();
    loop {
        let merging: u64 = store
            .client()
            .query("SELECT count() FROM system.merges WHERE database = ?")
            .bind(&database)
            .fetch_one()
            .await?;
        if merging == 0 || began.elapsed() > Duration::from_secs(300) {
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
    let http = reqwest::Client::new();

    let mut results = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Then the worst case of the planner: a late event makes yesterday's summary stale, so
    // the summarized reports read yesterday and today from events.
    let yesterday_noon = start + 28 * 86_400 + 43_200;
    let phases = [
        ("", CASES.iter().chain(EXACT_OTHER_CASES).chain(RAW_CASES).collect::<Vec<_>>()),
        (" [yesterday stale]", CASES.iter().filter(summaries_serve).collect()),
    ];
    for (phase, cases) in phases {
        if !phase.is_empty() {
            store.client().query(LATE_EVENT).bind(yesterday_noon).execute().await?;
        }
        for case in cases {
            let first = today.checked_sub_days(Days::new(case.days - 1)).unwrap();
            let range = format!("from={first}&to={today}");
            let query = if case.report == "realtime" { String::new() } else { format!("{range}{}", case.extra) };
            let url = format!("{address}/api/v1/sites/{SITE}/reports/{}?{query}", case.report);
            let mut times = Vec::new();
            for run in 0..runs + 2 {
                let began = Instant::now();
                let response = http.get(&url).bearer_auth(ADMIN).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                anyhow::ensure!(status.is_success(), "{}: {status} {}", case.label, String::from_utf8_lossy(&body));
                if run >= 2 {
                    times.push(began.elapsed());
                }
            }
            times.sort();
            // This case's requests in the query log: the ones not seen before.
            store.client().query("SYSTEM FLUSH LOGS").execute().await?;
            let requests: Vec<(String, u64, u64)> = store
                .client()
                .query(ROWS_READ)
                .bind(format!("footfall:{database}:{}:", case.report))
                .fetch_all()
                .await?;
            let mut read: Vec<(u64, u64)> =
                requests.into_iter().filter(|(id, _, _)| seen.insert(id.clone())).map(|(_, r, q)| (r, q)).collect();
            read.sort();
            let (rows, queries) = read.get(read.len() / 2).copied().unwrap_or_default();
            results.push((
                format!("{}{phase}", case.label),
                times[times.len() / 2],
                times[times.len() * 9 / 10],
                rows,
                queries,
            ));
        }
    }
    let sizes: Vec<(String, u64)> = store
        .client()
        .query("SELECT table, sum(rows) FROM system.parts WHERE database = ? AND active GROUP BY table ORDER BY table")
        .bind(&database)
        .fetch_all()
        .await?;

    println!("\nReports over 30 days ({from} to {today}, Europe/London), {stored} events, {runs} runs each:\n");
    println!("| report | median | p90 | rows read | queries |");
    println!("|---|---:|---:|---:|---:|");
    for (label, median, p90, rows, queries) in &results {
        println!("| {label} | {} | {} | {rows} | {queries} |", ms(*median), ms(*p90));
    }
    println!("\nRows read: the median over a report's requests of the rows its queries read, from system.query_log.");
    println!("\nTable sizes (rows): {}", sizes.iter().map(|(t, n)| format!("{t} {n}")).collect::<Vec<_>>().join(", "));
    println!(
        "\nGenerating the events took {generated:.1?}; summarizing {days} days took {summarizing:.1?} ({:.0} ms a day).",
        summarizing.as_secs_f64() * 1000.0 / days.max(1) as f64
    );

    handle.stop(true).await;
    server.await??;
    if std::env::var_os("FOOTFALL_BENCH_KEEP").is_none() {
        store.client().query(&format!("DROP DATABASE {database}")).execute().await?;
    }
    Ok(())
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
