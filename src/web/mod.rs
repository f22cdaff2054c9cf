//! What browsers load from footfall: the beacon script at `GET /js/footfall.js` and its
//! link tracking at `GET /js/footfall-links.js` ([`beacon`]), and the page that explains
//! what is counted and lets a visitor opt out at `GET /opt-out` ([`opt_out`]).
//!
//! Everything served is compiled into the binary; nothing here holds state or SQL. The
//! beacon posts its events to `ingest`, and this module never sees them.

pub mod beacon;
pub mod opt_out;

use actix_web::{get, head, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the browser-facing routes.
pub fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(beacon_script)
        .service(beacon_script_head)
        .service(links_script)
        .service(links_script_head)
        .service(opt_out::opt_out_page);
}

/// The beacon script, gzipped when the browser takes it, with `ETag` and `Cache-Control`.
#[utoipa::path(
    tag = "browser",
    responses(
        (status = OK, description = "JavaScript", body = String, content_type = "text/javascript; charset=utf-8"),
        (status = NOT_MODIFIED, description = "`If-None-Match` names the current ETag"),
    ),
)]
#[get("/js/footfall.js")]
async fn beacon_script(req: HttpRequest) -> HttpResponse {
    beacon::BEACON.respond(&req)
}

/// The beacon script's headers.
#[utoipa::path(
    tag = "browser",
    responses(
        (status = OK, description = "The headers `GET` answers with"),
        (status = NOT_MODIFIED, description = "`If-None-Match` names the current ETag"),
    ),
)]
#[head("/js/footfall.js")]
async fn beacon_script_head(req: HttpRequest) -> HttpResponse {
    beacon::BEACON.respond(&req)
}

/// Link tracking (`data-outbound`, `data-downloads`), loaded by the beacon when its tag
/// asks for it; served as the beacon is.
#[utoipa::path(
    tag = "browser",
    responses(
        (status = OK, description = "JavaScript", body = String, content_type = "text/javascript; charset=utf-8"),
        (status = NOT_MODIFIED, description = "`If-None-Match` names the current ETag"),
    ),
)]
#[get("/js/footfall-links.js")]
async fn links_script(req: HttpRequest) -> HttpResponse {
    beacon::LINKS.respond(&req)
}

/// The link tracking script's headers.
#[utoipa::path(
    tag = "browser",
    responses(
        (status = OK, description = "The headers `GET` answers with"),
        (status = NOT_MODIFIED, description = "`If-None-Match` names the current ETag"),
    ),
)]
#[head("/js/footfall-links.js")]
async fn links_script_head(req: HttpRequest) -> HttpResponse {
    beacon::LINKS.respond(&req)
}

#[cfg(test)]
mod tests {
    use utoipa::Path;

    use super::*;

    #[test]
    fn the_scripts_are_routed_at_their_paths() {
        for (path, script) in [
            (beacon_script::path(), &beacon::BEACON),
            (beacon_script_head::path(), &beacon::BEACON),
            (links_script::path(), &beacon::LINKS),
            (links_script_head::path(), &beacon::LINKS),
        ] {
            assert_eq!(path, script.path);
        }
    }
}
