//! Writing output files safely: all or nothing, in the file the path really names, and
//! never over another file of the same command.
//!
//! A path is first resolved to where it leads ([`destination`]): through every symlink
//! to a regular file (existing or new), to something that is not a regular file (a
//! device such as `/dev/null`, a FIFO, an open file named through `/proc` such as
//! `/dev/stdout`), or, for `-`, to standard output. A regular file is written to a
//! temporary file beside it and renamed over it only when complete ([`stage`], then
//! [`commit`] for all of a command's files at once), with the mode and, where allowed,
//! the owner of the file it replaces, so an interrupted command never leaves half a
//! file and a symlink keeps pointing at its now updated target. Anything else is
//! written as it is, as a shell's `>>` would ([`stream`]): it cannot be replaced.
//!
//! Every live temporary file is registered, so that a signal handler about to end the
//! process can remove them ([`abandon`]) even though `process::exit` skips the
//! destructors that would; the registry also records what has been put in place, so
//! that an interrupted command can say exactly what it wrote ([`written`]).
//! [`check_distinct`] refuses, before anything runs, an output that is an input or
//! another output of the same command, compared by file identity, not by spelling.

use std::fs::{self, File, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The path that names standard output, as for most Unix tools.
pub const STDOUT: &str = "-";

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
    /// An output names the file an input of the same command is read from.
    #[error(
        "{output} {output_path} would replace {input} {input_path}: an output may not be an input of the same command"
    )]
    ReplacesInput {
        output: String,
        output_path: PathBuf,
        input: String,
        input_path: PathBuf,
    },
    /// Two outputs of one command name the same file (or both standard output).
    #[error("{first} {first_path} and {second} {second_path} {what}")]
    SameOutput {
        first: String,
        first_path: PathBuf,
        second: String,
        second_path: PathBuf,
        what: &'static str,
    },
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether `path` is `-`, standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == STDOUT
}

/// Where an output path leads, found before anything is written.
#[derive(Debug)]
pub enum Destination {
    /// A regular file at `target`, the path after every symlink: staged beside it, then
    /// renamed over it. `existing` is the file it replaces, whose mode and owner the new
    /// one keeps.
    File {
        target: PathBuf,
        existing: Option<Metadata>,
    },
    /// Something that is not a regular file (a device, a FIFO, an open file named
    /// through `/proc`): opened and written as it is.
    Direct(PathBuf),
    /// Standard output (`-`).
    Stdout,
}

impl Destination {
    /// Whether the output is written as it goes rather than staged and renamed.
    pub fn is_direct(&self) -> bool {
        !matches!(self, Destination::File { .. })
    }
}

/// The most symlinks followed, as Linux's own limit.
const MAX_LINKS: usize = 40;

/// Resolves `path` to where it leads. A directory, a missing directory or a loop of
/// symlinks is an error.
pub fn destination(path: &Path) -> Result<Destination, OutputError> {
    if is_stdout(path) {
        return Ok(Destination::Stdout);
    }
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return new_file(path, at),
            Err(e) => return Err(io_error(path)(e)),
        };
        if meta.is_file() {
            return Ok(Destination::File {
                target: at,
                existing: Some(meta),
            });
        }
        if meta.is_dir() {
            return Err(io_error(path)(io::Error::other("it is a directory")));
        }
        if !meta.file_type().is_symlink() {
            return Ok(Destination::Direct(path.to_path_buf()));
        }
        // A link is read from the directory it really lies in (its target may be
        // relative to it). Links in /proc (/dev/stdout, /dev/fd/N) name open files,
        // not places in a directory: they can only be written through.
        let real_dir = fs::canonicalize(dir_of(&at)).map_err(io_error(path))?;
        if real_dir.starts_with("/proc") {
            return Ok(Destination::Direct(path.to_path_buf()));
        }
        let link = fs::read_link(&at).map_err(io_error(path))?;
        at = real_dir.join(link);
    }
    Err(io_error(path)(io::Error::other(
        "too many levels of symbolic links",
    )))
}

/// A regular file to create at `target` (the end of `path`'s symlinks), in a directory
/// that must exist.
fn new_file(path: &Path, target: PathBuf) -> Result<Destination, OutputError> {
    let dir = dir_of(&target);
    if !dir.is_dir() {
        return Err(OutputError::MissingDir {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    Ok(Destination::File {
        target,
        existing: None,
    })
}

/// Checks, before a long run starts, that `path` could be written: it leads to a file
/// whose directory exists and accepts a new file, or to something written as it is.
pub fn check_writable(path: &Path) -> Result<(), OutputError> {
    if let Destination::File { target, .. } = destination(path)? {
        Temp::new(dir_of(&target), None).map_err(io_error(path))?;
    }
    Ok(())
}

/// Writes `contents` to `path` atomically (see [`write_atomically_with`]).
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    write_atomically_with(path, |w| w.write_all(contents))
}

/// Writes one output, the contents streamed by `write`: a file is staged and committed
/// (see [`stage`] and [`commit`]); anything else, `-` included, is written as it is.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), OutputError> {
    match destination(path)? {
        Destination::File { target, existing } => {
            let staged = stage(path, &target, existing.as_ref(), write)?;
            commit(vec![staged], || true).map(drop)
        }
        direct => stream(path, &direct, write),
    }
}

/// What the registry knows: the temporary files alive now, and every output put in
/// place so far, in order.
struct Registry {
    temps: Vec<PathBuf>,
    written: Vec<Written>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    temps: Vec::new(),
    written: Vec::new(),
});

/// The registry, also after a panic elsewhere (its lists stay consistent: each change
/// is one push or one removal).
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// An output of this process that has been written, wholly or in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The path as the caller gave it (`-` for standard output).
    pub path: PathBuf,
    /// False for an output written as it went (standard output, a device) that was cut
    /// short.
    pub complete: bool,
}

/// Every output this process has written so far, in order: files once renamed into
/// place, and streams (standard output, devices) from their first byte.
pub fn written() -> Vec<Written> {
    registry().written.clone()
}

/// For a signal handler about to end the process: removes every live temporary file
/// and returns what was written. From then on no output can be staged or committed
/// (the registry stays locked), so nothing appears after the answer is given.
pub fn abandon() -> Vec<Written> {
    let mut registry = registry();
    for temp in registry.temps.drain(..) {
        let _ = fs::remove_file(temp);
    }
    let written = registry.written.clone();
    std::mem::forget(registry);
    written
}

/// A registered temporary file: created, renamed and removed under the registry's lock,
/// so a signal handler sees it either alive (and removes it) or gone.
struct Temp(Option<tempfile::NamedTempFile>);

impl Temp {
    /// A new temporary file in `dir` with the mode of `existing`, or with the mode a
    /// new file gets (0666 less the umask).
    fn new(dir: &Path, existing: Option<&Metadata>) -> io::Result<Temp> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".consortium-sim-");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut registry = registry();
        let file = builder.tempfile_in(dir)?;
        registry.temps.push(file.path().to_path_buf());
        drop(registry);
        let temp = Temp(Some(file));
        if let Some(existing) = existing {
            keep_owner_and_mode(temp.file(), existing)?;
        }
        Ok(temp)
    }

    fn file(&self) -> &File {
        self.0.as_ref().expect("a live temporary file").as_file()
    }

    /// Renames the file over `target`; the caller holds the registry.
    fn persist(mut self, target: &Path, registry: &mut Registry) -> io::Result<()> {
        let file = self.0.take().expect("a live temporary file");
        let temp = file.path().to_path_buf();
        let result = file.persist(target).map(drop).map_err(|e| e.error);
        // A failed rename drops (removes) the temporary file: it is gone either way.
        registry.temps.retain(|t| *t != temp);
        result
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(file) = self.0.take() {
            let mut registry = registry();
            let temp = file.path().to_path_buf();
            drop(file);
            registry.temps.retain(|t| *t != temp);
        }
    }
}

/// Gives a replacing file the owner (where this process may) and the mode of the file
/// it replaces: a report kept private (0600) stays private.
fn keep_owner_and_mode(file: &File, existing: &Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root may give a file away; anyone else keeps their own file.
        let _ = std::os::unix::fs::fchown(file, Some(existing.uid()), Some(existing.gid()));
    }
    file.set_permissions(existing.permissions())
}

/// An output written to its temporary file and waiting to be renamed into place by
/// [`commit`]. Dropped uncommitted, it leaves nothing behind.
pub struct Staged {
    temp: Temp,
    target: PathBuf,
    path: PathBuf,
}

/// Writes `path`'s contents, streamed by `write`, to a temporary file beside `target`
/// (its [`Destination::File`]) with the mode and owner of `existing`.
pub fn stage(
    path: &Path,
    target: &Path,
    existing: Option<&Metadata>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Staged, OutputError> {
    let io = io_error(path);
    let temp = Temp::new(dir_of(target), existing).map_err(&io)?;
    let mut w = BufWriter::new(temp.file());
    write(&mut w).map_err(&io)?;
    w.flush().map_err(&io)?;
    drop(w);
    temp.file().sync_all().map_err(&io)?;
    Ok(Staged {
        temp,
        target: target.to_path_buf(),
        path: path.to_path_buf(),
    })
}

/// Renames every staged file into place, unless `go_ahead` (asked once all are ready,
/// with the registry held) says no: then none is, and the answer is false. A signal
/// handler's [`abandon`] waits for the renames, so a command's files appear together
/// or not at all.
pub fn commit(staged: Vec<Staged>, go_ahead: impl FnOnce() -> bool) -> Result<bool, OutputError> {
    let mut registry = registry();
    if !go_ahead() {
        drop(registry);
        return Ok(false);
    }
    for Staged { temp, target, path } in staged {
        temp.persist(&target, &mut registry)
            .map_err(io_error(&path))?;
        registry.written.push(Written {
            path,
            complete: true,
        });
    }
    Ok(true)
}

/// Writes `path`'s contents, streamed by `write`, straight into `destination`, which is
/// not a regular file (see [`Destination::is_direct`]): appended to, never truncated or
/// replaced.
pub fn stream(
    path: &Path,
    destination: &Destination,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), OutputError> {
    let io = io_error(path);
    let mut sink: Box<dyn Write> = match destination {
        Destination::Stdout => Box::new(io::stdout().lock()),
        Destination::Direct(at) => Box::new(File::options().append(true).open(at).map_err(&io)?),
        Destination::File { .. } => panic!("a regular file is staged, not streamed"),
    };
    let index = {
        let mut registry = registry();
        registry.written.push(Written {
            path: path.to_path_buf(),
            complete: false,
        });
        registry.written.len() - 1
    };
    let mut w = BufWriter::new(&mut sink);
    write(&mut w).map_err(&io)?;
    w.flush().map_err(&io)?;
    registry().written[index].complete = true;
    Ok(())
}

/// What a path names, to tell whether two paths are one file: an existing file by its
/// device and inode, a file yet to be created by its directory's real path and its
/// name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    Inode { dev: u64, ino: u64 },
    New(PathBuf),
}

impl Identity {
    fn of(meta: &Metadata, path: &Path) -> Identity {
        #[cfg(unix)]
        {
            let _ = path;
            use std::os::unix::fs::MetadataExt;
            Identity::Inode {
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            Identity::New(fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
        }
    }
}

/// How an input or output is known: its identity and whether it is a regular file.
struct Known {
    identity: Identity,
    regular: bool,
}

/// An input, if it exists (a missing input is the loader's to report).
fn input(path: &Path) -> Option<Known> {
    let meta = fs::metadata(path).ok()?;
    Some(Known {
        identity: Identity::of(&meta, path),
        regular: meta.is_file(),
    })
}

/// An output: where its path leads, as [`destination`] resolves it.
fn output(path: &Path) -> Result<Known, OutputError> {
    let known = |meta: Metadata, at: &Path| Known {
        regular: meta.is_file(),
        identity: Identity::of(&meta, at),
    };
    match destination(path)? {
        Destination::File {
            existing: Some(meta),
            target,
        } => Ok(known(meta, &target)),
        Destination::File {
            existing: None,
            target,
        } => {
            let dir = fs::canonicalize(dir_of(&target)).map_err(io_error(path))?;
            let name = target.file_name().unwrap_or(target.as_os_str());
            Ok(Known {
                identity: Identity::New(dir.join(name)),
                regular: true,
            })
        }
        Destination::Direct(at) => Ok(known(fs::metadata(&at).map_err(io_error(path))?, &at)),
        Destination::Stdout => {
            stdout().ok_or_else(|| io_error(path)(io::Error::other("standard output is closed")))
        }
    }
}

/// Standard output as a file, if it is open.
fn stdout() -> Option<Known> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = io::stdout().as_fd().try_clone_to_owned().ok()?;
        let meta = File::from(fd).metadata().ok()?;
        Some(Known {
            identity: Identity::of(&meta, Path::new(STDOUT)),
            regular: meta.is_file(),
        })
    }
    #[cfg(not(unix))]
    Some(Known {
        identity: Identity::New(PathBuf::from(STDOUT)),
        regular: false,
    })
}

/// `/dev/null`, which any number of outputs may share.
fn is_null(known: &Known) -> bool {
    !known.regular && input(Path::new("/dev/null")).is_some_and(|n| n.identity == known.identity)
}

/// Whether `path`, an output, goes to standard output: `-`, or another name of the
/// file standard output is (`/dev/stdout`, the file stdout is redirected to), unless
/// that is `/dev/null`. A front end then prints what it would print there elsewhere.
pub fn writes_stdout(path: &Path) -> bool {
    if is_stdout(path) {
        return true;
    }
    match (output(path), stdout()) {
        (Ok(out), Some(stdout)) => out.identity == stdout.identity && !is_null(&out),
        _ => false,
    }
}

/// Refuses an output that is one of the `inputs` or another output, each given with
/// the name messages use for it (a flag such as `--out`). Paths are compared by what
/// they name, after symlinks, not by how they are spelt. Only a regular file counts as
/// an input that an output would replace; outputs may share only `/dev/null`.
pub fn check_distinct(
    inputs: &[(String, &Path)],
    outputs: &[(String, &Path)],
) -> Result<(), OutputError> {
    let mut seen: Vec<(&str, &Path, Known)> = Vec::new();
    for (name, path) in outputs {
        let out = output(path)?;
        for (input_name, input_path) in inputs {
            if input(input_path)
                .is_some_and(|i| i.regular && out.regular && i.identity == out.identity)
            {
                return Err(OutputError::ReplacesInput {
                    output: name.clone(),
                    output_path: path.to_path_buf(),
                    input: input_name.clone(),
                    input_path: input_path.to_path_buf(),
                });
            }
        }
        // Two `-` are refused even when standard output is /dev/null.
        let clash = |(_, other_path, other): &&(&str, &Path, Known)| {
            other.identity == out.identity
                && (!is_null(&out) || (is_stdout(path) && is_stdout(other_path)))
        };
        if let Some((first, first_path, _)) = seen.iter().find(clash) {
            let stdout = stdout().is_some_and(|s| s.identity == out.identity);
            return Err(OutputError::SameOutput {
                first: first.to_string(),
                first_path: first_path.to_path_buf(),
                second: name.clone(),
                second_path: path.to_path_buf(),
                what: if stdout {
                    "both write to standard output: only one output may go there"
                } else {
                    "name the same file: give each output a file of its own"
                },
            });
        }
        seen.push((name, path, out));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_path_resolves_through_links_to_the_file_they_name() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("sub")).unwrap();
        fs::write(d.path().join("sub/real.json"), "x").unwrap();
        symlink("sub/real.json", d.path().join("a")).unwrap();
        symlink("a", d.path().join("b")).unwrap();
        let real = fs::canonicalize(d.path()).unwrap().join("sub/real.json");
        match destination(&d.path().join("b")).unwrap() {
            Destination::File { target, existing } => {
                assert_eq!(fs::canonicalize(target).unwrap(), real);
                assert!(existing.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            destination(Path::new("/dev/null")).unwrap(),
            Destination::Direct(_)
        ));
        assert!(matches!(
            destination(Path::new("/dev/stdout")).unwrap(),
            Destination::Direct(_)
        ));
        assert!(matches!(
            destination(Path::new("-")).unwrap(),
            Destination::Stdout
        ));
    }

    #[test]
    fn loops_directories_and_missing_directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        symlink("y", d.path().join("x")).unwrap();
        symlink("x", d.path().join("y")).unwrap();
        let message = |p: &Path| {
            let e = destination(p).unwrap_err();
            let cause = std::error::Error::source(&e).map(|c| c.to_string());
            format!("{e}: {}", cause.unwrap_or_default())
        };
        assert!(
            message(&d.path().join("x")).ends_with(": too many levels of symbolic links"),
            "{}",
            message(&d.path().join("x"))
        );
        assert!(message(d.path()).ends_with(": it is a directory"));
        let missing = d.path().join("no/such/dir/r.json");
        assert!(
            message(&missing).contains("does not exist"),
            "{}",
            message(&missing)
        );
    }

    #[test]
    fn an_uncommitted_output_leaves_no_file_and_a_commit_replaces_the_target() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("r.json");
        fs::write(&path, "earlier").unwrap();
        let stage_one = || {
            let Destination::File { target, existing } = destination(&path).unwrap() else {
                panic!("a regular file")
            };
            stage(&path, &target, existing.as_ref(), |w| w.write_all(b"new")).unwrap()
        };
        let staged = stage_one();
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
        assert!(!commit(vec![staged], || false).unwrap());
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
        assert_eq!(fs::read_to_string(&path).unwrap(), "earlier");
        assert!(commit(vec![stage_one()], || true).unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
        assert!(written().contains(&Written {
            path,
            complete: true
        }));
    }
}
