//! `footprint validate`: published training footprints estimated and compared.

use std::path::{Path, PathBuf};

use super::{evaluate_run, registry};
use crate::error::InputError;
use crate::impact;
use crate::record::{CaseCheck, FigureCheck, ValidationSummary};
use crate::runfile;

/// `footprint validate`: every run file with a `[published]` section in the folders, estimated
/// and compared with what was published.
pub(crate) fn validate(
    dirs: &[PathBuf],
    profiles: Option<&Path>,
) -> Result<Vec<CaseCheck>, InputError> {
    let reg = registry(profiles)?;
    let mut cases = Vec::new();
    // A folder given twice (in any spelling) would count its published figures twice.
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    for dir in dirs {
        let shown = dir.display().to_string();
        if let Ok(real) = std::fs::canonicalize(dir) {
            if let Some((_, first)) = seen.iter().find(|(r, _)| *r == real) {
                return Err(InputError::new(format!(
                    "this folder is given twice (also as {}): its figures would count twice",
                    first.display()
                ))
                .in_file(&shown));
            }
            seen.push((real, dir));
        }
        let entries = std::fs::read_dir(dir)
            .map_err(|e| InputError::new(format!("cannot read the folder: {e}")).in_file(&shown))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(InputError::new("no run files (*.toml) here").in_file(&shown));
        }
        for path in files {
            let spec = runfile::load(&path)?;
            if spec.published.is_none() {
                continue;
            }
            let source = spec
                .published
                .as_ref()
                .and_then(|p| p.source.as_ref())
                .map(|s| s.value.clone());
            let ev = evaluate_run(spec, &reg)?;
            cases.push(CaseCheck {
                name: ev.spec.name.clone(),
                file: path.display().to_string(),
                model: impact::primary(&ev.estimates).map(|e| e.kind),
                source,
                figures: ev.published_figures(),
            });
        }
    }
    Ok(cases)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

pub(crate) fn summarize(cases: &[CaseCheck]) -> ValidationSummary {
    let figs = cases.iter().flat_map(|c| &c.figures);
    let pred: Vec<&FigureCheck> = figs.clone().filter(|f| f.tolerance.is_none()).collect();
    let repr: Vec<&FigureCheck> = figs.filter(|f| f.tolerance.is_some()).collect();
    ValidationSummary {
        prediction_figures: pred.len(),
        prediction_inside: pred.iter().filter(|f| f.pass).count(),
        median_width: median(
            pred.iter()
                .filter(|f| f.low > 0.0)
                .map(|f| f.high / f.low)
                .collect(),
        ),
        median_error: median(
            pred.iter()
                .map(|f| (f.central - f.published).abs() / f.published)
                .collect(),
        ),
        reproduction_figures: repr.len(),
        reproduction_within: repr.iter().filter(|f| f.pass).count(),
    }
}
