//! `footprint when` for people (a table of the picks and one line to paste), in CSV, Markdown,
//! HTML (with the chart) and JSON, and the chart itself: the series' intensity with the picked
//! windows shaded.

use super::{Format, Render};
use crate::intensity::Series;
use crate::plot::{Series as Line, Span, line_chart};
use crate::record::{WhenPlan, WhenRow};
use crate::text::csv_field;
use crate::units::{Mass, human_mass, sig4};

/// A CO2e band for people: `17.5 kg (11.2–33.1 kg)`.
fn co2e(r: &WhenRow) -> String {
    let m = |x: f64| human_mass(Mass::from_kg(x));
    let (l, c, h) = (m(r.co2e_kg.low), m(r.co2e_kg.central), m(r.co2e_kg.high));
    if l == h {
        c
    } else {
        format!("{c} ({})", super::table::compact_range(&l, &h))
    }
}

fn covered(r: &WhenRow) -> String {
    if r.covered >= 1.0 {
        String::new()
    } else {
        format!("{:.0} %", 100.0 * r.covered)
    }
}

/// The columns; the last (how much of a window the series covers) only where one is short.
fn header(p: &WhenPlan) -> Vec<String> {
    let mut h: Vec<String> = ["", "Start (UTC)", "Mean g/kWh", "CO2e"]
        .map(String::from)
        .to_vec();
    if partial(p) {
        h.push("Covered".to_string());
    }
    h
}

fn partial(p: &WhenPlan) -> bool {
    p.starts.iter().any(|r| r.covered < 1.0)
}

fn cells(r: &WhenRow, with_covered: bool) -> Vec<String> {
    let mut c = vec![
        r.pick.to_string(),
        r.start_utc.clone(),
        sig4(r.mean_g_per_kwh),
        co2e(r),
    ];
    if with_covered {
        c.push(covered(r));
    }
    c
}

fn title(p: &WhenPlan) -> String {
    format!("footprint when: {}", p.name)
}

/// What was planned, in one line: the run, the series and the window searched.
fn context(p: &WhenPlan) -> String {
    format!(
        "{} h at {} kWh; {} from {} UTC, starts every {} min within {} h of {} UTC ({} compared)",
        sig4(p.duration_hours.central),
        sig4(p.energy_kwh.central),
        p.series,
        p.series_start_utc,
        sig4(p.step_minutes),
        sig4(p.within_hours),
        p.now_utc,
        p.starts_compared
    )
}

/// The answer on one line a person can paste.
fn summary(p: &WhenPlan) -> String {
    let best = &p.starts[0];
    let m = |x: f64| human_mass(Mass::from_kg(x));
    let (l, c, h) = (
        m(best.co2e_kg.low),
        m(best.co2e_kg.central),
        m(best.co2e_kg.high),
    );
    let band = if l == h {
        c.clone()
    } else {
        format!("{c} CO2e ({})", super::table::compact_range(&l, &h))
    };
    let vs_now = p
        .best_vs_now_percent
        .map(|x| {
            if x < 0.0 {
                format!(", {:.0} % below now", -x)
            } else {
                ", no better than starting now".to_string()
            }
        })
        .unwrap_or_default();
    format!(
        "≈ start {} UTC: {}{vs_now} (annual average {})",
        best.start_utc,
        band,
        human_mass(Mass::from_kg(p.annual_average_co2e_kg.central))
    )
}

/// The plan as rendered: the plan, and the series for the chart in HTML.
pub(crate) struct WhenView<'a> {
    pub(crate) plan: &'a WhenPlan,
    pub(crate) series: &'a Series,
}

impl Render for WhenView<'_> {
    const WHAT: &'static str = "when";
    const FORMATS: &'static [Format] = &[
        Format::Table,
        Format::Json,
        Format::Csv,
        Format::Markdown,
        Format::Html,
    ];

    fn render_in(&self, format: Format) -> anyhow::Result<String> {
        let p = self.plan;
        let rows: Vec<Vec<String>> = p.starts.iter().map(|r| cells(r, partial(p))).collect();
        let header = header(p);
        Ok(match format {
            Format::Json => serde_json::to_string_pretty(p)? + "\n",
            Format::Csv => {
                let mut out = String::from(
                    "pick,start_utc,start_unix_s,mean_g_per_kwh,co2e_kg_low,co2e_kg,co2e_kg_high,covered\n",
                );
                for r in &p.starts {
                    out.push_str(&format!(
                        "{},{},{},{},{},{},{},{}\n",
                        csv_field(r.pick),
                        csv_field(&r.start_utc),
                        r.start_unix_s,
                        r.mean_g_per_kwh,
                        r.co2e_kg.low,
                        r.co2e_kg.central,
                        r.co2e_kg.high,
                        r.covered
                    ));
                }
                out
            }
            Format::Markdown => {
                use super::markdown::{table_row, text};
                let mut out = format!("### {}\n\n{}\n\n", text(&title(p)), text(&context(p)));
                out.push_str(&table_row(&header));
                out.push_str(&table_row(&vec!["---".to_string(); header.len()]));
                for r in &rows {
                    out.push_str(&table_row(r));
                }
                out.push('\n');
                for n in &p.notes {
                    out.push_str(&format!("- {}\n", text(n)));
                }
                out.push_str(&format!("\n{}\n", text(&summary(p))));
                out
            }
            Format::Html => {
                let mut body = format!("<p>{}</p>\n", crate::text::markup(&context(p)));
                body.push_str(&super::html::table(&header, &rows));
                body.push_str(&format!(
                    "<p><strong>{}</strong></p>\n",
                    crate::text::markup(&summary(p))
                ));
                for n in &p.notes {
                    body.push_str(&format!("<p>Note: {}</p>\n", crate::text::markup(n)));
                }
                body.push_str(&super::html::figure(&chart(p, self.series)));
                super::html::page(&title(p), &body)
            }
            Format::Table | Format::Junit => {
                let mut t = super::new_table();
                t.set_header(header);
                for r in rows {
                    t.add_row(r);
                }
                let mut out = format!("{}\n", title(p));
                out.push_str(&super::table::wrapped(&context(p), ""));
                out.push_str(&format!("{t}\n"));
                for n in &p.notes {
                    out.push_str(&super::table::note_line(n));
                }
                out.push_str(&format!("\n{}\n", summary(p)));
                out
            }
        })
    }
}

/// The series' intensity over the hours it covers, with each pick's window shaded.
pub(crate) fn chart(p: &WhenPlan, series: &Series) -> String {
    let t0 = series.start();
    let mut points = Vec::with_capacity(2 * series.intervals().len());
    for iv in series.intervals() {
        points.push(((iv.start - t0) / 3600.0, iv.g_per_kwh));
        points.push(((iv.end - t0) / 3600.0, iv.g_per_kwh));
    }
    let lines = [Line {
        name: series.label.clone(),
        points: super::charts::thin(&points, 4000),
    }];
    let hours = p.duration_hours.central;
    let spans: Vec<Span> = p
        .starts
        .iter()
        .filter(|r| r.pick != "now" || r.covered > 0.0)
        .map(|r| {
            let from = (r.start_unix_s - t0) / 3600.0;
            Span {
                from,
                to: from + hours,
                label: r.pick.to_string(),
            }
        })
        .collect();
    line_chart(
        &format!("When to run {}: grid intensity and the windows", p.name),
        &format!(
            "{}, from {} UTC; shaded: the run's central {} h",
            p.series,
            p.series_start_utc,
            sig4(hours)
        ),
        "hours",
        "g/kWh",
        &lines,
        &spans,
    )
}
