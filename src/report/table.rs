//! The table for people: figures per model, then the assumptions behind them.

use comfy_table::CellAlignment;

use super::{Exporter, Report, ReportKind, assumption_value, figure_rows, verdict_lines};

pub(crate) struct TableExporter;

use super::new_table;

impl Exporter for TableExporter {
    fn render(&self, r: &Report) -> anyhow::Result<String> {
        let mut out = format!("footprint {}: {}\n", r.kind.as_str(), r.name);
        if let Some(d) = &r.description {
            out.push_str(d);
            out.push('\n');
        }
        if r.kind == ReportKind::Check {
            out.push_str(&budget(r));
            out.push('\n');
        }
        if let Some(m) = &r.measurement {
            out.push_str(&super::measurement::people(m));
            if !r.estimates.is_empty() {
                out.push_str("\nWhat that means for the run:\n");
            }
        }
        if !r.estimates.is_empty() {
            let primary = r.primary();
            let mut t = new_table();
            let (header, rows) = figure_rows(&r.estimates, " *");
            t.set_header(header);
            for row in rows {
                t.add_row(row);
            }
            for i in 1..t.column_count() {
                if let Some(c) = t.column_mut(i) {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
            out.push_str(&t.to_string());
            out.push('\n');
            if r.estimates.len() > 1
                && let Some(p) = primary
            {
                out.push_str(&format!(
                    "* primary model (budgets use it): {}\n",
                    p.as_str().replace('_', "-")
                ));
            }
        }
        if !r.assumptions.is_empty() {
            out.push_str("\nAssumptions (inputs the run file did not give):\n");
            let mut t = new_table();
            t.set_header(vec!["Input", "Value", "Source"]);
            for a in &r.assumptions {
                let source = format!("{}: {}", a.source.as_str(), a.reference);
                t.add_row(vec![a.input.clone(), assumption_value(a), source]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
        }
        if !r.notes.is_empty() {
            out.push_str("\nNotes:\n");
            for n in &r.notes {
                out.push_str(&format!("  - {n}\n"));
            }
        }
        if r.kind != ReportKind::Check {
            out.push_str(&budget(r));
        }
        Ok(out)
    }
}

/// The budget verdict, when the report has one.
fn budget(r: &Report) -> String {
    let mut out = String::new();
    if let Some(v) = &r.budget {
        let basis = match v.basis {
            crate::record::Basis::Central => "central figures",
            crate::record::Basis::High => "high end of each range (--strict)",
        };
        out.push_str(&format!(
            "\nBudget ({} model, {basis}): {}\n",
            v.model.as_str().replace('_', "-"),
            if v.ok { "PASS" } else { "FAIL" }
        ));
        let mut t = new_table();
        t.set_header(vec!["Limit", "Result"]);
        for (line, ok) in verdict_lines(v) {
            t.add_row(vec![line, if ok { "pass".into() } else { "FAIL".into() }]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out
}
