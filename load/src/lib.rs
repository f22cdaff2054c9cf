//! footfall-load: the load kit for footfall's event intake.
//!
//! [`traffic`] models what people (and bots, and broken clients) send; [`schedule`] says
//! when each request is due (open loop, no coordinated omission) or lets connections run
//! flat out; [`client`] holds the HTTP/1.1 connections (loopback targets only); [`driver`]
//! runs the connections and [`stats`] counts latencies and outcomes; [`verify`] registers
//! the run's sites, waits for the collector to flush and compares every site's rows in
//! ClickHouse with the events footfall acknowledged; [`report`] prints the result. The
//! `footfall-load` binary wires them to a command line; `footfall-baseline` is the
//! do-nothing server footfall's throughput is compared with.

#![forbid(unsafe_code)]
#![warn(unreachable_pub, rust_2018_idioms)]

pub mod client;
pub mod driver;
pub mod report;
pub mod schedule;
pub mod stats;
pub mod traffic;
pub mod verify;
