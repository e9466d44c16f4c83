//! GitHub-flavoured Markdown: for pull-request comments and `$GITHUB_STEP_SUMMARY`.

use super::{Exporter, Report, assumption_value, figure_rows, verdict_lines};

pub(crate) struct MarkdownExporter;

/// Escapes what would break a table cell.
/// Text from a file or the environment, made inert in Markdown: no raw HTML (`<img>`,
/// `<details>` of its own), no table breaks, no control characters.
pub(super) fn text(s: &str) -> String {
    crate::error::printable(&s.replace(['\n', '\r'], " "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

pub(super) fn table_row(cells: &[String]) -> String {
    format!(
        "| {} |\n",
        cells
            .iter()
            .map(|c| cell(c))
            .collect::<Vec<_>>()
            .join(" | ")
    )
}

impl Exporter for MarkdownExporter {
    fn render(&self, r: &Report) -> anyhow::Result<String> {
        let mut out = format!("### footprint {}: {}\n\n", r.kind.as_str(), cell(&r.name));
        if let Some(d) = &r.description {
            out.push_str(&format!("{}\n\n", text(d)));
        }
        if let Some(v) = &r.budget {
            out.push_str(&format!(
                "**Budget: {}** ({} model{})\n\n",
                if v.ok { "✅ pass" } else { "❌ exceeded" },
                v.model.as_str().replace('_', "-"),
                match v.basis {
                    crate::record::Basis::Central => "",
                    crate::record::Basis::High => ", high end of each range",
                }
            ));
            out.push_str("| Limit | Result |\n| --- | --- |\n");
            for (line, ok) in verdict_lines(v) {
                out.push_str(&table_row(&[
                    line,
                    if ok { "pass".into() } else { "**FAIL**".into() },
                ]));
            }
            out.push('\n');
        }
        if let Some(m) = &r.measurement {
            out.push_str("| Measurement | |\n| --- | --- |\n");
            for (k, v) in super::measurement::headline(m) {
                out.push_str(&table_row(&[k, v]));
            }
            out.push('\n');
        }
        if !r.estimates.is_empty() {
            let (header, rows) = figure_rows(&r.estimates, " (primary)", &[]);
            out.push_str(&table_row(&header));
            let align: Vec<String> = (0..header.len())
                .map(|i| if i == 0 { "---".into() } else { "---:".into() })
                .collect();
            out.push_str(&format!("| {} |\n", align.join(" | ")));
            for row in rows {
                out.push_str(&table_row(&row));
            }
            out.push('\n');
        }
        if !r.assumptions.is_empty() {
            out.push_str("<details><summary>Assumptions</summary>\n\n");
            out.push_str("| Input | Value | Source |\n| --- | --- | --- |\n");
            for a in &r.assumptions {
                let src = a.source.as_str();
                out.push_str(&table_row(&[
                    format!("`{}`", a.input),
                    assumption_value(a),
                    format!("{src}: {}", a.reference),
                ]));
            }
            out.push_str("\n</details>\n\n");
        }
        if !r.notes.is_empty() {
            for n in &r.notes {
                out.push_str(&format!("- {}\n", text(n)));
            }
            out.push('\n');
        }
        Ok(out)
    }
}
