//! Integration tests: the real application against the real ClickHouse server
//! (`CLICKHOUSE_TEST_URL`, default `http://127.0.0.1:18123`, started by
//! `scripts/test`), one fresh database per test so tests run in parallel.

mod abuse;
mod bad_input;
mod beacon;
mod browser;
mod cluster;
mod compare;
mod content;
mod content_dashboard;
mod conversions;
mod dashboard;
mod dashboard_browser;
mod describe;
mod filters;
mod helpers;
mod ingest;
mod not_stored;
mod openapi;
mod other_row;
mod outage;
mod privacy;
mod promise;
mod reliability;
mod report_access;
mod reports;
mod schema;
mod share_locks;
mod shutdown;
mod small_counts;
mod startup;
mod test_servers;
mod web;
