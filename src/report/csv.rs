//! CSV: one row per model, every figure in the unit of its column name, low/central/high.

use super::{Exporter, Report};
use crate::record::Field;
use crate::text::csv_field;

pub(crate) struct CsvExporter;

fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{}", crate::record::tidy(v)))
        .unwrap_or_default()
}

impl Exporter for CsvExporter {
    fn render(&self, report: &Report) -> anyhow::Result<String> {
        let primary = report.primary();
        let mut header = vec![
            "name".to_string(),
            "model".to_string(),
            "primary".to_string(),
        ];
        for f in Field::csv_columns() {
            header.push(format!("{}_low", f.key()));
            header.push(f.key().to_string());
            header.push(format!("{}_high", f.key()));
        }
        let mut out = header.join(",");
        out.push('\n');
        for e in &report.estimates {
            let mut row = vec![
                csv_field(&report.name),
                e.kind.as_str().to_string(),
                (Some(e.kind) == primary).to_string(),
            ];
            for f in Field::csv_columns() {
                let b = f.band(e);
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
