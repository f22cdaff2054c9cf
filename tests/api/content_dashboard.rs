//! The content dashboard (`dashboards/content.toml`) in headless Chromium, on a week of
//! posts with known answers: a registered post nobody viewed, one read by fewer than
//! `reports.min_visitors` visitors, one that reached 10 readers but not 100, one that
//! reached 100, three started in the same hour (the best time to publish); referrers
//! and internal sources; a title with markup in it. The "New content" table shows the
//! exact texts (found or not, suppressed as "fewer than N", never 0), the headings of
//! "What people like most" sort it and keep the sort in the URL, and the publish-timing
//! heatmap marks the best cell. Screenshots: `target/screenshots/dashboard-content.png`
//! (docs/dashboard-content.png) and `dashboard-content-375.png`.

use serde_json::{json, Value};

use crate::browser::{Browser, Prefs};
use crate::content::{engagement, post, utc, view};
use crate::dashboard_browser::{log_in, open_dashboard};
use crate::helpers::{spawn_app_with, SITE};
use crate::reports::ADMIN;

/// The week shown: Monday 2026-03-02 to Sunday 2026-03-08 (London is on UTC then).
const RANGE: &str = "from=2026-03-02&to=2026-03-08";
const TEN_TITLE: &str = "Ten <readers> & \"more\"";

/// Registers the posts and plants their views. Reading the API for this fixture gives
/// (hand-computed; min_visitors 2):
/// - /blog/hundred (Mon 08:00, no title): 100 visitors, one a minute: 10th after 0.17 h,
///   100th after 1.67 h; typical 24 h = median of /old/1..5 (1..5 visitors) = 3: 33.33.
/// - /blog/ten (Wed 09:00): visitor n at n hours (n = 1..12): 10th after 10 h, no 100th;
///   12 / 3 (median of /old/1..5, /blog/hundred, /blog/tue-*: 1 2 2 3 3 4 4 5 100) = 4.0;
///   engaged 30 s (scroll 80) for 1..3, 10 s (scroll 20) for 4..8, none for 9..12: median
///   10 s, read through 3 of 12; entries from news.example.org (1..3), t.co (4, 5),
///   www.google.com (6: one visitor, not named), internal from / (7..9) and /news
///   (10, 11), 12 direct.
/// - /blog/quiet (Thu 12:00): one visitor, suppressed. /blog/unfound (Fri 09:00): none.
/// - /blog/tue-a, -b, -c (Tue 10:00, 10:20, 10:40): 2, 3, 4 visitors: the one cell with
///   3 pages, median 3.
async fn plant(app: &crate::helpers::TestApp) {
    let mut posts = vec![
        json!({"path": "/blog/hundred", "published": "2026-03-02T08:00:00Z"}),
        json!({"path": "/blog/ten", "published": "2026-03-04T09:00:00Z", "title": TEN_TITLE}),
        json!({"path": "/blog/quiet", "published": "2026-03-05T12:00:00Z", "title": "A quiet one"}),
        json!({"path": "/blog/unfound", "published": "2026-03-06T09:00:00Z", "title": "Nobody came"}),
    ];
    for (k, minute) in [("a", 0), ("b", 20), ("c", 40)] {
        posts.push(json!({"path": format!("/blog/tue-{k}"), "published": format!("2026-03-03T10:{minute:02}:00Z")}));
    }
    for k in 1..=5 {
        posts.push(json!({"path": format!("/old/{k}"), "published": format!("2026-02-0{k}T10:00:00Z")}));
    }
    let (status, body) = post(app, SITE, Some(ADMIN), &Value::from(posts)).await;
    assert_eq!(status, 200, "{body}");

    let mut events = Vec::new();
    let hundred = utc("2026-03-02T08:00:00Z");
    events.extend(
        (1..=100u32).map(|n| view("/blog/hundred", hundred + 60 * n, 1000 + u64::from(n), 0, "direct", "", true)),
    );
    let ten = utc("2026-03-04T09:00:00Z");
    for n in 1..=12u64 {
        let (class, referrer, entry) = match n {
            1..=3 => ("other", "news.example.org", true),
            4 | 5 => ("social", "t.co", true),
            6 => ("search", "www.google.com", true),
            7..=9 => ("internal", "/", false),
            10 | 11 => ("internal", "/news", false),
            _ => ("direct", "", true),
        };
        let at = ten + 3600 * n as u32;
        events.push(view("/blog/ten", at, n, 2000 + n, class, referrer, entry));
        match n {
            1..=3 => events.push(engagement("/blog/ten", at + 60, n, 2000 + n, 30_000, 80)),
            4..=8 => events.push(engagement("/blog/ten", at + 60, n, 2000 + n, 10_000, 20)),
            _ => {}
        }
    }
    events.push(view("/blog/quiet", utc("2026-03-05T13:00:00Z"), 3000, 0, "direct", "", true));
    for (k, minute, visitors) in [("a", 0, 2u64), ("b", 20, 3), ("c", 40, 4)] {
        let at = utc(&format!("2026-03-03T11:{minute:02}:00Z"));
        events.extend(
            (0..visitors).map(|j| view(&format!("/blog/tue-{k}"), at, 4000 + 10 * visitors + j, 0, "direct", "", true)),
        );
    }
    for k in 1..=5u32 {
        let at = utc(&format!("2026-02-0{k}T11:00:00Z"));
        events.extend(
            (0..k).map(|j| view(&format!("/old/{k}"), at, u64::from(5000 + 10 * k + j), 0, "direct", "", true)),
        );
    }
    app.store.insert_events(&events).await.unwrap();
}

/// The visible text of each `[data-column]` cell of the `path` row of panel `panel`, by
/// column (screen-reader-only explanations left out).
async fn row_texts(browser: &Browser, panel: &str, path: &str) -> Value {
    let script = format!(
        "var row = [...document.querySelectorAll('{panel} tbody tr')].find(r => r.querySelector('a.filter-by') \
           && new URLSearchParams(r.querySelector('a.filter-by').search).get('page') == {path});
         var texts = {{}};
         row.querySelectorAll('[data-column]').forEach(cell => {{
           var copy = cell.cloneNode(true);
           copy.querySelectorAll('.sr-only, .page-path').forEach(n => n.remove());
           texts[cell.dataset.column] = cell.querySelector('li') ? [...copy.querySelectorAll('li')].map(li => li.textContent)
             : copy.textContent;
         }});
         return texts;",
        path = json!(path)
    );
    browser.js(&script).await
}

#[tokio::test]
async fn the_content_dashboard_answers_the_content_teams_questions() {
    let app = spawn_app_with(|settings| settings.reports.min_visitors = 2).await;
    plant(&app).await;
    let browser = Browser::launch_with(Prefs { window_height: Some(2600), ..Prefs::default() }).await;
    log_in(&browser, &app.address).await;
    let page = format!("{}/dashboard/{SITE}/content?{RANGE}", app.address);
    open_dashboard(&browser, &page).await;
    let new_content = "#panel-3";

    // The post with markup in its title: shown as text, no element made of it.
    assert_eq!(
        browser
            .js(&format!(
                "return document.querySelector('{new_content} a.filter-by[href*=\"blog%2Ften\"]').textContent"
            ))
            .await,
        json!(TEN_TITLE)
    );
    assert_eq!(browser.js("return document.getElementsByTagName('readers').length").await, json!(0));
    let ten = row_texts(&browser, new_content, "/blog/ten").await;
    assert_eq!(
        ten,
        json!({"title": TEN_TITLE, "published_at": "Mar 4, 2026, 09:00", "found": "found",
               "hours_to_10_visitors": "10h", "hours_to_100_visitors": "not in 7 days", "visitors_7d": "12",
               "vs_typical_24h": "4× typical", "read_through_share_7d": "25%", "median_engaged_seconds_7d": "10s",
               "top_referrers": ["news.example.org 3", "t.co 2"], "internal_from": ["/ 3", "/news 2"]})
    );
    assert_eq!(
        browser
            .js(&format!(
                "return document.querySelector('{new_content} a.filter-by[href*=\"blog%2Ften\"]').closest('th')\
                 .querySelector('.page-path').textContent"
            ))
            .await,
        json!("/blog/ten")
    );
    let hundred = row_texts(&browser, new_content, "/blog/hundred").await;
    assert_eq!(
        hundred,
        json!({"title": "/blog/hundred", "published_at": "Mar 2, 2026, 08:00", "found": "found",
               "hours_to_10_visitors": "10m 12s", "hours_to_100_visitors": "1h 40m", "visitors_7d": "100",
               "vs_typical_24h": "33× typical", "read_through_share_7d": "0%", "median_engaged_seconds_7d": "0s",
               "top_referrers": "none named", "internal_from": "none named"})
    );
    let quiet = row_texts(&browser, new_content, "/blog/quiet").await;
    assert_eq!(
        quiet,
        json!({"title": "A quiet one", "published_at": "Mar 5, 2026, 12:00", "found": "found, by fewer than 2",
               "hours_to_10_visitors": "hidden", "hours_to_100_visitors": "hidden", "visitors_7d": "fewer than 2",
               "vs_typical_24h": "hidden", "read_through_share_7d": "hidden", "median_engaged_seconds_7d": "hidden",
               "top_referrers": "hidden", "internal_from": "hidden"})
    );
    let unfound = row_texts(&browser, new_content, "/blog/unfound").await;
    assert_eq!(
        unfound,
        json!({"title": "Nobody came", "published_at": "Mar 6, 2026, 09:00", "found": "not found",
               "hours_to_10_visitors": "not reached", "hours_to_100_visitors": "not reached", "visitors_7d": "none",
               "vs_typical_24h": "–", "read_through_share_7d": "–", "median_engaged_seconds_7d": "–",
               "top_referrers": "–", "internal_from": "–"})
    );
    // Suppressed and missing values say why when pointed at, and the notes say it for all.
    let why = browser
        .js(&format!("return document.querySelector('{new_content} [data-column=visitors_7d] .suppressed').title"))
        .await;
    assert_eq!(
        why,
        json!("fewer than 2 visitors in its first 7 days: its numbers are hidden to protect privacy (reports.min_visitors)")
    );
    let notes = browser.js(&format!("return document.querySelector('{new_content} .table-notes').textContent")).await;
    assert!(notes.as_str().unwrap().starts_with("not found: nobody viewed the post in its first 7 days."), "{notes}");

    // What people like most: by views, then by engaged minutes from its heading, kept in
    // the URL.
    let top = "#panel-4";
    let first_path = format!("return document.querySelector('{top} tbody tr [data-column=path]').dataset.value");
    assert_eq!(browser.js(&first_path).await, json!("/blog/hundred"));
    assert_eq!(
        browser.js(&format!("return document.querySelector('{top} th[aria-sort=descending]').textContent")).await,
        json!("Views ▼")
    );
    browser.click(&format!("{top} th a[data-sort=engaged_minutes]")).await;
    browser
        .wait_until(
            "return new URLSearchParams(location.search).get('sort') == 'engaged_minutes' \
        && document.getElementById('main').dataset.loaded == 'true'",
        )
        .await;
    assert_eq!(browser.js(&first_path).await, json!("/blog/ten"));
    assert_eq!(
        browser.js(&format!("return document.querySelector('{top} th[aria-sort=descending]').textContent")).await,
        json!("Engaged minutes ▼")
    );

    // When to publish: the heatmap marks Tuesday 10:00 (3 pages, median 3) as the best.
    let heat = "#panel-5";
    assert_eq!(browser.js(&format!("return document.querySelectorAll('{heat} rect.cell').length")).await, json!(168));
    let best = browser
        .js(&format!(
            "return [...document.querySelectorAll('{heat} g[data-best]')].map(g => [g.dataset.best, g.dataset.weekday, \
             g.dataset.hour, g.dataset.pages, g.dataset.median, g.querySelector('rect.best') !== null])"
        ))
        .await;
    assert_eq!(best, json!([["1", "2", "10", "3", "3", true]]));
    let callout = browser.js(&format!("return document.querySelector('{heat} .best-times').textContent")).await;
    assert_eq!(
        callout,
        json!(
            "Best times to publish: Tue 10:00–11:00: 3 pages, median 3 visitors in their first 24 h \
               (Europe/London; cells with at least 3 pages)"
        )
    );
    // A cell whose median is hidden (the quiet post: one visitor) is hatched and labelled
    // with its pages, unlike a cell without pages.
    let cells = browser
        .js(&format!(
            "var cell = (d, h) => document.querySelector('{heat} g[data-weekday=\"' + d + '\"][data-hour=\"' + h + '\"]');
             return [4, 3, 1].map(d => [cell(d, d == 4 ? 12 : d == 3 ? 9 : 8).querySelector('rect').getAttribute('fill'),
               cell(d, d == 4 ? 12 : d == 3 ? 9 : 8).textContent]).concat([[cell(7, 0).querySelector('rect')
               .getAttribute('fill'), cell(7, 0).textContent]]);"
        ))
        .await;
    assert_eq!(
        cells,
        json!([
            ["url(#hidden-median)", "Thu 12:00–13:00: 1 page, median hidden (fewer than 2 visitors together)1"],
            ["#35b779", "Wed 09:00–10:00: 1 page, median 12 visitors in their first 24 h1"],
            ["#440154", "Mon 08:00–09:00: 1 page, median 100 visitors in their first 24 h1"],
            ["#eef0f3", "Sun 00:00–01:00: no page started"]
        ])
    );

    // Every curve drawn (none left loading), nothing wider than the window.
    browser.wait_until("return document.querySelector('span.spark:not(.none)') === null").await;
    for width in [1280, 375] {
        browser.set_viewport(width, 2600).await;
        assert_eq!(
            browser.js("return document.documentElement.scrollWidth <= innerWidth").await,
            json!(true),
            "{width}"
        );
    }
    browser.set_viewport(1280, 2600).await;
    browser.save_screenshot("dashboard-content").await;
    browser.set_viewport(375, 2600).await;
    browser.save_screenshot("dashboard-content-375").await;

    // Another range keeps the sort.
    browser.click("[data-range=\"30d\"]").await;
    browser.wait_until("return new URLSearchParams(location.search).get('range') == '30d'").await;
    assert_eq!(browser.js("return new URLSearchParams(location.search).get('sort')").await, json!("engaged_minutes"));
    browser.quit().await;
}
