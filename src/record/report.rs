//! Everything a report can say: the estimates, the assumptions behind them, notes, a budget's
//! verdict and the measurement. Assembled by `app`, rendered by `report`.

use super::{Assumption, Measurement, Verdict};
use crate::impact::{Estimate, ModelKind};

/// Which command a report comes from; it decides what the report leads with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReportKind {
    Estimate,
    Check,
    Measure,
}

impl ReportKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReportKind::Estimate => "estimate",
            ReportKind::Check => "check",
            ReportKind::Measure => "measure",
        }
    }
}

/// Everything a report can say.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    /// What produced it.
    pub(crate) kind: ReportKind,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// Estimates, in priority order (the first is the primary).
    pub(crate) estimates: Vec<Estimate>,
    pub(crate) assumptions: Vec<Assumption>,
    pub(crate) notes: Vec<String>,
    pub(crate) budget: Option<Verdict>,
    /// What was measured (`footprint measure`, or a measurement report checked).
    pub(crate) measurement: Option<Measurement>,
    /// The estimates are of the measured window itself (`measure` without `--run`): they say
    /// what the measurement says, so the terminal leaves them to the summary line.
    pub(crate) window_only: bool,
}

impl Report {
    /// The model budgets use: the first of measured, duration, compute, per-sample.
    pub(crate) fn primary(&self) -> Option<ModelKind> {
        crate::impact::primary(&self.estimates).map(|e| e.kind)
    }
}
