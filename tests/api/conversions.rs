//! Conversions (issue 19): the `events` report and its property breakdown, goals defined
//! with the real `footfall goals` commands, the `goals` report, the `goal=` filter on
//! another report, an unknown goal, small-count folding of both reports, and a funnel
//! (`footfall funnels`, the `funnel` report) with a step reached out of order and one on
//! another day, against numbers worked out by hand on one fixture.
//!
//! The fixture, one day (2026-03-10; London is on UTC then), times UTC:
//!
//! | visitor | events |
//! |---|---|
//! | 1 | pageview / (09:00), pageview /pricing (09:05), signup {plan: pro} (09:06), outbound {url: https://github.com/x} (09:07) |
//! | 2 | pageview /blog/a.html (10:00), signup {plan: free} (10:03), download {url: https://example.com/a.pdf} twice (10:04, 10:05) |
//! | 3 | pageview /blog/2026/b.html (11:00), pageview /blog/c (11:01), signup {plan: pro} (11:02), signup {plan: pro} (11:03) |
//! | 4 | pageview / (12:00), engagement / (12:01) |
//! | 5 | signup {plan: pro} on 2026-03-11, outside the range |
//!
//! So in the range: 4 visitors; custom events signup 4 (visitors 1, 2, 3), download 2
//! (visitor 2), outbound 1 (visitor 1); pageview and engagement are not custom events.

use chrono::NaiveDateTime;
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{run_footfall, spawn_app_with, stderr_of, stdout_of, TestApp, SITE};
use crate::reports::get_report;

const DAY: &str = "from=2026-03-10&to=2026-03-10";

fn at(ts: &str) -> u32 {
    NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp() as u32
}

fn event(ts: &str, visitor: u64, name: &str, path: &str, props: &[(&str, &str)]) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts: at(ts),
        name: name.into(),
        hostname: SITE.into(),
        path: path.into(),
        source_class: "direct".into(),
        visitor,
        session: visitor * 10,
        entry: u8::from(name == "pageview" && !path.starts_with("/p")),
        browser: "Chrome".into(),
        os: "Windows".into(),
        device: "desktop".into(),
        country: "GB".into(),
        prop_keys: props.iter().map(|(key, _)| key.to_string()).collect(),
        prop_values: props.iter().map(|(_, value)| value.to_string()).collect(),
        ..EventRow::default()
    }
}

fn fixture() -> Vec<EventRow> {
    let view = |ts, visitor, path| event(ts, visitor, "pageview", path, &[]);
    vec![
        view("2026-03-10 09:00", 1, "/"),
        view("2026-03-10 09:05", 1, "/pricing"),
        event("2026-03-10 09:06", 1, "signup", "/pricing", &[("plan", "pro")]),
        event("2026-03-10 09:07", 1, "outbound", "/pricing", &[("url", "https://github.com/x")]),
        view("2026-03-10 10:00", 2, "/blog/a.html"),
        event("2026-03-10 10:03", 2, "signup", "/blog/a.html", &[("plan", "free")]),
        event("2026-03-10 10:04", 2, "download", "/blog/a.html", &[("url", "https://example.com/a.pdf")]),
        event("2026-03-10 10:05", 2, "download", "/blog/a.html", &[("url", "https://example.com/a.pdf")]),
        view("2026-03-10 11:00", 3, "/blog/2026/b.html"),
        view("2026-03-10 11:01", 3, "/blog/c"),
        event("2026-03-10 11:02", 3, "signup", "/blog/c", &[("plan", "pro")]),
        event("2026-03-10 11:03", 3, "signup", "/blog/c", &[("plan", "pro")]),
        view("2026-03-10 12:00", 4, "/"),
        event("2026-03-10 12:01", 4, "engagement", "/", &[]),
        event("2026-03-11 09:00", 5, "signup", "/", &[("plan", "pro")]),
    ]
}

/// An app with the fixture and `min_visitors` (0: folding off), the summarizer not running.
async fn fixture_app(min_visitors: u64) -> TestApp {
    let app = spawn_app_with(|settings| {
        settings.reports.min_visitors = min_visitors;
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

async fn ok(app: &TestApp, name: &str, query: &str) -> Value {
    let (status, answer) = report(app, name, query).await;
    assert_eq!(status, 200, "{name}?{query}: {answer}");
    answer
}

/// The fixture's goals, added with the CLI: an event goal and a page pattern goal.
async fn add_goals(app: &TestApp) {
    let added = run_footfall(&app.settings, &["goals", "add", "--site", SITE, "Signed up", "--event", "signup"]).await;
    assert_eq!(stdout_of(&added), "goal Signed up of example.com added (event signup)\n");
    let added =
        run_footfall(&app.settings, &["goals", "add", "--site", SITE, "Read HTML", "--page", "/blog/*.html"]).await;
    assert_eq!(stdout_of(&added), "goal Read HTML of example.com added (page /blog/*.html)\n");
}

#[tokio::test]
async fn events_lists_the_custom_events_with_visitors_and_conversion_rates() {
    let app = fixture_app(0).await;

    let answer = ok(&app, "events", DAY).await;

    // 4 visitors in the range; signup: visitors 1, 2, 3 (3 / 4); download: 2; outbound: 1.
    assert_eq!(answer["total_visitors"], 4);
    assert_eq!(
        answer["rows"],
        json!([
            {"name": "signup", "events": 4, "visitors": 3, "conversion_rate": 0.75},
            {"name": "download", "events": 2, "visitors": 1, "conversion_rate": 0.25},
            {"name": "outbound", "events": 1, "visitors": 1, "conversion_rate": 0.25},
        ])
    );
    // Filters apply: on /pricing only visitor 1's events (and visitors) remain.
    let pricing = ok(&app, "events", &format!("{DAY}&page=%2Fpricing")).await;
    assert_eq!(pricing["total_visitors"], 1);
    assert_eq!(
        pricing["rows"],
        json!([
            {"name": "outbound", "events": 1, "visitors": 1, "conversion_rate": 1.0},
            {"name": "signup", "events": 1, "visitors": 1, "conversion_rate": 1.0},
        ])
    );
    // CSV: the rows.
    let csv = crate::reports::report_csv(&app, "events", DAY).await;
    assert_eq!(
        csv,
        "name,events,visitors,conversion_rate\r\nsignup,4,3,0.75\r\ndownload,2,1,0.25\r\noutbound,1,1,0.25\r\n"
    );
}

#[tokio::test]
async fn events_breaks_one_event_down_by_a_property() {
    let app = fixture_app(0).await;

    let answer = ok(&app, "events", &format!("{DAY}&event=signup&breakdown=prop.plan")).await;

    // pro: visitor 1 once, visitor 3 twice; free: visitor 2. The rate is of all 4 visitors.
    assert_eq!(
        (&answer["event"], &answer["property"], &answer["total_visitors"]),
        (&json!("signup"), &json!("plan"), &json!(4))
    );
    assert_eq!(
        answer["rows"],
        json!([
            {"value": "pro", "events": 3, "visitors": 2, "conversion_rate": 0.5},
            {"value": "free", "events": 1, "visitors": 1, "conversion_rate": 0.25},
        ])
    );
    assert!(answer.get("filters").is_none(), "the event broken down is not a filter: {answer}");
    // Downloads by their target (what the beacon's link tracking sends).
    let downloads = ok(&app, "events", &format!("{DAY}&event=download&breakdown=prop.url")).await;
    assert_eq!(
        downloads["rows"],
        json!([{"value": "https://example.com/a.pdf", "events": 2, "visitors": 1, "conversion_rate": 0.25}])
    );
    // Without `event`, or on another report, `breakdown` is refused.
    let (status, refused) = report(&app, "events", &format!("{DAY}&breakdown=prop.plan")).await;
    assert_eq!((status, &refused["field"]), (400, &json!("event")), "{refused}");
    let (status, refused) = report(&app, "top-content", &format!("{DAY}&event=signup&breakdown=prop.plan")).await;
    assert_eq!((status, &refused["field"]), (400, &json!("breakdown")), "{refused}");
}

#[tokio::test]
async fn goals_count_event_goals_and_page_pattern_goals() {
    // Arrange: the goals, added and listed by the CLI.
    let app = fixture_app(0).await;
    add_goals(&app).await;
    let listed = run_footfall(&app.settings, &["goals", "list", "--site", SITE]).await;
    assert_eq!(
        stdout_of(&listed),
        format!(
            "{:<40} {:<32} MATCHES\n{:<40} {:<32} page /blog/*.html\n{:<40} {:<32} event signup\n",
            "SITE", "GOAL", SITE, "Read HTML", SITE, "Signed up"
        )
    );

    // Act
    let answer = ok(&app, "goals", DAY).await;

    // Assert: Read HTML: /blog/a.html (visitor 2) and /blog/2026/b.html (visitor 3), not
    // /blog/c; Signed up: 4 signups by visitors 1, 2, 3 (visitor 5's is on another day).
    assert_eq!(answer["total_visitors"], 4);
    assert_eq!(
        answer["rows"],
        json!([
            {"name": "Read HTML", "conversions": 2, "visitors": 2, "conversion_rate": 0.5},
            {"name": "Signed up", "conversions": 4, "visitors": 3, "conversion_rate": 0.75},
        ])
    );

    // Removing a goal takes it out of the report; removing it again fails, saying so.
    let removed = run_footfall(&app.settings, &["goals", "remove", "--site", SITE, "Read HTML"]).await;
    assert_eq!(stdout_of(&removed), "goal Read HTML of example.com removed\n");
    let again = run_footfall(&app.settings, &["goals", "remove", "--site", SITE, "Read HTML"]).await;
    assert!(stderr_of(&again).contains("site example.com has no goal \"Read HTML\""), "{again:?}");
    let answer = ok(&app, "goals", DAY).await;
    assert_eq!(answer["rows"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["rows"][0]["name"], "Signed up");
}

#[tokio::test]
async fn goals_refuses_bad_definitions_and_unregistered_sites() {
    let app = fixture_app(0).await;
    let bad = run_footfall(&app.settings, &["goals", "add", "--site", SITE, "G", "--page", "blog/*"]).await;
    assert!(stderr_of(&bad).contains("a page pattern starts with `/`"), "{bad:?}");
    let unknown = run_footfall(&app.settings, &["goals", "add", "--site", "other.org", "G", "--event", "x"]).await;
    assert!(stderr_of(&unknown).contains("no site other.org is registered"), "{unknown:?}");
    let both = run_footfall(&app.settings, &["goals", "add", "--site", SITE, "G", "--event", "x", "--page", "/"]).await;
    assert_eq!(both.status.code(), Some(2), "clap refuses --event with --page");
}

#[tokio::test]
async fn the_goal_filter_keeps_the_visitors_who_reached_the_goal() {
    let app = fixture_app(0).await;
    add_goals(&app).await;
    let totals = |answer: &Value| (answer["rows"][0]["views"].clone(), answer["rows"][0]["visitors"].clone());

    // Read HTML: visitors 2 (1 view) and 3 (2 views); negated: visitors 1 (2) and 4 (1).
    let kept = ok(&app, "timeseries", &format!("{DAY}&goal=Read+HTML")).await;
    assert_eq!(totals(&kept), (json!(3), json!(2)), "{kept}");
    assert_eq!(kept["filters"], json!({"goal": "Read HTML"}));
    let rest = ok(&app, "timeseries", &format!("{DAY}&goal=!Read+HTML")).await;
    assert_eq!(totals(&rest), (json!(3), json!(2)), "{rest}");
    // Signed up on top-content: visitors 1, 2, 3's pageviews.
    let pages = ok(&app, "top-content", &format!("{DAY}&goal=Signed+up")).await;
    let paths: Vec<(&str, u64)> = pages["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["path"].as_str().unwrap(), row["views"].as_u64().unwrap()))
        .collect();
    assert_eq!(paths, [("/", 1), ("/blog/2026/b.html", 1), ("/blog/a.html", 1), ("/blog/c", 1), ("/pricing", 1)]);

    // An unknown goal is a 400 naming `goal`.
    let (status, refused) = report(&app, "timeseries", &format!("{DAY}&goal=Nope")).await;
    assert_eq!((status, &refused["field"]), (400, &json!("goal")), "{refused}");
}

#[tokio::test]
async fn small_rows_of_events_and_goals_fold_into_other() {
    // Arrange: folding at 2 visitors, the fixture's goals and a third with one visitor.
    let app = fixture_app(2).await;
    add_goals(&app).await;
    let added = run_footfall(&app.settings, &["goals", "add", "--site", SITE, "Pricing", "--page", "/pricing"]).await;
    stdout_of(&added);

    // Act
    let events = ok(&app, "events", DAY).await;
    let props = ok(&app, "events", &format!("{DAY}&event=signup&breakdown=prop.plan")).await;
    let goals = ok(&app, "goals", DAY).await;

    // Assert: download (visitor 2) and outbound (visitor 1) fold: 3 events, 2 visitors.
    assert_eq!(
        events["rows"],
        json!([
            {"name": "signup", "events": 4, "visitors": 3, "conversion_rate": 0.75},
            {"name": "(other)", "events": 3, "visitors": 2, "conversion_rate": 0.5},
        ])
    );
    assert_eq!(events["small_counts"], json!({"min_visitors": 2, "folded_rows": 2, "other_visitors": "exact"}));
    // free (visitor 2 alone) folds and is not named.
    assert_eq!(
        props["rows"],
        json!([
            {"value": "pro", "events": 3, "visitors": 2, "conversion_rate": 0.5},
            {"value": "(other)", "events": 1, "visitors": 1, "conversion_rate": 0.25},
        ])
    );
    // Pricing (visitor 1) folds alone; the other two stay.
    assert_eq!(
        goals["rows"],
        json!([
            {"name": "Read HTML", "conversions": 2, "visitors": 2, "conversion_rate": 0.5},
            {"name": "Signed up", "conversions": 4, "visitors": 3, "conversion_rate": 0.75},
            {"name": "(other)", "conversions": 1, "visitors": 1, "conversion_rate": 0.25},
        ])
    );
}

#[tokio::test]
async fn two_small_goals_fold_into_one_row_counting_each_visitor_once() {
    // Arrange: folding at 4 visitors; two page goals: Pricing reached by visitor 1, and
    // Anything (`/*`) by every pageview, visitor 1's /pricing included.
    let app = fixture_app(4).await;
    for (name, page) in [("Pricing", "/pricing"), ("Anything", "/*")] {
        stdout_of(&run_footfall(&app.settings, &["goals", "add", "--site", SITE, name, "--page", page]).await);
    }

    // Act
    let goals = ok(&app, "goals", DAY).await;

    // Assert: Anything: the 6 pageviews of all 4 visitors, kept; Pricing: 1 pageview of
    // visitor 1, folded alone. Then at 5 both fold: the pageviews reaching either (6, not
    // 7) by 4 visitors (not 5).
    assert_eq!(
        goals["rows"],
        json!([
            {"name": "Anything", "conversions": 6, "visitors": 4, "conversion_rate": 1.0},
            {"name": "(other)", "conversions": 1, "visitors": 1, "conversion_rate": 0.25},
        ])
    );
    let app5 = fixture_app(5).await;
    for (name, page) in [("Pricing", "/pricing"), ("Anything", "/*")] {
        stdout_of(&run_footfall(&app5.settings, &["goals", "add", "--site", SITE, name, "--page", page]).await);
    }
    let goals = ok(&app5, "goals", DAY).await;
    assert_eq!(goals["rows"], json!([{"name": "(other)", "conversions": 6, "visitors": 4, "conversion_rate": 1.0}]));
    assert_eq!(goals["small_counts"], json!({"min_visitors": 5, "folded_rows": 2, "other_visitors": "exact"}));
}

/// Adds the goal Priced (`/pricing`), then the funnel Sign-up: Priced > Signed up.
async fn add_funnel(app: &TestApp) {
    add_goals(app).await;
    stdout_of(&run_footfall(&app.settings, &["goals", "add", "--site", SITE, "Priced", "--page", "/pricing"]).await);
    let added =
        run_footfall(&app.settings, &["funnels", "add", "--site", SITE, "Sign-up", "Priced", "Signed up"]).await;
    assert_eq!(stdout_of(&added), "funnel Sign-up of example.com added (Priced > Signed up)\n");
}

/// Visitor 6 signs up, then views /pricing (out of order); visitor 7 views /pricing on
/// 2026-03-10 and signs up after midnight (another day, so another visitor-day).
fn funnel_extras() -> Vec<EventRow> {
    vec![
        event("2026-03-10 14:00", 6, "signup", "/", &[("plan", "pro")]),
        event("2026-03-10 14:05", 6, "pageview", "/pricing", &[]),
        event("2026-03-10 23:00", 7, "pageview", "/pricing", &[]),
        event("2026-03-11 00:30", 7, "signup", "/pricing", &[("plan", "pro")]),
    ]
}

#[tokio::test]
async fn a_funnel_counts_the_steps_reached_in_order_on_one_day() {
    // Arrange
    let app = fixture_app(0).await;
    app.store.insert_events(&funnel_extras()).await.unwrap();
    add_funnel(&app).await;
    let listed = run_footfall(&app.settings, &["funnels", "list"]).await;
    assert_eq!(
        stdout_of(&listed),
        format!("{:<40} {:<32} STEPS\n{:<40} {:<32} Priced > Signed up\n", "SITE", "FUNNEL", SITE, "Sign-up")
    );
    let unknown = run_footfall(&app.settings, &["funnels", "add", "--site", SITE, "F", "Priced", "Nope"]).await;
    assert!(stderr_of(&unknown).contains("site example.com has no goal \"Nope\""), "{unknown:?}");

    // Act
    let answer = ok(&app, "funnel", "from=2026-03-10&to=2026-03-11&funnel=Sign-up").await;

    // Assert: Priced by visitors 1, 6 and 7 (on the 10th); Signed up after it, the same
    // day, by visitor 1 only (6 signed up first; 7 the next day; 2, 3 and 5 never priced).
    assert_eq!(answer["funnel"], "Sign-up");
    assert_eq!(
        answer["steps"],
        json!([
            {"name": "Priced", "visitors": 3, "dropped_off": null, "drop_off_rate": null, "conversion_rate": 1.0, "suppressed": false},
            {"name": "Signed up", "visitors": 1, "dropped_off": 2, "drop_off_rate": 0.6667, "conversion_rate": 0.3333, "suppressed": false},
        ])
    );
    // The funnel is required, known, and only for this report.
    let (status, refused) = report(&app, "funnel", "from=2026-03-10&to=2026-03-11").await;
    assert_eq!((status, &refused["field"]), (400, &json!("funnel")), "{refused}");
    let (status, refused) = report(&app, "funnel", "from=2026-03-10&to=2026-03-11&funnel=Nope").await;
    assert_eq!((status, &refused["field"]), (400, &json!("funnel")), "{refused}");
    let (status, refused) = report(&app, "goals", &format!("{DAY}&funnel=Sign-up")).await;
    assert_eq!((status, &refused["field"]), (400, &json!("funnel")), "{refused}");
    let removed = run_footfall(&app.settings, &["funnels", "remove", "--site", SITE, "Sign-up"]).await;
    assert_eq!(stdout_of(&removed), "funnel Sign-up of example.com removed\n");
}

#[tokio::test]
async fn a_funnel_step_with_too_few_visitors_shows_no_numbers() {
    let app = fixture_app(2).await;
    app.store.insert_events(&funnel_extras()).await.unwrap();
    add_funnel(&app).await;

    let answer = ok(&app, "funnel", "from=2026-03-10&to=2026-03-11&funnel=Sign-up").await;

    // Signed up: 1 visitor, below 2: no number, and no drop-off that would give it away.
    assert_eq!(
        answer["steps"],
        json!([
            {"name": "Priced", "visitors": 3, "dropped_off": null, "drop_off_rate": null, "conversion_rate": 1.0, "suppressed": false},
            {"name": "Signed up", "visitors": null, "dropped_off": null, "drop_off_rate": null, "conversion_rate": null, "suppressed": true},
        ])
    );
    assert_eq!(answer["min_visitors"], 2);
}
