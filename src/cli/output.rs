//! Where a command's output goes, and the checks made before anything runs: an output is
//! writable and is not one of the command's inputs.

use std::io::Write;
use std::path::Path;

use crate::error::{InputError, OutputError};
use crate::files;

/// Writes to stdout, or to a file (`-o`; `-` is stdout). Any failure, a closed stdout
/// included, is an [`OutputError`] naming what could not be written (exit 4).
pub(crate) fn emit(text: &str, to: Option<&Path>) -> anyhow::Result<()> {
    match to {
        Some(path) if path.as_os_str() != "-" => files::write_output(path, text.as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e).into()),
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| OutputError::new("stdout", e).into())
        }
    }
}

/// An output given by `flag`, checked before any work is done: not one of the inputs, and
/// writable.
pub(super) fn check_output(out: Option<&Path>, flag: &str, inputs: &[&Path]) -> anyhow::Result<()> {
    if let Some(out) = out {
        not_an_input(out, flag, inputs)?;
        files::check_writable(out, flag)?;
    }
    Ok(())
}

/// Refuses an output path that is also one of the inputs: writing it would destroy the input.
pub(super) fn not_an_input(out: &Path, flag: &str, inputs: &[&Path]) -> anyhow::Result<()> {
    if let Some(i) = inputs.iter().find(|i| files::same_file(out, i)) {
        return Err(flag_error(
            flag,
            format!(
                "{} is also an input ({}): writing it would destroy it; name another file",
                out.display(),
                i.display()
            ),
        ));
    }
    Ok(())
}

pub(super) fn flag_error(flag: &str, msg: impl Into<String>) -> anyhow::Error {
    InputError::new(msg).for_key(flag).into()
}
