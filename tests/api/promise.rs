//! The privacy promise where an auditor broke it (issue 14): forget and retention reach
//! every table with visitor hashes, found from the server; backfills do not link days;
//! identifiers are redacted before anything is written; the day keys are out of readers'
//! reach; refusal signals are honoured by the collector itself. Small counts have their
//! own file (`small_counts.rs`); file permissions of the spool are tested in
//! `pipeline::spool`.

use footfall::sites::Site;
use footfall::store::{keys_database, Store, VISITOR_TABLES};
use serde_json::{json, Value};

use crate::helpers::{
    eventually_eq, pageview, register_site, spawn_app, spawn_app_with, spawn_app_with_sites, test_settings,
    CHROME_WINDOWS, SITE,
};

/// Columns that hold a keyed hash of a visitor, a session or a page view.
const HASH_COLUMNS: &str = "name IN ('visitor', 'session', 'pageview')";

/// The tables (not views) of the store's database that have a hash column, asked of the
/// server's `system.columns`: whatever a later schema adds shows up here.
async fn tables_with_hashes(store: &Store) -> Vec<String> {
    store
        .client()
        .query(&format!(
            "SELECT DISTINCT table FROM system.columns WHERE database = ? AND {HASH_COLUMNS} \
             AND table IN (SELECT name FROM system.tables WHERE database = ? AND engine NOT LIKE '%View') \
             ORDER BY table"
        ))
        .bind(store.database())
        .bind(store.database())
        .fetch_all()
        .await
        .unwrap()
}

async fn count(store: &Store, sql: &str) -> u64 {
    store.client().query(sql).fetch_one::<u64>().await.unwrap_or_else(|error| panic!("{sql}: {error}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_of_tables_with_hashes_is_what_the_server_has() {
    let store = register_site(&test_settings()).await;
    let mut listed: Vec<String> = VISITOR_TABLES.iter().map(|table| table.to_string()).collect();
    listed.sort();
    assert_eq!(tables_with_hashes(&store).await, listed, "store::VISITOR_TABLES misses a table with hashes");
    for table in tables_with_hashes(&store).await {
        let sql = format!(
            "SELECT count() FROM system.columns WHERE database = '{}' AND table = '{table}' AND name IN ('visitor', 'ts')",
            store.database()
        );
        assert_eq!(count(&store, &sql).await, 2, "{table}: forget keys on `visitor`, retention on `ts`");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forget_reaches_every_table_with_visitor_hashes() {
    let app = spawn_app_with(|settings| settings.rights.forget_interval_secs = 1).await;
    for (path, cookie) in [("/alice/1", "alice"), ("/alice/2", "alice"), ("/bob/1", "bob")] {
        let mut event = pageview(path);
        event["visitor"] = json!(cookie);
        assert_eq!(app.post_event(&event).await.status().as_u16(), 202);
    }
    app.wait_for_events(3).await;
    let alice = count(&app.store, "SELECT any(visitor) FROM events WHERE path LIKE '/alice/%'").await;
    let tables = tables_with_hashes(&app.store).await;
    let db = app.store.database().to_string();
    for table in &tables {
        let sql = format!("SELECT count() FROM {db}.{table} WHERE visitor = {alice}");
        assert!(count(&app.store, &sql).await > 0, "{table} holds alice's hash before she is forgotten");
    }

    let forget = app
        .http
        .post(format!("{}/api/forget", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .json(&json!({"site": SITE, "visitor": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forget.status().as_u16(), 202);
    for table in &tables {
        let left = format!("SELECT count() FROM {db}.{table} WHERE visitor = {alice}");
        eventually_eq(format!("the count of alice's rows in {table}"), 0, || count(&app.store, &left)).await;
        let others = format!("SELECT count() FROM {db}.{table} WHERE visitor != {alice}");
        assert!(count(&app.store, &others).await > 0, "{table}: bob's rows stay");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_reaches_every_table_with_visitor_hashes() {
    let settings = test_settings();
    let store = register_site(&settings).await;
    let now = chrono::Utc::now().timestamp() as u32;
    for (i, days) in [100u32, 40, 31, 29, 1].into_iter().enumerate() {
        let row = footfall::store::EventRow {
            site: SITE.into(),
            ts: now - days * 86_400,
            name: "pageview".into(),
            path: format!("/{days}-days-ago"),
            visitor: 7,
            event_id: i as u64 + 1,
            ..Default::default()
        };
        store.insert_events(std::slice::from_ref(&row)).await.unwrap();
    }
    let tables = tables_with_hashes(&store).await;
    let db = store.database().to_string();
    for table in &tables {
        assert_eq!(count(&store, &format!("SELECT count() FROM {db}.{table}")).await, 5, "{table} before");
    }
    let app = spawn_app_with(|s| {
        s.clickhouse.database = settings.clickhouse.database.clone();
        s.retention_days = 30;
    })
    .await;
    let cutoff = now - 30 * 86_400;
    for table in &tables {
        let old = format!("SELECT count() FROM {db}.{table} WHERE ts < toDateTime({cutoff})");
        eventually_eq(format!("the count of rows older than the retention in {table}"), 0, || count(&store, &old))
            .await;
        assert_eq!(count(&store, &format!("SELECT count() FROM {db}.{table}")).await, 2, "{table}: newer rows stay");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_does_not_link_a_person_across_days() {
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let at = |days_ago: i64| (now - chrono::Duration::days(days_ago)).to_rfc3339();
    let event = |days_ago: i64, path: &str| {
        json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}{path}"), "visitor": "imported-cookie",
               "ts": at(days_ago)})
    };
    // One import in two requests: four past days, each twice, and today.
    app.post_as_admin(CHROME_WINDOWS, &[event(1, "/a"), event(2, "/a"), event(3, "/a"), event(4, "/a")]).await;
    app.post_as_admin(
        CHROME_WINDOWS,
        &[event(1, "/b"), event(2, "/b"), event(3, "/b"), event(4, "/b"), event(0, "/b")],
    )
    .await;
    app.wait_for_events(9).await;

    let per_day: Vec<(u16, u64)> = app
        .store
        .client()
        .query("SELECT toUInt16(toDate(ts)) AS day, uniqExact(visitor) FROM events GROUP BY day ORDER BY day")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(per_day.iter().map(|(_, visitors)| *visitors).collect::<Vec<_>>(), vec![1; 5], "once per day");
    assert_eq!(count(&app.store, "SELECT uniqExact(visitor) FROM events").await, 5, "no two days linked");

    // Today's event uses today's live key; the past days used no live key, not even
    // yesterday's, which the collector still holds for forget requests.
    let today = footfall::privacy::keys::day_number(now);
    let ip = "127.0.0.1".parse().unwrap();
    let live = |day: u16| {
        let store = app.store.clone();
        async move {
            let key = store.day_keys(day, day).await.unwrap().into_iter().map(|row| row.key).min()?;
            Some(footfall::privacy::visitor_hash(&key, SITE, Some("imported-cookie"), ip, CHROME_WINDOWS))
        }
    };
    let stored = |day: u16| {
        let sql = format!("SELECT any(visitor) FROM events WHERE toUInt16(toDate(ts)) = {day}");
        let store = app.store.clone();
        async move { count(&store, &sql).await }
    };
    assert_eq!(Some(stored(today).await), live(today).await);
    let yesterday_live = live(today - 1).await;
    for day in today - 4..today {
        assert_ne!(Some(stored(day).await), yesterday_live);
        assert_ne!(Some(stored(day).await), live(today).await);
    }
    app.stop().await;
}

/// The stored text columns of every event, one line per event, ordered by path.
async fn stored_text(store: &Store) -> Vec<String> {
    store
        .client()
        .query(
            "SELECT concat(name, ' ', path, ' ', referrer_path, ' ', utm_source, ' ', utm_campaign, ' ', \
             arrayStringConcat(prop_keys, ','), '=', arrayStringConcat(prop_values, ',')) AS line \
             FROM events ORDER BY line",
        )
        .fetch_all()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn identifiers_are_redacted_before_they_are_stored() {
    let invoices = Site::new("invoices.example", "UTC", &[])
        .unwrap()
        .with_redact(&["/invoice/([A-Z]{3}-[0-9]{3})".into()])
        .unwrap();
    let app = spawn_app_with_sites(&[invoices], |_| {}).await;
    let events = [
        json!({"site": SITE, "name": "pageview",
               "url": "https://example.com/u/550e8400-e29b-41d4-a716-446655440000/orders/4242424242?utm_source=jane.doe@example.org&utm_campaign=call%20%2B44%2020%207946%200958"}),
        json!({"site": SITE, "name": "pageview",
               "url": "https://example.com/reset-password/9f8e7d6c5b4a39281706f5e4d3c2b1a0/confirm",
               "referrer": "https://mail.example.org/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}),
        json!({"site": SITE, "name": "pageview", "url": "https://example.com/shop;jsessionid=0AB1C2D3E4F5A6B7/cart"}),
        json!({"site": SITE, "name": "signup jane.doe@example.org", "url": "https://example.com/docs/v2.3/install",
               "props": {"email": "jane.doe@example.org", "phone": "+1 (555) 123-4567", "order": "4242424242", "plan": "pro"}}),
        json!({"site": "invoices.example", "name": "pageview", "url": "https://invoices.example/invoice/ABC-123/pdf"}),
    ];
    assert_eq!(app.post_events(&events).await.status().as_u16(), 202);
    app.wait_for_events(5).await;
    assert_eq!(
        stored_text(&app.store).await,
        vec![
            "pageview /invoice/[id]/pdf    =",
            "pageview /reset-password/[token]/confirm /reset/[token]   =",
            "pageview /shop/cart    =",
            "pageview /u/[id]/orders/[id]  [email] call [phone] =",
            "signup [email] /docs/v2.3/install    email,order,phone,plan=[email],[id],[phone],pro",
        ]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_day_keys_live_apart_from_the_events() {
    let store = register_site(&test_settings()).await;
    let keys = keys_database(store.database());
    let tables_in = |database: String| {
        let client = store.client().clone();
        async move {
            client
                .query("SELECT name FROM system.tables WHERE database = ? AND name = 'day_keys'")
                .bind(database)
                .fetch_all::<String>()
                .await
                .unwrap()
        }
    };
    assert_eq!(tables_in(store.database().to_string()).await, Vec::<String>::new(), "no keys beside the events");
    assert_eq!(tables_in(keys.clone()).await, vec!["day_keys".to_string()]);
}

/// The database the read-only user `footfall_reader` of deploy/clickhouse/users.xml is
/// granted on the test server besides `footfall` (it cannot be granted a fresh database
/// per test: 18.16 reads grants from users.xml only).
const READER_CHECK_DATABASE: &str = "footfall_reader_check";

#[tokio::test(flavor = "multi_thread")]
async fn the_read_only_user_reads_events_and_is_refused_the_keys() {
    let mut settings = test_settings();
    settings.clickhouse.database = READER_CHECK_DATABASE.into();
    let admin = clickhouse::Client::default().with_url(crate::helpers::clickhouse_url());
    for database in [READER_CHECK_DATABASE.to_string(), keys_database(READER_CHECK_DATABASE)] {
        admin.query(&format!("DROP DATABASE IF EXISTS {database}")).execute().await.unwrap();
    }
    let store = register_site(&settings).await;
    footfall::jobs::day_keys::sync(&footfall::privacy::keys::KeyRing::default(), &store, chrono::Utc::now())
        .await
        .unwrap();

    let reader = clickhouse::Client::default()
        .with_url(crate::helpers::clickhouse_url())
        .with_user("footfall_reader")
        .with_validation(false);
    let events: u64 = reader
        .query(&format!("SELECT count() FROM {READER_CHECK_DATABASE}.events"))
        .fetch_one()
        .await
        .expect("the reader reads events (is footfall_reader in the server's users.xml?)");
    assert_eq!(events, 0);
    let keys = reader
        .query(&format!("SELECT count() FROM {}.day_keys", keys_database(READER_CHECK_DATABASE)))
        .fetch_one::<u64>()
        .await;
    let refusal = keys.expect_err("the reader must not read the day keys").to_string();
    assert!(refusal.contains("Code: 291") || refusal.contains("Code: 497"), "refused for access: {refusal}");
    let write =
        reader.query(&format!("INSERT INTO {READER_CHECK_DATABASE}.events (site) VALUES ('x')")).execute().await;
    assert!(write.is_err(), "the reader cannot write");
    for database in [READER_CHECK_DATABASE.to_string(), keys_database(READER_CHECK_DATABASE)] {
        admin.query(&format!("DROP DATABASE IF EXISTS {database}")).execute().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_collector_honours_refusal_signals_itself() {
    let lenient = Site::new("lenient.example", "UTC", &[]).unwrap().with_ignore_dnt(true);
    let app = spawn_app_with_sites(&[lenient], |_| {}).await;
    let post = |event: Value, headers: &[(&'static str, &'static str)], admin: bool| {
        let mut request =
            app.http.post(format!("{}/api/event", app.address)).header("User-Agent", CHROME_WINDOWS).json(&event);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if admin {
            request = request.bearer_auth(app.settings.admin_token.as_deref().unwrap());
        }
        request.send()
    };
    let refusals: [&[(&str, &str)]; 4] = [
        &[("Sec-GPC", "1")],
        &[("DNT", "1")],
        &[("Cookie", "footfall_id=abc; footfall_optout=1")],
        &[("Cookie", "footfall_optout=1")],
    ];
    for headers in refusals {
        let response = post(pageview("/refused"), headers, false).await.unwrap();
        assert_eq!(response.status().as_u16(), 202, "{headers:?}");
    }
    // Stored: DNT on a site added with --ignore-dnt, a refusal signal with the admin
    // token, and a cookie that is not the opt-out.
    let lenient_page = json!({"site": "lenient.example", "name": "pageview", "url": "https://lenient.example/dnt"});
    assert_eq!(post(lenient_page, &[("DNT", "1")], false).await.unwrap().status().as_u16(), 202);
    assert_eq!(post(pageview("/admin"), &[("Sec-GPC", "1")], true).await.unwrap().status().as_u16(), 202);
    let not_opted_out = [("Cookie", "footfall_optout=0; x_footfall_optout=1")];
    assert_eq!(post(pageview("/cookie"), &not_opted_out, false).await.unwrap().status().as_u16(), 202);
    app.wait_for_events(3).await;
    let paths: Vec<String> =
        app.store.client().query("SELECT path FROM events ORDER BY path").fetch_all().await.unwrap();
    assert_eq!(paths, vec!["/admin", "/cookie", "/dnt"]);
    let metrics = app.metrics().await;
    for (signal, expected) in [("gpc", 1), ("dnt", 1), ("opt_out", 2)] {
        let sample = format!("footfall_events_refused_total{{signal=\"{signal}\"}}");
        assert_eq!(crate::helpers::metric(&metrics, &sample), expected, "{sample}");
    }
    app.stop().await;
}
