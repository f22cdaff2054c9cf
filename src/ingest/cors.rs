//! CORS for the intake endpoints, restricted to the origins of registered sites.
//!
//! A preflight (`OPTIONS`) is answered 204 with the CORS headers only when the `Origin`
//! belongs to some registered site (its domain, a subdomain, or an allowed origin), and
//! 403 with a JSON error otherwise. Responses to `POST` carry
//! `Access-Control-Allow-Origin` for such origins too, so the beacon can read errors.
//! (`navigator.sendBeacon` with a text/plain body needs no preflight; which site an event
//! may claim is checked per event by the handler.)

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use super::origin_host;
use crate::api::ErrorBody;
use crate::metrics::{Metrics, RejectReason};
use crate::sites::SiteRegistry;

/// How long browsers may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// The `Origin` to echo in `Access-Control-Allow-Origin`, when some site allows its host
/// (`origin_host`, which the caller has already read from the request).
pub fn allowed_origin(req: &HttpRequest, origin_host: Option<&str>, sites: &SiteRegistry) -> Option<HeaderValue> {
    sites.any_site_allows_host(origin_host?).then(|| req.headers().get(header::ORIGIN).cloned()).flatten()
}

/// Adds the CORS headers for an allowed origin to an intake response.
pub fn decorate(mut response: HttpResponse, origin: Option<HeaderValue>) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

/// The answer to `OPTIONS` of `/api/event`, `/api/events` and `/api/forget`: the CORS
/// headers for an origin of some registered site in `sites`; 403 for any other, counted
/// in `metrics`.
pub fn preflight(req: &HttpRequest, sites: &SiteRegistry, metrics: &Metrics) -> HttpResponse {
    match allowed_origin(req, origin_host(req).as_deref(), sites) {
        Some(origin) => HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
            .insert_header((header::VARY, "Origin"))
            .finish(),
        None => {
            metrics.reject(RejectReason::ForeignOrigin, 1);
            HttpResponse::Forbidden().insert_header((header::VARY, "Origin")).json(ErrorBody {
                error: "this origin belongs to no site registered with this collector".into(),
                field: Some("Origin".into()),
            })
        }
    }
}
