//! Wiring: builds every stage from [`Settings`], binds the listener and runs the server
//! with its background tasks until it is told to stop, then drains the pipeline.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Condition, Logger, Next};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tokio::task::JoinHandle;

use crate::api;
use crate::auth::Directory;
use crate::client_ip::ClientAddressing;
use crate::config::Settings;
use crate::content::ContentState;
use crate::dashboard::Dashboards;
use crate::http_limits;
use crate::ingest::not_stored::NotStoredTally;
use crate::ingest::IngestState;
use crate::jobs;
use crate::metrics::Metrics;
use crate::ops::OpsState;
use crate::pipeline::delivery::Delivery;
use crate::pipeline::spool::Spool;
use crate::pipeline::{self, EventSink, Replayer, Wal, Writer};
use crate::privacy::Anonymizer;
use crate::reports::Reports;
use crate::rights::{self, RightsState};
use crate::sites::SiteRegistry;
use crate::store::Store;
use crate::throttle::RateLimiter;

/// Visitors whose sessions are tracked at once (about 40 bytes each).
const SESSION_CAPACITY: usize = 1_000_000;
/// How long start-up waits for ClickHouse to answer before giving up.
const STARTUP_WAIT: Duration = Duration::from_secs(30);
/// How long a client may take to send a request head.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to close its connection after the response.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long an idle keep-alive connection stays open.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// How long the HTTP server lets in-flight requests finish on shutdown.
const HTTP_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// A built, bound, not yet running footfall.
pub struct Application {
    port: u16,
    server: Server,
    /// The writer of the memory queue; none in durable mode.
    writer: Option<Writer>,
    replayer: Replayer,
    background: Vec<JoinHandle<()>>,
    shutdown_deadline: Duration,
}

impl Application {
    /// Connects to ClickHouse (waiting up to 30 s for it), applies the schema, loads sites
    /// and day keys, starts the pipeline (whose replayer begins with whatever an earlier
    /// run left in the spool), and binds `settings.listen` (port 0 picks a free port, see
    /// [`Application::port`]).
    ///
    /// # Errors
    /// ClickHouse unreachable or refusing the schema, the spool directory not writable,
    /// the address not bindable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::new(&settings.clickhouse);
        wait_for_clickhouse(&store, &settings.clickhouse.url).await?;
        store.migrate().await.context("applying the schema in schema/ to ClickHouse")?;

        let sites = SiteRegistry::new(Arc::new(store.clone()));
        sites.reload().await.map_err(|error| anyhow::anyhow!(error)).context("reading the sites table")?;
        let directory = Directory::new(Arc::new(store.clone()), settings.admin_token.clone());
        directory.reload().await.map_err(|error| anyhow::anyhow!(error)).context("reading the report tokens")?;
        let anonymizer = Arc::new(Anonymizer::new(SESSION_CAPACITY));
        jobs::day_keys::sync(anonymizer.keys(), &store, chrono::Utc::now()).await.context("loading the day keys")?;

        let metrics = Arc::new(Metrics::default());
        let spool = Spool::open(&settings.spool_dir, settings.spool_max_bytes).with_context(|| {
            format!("opening the spool directory {} (setting `spool_dir`)", settings.spool_dir.display())
        })?;
        let delivery = Delivery { store: store.clone(), spool: Arc::new(spool), metrics: Arc::clone(&metrics) };
        let replayer = Replayer::spawn(delivery.clone(), settings.pipeline.clone());
        let mut background = Vec::new();
        let (sink, writer) = if settings.durable {
            let (wal, group_commit) = Wal::spawn(Arc::clone(&delivery.spool));
            background.push(group_commit);
            (EventSink::Durable(wal), None)
        } else {
            let (queue, receiver) = pipeline::queue(
                settings.pipeline.queue_capacity,
                Duration::from_millis(settings.pipeline.queue_full_wait_ms),
            );
            let writer = Writer::spawn(
                delivery.clone(),
                receiver,
                replayer.status(),
                settings.pipeline.clone(),
                settings.pipeline.queue_capacity,
            );
            (EventSink::Memory(queue), Some(writer))
        };

        background.push(tokio::spawn(jobs::refresh_sites(
            sites.clone(),
            Duration::from_secs_f64(settings.ingest.sites_refresh_secs),
        )));
        let not_stored = Arc::new(NotStoredTally::default());
        background.push(tokio::spawn(jobs::write_not_stored(
            store.clone(),
            Arc::clone(&not_stored),
            Duration::from_secs_f64(settings.ingest.not_stored_write_secs),
        )));
        background.push(tokio::spawn(jobs::refresh_tokens(
            directory.clone(),
            Duration::from_secs_f64(settings.reports.tokens_refresh_secs),
        )));
        if settings.reports.summarize_every_secs > 0 {
            let every = Duration::from_secs(settings.reports.summarize_every_secs);
            background.push(tokio::spawn(jobs::summarize(store.clone(), every)));
        }
        if settings.retention_days > 0 {
            if store.apply_retention_ttl(settings.retention_days).await.context("setting the events TTL")? {
                tracing::info!(days = settings.retention_days, "events TTL set");
            }
            background.push(tokio::spawn(jobs::enforce_retention(store.clone(), settings.retention_days)));
        }
        let rate_limiter =
            Arc::new(RateLimiter::for_intake(settings.ingest.rate_limit_per_second, settings.ingest.rate_limit_burst));
        background.push(tokio::spawn(jobs::housekeeping(
            store.clone(),
            Arc::clone(&anonymizer),
            Arc::clone(&rate_limiter),
        )));
        let addressing = ClientAddressing::from_settings(&settings.ingest);
        let reports = Reports::new(
            store.clone(),
            sites.clone(),
            directory,
            settings.reports.min_visitors,
            addressing.clone(),
            Arc::clone(&metrics),
        );

        let content_state = ContentState::new(store.clone(), reports.clone());
        let dashboards = Dashboards::build(
            settings.dashboards_dir.clone(),
            reports.clone(),
            Arc::clone(&metrics),
            addressing.clone(),
        );
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {} (setting `listen`)", settings.listen))?;
        let port = listener.local_addr()?.port();
        let shared_with_rights = rights::Shared {
            sites: sites.clone(),
            anonymizer: Arc::clone(&anonymizer),
            addressing: addressing.clone(),
            rate_limiter: Arc::clone(&rate_limiter),
            metrics: Arc::clone(&metrics),
        };
        let rights_state =
            web::Data::new(RightsState::open(&settings, shared_with_rights, store.clone()).with_context(|| {
                format!("opening the forget queue in {} (setting `spool_dir`)", settings.spool_dir.display())
            })?);
        let ingest_state = web::Data::new(IngestState {
            sites,
            anonymizer,
            sink: sink.clone(),
            metrics: Arc::clone(&metrics),
            limits: settings.ingest.clone(),
            addressing,
            admin_token: settings.admin_token.clone(),
            rate_limiter,
            not_stored,
        });
        background.push(rights_state.spawn());
        let ops_state =
            web::Data::new(OpsState { store, metrics, sink, spool: delivery.spool, replay: replayer.status() });
        let access_log = settings.access_log;
        let body_timeout = Duration::from_millis(settings.ingest.body_timeout_ms);
        let server = HttpServer::new(move || {
            // No %a and no User-Agent: the access log never holds a client address or UA.
            let logger = Logger::new("%{method}xi %U %s %b %Dms")
                .custom_request_replace("method", |req| req.method().to_string());
            let app = App::new()
                .wrap(from_fn(move |request, next| http_limits::enforce(body_timeout, request, next)))
                .wrap(from_fn(security_headers))
                .wrap(Condition::new(access_log, logger))
                .app_data(ingest_state.clone())
                .app_data(ops_state.clone())
                .app_data(rights_state.clone())
                .app_data(reports.state())
                .app_data(content_state.clone())
                .app_data(dashboards.state());
            api::routes(app)
        })
        .listen(listener)?
        // A client gets this long to send its request head, and to close after the
        // response; slow clients cannot hold connections open.
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .shutdown_timeout(HTTP_SHUTDOWN_TIMEOUT_SECS)
        .run();
        for notice in features_off(&settings) {
            tracing::info!("{notice}");
        }
        tracing::info!(port, "footfall listening");
        tracing::info!("dashboard: http://{}/dashboard", std::net::SocketAddr::new(settings.listen.ip(), port));
        let shutdown_deadline = Duration::from_millis(settings.pipeline.shutdown_deadline_ms);
        Ok(Self { port, server, writer, replayer, background, shutdown_deadline })
    }

    /// The port the server is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully (as SIGTERM does).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/ctrl-c (or [`ServerHandle::stop`]), then lets in-flight requests
    /// finish, drains the queue into ClickHouse (or the spool), and delivers the spool until
    /// it is empty or `pipeline.shutdown_deadline_ms` has passed; the rest waits on disk.
    ///
    /// # Errors
    /// When the HTTP server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await;
        tracing::info!("http server stopped; draining the pipeline");
        let deadline = tokio::time::Instant::now() + self.shutdown_deadline;
        for task in &self.background {
            task.abort();
        }
        if let Some(writer) = self.writer {
            writer.shutdown().await;
        }
        self.replayer.shutdown(deadline).await;
        tracing::info!("footfall stopped");
        served.context("running the HTTP server")
    }
}

/// What is off in `settings`, and why, in the words start-up logs it: a new user sees
/// at once why a backfilled `ts` is ignored or why events are kept forever.
pub(crate) fn features_off(settings: &Settings) -> Vec<String> {
    let mut off = Vec::new();
    if settings.admin_token.is_none() {
        off.push(
            "admin off: no admin token is set (FOOTFALL_ADMIN_TOKEN), so events' `ts` is ignored and only report \
             tokens and share links open the reports and the dashboard"
                .to_string(),
        );
    }
    if settings.retention_days == 0 {
        off.push(
            "retention off: retention_days is 0 (FOOTFALL_RETENTION_DAYS), so events are kept until deleted"
                .to_string(),
        );
    }
    if !settings.durable {
        off.push(format!(
            "durable mode off (FOOTFALL_DURABLE): events are answered 202 from memory, so up to \
             pipeline.queue_capacity ({}) accepted events are lost if the process is killed",
            settings.pipeline.queue_capacity
        ));
    }
    off
}

async fn wait_for_clickhouse(store: &Store, url: &str) -> anyhow::Result<()> {
    let started = tokio::time::Instant::now();
    loop {
        match store.ping().await {
            Ok(()) => return Ok(()),
            Err(error) if started.elapsed() >= STARTUP_WAIT => {
                return Err(error).with_context(|| {
                    format!("ClickHouse at {url} did not answer for {STARTUP_WAIT:?} (setting `clickhouse.url`); is it running?")
                })
            }
            Err(error) => {
                tracing::warn!(%error, url, "waiting for ClickHouse");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Headers every response carries unless the handler set its own (pages set their CSP).
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")),
    (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
];

/// Adds [`SECURITY_HEADERS`] to every response but an empty 202, the acknowledgement
/// the event and forget endpoints send: these headers govern how a body is shown,
/// framed or sniffed and which referrer a followed response passes on, and such a 202
/// has no body and is never followed. Being the answer to every event, its five headers
/// cost about 4% of ingest throughput (load/README.md, "The empty 202").
async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    let empty_acknowledgement = response.status() == StatusCode::ACCEPTED
        && matches!(response.response().body().size(), BodySize::None | BodySize::Sized(0));
    if !empty_acknowledgement {
        let headers = response.headers_mut();
        for (name, value) in SECURITY_HEADERS {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
    }
    Ok(response)
}

/// Installs the `tracing` subscriber that prints to stderr with the given filter.
///
/// # Errors
/// When the filter does not parse.
pub fn init_logging(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("`log_level` = {filter:?} is not a valid filter (try info or footfall=debug)"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}
