//! Every kind of bad input gets its documented status and `{"error", "field"}` body, is
//! counted, and disturbs none of the valid events sent around it.

use serde_json::{json, Value};

use crate::helpers::{metric, pageview, spawn_app_with, CHROME_WINDOWS, SITE};

struct BadRequest {
    what: &'static str,
    path: &'static str,
    content_type: &'static str,
    origin: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    field: &'static str,
    reason: &'static str,
}

fn bad(
    what: &'static str,
    path: &'static str,
    body: impl Into<Vec<u8>>,
    status: u16,
    field: &'static str,
    reason: &'static str,
) -> BadRequest {
    BadRequest { what, path, content_type: "application/json", origin: None, body: body.into(), status, field, reason }
}

fn event_with(field: &str, value: Value) -> Vec<u8> {
    let mut event = pageview("/x");
    event[field] = value;
    event.to_string().into_bytes()
}

fn bad_requests() -> Vec<BadRequest> {
    let long_name = "n".repeat(65);
    let long_url = format!("https://{SITE}/{}", "a".repeat(2100));
    let too_many: Vec<Value> = (0..11).map(|i| pageview(&format!("/{i}"))).collect();
    let mut non_utf8 = br#"{"site":"example.com","name":"pageview","url":"https://example.com/"#.to_vec();
    non_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
    vec![
        bad("malformed JSON", "/api/event", "{\"site\": ", 400, "body", "malformed_json"),
        bad("not an object", "/api/event", "[1,2]", 400, "body", "invalid_field"),
        bad("wrong type", "/api/event", event_with("engaged_ms", json!("long")), 400, "engaged_ms", "invalid_field"),
        bad("wrong type for screen", "/api/event", event_with("screen", json!(-5)), 400, "screen", "invalid_field"),
        bad(
            "missing url",
            "/api/event",
            json!({"site": SITE, "name": "pageview"}).to_string(),
            400,
            "url",
            "invalid_field",
        ),
        bad(
            "missing site",
            "/api/event",
            json!({"name": "pageview", "url": "https://example.com/"}).to_string(),
            400,
            "site",
            "invalid_field",
        ),
        bad(
            "unknown site",
            "/api/event",
            json!({"site": "unknown.org", "name": "pageview", "url": "https://unknown.org/"}).to_string(),
            404,
            "site",
            "unknown_site",
        ),
        bad(
            "url of another site",
            "/api/event",
            event_with("url", json!("https://evil.example/x")),
            403,
            "url",
            "foreign_origin",
        ),
        BadRequest {
            origin: Some("https://evil.example"),
            ..bad("foreign Origin header", "/api/event", pageview("/x").to_string(), 403, "Origin", "foreign_origin")
        },
        bad("over-long name", "/api/event", event_with("name", json!(long_name)), 400, "name", "invalid_field"),
        bad("over-long url", "/api/event", event_with("url", json!(long_url)), 400, "url", "invalid_field"),
        bad("invalid url", "/api/event", event_with("url", json!("not a url")), 400, "url", "invalid_field"),
        bad(
            "javascript url",
            "/api/event",
            event_with("url", json!("javascript:alert(1)")),
            400,
            "url",
            "invalid_field",
        ),
        bad(
            "bad published",
            "/api/event",
            event_with("published", json!("yesterday")),
            400,
            "published",
            "invalid_field",
        ),
        bad(
            "engaged_ms out of range",
            "/api/event",
            event_with("engaged_ms", json!(100_000_000)),
            400,
            "engaged_ms",
            "invalid_field",
        ),
        bad("nested props", "/api/event", event_with("props", json!({"a": {"b": 1}})), 400, "props.a", "invalid_field"),
        bad("non-UTF-8 bytes", "/api/event", non_utf8, 400, "body", "malformed_json"),
        bad("huge body", "/api/event", vec![b' '; 70_000], 413, "body", "body_too_large"),
        BadRequest {
            content_type: "application/x-www-form-urlencoded",
            ..bad("form body", "/api/event", "site=example.com", 415, "Content-Type", "unsupported_media_type")
        },
        bad("empty array", "/api/events", "[]", 400, "body", "batch_size"),
        bad("array over the limit", "/api/events", serde_json::to_vec(&too_many).unwrap(), 400, "body", "batch_size"),
        bad("object to the array endpoint", "/api/events", pageview("/x").to_string(), 400, "body", "invalid_field"),
        bad(
            "one bad element",
            "/api/events",
            serde_json::to_vec(&[
                pageview("/ok"),
                json!({"site": SITE, "name": "pageview", "url": "ftp://example.com/"}),
            ])
            .unwrap(),
            400,
            "[1].url",
            "invalid_field",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_named_4xx_and_disturbs_nothing() {
    let app = spawn_app_with(|settings| {
        settings.ingest.max_body_bytes = 65_536;
        settings.ingest.max_batch_events = 10;
        settings.pipeline.queue_capacity = 100;
    })
    .await;
    let requests = bad_requests();
    let mut good_sent = 0;
    for request in &requests {
        // A valid event before each bad one: all of them must be stored.
        assert_eq!(app.post_event(&pageview(&format!("/good/{good_sent}"))).await.status().as_u16(), 202);
        good_sent += 1;
        let mut builder = app
            .http
            .post(format!("{}{}", app.address, request.path))
            .header("User-Agent", CHROME_WINDOWS)
            .header("Content-Type", request.content_type)
            .body(request.body.clone());
        if let Some(origin) = request.origin {
            builder = builder.header("Origin", origin);
        }
        let response = builder.send().await.unwrap();
        assert_eq!(response.status().as_u16(), request.status, "{}", request.what);
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{}: body is not JSON: {e}", request.what));
        assert_eq!(body["field"], request.field, "{}: {body}", request.what);
        let message = body["error"].as_str().unwrap_or_else(|| panic!("{}: no error message: {body}", request.what));
        assert!(!message.is_empty() && !message.ends_with('.'), "{}: {message:?}", request.what);
    }
    app.wait_for_events(good_sent).await;

    let metrics = app.metrics().await;
    let mut expected: std::collections::BTreeMap<&str, u64> = Default::default();
    for request in &requests {
        // Arrays count each of their events; everything else counts one.
        let events = match (request.path, request.what) {
            (_, "array over the limit") => 11,
            (_, "one bad element") => 2,
            _ => 1,
        };
        *expected.entry(request.reason).or_default() += events;
    }
    for (reason, count) in expected {
        let sample = format!("footfall_events_rejected_total{{reason=\"{reason}\"}}");
        assert_eq!(metric(&metrics, &sample), count, "{sample}");
    }
    assert_eq!(metric(&metrics, "footfall_events_accepted_total"), good_sent);
    assert_eq!(metric(&metrics, "footfall_events_stored_total"), good_sent);

    // The process is still healthy.
    let health = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    app.stop().await;
}

/// SQL and script payloads, in every string field of an event.
const SQL: &str = "'); DROP TABLE events; --";
const SCRIPT: &str = "<script>alert(1)</script>";

#[derive(Debug, PartialEq, clickhouse::Row, serde::Deserialize)]
struct Inert {
    name: String,
    path: String,
    referrer_path: String,
    utm_source: String,
    prop_keys: Vec<String>,
    prop_values: Vec<String>,
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_is_refused_or_stored_as_inert_text_and_never_a_5xx() {
    let app = spawn_app_with(|_| {}).await;
    let hostile = format!("{SQL}{SCRIPT}");
    let encoded: String = url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect();

    // Accepted: the payloads are data, stored as the text they are.
    let event = json!({
        "site": SITE,
        "name": hostile,
        "url": format!("https://{SITE}/{encoded}?utm_source={encoded}"),
        "referrer": format!("https://news.example.org/{encoded}"),
        "props": {hostile.clone(): hostile.clone()},
    });
    assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
    app.wait_for_events(1).await;
    let stored: Inert = app
        .store
        .client()
        .query("SELECT name, path, referrer_path, utm_source, prop_keys, prop_values FROM events LIMIT 1")
        .fetch_one()
        .await
        .unwrap();
    // Paths are kept as the URL has them: percent-encoded, inert in HTML and SQL alike.
    let path = format!("/{encoded}");
    assert_eq!(stored.name, hostile);
    assert_eq!(stored.utm_source, hostile);
    assert_eq!((stored.prop_keys, stored.prop_values), (vec![hostile.clone()], vec![hostile.clone()]));
    assert_eq!(stored.path, path);
    assert_eq!(stored.referrer_path, path);

    // A time zone that is none only fails to give a country; it is not stored.
    let mut bad_tz = pageview("/tz");
    bad_tz["tz"] = json!(hostile);
    assert_eq!(app.post_event(&bad_tz).await.status().as_u16(), 202);
    app.wait_for_events(2).await;
    let country: String =
        app.store.client().query("SELECT country FROM events WHERE path = '/tz'").fetch_one().await.unwrap();
    assert_eq!(country, "");

    // Refused with a 4xx: nesting past the parser's limit, numbers out of every range.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = format!(r#"{{"site":"{SITE}","name":"pageview","url":"https://{SITE}/","props":{{"a":{nested}}}}}"#);
    let huge = format!(r#"{{"site":"{SITE}","name":"pageview","url":"https://{SITE}/","engaged_ms":1e400}}"#);
    let beyond_u64 =
        format!(r#"{{"site":"{SITE}","name":"pageview","url":"https://{SITE}/","screen":18446744073709551616}}"#);
    for (what, body) in [("deep nesting", deep), ("1e400", huge), ("2^64", beyond_u64)] {
        let response = app
            .http
            .post(format!("{}/api/event", app.address))
            .header("User-Agent", CHROME_WINDOWS)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{what}: {status}");
    }

    // Report parameters: refused before ClickHouse, or bound as inert literals.
    for (query, status) in [
        (format!("from=2026-01-01&to=2026-01-31&path={encoded}"), 400),
        (format!("from=2026-01-01&to=2026-01-31&path=/{encoded}"), 400),
        (format!("from=2026-01-01&to=2026-01-31&tz={encoded}"), 400),
        (format!("from={encoded}&to=2026-01-31"), 400),
        (format!("from=2026-01-01&to=2026-01-31&limit={encoded}"), 400),
        (format!("from=2026-01-01&to=2026-01-31&source={}", "x%27%20OR%201%3D1%20--"), 400),
        // An encoded quote is a path the rules allow: bound as a literal, it matches nothing.
        ("from=2026-01-01&to=2026-01-31&path=/%2527%2529%253B%2520DROP%2520TABLE%2520events".to_string(), 200),
    ] {
        let response = crate::reports::get_report(&app, "top-content", &query).await;
        assert_eq!(response.status().as_u16(), status, "{query}");
        if status == 200 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["rows"], json!([]), "{query}: the injected condition matched nothing");
        }
    }
    // A hostile report name or site is refused too.
    let odd = app
        .http
        .get(format!("{}/api/v1/sites/{encoded}/reports/{encoded}", app.address))
        .bearer_auth(crate::reports::ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status().as_u16(), 400);

    // Nothing was dropped: both events are still there and intake still works.
    assert_eq!(app.event_count().await, 2);
    assert_eq!(app.post_event(&pageview("/after")).await.status().as_u16(), 202);
    app.wait_for_events(3).await;
    app.stop().await;
}
