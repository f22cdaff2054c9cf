//! The scripts browsers load: the beacon, `GET /js/footfall.js`, and the link tracking it
//! loads when a tag asks for it, `GET /js/footfall-links.js`. Each is its minified
//! source in `beacon/` (see `beacon/build.mjs`) compiled into the binary, gzipped once at
//! first use, served with an `ETag` per encoding, `Cache-Control`, and `304 Not Modified`
//! for a matching `If-None-Match`.

use std::io::Write as _;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use flate2::write::GzEncoder;
use flate2::Compression;

/// A script footfall serves.
pub struct Script {
    /// Where it is served.
    pub path: &'static str,
    /// The script as served without compression.
    pub source: &'static [u8],
    /// Most bytes the gzipped script may have (also checked by `npm run check` in
    /// `beacon/`).
    pub gzip_budget: usize,
    /// Built at first use.
    asset: OnceLock<Asset>,
}

/// The beacon; its budget is the issue's size limit.
pub static BEACON: Script = Script::new("/js/footfall.js", include_bytes!("../../beacon/footfall.min.js"), 1600);
/// Link tracking (`data-outbound`, `data-downloads`), loaded by the beacon.
pub static LINKS: Script =
    Script::new("/js/footfall-links.js", include_bytes!("../../beacon/footfall-links.min.js"), 500);
/// Every script served.
pub static SCRIPTS: [&Script; 2] = [&BEACON, &LINKS];
/// How long browsers and proxies may use their copy before asking again (with
/// `If-None-Match`, which costs a 304). A new footfall release reaches every page within
/// this time.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// The script in both encodings with their entity tags.
pub struct Asset {
    /// The script gzipped at the best compression level.
    pub gzip: Vec<u8>,
    /// Strong tag of the uncompressed script (a content hash).
    pub etag: String,
    /// Strong tag of the gzipped representation.
    pub etag_gzip: String,
}

impl Script {
    const fn new(path: &'static str, source: &'static [u8], gzip_budget: usize) -> Self {
        Self { path, source, gzip_budget, asset: OnceLock::new() }
    }

    /// The script gzipped, with its entity tags.
    pub fn asset(&self) -> &Asset {
        self.asset.get_or_init(|| Asset::of(self.source))
    }

    /// `GET` and `HEAD` of the script.
    pub fn respond(&'static self, req: &HttpRequest) -> HttpResponse {
        let asset = self.asset();
        let gzip = accepts_gzip(req.headers());
        let (body, etag) = if gzip { (&asset.gzip[..], &asset.etag_gzip) } else { (self.source, &asset.etag) };
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
}

impl Asset {
    fn of(source: &[u8]) -> Self {
        let mut encoder = GzEncoder::new(Vec::with_capacity(source.len()), Compression::best());
        encoder.write_all(source).expect("gzip into memory cannot fail");
        let gzip = encoder.finish().expect("gzip into memory cannot fail");
        let hash = blake3::hash(source).to_hex();
        let tag = &hash.as_str()[..16];
        Self { gzip, etag: format!("\"{tag}\""), etag_gzip: format!("\"{tag}-gzip\"") }
    }
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
        for script in SCRIPTS {
            let asset = script.asset();
            let mut unzipped = Vec::new();
            flate2::read::GzDecoder::new(&asset.gzip[..]).read_to_end(&mut unzipped).unwrap();
            assert_eq!(unzipped, script.source);
            let (size, budget) = (asset.gzip.len(), script.gzip_budget);
            assert!(size <= budget, "gzipped {} is {size} bytes, budget {budget}", script.path);
            assert_ne!(asset.etag, asset.etag_gzip);
        }
    }

    #[test]
    fn the_served_scripts_are_the_committed_builds() {
        for (script, file) in [(&BEACON, "footfall.min.js"), (&LINKS, "footfall-links.min.js")] {
            let on_disk = std::fs::read(format!("{}/beacon/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            assert_eq!(on_disk, script.source, "rebuild the binary after `npm run build` in beacon/");
        }
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
