//! The privacy promise (DESIGN.md, rules 1-3), proven against the real server and the
//! real binary: no raw IP address, user agent or cookie id in any table, log line or
//! error message; visitor hashes link one day only.

use clickhouse::Row;
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{
    child_env, count_events, dump_database, register_site, spawn_app, test_settings, wait_for_event_count, ChildApp,
    SITE,
};

const PROBE_IP: &str = "198.51.100.77";
/// 198.51.100.77 as the integer a careless schema might store.
const PROBE_IP_NUMBER: &str = "3325256781";
const PROBE_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 FootfallProbe/7.7";
const PROBE_COOKIE: &str = "cookie-SECRET-4242";
const PROBE_QUERY: &str = "alice-SECRET-QUERY";
const PROBE_PAGEVIEW: &str = "pageview-SECRET-77";

#[tokio::test(flavor = "multi_thread")]
async fn no_ip_user_agent_or_cookie_id_is_kept_anywhere() {
    let settings = test_settings();
    let store = register_site(&settings).await;
    let mut env = child_env(&settings);
    env.push(("FOOTFALL_ACCESS_LOG".into(), "true".into()));
    env.push(("FOOTFALL_LOG_LEVEL".into(), "debug".into()));
    env.push(("FOOTFALL_INGEST__CLIENT_IP_HEADER".into(), "X-Forwarded-For".into()));
    let mut app = ChildApp::spawn(env).await;
    let http = reqwest::Client::new();
    let post = |path: &'static str, body: serde_json::Value| {
        http.post(format!("{}{path}", app.address))
            .header("User-Agent", PROBE_UA)
            .header("X-Forwarded-For", PROBE_IP)
            .json(&body)
            .send()
    };
    let page = format!("https://{SITE}/account?email={PROBE_QUERY}&utm_source=news#{PROBE_QUERY}");
    let with_cookie = json!({"site": SITE, "name": "pageview", "url": page, "visitor": PROBE_COOKIE, "pageview": PROBE_PAGEVIEW,
                             "referrer": format!("https://mail.example.org/inbox?u={PROBE_QUERY}")});
    let cookieless = json!({"site": SITE, "name": "pageview", "url": page});
    assert_eq!(post("/api/event", with_cookie.clone()).await.unwrap().status().as_u16(), 202);
    assert_eq!(post("/api/events", json!([cookieless, with_cookie])).await.unwrap().status().as_u16(), 202);
    // Error paths must not echo the identifiers either.
    let wrong_type = json!({"site": SITE, "name": "pageview", "url": page, "returning": PROBE_COOKIE});
    assert_eq!(post("/api/event", wrong_type).await.unwrap().status().as_u16(), 400);
    let unknown_site =
        json!({"site": "unknown.org", "name": "pageview", "url": "https://unknown.org/", "visitor": PROBE_COOKIE});
    let refused = post("/api/event", unknown_site).await.unwrap().text().await.unwrap();
    assert!(!refused.contains(PROBE_COOKIE), "{refused}");
    wait_for_event_count(&store, 3).await;
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));

    let dump = dump_database(&store).await;
    let log = app.log();
    assert!(log.contains("POST /api/event 202"), "the access log is on:\n{log}");
    for needle in [PROBE_IP, PROBE_IP_NUMBER, PROBE_UA, "FootfallProbe", PROBE_COOKIE, PROBE_QUERY, PROBE_PAGEVIEW] {
        assert!(!dump.contains(needle), "{needle} found in the database:\n{dump}");
        assert!(!log.contains(needle), "{needle} found in the log:\n{log}");
    }
    assert!(dump.contains("/account"), "the dump holds the events:\n{dump}");

    #[derive(Row, Deserialize)]
    struct Visitors {
        with_cookie: u64,
        cookieless: u64,
    }
    let visitors: Visitors = store
        .client()
        .query(
            "SELECT uniqExactIf(visitor, referrer_host != '') AS with_cookie, \
                    uniqExactIf(visitor, referrer_host = '') AS cookieless FROM events",
        )
        .fetch_one()
        .await
        .unwrap();
    assert_eq!((visitors.with_cookie, visitors.cookieless), (1, 1), "same cookie, same day: one visitor");
    assert_eq!(count_events(&store).await, 3);
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
    let started = std::time::Instant::now();
    loop {
        let days: Vec<u16> = store
            .client()
            .query("SELECT DISTINCT toUInt16(day) AS d FROM day_keys ORDER BY d")
            .fetch_all()
            .await
            .unwrap();
        if days == vec![today - 1, today, today + 1] {
            break;
        }
        assert!(started.elapsed() < crate::helpers::POLL_LIMIT, "day keys left: {days:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The app adopted the smallest candidate for today: the visitor hash proves it.
    let event = json!({"site": SITE, "name": "pageview", "url": "https://example.com/", "visitor": "cookie-1"});
    assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
    app.wait_for_events(1).await;
    let stored: u64 = store.client().query("SELECT visitor FROM events").fetch_one().await.unwrap();
    let expected = footfall::privacy::visitor_hash(&[0; 32], SITE, Some("cookie-1"), "0.0.0.0".parse().unwrap(), "");
    assert_eq!(stored, expected);
    app.stop().await;
}
