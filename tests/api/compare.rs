//! Period comparison (issue 19): `compare=previous` and `compare=year` against numbers
//! worked out by hand on one fixture across London's spring DST change, with small-count
//! folding at 2 visitors (`K`).
//!
//! The range R is 2026-03-29 (Sunday, 23 hours: 01:00 is skipped) to 2026-04-04. Its
//! `previous` range P is 2026-03-22..28 (GMT throughout); its `year` range Y is
//! 2025-03-29..2025-04-04, where the clocks went forward on 2025-03-30. Times below are
//! UTC; every pageview begins a session (direct), custom events do not.
//!
//! | range | event | visitor | path |
//! |---|---|---|---|
//! | R | pageview 2026-03-29 00:30 (00:30 GMT), signup 00:35 | 1 | /home |
//! | R | pageview 2026-03-29 01:30 (02:30 BST), signup 01:35 | 2 | /home |
//! | R | pageview 2026-03-30 00:30 (01:30 BST) | 3 | /home |
//! | R | pageview 2026-03-31 09:00, 09:10; signup by 4 at 09:05 | 4, 5 | /new |
//! | R | pageview 2026-04-01 09:00, 09:10; download by 6 at 09:05 | 6, 7 | /rare |
//! | R | pageview 2026-04-02 09:00 / 09:10 | 8 / 9 | /x / /y |
//! | P | pageview 2026-03-27 00:30, signup 00:35 | 101 | /home |
//! | P | pageview 2026-03-27 01:15 | 109 | /old |
//! | P | pageview 2026-03-27 02:30 | 102 | /home |
//! | P | pageview 2026-03-28 01:30 | 103 | /home |
//! | P | pageview 2026-03-24 10:00 | 108 | /old |
//! | P | pageview 2026-03-25 10:00 | 104 | /rare |
//! | P | pageview 2026-03-26 10:00 /x, 10:05 /x, 10:10 /y, 10:15 /y | 105, 106, 105, 107 | |
//! | Y | pageview 2025-03-29 00:10, signup 00:15 | 202 | /home |
//! | Y | pageview 2025-03-29 02:30, signup 02:35 | 201 | /home |
//! | Y | pageview 2025-03-30 00:30 (00:30 GMT) | 203 | /home |
//! | Y | pageview 2025-04-01 09:00, 09:10; signup by 204 at 09:05 | 204, 205 | /rare |
//! | Y | pageview 2025-04-02 09:00 /x, 09:05 /x, 09:10 /y; download 09:01, 09:06 | 206, 207, 206 | |
//!
//! So in R: /home 3 visitors, /new 2, /rare 2, /x and /y 1 each (folded into `(other)`,
//! 2 visitors); P has no /new, one /rare visitor (its `previous` is suppressed), and /x,
//! /y seen by 105, 106, 105, 107 on one day: 4 views, 3 visitors (4 added up); Y has
//! /rare twice and /x, /y by 206, 207, 206: 3 views, 2 visitors.

use chrono::NaiveDateTime;
use footfall::auth::{TokenKind, TokenRecord};
use footfall::goals::{Funnel, Goal, GoalName, Target};
use footfall::reports::ReportName;
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{eventually_matches, spawn_app_with, TestApp, SITE};
use crate::reports::{get_report, report_csv};

/// Small-count folding: rows (and comparison rows) with fewer visitors are not shown.
const K: u64 = 2;
const RANGE: &str = "from=2026-03-29&to=2026-04-04";
/// The `compare` header of each mode for [`RANGE`].
const PREVIOUS: (&str, &str) = ("2026-03-22", "2026-03-28");
const YEAR: (&str, &str) = ("2025-03-29", "2025-04-04");

fn at(ts: &str) -> u32 {
    NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp() as u32
}

/// A pageview that begins a session.
fn view(ts: &str, visitor: u64, path: &str) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts: at(ts),
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        source_class: "direct".into(),
        visitor,
        session: visitor * 10,
        entry: 1,
        browser: "Chrome".into(),
        os: "Windows".into(),
        device: "desktop".into(),
        screen: "desktop".into(),
        country: "GB".into(),
        ..EventRow::default()
    }
}

fn custom(ts: &str, visitor: u64, name: &str, path: &str) -> EventRow {
    EventRow { name: name.into(), entry: 0, ..view(ts, visitor, path) }
}

fn fixture() -> Vec<EventRow> {
    vec![
        // R
        view("2026-03-29 00:30", 1, "/home"),
        custom("2026-03-29 00:35", 1, "signup", "/home"),
        view("2026-03-29 01:30", 2, "/home"),
        custom("2026-03-29 01:35", 2, "signup", "/home"),
        view("2026-03-30 00:30", 3, "/home"),
        view("2026-03-31 09:00", 4, "/new"),
        custom("2026-03-31 09:05", 4, "signup", "/new"),
        view("2026-03-31 09:10", 5, "/new"),
        view("2026-04-01 09:00", 6, "/rare"),
        custom("2026-04-01 09:05", 6, "download", "/rare"),
        view("2026-04-01 09:10", 7, "/rare"),
        view("2026-04-02 09:00", 8, "/x"),
        view("2026-04-02 09:10", 9, "/y"),
        // P
        view("2026-03-27 00:30", 101, "/home"),
        custom("2026-03-27 00:35", 101, "signup", "/home"),
        view("2026-03-27 01:15", 109, "/old"),
        view("2026-03-27 02:30", 102, "/home"),
        view("2026-03-28 01:30", 103, "/home"),
        view("2026-03-24 10:00", 108, "/old"),
        view("2026-03-25 10:00", 104, "/rare"),
        view("2026-03-26 10:00", 105, "/x"),
        view("2026-03-26 10:05", 106, "/x"),
        view("2026-03-26 10:10", 105, "/y"),
        view("2026-03-26 10:15", 107, "/y"),
        // Y
        view("2025-03-29 00:10", 202, "/home"),
        custom("2025-03-29 00:15", 202, "signup", "/home"),
        view("2025-03-29 02:30", 201, "/home"),
        custom("2025-03-29 02:35", 201, "signup", "/home"),
        view("2025-03-30 00:30", 203, "/home"),
        view("2025-04-01 09:00", 204, "/rare"),
        custom("2025-04-01 09:05", 204, "signup", "/rare"),
        view("2025-04-01 09:10", 205, "/rare"),
        view("2025-04-02 09:00", 206, "/x"),
        custom("2025-04-02 09:01", 206, "download", "/x"),
        view("2025-04-02 09:05", 207, "/x"),
        custom("2025-04-02 09:06", 207, "download", "/x"),
        view("2025-04-02 09:10", 206, "/y"),
    ]
}

/// The fixture at `K`, the goals Home (page /home) and Signed up (event signup), and the
/// funnel Join: Home > Signed up.
async fn fixture_app() -> TestApp {
    let app = spawn_app_with(|settings| {
        settings.reports.min_visitors = K;
        settings.reports.summarize_every_secs = 0;
    })
    .await;
    app.store.insert_events(&fixture()).await.expect("the fixture is stored");
    let name = |name: &str| GoalName::parse(name).unwrap();
    for (goal, target) in [("Home", Target::page("/home")), ("Signed up", Target::event("signup"))] {
        let goal = Goal { site: SITE.into(), name: name(goal), target: target.unwrap() };
        app.store.put_goal(&goal).await.unwrap();
    }
    let funnel = Funnel::new(SITE, name("Join"), vec![name("Home"), name("Signed up")]).unwrap();
    app.store.put_funnel(&funnel).await.unwrap();
    app
}

async fn ok(app: &TestApp, name: &str, query: &str) -> Value {
    let response = get_report(app, name, query).await;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.expect("the report answers JSON");
    assert_eq!(status, 200, "{name}?{query}: {answer}");
    answer
}

/// A top-content row without engagement: `path` with `views` views by as many visitors,
/// each view an entry.
fn page(path: &str, views: u64, visitors: u64, previous: Value) -> Value {
    json!({"path": path, "views": views, "visitors": visitors, "entries": views, "avg_engaged_seconds": 0.0,
           "engaged_minutes": 0.0, "median_engaged_seconds": 0.0, "engaged_view_share": 0.0,
           "read_through_share": 0.0, "previous": previous})
}

/// top-content's `previous` of a path with views (none engaged).
fn seen(views: u64, visitors: u64) -> Value {
    json!({"views": views, "visitors": visitors, "entries": views, "avg_engaged_seconds": 0.0,
           "engaged_minutes": 0.0, "median_engaged_seconds": 0.0, "engaged_view_share": 0.0,
           "read_through_share": 0.0, "suppressed": false})
}

/// The `previous` of a row whose comparison has 1 to K - 1 visitors: no numbers.
fn suppressed(fields: &[&str]) -> Value {
    let mut previous: serde_json::Map<String, Value> =
        fields.iter().map(|field| (field.to_string(), Value::Null)).collect();
    previous.insert("suppressed".into(), json!(true));
    Value::Object(previous)
}

const PAGE_FIELDS: [&str; 8] = [
    "views",
    "visitors",
    "entries",
    "avg_engaged_seconds",
    "engaged_minutes",
    "median_engaged_seconds",
    "engaged_view_share",
    "read_through_share",
];

#[tokio::test]
async fn top_content_compares_each_path_with_the_same_path_and_other_with_the_same_paths() {
    let app = fixture_app().await;

    let previous = ok(&app, "top-content", &format!("{RANGE}&compare=previous")).await;
    let year = ok(&app, "top-content", &format!("{RANGE}&compare=year")).await;

    assert_eq!(previous["compare"], json!({"mode": "previous", "from": PREVIOUS.0, "to": PREVIOUS.1}));
    assert_eq!(year["compare"], json!({"mode": "year", "from": YEAR.0, "to": YEAR.1}));
    assert_eq!(previous["small_counts"], json!({"min_visitors": K, "folded_rows": 2, "other_visitors": "exact"}));
    // /new has no views before: true zeros, and nothing to divide. /old, seen only in P,
    // is no row and not in (other).
    let never = json!({"views": 0, "visitors": 0, "entries": 0, "avg_engaged_seconds": null, "engaged_minutes": 0.0,
                       "median_engaged_seconds": null, "engaged_view_share": null, "read_through_share": null,
                       "suppressed": false});
    assert_eq!(
        previous["rows"],
        json!([
            page("/home", 3, 3, seen(3, 3)),
            page("/new", 2, 2, never.clone()),
            // One visitor of /rare in P: not shown.
            page("/rare", 2, 2, suppressed(&PAGE_FIELDS)),
            // /x and /y in P: 4 views by 105, 106, 105, 107 on one day: 3 visitors, not 4.
            page("(other)", 2, 2, seen(4, 3)),
        ]),
        "{previous}"
    );
    assert_eq!(
        year["rows"],
        json!([
            page("/home", 3, 3, seen(3, 3)),
            page("/new", 2, 2, never),
            page("/rare", 2, 2, seen(2, 2)),
            // /x by 206, 207 and /y by 206 on one day: 2 visitors, not 3.
            page("(other)", 2, 2, seen(3, 2)),
        ]),
        "{year}"
    );
    // Without `compare`, nothing of it.
    let plain = ok(&app, "top-content", RANGE).await;
    assert!(plain.get("compare").is_none() && plain["rows"][0].get("previous").is_none(), "{plain}");
    app.stop().await;
}

/// A timeseries bucket with its comparison bucket (`then`: start, views, visitors).
fn bucket(start: &str, views: u64, visitors: u64, then: Option<(&str, u64, u64)>) -> Value {
    let previous = then.map(
        |(start, views, visitors)| json!({"start": start, "views": views, "visitors": visitors, "suppressed": false}),
    );
    json!({"start": start, "views": views, "visitors": visitors, "previous": previous})
}

#[tokio::test]
async fn timeseries_pairs_days_by_date_and_hours_by_wall_clock_across_dst() {
    let app = fixture_app().await;

    let days = |mode: &'static str| {
        let app = &app;
        async move { ok(app, "timeseries", &format!("{RANGE}&compare={mode}")).await }
    };
    let (previous, year) = (days("previous").await, days("year").await);

    // Day k with day k of P (a week earlier), and with the same date of 2025.
    let now = [
        ("2026-03-29T00:00:00+00:00", 2, 2),
        ("2026-03-30T00:00:00+01:00", 1, 1),
        ("2026-03-31T00:00:00+01:00", 2, 2),
        ("2026-04-01T00:00:00+01:00", 2, 2),
        ("2026-04-02T00:00:00+01:00", 2, 2),
        ("2026-04-03T00:00:00+01:00", 0, 0),
        ("2026-04-04T00:00:00+01:00", 0, 0),
    ];
    let week_before = [
        ("2026-03-22T00:00:00+00:00", 0, 0),
        ("2026-03-23T00:00:00+00:00", 0, 0),
        ("2026-03-24T00:00:00+00:00", 1, 1),
        ("2026-03-25T00:00:00+00:00", 1, 1),
        ("2026-03-26T00:00:00+00:00", 4, 3),
        ("2026-03-27T00:00:00+00:00", 3, 3),
        ("2026-03-28T00:00:00+00:00", 1, 1),
    ];
    let year_before = [
        ("2025-03-29T00:00:00+00:00", 2, 2),
        ("2025-03-30T00:00:00+00:00", 1, 1),
        ("2025-03-31T00:00:00+01:00", 0, 0),
        ("2025-04-01T00:00:00+01:00", 2, 2),
        ("2025-04-02T00:00:00+01:00", 3, 2),
        ("2025-04-03T00:00:00+01:00", 0, 0),
        ("2025-04-04T00:00:00+01:00", 0, 0),
    ];
    let series = |then: [(&str, u64, u64); 7]| {
        Value::from(
            now.iter().zip(then).map(|(&(start, v, u), then)| bucket(start, v, u, Some(then))).collect::<Vec<_>>(),
        )
    };
    assert_eq!(previous["rows"], series(week_before), "{previous}");
    assert_eq!(year["rows"], series(year_before), "{year}");

    // By hour over the change: 2026-03-29 has no 01:00, 2026-03-30 has; P (03-27, 03-28)
    // has both, so P's 03-27 01:00 (visitor 109) pairs with nothing; 2025-03-30 has none.
    let hours = |mode: &'static str| {
        let app = &app;
        async move { ok(app, "timeseries", &format!("from=2026-03-29&to=2026-03-30&interval=hour&compare={mode}")).await }
    };
    let (previous, year) = (hours("previous").await, hours("year").await);
    for answer in [&previous, &year] {
        assert_eq!(answer["rows"].as_array().unwrap().len(), 23 + 24, "{answer}");
    }
    let at = |answer: &Value, index: usize| answer["rows"][index].clone();
    assert_eq!(at(&previous, 0), bucket("2026-03-29T00:00:00+00:00", 1, 1, Some(("2026-03-27T00:00:00+00:00", 1, 1))));
    assert_eq!(at(&previous, 1), bucket("2026-03-29T02:00:00+01:00", 1, 1, Some(("2026-03-27T02:00:00+00:00", 1, 1))));
    assert_eq!(at(&previous, 23), bucket("2026-03-30T00:00:00+01:00", 0, 0, Some(("2026-03-28T00:00:00+00:00", 0, 0))));
    assert_eq!(at(&previous, 24), bucket("2026-03-30T01:00:00+01:00", 1, 1, Some(("2026-03-28T01:00:00+00:00", 1, 1))));
    let unpaired =
        |answer: &Value| answer["rows"].as_array().unwrap().iter().filter(|row| row["previous"].is_null()).count();
    assert_eq!(unpaired(&previous), 0);
    assert_eq!(at(&year, 0), bucket("2026-03-29T00:00:00+00:00", 1, 1, Some(("2025-03-29T00:00:00+00:00", 1, 1))));
    assert_eq!(at(&year, 1), bucket("2026-03-29T02:00:00+01:00", 1, 1, Some(("2025-03-29T02:00:00+00:00", 1, 1))));
    assert_eq!(at(&year, 23), bucket("2026-03-30T00:00:00+01:00", 0, 0, Some(("2025-03-30T00:00:00+00:00", 1, 1))));
    // 2025-03-30 01:00 did not exist: no comparison bucket, and the next hours still pair.
    assert_eq!(at(&year, 24), bucket("2026-03-30T01:00:00+01:00", 1, 1, None));
    assert_eq!(at(&year, 25), bucket("2026-03-30T02:00:00+01:00", 0, 0, Some(("2025-03-30T02:00:00+01:00", 0, 0))));
    assert_eq!(unpaired(&year), 1);

    // CSV: the comparison's columns, empty where there is no comparison bucket.
    let csv = report_csv(&app, "timeseries", "from=2026-03-29&to=2026-03-30&interval=hour&compare=year").await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "start,views,visitors,previous_start,previous_views,previous_visitors,previous_suppressed");
    assert_eq!(lines[2], "2026-03-29T02:00:00+01:00,1,1,2025-03-29T02:00:00+00:00,1,1,false");
    assert_eq!(lines[25], "2026-03-30T01:00:00+01:00,1,1,,,,");
    app.stop().await;
}

#[tokio::test]
async fn busiest_times_compares_each_cell_averaged_by_the_comparison_s_own_occurrences() {
    let app = fixture_app().await;

    let previous = ok(&app, "busiest-times", &format!("{RANGE}&measure=average&compare=previous")).await;
    let year = ok(&app, "busiest-times", &format!("{RANGE}&measure=average&compare=year")).await;

    let cell = |answer: &Value, weekday: usize, hour: usize| answer["grid"][(weekday - 1) * 24 + hour].clone();
    let then = |views: Value, visitors: Value, occurrences: u64| json!({"views": views, "visitors": visitors, "occurrences": occurrences, "suppressed": false});
    // Sunday 01:00 never occurs in R (the clocks skipped it) but does in P.
    assert_eq!(
        cell(&previous, 7, 1),
        json!({"weekday": 7, "hour": 1, "views": null, "visitors": null, "occurrences": 0,
               "previous": then(json!(0.0), json!(0.0), 1)})
    );
    // ... and not in Y either (2025-03-30 was a Sunday).
    assert_eq!(cell(&year, 7, 1)["previous"], then(Value::Null, Value::Null, 0));
    // Thursday 10:00: visitors 8 and 9 now; P: 4 views by 105, 106, 107 in that hour.
    assert_eq!(
        cell(&previous, 4, 10),
        json!({"weekday": 4, "hour": 10, "views": 2.0, "visitors": 2.0, "occurrences": 1,
               "previous": then(json!(4.0), json!(3.0), 1)})
    );
    assert_eq!(cell(&year, 4, 10)["previous"], then(json!(0.0), json!(0.0), 1));
    assert_eq!(cell(&year, 3, 10)["previous"], then(json!(3.0), json!(2.0), 1), "Wednesday 2025-04-02");
    // The peak (Tuesday 10:00, the earliest of three equal cells) with its own cell's
    // comparison, not the comparison's peak.
    let peak = |previous: Value| json!({"weekday": 2, "hour": 10, "views": 2.0, "visitors": 2.0, "occurrences": 1, "previous": previous});
    assert_eq!(previous["peak"], peak(then(json!(1.0), json!(1.0), 1)));
    assert_eq!(year["peak"], peak(then(json!(2.0), json!(2.0), 1)));
    app.stop().await;
}

#[tokio::test]
async fn events_goals_and_funnel_steps_compare_with_their_totals() {
    let app = fixture_app().await;
    let get = |name: &'static str, extra: &'static str, mode: &'static str| {
        let app = &app;
        async move { ok(app, name, &format!("{RANGE}{extra}&compare={mode}")).await }
    };

    // events: signup by 1, 2, 4 of 9 visitors; download by 6 alone, folded. P: signup by
    // 101 alone (suppressed), no download, 9 visitors; Y: signup by 201, 202, 204,
    // download by 206, 207, of 7 visitors.
    let events = get("events", "", "previous").await;
    let row = |name: &str, events: u64, visitors: u64, rate: f64, previous: Value| json!({"name": name, "events": events, "visitors": visitors, "conversion_rate": rate, "previous": previous});
    let then = |events: u64, visitors: u64, rate: f64| json!({"events": events, "visitors": visitors, "conversion_rate": rate, "suppressed": false});
    let event_fields = ["events", "visitors", "conversion_rate"];
    assert_eq!(events["total_visitors"], 9);
    assert_eq!(events["previous"], json!({"total_visitors": 9, "suppressed": false}));
    assert_eq!(
        events["rows"],
        json!([row("signup", 3, 3, 0.3333, suppressed(&event_fields)), row("(other)", 1, 1, 0.1111, then(0, 0, 0.0)),])
    );
    let events = get("events", "", "year").await;
    assert_eq!(events["previous"], json!({"total_visitors": 7, "suppressed": false}));
    assert_eq!(
        events["rows"],
        json!([row("signup", 3, 3, 0.3333, then(3, 3, 0.4286)), row("(other)", 1, 1, 0.1111, then(2, 2, 0.2857)),])
    );

    // goals: Home (the /home views) and Signed up, by name.
    let goal = |name: &str, count: u64, rate: f64, previous: Value| json!({"name": name, "conversions": count, "visitors": count, "conversion_rate": rate, "previous": previous});
    let reached = |count: u64, rate: f64| json!({"conversions": count, "visitors": count, "conversion_rate": rate, "suppressed": false});
    let goals = get("goals", "", "previous").await;
    assert_eq!(goals["previous"], json!({"total_visitors": 9, "suppressed": false}));
    assert_eq!(
        goals["rows"],
        json!([
            goal("Home", 3, 0.3333, reached(3, 0.3333)),
            goal("Signed up", 3, 0.3333, suppressed(&["conversions", "visitors", "conversion_rate"])),
        ])
    );
    let goals = get("goals", "", "year").await;
    assert_eq!(goals["previous"], json!({"total_visitors": 7, "suppressed": false}));
    assert_eq!(
        goals["rows"],
        json!([goal("Home", 3, 0.3333, reached(3, 0.4286)), goal("Signed up", 3, 0.3333, reached(3, 0.4286))])
    );

    // funnel Join: Home then Signed up the same day: 1 and 2 now; 101 alone in P (its
    // step suppressed by the funnel's own rule); 201 and 202 in Y (204 never saw /home).
    let step_fields = ["visitors", "dropped_off", "drop_off_rate", "conversion_rate"];
    let first =
        json!({"visitors": 3, "dropped_off": null, "drop_off_rate": null, "conversion_rate": 1.0, "suppressed": false});
    let second = json!({"visitors": 2, "dropped_off": 1, "drop_off_rate": 0.3333, "conversion_rate": 0.6667, "suppressed": false});
    let steps = |then: [Value; 2]| {
        let [home, signed_up] = then;
        let mut home_step = first.clone();
        home_step["name"] = json!("Home");
        home_step["previous"] = home;
        let mut signed_up_step = second.clone();
        signed_up_step["name"] = json!("Signed up");
        signed_up_step["previous"] = signed_up;
        json!([home_step, signed_up_step])
    };
    let funnel = get("funnel", "&funnel=Join", "previous").await;
    assert_eq!(funnel["steps"], steps([first.clone(), suppressed(&step_fields)]), "{funnel}");
    let funnel = get("funnel", "&funnel=Join", "year").await;
    assert_eq!(funnel["steps"], steps([first.clone(), second.clone()]), "{funnel}");
    app.stop().await;
}

#[tokio::test]
async fn csv_gains_a_previous_column_for_each_number() {
    let app = fixture_app().await;

    let csv = report_csv(&app, "top-content", &format!("{RANGE}&compare=previous")).await;

    assert_eq!(
        csv,
        "path,views,visitors,entries,avg_engaged_seconds,engaged_minutes,median_engaged_seconds,\
         engaged_view_share,read_through_share,previous_views,previous_visitors,previous_entries,\
         previous_avg_engaged_seconds,previous_engaged_minutes,previous_median_engaged_seconds,\
         previous_engaged_view_share,previous_read_through_share,previous_suppressed\r\n\
         /home,3,3,3,0,0,0,0,0,3,3,3,0,0,0,0,0,false\r\n\
         /new,2,2,2,0,0,0,0,0,0,0,0,,0,,,,false\r\n\
         /rare,2,2,2,0,0,0,0,0,,,,,,,,,true\r\n\
         (other),2,2,2,0,0,0,0,0,4,3,4,0,0,0,0,0,false\r\n"
    );
    let plain = report_csv(&app, "top-content", RANGE).await;
    assert!(plain.starts_with("path,views,visitors,entries,avg_engaged_seconds,engaged_minutes,median_engaged_seconds,engaged_view_share,read_through_share\r\n"), "{plain}");
    app.stop().await;
}

#[tokio::test]
async fn compare_takes_previous_or_year_only() {
    let app = fixture_app().await;
    for bad in ["last", "Previous", "", "previous,year"] {
        let response = get_report(&app, "top-content", &format!("{RANGE}&compare={bad}")).await;
        assert_eq!(response.status(), 400, "compare={bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["field"], "compare", "{body}");
    }
    app.stop().await;
}

/// Every report the system lists (`ReportName::ALL`, not a list kept here) takes both
/// modes, as JSON and CSV, and says what it compared with.
#[tokio::test]
async fn every_report_accepts_both_modes_and_names_the_comparison_in_its_header() {
    let app = fixture_app().await;
    for report in ReportName::ALL {
        for (mode, (from, to)) in [("previous", PREVIOUS), ("year", YEAR)] {
            let query = match report {
                ReportName::Realtime => format!("compare={mode}"),
                ReportName::Funnel => format!("{RANGE}&funnel=Join&compare={mode}"),
                _ => format!("{RANGE}&compare={mode}"),
            };
            let name = report.as_str();
            let answer = ok(&app, name, &query).await;
            let compare = &answer["compare"];
            assert_eq!(compare["mode"], mode, "{name}: {answer}");
            if report == ReportName::Realtime {
                assert!(compare["since"].is_string() && compare["until"].is_string(), "{name}: {answer}");
                assert!(answer["previous"]["views"].is_u64(), "{name}: {answer}");
            } else {
                assert_eq!((&compare["from"], &compare["to"]), (&json!(from), &json!(to)), "{name}: {answer}");
            }
            // Every answer with numbers carries their comparison (not-stored has no rows here).
            let text = answer.to_string();
            assert!(
                text.contains("\"previous\":") || answer["rows"].as_array().is_some_and(Vec::is_empty),
                "{name}: {answer}"
            );
            assert!(!report_csv(&app, name, &query).await.is_empty(), "{name}");
        }
    }
    app.stop().await;
}

/// A report token whose filter matches enough visitors in R but too few in P gets its
/// answer, with every `previous` suppressed; over Y (enough) the comparison is shown.
#[tokio::test]
async fn filters_too_small_in_the_comparison_range_suppress_every_previous() {
    let app = fixture_app().await;
    let new = footfall::auth::new_token();
    let record = TokenRecord {
        id: new.id,
        site: SITE.into(),
        hash: new.hash,
        label: "compare".into(),
        created_at: 0,
        kind: TokenKind::Report,
        locked_filters: String::new(),
    };
    app.store.put_token(&record).await.unwrap();
    let get = |name: &'static str, query: String| {
        let app = &app;
        let token = new.token.clone();
        async move {
            let url = format!("{}/api/v1/sites/{SITE}/reports/{name}?{query}", app.address);
            let response = app.http.get(url).bearer_auth(token).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    eventually_matches("the token's answer", |(status, _)| *status == 200, || get("timeseries", RANGE.into())).await;

    // page=/rare: visitors 6 and 7 in R, 104 alone in P, 204 and 205 in Y.
    let (status, previous) = get("timeseries", format!("{RANGE}&page=%2Frare&compare=previous")).await;
    assert_eq!(status, 200, "{previous}");
    let rows = previous["rows"].as_array().unwrap();
    assert_eq!(rows[3]["views"], 2);
    for (row, day) in rows.iter().zip(22..) {
        let start = format!("2026-03-{day}T00:00:00+00:00");
        assert_eq!(
            row["previous"],
            json!({"start": start, "views": null, "visitors": null, "suppressed": true}),
            "{previous}"
        );
    }
    let (status, events) = get("events", format!("{RANGE}&page=%2Frare&compare=previous")).await;
    assert_eq!(status, 200, "{events}");
    assert_eq!(events["previous"], json!({"total_visitors": null, "suppressed": true}));
    let (_, year) = get("timeseries", format!("{RANGE}&page=%2Frare&compare=year")).await;
    assert_eq!(
        year["rows"][3]["previous"],
        json!({"start": "2025-04-01T00:00:00+01:00", "views": 2, "visitors": 2, "suppressed": false})
    );
    // The admin token is exempt: P's one visitor of /rare is shown.
    let admin = ok(&app, "timeseries", &format!("{RANGE}&page=%2Frare&compare=previous")).await;
    assert_eq!(admin["rows"][3]["previous"]["views"], 1, "{admin}");
    app.stop().await;
}
