//! Operations endpoints: `GET /healthz` (the process is up), `GET /readyz` (ClickHouse
//! answers; with queue depth and spool backlog) and `GET /metrics` (Prometheus text).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;

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
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<OpsState>) -> HttpResponse {
    let gauges = state.gauges();
    let (mut response, status, clickhouse) = match state.store.ping().await {
        Ok(()) => (HttpResponse::Ok(), "ready", "ok".to_string()),
        Err(error) => (HttpResponse::ServiceUnavailable(), "not ready", error.to_string()),
    };
    response.json(json!({
        "status": status,
        "clickhouse": clickhouse,
        "queue_depth": gauges.queue_depth,
        "spool_bytes": gauges.spool_bytes,
        "spool_caught_up": gauges.spool_caught_up,
    }))
}

async fn metrics(state: web::Data<OpsState>) -> HttpResponse {
    HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(state.metrics.render(&state.gauges()))
}
