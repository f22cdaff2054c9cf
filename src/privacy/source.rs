//! Traffic source classes: how a visitor arrived (direct, an internal link, a search
//! engine, a social network, or anything else), for the `sources` and
//! `content-discovery` reports.
//!
//! The input is what `super::urls` kept: the referrer's host (already reduced) and the
//! page's `utm_source`. Matching runs per event, so it borrows its input and compares
//! ASCII case-insensitively against static tables without allocating: `KNOWN_HOSTS`
//! matches a host or any of its parent domains ("m.facebook.com" via "facebook.com"),
//! and `BRANDS` matches a brand label under any country TLD ("www.google.co.uk").

use std::cmp::Ordering;

use super::urls::host_belongs_to;

/// How a visitor arrived at a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceClass {
    /// No referrer and no campaign.
    Direct,
    /// A link on the site itself (the referrer host is the site's domain or a subdomain).
    Internal,
    /// A web search engine.
    Search,
    /// A social network, link aggregator or messenger.
    Social,
    /// Any other referrer or campaign (newsletters, blogs, partners, ...).
    Other,
}

impl SourceClass {
    /// Every class's stored and reported name, in the order of the enum.
    pub const NAMES: [&'static str; 5] = [
        Self::Direct.as_str(),
        Self::Internal.as_str(),
        Self::Search.as_str(),
        Self::Social.as_str(),
        Self::Other.as_str(),
    ];

    /// The stored and reported name: "direct", "internal", "search", "social", "other".
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceClass::Direct => "direct",
            SourceClass::Internal => "internal",
            SourceClass::Search => "search",
            SourceClass::Social => "social",
            SourceClass::Other => "other",
        }
    }
}

/// Classifies a visit by its referrer host, falling back to `utm_source`.
///
/// In order: an empty `referrer_host` is classified by `utm_source` alone (empty:
/// [`SourceClass::Direct`]; a known search or social name such as "google" or
/// "facebook", or such a domain: that class; anything else, such as "newsletter":
/// [`SourceClass::Other`]). A referrer host that belongs to `site_domain` (given in
/// lowercase; a leading "www." on it is ignored) is [`SourceClass::Internal`]. Then
/// known search and social hosts; an unknown referrer host takes the class of a known
/// `utm_source` (a campaign link opened from webmail still counts as "social" when
/// tagged so), else [`SourceClass::Other`].
pub fn classify_source(referrer_host: &str, site_domain: &str, utm_source: &str) -> SourceClass {
    let host = trim_host(referrer_host);
    let utm_source = utm_source.trim();
    if host.is_empty() {
        return classify_utm_source(utm_source).unwrap_or(SourceClass::Direct);
    }
    let site = site_domain.strip_prefix("www.").unwrap_or(site_domain);
    if host_belongs_to(host, site) {
        return SourceClass::Internal;
    }
    if let Some(class) = classify_host(host) {
        return class;
    }
    match classify_utm_source(utm_source) {
        Some(class @ (SourceClass::Search | SourceClass::Social)) => class,
        _ => SourceClass::Other,
    }
}

/// Search and social hosts, matched as the host itself or a parent domain of it.
/// Lowercase and sorted bytewise (a test checks), for binary search.
const KNOWN_HOSTS: &[(&str, SourceClass)] = &[
    ("ask.com", SourceClass::Search),
    ("baidu.com", SourceClass::Search),
    ("bing.com", SourceClass::Search),
    ("bsky.app", SourceClass::Social),
    ("chaos.social", SourceClass::Social),
    ("coccoc.com", SourceClass::Search),
    ("digg.com", SourceClass::Social),
    ("discord.com", SourceClass::Social),
    ("discordapp.com", SourceClass::Social),
    ("dogpile.com", SourceClass::Search),
    ("douban.com", SourceClass::Social),
    ("duckduckgo.com", SourceClass::Search),
    ("ecosia.org", SourceClass::Search),
    ("facebook.com", SourceClass::Social),
    ("fb.com", SourceClass::Social),
    ("fb.me", SourceClass::Social),
    ("flipboard.com", SourceClass::Social),
    ("fosstodon.org", SourceClass::Social),
    ("hachyderm.io", SourceClass::Social),
    ("infosec.exchange", SourceClass::Social),
    ("instagram.com", SourceClass::Social),
    ("kagi.com", SourceClass::Search),
    ("lemmy.world", SourceClass::Social),
    ("line.me", SourceClass::Social),
    ("linkedin.com", SourceClass::Social),
    ("lnkd.in", SourceClass::Social),
    ("lobste.rs", SourceClass::Social),
    ("mas.to", SourceClass::Social),
    ("mastodon.art", SourceClass::Social),
    ("mastodon.online", SourceClass::Social),
    ("mastodon.social", SourceClass::Social),
    ("mastodon.world", SourceClass::Social),
    ("messenger.com", SourceClass::Social),
    ("metager.de", SourceClass::Search),
    ("metager.org", SourceClass::Search),
    ("mojeek.com", SourceClass::Search),
    ("mstdn.jp", SourceClass::Social),
    ("mstdn.social", SourceClass::Social),
    ("news.ycombinator.com", SourceClass::Social),
    ("nextdoor.com", SourceClass::Social),
    ("ok.ru", SourceClass::Social),
    ("perplexity.ai", SourceClass::Search),
    ("petalsearch.com", SourceClass::Search),
    ("pin.it", SourceClass::Social),
    ("presearch.com", SourceClass::Search),
    ("producthunt.com", SourceClass::Social),
    ("quora.com", SourceClass::Social),
    ("qwant.com", SourceClass::Search),
    ("redd.it", SourceClass::Social),
    ("reddit.com", SourceClass::Social),
    ("search.aol.com", SourceClass::Search),
    ("search.brave.com", SourceClass::Search),
    ("search.daum.net", SourceClass::Search),
    ("search.lycos.com", SourceClass::Search),
    ("search.naver.com", SourceClass::Search),
    ("seznam.cz", SourceClass::Search),
    ("slashdot.org", SourceClass::Social),
    ("sm.cn", SourceClass::Search),
    ("snapchat.com", SourceClass::Social),
    ("so.com", SourceClass::Search),
    ("sogou.com", SourceClass::Search),
    ("startpage.com", SourceClass::Search),
    ("swisscows.com", SourceClass::Search),
    ("t.cn", SourceClass::Social),
    ("t.co", SourceClass::Social),
    ("t.me", SourceClass::Social),
    ("techhub.social", SourceClass::Social),
    ("threads.com", SourceClass::Social),
    ("threads.net", SourceClass::Social),
    ("tiktok.com", SourceClass::Social),
    ("tildes.net", SourceClass::Social),
    ("toot.community", SourceClass::Social),
    ("tumblr.com", SourceClass::Social),
    ("twitch.tv", SourceClass::Social),
    ("twitter.com", SourceClass::Social),
    ("universeodon.com", SourceClass::Social),
    ("vk.com", SourceClass::Social),
    ("vk.ru", SourceClass::Social),
    ("web.telegram.org", SourceClass::Social),
    ("web.whatsapp.com", SourceClass::Social),
    ("weibo.cn", SourceClass::Social),
    ("weibo.com", SourceClass::Social),
    ("x.com", SourceClass::Social),
    ("xing.com", SourceClass::Social),
    ("ya.ru", SourceClass::Search),
    ("yep.com", SourceClass::Search),
    ("you.com", SourceClass::Search),
    ("youtu.be", SourceClass::Social),
    ("youtube.com", SourceClass::Social),
    ("zhihu.com", SourceClass::Social),
];

/// A brand matched under any country TLD ("google.de", "google.co.uk",
/// "google.com.br"): the label, its class, and the labels allowed right before it (none
/// at all is always allowed; an empty list allows any), so that "mail.google.com" or
/// "mail.yandex.ru" are not counted as search.
struct Brand {
    label: &'static str,
    class: SourceClass,
    subdomains: &'static [&'static str],
}

const BRANDS: &[Brand] = &[
    Brand {
        label: "google",
        class: SourceClass::Search,
        subdomains: &["www", "m", "images", "news", "scholar", "encrypted", "ipv4", "ipv6"],
    },
    Brand { label: "yahoo", class: SourceClass::Search, subdomains: &["www", "m", "search"] },
    Brand { label: "yandex", class: SourceClass::Search, subdomains: &["www", "m"] },
    Brand { label: "pinterest", class: SourceClass::Social, subdomains: &[] },
];

/// Second-level labels under which country TLDs register names ("co.uk", "com.au").
const COUNTRY_SECOND_LEVELS: &[&str] = &["ac", "co", "com", "go", "ne", "net", "or", "org"];

/// `utm_source` values that name a search engine (compared ignoring ASCII case).
const SEARCH_UTM_SOURCES: &[&str] = &[
    "ask",
    "baidu",
    "bing",
    "brave",
    "ddg",
    "duckduckgo",
    "ecosia",
    "google",
    "kagi",
    "naver",
    "perplexity",
    "qwant",
    "seznam",
    "startpage",
    "yahoo",
    "yandex",
];

/// `utm_source` values that name a social network or messenger (ignoring ASCII case).
const SOCIAL_UTM_SOURCES: &[&str] = &[
    "bluesky",
    "bsky",
    "discord",
    "facebook",
    "fb",
    "hackernews",
    "hn",
    "ig",
    "instagram",
    "linkedin",
    "lobsters",
    "mastodon",
    "messenger",
    "meta",
    "pinterest",
    "quora",
    "reddit",
    "snapchat",
    "telegram",
    "threads",
    "tiktok",
    "tumblr",
    "twitter",
    "vk",
    "weibo",
    "whatsapp",
    "x",
    "xing",
    "youtube",
    "yt",
];

/// `None` for an empty value; a value containing a dot is classified as a host.
fn classify_utm_source(utm_source: &str) -> Option<SourceClass> {
    if utm_source.is_empty() {
        return None;
    }
    let is = |names: &[&str]| names.iter().any(|name| name.eq_ignore_ascii_case(utm_source));
    let class = if is(SEARCH_UTM_SOURCES) {
        SourceClass::Search
    } else if is(SOCIAL_UTM_SOURCES) {
        SourceClass::Social
    } else if utm_source.contains('.') {
        classify_host(trim_host(utm_source)).unwrap_or(SourceClass::Other)
    } else {
        SourceClass::Other
    };
    Some(class)
}

/// The class of a known search or social host, `None` for anything else.
fn classify_host(host: &str) -> Option<SourceClass> {
    // The host and each parent domain: "a.b.c", "b.c", "c".
    let mut suffix = host;
    loop {
        if let Ok(i) = KNOWN_HOSTS.binary_search_by(|(known, _)| cmp_lowercase(known, suffix)) {
            return Some(KNOWN_HOSTS[i].1);
        }
        match suffix.split_once('.') {
            Some((_, parent)) => suffix = parent,
            None => break,
        }
    }
    classify_brand(host)
}

fn classify_brand(host: &str) -> Option<SourceClass> {
    let mut previous: Option<&str> = None;
    let mut rest = host;
    while let Some((label, tail)) = rest.split_once('.') {
        for brand in BRANDS {
            if label.eq_ignore_ascii_case(brand.label)
                && is_country_tld(tail)
                && previous.is_none_or(|p| {
                    brand.subdomains.is_empty() || brand.subdomains.iter().any(|s| s.eq_ignore_ascii_case(p))
                })
            {
                return Some(brand.class);
            }
        }
        previous = Some(label);
        rest = tail;
    }
    None
}

/// "de", "com", "co.uk", "com.au": a TLD of 2–3 letters, optionally under a
/// second-level label from [`COUNTRY_SECOND_LEVELS`].
fn is_country_tld(tail: &str) -> bool {
    let is_tld = |label: &str| (2..=3).contains(&label.len()) && label.bytes().all(|b| b.is_ascii_alphabetic());
    match tail.split_once('.') {
        None => is_tld(tail),
        Some((second, top)) => {
            top.len() == 2 && is_tld(top) && COUNTRY_SECOND_LEVELS.iter().any(|s| s.eq_ignore_ascii_case(second))
        }
    }
}

/// Compares a lowercase table entry with `host` as if `host` were lowercase.
fn cmp_lowercase(known: &str, host: &str) -> Ordering {
    known.bytes().cmp(host.bytes().map(|b| b.to_ascii_lowercase()))
}

fn trim_host(host: &str) -> &str {
    let host = host.trim();
    host.strip_suffix('.').unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SourceClass::{Direct, Internal, Other, Search, Social};

    #[test]
    fn referrer_hosts_are_classified() {
        let cases: &[(&str, SourceClass)] = &[
            ("example.com", Internal),
            ("www.example.com", Internal),
            ("blog.example.com", Internal),
            ("WWW.EXAMPLE.COM", Internal),
            ("notexample.com", Other),
            ("google.com", Search),
            ("www.google.com", Search),
            ("www.google.co.uk", Search),
            ("www.google.com.br", Search),
            ("google.de", Search),
            ("news.google.com", Search),
            ("WWW.Google.COM", Search),
            ("www.google.com.", Search),
            ("mail.google.com", Other),
            ("docs.google.com", Other),
            ("google.evil.com", Other),
            ("google.com.evil.net", Other),
            ("mygoogle.com", Other),
            ("www.bing.com", Search),
            ("cn.bing.com", Search),
            ("duckduckgo.com", Search),
            ("html.duckduckgo.com", Search),
            ("search.yahoo.com", Search),
            ("uk.search.yahoo.com", Search),
            ("search.yahoo.co.jp", Search),
            ("mail.yahoo.com", Other),
            ("www.baidu.com", Search),
            ("yandex.ru", Search),
            ("yandex.com.tr", Search),
            ("mail.yandex.ru", Other),
            ("www.ecosia.org", Search),
            ("search.brave.com", Search),
            ("brave.com", Other),
            ("www.startpage.com", Search),
            ("www.qwant.com", Search),
            ("kagi.com", Search),
            ("m.search.naver.com", Search),
            ("blog.naver.com", Other),
            ("search.seznam.cz", Search),
            ("www.perplexity.ai", Search),
            ("facebook.com", Social),
            ("m.facebook.com", Social),
            ("l.facebook.com", Social),
            ("lm.facebook.com", Social),
            ("fb.com", Social),
            ("t.co", Social),
            ("twitter.com", Social),
            ("mobile.twitter.com", Social),
            ("x.com", Social),
            ("max.com", Other),
            ("www.linkedin.com", Social),
            ("lnkd.in", Social),
            ("old.reddit.com", Social),
            ("out.reddit.com", Social),
            ("l.instagram.com", Social),
            ("m.youtube.com", Social),
            ("youtu.be", Social),
            ("www.pinterest.com", Social),
            ("pinterest.co.uk", Social),
            ("www.tiktok.com", Social),
            ("mastodon.social", Social),
            ("fosstodon.org", Social),
            ("bsky.app", Social),
            ("www.threads.net", Social),
            ("news.ycombinator.com", Social),
            ("ycombinator.com", Other),
            ("vk.com", Social),
            ("weibo.com", Social),
            ("github.com", Other),
            ("en.wikipedia.org", Other),
            ("co.uk", Other),
            ("com", Other),
        ];
        for (host, want) in cases {
            assert_eq!(classify_source(host, "example.com", ""), *want, "referrer {host:?}");
        }
    }

    #[test]
    fn without_a_referrer_utm_source_decides() {
        let cases: &[(&str, SourceClass)] = &[
            ("", Direct),
            ("  ", Direct),
            ("google", Search),
            ("Google", Search),
            ("bing", Search),
            ("duckduckgo", Search),
            ("facebook", Social),
            ("FB", Social),
            ("twitter", Social),
            ("linkedin", Social),
            ("reddit", Social),
            ("mastodon", Social),
            ("news.ycombinator.com", Social),
            ("www.google.com", Search),
            ("newsletter", Other),
            ("email", Other),
            ("partner.example.org", Other),
            ("googlemail", Other),
        ];
        for (utm_source, want) in cases {
            assert_eq!(classify_source("", "example.com", utm_source), *want, "utm_source {utm_source:?}");
        }
    }

    #[test]
    fn referrer_wins_over_utm_source_unless_unknown() {
        assert_eq!(classify_source("www.example.com", "example.com", "facebook"), Internal);
        assert_eq!(classify_source("www.bing.com", "example.com", "facebook"), Search);
        assert_eq!(classify_source("mail.google.com", "example.com", "facebook"), Social);
        assert_eq!(classify_source("mail.google.com", "example.com", "newsletter"), Other);
    }

    #[test]
    fn site_domain_with_www_covers_the_bare_domain() {
        assert_eq!(classify_source("example.com", "www.example.com", ""), Internal);
        assert_eq!(classify_source("shop.example.com", "www.example.com", ""), Internal);
        assert_eq!(classify_source("google.com", "", ""), Search);
        assert_eq!(classify_source("example.com", "", ""), Other);
    }

    #[test]
    fn a_site_on_a_known_host_sees_its_own_links_as_internal() {
        assert_eq!(classify_source("www.google.com", "google.com", ""), Internal);
    }

    #[test]
    fn names_are_stable() {
        let names: Vec<&str> = [Direct, Internal, Search, Social, Other].into_iter().map(SourceClass::as_str).collect();
        assert_eq!(names, ["direct", "internal", "search", "social", "other"]);
    }

    #[test]
    fn tables_are_lowercase_sorted_and_unique() {
        for pair in KNOWN_HOSTS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} must sort before {}", pair[0].0, pair[1].0);
        }
        let lists = [SEARCH_UTM_SOURCES, SOCIAL_UTM_SOURCES, COUNTRY_SECOND_LEVELS];
        let names = KNOWN_HOSTS.iter().map(|(h, _)| *h).chain(lists.into_iter().flatten().copied());
        for name in names.chain(BRANDS.iter().flat_map(|b| b.subdomains.iter().copied().chain([b.label]))) {
            assert_eq!(name, name.to_ascii_lowercase(), "table entries must be lowercase");
        }
        for name in SEARCH_UTM_SOURCES {
            assert!(!SOCIAL_UTM_SOURCES.contains(name), "{name} is in both utm lists");
        }
    }
}
