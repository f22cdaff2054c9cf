//! The dashboard: what a product team looks at in the browser. Owns the pages under
//! `/dashboard` (site picker, one page per site and dashboard), login and sessions, share
//! links, the dashboard definitions in `dashboards/` ([`definition`]), their Grafana
//! export ([`grafana`]) and the compiled-in assets (`assets/`: one script, one style
//! sheet; charts are plain SVG drawn by the script).
//!
//! The pages hold no data and no SQL: the browser asks
//! `/dashboard/api/sites/{site}/reports/{name}` (same origin, session cookie), which hands
//! the request to [`Reports::respond`] with the session's grant, so the page shows
//! exactly what the reports API answers. Every request re-checks the session's token
//! against the reports' directory, so a revoked token or share link stops working.
//!
//! Abuse: every route that changes state (`POST` login, logout and share) refuses a
//! request from another site with 403 (`same_origin`), and a share link followed from
//! another site gets a button that opens it from here instead of a session. Tokens typed
//! in or carried by share links go through the reports' wrong-token throttle
//! ([`crate::auth::AuthFailureLimiter`], one budget with the reports API); opening
//! sessions is throttled per client and bounded per token ([`session`]).

pub mod definition;
pub mod grafana;
mod page;
mod same_origin;
pub mod session;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::ErrorBody;
use crate::auth::Grant;
use crate::client_ip::ClientAddressing;
use crate::metrics::Metrics;
use crate::reports::params::{LockedFilters, Params};
use crate::reports::{Answer, ReportName, Reports};
use crate::throttle::{RateLimiter, Throttled};
use definition::Catalog;
use session::{Full, Kind, Session, Sessions, COOKIE};

const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");
/// Longest token the login form and share links accept, in bytes.
const MAX_TOKEN_BYTES: usize = 256;

/// What the dashboard handlers share.
pub struct DashboardState {
    reports: Reports,
    sessions: Sessions,
    session_throttle: RateLimiter,
    dir: PathBuf,
    metrics: Arc<Metrics>,
    addressing: ClientAddressing,
}

/// The dashboard, built once per application.
#[derive(Clone)]
pub struct Dashboards {
    state: web::Data<DashboardState>,
}

impl Dashboards {
    /// Loads the definitions of `dir` once to report broken files at start-up (the pages
    /// read the directory again, so later changes show without a restart).
    pub fn build(dir: PathBuf, reports: Reports, metrics: Arc<Metrics>, addressing: ClientAddressing) -> Self {
        let catalog = Catalog::load(&dir);
        for problem in &catalog.problems {
            tracing::warn!(file = %problem.file, problem = %problem.problem, "dashboard definition not loaded");
        }
        let slugs: Vec<&str> = catalog.dashboards.iter().map(|d| d.slug.as_str()).collect();
        tracing::info!(dir = %dir.display(), dashboards = ?slugs, "dashboards loaded");
        let state = DashboardState {
            reports,
            sessions: Sessions::default(),
            session_throttle: session::session_throttle(),
            dir,
            metrics,
            addressing,
        };
        Self { state: web::Data::new(state) }
    }

    /// What the dashboard's handlers read ([`configure`] registers them); added to the
    /// app by `startup`.
    pub fn state(&self) -> web::Data<DashboardState> {
        self.state.clone()
    }
}

/// Registers every `/dashboard` route, in the order the router tries them (the fixed
/// paths before `/dashboard/{site}`). Every route that is not a GET refuses cross-site
/// requests first (`same_origin::is_cross_site`).
pub fn configure(config: &mut ServiceConfig<'_>) {
    config
        .service(home)
        .service(home_slash)
        .service(login_page)
        .service(login)
        .service(logout)
        .service(share)
        .service(share_form)
        .service(script)
        .service(style)
        .service(panel_report)
        .service(site_page)
        .service(site_dashboard_page);
}

/// The dashboard's script.
#[utoipa::path(
    tag = "dashboard",
    responses((status = OK, description = "JavaScript", body = String, content_type = "text/javascript; charset=utf-8")),
)]
#[get("/dashboard/assets/dashboard.js")]
async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// The dashboard's style sheet.
#[utoipa::path(
    tag = "dashboard",
    responses((status = OK, description = "CSS", body = String, content_type = "text/css; charset=utf-8")),
)]
#[get("/dashboard/assets/dashboard.css")]
async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

impl DashboardState {
    /// The request's live session and what its token allows now; a session whose token
    /// was revoked is closed.
    async fn session(&self, req: &HttpRequest) -> Option<(Session, Grant)> {
        let id = req.cookie(COOKIE)?.value().to_string();
        let session = self.sessions.get(&id)?;
        match self.reports.directory().grant_token(&session.token).await {
            Ok(grant) => Some((session, grant)),
            Err(_) => {
                self.sessions.close(&id);
                None
            }
        }
    }

    /// The sites `grant` may see, with their time zones.
    fn sites(&self, grant: &Grant) -> Vec<(String, String)> {
        self.reports
            .sites()
            .list()
            .into_iter()
            .filter(|site| {
                matches!(grant, Grant::Admin)
                    || matches!(grant, Grant::Site { site: s, .. } if site.domain == s.as_str())
            })
            .map(|site| (site.domain.to_string(), site.time_zone.name().to_string()))
            .collect()
    }

    /// Checks a token handed in by a person (login form, share link) through the
    /// wrong-token throttle the reports API shares, so guesses through any door count
    /// against one budget per client.
    async fn check_token(&self, req: &HttpRequest, token: &str) -> Result<Grant, Refused> {
        let client = self.addressing.client(req);
        let attempt = self.reports.wrong_tokens().attempt(&client, Instant::now()).map_err(|throttled| {
            self.metrics.logins_throttled.inc();
            Refused::Throttled(throttled)
        })?;
        let grant = if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            None
        } else {
            self.reports.directory().grant_token(token).await.ok()
        };
        match grant {
            Some(grant) => {
                attempt.succeeded();
                Ok(grant)
            }
            None => {
                self.metrics.login_failures.inc();
                Err(Refused::Wrong)
            }
        }
    }

    /// Opens a session for a checked `token`, within the client's session throttle and
    /// the session caps.
    fn open_session(&self, req: &HttpRequest, token: &str, kind: Kind) -> Result<String, NoSession> {
        let client = self.addressing.client(req);
        let opened = match self.session_throttle.check(&client, Instant::now()) {
            Ok(()) => self.sessions.open(token.to_string(), kind).map_err(|Full| NoSession::Full),
            Err(throttled) => Err(NoSession::Throttled(throttled)),
        };
        if opened.is_err() {
            self.metrics.dashboard_sessions_refused.inc();
        }
        opened
    }
}

/// Why a token handed in was not accepted.
enum Refused {
    /// The client sent too many wrong tokens (429).
    Throttled(Throttled),
    /// Unknown, revoked, mistyped or empty (401).
    Wrong,
}

/// Why no session was opened for a right token.
enum NoSession {
    /// The client opened too many sessions lately (429).
    Throttled(Throttled),
    /// The session cap is reached (503).
    Full,
}

/// `response` with `Retry-After` set from `throttled`.
fn retry_after(mut response: HttpResponse, throttled: Throttled) -> HttpResponse {
    response.headers_mut().insert(header::RETRY_AFTER, throttled.retry_after_secs().into());
    response
}

/// The answer when a session could not be opened: `page` renders the message.
fn no_session(refusal: NoSession, page: impl Fn(StatusCode, &str) -> HttpResponse) -> HttpResponse {
    match refusal {
        NoSession::Throttled(throttled) => retry_after(
            page(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many dashboard sessions were opened from your address; wait {} s and try again.",
                    throttled.retry_after_secs()
                ),
            ),
            throttled,
        ),
        NoSession::Full => retry_after(
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The dashboard holds as many sessions as it may; try again later (sessions end after 12 h).",
            ),
            Throttled { retry_after: std::time::Duration::from_secs(60) },
        ),
    }
}

fn session_cookie(req: &HttpRequest, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/dashboard")
        .http_only(true)
        .secure(req.connection_info().scheme() == "https")
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
}

/// The start page.
///
/// Without a session, the login form; with one, the sites it may see, or straight to the
/// site when it may see one only (or is a share link's).
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = OK, description = "HTML: the login form, or the site picker", body = String, content_type = "text/html; charset=utf-8"),
        (status = SEE_OTHER, description = "To the one site the session may see"),
    ),
)]
#[get("/dashboard")]
async fn home(req: HttpRequest, state: web::Data<DashboardState>) -> HttpResponse {
    start_page(&req, &state).await
}

/// The start page, as `GET /dashboard`.
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = OK, description = "HTML: the login form, or the site picker", body = String, content_type = "text/html; charset=utf-8"),
        (status = SEE_OTHER, description = "To the one site the session may see"),
    ),
)]
#[get("/dashboard/")]
async fn home_slash(req: HttpRequest, state: web::Data<DashboardState>) -> HttpResponse {
    start_page(&req, &state).await
}

/// The login form (the start page, as `GET /dashboard`).
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = OK, description = "HTML: the login form, or the site picker", body = String, content_type = "text/html; charset=utf-8"),
        (status = SEE_OTHER, description = "To the one site the session may see"),
    ),
)]
#[get("/dashboard/login")]
async fn login_page(req: HttpRequest, state: web::Data<DashboardState>) -> HttpResponse {
    start_page(&req, &state).await
}

async fn start_page(req: &HttpRequest, state: &DashboardState) -> HttpResponse {
    let Some((session, grant)) = state.session(req).await else {
        return page::login(StatusCode::OK, "");
    };
    let sites = state.sites(&grant);
    if session.kind == Kind::Share || sites.len() == 1 {
        if let Some((site, _)) = sites.first() {
            return see_other(&format!("/dashboard/{site}"));
        }
    }
    page::picker(&sites, &Catalog::load(&state.dir), session.kind == Kind::Share)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_string())).finish()
}

/// The login form's fields.
#[derive(Deserialize, ToSchema)]
struct LoginForm {
    /// The admin token or a report token.
    token: String,
}

/// Log in: refused from another site (login CSRF), then the token is checked (the
/// reports' wrong-token throttle) and a session opened (session throttle and caps).
#[utoipa::path(
    tag = "dashboard",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = SEE_OTHER, description = "Logged in: a `Strict` session cookie, and to `/dashboard`"),
        (status = BAD_REQUEST, description = "HTML: the form has no `token`", body = String, content_type = "text/html; charset=utf-8"),
        (status = UNAUTHORIZED, description = "HTML: the token is not valid", body = String, content_type = "text/html; charset=utf-8"),
        (status = FORBIDDEN, description = "HTML: sent from another site", body = String, content_type = "text/html; charset=utf-8"),
        (status = TOO_MANY_REQUESTS, description = "HTML: too many wrong tokens, or sessions, from this client", body = String, content_type = "text/html; charset=utf-8",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "HTML: the dashboard holds as many sessions as it may", body = String, content_type = "text/html; charset=utf-8",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
#[post("/dashboard/login")]
async fn login(
    req: HttpRequest,
    form: Result<web::Form<LoginForm>, actix_web::Error>,
    state: web::Data<DashboardState>,
) -> HttpResponse {
    if same_origin::is_cross_site(&req) {
        return page::login(
            StatusCode::FORBIDDEN,
            "This login was sent from another site and was refused. Log in on this page instead.",
        );
    }
    let Ok(form) = form else {
        return page::login(StatusCode::BAD_REQUEST, "Send the form with a `token` field.");
    };
    let token = form.token.trim();
    match state.check_token(&req, token).await {
        Ok(_) => match state.open_session(&req, token, Kind::Login) {
            Ok(id) => {
                let mut response = see_other("/dashboard");
                let _ = response.add_cookie(&session_cookie(&req, id, session::SESSION_TTL.as_secs() as i64));
                response
            }
            Err(refusal) => no_session(refusal, page::login),
        },
        Err(Refused::Throttled(throttled)) => retry_after(
            page::login(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many wrong tokens from your address; wait {} s and try again.",
                    throttled.retry_after_secs()
                ),
            ),
            throttled,
        ),
        Err(Refused::Wrong) => {
            page::login(StatusCode::UNAUTHORIZED, "That token is not valid (unknown, revoked or mistyped).")
        }
    }
}

/// Log out: ends the session (refused from another site).
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = SEE_OTHER, description = "Logged out: the session cookie cleared, and to `/dashboard`"),
        (status = FORBIDDEN, description = "HTML: sent from another site", body = String, content_type = "text/html; charset=utf-8"),
    ),
)]
#[post("/dashboard/logout")]
async fn logout(req: HttpRequest, state: web::Data<DashboardState>) -> HttpResponse {
    if same_origin::is_cross_site(&req) {
        return page::problem(
            StatusCode::FORBIDDEN,
            "Log out",
            "This logout was sent from another site and was refused.",
        );
    }
    if let Some(cookie) = req.cookie(COOKIE) {
        state.sessions.close(cookie.value());
    }
    let mut response = see_other("/dashboard");
    let _ = response.add_cookie(&session_cookie(&req, String::new(), 0));
    response
}

/// A share link's token, in the query or the form.
#[derive(Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
struct ShareQuery {
    /// The share link's token (`footfall share create --site S`).
    token: String,
}

fn share_problem(status: StatusCode, message: &str) -> HttpResponse {
    page::problem(status, "Share link", message)
}

/// A share link: `GET /dashboard/share?token=...` (the token in the query, which the
/// access log never prints). Opens a share session and shows the site's overview at once
/// (no redirect: a SameSite=Strict cookie set on a cross-site navigation would not be
/// sent on the redirect's request). Followed from another site (`Sec-Fetch-Site:
/// cross-site`), it opens nothing and shows a button that sends the token from this
/// origin ([`share_form`]), so no other site can open a session in a browser unseen.
#[utoipa::path(
    tag = "dashboard",
    params(ShareQuery),
    responses(
        (status = OK, description = "HTML: the site's overview in a share session (a `Strict` session cookie); \
            followed from another site, a button that opens it from here instead", body = String, content_type = "text/html; charset=utf-8"),
        (status = BAD_REQUEST, description = "HTML: no `token`", body = String, content_type = "text/html; charset=utf-8"),
        (status = UNAUTHORIZED, description = "HTML: revoked, expired or incomplete", body = String, content_type = "text/html; charset=utf-8"),
        (status = FORBIDDEN, description = "HTML: the admin token cannot be shared", body = String, content_type = "text/html; charset=utf-8"),
        (status = TOO_MANY_REQUESTS, description = "HTML: too many wrong tokens, or sessions, from this client", body = String, content_type = "text/html; charset=utf-8",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "HTML: the dashboard holds as many sessions as it may", body = String, content_type = "text/html; charset=utf-8",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
#[get("/dashboard/share")]
async fn share(
    req: HttpRequest,
    query: Result<web::Query<ShareQuery>, actix_web::Error>,
    state: web::Data<DashboardState>,
) -> HttpResponse {
    let Ok(query) = query else {
        return share_problem(StatusCode::BAD_REQUEST, "This share link is incomplete; it needs its `token`.");
    };
    let token = query.token.trim();
    if same_origin::is_cross_site(&req) && token.len() <= MAX_TOKEN_BYTES {
        return page::share_confirm(token);
    }
    open_share(&req, &state, token).await
}

/// `POST /dashboard/share` (form field `token`): the button of a share link followed
/// from another site; refused when it is itself sent from another site.
#[utoipa::path(
    tag = "dashboard",
    request_body(content = ShareQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = OK, description = "HTML: the site's overview in a share session", body = String, content_type = "text/html; charset=utf-8"),
        (status = BAD_REQUEST, description = "HTML: no `token`", body = String, content_type = "text/html; charset=utf-8"),
        (status = UNAUTHORIZED, description = "HTML: revoked, expired or incomplete", body = String, content_type = "text/html; charset=utf-8"),
        (status = FORBIDDEN, description = "HTML: sent from another site, or the admin token", body = String, content_type = "text/html; charset=utf-8"),
        (status = TOO_MANY_REQUESTS, description = "HTML: too many wrong tokens, or sessions, from this client", body = String, content_type = "text/html; charset=utf-8",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "HTML: the dashboard holds as many sessions as it may", body = String, content_type = "text/html; charset=utf-8",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
#[post("/dashboard/share")]
async fn share_form(
    req: HttpRequest,
    form: Result<web::Form<ShareQuery>, actix_web::Error>,
    state: web::Data<DashboardState>,
) -> HttpResponse {
    if same_origin::is_cross_site(&req) {
        return share_problem(
            StatusCode::FORBIDDEN,
            "This share link was sent from another site and was refused; open the link itself.",
        );
    }
    let Ok(form) = form else {
        return share_problem(StatusCode::BAD_REQUEST, "This share link is incomplete; it needs its `token`.");
    };
    open_share(&req, &state, form.token.trim()).await
}

/// Checks a share link's token, opens its session and shows the site's overview.
async fn open_share(req: &HttpRequest, state: &DashboardState, token: &str) -> HttpResponse {
    let (site, locked_filters) = match state.check_token(req, token).await {
        Ok(Grant::Site { site, locked_filters }) => (site, locked_filters),
        Ok(Grant::Admin) => {
            return share_problem(
                StatusCode::FORBIDDEN,
                "The admin token cannot be shared; make a link with `footfall share create --site S`.",
            )
        }
        Err(Refused::Throttled(throttled)) => {
            let message = format!(
                "Too many wrong tokens from your address; wait {} s and open the link again.",
                throttled.retry_after_secs()
            );
            return retry_after(share_problem(StatusCode::TOO_MANY_REQUESTS, &message), throttled);
        }
        Err(Refused::Wrong) => {
            return share_problem(
                StatusCode::UNAUTHORIZED,
                "This share link is not valid: it was revoked, has expired or was copied incompletely.",
            )
        }
    };
    let id = match state.open_session(req, token, Kind::Share) {
        Ok(id) => id,
        Err(refusal) => return no_session(refusal, share_problem),
    };
    let grant = Grant::Site { site: site.clone(), locked_filters };
    let mut response = render_site(state, &grant, true, &site, definition::OVERVIEW);
    let _ = response.add_cookie(&session_cookie(req, id, session::SESSION_TTL.as_secs() as i64));
    response
}

/// A site's overview dashboard.
#[utoipa::path(
    tag = "dashboard",
    params(("site" = String, Path, description = "The site's domain", example = "example.com")),
    responses(
        (status = OK, description = "HTML: the dashboard (its panels load their reports from `/dashboard/api`)", body = String, content_type = "text/html; charset=utf-8"),
        (status = UNAUTHORIZED, description = "HTML: the login form; no live session", body = String, content_type = "text/html; charset=utf-8"),
        (status = FORBIDDEN, description = "HTML: the session may see another site only", body = String, content_type = "text/html; charset=utf-8"),
        (status = NOT_FOUND, description = "HTML: no such site", body = String, content_type = "text/html; charset=utf-8"),
    ),
)]
#[get("/dashboard/{site}")]
async fn site_page(req: HttpRequest, site: web::Path<String>, state: web::Data<DashboardState>) -> HttpResponse {
    show_site(&req, &state, &site, definition::OVERVIEW).await
}

/// One of a site's dashboards (`dashboards/<slug>.toml`).
#[utoipa::path(
    tag = "dashboard",
    params(
        ("site" = String, Path, description = "The site's domain", example = "example.com"),
        ("slug" = String, Path, description = "The dashboard's name in `dashboards/`", example = "overview"),
    ),
    responses(
        (status = OK, description = "HTML: the dashboard", body = String, content_type = "text/html; charset=utf-8"),
        (status = UNAUTHORIZED, description = "HTML: the login form; no live session", body = String, content_type = "text/html; charset=utf-8"),
        (status = FORBIDDEN, description = "HTML: the session may see another site only", body = String, content_type = "text/html; charset=utf-8"),
        (status = NOT_FOUND, description = "HTML: no such site or dashboard", body = String, content_type = "text/html; charset=utf-8"),
    ),
)]
#[get("/dashboard/{site}/{slug}")]
async fn site_dashboard_page(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<DashboardState>,
) -> HttpResponse {
    let (site, slug) = path.into_inner();
    show_site(&req, &state, &site, &slug).await
}

/// Dashboard `slug` of `site` for the request's session, or the login form.
async fn show_site(req: &HttpRequest, state: &DashboardState, site: &str, slug: &str) -> HttpResponse {
    let Some((session, grant)) = state.session(req).await else {
        return page::login(StatusCode::UNAUTHORIZED, "Log in to see this dashboard.");
    };
    render_site(state, &grant, session.kind == Kind::Share, &site.to_ascii_lowercase(), slug)
}

fn render_site(state: &DashboardState, grant: &Grant, shared: bool, site: &str, slug: &str) -> HttpResponse {
    let sites = state.sites(grant);
    let Some((_, tz)) = sites.iter().find(|(domain, _)| domain == site) else {
        let registered = state.reports.sites().get(site).is_some();
        return if registered {
            page::problem(StatusCode::FORBIDDEN, "Not yours", "This login may see another site only.")
        } else {
            page::problem(StatusCode::NOT_FOUND, "Unknown site", "No such site is registered with this collector.")
        };
    };
    let catalog = Catalog::load(&state.dir);
    let Some(dashboard) = catalog.get(slug) else {
        return page::problem(
            StatusCode::NOT_FOUND,
            "Unknown dashboard",
            "There is no such dashboard in `dashboards/`.",
        );
    };
    let locked = match grant {
        Grant::Site { locked_filters, .. } => LockedFilters::parse(locked_filters).unwrap_or_default(),
        Grant::Admin => LockedFilters::default(),
    };
    page::dashboard(site, tz, dashboard, &sites, &catalog, shared, &locked)
}

/// A report for the dashboard's panels: the reports API's answer, for the session's
/// token instead of a bearer token (same parameters, answers and refusals).
#[utoipa::path(
    tag = "dashboard",
    params(
        ("site" = String, Path, description = "The site's domain", max_length = 253, example = "example.com"),
        ("name" = inline(ReportName), Path),
        Params,
    ),
    responses(
        (status = OK, description = "The report, as `GET /api/v1/sites/{site}/reports/{name}` answers it", content(
            (Answer = "application/json"),
            (String = "text/csv"),
        )),
        (status = BAD_REQUEST, description = "A parameter is invalid (`field` names it)", body = ErrorBody),
        (status = UNAUTHORIZED, description = "No live session (field `session`)", body = ErrorBody),
        (status = FORBIDDEN, description = "Another site's, the filters match too few visitors, or a filter the share link locks is given another value", body = ErrorBody),
        (status = NOT_FOUND, description = "No such site or report", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "ClickHouse did not answer; retry later", body = ErrorBody),
    ),
)]
#[get("/dashboard/api/sites/{site}/reports/{name}")]
async fn panel_report(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<DashboardState>,
) -> HttpResponse {
    let Some((_, grant)) = state.session(&req).await else {
        return HttpResponse::Unauthorized().json(ErrorBody {
            error: "log in at /dashboard (the session ended or its token was revoked)".into(),
            field: Some("session".into()),
        });
    };
    let (site, name) = path.into_inner();
    match state.reports.respond(&req, &grant, &site, &name).await {
        Ok(response) => response,
        Err(error) => actix_web::ResponseError::error_response(&error),
    }
}
