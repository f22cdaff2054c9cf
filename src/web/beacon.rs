//! The beacon script, `GET /js/footfall.js`: `beacon/footfall.min.js` (the minified
//! `beacon/footfall.js`, see `beacon/build.mjs`) compiled into the binary, gzipped once at
//! first use, served with an `ETag` per encoding, `Cache-Control`, and `304 Not Modified`
//! for a matching `If-None-Match`.

use std::io::Write as _;
use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use flate2::write::GzEncoder;
use flate2::Compression;

/// Where the script is served.
pub const PATH: &str = "/js/footfall.js";
/// The script as served without compression.
pub const SCRIPT: &[u8] = include_bytes!("../../beacon/footfall.min.js");
/// Most bytes the gzipped script may have (the issue's size budget, also checked by
/// `npm run check` in `beacon/`).
pub const GZIP_BUDGET: usize = 1500;
/// How long browsers and proxies may use their copy before asking again (with
/// `If-None-Match`, which costs a 304). A new footfall release reaches every page within
/// this time.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// The script in both encodings with their entity tags.
pub struct Asset {
    /// `SCRIPT` gzipped at the best compression level.
    pub gzip: Vec<u8>,
    /// Strong tag of the uncompressed script (a content hash).
    pub etag: String,
    /// Strong tag of the gzipped representation.
    pub etag_gzip: String,
}

/// Built at first use.
pub static ASSET: LazyLock<Asset> = LazyLock::new(|| {
    let mut encoder = GzEncoder::new(Vec::with_capacity(SCRIPT.len()), Compression::best());
    encoder.write_all(SCRIPT).expect("gzip into memory cannot fail");
    let gzip = encoder.finish().expect("gzip into memory cannot fail");
    let hash = blake3::hash(SCRIPT).to_hex();
    let tag = &hash.as_str()[..16];
    Asset { gzip, etag: format!("\"{tag}\""), etag_gzip: format!("\"{tag}-gzip\"") }
});

/// `GET` and `HEAD /js/footfall.js`.
pub async fn script(req: HttpRequest) -> HttpResponse {
    let asset = &*ASSET;
    let gzip = accepts_gzip(req.headers());
    let (body, etag) = if gzip { (&asset.gzip[..], &asset.etag_gzip) } else { (SCRIPT, &asset.etag) };
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| if_none_match_hits(tags, etag));
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .insert_header((header::VARY, "Accept-Encoding"))
        // Lets pages load it with `crossorigin` (for Subresource Integrity).
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if not_modified {
        return response.finish();
    }
    response
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if gzip {
        response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
    }
    response.body(body)
}

/// Whether `Accept-Encoding` allows gzip: listed (or `*` is) with a quality above 0.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING).filter_map(|value| value.to_str().ok()) {
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(quality);
            } else if coding == "*" {
                any = Some(quality);
            }
        }
    }
    gzip.or(any).is_some_and(|quality| quality > 0.0)
}

/// Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 asks for
/// this header) or is `*`.
pub fn if_none_match_hits(tags: &str, etag: &str) -> bool {
    tags.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn headers(accept_encoding: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in accept_encoding {
            map.append(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_served_gzip_is_the_script_and_within_budget() {
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&ASSET.gzip[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, SCRIPT);
        assert!(ASSET.gzip.len() <= GZIP_BUDGET, "gzipped beacon is {} bytes, budget {GZIP_BUDGET}", ASSET.gzip.len());
        assert_ne!(ASSET.etag, ASSET.etag_gzip);
    }

    #[test]
    fn the_served_script_is_the_committed_build() {
        let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/beacon/footfall.min.js")).unwrap();
        assert_eq!(on_disk, SCRIPT, "rebuild the binary after `npm run build` in beacon/");
    }

    #[test]
    fn gzip_negotiation() {
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["gzip, deflate, br, zstd"], true),
            (&["br", "GZIP;q=0.5"], true),
            (&["gzip;q=0"], false),
            (&["gzip;q=0, *"], false),
            (&["*"], true),
            (&["*;q=0"], false),
            (&["identity"], false),
            (&["deflate, br"], false),
        ];
        for (values, want) in cases {
            assert_eq!(accepts_gzip(&headers(values)), *want, "{values:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(if_none_match_hits("\"abc\"", "\"abc\""));
        assert!(if_none_match_hits("W/\"abc\"", "\"abc\""));
        assert!(if_none_match_hits("\"x\", \"abc\"", "\"abc\""));
        assert!(if_none_match_hits("*", "\"abc\""));
        assert!(!if_none_match_hits("\"abc-gzip\"", "\"abc\""));
        assert!(!if_none_match_hits("", "\"abc\""));
    }
}
