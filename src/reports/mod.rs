//! Reports: `GET /api/v1/sites/{site}/reports/{name}` and the machinery behind it — the
//! report SQL (`src/reports/sql/*.sql`), parameters, result types, who may read what, and
//! the summarizer that keeps day summaries for fast answers. Also serves the OpenAPI
//! document of the whole HTTP API at `GET /api/openapi.json`.
//!
//! Reports read `events` and the rollups of `schema/0007_report_rollups.sql`; they never
//! write events. A request goes: wrong-token throttle ([`crate::auth::AuthFailureLimiter`],
//! per client; 429) -> bearer token ([`directory`]) -> site -> report name -> parameters
//! (`params`) -> queries (`exec`, one module per report) -> JSON or CSV (`render`).
//! README.md ("Reports") defines every number. The throttle is shared with the
//! dashboard's login form and share links ([`Reports::wrong_tokens`]).
//!
//! Small counts (`small_counts`): breakdown rows with fewer than `reports.min_visitors`
//! visitors are folded into `(other)`, and a filtered request whose filters match fewer
//! than that many visitors in its range is refused (403) in every report, before any
//! report query runs; the admin token is exempt from the latter. The dashboard's panels
//! come through [`Reports::respond`], so they are held to the same rules.

mod breakdowns;
mod busiest;
#[doc(hidden)]
pub mod describe;
pub mod directory;
mod discovery;
pub mod error;
mod exec;
pub mod params;
mod realtime;
mod render;
mod small_counts;
mod sql;
pub mod summarize;
mod time;
mod timeseries;
mod top_content;

#[cfg(test)]
mod compat;

use std::sync::Arc;
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono_tz::Tz;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::auth::{self, AuthFailureLimiter};
use crate::client_ip::ClientAddressing;
use crate::metrics::Metrics;
use crate::store::{Site, Store, StoreError};
use directory::{Directory, Grant};
pub use error::ReportError;
use exec::{Ctx, Scope};
use params::{Interval, Params};
use render::{Answer, Table};
use small_counts::Folding;
use time::Range;

/// The OpenAPI document of footfall's HTTP API.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// The reports footfall serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportName {
    TopContent,
    BusiestTimes,
    ContentDiscovery,
    Sources,
    Devices,
    Countries,
    Timeseries,
    Realtime,
}

impl ReportName {
    /// Every report, in the order the README lists them.
    pub const ALL: [Self; 8] = [
        Self::TopContent,
        Self::BusiestTimes,
        Self::ContentDiscovery,
        Self::Sources,
        Self::Devices,
        Self::Countries,
        Self::Timeseries,
        Self::Realtime,
    ];

    /// The name in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopContent => "top-content",
            Self::BusiestTimes => "busiest-times",
            Self::ContentDiscovery => "content-discovery",
            Self::Sources => "sources",
            Self::Devices => "devices",
            Self::Countries => "countries",
            Self::Timeseries => "timeseries",
            Self::Realtime => "realtime",
        }
    }

    /// The report named `name` in a URL.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|report| report.as_str() == name)
    }

    /// The names, comma-separated, for messages.
    pub fn list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    /// Whether the report lists rows and takes `limit`.
    fn takes_limit(self) -> bool {
        matches!(self, Self::TopContent | Self::ContentDiscovery | Self::Sources | Self::Devices | Self::Countries)
    }
}

/// What the report handlers share.
pub struct ReportsState {
    store: Store,
    directory: Directory,
    /// Breakdown rows with fewer visitors are folded into `(other)`, and filters that match
    /// fewer visitors are refused (admin token exempt); 0 or 1: neither.
    min_visitors: u64,
    /// Who the client of a request is, for the wrong-token throttle.
    addressing: ClientAddressing,
    /// Wrong tokens per client: the reports API's and the dashboard's logins and share
    /// links together.
    wrong_tokens: AuthFailureLimiter,
    metrics: Arc<Metrics>,
}

/// The reports stage, built once per application.
#[derive(Clone)]
pub struct Reports {
    state: web::Data<ReportsState>,
}

impl Reports {
    /// Loads the registered sites and report tokens. Breakdown rows with fewer than
    /// `min_visitors` visitors will be folded into one `(other)` row, and filtered requests
    /// whose filters match fewer visitors refused (but for the admin token). Wrong bearer
    /// tokens are throttled per client as `addressing` finds it, and counted in `metrics`.
    ///
    /// # Errors
    /// ClickHouse being unreachable.
    pub async fn build(
        store: Store,
        admin_token: Option<String>,
        min_visitors: u64,
        addressing: ClientAddressing,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StoreError> {
        let directory = Directory::new(admin_token);
        directory.reload(&store).await?;
        let wrong_tokens = AuthFailureLimiter::default();
        let state = ReportsState { store, directory, min_visitors, addressing, wrong_tokens, metrics };
        Ok(Self { state: web::Data::new(state) })
    }

    /// Starts the background tasks: refreshing sites and tokens, and the summarizer every
    /// `summarize_every_secs` seconds (not at all when 0).
    pub fn spawn_tasks(&self, summarize_every_secs: u64) -> Vec<JoinHandle<()>> {
        let mut tasks = vec![tokio::spawn(directory::refresh(self.state.directory.clone(), self.state.store.clone()))];
        if summarize_every_secs > 0 {
            let every = std::time::Duration::from_secs(summarize_every_secs);
            tasks.push(tokio::spawn(summarize::run(self.state.store.clone(), every)));
        }
        tasks
    }

    /// Registers `GET /api/v1/sites/{site}/reports/{name}` and `GET /api/openapi.json`.
    pub fn routes(&self) -> impl FnOnce(&mut web::ServiceConfig) {
        let state = self.state.clone();
        move |config| {
            config
                .app_data(state)
                .route("/api/v1/sites/{site}/reports/{name}", web::get().to(report))
                .route("/api/openapi.json", web::get().to(openapi));
        }
    }
}

impl Reports {
    /// Who may read what: the dashboard checks its logins and share links here.
    pub fn directory(&self) -> &Directory {
        &self.state.directory
    }

    /// The store reports read.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The wrong-token throttle: the dashboard's login form and share links use this one
    /// too, so a client's guesses through every door count against one budget.
    pub fn wrong_tokens(&self) -> &AuthFailureLimiter {
        &self.state.wrong_tokens
    }

    /// Answers report `name` of `site` (query string and `Accept` from `req`) for a caller
    /// whose access was decided elsewhere (the dashboard's session).
    ///
    /// # Errors
    /// As the report endpoint: another site, unknown site or report, bad parameters,
    /// filters that match fewer than `reports.min_visitors` visitors (unless `grant` is
    /// the admin's), ClickHouse failing.
    pub async fn respond(
        &self,
        req: &HttpRequest,
        grant: &Grant,
        site: &str,
        name: &str,
    ) -> Result<HttpResponse, ReportError> {
        respond(&self.state, req, grant, site, name).await
    }
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

async fn report(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<ReportsState>,
) -> Result<HttpResponse, ReportError> {
    let (site, name) = path.into_inner();
    let grant = match authorize(&state, &req).await {
        Ok(grant) => grant,
        Err(refusal) => return Ok(refusal),
    };
    respond(&state, &req, &grant, &site, &name).await
}

/// What the request's bearer token allows, through the wrong-token throttle: a client
/// that sent [`auth::WRONG_TOKENS_PER_WINDOW`] wrong tokens gets 429 with `Retry-After`
/// and a JSON `{"error", "field"}` body for every token until its window has passed,
/// before its token is looked at. A request without a token is not a wrong token.
///
/// # Errors
/// The finished refusal: 401 without a token or with a wrong one, 429 when throttled.
async fn authorize(state: &ReportsState, req: &HttpRequest) -> Result<Grant, HttpResponse> {
    let token = auth::bearer_token(req).ok_or_else(|| ReportError::MissingToken.error_response())?;
    let client = state.addressing.client(req);
    let attempt = state.wrong_tokens.attempt(&client, Instant::now()).map_err(|throttled| {
        state.metrics.report_tokens_throttled.inc();
        ReportError::TooManyWrongTokens { retry_after_secs: throttled.retry_after_secs() }.error_response()
    })?;
    match state.directory.grant_token(token, &state.store).await {
        Ok(grant) => {
            attempt.succeeded();
            Ok(grant)
        }
        Err(error) => {
            state.metrics.report_token_failures.inc();
            Err(error.error_response())
        }
    }
}

async fn respond(
    state: &ReportsState,
    req: &HttpRequest,
    grant: &Grant,
    site: &str,
    name: &str,
) -> Result<HttpResponse, ReportError> {
    let site = Site::new(site, "UTC", &[])
        .map_err(|_| ReportError::InvalidSite { site: site.chars().take(253).collect() })?
        .domain;
    if matches!(grant, Grant::Site(allowed) if *allowed != site) {
        return Err(ReportError::OtherSite);
    }
    let site_tz = state.directory.site_time_zone(&site, &state.store).await?;
    let report =
        ReportName::parse(name).ok_or_else(|| ReportError::UnknownReport { name: name.chars().take(64).collect() })?;
    let params = Params::parse(req.query_string())?;
    check_applies(report, &params)?;
    let ctx = Ctx::new(state.store.client(), state.store.database(), report.as_str());
    let answer = answer(&ctx, report, &site, site_tz, &params, state.min_visitors, grant).await?;
    Ok(answer.respond(req))
}

/// Refuses parameters the report does not take, so a mistake is not silently ignored.
fn check_applies(report: ReportName, params: &Params) -> Result<(), ReportError> {
    let refuse = |field: &str, problem: &str| {
        Err(ReportError::InvalidParameter { field: field.to_string(), problem: problem.to_string() })
    };
    if params.interval.is_some() && report != ReportName::Timeseries {
        return refuse("interval", "`interval` applies to the timeseries report only");
    }
    if params.limit.is_some() && !report.takes_limit() {
        return refuse("limit", "`limit` applies to top-content, content-discovery, sources, devices, countries");
    }
    if report == ReportName::Realtime && (params.from.is_some() || params.to.is_some()) {
        return refuse(
            if params.from.is_some() { "from" } else { "to" },
            "realtime covers the last 5 minutes; it takes no `from` or `to`",
        );
    }
    Ok(())
}

/// The answer of `report`. Filtered requests are first checked against `min_visitors`
/// (except with the admin token), over the range the report covers: refused, no report
/// query runs.
async fn answer(
    ctx: &Ctx,
    report: ReportName,
    site: &str,
    site_tz: Tz,
    params: &Params,
    min_visitors: u64,
    grant: &Grant,
) -> Result<Answer, ReportError> {
    let tz = params.tz.unwrap_or(site_tz);
    let filters = params.filters();
    let filter_floor = if *grant == Grant::Admin { 0 } else { min_visitors };
    let mut fields = vec![("report", Value::from(report.as_str())), ("site", Value::from(site))];
    if report == ReportName::Realtime {
        let until = chrono::Utc::now().timestamp() as u32 + 1;
        small_counts::check_filters(ctx, site, (until - realtime::WINDOW_SECS, until), filters, filter_floor).await?;
        let now = realtime::now(ctx, site, until, filters).await?;
        let (since, until) = (i64::from(until - realtime::WINDOW_SECS), i64::from(until));
        fields.extend([
            ("tz", Value::from(tz.name())),
            ("since", time::rfc3339(tz, since).into()),
            ("until", time::rfc3339(tz, until).into()),
            ("views", now.views.into()),
            ("visitors", now.visitors.into()),
        ]);
        let mut csv = Table::new(&["since", "until", "views", "visitors"]);
        csv.push(vec![
            time::rfc3339(tz, since).into(),
            time::rfc3339(tz, until).into(),
            now.views.into(),
            now.visitors.into(),
        ]);
        return Ok(Answer { fields, tables: Vec::new(), csv: Some(csv) });
    }

    let (from, to) = params.dates()?;
    let range = Range::new(from, to, tz);
    small_counts::check_filters(ctx, site, (range.start, range.end), filters, filter_floor).await?;
    let scope = Scope { site, range, filters, site_time_zone: tz == site_tz };
    fields.extend([
        ("from", Value::from(from.to_string())),
        ("to", Value::from(to.to_string())),
        ("tz", Value::from(tz.name())),
    ]);
    if !filters.is_empty() {
        fields.push(("filters", json!({"path": params.path, "source": params.source})));
    }
    let limit = params.limit_or_default();
    let (tables, folding) = match report {
        ReportName::TopContent => breakdown(top_content::table(ctx, &scope, limit, min_visitors).await?),
        ReportName::ContentDiscovery => breakdown(discovery::table(ctx, &scope, limit, min_visitors).await?),
        ReportName::Sources => breakdown(breakdowns::sources(ctx, &scope, limit, min_visitors).await?),
        ReportName::Devices => breakdown(breakdowns::devices(ctx, &scope, limit, min_visitors).await?),
        ReportName::Countries => breakdown(breakdowns::countries(ctx, &scope, limit, min_visitors).await?),
        ReportName::Timeseries => {
            let interval = params.interval.unwrap_or(Interval::Day);
            fields.push(("interval", Value::from(if interval == Interval::Hour { "hour" } else { "day" })));
            (vec![("rows", timeseries::table(ctx, &scope, interval).await?)], None)
        }
        ReportName::BusiestTimes => {
            let (grid, peak, windows) = busiest::answer(ctx, &scope).await?;
            fields.push(("peak", peak));
            (vec![("grid", grid), ("windows", windows)], None)
        }
        ReportName::Realtime => unreachable!("answered above"),
    };
    if let Some(Folding { min_visitors, folded_rows }) = folding {
        fields.push(("small_counts", json!({"min_visitors": min_visitors, "folded_rows": folded_rows})));
    }
    Ok(Answer { fields, tables, csv: None })
}

/// The answer of a breakdown report: its rows, and what small-count folding did.
fn breakdown((rows, folding): (Table, Folding)) -> (Vec<(&'static str, Table)>, Option<Folding>) {
    (vec![("rows", rows)], Some(folding))
}
