//! The forget queue: forget requests the handler accepted, kept on disk until their
//! deletions ran, and the task that applies them in rounds.
//!
//! Layout: one file per accepted request, `spool_dir/forget/<seq>.json` (the directory
//! 0700, the files 0600, written durably: `crate::private_files`), holding only the
//! site and the visitor hashes: `{"site":"example.com","visitors":[123,456]}`, never a
//! cookie id or an address. A
//! file is written to `<seq>.tmp`, synced, renamed and its directory synced before the
//! handler answers 202, so an answered request survives a crash; a `.tmp` left by a crash
//! belongs to a request that was never answered and is removed at start. A file is
//! removed only once the deletions of its site in a round succeeded.
//!
//! Rounds ([`Schedule`]): a round runs `interval + settle` after the oldest waiting
//! request was accepted, and never sooner than `interval` after the previous round. It
//! applies every request accepted at least `settle` before it: their hashes, grouped by
//! site and deduplicated, go to [`Store::delete_visitors`] once per site (one
//! `ALTER ... DELETE` per table of `store::VISITOR_TABLES`; sites with more than
//! [`MAX_HASHES_PER_DELETION`] hashes in one round take one call per that many). So a
//! request is applied once, within `interval + settle` of being accepted, and however
//! many requests arrive, ClickHouse gets at most one mutation per table and site per
//! interval. `settle` (2 × `pipeline.batch_max_wait_ms` + 1 s) is how long the writer
//! may still hold events accepted before the request in memory; once it has passed
//! they are in ClickHouse, so one deletion reaches them. A round that fails (ClickHouse
//! down) keeps its requests, logs a warning, and the next round, an interval later,
//! tries again. Requests found on disk at start count as accepted at start.
//!
//! File I/O blocks; it runs on tokio's blocking pool.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::private_files::{private_dir, sync_dir, write_durably};

use crate::store::Store;

/// Most requests that may wait at once; beyond it the handler answers 503. Each takes a
/// file of a few dozen bytes (a disk block), and one round applies them all.
pub const MAX_QUEUED_REQUESTS: usize = 10_000;
/// Most visitor hashes in one deletion statement. ClickHouse refuses queries longer than
/// `max_query_size` (256 KiB by default); a hash takes up to 21 bytes in the statement,
/// and 13,000 of them were measured to go over it on 18.16.
pub const MAX_HASHES_PER_DELETION: usize = 10_000;

/// When rounds run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Least time between two rounds (`rights.forget_interval_secs`).
    pub interval: Duration,
    /// How long after a request its deletion waits, so that events accepted before it
    /// have left the writer's memory (2 × `pipeline.batch_max_wait_ms` + 1 s).
    pub settle: Duration,
}

impl Schedule {
    /// When the next round runs, given when the oldest waiting request was accepted and
    /// when the previous round ran.
    pub fn next_round(&self, oldest: Instant, previous: Option<Instant>) -> Instant {
        let due = oldest + self.interval + self.settle;
        previous.map_or(due, |previous| due.max(previous + self.interval))
    }

    /// The newest acceptance time a round running at `now` applies.
    pub fn cutoff(&self, now: Instant) -> Instant {
        now.checked_sub(self.settle).unwrap_or(now)
    }

    /// Longest time from accepting a request to starting its deletions while ClickHouse
    /// answers: `interval + settle`.
    pub fn bound(&self) -> Duration {
        self.interval + self.settle
    }
}

/// Why a request could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the forget queue is full ({0} requests wait for the next round)")]
    Full(usize),
    #[error("cannot write the forget queue: {0}")]
    Io(#[from] io::Error),
}

/// What a queue file holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    site: String,
    visitors: Vec<u64>,
}

/// A request waiting for its round.
#[derive(Debug, Clone)]
struct Queued {
    /// Its file's number.
    seq: u64,
    accepted: Instant,
    site: String,
    visitors: Vec<u64>,
}

/// One site's share of a round: its distinct hashes, and the requests they came from.
#[derive(Debug, PartialEq, Eq)]
struct SiteDeletion {
    site: String,
    visitors: Vec<u64>,
    requests: Vec<u64>,
}

/// The queue: the requests waiting, in the order they were accepted, and their files.
#[derive(Debug)]
pub struct ForgetQueue {
    dir: PathBuf,
    waiting: Mutex<Vec<Queued>>,
    next_seq: AtomicU64,
    wake: Notify,
}

impl ForgetQueue {
    /// Opens (creating it 0700, or narrowing it to 0700) the queue directory `dir` and
    /// loads the requests an earlier run left there, as accepted now. Removes `.tmp`
    /// files (writes that were never answered); leaves files it cannot read, with a
    /// warning.
    ///
    /// # Errors
    /// When the directory cannot be created, narrowed or listed.
    pub fn open(dir: &Path) -> io::Result<Self> {
        private_dir(dir)?;
        let now = Instant::now();
        let mut waiting = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("tmp") => {
                    if let Err(error) = fs::remove_file(&path) {
                        tracing::warn!(%error, file = %path.display(), "could not remove an unfinished forget request");
                    }
                }
                Some("json") => match read_request(&path) {
                    Ok((seq, record)) => {
                        waiting.push(Queued { seq, accepted: now, site: record.site, visitors: record.visitors })
                    }
                    Err(error) => tracing::warn!(
                        %error,
                        file = %path.display(),
                        "unreadable forget request left in the queue; it is not applied (remove it once inspected)"
                    ),
                },
                _ => {}
            }
        }
        waiting.sort_by_key(|queued| queued.seq);
        let next_seq = waiting.last().map_or(1, |queued| queued.seq + 1);
        if !waiting.is_empty() {
            tracing::info!(requests = waiting.len(), "forget requests from an earlier run are queued");
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            waiting: Mutex::new(waiting),
            next_seq: AtomicU64::new(next_seq),
            wake: Notify::new(),
        })
    }

    /// Requests waiting for a round.
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    /// Queues the deletion of `visitors` on `site`: writes it to disk durably, then hands
    /// it to the next round.
    ///
    /// # Errors
    /// [`QueueError::Full`] when [`MAX_QUEUED_REQUESTS`] wait; [`QueueError::Io`] when
    /// the file cannot be written and synced (nothing is queued then).
    pub async fn push(&self, site: &str, visitors: Vec<u64>) -> Result<(), QueueError> {
        let waiting = self.waiting();
        if waiting >= MAX_QUEUED_REQUESTS {
            return Err(QueueError::Full(waiting));
        }
        let record = Record { site: site.to_string(), visitors };
        let bytes = serde_json::to_vec(&record).map_err(io::Error::other)?;
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.clone();
        let path = request_path(&dir, seq);
        tokio::task::spawn_blocking(move || write_durably(&path, &bytes)).await.map_err(io::Error::other)??;
        let mut waiting = self.lock();
        waiting.push(Queued { seq, accepted: Instant::now(), site: record.site, visitors: record.visitors });
        drop(waiting);
        self.wake.notify_one();
        Ok(())
    }

    /// Applies the queue in rounds on `schedule` until the task is aborted (at shutdown;
    /// what is still queued stays on disk for the next start).
    pub async fn run(&self, store: Store, schedule: Schedule) {
        let mut previous = None;
        loop {
            let oldest = self.lock().first().map(|queued| queued.accepted);
            let Some(oldest) = oldest else {
                self.wake.notified().await;
                continue;
            };
            tokio::time::sleep_until(schedule.next_round(oldest, previous)).await;
            let now = Instant::now();
            self.apply(&store, schedule.cutoff(now)).await;
            previous = Some(now);
        }
    }

    /// One round: deletes the hashes of every request accepted at or before `cutoff`,
    /// one site at a time, and removes the requests of each site whose deletions
    /// succeeded.
    async fn apply(&self, store: &Store, cutoff: Instant) {
        let deletions = plan(self.lock().iter().filter(|queued| queued.accepted <= cutoff));
        for deletion in deletions {
            let site = deletion.site.as_str();
            let (requests, visitors) = (deletion.requests.len(), deletion.visitors.len());
            match delete(store, &deletion).await {
                Ok(()) => {
                    tracing::info!(site, requests, visitors, "forget requests applied");
                    self.remove(deletion.requests).await;
                }
                Err(error) => tracing::warn!(
                    %error,
                    site,
                    requests,
                    "could not delete forgotten visitors; the requests stay queued and are retried next interval"
                ),
            }
        }
    }

    /// Forgets requests `seqs` (applied): removes their files, then drops them.
    async fn remove(&self, seqs: Vec<u64>) {
        let dir = self.dir.clone();
        let files = seqs.clone();
        let removed = tokio::task::spawn_blocking(move || remove_requests(&dir, &files)).await;
        if let Err(error) = removed.map_err(io::Error::other).and_then(|result| result) {
            tracing::warn!(%error, "could not remove applied forget requests from disk; they are applied again at the next start");
        }
        let seqs: BTreeSet<u64> = seqs.into_iter().collect();
        self.lock().retain(|queued| !seqs.contains(&queued.seq));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Groups requests by site, each site's hashes deduplicated and sorted.
fn plan<'a>(requests: impl Iterator<Item = &'a Queued>) -> Vec<SiteDeletion> {
    let mut sites: BTreeMap<&str, (BTreeSet<u64>, Vec<u64>)> = BTreeMap::new();
    for queued in requests {
        let (visitors, seqs) = sites.entry(&queued.site).or_default();
        visitors.extend(&queued.visitors);
        seqs.push(queued.seq);
    }
    sites
        .into_iter()
        .map(|(site, (visitors, requests))| SiteDeletion {
            site: site.to_string(),
            visitors: visitors.into_iter().collect(),
            requests,
        })
        .collect()
}

/// Deletes one site's hashes, [`MAX_HASHES_PER_DELETION`] per call.
async fn delete(store: &Store, deletion: &SiteDeletion) -> Result<(), crate::store::StoreError> {
    for chunk in deletion.visitors.chunks(MAX_HASHES_PER_DELETION) {
        store.delete_visitors(&deletion.site, chunk).await?;
    }
    Ok(())
}

fn request_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.json"))
}

fn read_request(path: &Path) -> io::Result<(u64, Record)> {
    let seq = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .and_then(|stem| stem.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not a queue file name"))?;
    let record = serde_json::from_slice(&fs::read(path)?).map_err(io::Error::other)?;
    Ok((seq, record))
}

fn remove_requests(dir: &Path, seqs: &[u64]) -> io::Result<()> {
    for seq in seqs {
        match fs::remove_file(request_path(dir, *seq)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::private_files::{DIR_MODE, FILE_MODE};

    /// A queue directory, not made yet, in a temporary directory that goes when the
    /// returned guard drops.
    fn temp_dir() -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("forget");
        (root, dir)
    }

    fn queued(seq: u64, site: &str, visitors: &[u64]) -> Queued {
        Queued { seq, accepted: Instant::now(), site: site.into(), visitors: visitors.to_vec() }
    }

    fn files(dir: &Path) -> Vec<(String, u32)> {
        let mut files: Vec<(String, u32)> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    entry.metadata().unwrap().permissions().mode() & 0o777,
                )
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_round_deletes_each_sites_hashes_once() {
        let requests = [
            queued(1, "example.com", &[7, 3]),
            queued(2, "other.org", &[9]),
            queued(3, "example.com", &[3, 7]),
            queued(4, "example.com", &[5, 7]),
        ];
        assert_eq!(
            plan(requests.iter()),
            vec![
                SiteDeletion { site: "example.com".into(), visitors: vec![3, 5, 7], requests: vec![1, 3, 4] },
                SiteDeletion { site: "other.org".into(), visitors: vec![9], requests: vec![2] },
            ]
        );
        assert_eq!(plan([].iter()), vec![]);
    }

    #[test]
    fn rounds_are_an_interval_apart_and_requests_settle_first() {
        let schedule = Schedule { interval: Duration::from_secs(60), settle: Duration::from_secs(3) };
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        // A request into an idle queue: its round runs interval + settle later.
        assert_eq!(schedule.next_round(at(10), None), at(73));
        assert_eq!(schedule.next_round(at(10), Some(at(0))), at(73));
        // Requests left by a round (accepted after its cutoff) wait an interval.
        assert_eq!(schedule.next_round(at(71), Some(at(73))), at(134));
        assert_eq!(schedule.next_round(at(50), Some(at(73))), at(133));
        // The round at 73 applies what was accepted up to 70: everything the writer had.
        assert_eq!(schedule.cutoff(at(73)), at(70));
        assert_eq!(schedule.bound(), Duration::from_secs(63));
    }

    #[tokio::test]
    async fn queued_requests_are_private_files_that_survive_a_restart() {
        let (_root, dir) = temp_dir();
        let queue = ForgetQueue::open(&dir).unwrap();
        queue.push("example.com", vec![u64::MAX, 42]).await.unwrap();
        queue.push("other.org", vec![1]).await.unwrap();
        assert_eq!(queue.waiting(), 2);
        assert_eq!(
            files(&dir),
            vec![("00000000000000000001.json".into(), FILE_MODE), ("00000000000000000002.json".into(), FILE_MODE)]
        );
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, DIR_MODE);
        // Only the site and the hashes.
        assert_eq!(
            fs::read_to_string(dir.join("00000000000000000001.json")).unwrap(),
            r#"{"site":"example.com","visitors":[18446744073709551615,42]}"#
        );

        // A crash during a write leaves a .tmp, which was never answered: it goes. A
        // directory made with a wider mode is narrowed.
        drop(queue);
        fs::write(dir.join("00000000000000000003.tmp"), b"{\"si").unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let queue = ForgetQueue::open(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, DIR_MODE);
        assert_eq!(queue.waiting(), 2);
        let loaded: Vec<(u64, String, Vec<u64>)> =
            queue.lock().iter().map(|q| (q.seq, q.site.clone(), q.visitors.clone())).collect();
        assert_eq!(loaded, vec![(1, "example.com".into(), vec![u64::MAX, 42]), (2, "other.org".into(), vec![1])]);

        // New requests number on; applied ones go from disk and memory.
        queue.push("example.com", vec![5]).await.unwrap();
        queue.remove(vec![1, 3]).await;
        assert_eq!(files(&dir), vec![("00000000000000000002.json".into(), FILE_MODE)]);
        assert_eq!(queue.waiting(), 1);
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_written_is_not_queued() {
        let (_root, dir) = temp_dir();
        let queue = ForgetQueue::open(&dir).unwrap();
        fs::remove_dir(&dir).unwrap();
        fs::write(&dir, b"not a directory").unwrap();
        assert!(matches!(queue.push("example.com", vec![1]).await, Err(QueueError::Io(_))));
        assert_eq!(queue.waiting(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_more() {
        let (_root, dir) = temp_dir();
        let queue = ForgetQueue::open(&dir).unwrap();
        queue.lock().extend((0..MAX_QUEUED_REQUESTS as u64).map(|seq| queued(seq, "example.com", &[seq])));
        assert!(matches!(
            queue.push("example.com", vec![1]).await,
            Err(QueueError::Full(n)) if n == MAX_QUEUED_REQUESTS
        ));
        assert_eq!(files(&dir), vec![]);
    }
}
