//! JSON output, schema 1 (RUN-FORMAT.md). Field names here are a contract: add, never rename.

use serde::Serialize;

use super::{Exporter, Report};
use crate::budget::Verdict;
use crate::impact::{Band, Estimate, ModelKind};
use crate::scenario::Assumption;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
pub struct JsonBand {
    pub low: f64,
    pub central: f64,
    pub high: f64,
}

impl JsonBand {
    fn of<T>(b: Band<T>, f: impl Fn(T) -> f64) -> JsonBand {
        JsonBand {
            low: f(b.low),
            central: f(b.central),
            high: f(b.high),
        }
    }
}

#[derive(Serialize, Debug)]
pub struct JsonEstimate {
    pub model: ModelKind,
    /// Central device-hours; null for the per-sample model.
    pub device_hours: Option<f64>,
    /// Facility energy (× PUE).
    pub energy_kwh: JsonBand,
    pub it_energy_kwh: JsonBand,
    /// Operational + embodied.
    pub co2e_kg: JsonBand,
    pub operational_co2e_kg: JsonBand,
    pub embodied_co2e_kg: JsonBand,
    /// Compute cost, else energy cost; null when no price is known.
    pub cost_usd: Option<JsonBand>,
    // Added to schema 1 (fields may be added):
    pub device_hours_range: Option<JsonBand>,
    pub wall_clock_hours: Option<JsonBand>,
    pub flops: Option<JsonBand>,
    pub compute_cost_usd: Option<JsonBand>,
    pub energy_cost_usd: Option<JsonBand>,
    pub carbon_cost_usd: Option<JsonBand>,
}

impl From<&Estimate> for JsonEstimate {
    fn from(e: &Estimate) -> Self {
        let money = |f: fn(&crate::impact::Outputs) -> Option<crate::units::Money>| {
            e.opt_band(f).map(|b| JsonBand::of(b, |m| m.usd()))
        };
        JsonEstimate {
            model: e.kind,
            device_hours: e.central.device_time.map(|t| t.hours()),
            energy_kwh: JsonBand::of(e.band(|o| o.energy), |x| x.kwh()),
            it_energy_kwh: JsonBand::of(e.band(|o| o.it_energy), |x| x.kwh()),
            co2e_kg: JsonBand::of(e.band(|o| o.co2e), |x| x.kg()),
            operational_co2e_kg: JsonBand::of(e.band(|o| o.operational), |x| x.kg()),
            embodied_co2e_kg: JsonBand::of(e.band(|o| o.embodied), |x| x.kg()),
            cost_usd: money(|o| o.cost),
            device_hours_range: e
                .opt_band(|o| o.device_time)
                .map(|b| JsonBand::of(b, |t| t.hours())),
            wall_clock_hours: e
                .opt_band(|o| o.wall_time)
                .map(|b| JsonBand::of(b, |t| t.hours())),
            flops: e
                .opt_band(|o| o.flops)
                .map(|b| JsonBand::of(b, |f| f.count())),
            compute_cost_usd: money(|o| o.compute_cost),
            energy_cost_usd: money(|o| o.energy_cost),
            carbon_cost_usd: money(|o| o.carbon_cost),
        }
    }
}

/// The whole JSON document.
#[derive(Serialize, Debug)]
pub struct JsonReport<'a> {
    pub schema_version: u32,
    pub name: &'a str,
    pub primary: Option<ModelKind>,
    pub estimates: Vec<JsonEstimate>,
    pub assumptions: &'a [Assumption],
    pub budget: Option<&'a Verdict>,
    // Added to schema 1:
    pub command: &'a str,
    pub description: Option<&'a str>,
    pub notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measurement: Option<&'a serde_json::Value>,
}

impl<'a> JsonReport<'a> {
    pub fn new(r: &'a Report) -> Self {
        JsonReport {
            schema_version: SCHEMA_VERSION,
            name: &r.name,
            primary: r.primary(),
            estimates: r.estimates.iter().map(JsonEstimate::from).collect(),
            assumptions: &r.assumptions,
            budget: r.budget.as_ref(),
            command: r.command,
            description: r.description.as_deref(),
            notes: &r.notes,
            measurement: r.measurement.as_ref(),
        }
    }
}

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn render(&self, report: &Report) -> anyhow::Result<String> {
        let mut s = serde_json::to_string_pretty(&JsonReport::new(report))?;
        s.push('\n');
        Ok(s)
    }
}
