//! Typed settings: `footfall.toml` (optional) overlaid by `FOOTFALL_*` environment
//! variables, nested keys joined by `__` (`FOOTFALL_CLICKHOUSE__URL`). This is the only
//! module that reads the environment; everything else receives a validated [`Settings`].
//!
//! Loading fails with a message that names the offending key, and [`Settings::validate`]
//! checks what serde cannot (ranges, URLs) once, at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Environment variable that names the config file when `--config` is not given.
pub const CONFIG_PATH_ENV: &str = "FOOTFALL_CONFIG";
/// Config file read from the working directory when neither `--config` nor
/// `FOOTFALL_CONFIG` is given (it is fine for it not to exist).
pub const DEFAULT_CONFIG_FILE: &str = "footfall.toml";

/// The shortest interval of the background refreshes and writes, in seconds.
const MIN_REFRESH_SECS: f64 = 0.01;

/// Everything footfall can be told. Every field has a default, so an empty file works.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port to serve HTTP on. Default `127.0.0.1:8080`; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Bearer token with full access (backfill `ts`, admin API). Default: none, admin off.
    pub admin_token: Option<String>,
    /// Directory where undelivered batches and quarantined rows are written.
    /// Default `./var/spool`.
    pub spool_dir: PathBuf,
    /// Most bytes the spool may take on disk; beyond it, events wait in memory (default
    /// mode) or get 503 (durable mode). Default 1 GiB.
    pub spool_max_bytes: u64,
    /// `true`: write each event to the spool, synced to disk, before answering 202.
    /// Default `false`.
    pub durable: bool,
    /// Raw events older than this many days are deleted (checked hourly); 0 keeps them
    /// forever. Default 0.
    pub retention_days: u32,
    /// Log filter in `tracing` syntax (`info`, `footfall=debug,actix_web=warn`). Default `info`.
    pub log_level: String,
    /// Log one line per HTTP request (method, path, status, size, duration; never the
    /// client address or user agent). Default `false`: it costs throughput on ingest.
    pub access_log: bool,
    /// Directory of dashboard definitions (`*.toml`, `*.json`). Default `./dashboards`.
    pub dashboards_dir: PathBuf,
    /// ClickHouse connection.
    pub clickhouse: ClickHouseSettings,
    /// Event intake limits.
    pub ingest: IngestSettings,
    /// Queue and batching between the handlers and the ClickHouse writer.
    pub pipeline: PipelineSettings,
    /// Reports.
    pub reports: ReportsSettings,
    /// Visitors' rights (`/api/forget`).
    pub rights: RightsSettings,
}

/// How to reach ClickHouse.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseSettings {
    /// HTTP endpoint. Default `http://127.0.0.1:8123`.
    pub url: String,
    /// Database; `footfall migrate` creates it. Default `footfall`.
    pub database: String,
    /// User. Default `default`.
    pub user: String,
    /// Password. Default empty.
    pub password: String,
    /// Name of a cluster in the servers' `remote_servers` (docs/operations.md, "Scale out"): tables
    /// become local `Replicated*` tables created `ON CLUSTER` plus `Distributed` tables
    /// over them, and queries run with synchronous distributed inserts. Needs a keeper
    /// (ZooKeeper) and `shard`/`replica` macros on every server. Default none (one server).
    pub cluster: Option<String>,
    /// Timeout for one request to ClickHouse, in milliseconds. Default 10000.
    pub request_timeout_ms: u64,
}

/// Limits on what one request may carry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Largest accepted request body in bytes; larger bodies get 413. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Most events in one `POST /api/events` array. Default 1000.
    pub max_batch_events: usize,
    /// Header holding the client address when footfall runs behind a proxy
    /// (`X-Forwarded-For`). Read only when the TCP peer is one of `trusted_proxies`; then
    /// the client is its right-most address that is not a trusted proxy (docs/operations.md,
    /// "Trusted proxies"). Default none: the peer address.
    pub client_ip_header: Option<String>,
    /// Proxies whose `client_ip_header` is believed: addresses or CIDRs
    /// (`["127.0.0.1", "10.0.0.0/8"]`). Malformed entries are skipped with a warning, not
    /// trusted. Default empty: the header is never read.
    pub trusted_proxies: Vec<String>,
    /// A request whose body has not fully arrived this long after its head gets 408 and
    /// its connection is closed, in milliseconds. Default 5000.
    pub body_timeout_ms: u64,
    /// How often every node re-reads the list of sites from ClickHouse, in seconds
    /// (fractions allowed, at least 0.01). A site added a moment ago is taken at once
    /// anyway: an event for a site this node does not know makes it look again (at most
    /// every 100 ms). Default 10.
    pub sites_refresh_secs: f64,
    /// How often every node writes its tally of the events it answered but did not store
    /// (per site and reason: the `not-stored` report) to ClickHouse, in seconds
    /// (fractions allowed, at least 0.01). Default 60.
    pub not_stored_write_secs: f64,
    /// Requests per second one client address may send on average (429 beyond it;
    /// requests with the admin token are exempt). 0 turns the limit off. Default 50.
    pub rate_limit_per_second: u32,
    /// Requests one client may send in a burst above the average. Default 200.
    pub rate_limit_burst: u32,
}

/// The bounded queue and the batching writer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSettings {
    /// Events the in-memory queue holds before intake answers 503. Default 100000.
    pub queue_capacity: usize,
    /// How long a handler waits for queue space before answering 503, in milliseconds.
    /// Default 50.
    pub queue_full_wait_ms: u64,
    /// A batch is written when it has this many rows (at most 1000000). Default 50000.
    pub batch_max_rows: usize,
    /// ... or this many bytes (approximate, in memory). Default 64 MiB, so that with
    /// ordinary events (about 630 bytes each by this measure) `batch_max_rows` is the
    /// limit that applies.
    pub batch_max_bytes: usize,
    /// ... or when its oldest event has waited this long, in milliseconds. Default 1000.
    pub batch_max_wait_ms: u64,
    /// First retry delay after a failed write, in milliseconds; doubles up to
    /// `retry_max_backoff_ms`, with jitter. Default 100.
    pub retry_initial_backoff_ms: u64,
    /// Longest delay between retries, in milliseconds. Default 5000.
    pub retry_max_backoff_ms: u64,
    /// On shutdown, how long footfall keeps delivering the queue and the spool to
    /// ClickHouse before it exits (the spool keeps the rest for the next start), in
    /// milliseconds. Default 10000.
    pub shutdown_deadline_ms: u64,
}

/// The reports' background work.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsSettings {
    /// How often this node writes the day summaries that make reports fast, in seconds;
    /// 0: never (with several nodes, one summarizing is enough). Default 60.
    pub summarize_every_secs: u64,
    /// Small-count protection: rows of top-content, content-discovery, sources, devices
    /// and countries with fewer visitors than this are folded into one `(other)` row, a
    /// filtered report whose filters match fewer visitors in its range is refused (403;
    /// the admin token is exempt), and the Grafana export's panels leave such counts out,
    /// so a report cannot single a person out. 0 or 1: off. Default 5.
    pub min_visitors: u64,
    /// How often every node re-reads the report tokens and share links from ClickHouse,
    /// in seconds (fractions allowed, at least 0.01): revoking one takes effect within
    /// this. A token made a moment ago works at once anyway. Default 10.
    pub tokens_refresh_secs: f64,
}

/// Visitors' rights: how forget requests reach ClickHouse.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RightsSettings {
    /// How often queued forget requests are applied, in seconds: each interval, at most
    /// one deletion (a ClickHouse mutation) per table and site, however many requests
    /// arrived; a request's rows are deleted within this plus
    /// `2 × pipeline.batch_max_wait_ms + 1 s`. At least 1. Default 60.
    pub forget_interval_secs: u64,
}

impl Default for RightsSettings {
    fn default() -> Self {
        Self { forget_interval_secs: 60 }
    }
}

impl Default for ReportsSettings {
    fn default() -> Self {
        Self { summarize_every_secs: 60, min_visitors: 5, tokens_refresh_secs: 10.0 }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_token: None,
            spool_dir: PathBuf::from("./var/spool"),
            spool_max_bytes: 1 << 30,
            durable: false,
            retention_days: 0,
            log_level: "info".into(),
            access_log: false,
            dashboards_dir: PathBuf::from("./dashboards"),
            clickhouse: ClickHouseSettings::default(),
            ingest: IngestSettings::default(),
            pipeline: PipelineSettings::default(),
            reports: ReportsSettings::default(),
            rights: RightsSettings::default(),
        }
    }
}

impl Default for ClickHouseSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "footfall".into(),
            user: "default".into(),
            password: String::new(),
            cluster: None,
            request_timeout_ms: 10_000,
        }
    }
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_batch_events: 1000,
            client_ip_header: None,
            trusted_proxies: Vec::new(),
            body_timeout_ms: 5000,
            sites_refresh_secs: 10.0,
            not_stored_write_secs: 60.0,
            rate_limit_per_second: 50,
            rate_limit_burst: 200,
        }
    }
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 100_000,
            queue_full_wait_ms: 50,
            batch_max_rows: 50_000,
            batch_max_bytes: 64 << 20,
            batch_max_wait_ms: 1000,
            retry_initial_backoff_ms: 100,
            retry_max_backoff_ms: 5000,
            shutdown_deadline_ms: 10_000,
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an environment variable did not parse; figment's message names the key.
    #[error("invalid configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    /// A value parsed but is not usable.
    #[error("invalid configuration: `{key}` {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl Settings {
    /// Loads defaults, then the config file, then `FOOTFALL_*` environment variables.
    ///
    /// `path` is the `--config` argument; without it `FOOTFALL_CONFIG`, then
    /// `./footfall.toml` if present.
    ///
    /// # Errors
    /// When the file named explicitly does not exist, when a value has the wrong type or
    /// an unknown key is present, or when [`Settings::validate`] fails.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let explicit = path.map(Path::to_path_buf).or_else(|| std::env::var_os(CONFIG_PATH_ENV).map(PathBuf::from));
        let file = match &explicit {
            Some(path) if !path.exists() => {
                return Err(ConfigError::Invalid {
                    key: "--config",
                    problem: format!("names `{}`, which does not exist", path.display()),
                })
            }
            Some(path) => path.clone(),
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        let env = Env::prefixed("FOOTFALL_").split("__").ignore(&["config"]);
        Self::from_figment(Figment::from(Serialized::defaults(Settings::default())).merge(Toml::file(file)).merge(env))
    }

    /// Extracts and validates settings from an assembled figment (tests build their own).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but cannot work.
    ///
    /// # Errors
    /// The first unusable value, naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| Err(ConfigError::Invalid { key, problem: problem.to_string() });
        match url::Url::parse(&self.clickhouse.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return invalid("clickhouse.url", "must be an http(s) URL such as http://127.0.0.1:8123"),
        }
        let db = &self.clickhouse.database;
        if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return invalid("clickhouse.database", "must be non-empty letters, digits and `_`");
        }
        if let Some(cluster) = &self.clickhouse.cluster {
            if cluster.is_empty() || !cluster.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return invalid("clickhouse.cluster", "must be letters, digits and `_`");
            }
        }
        if matches!(&self.admin_token, Some(token) if token.len() < 16) {
            return invalid("admin_token", "must be at least 16 characters (use a random string)");
        }
        if self.spool_max_bytes < 1 << 20 {
            return invalid("spool_max_bytes", "must be at least 1048576 (1 MiB)");
        }
        if self.clickhouse.request_timeout_ms == 0 {
            return invalid("clickhouse.request_timeout_ms", "must be greater than 0");
        }
        if !(1..=100_000).contains(&self.ingest.max_batch_events) {
            return invalid("ingest.max_batch_events", "must be between 1 and 100000");
        }
        if self.ingest.max_body_bytes < 1024 {
            return invalid("ingest.max_body_bytes", "must be at least 1024");
        }
        if self.ingest.body_timeout_ms == 0 {
            return invalid("ingest.body_timeout_ms", "must be at least 1");
        }
        for (key, secs) in [
            ("ingest.sites_refresh_secs", self.ingest.sites_refresh_secs),
            ("ingest.not_stored_write_secs", self.ingest.not_stored_write_secs),
            ("reports.tokens_refresh_secs", self.reports.tokens_refresh_secs),
        ] {
            if !(secs >= MIN_REFRESH_SECS && secs.is_finite()) {
                return invalid(key, "must be a number of seconds of at least 0.01");
            }
        }
        let pipeline = &self.pipeline;
        if pipeline.queue_capacity < self.ingest.max_batch_events {
            return invalid(
                "pipeline.queue_capacity",
                "must be at least ingest.max_batch_events, or a full array could never be queued",
            );
        }
        if !(1..=1_000_000).contains(&pipeline.batch_max_rows) {
            return invalid("pipeline.batch_max_rows", "must be between 1 and 1000000");
        }
        if pipeline.batch_max_bytes == 0 {
            return invalid("pipeline.batch_max_bytes", "must be greater than 0");
        }
        if pipeline.batch_max_wait_ms == 0 {
            return invalid("pipeline.batch_max_wait_ms", "must be greater than 0");
        }
        if pipeline.retry_initial_backoff_ms == 0 || pipeline.retry_max_backoff_ms < pipeline.retry_initial_backoff_ms {
            return invalid(
                "pipeline.retry_max_backoff_ms",
                "must be at least retry_initial_backoff_ms, which must be greater than 0",
            );
        }
        if self.rights.forget_interval_secs == 0 {
            return invalid("rights.forget_interval_secs", "must be at least 1");
        }
        Ok(())
    }
}

impl PipelineSettings {
    /// `batch_max_wait_ms` as a duration.
    pub fn batch_max_wait(&self) -> Duration {
        Duration::from_millis(self.batch_max_wait_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Toml;

    fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_figment(Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(text)))
    }

    #[test]
    fn defaults_are_valid() {
        let settings = from_toml("").unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.clickhouse.url, "http://127.0.0.1:8123");
        assert_eq!(settings.clickhouse.database, "footfall");
        assert_eq!(settings.spool_dir, PathBuf::from("./var/spool"));
    }

    /// Every setting with its default value, nested keys joined by `.`
    /// (`ingest.body_timeout_ms`), read from the settings struct itself.
    fn defaults(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                    defaults(&path, inner, out);
                }
            }
            leaf => out.push((prefix.to_string(), leaf.clone())),
        }
    }

    /// How docs/configuration.md begins a default: `none` for no value, else the value in
    /// backticks (`` `""` `` for an empty string).
    fn documented_default(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Null => "none".to_string(),
            serde_json::Value::String(text) if text.is_empty() => "`\"\"`".to_string(),
            serde_json::Value::String(text) => format!("`{text}`"),
            // A whole number of seconds given as a fraction is documented as written: `10`.
            serde_json::Value::Number(number)
                if number.as_f64().is_some_and(|n| n.fract() == 0.0 && n.abs() < 1e15) =>
            {
                format!("`{}`", number.as_f64().unwrap_or_default() as i64)
            }
            other => format!("`{other}`"),
        }
    }

    /// The rows of the settings table in docs/configuration.md ("## Settings"): key,
    /// environment variable and default, each cell as written.
    fn documented_settings() -> Vec<(String, String, String)> {
        let page = include_str!("../docs/configuration.md");
        let start = page.find("\n## Settings\n").expect("docs/configuration.md has a `## Settings` section") + 1;
        let section = &page[start..];
        let section = &section[..section[1..].find("\n## ").map_or(section.len(), |end| end + 1)];
        section
            .lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                assert_eq!(cells.len(), 7, "a row has five cells (key, variable, meaning, unit, default): {line}");
                (cells[1].trim_matches('`').to_string(), cells[2].trim_matches('`').to_string(), cells[5].to_string())
            })
            .collect()
    }

    #[test]
    fn the_configuration_page_documents_every_setting() {
        let mut settings = Vec::new();
        defaults("", &serde_json::to_value(Settings::default()).unwrap(), &mut settings);
        let documented = documented_settings();
        let missing: Vec<&str> = settings
            .iter()
            .map(|(key, _)| key.as_str())
            .filter(|key| !documented.iter().any(|row| row.0 == *key))
            .collect();
        assert!(missing.is_empty(), "settings missing from docs/configuration.md's table: {missing:?}");
        for (key, variable, default) in &documented {
            assert_eq!(
                documented.iter().filter(|row| row.0 == *key).count(),
                1,
                "`{key}` is documented more than once"
            );
            let Some((_, value)) = settings.iter().find(|(setting, _)| setting == key) else {
                panic!("docs/configuration.md documents `{key}`, which is not a setting");
            };
            assert_eq!(*variable, format!("FOOTFALL_{}", key.replace('.', "__").to_uppercase()), "variable of `{key}`");
            let expected = documented_default(value);
            assert!(
                default.starts_with(&expected),
                "default of `{key}` is documented as {default:?}, but is {expected}"
            );
        }
    }

    #[test]
    fn intervals_below_a_hundredth_of_a_second_are_refused_naming_the_key() {
        for (section, key) in
            [("ingest", "sites_refresh_secs"), ("ingest", "not_stored_write_secs"), ("reports", "tokens_refresh_secs")]
        {
            for bad in ["0", "-1", "0.001"] {
                let err = from_toml(&format!("[{section}]\n{key} = {bad}")).unwrap_err().to_string();
                assert!(
                    err.contains(&format!("`{section}.{key}` must be a number of seconds")),
                    "{key} = {bad}: {err}"
                );
            }
            assert!(from_toml(&format!("[{section}]\n{key} = 0.05")).is_ok(), "{key}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let err = from_toml("[clickhouse]\nulr = \"x\"").unwrap_err().to_string();
        assert!(err.contains("ulr"), "{err}");
    }

    #[test]
    fn wrong_type_is_named() {
        let err = from_toml("[pipeline]\nqueue_capacity = \"lots\"").unwrap_err().to_string();
        assert!(err.contains("pipeline.queue_capacity"), "{err}");
    }

    #[test]
    fn bad_clickhouse_url_is_named() {
        let err = from_toml("[clickhouse]\nurl = \"localhost:8123\"").unwrap_err().to_string();
        assert_eq!(err, "invalid configuration: `clickhouse.url` must be an http(s) URL such as http://127.0.0.1:8123");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn env_overrides_nested_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FOOTFALL_CLICKHOUSE__DATABASE", "analytics");
            jail.set_env("FOOTFALL_LISTEN", "0.0.0.0:9999");
            jail.set_env("FOOTFALL_CONFIG", "footfall.toml");
            jail.set_env("FOOTFALL_INGEST__TRUSTED_PROXIES", "[\"127.0.0.1\", \"10.0.0.0/8\"]");
            jail.create_file("footfall.toml", "[ingest]\nmax_batch_events = 10")?;
            let settings = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(settings.ingest.trusted_proxies, vec!["127.0.0.1".to_string(), "10.0.0.0/8".to_string()]);
            assert_eq!(settings.clickhouse.database, "analytics");
            assert_eq!(settings.listen.to_string(), "0.0.0.0:9999");
            assert_eq!(settings.ingest.max_batch_events, 10);
            Ok(())
        });
    }
}
