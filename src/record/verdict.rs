//! A budget's verdict: each limit against its figure. Plain data, decided by `budget::check`
//! and rendered by `report`.

use serde::Serialize;

use crate::impact::ModelKind;

/// Which end of a range a check used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Basis {
    Central,
    High,
}

/// What a limit limits. Serialised as the JSON field of the estimate it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Metric {
    #[serde(rename = "co2e_kg")]
    Co2e,
    #[serde(rename = "energy_kwh")]
    Energy,
    #[serde(rename = "cost_usd")]
    Cost,
}

impl Metric {
    /// The estimate field it checks, whose unit `limit` and `value` are in.
    pub(crate) fn field(self) -> crate::record::Field {
        use crate::record::Field;
        match self {
            Metric::Co2e => Field::Co2e,
            Metric::Energy => Field::Energy,
            Metric::Cost => Field::Cost,
        }
    }

    /// What it is, for people.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Metric::Co2e => "CO2e",
            Metric::Energy => "energy",
            Metric::Cost => "cost",
        }
    }
}

/// One limit against one figure; `limit` and `value` are in the unit of the metric's field
/// (kg, kWh, USD).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Check {
    pub(crate) metric: Metric,
    pub(crate) limit: f64,
    pub(crate) value: f64,
    pub(crate) ok: bool,
    /// How far over the limit (0 when within), in the same unit.
    pub(crate) excess: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Verdict {
    pub(crate) ok: bool,
    pub(crate) checks: Vec<Check>,
    /// The model whose figures were checked.
    pub(crate) model: ModelKind,
    pub(crate) basis: Basis,
}
