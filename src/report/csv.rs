//! CSV: one row per model, every figure in the unit of its column name, low/central/high.

use super::json::JsonEstimate;
use super::{Exporter, Report};

pub struct CsvExporter;

/// Quotes a field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

impl Exporter for CsvExporter {
    fn render(&self, report: &Report) -> anyhow::Result<String> {
        let primary = report.primary();
        let banded = [
            "energy_kwh",
            "it_energy_kwh",
            "co2e_kg",
            "operational_co2e_kg",
            "embodied_co2e_kg",
            "cost_usd",
            "compute_cost_usd",
            "energy_cost_usd",
            "carbon_cost_usd",
            "device_hours",
            "wall_clock_hours",
        ];
        let mut header = vec![
            "name".to_string(),
            "model".to_string(),
            "primary".to_string(),
        ];
        for b in banded {
            header.push(format!("{b}_low"));
            header.push(b.to_string());
            header.push(format!("{b}_high"));
        }
        let mut out = header.join(",");
        out.push('\n');
        for e in &report.estimates {
            let j = JsonEstimate::from(e);
            let bands = [
                Some(j.energy_kwh),
                Some(j.it_energy_kwh),
                Some(j.co2e_kg),
                Some(j.operational_co2e_kg),
                Some(j.embodied_co2e_kg),
                j.cost_usd,
                j.compute_cost_usd,
                j.energy_cost_usd,
                j.carbon_cost_usd,
                j.device_hours_range,
                j.wall_clock_hours,
            ];
            let mut row = vec![
                field(&report.name),
                e.kind.as_str().to_string(),
                (Some(e.kind) == primary).to_string(),
            ];
            for b in bands {
                row.push(num(b.map(|b| b.low)));
                row.push(num(b.map(|b| b.central)));
                row.push(num(b.map(|b| b.high)));
            }
            out.push_str(&row.join(","));
            out.push('\n');
        }
        Ok(out)
    }
}
