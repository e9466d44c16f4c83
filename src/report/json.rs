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

/// Reads back one estimate of a JSON report (for `footprint check` on a measurement report).
pub fn estimate_from_json(v: &serde_json::Value) -> Result<Estimate, String> {
    use crate::impact::Outputs;
    use crate::units::{Duration, Energy, Flops, Mass, Money};
    let model = match v.get("model").and_then(|m| m.as_str()) {
        Some("measured") => ModelKind::Measured,
        Some("duration") => ModelKind::Duration,
        Some("compute") => ModelKind::Compute,
        Some("per_sample") => ModelKind::PerSample,
        other => return Err(format!("unknown model {other:?}")),
    };
    let band = |k: &str| -> Result<Option<[f64; 3]>, String> {
        match v.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(b) => {
                let part = |p: &str| {
                    b.get(p)
                        .and_then(|x| x.as_f64())
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("{k}.{p} is not a number"))
                };
                Ok(Some([part("low")?, part("central")?, part("high")?]))
            }
        }
    };
    let need = |k: &str| band(k)?.ok_or_else(|| format!("missing {k}"));
    let (energy, it, co2e, op, emb) = (
        need("energy_kwh")?,
        need("it_energy_kwh")?,
        need("co2e_kg")?,
        need("operational_co2e_kg")?,
        need("embodied_co2e_kg")?,
    );
    let (dh, wall, flops) = (
        band("device_hours_range")?,
        band("wall_clock_hours")?,
        band("flops")?,
    );
    let (cost, cc, ec, kc) = (
        band("cost_usd")?,
        band("compute_cost_usd")?,
        band("energy_cost_usd")?,
        band("carbon_cost_usd")?,
    );
    let at = |i: usize| Outputs {
        device_time: dh.map(|b| Duration::from_hours(b[i])),
        wall_time: wall.map(|b| Duration::from_hours(b[i])),
        flops: flops.map(|b| Flops::from_count(b[i])),
        it_energy: Energy::from_kwh(it[i]),
        energy: Energy::from_kwh(energy[i]),
        operational: Mass::from_kg(op[i]),
        embodied: Mass::from_kg(emb[i]),
        co2e: Mass::from_kg(co2e[i]),
        compute_cost: cc.map(|b| Money::from_usd(b[i])),
        energy_cost: ec.map(|b| Money::from_usd(b[i])),
        carbon_cost: kc.map(|b| Money::from_usd(b[i])),
        cost: cost.map(|b| Money::from_usd(b[i])),
    };
    Ok(Estimate {
        kind: model,
        low: at(0),
        central: at(1),
        high: at(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_round_trip() {
        let spec = crate::spec::parse(
            "[hardware]\ndevice = \"A100\"\nhours = [10, 20]\n[site]\nregion = \"FR\"\n",
            "r.toml",
            std::path::Path::new("."),
        )
        .unwrap();
        let built =
            crate::scenario::build(&spec, &crate::profiles::Registry::embedded(), None).unwrap();
        let est = crate::impact::evaluate(&built.scenario);
        let v = serde_json::to_value(JsonEstimate::from(&est[0])).unwrap();
        let back = estimate_from_json(&v).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1e-300);
        assert_eq!(back.kind, est[0].kind);
        assert!(close(back.high.co2e.kg(), est[0].high.co2e.kg()));
        assert!(close(back.low.energy.kwh(), est[0].low.energy.kwh()));
        assert!(close(
            back.central.cost.unwrap().usd(),
            est[0].central.cost.unwrap().usd()
        ));
        assert!(estimate_from_json(&serde_json::json!({"model": "x"})).is_err());
    }
}
