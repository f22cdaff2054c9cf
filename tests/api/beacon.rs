//! The beacon in a real browser: pages on loopback embed `/js/footfall.js` from a test app,
//! headless Chromium loads them, and the tests assert the exact rows that reach
//! ClickHouse and, where nothing may be sent, that the page sent nothing at all.
//!
//! Pages are opened as `http://localhost:PORT/...`, and the app has the site `localhost`
//! registered, so the beacon's events pass the origin check as a real site's would.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use clickhouse::Row;
use footfall::privacy::visitor_hash;
use footfall::sites::Site;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::browser::{tagged_page, Browser, PageServer, Prefs, BROWSER_UA, SCREEN_WIDTH};
use crate::helpers::{metric, spawn_app_with_sites, TestApp};

/// The site the test pages belong to.
const SITE: &str = "localhost";
/// How long a test leaves a page visible before the next step, so that engaged time is
/// measurably above zero.
const DWELL: Duration = Duration::from_millis(300);

/// A stored event, as the tests look at it.
#[derive(Debug, Clone, PartialEq, Row, Deserialize)]
struct Stored {
    ts: u32,
    name: String,
    hostname: String,
    path: String,
    referrer_host: String,
    referrer_path: String,
    source_class: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    visitor: u64,
    session: u64,
    entry: u8,
    returning: u8,
    published: Option<u32>,
    engaged_ms: u32,
    screen: String,
    browser: String,
    os: String,
    device: String,
    country: String,
    prop_keys: Vec<String>,
    prop_values: Vec<String>,
    pageview: u64,
}

const COLUMNS: &str = "toUInt32(ts), name, hostname, path, referrer_host, referrer_path, source_class, utm_source, \
     utm_medium, utm_campaign, visitor, session, entry, returning, published, engaged_ms, screen, browser, os, device, \
     country, prop_keys, prop_values, pageview";

/// A test app with the site `localhost`, a page server, and the collector's address.
struct Setup {
    app: TestApp,
    pages: PageServer,
    collector: String,
}

async fn setup() -> Setup {
    setup_site(Site::new(SITE, "UTC", &[]).unwrap()).await
}

/// As [`setup`], with `localhost` registered as `site` says (consent mode).
async fn setup_site(site: Site) -> Setup {
    let app = spawn_app_with_sites(&[site], |_| {}).await;
    let pages = PageServer::start().await;
    Setup { collector: app.address.clone(), app, pages }
}

impl Setup {
    /// Serves a page with the beacon at `path`.
    fn page(&self, path: &str, attributes: &str, head: &str, body: &str) {
        self.pages.put(path, tagged_page(&self.collector, attributes, head, body));
    }

    /// `http://localhost:PORT{path}`: a page of the site.
    fn on_site(&self, path: &str) -> String {
        self.pages.url(SITE, path)
    }

    /// Every stored event, oldest first.
    async fn rows(&self) -> Vec<Stored> {
        self.app
            .store
            .client()
            .query(&format!("SELECT {COLUMNS} FROM events ORDER BY ts, name, path"))
            .fetch_all()
            .await
            .unwrap()
    }

    /// The visitor hash footfall computes on the day of `ts` for a cookie id, or for
    /// Chromium on loopback without one.
    async fn expected_visitor(&self, ts: u32, cookie_id: Option<&str>) -> u64 {
        let day = (ts / 86_400) as u16;
        let key = self.app.store.day_keys(day, day).await.unwrap().into_iter().map(|row| row.key).min().unwrap();
        visitor_hash(&key, SITE, cookie_id, IpAddr::V4(Ipv4Addr::LOCALHOST), BROWSER_UA)
    }

    /// Asserts that the collector saw `accepted` events and refused, dropped or filtered
    /// none: every request that reached it is accounted for.
    async fn assert_collector_saw(&self, accepted: u64) {
        let metrics = self.app.metrics().await;
        assert_eq!(metric(&metrics, "footfall_events_accepted_total"), accepted, "{metrics}");
        assert_eq!(metric(&metrics, "footfall_events_bot_total"), 0, "{metrics}");
        for line in metrics.lines().filter(|line| line.starts_with("footfall_events_rejected_total")) {
            assert!(line.ends_with(" 0"), "a request was refused: {line}");
        }
    }
}

/// A row of event `name` on `path` with what every test page's events share.
fn base_row(name: &str, path: &str) -> Stored {
    Stored {
        ts: 0,
        name: name.into(),
        hostname: SITE.into(),
        path: path.into(),
        referrer_host: String::new(),
        referrer_path: String::new(),
        source_class: "direct".into(),
        utm_source: String::new(),
        utm_medium: String::new(),
        utm_campaign: String::new(),
        visitor: 0,
        session: 0,
        entry: 0,
        returning: 0,
        published: None,
        engaged_ms: 0,
        screen: "desktop".into(),
        browser: "Chrome".into(),
        os: "Linux".into(),
        device: "desktop".into(),
        country: "JP".into(),
        prop_keys: vec![],
        prop_values: vec![],
        pageview: 0,
    }
}

/// Copies what a test cannot know in advance (time, hashes) from `actual`, so the rest
/// of the row can be compared exactly.
fn with_hashes_of(mut expected: Stored, actual: &Stored) -> Stored {
    expected.ts = actual.ts;
    expected.visitor = actual.visitor;
    expected.session = actual.session;
    expected.pageview = actual.pageview;
    expected.engaged_ms = actual.engaged_ms;
    expected
}

fn millis(duration: Duration) -> u32 {
    duration.as_millis() as u32
}

fn parse_body(sent: &Value) -> Value {
    serde_json::from_str(sent["body"].as_str().expect("a body was sent")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tagged_page_stores_one_pageview_with_everything_the_reports_need() {
    let setup = setup().await;
    let target = "/blog/hello?utm_source=news&utm_medium=email&utm_campaign=launch&token=SECRET#top";
    setup.pages.put(
        "/links",
        crate::browser::plain_page(&format!("<a id=\"go\" href=\"{}\">read</a>", setup.on_site(target))),
    );
    setup.page(
        "/blog/hello",
        "",
        r#"<meta property="article:published_time" content="2026-11-28T09:00:00+01:00">"#,
        "<h1>Hello</h1>",
    );
    let browser = Browser::launch().await;
    // Arrive from another host by following a link, so the page has a referrer.
    browser.open(&setup.pages.url("127.0.0.1", "/links")).await;
    browser.click("#go").await;
    browser.wait_for_path("/blog/hello").await;
    setup.app.wait_for_events(1).await;

    let cookie_id = browser.cookie("footfall_id").await;
    let rows = setup.rows().await;
    let mut expected = base_row("pageview", "/blog/hello");
    expected.referrer_host = "127.0.0.1".into(); // the browser sends only the origin cross-site
    expected.referrer_path = "/".into();
    expected.source_class = "other".into();
    expected.utm_source = "news".into();
    expected.utm_medium = "email".into();
    expected.utm_campaign = "launch".into();
    expected.entry = 1;
    expected.published = Some(chrono::DateTime::parse_from_rfc3339("2026-11-28T08:00:00Z").unwrap().timestamp() as u32);
    let visitor = setup.expected_visitor(rows[0].ts, Some(&cookie_id)).await;
    let mut expected = with_hashes_of(expected, &rows[0]);
    expected.visitor = visitor;
    assert_eq!(rows, vec![expected]);
    assert_ne!(rows[0].pageview, 0);
    assert_eq!(rows[0].engaged_ms, 0);

    // What left the page: one beacon with exactly the documented fields.
    let sent = browser.sent().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["via"], "beacon");
    assert_eq!(sent[0]["url"], format!("{}/api/event", setup.collector));
    let body = parse_body(&sent[0]);
    let pageview_id = body["pageview"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({
            "site": SITE, "name": "pageview",
            "url": setup.on_site("/blog/hello?utm_source=news&utm_medium=email&utm_campaign=launch&token=SECRET"),
            "referrer": setup.pages.url("127.0.0.1", "/"),
            "pageview": pageview_id, "screen": SCREEN_WIDTH, "tz": "Asia/Tokyo",
            "published": "2026-11-28T08:00:00.000Z", "visitor": cookie_id, "returning": false,
        })
    );
    assert!(!setup.rows().await.iter().any(|row| format!("{row:?}").contains(&pageview_id)));

    // The cookies: a random id for 390 days, and the visit marker for 30 minutes.
    assert_eq!(browser.cookie_names().await, ["footfall_id", "footfall_visit"]);
    assert_eq!(browser.cookie("footfall_visit").await, "0");
    for (name, lifetime) in [("footfall_id", 390 * 86_400), ("footfall_visit", 1800)] {
        let cookie = browser.client.get_named_cookie(name).await.unwrap();
        assert_eq!(cookie.same_site().map(|same_site| same_site.to_string()).as_deref(), Some("Lax"), "{name}");
        assert_eq!(cookie.secure(), Some(true), "{name}: localhost is a secure context");
        let expires = cookie.expires_datetime().expect("a persistent cookie").unix_timestamp();
        let expected_expiry = chrono::Utc::now().timestamp() + lifetime;
        assert!((expires - expected_expiry).abs() < 120, "{name} expires at {expires}, expected ~{expected_expiry}");
    }
    assert!(cookie_id.len() >= 3 && cookie_id.contains('x'), "two random 32-bit numbers: {cookie_id}");
    browser.assert_quiet().await;
    setup.assert_collector_saw(1).await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn spa_navigations_are_pageviews_and_engagement_attaches_to_its_pageview() {
    let setup = setup().await;
    setup.page("/app", "", "", "<h1>app</h1>");
    let browser = Browser::launch().await;

    let t0 = Instant::now();
    browser.open(&setup.on_site("/app")).await;
    let t0_end = Instant::now();
    tokio::time::sleep(DWELL).await;
    let t1 = Instant::now();
    browser.js("history.pushState({}, '', '/app/settings')").await;
    // Same page, another query: not a new page view.
    browser.js("history.replaceState({}, '', '/app/settings?tab=2')").await;
    let t1_end = Instant::now();
    tokio::time::sleep(DWELL).await;
    let t2 = Instant::now();
    browser.js("history.pushState({}, '', '/app/reports')").await;
    let t2_end = Instant::now();
    tokio::time::sleep(DWELL).await;
    let t3 = Instant::now();
    browser.js("history.back()").await; // popstate back to /app/settings
    browser.wait_until("return location.pathname == '/app/settings' && __sent.length == 7").await;
    let t3_end = Instant::now();
    tokio::time::sleep(DWELL).await;
    let t4 = Instant::now();
    browser.hide_and_show().await;
    let t4_end = Instant::now();
    setup.app.wait_for_events(8).await;
    browser.assert_quiet().await;

    let rows = setup.rows().await;
    let pageviews: Vec<&Stored> = rows.iter().filter(|row| row.name == "pageview").collect();
    let engagements: Vec<&Stored> = rows.iter().filter(|row| row.name == "engagement").collect();
    assert_eq!((pageviews.len(), engagements.len()), (4, 4), "{rows:#?}");
    // Each page view, told apart by the page it came from, and the time it was visible:
    // at least the time between the steps that opened and left it, at most the time from
    // the start of the one to the end of the other.
    let views = [
        ("/app", "", (t1 - t0_end, t1_end - t0)),
        ("/app/settings", "/app", (t2 - t1_end, t2_end - t1)),
        ("/app/reports", "/app/settings", (t3 - t2_end, t3_end - t2)),
        ("/app/settings", "/app/reports", (t4 - t3_end, t4_end - t3)),
    ];
    let visitor = rows[0].visitor;
    let session = rows[0].session;
    for (index, (path, came_from, (least, most))) in views.into_iter().enumerate() {
        let view = pageviews
            .iter()
            .find(|row| row.path == path && row.referrer_path == came_from)
            .unwrap_or_else(|| panic!("no pageview of {path} from {came_from:?}: {rows:#?}"));
        let mut expected = base_row("pageview", path);
        if index > 0 {
            expected.referrer_host = SITE.into();
            expected.referrer_path = came_from.into();
            expected.source_class = "internal".into();
        }
        expected.entry = u8::from(index == 0);
        assert_eq!(**view, with_hashes_of(expected, view));
        assert_ne!(view.pageview, 0);
        let attached: Vec<&&Stored> = engagements.iter().filter(|row| row.pageview == view.pageview).collect();
        assert_eq!(attached.len(), 1, "one engagement per view of {path}: {rows:#?}");
        let engagement = attached[0];
        let mut expected = base_row("engagement", path);
        if index > 0 {
            expected.referrer_host = SITE.into();
            expected.referrer_path = came_from.into();
            expected.source_class = "internal".into();
        }
        assert_eq!(*engagement, &with_hashes_of(expected, engagement));
        assert!(
            engagement.engaged_ms + 1 >= millis(least) && engagement.engaged_ms <= millis(most) + 1,
            "{path}: engaged {} ms, expected {least:?}..={most:?}",
            engagement.engaged_ms
        );
        assert!(engagement.engaged_ms >= millis(DWELL) - 1);
    }
    assert!(rows.iter().all(|row| row.visitor == visitor && row.session == session), "{rows:#?}");
    browser.quit().await;
    setup.app.stop().await;
}

/// A page clock the test moves by hand: the beacon measures engaged time with
/// `Date.now()`, so the idle cut-off is tested without waiting for it.
const PAGE_CLOCK: &str = "<script>window.__t = Date.now(); Date.now = function () { return window.__t; };\n\
     addEventListener('scroll', function () { window.__scrolls = (window.__scrolls || 0) + 1; });</script>";

#[tokio::test(flavor = "multi_thread")]
async fn engaged_time_stops_30_seconds_after_the_last_input_and_the_read_depth_is_sent() {
    let setup = setup().await;
    setup.page("/long", "", PAGE_CLOCK, "<div style=\"height: 4000px\">a long read</div>");
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/long")).await;
    browser.wait_until("return __sent.length == 1").await; // the pageview, at t = 0 (showing counts as input)
                                                           // Scrolled at t = 0, to a point the test reads back: the bottom of the window at
                                                           // (scrollY + innerHeight) / scrollHeight of the page.
    browser.js("scrollTo(0, 1500)").await;
    browser.wait_until("return window.__scrolls >= 1").await;
    let depth = browser
        .js("return Math.floor((scrollY + innerHeight) * 100 / document.documentElement.scrollHeight)")
        .await
        .as_u64()
        .unwrap();
    assert!((40..75).contains(&depth), "the window shows {depth}% of the page: pick another scroll point");
    // A key at t = 10 s keeps the visitor active until t = 40 s; nothing more until the
    // page is hidden at t = 60 s: 40 s engaged, not 60.
    browser.js("__t += 10000; document.dispatchEvent(new KeyboardEvent('keydown', {bubbles: true}))").await;
    browser.js("__t += 50000").await;
    browser.hide_and_show().await;
    // Shown again at t = 60 s (showing counts as input), hidden at t = 65 s: 5 s more. A
    // scroll to the end takes the read depth to 100; a pointer press is input too.
    browser.js("__t += 2000; scrollTo(0, 4000)").await;
    browser.wait_until("return window.__scrolls >= 2").await;
    browser.js("document.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}))").await;
    browser.js("__t += 3000").await;
    browser.hide_and_show().await;
    browser.wait_until("return __sent.length == 3").await;
    let engagements: Vec<(u64, u64)> = browser
        .sent()
        .await
        .iter()
        .map(parse_body)
        .filter(|body| body["name"] == "engagement")
        .map(|body| (body["engaged_ms"].as_u64().unwrap(), body["scroll"].as_u64().unwrap()))
        .collect();
    assert_eq!(engagements, [(40_000, depth), (5_000, 100)]);

    setup.app.wait_for_events(3).await;
    let stored: Vec<(String, u32, u8)> = setup
        .app
        .store
        .client()
        .query("SELECT name, engaged_ms, scroll FROM events ORDER BY name, engaged_ms")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(
        stored,
        [("engagement".into(), 5_000, 100), ("engagement".into(), 40_000, depth as u8), ("pageview".into(), 0, 0)]
    );
    browser.assert_quiet().await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_profile_on_a_second_visit_is_returning_and_a_fresh_profile_is_not() {
    let setup = setup().await;
    setup.page("/", "", "", "<h1>home</h1>");
    setup.page("/about", "", "", "<h1>about</h1>");
    let regular = Browser::launch().await;
    regular.open(&setup.on_site("/")).await;
    regular.open(&setup.on_site("/about")).await;
    // Engagement events arrive when pages are hidden, which the browser times itself:
    // wait for the pageviews, which this test is about.
    wait_for_pageviews(&setup.app.store, 2).await;
    // A visit ends 30 minutes after its last event, when the footfall_visit cookie
    // expires; deleting it stands for that wait.
    regular.client.delete_cookie("footfall_visit").await.unwrap();
    regular.open(&setup.on_site("/")).await;
    wait_for_pageviews(&setup.app.store, 3).await;
    let newcomer = Browser::launch().await;
    newcomer.open(&setup.on_site("/about")).await;
    wait_for_pageviews(&setup.app.store, 4).await;

    let regular_id = regular.cookie("footfall_id").await;
    let newcomer_id = newcomer.cookie("footfall_id").await;
    assert_ne!(regular_id, newcomer_id);
    let rows = setup.rows().await;
    let pageviews: Vec<(&str, u8, u64)> = rows
        .iter()
        .filter(|row| row.name == "pageview")
        .map(|row| (row.path.as_str(), row.returning, row.visitor))
        .collect();
    let first = rows.iter().find(|row| row.name == "pageview").unwrap();
    let regular_visitor = setup.expected_visitor(first.ts, Some(&regular_id)).await;
    let last = rows.iter().rev().find(|row| row.name == "pageview").unwrap();
    let newcomer_visitor = setup.expected_visitor(last.ts, Some(&newcomer_id)).await;
    let mut sorted = pageviews.clone();
    sorted.sort();
    let mut expected = vec![
        ("/", 0, regular_visitor),
        ("/about", 0, regular_visitor),
        ("/", 1, regular_visitor),
        ("/about", 0, newcomer_visitor),
    ];
    expected.sort();
    assert_eq!(sorted, expected, "{rows:#?}");
    assert_eq!(regular.cookie("footfall_visit").await, "1");
    assert_eq!(newcomer.cookie("footfall_visit").await, "0");
    regular.quit().await;
    newcomer.quit().await;
    setup.app.stop().await;
}

/// A page that offers the beacon everything it could send: a custom event, an SPA
/// navigation, an outbound link (whose navigation the page cancels) and hiding.
const BUSY_BODY: &str = r#"<a id="out" href="https://elsewhere.example.org/" onclick="event.preventDefault()">out</a>"#;

async fn do_everything(browser: &Browser) {
    browser.js("footfall('signup', {props: {plan: 'pro'}})").await;
    browser.js("history.pushState({}, '', location.pathname + '/next')").await;
    browser.click("#out").await;
    browser.hide_and_show().await;
}

/// Asserts that nothing left the page: no script sent anything, and the browser fetched
/// nothing from the collector's API.
async fn assert_nothing_sent(browser: &Browser) {
    assert_eq!(browser.js("return typeof footfall.optOut").await, "function", "the beacon ran");
    assert_eq!(browser.sent().await, Vec::<Value>::new());
    let fetched = browser
        .js("return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/'))")
        .await;
    assert_eq!(fetched, json!([]));
    browser.assert_quiet().await;
}

/// Asserts that the page did not load the link tracking its tag asks for (data-outbound):
/// a browser that may not be counted makes no request for it.
async fn assert_links_not_loaded(browser: &Browser) {
    let loaded = browser
        .js("return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('footfall-links'))")
        .await;
    assert_eq!(loaded, json!([]));
}

/// In the same browser, a page whose beacon ignores the signal (`attributes`) is counted;
/// when its pageview is the only event the collector ever saw, the earlier page sent none.
async fn assert_only_the_control_page_counted(setup: &Setup, browser: &Browser, attributes: &str, head: &str) {
    setup.page("/control", attributes, head, "");
    browser.open(&setup.on_site("/control")).await;
    setup.app.wait_for_events(1).await;
    let rows = setup.rows().await;
    assert_eq!(
        rows.iter().map(|row| (row.name.as_str(), row.path.as_str())).collect::<Vec<_>>(),
        [("pageview", "/control")]
    );
    setup.assert_collector_saw(1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn do_not_track_means_no_request_leaves_the_page() {
    // The control page ignores DNT (`data-dnt="ignore"`); the collector honours `DNT: 1`
    // itself unless the site made the same choice (`sites add --ignore-dnt`).
    let setup = setup_site(Site::new(SITE, "UTC", &[]).unwrap().with_ignore_dnt(true)).await;
    setup.page("/private", " data-outbound", "", BUSY_BODY);
    let browser = Browser::launch_with(Prefs { do_not_track: true, ..Prefs::default() }).await;
    browser.open(&setup.on_site("/private")).await;
    assert_eq!(browser.js("return navigator.doNotTrack").await, "1");
    do_everything(&browser).await;
    assert_nothing_sent(&browser).await;
    assert_links_not_loaded(&browser).await;
    assert_only_the_control_page_counted(&setup, &browser, r#" data-dnt="ignore""#, "").await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn global_privacy_control_means_no_request_leaves_the_page() {
    // Chromium does not implement GPC; this makes the page see what Firefox, Brave or
    // an extension with GPC on show: navigator.globalPrivacyControl === true.
    const GPC: &str = "<script>Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', \
                       {get: function () { return true; }, configurable: true});</script>";
    let setup = setup().await;
    setup.page("/private", " data-outbound", GPC, BUSY_BODY);
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/private")).await;
    assert_eq!(browser.js("return navigator.globalPrivacyControl").await, true);
    do_everything(&browser).await;
    assert_nothing_sent(&browser).await;
    assert_links_not_loaded(&browser).await;
    assert_only_the_control_page_counted(&setup, &browser, r#" data-gpc="ignore""#, GPC).await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opted_out_browser_sends_nothing_until_it_opts_in() {
    let setup = setup().await;
    setup.page("/page", " data-outbound", "", BUSY_BODY);
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/page")).await;
    setup.app.wait_for_events(1).await;
    browser.js("footfall.optOut()").await;
    assert_eq!(browser.cookie("footfall_optout").await, "1");
    do_everything(&browser).await;
    assert_eq!(browser.sent().await.len(), 1, "only the pageview sent before opting out");
    // The choice persists: a new page load sends nothing either.
    browser.open(&setup.on_site("/page")).await;
    do_everything(&browser).await;
    assert_nothing_sent(&browser).await;
    assert_links_not_loaded(&browser).await;
    setup.assert_collector_saw(1).await;

    browser.js("footfall.optIn()").await;
    assert!(!browser.cookie_names().await.contains(&"footfall_optout".to_string()));
    browser.js("footfall('signup')").await;
    setup.app.wait_for_events(2).await;
    let rows = setup.rows().await;
    let events: Vec<(&str, &str)> = rows.iter().map(|row| (row.name.as_str(), row.path.as_str())).collect();
    // The beacon followed the page while opted out (sending nothing), so the signup
    // belongs to the page the visitor is on: /page/next after the SPA navigation.
    assert_eq!(events, [("pageview", "/page"), ("signup", "/page/next")]);
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_opt_out_page_on_the_sites_domain_opts_the_browser_out() {
    let setup = setup().await;
    setup.page("/page", "", "", "");
    // footfall served from the site's domain (here: localhost, another port), as with
    // analytics.example.com for example.com: its cookie reaches the site's pages.
    let opt_out = format!("http://{SITE}:{}/opt-out?site={SITE}", setup.app.address.rsplit(':').next().unwrap());
    let browser = Browser::launch().await;
    browser.open(&opt_out).await;
    let status = "return document.getElementById('status').textContent";
    assert_eq!(browser.js(status).await, "This browser is counted anonymously on localhost, as described above.");
    browser.click("#opt-out").await;
    assert_eq!(browser.js(status).await, "This browser is opted out: footfall does not count it on localhost.");
    browser.open(&setup.on_site("/page")).await;
    assert_nothing_sent(&browser).await;
    browser.open(&opt_out).await;
    browser.click("#opt-in").await;
    assert_eq!(browser.js(status).await, "This browser is counted anonymously on localhost, as described above.");
    browser.open(&setup.on_site("/page")).await;
    setup.app.wait_for_events(1).await;
    assert_eq!(setup.rows().await[0].path, "/page");
    setup.assert_collector_saw(1).await;
    browser.quit().await;
    setup.app.stop().await;
}

/// Checks a page in a browser that keeps no cookie: events arrive with the cookieless
/// visitor hash, and the browser holds no cookie or storage afterwards.
async fn assert_counted_without_cookies(setup: &Setup, browser: &Browser) {
    browser.open(&setup.on_site("/page")).await;
    browser.js("footfall('signup', {props: {plan: 'free'}})").await;
    setup.app.wait_for_events(2).await;
    let rows = setup.rows().await;
    let cookieless = setup.expected_visitor(rows[0].ts, None).await;
    let mut summary: Vec<(&str, u64, u8)> =
        rows.iter().map(|row| (row.name.as_str(), row.visitor, row.returning)).collect();
    summary.sort();
    assert_eq!(summary, [("pageview", cookieless, 0), ("signup", cookieless, 0)]);
    assert_eq!(browser.cookie_names().await, Vec::<String>::new());
    assert_eq!(browser.js("return document.cookie").await, "");
    for sent in browser.sent().await {
        let body = parse_body(&sent);
        assert!(body.get("visitor").is_none() && body.get("returning").is_none(), "{body}");
    }
    browser.assert_quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_cookies_blocked_events_arrive_cookieless_and_no_cookie_is_set() {
    let setup = setup().await;
    setup.page("/page", "", "", "");
    let browser = Browser::launch_with(Prefs { block_cookies: true, ..Prefs::default() }).await;
    assert_counted_without_cookies(&setup, &browser).await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn data_cookieless_sets_no_cookie_and_uses_no_storage() {
    let setup = setup().await;
    setup.page("/page", " data-cookieless", "", "");
    let browser = Browser::launch().await;
    assert_counted_without_cookies(&setup, &browser).await;
    assert_eq!(browser.js("return localStorage.length + sessionStorage.length").await, 0);
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_events_outbound_links_and_downloads_arrive_with_their_pageview() {
    let setup = setup().await;
    // Calls made before the beacon loaded wait in a queue.
    let queue = "<script>window.footfall = window.footfall || function () { \
                 (footfall.q = footfall.q || []).push(arguments) };\n\
                 footfall('signup', {props: {plan: 'pro', seats: 3, trial: true}});</script>";
    let landing = setup.pages.url("127.0.0.1", "/landing");
    let body = format!(
        r#"<a id="dl" href="/files/report.PDF?v=2" onclick="return false">report</a>
           <a id="zip" href="/files/data.zip" onclick="return false">data</a>
           <a id="mail" href="mailto:team@example.org" onclick="return false">mail</a>
           <a id="internal" href="/about" onclick="return false">about</a>
           <a id="out" href="{landing}?from=test">elsewhere</a>"#
    );
    setup.page("/shop", r#" data-outbound data-downloads="pdf, zip""#, queue, &body);
    setup.pages.put("/landing", crate::browser::plain_page("landed"));
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/shop")).await;
    browser.js("footfall('cta', {props: {position: 'top'}})").await;
    for link in ["#dl", "#zip", "#mail", "#internal"] {
        browser.click(link).await;
    }
    browser.assert_quiet().await;
    browser.click("#out").await; // leaves the page: its engagement is sent too
    browser.wait_for_path("/landing").await;
    setup.app.wait_for_events(7).await;

    let rows = setup.rows().await;
    let pageview = rows.iter().find(|row| row.name == "pageview").unwrap().pageview;
    assert_ne!(pageview, 0);
    let mut events: Vec<(&str, Vec<(&str, &str)>)> = rows
        .iter()
        .map(|row| {
            assert_eq!(row.pageview, pageview, "every event belongs to the one page view: {row:?}");
            assert_eq!(row.path, "/shop");
            let props = row.prop_keys.iter().zip(&row.prop_values).map(|(k, v)| (k.as_str(), v.as_str())).collect();
            (row.name.as_str(), props)
        })
        .collect();
    events.sort();
    let report = setup.on_site("/files/report.PDF");
    let data = setup.on_site("/files/data.zip");
    let mut expected = vec![
        ("cta", vec![("position", "top")]),
        ("download", vec![("extension", "pdf"), ("url", report.as_str())]),
        ("download", vec![("extension", "zip"), ("url", data.as_str())]),
        ("engagement", vec![]),
        ("outbound", vec![("host", "127.0.0.1"), ("url", landing.as_str())]),
        ("pageview", vec![]),
        ("signup", vec![("plan", "pro"), ("seats", "3"), ("trial", "true")]),
    ];
    expected.sort();
    assert_eq!(events, expected);
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_data_hash_hash_routes_are_pages() {
    let setup = setup().await;
    setup.page("/app/", " data-hash", "", "");
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/app/#/inbox")).await;
    browser.js("location.hash = '#/settings'").await;
    browser.wait_until("return __sent.length == 3").await; // engagement of /inbox, pageview
    setup.app.wait_for_events(3).await;
    let rows = setup.rows().await;
    let mut events: Vec<(&str, &str)> = rows.iter().map(|row| (row.name.as_str(), row.path.as_str())).collect();
    events.sort();
    assert_eq!(events, [("engagement", "/app/inbox"), ("pageview", "/app/inbox"), ("pageview", "/app/settings")]);
    browser.assert_quiet().await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_send_beacon_events_go_by_fetch_with_keepalive() {
    let setup = setup().await;
    setup.page("/old", "", "<script>navigator.sendBeacon = undefined;</script>", "");
    setup.pages.put("/next", crate::browser::plain_page("next"));
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/old")).await;
    setup.app.wait_for_events(1).await;
    let sent = browser.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["via"], "fetch");
    browser.assert_quiet().await;
    // Leaving the page: the engagement still arrives (keepalive outlives the page).
    browser.open(&setup.on_site("/next")).await;
    setup.app.wait_for_events(2).await;
    let rows = setup.rows().await;
    let mut names: Vec<&str> = rows.iter().map(|row| row.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["engagement", "pageview"]);
    assert_eq!(rows[0].pageview, rows[1].pageview);
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn data_manual_counts_only_what_the_page_asks_for_at_data_api() {
    let setup = setup().await;
    // Another address of the same collector, to see that data-api is where events go.
    let api = format!("http://{SITE}:{}/api/event", setup.app.address.rsplit(':').next().unwrap());
    setup.page("/app", &format!(r#" data-manual data-api="{api}""#), "", "");
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/app")).await;
    browser.js("history.pushState({}, '', '/app/inbox')").await;
    assert_eq!(browser.sent().await, Vec::<Value>::new(), "no automatic pageviews");
    browser.js("footfall('pageview')").await;
    setup.app.wait_for_events(1).await;
    let sent = browser.sent().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["url"], api);
    assert_eq!(setup.rows().await[0].path, "/app/inbox");
    browser.assert_quiet().await;
    browser.quit().await;
    setup.app.stop().await;
}

/// Polls until `events` holds exactly `expected` pageviews.
async fn wait_for_pageviews(store: &footfall::store::Store, expected: u64) {
    crate::helpers::eventually_eq("the count of stored pageviews", expected, || async {
        let count: u64 =
            store.client().query("SELECT count() FROM events WHERE name = 'pageview'").fetch_one().await.unwrap();
        assert!(count <= expected, "{count} pageviews, more than the {expected} expected");
        count
    })
    .await;
}

/// The names and paths of the stored events, oldest first.
async fn names_and_paths(setup: &Setup) -> Vec<(String, String)> {
    setup.rows().await.into_iter().map(|row| (row.name, row.path)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn in_consent_mode_nothing_is_sent_or_stored_until_the_visitor_consents() {
    let setup = setup_site(Site::new(SITE, "UTC", &[]).unwrap().with_consent(true)).await;
    setup.page("/page", " data-consent data-outbound", "", BUSY_BODY);
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/page")).await;
    do_everything(&browser).await;
    assert_nothing_sent(&browser).await;
    assert_eq!(browser.cookie_names().await, Vec::<String>::new(), "no cookie before consent");

    // Consent: the page view the visitor is on is sent, then everything else.
    browser.js("footfall.consent(true)").await;
    browser.js("footfall.consent(true)").await; // said twice, counted once
    browser.js("footfall('signup')").await;
    setup.app.wait_for_events(2).await;
    assert_eq!(
        names_and_paths(&setup).await,
        [("pageview".into(), "/page/next".into()), ("signup".into(), "/page/next".into())]
    );
    assert_eq!(browser.cookie_names().await, ["footfall_id", "footfall_visit"]);
    for sent in browser.sent().await {
        assert_eq!(parse_body(&sent)["consent"], true, "{sent}");
    }

    // Withdrawn: nothing more is sent, and the cookie id is gone.
    browser.js("footfall.consent(false)").await;
    let sent_before = browser.sent().await.len();
    do_everything(&browser).await;
    assert_eq!(browser.sent().await.len(), sent_before, "nothing sent after consent was withdrawn");
    assert!(!browser.cookie_names().await.contains(&"footfall_id".to_string()));

    // A consent banner that answers before the beacon loaded uses the queue.
    let queue = "<script>window.footfall = function () { (footfall.q = footfall.q || []).push(arguments) }; \
                 footfall('consent', true);</script>";
    setup.page("/queued", " data-consent", queue, "");
    browser.open(&setup.on_site("/queued")).await;
    setup.app.wait_for_events(3).await;
    let mut stored = names_and_paths(&setup).await;
    stored.sort();
    assert_eq!(
        stored,
        [
            ("pageview".into(), "/page/next".into()),
            ("pageview".into(), "/queued".into()),
            ("signup".into(), "/page/next".into())
        ]
    );

    // A page of the consent-mode site whose tag lacks data-consent is refused by the
    // collector: the site's setting holds even when a page forgets it.
    setup.page("/misconfigured", "", "", "");
    browser.open(&setup.on_site("/misconfigured")).await;
    crate::helpers::wait_for_metric(
        &setup.app.http,
        &setup.app.address,
        r#"footfall_events_rejected_total{reason="no_consent"}"#,
        1,
    )
    .await;
    // Stored: only the engagement of /queued, sent as the browser left it.
    setup.app.wait_for_events(4).await;
    assert!(names_and_paths(&setup).await.contains(&("engagement".into(), "/queued".into())));
    browser.assert_quiet().await;
    browser.quit().await;
    setup.app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forget_deletes_this_browsers_events_and_opts_it_out() {
    let setup = setup().await;
    setup.page("/page", "", "", "");
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/page")).await;
    browser.js("footfall('signup')").await;
    // Someone else on the same site, with their own cookie id.
    let other =
        json!({"site": SITE, "name": "pageview", "url": "http://localhost/other", "visitor": "another-browser"});
    let response = setup
        .app
        .http
        .post(format!("{}/api/event", setup.app.address))
        .header("User-Agent", BROWSER_UA)
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    setup.app.wait_for_events(3).await;
    let cookie_id = browser.cookie("footfall_id").await;

    browser.js("footfall.forget()").await;
    let forget = browser.sent().await.pop().unwrap();
    assert_eq!(forget["url"], format!("{}/api/forget", setup.collector));
    assert_eq!(parse_body(&forget), json!({"site": SITE, "visitor": cookie_id}));
    assert_eq!(browser.cookie("footfall_optout").await, "1");
    assert!(!browser.cookie_names().await.contains(&"footfall_id".to_string()));
    assert_forgotten(&setup, &browser, &[("pageview".into(), "/other".into())]).await;
    browser.quit().await;
    setup.app.stop().await;
}

/// After one forget request: polls until the deletion (a mutation) leaves only `kept`,
/// checks it was counted, and that the browser, now opted out, sends nothing from /page.
async fn assert_forgotten(setup: &Setup, browser: &Browser, kept: &[(String, String)]) {
    crate::helpers::eventually_matches_within(
        Duration::from_secs(30),
        format!("the stored (name, path) pairs are not yet {kept:?}"),
        |stored| *stored == kept,
        || names_and_paths(setup),
    )
    .await;
    assert_eq!(metric(&setup.app.metrics().await, "footfall_forget_requests_total"), 1);
    browser.open(&setup.on_site("/page")).await;
    assert_nothing_sent(browser).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_opt_out_page_deletes_what_it_can_link_to_this_browser() {
    let setup = setup().await;
    setup.page("/page", "", "", "");
    let browser = Browser::launch().await;
    browser.open(&setup.on_site("/page")).await;
    setup.app.wait_for_events(1).await;
    let opt_out = format!("http://{SITE}:{}/opt-out?site={SITE}", setup.app.address.rsplit(':').next().unwrap());
    browser.open(&opt_out).await;
    browser.click("#forget").await;
    assert_eq!(
        browser.js("return document.getElementById('status').textContent").await,
        "This browser is opted out: footfall does not count it on localhost."
    );
    assert_forgotten(&setup, &browser, &[]).await;
    browser.quit().await;
    setup.app.stop().await;
}
