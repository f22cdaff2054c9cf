//! The `(other)` row of every breakdown counts its visitors as the site's total does: a
//! visitor seen in two folded rows on one day is one visitor, not two (issue 17: "(other)
//! shows 4 visitors while the site total is 2"). Checked with the rows read from events,
//! from day summaries, and after retention emptied the first day's events (that day can
//! only add up its folded rows' summaries, as docs/reports.md says).
//!
//! The planted days D1 and D2 (three and two days ago, London): six people view
//! `/popular` each day (kept, 12 visitor-days); on D1 visitor 1 views `/a` and `/b`,
//! visitor 2 `/b` and `/c`; on D2 visitor 3 views `/a` and `/c`. Every view begins a
//! session from its own referrer, with its own browser and country, so each breakdown
//! folds three rows of 2 visitor-days each: 6 added up, 3 counted once (2 on D1, 1 on D2).

use chrono::{Days, NaiveTime, TimeZone, Utc};
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, wait_for_event_count, TestApp, SITE};
use crate::reports::get_report;

const K: u64 = 5;
const LONDON: chrono_tz::Tz = chrono_tz::Europe::London;

/// What a view is in every breakdown: (path, referrer, browser, OS, device, country).
type Row = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str);

/// The small rows.
const ROWS: [Row; 3] = [
    ("/a", "a.example", "Firefox", "Linux", "desktop", "DE"),
    ("/b", "b.example", "Safari", "macOS", "mobile", "FR"),
    ("/c", "c.example", "Edge", "Windows", "tablet", "IT"),
];

fn view(ts: u32, visitor: u64, (path, host, browser, os, device, country): Row) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts,
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        referrer_host: host.into(),
        referrer_path: "/".into(),
        source_class: "other".into(),
        visitor,
        session: visitor * 100 + u64::from(ts % 100),
        entry: 1,
        browser: browser.into(),
        os: os.into(),
        device: device.into(),
        country: country.into(),
        screen: device.into(),
        ..EventRow::default()
    }
}

struct Planted {
    app: TestApp,
    /// `from=D1&to=D2`.
    range: String,
    /// 00:00 UTC of D2: retention up to here empties D1.
    d2_start: u32,
}

async fn planted() -> Planted {
    let app = spawn_app_with(|settings| {
        settings.reports.min_visitors = K;
        settings.reports.summarize_every_secs = 0;
    })
    .await;
    let today = Utc::now().with_timezone(&LONDON).date_naive();
    let (d1, d2) = (today - Days::new(3), today - Days::new(2));
    let noon = |day: chrono::NaiveDate, minute: u32| {
        Utc.from_utc_datetime(&day.and_time(NaiveTime::from_hms_opt(12, minute, 0).unwrap())).timestamp() as u32
    };
    let popular = ("/popular", "big.example", "Chrome", "Windows", "desktop", "GB");
    let mut events = vec![view(noon(d1, 0) - 14 * 86_400, 99, ("/", "", "Chrome", "Windows", "desktop", "GB"))];
    for day in [d1, d2] {
        events.extend((100..106).map(|visitor| view(noon(day, 0) - 3600, visitor, popular)));
    }
    let [a, b, c] = ROWS;
    events.extend([
        view(noon(d1, 0), 1, a),
        view(noon(d1, 1), 1, b),
        view(noon(d1, 2), 2, b),
        view(noon(d1, 3), 2, c),
        view(noon(d2, 10), 3, a),
        view(noon(d2, 11), 3, c),
    ]);
    app.store.insert_events(&events).await.expect("the planted events are stored");
    let d2_start = Utc.from_utc_datetime(&d2.and_time(NaiveTime::MIN)).timestamp() as u32;
    Planted { app, range: format!("from={d1}&to={d2}"), d2_start }
}

impl Planted {
    async fn report(&self, name: &str) -> Value {
        let response = get_report(&self.app, name, &self.range).await;
        assert_eq!(response.status(), 200, "{name}");
        response.json().await.unwrap()
    }

    /// Each breakdown's `(other)` row (the last) and its `small_counts`.
    async fn other_rows(&self) -> Vec<(&'static str, Value, Value)> {
        let mut all = Vec::new();
        for name in ["top-content", "sources", "devices", "countries", "content-discovery"] {
            let answer = self.report(name).await;
            let other = answer["rows"].as_array().unwrap().last().cloned().unwrap_or_default();
            all.push((name, other, answer["small_counts"].clone()));
        }
        all
    }
}

/// The `(other)` rows with `visitors` visitor-days (and content-discovery's 24-hour
/// visitors `visitors_24h`), counted as `how` says (content-discovery: always exactly).
fn expected(visitors: u64, visitors_24h: u64, how: &str) -> Vec<(&'static str, Value, Value)> {
    let three = json!({"min_visitors": K, "folded_rows": 3, "other_visitors": how});
    vec![
        (
            "top-content",
            json!({"path": "(other)", "views": 6, "visitors": visitors, "entries": 6, "avg_engaged_seconds": 0.0, "engaged_minutes": 0.0, "median_engaged_seconds": 0.0, "engaged_view_share": 0.0, "read_through_share": 0.0}),
            three.clone(),
        ),
        (
            "sources",
            json!({"referrer_host": "(other)", "source_class": "", "utm_source": "", "utm_medium": "",
                   "utm_campaign": "", "sessions": 6, "visitors": visitors}),
            three.clone(),
        ),
        (
            "devices",
            json!({"browser": "(other)", "os": "", "device": "", "views": 6, "visitors": visitors}),
            three.clone(),
        ),
        ("countries", json!({"country": "(other)", "views": 6, "visitors": visitors}), three.clone()),
        (
            "content-discovery",
            json!({"path": "(other)", "title": null, "published_at": null, "first_view_at": null,
                   "hours_to_first_view": null, "views_24h": 4, "visitors_24h": visitors_24h, "views_7d": 6, "visitors_7d": visitors,
                   "internal_share": 0.0, "search_share": 0.0, "social_share": 0.0, "other_share": 1.0,
                   "direct_share": 0.0, "returning_share": 0.0, "hours_to_10_visitors": null,
                   "hours_to_100_visitors": null, "vs_typical_24h": null, "median_engaged_seconds_7d": null,
                   "read_through_share_7d": null, "top_referrers": [], "internal_from": [], "found": true,
                   "suppressed": false}),
            json!({"min_visitors": K, "folded_rows": 3, "other_visitors": "exact"}),
        ),
    ]
}

#[tokio::test]
async fn the_other_row_counts_a_visitor_of_two_folded_rows_once() {
    let p = planted().await;
    // D1: visitors 1 and 2; D2: visitor 3. Added up per row it would be 6 (and 4 in the
    // first 24 hours, where visitors 1 and 2 on D1 are the only ones).
    assert_eq!(p.other_rows().await, expected(3, 2, "exact"), "read from events");

    let summarized = footfall::reports::summarize::summarize(&p.app.store, Utc::now()).await.unwrap();
    assert!(summarized >= 2, "D1 and D2 are summarized ({summarized} days)");
    assert_eq!(p.other_rows().await, expected(3, 2, "exact"), "read from summaries");

    // Retention empties D1 (events and page_views); its summaries stay. D1's folded rows
    // can only be added up there (/a 1 + /b 2 + /c 1), D2's visitor counts once: 4 + 1.
    p.app.store.apply_retention(p.d2_start).await.unwrap();
    wait_for_event_count(&p.app.store, 6 + 2).await;
    let after: Vec<_> = p.other_rows().await.into_iter().filter(|(name, ..)| *name != "content-discovery").collect();
    let mut want = expected(5, 0, "summed");
    want.pop();
    assert_eq!(after, want, "D1 from summaries only");
    p.app.stop().await;
}

#[tokio::test]
async fn past_a_budget_of_summarized_events_the_other_row_adds_up_the_summarized_days() {
    let p = planted().await;
    // Two million more pageviews of /popular on D1, by 50 people (no new small rows).
    let d1_noon = p.d2_start - 43_200;
    let bulk = format!(
        "INSERT INTO events (site, ts, name, hostname, path, referrer_host, source_class, visitor, session, entry, \
         browser, os, device, country, screen) \
         SELECT '{SITE}', toDateTime({d1_noon} - 3600 + number % 3600, 'UTC'), 'pageview', '{SITE}', '/popular', \
         'big.example', 'other', 1000 + number % 50, 1000 + number % 50, 0, 'Chrome', 'Windows', 'desktop', 'GB', \
         'desktop' FROM numbers({})",
        footfall::reports::EXACT_OTHER_VISITORS_MAX_EVENTS + 1
    );
    p.app.store.client().query(&bulk).execute().await.unwrap();
    footfall::reports::summarize::summarize(&p.app.store, Utc::now()).await.unwrap();
    // Both days come from summaries, with more events than the budget: their folded rows
    // are added up (D1: /a 1 + /b 2 + /c 1; D2: /a 1 + /c 1), and the answer says so.
    let got: Vec<_> = p.other_rows().await.into_iter().filter(|(name, ..)| *name != "content-discovery").collect();
    let mut want = expected(6, 0, "summed");
    want.pop();
    assert_eq!(got, want, "summed past the budget");
    p.app.stop().await;
}
