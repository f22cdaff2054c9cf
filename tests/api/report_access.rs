//! Reports: who may read them (admin token, per-site tokens from `footfall tokens`),
//! and bad input answered 4xx with the parameter named (the OpenAPI document: `openapi.rs`).

use std::process::Output;

use serde_json::Value;

use crate::helpers::{
    child_env, eventually_matches, footfall_binary, metric, spawn_app, spawn_app_with, TestApp, SITE,
};
use crate::reports::{get_report, ADMIN};

const RANGE: &str = "from=2026-03-27&to=2026-03-29";

/// Runs the `footfall` command against the app's database.
async fn footfall(app: &TestApp, args: &[&str]) -> Output {
    tokio::process::Command::new(footfall_binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(child_env(&app.settings))
        .output()
        .await
        .expect("footfall runs")
}

async fn create_token(app: &TestApp, site: &str) -> String {
    let output = footfall(app, &["tokens", "create", "--site", site, "--label", "dashboard"]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("fft_"), "{token}");
    token
}

async fn get_with(app: &TestApp, site: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.http.get(format!("{}/api/v1/sites/{site}/reports/top-content?{RANGE}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Polls until the request answers `status`: sites and tokens made by the CLI are picked up
/// when a request misses them, at most once a second, or by the 10 s refresh.
async fn wait_for_status(app: &TestApp, site: &str, token: &str, status: u16) {
    eventually_matches(
        format!("{site}: still not {status}, (status, body)"),
        |(got, _)| *got == status,
        || get_with(app, site, Some(token)),
    )
    .await;
}

fn assert_error(status: u16, body: &Value, expected_status: u16, field: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["field"], field, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
}

#[tokio::test]
async fn tokens_are_needed_and_limited_to_their_site() {
    let app = spawn_app().await;
    footfall(&app, &["sites", "add", "other.example", "--timezone", "UTC"]).await;

    // No token, a malformed one, a well-formed unknown one: 401.
    let (status, body) = get_with(&app, SITE, None).await;
    assert_error(status, &body, 401, "Authorization");
    let (status, body) = get_with(&app, SITE, Some("not-a-token")).await;
    assert_error(status, &body, 401, "Authorization");
    let unknown = format!("fft_{}_{}", "0".repeat(12), "0".repeat(64));
    let (status, body) = get_with(&app, SITE, Some(&unknown)).await;
    assert_error(status, &body, 401, "Authorization");

    // The admin token reads every site.
    assert_eq!(get_with(&app, SITE, Some(ADMIN)).await.0, 200);
    wait_for_status(&app, "other.example", ADMIN, 200).await;

    // A site token reads its site at once, not another one (existing or not).
    let token = create_token(&app, SITE).await;
    wait_for_status(&app, SITE, &token, 200).await;
    let (status, body) = get_with(&app, "other.example", Some(&token)).await;
    assert_error(status, &body, 403, "Authorization");
    let (status, body) = get_with(&app, "nowhere.example", Some(&token)).await;
    assert_error(status, &body, 403, "Authorization");

    // A token with one character changed is unknown.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let (status, _) = get_with(&app, SITE, Some(&String::from_utf8(tampered).unwrap())).await;
    assert_eq!(status, 401);

    // Only the hash is stored.
    let stored: Vec<String> =
        app.store.client().query("SELECT concat(id, site, hash, label) FROM report_tokens").fetch_all().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(token.split('_').nth(2).unwrap()), "the secret is not stored");

    // list shows it; revoke refuses it within the refresh interval.
    let listed = footfall(&app, &["tokens", "list", "--site", SITE]).await;
    let listed = String::from_utf8(listed.stdout).unwrap();
    let id = token.split('_').nth(1).unwrap();
    assert!(listed.contains(id) && listed.contains("dashboard"), "{listed}");
    assert!(!listed.contains(&token), "{listed}");
    let revoked = footfall(&app, &["tokens", "revoke", id]).await;
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    wait_for_status(&app, SITE, &token, 401).await;
    let again = footfall(&app, &["tokens", "revoke", id]).await;
    assert!(!again.status.success(), "revoking twice fails");
}

/// The first lines of the README's "Try it", pasted at once into a running collector
/// that re-reads sites and tokens only hourly: each works at the first try.
#[tokio::test(flavor = "multi_thread")]
async fn a_site_token_and_share_link_made_while_running_work_at_once() {
    let app = spawn_app_with(|settings| {
        settings.ingest.sites_refresh_secs = 3600.0;
        settings.reports.tokens_refresh_secs = 3600.0;
    })
    .await;
    let added = footfall(&app, &["sites", "add", "fresh.example", "--timezone", "UTC"]).await;
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let event = serde_json::json!({"site": "fresh.example", "name": "pageview", "url": "https://fresh.example/a"});
    assert_eq!(app.post_event(&event).await.status(), 202, "a site added a moment ago is taken at once");
    app.wait_for_events(1).await;
    let unknown = serde_json::json!({"site": "nobody.example", "name": "pageview", "url": "https://nobody.example/"});
    assert_eq!(app.post_event(&unknown).await.status(), 404);
    assert_eq!(metric(&app.metrics().await, r#"footfall_events_rejected_total{reason="unknown_site"}"#), 1);

    let token = create_token(&app, "fresh.example").await;
    let (status, body) = get_with(&app, "fresh.example", Some(&token)).await;
    assert_eq!(status, 200, "a token made a moment ago works at the first try: {body}");

    // A share link is a token of its own kind: listed and revoked as a share link only.
    let shared = footfall(&app, &["share", "create", "--site", "fresh.example", "--label", "board"]).await;
    assert!(shared.status.success(), "{}", String::from_utf8_lossy(&shared.stderr));
    let link = String::from_utf8(shared.stdout).unwrap();
    let share_token = link.trim().rsplit("token=").next().unwrap().to_string();
    let share_id = share_token.split('_').nth(1).unwrap();
    let shares = String::from_utf8(footfall(&app, &["share", "list"]).await.stdout).unwrap();
    let tokens = String::from_utf8(footfall(&app, &["tokens", "list"]).await.stdout).unwrap();
    assert!(shares.contains(share_id) && shares.contains("board"), "{shares}");
    assert!(!tokens.contains(share_id), "{tokens}");
    assert!(tokens.contains(token.split('_').nth(1).unwrap()), "{tokens}");
    let wrong_kind = footfall(&app, &["tokens", "revoke", share_id]).await;
    assert!(!wrong_kind.status.success());
    assert!(String::from_utf8_lossy(&wrong_kind.stderr).contains("`footfall tokens list` shows the ids"));
    let revoked = footfall(&app, &["share", "revoke", share_id]).await;
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    assert!(!String::from_utf8(footfall(&app, &["share", "list"]).await.stdout).unwrap().contains(share_id));
    app.stop().await;
}

#[tokio::test]
async fn tokens_need_a_registered_site() {
    let app = spawn_app().await;
    let output = footfall(&app, &["tokens", "create", "--site", "nowhere.example"]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no site nowhere.example is registered"));
    assert!(output.stdout.is_empty(), "no token is printed");
}

/// `(what, report, query string, status, field)`.
fn bad_requests() -> Vec<(&'static str, String, String, u16, &'static str)> {
    let nasty = "%27%29%3B%20DROP%20TABLE%20events%3B%20--";
    let mut cases = vec![
        ("unknown report", "top-pages".to_string(), RANGE.to_string(), 404, "report"),
        ("no from", "top-content".into(), "to=2026-03-29".into(), 400, "from"),
        ("no to", "top-content".into(), "from=2026-03-27".into(), 400, "to"),
        ("bad date", "top-content".into(), "from=2026-13-01&to=2026-12-31".into(), 400, "from"),
        ("date with time", "top-content".into(), "from=2026-03-27T00:00&to=2026-03-29".into(), 400, "from"),
        ("from after to", "top-content".into(), "from=2026-03-30&to=2026-03-29".into(), 400, "from"),
        ("range over 366 days", "timeseries".into(), "from=2025-01-01&to=2026-01-02".into(), 400, "to"),
        ("bad tz", "busiest-times".into(), format!("{RANGE}&tz=Europe%2FAtlantis"), 400, "tz"),
        ("long tz", "busiest-times".into(), format!("{RANGE}&tz={}", "A".repeat(65)), 400, "tz"),
        ("limit zero", "top-content".into(), format!("{RANGE}&limit=0"), 400, "limit"),
        ("limit too big", "top-content".into(), format!("{RANGE}&limit=100000"), 400, "limit"),
        ("limit on a grid", "busiest-times".into(), format!("{RANGE}&limit=5"), 400, "limit"),
        ("long path", "top-content".into(), format!("{RANGE}&path=%2F{}", "a".repeat(600)), 400, "path"),
        ("relative path", "top-content".into(), format!("{RANGE}&path=blog"), 400, "path"),
        ("long source", "sources".into(), format!("{RANGE}&source={}.com", "a".repeat(260)), 400, "source"),
        ("bad interval", "timeseries".into(), format!("{RANGE}&interval=minute"), 400, "interval"),
        ("interval elsewhere", "top-content".into(), format!("{RANGE}&interval=hour"), 400, "interval"),
        ("unknown parameter", "top-content".into(), format!("{RANGE}&order=views"), 400, "order"),
        ("repeated parameter", "top-content".into(), format!("{RANGE}&from=2026-03-28"), 400, "from"),
        ("realtime with a range", "realtime".into(), RANGE.into(), 400, "from"),
    ];
    for (name, base) in [
        ("from", "to=2026-03-29"),
        ("to", "from=2026-03-27"),
        ("tz", RANGE),
        ("limit", RANGE),
        ("path", RANGE),
        ("source", RANGE),
        ("interval", RANGE),
    ] {
        let report = if name == "interval" { "timeseries" } else { "top-content" };
        cases.push(("SQL in a parameter", report.into(), format!("{base}&{name}={nasty}"), 400, name));
        cases.push(("SQL after a valid value", report.into(), format!("{base}&{name}=%2F{nasty}"), 400, name));
    }
    cases.push(("SQL as the report", format!("top-content{nasty}"), RANGE.into(), 404, "report"));
    cases
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_parameter() {
    let app = spawn_app().await;
    for (what, report, query, status, field) in bad_requests() {
        let response = get_report(&app, &report, &query).await;
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
        assert_eq!((got, body["field"].as_str()), (status, Some(field)), "{what}: {report}?{query} -> {body}");
    }

    // The site: not a domain (400), not registered (404).
    let url = |site: &str| format!("{}/api/v1/sites/{site}/reports/top-content?{RANGE}", app.address);
    for (site, status) in [("exa%27mple.com", 400), ("example.com%3B%20DROP", 400), ("unknown.example", 404)] {
        let response = app.http.get(url(site)).bearer_auth(ADMIN).send().await.unwrap();
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!((got, body["field"].as_str()), (status, Some("site")), "{site}: {body}");
    }

    // Nothing reached the events table, and it is still there.
    let count: u64 = app.store.client().query("SELECT count() FROM events").fetch_one().await.unwrap();
    assert_eq!(count, 0);
}
