//! Small-count protection of filtered requests (privacy rule 6, issue 14): with a
//! read-only site token, a report request whose filters match fewer than
//! `reports.min_visitors` visitors in its range is refused with one 403 answer, the same
//! for 0 matching visitors as for 1..N-1, in every report (the list comes from
//! `ReportName::ALL`), as JSON, as CSV and through the dashboard; so probing `path=` one
//! character at a time, or guessing `source=` hosts, extracts nothing. Filters that match
//! enough visitors answer as before, with exact numbers; the admin token is exempt; the
//! Grafana export holds every row it shows to the threshold.
//!
//! The planted data: one visitor views `/secret-page-xyz`, arriving from
//! `intranet.secret-corp.example` with an unusual browser and country; six visitors view
//! `/search`, arriving from `news.example.org`. All at one instant 30 s ago, so the
//! ranged reports (from = to = that local day) and realtime see the same events.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveTime, SecondsFormat, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use footfall::auth::{TokenKind, TokenRecord};
use footfall::dashboard::definition::Catalog;
use footfall::dashboard::grafana;
use footfall::goals::{Funnel, Goal, GoalName, Target};
use footfall::reports::ReportName;
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{eventually_matches, spawn_app_with, TestApp, SITE};
use crate::reports::ADMIN;

/// `reports.min_visitors` of these tests (the default).
const K: u64 = 5;
const SECRET_PATH: &str = "/secret-page-xyz";
const SECRET_HOST: &str = "intranet.secret-corp.example";
const PUBLIC_PATH: &str = "/search";
const PUBLIC_HOST: &str = "news.example.org";
/// Visitors of [`PUBLIC_PATH`] (from [`PUBLIC_HOST`]); [`SECRET_PATH`] has one.
const PUBLIC_VISITORS: u64 = 6;
const LONDON: Tz = chrono_tz::Europe::London;
/// Characters the prober tries after each prefix (URL-safe, no `+`).
const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz0123456789-_./";
/// Longest prefix the prober builds, and most requests it sends.
const MAX_PREFIX: usize = 40;
const MAX_PROBES: usize = 4000;

/// The app with the planted events, a read-only token for the site, and the events' time.
struct Planted {
    app: TestApp,
    token: String,
    /// When every planted event happened, UTC seconds.
    ts: u32,
    /// Its local date (`YYYY-MM-DD`): the range of the ranged reports.
    day: String,
}

fn view(ts: u32, path: &str, visitor: u64, host: &str) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts,
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        referrer_host: host.into(),
        referrer_path: "/".into(),
        source_class: "other".into(),
        visitor,
        session: visitor * 10,
        entry: 1,
        browser: "Firefox".into(),
        os: "Linux".into(),
        device: "desktop".into(),
        country: "GB".into(),
        screen: "desktop".into(),
        ..EventRow::default()
    }
}

async fn planted() -> Planted {
    let app = spawn_app_with(|settings| {
        settings.reports.min_visitors = K;
        settings.reports.summarize_every_secs = 0;
    })
    .await;
    let ts = Utc::now().timestamp() as u32 - 30;
    let mut events: Vec<EventRow> = (0..PUBLIC_VISITORS).map(|i| view(ts, PUBLIC_PATH, 11 + i, PUBLIC_HOST)).collect();
    events.push(EventRow {
        browser: "Safari".into(),
        os: "macOS".into(),
        country: "IS".into(),
        ..view(ts, SECRET_PATH, 1, SECRET_HOST)
    });
    // The site's first view, two weeks earlier: the planted pages are new content.
    events.push(view(ts - 14 * 86_400, "/", 99, PUBLIC_HOST));
    app.store.insert_events(&events).await.expect("the planted events are stored");

    // A read-only report token, stored as `footfall tokens create` stores it.
    let new = footfall::auth::new_token();
    let record = TokenRecord {
        id: new.id,
        site: SITE.into(),
        hash: new.hash,
        label: "probe".into(),
        created_at: 0,
        kind: TokenKind::Report,
        locked_filters: String::new(),
    };
    app.store.put_token(&record).await.unwrap();
    let day = LONDON.timestamp_opt(i64::from(ts), 0).unwrap().date_naive().to_string();
    let planted = Planted { app, token: new.token, ts, day };
    // The collector learns the token when a request misses it (at most once a second).
    eventually_matches(
        "the token still gets (status, body)",
        |(status, _)| *status == 200,
        || planted.get(&planted.token, "timeseries", ""),
    )
    .await;
    planted
}

impl Planted {
    /// The query string of `report` for the planted day with `filters` appended.
    fn query(&self, report: &str, filters: &str) -> String {
        let range = if report == "realtime" { String::new() } else { format!("from={0}&to={0}", self.day) };
        [range, filters.to_string()].into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("&")
    }

    /// GET `report` with `filters` and a bearer token: status and body text.
    async fn get(&self, token: &str, report: &str, filters: &str) -> (u16, String) {
        self.get_as(token, report, filters, "application/json").await
    }

    async fn get_as(&self, token: &str, report: &str, filters: &str, accept: &str) -> (u16, String) {
        let url = format!("{}/api/v1/sites/{SITE}/reports/{report}?{}", self.app.address, self.query(report, filters));
        let response =
            self.app.http.get(url).bearer_auth(token).header("Accept", accept).send().await.expect("request is sent");
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// GET `report` through the dashboard with session `cookie`.
    async fn dashboard(&self, cookie: &str, report: &str, filters: &str) -> (u16, String) {
        let url =
            format!("{}/dashboard/api/sites/{SITE}/reports/{report}?{}", self.app.address, self.query(report, filters));
        let response = self.app.http.get(url).header("Cookie", cookie).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Logs in to the dashboard with `token`; the session cookie.
    async fn login(&self, token: &str) -> String {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response =
            http.post(format!("{}/dashboard/login", self.app.address)).form(&[("token", token)]).send().await.unwrap();
        assert_eq!(response.status(), 303, "login with the token");
        let header = response.headers()["set-cookie"].to_str().unwrap().to_string();
        header.split(';').next().unwrap().to_string()
    }

    /// Local RFC 3339 time of `instant`, as reports print it.
    fn local(&self, instant: u32) -> String {
        LONDON.timestamp_opt(i64::from(instant), 0).unwrap().to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

/// The one answer every refused request gets for `field`, whatever matched.
fn refusal(field: &str) -> Value {
    json!({
        "error": format!(
            "fewer than {K} visitors match this filter (`{field}`) in the range; counts this small are not shown \
             (`reports.min_visitors`), so widen the filter or the range"
        ),
        "field": field,
    })
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Visitors of the planted data whose path starts with `prefix`.
fn visitors_under(prefix: &str) -> u64 {
    PUBLIC_VISITORS * u64::from(PUBLIC_PATH.starts_with(prefix)) + u64::from(SECRET_PATH.starts_with(prefix))
}

/// The views a timeseries answer shows, if it is one.
fn shown_views(status: u16, body: &str) -> u64 {
    if status != 200 {
        return 0;
    }
    json_of(body)["rows"].as_array().unwrap().iter().map(|row| row["views"].as_u64().unwrap()).sum()
}

/// Whether an answer shows any views or sessions, anywhere in it.
fn shows_counts(answer: &Value) -> bool {
    match answer {
        Value::Object(fields) => fields.iter().any(|(name, value)| {
            (["views", "sessions"].contains(&name.as_str()) && value.as_u64().is_some_and(|n| n > 0))
                || shows_counts(value)
        }),
        Value::Array(items) => items.iter().any(shows_counts),
        _ => false,
    }
}

#[tokio::test]
async fn probing_path_prefixes_one_character_at_a_time_extracts_nothing() {
    let p = planted().await;

    // The attacker: extend every prefix that shows views by each character, depth first.
    let (mut shown, mut answers) = (BTreeSet::new(), Vec::new());
    let mut prefixes = vec!["/".to_string()];
    while let Some(prefix) = prefixes.pop() {
        for c in ALPHABET.chars() {
            let candidate = format!("{prefix}{c}");
            let (status, body) = p.get(&p.token, "timeseries", &format!("path={candidate}")).await;
            assert!(answers.len() < MAX_PROBES, "the probe is bounded");
            if shown_views(status, &body) > 0 {
                shown.insert(candidate.clone());
                if candidate.len() < MAX_PREFIX {
                    prefixes.push(candidate.clone());
                }
            }
            answers.push((candidate, status, body));
        }
    }
    let public: BTreeSet<String> = (2..=PUBLIC_PATH.len()).map(|n| PUBLIC_PATH[..n].to_string()).collect();
    assert_eq!(shown, public, "the probe learns the public page only");
    assert_eq!(answers.len(), ALPHABET.len() * (1 + public.len()), "7 prefixes were extended");

    // Every prefix matching fewer than K visitors got the one refusal, 0 matching or 1.
    let nothing = p.get(&p.token, "timeseries", "path=/nothing-matches-this").await;
    assert_eq!((nothing.0, json_of(&nothing.1)), (403, refusal("path")), "0 visitors");
    let mut refused_secret = 0;
    for (candidate, status, body) in &answers {
        let matching = visitors_under(candidate);
        if matching < K {
            assert_eq!((*status, body), (nothing.0, &nothing.1), "{candidate}: {matching} visitors");
            refused_secret += usize::from(matching > 0);
        } else {
            assert_eq!(*status, 200, "{candidate}: {body}");
        }
    }
    assert_eq!(refused_secret, 1, "only /sec was tried: it showed nothing to extend");

    // Where the public page has enough visitors, the numbers are exact.
    let (status, body) = p.get(&p.token, "timeseries", &format!("path={PUBLIC_PATH}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["rows"][0]["views"], PUBLIC_VISITORS);
    assert_eq!(json_of(&body)["rows"][0]["visitors"], PUBLIC_VISITORS);
    p.app.stop().await;
}

#[tokio::test]
async fn guessing_referrer_hosts_in_source_extracts_nothing() {
    let p = planted().await;
    // The attacker's guesses: the real host, its near misses, common hosts and classes.
    let mut guesses: Vec<String> = vec![SECRET_HOST.into(), PUBLIC_HOST.into(), "www.google.com".into(), "t.co".into()];
    guesses.extend(["direct", "internal", "search", "social", "other"].map(String::from));
    for (i, c) in SECRET_HOST.char_indices().filter(|(_, c)| c.is_ascii_lowercase()) {
        let other = if c == 'a' { 'b' } else { 'a' };
        guesses.push(format!("{}{other}{}", &SECRET_HOST[..i], &SECRET_HOST[i + 1..]));
    }
    guesses.push("mail.secret-corp.example".into());
    let visitors_from = |guess: &str| match guess {
        PUBLIC_HOST => PUBLIC_VISITORS,
        SECRET_HOST => 1,
        "other" => PUBLIC_VISITORS + 1,
        _ => 0,
    };
    // The attacker learns a host is real when a report shows views or sessions for it.
    let (mut confirmed, mut answers) = (BTreeSet::new(), Vec::new());
    for report in ["timeseries", "busiest-times", "realtime", "sources"] {
        for guess in &guesses {
            let (status, body) = p.get(&p.token, report, &format!("source={guess}")).await;
            if status == 200 && shows_counts(&json_of(&body)) {
                confirmed.insert(guess.clone());
            }
            answers.push((report, guess.clone(), status, body));
        }
    }
    assert_eq!(confirmed, BTreeSet::from([PUBLIC_HOST.to_string(), "other".to_string()]));

    for report in ["timeseries", "busiest-times", "realtime", "sources"] {
        let nothing = p.get(&p.token, report, "source=nothing.example").await;
        assert_eq!((nothing.0, json_of(&nothing.1)), (403, refusal("source")), "{report}");
        for (_, guess, status, body) in answers.iter().filter(|answer| answer.0 == report) {
            if visitors_from(guess) < K {
                assert_eq!((*status, body), (nothing.0, &nothing.1), "{report}?source={guess}");
            } else {
                assert_eq!(*status, 200, "{report}?source={guess}: {body}");
            }
        }
        // Combined with a path: the filters together must reach K.
        let both = p.get(&p.token, report, &format!("path=/&source={SECRET_HOST}")).await;
        assert_eq!((both.0, json_of(&both.1)), (403, refusal("path,source")), "{report}");
    }

    // The public host answers with exact numbers.
    let (status, body) = p.get(&p.token, "timeseries", &format!("source={PUBLIC_HOST}")).await;
    assert_eq!(status, 200, "{body}");
    let row = &json_of(&body)["rows"][0];
    assert_eq!((&row["views"], &row["visitors"]), (&json!(PUBLIC_VISITORS), &json!(PUBLIC_VISITORS)));
    let (_, body) = p.get(&p.token, "sources", "source=other").await;
    assert_eq!(json_of(&body)["rows"][0]["referrer_host"], PUBLIC_HOST, "the secret host's row is folded");
    assert_eq!(json_of(&body)["rows"][1]["referrer_host"], "(other)");
    p.app.stop().await;
}

/// The full answer of `report` for `path=/search` over the planted day.
fn expected_public_answer(p: &Planted, report: ReportName) -> Value {
    let n = PUBLIC_VISITORS;
    let mut answer = json!({
        "report": report.as_str(), "site": SITE, "from": p.day, "to": p.day, "tz": "Europe/London",
        "filters": {"path": PUBLIC_PATH},
    });
    let small_counts = json!({"min_visitors": K, "folded_rows": 0, "other_visitors": null});
    let local = LONDON.timestamp_opt(i64::from(p.ts), 0).unwrap();
    let more = match report {
        ReportName::TopContent => json!({
            "rows": [{"path": PUBLIC_PATH, "views": n, "visitors": n, "entries": n, "avg_engaged_seconds": 0.0, "engaged_minutes": 0.0, "median_engaged_seconds": 0.0, "engaged_view_share": 0.0, "read_through_share": 0.0}],
            "small_counts": small_counts,
            "sort": "views",
        }),
        ReportName::ContentDiscovery => json!({
            "rows": [{
                "path": PUBLIC_PATH, "title": null, "published_at": null, "first_view_at": p.local(p.ts), "hours_to_first_view": null,
                "views_24h": n, "visitors_24h": n, "views_7d": n, "visitors_7d": n,
                "internal_share": 0.0, "search_share": 0.0, "social_share": 0.0, "other_share": 1.0,
                "direct_share": 0.0, "returning_share": 0.0, "hours_to_10_visitors": null,
                "hours_to_100_visitors": null, "vs_typical_24h": null, "median_engaged_seconds_7d": 0.0,
                "read_through_share_7d": 0.0, "top_referrers": [{"host": PUBLIC_HOST, "visitors": n}],
                "internal_from": [], "found": true, "suppressed": false,
            }],
            "totals": {"pages": 1, "found": 1, "views_24h": n, "visitors_24h": n, "views_7d": n, "visitors_7d": n},
            "small_counts": small_counts,
        }),
        ReportName::Sources => json!({
            "rows": [{"referrer_host": PUBLIC_HOST, "source_class": "other", "utm_source": "", "utm_medium": "",
                      "utm_campaign": "", "sessions": n, "visitors": n}],
            "small_counts": small_counts,
        }),
        ReportName::Devices => json!({
            "rows": [{"browser": "Firefox", "os": "Linux", "device": "desktop", "views": n, "visitors": n}],
            "small_counts": small_counts,
        }),
        ReportName::Countries => json!({
            "rows": [{"country": "GB", "views": n, "visitors": n}],
            "small_counts": small_counts,
        }),
        ReportName::Timeseries => {
            let midnight = local.date_naive().and_time(NaiveTime::MIN);
            let start = LONDON.from_local_datetime(&midnight).earliest().unwrap().timestamp() as u32;
            json!({"interval": "day", "rows": [{"start": p.local(start), "views": n, "visitors": n}]})
        }
        ReportName::BusiestTimes => {
            let (weekday, hour) = (u64::from(local.weekday().number_from_monday()), u64::from(local.hour()));
            let grid: Vec<Value> = (1..=7u64)
                .flat_map(|w| (0..24u64).map(move |h| (w, h)))
                .map(|(w, h)| {
                    let count = if (w, h) == (weekday, hour) { n } else { 0 };
                    // One December day: each of its hours occurs once.
                    let occurrences = u64::from(w == weekday);
                    json!({"weekday": w, "hour": h, "views": count, "visitors": count, "occurrences": occurrences})
                })
                .collect();
            let window = p.ts - p.ts % 900;
            json!({
                "measure": "total",
                "grid": grid,
                "peak": {"weekday": weekday, "hour": hour, "views": n, "visitors": n, "occurrences": 1},
                "windows": [{"start": p.local(window), "end": p.local(window + 900), "views": n}],
            })
        }
        ReportName::PublishTiming => {
            let (weekday, hour) = (u64::from(local.weekday().number_from_monday()), u64::from(local.hour()));
            let grid: Vec<Value> = (1..=7u64)
                .flat_map(|w| (0..24u64).map(move |h| (w, h)))
                .map(|(w, h)| {
                    let (pages, median) =
                        if (w, h) == (weekday, hour) { (1, json!(n as f64)) } else { (0, Value::Null) };
                    json!({"weekday": w, "hour": h, "pages": pages, "median_visitors_24h": median})
                })
                .collect();
            json!({"min_visitors": K, "pages": 1, "best": [], "grid": grid})
        }
        // Its window is the last 5 minutes (`since`/`until` are compared apart).
        ReportName::Realtime => {
            answer = json!({"report": "realtime", "site": SITE, "tz": "Europe/London"});
            json!({"views": n, "visitors": n})
        }
        // The fixture has no custom event and no goal: only the visitors of the range.
        ReportName::Events | ReportName::Goals => {
            json!({"rows": [], "total_visitors": n, "small_counts": small_counts})
        }
        ReportName::NotStored => unreachable!("not-stored takes no filters"),
        ReportName::Funnel => unreachable!("funnel is checked in tests/api/conversions.rs"),
    };
    answer.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
    answer
}

#[tokio::test]
async fn every_report_refuses_a_small_filter_and_answers_a_large_one_exactly() {
    let p = planted().await;
    let cookie = p.login(&p.token).await;
    let small = [
        (format!("path={SECRET_PATH}"), "path"),
        ("path=/nothing-matches-this".to_string(), "path"),
        (format!("source={SECRET_HOST}"), "source"),
        (format!("path={PUBLIC_PATH}&source={SECRET_HOST}"), "path,source"),
    ];
    // not-stored takes no filters: a 400 (tests/api/not_stored.rs), before any count.
    // funnel needs a funnel defined; tests/api/conversions.rs checks its small counts.
    for report in ReportName::ALL.into_iter().filter(|report| report.takes_filters() && *report != ReportName::Funnel) {
        let name = report.as_str();
        for (filters, field) in &small {
            let what = format!("{name}?{filters}");
            let json = p.get(&p.token, name, filters).await;
            assert_eq!((json.0, json_of(&json.1)), (403, refusal(field)), "{what}");
            let csv = p.get_as(&p.token, name, filters, "text/csv").await;
            assert_eq!(csv, json, "{what} as CSV");
            let dashboard = p.dashboard(&cookie, name, filters).await;
            assert_eq!(dashboard, json, "{what} through the dashboard");
        }

        let filters = format!("path={PUBLIC_PATH}");
        let (status, body) = p.get(&p.token, name, &filters).await;
        assert_eq!(status, 200, "{name}: {body}");
        let mut got = json_of(&body);
        let (_, via_dashboard) = p.dashboard(&cookie, name, &filters).await;
        let mut via_dashboard = json_of(&via_dashboard);
        if report == ReportName::Realtime {
            for answer in [&mut got, &mut via_dashboard] {
                let object = answer.as_object_mut().unwrap();
                let (since, until) = (object.remove("since").unwrap(), object.remove("until").unwrap());
                assert!(since.as_str().unwrap() <= p.local(p.ts).as_str(), "{since}");
                assert!(until.as_str().unwrap() > p.local(p.ts).as_str(), "{until}");
            }
        }
        assert_eq!(got, expected_public_answer(&p, report), "{name}");
        assert_eq!(via_dashboard, got, "{name} through the dashboard");
        let (status, csv) = p.get_as(&p.token, name, &filters, "text/csv").await;
        assert_eq!(status, 200, "{name} as CSV: {csv}");
        if report == ReportName::Countries {
            assert_eq!(csv, format!("country,views,visitors\r\nGB,{0},{0}\r\n", PUBLIC_VISITORS));
        }
    }
    p.app.stop().await;
}

#[tokio::test]
async fn the_admin_token_is_exempt_from_the_filter_check() {
    let p = planted().await;
    let filters = format!("path={SECRET_PATH}");
    let admin_session = p.login(ADMIN).await;
    // funnel needs a funnel defined; tests/api/conversions.rs checks its small counts.
    for report in ReportName::ALL.into_iter().filter(|report| report.takes_filters() && *report != ReportName::Funnel) {
        let name = report.as_str();
        let (status, body) = p.get(&p.token, name, &filters).await;
        assert_eq!((status, json_of(&body)), (403, refusal("path")), "{name} with the site token");
        let (status, body) = p.get(ADMIN, name, &filters).await;
        assert_eq!(status, 200, "{name} with the admin token: {body}");
        let answer = json_of(&body);
        match report {
            ReportName::Timeseries => {
                let row = &answer["rows"][0];
                assert_eq!((&row["views"], &row["visitors"]), (&json!(1), &json!(1)));
            }
            ReportName::Realtime => assert_eq!((&answer["views"], &answer["visitors"]), (&json!(1), &json!(1))),
            ReportName::BusiestTimes => {
                assert_eq!((&answer["peak"]["views"], &answer["peak"]["visitors"]), (&json!(1), &json!(1)))
            }
            // Breakdown rows are still folded for the admin.
            ReportName::TopContent => assert_eq!(
                answer["rows"],
                json!([{"path": "(other)", "views": 1, "visitors": 1, "entries": 1, "avg_engaged_seconds": 0.0, "engaged_minutes": 0.0, "median_engaged_seconds": 0.0, "engaged_view_share": 0.0, "read_through_share": 0.0}])
            ),
            _ => {}
        }
        let (status, _) = p.dashboard(&admin_session, name, &filters).await;
        assert_eq!(status, 200, "{name} through an admin dashboard session");
    }
    p.app.stop().await;
}

/// Runs `sql` on the test server in the app's database; the JSON rows.
async fn run_sql(app: &TestApp, sql: &str) -> Vec<Value> {
    let response = app
        .http
        .post(crate::helpers::clickhouse_url())
        .query(&[("database", app.settings.clickhouse.database.as_str())])
        .body(format!("{sql} FORMAT JSON"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{text}\n{sql}");
    json_of(&text)["data"].as_array().unwrap().clone()
}

/// Every panel of every shipped dashboard, exported with `min_visitors`, run over the
/// planted hour: (dashboard/panel title, rows).
async fn grafana_rows(p: &Planted, min_visitors: u64) -> Vec<(String, Vec<Value>)> {
    let catalog = Catalog::load(std::path::Path::new("dashboards"));
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    let mut all = Vec::new();
    let conversions = crate::dashboard::conversions_dashboard("Deep");
    for dashboard in catalog.dashboards.iter().chain([&conversions]) {
        let exported = grafana::export(dashboard, &p.app.settings.clickhouse.database, min_visitors);
        // Text panels (grafana::dashboard_only) query nothing.
        for panel in exported["panels"].as_array().unwrap().iter().filter(|panel| panel["type"] != "text") {
            let sql = panel["targets"][0]["rawSql"].as_str().unwrap();
            let expanded = footfall::reports::grafana_sql::expand(sql, SITE, "Europe/London", p.ts - 3600, p.ts + 3600);
            let title = format!("{}/{}", dashboard.slug, panel["title"].as_str().unwrap());
            all.push((title, run_sql(&p.app, &expanded).await));
        }
    }
    all
}

#[tokio::test]
async fn grafana_panels_show_no_count_from_fewer_than_min_visitors() {
    let p = planted().await;
    // Goals of the public page (6 visitors), of the secret page (1) and of a sign-up that
    // one public visitor sent after the public page; funnel `Deep`: the public page, then
    // the sign-up.
    let signup = EventRow { name: "signup".into(), entry: 0, ..view(p.ts + 1, PUBLIC_PATH, 11, PUBLIC_HOST) };
    p.app.store.insert_events(&[signup]).await.unwrap();
    let goal = |name: &str, target| Goal { site: SITE.into(), name: GoalName::parse(name).unwrap(), target };
    p.app.store.put_goal(&goal("Public", Target::page(PUBLIC_PATH).unwrap())).await.unwrap();
    p.app.store.put_goal(&goal("Secret goal", Target::page(SECRET_PATH).unwrap())).await.unwrap();
    p.app.store.put_goal(&goal("Signed up", Target::event("signup").unwrap())).await.unwrap();
    let steps = vec![GoalName::parse("Public").unwrap(), GoalName::parse("Signed up").unwrap()];
    p.app.store.put_funnel(&Funnel::new(SITE, GoalName::parse("Deep").unwrap(), steps).unwrap()).await.unwrap();
    let secrets = [SECRET_PATH, SECRET_HOST, "Safari", "\"IS\"", "Secret goal"];

    // Unprotected, the planted data shows the secret rows: the checks below mean something.
    let open = serde_json::to_string(&grafana_rows(&p, 0).await).unwrap();
    for secret in secrets {
        assert!(open.contains(secret), "{secret} is in the unprotected panels");
    }

    let protected = grafana_rows(&p, K).await;
    for (panel, rows) in &protected {
        for row in rows {
            let text = row.to_string();
            assert!(secrets.iter().all(|secret| !text.contains(secret)), "{panel}: {text}");
            if let Some(visitors) = row.get("visitors").and_then(Value::as_str) {
                assert!(visitors.parse::<u64>().unwrap() >= K, "{panel}: {text}");
            }
        }
        let n = PUBLIC_VISITORS.to_string();
        match panel.as_str() {
            "overview/Top content" => {
                assert_eq!(rows.len(), 1, "{rows:?}");
                assert_eq!(
                    (&rows[0]["path"], &rows[0]["views"], &rows[0]["visitors"]),
                    (&json!(PUBLIC_PATH), &json!(n), &json!(n))
                );
            }
            "overview/Sources" => assert_eq!(
                rows,
                &vec![json!({"referrer_host": PUBLIC_HOST, "source_class": "other", "sessions": n, "visitors": n})]
            ),
            "overview/Countries" => assert_eq!(rows, &vec![json!({"country": "GB", "views": n, "visitors": n})]),
            "overview/Visitors" => assert_eq!(rows, &vec![json!({"visitors": (PUBLIC_VISITORS + 1).to_string()})]),
            "overview/Goals" => {
                assert_eq!(rows, &vec![json!({"name": "Public", "conversions": n, "visitors": n})])
            }
            // The sign-up's one visitor: its step shows no numbers, nor the drop-off to it.
            "conversions/Funnel" => assert_eq!(
                rows,
                &vec![
                    json!({"step": 1, "name": "Public", "visitors": n, "dropped_off": null, "drop_off_rate": null,
                           "conversion_rate": 1}),
                    json!({"step": 2, "name": "Signed up", "visitors": null, "dropped_off": null,
                           "drop_off_rate": null, "conversion_rate": null}),
                ]
            ),
            _ => {}
        }
    }

    // Above every count there is: nothing is shown (number panels add up no rows: 0).
    for (panel, rows) in grafana_rows(&p, PUBLIC_VISITORS + 2).await {
        let zero = |row: &Value| row.as_object().unwrap().values().all(|v| v == "0" || v.as_f64() == Some(0.0));
        if panel == "conversions/Funnel" {
            // The steps keep their names (the site's own goals), without numbers.
            assert!(rows.iter().all(|row| row["visitors"].is_null() && row["dropped_off"].is_null()), "{rows:?}");
            continue;
        }
        assert!(rows.is_empty() || (rows.len() == 1 && zero(&rows[0])), "{panel}: {rows:?}");
    }
    p.app.stop().await;
}
