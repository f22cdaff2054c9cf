//! Login CSRF: which dashboard requests come from another site.
//!
//! A request is cross-site when it carries `Sec-Fetch-Site: cross-site`, or an `Origin`
//! that is not the collector's own: the host and port of the request's `Host` header
//! (a port left out is the default of the origin's scheme, so `https://stats.example.com`
//! matches `Host: stats.example.com`). An unreadable `Origin` is another site's, and so
//! is `Origin: null` (sandboxed frames, pages with `Referrer-Policy: no-referrer`) unless
//! the browser itself vouches with `Sec-Fetch-Site: same-origin`, a header no page can
//! set. A request with neither header passes: curl and scripts carry no browser's
//! cookies, and every current browser sends `Origin` with a form POST (only browsers
//! from before about 2020, which send neither, are not protected). Behind a reverse
//! proxy, the proxy must pass the browser's `Host` on (nginx: `proxy_set_header Host
//! $host;`), or every login from a browser is refused.

use actix_web::http::header;
use actix_web::HttpRequest;

/// True when `req` was sent from another site (see the module docs).
pub(super) fn is_cross_site(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let fetch_site = headers.get("sec-fetch-site").map(|site| site.as_bytes().to_ascii_lowercase());
    if fetch_site.as_deref() == Some(b"cross-site") {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return false };
    if origin == "null" && fetch_site.as_deref() == Some(b"same-origin") {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).or_else(|| req.uri().host());
    !origin.to_str().ok().zip(host).is_some_and(|(origin, host)| is_own_origin(origin, host))
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as `host`
/// (`host[:port]`, a Host header).
fn is_own_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return false,
    };
    match (split_host_port(authority), split_host_port(host)) {
        (Some((origin_host, origin_port)), Some((host, port))) => {
            !origin_host.is_empty()
                && origin_host.eq_ignore_ascii_case(host)
                && origin_port.unwrap_or(default_port) == port.unwrap_or(default_port)
        }
        _ => false,
    }
}

/// `example.com:8080` -> (`example.com`, 8080); `[::1]:8080` -> (`::1`, 8080); `None`
/// for anything with a path, user info or a port that is not a number.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.contains(['/', '@', '?', '#']) {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            (host, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = port.map(|port| port.parse::<u16>().ok()).map_or(Some(None), |port| port.map(Some))?;
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut request = TestRequest::post().uri("/dashboard/login");
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        request.to_http_request()
    }

    #[test]
    fn same_origin_and_header_less_requests_pass() {
        let host = ("Host", "127.0.0.1:8080");
        assert!(!is_cross_site(&request(&[host])));
        assert!(!is_cross_site(&request(&[host, ("Origin", "http://127.0.0.1:8080")])));
        assert!(!is_cross_site(&request(&[
            host,
            ("Origin", "http://127.0.0.1:8080"),
            ("Sec-Fetch-Site", "same-origin")
        ])));
        assert!(!is_cross_site(&request(&[host, ("Sec-Fetch-Site", "none")])));
        // What Chromium sends from a page served with `Referrer-Policy: no-referrer`.
        assert!(!is_cross_site(&request(&[host, ("Origin", "null"), ("Sec-Fetch-Site", "same-origin")])));
        assert!(!is_cross_site(&request(&[("Host", "Stats.Example.com"), ("Origin", "https://stats.example.com")])));
        assert!(!is_cross_site(&request(&[
            ("Host", "stats.example.com:443"),
            ("Origin", "https://stats.example.com")
        ])));
        assert!(!is_cross_site(&request(&[("Host", "[::1]:8080"), ("Origin", "http://[::1]:8080")])));
    }

    #[test]
    fn other_sites_are_refused() {
        let host = ("Host", "127.0.0.1:8080");
        for origin in [
            "https://evil.example",
            "http://127.0.0.1:8081",
            "http://127.0.0.1",
            "https://127.0.0.1:8080.evil.example",
            "http://user@127.0.0.1:8080",
            "http://127.0.0.1:8080/path",
            "null",
            "",
            "file://",
        ] {
            assert!(is_cross_site(&request(&[host, ("Origin", origin)])), "{origin}");
        }
        assert!(is_cross_site(&request(&[host, ("Sec-Fetch-Site", "cross-site")])));
        assert!(is_cross_site(&request(&[
            host,
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "http://127.0.0.1:8080")
        ])));
        assert!(is_cross_site(&request(&[("Host", "stats.example.com"), ("Origin", "https://blog.example.com")])));
        // `null` is vouched for by `same-origin` only; a real origin never is.
        for site in ["same-site", "none", "cross-site"] {
            assert!(is_cross_site(&request(&[host, ("Origin", "null"), ("Sec-Fetch-Site", site)])), "{site}");
        }
        let evil = [host, ("Origin", "https://evil.example"), ("Sec-Fetch-Site", "same-origin")];
        assert!(is_cross_site(&request(&evil)));
    }

    #[test]
    fn an_unreadable_origin_is_another_site() {
        let mut request = TestRequest::post().insert_header(("Host", "127.0.0.1:8080"));
        request = request
            .insert_header((header::ORIGIN, header::HeaderValue::from_bytes(b"http://127.0.0.1:8080\xff").unwrap()));
        assert!(is_cross_site(&request.to_http_request()));
    }
}
