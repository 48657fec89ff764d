//! Writing output files safely: all or nothing.
//!
//! A report is written to a temporary file in the target's own directory and renamed over
//! the target only when complete, so an interrupted run never leaves a half-written file
//! and an earlier report at the same path survives until the new one is whole.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}: the directory {dir} does not exist")]
    MissingDir { path: PathBuf, dir: PathBuf },
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Checks, before a long run starts, that `path` could be written: its directory exists
/// and accepts a new file.
pub fn check_writable(path: &Path) -> Result<(), OutputError> {
    let dir = dir_of(path);
    if !dir.is_dir() {
        return Err(OutputError::MissingDir {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    if path.is_dir() {
        return Err(OutputError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is a directory"),
        });
    }
    tempfile::NamedTempFile::new_in(dir)
        .map(drop)
        .map_err(|source| OutputError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes `contents` to `path` atomically (temporary file in the same directory, then
/// rename).
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    write_atomically_with(path, |w| w.write_all(contents))
}

/// Like [`write_atomically`], with the contents streamed by `write`. The file is readable
/// by others (0644 on Unix), as a report shared with colleagues should be.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    check_writable(path)?;
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let tmp = builder.tempfile_in(dir_of(path)).map_err(io)?;
    let mut w = BufWriter::new(tmp.as_file());
    write(&mut w).map_err(io)?;
    w.flush().map_err(io)?;
    drop(w);
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
