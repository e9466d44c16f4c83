//! Rendering results: one exporter per format behind one trait.
//!
//! A [`Report`] is what a command has to say (estimates, assumptions, a budget verdict, a
//! measurement); an [`Exporter`] turns it into text. Tables and Markdown are for people and
//! may change; JSON (schema 1 of RUN-FORMAT.md) and CSV are for machines and only grow.

mod csv;
mod json;
mod junit;
mod markdown;
mod measurement;
pub mod profiles;
mod table;

use serde::Serialize;

use crate::budget::Verdict;
use crate::impact::{Estimate, ModelKind};
use crate::scenario::Assumption;

pub use json::{JsonReport, SCHEMA_VERSION, estimate_from_json};

/// Everything a report can say.
#[derive(Clone, Debug)]
pub struct Report {
    /// What produced it: "estimate", "check", "measure".
    pub command: &'static str,
    pub name: String,
    pub description: Option<String>,
    /// Estimates, in priority order (the first is the primary).
    pub estimates: Vec<Estimate>,
    pub assumptions: Vec<Assumption>,
    pub notes: Vec<String>,
    pub budget: Option<Verdict>,
    /// A measurement summary (`footprint measure`), already in its JSON form.
    pub measurement: Option<serde_json::Value>,
}

impl Report {
    /// The model budgets use: the first of measured, duration, compute, per-sample.
    pub fn primary(&self) -> Option<ModelKind> {
        crate::impact::primary(&self.estimates).map(|e| e.kind)
    }
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Aligned table for people (default).
    Table,
    /// JSON, schema 1 of RUN-FORMAT.md.
    Json,
    /// CSV, one row per model.
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// JUnit XML, one test case per budget limit (check only).
    Junit,
}

/// Renders a report in one format.
pub trait Exporter {
    fn render(&self, report: &Report) -> anyhow::Result<String>;
}

pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(table::TableExporter),
        Format::Json => Box::new(json::JsonExporter),
        Format::Csv => Box::new(csv::CsvExporter),
        Format::Markdown => Box::new(markdown::MarkdownExporter),
        Format::Junit => Box::new(junit::JunitExporter),
    }
}

/// The figures people see, shared by the table and the Markdown exporters: a header and
/// rows of text, one column per model, or three (low, central, high) for a model whose figures
/// have a range. `primary_mark` is appended to the primary model's name when there are several.
pub(crate) fn grid(estimates: &[Estimate], primary_mark: &str) -> (Vec<String>, Vec<Vec<String>>) {
    use crate::units::{human_duration, human_energy, human_mass, human_money, sig4};
    type Cell = fn(&crate::impact::Outputs) -> Option<String>;
    let metrics: [(&'static str, Cell); 12] = [
        ("Device-hours", |o| {
            o.device_time.map(|t| format!("{} h", sig4(t.hours())))
        }),
        ("Wall-clock time", |o| o.wall_time.map(human_duration)),
        ("Training FLOPs", |o| {
            o.flops.map(|f| format!("{:.3e}", f.count()))
        }),
        ("IT energy", |o| Some(human_energy(o.it_energy))),
        ("Energy (× PUE)", |o| Some(human_energy(o.energy))),
        ("Operational CO2e", |o| Some(human_mass(o.operational))),
        ("Embodied CO2e", |o| Some(human_mass(o.embodied))),
        ("Total CO2e", |o| Some(human_mass(o.co2e))),
        ("Compute cost", |o| o.compute_cost.map(human_money)),
        ("Energy cost", |o| o.energy_cost.map(human_money)),
        ("Carbon cost", |o| o.carbon_cost.map(human_money)),
        ("Cost", |o| o.cost.map(human_money)),
    ];
    let primary = crate::impact::primary(estimates).map(|e| e.kind);
    // A model's figures differ between low and high: then it gets three columns.
    let ranged: Vec<bool> = estimates.iter().map(|e| e.low != e.high).collect();
    let mut header = vec![String::new()];
    for (e, &rg) in estimates.iter().zip(&ranged) {
        let mut name = e.kind.as_str().replace('_', "-");
        if estimates.len() > 1 && Some(e.kind) == primary {
            name.push_str(primary_mark);
        }
        if rg {
            header.extend([format!("{name} low"), name, "high".to_string()]);
        } else {
            header.push(name);
        }
    }
    // Embodied emissions are only counted when the run asks for them; a row of zeros would
    // read as "none", so the row is left out and the report's notes say why.
    let embodied_counted = estimates.iter().any(|e| e.high.embodied.raw() > 0.0);
    let rows = metrics
        .iter()
        .filter(|(label, _)| *label != "Embodied CO2e" || embodied_counted)
        .filter(|(_, f)| estimates.iter().any(|e| f(&e.central).is_some()))
        .map(|(label, f)| {
            let mut cells = vec![label.to_string()];
            for (e, &rg) in estimates.iter().zip(&ranged) {
                let dash = || "—".to_string();
                if rg {
                    cells.extend(
                        [f(&e.low), f(&e.central), f(&e.high)].map(|c| c.unwrap_or_else(dash)),
                    );
                } else {
                    cells.push(f(&e.central).unwrap_or_else(dash));
                }
            }
            cells
        })
        .collect();
    (header, rows)
}

/// A JSON value as people read it in the assumptions list.
pub(crate) fn assumption_value(a: &Assumption) -> String {
    if a.unit == Some("FLOP/s")
        && let Some(x) = a.value.as_f64()
    {
        return crate::units::human_flop_rate(crate::units::FlopRate::from_flop_per_s(x));
    }
    let unit = a.unit.map(|u| format!(" {u}")).unwrap_or_default();
    let num = |v: &serde_json::Value| v.as_f64().map(crate::units::sig4);
    match &a.value {
        serde_json::Value::Object(m) => match (m.get("low"), m.get("central"), m.get("high")) {
            (Some(l), Some(c), Some(h)) => format!(
                "{} ({} – {}){unit}",
                num(c).unwrap_or_default(),
                num(l).unwrap_or_default(),
                num(h).unwrap_or_default()
            ),
            _ => a.value.to_string(),
        },
        v => match num(v) {
            Some(s) => format!("{s}{unit}"),
            None => format!(
                "{}{unit}",
                v.as_str().map_or_else(|| v.to_string(), String::from)
            ),
        },
    }
}

/// A verdict's lines for people: "co2e_kg: 553.1 t > limit 500 t (over by 53.1 t)".
pub fn verdict_lines(v: &Verdict) -> Vec<(String, bool)> {
    use crate::units::{Energy, Mass, Money, human_energy, human_mass, human_money};
    v.checks
        .iter()
        .map(|c| {
            let fmt = |x: f64| match c.metric {
                "co2e_kg" => human_mass(Mass::from_kg(x)),
                "energy_kwh" => human_energy(Energy::from_kwh(x)),
                _ => human_money(Money::from_usd(x)),
            };
            let what = match c.metric {
                "co2e_kg" => "CO2e",
                "energy_kwh" => "energy",
                _ => "cost",
            };
            let line = if c.ok {
                format!("{what} {} ≤ limit {}", fmt(c.value), fmt(c.limit))
            } else {
                format!(
                    "{what} {} > limit {} (over by {})",
                    fmt(c.value),
                    fmt(c.limit),
                    fmt(c.excess)
                )
            };
            (line, c.ok)
        })
        .collect()
}
