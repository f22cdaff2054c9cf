//! Operations endpoints: `GET /healthz` (the process is up), `GET /readyz` (ClickHouse
//! answers; with queue depth and spool backlog) and `GET /metrics` (Prometheus text).

use std::sync::Arc;

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::metrics::{Gauges, Metrics};
use crate::pipeline::spool::Spool;
use crate::pipeline::{EventSink, ReplayStatus};
use crate::store::Store;

/// What the operations endpoints read.
pub struct OpsState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub sink: EventSink,
    pub spool: Arc<Spool>,
    pub replay: ReplayStatus,
}

impl OpsState {
    fn gauges(&self) -> Gauges {
        Gauges {
            queue_depth: self.sink.depth() as u64,
            spool_bytes: self.spool.used(),
            spool_caught_up: self.replay.caught_up(),
        }
    }
}

/// Registers the operations routes.
pub fn configure(config: &mut ServiceConfig<'_>) {
    config.service(healthz).service(readyz).service(metrics);
}

/// `/healthz`: the process answers.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// `/readyz`: whether ClickHouse answers, and the backlog.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "clickhouse": "ok", "queue_depth": 0, "spool_bytes": 0, "spool_caught_up": true}))]
struct Readiness {
    /// `ready` or `not ready`.
    status: &'static str,
    /// `ok`, or why ClickHouse did not answer.
    clickhouse: String,
    /// Events waiting in the memory queue.
    queue_depth: u64,
    /// Bytes of spool segments on disk (delivered or not).
    spool_bytes: u64,
    /// True when the spool holds nothing undelivered.
    spool_caught_up: bool,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = OK, description = "Up", body = Health)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// ClickHouse answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = OK, description = "Ready", body = Readiness),
        (status = SERVICE_UNAVAILABLE, description = "ClickHouse did not answer", body = Readiness,
            example = json!({"status": "not ready", "clickhouse": "network error: ...", "queue_depth": 12, "spool_bytes": 0, "spool_caught_up": true})),
    ),
)]
#[get("/readyz")]
async fn readyz(state: web::Data<OpsState>) -> HttpResponse {
    let gauges = state.gauges();
    let (mut response, status, clickhouse) = match state.store.ping().await {
        Ok(()) => (HttpResponse::Ok(), "ready", "ok".to_string()),
        Err(error) => (HttpResponse::ServiceUnavailable(), "not ready", error.to_string()),
    };
    response.json(Readiness {
        status,
        clickhouse,
        queue_depth: gauges.queue_depth,
        spool_bytes: gauges.spool_bytes,
        spool_caught_up: gauges.spool_caught_up,
    })
}

/// Prometheus metrics.
#[utoipa::path(
    tag = "operations",
    responses((status = OK, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain; version=0.0.4; charset=utf-8")),
)]
#[get("/metrics")]
async fn metrics(state: web::Data<OpsState>) -> HttpResponse {
    HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(state.metrics.render(&state.gauges()))
}
