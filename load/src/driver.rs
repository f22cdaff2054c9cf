//! Runs the load: opens the connections, drives each from its own task at the pace the
//! [`schedule`](crate::schedule) sets, and merges what they counted.
//!
//! Every connection task loops: take the next request number from the shared counter (or,
//! at max pace, go now), wait until it is due, draw a request from its own [`Traffic`],
//! send it, wait for the answer, record the latency from the due time (what a user would
//! have waited) and from the send time (the server's share). Connections wake up to a
//! millisecond early (the timer's resolution) and send then; such a request's latency
//! counts from its send. Nothing is sent after the
//! run's duration; requests due but not sent by then are reported as *unsent*, which means
//! the target rate was not sustained.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;

use crate::client::{event_request, Connection, Failure, Target};
use crate::schedule::Pace;
use crate::stats::{Outcome, Tally};
use crate::traffic::{Catalogue, Traffic};

/// Pause before reconnecting after a connection could not be opened.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);
/// How early a connection wakes before a request is due. tokio's timer has millisecond
/// resolution and fires at the first tick after the deadline, so waking at the due time
/// would add up to a millisecond of the generator's own lateness to every latency.
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// How one run sends its load.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    pub connections: usize,
    pub pace: Pace,
    pub duration: Duration,
    /// How long one request may wait for its answer.
    pub request_timeout: Duration,
    pub seed: u64,
    pub progress: bool,
}

/// What a run counted.
#[derive(Debug)]
pub struct Outcomes {
    pub tally: Tally,
    /// From the start to the last answer.
    pub elapsed: Duration,
    /// Requests the pace made due within the duration (0 at max pace).
    pub due: u64,
    /// Due requests never sent because the run fell behind (0 at max pace).
    pub unsent: u64,
}

#[derive(Default)]
struct Progress {
    next: AtomicU64,
    answered: AtomicU64,
    failed: AtomicU64,
}

/// Runs the load described by `plan` with requests from `catalogue`.
///
/// # Errors
/// When the connections cannot be opened at the start (is the target running?).
pub async fn run(plan: Plan, catalogue: Arc<Catalogue>) -> anyhow::Result<Outcomes> {
    let mut connections = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections {
        connections.push(Connection::open(&plan.target).await?);
    }
    let plan = Arc::new(plan);
    let progress = Arc::new(Progress::default());
    let sites = catalogue.sites.len();
    let start = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(index, connection)| {
            let traffic = Traffic::new(Arc::clone(&catalogue), plan.seed, index as u64);
            tokio::spawn(drive(connection, traffic, Arc::clone(&plan), Arc::clone(&progress), start, sites))
        })
        .collect();
    let bar = plan.progress.then(|| show_progress(&plan, Arc::clone(&progress), start));
    let mut tally = Tally::new(sites);
    for task in tasks {
        tally.merge(&task.await?);
    }
    let elapsed = start.elapsed();
    if let Some(bar) = bar {
        bar.abort();
    }
    let due = plan.pace.due_within(plan.duration);
    let unsent = due.saturating_sub(tally.sent() + tally.connect_errors);
    Ok(Outcomes { tally, elapsed, due, unsent })
}

async fn drive(
    connection: Connection,
    mut traffic: Traffic,
    plan: Arc<Plan>,
    progress: Arc<Progress>,
    start: Instant,
    sites: usize,
) -> Tally {
    let end = start + plan.duration;
    let mut tally = Tally::new(sites);
    let mut connection = Some(connection);
    loop {
        let due = match plan.pace {
            Pace::Max => Instant::now(),
            pace => {
                let Some(offset) = pace.due_at(progress.next.fetch_add(1, Relaxed), plan.duration) else {
                    break;
                };
                let due = start + offset;
                tokio::time::sleep_until(due - TIMER_SLACK.min(offset)).await;
                due
            }
        };
        if Instant::now() >= end {
            break;
        }
        let request = traffic.next(due - start);
        let class = request.class;
        if connection.as_ref().is_none_or(|open| !open.is_open()) {
            connection = Connection::open(&plan.target).await.ok();
        }
        let Some(open) = connection.as_mut() else {
            tally.count(class, Outcome::NotSent);
            progress.failed.fetch_add(1, Relaxed);
            tokio::time::sleep(RECONNECT_PAUSE).await;
            continue;
        };
        let sent_at = Instant::now();
        match open.send(event_request(&plan.target, request), plan.request_timeout).await {
            Ok((status, _body)) => {
                let answered_at = Instant::now();
                // Sent late: the user waited from the due time (no coordinated omission).
                // Sent early (by the timer slack): the user waited from the send.
                tally.latency.record(answered_at - due.min(sent_at));
                tally.service.record(answered_at - sent_at);
                tally.count(class, Outcome::Status(status.as_u16()));
                progress.answered.fetch_add(1, Relaxed);
            }
            Err(failure) => {
                tally.count(class, if failure == Failure::TimedOut { Outcome::TimedOut } else { Outcome::Broken });
                progress.failed.fetch_add(1, Relaxed);
                connection = None;
            }
        }
    }
    tally
}

/// A progress bar on stderr (drawn only when stderr is a terminal), updated 4 times a second.
fn show_progress(plan: &Plan, progress: Arc<Progress>, start: Instant) -> tokio::task::JoinHandle<()> {
    let total = plan.duration.as_millis() as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {elapsed:>3}/{duration} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        let (mut last_answered, mut last_at) = (0, Instant::now());
        loop {
            ticker.tick().await;
            let answered = progress.answered.load(Relaxed);
            let now = Instant::now();
            let rate = (answered - last_answered) as f64 / (now - last_at).as_secs_f64().max(1e-3);
            (last_answered, last_at) = (answered, now);
            bar.set_position(((now - start).as_millis() as u64).min(total));
            bar.set_message(format!("{answered} answered, {rate:.0} req/s, {} failed", progress.failed.load(Relaxed)));
            if now - start >= Duration::from_millis(total) {
                bar.finish_and_clear();
                return;
            }
        }
    })
}
