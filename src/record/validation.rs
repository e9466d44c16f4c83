//! What `footprint validate` found: each published figure beside the estimate, per case, and
//! what the cases say together. Plain data, rendered by `report::validation`.

use crate::record::Field;

/// A published figure against the estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureCheck {
    pub field: Field,
    pub published: f64,
    pub low: f64,
    pub central: f64,
    pub high: f64,
    /// Reproduction tolerance; `None` for a prediction (the range must hold the figure).
    pub tolerance: Option<f64>,
    pub pass: bool,
}

/// One published case, estimated and compared.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseCheck {
    pub name: String,
    pub file: String,
    pub model: Option<crate::impact::ModelKind>,
    pub source: Option<String>,
    pub figures: Vec<FigureCheck>,
}

/// What a set of cases says: predictions' coverage and width, reproductions' pass rate.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationSummary {
    pub prediction_figures: usize,
    pub prediction_inside: usize,
    /// Median of high ÷ low over prediction figures.
    pub median_width: Option<f64>,
    /// Median of |central − published| ÷ published over prediction figures.
    pub median_error: Option<f64>,
    pub reproduction_figures: usize,
    pub reproduction_within: usize,
}
