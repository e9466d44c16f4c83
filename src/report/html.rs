//! One self-contained HTML file: the report's tables with its charts inline as SVG, no
//! JavaScript, no network, nothing to install. A person opens it in a browser; a CI job keeps
//! it as an artifact. The markup is also well-formed XML, so tools (and tests) can read it.

use super::{Exporter, Report, assumption_value, figure_rows, verdict_lines};
use crate::text::markup;

pub(crate) struct HtmlExporter;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#111}\
table{border-collapse:collapse;margin:0.6em 0 1.4em;display:block;overflow-x:auto;max-width:100%}th,td{border:1px solid #bbb;padding:0.25em 0.6em;vertical-align:top}\
th{background:#f0f0f0;text-align:left}td.n{text-align:right;white-space:nowrap}\
.pass{font-weight:bold}.fail{font-weight:bold;text-decoration:underline}\
figure{margin:1em 0;overflow-x:auto}svg{height:auto}small{color:#444}";

/// A whole page around `body`.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n{body}<p><small>Written by footprint {v}. Figures modelled rather than measured are labelled so.</small></p>\n</body>\n</html>\n",
        t = markup(title),
        v = env!("CARGO_PKG_VERSION")
    )
}

/// A table; cells after the first are right-aligned when they start with a digit.
pub(crate) fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n");
    if header.iter().any(|h| !h.is_empty()) {
        out.push_str("<tr>");
        for h in header {
            out.push_str(&format!("<th>{}</th>", markup(h)));
        }
        out.push_str("</tr>\n");
    }
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let numeric = i > 0
                && c.chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_digit() || ch == '$');
            let class = if numeric { " class=\"n\"" } else { "" };
            out.push_str(&format!("<td{class}>{}</td>", markup(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// A chart in a figure.
pub(crate) fn figure(svg: &str) -> String {
    format!("<figure>\n{svg}</figure>\n")
}

fn list(items: &[String]) -> String {
    let mut out = String::from("<ul>\n");
    for i in items {
        out.push_str(&format!("<li>{}</li>\n", markup(i)));
    }
    out.push_str("</ul>\n");
    out
}

impl Exporter for HtmlExporter {
    fn render(&self, r: &Report) -> anyhow::Result<String> {
        let mut body = String::new();
        if let Some(d) = &r.description {
            body.push_str(&format!("<p>{}</p>\n", markup(d)));
        }
        if let Some(v) = &r.budget {
            body.push_str(&format!(
                "<h2>Budget: <span class=\"{}\">{}</span></h2>\n",
                if v.ok { "pass" } else { "fail" },
                if v.ok { "pass" } else { "EXCEEDED" }
            ));
            let rows: Vec<Vec<String>> = verdict_lines(v)
                .into_iter()
                .map(|(line, ok)| vec![line, if ok { "pass" } else { "FAIL" }.to_string()])
                .collect();
            body.push_str(&table(&["Limit".into(), "Result".into()], &rows));
        }
        if let Some(m) = &r.measurement {
            body.push_str("<h2>Measurement</h2>\n");
            let rows: Vec<Vec<String>> = super::measurement::headline(m)
                .into_iter()
                .map(|(k, v)| vec![k, v])
                .collect();
            body.push_str(&table(&["".into(), "".into()], &rows));
            let (h, rows) = super::measurement::sensor_rows(m);
            body.push_str(&table(&h, &rows));
            if let Some((h, rows)) = super::measurement::node_rows(m) {
                body.push_str(&table(&h, &rows));
            }
            if let Some(svg) = super::charts::sensors_svg(m, &r.name) {
                body.push_str(&figure(&svg));
            }
            let notes = super::measurement::notes(m);
            if !notes.is_empty() {
                body.push_str(&list(&notes));
            }
        }
        if !r.estimates.is_empty() {
            body.push_str("<h2>Estimate</h2>\n");
            let (header, rows) = figure_rows(&r.estimates, " (primary)", &[]);
            body.push_str(&table(&header, &rows));
            if let Some(svg) = super::charts::estimate_svg(r) {
                body.push_str(&figure(&svg));
            }
        }
        if !r.assumptions.is_empty() {
            body.push_str("<h2>Assumptions</h2>\n<p>Inputs the run file did not give.</p>\n");
            let rows: Vec<Vec<String>> = r
                .assumptions
                .iter()
                .map(|a| {
                    vec![
                        a.input.clone(),
                        assumption_value(a),
                        format!("{}: {}", a.source.as_str(), a.reference),
                    ]
                })
                .collect();
            body.push_str(&table(
                &["Input".into(), "Value".into(), "Source".into()],
                &rows,
            ));
        }
        if !r.notes.is_empty() {
            body.push_str("<h2>Notes</h2>\n");
            body.push_str(&list(&r.notes));
        }
        Ok(page(
            &format!("footprint {}: {}", r.kind.as_str(), r.name),
            &body,
        ))
    }
}
