//! footfall: a privacy-first web analytics collector.
//!
//! The flow, one module per stage (DESIGN.md): [`ingest`] (HTTP intake, validation, bot
//! filter) -> [`privacy`] (hashing, reduction) -> [`pipeline`] (bounded queue, batching
//! writer, spool) -> [`store`] (ClickHouse). [`config`] loads settings, [`ops`] serves
//! health and metrics, [`metrics`] counts every event's fate, [`rights`] serves visitors'
//! forget requests, [`web`] serves what browsers load (the beacon script, the opt-out
//! page), [`content`] keeps the content registry (pages and their publish times,
//! imported from sitemaps and feeds), [`goals`] defines what a site counts as a
//! conversion, [`client_ip`] says who the client of a request is
//! (trusted proxies), [`throttle`] limits each client, [`random`] makes random ids, `jobs`
//! runs the background work. [`api`] registers every route and builds the OpenAPI document from them.
//! [`Application`] wires them.

#![forbid(unsafe_code)]
#![warn(unreachable_pub, rust_2018_idioms)]

pub mod api;
pub mod auth;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod content;
pub mod dashboard;
pub mod goals;
pub mod http_limits;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod ops;
pub mod pipeline;
pub mod privacy;
mod private_files;
pub mod random;
pub mod reloads;
pub mod reports;
pub mod rights;
pub mod sites;
pub mod store;
pub mod throttle;
pub mod web;

mod startup;

pub use startup::{init_logging, Application};
