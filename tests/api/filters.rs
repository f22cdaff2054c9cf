//! Filters on every report (issue 19): each filter, given and negated, against numbers
//! worked out by hand on a fixture where every filter changes the answer; the filters a
//! day summary has columns for answer the same from summaries; content-discovery counts
//! its windows with filters `page_views` has and with those it lacks; a filter on a
//! report that takes none is a 400, and a new filter matching too few visitors a 403.
//!
//! The fixture, one day (2026-03-10; London is on UTC then), four visitors, seven
//! pageviews (P1..P7), three custom events:
//!
//! | view | visitor | session | path | entry | hostname | source_class | referrer_host | utm_* | country | browser | os | device | screen |
//! |---|---|---|---|---|---|---|---|---|---|---|---|---|---|
//! | P1 | 1 | 11 | / | 1 | example.com | direct | | | GB | Chrome | Windows | desktop | desktop |
//! | P2 | 1 | 11 | /blog/a | 0 | example.com | internal | example.com | | GB | Chrome | Windows | desktop | desktop |
//! | P3 | 2 | 21 | /blog/a | 1 | blog.example.com | search | www.google.com | news, email, spring, banner, shoes | US | Safari | iOS | mobile | mobile |
//! | P4 | 2 | 21 | /blog/b | 0 | blog.example.com | internal | blog.example.com | | US | Safari | iOS | mobile | mobile |
//! | P5 | 3 | 31 | /about | 1 | example.com | social | t.co | | FR | Firefox | Linux | desktop | laptop |
//! | P6 | 4 | 41 | /blog/b | 1 | example.com | other | news.ycombinator.com | hn, link, launch | US | Chrome | Android | mobile | mobile |
//! | P7 | 4 | 42 | / | 1 | example.com | direct | | | US | Chrome | Android | mobile | mobile |
//!
//! Custom events: visitor 1 `signup` {plan: pro}, visitor 2 `signup` {plan: free},
//! visitor 4 `download` {plan: pro}; and visitor 3 `signup` on the next day, outside the
//! range. /blog/a and /blog/b are published at 08:00 that day (content-discovery's pages).

use chrono::{NaiveDateTime, Utc};
use footfall::auth::{TokenKind, TokenRecord};
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{eventually_matches, spawn_app_with, TestApp, SITE};
use crate::reports::{get_report, ADMIN};

const DAY: &str = "from=2026-03-10&to=2026-03-10";

fn at(ts: &str) -> u32 {
    NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp() as u32
}

/// A pageview of `visitor` in `session` at `ts` on `path`, from a desktop Chrome in GB.
fn view(ts: &str, visitor: u64, session: u64, path: &str) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts: at(ts),
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        source_class: "direct".into(),
        visitor,
        session,
        entry: 1,
        browser: "Chrome".into(),
        os: "Windows".into(),
        device: "desktop".into(),
        screen: "desktop".into(),
        country: "GB".into(),
        published: path.starts_with("/blog/").then(|| at("2026-03-10 08:00")),
        ..EventRow::default()
    }
}

fn custom(ts: &str, visitor: u64, name: &str, plan: &str) -> EventRow {
    EventRow {
        name: name.into(),
        entry: 0,
        published: None,
        prop_keys: vec!["plan".into()],
        prop_values: vec![plan.into()],
        ..view(ts, visitor, visitor * 10 + 1, "/")
    }
}

fn fixture() -> Vec<EventRow> {
    let internal = |row: EventRow, host: &str| EventRow {
        entry: 0,
        source_class: "internal".into(),
        referrer_host: host.into(),
        ..row
    };
    let visitor_2 = |row: EventRow| EventRow {
        hostname: "blog.example.com".into(),
        country: "US".into(),
        browser: "Safari".into(),
        os: "iOS".into(),
        device: "mobile".into(),
        screen: "mobile".into(),
        ..row
    };
    let visitor_4 = |row: EventRow| EventRow {
        country: "US".into(),
        os: "Android".into(),
        device: "mobile".into(),
        screen: "mobile".into(),
        ..row
    };
    vec![
        view("2026-03-10 09:00", 1, 11, "/"),
        internal(view("2026-03-10 09:05", 1, 11, "/blog/a"), SITE),
        visitor_2(EventRow {
            source_class: "search".into(),
            referrer_host: "www.google.com".into(),
            utm_source: "news".into(),
            utm_medium: "email".into(),
            utm_campaign: "spring".into(),
            utm_content: "banner".into(),
            utm_term: "shoes".into(),
            ..view("2026-03-10 10:00", 2, 21, "/blog/a")
        }),
        visitor_2(internal(view("2026-03-10 10:02", 2, 21, "/blog/b"), "blog.example.com")),
        EventRow {
            source_class: "social".into(),
            referrer_host: "t.co".into(),
            country: "FR".into(),
            browser: "Firefox".into(),
            os: "Linux".into(),
            screen: "laptop".into(),
            ..view("2026-03-10 11:00", 3, 31, "/about")
        },
        visitor_4(EventRow {
            source_class: "other".into(),
            referrer_host: "news.ycombinator.com".into(),
            utm_source: "hn".into(),
            utm_medium: "link".into(),
            utm_campaign: "launch".into(),
            ..view("2026-03-10 12:00", 4, 41, "/blog/b")
        }),
        visitor_4(view("2026-03-10 13:00", 4, 42, "/")),
        custom("2026-03-10 09:06", 1, "signup", "pro"),
        visitor_2(custom("2026-03-10 10:03", 2, "signup", "free")),
        visitor_4(custom("2026-03-10 13:01", 4, "download", "pro")),
        custom("2026-03-11 09:00", 3, "signup", "pro"),
    ]
}

/// An app with the fixture, folding and the filter check off, the summarizer not running.
async fn app() -> TestApp {
    let app = spawn_app_with(|settings| {
        settings.reports.min_visitors = 0;
        settings.reports.summarize_every_secs = 0;
    })
    .await;
    app.store.insert_events(&fixture()).await.expect("the fixture is stored");
    app
}

async fn report(app: &TestApp, name: &str, query: &str) -> (u16, Value) {
    let response = get_report(app, name, query).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("the report answers JSON"))
}

/// (views, visitors) of the day in timeseries with `filter` (URL-encoded).
async fn day_totals(app: &TestApp, filter: &str) -> (u64, u64) {
    let (status, answer) = report(app, "timeseries", &format!("{DAY}&{filter}")).await;
    assert_eq!(status, 200, "{filter}: {answer}");
    let row = &answer["rows"][0];
    (row["views"].as_u64().unwrap(), row["visitors"].as_u64().unwrap())
}

/// Asserts `filter=value` and `filter=!value` give `kept` and `rest` as (views, visitors).
async fn assert_filter(name: &str, value: &str, kept: (u64, u64), rest: (u64, u64)) {
    let app = app().await;
    assert_eq!(day_totals(&app, "").await, (7, 4), "unfiltered");
    assert_eq!(day_totals(&app, &format!("{name}={value}")).await, kept, "{name}={value}");
    assert_eq!(day_totals(&app, &format!("{name}=!{value}")).await, rest, "{name}=!{value}");
}

#[tokio::test]
async fn path_keeps_the_pageviews_under_a_prefix() {
    assert_filter("path", "%2Fblog", (4, 3), (3, 3)).await; // P2 P3 P4 P6; P1 P5 P7
}

#[tokio::test]
async fn page_keeps_the_pageviews_of_one_path() {
    assert_filter("page", "%2Fblog%2Fb", (2, 2), (5, 4)).await; // P4 P6; the others
}

#[tokio::test]
async fn entry_keeps_the_sessions_that_began_on_a_page() {
    assert_filter("entry", "%2Fblog%2Fa", (2, 1), (5, 3)).await; // session 21: P3 P4
}

#[tokio::test]
async fn hostname_keeps_the_pageviews_on_a_host() {
    assert_filter("hostname", "blog.example.com", (2, 1), (5, 3)).await; // P3 P4
}

#[tokio::test]
async fn source_keeps_a_class_or_a_referrer_host() {
    assert_filter("source", "internal", (2, 2), (5, 4)).await; // P2 P4
    let app = app().await;
    assert_eq!(day_totals(&app, "source=t.co").await, (1, 1), "P5");
}

#[tokio::test]
async fn source_class_keeps_one_class() {
    assert_filter("source_class", "direct", (2, 2), (5, 4)).await; // P1 P7
}

#[tokio::test]
async fn utm_source_keeps_its_value() {
    assert_filter("utm_source", "hn", (1, 1), (6, 4)).await; // P6
}

#[tokio::test]
async fn utm_medium_keeps_its_value() {
    assert_filter("utm_medium", "email", (1, 1), (6, 4)).await; // P3
}

#[tokio::test]
async fn utm_campaign_keeps_its_value() {
    assert_filter("utm_campaign", "launch", (1, 1), (6, 4)).await; // P6
}

#[tokio::test]
async fn utm_content_keeps_its_value() {
    assert_filter("utm_content", "banner", (1, 1), (6, 4)).await; // P3
}

#[tokio::test]
async fn utm_term_keeps_its_value() {
    assert_filter("utm_term", "shoes", (1, 1), (6, 4)).await; // P3
}

#[tokio::test]
async fn country_keeps_one_country() {
    assert_filter("country", "US", (4, 2), (3, 2)).await; // P3 P4 P6 P7
}

#[tokio::test]
async fn browser_keeps_one_browser() {
    assert_filter("browser", "Chrome", (4, 2), (3, 2)).await; // P1 P2 P6 P7
}

#[tokio::test]
async fn os_keeps_one_operating_system() {
    assert_filter("os", "iOS", (2, 1), (5, 3)).await; // P3 P4
}

#[tokio::test]
async fn device_keeps_one_device_class() {
    assert_filter("device", "mobile", (4, 2), (3, 2)).await; // P3 P4 P6 P7
}

#[tokio::test]
async fn screen_keeps_one_screen_class() {
    assert_filter("screen", "laptop", (1, 1), (6, 3)).await; // P5
}

#[tokio::test]
async fn event_keeps_the_visitors_who_sent_it_in_the_range() {
    // Visitors 1 and 2; visitor 3's signup is on the next day.
    assert_filter("event", "signup", (4, 2), (3, 2)).await;
}

#[tokio::test]
async fn prop_keeps_the_visitors_who_sent_the_property_value_in_the_range() {
    // Visitors 1 and 4 (visitor 3's `pro` is on the next day).
    assert_filter("prop.plan", "pro", (4, 2), (3, 2)).await;
    let app = app().await;
    assert_eq!(day_totals(&app, "prop.tier=pro").await, (0, 0), "no event has a property `tier`");
}

#[tokio::test]
async fn filters_combine_and_the_answer_names_them() {
    let app = app().await;
    assert_eq!(day_totals(&app, "page=!%2F&country=US").await, (3, 2), "P3 P4 P6");
    let (_, answer) = report(&app, "timeseries", &format!("{DAY}&prop.plan=pro&country=!US&path=%2F")).await;
    assert_eq!(answer["filters"], json!({"path": "/", "country": "!US", "prop.plan": "pro"}));
    assert_eq!(answer["rows"][0]["views"], 2, "P1 P2: visitor 1");
}

/// The breakdown rows of `report` with `filter`, as (first column, views or sessions).
async fn rows(app: &TestApp, name: &str, filter: &str) -> Vec<(String, u64)> {
    let (status, answer) = report(app, name, &format!("{DAY}&{filter}")).await;
    assert_eq!(status, 200, "{name}?{filter}: {answer}");
    let first = match name {
        "top-content" => "path",
        "sources" => "referrer_host",
        "devices" => "os",
        _ => "country",
    };
    let count = if name == "sources" { "sessions" } else { "views" };
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row[first].as_str().unwrap().to_string(), row[count].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn summaries_answer_the_filters_they_have_columns_for_as_events_do() {
    let app = app().await;
    let cases = [
        ("top-content", "page=!%2Fblog%2Fa", vec![("/".to_string(), 2), ("/blog/b".into(), 2), ("/about".into(), 1)]),
        ("sources", "utm_source=news", vec![("www.google.com".into(), 1)]),
        (
            "sources",
            "source_class=!direct",
            vec![("news.ycombinator.com".into(), 1), ("t.co".into(), 1), ("www.google.com".into(), 1)],
        ),
        ("devices", "browser=Chrome&device=!desktop", vec![("Android".into(), 2)]),
        ("countries", "country=!US", vec![("GB".into(), 2), ("FR".into(), 1)]),
    ];
    for (name, filter, expected) in &cases {
        assert_eq!(&rows(&app, name, filter).await, expected, "{name}?{filter} from events");
    }
    let summarized = footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap();
    assert_eq!(summarized, 2, "the fixture's two days");
    for (name, filter, expected) in &cases {
        assert_eq!(&rows(&app, name, filter).await, expected, "{name}?{filter} from summaries");
    }
}

#[tokio::test]
async fn content_discovery_counts_its_windows_with_every_filter() {
    let app = app().await;
    let windows = |answer: Value| -> Vec<(String, u64)> {
        let rows = answer["rows"].as_array().unwrap().clone();
        rows.iter().map(|row| (row["path"].as_str().unwrap().to_string(), row["views_7d"].as_u64().unwrap())).collect()
    };
    let discovery = |filter: &'static str| {
        let app = &app;
        async move {
            let (status, answer) = report(app, "content-discovery", &format!("{DAY}&{filter}")).await;
            assert_eq!(status, 200, "{filter}: {answer}");
            windows(answer)
        }
    };
    assert_eq!(discovery("").await, [("/blog/a".to_string(), 2), ("/blog/b".into(), 2)]);
    // page_views has the columns of these.
    assert_eq!(discovery("event=signup").await, [("/blog/a".to_string(), 2), ("/blog/b".into(), 1)]);
    assert_eq!(discovery("page=!%2Fblog%2Fa").await, [("/blog/b".to_string(), 2)]);
    // It has no country: events answer.
    assert_eq!(discovery("country=US").await, [("/blog/a".to_string(), 1), ("/blog/b".into(), 2)]);
    assert_eq!(discovery("entry=%2Fblog%2Fa").await, [("/blog/a".to_string(), 1), ("/blog/b".into(), 1)]);
}

#[tokio::test]
async fn a_filter_on_a_report_that_takes_none_is_refused() {
    let app = app().await;
    let (status, answer) = report(&app, "not-stored", &format!("{DAY}&country=!US")).await;
    assert_eq!(status, 400);
    assert_eq!(answer["field"], "country");
    let (status, answer) = report(&app, "top-content", &format!("{DAY}&prop=pro")).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("prop")), "a property needs its name: prop.KEY");
    let (status, answer) = report(&app, "top-content", &format!("{DAY}&device=phone")).await;
    assert_eq!((status, answer["field"].as_str()), (400, Some("device")));
}

#[tokio::test]
async fn a_new_filter_matching_too_few_visitors_is_refused_to_a_report_token() {
    // Arrange: the filter check on (5 visitors), a read-only token.
    let app = spawn_app_with(|settings| {
        settings.reports.min_visitors = 5;
        settings.reports.summarize_every_secs = 0;
    })
    .await;
    let mut events = fixture();
    // Five more visitors from GB, so country=GB passes (visitor 1 and these).
    events.extend((100..105).map(|visitor| view("2026-03-10 15:00", visitor, visitor * 10, "/")));
    app.store.insert_events(&events).await.unwrap();
    let new = footfall::auth::new_token();
    let record = TokenRecord {
        id: new.id,
        site: SITE.into(),
        hash: new.hash,
        label: "filters".into(),
        created_at: 0,
        kind: TokenKind::Report,
        locked_filters: String::new(),
    };
    app.store.put_token(&record).await.unwrap();
    let get = |filter: &'static str, token: &'static str| {
        let (app, token) = (&app, if token == "admin" { ADMIN.to_string() } else { new.token.clone() });
        async move {
            let url = format!("{}/api/v1/sites/{SITE}/reports/timeseries?{DAY}&{filter}", app.address);
            let response = app.http.get(url).bearer_auth(token).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    eventually_matches("the token's answer", |(status, _)| *status == 200, || get("", "report")).await;

    // Act and assert
    let too_few = [
        ("country=US", "country"),                            // visitors 2 and 4
        ("event=signup", "event"),                            // 1 and 2
        ("prop.plan=pro&device=desktop", "device,prop.plan"), // 1
        ("entry=%2Fblog%2Fa", "entry"),                       // 2
    ];
    for (filter, field) in too_few {
        let (status, answer) = get(filter, "report").await;
        assert_eq!((status, &answer["field"]), (403, &json!(field)), "{filter}: {answer}");
        assert_eq!(get(filter, "admin").await.0, 200, "{filter}: the admin token is exempt");
    }
    // Negated, the same filter keeps enough: all but visitor 2 (desktop: 1, 3, 100..104).
    let (status, answer) = get("prop.plan=!free&device=desktop", "report").await;
    assert_eq!((status, &answer["rows"][0]["visitors"]), (200, &json!(7)), "{answer}");
    let (status, answer) = get("country=GB", "report").await;
    assert_eq!((status, &answer["rows"][0]["visitors"]), (200, &json!(6)), "{answer}");
}
