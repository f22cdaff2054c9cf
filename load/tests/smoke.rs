//! End to end: the real `footfall` binary on a fresh database of the test ClickHouse,
//! loaded for a few seconds at a low rate by the real `footfall-load` binary, which must
//! report zero loss; the baseline server under the same tool; and the loopback-only rule.
//!
//! `footfall` is a binary of another workspace member, so it is found beside
//! `footfall-load` in the target directory: run these with `cargo test --workspace`
//! (as `scripts/test` does), which builds both.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Longest a child process may take to start or to finish its run.
const PROCESS_LIMIT: Duration = Duration::from_secs(120);

fn clickhouse_url() -> String {
    std::env::var("CLICKHOUSE_TEST_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into())
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

fn load_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_footfall-load"))
}

fn sibling_binary(name: &str) -> PathBuf {
    let path = load_binary().with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo test --workspace` (scripts/test does), which builds it beside footfall-load",
        path.display()
    );
    path
}

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and returns it with the first line of `stream` that contains `marker`.
fn start_until(mut command: Command, marker: &'static str, from_stderr: bool) -> (Running, String) {
    if from_stderr {
        command.stdout(Stdio::null()).stderr(Stdio::piped());
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    }
    let mut child = command.stdin(Stdio::null()).spawn().expect("the server starts");
    let stream: Box<dyn std::io::Read + Send> =
        if from_stderr { Box::new(child.stderr.take().unwrap()) } else { Box::new(child.stdout.take().unwrap()) };
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if std::env::var_os("TEST_LOG").is_some() {
                eprintln!("[server] {line}");
            }
            if line.contains(marker) {
                if let Some(sender) = sender.take() {
                    let _ = sender.send(line);
                }
            }
        }
    });
    let running = Running(child);
    let line = receiver.recv_timeout(PROCESS_LIMIT).unwrap_or_else(|_| panic!("no `{marker}` line from the server"));
    (running, line)
}

/// Starts `footfall serve` on a free port with a fresh database; returns it and its URL.
fn start_footfall(database: &str) -> (Running, String) {
    let spool = std::env::temp_dir().join(unique("footfall-load-smoke-spool"));
    let mut command = Command::new(sibling_binary("footfall"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FOOTFALL_LISTEN", "127.0.0.1:0")
        .env("FOOTFALL_CLICKHOUSE__URL", clickhouse_url())
        .env("FOOTFALL_CLICKHOUSE__DATABASE", database)
        .env("FOOTFALL_SPOOL_DIR", spool)
        .env("FOOTFALL_LOG_LEVEL", "info")
        // Pick up the run's sites within a second instead of ten.
        .env("FOOTFALL_INGEST__SITES_REFRESH_SECS", "1")
        .env("FOOTFALL_PIPELINE__BATCH_MAX_WAIT_MS", "100");
    let (running, line) = start_until(command, "footfall listening", true);
    let port: u16 = line.rsplit("port=").next().unwrap().trim().parse().unwrap();
    (running, format!("http://127.0.0.1:{port}"))
}

/// Runs `footfall-load` with `args`, killing it if it outlives [`PROCESS_LIMIT`].
fn run_load(args: &[&str]) -> Output {
    let mut child = Command::new(load_binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("footfall-load starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > PROCESS_LIMIT {
            let _ = child.kill();
            panic!("footfall-load ran longer than {PROCESS_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn report_of(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!("no JSON report ({error}); stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&output.stderr))
    })
}

fn count(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("{value} is not a count"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_against_footfall_loses_nothing() {
    let database = unique("footfall_load_smoke");
    let (_footfall, address) = start_footfall(&database);
    let output = run_load(&[
        "--target",
        &address,
        "--clickhouse-url",
        &clickhouse_url(),
        "--database",
        &database,
        "--rate",
        "200",
        "--duration",
        "3",
        "--connections",
        "4",
        "--seed",
        "7",
        "--publish-every",
        "0.5",
        "--sites-timeout",
        "30",
        "--flush-timeout",
        "30",
        "--json",
        "--quiet",
    ]);
    let report = report_of(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "report:\n{report:#}\nstderr:\n{stderr}");
    assert_eq!(report["verdict"], "pass", "{report:#}");

    // The load went out as planned: 200/s for 3 s.
    let requests = &report["requests"];
    assert_eq!(count(&requests["due"]), 600);
    assert_eq!(count(&requests["sent"]) + count(&requests["unsent"]), 600, "{requests:#}");
    assert!(count(&requests["sent"]) >= 300, "{requests:#}");
    assert_eq!(count(&requests["answered"]), count(&requests["sent"]), "{requests:#}");
    assert_eq!(count(&requests["unexpected"]), 0, "{report:#}");

    // Every kind of traffic was sent and answered as the contract says.
    let traffic = &report["traffic"];
    let human_acknowledged = count(&traffic["human"]["acknowledged"]);
    assert!(human_acknowledged > 0);
    assert_eq!(human_acknowledged + count(&traffic["human"]["shed"]), count(&traffic["human"]["sent"]));
    assert!(count(&traffic["bot"]["sent"]) > 0, "{traffic:#}");
    assert_eq!(count(&traffic["bot"]["acknowledged"]), count(&traffic["bot"]["sent"]));
    let invalid = traffic["invalid"].as_object().unwrap();
    let invalid_sent: u64 = invalid.values().map(|kind| count(&kind["sent"])).sum();
    assert!(invalid_sent > 0, "{traffic:#}");
    assert!(invalid.values().all(|kind| kind["as_expected"] == kind["sent"]), "{traffic:#}");

    // footfall counted the same: people's events accepted, invalid ones refused.
    let collector = &report["collector"];
    assert_eq!(count(&collector["accepted"]), human_acknowledged, "{collector:#}");
    assert_eq!(count(&collector["rejected"]), invalid_sent, "{collector:#}");

    // Zero loss, per site, and the rows are really there.
    let verification = &report["verification"];
    assert_eq!(verification["zero_loss"], true);
    assert_eq!(count(&verification["acknowledged"]), human_acknowledged);
    assert_eq!(count(&verification["stored"]), human_acknowledged);
    assert_eq!(verification["sites"].as_array().unwrap().len(), 3);
    let store = footfall_load::verify::store(&clickhouse_url(), &database);
    let (rows, sites, names, published): (u64, u64, String, u64) = store
        .client()
        .query(
            "SELECT count(), uniqExact(site), arrayStringConcat(arraySort(groupUniqArray(name)), ','), \
             countIf(published IS NOT NULL) FROM events",
        )
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(rows, human_acknowledged);
    assert_eq!(sites, 3);
    assert!(names.starts_with("engagement,pageview"), "{names}");
    assert!(published > 0, "pages published during the run were viewed");

    // The run's sites are removed again.
    let remaining = store.list_sites().await.unwrap();
    assert!(remaining.is_empty(), "{remaining:?}");
}

#[test]
fn the_baseline_answers_every_request_204() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_footfall-baseline"));
    command.args(["--listen", "127.0.0.1:0", "--workers", "1"]);
    let (_baseline, line) = start_until(command, "listening on", false);
    let address = line.rsplit(' ').next().unwrap().to_string();
    let output = run_load(&[
        "--target",
        &address,
        "--no-verify",
        "--max",
        "--duration",
        "1",
        "--connections",
        "2",
        "--json",
        "--quiet",
    ]);
    let report = report_of(&output);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["verdict"], "unverified");
    let answered = count(&report["requests"]["answered"]);
    assert!(answered > 100, "{report:#}");
    assert_eq!(report["statuses"], serde_json::json!({ "204": answered }));
}

#[test]
fn targets_off_this_machine_are_refused_before_anything_is_sent() {
    let output = run_load(&["--target", "http://192.0.2.1:8080", "--duration", "1"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}
