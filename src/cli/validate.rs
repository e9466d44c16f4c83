//! `footprint validate`: published figures against footprint's estimates, with thresholds.

use std::path::Path;

use super::args::ValidateArgs;
use super::{check_outputs, emit, flag_error, plan};
use crate::app;
use crate::error::{EXIT_BUDGET, EXIT_OK, say};
use crate::report::validation::ValidationView;
use crate::report::{self, Format};

pub(super) fn validate_cmd(a: &ValidateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let plan = plan::<ValidationView>(&a.out, a.out.format.map_or(Format::Table, Format::from))?;
    let inputs: Vec<std::path::PathBuf> = a.dirs.clone();
    check_outputs(&plan.paths(), &inputs)?;
    for (path, _) in &plan.files {
        crate::files::check_writable(path, "-o")?;
    }
    if let Some(c) = a.min_coverage
        && !(0.0..=1.0).contains(&c)
    {
        return Err(flag_error("--min-coverage", "a share from 0 to 1"));
    }
    if let Some(w) = a.max_median_width
        && !(w.is_finite() && w >= 1.0)
    {
        return Err(flag_error("--max-median-width", "a ratio of at least 1"));
    }
    let cases = app::validate(&a.dirs, profiles)?;
    let s = app::summarize(&cases);
    let tiers: Vec<(String, crate::record::ValidationSummary)> = a
        .dirs
        .iter()
        .map(|dir| {
            let mine: Vec<_> = cases
                .iter()
                // The folder's own files: a folder inside another given one is its own tier.
                .filter(|c| Path::new(&c.file).parent() == Some(dir.as_path()))
                .cloned()
                .collect();
            (dir.display().to_string(), app::summarize(&mine))
        })
        .collect();
    let view = ValidationView {
        cases: &cases,
        summary: &s,
        tiers: &tiers,
    };
    if plan.files.is_empty() {
        emit(&report::render(&view, plan.printed)?, None)?;
    }
    plan.write_files(|f| report::render(&view, f))?;
    let mut failed = Vec::new();
    if s.prediction_figures + s.reproduction_figures == 0 {
        failed.push(
            "no published figure was checked: none of the run files has a [published] section"
                .to_string(),
        );
    }
    if s.reproduction_within < s.reproduction_figures {
        failed.push(format!(
            "{} reproduction figure(s) off their tolerance",
            s.reproduction_figures - s.reproduction_within
        ));
    }
    if let Some(min) = a.min_coverage
        && s.prediction_figures > 0
        && (s.prediction_inside as f64) < min * s.prediction_figures as f64
    {
        failed.push(format!(
            "coverage {}/{} below {min}",
            s.prediction_inside, s.prediction_figures
        ));
    }
    if let (Some(max), Some(w)) = (a.max_median_width, s.median_width)
        && w > max
    {
        failed.push(format!("median width ×{w:.2} above ×{max}"));
    }
    for f in &failed {
        say(&format!("validation failed: {f}"));
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_BUDGET
    })
}
