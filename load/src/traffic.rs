//! The traffic model: what one request of a run carries.
//!
//! A run has a few sites of Zipf-distributed size, each with a catalogue of pages of
//! Zipf-distributed popularity, plus pages published while the run goes on (sent with
//! `published`, and popular while new). People arrive in visits: a landing pageview with
//! an outside referrer (search, social, another site, or none, sometimes with `utm_*`),
//! then SPA navigations inside the site, each page often followed by an `engagement`
//! event with the time spent on it, now and then a custom event with `props`. A visitor is
//! new (fresh cookie id), returning (cookie id and `returning: true`) or cookieless. Every
//! visit keeps one realistic browser user agent, time zone and screen width.
//!
//! Beside people, a share of requests comes from bots (valid events with crawler and HTTP
//! library user agents: footfall answers 202 and stores nothing) and a share is invalid
//! in one of several ways, each with the status footfall's contract gives it.
//!
//! [`Catalogue`] is shared and immutable; each connection draws from its own [`Traffic`]
//! seeded from the run's seed and the connection's number, so a seed fixes the sequence of
//! choices (which pages exist still depends on how far the run got).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use hyper::header::HeaderValue;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// Ordinary browsers people use, with a rough share of traffic each (shares add to 100).
pub const HUMAN_AGENTS: &[(&str, u32)] = &[
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 30),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 18),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", 17),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 8),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 6),
    ("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", 5),
    ("Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", 4),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 2),
];

/// Automated clients footfall must recognise: crawlers, headless browsers, HTTP libraries.
pub const BOT_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.32.3",
];

/// The user agent of the readiness probes (a bot: answered 202 once the site is known,
/// never stored, so probes do not disturb the verification).
pub const PROBE_AGENT: &str = "footfall-load-probe (bot)";

const TIME_ZONES: &[&str] = &[
    "Europe/London",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Los_Angeles",
];
const SITE_TIME_ZONES: &[&str] = &["Europe/London", "America/New_York", "Asia/Tokyo", "UTC"];
const SECTIONS: &[&str] = &["blog", "docs", "guides", "products", "news", "help"];
const SCREENS: &[u32] = &[390, 414, 768, 1280, 1440, 1920, 2560];
const SEARCH_REFERRERS: &[&str] =
    &["https://www.google.com/", "https://www.bing.com/search", "https://duckduckgo.com/", "https://www.ecosia.org/"];
const SOCIAL_REFERRERS: &[&str] = &[
    "https://t.co/x1",
    "https://www.reddit.com/r/rust/comments/1",
    "https://news.ycombinator.com/item",
    "https://www.linkedin.com/feed/",
];
const OTHER_REFERRERS: &[&str] = &["https://blog.example.org/weekly/42", "https://newsletter.example.net/issue/7"];

/// Visits one connection interleaves (people reading at the same time).
const ACTIVE_VISITS: usize = 32;
/// Most pages published during one run.
pub const MAX_NEW_PAGES: usize = 1000;
/// Share of pageviews that go to a page published during the run, once there is one.
const NEW_PAGE_SHARE: f64 = 0.15;

/// How the run's traffic is shaped.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Sites in the run, named `s{N}-{run_id}.load.test`.
    pub sites: usize,
    /// Pages each site has at the start.
    pub pages_per_site: usize,
    /// Exponent of the Zipf popularity of pages and sites (1.0 is the classic).
    pub zipf_exponent: f64,
    /// A new page is published on every site this often (none when zero).
    pub publish_every: Duration,
    /// Share of requests from bots.
    pub bot_share: f64,
    /// Share of requests that are invalid.
    pub invalid_share: f64,
    /// Share of visits without a cookie id.
    pub cookieless_share: f64,
    /// Share of visits (with a cookie) that are returning visitors.
    pub returning_share: f64,
    /// Makes site names unique to the run.
    pub run_id: String,
    /// Wall-clock start of the run, for the `published` times of new pages.
    pub started_at: DateTime<Utc>,
}

/// Zipf-distributed ranks `0..n`: rank `k` has weight `1 / (k + 1)^exponent`.
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// # Panics
    /// When `n` is zero.
    pub fn new(n: usize, exponent: f64) -> Self {
        assert!(n > 0, "a Zipf distribution needs at least one rank");
        let mut total = 0.0;
        let mut cdf: Vec<f64> = (0..n)
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(exponent);
                total
            })
            .collect();
        for value in &mut cdf {
            *value /= total;
        }
        Self { cdf }
    }

    /// The rank for a uniform draw `u` in `[0, 1)`.
    pub fn rank(&self, u: f64) -> usize {
        self.cdf.partition_point(|&c| c <= u).min(self.cdf.len() - 1)
    }

    /// Probability of `rank`.
    pub fn probability(&self, rank: usize) -> f64 {
        self.cdf[rank] - if rank == 0 { 0.0 } else { self.cdf[rank - 1] }
    }

    /// Draws a rank.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        self.rank(rng.random::<f64>())
    }

    /// Draws a rank among the first `limit` ranks only (renormalised).
    fn sample_below(&self, rng: &mut impl Rng, limit: usize) -> usize {
        let limit = limit.clamp(1, self.cdf.len());
        self.rank(rng.random::<f64>() * self.cdf[limit - 1]).min(limit - 1)
    }
}

/// One site of the run.
#[derive(Debug)]
pub struct SiteModel {
    /// The site's domain (registered with footfall before the run).
    pub domain: String,
    /// Its reporting time zone.
    pub timezone: &'static str,
    origin: HeaderValue,
    pages: Vec<String>,
}

/// The sites and pages of a run. Shared by every connection.
#[derive(Debug)]
pub struct Catalogue {
    pub sites: Vec<SiteModel>,
    config: ModelConfig,
    site_pick: Zipf,
    page_pick: Zipf,
    /// Recency ranks of new pages: the newest is the most read.
    new_page_pick: Zipf,
    agent_pick: Vec<u32>,
}

impl Catalogue {
    /// # Panics
    /// When `config.sites` or `config.pages_per_site` is zero.
    pub fn new(config: ModelConfig) -> Arc<Self> {
        let sites = (0..config.sites)
            .map(|index| {
                let domain = format!("s{}-{}.load.test", index + 1, config.run_id);
                let origin = HeaderValue::from_str(&format!("https://{domain}")).expect("site domains are ASCII");
                let pages = (0..config.pages_per_site).map(page_path).collect();
                SiteModel { domain, timezone: SITE_TIME_ZONES[index % SITE_TIME_ZONES.len()], origin, pages }
            })
            .collect();
        let mut cumulative = 0;
        let agent_pick = HUMAN_AGENTS
            .iter()
            .map(|(_, share)| {
                cumulative += share;
                cumulative
            })
            .collect();
        Arc::new(Self {
            sites,
            site_pick: Zipf::new(config.sites, config.zipf_exponent),
            page_pick: Zipf::new(config.pages_per_site, config.zipf_exponent),
            new_page_pick: Zipf::new(MAX_NEW_PAGES, config.zipf_exponent),
            agent_pick,
            config,
        })
    }

    /// Pages published on every site once `elapsed` of the run has passed.
    pub fn published_pages(&self, elapsed: Duration) -> usize {
        if self.config.publish_every.is_zero() {
            return 0;
        }
        ((elapsed.as_secs_f64() / self.config.publish_every.as_secs_f64()) as usize).min(MAX_NEW_PAGES)
    }

    /// The `published` time of new page `number` (1-based).
    fn published_at(&self, number: usize) -> String {
        let offset = self.config.publish_every * number as u32;
        (self.config.started_at + offset).to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn human_agent(&self, rng: &mut impl Rng) -> usize {
        let draw = rng.random_range(0..*self.agent_pick.last().expect("agents listed"));
        self.agent_pick.partition_point(|&c| c <= draw)
    }
}

/// Path of catalogue page `index`: the home page, then pages spread over sections.
fn page_path(index: usize) -> String {
    match index {
        0 => "/".to_string(),
        _ => format!("/{}/page-{index}", SECTIONS[index % SECTIONS.len()]),
    }
}

/// The ways a request is invalid, each answered with its own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidKind {
    /// The body is cut short: 400.
    MalformedJson,
    /// No `url`: 400.
    MissingUrl,
    /// `engaged_ms` above one day: 400.
    OutOfRange,
    /// A site nobody registered: 404.
    UnknownSite,
    /// The page is on another host than the site: 403.
    ForeignUrl,
    /// A form post instead of JSON: 415.
    WrongContentType,
}

impl InvalidKind {
    /// Every kind, drawn with equal chance.
    pub const ALL: [Self; 6] = [
        Self::MalformedJson,
        Self::MissingUrl,
        Self::OutOfRange,
        Self::UnknownSite,
        Self::ForeignUrl,
        Self::WrongContentType,
    ];

    /// The status footfall's contract answers this with.
    pub fn expected_status(self) -> u16 {
        match self {
            Self::MalformedJson | Self::MissingUrl | Self::OutOfRange => 400,
            Self::UnknownSite => 404,
            Self::ForeignUrl => 403,
            Self::WrongContentType => 415,
        }
    }
}

/// Who sent a request, which decides what footfall should do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A person's valid event for site number `site`: stored when answered 202.
    Human { site: usize },
    /// A bot's valid event: answered 202, never stored.
    Bot,
    /// An invalid request: refused with [`InvalidKind::expected_status`].
    Invalid(InvalidKind),
}

/// One request to send to `POST /api/event`.
#[derive(Debug, Clone)]
pub struct Request {
    pub class: Class,
    pub content_type: &'static str,
    pub user_agent: &'static str,
    /// `Origin`, as a browser on the site's pages sends it.
    pub origin: Option<HeaderValue>,
    pub body: Vec<u8>,
}

/// The JSON body of an event (only `site`, `name`, `url` are required).
#[derive(Serialize, Default)]
struct Event<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    referrer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visitor: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    returning: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engaged_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    screen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tz: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    props: Option<Props<'a>>,
}

#[derive(Serialize)]
struct Props<'a> {
    plan: &'a str,
    seats: u32,
}

/// A page of a site: from the catalogue, or the n-th published during the run (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Catalogue(usize),
    New(usize),
}

/// One person's visit in progress.
#[derive(Debug)]
struct Visit {
    site: usize,
    cookie: Option<String>,
    returning: bool,
    agent: usize,
    tz: &'static str,
    screen: u32,
    current: Option<Page>,
    pageviews_left: u32,
    engagement_due: bool,
}

/// One connection's stream of requests.
pub struct Traffic {
    catalogue: Arc<Catalogue>,
    rng: SmallRng,
    visits: Vec<Visit>,
    url: String,
}

impl Traffic {
    /// The request stream number `stream` of the run seeded with `seed`.
    pub fn new(catalogue: Arc<Catalogue>, seed: u64, stream: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let visits = (0..ACTIVE_VISITS).map(|_| new_visit(&catalogue, &mut rng)).collect();
        Self { catalogue, rng, visits, url: String::with_capacity(128) }
    }

    /// The next request, `elapsed` into the run.
    pub fn next(&mut self, elapsed: Duration) -> Request {
        let draw: f64 = self.rng.random();
        let config = &self.catalogue.config;
        if draw < config.bot_share {
            self.bot(elapsed)
        } else if draw < config.bot_share + config.invalid_share {
            let kind = InvalidKind::ALL[self.rng.random_range(0..InvalidKind::ALL.len())];
            self.invalid(kind)
        } else {
            self.human(elapsed)
        }
    }

    fn human(&mut self, elapsed: Duration) -> Request {
        let slot = self.rng.random_range(0..self.visits.len());
        if self.visits[slot].pageviews_left == 0 && !self.visits[slot].engagement_due {
            self.visits[slot] = new_visit(&self.catalogue, &mut self.rng);
        }
        let published = self.catalogue.published_pages(elapsed);
        let catalogue = Arc::clone(&self.catalogue);
        let rng = &mut self.rng;
        let visit = &mut self.visits[slot];
        let site = &catalogue.sites[visit.site];
        let mut event = Event {
            visitor: visit.cookie.as_deref(),
            returning: visit.returning,
            screen: Some(visit.screen),
            tz: Some(visit.tz),
            ..Event::default()
        };
        let published_at;
        let previous_url;
        let current = if visit.engagement_due {
            visit.engagement_due = false;
            event.name = if rng.random_bool(0.1) { "signup" } else { "engagement" };
            if event.name == "signup" {
                event.props = Some(Props { plan: if rng.random_bool(0.3) { "pro" } else { "free" }, seats: 3 });
            } else {
                event.engaged_ms = Some(rng.random_range(500..180_000));
            }
            visit.current.unwrap_or(Page::Catalogue(0))
        } else {
            event.name = "pageview";
            let next = pick_page(&catalogue, rng, published);
            match visit.current {
                // An SPA navigation: the referrer is the page the person was on.
                Some(page) => {
                    previous_url = page_url(site, page);
                    event.referrer = Some(&previous_url);
                }
                None => event.referrer = landing_referrer(rng),
            }
            visit.current = Some(next);
            visit.pageviews_left -= 1;
            visit.engagement_due = rng.random_bool(0.5);
            next
        };
        if let Page::New(number) = current {
            published_at = catalogue.published_at(number);
            event.published = Some(&published_at);
        }
        self.url.clear();
        write_page_url(&mut self.url, site, current);
        if event.name == "pageview" && event.referrer.is_some_and(|r| !r.contains(&site.domain)) && rng.random_bool(0.2)
        {
            self.url.push_str("?utm_source=newsletter&utm_medium=email&utm_campaign=launch");
        }
        event.site = Some(&site.domain);
        event.url = Some(&self.url);
        Request {
            class: Class::Human { site: visit.site },
            content_type: if rng.random_bool(0.7) { "text/plain;charset=UTF-8" } else { "application/json" },
            user_agent: HUMAN_AGENTS[visit.agent].0,
            origin: Some(site.origin.clone()),
            body: serde_json::to_vec(&event).expect("events serialize"),
        }
    }

    fn bot(&mut self, elapsed: Duration) -> Request {
        let site_index = self.catalogue.site_pick.sample(&mut self.rng);
        let site = &self.catalogue.sites[site_index];
        let page = pick_page(&self.catalogue, &mut self.rng, self.catalogue.published_pages(elapsed));
        let url = page_url(site, page);
        let event = Event { site: Some(&site.domain), name: "pageview", url: Some(&url), ..Event::default() };
        Request {
            class: Class::Bot,
            content_type: "application/json",
            user_agent: BOT_AGENTS[self.rng.random_range(0..BOT_AGENTS.len())],
            origin: None,
            body: serde_json::to_vec(&event).expect("events serialize"),
        }
    }

    fn invalid(&mut self, kind: InvalidKind) -> Request {
        let site = &self.catalogue.sites[self.catalogue.site_pick.sample(&mut self.rng)];
        let url = page_url(site, Page::Catalogue(0));
        let mut event = Event { site: Some(&site.domain), name: "pageview", url: Some(&url), ..Event::default() };
        let unknown_site = format!("unknown-{}.load.test", self.catalogue.config.run_id);
        let foreign_url = "https://elsewhere.example/stolen".to_string();
        let mut content_type = "application/json";
        let mut origin = Some(site.origin.clone());
        match kind {
            InvalidKind::MalformedJson => {
                let mut body = serde_json::to_vec(&event).expect("events serialize");
                body.truncate(body.len() / 2);
                return Request {
                    class: Class::Invalid(kind),
                    content_type,
                    user_agent: HUMAN_AGENTS[0].0,
                    origin,
                    body,
                };
            }
            InvalidKind::MissingUrl => event.url = None,
            InvalidKind::OutOfRange => event.engaged_ms = Some(90_000_000),
            InvalidKind::UnknownSite => {
                event.site = Some(&unknown_site);
                origin = None;
            }
            InvalidKind::ForeignUrl => {
                event.url = Some(&foreign_url);
                origin = None;
            }
            InvalidKind::WrongContentType => content_type = "application/x-www-form-urlencoded",
        }
        Request {
            class: Class::Invalid(kind),
            content_type,
            user_agent: HUMAN_AGENTS[0].0,
            origin,
            body: serde_json::to_vec(&event).expect("events serialize"),
        }
    }
}

fn new_visit(catalogue: &Catalogue, rng: &mut SmallRng) -> Visit {
    let config = &catalogue.config;
    let cookie = (!rng.random_bool(config.cookieless_share)).then(|| format!("{:016x}", rng.random::<u64>()));
    let returning = cookie.is_some() && rng.random_bool(config.returning_share);
    // Geometric number of pageviews, mean 3.
    let mut pageviews = 1;
    while pageviews < 20 && rng.random_bool(2.0 / 3.0) {
        pageviews += 1;
    }
    Visit {
        site: catalogue.site_pick.sample(rng),
        cookie,
        returning,
        agent: catalogue.human_agent(rng),
        tz: TIME_ZONES[rng.random_range(0..TIME_ZONES.len())],
        screen: SCREENS[rng.random_range(0..SCREENS.len())],
        current: None,
        pageviews_left: pageviews,
        engagement_due: false,
    }
}

fn pick_page(catalogue: &Catalogue, rng: &mut SmallRng, published: usize) -> Page {
    if published > 0 && rng.random_bool(NEW_PAGE_SHARE) {
        // Newest first: recency rank 0 is the page published last.
        let recency = catalogue.new_page_pick.sample_below(rng, published);
        Page::New(published - recency)
    } else {
        Page::Catalogue(catalogue.page_pick.sample(rng))
    }
}

/// Where a visit came from: 40% search, 15% social, 10% another site, 35% typed or bookmarked.
fn landing_referrer(rng: &mut SmallRng) -> Option<&'static str> {
    let draw: f64 = rng.random();
    let pick = |list: &'static [&'static str], rng: &mut SmallRng| list[rng.random_range(0..list.len())];
    if draw < 0.40 {
        Some(pick(SEARCH_REFERRERS, rng))
    } else if draw < 0.55 {
        Some(pick(SOCIAL_REFERRERS, rng))
    } else if draw < 0.65 {
        Some(pick(OTHER_REFERRERS, rng))
    } else {
        None
    }
}

fn page_url(site: &SiteModel, page: Page) -> String {
    let mut url = String::with_capacity(96);
    write_page_url(&mut url, site, page);
    url
}

fn write_page_url(out: &mut String, site: &SiteModel, page: Page) {
    let _ = match page {
        Page::Catalogue(index) => write!(out, "https://{}{}", site.domain, site.pages[index]),
        Page::New(number) => write!(out, "https://{}/news/launch-{number}", site.domain),
    };
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use footfall::ingest::payload;
    use footfall::privacy::useragent;

    use super::*;

    fn config() -> ModelConfig {
        ModelConfig {
            sites: 3,
            pages_per_site: 200,
            zipf_exponent: 1.0,
            publish_every: Duration::from_secs(1),
            bot_share: 0.05,
            invalid_share: 0.02,
            cookieless_share: 0.25,
            returning_share: 0.5,
            run_id: "t1".into(),
            started_at: DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z").unwrap().with_timezone(&Utc),
        }
    }

    fn body_json(request: &Request) -> serde_json::Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn zipf_weights_follow_the_rank() {
        let zipf = Zipf::new(4, 1.0);
        let harmonic = 1.0 + 1.0 / 2.0 + 1.0 / 3.0 + 1.0 / 4.0;
        for rank in 0..4 {
            assert!((zipf.probability(rank) - 1.0 / (rank as f64 + 1.0) / harmonic).abs() < 1e-12);
        }
        assert_eq!(zipf.rank(0.0), 0);
        assert_eq!(zipf.rank(0.47), 0); // rank 0 holds the first 0.48
        assert_eq!(zipf.rank(0.49), 1);
        assert_eq!(zipf.rank(0.999_999), 3);
        let mut rng = SmallRng::seed_from_u64(1);
        assert!((0..1000).all(|_| zipf.sample_below(&mut rng, 2) < 2));
    }

    #[test]
    fn zipf_samples_match_the_weights() {
        let zipf = Zipf::new(100, 1.0);
        let mut rng = SmallRng::seed_from_u64(7);
        let mut counts = [0u32; 100];
        let draws = 200_000;
        for _ in 0..draws {
            counts[zipf.sample(&mut rng)] += 1;
        }
        for rank in [0, 1, 9, 99] {
            let observed = f64::from(counts[rank]) / f64::from(draws);
            let expected = zipf.probability(rank);
            assert!((observed - expected).abs() < 0.1 * expected + 0.001, "rank {rank}: {observed} vs {expected}");
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[9] && counts[9] > counts[99]);
    }

    #[test]
    fn agents_are_classified_as_footfall_classifies_them() {
        for (agent, _) in HUMAN_AGENTS {
            assert!(!useragent::is_bot(agent), "footfall takes {agent} for a bot");
        }
        for agent in BOT_AGENTS.iter().chain([&PROBE_AGENT]) {
            assert!(useragent::is_bot(agent), "footfall takes {agent} for a person");
        }
    }

    #[test]
    fn same_seed_same_requests_other_stream_other_requests() {
        let catalogue = Catalogue::new(config());
        let take = |stream| {
            let mut traffic = Traffic::new(Arc::clone(&catalogue), 42, stream);
            (0..50).map(|_| traffic.next(Duration::from_millis(500)).body).collect::<Vec<_>>()
        };
        assert_eq!(take(0), take(0));
        assert_ne!(take(0), take(1));
    }

    #[test]
    fn mix_of_classes_and_visitors_follows_the_config() {
        let catalogue = Catalogue::new(config());
        let mut traffic = Traffic::new(Arc::clone(&catalogue), 3, 0);
        let total = 100_000;
        let mut bots = 0;
        let mut invalid: HashMap<InvalidKind, u32> = HashMap::new();
        let mut per_site = [0u32; 3];
        let mut names: HashMap<String, u32> = HashMap::new();
        let (mut cookieless, mut returning, mut spa, mut published) = (0, 0, 0, 0);
        for _ in 0..total {
            let request = traffic.next(Duration::from_secs(5));
            match request.class {
                Class::Bot => bots += 1,
                Class::Invalid(kind) => *invalid.entry(kind).or_default() += 1,
                Class::Human { site } => {
                    per_site[site] += 1;
                    let event = body_json(&request);
                    assert_eq!(event["site"], catalogue.sites[site].domain.as_str());
                    *names.entry(event["name"].as_str().unwrap().to_string()).or_default() += 1;
                    cookieless += u32::from(event.get("visitor").is_none());
                    returning += u32::from(event.get("returning").is_some());
                    let domain = &catalogue.sites[site].domain;
                    spa += u32::from(event["referrer"].as_str().is_some_and(|r| r.contains(domain.as_str())));
                    published += u32::from(event.get("published").is_some());
                }
            }
        }
        let share = |count: u32| f64::from(count) / f64::from(total);
        assert!((share(bots) - 0.05).abs() < 0.005, "bots {bots}");
        let invalid_total: u32 = invalid.values().sum();
        assert!((share(invalid_total) - 0.02).abs() < 0.003, "invalid {invalid_total}");
        assert_eq!(invalid.len(), InvalidKind::ALL.len(), "every invalid kind occurs: {invalid:?}");
        // Zipf over 3 sites: 6/11, 3/11, 2/11 of the visits.
        let humans: u32 = per_site.iter().sum();
        assert!((f64::from(per_site[0]) / f64::from(humans) - 6.0 / 11.0).abs() < 0.05, "{per_site:?}");
        assert!(per_site[0] > per_site[1] && per_site[1] > per_site[2]);
        assert!(names["pageview"] > names["engagement"] && names["engagement"] > names["signup"], "{names:?}");
        assert!((f64::from(cookieless) / f64::from(humans) - 0.25).abs() < 0.05, "cookieless {cookieless}");
        assert!(returning > humans / 5 && returning < humans / 2, "returning {returning}");
        assert!(spa > names["pageview"] / 3, "SPA navigations {spa}");
        // Five pages were published by 5 s; 15% of pageviews go to them, engagements follow.
        assert!(published > names["pageview"] / 20, "published {published}");
    }

    #[test]
    fn new_pages_appear_over_time_with_their_publication_time() {
        let catalogue = Catalogue::new(config());
        assert_eq!(catalogue.published_pages(Duration::from_millis(999)), 0);
        assert_eq!(catalogue.published_pages(Duration::from_millis(2500)), 2);
        assert_eq!(catalogue.published_pages(Duration::from_secs(1_000_000)), MAX_NEW_PAGES);
        assert_eq!(catalogue.published_at(2), "2026-11-28T09:00:02Z");
        let mut traffic = Traffic::new(Arc::clone(&catalogue), 9, 0);
        for _ in 0..2000 {
            let request = traffic.next(Duration::from_millis(500));
            if matches!(request.class, Class::Human { .. }) {
                assert!(body_json(&request).get("published").is_none(), "nothing is published before 1 s");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..20_000 {
            let request = traffic.next(Duration::from_millis(3500));
            if !matches!(request.class, Class::Human { .. }) {
                continue;
            }
            let event = body_json(&request);
            if let (Some(url), Some(published)) = (event["url"].as_str(), event["published"].as_str()) {
                let number: usize = url.rsplit('-').next().unwrap().split('?').next().unwrap().parse().unwrap();
                assert_eq!(published, catalogue.published_at(number));
                seen.insert(number);
            }
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn valid_requests_pass_footfall_validation_and_invalid_ones_fail_as_expected() {
        let catalogue = Catalogue::new(config());
        let mut traffic = Traffic::new(Arc::clone(&catalogue), 11, 0);
        let mut checked = 0;
        for _ in 0..20_000 {
            let request = traffic.next(Duration::from_secs(3));
            let parsed = payload::parse_event(&request.body).and_then(|raw| raw.validate(None));
            match request.class {
                Class::Human { .. } | Class::Bot => {
                    let event = parsed.unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&request.body)));
                    assert!(event.page.host.ends_with(".load.test"));
                }
                Class::Invalid(
                    kind @ (InvalidKind::MalformedJson | InvalidKind::MissingUrl | InvalidKind::OutOfRange),
                ) => {
                    let error = parsed.expect_err("invalid payloads fail validation");
                    let status = actix_web::ResponseError::status_code(&error).as_u16();
                    assert_eq!(status, kind.expected_status(), "{kind:?}");
                    checked += 1;
                }
                // Valid payloads refused later by the site check or the content-type check.
                Class::Invalid(_) => assert!(parsed.is_ok()),
            }
        }
        assert!(checked > 100);
    }
}
