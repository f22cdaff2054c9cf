//! The disk spool: batches the writer could not deliver before shutdown wait here as
//! files until a later run replays them, and rows ClickHouse refused as data errors are
//! kept in a quarantine file with the reason, for an operator to inspect.
//!
//! Layout under `spool_dir`:
//! - `pending/<unix-ms>-<seq>.jsonl`: one batch, one JSON [`EventRow`] per line. Written
//!   to a `.tmp` file, fsynced, then renamed, so a crash never leaves half a batch under a
//!   final name. Deleted only after ClickHouse acknowledged every row in it.
//! - `quarantine/<unix-ms>-<seq>.jsonl`: `{"reason": "...", "row": {...}}` per line.
//!
//! Rows here are already anonymized: no IP address, user agent or cookie id reaches disk.
//! The functions block on file I/O; the writer calls them from `spawn_blocking`.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::store::EventRow;

/// Handle on the spool directory.
#[derive(Debug)]
pub struct Spool {
    pending: PathBuf,
    quarantine: PathBuf,
    sequence: AtomicU64,
}

#[derive(Serialize)]
struct QuarantineLine<'a> {
    reason: &'a str,
    row: &'a EventRow,
}

impl Spool {
    /// Opens (creating if needed) the spool under `dir`.
    ///
    /// # Errors
    /// When the directories cannot be created.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let spool =
            Self { pending: dir.join("pending"), quarantine: dir.join("quarantine"), sequence: AtomicU64::new(0) };
        fs::create_dir_all(&spool.pending)?;
        fs::create_dir_all(&spool.quarantine)?;
        Ok(spool)
    }

    fn next_name(&self) -> String {
        let millis = chrono::Utc::now().timestamp_millis();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        format!("{millis:013}-{sequence:06}.jsonl")
    }

    /// Writes a batch durably to `pending/`.
    ///
    /// # Errors
    /// When the file cannot be written or synced.
    pub fn write_batch(&self, rows: &[EventRow]) -> io::Result<PathBuf> {
        let path = self.pending.join(self.next_name());
        write_lines(&path, rows.iter())?;
        Ok(path)
    }

    /// Appends rows to a new quarantine file with the reason ClickHouse gave.
    ///
    /// # Errors
    /// When the file cannot be written or synced.
    pub fn quarantine(&self, rows: &[EventRow], reason: &str) -> io::Result<PathBuf> {
        let path = self.quarantine.join(self.next_name());
        write_lines(&path, rows.iter().map(|row| QuarantineLine { reason, row }))?;
        Ok(path)
    }

    /// Pending batch files, oldest first.
    ///
    /// # Errors
    /// When the directory cannot be listed.
    pub fn pending(&self) -> io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.pending)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Reads one pending batch.
    ///
    /// # Errors
    /// When the file cannot be read or a line is not an event row.
    pub fn read_batch(path: &Path) -> io::Result<Vec<EventRow>> {
        BufReader::new(File::open(path)?)
            .lines()
            .map(|line| serde_json::from_str(&line?).map_err(io::Error::other))
            .collect()
    }

    /// Deletes a delivered batch.
    ///
    /// # Errors
    /// When the file cannot be removed.
    pub fn remove(path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

fn write_lines<T: Serialize>(path: &Path, lines: impl Iterator<Item = T>) -> io::Result<()> {
    let temporary = path.with_extension("tmp");
    let file = File::create(&temporary)?;
    let mut out = BufWriter::new(file);
    for line in lines {
        serde_json::to_writer(&mut out, &line).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_round_trip_in_order() {
        let dir = std::env::temp_dir().join(format!("footfall-spool-{}", std::process::id()));
        let spool = Spool::open(&dir).unwrap();
        let first = vec![EventRow { path: "/a".into(), ..EventRow::default() }];
        let second = vec![EventRow { path: "/b".into(), ..EventRow::default() }; 2];
        spool.write_batch(&first).unwrap();
        spool.write_batch(&second).unwrap();
        let pending = spool.pending().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(Spool::read_batch(&pending[0]).unwrap(), first);
        assert_eq!(Spool::read_batch(&pending[1]).unwrap(), second);
        Spool::remove(&pending[0]).unwrap();
        assert_eq!(spool.pending().unwrap(), vec![pending[1].clone()]);
        fs::remove_dir_all(dir).unwrap();
    }
}
