//! What `footprint sweep` found: one row per option, with the run's primary estimate. Plain
//! data, rendered by `report::sweep`.

use crate::impact::{Estimate, ModelKind};

/// One option: the values it set, and the run's primary estimate with them.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub device: Option<String>,
    pub region: Option<String>,
    pub count: Option<u64>,
    pub utilization: Option<f64>,
    pub pue: Option<f64>,
    pub epochs: Option<f64>,
    pub price: Option<f64>,
    pub model: ModelKind,
    pub estimate: Estimate,
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub name: String,
    pub rows: Vec<Row>,
    /// What the reader should know about the ranking (a device ranked without evidence).
    pub notes: Vec<String>,
}
