//! The content registry: `footfall content import` (run as a process) from sitemap, RSS
//! and Atom files and from a local http URL, and `POST /api/v1/sites/{site}/content`.
//! Malformed or invalid input registers nothing; re-imports change nothing; the earliest
//! publish time of a page wins.

use std::process::Output;

use footfall::auth::{new_token, TokenKind, TokenRecord};
use footfall::config::Settings;
use footfall::store::{EventRow, RegisteredPage, Store};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{register_site, run_footfall, spawn_app, stderr_of, stdout_of, test_settings, TestApp, SITE};

/// 2026-10-01T00:00:00Z, and so on: the publish times of the fixtures.
const OCT_01: u32 = 1_790_812_800;
const NOV_02_0800: u32 = 1_793_606_400;
const NOV_03_0900: u32 = 1_793_696_400;
const NOV_05_0930: u32 = 1_793_871_000;
const NOV_06_1000: u32 = 1_793_959_200;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/content/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn page(path: &str, published: u32, title: &str) -> RegisteredPage {
    RegisteredPage { path: path.into(), published, title: title.into() }
}

/// A migrated database with `example.com` registered, and its settings for the CLI.
async fn database() -> (Settings, Store) {
    let settings = test_settings();
    let store = register_site(&settings).await;
    (settings, store)
}

/// Every registered page of the test site.
async fn registry(store: &Store) -> Vec<RegisteredPage> {
    store.registered_pages(SITE, 0, u32::MAX).await.unwrap()
}

/// Runs `footfall content import --site SITE SOURCE` against the settings' database.
async fn import(settings: &Settings, site: &str, source: &str) -> Output {
    run_footfall(settings, &["content", "import", "--site", site, source]).await
}

/// The last line of stderr of a failed command (`Error: ...`).
fn failure(output: &Output) -> String {
    stderr_of(output).trim().lines().last().unwrap().to_string()
}

/// A local HTTP server answering `/feed.xml` with `body` and anything else with 404.
async fn serve(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let found = head.starts_with(b"GET /feed.xml ");
                let (status, body) = if found { ("200 OK", body.as_str()) } else { ("404 Not Found", "") };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_sitemap_file_registers_its_dated_pages_once_each() {
    let (settings, store) = database().await;

    let output = import(&settings, SITE, &fixture("sitemap.xml")).await;

    assert_eq!(
        stdout_of(&output),
        "imported 2 page(s) from a sitemap: 2 new, 0 moved to an earlier publish time, 0 kept their earlier \
         publish time, 0 unchanged; skipped 1 entries without a date, 0 without a link\n"
    );
    // `/blog/hello` twice (a query string, a subdomain): once, with the earlier lastmod.
    assert_eq!(registry(&store).await, vec![page("/blog/hello", NOV_03_0900, ""), page("/", OCT_01, "")]);
}

#[tokio::test]
async fn an_rss_feed_from_a_local_url_and_an_atom_file_register_titles() {
    let (settings, store) = database().await;
    let server = serve(std::fs::read_to_string(fixture("rss.xml")).unwrap()).await;

    let rss = import(&settings, SITE, &format!("{server}/feed.xml")).await;
    let atom = import(&settings, SITE, &fixture("atom.xml")).await;

    assert_eq!(
        stdout_of(&rss),
        "imported 2 page(s) from an RSS feed: 2 new, 0 moved to an earlier publish time, 0 kept their earlier \
         publish time, 0 unchanged\n"
    );
    assert_eq!(
        stdout_of(&atom),
        "imported 1 page(s) from an Atom feed: 1 new, 0 moved to an earlier publish time, 0 kept their earlier \
         publish time, 0 unchanged; skipped 1 entries without a date, 0 without a link\n"
    );
    assert_eq!(
        registry(&store).await,
        vec![
            page("/blog/third", NOV_06_1000, "Third post"),
            page("/blog/second", NOV_05_0930, "Second post"),
            page("/blog/hello", NOV_03_0900, "Hello, world"),
        ]
    );
    // The range is start-inclusive, end-exclusive, newest first.
    assert_eq!(
        store.registered_pages(SITE, NOV_03_0900, NOV_06_1000).await.unwrap(),
        vec![page("/blog/second", NOV_05_0930, "Second post"), page("/blog/hello", NOV_03_0900, "Hello, world")]
    );

    let missing = import(&settings, SITE, &format!("{server}/gone.xml")).await;
    assert_eq!(
        failure(&missing),
        format!("Error: {server}/gone.xml answered 404 Not Found; it must answer 200 with the document; nothing was imported")
    );
}

#[tokio::test]
async fn malformed_or_invalid_documents_name_the_line_and_register_nothing() {
    let (settings, store) = database().await;

    let malformed = import(&settings, SITE, &fixture("malformed.xml")).await;
    let foreign = import(&settings, SITE, &fixture("foreign.xml")).await;
    let unknown_site = import(&settings, "nobody.example", &fixture("sitemap.xml")).await;

    let source = fixture("malformed.xml");
    assert_eq!(
        failure(&malformed),
        format!(
            "Error: {source}, line 8, column 36: malformed XML: expected 'loc' tag, not 'lastmod' at 8:36; \
             nothing was imported"
        )
    );
    let source = fixture("foreign.xml");
    assert_eq!(
        failure(&foreign),
        format!(
            "Error: {source}, line 8, column 5: <loc> `https://other.example.org/theirs` is on host \
             `other.example.org`, which does not belong to site `example.com`; nothing was imported"
        )
    );
    assert_eq!(
        failure(&unknown_site),
        "Error: no site nobody.example is registered; add it first with `footfall sites add nobody.example`"
    );
    // The valid first entry of foreign.xml was not registered either.
    assert_eq!(registry(&store).await, vec![]);
}

#[tokio::test]
async fn importing_again_changes_nothing() {
    let (settings, store) = database().await;
    stdout_of(&import(&settings, SITE, &fixture("sitemap.xml")).await);
    let before = registry(&store).await;

    let again = import(&settings, SITE, &fixture("sitemap.xml")).await;

    assert_eq!(
        stdout_of(&again),
        "imported 2 page(s) from a sitemap: 0 new, 0 moved to an earlier publish time, 0 kept their earlier \
         publish time, 2 unchanged; skipped 1 entries without a date, 0 without a link\n"
    );
    assert_eq!(registry(&store).await, before);
    // Once merged, the second import leaves no row behind.
    store.client().query("OPTIMIZE TABLE content FINAL").execute().await.unwrap();
    let rows: u64 = store.client().query("SELECT count() FROM content").fetch_one().await.unwrap();
    assert_eq!(rows, 2);
}

const ADMIN: &str = "test-admin-token-0123456789";

/// Posts `body` to the content route of `site` with `token`: (status, JSON body).
pub(crate) async fn post(app: &TestApp, site: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = app.http.post(format!("{}/api/v1/sites/{site}/content", app.address)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_api_registers_pages_and_the_earliest_publish_time_wins() {
    let app = spawn_app().await;
    assert_eq!(app.settings.admin_token.as_deref(), Some(ADMIN));

    let first = json!([
        {"path": "/blog/hello", "published": "2026-11-03T09:00:00Z", "title": "Hello"},
        {"path": "/blog/second?utm_source=x", "published": "2026-11-05T10:30:00+01:00"},
    ]);
    let (status, body) = post(&app, SITE, Some(ADMIN), &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"pages": 2, "new": 2, "moved_earlier": 0, "earlier_kept": 0, "unchanged": 0}));

    // `/blog/hello` later (kept at its earlier time, its newer title taken), `/blog/second`
    // earlier (moved), one unchanged.
    let second = json!([
        {"path": "/blog/hello", "published": "2026-11-04T08:00:00Z", "title": "Hello, world"},
        {"path": "/blog/second", "published": "2026-11-02T08:00:00Z", "title": "Second post"},
    ]);
    let (status, body) = post(&app, SITE, Some(ADMIN), &second).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"pages": 2, "new": 0, "moved_earlier": 1, "earlier_kept": 1, "unchanged": 0}));
    let (_, body) =
        post(&app, SITE, Some(ADMIN), &json!([{"path": "/blog/hello", "published": "2026-11-03T09:00:00Z"}])).await;
    assert_eq!(body, json!({"pages": 1, "new": 0, "moved_earlier": 0, "earlier_kept": 0, "unchanged": 1}));

    assert_eq!(
        registry(&app.store).await,
        vec![page("/blog/hello", NOV_03_0900, "Hello, world"), page("/blog/second", NOV_02_0800, "Second post")]
    );
    app.stop().await;
}

#[tokio::test]
async fn the_api_refuses_bad_input_and_wrong_tokens_and_registers_nothing() {
    let app = spawn_app().await;
    let valid = json!([{"path": "/a", "published": "2026-11-03T09:00:00Z"}]);

    let bad_time = json!([
        {"path": "/a", "published": "2026-11-03T09:00:00Z"},
        {"path": "/b", "published": "3 Nov 2026"},
    ]);
    let (status, body) = post(&app, SITE, Some(ADMIN), &bad_time).await;
    assert_eq!((status, &body["field"]), (400, &json!("[1].published")), "{body}");
    assert_eq!(
        body["error"],
        "`[1].published` `3 Nov 2026` must be an RFC 3339 time, such as `2026-11-03T09:00:00Z`; nothing was registered"
    );
    let (status, body) = post(&app, SITE, Some(ADMIN), &json!([{"published": "2026-11-03T09:00:00Z"}])).await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "`[0].path` is required; nothing was registered", "field": "[0].path"}))
    );
    let (status, body) =
        post(&app, SITE, Some(ADMIN), &json!([{"path": "blog", "published": "2026-11-03T09:00:00Z"}])).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "`[0].path` must be a path that starts with `/`, such as `/blog/hello`; nothing was registered",
                   "field": "[0].path"})
        )
    );
    let (status, body) = post(&app, SITE, Some(ADMIN), &json!([{"path": "/a", "published": 5}])).await;
    assert_eq!((status, &body["field"]), (400, &json!("[0].published")), "{body}");
    let (status, body) = post(&app, SITE, Some(ADMIN), &json!({"path": "/a"})).await;
    assert_eq!((status, &body["field"]), (400, &json!("body")), "{body}");

    let (status, body) = post(&app, SITE, None, &valid).await;
    assert_eq!((status, &body["field"]), (401, &json!("Authorization")), "{body}");
    let (status, body) = post(&app, SITE, Some("not-the-admin-token"), &valid).await;
    assert_eq!((status, &body["field"]), (401, &json!("Authorization")), "{body}");
    let token = new_token();
    let record = TokenRecord {
        id: token.id.clone(),
        site: SITE.into(),
        hash: token.hash.clone(),
        label: "reader".into(),
        created_at: 0,
        kind: TokenKind::Report,
        locked_filters: String::new(),
    };
    app.store.put_token(&record).await.unwrap();
    let (status, body) = post(&app, SITE, Some(&token.token), &valid).await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "registering content needs the admin token; report tokens and share links only read reports",
                   "field": "Authorization"})
        )
    );
    let (status, body) = post(&app, "nobody.example", Some(ADMIN), &valid).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "site `nobody.example` is not registered with this collector", "field": "site"}))
    );

    assert_eq!(registry(&app.store).await, vec![]);
    app.stop().await;
}

/// content-discovery lists the registry's pages (issue 18): a registered page nobody
/// viewed is there with `found: false`; a published page (registered, or with the beacon's
/// publish time) seen by fewer than `reports.min_visitors` visitors is listed with its
/// counts suppressed, not folded; a page without a publish time is folded into `(other)`.
#[tokio::test]
async fn content_discovery_lists_registered_pages_found_or_not() {
    let app = crate::helpers::spawn_app_with(|settings| settings.reports.min_visitors = 5).await;
    let day = chrono::Utc::now().date_naive() - chrono::Days::new(2);
    let at = |hour: u32| {
        chrono::TimeZone::from_utc_datetime(&chrono::Utc, &day.and_hms_opt(hour, 0, 0).unwrap()).timestamp() as u32
    };
    let registered = json!([
        {"path": "/news/popular", "published": format!("{day}T08:00:00Z"), "title": "Popular"},
        {"path": "/news/unfound", "published": format!("{day}T09:00:00Z")},
        {"path": "/news/quiet", "published": format!("{day}T10:00:00Z")},
    ]);
    let (status, body) = post(&app, SITE, Some(ADMIN), &registered).await;
    assert_eq!(status, 200, "{body}");
    let view = |path: &str, ts: u32, visitor: u64| footfall::store::EventRow {
        site: SITE.into(),
        ts,
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        source_class: "direct".into(),
        visitor,
        session: visitor,
        entry: 1,
        ..footfall::store::EventRow::default()
    };
    let mut events: Vec<_> = (1..=6).map(|visitor| view("/news/popular", at(12), visitor)).collect();
    events.extend([view("/news/quiet", at(12), 7), view("/news/quiet", at(13), 8), view("/misc/new", at(11), 9)]);
    // A page that says when it was published (the beacon's meta), seen by one visitor.
    events.push(footfall::store::EventRow { published: Some(at(7)), ..view("/news/meta", at(12), 10) });
    events.push(view("/", at(12) - 14 * 86_400, 99)); // the site's first view: footfall was installed before
    app.store.insert_events(&events).await.unwrap();

    let response = crate::reports::get_report(&app, "content-discovery", &format!("from={day}&to={day}&tz=UTC")).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let suppressed = |path: &str, published: &str, found: bool| {
        json!({"path": path, "title": null, "published_at": format!("{day}T{published}+00:00"), "first_view_at": null,
               "hours_to_first_view": null, "found": found, "views_24h": null, "visitors_24h": null,
               "views_7d": null, "visitors_7d": null, "internal_share": null, "search_share": null,
               "social_share": null, "other_share": null, "direct_share": null, "returning_share": null,
               "hours_to_10_visitors": null, "hours_to_100_visitors": null, "vs_typical_24h": null,
               "median_engaged_seconds_7d": null, "read_through_share_7d": null, "top_referrers": [],
               "internal_from": [], "suppressed": true})
    };
    assert_eq!(
        answer["rows"],
        json!([
            suppressed("/news/quiet", "10:00:00", true),
            suppressed("/news/unfound", "09:00:00", false),
            {"path": "/news/popular", "title": "Popular", "published_at": format!("{day}T08:00:00+00:00"),
             "first_view_at": format!("{day}T12:00:00+00:00"), "hours_to_first_view": 4.0, "found": true,
             "views_24h": 6, "visitors_24h": 6, "views_7d": 6, "visitors_7d": 6, "internal_share": 0.0,
             "search_share": 0.0, "social_share": 0.0, "other_share": 0.0, "direct_share": 1.0,
             "returning_share": 0.0, "hours_to_10_visitors": null, "hours_to_100_visitors": null,
             "vs_typical_24h": null, "median_engaged_seconds_7d": 0.0, "read_through_share_7d": 0.0,
             "top_referrers": [], "internal_from": [], "suppressed": false},
            suppressed("/news/meta", "07:00:00", true),
            {"path": "(other)", "title": null, "published_at": null, "first_view_at": null,
             "hours_to_first_view": null, "found": true, "views_24h": 1, "visitors_24h": 1, "views_7d": 1, "visitors_7d": 1,
             "internal_share": 0.0, "search_share": 0.0, "social_share": 0.0, "other_share": 0.0,
             "direct_share": 1.0, "returning_share": 0.0, "hours_to_10_visitors": null,
             "hours_to_100_visitors": null, "vs_typical_24h": null, "median_engaged_seconds_7d": null,
             "read_through_share_7d": null, "top_referrers": [], "internal_from": [], "suppressed": false},
        ])
    );
    assert_eq!(answer["small_counts"], json!({"min_visitors": 5, "folded_rows": 1, "other_visitors": "exact"}));
    app.stop().await;
}

/// A view of the fixture below: `class` and `referrer` say how it arrived (`referrer` a
/// host for entries from other sites, a path for internal views), `id` its pageview hash.
pub(crate) fn view(path: &str, ts: u32, visitor: u64, id: u64, class: &str, referrer: &str, entry: bool) -> EventRow {
    let internal = class == "internal";
    EventRow {
        site: SITE.into(),
        ts,
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        referrer_host: if internal { SITE.into() } else { referrer.into() },
        referrer_path: if internal {
            referrer.into()
        } else if referrer.is_empty() {
            String::new()
        } else {
            "/".into()
        },
        source_class: class.to_owned().into(),
        visitor,
        session: visitor,
        entry: u8::from(entry),
        pageview: id,
        ..EventRow::default()
    }
}

/// An engagement event of page view `id`.
pub(crate) fn engagement(path: &str, ts: u32, visitor: u64, id: u64, engaged_ms: u32, scroll: u8) -> EventRow {
    EventRow {
        name: "engagement".into(),
        engaged_ms,
        scroll,
        entry: 0,
        ..view(path, ts, visitor, id, "direct", "", false)
    }
}

pub(crate) fn utc(rfc3339: &str) -> u32 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp() as u32
}

#[tokio::test]
async fn content_discovery_says_how_fast_how_well_and_from_where_pages_were_read() {
    // Arrange: min_visitors 2, so a referrer of one visitor is never named.
    let app = crate::helpers::spawn_app_with(|settings| settings.reports.min_visitors = 2).await;
    let registered = json!([
        // Spring DST day in London: 00:30 GMT, then clocks jump at 01:00 UTC.
        {"path": "/blog/dst", "published": "2026-03-29T00:30:00Z", "title": "Old title"},
        {"path": "/blog/unfound", "published": "2026-03-29T09:00:00Z"},
        {"path": "/blog/hit", "published": "2026-03-28T12:00:00Z"},
        {"path": "/old/1", "published": "2026-02-01T10:00:00Z"},
        {"path": "/old/2", "published": "2026-02-02T10:00:00Z"},
        {"path": "/old/3", "published": "2026-02-03T10:00:00Z"},
        {"path": "/old/4", "published": "2026-02-04T10:00:00Z"},
        {"path": "/old/5", "published": "2026-02-05T10:00:00Z"},
        // More than 90 days before every page of the range: never in a yardstick.
        {"path": "/old/ancient", "published": "2025-10-01T10:00:00Z"},
    ]);
    let (status, body) = post(&app, SITE, Some(ADMIN), &registered).await;
    assert_eq!(status, 200, "{body}");
    // Registered again, then again without a title: the newest non-empty title wins, as
    // given (a feed's text; the dashboard escapes it).
    let title = "Clocks <b>go</b> forward, & \"we\" post";
    for again in [
        json!([{"path": "/blog/dst", "published": "2026-03-29T00:30:00Z", "title": title}]),
        json!([{"path": "/blog/dst", "published": "2026-03-29T00:30:00Z"}]),
    ] {
        let (status, body) = post(&app, SITE, Some(ADMIN), &again).await;
        assert_eq!(status, 200, "{body}");
    }

    let dst = utc("2026-03-29T00:30:00Z");
    let hour = |n: f64| dst + (n * 3600.0) as u32;
    let p = "/blog/dst";
    let mut events = vec![
        // Visitor n views at n hours after the start; ids 1000 + n.
        view(p, hour(1.0), 1, 1001, "other", "news.example.org", true),
        view(p, hour(1.5), 1, 1011, "internal", "/", false), // visitor 1 again: not a new visitor
        view(p, hour(2.0), 2, 1002, "other", "news.example.org", true),
        view(p, hour(3.0), 3, 1003, "other", "news.example.org", true),
        view(p, hour(4.0), 4, 1004, "social", "t.co", true),
        view(p, hour(5.0), 5, 1005, "social", "t.co", true),
        view(p, hour(6.0), 6, 1006, "search", "www.google.com", true), // one visitor: not named
        view(p, hour(7.0), 7, 1007, "internal", "/", false),
        view(p, hour(8.0), 8, 1008, "internal", "/", false),
        view(p, hour(9.0), 9, 1009, "internal", "/", false),
        view(p, hour(10.0), 10, 1010, "internal", "/news", false), // the 10th visitor
        view(p, hour(11.0), 11, 1111, "internal", "/news", false),
        view(p, hour(12.0), 12, 0, "direct", "", true), // no pageview id: no engagement is its
        // After 24 hours, the next local day: visitor 10 again is another visitor-day; its
        // link from another site is no entry.
        view(p, hour(30.0), 10, 1020, "other", "blog.elsewhere.net", false),
        // Active, idle (visible but untouched: 0 ms) and unscrolled engagement; scroll
        // either side of 75.
        engagement(p, hour(1.1), 1, 1001, 20_000, 40),
        engagement(p, hour(1.2), 1, 1001, 10_000, 80),
        engagement(p, hour(2.1), 2, 1002, 0, 10),
        engagement(p, hour(3.1), 3, 1003, 5_000, 75),
        engagement(p, hour(4.1), 4, 1004, 45_000, 74),
        engagement(p, hour(5.1), 5, 1005, 12_000, 50),
        engagement(p, hour(6.1), 6, 1006, 8_000, 20),
        engagement(p, hour(7.1), 7, 1007, 8_000, 30),
        engagement(p, hour(8.1), 8, 1008, 20_000, 60),
        engagement(p, hour(9.1), 9, 1009, 2_000, 0),
        engagement(p, hour(30.1), 10, 1020, 9_000, 10),
        // Engagement without a pageview id belongs to no view.
        engagement(p, hour(12.1), 12, 0, 99_000, 100),
    ];
    // /blog/hit: 100 visitors, one a minute from its start, all direct.
    let hit = utc("2026-03-28T12:00:00Z");
    events.extend((1..=100).map(|n| view("/blog/hit", hit + 60 * n, 500 + u64::from(n), 0, "direct", "", true)));
    // /old/k: k visitors an hour after its start.
    for k in 1..=5u32 {
        let start = utc(&format!("2026-02-0{k}T10:00:00Z"));
        events.extend(
            (0..k).map(|j| view(&format!("/old/{k}"), start + 3600, u64::from(100 * k + j), 0, "direct", "", true)),
        );
    }
    events.extend((0..50).map(|j| view("/old/ancient", utc("2025-10-01T11:00:00Z"), 900 + j, 0, "direct", "", true)));
    app.store.insert_events(&events).await.unwrap();

    // Act
    let query = "from=2026-03-28&to=2026-03-29&tz=Europe/London";
    let response = crate::reports::get_report(&app, "content-discovery", query).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();

    // Assert
    let unfound = json!({"path": "/blog/unfound", "title": null, "published_at": "2026-03-29T10:00:00+01:00",
        "first_view_at": null, "hours_to_first_view": null, "found": false, "views_24h": null,
        "visitors_24h": null, "views_7d": null, "visitors_7d": null, "internal_share": null,
        "search_share": null, "social_share": null, "other_share": null, "direct_share": null,
        "returning_share": null, "hours_to_10_visitors": null, "hours_to_100_visitors": null,
        "vs_typical_24h": null, "median_engaged_seconds_7d": null, "read_through_share_7d": null,
        "top_referrers": [], "internal_from": [], "suppressed": true});
    // 14 views (13 in 24 hours), 12 visitors in 24 hours, 13 visitor-days in 7.
    // Engaged per view (ms): 30000 0 0 5000 45000 12000 8000 8000 20000 2000 0 0 0 9000;
    // sorted, the 7th and 8th are 5000 and 8000: median 6.5 s. Read through: 1001 (80)
    // and 1003 (exactly 75) of 14. Yardstick: /old/1..5 (1 to 5) and /blog/hit (100)
    // started in the 90 days before: median 3.5, 12 / 3.5 = 3.43.
    let dst_row = json!({"path": "/blog/dst", "title": title, "published_at": "2026-03-29T00:30:00+00:00",
        "first_view_at": "2026-03-29T02:30:00+01:00", "hours_to_first_view": 1.0, "found": true,
        "views_24h": 13, "visitors_24h": 12, "views_7d": 14, "visitors_7d": 13,
        "internal_share": 0.4286, "search_share": 0.0714, "social_share": 0.1429, "other_share": 0.2857,
        "direct_share": 0.0714, "returning_share": 0.0,
        "hours_to_10_visitors": 10.0, "hours_to_100_visitors": null, "vs_typical_24h": 3.43,
        "median_engaged_seconds_7d": 6.5, "read_through_share_7d": 0.1429,
        "top_referrers": [{"host": "news.example.org", "visitors": 3}, {"host": "t.co", "visitors": 2}],
        "internal_from": [{"path": "/", "visitors": 4}, {"path": "/news", "visitors": 2}],
        "suppressed": false});
    // The 10th visitor after 10 minutes, the 100th after 100; yardstick /old/1..5: 100 / 3.
    let hit_row = json!({"path": "/blog/hit", "title": null, "published_at": "2026-03-28T12:00:00+00:00",
        "first_view_at": "2026-03-28T12:01:00+00:00", "hours_to_first_view": 0.02, "found": true,
        "views_24h": 100, "visitors_24h": 100, "views_7d": 100, "visitors_7d": 100,
        "internal_share": 0.0, "search_share": 0.0, "social_share": 0.0, "other_share": 0.0,
        "direct_share": 1.0, "returning_share": 0.0,
        "hours_to_10_visitors": 0.17, "hours_to_100_visitors": 1.67, "vs_typical_24h": 33.33,
        "median_engaged_seconds_7d": 0.0, "read_through_share_7d": 0.0,
        "top_referrers": [], "internal_from": [], "suppressed": false});
    assert_eq!(answer["rows"], json!([unfound, dst_row, hit_row]));

    let csv = crate::reports::report_csv(&app, "content-discovery", query).await;
    let dst_line = csv.lines().nth(2).unwrap();
    assert!(
        dst_line.starts_with("/blog/dst,\"Clocks <b>go</b> forward, & \"\"we\"\" post\",2026-03-29T00:30:00+00:00,"),
        "{dst_line}"
    );
    assert!(dst_line.ends_with(",10,,3.43,6.5,0.1429,news.example.org=3 t.co=2,/=4 /news=2,false"), "{dst_line}");

    // /old/5 has 4 pages in the 90 days before it (/old/ancient is 127 days older): no yardstick.
    let old = crate::reports::get_report(&app, "content-discovery", "from=2026-02-05&to=2026-02-05&tz=UTC").await;
    let old: Value = old.json().await.unwrap();
    assert_eq!(
        (&old["rows"][0]["path"], &old["rows"][0]["visitors_24h"], &old["rows"][0]["vs_typical_24h"]),
        (&json!("/old/5"), &json!(5), &Value::Null)
    );
    app.stop().await;
}

#[tokio::test]
async fn publish_timing_puts_pages_on_the_week_by_their_local_start_and_names_the_best_hours() {
    // Arrange: 10 days (Monday 2026-03-23 to Wednesday 2026-04-01, not whole weeks: two
    // Mondays, two Tuesdays, two Wednesdays) across London's spring change (Sunday 29th).
    let app = crate::helpers::spawn_app_with(|settings| settings.reports.min_visitors = 2).await;
    // (path, publish time, visitors in its first 24 hours)
    let pages: [(&str, &str, u64); 19] = [
        ("/a1", "2026-03-23T09:00:00Z", 4), // Monday 9:00 GMT
        ("/a2", "2026-03-23T09:15:00Z", 6),
        ("/a3", "2026-03-23T09:45:00Z", 10),
        ("/a4", "2026-03-30T08:10:00Z", 2), // Monday 9:10 BST: the same cell, a week later
        ("/b1", "2026-03-24T14:00:00Z", 5), // Tuesday 14:00
        ("/b2", "2026-03-24T14:20:00Z", 5),
        ("/b3", "2026-03-31T13:30:00Z", 5), // Tuesday 14:30 BST
        ("/c1", "2026-03-25T10:00:00Z", 5), // Wednesday 10:00
        ("/c2", "2026-03-25T10:05:00Z", 5),
        ("/c3", "2026-03-25T10:10:00Z", 5),
        ("/d1", "2026-03-26T08:00:00Z", 1), // Thursday 8:00: three pages, median 1
        ("/d2", "2026-03-26T08:01:00Z", 1),
        ("/d3", "2026-03-26T08:02:00Z", 1),
        ("/e1", "2026-03-27T12:00:00Z", 50), // Friday 12:00: two pages, too few for best
        ("/e2", "2026-03-27T12:30:00Z", 50),
        ("/f1", "2026-03-28T18:00:00Z", 0),     // Saturday 18:00: nobody came
        ("/dst", "2026-03-29T01:30:00Z", 1),    // Sunday 2:30 BST, just after the change
        ("/before", "2026-03-22T23:30:00Z", 9), // Sunday 22nd: before the range
        ("/after", "2026-04-02T00:30:00Z", 9),  // Thursday 2nd 1:30 BST: after it
    ];
    let registered: Vec<Value> =
        pages.iter().map(|(path, published, _)| json!({"path": path, "published": published})).collect();
    let (status, body) = post(&app, SITE, Some(ADMIN), &Value::from(registered)).await;
    assert_eq!(status, 200, "{body}");
    let mut events = Vec::new();
    for (n, (path, published, visitors)) in (0u64..).zip(pages) {
        let seen = utc(published) + 3600;
        events.extend((0..visitors).map(|v| view(path, seen, 1000 * n + v, 0, "direct", "", true)));
    }
    app.store.insert_events(&events).await.unwrap();

    // Act
    let query = "from=2026-03-23&to=2026-04-01&tz=Europe/London";
    let answer: Value = crate::reports::get_report(&app, "publish-timing", query).await.json().await.unwrap();

    // Assert
    let cell = |weekday: u64, hour: u64, pages: u64, median: Value| json!({"weekday": weekday, "hour": hour, "pages": pages, "median_visitors_24h": median});
    // Monday 9:00 ([2, 4, 6, 10]: 5) beats Tuesday 14:00 and Wednesday 10:00 (5 too) by
    // pages; Tuesday beats Wednesday by being earlier; Thursday 8:00 (1) is fourth.
    assert_eq!(
        answer["best"],
        json!([cell(1, 9, 4, json!(5.0)), cell(2, 14, 3, json!(5.0)), cell(3, 10, 3, json!(5.0))])
    );
    assert_eq!((&answer["pages"], &answer["min_visitors"]), (&json!(17), &json!(2)));
    let grid = answer["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 168);
    let at = |weekday: u64, hour: u64| &grid[((weekday - 1) * 24 + hour) as usize];
    assert_eq!(at(1, 9), &cell(1, 9, 4, json!(5.0)));
    assert_eq!(at(4, 8), &cell(4, 8, 3, json!(1.0)));
    assert_eq!(at(5, 12), &cell(5, 12, 2, json!(50.0)));
    // Fewer than min_visitors visitors in a cell: no median.
    assert_eq!(at(6, 18), &cell(6, 18, 1, Value::Null));
    assert_eq!(at(7, 2), &cell(7, 2, 1, Value::Null));
    assert_eq!(at(7, 1), &cell(7, 1, 0, Value::Null), "1:00-2:00 did not exist on the 29th");
    assert_eq!(grid.iter().map(|cell| cell["pages"].as_u64().unwrap()).sum::<u64>(), 17);

    let csv = crate::reports::report_csv(&app, "publish-timing", query).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 168);
    assert_eq!((lines[0], lines[1], lines[1 + 9]), ("weekday,hour,pages,median_visitors_24h", "1,0,0,", "1,9,4,5"));

    let long = crate::reports::get_report(&app, "publish-timing", "from=2025-01-01&to=2026-01-02").await;
    assert_eq!(long.status(), 400);
    let body: Value = long.json().await.unwrap();
    assert_eq!(body["field"], "to", "{body}");
    app.stop().await;
}
