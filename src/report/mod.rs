//! Rendering results: one exporter per format behind one trait.
//!
//! A [`Report`] is what a command has to say (estimates, assumptions, a budget verdict, a
//! measurement); an [`Exporter`] turns it into text. Tables and Markdown are for people and
//! may change; JSON (schema 1 of docs/run-format.md) and CSV are for machines and only grow.

mod charts;
pub(crate) use charts::{estimate_svg, trace_svg};
pub(crate) mod codecarbon;
mod csv;
mod explain;
pub(crate) mod github;
pub(crate) mod html;
mod json;
pub(crate) mod junit;
mod markdown;
mod measurement;
pub(crate) mod profiles;
pub(crate) mod prometheus;
pub(crate) mod sweep;
mod table;
pub(crate) mod validation;
pub(crate) mod when;

use crate::impact::Estimate;
use crate::record::Field;
use crate::record::Verdict;
use crate::record::{AssumedValue, Assumption};
pub(crate) use crate::record::{Report, ReportKind};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Aligned table for people (default).
    Table,
    /// JSON, schema 1 (docs/run-format.md).
    Json,
    /// CSV, one row per model.
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// JUnit XML, one test case per budget limit (check only).
    Junit,
    /// One self-contained HTML page: tables and SVG charts, no JavaScript.
    Html,
}

/// A table for people. It wraps to the terminal's width when that width is known and usable;
/// a terminal that reports 0 columns (or a narrow one) gets unwrapped rows rather than one
/// character per line.
pub(crate) fn new_table() -> comfy_table::Table {
    use comfy_table::ContentArrangement;
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    let width = terminal_width();
    if let Some(w) = width {
        t.set_width(u16::try_from(w).unwrap_or(u16::MAX));
    }
    let usable = width.is_some_and(|w| w >= 40);
    t.set_content_arrangement(if usable {
        ContentArrangement::Dynamic
    } else {
        ContentArrangement::Disabled
    });
    t
}

/// The width people's output wraps to: `COLUMNS` when it holds a number (as shells and
/// `COLUMNS=100 footprint …` set it), else the terminal's, else none (a pipe: nothing wrapped).
pub(crate) fn terminal_width() -> Option<usize> {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|w| (20..=10_000).contains(w));
    from_env.or_else(|| comfy_table::Table::new().width().map(usize::from))
}

/// Renders a report in one format.
pub(crate) trait Exporter {
    fn render(&self, report: &Report) -> anyhow::Result<String>;
}

impl Format {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Html => "html",
        }
    }
}

/// A command's result, rendered in the formats it declares. Every command renders through
/// this, so a format a result does not support is refused the same way everywhere (exit 2,
/// with the list), never rendered as another format without a word.
pub(crate) trait Render {
    /// What the result is, for messages ("sweep").
    const WHAT: &'static str;
    /// The formats it renders in.
    const FORMATS: &'static [Format];
    /// Renders in `format`, one of [`Render::FORMATS`] ([`render`] checks).
    fn render_in(&self, format: Format) -> anyhow::Result<String>;
}

/// Whether `R` renders in `format`; otherwise the error names the formats it does.
pub(crate) fn supports<R: Render>(format: Format) -> Result<(), crate::error::InputError> {
    if R::FORMATS.contains(&format) {
        return Ok(());
    }
    let names: Vec<&str> = R::FORMATS.iter().map(|f| f.name()).collect();
    Err(crate::error::InputError::new(format!(
        "{} writes {}, not {}",
        R::WHAT,
        names.join(", "),
        format.name()
    ))
    .for_key("--format"))
}

/// `result` in `format`, refused when the result does not support it. Text for a terminal
/// (the table format) has every control and bidirectional character from files or the
/// environment shown escaped: a name cannot move the cursor, recolour or reorder the screen.
pub(crate) fn render<R: Render>(result: &R, format: Format) -> anyhow::Result<String> {
    supports::<R>(format)?;
    let text = result.render_in(format)?;
    Ok(match format {
        Format::Table => terminal_safe(&text),
        _ => text,
    })
}

/// A report in `format`; a table with `explain` prints each assumption's sources in full.
pub(crate) fn render_report(
    report: &Report,
    format: Format,
    explain: bool,
) -> anyhow::Result<String> {
    if format == Format::Table && explain {
        return Ok(terminal_safe(
            &table::TableExporter { explain: true }.render(report)?,
        ));
    }
    render(report, format)
}

/// Every line of `text` with its control and bidi characters escaped (the line breaks kept).
pub(crate) fn terminal_safe(text: &str) -> String {
    text.split('\n')
        .map(crate::error::printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A report renders in every format (JUnit needs a budget verdict, which its exporter checks).
impl Render for Report {
    const WHAT: &'static str = "a report";
    const FORMATS: &'static [Format] = &[
        Format::Table,
        Format::Json,
        Format::Csv,
        Format::Markdown,
        Format::Junit,
        Format::Html,
    ];
    fn render_in(&self, format: Format) -> anyhow::Result<String> {
        exporter(format).render(self)
    }
}

pub(crate) fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(table::TableExporter { explain: false }),
        Format::Json => Box::new(json::JsonExporter),
        Format::Csv => Box::new(csv::CsvExporter),
        Format::Markdown => Box::new(markdown::MarkdownExporter),
        Format::Junit => Box::new(junit::JunitExporter),
        Format::Html => Box::new(html::HtmlExporter),
    }
}

/// The figures people see, shared by the table and the Markdown exporters: a header and
/// rows of text, one column per model, or three (low, central, high) for a model whose figures
/// have a range. `primary_mark` is appended to the primary model's name when there are several.
pub(crate) fn figure_rows(
    estimates: &[Estimate],
    primary_mark: &str,
    hidden: &[Field],
) -> (Vec<String>, Vec<Vec<String>>) {
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
            header.extend([format!("{name} low"), name.clone(), format!("{name} high")]);
        } else {
            header.push(name);
        }
    }
    // Embodied emissions are only counted when the run asks for them; a row of zeros would
    // read as "none", so the row is left out and the report's notes say why.
    let embodied_counted = estimates.iter().any(|e| e.high.embodied.raw() > 0.0);
    // A part equal to its total in every model says nothing the total does not: Compute cost
    // when it is all of Cost, Operational CO2e when nothing embodied is counted.
    let same = |a: Field, b: Field| {
        estimates.iter().all(|e| {
            [&e.low, &e.central, &e.high]
                .iter()
                .all(|o| a.value(o) == b.value(o))
        })
    };
    let redundant = |f: Field| match f {
        Field::ComputeCost | Field::EnergyCost => same(f, Field::Cost),
        Field::Operational => same(f, Field::Co2e),
        _ => false,
    };
    let rows = Field::ALL
        .iter()
        .filter(|f| !hidden.contains(f))
        .filter(|f| **f != Field::Embodied || embodied_counted)
        .filter(|f| !redundant(**f))
        .filter(|f| estimates.iter().any(|e| f.human(&e.central).is_some()))
        .map(|f| {
            let mut cells = vec![f.label().to_string()];
            for (e, &rg) in estimates.iter().zip(&ranged) {
                let dash = || "—".to_string();
                if rg {
                    cells.extend(
                        [&e.low, &e.central, &e.high].map(|o| f.human(o).unwrap_or_else(dash)),
                    );
                } else {
                    cells.push(f.human(&e.central).unwrap_or_else(dash));
                }
            }
            cells
        })
        .collect();
    (header, rows)
}

/// An assumed value as people read it in the assumptions list.
pub(crate) fn assumption_value(a: &Assumption) -> String {
    if a.unit == Some("FLOP/s") {
        return crate::units::human_flop_rate(crate::units::FlopRate::from_flop_per_s(
            a.value.central(),
        ));
    }
    let unit = a.unit.map(|u| format!(" {u}")).unwrap_or_default();
    let num = crate::units::sig4;
    match a.value {
        AssumedValue::Range { low, central, high } => {
            format!("{} ({} – {}){unit}", num(central), num(low), num(high))
        }
        AssumedValue::Count(n) => format!("{}{unit}", num(n as f64)),
        AssumedValue::Number(x) => format!("{}{unit}", num(x)),
    }
}

/// A verdict's lines for people: "CO2e 553.1 t > limit 500 t (over by 53.1 t)".
pub(crate) fn verdict_lines(v: &Verdict) -> Vec<(String, bool)> {
    use crate::record::Metric;
    use crate::units::{Energy, Mass, Money, human_energy, human_mass, human_money};
    v.checks
        .iter()
        .map(|c| {
            let fmt = |x: f64| match c.metric {
                Metric::Co2e => human_mass(Mass::from_kg(x)),
                Metric::Energy => human_energy(Energy::from_kwh(x)),
                Metric::Cost => human_money(Money::from_usd(x)),
            };
            let what = c.metric.noun();
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
