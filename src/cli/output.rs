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

/// Every output of a command, checked together before any work: none is one of the files the
/// command reads (`inputs`, the run file's `[measured]` report and the profiles included), no
/// two name the same file (they would corrupt each other), and none is a symbolic link planted
/// in a directory others can write to.
pub(super) fn check_outputs(
    outputs: &[(&str, Option<&Path>)],
    inputs: &[std::path::PathBuf],
) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let given: Vec<(&str, &Path)> = outputs
        .iter()
        .filter_map(|(flag, p)| p.map(|p| (*flag, p)))
        .collect();
    for (i, (flag, out)) in given.iter().enumerate() {
        not_an_input(out, flag, &inputs)?;
        if files::planted_link(out) {
            return Err(flag_error(
                flag,
                format!(
                    "{} is a symbolic link in a directory others can write to: not followed (name the file it points to, or write elsewhere)",
                    out.display()
                ),
            ));
        }
        if let Some((other, _)) = given[..i]
            .iter()
            .find(|(_, o)| files::same_file(out, o) || (*o == *out && out.as_os_str() != "-"))
        {
            return Err(flag_error(
                flag,
                format!(
                    "{} is the same file as {other}'s: two outputs on one file would corrupt each other",
                    out.display()
                ),
            ));
        }
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
