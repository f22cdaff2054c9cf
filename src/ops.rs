//! Operations endpoints: `GET /healthz` (the process is up), `GET /readyz` (ClickHouse
//! answers and the writer can deliver) and `GET /metrics` (Prometheus text).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::metrics::Metrics;
use crate::pipeline::EventQueue;
use crate::store::Store;

/// What the operations endpoints read.
pub struct OpsState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub queue: EventQueue,
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
    let queue_depth = state.queue.depth();
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready", "clickhouse": "ok", "queue_depth": queue_depth})),
        Err(error) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not ready",
            "clickhouse": error.to_string(),
            "queue_depth": queue_depth,
        })),
    }
}

async fn metrics(state: web::Data<OpsState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(state.queue.depth()))
}
