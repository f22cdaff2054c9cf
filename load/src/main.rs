//! `footfall-load`: load-tests a running footfall and checks that nothing acknowledged was
//! lost. Parses the command line, sets up the run's sites, runs the load, verifies, prints
//! the report. Exit status: 0 pass (or unverified), 1 verification failed, 2 set-up error.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use footfall_load::client::Target;
use footfall_load::driver::{self, Plan};
use footfall_load::report::{Report, Setup};
use footfall_load::schedule::Pace;
use footfall_load::traffic::{Catalogue, ModelConfig};
use footfall_load::verify;

/// Load-test footfall's event intake with realistic traffic, then verify that every event
/// it acknowledged is in ClickHouse exactly once.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// footfall's address (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// Requests per second to send, open loop (each request is one event).
    #[arg(long, default_value_t = 1000.0, value_parser = positive_rate)]
    rate: f64,
    /// Send as fast as answers come back instead of at --rate (finds the maximum throughput).
    #[arg(long, conflicts_with_all = ["rate", "diurnal"])]
    max: bool,
    /// Shape the rate like a day (night trough, afternoon peak, mean --rate), compressed into --duration.
    #[arg(long)]
    diurnal: bool,
    /// Concurrent HTTP/1.1 keep-alive connections.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    connections: u16,
    /// How long to send, in seconds (at most one hour).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration: u64,
    /// Seed of the traffic model: the same seed draws the same sequence of requests.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sites in the run (registered for the run, named s<N>-<run id>.load.test).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    sites: u16,
    /// Pages per site at the start (popularity is Zipf-distributed).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pages: u32,
    /// Exponent of the Zipf popularity of sites and pages.
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// A new page is published on every site this often, in seconds (0: none).
    #[arg(long, default_value_t = 2.0)]
    publish_every: f64,
    /// Share of requests from bots (answered 202, not stored).
    #[arg(long, default_value_t = 0.05, value_parser = share)]
    bot_share: f64,
    /// Share of invalid requests (answered 4xx).
    #[arg(long, default_value_t = 0.02, value_parser = share)]
    invalid_share: f64,
    /// Share of visits without a cookie id.
    #[arg(long, default_value_t = 0.25, value_parser = share)]
    cookieless_share: f64,
    /// Share of visits with a cookie that are returning visitors.
    #[arg(long, default_value_t = 0.4, value_parser = share)]
    returning_share: f64,
    /// ClickHouse that footfall writes to, for registering sites and verifying.
    #[arg(long, default_value = "http://127.0.0.1:8123")]
    clickhouse_url: String,
    /// footfall's database in that ClickHouse.
    #[arg(long, default_value = "footfall")]
    database: String,
    /// Do not register sites or verify: for a target that is not footfall (the baseline).
    #[arg(long)]
    no_verify: bool,
    /// Keep the run's sites registered afterwards (they are removed by default; their events stay).
    #[arg(long)]
    keep_sites: bool,
    /// How long to wait for footfall to pick up the run's sites, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    sites_timeout: u64,
    /// How long to wait for footfall to flush after the run, in seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    flush_timeout: u64,
    /// How long one request may wait for its answer, in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    request_timeout_ms: u64,
    /// Threads of the load generator.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
    /// Names the run's sites (default: derived from the clock).
    #[arg(long)]
    run_id: Option<String>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bar or set-up messages on stderr.
    #[arg(long)]
    quiet: bool,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 10_000_000.0 => Ok(rate),
        _ => Err("a rate is a number of requests per second above 0 and at most 10000000".into()),
    }
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err("a share is a number from 0 to 1, such as 0.05".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.into())
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("footfall-load: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs everything; `Ok(false)` when verification failed.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    if cli.bot_share + cli.invalid_share > 1.0 {
        anyhow::bail!("--bot-share plus --invalid-share must be at most 1");
    }
    let target = Target::parse(&cli.target)?;
    let say = |message: String| {
        if !cli.quiet {
            eprintln!("{message}");
        }
    };
    let run_id = cli.run_id.clone().unwrap_or_else(clock_run_id);
    let duration = Duration::from_secs(cli.duration);
    let catalogue = Catalogue::new(ModelConfig {
        sites: cli.sites.into(),
        pages_per_site: cli.pages as usize,
        zipf_exponent: cli.zipf,
        publish_every: Duration::from_secs_f64(cli.publish_every.max(0.0)),
        bot_share: cli.bot_share,
        invalid_share: cli.invalid_share,
        cookieless_share: cli.cookieless_share,
        returning_share: cli.returning_share,
        run_id: run_id.clone(),
        started_at: chrono::Utc::now(),
    });
    let site_names: Vec<String> = catalogue.sites.iter().map(|site| site.domain.clone()).collect();

    let verifying = !cli.no_verify;
    let store = verifying.then(|| verify::store(&cli.clickhouse_url, &cli.database));
    let mut before = None;
    if let Some(store) = &store {
        say(format!("registering {} sites in {} database `{}`", site_names.len(), cli.clickhouse_url, cli.database));
        verify::register_sites(store, &catalogue).await?;
        say("waiting for footfall to accept them (it re-reads sites every ingest.sites_refresh_secs, 10 s by default)"
            .into());
        verify::wait_until_sites_accepted(&target, &catalogue, Duration::from_secs(cli.sites_timeout)).await?;
        before = Some(verify::collector_counters(&target).await?);
    }

    let pace = match (cli.max, cli.diurnal) {
        (true, _) => Pace::Max,
        (false, true) => Pace::Diurnal { mean_rate: cli.rate, span: duration },
        (false, false) => Pace::Constant { rate: cli.rate },
    };
    let plan = Plan {
        target: target.clone(),
        connections: cli.connections.into(),
        pace,
        duration,
        request_timeout: Duration::from_millis(cli.request_timeout_ms),
        seed: cli.seed,
        progress: !cli.quiet,
    };
    let outcomes = driver::run(plan, Arc::clone(&catalogue))
        .await
        .with_context(|| format!("running the load against {}", target.base))?;

    let mut collector = None;
    let mut verification = None;
    if let (Some(store), Some(before)) = (&store, before) {
        say("waiting for footfall to flush everything it accepted".into());
        let after = verify::wait_for_flush(&target, Duration::from_secs(cli.flush_timeout)).await?;
        collector = Some(after.since(&before));
        let stored = verify::stored_per_site(store, &site_names).await?;
        let sent: Vec<_> = site_names.iter().cloned().zip(outcomes.tally.sites.iter().copied()).collect();
        verification = Some(verify::compare(&sent, &stored));
        if !cli.keep_sites {
            verify::remove_sites(store, &catalogue).await?;
        }
    }

    let setup = Setup {
        target: target.base.clone(),
        mode: match pace {
            Pace::Max => "max",
            Pace::Constant { .. } => "rate",
            Pace::Diurnal { .. } => "diurnal",
        },
        rate: (!cli.max).then_some(cli.rate),
        connections: cli.connections.into(),
        duration_secs: duration.as_secs_f64(),
        seed: cli.seed,
        run_id,
        database: verifying.then(|| cli.database.clone()),
    };
    let report = Report::new(setup, &outcomes, &site_names, collector, verification);
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(report.passed())
}

/// A short id from the clock: unique enough to keep runs' sites apart.
fn clock_run_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:08x}", (nanos / 1000) as u32)
}
