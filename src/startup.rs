//! Wiring: builds every stage from [`Settings`], binds the listener and runs the server
//! with its background tasks until it is told to stop, then drains the pipeline.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, Logger};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::ingest::{self, IngestState, SiteDirectory};
use crate::metrics::Metrics;
use crate::ops::{self, OpsState};
use crate::pipeline::spool::Spool;
use crate::pipeline::{self, Writer};
use crate::privacy::Anonymizer;
use crate::reports::Reports;
use crate::store::Store;

/// Visitors whose sessions are tracked at once (about 40 bytes each).
const SESSION_CAPACITY: usize = 1_000_000;
/// How often day keys are checked (and created a day ahead) and idle sessions forgotten.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// How long start-up waits for ClickHouse to answer before giving up.
const STARTUP_WAIT: Duration = Duration::from_secs(30);
/// How long the HTTP server lets in-flight requests finish on shutdown.
const HTTP_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// A built, bound, not yet running footfall.
pub struct Application {
    port: u16,
    server: Server,
    writer: Writer,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Connects to ClickHouse (waiting up to 30 s for it), applies the schema, loads sites
    /// and day keys, replays nothing yet (the writer does that first when it starts), and
    /// binds `settings.listen` (port 0 picks a free port, see [`Application::port`]).
    ///
    /// # Errors
    /// ClickHouse unreachable or refusing the schema, the spool directory not writable,
    /// the address not bindable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::new(&settings.clickhouse);
        wait_for_clickhouse(&store, &settings.clickhouse.url).await?;
        store.migrate().await.context("applying the schema in schema/ to ClickHouse")?;

        let sites = SiteDirectory::default();
        sites.replace(&store.list_sites().await.context("reading the sites table")?);
        let anonymizer = Arc::new(Anonymizer::new(SESSION_CAPACITY));
        anonymizer.keys().refresh(&store, chrono::Utc::now()).await.context("loading the day keys")?;

        let metrics = Arc::new(Metrics::default());
        let spool = Spool::open(&settings.spool_dir)
            .with_context(|| format!("opening the spool directory {}", settings.spool_dir.display()))?;
        let (queue, receiver) = pipeline::queue(
            settings.pipeline.queue_capacity,
            Duration::from_millis(settings.pipeline.queue_full_wait_ms),
        );
        let writer =
            Writer::spawn(store.clone(), receiver, Arc::new(spool), Arc::clone(&metrics), settings.pipeline.clone());

        let reports = Reports::build(store.clone(), settings.admin_token.clone())
            .await
            .context("loading the sites and report tokens")?;
        let mut background = vec![
            tokio::spawn(refresh_sites(
                store.clone(),
                sites.clone(),
                Duration::from_secs(settings.ingest.sites_refresh_secs),
            )),
            tokio::spawn(refresh_keys_and_sessions(store.clone(), Arc::clone(&anonymizer))),
        ];
        background.extend(reports.spawn_tasks(settings.reports.summarize_every_secs));

        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {} (setting `listen`)", settings.listen))?;
        let port = listener.local_addr()?.port();
        let ingest_state = web::Data::new(IngestState {
            sites,
            anonymizer,
            queue: queue.clone(),
            metrics: Arc::clone(&metrics),
            limits: settings.ingest.clone(),
            admin_token: settings.admin_token.clone(),
        });
        let ops_state = web::Data::new(OpsState { store, metrics, queue });
        let access_log = settings.access_log;
        let server = HttpServer::new(move || {
            // No %a and no User-Agent: the access log never holds a client address or UA.
            let logger = Logger::new("%{method}xi %U %s %b %Dms")
                .custom_request_replace("method", |req| req.method().to_string());
            App::new()
                .wrap(Condition::new(access_log, logger))
                .app_data(ingest_state.clone())
                .app_data(ops_state.clone())
                .configure(ingest::configure)
                .configure(ops::configure)
                .configure(reports.routes())
        })
        .listen(listener)?
        .shutdown_timeout(HTTP_SHUTDOWN_TIMEOUT_SECS)
        .run();
        tracing::info!(port, "footfall listening");
        Ok(Self { port, server, writer, background })
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
    /// finish, drains the queue into ClickHouse and spools what could not be delivered.
    ///
    /// # Errors
    /// When the HTTP server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await;
        tracing::info!("http server stopped; draining the pipeline");
        for task in &self.background {
            task.abort();
        }
        self.writer.shutdown().await;
        tracing::info!("footfall stopped");
        served.context("running the HTTP server")
    }
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

async fn refresh_sites(store: Store, sites: SiteDirectory, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match store.list_sites().await {
            Ok(list) => sites.replace(&list),
            Err(error) => tracing::warn!(%error, "could not refresh sites; keeping the previous list"),
        }
    }
}

async fn refresh_keys_and_sessions(store: Store, anonymizer: Arc<Anonymizer>) {
    let mut ticker = tokio::time::interval(KEY_REFRESH_INTERVAL);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let now = chrono::Utc::now();
        if let Err(error) = anonymizer.keys().refresh(&store, now).await {
            tracing::warn!(%error, "could not refresh day keys; will retry");
        }
        anonymizer.sessions().expire(now.timestamp() as u32);
    }
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
