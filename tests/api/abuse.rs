//! Hostile clients (issue 15): each attack replayed from loopback against the real server,
//! with the configuration that makes it meaningful (a trusted proxy on 127.0.0.1 that sets
//! `X-Forwarded-For`).

mod auth;
mod forget;
mod intake;
