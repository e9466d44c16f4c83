//! What `footprint validate` found: each published figure beside the estimate, per case, and
//! what the cases say together. Plain data, rendered by `report::validation`.

use crate::record::Field;

/// A published figure against the estimate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FigureCheck {
    pub(crate) field: Field,
    pub(crate) published: f64,
    pub(crate) low: f64,
    pub(crate) central: f64,
    pub(crate) high: f64,
    /// Reproduction tolerance; `None` for a prediction (the range must hold the figure).
    pub(crate) tolerance: Option<f64>,
    pub(crate) pass: bool,
}

/// One published case, estimated and compared.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CaseCheck {
    pub(crate) name: String,
    pub(crate) file: String,
    pub(crate) model: Option<crate::impact::ModelKind>,
    pub(crate) source: Option<String>,
    pub(crate) figures: Vec<FigureCheck>,
}

/// What a set of cases says: predictions' coverage and width, reproductions' pass rate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ValidationSummary {
    pub(crate) prediction_figures: usize,
    pub(crate) prediction_inside: usize,
    /// Median of high ÷ low over prediction figures.
    pub(crate) median_width: Option<f64>,
    /// Median of |central − published| ÷ published over prediction figures.
    pub(crate) median_error: Option<f64>,
    pub(crate) reproduction_figures: usize,
    pub(crate) reproduction_within: usize,
}
