//! Where a command's output goes, and the checks made before anything runs: an output is
//! writable and is not one of the command's inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::OutputArgs;
use crate::error::{InputError, OutputError};
use crate::files;
use crate::report::{Format, Render};

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
fn not_an_input(out: &Path, flag: &str, inputs: &[&Path]) -> anyhow::Result<()> {
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

/// Where a command's report goes, under the one rule of `-f` and `-o`.
pub(super) struct Plan {
    /// The format of what is printed: `-f`'s, else the table.
    pub(super) printed: Format,
    /// Each `-o` with the format written to it.
    pub(super) files: Vec<(PathBuf, Format)>,
}

impl Plan {
    /// Every output path, with its flag, for the checks made before a run.
    pub(super) fn paths(&self) -> Vec<(&'static str, Option<&Path>)> {
        self.files
            .iter()
            .map(|(p, _)| ("-o", Some(p.as_path())))
            .collect()
    }

    /// Whether `format` is printed or written to a file.
    pub(super) fn writes(&self, format: Format) -> bool {
        self.printed == format || self.files.iter().any(|(_, f)| *f == format)
    }

    /// Writes `render(format)` to each file (each format rendered once).
    pub(super) fn write_files(
        &self,
        mut render: impl FnMut(Format) -> anyhow::Result<String>,
    ) -> anyhow::Result<()> {
        let mut done: Vec<(Format, String)> = Vec::new();
        for (path, format) in &self.files {
            if !done.iter().any(|(f, _)| f == format) {
                done.push((*format, render(*format)?));
            }
            let text = &done.iter().find(|(f, _)| f == format).expect("rendered").1;
            emit(text, Some(path))?;
        }
        Ok(())
    }
}

/// The format a file's extension names, if it names one.
fn format_of_extension(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => Format::Json,
        "csv" => Format::Csv,
        "md" | "markdown" => Format::Markdown,
        "html" | "htm" => Format::Html,
        "xml" => Format::Junit,
        "txt" => Format::Table,
        _ => return None,
    })
}

/// Resolves `-f` and each `-o` for a result `R`: a file gets `-f`'s format, else its
/// extension's, else `file_default`; an extension that names another format than `-f` is
/// refused (it would write, say, Markdown into `report.json`), as is a format `R` does not
/// render. All before any work.
pub(super) fn plan<R: Render>(o: &OutputArgs, file_default: Format) -> anyhow::Result<Plan> {
    let given = o.format.map(Format::from);
    let printed = given.unwrap_or(Format::Table);
    crate::report::supports::<R>(printed)?;
    let mut files = Vec::new();
    for path in &o.outputs {
        let format = match (given, format_of_extension(path)) {
            _ if path.as_os_str() == "-" => printed,
            (Some(f), Some(e)) if f != e => {
                return Err(flag_error(
                    "-o",
                    format!(
                        "{}: its extension says {}, but -f says {}: name the file .{} or drop -f",
                        path.display(),
                        e.name(),
                        f.name(),
                        extension_of(f)
                    ),
                ));
            }
            (Some(f), _) => f,
            (None, Some(e)) => e,
            (None, None) => file_default,
        };
        crate::report::supports::<R>(format).map_err(|e| {
            InputError::new(format!("-o {}: {}", path.display(), e.message)).for_key("--format")
        })?;
        files.push((path.clone(), format));
    }
    Ok(Plan { printed, files })
}

/// The extension that names a format.
fn extension_of(f: Format) -> &'static str {
    match f {
        Format::Table => "txt",
        Format::Json => "json",
        Format::Csv => "csv",
        Format::Markdown => "md",
        Format::Junit => "xml",
        Format::Html => "html",
    }
}
