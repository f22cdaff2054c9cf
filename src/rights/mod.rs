//! Visitor rights: `POST /api/forget`, which a visitor's browser calls (through the
//! beacon's `footfall.forget()`) to delete what footfall can still link to them.
//!
//! Owns the handler, the forget queue and its files ([`queue`]), and the task that
//! applies the queue once per `rights.forget_interval_secs` ([`RightsState::spawn`]).
//!
//! Only two days of events can be linked to anyone: a visitor hash can be recomputed
//! only while its day key exists (today's and yesterday's). The handler validates the
//! request, computes this visitor's hashes under both keys — from the cookie id when the
//! body has one, else from the request's address and user agent, as intake does — and
//! queues `(site, hashes)`, on disk under `spool_dir/forget` before it answers 202. The
//! queue's task deletes them in rounds, so that however many requests arrive, ClickHouse
//! gets at most one deletion (a mutation) per table and site per interval, and a
//! request's rows are gone within `forget_interval_secs + 2 × batch_max_wait_ms + 1 s`
//! (the wait lets the writer store the events accepted before the request first). Older
//! events, and backfilled ones (hashed with throw-away import keys), are already
//! unlinkable. The deletion reaches every table that holds visitor hashes
//! (`store::VISITOR_TABLES`); the other rollups hold counts, no hashes.
//!
//! Neighbours: [`RightsState`] holds its own handles to what it shares with intake (the
//! site registry, the day keys, client addressing, the per-client rate limiter, the
//! metrics) and uses intake's public pieces only (its CORS answers, its error type and
//! `Origin` reading); it deletes through [`Store::delete_visitors`], which knows the
//! tables. `startup` builds [`RightsState`] and spawns its task.
//!
//! Answers 202 with an empty body; 4xx with `{"error", "field"}` like intake (429 over the
//! client's rate limit), 503 when the request cannot be queued.

pub mod queue;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{options, post, web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use tokio::task::JoinHandle;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use self::queue::{ForgetQueue, QueueError, Schedule};
use crate::api::ErrorBody;
use crate::client_ip::ClientAddressing;
use crate::config::Settings;
use crate::ingest::{self, cors, IngestError};
use crate::metrics::Metrics;
use crate::privacy::keys::day_number;
use crate::privacy::{visitor_hash, Anonymizer};
use crate::sites::SiteRegistry;
use crate::store::Store;
use crate::throttle::RateLimiter;

/// Largest accepted forget request body.
const MAX_BODY_BYTES: usize = 4096;

/// Directory of the forget queue under `spool_dir`.
pub const QUEUE_DIR: &str = "forget";

/// What intake shares with the forget handler: the same sites, day keys, client
/// addressing, per-client rate limit and counters.
pub struct Shared {
    pub sites: SiteRegistry,
    /// The day keys (through the anonymizer that intake hashes with).
    pub anonymizer: Arc<Anonymizer>,
    pub addressing: ClientAddressing,
    pub rate_limiter: Arc<RateLimiter>,
    pub metrics: Arc<Metrics>,
}

/// What the forget handler and the queue's task need.
pub struct RightsState {
    shared: Shared,
    store: Store,
    queue: Arc<ForgetQueue>,
    schedule: Schedule,
}

impl RightsState {
    /// Opens the forget queue in `spool_dir/forget` (loading what an earlier run left
    /// there) and takes the schedule from `rights.forget_interval_secs` and
    /// `pipeline.batch_max_wait_ms`. The task does not run until [`RightsState::spawn`].
    ///
    /// # Errors
    /// When the queue directory cannot be created or read.
    pub fn open(settings: &Settings, shared: Shared, store: Store) -> std::io::Result<Self> {
        let queue = ForgetQueue::open(&settings.spool_dir.join(QUEUE_DIR))?;
        Ok(Self { shared, store, queue: Arc::new(queue), schedule: schedule(settings) })
    }

    /// Starts the task that applies the queue; aborting it (at shutdown) loses nothing,
    /// the queue is on disk.
    pub fn spawn(&self) -> JoinHandle<()> {
        let (queue, store, schedule) = (Arc::clone(&self.queue), self.store.clone(), self.schedule);
        tokio::spawn(async move { queue.run(store, schedule).await })
    }
}

/// When the queue is applied: every `rights.forget_interval_secs`, after letting the
/// writer store what was accepted before (two batch periods and a second).
fn schedule(settings: &Settings) -> Schedule {
    Schedule {
        interval: Duration::from_secs(settings.rights.forget_interval_secs),
        settle: settings.pipeline.batch_max_wait() * 2 + Duration::from_secs(1),
    }
}

/// The body of a forget request.
#[derive(Deserialize, ToSchema)]
struct ForgetRequest {
    /// The registered site's domain.
    #[schema(required = true)]
    site: Option<String>,
    /// The beacon's cookie id; absent for a cookieless visitor (the request's address and
    /// user agent are used, as intake does).
    visitor: Option<String>,
}

/// Registers `POST /api/forget` (CORS as intake).
pub fn configure(config: &mut ServiceConfig<'_>) {
    config.service(forget).service(forget_preflight);
}

/// Forget a visitor: delete the events footfall can still link to them (today's and
/// yesterday's hashes).
///
/// The request is queued on disk before the answer; its rows are gone within
/// `rights.forget_interval_secs` plus a few seconds.
#[utoipa::path(
    tag = "rights",
    request_body(content = ForgetRequest, content_type = "application/json"),
    responses(
        (status = ACCEPTED, description = "Queued for deletion (empty body)"),
        (status = BAD_REQUEST, description = "The body is not a JSON object", body = ErrorBody),
        (status = FORBIDDEN, description = "`Origin` belongs to another site", body = ErrorBody),
        (status = NOT_FOUND, description = "The site is not registered", body = ErrorBody),
        (status = PAYLOAD_TOO_LARGE, description = "The body is larger than 4096 bytes", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Over the client's rate limit", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "The request could not be queued; retry", body = ErrorBody),
    ),
)]
#[post("/api/forget")]
async fn forget(req: HttpRequest, body: web::Bytes, rights: web::Data<RightsState>) -> HttpResponse {
    let response = match forget_visitor(&req, &body, &rights).await {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(error) => error.error_response(),
    };
    cors::decorate(response, cors::allowed_origin(&req, ingest::origin_host(&req).as_deref(), &rights.shared.sites))
}

/// CORS preflight of `POST /api/forget`.
#[utoipa::path(
    tag = "rights",
    responses(
        (status = NO_CONTENT, description = "`Origin` belongs to a registered site: the CORS headers allow the POST"),
        (status = FORBIDDEN, description = "`Origin` belongs to no registered site", body = ErrorBody),
    ),
)]
#[options("/api/forget")]
async fn forget_preflight(req: HttpRequest, rights: web::Data<RightsState>) -> HttpResponse {
    cors::preflight(&req, &rights.shared.sites, &rights.shared.metrics)
}

async fn forget_visitor(req: &HttpRequest, body: &[u8], rights: &RightsState) -> Result<(), IngestError> {
    let intake = &rights.shared;
    let client = intake.addressing.client(req);
    let client_ip = client.ip;
    if let Err(throttled) = intake.rate_limiter.check(&client, std::time::Instant::now()) {
        return Err(IngestError::RateLimited { retry_after_secs: throttled.retry_after_secs() });
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
        .find(&site_name)
        .await
        .ok_or_else(|| IngestError::UnknownSite { field: "site".into(), site: site_name.clone() })?;
    if let Some(host) = ingest::origin_host(req) {
        if !site.allows_host(&host) {
            return Err(IngestError::ForeignOrigin {
                field: "Origin".into(),
                what: "Origin",
                host,
                site: site.domain.to_string(),
            });
        }
    }
    let cookie = request.visitor.filter(|id| !id.is_empty() && id.len() <= ingest::payload::MAX_VISITOR_LEN);
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let today = day_number(chrono::Utc::now());
    let visitors: Vec<u64> = [today, today - 1]
        .into_iter()
        .filter_map(|day| intake.anonymizer.keys().existing_key(day))
        .map(|key| visitor_hash(&key, site.domain.as_str(), cookie.as_deref(), client_ip, user_agent))
        .collect();
    if visitors.is_empty() {
        return Ok(());
    }
    rights.queue.push(site.domain.as_str(), visitors).await.map_err(|error| match error {
        QueueError::Full(_) => IngestError::Unavailable { reason: "the forget queue is full".into() },
        QueueError::Io(_) => {
            tracing::warn!(%error, "could not queue a forget request; answering 503");
            IngestError::Unavailable { reason: "the forget queue cannot be written".into() }
        }
    })?;
    intake.metrics.forgotten_visitors.inc();
    Ok(())
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Serialized, Toml};
    use figment::Figment;

    use super::*;

    fn settings(toml: &str) -> Result<Settings, crate::config::ConfigError> {
        Settings::from_figment(Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml)))
    }

    #[test]
    fn the_forget_interval_is_a_minute_unless_set_and_at_least_a_second() {
        assert_eq!(settings("").unwrap().rights.forget_interval_secs, 60);
        assert_eq!(settings("[rights]\nforget_interval_secs = 5").unwrap().rights.forget_interval_secs, 5);
        assert_eq!(
            settings("[rights]\nforget_interval_secs = 0").unwrap_err().to_string(),
            "invalid configuration: `rights.forget_interval_secs` must be at least 1"
        );
    }

    #[test]
    fn the_schedule_follows_the_settings() {
        let mut settings = Settings::default();
        settings.rights.forget_interval_secs = 30;
        settings.pipeline.batch_max_wait_ms = 500;
        let schedule = schedule(&settings);
        assert_eq!(schedule, Schedule { interval: Duration::from_secs(30), settle: Duration::from_secs(2) });
        assert_eq!(schedule.bound(), Duration::from_secs(32));
    }
}
