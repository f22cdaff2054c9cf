//! User-agent reduction (privacy rules 1 and 3): a user-agent string becomes a browser
//! family, an OS family and a device class, or is recognised as a bot and not counted.
//!
//! Parsing is woothee's; this module maps its names onto a fixed set of `&'static str`
//! families, so no part of the raw string (versions, device models, build ids) can
//! reach a [`ClientInfo`]. Bot detection adds [`BOT_MARKERS`], a list of substrings
//! matched in one pass without allocating, to woothee's crawler category. The raw user
//! agent is otherwise only used, unstored, for the cookieless visitor hash.
//!
//! Parsing is the costliest step of intake per event, and traffic repeats a few thousand
//! user agents, so [`describe_unless_bot`] remembers its answers per thread: keyed by a
//! 128-bit SipHash of the user agent under random keys of the process (never the string
//! itself, which is not kept past the request), at most [`CACHE_CAPACITY`] per thread.

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;

use woothee::parser::{Parser, WootheeResult};

/// Most user-agent descriptions one thread remembers; when full, it starts over.
pub const CACHE_CAPACITY: usize = 4096;

/// What is kept of a user agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// Browser family: "Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung
    /// Internet", ... or "Other".
    pub browser: &'static str,
    /// OS family: "Windows", "macOS", "iOS", "Android", "Linux", "ChromeOS", ... or
    /// "Other".
    pub os: &'static str,
    /// Device class.
    pub device: DeviceClass,
}

/// The kind of device a browser runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
    /// Consoles, TVs, feature phones without a known class, bots and unknown agents.
    Other,
}

impl DeviceClass {
    /// Every class's stored and reported name, in the order of the enum.
    pub const NAMES: [&'static str; 4] =
        [Self::Desktop.as_str(), Self::Mobile.as_str(), Self::Tablet.as_str(), Self::Other.as_str()];

    /// The stored and reported name: "desktop", "mobile", "tablet", "other".
    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "desktop",
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Other => "other",
        }
    }
}

/// Substrings (lowercase, compared ignoring ASCII case) that mark a user agent as
/// automated: crawlers, link-preview fetchers, monitoring and performance probes,
/// headless browsers and test drivers, HTTP libraries and command-line clients,
/// scanners. Each was chosen not to occur in the user agents of browsers people use
/// (the tests hold a set of those); "bot" alone is not matched inside "cubot", a phone
/// brand. Sorted bytewise, so that they can be bucketed by first byte at compile time.
pub const BOT_MARKERS: &[&str] = &[
    "ahrefs",
    "aiohttp",
    "anthropic-ai",
    "archive.org",
    "axios/",
    "bot",
    "chatgpt-user",
    "check_http",
    "claude-web",
    "cohere-ai",
    "crawl",
    "curl/",
    "cypress",
    "datadog",
    "embedly",
    "facebookcatalog",
    "facebookexternalhit",
    "faraday",
    "fetcher",
    "go-http-client",
    "google-inspectiontool",
    "googleother",
    "gtmetrix",
    "guzzlehttp",
    "headless",
    "heritrix",
    "htmlunit",
    "httpclient",
    "httpie",
    "httrack",
    "ia_archiver",
    "iframely",
    "insomnia",
    "java/",
    "jsdom",
    "libwww",
    "lighthouse",
    "linkcheck",
    "lwp-",
    "masscan",
    "mediapartners",
    "meta-external",
    "monitor",
    "nagios",
    "newrelic",
    "nmap",
    "node-fetch",
    "nuclei",
    "nutch",
    "okhttp",
    "pagespeed",
    "perplexity-user",
    "phantomjs",
    "pingdom",
    "playwright",
    "postmanruntime",
    "powershell",
    "prerender",
    "preview",
    "ptst/",
    "puppeteer",
    "python-httpx",
    "python-requests",
    "python-urllib",
    "python/",
    "rendertron",
    "rest-client",
    "scrapy",
    "selenium",
    "semrush",
    "site24x7",
    "slimerjs",
    "slurp",
    "spider",
    "sqlmap",
    "statuscake",
    "undici",
    "uptime",
    "validator",
    "webdriver",
    "wget/",
    "whatsapp/",
    "yeti/",
    "zabbix",
    "zgrab",
];

/// Matches of a marker that are not bots: (marker, bytes right before the match).
const BOT_MARKER_EXCEPTIONS: &[(&str, &str)] = &[("bot", "cu")];

/// For each ASCII byte, the range of [`BOT_MARKERS`] that start with it.
const BOT_MARKER_INDEX: [(usize, usize); 128] = index_by_first_byte(BOT_MARKERS);

/// Whether a user agent is automated and must not be counted: an empty (or "-") user
/// agent, one that woothee puts in its "crawler" category, or one containing any of
/// [`BOT_MARKERS`].
pub fn is_bot(user_agent: &str) -> bool {
    is_unnamed(user_agent) || has_bot_marker(user_agent) || parse(user_agent).category == "crawler"
}

/// Reduces a user agent to browser family, OS family and device class.
///
/// Unknown agents give "Other" for both names and [`DeviceClass::Other`]. Agents are
/// taken at their word: an iPad in desktop mode says "Macintosh" and is a desktop.
pub fn describe_client(user_agent: &str) -> ClientInfo {
    describe(user_agent, &parse(user_agent))
}

/// [`describe_client`] for people, `None` for bots ([`is_bot`]), with a single parse,
/// remembered per thread (see the module documentation).
pub fn describe_unless_bot(user_agent: &str) -> Option<ClientInfo> {
    thread_local! {
        static CACHE: RefCell<DescriptionCache> = RefCell::new(DescriptionCache::new(CACHE_CAPACITY));
    }
    CACHE.with(|cache| cache.borrow_mut().describe(user_agent))
}

fn describe_unless_bot_uncached(user_agent: &str) -> Option<ClientInfo> {
    if is_unnamed(user_agent) || has_bot_marker(user_agent) {
        return None;
    }
    let parsed = parse(user_agent);
    (parsed.category != "crawler").then(|| describe(user_agent, &parsed))
}

/// Descriptions by a 128-bit keyed hash of the user agent.
struct DescriptionCache {
    keys: (RandomState, RandomState),
    known: HashMap<u128, Option<ClientInfo>>,
    capacity: usize,
}

impl DescriptionCache {
    fn new(capacity: usize) -> Self {
        Self { keys: (RandomState::new(), RandomState::new()), known: HashMap::new(), capacity }
    }

    fn describe(&mut self, user_agent: &str) -> Option<ClientInfo> {
        let key = (u128::from(self.keys.0.hash_one(user_agent)) << 64) | u128::from(self.keys.1.hash_one(user_agent));
        if let Some(known) = self.known.get(&key) {
            return known.clone();
        }
        let description = describe_unless_bot_uncached(user_agent);
        if self.known.len() >= self.capacity {
            self.known.clear();
        }
        self.known.insert(key, description.clone());
        description
    }
}

fn parse(user_agent: &str) -> WootheeResult<'_> {
    Parser::new().parse(user_agent).unwrap_or_default()
}

fn is_unnamed(user_agent: &str) -> bool {
    matches!(user_agent.trim(), "" | "-")
}

fn describe(user_agent: &str, parsed: &WootheeResult<'_>) -> ClientInfo {
    let os = os_family(parsed.os);
    let device = match parsed.category {
        "pc" => DeviceClass::Desktop,
        "smartphone" | "mobilephone" => {
            let android_tablet = os == "Android" && !user_agent.contains("Mobile");
            if parsed.os == "iPad" || android_tablet {
                DeviceClass::Tablet
            } else {
                DeviceClass::Mobile
            }
        }
        _ => DeviceClass::Other,
    };
    ClientInfo { browser: browser_family(parsed.name), os, device }
}

/// woothee browser names (and crawler names, for bots described anyway) mapped onto
/// static families; anything not listed is "Other".
fn browser_family(name: &str) -> &'static str {
    match name {
        "Chrome" => "Chrome",
        "Firefox" => "Firefox",
        "Safari" => "Safari",
        "Edge" => "Edge",
        "Opera" => "Opera",
        "Vivaldi" => "Vivaldi",
        "SamsungBrowser" => "Samsung Internet",
        "Yandex Browser" => "Yandex Browser",
        "Internet Explorer" => "Internet Explorer",
        "Google Search App" => "Google Search App",
        "Webview" => "Webview",
        "Sleipnir" => "Sleipnir",
        _ => "Other",
    }
}

/// woothee OS names mapped onto families.
fn os_family(name: &str) -> &'static str {
    match name {
        "Windows Phone OS" => "Windows Phone",
        windows if windows.starts_with("Windows") => "Windows",
        "Mac OSX" | "Mac OS Classic" => "macOS",
        "iPhone" | "iPad" | "iPod" | "iOS" => "iOS",
        "Android" => "Android",
        "Linux" => "Linux",
        "ChromeOS" => "ChromeOS",
        "BSD" => "BSD",
        "Firefox OS" => "Firefox OS",
        "BlackBerry" | "BlackBerry 10" => "BlackBerry",
        "SymbianOS" => "Symbian",
        playstation if playstation.starts_with("PlayStation") => "PlayStation",
        nintendo if nintendo.starts_with("Nintendo") => "Nintendo",
        xbox if xbox.starts_with("Xbox") => "Xbox",
        _ => "Other",
    }
}

fn has_bot_marker(user_agent: &str) -> bool {
    let bytes = user_agent.as_bytes();
    for (at, first) in bytes.iter().enumerate() {
        let Some(&(start, end)) = BOT_MARKER_INDEX.get(usize::from(first.to_ascii_lowercase())) else {
            continue;
        };
        for marker in &BOT_MARKERS[start..end] {
            let matched = bytes
                .get(at..at + marker.len())
                .is_some_and(|candidate| candidate.eq_ignore_ascii_case(marker.as_bytes()));
            if matched && !is_exception(bytes, at, marker) {
                return true;
            }
        }
    }
    false
}

fn is_exception(bytes: &[u8], at: usize, marker: &str) -> bool {
    BOT_MARKER_EXCEPTIONS.iter().any(|(exception, before)| {
        *exception == marker
            && at.checked_sub(before.len()).is_some_and(|from| bytes[from..at].eq_ignore_ascii_case(before.as_bytes()))
    })
}

/// Buckets markers by first byte; fails to compile unless they are non-empty, lowercase
/// ASCII and sorted by first byte.
const fn index_by_first_byte(markers: &[&str]) -> [(usize, usize); 128] {
    let mut index = [(0, 0); 128];
    let mut i = 0;
    let mut previous = 0;
    while i < markers.len() {
        let marker = markers[i].as_bytes();
        assert!(!marker.is_empty(), "bot markers must not be empty");
        let first = marker[0];
        assert!(first.is_ascii() && !first.is_ascii_uppercase(), "bot markers must be lowercase ASCII");
        assert!(first >= previous, "bot markers must be sorted");
        let mut j = 0;
        while j < marker.len() {
            assert!(!marker[j].is_ascii_uppercase(), "bot markers must be lowercase");
            j += 1;
        }
        let slot = first as usize;
        if index[slot].1 == 0 {
            index[slot].0 = i;
        }
        index[slot].1 = i + 1;
        previous = first;
        i += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_descriptions_equal_fresh_ones_and_the_cache_stays_bounded() {
        let mut cache = DescriptionCache::new(3);
        let agents = [PEOPLE[0].0, PEOPLE[4].0, "curl/8.5.0", "", PEOPLE[0].0, "curl/8.5.0", PEOPLE[7].0];
        for _ in 0..3 {
            for agent in agents {
                assert_eq!(cache.describe(agent), describe_unless_bot_uncached(agent), "{agent}");
                assert_eq!(describe_unless_bot(agent), describe_unless_bot_uncached(agent), "{agent}");
                assert!(cache.known.len() <= 3);
            }
        }
    }
    use DeviceClass::{Desktop, Mobile, Other, Tablet};

    /// Real user agents of browsers people use, with what must be kept of them.
    const PEOPLE: &[(&str, &str, &str, DeviceClass)] = &[
        // Chrome
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
            "Chrome",
            "Windows",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
            "Chrome",
            "macOS",
            Desktop,
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
            "Chrome",
            "Linux",
            Desktop,
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
            "Chrome",
            "ChromeOS",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36",
            "Chrome",
            "Android",
            Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36",
            "Chrome",
            "Android",
            Tablet,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/136.0.7103.56 Mobile/15E148 Safari/604.1",
            "Chrome",
            "iOS",
            Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 11; CUBOT P50) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Mobile Safari/537.36",
            "Chrome",
            "Android",
            Mobile,
        ),
        // Firefox
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:138.0) Gecko/20100101 Firefox/138.0",
            "Firefox",
            "Windows",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:138.0) Gecko/20100101 Firefox/138.0",
            "Firefox",
            "macOS",
            Desktop,
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:138.0) Gecko/20100101 Firefox/138.0",
            "Firefox",
            "Linux",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Android 15; Mobile; rv:138.0) Gecko/138.0 Firefox/138.0",
            "Firefox",
            "Android",
            Mobile,
        ),
        (
            "Mozilla/5.0 (Android 15; Tablet; rv:138.0) Gecko/138.0 Firefox/138.0",
            "Firefox",
            "Android",
            Tablet,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/138.0 Mobile/15E148 Safari/605.1.15",
            "Firefox",
            "iOS",
            Mobile,
        ),
        // Safari
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Safari/605.1.15",
            "Safari",
            "macOS",
            Desktop,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Mobile/15E148 Safari/604.1",
            "Safari",
            "iOS",
            Mobile,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Mobile/15E148 Safari/604.1",
            "Safari",
            "iOS",
            Tablet,
        ),
        // Edge
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Edg/136.0.0.0",
            "Edge",
            "Windows",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Edg/136.0.0.0",
            "Edge",
            "macOS",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36 EdgA/136.0.0.0",
            "Edge",
            "Android",
            Mobile,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/136.3240.91 Mobile/15E148 Safari/605.1.15",
            "Edge",
            "iOS",
            Mobile,
        ),
        // Others people use
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36 OPR/119.0.0.0",
            "Opera",
            "Windows",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
            "Samsung Internet",
            "Android",
            Mobile,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 YaBrowser/25.4.0.0 Safari/537.36",
            "Yandex Browser",
            "Windows",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36 Vivaldi/7.3.3635.12",
            "Vivaldi",
            "Windows",
            Desktop,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36",
            "Webview",
            "Android",
            Mobile,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 339.0.3.12.91 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 622143223)",
            "Webview",
            "iOS",
            Mobile,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/466.0.0.43.106;FBBV/652436372;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
            "Webview",
            "iOS",
            Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile DuckDuckGo/5 Safari/537.36",
            "Chrome",
            "Android",
            Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/128.1.2 like Chrome/128.0.6613.187 Safari/537.36",
            "Chrome",
            "Android",
            Tablet,
        ),
        (
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
            "Safari",
            "Other",
            Other,
        ),
        (
            "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
            "Internet Explorer",
            "Windows",
            Desktop,
        ),
    ];

    /// Real user agents of automated clients.
    const BOTS: &[&str] = &[
        "",
        "-",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.7103.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
        "curl/8.5.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/136.0.0.0 Safari/537.36",
        "python-requests/2.32.3",
        "Python-urllib/3.12",
        "Wget/1.21.4",
        "Go-http-client/2.0",
        "okhttp/4.12.0",
        "axios/1.7.2",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "Java/17.0.2",
        "Apache-HttpClient/4.5.14 (Java/17.0.8)",
        "Scrapy/2.11.2 (+https://scrapy.org)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Cypress/13.6.0",
        "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
        "Mozilla/5.0 (compatible; Yeti/1.1; +https://naver.me/spd)",
        "Apple-PubSub/65.28",
    ];

    #[test]
    fn people_are_described_by_family_os_and_device() {
        for (user_agent, browser, os, device) in PEOPLE {
            let want = ClientInfo { browser, os, device: *device };
            assert_eq!(describe_client(user_agent), want, "user agent {user_agent:?}");
            assert_eq!(describe_unless_bot(user_agent), Some(want), "user agent {user_agent:?}");
        }
    }

    #[test]
    fn people_are_not_bots() {
        for (user_agent, ..) in PEOPLE {
            assert!(!is_bot(user_agent), "flagged as bot: {user_agent:?}");
        }
    }

    #[test]
    fn bots_are_bots() {
        for user_agent in BOTS {
            assert!(is_bot(user_agent), "not flagged as bot: {user_agent:?}");
            assert_eq!(describe_unless_bot(user_agent), None, "user agent {user_agent:?}");
        }
    }

    #[test]
    fn woothee_crawlers_without_a_marker_are_bots() {
        let user_agent = "Apple-PubSub/65.28";
        assert!(!has_bot_marker(user_agent));
        assert!(is_bot(user_agent));
    }

    #[test]
    fn markers_match_ignoring_case_anywhere_but_not_inside_cubot() {
        assert!(has_bot_marker("SOMETHING-BOT"));
        assert!(has_bot_marker("xx HeAdLeSs"));
        assert!(has_bot_marker("bot"));
        assert!(!has_bot_marker("Cubot"));
        assert!(has_bot_marker("Cubot robot"));
        assert!(!has_bot_marker("bo"));
        assert!(!has_bot_marker("ünïcödé ✓ Mozilla"));
    }

    #[test]
    fn unknown_agents_are_other() {
        let got = describe_client("SomethingNew/1.0");
        assert_eq!(got, ClientInfo { browser: "Other", os: "Other", device: Other });
        assert!(!is_bot("SomethingNew/1.0"));
    }

    #[test]
    fn nothing_of_the_raw_agent_is_kept_beyond_the_families() {
        let user_agent = "Mozilla/5.0 (Linux; Android 14; SM-S921B Build/UP1A.231005.007) AppleWebKit/537.36 \
                          (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36";
        let got = describe_client(user_agent);
        for kept in [&got.browser, &got.os] {
            assert!(!kept.contains(|c: char| c.is_ascii_digit()), "version leaked: {kept}");
            assert!(!kept.contains("SM-"), "device model leaked: {kept}");
        }
    }

    #[test]
    fn device_names_are_stable() {
        let names: Vec<&str> = [Desktop, Mobile, Tablet, Other].into_iter().map(DeviceClass::as_str).collect();
        assert_eq!(names, ["desktop", "mobile", "tablet", "other"]);
    }

    #[test]
    fn markers_are_sorted_and_unique() {
        for pair in BOT_MARKERS.windows(2) {
            assert!(pair[0] < pair[1], "{} must sort before {}", pair[0], pair[1]);
        }
    }
}
