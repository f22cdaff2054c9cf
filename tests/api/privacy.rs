//! The privacy promise (DESIGN.md, rules 1-3), proven against the real server and the
//! real binary: no raw IP address, user agent or cookie id in any table, log line or
//! error message; visitor hashes link one day only.

use clickhouse::Row;
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{
    child_env, count_events, dump_database, register_site, spawn_app, test_settings, ChildApp, CHROME_WINDOWS, SITE,
};

const PROBE_IP: &str = "198.51.100.77";
/// 198.51.100.77 as the integer a careless schema might store.
const PROBE_IP_NUMBER: &str = "3325256781";
const PROBE_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 FootfallProbe/7.7";
const PROBE_COOKIE: &str = "cookie-SECRET-4242";
const PROBE_EMAIL: &str = "alice.probe@example.org";
const PROBE_TOKEN: &str = "tok-SECRET-QUERY-9d8c";
const PROBE_PAGEVIEW: &str = "pageview-SECRET-77";
/// Identifiers planted in paths, referrer paths, `utm_*` values, event names and custom
/// properties: each must become a placeholder before anything is written.
const PROBE_IDENTIFIERS: &[&str] = &[
    "probe.person@example.net",
    "+44 20 7946 0958",
    "(555) 123-4567",
    "550e8400-e29b-41d4-a716-446655440000",
    "4242424242",
    "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "dozjgNryP4J3jVmNHl0w5N",
    "0AB1C2D3E4F5A6B7C8D9",
];

/// Every string that must never be found, with its plain unsalted blake3 hash (hex, and
/// the first 8 bytes as the decimal a UInt64 column would show).
fn needles() -> Vec<String> {
    let raw = [
        PROBE_IP,
        PROBE_IP_NUMBER,
        PROBE_UA,
        "FootfallProbe",
        PROBE_COOKIE,
        PROBE_EMAIL,
        "alice.probe",
        PROBE_TOKEN,
        PROBE_PAGEVIEW,
    ];
    let mut needles: Vec<String> = raw.iter().chain(PROBE_IDENTIFIERS).map(|s| s.to_string()).collect();
    for value in [PROBE_IP, PROBE_UA, PROBE_COOKIE, PROBE_EMAIL, PROBE_TOKEN, PROBE_PAGEVIEW] {
        let hash = blake3::hash(value.as_bytes());
        needles.push(hash.to_hex().to_string());
        needles.push(u64::from_le_bytes(hash.as_bytes()[..8].try_into().unwrap()).to_string());
    }
    needles
}

/// Every file under `dir`, as text.
fn read_tree(dir: &std::path::Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                text.push_str(&read_tree(&path));
            } else {
                text.push_str(&format!(
                    "== {}\n{}\n",
                    path.display(),
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap())
                ));
            }
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn privacy_audit_finds_no_identifier_anywhere() {
    let proxy = crate::helpers::ToggleProxy::start().await;
    let mut settings = test_settings();
    let store = register_site(&settings).await;
    settings.clickhouse.url = proxy.url();
    // A schema check that refuses one page, so the quarantine gets a file to audit.
    let db = store.database().to_string();
    store
        .client()
        .query(&format!("ALTER TABLE {db}.events ADD COLUMN audit_check UInt8 MATERIALIZED throwIf(path = '/refused')"))
        .execute()
        .await
        .unwrap();
    let mut env = child_env(&settings);
    env.push(("FOOTFALL_ACCESS_LOG".into(), "true".into()));
    env.push(("FOOTFALL_LOG_LEVEL".into(), "debug".into()));
    env.push(("FOOTFALL_INGEST__CLIENT_IP_HEADER".into(), "X-Forwarded-For".into()));
    env.push(("FOOTFALL_INGEST__TRUSTED_PROXIES".into(), "[\"127.0.0.1\"]".into()));
    let mut app = ChildApp::spawn(env).await;
    let http = reqwest::Client::new();
    let post = |path: &'static str, body: serde_json::Value, admin: bool| {
        let mut request = http
            .post(format!("{}{path}", app.address))
            .header("User-Agent", PROBE_UA)
            .header("X-Forwarded-For", PROBE_IP)
            .header("Origin", "https://example.com");
        if admin {
            request = request.bearer_auth(settings.admin_token.as_deref().unwrap());
        }
        request.json(&body).send()
    };
    let page = format!("https://{SITE}/account?email={PROBE_EMAIL}&token={PROBE_TOKEN}&utm_source=news#{PROBE_TOKEN}");
    let referrer = format!("https://mail.example.org/inbox/{PROBE_EMAIL}?u={PROBE_TOKEN}");
    let with_cookie = json!({"site": SITE, "name": "pageview", "url": page, "visitor": PROBE_COOKIE, "pageview": PROBE_PAGEVIEW, "referrer": referrer,
                             "props": {"plan": "pro"}});
    let cookieless = json!({"site": SITE, "name": "pageview", "url": page});
    let engagement =
        json!({"site": SITE, "name": "engagement", "url": page, "visitor": PROBE_COOKIE, "engaged_ms": 5000});
    let imported =
        json!({"site": SITE, "name": "pageview", "url": page, "visitor": PROBE_COOKIE, "ts": "2026-01-05T10:00:00Z"});
    let refused = json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/refused?e={PROBE_EMAIL}"),
                         "visitor": PROBE_COOKIE});
    // The identifiers in every text field that is stored.
    let [email, phone, phone_us, uuid, digits, hex, jwt, _, session] = PROBE_IDENTIFIERS else { unreachable!() };
    let identifiers = json!({"site": SITE, "name": format!("signup {email}"), "visitor": PROBE_COOKIE,
        "url": format!("https://{SITE}/u/{uuid}/orders/{digits}/reset/{hex};jsessionid={session}?utm_source={email}&utm_campaign={}", phone.replace(' ', "%20").replace('+', "%2B")),
        "referrer": format!("https://mail.example.org/confirm/{jwt}"),
        "props": {"email": email, "phone": phone_us, "order": digits}});

    // Beacon payloads, the batch API, an admin import, and the quarantine path.
    assert_eq!(post("/api/event", with_cookie.clone(), false).await.unwrap().status().as_u16(), 202);
    assert_eq!(post("/api/events", json!([cookieless, engagement]), false).await.unwrap().status().as_u16(), 202);
    assert_eq!(post("/api/events", json!([imported]), true).await.unwrap().status().as_u16(), 202);
    assert_eq!(post("/api/event", refused, false).await.unwrap().status().as_u16(), 202);
    assert_eq!(post("/api/event", identifiers, false).await.unwrap().status().as_u16(), 202);
    // Bad requests must not echo the identifiers.
    for bad in [
        json!({"site": SITE, "name": "pageview", "url": page, "returning": PROBE_COOKIE}),
        json!({"site": "unknown.org", "name": "pageview", "url": "https://unknown.org/", "visitor": PROBE_COOKIE}),
        json!({"site": SITE, "name": PROBE_EMAIL.repeat(10), "url": page}),
        json!({"site": SITE, "name": "pageview", "url": format!("https://evil.example/?{PROBE_TOKEN}")}),
    ] {
        let response = post("/api/event", bad, false).await.unwrap();
        assert!(response.status().is_client_error());
        let body = response.text().await.unwrap();
        for needle in needles() {
            assert!(!body.contains(&needle), "{needle} echoed in an error: {body}");
        }
    }
    crate::helpers::wait_for_event_count(&store, 5).await;

    // ClickHouse goes away: events wait in the spool, which is audited too.
    proxy.cut();
    assert_eq!(post("/api/event", with_cookie, false).await.unwrap().status().as_u16(), 202);
    crate::helpers::wait_for_metric(&http, &app.address, "footfall_events_spooled_total", 1).await;
    let spool_while_down = read_tree(&settings.spool_dir);
    proxy.restore().await;
    crate::helpers::wait_for_event_count(&store, 6).await;
    let metrics = crate::helpers::metrics_text(&http, &app.address).await;
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));

    let dump = dump_database(&store).await;
    let log = app.log();
    let spool = format!("{spool_while_down}{}", read_tree(&settings.spool_dir));
    assert!(log.contains("POST /api/event 202"), "the access log is on:\n{log}");
    assert!(dump.contains("/account"), "the dump holds the events:\n{dump}");
    assert!(dump.contains("/u/[id]/orders/[id]/reset/[token]\t"), "identifiers became placeholders:\n{dump}");
    assert!(dump.contains("signup [email]\t"), "in the event name too:\n{dump}");
    assert!(spool.contains("/refused") && spool.contains("segments"), "quarantine and spool were written:\n{spool}");
    for needle in needles() {
        assert!(!dump.contains(&needle), "{needle} found in the database:\n{dump}");
        assert!(!log.contains(&needle), "{needle} found in the log:\n{log}");
        assert!(!spool.contains(&needle), "{needle} found in the spool or quarantine:\n{spool}");
        assert!(!metrics.contains(&needle), "{needle} found in /metrics");
    }

    #[derive(Row, Deserialize)]
    struct Visitors {
        with_cookie: u64,
        cookieless: u64,
    }
    let visitors: Visitors = store
        .client()
        .query(
            "SELECT uniqExactIf(visitor, referrer_host != '' OR name = 'engagement' OR toYear(ts) = 2026 AND toMonth(ts) = 1) AS with_cookie, \
                    uniqExactIf(visitor, referrer_host = '' AND name = 'pageview' AND toMonth(ts) != 1) AS cookieless FROM events",
        )
        .fetch_one()
        .await
        .unwrap();
    // The cookie's events of today are one visitor; its backfilled event of January is
    // another, hashed with an import key of its own day, so nothing links the two.
    assert_eq!((visitors.with_cookie, visitors.cookieless), (2, 1), "same cookie, same day: one visitor");
    assert_eq!(count_events(&store).await, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_day_key_makes_another_visitor() {
    // Two collectors with separate databases hold different day keys, as two days do.
    let first = spawn_app().await;
    let second = spawn_app().await;
    let event = json!({"site": SITE, "name": "pageview", "url": "https://example.com/", "visitor": "cookie-1"});
    for app in [&first, &second] {
        assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
        assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
        app.wait_for_events(2).await;
    }
    let visitors = |app: &crate::helpers::TestApp| {
        let client = app.store.client().clone();
        async move { client.query("SELECT DISTINCT visitor FROM events").fetch_all::<u64>().await.unwrap() }
    };
    let (a, b) = (visitors(&first).await, visitors(&second).await);
    assert_eq!(a.len(), 1, "same cookie, same key: one visitor");
    assert_eq!(b.len(), 1);
    assert_ne!(a, b, "a different day key unlinks the visitor");
    first.stop().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn day_keys_older_than_48_hours_are_deleted_and_one_key_per_day_is_used() {
    let settings = test_settings();
    let store = register_site(&settings).await;
    let today = footfall::privacy::keys::day_number(chrono::Utc::now());
    for (day, byte) in [(today - 3, 3u8), (today - 2, 2), (today - 1, 1)] {
        store.insert_day_key(&footfall::store::DayKeyRow { day, key: [byte; 32], created_at: 0 }).await.unwrap();
    }
    // A rival node's candidate for today, smaller than any random one is likely to be.
    store.insert_day_key(&footfall::store::DayKeyRow { day: today, key: [0; 32], created_at: 0 }).await.unwrap();
    let app = crate::helpers::spawn_app_with(|s| s.clickhouse.database = settings.clickhouse.database.clone()).await;
    let keys = footfall::store::keys_database(store.database());
    crate::helpers::eventually_eq("the days of the day keys left", vec![today - 1, today, today + 1], || async {
        let days: Vec<u16> = store
            .client()
            .query(&format!("SELECT DISTINCT toUInt16(day) AS d FROM {keys}.day_keys ORDER BY d"))
            .fetch_all()
            .await
            .unwrap();
        days
    })
    .await;
    // The app adopted the smallest candidate for today: the visitor hash proves it.
    let event = json!({"site": SITE, "name": "pageview", "url": "https://example.com/", "visitor": "cookie-1"});
    assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
    app.wait_for_events(1).await;
    let stored: u64 = store.client().query("SELECT visitor FROM events").fetch_one().await.unwrap();
    let expected = footfall::privacy::visitor_hash(&[0; 32], SITE, Some("cookie-1"), "0.0.0.0".parse().unwrap(), "");
    assert_eq!(stored, expected);
    app.stop().await;
}

#[derive(Row, Deserialize)]
struct PathVisitor {
    path: String,
}

async fn stored_paths(store: &footfall::store::Store) -> Vec<String> {
    let rows: Vec<PathVisitor> =
        store.client().query("SELECT path FROM events ORDER BY path").fetch_all().await.unwrap();
    rows.into_iter().map(|row| row.path).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_can_make_footfall_forget_them() {
    // Forget requests are applied once per interval (abuse/forget.rs has the details).
    let app = crate::helpers::spawn_app_with(|settings| settings.rights.forget_interval_secs = 1).await;
    let event = |path: &str, cookie: Option<&str>| {
        let mut event = json!({"site": SITE, "name": "pageview", "url": format!("https://example.com{path}")});
        if let Some(cookie) = cookie {
            event["visitor"] = json!(cookie);
        }
        event
    };
    let post = |body: serde_json::Value, user_agent: &'static str, path: &'static str| {
        app.http.post(format!("{}{path}", app.address)).header("User-Agent", user_agent).json(&body).send()
    };
    const OTHER_BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    for (path, cookie, user_agent) in [
        ("/alice/1", Some("alice-cookie"), CHROME_WINDOWS),
        ("/alice/2", Some("alice-cookie"), CHROME_WINDOWS),
        ("/bob/1", Some("bob-cookie"), CHROME_WINDOWS),
        ("/carol/1", None, OTHER_BROWSER),
        ("/dave/1", None, CHROME_WINDOWS),
    ] {
        assert_eq!(post(event(path, cookie), user_agent, "/api/event").await.unwrap().status().as_u16(), 202);
    }
    app.wait_for_events(5).await;

    // Alice forgets by her cookie; Carol, who browses without cookies, by her browser.
    let forget = post(json!({"site": SITE, "visitor": "alice-cookie"}), CHROME_WINDOWS, "/api/forget").await.unwrap();
    assert_eq!(forget.status().as_u16(), 202);
    let forget = post(json!({"site": SITE}), OTHER_BROWSER, "/api/forget").await.unwrap();
    assert_eq!(forget.status().as_u16(), 202);
    crate::helpers::eventually_eq("the paths left", vec!["/bob/1".to_string(), "/dave/1".to_string()], || {
        stored_paths(&app.store)
    })
    .await;
    let unknown = post(json!({"site": "unknown.org", "visitor": "x"}), CHROME_WINDOWS, "/api/forget").await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let garbage = post(json!(["not", "an", "object"]), CHROME_WINDOWS, "/api/forget").await.unwrap();
    assert_eq!(garbage.status().as_u16(), 400);
    assert_eq!(crate::helpers::metric(&app.metrics().await, "footfall_forget_requests_total"), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn day_keys_rotate_at_midnight_without_a_gap_and_nodes_agree() {
    use footfall::jobs::day_keys::sync;
    use footfall::privacy::keys::{day_number, KeyRing};
    let settings = test_settings();
    let store = register_site(&settings).await;
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc);
    let evening = at("2026-11-28T23:59:30Z");
    let (day, next_day) = (day_number(evening), day_number(evening) + 1);

    // Two nodes start at the same moment on a database without keys.
    let (first, second) = (KeyRing::default(), KeyRing::default());
    let (a, b) = tokio::join!(sync(&first, &store, evening), sync(&second, &store, evening));
    a.unwrap();
    b.unwrap();
    assert_eq!(first.existing_key(day), second.existing_key(day), "nodes agree on today's key");
    assert_eq!(first.existing_key(next_day), second.existing_key(next_day), "and on tomorrow's");
    assert!(first.existing_key(day).is_some() && first.existing_key(next_day).is_some());

    // Just after midnight, before any refresh, the new day's key is already there.
    let tomorrow_key = first.existing_key(next_day).unwrap();
    assert_eq!(first.key_for(next_day), tomorrow_key);
    let ip = "203.0.113.9".parse().unwrap();
    let monday = footfall::privacy::visitor_hash(&first.key_for(day), SITE, Some("c"), ip, "UA");
    let tuesday = footfall::privacy::visitor_hash(&first.key_for(next_day), SITE, Some("c"), ip, "UA");
    assert_ne!(monday, tuesday, "the same cookie on two days gives two unlinkable hashes");

    // Two days later the first day's key is gone from ClickHouse and from the node.
    sync(&first, &store, at("2026-11-30T00:00:10Z")).await.unwrap();
    let left: Vec<footfall::store::DayKeyRow> = store.day_keys(day - 5, day + 5).await.unwrap();
    assert!(left.iter().all(|row| row.day > day), "{:?}", left.iter().map(|row| row.day).collect::<Vec<_>>());
    assert_eq!(first.existing_key(day), None, "a hash of that day can no longer be recomputed");
    assert_eq!(first.existing_key(next_day), Some(tomorrow_key), "yesterday's key is kept for forget requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_older_than_the_retention_are_deleted() {
    let settings = test_settings();
    let store = register_site(&settings).await;
    let now = chrono::Utc::now().timestamp() as u32;
    let days_ago = [100u32, 40, 31, 29, 1];
    let rows: Vec<footfall::store::EventRow> = days_ago
        .iter()
        .enumerate()
        .map(|(i, days)| footfall::store::EventRow {
            site: SITE.into(),
            ts: now - days * 86_400,
            name: "pageview".into(),
            path: format!("/{days}-days-ago"),
            event_id: i as u64 + 1,
            ..Default::default()
        })
        .collect();
    for row in &rows {
        // One INSERT per row: rows of different months in one INSERT are fine too, but
        // this keeps each month's part separate as in a long-running install.
        store.insert_events(std::slice::from_ref(row)).await.unwrap();
    }
    let app = crate::helpers::spawn_app_with(|s| {
        s.clickhouse.database = settings.clickhouse.database.clone();
        s.retention_days = 30;
    })
    .await;
    crate::helpers::eventually_eq(
        "the paths left",
        vec!["/1-days-ago".to_string(), "/29-days-ago".to_string()],
        || stored_paths(&store),
    )
    .await;
    app.stop().await;
}
