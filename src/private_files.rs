//! Files footfall keeps on disk (spool segments and their acks, the WAL, the quarantine,
//! the forget queue): readable by footfall's user only, and written so that a crash
//! leaves the old content or the new, never half of it. The rows are anonymized and the
//! forget queue holds only hashes, but they are still nobody else's business.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every file: footfall's user only.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of every directory: footfall's user only.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and missing parents) with [`DIR_MODE`], or narrows an existing one to it.
///
/// # Errors
/// When the directory cannot be created or its mode set.
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
}

/// Opens `path` for appending, creating it with [`FILE_MODE`].
///
/// # Errors
/// When the file cannot be opened or created.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).mode(FILE_MODE).open(path)
}

/// Syncs `dir`, so that files created, renamed or removed in it stay so after a crash.
///
/// # Errors
/// When the directory cannot be opened or synced.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes a whole file with [`FILE_MODE`] so that a crash leaves either the old or the
/// new content: a `.tmp` beside it, synced, renamed over it, the directory synced. A
/// failed write removes its `.tmp`.
///
/// # Errors
/// When any step fails; `path` then holds what it held before.
pub(crate) fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = path.with_extension("tmp");
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_data()))
        .and_then(|()| fs::rename(&temporary, path))
        .and_then(|()| sync_dir(path.parent().unwrap_or(Path::new("."))));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}
