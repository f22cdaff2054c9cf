//! Reports: a seeded dataset whose answers are computed independently here, by a plain
//! fold over the same events, and compared with every report exactly — read from events
//! (before any summary exists), from the day summaries, after a late event made a summary
//! stale, in another time zone and with filters. The dataset crosses London's spring DST
//! change (2026-03-29: the local day has 23 hours), has events one second either side of
//! local midnight, new and returning visitors, internal and external referrers, and pages
//! published in the range with and without a publish time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, SITE};

/// The admin token of the test settings.
pub const ADMIN: &str = "test-admin-token-0123456789";
const LONDON: Tz = chrono_tz::Europe::London;

fn at(rfc3339: &str) -> u32 {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp() as u32
}

/// An event built for the dataset: a pageview by default.
#[derive(Clone)]
struct Ev(EventRow);

impl Ev {
    fn view(ts: &str, path: &str, visitor: u64) -> Self {
        Self(EventRow {
            site: SITE.into(),
            ts: at(ts),
            name: "pageview".into(),
            hostname: SITE.into(),
            path: path.into(),
            referrer_host: SITE.into(),
            referrer_path: "/".into(),
            source_class: "internal".into(),
            visitor,
            session: visitor * 100,
            browser: "Chrome".into(),
            os: "Windows".into(),
            device: "desktop".into(),
            country: "GB".into(),
            screen: "desktop".into(),
            ..EventRow::default()
        })
    }

    fn engaged(ts: &str, path: &str, visitor: u64, engaged_ms: u32) -> Self {
        let mut ev = Self::view(ts, path, visitor);
        ev.0.name = "engagement".into();
        ev.0.engaged_ms = engaged_ms;
        ev
    }

    /// The first pageview of a session, arriving from `class` (`host` the referrer).
    fn entry(mut self, class: &str, host: &str) -> Self {
        self.0.entry = 1;
        self.0.source_class = class.to_owned().into();
        self.0.referrer_host = host.into();
        self.0.referrer_path = if host.is_empty() { String::new() } else { "/".into() };
        self
    }

    fn utm(mut self, source: &str, medium: &str, campaign: &str) -> Self {
        (self.0.utm_source, self.0.utm_medium, self.0.utm_campaign) = (source.into(), medium.into(), campaign.into());
        self
    }

    fn client(mut self, browser: &str, os: &str, device: &str, country: &str) -> Self {
        (self.0.browser, self.0.os, self.0.device, self.0.country) =
            (browser.to_owned().into(), os.to_owned().into(), device.to_owned().into(), country.to_owned().into());
        self
    }

    fn returning(mut self) -> Self {
        self.0.returning = 1;
        self
    }

    fn published(mut self, ts: &str) -> Self {
        self.0.published = Some(at(ts));
        self
    }

    /// Part of page view `id` (its `pageview` hash).
    fn of(mut self, id: u64) -> Self {
        self.0.pageview = id;
        self
    }

    /// An engagement event that had seen `scroll` percent of the page.
    fn scrolled(mut self, scroll: u8) -> Self {
        self.0.scroll = scroll;
        self
    }
}

/// The dataset (times UTC; London is GMT until 2026-03-29 01:00 UTC, then BST).
fn dataset() -> Vec<EventRow> {
    let new_post = "2026-03-28T09:00:00Z";
    [
        // The site's first view, two weeks before the range (footfall's install): pages
        // without a publish time first viewed in the range are new content.
        Ev::view("2026-03-10T10:00:00Z", "/contact", 12).entry("direct", ""),
        // Local 2026-03-26 23:59:59: one second before the range; first view of /blog/early.
        Ev::view("2026-03-26T23:59:59Z", "/blog/early", 9).entry("direct", ""),
        // Local midnight, the range's first second.
        Ev::view("2026-03-27T00:00:00Z", "/", 1).entry("direct", "").of(11),
        // Read to 74%: not through.
        Ev::engaged("2026-03-27T00:00:30Z", "/", 1, 30_000).of(11).scrolled(74),
        Ev::view("2026-03-27T00:01:00Z", "/blog/early", 1),
        // /about: no publish time, first viewed in the range.
        Ev::view("2026-03-27T12:07:00Z", "/about", 2)
            .entry("search", "www.google.com")
            .client("Safari", "iOS", "mobile", "US")
            .returning()
            .of(21),
        // Read to 75%: through.
        Ev::engaged("2026-03-27T12:08:00Z", "/about", 2, 45_000).of(21).scrolled(75),
        Ev::view("2026-03-27T12:10:00Z", "/", 2).client("Safari", "iOS", "mobile", "US").returning(),
        // /blog/old: published before the range.
        Ev::view("2026-03-27T15:00:00Z", "/blog/old", 2)
            .client("Safari", "iOS", "mobile", "US")
            .returning()
            .published("2026-03-01T10:00:00Z")
            .of(22),
        // An idle reader: two visible stretches, 9.999 s in all (not an engaged view), and
        // the page read to the end.
        Ev::engaged("2026-03-27T15:01:00Z", "/blog/old", 2, 6_000).of(22).scrolled(30),
        Ev::engaged("2026-03-27T15:20:00Z", "/blog/old", 2, 3_999).of(22).scrolled(100),
        // /blog/new: published in the range, at 09:00; first viewed at 09:30.
        Ev::view("2026-03-28T09:30:00Z", "/blog/new", 3)
            .entry("social", "t.co")
            .client("Firefox", "Linux", "desktop", "DE")
            .published(new_post)
            .of(31),
        // An active reader: 40 s, then 21 s more reaching 90%.
        Ev::engaged("2026-03-28T09:31:00Z", "/blog/new", 3, 40_000).of(31).scrolled(50),
        Ev::engaged("2026-03-28T09:40:00Z", "/blog/new", 3, 21_000).of(31).scrolled(90),
        Ev::view("2026-03-28T10:05:00Z", "/blog/new", 4)
            .entry("other", "news.ycombinator.com")
            .utm("hn", "link", "launch")
            .client("Chrome", "Android", "mobile", "FR")
            .returning()
            .published(new_post),
        Ev::view("2026-03-28T10:06:00Z", "/", 4).client("Chrome", "Android", "mobile", "FR").returning(),
        // Visitor 5 at 23:30 GMT on the 28th and 00:30 GMT on the 29th: two local days.
        Ev::view("2026-03-28T23:30:00Z", "/blog/new", 5)
            .entry("search", "www.google.com")
            .returning()
            .published(new_post),
        Ev::view("2026-03-29T00:30:00Z", "/", 5).returning(),
        // After the change: 01:30 UTC is 02:30 BST.
        Ev::view("2026-03-29T01:30:00Z", "/blog/new", 6)
            .entry("direct", "")
            .client("Safari", "macOS", "desktop", "GB")
            .published(new_post),
        Ev::view("2026-03-29T01:45:00Z", "/blog/new", 6).client("Safari", "macOS", "desktop", "GB").published(new_post),
        // 23:59:59 BST on the 29th (in the range) and 00:00:00 BST on the 30th (not).
        Ev::view("2026-03-29T22:59:59Z", "/about", 7)
            .entry("social", "t.co")
            .client("Firefox", "Linux", "desktop", "")
            .of(71),
        // Its engagement, 00:00:30 BST on the 30th: the next local day (a London report
        // leaves it out), the same UTC day (a UTC report counts it).
        Ev::engaged("2026-03-29T23:00:30Z", "/about", 7, 20_000).of(71).scrolled(80),
        Ev::view("2026-03-29T23:00:00Z", "/about", 8).entry("direct", ""),
        // After the range: inside /blog/new's first 7 days, then outside them.
        Ev::view("2026-04-02T08:00:00Z", "/blog/new", 10)
            .entry("search", "www.google.com")
            .returning()
            .published(new_post),
        Ev::view("2026-04-05T10:00:00Z", "/blog/new", 11).entry("direct", "").published(new_post),
    ]
    .into_iter()
    .map(|ev| ev.0)
    .collect()
}

// ---- the fold: every definition of docs/reports.md, written out plainly ----------------

/// A page content-discovery counts as new: start, path, publish time, first view, views.
type NewPage<'a> = (u32, &'a str, Option<u32>, u32, Vec<&'a EventRow>);

struct Fold<'a> {
    events: &'a [EventRow],
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    /// `reports.min_visitors`: content-discovery names no referrer host or path with
    /// fewer visitors.
    min_visitors: usize,
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn share(part: usize, whole: usize) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(round(part as f64 / whole as f64, 4))
    }
}

impl<'a> Fold<'a> {
    fn new(events: &'a [EventRow], tz: Tz, from: &str, to: &str) -> Self {
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        Self { events, tz, from: date(from), to: date(to), min_visitors: 0 }
    }

    fn local(&self, ts: u32) -> DateTime<Tz> {
        Utc.timestamp_opt(i64::from(ts), 0).unwrap().with_timezone(&self.tz)
    }

    fn date(&self, ts: u32) -> NaiveDate {
        self.local(ts).date_naive()
    }

    fn rfc3339(&self, ts: i64) -> String {
        Utc.timestamp_opt(ts, 0).unwrap().with_timezone(&self.tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    fn in_range(&self, event: &EventRow) -> bool {
        (self.from..=self.to).contains(&self.date(event.ts))
    }

    fn views(&self) -> impl Iterator<Item = &'a EventRow> + '_ {
        self.events.iter().filter(|e| e.name == "pageview" && self.in_range(e))
    }

    /// Visitor-days: distinct (local date, visitor) pairs.
    fn visitors<'e>(&self, events: impl Iterator<Item = &'e EventRow>) -> usize {
        events.map(|e| (self.date(e.ts), e.visitor)).collect::<BTreeSet<_>>().len()
    }

    fn top_content(&self) -> Value {
        let paths: BTreeSet<&str> = self.views().map(|e| e.path.as_str()).collect();
        let mut rows: Vec<(usize, &str, Value)> = paths
            .into_iter()
            .map(|path| (self.views().filter(|e| e.path == path).count(), path, self.page_row(path, &[path])))
            .collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        Value::from(rows.into_iter().map(|(_, _, row)| row).collect::<Vec<_>>())
    }

    /// top-content's row of the views of `paths` together, labelled `label`.
    fn page_row(&self, label: &str, paths: &[&str]) -> Value {
        let views: Vec<&EventRow> = self.views().filter(|e| paths.contains(&&*e.path)).collect();
        let engaged: u64 = self
            .events
            .iter()
            .filter(|e| e.name == "engagement" && paths.contains(&&*e.path) && self.in_range(e))
            .map(|e| u64::from(e.engaged_ms))
            .sum();
        // Each view's engaged time (ms) and read depth: its engagement events of that day.
        let per_view: Vec<(u64, u8)> = views
            .iter()
            .map(|view| {
                let own = self.events.iter().filter(|e| {
                    e.name == "engagement"
                        && view.pageview != 0
                        && e.pageview == view.pageview
                        && self.date(e.ts) == self.date(view.ts)
                });
                own.fold((0, 0), |(ms, depth), e| (ms + u64::from(e.engaged_ms), depth.max(e.scroll)))
            })
            .collect();
        let mut seconds: Vec<u64> = per_view.iter().map(|(ms, _)| ms / 1000).collect();
        seconds.sort_unstable();
        let n = seconds.len();
        let median =
            if n % 2 == 1 { seconds[n / 2] as f64 } else { (seconds[n / 2 - 1] + seconds[n / 2]) as f64 / 2.0 };
        json!({
            "path": label,
            "views": n,
            "visitors": self.visitors(views.iter().copied()),
            "entries": views.iter().filter(|e| e.entry == 1).count(),
            "avg_engaged_seconds": round(engaged as f64 / n as f64 / 1000.0, 1),
            "engaged_minutes": round(engaged as f64 / 60_000.0, 1),
            "median_engaged_seconds": median,
            "engaged_view_share": share(seconds.iter().filter(|&&s| s >= 10).count(), n),
            "read_through_share": share(per_view.iter().filter(|(_, depth)| *depth >= 75).count(), n),
        })
    }

    fn sources(&self) -> Value {
        let mut groups: BTreeMap<[String; 5], Vec<&EventRow>> = BTreeMap::new();
        for e in self.views().filter(|e| e.entry == 1) {
            let key = [&*e.referrer_host, &*e.source_class, &*e.utm_source, &*e.utm_medium, &*e.utm_campaign]
                .map(str::to_owned);
            groups.entry(key).or_default().push(e);
        }
        let mut rows: Vec<(usize, usize, [String; 5])> =
            groups.into_iter().map(|(key, events)| (events.len(), self.visitors(events.into_iter()), key)).collect();
        rows.sort_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)).then(a.2.cmp(&b.2)));
        Value::from(
            rows.into_iter()
                .map(|(sessions, visitors, [host, class, source, medium, campaign])| {
                    json!({"referrer_host": host, "source_class": class, "utm_source": source, "utm_medium": medium,
                           "utm_campaign": campaign, "sessions": sessions, "visitors": visitors})
                })
                .collect::<Vec<_>>(),
        )
    }

    fn breakdown<const N: usize>(&self, key: impl Fn(&EventRow) -> [String; N], names: [&str; N]) -> Value {
        let mut groups: BTreeMap<[String; N], Vec<&EventRow>> = BTreeMap::new();
        for e in self.views() {
            groups.entry(key(e)).or_default().push(e);
        }
        let mut rows: Vec<(usize, usize, [String; N])> =
            groups.into_iter().map(|(key, events)| (events.len(), self.visitors(events.into_iter()), key)).collect();
        rows.sort_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)).then(a.2.cmp(&b.2)));
        Value::from(
            rows.into_iter()
                .map(|(views, visitors, key)| {
                    let mut row: serde_json::Map<String, Value> =
                        names.iter().zip(key).map(|(name, value)| (name.to_string(), Value::from(value))).collect();
                    row.insert("views".into(), views.into());
                    row.insert("visitors".into(), visitors.into());
                    Value::Object(row)
                })
                .collect::<Vec<_>>(),
        )
    }

    fn devices(&self) -> Value {
        self.breakdown(|e| [e.browser.to_string(), e.os.to_string(), e.device.to_string()], ["browser", "os", "device"])
    }

    fn countries(&self) -> Value {
        self.breakdown(|e| [e.country.to_string()], ["country"])
    }

    /// The first instant of each local date, found by walking UTC quarter-hours.
    fn day_starts(&self) -> Vec<(NaiveDate, i64)> {
        let mut starts = Vec::new();
        let mut instant =
            self.tz.from_local_datetime(&self.from.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().timestamp();
        let mut last = None;
        while self.date(instant as u32) <= self.to {
            let date = self.date(instant as u32);
            if last != Some(date) {
                starts.push((date, instant));
                last = Some(date);
            }
            instant += 900;
        }
        starts
    }

    /// The start of the local hour holding `ts`.
    fn hour_start(&self, ts: u32) -> i64 {
        let local = self.local(ts);
        i64::from(ts) - i64::from(local.minute() * 60 + local.second())
    }

    fn timeseries_days(&self) -> Value {
        let rows: Vec<Value> = self
            .day_starts()
            .into_iter()
            .map(|(date, start)| {
                let views: Vec<&EventRow> = self.views().filter(|e| self.date(e.ts) == date).collect();
                json!({"start": self.rfc3339(start), "views": views.len(), "visitors": self.visitors(views.into_iter())})
            })
            .collect();
        rows.into()
    }

    fn timeseries_hours(&self) -> Value {
        let (first, end) = (self.day_starts()[0].1, {
            let next = self.to.succ_opt().unwrap();
            self.tz.from_local_datetime(&next.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().timestamp()
        });
        let mut rows = Vec::new();
        let mut hour = first;
        while hour < end {
            let views: Vec<&EventRow> = self.views().filter(|e| self.hour_start(e.ts) == hour).collect();
            let visitors = views.iter().map(|e| e.visitor).collect::<BTreeSet<_>>().len();
            rows.push(json!({"start": self.rfc3339(hour), "views": views.len(), "visitors": visitors}));
            hour += 3600;
        }
        rows.into()
    }

    fn busiest(&self) -> (Value, Value, Value) {
        let mut cells = [[(0usize, 0usize); 24]; 7];
        let mut hours: BTreeMap<i64, Vec<&EventRow>> = BTreeMap::new();
        for e in self.views() {
            hours.entry(self.hour_start(e.ts)).or_default().push(e);
        }
        for (hour, events) in hours {
            let local = self.local(hour as u32);
            let cell = &mut cells[local.weekday().num_days_from_monday() as usize][local.hour() as usize];
            cell.0 += events.len();
            cell.1 += events.iter().map(|e| e.visitor).collect::<BTreeSet<_>>().len();
        }
        let occurrences = self.occurrences();
        let mut grid = Vec::new();
        let mut peak = Value::Null;
        let mut best = (0, 0);
        for (weekday, row) in cells.iter().enumerate() {
            for (hour, &(views, visitors)) in row.iter().enumerate() {
                let times = occurrences[weekday][hour];
                let cell = json!({"weekday": weekday + 1, "hour": hour, "views": views, "visitors": visitors, "occurrences": times});
                if views > 0 && (views, visitors) > best {
                    best = (views, visitors);
                    peak = cell.clone();
                }
                grid.push(cell);
            }
        }
        let mut quarters: BTreeMap<i64, usize> = BTreeMap::new();
        for e in self.views() {
            *quarters.entry(i64::from(e.ts - e.ts % 900)).or_default() += 1;
        }
        let mut windows: Vec<(i64, usize)> = quarters.into_iter().collect();
        windows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        windows.truncate(10);
        let windows: Vec<Value> = windows
            .into_iter()
            .map(|(start, views)| json!({"start": self.rfc3339(start), "end": self.rfc3339(start + 900), "views": views}))
            .collect();
        (grid.into(), peak, windows.into())
    }

    fn content_discovery(&self) -> Value {
        let all_views: Vec<&EventRow> = self.events.iter().filter(|e| e.name == "pageview").collect();
        let paths: BTreeSet<&str> = all_views.iter().map(|e| e.path.as_str()).collect();
        // Without a publish time, a page is new only when first seen a week or more after
        // the site's first view (before that, its first view dates the install).
        let installed = all_views.iter().map(|e| e.ts).min().unwrap_or(0);
        // Every page that counts as new content, in the range or not: (start, path,
        // published, first view, its views).
        let pages: Vec<NewPage<'_>> = paths
            .into_iter()
            .filter_map(|path| {
                let views: Vec<&EventRow> = all_views.iter().copied().filter(|e| e.path == path).collect();
                let first_view = views.iter().map(|e| e.ts).min().unwrap();
                let published = views.iter().filter_map(|e| e.published).min();
                let new = published.is_some() || first_view >= installed + 7 * 86_400;
                new.then(|| (published.unwrap_or(first_view), path, published, first_view, views))
            })
            .collect();
        let within = |views: &[&'a EventRow], start: u32, secs: u32| -> Vec<&'a EventRow> {
            views.iter().copied().filter(|e| e.ts >= start && e.ts < start + secs).collect()
        };
        let median = |mut values: Vec<u64>| -> Option<f64> {
            values.sort_unstable();
            let n = values.len();
            (n > 0).then(|| (values[(n - 1) / 2] + values[n / 2]) as f64 / 2.0)
        };
        let mut rows: Vec<(u32, &str, Value)> = Vec::new();
        for (start, path, published, first_view, views) in &pages {
            let (start, path, published, first_view) = (*start, *path, *published, *first_view);
            if !(self.from..=self.to).contains(&self.date(start)) {
                continue;
            }
            let week = within(views, start, 7 * 86_400);
            let day = within(views, start, 86_400);
            let visitors_7d = self.visitors(week.iter().copied());
            let visitors_24h = self.visitors(day.iter().copied());
            let class = |c: &str| share(week.iter().filter(|e| e.source_class == c).count(), week.len());
            // The n-th visitor-day, in the order of their first views.
            let mut firsts: BTreeMap<(NaiveDate, u64), u32> = BTreeMap::new();
            for e in &week {
                let first = firsts.entry((self.date(e.ts), e.visitor)).or_insert(e.ts);
                *first = (*first).min(e.ts);
            }
            let mut firsts: Vec<u32> = firsts.into_values().collect();
            firsts.sort_unstable();
            let hours_to = |n: usize| firsts.get(n - 1).map(|ts| round(f64::from(ts - start) / 3600.0, 2));
            // The yardstick: the median 24-hour visitors of the pages that started in the
            // 90 days before this one.
            let earlier: Vec<u64> = pages
                .iter()
                .filter(|other| other.0 < start && other.0 >= start.saturating_sub(90 * 86_400))
                .map(|other| self.visitors(within(&other.4, other.0, 86_400).into_iter()) as u64)
                .collect();
            let vs_typical = if earlier.len() < 5 {
                None
            } else {
                median(earlier).filter(|m| *m > 0.0).map(|m| round(visitors_24h as f64 / m, 2))
            };
            // Each view's engagement: its engagement events (same pageview hash, not 0).
            let engagement = |view: &EventRow| -> (u64, u8) {
                let events = self
                    .events
                    .iter()
                    .filter(|e| e.name == "engagement" && view.pageview != 0 && e.pageview == view.pageview);
                events.fold((0, 0), |(ms, depth), e| (ms + u64::from(e.engaged_ms), depth.max(e.scroll)))
            };
            let engaged: Vec<(u64, u8)> = week.iter().map(|view| engagement(view)).collect();
            let read_through = engaged.iter().filter(|(_, depth)| *depth >= 75).count();
            let median_engaged = median(engaged.iter().map(|(ms, _)| *ms).collect()).map(|ms| round(ms / 1000.0, 1));
            // Sources: visitor-days per referrer, at least min_visitors, by visitors then name.
            let sources = |key: &dyn Fn(&EventRow) -> Option<String>, name: &str| -> Value {
                let mut by_key: BTreeMap<String, BTreeSet<(NaiveDate, u64)>> = BTreeMap::new();
                for e in &week {
                    if let Some(k) = key(e) {
                        by_key.entry(k).or_default().insert((self.date(e.ts), e.visitor));
                    }
                }
                let mut list: Vec<(String, usize)> = by_key
                    .into_iter()
                    .map(|(k, visitors)| (k, visitors.len()))
                    .filter(|(_, visitors)| *visitors >= self.min_visitors)
                    .collect();
                list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                list.into_iter().take(5).map(|(k, visitors)| json!({name: k, "visitors": visitors})).collect()
            };
            let external = |e: &EventRow| {
                (e.entry == 1 && e.source_class != "internal" && !e.referrer_host.is_empty())
                    .then(|| e.referrer_host.to_string())
            };
            let internal = |e: &EventRow| {
                (e.source_class == "internal" && !e.referrer_path.is_empty()).then(|| e.referrer_path.to_string())
            };
            rows.push((
                start,
                path,
                json!({
                    "path": path,
                    "title": null,
                    "published_at": published.map(|p| self.rfc3339(i64::from(p))),
                    "first_view_at": self.rfc3339(i64::from(first_view)),
                    "hours_to_first_view": published.map(|p| round((f64::from(first_view) - f64::from(p)) / 3600.0, 2)),
                    "views_24h": day.len(),
                    "visitors_24h": visitors_24h,
                    "views_7d": week.len(),
                    "visitors_7d": visitors_7d,
                    "internal_share": class("internal"),
                    "search_share": class("search"),
                    "social_share": class("social"),
                    "other_share": class("other"),
                    "direct_share": class("direct"),
                    "returning_share": share(self.visitors(week.iter().copied().filter(|e| e.returning == 1)), visitors_7d),
                    "hours_to_10_visitors": hours_to(10),
                    "hours_to_100_visitors": hours_to(100),
                    "vs_typical_24h": vs_typical,
                    "median_engaged_seconds_7d": median_engaged,
                    "read_through_share_7d": share(read_through, week.len()),
                    "top_referrers": sources(&external, "host"),
                    "internal_from": sources(&internal, "path"),
                    "found": !week.is_empty(),
                    "suppressed": false,
                }),
            ));
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        Value::from(rows.into_iter().map(|(_, _, row)| row).collect::<Vec<_>>())
    }

    /// Every report's rows, keyed as the API names them.
    fn expected(&self) -> HashMap<&'static str, Value> {
        let (grid, peak, windows) = self.busiest();
        HashMap::from([
            ("top-content", self.top_content()),
            ("sources", self.sources()),
            ("devices", self.devices()),
            ("countries", self.countries()),
            ("timeseries", self.timeseries_days()),
            ("timeseries-hours", self.timeseries_hours()),
            ("busiest-grid", grid),
            ("busiest-peak", peak),
            ("busiest-windows", windows),
            ("content-discovery", self.content_discovery()),
        ])
    }
}

// ---- asking the API ---------------------------------------------------------------------

/// GET a report of the test site with the admin token.
pub async fn get_report(app: &TestApp, name: &str, query: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/v1/sites/{SITE}/reports/{name}?{query}", app.address))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("report request is sent")
}

/// A report of the test site as CSV, with the admin token.
pub async fn report_csv(app: &TestApp, name: &str, query: &str) -> String {
    let response = app
        .http
        .get(format!("{}/api/v1/sites/{SITE}/reports/{name}?{query}", app.address))
        .bearer_auth(ADMIN)
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("report request is sent");
    assert_eq!(response.status(), 200, "{name}?{query}");
    response.text().await.expect("the report answers text")
}

async fn report_json(app: &TestApp, name: &str, query: &str) -> Value {
    let response = get_report(app, name, query).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("the report answers JSON");
    assert_eq!(status, 200, "{name}?{query}: {body}");
    body
}

/// Every report's rows from the API, keyed as [`Fold::expected`].
async fn actual(app: &TestApp, query: &str) -> HashMap<&'static str, Value> {
    let busiest = report_json(app, "busiest-times", query).await;
    let rows = |body: Value| body["rows"].clone();
    HashMap::from([
        ("top-content", rows(report_json(app, "top-content", query).await)),
        ("sources", rows(report_json(app, "sources", query).await)),
        ("devices", rows(report_json(app, "devices", query).await)),
        ("countries", rows(report_json(app, "countries", query).await)),
        ("timeseries", rows(report_json(app, "timeseries", query).await)),
        ("timeseries-hours", rows(report_json(app, "timeseries", &format!("{query}&interval=hour")).await)),
        ("busiest-grid", busiest["grid"].clone()),
        ("busiest-peak", busiest["peak"].clone()),
        ("busiest-windows", busiest["windows"].clone()),
        ("content-discovery", rows(report_json(app, "content-discovery", query).await)),
    ])
}

fn assert_reports_equal(actual: &HashMap<&str, Value>, expected: &HashMap<&str, Value>, when: &str) {
    for (name, want) in expected {
        assert_eq!(&actual[name], want, "{name} ({when}):\n got {}\nwant {want}", actual[name]);
    }
}

/// An app whose summarizer does not run by itself: the tests run it when they mean to.
async fn app_without_summarizer() -> TestApp {
    spawn_app_with(|settings| settings.reports.summarize_every_secs = 0).await
}

async fn seeded_app() -> (TestApp, Vec<EventRow>) {
    let app = app_without_summarizer().await;
    let events = dataset();
    app.store.insert_events(&events).await.expect("the dataset is stored");
    (app, events)
}

async fn summarized_days(app: &TestApp) -> u64 {
    app.store.client().query("SELECT count() FROM summary_days").fetch_one().await.unwrap()
}

const RANGE: &str = "from=2026-03-27&to=2026-03-29";

#[tokio::test]
async fn every_report_equals_the_fold_from_events_from_summaries_and_after_a_late_event() {
    let (app, mut events) = seeded_app().await;
    assert_eq!(summarized_days(&app).await, 0, "nothing is summarized before the summarizer runs");

    // By hand, a few numbers the fold must also find.
    let fold = Fold::new(&events, LONDON, "2026-03-27", "2026-03-29");
    let expected = fold.expected();
    // /blog/new: one of five views engaged (40 s + 21 s, read to 90%), four without.
    assert_eq!(
        expected["top-content"][0],
        json!({"path": "/blog/new", "views": 5, "visitors": 4, "entries": 4, "avg_engaged_seconds": 12.2,
               "engaged_minutes": 1.0, "median_engaged_seconds": 0.0, "engaged_view_share": 0.2,
               "read_through_share": 0.2})
    );
    // /: 30 s read to 74% (not through) and three views without engagement.
    assert_eq!(
        expected["top-content"][1],
        json!({"path": "/", "views": 4, "visitors": 4, "entries": 1, "avg_engaged_seconds": 7.5,
               "engaged_minutes": 0.5, "median_engaged_seconds": 0.0, "engaged_view_share": 0.25,
               "read_through_share": 0.0})
    );
    // /about: 45 s read to 75%, and a view whose engagement came the next local day; the
    // median of 0 s and 45 s is their mean.
    assert_eq!(
        expected["top-content"][2],
        json!({"path": "/about", "views": 2, "visitors": 2, "entries": 2, "avg_engaged_seconds": 22.5,
               "engaged_minutes": 0.8, "median_engaged_seconds": 22.5, "engaged_view_share": 0.5,
               "read_through_share": 0.5})
    );
    // /blog/old: an idle reader, 9.999 s in two stretches (9 whole seconds), read to 100%.
    assert_eq!(
        expected["top-content"][4],
        json!({"path": "/blog/old", "views": 1, "visitors": 1, "entries": 0, "avg_engaged_seconds": 10.0,
               "engaged_minutes": 0.2, "median_engaged_seconds": 9.0, "engaged_view_share": 0.0,
               "read_through_share": 1.0})
    );
    assert_eq!(expected["timeseries"][2]["start"], "2026-03-29T00:00:00+00:00");
    assert_eq!(expected["timeseries-hours"].as_array().unwrap().len(), 24 + 24 + 23);
    assert_eq!(expected["content-discovery"][0]["path"], "/blog/new");
    assert_eq!(expected["content-discovery"][0]["views_7d"], 6);
    assert_eq!(expected["content-discovery"][0]["returning_share"], 0.6);
    // /blog/new's 6 views: one engaged 61 s, read to 90%; the others never engaged.
    assert_eq!(expected["content-discovery"][0]["median_engaged_seconds_7d"], 0.0);
    assert_eq!(expected["content-discovery"][0]["read_through_share_7d"], 0.1667);
    assert_eq!(
        expected["content-discovery"][0]["top_referrers"],
        json!([{"host": "www.google.com", "visitors": 2}, {"host": "news.ycombinator.com", "visitors": 1},
               {"host": "t.co", "visitors": 1}]),
        "visitor 10's entry from www.google.com (2026-04-02) is inside the 7 days, visitor 11's is not"
    );
    assert_eq!(expected["content-discovery"][0]["internal_from"], json!([{"path": "/", "visitors": 1}]));
    assert_eq!(
        expected["content-discovery"][1]["read_through_share_7d"], 0.6667,
        "/about: scroll 75 and 80 count, of 3 views"
    );
    assert_eq!(expected["content-discovery"][1]["path"], "/about");
    assert_eq!(expected["content-discovery"][2]["path"], "/", "first viewed in the range, without a publish time");
    assert_eq!(expected["content-discovery"].as_array().unwrap().len(), 3);
    // In the install week a first view dates the install, not the page: /contact is not new.
    let install_week = Fold::new(&events, LONDON, "2026-03-10", "2026-03-16");
    assert_eq!(install_week.content_discovery(), json!([]));
    assert_eq!(install_week.top_content()[0]["path"], "/contact");
    let served = report_json(&app, "content-discovery", "from=2026-03-10&to=2026-03-16").await;
    assert_eq!(served["rows"], json!([]), "{served}");

    // 1. From events only.
    assert_reports_equal(&actual(&app, RANGE).await, &expected, "read from events");

    // 2. From the day summaries.
    let summarized = footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap();
    assert_eq!(summarized, 8, "days 2026-03-10, 2026-03-26 to 2026-03-30, 2026-04-02 and 2026-04-05 have events");
    assert_eq!(summarized_days(&app).await, 8);
    assert_reports_equal(&actual(&app, RANGE).await, &expected, "read from summaries");
    assert_eq!(footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap(), 0, "nothing is stale");

    // 3. A late event makes 2026-03-28's summary stale: it is read from events at once.
    let late = Ev::view("2026-03-28T13:00:00Z", "/about", 12).entry("search", "duckduckgo.com").returning().0;
    app.store.insert_events(std::slice::from_ref(&late)).await.unwrap();
    events.push(late);
    let expected = Fold::new(&events, LONDON, "2026-03-27", "2026-03-29").expected();
    assert_reports_equal(&actual(&app, RANGE).await, &expected, "with a stale summary");
    assert_eq!(footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap(), 1);
    assert_reports_equal(&actual(&app, RANGE).await, &expected, "summarized again");
}

#[tokio::test]
async fn another_time_zone_and_filters_read_events_and_match_the_fold() {
    let (app, events) = seeded_app().await;
    footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap();

    // In UTC the event at 23:00:00 UTC on the 29th is in the range.
    let utc = Fold::new(&events, chrono_tz::UTC, "2026-03-27", "2026-03-29").expected();
    let got = actual(&app, &format!("{RANGE}&tz=UTC")).await;
    assert_reports_equal(&got, &utc, "tz=UTC");
    assert_ne!(utc["top-content"], Fold::new(&events, LONDON, "2026-03-27", "2026-03-29").top_content());

    // Filters: the fold over the events the filter keeps.
    let blog: Vec<EventRow> = events.iter().filter(|e| e.path.starts_with("/blog/")).cloned().collect();
    let got = report_json(&app, "top-content", &format!("{RANGE}&path=%2Fblog%2F")).await;
    assert_eq!(got["rows"], Fold::new(&blog, LONDON, "2026-03-27", "2026-03-29").top_content());
    assert_eq!(got["filters"], json!({"path": "/blog/"}));

    let search: Vec<EventRow> = events.iter().filter(|e| e.source_class == "search").cloned().collect();
    let fold = Fold::new(&search, LONDON, "2026-03-27", "2026-03-29");
    let got = report_json(&app, "devices", &format!("{RANGE}&source=search")).await;
    assert_eq!(got["rows"], fold.devices());
    let got = report_json(&app, "sources", &format!("{RANGE}&source=search")).await;
    assert_eq!(got["rows"], fold.sources());
    let got = report_json(&app, "busiest-times", &format!("{RANGE}&source=search")).await;
    let (grid, peak, windows) = fold.busiest();
    assert_eq!((&got["grid"], &got["peak"], &got["windows"]), (&grid, &peak, &windows));

    let hn: Vec<EventRow> = events.iter().filter(|e| e.referrer_host == "news.ycombinator.com").cloned().collect();
    let got = report_json(&app, "sources", &format!("{RANGE}&source=news.ycombinator.com")).await;
    assert_eq!(got["rows"], Fold::new(&hn, LONDON, "2026-03-27", "2026-03-29").sources());
    assert_eq!(got["rows"][0]["utm_campaign"], "launch");
}

#[tokio::test]
async fn limit_keeps_the_first_rows() {
    let (app, events) = seeded_app().await;
    let expected = Fold::new(&events, LONDON, "2026-03-27", "2026-03-29").top_content();
    let got = report_json(&app, "top-content", &format!("{RANGE}&limit=2")).await;
    assert_eq!(got["rows"], Value::from(expected.as_array().unwrap()[..2].to_vec()));
}

#[tokio::test]
async fn answers_say_what_they_cover() {
    let (app, _) = seeded_app().await;
    let body = report_json(&app, "busiest-times", RANGE).await;
    assert_eq!(body["report"], "busiest-times");
    assert_eq!(body["site"], SITE);
    assert_eq!(
        (&body["from"], &body["to"], &body["tz"]),
        (&json!("2026-03-27"), &json!("2026-03-29"), &json!("Europe/London"))
    );
    assert_eq!(body["grid"].as_array().unwrap().len(), 7 * 24);
    // Friday 00:00 and 12:00, Saturday 10:00 and Sunday 02:00 each have 2 views by one
    // visitor; the earliest in the week wins.
    assert_eq!(body["peak"], json!({"weekday": 5, "hour": 0, "views": 2, "visitors": 1, "occurrences": 1}));
    assert_eq!(body["measure"], "total");
    assert_eq!(
        body["windows"][0],
        json!({"start": "2026-03-27T00:00:00+00:00", "end": "2026-03-27T00:15:00+00:00", "views": 2})
    );
}

#[tokio::test]
async fn csv_is_the_main_table() {
    let (app, _) = seeded_app().await;
    let response = app
        .http
        .get(format!("{}/api/v1/sites/{SITE}/reports/top-content?{RANGE}&limit=3", app.address))
        .bearer_auth(ADMIN)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        response.text().await.unwrap(),
        "path,views,visitors,entries,avg_engaged_seconds,engaged_minutes,median_engaged_seconds,engaged_view_share,\
         read_through_share\r\n/blog/new,5,4,4,12.2,1,0,0.2,0.2\r\n/,4,4,1,7.5,0.5,0,0.25,0\r\n\
         /about,2,2,2,22.5,0.8,22.5,0.5,0.5\r\n"
    );

    let response = app
        .http
        .get(format!("{}/api/v1/sites/{SITE}/reports/busiest-times?{RANGE}", app.address))
        .bearer_auth(ADMIN)
        .header("Accept", "text/html, text/csv;q=0.9")
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + 7 * 24);
    assert!(text.starts_with("weekday,hour,views,visitors,occurrences\r\n1,0,0,0,0\r\n"), "{text}");
}

#[tokio::test]
async fn realtime_counts_the_last_five_minutes() {
    let app = spawn_app().await;
    let now = Utc::now().timestamp() as u32;
    let mut events = Vec::new();
    for (ago, visitor) in [(30, 1), (100, 2), (100, 1), (400, 3)] {
        let mut ev = Ev::view("2026-01-01T00:00:00Z", "/", visitor).0;
        ev.ts = now - ago;
        events.push(ev);
    }
    app.store.insert_events(&events).await.unwrap();
    let body = report_json(&app, "realtime", "").await;
    assert_eq!((&body["views"], &body["visitors"]), (&json!(3), &json!(2)), "{body}");
    assert_eq!(body["tz"], "Europe/London");
    let since = DateTime::parse_from_rfc3339(body["since"].as_str().unwrap()).unwrap();
    let until = DateTime::parse_from_rfc3339(body["until"].as_str().unwrap()).unwrap();
    assert_eq!((until - since).num_seconds(), 300);
    let body = report_json(&app, "realtime", "path=%2Fnowhere").await;
    assert_eq!((&body["views"], &body["visitors"]), (&json!(0), &json!(0)));
}

#[tokio::test]
async fn empty_ranges_answer_zeros() {
    let app = spawn_app().await;
    let body = report_json(&app, "timeseries", "from=2026-01-01&to=2026-01-02").await;
    assert_eq!(
        body["rows"],
        json!([{"start": "2026-01-01T00:00:00+00:00", "views": 0, "visitors": 0},
               {"start": "2026-01-02T00:00:00+00:00", "views": 0, "visitors": 0}])
    );
    let body = report_json(&app, "busiest-times", "from=2026-01-01&to=2026-01-02").await;
    assert_eq!(body["peak"], Value::Null);
    assert_eq!(body["windows"], json!([]));
    assert_eq!(report_json(&app, "top-content", "from=2026-01-01&to=2026-01-02").await["rows"], json!([]));
}

#[tokio::test]
async fn the_autumn_change_gives_a_25_hour_day_with_a_repeated_hour() {
    let app = app_without_summarizer().await;
    let events: Vec<EventRow> = [
        Ev::view("2026-10-24T22:59:59Z", "/", 4).entry("direct", ""), // 23:59:59 BST on the 24th
        Ev::view("2026-10-24T23:30:00Z", "/", 1).entry("direct", ""), // 00:30 BST on the 25th
        Ev::view("2026-10-25T00:30:00Z", "/a", 2).entry("search", "www.bing.com"), // 01:30 BST
        Ev::view("2026-10-25T01:30:00Z", "/a", 2),                    // 01:30 GMT: the same local hour again
        Ev::view("2026-10-25T23:59:59Z", "/b", 3).entry("social", "t.co"), // 23:59:59 GMT
    ]
    .into_iter()
    .map(|ev| ev.0)
    .collect();
    app.store.insert_events(&events).await.unwrap();
    let fold = Fold::new(&events, LONDON, "2026-10-25", "2026-10-25");
    let expected = fold.expected();
    let hours = expected["timeseries-hours"].as_array().unwrap();
    assert_eq!(hours.len(), 25);
    assert_eq!(hours[1], json!({"start": "2026-10-25T01:00:00+01:00", "views": 1, "visitors": 1}));
    assert_eq!(hours[2], json!({"start": "2026-10-25T01:00:00+00:00", "views": 1, "visitors": 1}));
    assert_eq!(
        expected["busiest-grid"][6 * 24 + 1],
        json!({"weekday": 7, "hour": 1, "views": 2, "visitors": 2, "occurrences": 2})
    );
    let average = report_json(&app, "busiest-times", "from=2026-10-25&to=2026-10-25&measure=average").await;
    assert_eq!(
        average["grid"][6 * 24 + 1],
        json!({"weekday": 7, "hour": 1, "views": 1.0, "visitors": 1.0, "occurrences": 2}),
        "the repeated hour occurs twice"
    );
    assert_eq!(expected["timeseries"], json!([{"start": "2026-10-25T00:00:00+01:00", "views": 4, "visitors": 3}]));

    let query = "from=2026-10-25&to=2026-10-25";
    assert_reports_equal(&actual(&app, query).await, &expected, "read from events");
    footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap();
    assert!(summarized_days(&app).await >= 2);
    assert_reports_equal(&actual(&app, query).await, &expected, "read from summaries");
}

/// `expected` (the fold's rows of a breakdown report) with the rows that fewer than `k`
/// visitors account for (`visitors` column) replaced by one row: `label` in the first
/// column, `null`/empty in the other non-count columns, the sums of `sums`, and as its
/// `visitors` what `visitors_of` counts for the small rows (each visitor-day once).
fn fold_small_rows(
    expected: &Value,
    k: u64,
    label: &str,
    sums: &[&str],
    visitors_of: impl Fn(&[&Value]) -> usize,
) -> (Vec<Value>, usize) {
    let rows = expected.as_array().unwrap();
    let (kept, small): (Vec<&Value>, Vec<&Value>) = rows.iter().partition(|row| row["visitors"].as_u64().unwrap() >= k);
    let mut folded: Vec<Value> = kept.into_iter().cloned().collect();
    if let Some(first) = small.first() {
        let mut other = (*first).clone();
        for (column, value) in other.as_object_mut().unwrap() {
            if sums.contains(&column.as_str()) {
                *value = json!(small.iter().map(|row| row[column].as_u64().unwrap()).sum::<u64>());
            } else if value.is_string() {
                *value = json!("");
            }
        }
        let first_column = rows[0].as_object().unwrap().keys().next().unwrap().clone();
        other[first_column.as_str()] = json!(label);
        other["visitors"] = json!(visitors_of(&small));
        folded.push(other);
    }
    (folded, small.len())
}

impl Fold<'_> {
    /// The visitor-days of breakdown `report`'s rows `rows` together: the distinct (local
    /// date, visitor) pairs of the events those rows count, so a visitor in two of the
    /// rows on one day counts once.
    fn visitors_of_rows(&self, report: &str, rows: &[&Value]) -> usize {
        let columns: &[&str] = match report {
            "top-content" => &["path"],
            "sources" => &["referrer_host", "source_class", "utm_source", "utm_medium", "utm_campaign"],
            "devices" => &["browser", "os", "device"],
            "countries" => &["country"],
            other => panic!("{other} is not a breakdown"),
        };
        let keys: BTreeSet<Vec<String>> =
            rows.iter().map(|row| columns.iter().map(|c| row[*c].as_str().unwrap().to_string()).collect()).collect();
        let key = |e: &EventRow| -> Vec<String> {
            columns
                .iter()
                .map(|c| match *c {
                    "path" => e.path.to_string(),
                    "referrer_host" => e.referrer_host.to_string(),
                    "source_class" => e.source_class.to_string(),
                    "utm_source" => e.utm_source.to_string(),
                    "utm_medium" => e.utm_medium.to_string(),
                    "utm_campaign" => e.utm_campaign.to_string(),
                    "browser" => e.browser.to_string(),
                    "os" => e.os.to_string(),
                    "device" => e.device.to_string(),
                    _ => e.country.to_string(),
                })
                .collect()
        };
        let counted = self.views().filter(|e| report != "sources" || e.entry == 1);
        self.visitors(counted.filter(|e| keys.contains(&key(e))))
    }

    /// The visitor-days of content-discovery's pages `rows` together, each in its own
    /// first `secs` seconds from its start (as the fold found it).
    fn visitors_of_pages(&self, rows: &[&Value], secs: u32) -> usize {
        let pairs: BTreeSet<(NaiveDate, u64)> = rows
            .iter()
            .flat_map(|row| {
                let path = row["path"].as_str().unwrap();
                let views: Vec<&EventRow> =
                    self.events.iter().filter(|e| e.name == "pageview" && e.path == path).collect();
                let first_view = views.iter().map(|e| e.ts).min().unwrap();
                let start = views.iter().filter_map(|e| e.published).min().unwrap_or(first_view);
                views.into_iter().filter(move |e| e.ts >= start && e.ts < start + secs)
            })
            .map(|e| (self.date(e.ts), e.visitor))
            .collect();
        pairs.len()
    }
}

#[tokio::test]
async fn rows_with_fewer_than_k_visitors_are_folded_into_other() {
    const K: u64 = 3;
    let app = spawn_app_with(|settings| {
        settings.reports.summarize_every_secs = 0;
        settings.reports.min_visitors = K;
    })
    .await;
    let events = dataset();
    app.store.insert_events(&events).await.expect("the dataset is stored");
    let fold = Fold { min_visitors: K as usize, ..Fold::new(&events, LONDON, "2026-03-27", "2026-03-29") };
    let expected = fold.expected();
    let mut deduplicated = 0;
    for (report, sums) in [("sources", &["sessions"][..]), ("devices", &["views"][..]), ("countries", &["views"][..])] {
        let visitors_of = |rows: &[&Value]| fold.visitors_of_rows(report, rows);
        let (want, folded) = fold_small_rows(&expected[report], K, "(other)", sums, visitors_of);
        let got = report_json(&app, report, RANGE).await;
        assert_eq!(got["rows"], Value::from(want.clone()), "{report}");
        let how = if folded == 0 { Value::Null } else { json!("exact") };
        let small_counts = json!({"min_visitors": K, "folded_rows": folded, "other_visitors": how});
        assert_eq!(got["small_counts"], small_counts, "{report}");
        let small: Vec<&Value> =
            expected[report].as_array().unwrap().iter().filter(|row| row["visitors"].as_u64().unwrap() < K).collect();
        let summed: u64 = small.iter().map(|row| row["visitors"].as_u64().unwrap()).sum();
        deduplicated += usize::from((fold.visitors_of_rows(report, &small) as u64) < summed);
    }

    // top-content by hand: the other row's average engaged time is over all its views.
    let top = report_json(&app, "top-content", RANGE).await;
    let unfolded = expected["top-content"].as_array().unwrap();
    let kept: Vec<&Value> = unfolded.iter().filter(|row| row["visitors"].as_u64().unwrap() >= K).collect();
    let small: Vec<&Value> = unfolded.iter().filter(|row| row["visitors"].as_u64().unwrap() < K).collect();
    assert!(!kept.is_empty() && !small.is_empty(), "the dataset has rows on both sides of k = {K}");
    let rows = top["rows"].as_array().unwrap();
    assert_eq!(rows[..kept.len()].iter().collect::<Vec<_>>(), kept);
    assert_eq!(rows.len(), kept.len() + 1);
    let other = &rows[kept.len()];
    let sum = |column: &str| small.iter().map(|row| row[column].as_u64().unwrap()).sum::<u64>();
    let visitors = fold.visitors_of_rows("top-content", &small);
    assert_eq!(
        (&other["path"], &other["views"], &other["visitors"], &other["entries"]),
        (&json!("(other)"), &json!(sum("views")), &json!(visitors), &json!(sum("entries")))
    );
    deduplicated += usize::from((visitors as u64) < sum("visitors"));
    let small_paths: Vec<&str> = small.iter().map(|row| row["path"].as_str().unwrap()).collect();
    assert_eq!(other, &fold.page_row("(other)", &small_paths), "the (other) row's engagement is its views'");
    assert_eq!(top["small_counts"], json!({"min_visitors": K, "folded_rows": small.len(), "other_visitors": "exact"}));
    for row in rows {
        let path = row["path"].as_str().unwrap();
        assert!(
            path == "(other)" || row["visitors"].as_u64().unwrap() >= K,
            "{path} is named with fewer than {K} visitors"
        );
    }

    // content-discovery: pages under k in their first 7 days keep their row with their
    // counts suppressed when they have a publish time, else become one row without times.
    let discovery = report_json(&app, "content-discovery", RANGE).await;
    let pages = expected["content-discovery"].as_array().unwrap();
    let small = |row: &Value| row["visitors_7d"].as_u64().unwrap() < K;
    let published = |row: &Value| !row["published_at"].is_null();
    let suppressed = |row: &Value| {
        let mut row = row.clone();
        for column in [
            "first_view_at",
            "hours_to_first_view",
            "views_24h",
            "visitors_24h",
            "views_7d",
            "visitors_7d",
            "internal_share",
            "search_share",
            "social_share",
            "other_share",
            "direct_share",
            "returning_share",
            "hours_to_10_visitors",
            "hours_to_100_visitors",
            "vs_typical_24h",
            "median_engaged_seconds_7d",
            "read_through_share_7d",
        ] {
            row[column] = Value::Null;
        }
        (row["top_referrers"], row["internal_from"]) = (json!([]), json!([]));
        row["suppressed"] = json!(true);
        row
    };
    let listed: Vec<Value> = pages
        .iter()
        .filter(|row| !small(row) || published(row))
        .map(|row| if small(row) { suppressed(row) } else { row.clone() })
        .collect();
    let small: Vec<&Value> = pages.iter().filter(|row| small(row) && !published(row)).collect();
    let rows = discovery["rows"].as_array().unwrap();
    assert_eq!(rows[..listed.len()], listed[..]);
    assert_eq!(rows.len(), listed.len() + usize::from(!small.is_empty()));
    if let Some(other) = rows.get(listed.len()) {
        let sum = |column: &str| small.iter().map(|row| row[column].as_u64().unwrap()).sum::<u64>();
        assert_eq!(other["path"], "(other)");
        assert_eq!((&other["published_at"], &other["first_view_at"]), (&Value::Null, &Value::Null));
        let (visitors_7d, visitors_24h) =
            (fold.visitors_of_pages(&small, 7 * 86_400), fold.visitors_of_pages(&small, 86_400));
        assert_eq!(
            (&other["views_7d"], &other["visitors_7d"], &other["views_24h"], &other["visitors_24h"]),
            (&json!(sum("views_7d")), &json!(visitors_7d), &json!(sum("views_24h")), &json!(visitors_24h))
        );
    }
    assert!(deduplicated > 0, "the dataset has a visitor in two folded rows of one day");
    app.stop().await;
}

/// Each order of top-content's `sort`, by hand, from events and from summaries.
#[tokio::test]
async fn top_content_sorts_by_views_visitors_engaged_minutes_and_read_through() {
    let (app, events) = seeded_app().await;
    let fold = Fold::new(&events, LONDON, "2026-03-27", "2026-03-29");
    let paths = |rows: &Value| -> Vec<String> {
        rows.as_array().unwrap().iter().map(|row| row["path"].as_str().unwrap().to_string()).collect()
    };
    let orders = [
        ("views", ["/blog/new", "/", "/about", "/blog/early", "/blog/old"]),
        // /blog/new and / have 4 visitors each: more views first.
        ("visitors", ["/blog/new", "/", "/about", "/blog/early", "/blog/old"]),
        // 61 s, 45 s, 30 s, 9.999 s, 0 s.
        ("engaged_minutes", ["/blog/new", "/about", "/", "/blog/old", "/blog/early"]),
        // 1/1, 1/2, 1/5, then 0/4 before 0/1 (more views first).
        ("read_through", ["/blog/old", "/about", "/blog/new", "/", "/blog/early"]),
    ];
    for when in ["read from events", "read from summaries"] {
        if when == "read from summaries" {
            assert_eq!(footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap(), 8);
        }
        for (sort, want) in orders {
            let got = report_json(&app, "top-content", &format!("{RANGE}&sort={sort}")).await;
            assert_eq!(paths(&got["rows"]), want, "sort={sort} ({when})");
            assert_eq!(got["sort"], sort);
            let mut rows = fold.top_content().as_array().unwrap().clone();
            rows.sort_by_key(|row| want.iter().position(|path| row["path"] == *path));
            assert_eq!(got["rows"], Value::from(rows), "sort={sort} ({when})");
        }
        assert_eq!(report_json(&app, "top-content", RANGE).await["sort"], "views");
    }
    let refused = get_report(&app, "sources", &format!("{RANGE}&sort=views")).await;
    assert_eq!(refused.status().as_u16(), 400);
    app.stop().await;
}

/// Summaries written before `day_page_engagement` (format 0) are not read: their days come
/// from events until the summarizer writes them again.
#[tokio::test]
async fn summaries_of_an_older_format_are_ignored_and_redone() {
    let (app, events) = seeded_app().await;
    // What an older build recorded: every day summarized, with today's event counts, but
    // no summary rows of the current tables.
    app.store
        .client()
        .query(
            "INSERT INTO summary_days (site, tz, day, version, events) \
             SELECT site, 'Europe/London', toDate(quarter, 'Europe/London') AS day, 1, sum(events) \
             FROM site_quarters GROUP BY site, day",
        )
        .execute()
        .await
        .unwrap();
    assert_eq!(summarized_days(&app).await, 8);
    let expected = Fold::new(&events, LONDON, "2026-03-27", "2026-03-29").expected();
    assert_reports_equal(&actual(&app, RANGE).await, &expected, "with format-0 summaries");
    assert_eq!(footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap(), 8, "all redone");
    assert_reports_equal(&actual(&app, RANGE).await, &expected, "summarized again");
    app.stop().await;
}

impl Fold<'_> {
    /// How many times each weekday (0 = Monday) and local hour occur in the range: per
    /// local date and hour, the instants that local time names (0 in a DST gap, 2 when
    /// repeated).
    fn occurrences(&self) -> [[u64; 24]; 7] {
        let mut counts = [[0u64; 24]; 7];
        let mut date = self.from;
        while date <= self.to {
            for hour in 0..24 {
                let named = match self.tz.from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap()) {
                    chrono::LocalResult::None => 0,
                    chrono::LocalResult::Single(_) => 1,
                    chrono::LocalResult::Ambiguous(_, _) => 2,
                };
                counts[date.weekday().num_days_from_monday() as usize][hour as usize] += named;
            }
            date = date.succ_opt().unwrap();
        }
        counts
    }

    /// busiest-times' grid and peak under `measure=average`.
    fn busiest_average(&self) -> (Value, Value) {
        let (totals, _, _) = self.busiest();
        let occurrences = self.occurrences();
        let mut peak = Value::Null;
        let mut best = (0.0, 0.0);
        let grid: Vec<Value> = totals
            .as_array()
            .unwrap()
            .iter()
            .map(|cell| {
                let (weekday, hour) = (cell["weekday"].as_u64().unwrap(), cell["hour"].as_u64().unwrap());
                let times = occurrences[weekday as usize - 1][hour as usize];
                let per = |column: &str| cell[column].as_u64().unwrap() as f64 / times as f64;
                let average = |column: &str| if times == 0 { Value::Null } else { json!(round(per(column), 2)) };
                let out = json!({"weekday": weekday, "hour": hour, "views": average("views"),
                                 "visitors": average("visitors"), "occurrences": times});
                if cell["views"].as_u64().unwrap() > 0 && (per("views"), per("visitors")) > best {
                    best = (per("views"), per("visitors"));
                    peak = out.clone();
                }
                out
            })
            .collect();
        (grid.into(), peak)
    }
}

/// `measure=average` over ten days (not whole weeks) across London's spring change.
#[tokio::test]
async fn busiest_times_averages_per_occurrence_across_a_dst_change() {
    let (app, mut events) = seeded_app().await;
    // Friday 00:00 (GMT) gets 2 more views on the 20th: 4 in all, the most of any cell,
    // but over the 2 Fridays of the range. Wednesday 14:00 gets 3, on its one Wednesday:
    // the busiest on average.
    let extra: Vec<EventRow> = [
        Ev::view("2026-03-20T00:10:00Z", "/", 30).entry("direct", ""),
        Ev::view("2026-03-20T00:20:00Z", "/", 31).entry("direct", ""),
        Ev::view("2026-03-25T14:00:00Z", "/", 40).entry("direct", ""),
        Ev::view("2026-03-25T14:10:00Z", "/", 41).entry("direct", ""),
        Ev::view("2026-03-25T14:20:00Z", "/", 42).entry("direct", ""),
    ]
    .into_iter()
    .map(|ev| ev.0)
    .collect();
    app.store.insert_events(&extra).await.unwrap();
    events.extend(extra);
    let range = "from=2026-03-20&to=2026-03-29";
    let fold = Fold::new(&events, LONDON, "2026-03-20", "2026-03-29");
    let occurrences = fold.occurrences();
    // By hand: Friday to Sunday twice, Monday to Thursday once; Sunday 01:00 is skipped on
    // the 29th, so it occurs once.
    assert_eq!((occurrences[4][0], occurrences[0][0], occurrences[6][1], occurrences[6][2]), (2, 1, 1, 2));
    let (grid, peak) = fold.busiest_average();
    assert_eq!(peak, json!({"weekday": 3, "hour": 14, "views": 3.0, "visitors": 3.0, "occurrences": 1}));
    assert_eq!(grid[4 * 24], json!({"weekday": 5, "hour": 0, "views": 2.0, "visitors": 1.5, "occurrences": 2}));
    let (grid_total, peak_total, _) = fold.busiest();
    assert_eq!(peak_total, json!({"weekday": 5, "hour": 0, "views": 4, "visitors": 3, "occurrences": 2}));
    for when in ["read from events", "read from summaries"] {
        if when == "read from summaries" {
            footfall::reports::summarize::summarize(&app.store, Utc::now()).await.unwrap();
        }
        let got = report_json(&app, "busiest-times", &format!("{range}&measure=average")).await;
        assert_eq!(got["measure"], "average");
        assert_eq!(got["grid"], grid, "{when}");
        assert_eq!(got["peak"], peak, "{when}");
        let total = report_json(&app, "busiest-times", range).await;
        assert_eq!(total["measure"], "total");
        assert_eq!((&total["grid"], &total["peak"]), (&grid_total, &peak_total), "{when}");
    }
    let csv = report_csv(&app, "busiest-times", &format!("{range}&measure=average")).await;
    assert!(csv.starts_with("weekday,hour,views,visitors,occurrences\r\n1,0,0,0,1\r\n"), "{csv}");
    for line in ["3,14,3,3,1", "5,0,2,1.5,2", "7,1,0,0,1"] {
        assert!(csv.contains(&format!("\r\n{line}\r\n")), "{line} in {csv}");
    }
    app.stop().await;
}
