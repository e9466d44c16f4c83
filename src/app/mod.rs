//! The pipelines behind each command, one file per command: read the inputs, look up
//! profiles, run the calculator (or a measurement), and assemble the result the CLI renders.
//! The CLI maps flags to these calls and results to exit codes; the fuzz target and the benches
//! call the same functions, so what they exercise is what users run.
//!
//! `evaluate` is the core they share: a run file (and the measurement it names) through
//! `scenario` and `impact` to a report.
//!
//! Every check that can fail on user input runs before a measurement starts: a measurement can
//! be hours of GPU time, and must not be lost to a typo found afterwards.

use std::path::Path;

mod check;
mod estimate;
mod evaluate;
mod explain;
mod measure;
pub(crate) mod merge;
mod plot;
pub(crate) mod sweep;
mod validate;
pub(crate) mod when;

pub(crate) use check::check;
pub(crate) use estimate::estimate;
pub(crate) use evaluate::{evaluate, plan_measured};
pub(crate) use evaluate::{evaluate_run, read_measured};
pub(crate) use explain::explain;
pub(crate) use measure::{
    CentralSite, MeasureMode, MeasureOutcome, MeasureRequest, measure, measurement_report,
};
pub(crate) use plot::plot;
pub(crate) use validate::{summarize, validate};

use crate::error::InputError;
use crate::profiles::Registry;

/// Largest measurement report read back (a report with many sensors is still far smaller).
pub(crate) const MAX_REPORT_BYTES: u64 = 64 << 20;

/// Every file a command reads besides its flags' own: the run file, the measurement report its
/// `[measured]` section names, and each profile file under `--profiles`. No output may be one
/// of them (a report written over the measurement it was computed from is lost for good). A
/// run file that does not parse contributes itself only: the command reports why it fails.
pub(crate) fn inputs_of(run: Option<&Path>, profiles: Option<&Path>) -> Vec<std::path::PathBuf> {
    let mut inputs = Vec::new();
    if let Some(run) = run {
        inputs.push(run.to_path_buf());
        if let Ok(spec) = crate::runfile::load(run) {
            inputs.extend(spec.measured.as_ref().map(|m| m.path.clone()));
            inputs.extend(spec.site.intensity_series.as_ref().map(|(_, p)| p.clone()));
        }
    }
    if let Some(dir) = profiles
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        inputs.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml")),
        );
    }
    inputs
}

/// The embedded profiles, with the user's directory (`--profiles`) merged over them.
pub(crate) fn registry(profiles: Option<&Path>) -> Result<Registry, InputError> {
    Registry::with_user_dir(profiles)
}
