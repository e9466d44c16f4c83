//! Files in and out: reading small text inputs with a one-line reason for every way that can
//! fail, and writing outputs so that a reader never sees half of one.
//!
//! A report is written to a temporary file in the same directory and renamed over the
//! target: on POSIX the rename is atomic, so the file is either the old one or the complete
//! new one, even if the process is killed half-way.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::InputError;

/// Writes `bytes` to `path` via a temporary sibling and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Appends `bytes` to `path` (creating it) in one write, as a step summary expects.
pub fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Reads a small UTF-8 text file, with a one-line reason for each way that can fail.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, InputError> {
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
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
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
