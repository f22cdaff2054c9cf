//! Event intake: the HTTP handlers for `POST /api/event` (one JSON object) and
//! `POST /api/events` (an array), their limits, validation, the site and origin checks,
//! and the bot filter. Valid events go through the privacy stage into the pipeline's
//! queue; intake never talks to ClickHouse.
//!
//! Answers: 202 with an empty body when the events are queued (or were deliberately not
//! stored: from a bot, or from a request that refuses tracking with `Sec-GPC: 1`, the
//! opt-out cookie or `DNT: 1`, privacy rule 4; the admin token is exempt); 4xx with
//! `{"error", "field"}` for bad input; 503 when the pipeline cannot take them (queue
//! full, or in durable mode the spool full). A request is taken whole or not at all: if
//! any element of an array is invalid, none of it is stored. Every refused or dropped
//! event is counted.

pub mod cors;
pub mod error;
pub mod payload;
pub mod sites;

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures_util::StreamExt;

use crate::auth;
use crate::client_ip::ClientAddressing;
use crate::config::IngestSettings;
use crate::metrics::{DropReason, Metrics, RefusalSignal};
use crate::pipeline::{EventSink, Refusal};
use crate::privacy::keys::day_number;
use crate::privacy::{useragent, Anonymizer, Observation};
use crate::store::NULL_ORIGIN;
use crate::throttle::RateLimiter;
pub use error::IngestError;
use payload::ValidEvent;
pub use sites::SiteDirectory;

/// How far in the future an admin's backfilled `ts` may lie (clock skew), in seconds.
const MAX_FUTURE_TS_SECS: i64 = 60;

/// What the intake handlers share.
pub struct IngestState {
    pub sites: SiteDirectory,
    pub anonymizer: Arc<Anonymizer>,
    pub sink: EventSink,
    pub metrics: Arc<Metrics>,
    pub limits: IngestSettings,
    /// Who the client of a request is (trusted proxies).
    pub addressing: ClientAddressing,
    pub admin_token: Option<String>,
    pub rate_limiter: Arc<RateLimiter>,
}

/// Registers the intake routes, with CORS for the origins of registered sites ([`cors`]).
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/api/event")
                .route(web::post().to(post_event))
                .route(web::method(actix_web::http::Method::OPTIONS).to(cors::preflight)),
        )
        .service(
            web::resource("/api/events")
                .route(web::post().to(post_events))
                .route(web::method(actix_web::http::Method::OPTIONS).to(cors::preflight)),
        );
}

/// What intake reads from a request once, before its body.
#[derive(Clone, Copy)]
struct Request<'a> {
    client_ip: IpAddr,
    is_admin: bool,
    /// Host of the `Origin` header, when a browser sent one.
    origin_host: Option<&'a str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    One,
    Many,
}

async fn post_event(req: HttpRequest, body: web::Payload, state: web::Data<IngestState>) -> HttpResponse {
    intake(&req, body, &state, Shape::One).await
}

async fn post_events(req: HttpRequest, body: web::Payload, state: web::Data<IngestState>) -> HttpResponse {
    intake(&req, body, &state, Shape::Many).await
}

/// Runs a request through intake, does the counting for every outcome, and answers with
/// the CORS headers.
async fn intake(req: &HttpRequest, body: web::Payload, state: &IngestState, shape: Shape) -> HttpResponse {
    let mut events_in_request = 1u64;
    let is_admin = auth::bearer_is(req, state.admin_token.as_deref());
    let client = state.addressing.client(req);
    let client_ip = client.ip;
    let origin_host = origin_host(req);
    let outcome = match state.rate_limiter.check(&client, std::time::Instant::now()) {
        Err(throttled) if !is_admin => Err(IngestError::RateLimited { retry_after_secs: throttled.retry_after_secs() }),
        _ => {
            let request = Request { client_ip, is_admin, origin_host: origin_host.as_deref() };
            take_events(req, body, state, shape, request, &mut events_in_request).await
        }
    };
    match &outcome {
        Ok(()) => {}
        Err(IngestError::QueueFull) => state.metrics.drop_events(DropReason::QueueFull, events_in_request),
        Err(IngestError::Unavailable { .. }) => state.metrics.drop_events(DropReason::SpoolFull, events_in_request),
        Err(error) => {
            if let Some(reason) = error.reject_reason() {
                state.metrics.reject(reason, events_in_request);
            }
        }
    }
    let response = match outcome {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(error) => actix_web::ResponseError::error_response(&error),
    };
    cors::decorate(response, cors::allowed_origin(req, origin_host.as_deref(), state))
}

async fn take_events(
    req: &HttpRequest,
    body: web::Payload,
    state: &IngestState,
    shape: Shape,
    request: Request<'_>,
    events_in_request: &mut u64,
) -> Result<(), IngestError> {
    let Request { client_ip, is_admin, origin_host } = request;
    check_content_type(req)?;
    let body = read_body(req, body, &state.limits).await?;
    let valid: Vec<ValidEvent<'_>> = match shape {
        Shape::One => vec![payload::parse_event(&body)?.validate(None)?],
        Shape::Many => {
            let raw = payload::parse_events(&body)?;
            *events_in_request = raw.len().max(1) as u64;
            if raw.is_empty() {
                return Err(IngestError::BatchSize { problem: "the array is empty; send at least one event".into() });
            }
            if raw.len() > state.limits.max_batch_events {
                return Err(IngestError::BatchSize {
                    problem: format!(
                        "the array has {} events; send at most {} per request",
                        raw.len(),
                        state.limits.max_batch_events
                    ),
                });
            }
            raw.into_iter().enumerate().map(|(index, event)| event.validate(Some(index))).collect::<Result<_, _>>()?
        }
    };
    let mut event_sites = Vec::with_capacity(valid.len());
    for (index, event) in valid.iter().enumerate() {
        let field = |name: &str| match shape {
            Shape::One => name.to_string(),
            Shape::Many => format!("[{index}].{name}"),
        };
        let site = state
            .sites
            .get(&event.site)
            .ok_or_else(|| IngestError::UnknownSite { field: field("site"), site: event.site.to_string() })?;
        if let Some(host) = origin_host {
            if !site.allows_host(host) {
                return Err(IngestError::ForeignOrigin {
                    field: "Origin".into(),
                    what: "Origin",
                    host: host.to_string(),
                    site: site.domain.clone(),
                });
            }
        }
        if !site.allows_host(&event.page.host) {
            return Err(IngestError::ForeignOrigin {
                field: field("url"),
                what: "url",
                host: event.page.host.clone(),
                site: site.domain.clone(),
            });
        }
        if site.requires_consent && !event.consent && !is_admin {
            return Err(IngestError::NoConsent { field: field("consent"), site: site.domain.clone() });
        }
        event_sites.push(site);
    }
    if !is_admin {
        if let Some(signal) = refusal_signal(req, &event_sites) {
            state.metrics.refuse(signal, *events_in_request);
            return Ok(());
        }
    }

    let user_agent = req.headers().get(header::USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or("");
    let Some(client) = useragent::describe_unless_bot(user_agent) else {
        state.metrics.bots.inc_by(*events_in_request);
        return Ok(());
    };

    let now = chrono::Utc::now();
    let mut rows = Vec::with_capacity(valid.len());
    for (index, (event, site)) in valid.into_iter().zip(event_sites).enumerate() {
        let ts = match event.ts {
            Some(ts) if is_admin => {
                if i64::from(ts) > now.timestamp() + MAX_FUTURE_TS_SECS {
                    return Err(IngestError::InvalidField {
                        field: match shape {
                            Shape::One => "ts".into(),
                            Shape::Many => format!("[{index}].ts"),
                        },
                        problem: "`ts` lies in the future".into(),
                    });
                }
                ts
            }
            // Only an admin may set the event time; for everyone else the server clock is it.
            _ => now.timestamp() as u32,
        };
        rows.push(state.anonymizer.anonymize(Observation {
            site: &site.domain,
            site_redact: &site.redact,
            name: &event.name,
            page: event.page,
            referrer: event.referrer,
            cookie_id: event.cookie_id.as_deref(),
            client_ip,
            user_agent,
            client: client.clone(),
            returning: event.returning,
            published: event.published,
            engaged_ms: event.engaged_ms,
            screen_width: event.screen_width,
            time_zone: &event.time_zone,
            pageview_id: event.pageview_id.as_deref(),
            props: event.props,
            ts,
            day: day_number(now),
        }));
    }
    state.sink.accept(rows).await.map_err(|refusal| match refusal {
        Refusal::QueueFull => IngestError::QueueFull,
        Refusal::SpoolUnavailable(reason) => IngestError::Unavailable { reason },
    })?;
    state.metrics.accepted.inc_by(*events_in_request);
    if matches!(state.sink, EventSink::Durable(_)) {
        // In durable mode every accepted event is in the spool, which the replayer
        // delivers: spooled = accepted, and replayed catches up with it.
        state.metrics.spooled.inc_by(*events_in_request);
    }
    Ok(())
}

/// Name of the cookie the opt-out page and `footfall.optOut()` set to `1`.
pub const OPT_OUT_COOKIE: &str = "footfall_optout";

/// The signal by which the request refuses to be counted, if any: `Sec-GPC: 1`, the
/// opt-out cookie, or `DNT: 1` when one of the request's sites honours it (every site
/// does unless added with `--ignore-dnt`).
fn refusal_signal(req: &HttpRequest, sites: &[Arc<sites::SiteEntry>]) -> Option<RefusalSignal> {
    let header_is_one = |name: &str| req.headers().get(name).is_some_and(|value| value.as_bytes().trim_ascii() == b"1");
    if header_is_one("sec-gpc") {
        return Some(RefusalSignal::GlobalPrivacyControl);
    }
    let opted_out = req.headers().get_all(header::COOKIE).any(|cookies| {
        cookies.as_bytes().split(|b| *b == b';').any(|cookie| {
            let cookie = cookie.trim_ascii();
            cookie.strip_prefix(OPT_OUT_COOKIE.as_bytes()).is_some_and(|rest| rest == b"=1")
        })
    });
    if opted_out {
        return Some(RefusalSignal::OptOut);
    }
    if header_is_one("dnt") && sites.iter().any(|site| !site.ignore_dnt) {
        return Some(RefusalSignal::DoNotTrack);
    }
    None
}

/// JSON, or text/plain as `navigator.sendBeacon` sends a string body.
fn check_content_type(req: &HttpRequest) -> Result<(), IngestError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case("text/plain") {
        Ok(())
    } else {
        Err(IngestError::UnsupportedMediaType)
    }
}

/// Reads the body, refusing more than `ingest.max_body_bytes` without buffering them; a
/// body that missed `ingest.body_timeout_ms` ([`crate::http_limits`]) is a 408.
async fn read_body(
    req: &HttpRequest,
    mut body: web::Payload,
    limits: &IngestSettings,
) -> Result<BytesMut, IngestError> {
    let limit = limits.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(IngestError::BodyTooLarge { limit });
    }
    let mut buffer = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| match error {
            actix_web::error::PayloadError::Io(io) if io.kind() == crate::http_limits::BODY_TIMEOUT_KIND => {
                IngestError::BodyTimeout { limit_ms: limits.body_timeout_ms }
            }
            _ => IngestError::BodyRead,
        })?;
        if buffer.len() + chunk.len() > limit {
            return Err(IngestError::BodyTooLarge { limit });
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer)
}

/// What stands for an `Origin` header that is not readable text: it matches no site.
const UNREADABLE_ORIGIN: &str = "(unreadable)";

/// Host of the `Origin` header, `None` only when there is none. An opaque origin (`null`,
/// sent by sandboxed iframes, `file:` pages and some redirects) is the host `null`, which
/// only a site that lists `null` among its origins accepts; an unreadable one matches no
/// site. Either way the request is checked like any other foreign origin.
pub(crate) fn origin_host(req: &HttpRequest) -> Option<String> {
    let origin = req.headers().get(header::ORIGIN)?;
    match origin.to_str() {
        Ok(origin) if origin.trim() == NULL_ORIGIN => Some(NULL_ORIGIN.to_string()),
        Ok(origin) => Some(host_of_origin(origin)),
        Err(_) => Some(UNREADABLE_ORIGIN.to_string()),
    }
}

/// The lowercase host of an origin (`scheme://host[:port]`) as the URL parser reads it;
/// an origin that does not parse is returned whole (and so matches no site).
fn host_of_origin(origin: &str) -> String {
    if let Some(host) = plain_origin_host(origin) {
        return host.to_ascii_lowercase();
    }
    url::Url::parse(origin)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_else(|| origin.to_string())
}

/// The host of an origin that needs no URL parser to read, as browsers send nearly all of
/// them: `http://` or `https://`, a DNS name (non-empty labels of ASCII letters, digits
/// and `-`, none starting with `xn--`, the last one not a number, which the parser would
/// read as an IPv4 address) and an optional port of digits below 65536 without a leading
/// zero. For these the parser returns the same host, lowercased; anything else is `None`
/// and takes the full parse (a URL parse per request was 2% of the collector's CPU).
fn plain_origin_host(origin: &str) -> Option<&str> {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"))?;
    let host = match rest.split_once(':') {
        Some((host, port)) => {
            let digits = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !port.starts_with('0');
            (digits && port.parse::<u16>().is_ok()).then_some(host)?
        }
        None => rest,
    };
    let plain_label = |label: &str| {
        !label.is_empty()
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("xn--"))
    };
    let last = host.rsplit('.').next()?;
    let numeric =
        last.bytes().all(|b| b.is_ascii_digit()) || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"));
    (host.split('.').all(plain_label) && !numeric).then_some(host)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What `host_of_origin` returned before it had a fast path: the URL parser's answer.
    fn parsed_host(origin: &str) -> String {
        url::Url::parse(origin)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_else(|| origin.to_string())
    }

    #[test]
    fn plain_origins_are_read_without_the_parser_and_the_rest_are_parsed() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("https://example.com", Some("example.com"), "example.com"),
            ("https://Blog.Example.COM:8443", Some("Blog.Example.COM"), "blog.example.com"),
            ("http://localhost:3000", Some("localhost"), "localhost"),
            ("https://s1-7963d917.load.test", Some("s1-7963d917.load.test"), "s1-7963d917.load.test"),
            ("https://127.0.0.1:8080", None, "127.0.0.1"),
            ("http://0x7f.1", None, "127.0.0.1"),
            ("https://[::1]:443", None, "[::1]"),
            ("https://xn--bcher-kva.example", None, "xn--bcher-kva.example"),
            ("https://example.com.", None, "example.com."),
            ("https://example.com:0443", None, "example.com"),
            ("https://example.com:70000", None, "https://example.com:70000"),
            ("https://example.com/", None, "example.com"),
            ("HTTPS://EXAMPLE.COM", None, "example.com"),
            ("android-app://com.example", None, "com.example"),
            ("not an origin", None, "not an origin"),
        ];
        for (origin, plain, host) in cases {
            assert_eq!(plain_origin_host(origin), *plain, "{origin}");
            assert_eq!(host_of_origin(origin), *host, "{origin}");
            assert_eq!(host_of_origin(origin), parsed_host(origin), "{origin}");
        }
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_url_parser(
            origin in "(https?|HTTP|ftp)://([a-zA-Z0-9-]{0,6}\\.){0,3}[a-zA-Z0-9-]{0,6}(:[0-9+]{0,6})?(/x)?"
        ) {
            prop_assert_eq!(host_of_origin(&origin), parsed_host(&origin));
        }
    }
}
