//! The dashboard in a real browser (Debian's Chromium, headless, through chromedriver).
//! After seeding known events: the overview renders and its numbers equal the reports
//! API's for the same range; the heatmap has 168 cells with the expected peak; charts draw
//! only the buckets that have begun and mark the one in progress; "Today" is drawn by hour
//! and compared with yesterday until the same hour; a previous period without data says
//! so; axis labels never overlap at 375 or 1280 px; the `(other)` row says what it holds
//! and why; the empty state's snippet names the page's own address and the usual causes of
//! missing events and links to the "Events not stored" panel, which names a headless
//! browser's and a foreign page's events; the site picker shows time zones and filters.
//! Screenshots go to
//! `target/screenshots/` (`dashboard-overview.png` is the one in docs/dashboard.md).

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use fantoccini::Locator;
use footfall::auth::{TokenKind, TokenRecord};
use footfall::goals::{Funnel, Goal, GoalName, Target};
use footfall::reports::params::LockedFilters;
use footfall::sites::Site;
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::browser::{Browser, Prefs};

use crate::helpers::{spawn_app, spawn_app_with, spawn_app_with_sites, TestApp, CHROME_WINDOWS, SITE};
use crate::reports::{get_report, ADMIN};

// ---- the dataset -------------------------------------------------------------------------

fn event(ts: &str, path: &str, visitor: u64) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts: DateTime::parse_from_rfc3339(ts).unwrap().timestamp() as u32,
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        referrer_host: "www.google.com".into(),
        referrer_path: "/".into(),
        source_class: "search".into(),
        visitor,
        session: visitor * 10,
        entry: 1,
        browser: "Firefox".into(),
        os: "Linux".into(),
        device: "desktop".into(),
        country: "DE".into(),
        screen: "desktop".into(),
        ..EventRow::default()
    }
}

/// The range shown: Monday 2026-02-02 to Sunday 2026-02-08 (London is on UTC then).
const FROM: &str = "2026-02-02";
const TO: &str = "2026-02-08";

/// Views on every day of the range, the most on Wednesday 14:00-15:00 (5 views), fewer
/// in the week before (for the change vs the previous period), and engagement.
fn dataset() -> Vec<EventRow> {
    let mut events = Vec::new();
    for (day, count) in [(2, 2), (3, 1), (4, 3), (5, 2), (6, 1), (7, 4), (8, 1)] {
        for i in 0..count {
            let path = if i % 2 == 0 { "/" } else { "/blog/launch" };
            events.push(event(&format!("2026-02-{day:02}T09:{:02}:00Z", i * 5), path, 100 + day * 10 + i));
        }
    }
    for i in 0..5 {
        events.push(event(&format!("2026-02-04T14:{:02}:00Z", i * 10), "/pricing", 500 + i));
    }
    for i in 0..3 {
        let mut engaged = event(&format!("2026-02-04T14:{:02}:30Z", i * 10), "/pricing", 500 + i);
        (engaged.name, engaged.engaged_ms) = ("engagement".into(), 20_000 + 25_000 * i as u32);
        events.push(engaged);
    }
    for day in 26..=31 {
        events.push(event(&format!("2026-01-{day}T10:00:00Z"), "/", 900 + day));
    }
    events
}

async fn api(app: &TestApp, report: &str, query: &str) -> Value {
    let response = get_report(app, report, query).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn sum(rows: &Value, column: &str) -> f64 {
    rows.as_array().unwrap().iter().map(|row| row[column].as_f64().unwrap()).sum()
}

/// The text of `data-value` of the first element matching `selector`, as a number.
async fn value_of(browser: &Browser, selector: &str) -> f64 {
    let script = format!("return Number(document.querySelector({}).dataset.value)", json!(selector));
    browser.js(&script).await.as_f64().unwrap()
}

#[tokio::test]
async fn the_overview_renders_the_reports_numbers_and_the_heatmap() {
    let app = spawn_app().await;
    app.store.insert_events(&dataset()).await.unwrap();
    let browser = Browser::launch_with(Prefs { window_height: Some(2300), ..Prefs::default() }).await;

    // Without a session: the login form. Log in with the admin token.
    browser.open(&format!("{}/dashboard/{SITE}?from={FROM}&to={TO}", app.address)).await;
    browser.wait_until("return document.getElementById('token') !== null").await;
    let field = browser.client.find(Locator::Css("#token")).await.unwrap();
    field.send_keys(ADMIN).await.unwrap();
    browser.client.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    // The login form was on /dashboard/{SITE}?from=..., so wait for the redirect's page
    // (no query) to have loaded: opening the next page before that races the redirect,
    // which could then replace it with the default range.
    browser
        .wait_until(&format!(
            "return location.pathname == '/dashboard/{SITE}' && location.search == '' \
             && document.getElementById('main') !== null && document.readyState == 'complete'"
        ))
        .await;

    browser.open(&format!("{}/dashboard/{SITE}?from={FROM}&to={TO}", app.address)).await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(browser.js("return document.querySelectorAll('.panel.failed').length").await, json!(0));
    assert_eq!(browser.js("return document.getElementById('site-tz').textContent").await, json!("Europe/London"));

    // The numbers equal the reports API's for the same range and the one before.
    let query = format!("from={FROM}&to={TO}");
    let series = api(&app, "timeseries", &query).await;
    let previous = api(&app, "timeseries", "from=2026-01-26&to=2026-02-01").await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, sum(&series["rows"], "visitors"));
    assert_eq!(value_of(&browser, "#panel-1 .big").await, sum(&series["rows"], "views"));
    assert_eq!(sum(&series["rows"], "views"), 19.0, "the dataset's views in the range");
    let change = browser.js("return document.querySelector('#panel-1 .change').dataset.previous").await;
    assert_eq!(change, json!(sum(&previous["rows"], "views").to_string()));
    assert_eq!(
        browser.js("return document.querySelector('#panel-1 .change').textContent").await,
        json!("▲ +217% vs previous period (6)")
    );
    let top = api(&app, "top-content", &format!("{query}&limit=1000")).await;
    let rows = top["rows"].as_array().unwrap();
    let weighted: f64 =
        rows.iter().map(|r| r["avg_engaged_seconds"].as_f64().unwrap() * r["views"].as_f64().unwrap()).sum();
    let engaged = (weighted / sum(&top["rows"], "views") * 10.0).round() / 10.0;
    assert_eq!(value_of(&browser, "#panel-2 .big").await, engaged);
    assert_eq!(browser.js("return document.querySelector('#panel-2 .big').textContent").await, json!("7s"));
    let first = browser
        .js("return [...document.querySelectorAll('#panel-6 tbody tr:first-child [data-column]')]\
             .map((c, i) => i == 0 ? c.dataset.value : Number(c.dataset.value))")
        .await;
    let want = &api(&app, "top-content", &format!("{query}&limit=10")).await["rows"][0];
    let columns = ["views", "visitors", "entries", "avg_engaged_seconds"];
    assert_eq!(first[0], want["path"]);
    let shown: Vec<f64> = first.as_array().unwrap()[1..].iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(shown, columns.map(|column| want[column].as_f64().unwrap()));

    // The heatmap: 168 cells, the peak on Wednesday 14:00 with the API's views.
    let busiest = api(&app, "busiest-times", &query).await;
    assert_eq!(busiest["peak"], json!({"weekday": 3, "hour": 14, "views": 5, "visitors": 5, "occurrences": 1}));
    assert_eq!(browser.js("return document.querySelectorAll('.heatmap rect.cell').length").await, json!(168));
    let peak = browser
        .js("var p = document.querySelectorAll('.heatmap rect.cell.peak'); \
        return [p.length, p[0].dataset.weekday, p[0].dataset.hour, p[0].dataset.views]")
        .await;
    assert_eq!(peak, json!([1, "3", "14", "5"]));
    let callout = browser.js("return document.querySelector('.peak-callout').textContent").await;
    assert_eq!(callout, json!("Busiest: Wed 14:00–15:00: 5 views, 5 visitors (Europe/London)"));

    // The screenshot in docs/dashboard.md, and the same page on a phone.
    browser.set_viewport(1280, 2300).await;
    wait_for_redraw(&browser).await;
    browser.save_screenshot("dashboard-overview").await;
    browser.set_viewport(375, 2300).await;
    wait_for_redraw(&browser).await;
    assert_axis_readable(&browser, "#panel-4").await;
    browser.save_screenshot("dashboard-overview-375").await;
    browser.quit().await;
}

// ---- helpers ---------------------------------------------------------------------------

/// The test site's time zone.
const LONDON: Tz = chrono_tz::Europe::London;

/// Now on the test site's clock.
fn site_now() -> DateTime<Tz> {
    Utc::now().with_timezone(&LONDON)
}

/// `hour:minute` on `date` in London; `None` in the hour a clock change skips.
fn local(date: NaiveDate, hour: u32, minute: u32) -> Option<DateTime<Tz>> {
    LONDON.from_local_datetime(&date.and_hms_opt(hour, minute, 0).unwrap()).earliest()
}

/// The start of the hour `at` is in.
fn hour_start(at: DateTime<Tz>) -> DateTime<Tz> {
    at - Duration::seconds(i64::from(at.minute() * 60 + at.second()))
        - Duration::nanoseconds(i64::from(at.nanosecond()))
}

/// The starts of the hours of `date` in London (23, 24 or 25 of them).
fn hours_of(date: NaiveDate) -> Vec<DateTime<Tz>> {
    let (first, end) = (local(date, 0, 0).unwrap(), local(date.succ_opt().unwrap(), 0, 0).unwrap());
    (0..).map(|h| first + Duration::hours(h)).take_while(|start| *start < end).collect()
}

/// A time as the reports API prints it: `2026-12-03T14:00:00+00:00`.
fn rfc3339(at: DateTime<Tz>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A pageview of `path` by `visitor` at `at`, as an admin may post it (`ts` is honoured).
fn view_at(path: &str, visitor: &str, at: DateTime<Tz>) -> Value {
    json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}{path}"), "visitor": visitor,
           "ts": at.to_rfc3339()})
}

/// Logs in at `origin`'s `/dashboard` with the admin token and waits for the page it
/// leads to (the site, or the site picker when there are several).
pub(crate) async fn log_in(browser: &Browser, origin: &str) {
    browser.open(&format!("{origin}/dashboard")).await;
    browser.wait_until("return document.getElementById('token') !== null").await;
    browser.client.find(Locator::Css("#token")).await.unwrap().send_keys(ADMIN).await.unwrap();
    browser.click("form button[type=submit]").await;
    browser
        .wait_until(
            "return document.getElementById('token') === null && document.getElementById('main') !== null \
             && document.readyState == 'complete'",
        )
        .await;
}

/// Opens a dashboard page and waits until every panel has loaded, none failed.
pub(crate) async fn open_dashboard(browser: &Browser, url: &str) {
    browser.open(url).await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(browser.js("return document.querySelectorAll('.panel.failed').length").await, json!(0), "{url}");
}

/// Waits until every line chart has been drawn at its panel's new width.
async fn wait_for_redraw(browser: &Browser) {
    browser
        .wait_until(
            "return [...document.querySelectorAll('svg.chart')].every(c => \
             c.viewBox.baseVal.width == Math.max(240, Math.round(c.parentNode.clientWidth)))",
        )
        .await;
}

/// The axis labels of the line chart in `panel`, as laid out: there are at least three,
/// no two overlap, none leaves the chart, and none is drawn smaller than 10 px.
async fn assert_axis_readable(browser: &Browser, panel: &str) {
    let script = format!(
        "var chart = document.querySelector({});
         var outer = chart.getBoundingClientRect();
         var boxes = [...chart.querySelectorAll('text.tick')].map(t => t.getBoundingClientRect())
           .sort((a, b) => a.left - b.left);
         return {{ticks: boxes.length,
           overlaps: boxes.filter((b, i) => i > 0 && b.left < boxes[i - 1].right).length,
           outside: boxes.filter(b => b.left < outer.left || b.right > outer.right).length,
           smaller_than_10px: boxes.filter(b => b.height < 10).length,
           width: innerWidth}}",
        json!(format!("{panel} svg.chart"))
    );
    let seen = browser.js(&script).await;
    assert!(seen["ticks"].as_u64().unwrap() >= 3, "{panel}: too few axis labels: {seen}");
    assert_eq!(
        (&seen["overlaps"], &seen["outside"], &seen["smaller_than_10px"]),
        (&json!(0), &json!(0), &json!(0)),
        "{panel}: {seen}"
    );
}

/// What a number panel says about the change, as the dashboard words it.
fn change_text(value: usize, before: usize, span: &str) -> String {
    if before == 0 {
        return "no previous data".into();
    }
    let pct = ((value as f64 - before as f64) / before as f64 * 100.0).round() as i64;
    let arrow = match pct {
        1.. => "▲ +",
        ..=-1 => "▼ ",
        0 => "",
    };
    format!("{arrow}{pct}% {span} ({before})")
}

// ---- charts tell the truth -------------------------------------------------------------

#[tokio::test]
async fn charts_draw_only_begun_buckets_today_by_hour_compared_until_the_same_hour() {
    let app = spawn_app().await;
    // Today: a view just after midnight and two at the start of the hour in progress.
    // Yesterday: a view just after midnight, one in the same hour as now, one late at
    // night: only those up to the end of the hour in progress count against today.
    let planted = site_now();
    let (today, yesterday) = (planted.date_naive(), planted.date_naive().pred_opt().unwrap());
    let times: Vec<(&str, Option<DateTime<Tz>>)> = vec![
        ("t0", local(today, 0, 0).map(|at| at + Duration::seconds(30))),
        ("t1", Some(hour_start(planted))),
        ("t2", Some(hour_start(planted))),
        ("y0", local(yesterday, 0, 20)),
        ("y1", local(yesterday, planted.hour(), 10)),
        ("y2", local(yesterday, 23, 50)),
    ];
    let times: Vec<(&str, DateTime<Tz>)> = times.into_iter().filter_map(|(v, at)| Some((v, at?))).collect();
    let mut events: Vec<Value> = times.iter().map(|(visitor, at)| view_at("/launch", visitor, *at)).collect();
    // Today's two sessions from Hacker News differ only in their campaign.
    for (event, campaign) in events[1..3].iter_mut().zip(["launch", "newsletter"]) {
        event["url"] = json!(format!("https://{SITE}/launch?utm_campaign={campaign}"));
        event["referrer"] = json!("https://news.ycombinator.com/item?id=1");
    }
    // The site's first view, two weeks earlier (footfall's install): /launch is new content.
    events.push(view_at("/", "installer", planted - Duration::days(14)));
    app.post_as_admin(CHROME_WINDOWS, &events).await;
    app.wait_for_events(events.len() as u64).await;

    let browser = Browser::launch_with(Prefs { window_height: Some(1600), ..Prefs::default() }).await;
    log_in(&browser, &app.address).await;
    browser.set_viewport(1280, 1600).await;

    // "Today": read the page, then make sure the hour did not change while it was read
    // (the expectations depend on it); read again if it did.
    let mut attempts = 0;
    let (seen, now) = loop {
        let before = site_now();
        open_dashboard(&browser, &format!("{}/dashboard/{SITE}?range=today", app.address)).await;
        let day = before.date_naive().to_string();
        let seen = browser
            .js(&format!(
                "var chart = document.querySelector('#panel-4 svg.chart');
                 var partial = [...chart.querySelectorAll('circle.dot.partial')];
                 return {{interval: chart.dataset.interval, buckets: Number(chart.dataset.buckets),
                   views_dots: chart.querySelectorAll('circle.dot.s0').length,
                   visitors_dots: chart.querySelectorAll('circle.dot.s1').length,
                   partial: partial.map(c => c.dataset.start),
                   partial_says: partial.map(c => c.textContent.includes(' so far, this hour is in progress')),
                   partial_segments: chart.querySelectorAll('polyline.series.partial').length,
                   legend: document.querySelector('#panel-4 .key.partial').textContent,
                   previous_key: document.querySelector('#panel-4 .key.previous').textContent,
                   previous: [...chart.querySelectorAll('circle.previous-dot')].map(c => Number(c.dataset.value)),
                   visitors_change: document.querySelector('#panel-0 .change').textContent,
                   views_change: document.querySelector('#panel-1 .change').textContent,
                   sources: [...document.querySelectorAll('#panel-8 .name')].map(n => n.textContent),
                   asked_by_hour: performance.getEntriesByType('resource').some(e =>
                     e.name.endsWith('/reports/timeseries?from={day}&to={day}&interval=hour&compare=previous'))}}"
            ))
            .await;
        let after = site_now();
        if (before.date_naive(), before.hour()) == (after.date_naive(), after.hour()) {
            break (seen, before);
        }
        attempts += 1;
        assert!(attempts < 3, "the hour changed during every reading");
    };
    let hours = hours_of(now.date_naive());
    let begun: Vec<&DateTime<Tz>> = hours.iter().filter(|start| **start <= now).collect();
    let current = rfc3339(**begun.last().unwrap());
    let views_today = times.iter().filter(|(_, at)| at.date_naive() == now.date_naive()).count();
    let yesterday_now = now.date_naive().pred_opt().unwrap();
    let views_before =
        times.iter().filter(|(_, at)| at.date_naive() == yesterday_now && at.hour() <= now.hour()).count();
    let until = if now.hour() == 23 { "midnight".to_string() } else { format!("{:02}:00", now.hour() + 1) };
    let change = change_text(views_today, views_before, &format!("vs yesterday until {until}"));
    // The overview's line also draws yesterday, hour by hour, over the whole day.
    let previous: Vec<usize> = hours
        .iter()
        .map(|start| {
            times.iter().filter(|(_, at)| at.date_naive() == yesterday_now && at.hour() == start.hour()).count()
        })
        .collect();
    assert_eq!(
        seen,
        json!({
            "interval": "hour", "buckets": hours.len(), "views_dots": begun.len(), "visitors_dots": begun.len(),
            "partial": [current, current], "partial_says": [true, true],
            "partial_segments": if begun.len() > 1 { 2 } else { 0 },
            "legend": "so far (this hour is in progress)",
            "previous_key": "Views, previous period", "previous": previous,
            // Every planted visitor is a different person in a different hour: visitors
            // and views agree.
            "visitors_change": change, "views_change": change, "asked_by_hour": true,
            // Two rows that would both read "news.ycombinator.com / social" say what differs.
            "sources": if now.date_naive() == today {
                json!(["(none) / direct", "news.ycombinator.com / social · utm_campaign=launch",
                       "news.ycombinator.com / social · utm_campaign=newsletter"])
            } else {
                json!([])
            },
        }),
        "today at {now}"
    );
    assert_axis_readable(&browser, "#panel-4").await;
    browser.save_screenshot("dashboard-today-1280").await;
    browser.set_viewport(375, 1600).await;
    wait_for_redraw(&browser).await;
    assert_axis_readable(&browser, "#panel-4").await;
    browser.save_screenshot("dashboard-today-375").await;

    // Views per hour over 7 days (168 buckets, give or take a clock change): readable on a
    // phone and on a laptop.
    open_dashboard(&browser, &format!("{}/dashboard/{SITE}/content?range=7d", app.address)).await;
    let week_hours: usize = (0..7).map(|d| hours_of(site_now().date_naive() - Duration::days(d)).len()).sum();
    assert_eq!(
        browser.js("return document.querySelector('#panel-1 svg.chart').dataset.buckets").await,
        json!(week_hours.to_string()),
        "7 days by hour (167 to 169 hours)"
    );
    assert_axis_readable(&browser, "#panel-1").await;
    browser.set_viewport(1280, 1600).await;
    wait_for_redraw(&browser).await;
    assert_axis_readable(&browser, "#panel-1").await;

    // A range from three days ago to three days ahead: by day, the days to come not drawn,
    // today marked; the previous period has no data, and the page says so. The page first
    // seen yesterday has a curve of two days so far.
    let now = site_now();
    let (from, to) = (now.date_naive() - Duration::days(3), now.date_naive() + Duration::days(3));
    open_dashboard(&browser, &format!("{}/dashboard/{SITE}?from={from}&to={to}", app.address)).await;
    browser.wait_until("return document.querySelectorAll('#panel-7 .sparkline').length == 1").await;
    let seen = browser
        .js("var chart = document.querySelector('#panel-4 svg.chart');
             var spark = document.querySelector('#panel-7 .sparkline');
             return {interval: chart.dataset.interval, buckets: Number(chart.dataset.buckets),
               views_dots: chart.querySelectorAll('circle.dot.s0').length,
               partial: [...chart.querySelectorAll('circle.dot.s0.partial')].map(c => c.dataset.start),
               changes: [0, 1, 2].map(i => document.querySelector('#panel-' + i + ' .change').textContent),
               curve_days: spark.dataset.days, curve_partial: spark.dataset.partial,
               curve_lines: [spark.querySelectorAll('polyline').length, spark.querySelectorAll('polyline.partial').length],
               curve_says: spark.getAttribute('aria-label')}")
        .await;
    let first_seen = times.iter().map(|(_, at)| at.date_naive()).min().unwrap();
    let curve_days = (now.date_naive() - first_seen).num_days() + 1;
    assert_eq!(curve_days, 2, "/launch was first seen yesterday");
    assert_eq!(
        seen,
        json!({
            "interval": "day", "buckets": 7, "views_dots": 4, "partial": [rfc3339(local(now.date_naive(), 0, 0).unwrap())],
            "changes": ["no previous data", "no previous data", "no previous data"],
            "curve_days": "2", "curve_partial": "true",
            // Yesterday to today: one segment, today's, drawn as "so far".
            "curve_lines": [1, 1],
            "curve_says": format!(
                "views per day in the first 7 days: {}, {} (today so far); 5 days still to come",
                times.iter().filter(|(_, at)| at.date_naive() == first_seen).count(),
                times.iter().filter(|(_, at)| at.date_naive() == now.date_naive()).count()
            ),
        })
    );
    browser.quit().await;
}

// ---- small counts explained --------------------------------------------------------------

const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                             (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

#[tokio::test]
async fn the_other_row_says_what_it_holds_and_why() {
    let app = spawn_app_with(|settings| settings.reports.min_visitors = 5).await;
    // Yesterday: /popular seen by 6 people on desktops; /a and /b by one and two people,
    // one of whom (on an iPhone) saw both: (other) counts that person once.
    let yesterday = site_now().date_naive().pred_opt().unwrap();
    let at = |minute| local(yesterday, 12, minute).unwrap();
    let desktop: Vec<Value> =
        (0..6).map(|v| view_at("/popular", &format!("p{v}"), at(v))).chain([view_at("/b", "b1", at(10))]).collect();
    app.post_as_admin(CHROME_WINDOWS, &desktop).await;
    app.post_as_admin(SAFARI_IPHONE, &[view_at("/a", "shared", at(20)), view_at("/b", "shared", at(21))]).await;
    // The site's first view, two weeks earlier (footfall's install): the pages are new content.
    app.post_as_admin(CHROME_WINDOWS, &[view_at("/", "installer", at(0) - Duration::days(14))]).await;
    app.wait_for_events(10).await;
    let top = api(&app, "top-content", &format!("from={yesterday}&to={yesterday}&limit=10")).await;
    assert_eq!(top["small_counts"], json!({"min_visitors": 5, "folded_rows": 2, "other_visitors": "exact"}));
    assert_eq!(top["rows"][1]["path"], "(other)");
    assert_eq!(top["rows"][1]["visitors"], 2, "the person who saw /a and /b counts once");

    let browser = Browser::launch_with(Prefs { window_height: Some(2300), ..Prefs::default() }).await;
    log_in(&browser, &app.address).await;
    open_dashboard(&browser, &format!("{}/dashboard/{SITE}?range=7d", app.address)).await;
    browser.wait_until("return document.querySelectorAll('#panel-7 .sparkline').length == 1").await;
    let seen = browser
        .js("var top = document.querySelector('#panel-6 tr.fold');
             var found = document.querySelector('#panel-7 tr.fold');
             var device = document.querySelector('#panel-9 li.fold');
             var link = top.querySelector('.fold-note a');
             return {
               top: [top.dataset.foldedRows, top.querySelector('th').firstChild.textContent,
                     top.querySelector('.fold-note').textContent],
               top_visitors: top.querySelector('[data-column=visitors]').dataset.value,
               help: document.querySelector('#small-counts-help p').textContent,
               link: [link.getAttribute('href'),
                      document.querySelector(link.getAttribute('href')).textContent.includes('reports.min_visitors')],
               found: [found.querySelector('.fold-note').textContent,
                       found.querySelector('.spark.none').textContent,
                       found.querySelector('.spark.none').dataset.why],
               loading: document.querySelectorAll('[aria-label*=loading]').length,
               device: [device.querySelector('.name').textContent, device.querySelector('.fold-note').textContent]
             }")
        .await;
    assert_eq!(
        seen,
        json!({
            "top": ["2", "(other)",
                    "2 pages with fewer than 5 visitors each, folded to protect privacy (reports.min_visitors)"],
            "top_visitors": "2",
            "help": "So that no row names a page, a source, a device or a country that one person accounts for, rows \
                     with fewer than 5 visitors are added up into one row, (other). Its views are the sums of those \
                     rows; its visitors count each visitor once a day, as the site's total does, however many of the \
                     rows they appear in (over a long range of a busy site they are added up instead, and the number \
                     says so when you point at it). The threshold is the collector's setting reports.min_visitors \
                     (FOOTFALL_REPORTS__MIN_VISITORS, default 5; 0 or 1 turns folding off), described in footfall's \
                     docs/configuration.md and docs/reports.md (\"Small counts\").",
            "link": ["#small-counts-help", true],
            "found": ["2 new pages with fewer than 5 visitors each in the first 7 days, folded to protect privacy \
                       (reports.min_visitors)",
                      "—no curve: (other) adds up 2 new pages; a curve is drawn per page, and (other) is not one",
                      "(other) adds up 2 new pages; a curve is drawn per page, and (other) is not one"],
            "loading": 0,
            "device": ["(other)", "1 browser, system and device combination with fewer than 5 visitors, folded to \
                       protect privacy (reports.min_visitors)"],
        })
    );
    browser.set_viewport(1280, 2300).await;
    wait_for_redraw(&browser).await;
    browser.save_screenshot("dashboard-small-counts-1280").await;
    browser.set_viewport(375, 2300).await;
    wait_for_redraw(&browser).await;
    browser.save_screenshot("dashboard-small-counts-375").await;
    browser.quit().await;
}

// ---- filters --------------------------------------------------------------------------------

#[tokio::test]
async fn clicking_a_row_filters_the_whole_dashboard_and_its_chip_removes_the_filter() {
    let app = spawn_app_with(|settings| settings.reports.min_visitors = 5).await;
    // Yesterday: /a by six people on Windows, /b by seven on an iPhone.
    let yesterday = site_now().date_naive().pred_opt().unwrap();
    let at = |minute| local(yesterday, 12, minute).unwrap();
    let a: Vec<Value> = (0..6).map(|v| view_at("/a", &format!("a{v}"), at(v))).collect();
    let b: Vec<Value> = (0..7).map(|v| view_at("/b", &format!("b{v}"), at(10 + v))).collect();
    app.post_as_admin(CHROME_WINDOWS, &a).await;
    app.post_as_admin(SAFARI_IPHONE, &b).await;
    app.wait_for_events(13).await;

    let browser = Browser::launch_with(Prefs { window_height: Some(2300), ..Prefs::default() }).await;
    log_in(&browser, &app.address).await;
    open_dashboard(&browser, &format!("{}/dashboard/{SITE}?range=7d", app.address)).await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 13.0, "visitors before filtering");
    assert_eq!(browser.js("return document.getElementById('filters').hidden").await, json!(true));

    // Click /a in top content: every panel shows /a's numbers, a chip says so.
    browser.click("#panel-6 a.filter-by[href*='page=%2Fa']").await;
    browser.wait_until("return location.search.includes('page=%2Fa') && document.readyState == 'complete'").await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(browser.js("return document.querySelectorAll('.panel.failed').length").await, json!(0));
    let seen = browser
        .js("return {
               chips: [...document.querySelectorAll('#filters .chip')].map(c => c.textContent),
               pages: [...document.querySelectorAll('#panel-6 tbody th')].map(c => c.textContent),
               browsers: [...document.querySelectorAll('#panel-9 .name')].map(c => c.textContent),
               range: new URLSearchParams(location.search).get('range')
             }")
        .await;
    assert_eq!(
        seen,
        json!({"chips": ["page = /a ×"], "pages": ["/a"], "browsers": ["desktop / Chrome / Windows"], "range": "7d"})
    );
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 6.0, "visitors of /a");
    browser.save_screenshot("dashboard-filtered-1280").await;

    // Another range keeps the filter; the chip removes it.
    browser.click("[data-range='30d']").await;
    browser.wait_until("return location.search.includes('range=30d') && location.search.includes('page=%2Fa')").await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    browser.click("#filters .chip[data-filter='page']").await;
    browser.wait_until("return !location.search.includes('page=') && document.readyState == 'complete'").await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 13.0, "visitors without the filter");
    assert_eq!(browser.js("return document.getElementById('filters').hidden").await, json!(true));
    browser.quit().await;
}

#[tokio::test]
async fn a_share_link_that_locks_a_filter_shows_it_locked_and_keeps_it_whatever_the_url_says() {
    let app = spawn_app().await;
    // Yesterday: /a by three people on Windows and one on an iPhone, /b by two and two.
    let yesterday = site_now().date_naive().pred_opt().unwrap();
    let at = |minute| local(yesterday, 12, minute).unwrap();
    let desktop: Vec<Value> =
        (0..5).map(|v| view_at(if v < 3 { "/a" } else { "/b" }, &format!("d{v}"), at(v))).collect();
    let mobile: Vec<Value> =
        (0..3).map(|v| view_at(if v < 1 { "/a" } else { "/b" }, &format!("m{v}"), at(10 + v))).collect();
    app.post_as_admin(CHROME_WINDOWS, &desktop).await;
    app.post_as_admin(SAFARI_IPHONE, &mobile).await;
    app.wait_for_events(8).await;
    let new = footfall::auth::new_token();
    let locked = LockedFilters::from_args(&["device=desktop".into()]).unwrap();
    let record = TokenRecord {
        id: new.id,
        site: SITE.into(),
        hash: new.hash,
        label: String::new(),
        created_at: 0,
        kind: TokenKind::ShareLink,
        locked_filters: locked.to_query(),
    };
    app.store.put_token(&record).await.unwrap();

    // The link opens the overview with desktop visitors only, the filter a locked chip.
    let browser = Browser::launch_with(Prefs { window_height: Some(2300), ..Prefs::default() }).await;
    open_dashboard(&browser, &format!("{}/dashboard/share?token={}", app.address, new.token)).await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 5.0, "desktop visitors (8 in all)");
    let chips = "return [...document.querySelectorAll('#filters .chip')].map(c => ({tag: c.tagName, \
                 filter: c.dataset.filter, locked: c.dataset.locked || null, text: c.textContent, \
                 controls: c.querySelectorAll('a, button').length}))";
    let locked_chip = json!({"tag": "SPAN", "filter": "device", "locked": "true", "text": "device = desktop locked",
                             "controls": 0});
    assert_eq!(browser.js(chips).await, json!([locked_chip]));
    // Its rows offer no other device, and another filter can still be added and removed.
    assert_eq!(
        browser.js("return document.querySelectorAll('#panel-9 a.filter-by[href*=\"device=\"]').length").await,
        json!(0)
    );
    browser.click("#panel-6 a.filter-by[href*='page=%2Fa']").await;
    browser.wait_until("return location.search.includes('page=%2Fa') && document.readyState == 'complete'").await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 3.0, "desktop visitors of /a");
    let page_chip = json!({"tag": "A", "filter": "page", "locked": null, "text": "page = /a ×", "controls": 0});
    assert_eq!(browser.js(chips).await, json!([locked_chip, page_chip]));
    browser.save_screenshot("dashboard-share-locked-1280").await;
    browser.click("#filters a.chip[data-filter='page']").await;
    browser.wait_until("return !location.search.includes('page=') && document.readyState == 'complete'").await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 5.0);

    // A script drops the filter from the URL, or gives it another value: still desktop
    // only; the reports refuse another value and answer desktop numbers without one.
    open_dashboard(&browser, &format!("{}/dashboard/{SITE}?range=7d&device=mobile", app.address)).await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, 5.0, "the URL cannot change a locked filter");
    assert_eq!(browser.js(chips).await, json!([locked_chip]));
    let asked = browser
        .js(&format!(
            "const url = '/dashboard/api/sites/{SITE}/reports/timeseries?from={yesterday}&to={yesterday}';
             const get = q => fetch(url + q).then(r => r.json().then(b => [r.status, b]));
             return Promise.all([get(''), get('&device=mobile'), get('&device=%21desktop')]).then(([all, other, not]) =>
               ({{visitors: all[1].rows.reduce((n, r) => n + r.visitors, 0), filters: all[1].filters,
                  other: [other[0], other[1].field], not: [not[0], not[1].field]}}))"
        ))
        .await;
    assert_eq!(
        asked,
        json!({"visitors": 5, "filters": {"device": "desktop"}, "other": [403, "device"], "not": [403, "device"]})
    );
    browser.quit().await;
}

// ---- goals and funnels ------------------------------------------------------------------------

/// A dashboard of conversions: the site's goals, funnel `Buy`, and funnel `Nope`, which
/// the site never defines.
const CONVERSIONS: &str = r#"title = "Conversions"
order = 5

[[panels]]
title = "Goals"
report = "goals"
visual = "table"
columns = ["name", "conversions", "visitors", "conversion_rate"]

[[panels]]
title = "Buy"
report = "funnel"
params = { funnel = "Buy" }
visual = "funnel"

[[panels]]
title = "Not defined"
report = "funnel"
params = { funnel = "Nope" }
visual = "funnel"
"#;

#[tokio::test]
async fn goal_and_funnel_panels_show_the_reports_numbers_and_say_how_to_define_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conversions.toml"), CONVERSIONS).unwrap();
    let dashboards = dir.path().to_path_buf();
    let app = spawn_app_with(move |settings| settings.dashboards_dir = dashboards).await;
    // Yesterday: four people see /pricing, two of them sign up after it; two others see /.
    let yesterday = site_now().date_naive().pred_opt().unwrap();
    let at = |minute| local(yesterday, 12, minute).unwrap();
    let mut events: Vec<Value> = (0..4).map(|v| view_at("/pricing", &format!("p{v}"), at(v))).collect();
    events.extend((0..2).map(|v| view_at("/", &format!("h{v}"), at(10 + v))));
    events.extend((0..2).map(|v| {
        json!({"site": SITE, "name": "signup", "url": format!("https://{SITE}/pricing"), "visitor": format!("p{v}"),
               "ts": at(30 + v).to_rfc3339()})
    }));
    app.post_as_admin(CHROME_WINDOWS, &events).await;
    app.wait_for_events(8).await;
    let browser = Browser::launch_with(Prefs { window_height: Some(1200), ..Prefs::default() }).await;
    log_in(&browser, &app.address).await;
    browser.set_viewport(1280, 1200).await;
    let page = format!("{}/dashboard/{SITE}/conversions?range=7d", app.address);
    let explained = "return [...document.querySelectorAll('[data-explained]')].map(p => [p.closest('section').id, \
                     p.dataset.explained, p.textContent])";

    // No goals yet: each panel says how to define what it shows, none is an error.
    open_dashboard(&browser, &page).await;
    assert_eq!(
        browser.js(explained).await,
        json!([
            [
                "panel-0",
                "no-goals",
                "This site has no goals yet. Define one with footfall goals add --site example.com \
              \"Signed up\" --event signup (a custom event) or --page \"/thanks*\" (pages; * matches any characters)."
            ],
            [
                "panel-1",
                "no-funnel",
                "`funnel` names no funnel of this site: `Buy`; `footfall funnels list --site SITE` \
              lists them. Define it with footfall funnels add --site example.com \"Buy\" GOAL GOAL… (2 to 8 goals in \
              order, each from footfall goals add)."
            ],
            [
                "panel-2",
                "no-funnel",
                "`funnel` names no funnel of this site: `Nope`; `footfall funnels list --site SITE` \
              lists them. Define it with footfall funnels add --site example.com \"Nope\" GOAL GOAL… (2 to 8 goals in \
              order, each from footfall goals add)."
            ]
        ])
    );

    let goal = |name: &str, target| Goal { site: SITE.into(), name: GoalName::parse(name).unwrap(), target };
    app.store.put_goal(&goal("Pricing", Target::page("/pricing").unwrap())).await.unwrap();
    app.store.put_goal(&goal("Signed up", Target::event("signup").unwrap())).await.unwrap();
    let steps = vec![GoalName::parse("Pricing").unwrap(), GoalName::parse("Signed up").unwrap()];
    app.store.put_funnel(&Funnel::new(SITE, GoalName::parse("Buy").unwrap(), steps).unwrap()).await.unwrap();

    // Six visitors: 4 reached Pricing (67%), 2 signed up (33%); the funnel keeps 2 of 4.
    open_dashboard(&browser, &page).await;
    let seen = browser
        .js("return {
               goals: [...document.querySelectorAll('#panel-0 tbody tr')].map(r => [...r.children].map(c => c.textContent)),
               heads: [...document.querySelectorAll('#panel-0 thead th')].map(c => c.textContent),
               steps: [...document.querySelectorAll('#panel-1 li')].map(li => [li.dataset.step,
                 li.querySelector('.name').textContent, li.querySelector('.value').dataset.value,
                 li.querySelector('.value').textContent, li.querySelector('.drop') && li.querySelector('.drop').textContent]),
               widths: [...document.querySelectorAll('#panel-1 rect')].map(r => r.getAttribute('width')),
               missing: document.querySelector('#panel-2 [data-explained]').dataset.explained
             }")
        .await;
    assert_eq!(
        seen,
        json!({
            "goals": [["Pricing", "4", "4", "67%"], ["Signed up", "2", "2", "33%"]],
            "heads": ["Name", "Conversions", "Visitors", "Conversion rate"],
            "steps": [["1", "1. Pricing", "4", "4", null], ["2", "2. Signed up", "2", "2 (50%)", "−2 (50%) dropped off"]],
            "widths": ["100", "50"],
            "missing": "no-funnel"
        })
    );
    browser.save_screenshot("dashboard-goals-funnel-1280").await;
    browser.quit().await;
}

// ---- the empty state and the site picker -----------------------------------------------------

#[tokio::test]
async fn the_empty_state_uses_the_pages_origin_and_the_picker_filters_sites() {
    let zones = ["America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin", "UTC"];
    let extra: Vec<Site> =
        (1..=11).map(|i| Site::new(&format!("site{i:02}.example.org"), zones[i % zones.len()], &[]).unwrap()).collect();
    let app = spawn_app_with_sites(&extra, |_| {}).await;
    // Opened as localhost, not 127.0.0.1: the snippet must name the address in use.
    let origin = app.address.replace("127.0.0.1", "localhost");
    let browser = Browser::launch_with(Prefs { window_height: Some(1400), ..Prefs::default() }).await;
    log_in(&browser, &origin).await;
    browser.set_viewport(1280, 1400).await;

    // Twelve sites: a table with each one's time zone and dashboards, and a filter box.
    let rows = "return [...document.querySelectorAll('table.sites tbody tr')].filter(r => !r.hidden)\
                .map(r => [...r.children].map(c => c.textContent))";
    let all = browser.js(rows).await;
    assert_eq!(all.as_array().unwrap().len(), 12);
    assert_eq!(all[0], json!(["example.com", "Europe/London", "OverviewContent"]));
    assert_eq!(browser.js("return document.getElementById('site-filter-count').textContent").await, json!("12 sites"));
    browser.client.find(Locator::Css("#site-filter")).await.unwrap().send_keys("tokyo").await.unwrap();
    browser.wait_until("return document.getElementById('site-filter-count').textContent == '3 of 12 sites'").await;
    assert_eq!(
        browser.js(rows).await,
        json!([
            ["site01.example.org", "Asia/Tokyo", "OverviewContent"],
            ["site06.example.org", "Asia/Tokyo", "OverviewContent"],
            ["site11.example.org", "Asia/Tokyo", "OverviewContent"]
        ])
    );
    browser.save_screenshot("dashboard-sites-1280").await;

    // A site without events: the snippet points at this page's origin, and the two usual
    // causes of missing events are named.
    open_dashboard(&browser, &format!("{origin}/dashboard/{SITE}")).await;
    browser.wait_until("return !document.getElementById('empty').hidden").await;
    let seen = browser
        .js("return [document.querySelector('#empty code').textContent,
                     ...[...document.querySelectorAll('#empty .causes li')].map(li => li.dataset.cause + ': ' + li.textContent)]")
        .await;
    assert_eq!(
        seen,
        json!([
            format!("<script defer src=\"{origin}/js/footfall.js\" data-site=\"{SITE}\"></script>"),
            "bot: An automated or headless browser is dropped as a bot. Puppeteer, Playwright, Selenium and \
             HeadlessChrome are answered 202 and nothing is stored; test with an ordinary browser.",
            format!(
                "origin: The page must be on the site's own domain. Events are accepted from pages on {SITE} (and its \
                 subdomains or the origins allowed for it); a page at 127.0.0.1 for a site registered as localhost is \
                 refused (403), so open it as http://localhost/… or register the name you use."
            ),
        ])
    );
    browser.set_viewport(375, 1400).await;
    browser.save_screenshot("dashboard-empty-375").await;
    browser.quit().await;
}

// ---- where did my events go ----------------------------------------------------------------

const HEADLESS_CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                               HeadlessChrome/131.0.0.0 Safari/537.36";

#[tokio::test]
async fn a_site_without_stored_events_says_where_its_events_went() {
    let app = spawn_app_with(|settings| settings.ingest.not_stored_write_secs = 0.1).await;
    let send = |user_agent: &'static str, url: &'static str| {
        app.http
            .post(format!("{}/api/event", app.address))
            .header("User-Agent", user_agent)
            .json(&json!({"site": SITE, "name": "pageview", "url": url}))
            .send()
    };
    // The two usual first tests that store nothing: an automated browser, and a page
    // opened at 127.0.0.1.
    assert_eq!(send(HEADLESS_CHROME, "https://example.com/").await.unwrap().status(), 202);
    assert_eq!(send(CHROME_WINDOWS, "http://127.0.0.1:8000/").await.unwrap().status(), 403);
    let today = site_now().date_naive();
    let range = format!("from={today}&to={today}");
    crate::helpers::eventually("both are counted as not stored", || async {
        api(&app, "not-stored", &range).await["rows"].as_array().is_some_and(|rows| rows.len() == 2)
    })
    .await;

    let browser = Browser::launch_with(Prefs { window_height: Some(1400), ..Prefs::default() }).await;
    log_in(&browser, &app.address).await;
    open_dashboard(&browser, &format!("{}/dashboard/{SITE}?range=today", app.address)).await;
    let rows = browser
        .js("var section = [...document.querySelectorAll('section.panel')]\
                 .find(s => s.querySelector('h2').textContent == 'Events not stored');\
             return [...section.querySelectorAll('tbody tr')].map(r =>\
                 [...r.querySelectorAll('[data-column]')].map(c => c.dataset.value))")
        .await;
    assert_eq!(rows[0][0], "bot");
    assert_eq!(rows[0][1], "1");
    assert!(rows[0][2].as_str().unwrap().contains("headless browser"), "{rows}");
    assert_eq!(rows[1][0], "foreign_origin");
    assert_eq!(rows[1][1], "1");
    assert!(rows[1][2].as_str().unwrap().contains("127.0.0.1"), "{rows}");
    // The empty state points at the panel.
    let link = browser.js("return document.querySelector('#empty .where a').getAttribute('href')").await;
    let section = browser
        .js("return [...document.querySelectorAll('section.panel')]                 .find(s => s.querySelector('h2').textContent == 'Events not stored').id")
        .await;
    assert_eq!(link, json!(format!("#{}", section.as_str().unwrap())));
    browser.save_screenshot("dashboard-not-stored-1280").await;
    browser.quit().await;
}
