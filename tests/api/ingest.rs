//! N valid events in, exactly N rows out, with the derived fields the reports rely on.

use clickhouse::Row;
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{
    metric, pageview, spawn_app, spawn_app_with, spawn_app_with_sites, wait_for_metric, CHROME_WINDOWS, SITE,
};

const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPAD_SAFARI: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

#[derive(Debug, PartialEq, Row, Deserialize)]
struct Derived {
    path: String,
    hostname: String,
    referrer_host: String,
    referrer_path: String,
    source_class: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    browser: String,
    os: String,
    device: String,
    screen: String,
    country: String,
}

struct Case {
    user_agent: &'static str,
    event: serde_json::Value,
    expected: Derived,
}

fn derived(
    path: &str,
    referrer: (&str, &str),
    source: &str,
    utm: (&str, &str, &str),
    client: (&str, &str, &str),
    screen: &str,
    country: &str,
) -> Derived {
    Derived {
        path: path.into(),
        hostname: if path.starts_with("/blog") { "blog.example.com".into() } else { "example.com".into() },
        referrer_host: referrer.0.into(),
        referrer_path: referrer.1.into(),
        source_class: source.into(),
        utm_source: utm.0.into(),
        utm_medium: utm.1.into(),
        utm_campaign: utm.2.into(),
        browser: client.0.into(),
        os: client.1.into(),
        device: client.2.into(),
        screen: screen.into(),
        country: country.into(),
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            user_agent: CHROME_WINDOWS,
            event: json!({"site": SITE, "name": "pageview",
                "url": "https://example.com/a?utm_source=news&utm_medium=email&utm_campaign=launch&email=x@y.z#top",
                "tz": "Europe/London", "screen": 1440}),
            expected: derived(
                "/a",
                ("", ""),
                "other",
                ("news", "email", "launch"),
                ("Chrome", "Windows", "desktop"),
                "desktop",
                "GB",
            ),
        },
        Case {
            user_agent: IPHONE_SAFARI,
            event: json!({"site": SITE, "name": "pageview", "url": "https://example.com/b",
                "referrer": "https://www.google.co.uk/search?q=secret", "tz": "America/New_York", "screen": 390}),
            expected: derived(
                "/b",
                ("www.google.co.uk", "/search"),
                "search",
                ("", "", ""),
                ("Safari", "iOS", "mobile"),
                "mobile",
                "US",
            ),
        },
        Case {
            user_agent: FIREFOX_LINUX,
            event: json!({"site": SITE, "name": "pageview", "url": "https://example.com/c",
                "referrer": "https://t.co/abc", "tz": "Asia/Kolkata", "screen": 1280}),
            expected: derived(
                "/c",
                ("t.co", "/abc"),
                "social",
                ("", "", ""),
                ("Firefox", "Linux", "desktop"),
                "laptop",
                "IN",
            ),
        },
        Case {
            user_agent: IPAD_SAFARI,
            event: json!({"site": SITE, "name": "pageview", "url": "https://blog.example.com/blog/post?page=2",
                "referrer": "https://example.com/c?ref=1", "tz": "Australia/Sydney", "screen": 820}),
            expected: derived(
                "/blog/post",
                ("example.com", "/c"),
                "internal",
                ("", "", ""),
                ("Safari", "iOS", "tablet"),
                "tablet",
                "AU",
            ),
        },
        Case {
            user_agent: CHROME_WINDOWS,
            event: json!({"site": SITE, "name": "pageview", "url": "https://example.com/d",
                "referrer": "https://news.example.org/item?id=1"}),
            expected: derived(
                "/d",
                ("news.example.org", "/item"),
                "other",
                ("", "", ""),
                ("Chrome", "Windows", "desktop"),
                "",
                "",
            ),
        },
        Case {
            user_agent: CHROME_WINDOWS,
            event: json!({"site": SITE, "name": "pageview", "url": "https://example.com/e"}),
            expected: derived("/e", ("", ""), "direct", ("", "", ""), ("Chrome", "Windows", "desktop"), "", ""),
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_events_are_stored_once_with_derived_fields() {
    let app = spawn_app().await;
    let cases = cases();
    for case in &cases {
        let response = app
            .http
            .post(format!("{}/api/event", app.address))
            .header("User-Agent", case.user_agent)
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(case.event.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        assert_eq!(response.text().await.unwrap(), "");
    }
    app.wait_for_events(cases.len() as u64).await;
    let rows: Vec<Derived> = app
        .store
        .client()
        .query(
            "SELECT path, hostname, referrer_host, referrer_path, source_class, utm_source, utm_medium, \
             utm_campaign, browser, os, device, screen, country FROM events ORDER BY path",
        )
        .fetch_all()
        .await
        .unwrap();
    let mut expected: Vec<Derived> = cases.into_iter().map(|case| case.expected).collect();
    expected.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(rows, expected);
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "footfall_events_accepted_total"), 6);
    assert_eq!(metric(&metrics, "footfall_events_stored_total"), 6);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn array_endpoint_stores_every_event_exactly_once() {
    let app = spawn_app().await;
    for chunk in 0..5 {
        let events: Vec<_> = (0..200)
            .map(|i| {
                let mut event = pageview(&format!("/p/{}", chunk * 200 + i));
                event["props"] = json!({"n": chunk * 200 + i});
                event
            })
            .collect();
        assert_eq!(app.post_events(&events).await.status().as_u16(), 202);
    }
    app.wait_for_events(1000).await;
    let distinct: u64 =
        app.store.client().query("SELECT uniqExact(prop_values[1]) FROM events").fetch_one().await.unwrap();
    assert_eq!(distinct, 1000);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bots_get_202_but_are_counted_not_stored() {
    let app = spawn_app().await;
    let bot = app
        .http
        .post(format!("{}/api/event", app.address))
        .header("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        .json(&pageview("/from-bot"))
        .send()
        .await
        .unwrap();
    assert_eq!(bot.status().as_u16(), 202);
    let headless = app
        .http
        .post(format!("{}/api/events", app.address))
        .header("User-Agent", "curl/8.5.0")
        .json(&[pageview("/from-curl"), pageview("/from-curl")])
        .send()
        .await
        .unwrap();
    assert_eq!(headless.status().as_u16(), 202);
    assert_eq!(app.post_event(&pageview("/from-person")).await.status().as_u16(), 202);
    app.wait_for_events(1).await;
    let paths: Vec<String> = app.store.client().query("SELECT path FROM events").fetch_all().await.unwrap();
    assert_eq!(paths, vec!["/from-person".to_string()]);
    wait_for_metric(&app.http, &app.address, "footfall_events_bot_total", 3).await;
    assert_eq!(metric(&app.metrics().await, "footfall_events_accepted_total"), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_the_origins_of_registered_sites_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/api/event", app.address))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    for origin in ["https://example.com", "https://blog.example.com", "https://partner.example.net"] {
        let response = preflight(origin).await.unwrap();
        assert_eq!(response.status().as_u16(), 204, "{origin}");
        assert_eq!(response.headers()["access-control-allow-origin"], origin);
        assert_eq!(response.headers()["access-control-allow-methods"], "POST");
        assert_eq!(response.headers()["access-control-allow-headers"], "content-type");
    }
    let foreign = preflight("https://evil.example").await.unwrap();
    assert_eq!(foreign.status().as_u16(), 403);
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
    let body: serde_json::Value = foreign.json().await.unwrap();
    assert_eq!(body["field"], "Origin");

    let from_partner = app
        .http
        .post(format!("{}/api/event", app.address))
        .header("Origin", "https://partner.example.net")
        .header("User-Agent", CHROME_WINDOWS)
        .json(&pageview("/embedded"))
        .send()
        .await
        .unwrap();
    assert_eq!(from_partner.status().as_u16(), 202);
    assert_eq!(from_partner.headers()["access-control-allow-origin"], "https://partner.example.net");
    app.wait_for_events(1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_but_the_empty_202_carries_security_headers() {
    let app = spawn_app().await;
    for (method, path) in [("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/api/event"), ("GET", "/no/such/page")] {
        let response = app
            .http
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .header("User-Agent", CHROME_WINDOWS)
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'", "{path}");
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin", "{path}");
    }
    // The acknowledgement of an event: no body to show, frame or sniff, nothing to follow.
    let accepted = app
        .http
        .post(format!("{}/api/event", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .header("Origin", format!("https://{SITE}"))
        .json(&json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/")}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    let mut names: Vec<&str> = accepted.headers().keys().map(|name| name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["access-control-allow-origin", "content-length", "date", "vary"]);
    app.wait_for_events(1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_over_its_rate_gets_429_and_is_counted() {
    let app = spawn_app_with(|settings| {
        settings.ingest.rate_limit_per_second = 1;
        settings.ingest.rate_limit_burst = 5;
        // The test speaks for a client behind a trusted proxy on loopback.
        settings.ingest.client_ip_header = Some("X-Forwarded-For".into());
        settings.ingest.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let response = app
            .http
            .post(format!("{}/api/event", app.address))
            .header("User-Agent", CHROME_WINDOWS)
            .header("X-Forwarded-For", "203.0.113.50")
            .json(&pageview(&format!("/{i}")))
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=2).contains(&retry_after), "{retry_after}");
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, vec![202, 202, 202, 202, 202, 429, 429, 429]);
    // The admin token is exempt (server-side imports).
    let admin = app
        .http
        .post(format!("{}/api/event", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .header("X-Forwarded-For", "203.0.113.50")
        .bearer_auth(app.settings.admin_token.as_deref().unwrap())
        .json(&pageview("/admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status().as_u16(), 202);
    app.wait_for_events(6).await;
    assert_eq!(metric(&app.metrics().await, "footfall_events_rejected_total{reason=\"rate_limited\"}"), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_admin_may_set_the_event_time() {
    let app = spawn_app().await;
    let mut event = pageview("/backfilled");
    event["ts"] = json!("2026-01-15T10:15:00Z");
    let admin = app
        .http
        .post(format!("{}/api/event", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .header("X-Forwarded-For", "203.0.113.50")
        .bearer_auth(app.settings.admin_token.as_deref().unwrap())
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status().as_u16(), 202);
    event["url"] = json!("https://example.com/not-backfilled");
    assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
    app.wait_for_events(2).await;
    let times: Vec<(String, String)> = app
        .store
        .client()
        .query("SELECT path, toString(toDate(ts)) FROM events ORDER BY path")
        .fetch_all::<PathDay>()
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.path, row.day))
        .collect();
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(
        times,
        vec![("/backfilled".to_string(), "2026-01-15".to_string()), ("/not-backfilled".to_string(), today)]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consent_mode_site_takes_only_events_that_carry_consent() {
    const CONSENT_SITE: &str = "consent.example.org";
    let consent_site = footfall::sites::Site::new(CONSENT_SITE, "UTC", &[]).unwrap().with_consent(true);
    let app = spawn_app_with_sites(&[consent_site], |_| {}).await;
    let event =
        |path: &str| json!({"site": CONSENT_SITE, "name": "pageview", "url": format!("https://{CONSENT_SITE}{path}")});

    let refused = app.post_event(&event("/no-consent")).await;
    assert_eq!(refused.status().as_u16(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["field"], "consent");
    assert_eq!(
        body["error"],
        "site `consent.example.org` counts only visitors who consented; the event must carry \"consent\": true"
    );
    let mut declined = event("/declined");
    declined["consent"] = json!(false);
    assert_eq!(app.post_event(&declined).await.status().as_u16(), 403);
    let mut in_a_batch = event("/batch-without");
    in_a_batch["consent"] = json!(null);
    let batch = app
        .post_events(&[
            {
                let mut e = event("/batch-with");
                e["consent"] = json!(true);
                e
            },
            in_a_batch,
        ])
        .await;
    assert_eq!(batch.status().as_u16(), 403);
    assert_eq!(batch.json::<serde_json::Value>().await.unwrap()["field"], "[1].consent");
    let mut not_a_bool = event("/not-a-bool");
    not_a_bool["consent"] = json!("yes");
    let invalid = app.post_event(&not_a_bool).await;
    assert_eq!(invalid.status().as_u16(), 400);
    assert_eq!(invalid.json::<serde_json::Value>().await.unwrap()["field"], "consent");

    let mut consented = event("/consented");
    consented["consent"] = json!(true);
    assert_eq!(app.post_event(&consented).await.status().as_u16(), 202);
    // Imports with the admin token are not held to it.
    let admin = app
        .http
        .post(format!("{}/api/event", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .bearer_auth(app.settings.admin_token.as_deref().unwrap())
        .json(&event("/imported"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status().as_u16(), 202);
    // Other sites need no consent field.
    assert_eq!(app.post_event(&pageview("/elsewhere")).await.status().as_u16(), 202);

    app.wait_for_events(3).await;
    let paths: Vec<String> =
        app.store.client().query("SELECT path FROM events ORDER BY path").fetch_all().await.unwrap();
    assert_eq!(paths, ["/consented", "/elsewhere", "/imported"]);
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, r#"footfall_events_rejected_total{reason="no_consent"}"#), 4);
    assert_eq!(metric(&metrics, r#"footfall_events_rejected_total{reason="invalid_field"}"#), 1);
    app.stop().await;
}

#[derive(Row, Deserialize)]
struct PathDay {
    path: String,
    day: String,
}

#[derive(Debug, PartialEq, Row, Deserialize)]
struct SessionRow {
    path: String,
    visitor: u64,
    session: u64,
    entry: u8,
    returning: u8,
    engaged_ms: u32,
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_mark_the_entry_pageview() {
    let app = spawn_app().await;
    let visit = |path: &str, name: &str, engaged: u32| {
        json!({"site": SITE, "name": name, "url": format!("https://example.com{path}"),
               "visitor": "cookie-1", "returning": true, "engaged_ms": engaged})
    };
    for event in [visit("/1", "pageview", 0), visit("/1", "engagement", 4000), visit("/2", "pageview", 0)] {
        assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
        // Keep arrival order = event order: wait for each to be accepted.
    }
    app.wait_for_events(3).await;
    let rows: Vec<SessionRow> = app
        .store
        .client()
        .query("SELECT path, visitor, session, entry, returning, engaged_ms FROM events ORDER BY path, name DESC")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row.visitor == rows[0].visitor && row.session == rows[0].session));
    assert_ne!(rows[0].session, rows[0].visitor);
    let flags: Vec<(&str, u8, u8, u32)> =
        rows.iter().map(|r| (r.path.as_str(), r.entry, r.returning, r.engaged_ms)).collect();
    assert_eq!(flags, vec![("/1", 1, 1, 0), ("/1", 0, 1, 4000), ("/2", 0, 1, 0)]);
    app.stop().await;
}
