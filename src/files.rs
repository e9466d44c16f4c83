//! Files in and out: reading small text inputs with a one-line reason for every way that can
//! fail, and writing outputs so that a reader never sees half of one.
//!
//! A report is written to an unpredictable temporary file in the same directory and renamed
//! over the target: the rename is atomic, so the file is either the old one or the complete
//! new one, even if the process is killed half-way.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::InputError;

/// Where an output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sink<'a> {
    /// `-`: standard output.
    Stdout,
    /// Something that exists and is not a regular file (a FIFO, a terminal, `/dev/null`), or a
    /// symbolic link the user named: written through, in place.
    Through(&'a Path),
    /// A regular file (or none yet): replaced atomically.
    File(&'a Path),
}

/// How long a FIFO output waits for a reader before the write is given up (and, for a
/// measurement, the figures kept elsewhere): never forever.
const FIFO_READER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A symbolic link at `path` in a directory that others can write to (a sticky `/tmp`, a
/// 0777 folder): someone else may have planted it to make footprint write through it onto a
/// file of the user's (or root's). Such a link is never followed; a link in the user's own
/// directories is (docs/reliability.md).
pub(crate) fn planted_link(path: &Path) -> bool {
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir_of(path)).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
    }
    #[cfg(not(unix))]
    false
}

fn planted_link_error(path: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "{} is a symbolic link in a directory others can write to: not followed (name the file it points to, or write elsewhere)",
            path.display()
        ),
    )
}

/// Opens a FIFO (or device) to write into without ever blocking for good: a FIFO with no
/// reader is retried until one comes, for at most [`FIFO_READER_WAIT`] or until a stop
/// signal, then given up with an error.
fn open_through(path: &Path) -> std::io::Result<std::fs::File> {
    let t0 = std::time::Instant::now();
    loop {
        let mut o = std::fs::OpenOptions::new();
        o.write(true);
        crate::platform::non_blocking(&mut o);
        match o.open(path) {
            Ok(f) => {
                crate::platform::blocking_again(&f)?;
                return Ok(f);
            }
            // ENXIO: a FIFO that nobody reads (yet).
            Err(e) if e.raw_os_error() == Some(6) => {
                if t0.elapsed() >= FIFO_READER_WAIT || crate::platform::signal::received().is_some()
                {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!(
                            "nothing reads the FIFO (waited {} s)",
                            FIFO_READER_WAIT.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

/// An output path that is not an ordinary file to create or append to: a link planted in a
/// directory others can write to (refused), or a FIFO or device (opened without blocking for
/// good). `None` for a regular file or one not there yet.
fn open_if_special(path: &Path) -> Option<std::io::Result<std::fs::File>> {
    if planted_link(path) {
        return Some(Err(planted_link_error(path)));
    }
    std::fs::metadata(path)
        .is_ok_and(|m| !m.is_file() && !m.is_dir())
        .then(|| open_through(path))
}

/// Reads a small text file of the system's (a sysfs attribute) without blocking on a FIFO and
/// without reading more than `max_bytes`: a tree under `FOOTPRINT_SYSFS_ROOT` can hold
/// anything, a FIFO or a link to `/dev/zero` among them.
pub(crate) fn read_small(path: &Path, max_bytes: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    crate::platform::non_blocking(&mut o);
    let f = o.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    let mut text = String::new();
    f.take(max_bytes).read_to_string(&mut text)?;
    Ok(text)
}

/// How `path` is written (see [`Sink`]).
pub(crate) fn sink(path: &Path) -> Sink<'_> {
    if path.as_os_str() == "-" {
        return Sink::Stdout;
    }
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() || is_link => Sink::Through(path),
        _ => Sink::File(path),
    }
}

/// Writes an output: to stdout for `-`, in place for a FIFO, device or named link, and for a
/// regular file through an unpredictable, exclusively created temporary file in the same
/// directory that is synced and renamed over the target (keeping the target's permissions),
/// then the directory synced: a reader sees the old file or the whole new one, never half, and
/// nobody can plant a link where the temporary file will be.
pub(crate) fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match sink(path) {
        Sink::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Sink::Through(p) if planted_link(p) => Err(planted_link_error(p)),
        Sink::Through(p) => {
            let mut f = open_through(p)?;
            // A regular file reached through a link the user named is replaced in place.
            if f.metadata()?.is_file() {
                f.set_len(0)?;
            }
            f.write_all(bytes)?;
            f.flush()
        }
        Sink::File(p) => write_atomic(p, bytes),
    }
}

/// The directory a path's file lives in.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Replaces the regular file `path` (or creates it) atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dir_of(path);
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".footprint-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // What a plain create would give (the umask applies); a replaced file keeps its own.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if let Some(p) = existing {
        tmp.as_file().set_permissions(p)?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Opens a file to stream into (a trace): created or truncated. A symbolic link is followed
/// only when it is the path the user named, never one planted between the check and the open.
pub(crate) fn create_stream(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(f) = open_if_special(path) {
        return f;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        crate::platform::no_follow(&mut o);
    }
    o.open(path)
}

/// Appends `bytes` to `path` (creating it) in one write, as a step summary expects; `-` is
/// standard output, a FIFO is written without blocking for good, and a link planted in a
/// directory others can write to is refused.
pub(crate) fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return out.flush();
    }
    if let Some(f) = open_if_special(path) {
        let mut f = f?;
        f.write_all(bytes)?;
        return f.flush();
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Why a CSV file cannot take rows under `header`, if it cannot: it exists, is not empty, and
/// its first line is another header (appending would mix two tables). Checked before a run.
pub(crate) fn csv_header_conflict(path: &Path, header: &str) -> Option<String> {
    if path.as_os_str() == "-" || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let first = read_small(path, 64 << 10).ok()?;
    let first = first.lines().next()?;
    (first != header.trim_end()).then(|| {
        "has another header (not footprint's CodeCarbon columns): name a new file, or one written by --csv-append".to_string()
    })
}

/// Appends one CSV row, with the header when the file is new or empty, under an exclusive lock
/// (two runs that append at once do not both write the header or interleave), after a newline
/// when the file's last line has none, and never under another header.
pub(crate) fn append_csv_row(path: &Path, header: &str, row: &str) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    if path.as_os_str() == "-" || std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return append(path, format!("{header}{row}").as_bytes());
    }
    if planted_link(path) {
        return Err(planted_link_error(path));
    }
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    f.lock()?;
    let len = f.metadata()?.len();
    let mut text = String::new();
    if len == 0 {
        text.push_str(header);
    } else {
        let mut head = String::new();
        (&f).take(64 << 10).read_to_string(&mut head).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "is not a UTF-8 CSV file")
        })?;
        if head.lines().next() != Some(header.trim_end()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "has another header: not appended to",
            ));
        }
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1))?;
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            text.push('\n');
        }
    }
    text.push_str(row);
    f.write_all(text.as_bytes())?;
    f.flush()
}

/// Whether two paths name the same file: the same inode when both exist, else the same
/// canonical directory and name (an output that does not exist yet).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    if a.as_os_str() == "-" || b.as_os_str() == "-" {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    let canon = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        Some(dir_of(p).canonicalize().ok()?.join(p.file_name()?))
    };
    matches!((canon(a), canon(b)), (Some(x), Some(y)) if x == y)
}

/// Checks, before a long run, that an output can be written where it is asked to go: its
/// directory exists and a file can be created in it (or it is stdout, a device or a FIFO).
pub(crate) fn check_writable(path: &Path, flag: &str) -> Result<(), InputError> {
    let shown = path.display().to_string();
    let fail = |msg: String| InputError::new(msg).in_file(&shown).for_key(flag);
    if path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(fail("is a directory; name a file".to_string()));
    }
    match sink(path) {
        Sink::Stdout => return Ok(()),
        Sink::Through(p) if planted_link(p) => {
            return Err(fail(
                "is a symbolic link in a directory others can write to: not followed (name the file it points to, or write elsewhere)"
                    .to_string(),
            ));
        }
        // Not opened: a FIFO's reader would see an end of file before the real write.
        Sink::Through(p) => {
            return if crate::platform::may_write(p) {
                Ok(())
            } else {
                Err(fail("cannot write: permission denied".to_string()))
            };
        }
        Sink::File(_) => {}
    }
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(fail("is a directory; name a file".to_string()));
    }
    let dir = dir_of(path);
    match std::fs::metadata(dir) {
        Err(_) => {
            return Err(fail(format!("directory {} does not exist", dir.display())));
        }
        Ok(m) if !m.is_dir() => {
            return Err(fail(format!("{} is not a directory", dir.display())));
        }
        Ok(_) => {}
    }
    tempfile::Builder::new()
        .prefix(".footprint-check-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| fail(format!("cannot create a file in {}: {e}", dir.display())))
}

/// Reads a small UTF-8 text file, with a one-line reason for each way that can fail.
pub(crate) fn read_text(path: &Path, max_bytes: u64) -> Result<String, InputError> {
    use std::io::{ErrorKind, Read};
    let shown = path.display().to_string();
    let fail = |msg: String| InputError::new(msg).in_file(&shown);
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(match e.kind() {
            ErrorKind::NotFound => "no such file".to_string(),
            ErrorKind::PermissionDenied => "cannot read the file: permission denied".to_string(),
            _ => format!("cannot read the file: {e}"),
        })
    })?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a file".to_string()));
    }
    if !meta.is_file() {
        // A FIFO or a device could block forever or never end.
        return Err(fail(
            "is not a regular file (a FIFO or a device?): give the path of a file".to_string(),
        ));
    }
    if meta.len() > max_bytes {
        return Err(fail(format!(
            "is {:.1} MiB; expected a small text file (at most {} KiB) — is this the right file?",
            meta.len() as f64 / (1 << 20) as f64,
            max_bytes / 1024
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes + 1).read_to_end(&mut bytes))
        .map_err(|e| {
            fail(match e.kind() {
                ErrorKind::PermissionDenied => {
                    "cannot read the file: permission denied".to_string()
                }
                _ => format!("cannot read the file: {e}"),
            })
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(fail(format!("is larger than {} KiB", max_bytes / 1024)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = crate::text::line_of(e.as_bytes(), at);
        fail("is not UTF-8 text (binary data?)".to_string()).at_line(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole() {
        let dir = std::env::temp_dir().join(format!("fp-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("r.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second");
        // no temporary file is left behind
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing/x.json"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
