//! What browsers load from footfall: the beacon script at `GET /js/footfall.js` and its
//! link tracking at `GET /js/footfall-links.js` ([`beacon`]), and the page that explains
//! what is counted and lets a visitor opt out at `GET /opt-out` ([`opt_out`]).
//!
//! Everything served is compiled into the binary; nothing here holds state or SQL. The
//! beacon posts its events to `ingest`, and this module never sees them.

pub mod beacon;
pub mod opt_out;

use actix_web::web;

/// Registers the browser-facing routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(script_resource(&beacon::BEACON))
        .service(script_resource(&beacon::LINKS))
        .route(opt_out::PATH, web::get().to(opt_out::page));
}

/// `GET` and `HEAD` of a script.
fn script_resource(script: &'static beacon::Script) -> actix_web::Resource {
    let respond = move |req: actix_web::HttpRequest| async move { script.respond(&req) };
    web::resource(script.path).route(web::get().to(respond)).route(web::head().to(respond))
}
