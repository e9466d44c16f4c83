//! The table for people: figures per model, then the assumptions behind them.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::{Exporter, Report, assumption_value, is_ranged, rows, verdict_lines};

pub struct TableExporter;

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

impl Exporter for TableExporter {
    fn render(&self, r: &Report) -> anyhow::Result<String> {
        let mut out = format!("footprint {}: {}\n", r.command, r.name);
        if let Some(d) = &r.description {
            out.push_str(d);
            out.push('\n');
        }
        if r.command == "check" {
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
            let mut header = vec!["".to_string()];
            let mut ranged = Vec::new();
            for e in &r.estimates {
                let mut name = e.kind.as_str().replace('_', "-");
                if r.estimates.len() > 1 && Some(e.kind) == primary {
                    name.push_str(" *");
                }
                let rg = is_ranged(e);
                ranged.push(rg);
                if rg {
                    header.push(format!("{name} low"));
                    header.push(name);
                    header.push("high".to_string());
                } else {
                    header.push(name);
                }
            }
            t.set_header(header);
            for row in rows(&r.estimates) {
                let mut cells = vec![row.label.to_string()];
                for (cell, rg) in row.cells.iter().zip(&ranged) {
                    match (cell, rg) {
                        (Some([l, c, h]), true) => cells.extend([l.clone(), c.clone(), h.clone()]),
                        (Some([_, c, _]), false) => cells.push(c.clone()),
                        (None, true) => cells.extend(["—".into(), "—".into(), "—".into()]),
                        (None, false) => cells.push("—".into()),
                    }
                }
                t.add_row(cells);
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
                let source = match a.source {
                    crate::scenario::Origin::Default => format!("default: {}", a.reference),
                    crate::scenario::Origin::Profile => format!("profile: {}", a.reference),
                    crate::scenario::Origin::Measured => format!("measured: {}", a.reference),
                    crate::scenario::Origin::Modelled => format!("modelled: {}", a.reference),
                };
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
        if r.command != "check" {
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
            crate::budget::Basis::Central => "central figures",
            crate::budget::Basis::High => "high end of each range (--strict)",
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
