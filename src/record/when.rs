//! What `footprint when` found: the run's best start in an intensity series, the next best
//! that does not overlap it, now and the worst, each with its CO2e range. Plain data, rendered
//! by `report::when`.

use serde::Serialize;

use super::estimate::JsonBand;

/// One start time and what the run emits if it starts then.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct WhenRow {
    /// `best`, `next best`, `now` or `worst`.
    pub(crate) pick: &'static str,
    pub(crate) start_unix_s: f64,
    /// `2024-06-03 14:00` (UTC).
    pub(crate) start_utc: String,
    /// The mean intensity over the central run's window.
    pub(crate) mean_g_per_kwh: f64,
    /// Operational CO2e at the run's low, central and high ends.
    pub(crate) co2e_kg: JsonBand,
    /// Of the longest window, the share the series covers (the rest at the annual figure).
    pub(crate) covered: f64,
}

/// A planned run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct WhenPlan {
    pub(crate) schema_version: u32,
    pub(crate) command: &'static str,
    pub(crate) name: String,
    /// What the series is (format, zone, basis, step) and where it came from.
    pub(crate) series: String,
    pub(crate) series_file: String,
    pub(crate) series_start_utc: String,
    pub(crate) series_end_utc: String,
    pub(crate) now_utc: String,
    pub(crate) within_hours: f64,
    pub(crate) step_minutes: f64,
    pub(crate) starts_compared: usize,
    /// The run's wall-clock time and facility energy (the estimate's primary model).
    pub(crate) duration_hours: JsonBand,
    pub(crate) energy_kwh: JsonBand,
    /// The annual-average figure the estimate gives, for comparison.
    pub(crate) annual_average_co2e_kg: JsonBand,
    pub(crate) annual_g_per_kwh: f64,
    pub(crate) starts: Vec<WhenRow>,
    /// The best start against starting now, in % of now's central CO2e (negative: less).
    pub(crate) best_vs_now_percent: Option<f64>,
    pub(crate) notes: Vec<String>,
}
