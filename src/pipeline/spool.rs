//! The disk spool: where events wait when they cannot go to ClickHouse straight away
//! (ClickHouse down or slower than intake, shutdown, and in durable mode every event),
//! bounded by a disk budget, plus the quarantine for rows ClickHouse refuses.
//!
//! Layout under `spool_dir`:
//! - `segments/<id>.seg`: append-only files of checksummed records ([`segment`]), at most
//!   [`SEGMENT_TARGET_BYTES`] each before the next one starts.
//! - `segments/<id>.ack`: how far the replayer has delivered a segment, and the batch it
//!   is delivering now (written before the INSERT), so a restart neither loses nor
//!   repeats rows. A segment is deleted only once every row in it was acknowledged.
//! - `quarantine/`: rows ClickHouse refused as data errors, with its reason, and bytes of
//!   segments that failed their checksum, for an operator to inspect.
//!
//! fsync policy: every append is written with `sync_data` before it counts as spooled
//! (in durable mode before the 202; appends are grouped, see [`wal`](super::wal)); new
//! files and renames also sync their directory. Rows here are already anonymized.
//!
//! Permissions: `spool_dir` and its directories are created 0700 (existing ones are
//! narrowed to it at start) and every file 0600, so only footfall's user reads them
//! (`crate::private_files`).
//!
//! The functions block on file I/O; async callers use `spawn_blocking`.
//!
//! [`segment`]: super::segment

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::segment::{encode, SpoolRecord};
use crate::private_files::{open_append, private_dir, sync_dir, write_durably};
use crate::store::EventRow;

/// A segment is closed and the next one started once it reaches this size.
pub const SEGMENT_TARGET_BYTES: u64 = 16 << 20;

/// Why an append was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("the spool is full ({used} of {budget} bytes); raise spool_max_bytes or bring ClickHouse back")]
    Full { used: u64, budget: u64 },
    #[error("cannot write the spool: {0}")]
    Io(#[from] io::Error),
}

/// Delivery progress of one segment, kept in its `.ack` file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Every record before this offset is in ClickHouse (or quarantined).
    pub delivered: u64,
    /// The batch being inserted now: records `delivered..end` under batch id `batch`.
    pub in_flight: Option<InFlight>,
}

/// A batch whose INSERT may or may not have landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub end: u64,
    pub batch: u64,
}

/// The segment being appended to, and how much of it is written completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frontier {
    pub segment: u64,
    pub len: u64,
}

struct Appender {
    file: Option<File>,
    frontier: Frontier,
}

/// Handle on the spool directory. One per application.
pub struct Spool {
    segments: PathBuf,
    quarantine: PathBuf,
    budget: u64,
    used: AtomicU64,
    appender: Mutex<Appender>,
    frontier: watch::Sender<Frontier>,
    quarantine_sequence: AtomicU64,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool").field("segments", &self.segments).field("used", &self.used()).finish_non_exhaustive()
    }
}

impl Spool {
    /// Opens (creating if needed) the spool under `dir` with a budget of `budget` bytes.
    /// Segments an earlier run left are kept for replay; appends go to a new segment.
    ///
    /// # Errors
    /// When the directories cannot be created or listed.
    pub fn open(dir: &Path, budget: u64) -> io::Result<Self> {
        let segments = dir.join("segments");
        let quarantine = dir.join("quarantine");
        for private in [dir, &segments, &quarantine] {
            private_dir(private)?;
        }
        let mut used = 0;
        let mut last = 0;
        for entry in fs::read_dir(&segments)? {
            let entry = entry?;
            if let Some(id) = segment_id(&entry.path()) {
                used += entry.metadata()?.len();
                last = last.max(id);
            }
        }
        let frontier = Frontier { segment: last + 1, len: 0 };
        Ok(Self {
            segments,
            quarantine,
            budget,
            used: AtomicU64::new(used),
            appender: Mutex::new(Appender { file: None, frontier }),
            frontier: watch::channel(frontier).0,
            quarantine_sequence: AtomicU64::new(0),
        })
    }

    /// Bytes the segments take on disk.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Watches the frontier: changes whenever an append completes.
    pub fn watch_frontier(&self) -> watch::Receiver<Frontier> {
        self.frontier.subscribe()
    }

    /// Appends records as one write and syncs it to disk before returning.
    ///
    /// # Errors
    /// [`SpoolError::Full`] when the records would take the spool over its budget;
    /// [`SpoolError::Io`] when the write or sync fails.
    pub fn append(&self, records: &[SpoolRecord]) -> Result<(), SpoolError> {
        let bytes = encode(records);
        let mut appender = self.appender.lock().unwrap_or_else(|e| e.into_inner());
        let used = self.used();
        if used + bytes.len() as u64 > self.budget {
            return Err(SpoolError::Full { used, budget: self.budget });
        }
        if appender.frontier.len > 0 && appender.frontier.len + bytes.len() as u64 > SEGMENT_TARGET_BYTES {
            appender.file = None;
            appender.frontier = Frontier { segment: appender.frontier.segment + 1, len: 0 };
        }
        if appender.file.is_none() {
            let path = self.segment_path(appender.frontier.segment);
            let file = open_append(&path)?;
            sync_dir(&self.segments)?;
            appender.file = Some(file);
        }
        let file = appender.file.as_mut().expect("opened above");
        if let Err(error) = file.write_all(&bytes).and_then(|()| file.sync_data()) {
            // Part of the write may be on disk: start a new segment so the next record
            // does not follow a torn one; replay reports the torn bytes.
            appender.file = None;
            appender.frontier = Frontier { segment: appender.frontier.segment + 1, len: 0 };
            return Err(error.into());
        }
        appender.frontier.len += bytes.len() as u64;
        self.used.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.frontier.send_replace(appender.frontier);
        Ok(())
    }

    /// Segment ids on disk, oldest first.
    ///
    /// # Errors
    /// When the directory cannot be listed.
    pub fn segment_ids(&self) -> io::Result<Vec<u64>> {
        let mut ids: Vec<u64> =
            fs::read_dir(&self.segments)?.filter_map(|entry| segment_id(&entry.ok()?.path())).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Path of segment `id`.
    pub fn segment_path(&self, id: u64) -> PathBuf {
        self.segments.join(format!("{id:020}.seg"))
    }

    fn ack_path(&self, id: u64) -> PathBuf {
        self.segments.join(format!("{id:020}.ack"))
    }

    /// How many bytes of segment `id` are written completely: the frontier's length for
    /// the segment being appended to, else the file's size.
    ///
    /// # Errors
    /// When the file's size cannot be read.
    pub fn readable_len(&self, id: u64) -> io::Result<u64> {
        let frontier = *self.frontier.borrow();
        if id == frontier.segment {
            return Ok(frontier.len);
        }
        Ok(fs::metadata(self.segment_path(id))?.len())
    }

    /// True when segment `id` can still grow.
    pub fn is_open(&self, id: u64) -> bool {
        self.frontier.borrow().segment == id
    }

    /// The delivery progress of segment `id` (nothing delivered when there is no file).
    ///
    /// # Errors
    /// When the `.ack` file exists but cannot be read or parsed.
    pub fn ack(&self, id: u64) -> io::Result<Ack> {
        match fs::read(self.ack_path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Ack::default()),
            Err(error) => Err(error),
        }
    }

    /// Records the delivery progress of segment `id` durably (write, sync, rename).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn set_ack(&self, id: u64, ack: Ack) -> io::Result<()> {
        write_durably(&self.ack_path(id), &serde_json::to_vec(&ack).map_err(io::Error::other)?)
    }

    /// Deletes a segment whose every row was delivered, and its `.ack`.
    ///
    /// # Errors
    /// When the files cannot be removed.
    pub fn remove_segment(&self, id: u64) -> io::Result<()> {
        let path = self.segment_path(id);
        let len = fs::metadata(&path)?.len();
        fs::remove_file(&path)?;
        match fs::remove_file(self.ack_path(id)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        self.used.fetch_sub(len.min(self.used()), Ordering::Relaxed);
        Ok(())
    }

    /// Deletes segment `id` if every byte of it is delivered (`delivered` is its acked
    /// offset), the one being appended to included: appends then start a new segment, and
    /// its bytes stop counting against the budget. True when it was deleted.
    ///
    /// # Errors
    /// When the files cannot be removed.
    pub fn remove_if_delivered(&self, id: u64, delivered: u64) -> io::Result<bool> {
        let mut appender = self.appender.lock().unwrap_or_else(|e| e.into_inner());
        if appender.frontier.segment == id {
            if appender.frontier.len != delivered || delivered == 0 {
                return Ok(false);
            }
            appender.file = None;
            appender.frontier = Frontier { segment: id + 1, len: 0 };
            self.frontier.send_replace(appender.frontier);
        } else if fs::metadata(self.segment_path(id))?.len() > delivered {
            return Ok(false);
        }
        drop(appender);
        self.remove_segment(id)?;
        Ok(true)
    }

    fn quarantine_path(&self, what: &str) -> PathBuf {
        let millis = chrono::Utc::now().timestamp_millis();
        let sequence = self.quarantine_sequence.fetch_add(1, Ordering::Relaxed);
        self.quarantine.join(format!("{millis:013}-{sequence:06}-{what}"))
    }

    /// Writes rows ClickHouse refused, one `{"reason", "row"}` JSON object per line.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn quarantine_rows(&self, rows: &[EventRow], reason: &str) -> io::Result<PathBuf> {
        #[derive(Serialize)]
        struct Line<'a> {
            reason: &'a str,
            row: &'a EventRow,
        }
        let mut text = Vec::new();
        for row in rows {
            serde_json::to_writer(&mut text, &Line { reason, row }).map_err(io::Error::other)?;
            text.push(b'\n');
        }
        let path = self.quarantine_path("rows.jsonl");
        write_durably(&path, &text)?;
        Ok(path)
    }

    /// Copies `len` bytes of segment `id` from `offset` (bytes that are not valid records)
    /// into the quarantine.
    ///
    /// # Errors
    /// When the bytes cannot be read or written.
    pub fn quarantine_bytes(&self, id: u64, offset: u64, len: u64) -> io::Result<PathBuf> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::open(self.segment_path(id))?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.take(len).read_to_end(&mut bytes)?;
        let path = self.quarantine_path(&format!("segment-{id}-at-{offset}.bad"));
        write_durably(&path, &bytes)?;
        Ok(path)
    }
}

fn segment_id(path: &Path) -> Option<u64> {
    if path.extension()? != "seg" {
        return None;
    }
    path.file_stem()?.to_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::private_files::{DIR_MODE, FILE_MODE};

    /// A spool in a directory it makes, inside a temporary directory that goes when the
    /// returned guard drops.
    fn temp_spool(budget: u64) -> (tempfile::TempDir, PathBuf, Spool) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("spool");
        let spool = Spool::open(&dir, budget).unwrap();
        (root, dir, spool)
    }

    fn record(rows: usize) -> SpoolRecord {
        SpoolRecord { maybe_stored: false, rows: vec![EventRow::default(); rows] }
    }

    #[test]
    fn appends_are_counted_and_bounded_by_the_budget() {
        let (_root, _, spool) = temp_spool(2000);
        spool.append(&[record(1)]).unwrap();
        let one = spool.used();
        assert!(one > 0 && one < 1000, "{one}");
        assert_eq!(spool.readable_len(spool.segment_ids().unwrap()[0]).unwrap(), one);
        let full = spool.append(&[record(10)]).unwrap_err();
        assert!(matches!(full, SpoolError::Full { .. }), "{full}");
        assert_eq!(spool.used(), one);
    }

    #[test]
    fn a_reopened_spool_keeps_old_segments_and_appends_to_a_new_one() {
        let (_root, dir, spool) = temp_spool(1 << 20);
        spool.append(&[record(1)]).unwrap();
        spool.set_ack(1, Ack { delivered: 10, in_flight: Some(InFlight { end: 20, batch: 7 }) }).unwrap();
        drop(spool);
        let spool = Spool::open(&dir, 1 << 20).unwrap();
        assert_eq!(spool.ack(1).unwrap(), Ack { delivered: 10, in_flight: Some(InFlight { end: 20, batch: 7 }) });
        assert!(!spool.is_open(1));
        spool.append(&[record(1)]).unwrap();
        assert_eq!(spool.segment_ids().unwrap(), vec![1, 2]);
        assert!(!spool.remove_if_delivered(1, 5).unwrap(), "not all delivered");
        let len = fs::metadata(spool.segment_path(1)).unwrap().len();
        assert!(spool.remove_if_delivered(1, len).unwrap());
        assert_eq!(spool.segment_ids().unwrap(), vec![2]);
        // The segment being appended to is retired once delivered; appends move on.
        let open = spool.readable_len(2).unwrap();
        assert!(spool.remove_if_delivered(2, open).unwrap());
        assert_eq!(spool.used(), 0);
        spool.append(&[record(1)]).unwrap();
        assert_eq!(spool.segment_ids().unwrap(), vec![3]);
        assert_eq!(spool.ack(1).unwrap(), Ack::default());
    }

    /// Modes of `dir` and everything under it, as (path relative to `dir`, mode).
    fn modes(dir: &Path) -> Vec<(String, u32)> {
        let mut found = vec![(".".to_string(), fs::metadata(dir).unwrap().permissions().mode() & 0o777)];
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                found.extend(modes(&path).into_iter().map(|(inner, mode)| (format!("{name}/{inner}"), mode)));
            } else {
                found.push((
                    path.file_name().unwrap().to_string_lossy().to_string(),
                    entry.metadata().unwrap().permissions().mode() & 0o777,
                ));
            }
        }
        found.sort();
        found
    }

    #[test]
    fn spool_quarantine_and_ack_files_are_private() {
        let (_root, dir, spool) = temp_spool(1 << 20);
        spool.append(&[record(1)]).unwrap();
        spool.set_ack(1, Ack { delivered: 10, in_flight: None }).unwrap();
        spool.quarantine_rows(&[EventRow::default()], "test").unwrap();
        spool.quarantine_bytes(1, 0, 4).unwrap();
        let found = modes(&dir);
        assert_eq!(found.len(), 7, "{found:?}");
        for (path, mode) in &found {
            let expected = if path.ends_with('.') { DIR_MODE } else { FILE_MODE };
            assert_eq!(*mode, expected, "{path} has mode {mode:o}");
        }
        // A directory an older version made with the default mode is narrowed at start.
        drop(spool);
        fs::set_permissions(dir.join("quarantine"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Spool::open(&dir, 1 << 20).unwrap();
        assert!(modes(&dir).iter().filter(|(path, _)| path.ends_with('.')).all(|(_, mode)| *mode == DIR_MODE));
    }
}
