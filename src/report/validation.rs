//! `footprint validate`: published figures beside footprint's estimates, per case, and what
//! they add up to (how often the range holds the published figure, how wide it is).

use serde::Serialize;

use super::Format;
use crate::record::{CaseCheck, FigureCheck, ValidationSummary};
use crate::units::sig4;

#[derive(Serialize)]
struct FigureJson<'a> {
    case: &'a str,
    file: &'a str,
    model: Option<&'a str>,
    figure: &'a str,
    published: f64,
    low: f64,
    central: f64,
    high: f64,
    /// high ÷ low.
    width: Option<f64>,
    /// (central − published) ÷ published.
    error: f64,
    tier: &'a str,
    tolerance: Option<f64>,
    pass: bool,
    source: Option<&'a str>,
}

#[derive(Serialize)]
struct Doc<'a> {
    figures: Vec<FigureJson<'a>>,
    summary: SummaryJson,
    /// One summary per folder, when several were given (the accuracy tiers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tiers: Vec<TierJson<'a>>,
}

#[derive(Serialize)]
struct TierJson<'a> {
    folder: &'a str,
    summary: SummaryJson,
}

fn summary_json(s: &ValidationSummary) -> SummaryJson {
    SummaryJson {
        prediction_figures: s.prediction_figures,
        prediction_inside: s.prediction_inside,
        prediction_coverage: (s.prediction_figures > 0)
            .then(|| s.prediction_inside as f64 / s.prediction_figures as f64),
        median_width: s.median_width,
        median_error: s.median_error,
        reproduction_figures: s.reproduction_figures,
        reproduction_within: s.reproduction_within,
    }
}

/// Each folder's summary on one line, when several folders were given.
fn tier_lines(tiers: &[(String, ValidationSummary)]) -> Vec<String> {
    if tiers.len() < 2 {
        return Vec::new();
    }
    tiers
        .iter()
        .map(|(folder, s)| format!("{folder}: {}", summary_lines(s).join("; ")))
        .collect()
}

#[derive(Serialize)]
struct SummaryJson {
    prediction_figures: usize,
    prediction_inside: usize,
    prediction_coverage: Option<f64>,
    median_width: Option<f64>,
    median_error: Option<f64>,
    reproduction_figures: usize,
    reproduction_within: usize,
}

fn rows(cases: &[CaseCheck]) -> Vec<(&CaseCheck, &FigureCheck)> {
    cases
        .iter()
        .flat_map(|c| c.figures.iter().map(move |f| (c, f)))
        .collect()
}

fn result(f: &FigureCheck) -> &'static str {
    match (f.tolerance, f.pass) {
        (Some(_), true) => "within tolerance",
        (Some(_), false) => "OFF",
        (None, true) => "inside",
        (None, false) => "OUTSIDE",
    }
}

fn pct(x: f64) -> String {
    format!("{:+.1} %", x * 100.0)
}

fn summary_lines(s: &ValidationSummary) -> Vec<String> {
    let mut out = Vec::new();
    if s.prediction_figures > 0 {
        out.push(format!(
            "ranges: {} of {} published figures inside footprint's range ({:.0} %), median width (high ÷ low) {}, median central error {:.0} %",
            s.prediction_inside,
            s.prediction_figures,
            100.0 * s.prediction_inside as f64 / s.prediction_figures as f64,
            s.median_width.map_or("—".to_string(), |w| format!("×{:.2}", w)),
            100.0 * s.median_error.unwrap_or(0.0)
        ));
    }
    if s.reproduction_figures > 0 {
        out.push(format!(
            "tolerances: {} of {} published figures within their tolerance",
            s.reproduction_within, s.reproduction_figures
        ));
    }
    out
}

/// What `validate` found: the cases and their summary.
pub(crate) struct ValidationView<'a> {
    pub(crate) cases: &'a [CaseCheck],
    pub(crate) summary: &'a ValidationSummary,
    /// Each folder's summary, when several were given (the accuracy tiers).
    pub(crate) tiers: &'a [(String, ValidationSummary)],
}

impl super::Render for ValidationView<'_> {
    const WHAT: &'static str = "validate";
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Markdown];
    fn render_in(&self, format: Format) -> anyhow::Result<String> {
        let (cases, s, tiers) = (self.cases, self.summary, self.tiers);
        match format {
            Format::Json => Ok(render_json(cases, s, tiers)),
            Format::Markdown => Ok(render_markdown(cases, s, tiers)),
            Format::Table => Ok(render_table(cases, s, tiers)),
            Format::Csv | Format::Junit | Format::Html => {
                Err(super::supports::<Self>(format).unwrap_err().into())
            }
        }
    }
}

/// High ÷ low: how wide the estimate's range is (NaN when low is 0).
fn width(f: &FigureCheck) -> f64 {
    if f.low > 0.0 {
        f.high / f.low
    } else {
        f64::NAN
    }
}

fn render_json(
    cases: &[CaseCheck],
    s: &ValidationSummary,
    tiers: &[(String, ValidationSummary)],
) -> String {
    let doc = Doc {
        figures: rows(cases)
            .into_iter()
            .map(|(c, f)| FigureJson {
                case: &c.name,
                file: &c.file,
                model: c.model.map(|m| m.as_str()),
                figure: f.field.key(),
                published: f.published,
                low: f.low,
                central: f.central,
                high: f.high,
                width: (f.low > 0.0).then(|| f.high / f.low),
                error: (f.central - f.published) / f.published,
                tier: if f.tolerance.is_some() {
                    "reproduction"
                } else {
                    "prediction"
                },
                tolerance: f.tolerance,
                pass: f.pass,
                source: c.source.as_deref(),
            })
            .collect(),
        summary: summary_json(s),
        tiers: if tiers.len() < 2 {
            Vec::new()
        } else {
            tiers
                .iter()
                .map(|(folder, s)| TierJson {
                    folder,
                    summary: summary_json(s),
                })
                .collect()
        },
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("serializable");
    text.push('\n');
    text
}

fn render_markdown(
    cases: &[CaseCheck],
    s: &ValidationSummary,
    tiers: &[(String, ValidationSummary)],
) -> String {
    let mut out = String::from(
        "| Case | Figure | Published | Low | Central | High | Width | Error | Result |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for (c, f) in rows(cases) {
        out.push_str(&super::markdown::table_row(&[
            c.name.clone(),
            f.field.key().to_string(),
            sig4(f.published),
            sig4(f.low),
            sig4(f.central),
            sig4(f.high),
            format!("×{}", sig4(width(f))),
            pct((f.central - f.published) / f.published),
            result(f).to_string(),
        ]));
    }
    out.push('\n');
    for l in summary_lines(s).into_iter().chain(tier_lines(tiers)) {
        out.push_str(&format!("- {}\n", super::markdown::text(&l)));
    }
    out
}

fn render_table(
    cases: &[CaseCheck],
    s: &ValidationSummary,
    tiers: &[(String, ValidationSummary)],
) -> String {
    let mut t = super::new_table();
    t.set_header(vec![
        "Case",
        "Figure",
        "Published",
        "Low",
        "Central",
        "High",
        "Width",
        "Error",
        "Result",
    ]);
    for (c, f) in rows(cases) {
        t.add_row(vec![
            c.name.clone(),
            f.field.key().to_string(),
            sig4(f.published),
            sig4(f.low),
            sig4(f.central),
            sig4(f.high),
            format!("×{}", sig4(width(f))),
            pct((f.central - f.published) / f.published),
            result(f).to_string(),
        ]);
    }
    let mut out = format!("{t}\n");
    for l in summary_lines(s).into_iter().chain(tier_lines(tiers)) {
        out.push_str(&format!("{l}\n"));
    }
    out
}
