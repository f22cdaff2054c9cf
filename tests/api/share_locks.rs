//! Share links that lock filters (issue 19): `footfall share create --filter` checks the
//! filters by the reports' rules and stores them with the link (`share list` shows them),
//! and every report read with the link's grant is narrowed by them, whatever the request
//! asks: through the reports API with the link's token as bearer token, and through the
//! dashboard's panel route with a share session. A request that gives a locked filter
//! another value, or its negation, is a 403 naming it.
//!
//! The fixture, one day (2026-03-10; London is on UTC then), five visitors:
//!
//! | visitor | country | events |
//! |---|---|---|
//! | 1 | GB | pageviews `/` 09:00, `/pricing` 09:05; `signup` 09:06 |
//! | 2 | US | pageview `/` 10:00; `signup` 10:01 |
//! | 3 | US | pageview `/blog` 11:00 |
//! | 4 | FR | pageview `/pricing` 12:00; `signup` 12:01 |
//! | 5 | GB | pageview `/blog` 13:00 |
//!
//! and, for realtime, two pageviews a minute ago: visitor 6 from GB, visitor 7 from US.
//! Goals: `Pricing` (page `/pricing`) and `Signed up` (event `signup`); funnel `Buy`:
//! Pricing, then Signed up. The links lock `country=!US`: visitors 1, 4 and 5.

use chrono::NaiveDateTime;
use footfall::goals::{Funnel, Goal, GoalName, Target};
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{run_footfall, spawn_app_with, stderr_of, stdout_of, TestApp, SITE};
use crate::reports::get_report;

const DAY: &str = "from=2026-03-10&to=2026-03-10";

fn at(ts: &str) -> u32 {
    NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp() as u32
}

fn event(ts: u32, visitor: u64, country: &'static str, name: &str, path: &str) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts,
        name: name.into(),
        hostname: SITE.into(),
        path: path.into(),
        source_class: "direct".into(),
        visitor,
        session: visitor,
        entry: u8::from(name == "pageview"),
        browser: "Chrome".into(),
        os: "Windows".into(),
        device: "desktop".into(),
        screen: "desktop".into(),
        country: country.into(),
        ..EventRow::default()
    }
}

async fn fixture_app() -> TestApp {
    let app = spawn_app_with(|settings| settings.reports.summarize_every_secs = 0).await;
    let now = chrono::Utc::now().timestamp() as u32 - 60;
    let events = vec![
        event(at("2026-03-10 09:00"), 1, "GB", "pageview", "/"),
        event(at("2026-03-10 09:05"), 1, "GB", "pageview", "/pricing"),
        event(at("2026-03-10 09:06"), 1, "GB", "signup", "/pricing"),
        event(at("2026-03-10 10:00"), 2, "US", "pageview", "/"),
        event(at("2026-03-10 10:01"), 2, "US", "signup", "/"),
        event(at("2026-03-10 11:00"), 3, "US", "pageview", "/blog"),
        event(at("2026-03-10 12:00"), 4, "FR", "pageview", "/pricing"),
        event(at("2026-03-10 12:01"), 4, "FR", "signup", "/pricing"),
        event(at("2026-03-10 13:00"), 5, "GB", "pageview", "/blog"),
        event(now, 6, "GB", "pageview", "/"),
        event(now, 7, "US", "pageview", "/"),
    ];
    app.store.insert_events(&events).await.unwrap();
    let goal = |name: &str, target: Target| Goal { site: SITE.into(), name: GoalName::parse(name).unwrap(), target };
    app.store.put_goal(&goal("Pricing", Target::page("/pricing").unwrap())).await.unwrap();
    app.store.put_goal(&goal("Signed up", Target::event("signup").unwrap())).await.unwrap();
    let steps = vec![GoalName::parse("Pricing").unwrap(), GoalName::parse("Signed up").unwrap()];
    let funnel = Funnel::new(SITE, GoalName::parse("Buy").unwrap(), steps).unwrap();
    app.store.put_funnel(&funnel).await.unwrap();
    app
}

/// The token of the link `footfall share create` printed.
fn token_of(stdout: &str) -> String {
    stdout.trim().rsplit_once("token=").expect("a share link").1.to_string()
}

/// How a test reaches the reports with a share link's grant.
enum Route {
    /// `GET /api/v1/sites/{site}/reports/{name}` with the link's token as bearer token.
    Bearer(String),
    /// `GET /dashboard/api/sites/{site}/reports/{name}` with a share session's cookie.
    Session(String),
}

impl Route {
    async fn get(&self, app: &TestApp, name: &str, query: &str) -> (u16, Value) {
        let url = |path: &str| format!("{}{path}/sites/{SITE}/reports/{name}?{query}", app.address);
        let request = match self {
            Self::Bearer(token) => app.http.get(url("/api/v1")).bearer_auth(token),
            Self::Session(cookie) => app.http.get(url("/dashboard/api")).header("Cookie", cookie),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

/// A share session opened with `token`: its `footfall_session=...` cookie.
async fn share_session(app: &TestApp, token: &str) -> (String, String) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(format!("{}/dashboard/share?token={token}", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|value| value.starts_with("footfall_session="))
        .expect("a session cookie is set");
    (cookie, page.text().await.unwrap())
}

/// `footfall share create --site example.com` with a `--filter` per entry of `filters`.
async fn create(app: &TestApp, filters: &[&str]) -> std::process::Output {
    let mut args = vec!["share", "create", "--site", SITE];
    for filter in filters {
        args.extend(["--filter", filter]);
    }
    run_footfall(&app.settings, &args).await
}

#[tokio::test]
async fn share_create_checks_and_stores_the_locked_filters() {
    let app = spawn_app_with(|_| {}).await;
    // Checked by the reports' own filter rules, each problem naming the filter.
    let refused = stderr_of(&create(&app, &["country=us"]).await);
    assert!(refused.contains("--filter: `country` must be an ISO 3166 alpha-2 country code"), "{refused}");
    let refused = stderr_of(&create(&app, &["from=2026-03-10"]).await);
    assert!(refused.contains("`from` is not a report filter; a share link locks filters: path, page,"), "{refused}");
    let refused = stderr_of(&create(&app, &["country"]).await);
    assert!(refused.contains("`filter` must be NAME=VALUE"), "{refused}");
    let refused = stderr_of(&create(&app, &["country=GB", "country=!US"]).await);
    assert!(refused.contains("`country` is given twice"), "{refused}");
    let refused = stderr_of(&create(&app, &["goal=Nope"]).await);
    assert!(refused.contains("--filter goal=Nope: example.com has no such goal"), "{refused}");

    let link = stdout_of(&create(&app, &["prop.plan=pro", "country=!US"]).await);
    assert!(link.starts_with("http://127.0.0.1:8080/dashboard/share?token=fft_"), "{link}");
    let listed = stdout_of(&run_footfall(&app.settings, &["share", "list"]).await);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].contains("LOCKED FILTERS"), "{listed}");
    // In the order reports apply them, as given.
    assert!(lines[1].contains(" country=!US; prop.plan=pro "), "{listed}");
    let stored = app.store.list_tokens().await.unwrap();
    assert_eq!(stored[0].locked_filters, "country=%21US&prop.plan=pro");
    app.stop().await;
}

#[tokio::test]
async fn a_locked_share_link_gets_only_the_locked_numbers_through_every_route() {
    let app = fixture_app().await;
    let created = run_footfall(&app.settings, &["share", "create", "--site", SITE, "--filter", "country=!US"]).await;
    let token = token_of(&stdout_of(&created));
    let (cookie, page) = share_session(&app, &token).await;
    assert!(page.contains("data-filter=\"country\" data-locked=\"true\""), "{page}");

    // The admin sees everyone: the locks below change every number.
    let all = get_report(&app, "timeseries", DAY).await.json::<Value>().await.unwrap();
    assert_eq!((&all["rows"][0]["views"], &all["rows"][0]["visitors"]), (&json!(6), &json!(5)));
    let now = get_report(&app, "realtime", "").await.json::<Value>().await.unwrap();
    assert_eq!((&now["views"], &now["visitors"]), (&json!(2), &json!(2)));

    for route in [Route::Bearer(token.clone()), Route::Session(cookie)] {
        let ok = |name: &'static str, query: String| {
            let route = &route;
            let app = &app;
            async move {
                let (status, answer) = route.get(app, name, &query).await;
                assert_eq!(status, 200, "{name}?{query}: {answer}");
                answer
            }
        };
        // Without filters, and with the locked filter given as it is locked: the same
        // numbers, of visitors 1, 4 and 5 only.
        for query in [DAY.to_string(), format!("{DAY}&country=%21US")] {
            let series = ok("timeseries", query.clone()).await;
            assert_eq!(series["filters"], json!({"country": "!US"}));
            assert_eq!((&series["rows"][0]["views"], &series["rows"][0]["visitors"]), (&json!(4), &json!(3)));
            let pages = ok("top-content", query.clone()).await;
            let rows: Vec<(&Value, &Value, &Value)> = pages["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| (&row["path"], &row["views"], &row["visitors"]))
                .collect();
            assert_eq!(
                rows,
                [
                    (&json!("/pricing"), &json!(2), &json!(2)),
                    (&json!("/"), &json!(1), &json!(1)),
                    (&json!("/blog"), &json!(1), &json!(1))
                ]
            );
            let countries = ok("countries", query.clone()).await;
            let rows: Vec<(&Value, &Value, &Value)> = countries["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| (&row["country"], &row["views"], &row["visitors"]))
                .collect();
            assert_eq!(rows, [(&json!("GB"), &json!(3), &json!(2)), (&json!("FR"), &json!(1), &json!(1))]);
            let goals = ok("goals", query.clone()).await;
            assert_eq!(goals["total_visitors"], 3);
            assert_eq!(
                goals["rows"],
                json!([
                    {"name": "Pricing", "conversions": 2, "visitors": 2, "conversion_rate": 0.6667},
                    {"name": "Signed up", "conversions": 2, "visitors": 2, "conversion_rate": 0.6667},
                ])
            );
        }
        // Other filters narrow further: visitor 1 is the only one on / among them.
        let home = ok("timeseries", format!("{DAY}&page=%2F")).await;
        assert_eq!(home["filters"], json!({"page": "/", "country": "!US"}));
        assert_eq!((&home["rows"][0]["views"], &home["rows"][0]["visitors"]), (&json!(1), &json!(1)));
        // Realtime: visitor 6 of the last minute, not visitor 7.
        let now = ok("realtime", String::new()).await;
        assert_eq!((&now["views"], &now["visitors"]), (&json!(1), &json!(1)));
        // Every other report is narrowed too (its answer names the filter).
        for (name, query) in [
            ("busiest-times", DAY.to_string()),
            ("content-discovery", DAY.to_string()),
            ("publish-timing", DAY.to_string()),
            ("sources", DAY.to_string()),
            ("devices", DAY.to_string()),
            ("events", DAY.to_string()),
            ("events", format!("{DAY}&event=signup&breakdown=prop.plan")),
            ("funnel", format!("{DAY}&funnel=Buy")),
        ] {
            assert_eq!(ok(name, query).await["filters"], json!({"country": "!US"}), "{name}");
        }

        // Another value, the negation, another negation: refused, naming the filter.
        for other in ["GB", "US", "%21FR"] {
            let (status, answer) = route.get(&app, "timeseries", &format!("{DAY}&country={other}")).await;
            assert_eq!(status, 403, "country={other}: {answer}");
            assert_eq!(answer["field"], "country");
            assert!(answer["error"].as_str().unwrap().contains("`country` is locked to `!US` by this share link"));
        }
        // A report that takes no filter cannot be narrowed: refused.
        let (status, answer) = route.get(&app, "not-stored", DAY).await;
        assert_eq!((status, &answer["field"]), (403, &json!("country")), "{answer}");
    }
    app.stop().await;
}
