//! `footprint sweep`'s report: the options, best first by the chosen figure, with the
//! cleanest, cheapest and fastest marked.

use crate::text::csv_field;
use serde::Serialize;

use super::Format;
use crate::record::{EstimateRecord, Field, Row, Sweep};
use crate::units::sig4;

/// What the options are ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortBy {
    Co2e,
    Energy,
    Cost,
    Time,
}

impl SortBy {
    pub(crate) fn field(self) -> Field {
        match self {
            SortBy::Co2e => Field::Co2e,
            SortBy::Energy => Field::Energy,
            SortBy::Cost => Field::Cost,
            SortBy::Time => Field::WallClock,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SortBy::Co2e => "co2e",
            SortBy::Energy => "energy",
            SortBy::Cost => "cost",
            SortBy::Time => "time",
        }
    }
}

/// The rows in order and each one's marks.
fn ranked(s: &Sweep, by: SortBy, top: Option<usize>) -> Vec<(&Row, Vec<&'static str>)> {
    let best: Vec<(Option<usize>, &'static str)> = crate::record::MARKED
        .iter()
        .map(|&(f, mark)| (crate::record::best_row(&s.rows, f), mark))
        .collect();
    let mut order: Vec<usize> = (0..s.rows.len()).collect();
    order.sort_by(|&a, &b| crate::record::rank_order(&s.rows[a], &s.rows[b], by.field()));
    order
        .into_iter()
        .take(top.unwrap_or(usize::MAX))
        .map(|i| {
            let marks: Vec<&'static str> = best
                .iter()
                .filter(|(b, _)| *b == Some(i))
                .map(|(_, mark)| *mark)
                .collect();
            (&s.rows[i], marks)
        })
        .collect()
}

#[derive(Serialize)]
struct OptionJson<'a> {
    rank: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    utilization: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pue: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epochs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price_usd_per_device_hour: Option<f64>,
    marks: Vec<&'static str>,
    /// Listed after the ranked options: its utilization is the generic default while the
    /// others' rest on evidence (the notes say which).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unranked: bool,
    /// The primary estimate, exactly as `footprint estimate --format json` writes it.
    estimate: EstimateRecord,
}

#[derive(Serialize)]
struct SweepJson<'a> {
    schema_version: u32,
    command: &'static str,
    name: &'a str,
    sort: &'static str,
    options_evaluated: usize,
    options: Vec<OptionJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

/// A column of the options: its header and how a row fills it.
type Column = (&'static str, fn(&Row) -> Option<String>);

/// The option columns that vary in this sweep (the others are the run file's own).
fn option_columns(s: &Sweep) -> Vec<Column> {
    let all: [Column; 7] = [
        ("Device", |r| r.device.clone()),
        ("Region", |r| r.region.clone()),
        ("Count", |r| r.count.map(|c| c.to_string())),
        ("Utilization", |r| r.utilization.map(sig4)),
        ("PUE", |r| r.pue.map(sig4)),
        ("Epochs", |r| r.epochs.map(sig4)),
        ("Price", |r| r.price.map(|p| format!("${}/h", sig4(p)))),
    ];
    all.into_iter()
        .filter(|(_, f)| s.rows.first().is_some_and(|r| f(r).is_some()))
        .collect()
}

fn band(r: &Row, f: Field) -> String {
    let e = &r.estimate;
    match (f.human(&e.low), f.human(&e.central), f.human(&e.high)) {
        (Some(l), Some(c), Some(h)) if l != h => format!("{c} ({l} – {h})"),
        (_, Some(c), _) => c,
        _ => "—".to_string(),
    }
}

/// A sweep as it is shown: ranked by one figure, the best `top` kept.
pub(crate) struct SweepView<'a> {
    pub(crate) sweep: &'a Sweep,
    pub(crate) by: SortBy,
    pub(crate) top: Option<usize>,
    /// The terminal table shows each figure's range too (`--explain`), not the central only.
    pub(crate) explain: bool,
}

impl super::Render for SweepView<'_> {
    const WHAT: &'static str = "sweep";
    const FORMATS: &'static [Format] = &[
        Format::Table,
        Format::Json,
        Format::Csv,
        Format::Markdown,
        Format::Html,
    ];
    fn render_in(&self, format: Format) -> anyhow::Result<String> {
        let (s, by, top) = (self.sweep, self.by, self.top);
        let rows = ranked(s, by, top);
        match format {
            Format::Json => Ok(render_json(s, by, &rows)),
            Format::Csv => Ok(render_csv(s, &rows)),
            Format::Table | Format::Markdown | Format::Html => {
                let ranges = format != Format::Table || self.explain;
                Ok(render_for_people(s, by, top, format, ranges, &rows))
            }
            Format::Junit => Err(super::supports::<Self>(format).unwrap_err().into()),
        }
    }
}

/// The ranked options with every estimate, as JSON.
fn render_json(s: &Sweep, by: SortBy, rows: &[(&Row, Vec<&'static str>)]) -> String {
    let doc = SweepJson {
        schema_version: crate::record::REPORT_SCHEMA,
        command: "sweep",
        name: &s.name,
        sort: by.as_str(),
        options_evaluated: s.evaluated,
        notes: &s.notes,
        options: rows
            .iter()
            .enumerate()
            .map(|(i, (r, marks))| OptionJson {
                rank: i + 1,
                device: r.device.as_deref(),
                region: r.region.as_deref(),
                count: r.count,
                utilization: r.utilization,
                pue: r.pue,
                epochs: r.epochs,
                price_usd_per_device_hour: r.price,
                marks: marks.clone(),
                unranked: r.unranked,
                estimate: EstimateRecord::from(&r.estimate),
            })
            .collect(),
    };
    let mut t = serde_json::to_string_pretty(&doc).expect("serializable");
    t.push('\n');
    t
}

/// The figures the sweep's CSV gives as low, central and high, in its column order.
const BANDED: [Field; 3] = Field::HEADLINE;
/// The figures it gives as the central value only.
const CENTRAL_ONLY: [Field; 2] = [Field::WallClock, Field::DeviceHours];

/// One line per ranked option: its settings, then each figure's low, central and high.
fn render_csv(s: &Sweep, rows: &[(&Row, Vec<&'static str>)]) -> String {
    let cols = option_columns(s);
    let mut out = String::from("rank");
    for (name, _) in &cols {
        out.push(',');
        out.push_str(&name.to_lowercase());
    }
    out.push_str(",model");
    for f in BANDED {
        out.push_str(&format!(",{k}_low,{k},{k}_high", k = f.key()));
    }
    for f in CENTRAL_ONLY {
        out.push_str(&format!(",{}", f.key()));
    }
    out.push_str(",marks\n");
    for (i, (r, marks)) in rows.iter().enumerate() {
        let mut cells = vec![(i + 1).to_string()];
        for (_, f) in &cols {
            cells.push(csv_field(&f(r).unwrap_or_default()));
        }
        cells.push(r.model.as_str().to_string());
        for f in BANDED {
            let b = f.band(&r.estimate);
            for x in [b.map(|b| b.low), b.map(|b| b.central), b.map(|b| b.high)] {
                cells.push(
                    x.map(|x| crate::record::tidy(x).to_string())
                        .unwrap_or_default(),
                );
            }
        }
        for f in CENTRAL_ONLY {
            cells.push(
                f.value(&r.estimate.central)
                    .map(|x| crate::record::tidy(x).to_string())
                    .unwrap_or_default(),
            );
        }
        let mut marks = marks.clone();
        if r.unranked {
            marks.push(UNRANKED);
        }
        cells.push(marks.join(" "));
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// What an option listed without a rank is marked with, where marks are words (CSV, chart).
const UNRANKED: &str = "unranked";

/// The `#` cell: the rank, or a dash for an option listed without one.
fn rank_cell(i: usize, r: &Row) -> String {
    if r.unranked {
        "—".to_string()
    } else {
        (i + 1).to_string()
    }
}

/// A table (terminal, Markdown) or an HTML page with the chart.
fn render_for_people(
    s: &Sweep,
    by: SortBy,
    top: Option<usize>,
    format: Format,
    ranges: bool,
    rows: &[(&Row, Vec<&'static str>)],
) -> String {
    let cols = option_columns(s);
    let figure = |r: &Row, f: Field| {
        if ranges {
            band(r, f)
        } else {
            f.human(&r.estimate.central)
                .unwrap_or_else(|| "—".to_string())
        }
    };
    // A terminal without --explain: the model column only where the models differ, and the
    // marks on a line of their own, so that the table fits 80 columns.
    let compact = format == Format::Table && !ranges;
    let model_column = !compact || rows.iter().any(|(r, _)| r.model != rows[0].0.model);
    let marks_column = !compact;
    let mut header: Vec<String> = vec!["#".to_string()];
    header.extend(cols.iter().map(|(n, _)| n.to_string()));
    if model_column {
        header.push("Model".to_string());
    }
    header.extend(Field::HEADLINE.map(|f| match f {
        Field::Energy if compact => "Energy".to_string(),
        f => f.label().replace("Total ", ""),
    }));
    header.push("Time".to_string());
    if marks_column {
        header.push(String::new());
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, (r, marks))| {
            let mut cells = vec![rank_cell(i, r)];
            cells.extend(cols.iter().map(|(_, f)| f(r).unwrap_or_default()));
            if model_column {
                cells.push(r.model.as_str().replace('_', "-"));
            }
            cells.extend(Field::HEADLINE.map(|f| figure(r, f)));
            cells.push(
                Field::WallClock
                    .human(&r.estimate.central)
                    .or_else(|| Field::DeviceHours.human(&r.estimate.central))
                    .unwrap_or_else(|| "—".to_string()),
            );
            if marks_column {
                cells.push(marks.join(", "));
            }
            cells
        })
        .collect();
    let marks_line: Vec<String> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, (_, marks))| marks.iter().map(move |m| format!("{m} #{}", i + 1)))
        .collect();
    let title = format!(
        "footprint sweep: {}: {} options by {}{}",
        s.name,
        s.evaluated,
        by.as_str(),
        top.filter(|t| *t < s.evaluated)
            .map(|t| format!(", best {t} shown"))
            .unwrap_or_default()
    );
    if format == Format::Html {
        let mut out = super::html::table(&header, &body);
        out.push_str("<p>Central figures, with the range where the inputs have one.</p>\n");
        for n in &s.notes {
            out.push_str(&format!("<p>Note: {}</p>\n", crate::text::markup(n)));
        }
        out.push_str(&super::html::figure(&chart(s, by, top)));
        super::html::page(&title, &out)
    } else if format == Format::Markdown {
        // Through the writer every Markdown report uses: a run's name, a device or region and
        // a note are text from files, so `|` and HTML are escaped the same way everywhere.
        let row = super::markdown::table_row;
        let mut out = format!("### {}\n\n", super::markdown::text(&title));
        out.push_str(&row(&header));
        out.push_str(&row(&vec!["---".to_string(); header.len()]));
        for r in &body {
            out.push_str(&row(r));
        }
        for n in &s.notes {
            out.push_str(&format!("\n- {}\n", super::markdown::text(n)));
        }
        out
    } else {
        let mut t = super::new_table();
        t.set_header(header);
        for r in body {
            t.add_row(r);
        }
        let what = if ranges {
            "Central figures, with the range where the inputs have one."
        } else {
            "Central figures; --explain (or -f csv, json, markdown, html) gives each one's range."
        };
        let mut out = format!("{title}\n{t}\n");
        if !marks_column && !marks_line.is_empty() {
            out.push_str(&format!("{}\n", marks_line.join(", ")));
        }
        out.push_str(&format!("{what}\n"));
        for n in &s.notes {
            out.push_str(&format!("Note: {n}\n"));
        }
        // The answer on one line a person can paste: the best option by the sort.
        if let Some((best, _)) = rows.first() {
            let figures: Vec<String> = Field::HEADLINE
                .into_iter()
                .filter_map(|f| f.human(&best.estimate.central))
                .collect();
            let option: Vec<String> = cols.iter().filter_map(|(_, f)| f(best)).collect();
            out.push_str(&format!(
                "\nbest by {}: {} ≈ {}\n",
                by.as_str(),
                if option.is_empty() {
                    "the run as given".to_string()
                } else {
                    option.join(", ")
                },
                figures.join(", ")
            ));
        }
        out
    }
}

/// How many options a chart shows at most when `--top` does not say: past that, bars are too
/// thin to read and the table (or `--top`) serves better.
pub(crate) const CHART_MAX: usize = 60;

/// CO2e (and cost, when the options have one) per option, best first, the range as whiskers.
pub(crate) fn chart(s: &Sweep, by: SortBy, top: Option<usize>) -> String {
    let shown = top.unwrap_or(CHART_MAX).min(CHART_MAX);
    let rows = ranked(s, by, Some(shown));
    let cols = option_columns(s);
    let label = |r: &Row| {
        let parts: Vec<String> = cols.iter().filter_map(|(_, f)| f(r)).collect();
        if parts.is_empty() {
            r.model.as_str().to_string()
        } else {
            parts.join(" · ")
        }
    };
    let bars = |f: Field| -> Vec<crate::plot::Bar> {
        rows.iter()
            .map(|(r, marks)| {
                let b = f.band(&r.estimate);
                crate::plot::Bar {
                    label: label(r),
                    low: b.map_or(f64::NAN, |b| b.low),
                    central: b.map_or(f64::NAN, |b| b.central),
                    high: b.map_or(f64::NAN, |b| b.high),
                    note: if r.unranked {
                        UNRANKED.to_string()
                    } else {
                        marks.join(", ")
                    },
                }
            })
            .collect()
    };
    let mut panels = vec![crate::plot::Panel {
        title: "CO2e".to_string(),
        quantity: crate::plot::Quantity::MassKg,
        bars: bars(Field::Co2e),
    }];
    let cost = bars(Field::Cost);
    if cost.iter().any(|b| b.central.is_finite()) {
        panels.push(crate::plot::Panel {
            title: "Cost".to_string(),
            quantity: crate::plot::Quantity::MoneyUsd,
            bars: cost,
        });
    }
    let subtitle = format!(
        "{} of {} options, by {}{}. Bars: central figure; whiskers: low to high.",
        rows.len(),
        s.evaluated,
        by.as_str(),
        if rows.len() < s.evaluated {
            " (best shown)"
        } else {
            ""
        }
    );
    crate::plot::bar_chart(&format!("footprint sweep: {}", s.name), &subtitle, &panels)
}
