//! `footprint check`: a run file or a measurement report against a budget.

use std::path::Path;

use super::evaluate::verdict;
use super::{MAX_REPORT_BYTES, evaluate_run, registry};
use crate::budget::Limits;
use crate::error::InputError;
use crate::record::{MeasurementReport, Status};
use crate::report::{Report, ReportKind};
use crate::runfile;

/// Whether a file is a JSON report rather than a run description.
fn looks_like_json(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{')
}

/// `footprint check`: a run file (or a measurement report) against its budget and the flags'
/// limits. The report carries the verdict; `budget.ok` decides the exit code.
pub(crate) fn check(
    file: &Path,
    profiles: Option<&Path>,
    flags: Limits,
    strict: bool,
) -> Result<Report, InputError> {
    let shown = file.display().to_string();
    let text = crate::files::read_text(file, MAX_REPORT_BYTES)?;
    let (mut report, file_limits) = if looks_like_json(file, &text) {
        (checked_measurement(&text, &shown)?, Limits::default())
    } else {
        // The text is already read: parse it rather than reading the file again (a run file
        // over the run-file size limit still gets load's message).
        if text.len() as u64 > runfile::MAX_FILE_BYTES {
            crate::files::read_text(file, runfile::MAX_FILE_BYTES)?;
        }
        let dir = file.parent().unwrap_or(Path::new(""));
        let ev = evaluate_run(runfile::parse(&text, &shown, dir)?, &registry(profiles)?)?;
        let limits = ev.limits().unwrap_or_default();
        (ev.into_report(ReportKind::Check, None), limits)
    };
    let limits = file_limits.overridden_by(flags);
    if limits.is_empty() {
        return Err(InputError::new(
            "no budget: add [budget] to the run file or give --max-co2e, --max-energy or --max-cost",
        )
        .in_file(shown));
    }
    report.budget = Some(verdict(&report.estimates, &limits, strict, &shown)?);
    Ok(report)
}

/// A report from `footprint measure -o`, read back for checking.
fn checked_measurement(text: &str, shown: &str) -> Result<Report, InputError> {
    let r = MeasurementReport::from_json(text, shown)?;
    let mut notes = vec![format!("checked the measurement report {shown}")];
    if r.measurement.status == Status::Interrupted {
        notes.push("the measurement was interrupted: its figures cover only what ran".to_string());
    }
    Ok(Report {
        kind: ReportKind::Check,
        name: r.name,
        description: r.description,
        estimates: r.estimates,
        assumptions: Vec::new(),
        notes,
        budget: None,
        measurement: Some(r.measurement),
        window_only: false,
    })
}
