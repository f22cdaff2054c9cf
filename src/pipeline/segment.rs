//! The spool's on-disk record format: append-only segment files of checksummed records.
//!
//! A record is `"FFR1"` (magic), the payload length (u32, little-endian), the first four
//! bytes of the payload's blake3 hash, then the payload: one [`SpoolRecord`] as JSON. A
//! reader stops at the first record that is cut short or fails its checksum and reports
//! where the bad bytes start, so a torn tail (a crash mid-write) loses nothing that was
//! written whole and is never skipped silently.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::store::EventRow;

const MAGIC: &[u8; 4] = b"FFR1";
const HEADER_LEN: u64 = 12;
/// Largest payload a reader accepts; anything longer is corruption, not a record.
const MAX_PAYLOAD: u32 = 512 << 20;

/// What one record holds: rows that reached the collector together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolRecord {
    /// True when these rows (ids assigned) were already sent to ClickHouse and the
    /// outcome is unknown (a lost acknowledgement): replay checks before re-sending.
    pub maybe_stored: bool,
    pub rows: Vec<EventRow>,
}

/// Serializes records into the bytes to append.
pub fn encode(records: &[SpoolRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    for record in records {
        let payload = serde_json::to_vec(record).expect("event rows always serialize to JSON");
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&blake3::hash(&payload).as_bytes()[..4]);
        out.extend_from_slice(&payload);
    }
    out
}

/// A record read back, with where it lies in its segment.
#[derive(Debug)]
pub struct ReadRecord {
    pub start: u64,
    pub end: u64,
    pub record: SpoolRecord,
}

/// Bytes that do not form a valid record, from `offset` to the readable end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corruption {
    pub offset: u64,
    pub len: u64,
}

/// Reads records of one segment sequentially, up to a byte limit (the part known to be
/// completely written).
pub struct SegmentReader {
    reader: BufReader<File>,
    position: u64,
    limit: u64,
}

/// One step of reading.
#[derive(Debug)]
pub enum Next {
    Record(ReadRecord),
    /// The readable part ends here, cleanly.
    End,
    /// The bytes from here to the limit are not a valid record.
    Corrupt(Corruption),
}

impl SegmentReader {
    /// Opens `path` to read records from byte `from` up to byte `limit`.
    ///
    /// # Errors
    /// When the file cannot be opened or positioned.
    pub fn open(path: &Path, from: u64, limit: u64) -> io::Result<Self> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(from))?;
        Ok(Self { reader: BufReader::with_capacity(1 << 16, file), position: from, limit })
    }

    /// Where the next record starts.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Reads the next record.
    ///
    /// # Errors
    /// I/O errors other than the data being invalid (which is [`Next::Corrupt`]).
    pub fn next_record(&mut self) -> io::Result<Next> {
        let start = self.position;
        if start >= self.limit {
            return Ok(Next::End);
        }
        let corrupt = Next::Corrupt(Corruption { offset: start, len: self.limit - start });
        if self.limit - start < HEADER_LEN {
            return Ok(corrupt);
        }
        let mut header = [0u8; HEADER_LEN as usize];
        self.reader.read_exact(&mut header)?;
        let len = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        if &header[..4] != MAGIC || len > MAX_PAYLOAD || u64::from(len) > self.limit - start - HEADER_LEN {
            return Ok(corrupt);
        }
        let mut payload = vec![0u8; len as usize];
        self.reader.read_exact(&mut payload)?;
        if blake3::hash(&payload).as_bytes()[..4] != header[8..12] {
            return Ok(corrupt);
        }
        let Ok(record) = serde_json::from_slice(&payload) else {
            return Ok(corrupt);
        };
        self.position = start + HEADER_LEN + u64::from(len);
        Ok(Next::Record(ReadRecord { start, end: self.position, record }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn record(path: &str) -> SpoolRecord {
        SpoolRecord { maybe_stored: false, rows: vec![EventRow { path: path.into(), ..EventRow::default() }] }
    }

    fn read_all(path: &Path, limit: u64) -> (Vec<String>, Option<Corruption>) {
        let mut reader = SegmentReader::open(path, 0, limit).unwrap();
        let mut paths = Vec::new();
        loop {
            match reader.next_record().unwrap() {
                Next::Record(read) => paths.push(read.record.rows[0].path.clone()),
                Next::End => return (paths, None),
                Next::Corrupt(corruption) => return (paths, Some(corruption)),
            }
        }
    }

    /// A temporary file holding `bytes`, removed when it drops.
    fn segment_file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn records_round_trip() {
        let bytes = encode(&[record("/a"), record("/b")]);
        let file = segment_file(&bytes);
        assert_eq!(read_all(file.path(), bytes.len() as u64), (vec!["/a".into(), "/b".into()], None));
    }

    #[test]
    fn torn_tail_keeps_the_whole_records_and_reports_the_rest() {
        let mut bytes = encode(&[record("/a"), record("/b")]);
        let first_len = encode(&[record("/a")]).len() as u64;
        bytes.truncate(bytes.len() - 3);
        let file = segment_file(&bytes);
        let (paths, corruption) = read_all(file.path(), bytes.len() as u64);
        assert_eq!(paths, vec!["/a".to_string()]);
        assert_eq!(corruption, Some(Corruption { offset: first_len, len: bytes.len() as u64 - first_len }));
    }

    #[test]
    fn flipped_byte_fails_the_checksum() {
        let mut bytes = encode(&[record("/a"), record("/b")]);
        let second = encode(&[record("/a")]).len();
        bytes[second + 20] ^= 0x01;
        let file = segment_file(&bytes);
        let (paths, corruption) = read_all(file.path(), bytes.len() as u64);
        assert_eq!(paths, vec!["/a".to_string()]);
        assert_eq!(corruption.map(|c| c.offset), Some(second as u64));
    }
}
