//! Reports: `GET /api/v1/sites/{site}/reports/{name}` and the machinery behind it — the
//! report SQL (`src/reports/sql/*.sql`), parameters, result types, and the statements of
//! the summarizer (which `jobs` runs) that keeps day summaries for fast answers.
//!
//! Reports read `events`, the rollups of `schema/0007_report_rollups.sql` and
//! `0020_page_histograms.sql`, the `not_stored` counts (`0014_not_stored.sql`), the content
//! registry (`0016_content.sql`) and the goal and funnel definitions (`0018_goals.sql`);
//! they never write events. A request goes: wrong-token throttle
//! ([`crate::auth::AuthFailureLimiter`], per client; 429) -> bearer token
//! ([`crate::auth::Directory`]) -> site (its time zone
//! from [`crate::sites::SiteRegistry`]) -> report name -> parameters (`params`; a share
//! link's locked filters applied whatever the query says, `apply_locks`) -> queries
//! (`exec`, one module per report) -> the report's typed answer (defined in its module,
//! listed in `render::Answer`) as JSON, or its main table as CSV (`csv`).
//! docs/reports.md defines every number. The throttle is shared with the dashboard's
//! login form and share links ([`Reports::wrong_tokens`]), and the whole token check with
//! the content registry's route (`Reports::authorize`).
//!
//! Small counts (`small_counts`): breakdown rows with fewer than `reports.min_visitors`
//! visitors are folded into `(other)`, and a filtered request whose filters match fewer
//! than that many visitors in its range is refused (403) in every report, before any
//! report query runs; the admin token is exempt from the latter. The dashboard's panels
//! come through [`Reports::respond`], so they are held to the same rules.
//!
//! Comparison (`compare`): with `compare=previous|year` every report also reads a
//! comparison range beside its own, and each number carries its comparison value
//! (`previous`), held to the same small-count rules; the range, the pairing and the rules
//! live in `compare`.

mod breakdowns;
mod busiest;
mod compare;
mod csv;
#[doc(hidden)]
pub mod describe;
mod discovery;
pub mod error;
mod events;
mod exec;
mod filters;
mod funnel;
mod goals;
pub mod grafana_sql;
mod not_stored;
pub mod params;
mod publish_timing;
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

use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use chrono_tz::Tz;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::ErrorBody;
use crate::auth::{self, AuthFailureLimiter, Directory, Grant};
use crate::client_ip::ClientAddressing;
use crate::metrics::Metrics;
use crate::sites::{Domain, SiteRegistry};
use crate::store::Store;
use breakdowns::{Countries, Devices, Sources};
use discovery::ContentDiscovery;
pub use error::ReportError;

/// The report filters' query parameters, in order (`prop` stands for `prop.KEY`): what
/// the dashboard carries from its URL into every panel's request.
pub(crate) fn filter_parameters() -> impl Iterator<Item = &'static str> {
    filters::Dimension::ALL.into_iter().map(filters::Dimension::name)
}
use events::{EventProps, Events, PropBreakdown};
use exec::{Ctx, Scope};
pub(crate) use filters::PATH_CHARS;
use goals::Goals;
use params::{Interval, LockedFilters, Params};
use realtime::{Realtime, RealtimeRow};
pub(crate) use render::Answer;
use render::{AppliedFilters, Header};
pub use small_counts::EXACT_OTHER_VISITORS_MAX_EVENTS;
pub(crate) use small_counts::OTHER;
use time::Range;
use timeseries::Timeseries;
use top_content::TopContent;

/// The reports footfall serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportName {
    TopContent,
    BusiestTimes,
    ContentDiscovery,
    PublishTiming,
    Sources,
    Devices,
    Countries,
    Timeseries,
    Realtime,
    NotStored,
    Events,
    Goals,
    Funnel,
}

impl ReportName {
    /// Every report, in the order docs/reports.md lists them.
    pub const ALL: [Self; 13] = [
        Self::TopContent,
        Self::BusiestTimes,
        Self::ContentDiscovery,
        Self::PublishTiming,
        Self::Sources,
        Self::Devices,
        Self::Countries,
        Self::Timeseries,
        Self::Realtime,
        Self::NotStored,
        Self::Events,
        Self::Goals,
        Self::Funnel,
    ];

    /// The name in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopContent => "top-content",
            Self::BusiestTimes => "busiest-times",
            Self::ContentDiscovery => "content-discovery",
            Self::PublishTiming => "publish-timing",
            Self::Sources => "sources",
            Self::Devices => "devices",
            Self::Countries => "countries",
            Self::Timeseries => "timeseries",
            Self::Realtime => "realtime",
            Self::NotStored => "not-stored",
            Self::Events => "events",
            Self::Goals => "goals",
            Self::Funnel => "funnel",
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

    /// Whether the report takes filters (not-stored counts events by reason, not by page,
    /// source or visitor).
    pub fn takes_filters(self) -> bool {
        self != Self::NotStored
    }

    /// Whether the report lists rows and takes `limit`.
    fn takes_limit(self) -> bool {
        matches!(
            self,
            Self::TopContent | Self::ContentDiscovery | Self::Sources | Self::Devices | Self::Countries | Self::Events
        )
    }
}

/// The name as the OpenAPI document shows it: one of [`ReportName::ALL`].
impl utoipa::PartialSchema for ReportName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.map(Self::as_str)))
            .description(Some("The report"))
            .into()
    }
}

impl utoipa::ToSchema for ReportName {}

/// What the report handlers share.
pub struct ReportsState {
    store: Store,
    sites: SiteRegistry,
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
    /// The reports of the sites in `sites`, for the tokens `directory` knows. Breakdown
    /// rows with fewer than `min_visitors` visitors will be folded into one `(other)` row,
    /// and filtered requests whose filters match fewer visitors refused (but for the admin
    /// token). Wrong bearer tokens are throttled per client as `addressing` finds it, and
    /// counted in `metrics`.
    pub fn new(
        store: Store,
        sites: SiteRegistry,
        directory: Directory,
        min_visitors: u64,
        addressing: ClientAddressing,
        metrics: Arc<Metrics>,
    ) -> Self {
        let wrong_tokens = AuthFailureLimiter::default();
        let state = ReportsState { store, sites, directory, min_visitors, addressing, wrong_tokens, metrics };
        Self { state: web::Data::new(state) }
    }

    /// What the report handler reads ([`configure`] registers it); added to the app by
    /// `startup`.
    pub fn state(&self) -> web::Data<ReportsState> {
        self.state.clone()
    }
}

/// Registers `GET /api/v1/sites/{site}/reports/{name}` (its state is [`Reports::state`]).
pub fn configure(config: &mut ServiceConfig<'_>) {
    config.service(get_report);
}

impl Reports {
    /// Who may read what: the dashboard checks its logins and share links here.
    pub fn directory(&self) -> &Directory {
        &self.state.directory
    }

    /// The registered sites.
    pub fn sites(&self) -> &SiteRegistry {
        &self.state.sites
    }

    /// The wrong-token throttle: the dashboard's login form and share links use this one
    /// too, so a client's guesses through every door count against one budget.
    pub fn wrong_tokens(&self) -> &AuthFailureLimiter {
        &self.state.wrong_tokens
    }

    /// What `req`'s bearer token allows, decided as for the reports API (see [`authorize`]),
    /// for another bearer-token route.
    ///
    /// # Errors
    /// The finished refusal (401 or 429) to send as it is.
    pub(crate) async fn authorize(&self, req: &HttpRequest) -> Result<Grant, HttpResponse> {
        authorize(&self.state, req).await
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

/// A report of one site.
///
/// Dates are inclusive, in the site's time zone unless `tz` is given. Visitors are
/// distinct visitor hashes per local day, added over the days (visitor-days). JSON by
/// default; `Accept: text/csv` gives the main table (`rows`, `grid` for busiest-times,
/// the counts for realtime) as CSV with a header line. Breakdown rows with fewer than
/// `reports.min_visitors` visitors are folded into one `(other)` row. With
/// `compare=previous|year`, each row and total also has `previous`, its numbers over the
/// comparison range. Needs the admin token or a report token of this site.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(
        ("site" = String, Path, description = "The site's domain", max_length = 253, example = "example.com"),
        ("name" = inline(ReportName), Path),
        Params,
    ),
    responses(
        (status = OK, description = "The report: one of the answers, by `name`", content(
            (Answer = "application/json"),
            (String = "text/csv", example = "path,views,visitors,entries,avg_engaged_seconds\r\n/blog/new,5,4,4,12.2\r\n"),
        )),
        (status = BAD_REQUEST, description = "A parameter is invalid, unknown, repeated, or not taken by this report (`field` names it)", body = ErrorBody),
        (status = UNAUTHORIZED, description = "No bearer token, or a wrong one", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"footfall reports\"`"))),
        (status = FORBIDDEN, description = "The token is another site's, the filters match fewer than `reports.min_visitors` visitors, \
            or the token is a share link that locks a filter the request gives another value (or asks not-stored, which takes no filter)", body = ErrorBody),
        (status = NOT_FOUND, description = "No such site or report", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Too many wrong tokens from this client; every token is refused until `Retry-After` has passed", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "ClickHouse did not answer; retry later", body = ErrorBody),
    ),
)]
#[get("/api/v1/sites/{site}/reports/{name}")]
async fn get_report(
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
/// before its token is looked at. A request without a token is not a wrong token. The
/// reports API and every other bearer-token route (the content registry) go through it,
/// so they share one throttle, one set of refusals and the token metrics.
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
    match state.directory.grant_token(token).await {
        Ok(grant) => {
            attempt.succeeded();
            Ok(grant)
        }
        Err(error) => {
            state.metrics.report_token_failures.inc();
            Err(ReportError::from(error).error_response())
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
    let site = Domain::parse(site).map_err(|_| ReportError::InvalidSite { site: site.chars().take(253).collect() })?;
    if matches!(grant, Grant::Site { site: allowed, .. } if *allowed != site.as_str()) {
        return Err(ReportError::OtherSite);
    }
    let site_tz = state
        .sites
        .find(site.as_str())
        .await
        .ok_or_else(|| ReportError::UnknownSite { site: site.to_string() })?
        .time_zone;
    let site = site.as_str();
    let report =
        ReportName::parse(name).ok_or_else(|| ReportError::UnknownReport { name: name.chars().take(64).collect() })?;
    let mut params = Params::parse(req.query_string())?;
    if let Grant::Site { locked_filters, .. } = grant {
        apply_locks(report, &mut params, locked_filters)?;
    }
    check_applies(report, &params)?;
    let goals = if matches!(report, ReportName::Goals | ReportName::Funnel) || params.names_goals() {
        state.store.goals(Some(site)).await?
    } else {
        Vec::new()
    };
    params.resolve_goals(&goals)?;
    let funnel = match &params.funnel {
        Some(name) => Some(funnel_steps(&state.store, site, name, &goals).await?),
        None => None,
    };
    let ctx = Ctx::new(state.store.client(), state.store.database(), report.as_str());
    let target = Target { site, site_tz, goals: &goals, funnel: funnel.as_ref() };
    let answer = answer(&ctx, report, &target, &params, state.min_visitors, grant).await?;
    Ok(answer.respond(req))
}

/// Applies the filters a share link locks (`stored`, as `LockedFilters::to_query` wrote
/// them; empty: none) to a request made with it ([`Params::lock`]), whatever its query
/// string says.
///
/// # Errors
/// 403 ([`ReportError::LockedFilter`]) when the request gives a locked filter another
/// value, asks for a report that takes no filters (not-stored), or the stored filters no
/// longer pass the filter rules (the link then shows nothing until it is made again).
fn apply_locks(report: ReportName, params: &mut Params, stored: &str) -> Result<(), ReportError> {
    let locked = LockedFilters::parse(stored).map_err(|error| ReportError::LockedFilter {
        field: error.field().unwrap_or("filter").to_string(),
        problem: format!(
            "this share link's locked filters no longer pass the filter rules ({error}); make a new share link"
        ),
    })?;
    let Some((field, _)) = locked.pairs().into_iter().next() else {
        return Ok(());
    };
    if !report.takes_filters() {
        return Err(ReportError::LockedFilter {
            field,
            problem: format!("this share link locks filters, and {} takes none", report.as_str()),
        });
    }
    params.lock(&locked)
}

/// Refuses parameters the report does not take, so a mistake is not silently ignored.
fn check_applies(report: ReportName, params: &Params) -> Result<(), ReportError> {
    let refuse = |field: &str, problem: &str| {
        Err(ReportError::InvalidParameter { field: field.to_string(), problem: problem.to_string() })
    };
    if params.interval.is_some() && report != ReportName::Timeseries {
        return refuse("interval", "`interval` applies to the timeseries report only");
    }
    if params.sort.is_some() && report != ReportName::TopContent {
        return refuse("sort", "`sort` applies to the top-content report only");
    }
    if params.measure.is_some() && report != ReportName::BusiestTimes {
        return refuse("measure", "`measure` applies to the busiest-times report only");
    }
    if params.limit.is_some() && !report.takes_limit() {
        return refuse(
            "limit",
            "`limit` applies to top-content, content-discovery, sources, devices, countries, events",
        );
    }
    if params.breakdown.is_some() && report != ReportName::Events {
        return refuse("breakdown", "`breakdown` applies to the events report only");
    }
    if params.funnel.is_some() != (report == ReportName::Funnel) {
        return refuse("funnel", "the funnel report, and only it, takes `funnel` (a funnel's name)");
    }
    if let Some(filter) = params.filters.first().filter(|_| !report.takes_filters()) {
        let name = filter.parameter();
        return refuse(
            &name,
            &format!("not-stored counts events by reason, not by page, source or visitor; it takes no filter such as `{name}`"),
        );
    }
    if report == ReportName::Realtime && (params.from.is_some() || params.to.is_some()) {
        return refuse(
            if params.from.is_some() { "from" } else { "to" },
            "realtime covers the last 5 minutes; it takes no `from` or `to`",
        );
    }
    Ok(())
}

/// The site a report is about: its domain, time zone, goals and funnel (read only when
/// the request needs them: the goals and funnel reports, a `goal` filter).
struct Target<'a> {
    site: &'a str,
    site_tz: Tz,
    goals: &'a [crate::goals::Goal],
    funnel: Option<&'a funnel::Steps>,
}

/// The steps of `site`'s funnel `name`, each with its goal's matcher from `goals`.
///
/// # Errors
/// No such funnel, or a step whose goal was removed since (400 naming `funnel`);
/// ClickHouse failing.
async fn funnel_steps(
    store: &Store,
    site: &str,
    name: &str,
    goals: &[crate::goals::Goal],
) -> Result<funnel::Steps, ReportError> {
    let invalid = |problem: String| ReportError::InvalidParameter { field: "funnel".into(), problem };
    let funnels = store.funnels(Some(site)).await?;
    let defined = funnels.iter().find(|funnel| funnel.name.as_str() == name).ok_or_else(|| {
        invalid(format!(
            "`funnel` names no funnel of this site: `{name}`; `footfall funnels list --site SITE` lists them"
        ))
    })?;
    let steps = defined
        .steps
        .iter()
        .map(|step| match goals.iter().find(|goal| goal.name == *step) {
            Some(goal) => Ok((step.to_string(), goal.target.matcher())),
            None => Err(invalid(format!(
                "funnel `{name}` has a step `{step}` whose goal the site no longer has; redefine the funnel"
            ))),
        })
        .collect::<Result<_, _>>()?;
    Ok(funnel::Steps { name: name.to_string(), steps })
}

/// The answer of `report`. Filtered requests are first checked against `min_visitors`
/// (except with the admin token), over the range the report covers: refused, no report
/// query runs. With `compare`, the comparison range is checked too: too few there
/// suppresses every `previous` instead of refusing.
async fn answer(
    ctx: &Ctx,
    report: ReportName,
    target: &Target<'_>,
    params: &Params,
    min_visitors: u64,
    grant: &Grant,
) -> Result<Answer, ReportError> {
    let Target { site, site_tz, goals, funnel } = *target;
    let tz = params.tz.unwrap_or(site_tz);
    let filters = params.filters();
    let filter_floor = if *grant == Grant::Admin { 0 } else { min_visitors };
    // The filters over the main range (too few: refused) and the comparison's (too few:
    // every `previous` suppressed), both at once.
    let check = |bounds: (u32, u32)| small_counts::check_filters(ctx, site, bounds, filters, filter_floor);
    let check_both = |main: (u32, u32), against: Option<(u32, u32)>| async move {
        let compared = async {
            match against {
                Some(bounds) => match check(bounds).await {
                    Ok(()) => Ok(false),
                    Err(ReportError::TooFewVisitors { .. }) => Ok(true),
                    Err(error) => Err(error),
                },
                None => Ok(false),
            }
        };
        let (checked, suppressed) = tokio::join!(check(main), compared);
        checked?;
        suppressed
    };
    if report == ReportName::Realtime {
        let until = chrono::Utc::now().timestamp() as u32 + 1;
        let window = realtime::WINDOW_SECS;
        let then = params.compare.map(|mode| (mode, compare::realtime_until(mode, tz, until, window)));
        let suppressed = check_both((until - window, until), then.map(|(_, until)| (until - window, until))).await?;
        let compared = async {
            match then {
                Some((_, until)) if !suppressed => realtime::now(ctx, site, until, filters).await.map(Some),
                _ => Ok(None),
            }
        };
        let (now, compared) = tokio::try_join!(realtime::now(ctx, site, until, filters), compared)?;
        let previous = then.map(|_| match compared {
            Some(then) => {
                realtime::RealtimePrevious { views: Some(then.views), visitors: Some(then.visitors), suppressed: false }
            }
            None => compare::Previous::suppressed(),
        });
        let span = |until: u32| (time::rfc3339(tz, i64::from(until - window)), time::rfc3339(tz, i64::from(until)));
        let (since, until) = span(until);
        return Ok(Answer::Realtime(Realtime {
            report: report.as_str(),
            site: site.to_string(),
            tz: tz.name().to_string(),
            compare: then.map(|(mode, until)| {
                let (since, until) = span(until);
                compare::RealtimeCompare { mode, since, until }
            }),
            now: RealtimeRow { since, until, views: now.views, visitors: now.visitors, previous },
        }));
    }

    let (from, to) = params.dates()?;
    let range = Range::new(from, to, tz);
    let comparison = params.compare.map(|mode| compare::Comparison::new(mode, &range));
    let suppressed = check_both(
        (range.start, range.end),
        comparison.map(|comparison| (comparison.range.start, comparison.range.end)),
    )
    .await?;
    let scope = Scope { site, range, filters, site_time_zone: tz == site_tz };
    let against = comparison.as_ref().map(|comparison| compare::Against {
        comparison,
        scope: Scope { range: comparison.range, ..scope },
        suppressed,
        min_visitors,
    });
    let against = against.as_ref();
    let header = Header {
        report: report.as_str(),
        site: site.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        tz: tz.name().to_string(),
        filters: (!filters.is_empty())
            .then(|| AppliedFilters(filters.0.iter().map(|filter| (filter.parameter(), filter.given())).collect())),
        compare: comparison.as_ref().map(compare::Comparison::header),
    };
    let limit = params.limit_or_default();
    Ok(match report {
        ReportName::TopContent => {
            let sort = params.sort.unwrap_or_default();
            let (rows, folding) = top_content::rows(ctx, &scope, limit, min_visitors, sort, against).await?;
            Answer::TopContent(TopContent { header, sort, small_counts: folding.into(), rows })
        }
        ReportName::ContentDiscovery => {
            let (rows, folding, totals) = discovery::rows(ctx, &scope, limit, min_visitors, against).await?;
            Answer::ContentDiscovery(ContentDiscovery { header, small_counts: folding.into(), totals, rows })
        }
        ReportName::Sources => {
            let (rows, folding) = breakdowns::sources(ctx, &scope, limit, min_visitors, against).await?;
            Answer::Sources(Sources { header, small_counts: folding.into(), rows })
        }
        ReportName::Devices => {
            let (rows, folding) = breakdowns::devices(ctx, &scope, limit, min_visitors, against).await?;
            Answer::Devices(Devices { header, small_counts: folding.into(), rows })
        }
        ReportName::Countries => {
            let (rows, folding) = breakdowns::countries(ctx, &scope, limit, min_visitors, against).await?;
            Answer::Countries(Countries { header, small_counts: folding.into(), rows })
        }
        ReportName::Timeseries => {
            let interval = params.interval.unwrap_or(Interval::Day);
            let rows = timeseries::rows(ctx, &scope, interval, against).await?;
            Answer::Timeseries(Timeseries { header, interval, rows })
        }
        ReportName::BusiestTimes => {
            let measure = params.measure.unwrap_or_default();
            Answer::BusiestTimes(busiest::answer(ctx, &scope, header, measure, against).await?)
        }
        ReportName::PublishTiming => {
            Answer::PublishTiming(publish_timing::answer(ctx, &scope, header, min_visitors, against).await?)
        }
        ReportName::NotStored => {
            let rows = not_stored::rows(ctx, site, (range.start, range.end), against).await?;
            Answer::NotStored(not_stored::NotStored { header, rows })
        }
        ReportName::Events => match &params.breakdown {
            Some(breakdown) => {
                let by = PropBreakdown { event: &breakdown.event, key: &breakdown.key };
                let (rows, folding, total_visitors, previous) =
                    events::prop_rows(ctx, &scope, by, limit, min_visitors, against).await?;
                Answer::EventProps(EventProps {
                    header,
                    event: breakdown.event.clone(),
                    property: breakdown.key.clone(),
                    small_counts: folding.into(),
                    total_visitors,
                    previous,
                    rows,
                })
            }
            None => {
                let (rows, folding, total_visitors, previous) =
                    events::rows(ctx, &scope, limit, min_visitors, against).await?;
                Answer::Events(Events { header, small_counts: folding.into(), total_visitors, previous, rows })
            }
        },
        ReportName::Goals => {
            let (rows, folding, total_visitors, previous) =
                goals::rows(ctx, &scope, goals, min_visitors, against).await?;
            Answer::Goals(Goals { header, small_counts: folding.into(), total_visitors, previous, rows })
        }
        ReportName::Funnel => {
            let funnel = funnel.expect("check_applies requires `funnel` for the funnel report");
            let steps = funnel::steps(ctx, &scope, funnel, min_visitors, against).await?;
            Answer::Funnel(funnel::Funnel { header, funnel: funnel.name.clone(), min_visitors, steps })
        }
        ReportName::Realtime => unreachable!("answered above"),
    })
}
