//! Visitor rights: `POST /api/forget`, which a visitor's browser calls (through the
//! beacon's `footfall.forget()`) to delete what footfall can still link to them.
//!
//! Only two days of events can be linked to anyone: a visitor hash can be recomputed
//! only while its day key exists (today's and yesterday's). The handler computes this
//! visitor's hashes under both keys — from the cookie id when the body has one, else from
//! the request's address and user agent, as intake does — and deletes their events on the
//! site. The deletion runs twice: at once, and again once every batch that may still have
//! held their events has been written (`2 × batch_max_wait_ms + 1 s`). Older events are
//! already unlinkable. Rollup tables hold no visitor hashes.
//!
//! Answers 202 with an empty body; 4xx with `{"error", "field"}` like intake.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

use crate::ingest::{self, cors, IngestError, IngestState};
use crate::privacy::keys::day_number;
use crate::privacy::visitor_hash;
use crate::store::Store;

/// Largest accepted forget request body.
const MAX_BODY_BYTES: usize = 4096;

/// What the forget handler needs besides intake's state.
pub struct RightsState {
    pub store: Store,
    /// How long after the first deletion the second one runs.
    pub second_pass_after: Duration,
}

#[derive(Deserialize)]
struct ForgetRequest {
    site: Option<String>,
    visitor: Option<String>,
}

/// Registers `POST /api/forget` (CORS as intake).
pub fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::resource("/api/forget")
            .route(web::post().to(forget))
            .route(web::method(actix_web::http::Method::OPTIONS).to(cors::preflight)),
    );
}

async fn forget(
    req: HttpRequest,
    body: web::Bytes,
    intake: web::Data<IngestState>,
    rights: web::Data<RightsState>,
) -> HttpResponse {
    let response = match forget_visitor(&req, &body, &intake, &rights).await {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(error) => error.error_response(),
    };
    cors::decorate(response, cors::allowed_origin(&req, ingest::origin_host(&req).as_deref(), &intake))
}

async fn forget_visitor(
    req: &HttpRequest,
    body: &[u8],
    intake: &IngestState,
    rights: &RightsState,
) -> Result<(), IngestError> {
    let client = intake.addressing.client(req);
    let client_ip = client.ip;
    if let Err(wait) = intake.rate_limiter.check(client, std::time::Instant::now()) {
        return Err(IngestError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(IngestError::BodyTooLarge { limit: MAX_BODY_BYTES });
    }
    let request: ForgetRequest = serde_json::from_slice(body).map_err(|_| IngestError::MalformedJson {
        problem: "body must be a JSON object such as {\"site\": \"example.com\", \"visitor\": \"...\"}".into(),
    })?;
    let site_name = request.site.unwrap_or_default();
    let site = intake
        .sites
        .get(&site_name)
        .ok_or_else(|| IngestError::UnknownSite { field: "site".into(), site: site_name.clone() })?;
    if let Some(host) = ingest::origin_host(req) {
        if !site.allows_host(&host) {
            return Err(IngestError::ForeignOrigin {
                field: "Origin".into(),
                what: "Origin",
                host,
                site: site.domain.clone(),
            });
        }
    }
    let cookie = request.visitor.filter(|id| !id.is_empty() && id.len() <= ingest::payload::MAX_VISITOR_LEN);
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let today = day_number(chrono::Utc::now());
    let visitors: Vec<u64> = [today, today - 1]
        .into_iter()
        .filter_map(|day| intake.anonymizer.keys().existing_key(day))
        .map(|key| visitor_hash(&key, &site.domain, cookie.as_deref(), client_ip, user_agent))
        .collect();
    if visitors.is_empty() {
        return Ok(());
    }
    rights.store.delete_visitors(&site.domain, &visitors).await.map_err(|error| {
        tracing::warn!(%error, "could not start a visitor deletion");
        IngestError::Unavailable { reason: "ClickHouse is unreachable".into() }
    })?;
    intake.metrics.forgotten_visitors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (store, domain, delay) = (rights.store.clone(), site.domain.clone(), rights.second_pass_after);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Err(error) = store.delete_visitors(&domain, &visitors).await {
            tracing::warn!(%error, "second pass of a visitor deletion failed");
        }
    });
    Ok(())
}
