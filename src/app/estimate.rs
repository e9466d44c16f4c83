//! `footprint estimate`.

use std::path::Path;

use super::{evaluate_run, registry};
use crate::error::InputError;
use crate::report::{Report, ReportKind};
use crate::runfile;

/// `footprint estimate`: the report of a run file, with its budget's verdict when it has one.
pub(crate) fn estimate(run: &Path, profiles: Option<&Path>) -> Result<Report, InputError> {
    let reg = registry(profiles)?;
    let ev = evaluate_run(runfile::load(run)?, &reg)?;
    let verdict = match ev.limits() {
        Some(l) => Some(ev.verdict(&l, false)?),
        None => None,
    };
    Ok(ev.into_report(ReportKind::Estimate, verdict))
}
