//! Test harness: a fresh database per test, the application spawned in-process on port 0
//! (or as a child process where a signal is needed), and polling helpers (`eventually*`).

use std::fmt::{Debug, Display};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use footfall::config::Settings;
use footfall::sites::Site;
use footfall::store::Store;
use footfall::Application;
use serde_json::Value;
use tokio::task::JoinHandle;

/// The site every test app has registered.
pub const SITE: &str = "example.com";
/// An ordinary desktop browser (not a bot).
pub const CHROME_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// How long polling waits for a condition before failing the test.
pub const POLL_LIMIT: Duration = Duration::from_secs(20);
/// How long polling sleeps between two looks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Calls `observe` every [`POLL_INTERVAL`] until `accept` holds for what it returns;
/// `Ok` with that value, or `Err` with the last value seen once `limit` has passed.
async fn poll<T, F, Fut>(limit: Duration, mut accept: impl FnMut(&T) -> bool, mut observe: F) -> Result<T, T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let started = Instant::now();
    loop {
        let seen = observe().await;
        if accept(&seen) {
            return Ok(seen);
        }
        if started.elapsed() >= limit {
            return Err(seen);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls until `condition` is true.
///
/// # Panics
/// After [`POLL_LIMIT`], with "`what` after 20s": say what is still wrong ("the writer
/// never retried"). Panics inside `condition` fail the test at once.
pub async fn eventually<F, Fut>(what: impl Display, condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let waited = poll(POLL_LIMIT, |holds| *holds, condition).await;
    assert!(waited.is_ok(), "{what} after {POLL_LIMIT:?}");
}

/// Polls until `observe` returns `expected`.
///
/// # Panics
/// After [`POLL_LIMIT`], with "`what` is <last seen> after 20s, expected <expected>": name
/// what is observed ("rows in events"). Panics inside `observe` fail the test at once.
pub async fn eventually_eq<T, F, Fut>(what: impl Display, expected: T, observe: F)
where
    T: PartialEq + Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    if let Err(last) = poll(POLL_LIMIT, |seen| *seen == expected, observe).await {
        panic!("{what} is {last:?} after {POLL_LIMIT:?}, expected {expected:?}");
    }
}

/// Polls until `accept` holds for what `observe` returns, and returns that value.
///
/// # Panics
/// After [`POLL_LIMIT`], with "`what`: <last seen> after 20s": say what is still wrong.
/// Panics inside `observe` fail the test at once.
pub async fn eventually_matches<T, F, Fut>(what: impl Display, accept: impl FnMut(&T) -> bool, observe: F) -> T
where
    T: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    eventually_matches_within(POLL_LIMIT, what, accept, observe).await
}

/// [`eventually_matches`] with a limit other than [`POLL_LIMIT`].
///
/// # Panics
/// After `limit`, as [`eventually_matches`] does.
pub async fn eventually_matches_within<T, F, Fut>(
    limit: Duration,
    what: impl Display,
    accept: impl FnMut(&T) -> bool,
    observe: F,
) -> T
where
    T: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    poll(limit, accept, observe).await.unwrap_or_else(|last| panic!("{what}: {last:?} after {limit:?}"))
}

/// URL of the ClickHouse server the tests use.
pub fn clickhouse_url() -> String {
    std::env::var("CLICKHOUSE_TEST_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into())
}

/// Prefix of every test database; temporary directories of a test carry its name too.
const TEST_DATABASE_PREFIX: &str = "footfall_test_";
/// Databases and temporary directories of tests that started longer ago than this are
/// removed when a later test process starts: a failed test's database stays for a look,
/// and a test run going on beside this one keeps its own.
const LEFTOVERS_AFTER: Duration = Duration::from_secs(3600);

/// A database name no other test uses: `footfall_test_<unix seconds>_<random>`. The time
/// lets later runs remove it ([`sweep_leftovers`]).
pub fn fresh_database() -> String {
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| {
        std::thread::spawn(sweep_leftovers);
    });
    format!("{TEST_DATABASE_PREFIX}{}_{}", unix_seconds(), footfall::random::hex(6))
}

/// A fresh temporary directory `footfall-<what>-<test database name>-...`, removed when it
/// drops; the name lets a later run remove it ([`sweep_leftovers`]) if this process dies
/// first.
pub fn temp_dir(what: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("footfall-{what}-{}-", fresh_database())).tempdir().unwrap()
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Whether `name` holds a test database name from before [`LEFTOVERS_AFTER`] (or from
/// before names carried their time).
fn is_leftover(name: &str) -> bool {
    let Some(at) = name.find(TEST_DATABASE_PREFIX) else { return false };
    let rest = &name[at + TEST_DATABASE_PREFIX.len()..];
    match rest.split_once('_').and_then(|(seconds, _)| seconds.parse::<u64>().ok()) {
        Some(started) => started + LEFTOVERS_AFTER.as_secs() < unix_seconds(),
        None => true,
    }
}

/// Drops the test databases and removes the test directories in the temp dir that
/// [`is_leftover`]. Runs on a thread of its own beside the tests; what it does not finish
/// before the process exits, the next run does.
fn sweep_leftovers() {
    for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("footfall-") && is_leftover(&name) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let query = |sql: String| http.post(clickhouse_url()).body(sql).send();
        let Ok(answer) = query(format!(
            "SELECT name FROM system.databases WHERE startsWith(name, '{TEST_DATABASE_PREFIX}') FORMAT TSV"
        ))
        .await
        else {
            return;
        };
        let names = answer.text().await.unwrap_or_default();
        for name in names.lines().filter(|name| is_leftover(name)) {
            let _ = query(format!("DROP DATABASE IF EXISTS {name}")).await;
        }
    });
}

/// How often test apps re-read sites and tokens, in seconds.
pub const REFRESH_SECS: f64 = 0.2;

/// Settings for a test app: fresh database, port 0, short batching, its own spool dir.
pub fn test_settings() -> Settings {
    let database = fresh_database();
    let defaults = Settings::default();
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        spool_dir: std::env::temp_dir().join(format!("footfall-test-spool-{database}")),
        admin_token: Some("test-admin-token-0123456789".into()),
        clickhouse: footfall::config::ClickHouseSettings { url: clickhouse_url(), database, ..defaults.clickhouse },
        // Tests send thousands of requests from 127.0.0.1; the limiter has its own test.
        // Sites and tokens are re-read every 0.2 s, so revocations show at once.
        ingest: footfall::config::IngestSettings {
            rate_limit_per_second: 0,
            sites_refresh_secs: REFRESH_SECS,
            ..defaults.ingest
        },
        pipeline: footfall::config::PipelineSettings {
            batch_max_wait_ms: 50,
            retry_initial_backoff_ms: 20,
            retry_max_backoff_ms: 200,
            ..defaults.pipeline
        },
        // Report tests count a handful of visitors exactly; small-count folding has its
        // own tests (reports.rs), which set the threshold they check.
        reports: footfall::config::ReportsSettings {
            min_visitors: 0,
            tokens_refresh_secs: REFRESH_SECS,
            ..defaults.reports
        },
        // Forget requests are applied once per interval; tests wait for them in seconds.
        rights: footfall::config::RightsSettings { forget_interval_secs: 1 },
        ..defaults
    }
}

fn init_logging_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            footfall::init_logging("info").unwrap();
        }
    });
}

/// The application running in this process.
pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub settings: Settings,
    pub http: reqwest::Client,
    handle: ServerHandle,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Spawns the app with [`test_settings`] and `example.com` registered.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app with adjusted settings and `example.com` registered.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_sites(&[], adjust).await
}

/// Spawns the app with adjusted settings, `example.com` and the `extra` sites registered.
pub async fn spawn_app_with_sites(extra: &[Site], adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging_once();
    let mut settings = test_settings();
    adjust(&mut settings);
    let store = register_site(&settings).await;
    for site in extra {
        store.put_site(site).await.expect("site registers");
    }
    launch(settings, store).await
}

/// Spawns the app with `settings` as they are, registering `example.com` through the
/// ClickHouse the settings name (a node of a test cluster).
pub async fn spawn_app_on_cluster(settings: Settings) -> TestApp {
    init_logging_once();
    let store = register_site_at(&settings, &settings.clickhouse.url).await;
    launch(settings, store).await
}

async fn launch(settings: Settings, store: Store) -> TestApp {
    let app = Application::build(settings.clone()).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp { address, store, settings, http: reqwest::Client::new(), handle, task }
}

/// Migrates the settings' database and registers `example.com` (Europe/London) in it.
/// The returned store talks to the test server directly, even when the app is given a
/// proxy in front of it.
pub async fn register_site(settings: &Settings) -> Store {
    register_site_at(settings, &clickhouse_url()).await
}

/// [`register_site`] on the ClickHouse server at `url`.
pub async fn register_site_at(settings: &Settings, url: &str) -> Store {
    let mut direct = settings.clickhouse.clone();
    direct.url = url.to_string();
    let store = Store::new(&direct);
    store.migrate().await.expect("migrations apply");
    let site = Site::new(SITE, "Europe/London", &["https://partner.example.net".into()]).unwrap();
    store.put_site(&site).await.expect("site registers");
    store
}

/// A pageview for `path` on the test site.
pub fn pageview(path: &str) -> Value {
    serde_json::json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}{path}")})
}

impl TestApp {
    /// Posts one event as JSON with an ordinary browser user agent.
    pub async fn post_event(&self, event: &Value) -> reqwest::Response {
        self.post_json("/api/event", event).await
    }

    /// Posts an array of events with an ordinary browser user agent.
    pub async fn post_events(&self, events: &[Value]) -> reqwest::Response {
        self.post_json("/api/events", &Value::from(events.to_vec())).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.address))
            .header("User-Agent", CHROME_WINDOWS)
            .json(body)
            .send()
            .await
            .expect("request is sent")
    }

    /// Posts `events` (an array) with the admin token, as a browser with `user_agent`, so
    /// their `ts` is honoured; fails the test unless they are answered 202.
    pub async fn post_as_admin(&self, user_agent: &str, events: &[Value]) {
        let response = self
            .http
            .post(format!("{}/api/events", self.address))
            .header("User-Agent", user_agent)
            .bearer_auth(self.settings.admin_token.as_deref().expect("test apps have an admin token"))
            .json(&Value::from(events.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        metrics_text(&self.http, &self.address).await
    }

    /// Rows in `events`.
    pub async fn event_count(&self) -> u64 {
        count_events(&self.store).await
    }

    /// Waits until `events` holds exactly `expected` rows and the app has counted them as
    /// stored (it counts right after ClickHouse acknowledged them); fails the test if that
    /// never happens or more are stored.
    pub async fn wait_for_events(&self, expected: u64) {
        wait_for_event_count(&self.store, expected).await;
        wait_for_metric(&self.http, &self.address, "footfall_events_stored_total", expected).await;
    }

    /// Stops the app as SIGTERM would and waits for the pipeline to drain.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.task.await.expect("app task joins").expect("app ran cleanly");
    }
}

/// Rows in `events` of the store's database.
pub async fn count_events(store: &Store) -> u64 {
    store.client().query("SELECT count() FROM events").fetch_one::<u64>().await.expect("count query runs")
}

/// Polls until `events` holds exactly `expected` rows.
pub async fn wait_for_event_count(store: &Store, expected: u64) {
    eventually_eq("the row count of events", expected, || async {
        let count = count_events(store).await;
        assert!(count <= expected, "events holds {count} rows, more than the {expected} expected");
        count
    })
    .await;
}

/// GET /metrics.
pub async fn metrics_text(http: &reqwest::Client, address: &str) -> String {
    http.get(format!("{address}/metrics")).send().await.expect("metrics answer").text().await.unwrap()
}

/// The value of one sample line (`name{labels}`) in a metrics text.
pub fn metric(text: &str, sample: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("metric {sample} missing in:\n{text}"))
        .parse()
        .unwrap()
}

/// Polls `/metrics` until `sample` reaches `expected`.
pub async fn wait_for_metric(http: &reqwest::Client, address: &str, sample: &str, expected: u64) {
    let value = eventually_matches(
        format!("{sample} is below the expected {expected}"),
        |value| *value >= expected,
        || async { metric(&metrics_text(http, address).await, sample) },
    )
    .await;
    assert_eq!(value, expected, "{sample} overshot");
}

/// Every row of every table in the database, as TabSeparated text.
pub async fn dump_database(store: &Store) -> String {
    let tables: Vec<String> = store
        .client()
        .query("SELECT DISTINCT table FROM system.columns WHERE database = ? ORDER BY table")
        .bind(store.database())
        .fetch_all()
        .await
        .unwrap();
    assert!(tables.len() >= 4, "expected footfall's tables, found {tables:?}");
    let mut dump = String::new();
    for table in tables {
        let mut cursor = store
            .client()
            .query(&format!("SELECT * FROM {}.{table}", store.database()))
            .fetch_bytes("TabSeparated")
            .unwrap();
        let bytes = cursor.collect().await.unwrap();
        dump.push_str(&format!("== {table}\n{}\n", String::from_utf8_lossy(&bytes)));
    }
    dump
}

/// Spool segment files (`*.seg`) under a spool directory.
pub fn segment_files(spool_dir: &std::path::Path) -> usize {
    match std::fs::read_dir(spool_dir.join("segments")) {
        Ok(entries) => {
            entries.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "seg"))).count()
        }
        Err(_) => 0,
    }
}

/// The footfall binary built for these tests.
/// The HTTP URL of a scripts/clickhouse instance (`reliability`, `cluster-1`, ...), at the
/// port offset scripts/test chose (`CLICKHOUSE_PORT_OFFSET`).
pub fn instance_url(instance: &str) -> &'static str {
    static URLS: std::sync::Mutex<Vec<(String, &'static str)>> = std::sync::Mutex::new(Vec::new());
    let mut urls = URLS.lock().unwrap();
    if let Some((_, url)) = urls.iter().find(|(name, _)| name == instance) {
        return url;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clickhouse");
    let output = std::process::Command::new(script).args(["url", instance]).output().expect("scripts/clickhouse runs");
    assert!(output.status.success(), "scripts/clickhouse url {instance}: {}", String::from_utf8_lossy(&output.stderr));
    let url: &'static str = String::from_utf8(output.stdout).unwrap().trim().to_string().leak();
    urls.push((instance.to_string(), url));
    url
}

pub fn footfall_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_footfall"))
}

/// The footfall binary running as a child process (`footfall serve`), for tests that send
/// signals or read its logs.
pub struct ChildApp {
    pub address: String,
    child: tokio::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

/// Runs the `footfall` binary with `args` against `settings`' ClickHouse database (the
/// CLI as a user runs it).
pub async fn run_footfall(settings: &Settings, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(footfall_binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(child_env(settings))
        .output()
        .await
        .expect("footfall runs")
}

/// The standard output of a command that succeeded.
pub fn stdout_of(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The standard error of a command that failed with exit code 1.
pub fn stderr_of(output: &std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Environment that points a child at `settings` (every key by its `FOOTFALL_*` name).
pub fn child_env(settings: &Settings) -> Vec<(String, String)> {
    let mut env = vec![
        ("FOOTFALL_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("FOOTFALL_CLICKHOUSE__URL".to_string(), settings.clickhouse.url.clone()),
        ("FOOTFALL_CLICKHOUSE__DATABASE".to_string(), settings.clickhouse.database.clone()),
        ("FOOTFALL_SPOOL_DIR".to_string(), settings.spool_dir.display().to_string()),
        ("FOOTFALL_PIPELINE__BATCH_MAX_WAIT_MS".to_string(), settings.pipeline.batch_max_wait_ms.to_string()),
        (
            "FOOTFALL_PIPELINE__RETRY_INITIAL_BACKOFF_MS".to_string(),
            settings.pipeline.retry_initial_backoff_ms.to_string(),
        ),
        ("FOOTFALL_PIPELINE__RETRY_MAX_BACKOFF_MS".to_string(), settings.pipeline.retry_max_backoff_ms.to_string()),
        ("FOOTFALL_PIPELINE__SHUTDOWN_DEADLINE_MS".to_string(), settings.pipeline.shutdown_deadline_ms.to_string()),
        ("FOOTFALL_PIPELINE__BATCH_MAX_ROWS".to_string(), settings.pipeline.batch_max_rows.to_string()),
        ("FOOTFALL_PIPELINE__QUEUE_CAPACITY".to_string(), settings.pipeline.queue_capacity.to_string()),
        ("FOOTFALL_SPOOL_MAX_BYTES".to_string(), settings.spool_max_bytes.to_string()),
        ("FOOTFALL_DURABLE".to_string(), settings.durable.to_string()),
        ("FOOTFALL_INGEST__RATE_LIMIT_PER_SECOND".to_string(), settings.ingest.rate_limit_per_second.to_string()),
        ("FOOTFALL_REPORTS__MIN_VISITORS".to_string(), settings.reports.min_visitors.to_string()),
    ];
    if let Some(token) = &settings.admin_token {
        env.push(("FOOTFALL_ADMIN_TOKEN".to_string(), token.clone()));
    }
    if let Some(cluster) = &settings.clickhouse.cluster {
        env.push(("FOOTFALL_CLICKHOUSE__CLUSTER".to_string(), cluster.clone()));
    }
    env
}

impl ChildApp {
    /// Starts `footfall serve` with exactly `env` (plus PATH) and waits until it listens.
    pub async fn spawn(env: Vec<(String, String)>) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut command = tokio::process::Command::new(footfall_binary());
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("footfall starts");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (port_sender, port_receiver) = tokio::sync::oneshot::channel();
        let log_writer = std::sync::Arc::clone(&log);
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            let mut port_sender = Some(port_sender);
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("footfall listening") {
                    let port: u16 = line.rsplit("port=").next().unwrap().trim().parse().unwrap();
                    if let Some(sender) = port_sender.take() {
                        let _ = sender.send(port);
                    }
                }
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("[child] {line}");
                }
                let mut log = log_writer.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let port = tokio::time::timeout(POLL_LIMIT, port_receiver)
            .await
            .expect("footfall listens within the poll limit")
            .expect("footfall logs its port");
        Self { address: format!("http://127.0.0.1:{port}"), child, log }
    }

    /// Sends `signal` (e.g. "TERM", "KILL") to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("child is running");
        let status =
            std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit and returns its exit code.
    pub async fn wait(&mut self) -> Option<i32> {
        tokio::time::timeout(POLL_LIMIT, self.child.wait())
            .await
            .expect("footfall exits within the poll limit")
            .unwrap()
            .code()
    }

    /// Everything the process wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// A TCP proxy in front of ClickHouse that a test can cut and restore, so ClickHouse
/// becomes unreachable for one app without disturbing the tests running beside it.
pub struct ToggleProxy {
    port: u16,
    target: String,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl ToggleProxy {
    /// A proxy on a free loopback port forwarding to the test ClickHouse server.
    pub async fn start() -> Self {
        let target = clickhouse_url().trim_start_matches("http://").trim_end_matches('/').to_string();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = socket.local_addr().unwrap().port();
        let proxy = Self { port, target, tasks: Default::default() };
        proxy.accept_on(socket);
        proxy
    }

    /// The URL to give footfall as `clickhouse.url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn accept_on(&self, socket: tokio::net::TcpSocket) {
        let listener = socket.listen(128).unwrap();
        let target = self.target.clone();
        let tasks = std::sync::Arc::clone(&self.tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let connection = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(connection);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Refuses new connections and breaks the open ones.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Accepts connections again on the same port.
    pub async fn restore(&self) {
        let bound = eventually_matches("cannot rebind the proxy port", Result::is_ok, || async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket.bind(format!("127.0.0.1:{}", self.port).parse().unwrap()).map(|()| socket)
        })
        .await;
        self.accept_on(bound.expect("eventually_matches returns a bound socket"));
    }
}

#[test]
fn test_databases_are_leftovers_an_hour_after_they_started() {
    let started = |seconds_ago: u64| format!("footfall_test_{}_0a1b2c3d4e5f", unix_seconds() - seconds_ago);
    assert!(is_leftover(&started(2 * 3600)));
    assert!(is_leftover(&format!("footfall-test-spool-{}", started(3601 + 60))));
    assert!(!is_leftover(&started(60)));
    assert!(!is_leftover(&format!("footfall-chromium-{}", started(0))));
    // Names from before they carried their start time.
    assert!(is_leftover("footfall_test_0a1b2c3d4e5f"));
    assert!(!is_leftover("footfall_load_1796000000_1"));
}

#[tokio::test]
async fn eventually_matches_returns_the_first_accepted_value() {
    let mut looks = 0;
    let seen = eventually_matches_within(
        Duration::from_secs(5),
        "the counter",
        |n| *n >= 3,
        || {
            looks += 1;
            std::future::ready(looks)
        },
    )
    .await;
    assert_eq!(seen, 3);
}

#[tokio::test]
#[should_panic(expected = "the counter stays small: 1 after 60ms")]
async fn eventually_matches_fails_with_the_last_value_seen() {
    eventually_matches_within(Duration::from_millis(60), "the counter stays small", |n| *n > 1, || async { 1 }).await;
}
