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
pub mod not_stored;
pub mod payload;

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{options, post, web, HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures_util::StreamExt;

use crate::api::ErrorBody;
use crate::auth;
use crate::client_ip::ClientAddressing;
use crate::config::IngestSettings;
use crate::metrics::{DropReason, Metrics, RefusalSignal};
use crate::pipeline::{EventSink, Refusal};
use crate::privacy::keys::day_number;
use crate::privacy::urls::host_of_origin;
use crate::privacy::{useragent, Anonymizer, Observation};
use crate::sites::{SiteEntry, SiteRegistry, NULL_ORIGIN};
use crate::throttle::RateLimiter;
pub use error::IngestError;
use not_stored::{NotStoredReason, NotStoredTally};
use payload::{RawEvent, ValidEvent};
use utoipa_actix_web::service_config::ServiceConfig;

/// How far in the future an admin's backfilled `ts` may lie (clock skew), in seconds.
const MAX_FUTURE_TS_SECS: i64 = 60;

/// What the intake handlers share.
pub struct IngestState {
    pub sites: SiteRegistry,
    pub anonymizer: Arc<Anonymizer>,
    pub sink: EventSink,
    pub metrics: Arc<Metrics>,
    pub limits: IngestSettings,
    /// Who the client of a request is (trusted proxies).
    pub addressing: ClientAddressing,
    pub admin_token: Option<String>,
    pub rate_limiter: Arc<RateLimiter>,
    /// Events of registered sites answered but not stored, per site and reason.
    pub not_stored: Arc<NotStoredTally>,
}

/// Registers the intake routes, with CORS for the origins of registered sites ([`cors`]).
pub fn configure(config: &mut ServiceConfig<'_>) {
    config.service(post_event).service(event_preflight).service(post_events).service(events_preflight);
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

/// Take one event.
///
/// Answered 202 with an empty body once the event is queued, or when it was deliberately
/// not stored (from a bot, or from a request that refuses tracking: `Sec-GPC: 1`, the
/// opt-out cookie, `DNT: 1`). `ts` is honoured only with the admin token.
#[utoipa::path(
    tag = "intake",
    security((), ("bearer" = [])),
    request_body(
        description = "One event; `text/plain` is the same JSON, as `navigator.sendBeacon` sends it",
        content((RawEvent<'_> = "application/json"), (RawEvent<'_> = "text/plain")),
    ),
    responses(
        (status = ACCEPTED, description = "Queued, or deliberately not stored"),
        (status = BAD_REQUEST, description = "Not JSON, or a field is invalid (`field` names it)", body = ErrorBody),
        (status = FORBIDDEN, description = "`Origin` or `url` belongs to another site (field `Origin` or `url`), \
            or the site is in consent mode and the event lacks `\"consent\": true` (field `consent`)", body = ErrorBody),
        (status = NOT_FOUND, description = "The site is not registered (field `site`)", body = ErrorBody),
        (status = REQUEST_TIMEOUT, description = "The body did not arrive within `ingest.body_timeout_ms`", body = ErrorBody),
        (status = PAYLOAD_TOO_LARGE, description = "The body is larger than `ingest.max_body_bytes`", body = ErrorBody),
        (status = UNSUPPORTED_MEDIA_TYPE, description = "`Content-Type` is neither `application/json` nor `text/plain`", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Over the client's rate limit; retry after `Retry-After` seconds (the admin token is exempt)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "The queue (or, in durable mode, the spool) is full; retry", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
#[post("/api/event")]
async fn post_event(req: HttpRequest, body: web::Payload, state: web::Data<IngestState>) -> HttpResponse {
    intake(&req, body, &state, Shape::One).await
}

/// Take an array of events, all or none.
///
/// Up to `ingest.max_batch_events` events; if any is invalid, none is stored (`field`
/// names it as `[3].url`). Answers as `POST /api/event`.
#[utoipa::path(
    tag = "intake",
    security((), ("bearer" = [])),
    request_body(
        description = "A JSON array of events; `text/plain` is the same JSON",
        content((Vec<RawEvent<'_>> = "application/json"), (Vec<RawEvent<'_>> = "text/plain")),
    ),
    responses(
        (status = ACCEPTED, description = "Queued, or deliberately not stored"),
        (status = BAD_REQUEST, description = "Not a JSON array, too many or no events, or a field is invalid", body = ErrorBody),
        (status = FORBIDDEN, description = "`Origin` or `url` belongs to another site, or consent is missing", body = ErrorBody),
        (status = NOT_FOUND, description = "A site is not registered", body = ErrorBody),
        (status = REQUEST_TIMEOUT, description = "The body did not arrive within `ingest.body_timeout_ms`", body = ErrorBody),
        (status = PAYLOAD_TOO_LARGE, description = "The body is larger than `ingest.max_body_bytes`", body = ErrorBody),
        (status = UNSUPPORTED_MEDIA_TYPE, description = "`Content-Type` is neither `application/json` nor `text/plain`", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Over the client's rate limit", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "The queue (or the spool) is full; retry", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
#[post("/api/events")]
async fn post_events(req: HttpRequest, body: web::Payload, state: web::Data<IngestState>) -> HttpResponse {
    intake(&req, body, &state, Shape::Many).await
}

/// CORS preflight of `POST /api/event`.
#[utoipa::path(
    tag = "intake",
    responses(
        (status = NO_CONTENT, description = "`Origin` belongs to a registered site: the CORS headers allow the POST"),
        (status = FORBIDDEN, description = "`Origin` belongs to no registered site", body = ErrorBody),
    ),
)]
#[options("/api/event")]
async fn event_preflight(req: HttpRequest, state: web::Data<IngestState>) -> HttpResponse {
    cors::preflight(&req, &state.sites, &state.metrics)
}

/// CORS preflight of `POST /api/events`.
#[utoipa::path(
    tag = "intake",
    responses(
        (status = NO_CONTENT, description = "`Origin` belongs to a registered site: the CORS headers allow the POST"),
        (status = FORBIDDEN, description = "`Origin` belongs to no registered site", body = ErrorBody),
    ),
)]
#[options("/api/events")]
async fn events_preflight(req: HttpRequest, state: web::Data<IngestState>) -> HttpResponse {
    cors::preflight(&req, &state.sites, &state.metrics)
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
            let now = chrono::Utc::now().timestamp() as u32;
            match error {
                IngestError::ForeignOrigin { site, .. } => {
                    state.not_stored.count(site, now, NotStoredReason::ForeignOrigin, events_in_request);
                }
                IngestError::NoConsent { site, .. } => {
                    state.not_stored.count(site, now, NotStoredReason::NoConsent, events_in_request);
                }
                _ => {}
            }
        }
    }
    let response = match outcome {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(error) => actix_web::ResponseError::error_response(&error),
    };
    cors::decorate(response, cors::allowed_origin(req, origin_host.as_deref(), &state.sites))
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
            .find(&event.site)
            .await
            .ok_or_else(|| IngestError::UnknownSite { field: field("site"), site: event.site.to_string() })?;
        if let Some(host) = origin_host {
            if !site.allows_host(host) {
                return Err(IngestError::ForeignOrigin {
                    field: "Origin".into(),
                    what: "Origin",
                    host: host.to_string(),
                    site: site.domain.to_string(),
                });
            }
        }
        if !site.allows_host(&event.page.host) {
            return Err(IngestError::ForeignOrigin {
                field: field("url"),
                what: "url",
                host: event.page.host.clone(),
                site: site.domain.to_string(),
            });
        }
        if site.requires_consent && !event.consent && !is_admin {
            return Err(IngestError::NoConsent { field: field("consent"), site: site.domain.to_string() });
        }
        event_sites.push(site);
    }
    if !is_admin {
        if let Some(signal) = refusal_signal(req, &event_sites) {
            state.metrics.refuse(signal, *events_in_request);
            count_per_site(&state.not_stored, &event_sites, NotStoredReason::Refused(signal));
            return Ok(());
        }
    }

    let user_agent = req.headers().get(header::USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or("");
    let Some(client) = useragent::describe_unless_bot(user_agent) else {
        state.metrics.bots.inc_by(*events_in_request);
        count_per_site(&state.not_stored, &event_sites, NotStoredReason::Bot);
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
            site: site.domain.as_str(),
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
            scroll: event.scroll,
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

/// Counts one event not stored for `reason` for the site of each event (`sites`, one per
/// event).
fn count_per_site(tally: &NotStoredTally, sites: &[Arc<SiteEntry>], reason: NotStoredReason) {
    let now = chrono::Utc::now().timestamp() as u32;
    for site in sites {
        tally.count(site.domain.as_str(), now, reason, 1);
    }
}

/// Name of the cookie the opt-out page and `footfall.optOut()` set to `1`.
pub const OPT_OUT_COOKIE: &str = "footfall_optout";

/// The signal by which the request refuses to be counted, if any: `Sec-GPC: 1`, the
/// opt-out cookie, or `DNT: 1` when one of the request's sites honours it (every site
/// does unless added with `--ignore-dnt`).
fn refusal_signal(req: &HttpRequest, sites: &[Arc<SiteEntry>]) -> Option<RefusalSignal> {
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
