//! What browsers load from footfall: the beacon script at `GET /js/footfall.js`
//! ([`beacon`]) and the page that explains what is counted and lets a visitor opt out at
//! `GET /opt-out` ([`opt_out`]). (Dashboard pages and their auth will live here too.)
//!
//! Everything served is compiled into the binary; nothing here holds state or SQL. The
//! beacon posts its events to `ingest`, and this module never sees them.

pub mod beacon;
pub mod opt_out;

use actix_web::web;

/// Registers the browser-facing routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource(beacon::PATH).route(web::get().to(beacon::script)).route(web::head().to(beacon::script)))
        .route(opt_out::PATH, web::get().to(opt_out::page));
}
