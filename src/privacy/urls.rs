//! URL reduction (privacy rule 3): what is left of a page URL or a referrer before it
//! is stored.
//!
//! A page URL keeps its host and path plus the five `utm_*` campaign parameters; a
//! referrer keeps its host and path. Everything else (scheme, userinfo, port, the rest of
//! the query, the fragment) is dropped here, so nothing downstream can store it by
//! accident. The collector calls [`reduce_page_url`] and [`reduce_referrer`] per event;
//! [`host_belongs_to`] backs the site origin check and the "internal" source class in
//! `super::source`. Error messages never repeat the input, because a URL may carry
//! personal data in its query.

use url::Url;

use super::redact;

/// Longest raw URL, in bytes, that is parsed at all. Longer input is rejected as a page
/// URL and ignored as a referrer, which bounds the work and the stored path per event.
pub const MAX_URL_LEN: usize = 16 * 1024;

/// Longest `utm_*` value kept, in characters; longer values are cut on a char boundary.
pub const MAX_UTM_LEN: usize = 200;

/// A page URL reduced to what may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageUrl {
    /// Lowercase host without port, userinfo or trailing dot; IDN hosts in their
    /// punycode (`xn--`) form, IPv6 hosts in brackets.
    pub host: String,
    /// Path in the percent-encoded form the `url` crate gives, never empty ("/").
    pub path: String,
    /// Campaign parameters taken from the query.
    pub utm: Utm,
}

/// The `utm_*` campaign parameters of a page URL: decoded, trimmed, without control
/// characters, at most [`MAX_UTM_LEN`] characters each. An empty string means absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Utm {
    pub source: String,
    pub medium: String,
    pub campaign: String,
    pub term: String,
    pub content: String,
}

/// A referrer reduced to what may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// Lowercase host without port, userinfo or trailing dot.
    pub host: String,
    /// Path in percent-encoded form, never empty ("/"); no query, no fragment.
    pub path: String,
}

/// Why a page URL cannot be counted. The messages never contain the URL itself and
/// read as a predicate on it, for the caller to prefix with the field name
/// ("`url` must be an absolute http(s) URL ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL at all, relative, or with a malformed host or port.
    #[error("must be an absolute http(s) URL ({0}); send location.href")]
    Invalid(url::ParseError),
    /// A well-formed URL whose scheme is not http or https.
    #[error("must be an absolute http(s) URL; other schemes (file:, javascript:, data:, ...) are not counted")]
    NotHttp,
    /// Longer than [`MAX_URL_LEN`] bytes.
    #[error("must be at most {MAX_URL_LEN} bytes long; drop large query strings before sending")]
    TooLong,
}

/// Reduces a page URL to host, path and `utm_*` parameters.
///
/// # Errors
///
/// [`UrlError::TooLong`] for input over [`MAX_URL_LEN`] bytes, [`UrlError::Invalid`] when
/// `raw` is not an absolute URL, [`UrlError::NotHttp`] when its scheme is not http(s).
pub fn reduce_page_url(raw: &str) -> Result<PageUrl, UrlError> {
    match PlainUrl::read(raw) {
        Some(plain) => Ok(PageUrl { host: plain.host.to_owned(), path: path_of(plain.path), utm: utm_of(plain.query) }),
        None => parsed_page_url(raw),
    }
}

/// [`reduce_page_url`] through the URL parser, for what [`PlainUrl`] does not read.
fn parsed_page_url(raw: &str) -> Result<PageUrl, UrlError> {
    let url = parse_http(raw)?;
    Ok(PageUrl { host: host_of(&url), path: path_of(url.path()), utm: utm_of(url.query()) })
}

/// The `utm_*` parameters of a query.
fn utm_of(query: Option<&str>) -> Utm {
    let mut utm = Utm::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let Some(slot) = utm_slot(&mut utm, &key) else {
            continue;
        };
        // The first non-empty occurrence of a parameter wins.
        if slot.is_empty() {
            *slot = clean_utm_value(&value);
        }
    }
    utm
}

/// Reduces a referrer to host and path.
///
/// Returns `None` for an empty, oversized, invalid or non-http(s) referrer (for example
/// `android-app://...`), which the caller treats as "no referrer".
pub fn reduce_referrer(raw: &str) -> Option<Referrer> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match PlainUrl::read(raw) {
        Some(plain) => Some(Referrer { host: plain.host.to_owned(), path: path_of(plain.path) }),
        None => parsed_referrer(raw),
    }
}

/// [`reduce_referrer`] of a trimmed, non-empty referrer through the URL parser.
fn parsed_referrer(raw: &str) -> Option<Referrer> {
    let url = parse_http(raw).ok()?;
    Some(Referrer { host: host_of(&url), path: path_of(url.path()) })
}

/// A URL that needs no URL parser to read, as browsers send nearly all of them: `http://`
/// or `https://`, a lowercase DNS name ([`plain_host`]) with an optional port, then
/// a path, query and fragment of printable ASCII in which the parser changes nothing
/// this module keeps: no dot segments (`.`, `..`, `%2e`), no backslash, and in the path
/// and query none of the characters it percent-encodes. For these the parser gives the
/// same host, path and query (the tests compare the two); anything else takes the full
/// parse (two parses per event were 6% of the collector's CPU).
struct PlainUrl<'a> {
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> PlainUrl<'a> {
    fn read(raw: &'a str) -> Option<Self> {
        if raw.len() > MAX_URL_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let host = match authority.split_once(':') {
            Some((host, port)) => {
                let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
                (digits && !port.starts_with('0') && port.parse::<u16>().is_ok()).then_some(host)?
            }
            None => authority,
        };
        if !plain_host(host) {
            return None;
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let path_byte = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/%".contains(&b);
        let dot_segment = path.split('/').any(|segment| matches!(segment, "." | ".."));
        let encoded_dot = path.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'2' && w[2] | 0x20 == b'e');
        if !path.bytes().all(path_byte) || dot_segment || encoded_dot {
            return None;
        }
        if !query.unwrap_or("").bytes().all(|b| path_byte(b) || b == b'?') {
            return None;
        }
        Some(Self { host, path: if path.is_empty() { "/" } else { path }, query })
    }
}

/// The lowercase host of an origin (`scheme://host[:port]`, the `Origin` header) as the
/// URL parser reads it; an origin that does not parse is returned whole (and so matches no
/// site). Origins as browsers send nearly all of them are read without the parser
/// ([`PlainUrl`]; a URL parse per request was 2% of the collector's CPU).
pub fn host_of_origin(origin: &str) -> String {
    if let Some(plain) = PlainUrl::read(origin) {
        return plain.host.to_string();
    }
    url::Url::parse(origin)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_else(|| origin.to_string())
}

/// A host the URL parser returns as it is: non-empty labels of lowercase ASCII letters,
/// digits and `-`, none starting with `xn--` (punycode, which the parser validates), no
/// trailing dot, and a last label that is not a number (which it would read as an IPv4
/// address).
fn plain_host(host: &str) -> bool {
    let plain_label = |label: &str| {
        !label.is_empty()
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with("xn--")
    };
    let last = host.rsplit('.').next().unwrap_or("");
    let numeric = last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x");
    host.split('.').all(plain_label) && !numeric
}

/// Whether `host` is `domain` or one of its subdomains, ignoring ASCII case.
///
/// `domain` is expected in lowercase (site domains are stored that way); an empty
/// `domain` matches nothing. `"blog.example.com"` belongs to `"example.com"`,
/// `"notexample.com"` does not.
pub fn host_belongs_to(host: &str, domain: &str) -> bool {
    if domain.is_empty() || host.len() < domain.len() {
        return false;
    }
    let split = host.len() - domain.len();
    let (head, tail) = host.as_bytes().split_at(split);
    tail.eq_ignore_ascii_case(domain.as_bytes()) && (head.is_empty() || head.ends_with(b"."))
}

fn parse_http(raw: &str) -> Result<Url, UrlError> {
    if raw.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    let url = Url::parse(raw).map_err(UrlError::Invalid)?;
    match url.scheme() {
        // Special schemes always have a non-empty host once parsed; the check guards
        // against a future change in the url crate rather than a known input.
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" | "https" => Err(UrlError::Invalid(url::ParseError::EmptyHost)),
        _ => Err(UrlError::NotHttp),
    }
}

fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let host = host.strip_suffix('.').unwrap_or(host);
    // The url crate lowercases domains already (IDNA mapping); this keeps the promise
    // even for hosts it passes through verbatim.
    host.to_ascii_lowercase()
}

/// The stored form of a path: identifiers redacted, never empty.
fn path_of(path: &str) -> String {
    let path = redact::redact_path(path);
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.into_owned()
    }
}

fn utm_slot<'a>(utm: &'a mut Utm, key: &str) -> Option<&'a mut String> {
    let (prefix, name) = key.split_at_checked(4)?;
    if !prefix.eq_ignore_ascii_case("utm_") {
        return None;
    }
    let slot = if name.eq_ignore_ascii_case("source") {
        &mut utm.source
    } else if name.eq_ignore_ascii_case("medium") {
        &mut utm.medium
    } else if name.eq_ignore_ascii_case("campaign") {
        &mut utm.campaign
    } else if name.eq_ignore_ascii_case("term") {
        &mut utm.term
    } else if name.eq_ignore_ascii_case("content") {
        &mut utm.content
    } else {
        return None;
    };
    Some(slot)
}

/// A `utm_*` value without control characters or surrounding whitespace, its
/// identifiers redacted, cut to [`MAX_UTM_LEN`] characters. The cut comes after the
/// redaction, so it cannot leave half an address that no rule recognises.
fn clean_utm_value(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    let mut clean: String = redact::redact_text(clean.trim()).chars().take(MAX_UTM_LEN).collect();
    // Cutting at the limit can expose whitespace.
    clean.truncate(clean.trim_end().len());
    clean
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_referrers_and_campaigns_go_through_redaction() {
        let got = reduce_page_url(
            "https://example.com/users/alice.b@example.org/edit;jsessionid=A1B2?utm_content=bob%40mail.example.net\
             &utm_campaign=call%20%2B44%2020%207946%200958&utm_term=order-4242424242&utm_source=newsletter",
        )
        .unwrap();
        assert_eq!(got.path, "/users/[email]/edit");
        assert_eq!(got.utm.content, "[email]");
        assert_eq!(got.utm.campaign, "call [phone]");
        assert_eq!(got.utm.term, "order-[id]");
        assert_eq!(got.utm.source, "newsletter");
        assert_eq!(
            reduce_referrer("https://mail.example.org/inbox/alice%40example.org").unwrap().path,
            "/inbox/[email]"
        );
        assert_eq!(reduce_referrer("https://example.com/;jsessionid=A1B2").unwrap().path, "/");
        // Handles and at-signs that are not addresses stay.
        assert_eq!(reduce_page_url("https://example.com/@jane/posts").unwrap().path, "/@jane/posts");
        assert_eq!(reduce_page_url("https://example.com/a@b").unwrap().path, "/a@b");
    }

    #[test]
    fn a_utm_value_is_redacted_before_it_is_cut() {
        // Cut first, the address would lose its top-level domain and survive as text.
        let value = format!("{}jane.doe@example.org", "a ".repeat(MAX_UTM_LEN / 2 - 5));
        let got = reduce_page_url(&format!("https://e.com/?utm_term={value}")).unwrap();
        assert_eq!(got.utm.term, format!("{}[email]", "a ".repeat(MAX_UTM_LEN / 2 - 5)));
    }

    fn page(host: &str, path: &str) -> PageUrl {
        PageUrl { host: host.to_owned(), path: path.to_owned(), utm: Utm::default() }
    }

    #[test]
    fn page_urls_keep_host_path_and_utm_only() {
        let cases: &[(&str, PageUrl)] = &[
            ("https://example.com", page("example.com", "/")),
            ("https://example.com/", page("example.com", "/")),
            ("http://example.com/blog/post-1", page("example.com", "/blog/post-1")),
            ("https://example.com/a?fbclid=IwAR123&gclid=Cj0KCQ&email=jane%40example.org", page("example.com", "/a")),
            ("https://example.com/a#section-2", page("example.com", "/a")),
            ("https://example.com/a?#", page("example.com", "/a")),
            ("https://example.com:8443/a", page("example.com", "/a")),
            ("https://jane:secret@example.com/a", page("example.com", "/a")),
            ("https://jane@example.com:80/a", page("example.com", "/a")),
            ("HTTPS://WWW.Example.COM/About", page("www.example.com", "/About")),
            ("https://example.com./a", page("example.com", "/a")),
            ("https://bücher.example/über", page("xn--bcher-kva.example", "/%C3%BCber")),
            ("https://example.com/a b", page("example.com", "/a%20b")),
            ("https://example.com/x/../y/./z", page("example.com", "/y/z")),
            ("https://example.com/@jane", page("example.com", "/@jane")),
            ("https://192.168.0.1:3000/", page("192.168.0.1", "/")),
            ("http://[::1]:8080/dev", page("[::1]", "/dev")),
            ("  https://example.com/trimmed  ", page("example.com", "/trimmed")),
        ];
        for (raw, want) in cases {
            assert_eq!(reduce_page_url(raw).as_ref(), Ok(want), "input {raw:?}");
        }
    }

    #[test]
    fn utm_parameters_are_decoded_trimmed_and_kept() {
        let got = reduce_page_url(
            "https://example.com/p?utm_source=news+letter&utm_medium=%20email%20&utm_campaign=spring%2F2025\
             &utm_term=caf%C3%A9&utm_content=hero&utm_id=42&ref=abc&fbclid=x#top",
        )
        .unwrap();
        assert_eq!(got.host, "example.com");
        assert_eq!(got.path, "/p");
        assert_eq!(
            got.utm,
            Utm {
                source: "news letter".to_owned(),
                medium: "email".to_owned(),
                campaign: "spring/2025".to_owned(),
                term: "café".to_owned(),
                content: "hero".to_owned(),
            }
        );
    }

    #[test]
    fn utm_keys_match_any_case_and_first_non_empty_wins() {
        let got = reduce_page_url("https://e.com/?UTM_Source=&utm_source=a&utm_source=b").unwrap();
        assert_eq!(got.utm.source, "a");
    }

    #[test]
    fn utm_values_are_truncated_on_a_char_boundary_without_control_chars() {
        let long = "é".repeat(300);
        let got = reduce_page_url(&format!("https://e.com/?utm_campaign={long}&utm_term=a%0Ab%00c")).unwrap();
        assert_eq!(got.utm.campaign, "é".repeat(MAX_UTM_LEN));
        assert_eq!(got.utm.term, "abc");
    }

    #[test]
    fn non_http_or_relative_page_urls_are_rejected() {
        let cases: &[(&str, UrlError)] = &[
            ("javascript:alert(1)", UrlError::NotHttp),
            ("file:///etc/passwd", UrlError::NotHttp),
            ("ftp://example.com/a", UrlError::NotHttp),
            ("data:text/html,hi", UrlError::NotHttp),
            ("/relative/path", UrlError::Invalid(url::ParseError::RelativeUrlWithoutBase)),
            ("example.com/a", UrlError::Invalid(url::ParseError::RelativeUrlWithoutBase)),
            ("", UrlError::Invalid(url::ParseError::RelativeUrlWithoutBase)),
            ("https://", UrlError::Invalid(url::ParseError::EmptyHost)),
            ("https://exa mple.com/", UrlError::Invalid(url::ParseError::IdnaError)),
            ("https://example.com:99999/", UrlError::Invalid(url::ParseError::InvalidPort)),
        ];
        for (raw, want) in cases {
            assert_eq!(reduce_page_url(raw), Err(*want), "input {raw:?}");
        }
        let huge = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(reduce_page_url(&huge), Err(UrlError::TooLong));
    }

    #[test]
    fn error_messages_say_what_is_wrong_without_echoing_input() {
        let err = reduce_page_url("/private?email=jane@example.org").unwrap_err();
        assert_eq!(
            err.to_string(),
            "must be an absolute http(s) URL (relative URL without a base); send location.href"
        );
        assert!(UrlError::NotHttp.to_string().starts_with("must be an absolute http(s) URL; "));
        assert_eq!(
            UrlError::TooLong.to_string(),
            "must be at most 16384 bytes long; drop large query strings before sending"
        );
    }

    #[test]
    fn referrers_keep_host_and_path_only() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("https://www.google.com/", Some(("www.google.com", "/"))),
            ("https://www.google.com", Some(("www.google.com", "/"))),
            ("https://User:Pw@News.YCombinator.com:443/item?id=123#c", Some(("news.ycombinator.com", "/item"))),
            ("http://blog.example.com/post?utm_source=x", Some(("blog.example.com", "/post"))),
            ("", None),
            ("   ", None),
            ("not a url", None),
            ("/relative", None),
            ("android-app://com.google.android.gm/", None),
            ("javascript:void(0)", None),
        ];
        for (raw, want) in cases {
            let got = reduce_referrer(raw);
            let got = got.as_ref().map(|r| (r.host.as_str(), r.path.as_str()));
            assert_eq!(got, *want, "input {raw:?}");
        }
    }

    #[test]
    fn host_belongs_to_matches_domain_and_subdomains_only() {
        let cases: &[(&str, &str, bool)] = &[
            ("example.com", "example.com", true),
            ("www.example.com", "example.com", true),
            ("a.b.example.com", "example.com", true),
            ("WWW.EXAMPLE.COM", "example.com", true),
            ("notexample.com", "example.com", false),
            ("example.com.evil.net", "example.com", false),
            ("example.co", "example.com", false),
            ("com", "example.com", false),
            (".example.com", "example.com", true),
            ("example.com", "", false),
            ("", "", false),
        ];
        for (host, domain, want) in cases {
            assert_eq!(host_belongs_to(host, domain), *want, "{host:?} in {domain:?}");
        }
    }

    /// What the URL parser gives for a page URL: `reduce_page_url` without its fast path.
    use super::parsed_page_url as parsed_page;

    /// What the URL parser gives for a referrer, trimmed as `reduce_referrer` trims it.
    fn parsed_referrer(raw: &str) -> Option<Referrer> {
        super::parsed_referrer(raw.trim())
    }

    #[test]
    fn plain_urls_are_read_without_the_parser_and_agree_with_it() {
        let plain = [
            "https://example.com",
            "https://example.com/",
            "http://blog.example.com:8080/a/b-c_d~e/?utm_source=news+letter&utm_medium=e%2Fmail&x=1#top",
            "https://s1-7963d917.load.test/blog/page-12?utm_source=newsletter&utm_medium=email",
            "https://www.google.com/",
            "https://example.com?utm_campaign=a?b",
            "https://example.com/users/alice@example.org/%40x;y=1,2",
        ];
        for raw in plain {
            assert!(PlainUrl::read(raw).is_some(), "{raw}");
            assert_eq!(reduce_page_url(raw), parsed_page(raw), "{raw}");
            assert_eq!(reduce_referrer(raw), parsed_referrer(raw), "{raw}");
        }
        let parsed = [
            "HTTPS://example.com/",
            "https://Example.com/",
            "https://example.com./",
            "https://xn--bcher-kva.example/",
            "https://127.0.0.1/",
            "https://example.0x7f/",
            "https://[::1]/",
            "https://jane@example.com/",
            "https://example.com:/",
            "https://example.com:0443/",
            "https://example.com:99999/",
            "https://example.com/a/../b",
            "https://example.com/a/%2E%2e/b",
            "https://example.com/a b",
            "https://example.com/a\\b",
            "https://example.com/{x}",
            "https://example.com/?q='x'",
            "https:///example.com/",
            " https://example.com/",
            "https://ex ample.com/",
        ];
        for raw in parsed {
            assert!(PlainUrl::read(raw).is_none(), "{raw}");
            assert_eq!(reduce_page_url(raw), parsed_page(raw), "{raw}");
        }
    }

    fn host_strategy() -> impl Strategy<Value = String> {
        // Labels that would read as punycode ("xn--...") are left out: most are not
        // valid IDNA, and the url crate rightly refuses them.
        prop_oneof![
            "[a-w]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-z][a-z0-9]{0,10}){0,3}\\.[a-z]{2,6}",
            "[A-Z][A-Za-z0-9]{0,8}\\.[A-Za-z]{2,4}",
            "(b\u{fc}cher|m\u{fc}nchen|\u{4f8b}\u{3048})\\.[a-z]{2,4}",
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}",
        ]
    }

    fn path_strategy() -> impl Strategy<Value = String> {
        // Path characters include '@', '%', ';', spaces and non-ASCII, but not '?' or
        // '#', which would start the query or fragment.
        "(/[a-zA-Z0-9._~!$&'()*+,;=:@% \u{e9}\u{4e2d}-]{0,12}){0,4}"
    }

    #[test]
    fn dropping_matrix_parameters_never_leaves_a_dot_segment() {
        for (raw, path) in [
            ("https://a.aa/.;?a=", "/"),
            ("https://a.aa/x/..;v=1/z", "/x/z"),
            ("https://a.aa/x/%2E;jsessionid=1", "/x/"),
        ] {
            let first = reduce_page_url(raw).unwrap();
            assert_eq!(first.path, path, "{raw}");
            assert_eq!(reduce_page_url(&format!("https://a.aa{path}")).unwrap().path, path, "{raw} again");
        }
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_url_parser(
            raw in "(https?|HTTP|ftp)://([a-zA-Z0-9@_-]{0,6}\\.){0,3}[a-zA-Z0-9x-]{0,6}(:[0-9]{0,6})?\
                    (/[a-zA-Z0-9%.@~!$&'()*+,;=:_ \\\\^|{}<>\"`\\[\\]-]{0,8}){0,4}\
                    (\\?[a-zA-Z0-9_=&%+.?/@' -]{0,16})?(#[a-zA-Z0-9?#/ ]{0,6})?"
        ) {
            prop_assert_eq!(reduce_page_url(&raw), parsed_page(&raw));
            prop_assert_eq!(reduce_referrer(&raw), parsed_referrer(&raw));
        }

        #[test]
        fn the_fast_path_agrees_with_the_url_parser_on_plain_looking_urls(
            raw in "https?://([a-z0-9-]{1,5}\\.){0,2}[a-z0-9x-]{1,5}(:[0-9]{1,5})?\
                    (/[a-z0-9%.@~!$&()*+,;=:_E-]{0,6}){0,4}(\\?[a-z0-9_=&%+.?/@-]{0,20})?(#[a-z?#/]{0,4})?"
        ) {
            prop_assert_eq!(reduce_page_url(&raw), parsed_page(&raw));
            prop_assert_eq!(reduce_referrer(&raw), parsed_referrer(&raw));
        }

        #[test]
        fn reduced_page_never_leaks_query_fragment_or_userinfo(
            user in "[a-z]{1,8}",
            password in "[a-z0-9]{0,8}",
            host in host_strategy(),
            port in proptest::option::of(1u16..),
            path in path_strategy(),
            query in proptest::collection::vec(("[a-z_]{1,10}", "[a-zA-Z0-9@#?&=%+ ]{0,10}"), 0..5),
            fragment in proptest::option::of("[a-zA-Z0-9@?#/]{0,10}"),
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace('#', "%23").replace('&', "%26")))
                .collect();
            let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
            let raw = format!("https://{user}:{password}@{host}{port}{path}?{}{fragment}", query.join("&"));
            let got = reduce_page_url(&raw).unwrap();
            prop_assert!(!got.host.contains(['?', '#', '@', ':']), "host {:?}", got.host);
            prop_assert!(!got.path.contains(['?', '#']), "path {:?}", got.path);
            // '@' is legal in a path ("/@jane"); it may only come from the input path.
            prop_assert!(!got.path.contains('@') || path.contains('@'), "path {:?}", got.path);
            prop_assert!(got.path.starts_with('/'));
            prop_assert_eq!(got.utm, Utm::default());
        }

        #[test]
        fn no_query_key_or_value_other_than_utm_survives(
            host in host_strategy(),
            pairs in proptest::collection::vec(
                prop_oneof![
                    // Letters only: a run of six digits would be redacted to `[id]`.
                    ("utm_(source|medium|campaign|term|content)", "[a-z]{1,8}"),
                    // Uppercase keys and values cannot occur in the lowercase host, the
                    // path "/page" or the lowercase utm values, so any hit is a leak.
                    ("[A-Z][A-Z_]{2,9}".prop_filter("not utm", |k| !k.starts_with("UTM_")), "[A-Z]{4,8}"),
                ],
                1..8,
            ),
        ) {
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let got = reduce_page_url(&format!("https://{host}/page?{}", query.join("&"))).unwrap();
            prop_assert_eq!(&got.path, "/page");
            let utm = &got.utm;
            let kept = [&utm.source, &utm.medium, &utm.campaign, &utm.term, &utm.content];
            for (key, value) in pairs.iter().filter(|(k, _)| !k.starts_with("utm_")) {
                for needle in [key, value] {
                    prop_assert!(!got.host.contains(needle.as_str()), "{needle} leaked: {got:?}");
                    prop_assert!(!got.path.contains(needle.as_str()), "{needle} leaked: {got:?}");
                    prop_assert!(!kept.iter().any(|v| v.contains(needle.as_str())), "{needle} leaked: {got:?}");
                }
            }
            for (name, slot) in ["source", "medium", "campaign", "term", "content"].into_iter().zip(kept) {
                let key = format!("utm_{name}");
                let first = pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
                prop_assert_eq!(slot.as_str(), first.unwrap_or(""));
            }
        }

        #[test]
        fn reduction_is_idempotent(
            host in host_strategy(),
            path in path_strategy(),
            query in "[a-z]{1,5}=[a-z]{0,5}",
        ) {
            let first = reduce_page_url(&format!("https://{host}{path}?{query}#frag")).unwrap();
            let again = reduce_page_url(&format!("https://{}{}", first.host, first.path)).unwrap();
            prop_assert_eq!(&again.host, &first.host);
            prop_assert_eq!(&again.path, &first.path);
            let referrer = reduce_referrer(&format!("https://{}{}", first.host, first.path)).unwrap();
            prop_assert_eq!(referrer.host, first.host);
            prop_assert_eq!(referrer.path, first.path);
        }
    }

    /// What `host_of_origin` returns without its fast path: the URL parser's answer.
    fn parsed_origin_host(origin: &str) -> String {
        url::Url::parse(origin)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| origin.to_string())
    }

    #[test]
    fn plain_origins_are_read_without_the_parser_and_the_rest_are_parsed() {
        let cases: &[(&str, bool, &str)] = &[
            ("https://example.com", true, "example.com"),
            ("https://Blog.Example.COM:8443", false, "blog.example.com"),
            ("http://localhost:3000", true, "localhost"),
            ("https://s1-7963d917.load.test", true, "s1-7963d917.load.test"),
            ("https://127.0.0.1:8080", false, "127.0.0.1"),
            ("http://0x7f.1", false, "127.0.0.1"),
            ("https://[::1]:443", false, "[::1]"),
            ("https://xn--bcher-kva.example", false, "xn--bcher-kva.example"),
            ("https://example.com.", false, "example.com."),
            ("https://example.com:0443", false, "example.com"),
            ("https://example.com:70000", false, "https://example.com:70000"),
            ("HTTPS://EXAMPLE.COM", false, "example.com"),
            ("android-app://com.example", false, "com.example"),
            ("not an origin", false, "not an origin"),
        ];
        for (origin, plain, host) in cases {
            assert_eq!(PlainUrl::read(origin).is_some(), *plain, "{origin}");
            assert_eq!(host_of_origin(origin), *host, "{origin}");
            assert_eq!(host_of_origin(origin), parsed_origin_host(origin), "{origin}");
        }
    }

    proptest! {
        #[test]
        fn the_origin_fast_path_agrees_with_the_url_parser(
            origin in "(https?|HTTP|ftp)://([a-zA-Z0-9-]{0,6}\\.){0,3}[a-zA-Z0-9-]{0,6}(:[0-9+]{0,6})?(/x)?"
        ) {
            prop_assert_eq!(host_of_origin(&origin), parsed_origin_host(&origin));
        }
    }
}
