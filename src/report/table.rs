//! The table for people: figures per model, then the assumptions behind them.

use comfy_table::CellAlignment;

use crate::record::Field;

use super::{Exporter, Report, ReportKind, assumption_value, figure_rows, verdict_lines};

/// The table exporter; `explain` prints each assumption's sources in full (`--explain`),
/// otherwise a short basis, so that the answer fits a screen.
pub(crate) struct TableExporter {
    pub(crate) explain: bool,
}

/// At most this many characters of an assumption's basis (with its origin) are shown without
/// `--explain`.
const SHORT_BASIS: usize = 40;

/// The short form of an assumption's basis: where it comes from (`default`, `profile`, ...)
/// and the first clause of its reference, cut at a word boundary.
fn short_basis(origin: &str, reference: &str) -> String {
    let room = SHORT_BASIS.saturating_sub(origin.chars().count() + 2);
    // Up to the first ": ", ";", " (" or ", " (a cloud region's own colon, `aws:eu-west-3`,
    // stays): references lead with what they are, then the detail.
    let end = [": ", ";", " (", ", "]
        .map(|sep| reference.find(sep))
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(reference.len());
    let first = reference[..end].trim();
    let mut out = String::new();
    for word in first.split_whitespace() {
        if out.chars().count() + word.chars().count() + 2 > room {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    format!("{origin}: {out}")
}

/// `text` wrapped at word boundaries to `width` columns (when known), each line after the
/// first indented by `indent`.
fn wrap(text: &str, width: Option<usize>, indent: &str) -> String {
    let Some(width) = width.filter(|w| *w >= 40) else {
        return text.to_string();
    };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let room = width - if lines.is_empty() { 0 } else { indent.len() };
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join(&format!("\n{indent}"))
}

/// One assumption on one line, `key = value (low–high)  basis`, the basis on a line of its own
/// when the terminal is too narrow for both.
fn assumption_line(a: &crate::record::Assumption) -> String {
    let value = short_value(a);
    let basis = short_basis(a.source.as_str(), &a.reference);
    let head = format!("  {} = {value}", a.input);
    let fits = super::terminal_width()
        .is_none_or(|w| head.chars().count() + 2 + basis.chars().count() <= w);
    if fits {
        format!("{head}  {basis}\n")
    } else {
        format!("{head}\n      {basis}\n")
    }
}

/// An assumed value in the unit its key names (`power_w`, `carbon_intensity_g_per_kwh`), so
/// without the unit, except a peak rate, which reads better scaled (`989 TFLOP/s`).
fn short_value(a: &crate::record::Assumption) -> String {
    use crate::record::AssumedValue;
    let num = crate::units::sig4;
    match a.value {
        _ if a.unit == Some("FLOP/s") => assumption_value(a),
        AssumedValue::Range { low, central, high } => {
            format!("{} ({}–{})", num(central), num(low), num(high))
        }
        AssumedValue::Count(n) => num(n as f64),
        AssumedValue::Number(x) => num(x),
    }
}

/// A range of human figures, its unit written once when both ends share it (`15.4–53.5 kg`).
pub(super) fn compact_range(low: &str, high: &str) -> String {
    match (low.rsplit_once(' '), high.rsplit_once(' ')) {
        (Some((l, lu)), Some((h, hu))) if lu == hu => format!("{l}–{h} {hu}"),
        _ => format!("{low} – {high}"),
    }
}

/// `text` as lines indented by `indent`, wrapped at word boundaries to the terminal's width
/// (when known).
pub(super) fn wrapped(text: &str, indent: &str) -> String {
    let width = super::terminal_width().map(|w| w.saturating_sub(indent.len()));
    format!("{indent}{}\n", wrap(text, width, indent))
}

/// A note as a list item, wrapped at word boundaries to the terminal's width (when known).
pub(super) fn note_line(note: &str) -> String {
    let width = super::terminal_width();
    format!(
        "  - {}\n",
        wrap(note, width.map(|w| w.saturating_sub(4)), "    ")
    )
}

/// One line a person can paste: the primary model's CO2e with its range, energy, cost, time.
fn summary_line(r: &Report) -> Option<String> {
    use crate::record::Field;
    let e = crate::impact::primary(&r.estimates)?;
    let mut parts = Vec::new();
    if let Some(c) = Field::Co2e.human(&e.central) {
        let range = match (Field::Co2e.human(&e.low), Field::Co2e.human(&e.high)) {
            (Some(l), Some(h)) if l != h => format!(" ({})", compact_range(&l, &h)),
            _ => String::new(),
        };
        parts.push(format!("≈ {c} CO2e{range}"));
    }
    for f in [Field::Energy, Field::Cost, Field::WallClock] {
        if let Some(v) = f.human(&e.central) {
            parts.push(v);
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "{} ({} model)",
            parts.join(", "),
            e.kind.as_str().replace('_', "-")
        )
    })
}

use super::new_table;

impl Exporter for TableExporter {
    fn render(&self, r: &Report) -> anyhow::Result<String> {
        let mut out = format!("footprint {}: {}\n", r.kind.as_str(), r.name);
        // The measured window alone: its estimate repeats the measurement, and the summary
        // line gives its CO2e; --explain shows the table and every assumption.
        let brief_window = r.window_only && !self.explain;
        if let Some(d) = &r.description {
            out.push_str(d);
            out.push('\n');
        }
        if r.kind == ReportKind::Check {
            out.push_str(&budget(r));
            out.push('\n');
        }
        if let Some(m) = &r.measurement {
            out.push_str(&super::measurement::people(m, self.explain));
            if !r.estimates.is_empty() && !brief_window {
                out.push_str("\nWhat that means for the run:\n");
            }
        }
        if !r.estimates.is_empty() && !brief_window {
            let primary = r.primary();
            let mut t = new_table();
            let (header, rows) = figure_rows(
                &r.estimates,
                " *",
                if self.explain { &[] } else { &Field::DETAIL },
            );
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
        let assumptions: Vec<&crate::record::Assumption> = r
            .assumptions
            .iter()
            .filter(|a| {
                use crate::record::Origin;
                // The measurement's own figures, which its table above already gives.
                !(brief_window && matches!(a.source, Origin::Measured | Origin::Modelled))
            })
            .collect();
        if !assumptions.is_empty() {
            if self.explain {
                out.push_str("\nAssumptions (inputs the run file did not give):\n");
                let mut t = new_table();
                t.set_header(vec!["Input", "Value", "Source"]);
                for a in &assumptions {
                    let source = format!("{}: {}", a.source.as_str(), a.reference);
                    t.add_row(vec![a.input.clone(), assumption_value(a), source]);
                }
                out.push_str(&t.to_string());
                out.push('\n');
            } else {
                out.push_str(
                    "\nAssumed, in the units the keys name (--explain shows the sources):\n",
                );
                for a in &assumptions {
                    out.push_str(&assumption_line(a));
                }
            }
        }
        if !r.notes.is_empty() {
            // Right under the assumptions (the notes qualify them), to keep the answer on a screen.
            out.push_str(if r.assumptions.is_empty() {
                "\nNotes:\n"
            } else {
                "Notes:\n"
            });
            for n in &r.notes {
                out.push_str(&note_line(n));
            }
        }
        if r.kind != ReportKind::Check {
            out.push_str(&budget(r));
        }
        // The answer last: a check's verdict, else the primary estimate in one line.
        let last = match (&r.budget, r.kind) {
            (Some(v), ReportKind::Check) => Some(verdict_line(v)),
            _ => summary_line(r),
        };
        if let Some(line) = last {
            out.push('\n');
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }
}

/// A verdict on one line a person can paste: `PASS: CO2e 7.492 kg ≤ limit 10 kg; …`.
fn verdict_line(v: &crate::record::Verdict) -> String {
    let lines: Vec<String> = verdict_lines(v).into_iter().map(|(l, _)| l).collect();
    format!(
        "{}: {}",
        if v.ok { "PASS" } else { "FAIL" },
        lines.join("; ")
    )
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
