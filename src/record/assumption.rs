//! An input the run file did not give, the value used instead, and where it came from. Chosen
//! by `scenario`, rendered by `report`.

use serde::Serialize;

/// Where an assumed value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    /// Chosen by footprint because the run file does not say.
    Default,
    /// Taken from a hardware, grid or cloud profile.
    Profile,
    /// Taken from a measurement report, read from hardware.
    Measured,
    /// Taken from a measurement report whose energy is modelled (the CPU-time model).
    Modelled,
}

impl Origin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::Profile => "profile",
            Origin::Measured => "measured",
            Origin::Modelled => "modelled",
        }
    }
}

/// The value an assumption stands for: a count, a number or a range. Serialised as a JSON
/// number, or an object with `central`, `high` and `low`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum AssumedValue {
    Count(u64),
    Number(#[serde(serialize_with = "tidy_f64")] f64),
    // Keys in this order: the order reports have always written them in.
    Range {
        #[serde(serialize_with = "tidy_f64")]
        central: f64,
        #[serde(serialize_with = "tidy_f64")]
        high: f64,
        #[serde(serialize_with = "tidy_f64")]
        low: f64,
    },
}

fn tidy_f64<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(crate::record::tidy(*x))
}

impl AssumedValue {
    /// The number, or the central value of a range.
    pub(crate) fn central(self) -> f64 {
        match self {
            AssumedValue::Count(n) => n as f64,
            AssumedValue::Number(x) => x,
            AssumedValue::Range { central, .. } => central,
        }
    }
}

/// An input the run file did not give, and what was used instead.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Assumption {
    pub(crate) input: String,
    pub(crate) value: AssumedValue,
    pub(crate) unit: Option<&'static str>,
    pub(crate) source: Origin,
    /// The citation, or why this default.
    pub(crate) reference: String,
}

/// One default behind an input, for `footprint explain`: when it applies, its range, and the
/// evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct ExplainedDefault {
    pub(crate) when: String,
    pub(crate) low: f64,
    pub(crate) central: f64,
    pub(crate) high: f64,
    /// The values multiply another figure (a TDP, a grid's intensity, a dense default).
    pub(crate) multiplier: bool,
    pub(crate) basis: String,
}

/// Every default behind one run-file input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Explanation {
    pub(crate) key: String,
    pub(crate) defaults: Vec<ExplainedDefault>,
}
