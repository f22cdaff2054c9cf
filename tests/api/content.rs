//! The content registry: `footfall content import` (run as a process) from sitemap, RSS
//! and Atom files and from a local http URL, and `POST /api/v1/sites/{site}/content`.
//! Malformed or invalid input registers nothing; re-imports change nothing; the earliest
//! publish time of a page wins.

use std::process::Output;

use footfall::auth::{new_token, TokenKind, TokenRecord};
use footfall::config::Settings;
use footfall::store::{RegisteredPage, Store};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{child_env, footfall_binary, register_site, spawn_app, test_settings, TestApp, SITE};

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
    tokio::process::Command::new(footfall_binary())
        .args(["content", "import", "--site", site, source])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(child_env(settings))
        .output()
        .await
        .expect("footfall runs")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The last line of stderr of a failed command (`Error: ...`).
fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap().trim().lines().last().unwrap().to_string()
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
        stdout(&output),
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
        stdout(&rss),
        "imported 2 page(s) from an RSS feed: 2 new, 0 moved to an earlier publish time, 0 kept their earlier \
         publish time, 0 unchanged\n"
    );
    assert_eq!(
        stdout(&atom),
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
    stdout(&import(&settings, SITE, &fixture("sitemap.xml")).await);
    let before = registry(&store).await;

    let again = import(&settings, SITE, &fixture("sitemap.xml")).await;

    assert_eq!(
        stdout(&again),
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
async fn post(app: &TestApp, site: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
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
        json!({"path": path, "published_at": format!("{day}T{published}+00:00"), "first_view_at": null,
               "hours_to_first_view": null, "found": found, "views_24h": null, "visitors_24h": null,
               "views_7d": null, "visitors_7d": null, "internal_share": null, "search_share": null,
               "social_share": null, "other_share": null, "direct_share": null, "returning_share": null,
               "suppressed": true})
    };
    assert_eq!(
        answer["rows"],
        json!([
            suppressed("/news/quiet", "10:00:00", true),
            suppressed("/news/unfound", "09:00:00", false),
            {"path": "/news/popular", "published_at": format!("{day}T08:00:00+00:00"),
             "first_view_at": format!("{day}T12:00:00+00:00"), "hours_to_first_view": 4.0, "found": true,
             "views_24h": 6, "visitors_24h": 6, "views_7d": 6, "visitors_7d": 6, "internal_share": 0.0,
             "search_share": 0.0, "social_share": 0.0, "other_share": 0.0, "direct_share": 1.0,
             "returning_share": 0.0, "suppressed": false},
            suppressed("/news/meta", "07:00:00", true),
            {"path": "(other)", "published_at": null, "first_view_at": null, "hours_to_first_view": null,
             "found": true, "views_24h": 1, "visitors_24h": 1, "views_7d": 1, "visitors_7d": 1,
             "internal_share": 0.0, "search_share": 0.0, "social_share": 0.0, "other_share": 0.0,
             "direct_share": 1.0, "returning_share": 0.0, "suppressed": false},
        ])
    );
    assert_eq!(answer["small_counts"], json!({"min_visitors": 5, "folded_rows": 1, "other_visitors": "exact"}));
    app.stop().await;
}
