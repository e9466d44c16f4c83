//! Charts as SVG text, drawn here: no plotting library, no font or system library, no browser.
//!
//! Two kinds are enough for footprint: horizontal bars with a range (one bar per option or per
//! model: the bar is the central figure, the whisker the low–high range) and lines over time
//! (power per sensor from a trace). Everything reads in black and white: bars are grey with a
//! black outline, ranges are black whiskers, and series differ by dash pattern as well as by
//! shade. Every axis says its unit. No I/O here: callers write the text where they want it.

use std::fmt::Write;

use crate::text::markup;
use crate::units::sig4;

const WIDTH: f64 = 880.0;
const FONT: &str = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

/// A tidy axis from 0: the top and the ticks, at 1, 2 or 5 × 10^k, about `n` of them.
pub(crate) fn ticks(max: f64, n: usize) -> (f64, Vec<f64>) {
    if !(max.is_finite() && max > 0.0) {
        return (1.0, vec![0.0, 0.5, 1.0]);
    }
    let raw = max / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let count = (max / step).ceil().max(1.0) as usize;
    let v: Vec<f64> = (0..=count).map(|i| i as f64 * step).collect();
    (count as f64 * step, v)
}

/// What a quantity is, so its axis can be put in a readable unit (g, kg or t; Wh, kWh or MWh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quantity {
    /// Values in kg CO2e.
    MassKg,
    /// Values in kWh.
    EnergyKwh,
    /// Values in USD.
    MoneyUsd,
}

/// The factor to multiply values by and the unit to show, for values up to `max`.
pub(crate) fn scale(q: Quantity, max: f64) -> (f64, &'static str) {
    let m = if max.is_finite() { max.abs() } else { 0.0 };
    match q {
        Quantity::MassKg if m >= 1000.0 => (1e-3, "t CO2e"),
        Quantity::MassKg if m < 1e-6 => (1e9, "µg CO2e"),
        Quantity::MassKg if m < 1e-3 => (1e6, "mg CO2e"),
        Quantity::MassKg if m < 1.0 => (1e3, "g CO2e"),
        Quantity::MassKg => (1.0, "kg CO2e"),
        Quantity::EnergyKwh if m >= 1000.0 => (1e-3, "MWh"),
        Quantity::EnergyKwh if m < 1e-3 => (3.6e6, "J"),
        Quantity::EnergyKwh if m < 1.0 => (1e3, "Wh"),
        Quantity::EnergyKwh => (1.0, "kWh"),
        Quantity::MoneyUsd => (1.0, "USD"),
    }
}

/// One bar: the central figure, and the range around it (equal to it when there is none).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) low: f64,
    pub(crate) central: f64,
    pub(crate) high: f64,
    /// Shown after the value ("cleanest", "primary").
    pub(crate) note: String,
}

/// Bars sharing one axis.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Panel {
    pub(crate) title: String,
    pub(crate) quantity: Quantity,
    pub(crate) bars: Vec<Bar>,
}

const ROW: f64 = 24.0;
const LABEL_W: f64 = 300.0;
const PLOT_X0: f64 = LABEL_W + 12.0;
const PLOT_X1: f64 = WIDTH - 150.0;

/// About how wide `text` is at `size` px in a sans-serif face (no font metrics here, so an
/// average glyph width of 0.6 em: generous for digits and lower case).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Horizontal bar charts, one panel under the other, each with its own axis and unit. The
/// drawing widens (and moves right) where labels or values would not fit the usual width.
pub(crate) fn bar_chart(title: &str, subtitle: &str, panels: &[Panel]) -> String {
    let mut body = String::new();
    let (mut y, mut right) = (70.0, WIDTH);
    for p in panels {
        let (bottom, extent) = bar_panel(&mut body, p, y);
        y = bottom + 18.0;
        right = right.max(extent + 8.0);
    }
    let widest_label = panels
        .iter()
        .flat_map(|p| &p.bars)
        .map(|b| text_width(&b.label, 12.0))
        .fold(0.0, f64::max);
    let shift = (widest_label - (LABEL_W - 8.0)).max(0.0);
    let body = format!("<g transform=\"translate({shift:.1} 0)\">\n{body}</g>\n");
    document(title, subtitle, right + shift, y, &body)
}

/// Draws one panel from `top`; returns its bottom and the rightmost point its text reaches.
fn bar_panel(out: &mut String, p: &Panel, top: f64) -> (f64, f64) {
    let finite = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let max = p
        .bars
        .iter()
        .map(|b| finite(b.high).max(finite(b.central)))
        .fold(0.0, f64::max);
    let (factor, unit) = scale(p.quantity, max);
    let (axis_top, marks) = ticks(max * factor, 5);
    let x = |v: f64| PLOT_X0 + (finite(v) * factor / axis_top).min(1.0) * (PLOT_X1 - PLOT_X0);
    let _ = writeln!(
        out,
        r#"<text x="16" y="{top}" font-size="14" font-weight="bold">{} ({unit})</text>"#,
        markup(&p.title)
    );
    let rows_top = top + 12.0;
    let bottom = rows_top + ROW * p.bars.len() as f64;
    let mut extent = PLOT_X1;
    for (i, b) in p.bars.iter().enumerate() {
        let cy = rows_top + ROW * i as f64 + ROW / 2.0;
        let _ = writeln!(
            out,
            r#"<text x="{LABEL_W}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            cy + 4.0,
            markup(&b.label)
        );
        if !b.central.is_finite() {
            let _ = writeln!(
                out,
                r#"<text x="{PLOT_X0}" y="{:.1}" font-size="12">—</text>"#,
                cy + 4.0
            );
            continue;
        }
        let _ = writeln!(
            out,
            r##"<rect class="bar" x="{PLOT_X0}" y="{:.1}" width="{:.1}" height="14" fill="#c8c8c8" stroke="#000" stroke-width="0.8"><title>{}: {}</title></rect>"##,
            cy - 7.0,
            (x(b.central) - PLOT_X0).max(0.5),
            markup(&b.label),
            markup(&format!("{} {unit}", sig4(b.central * factor)))
        );
        let (lo, hi) = (x(b.low.min(b.central)), x(b.high.max(b.central)));
        if hi - lo > 0.5 {
            let _ = writeln!(
                out,
                r##"<path class="range" d="M{lo:.1} {cy:.1}H{hi:.1}M{lo:.1} {:.1}V{:.1}M{hi:.1} {:.1}V{:.1}" stroke="#000" stroke-width="1.4" fill="none"/>"##,
                cy - 5.0,
                cy + 5.0,
                cy - 5.0,
                cy + 5.0
            );
        }
        let value = if hi - lo > 0.5 {
            format!(
                "{} ({}–{})",
                sig4(b.central * factor),
                sig4(b.low * factor),
                sig4(b.high * factor)
            )
        } else {
            sig4(b.central * factor)
        };
        let note = if b.note.is_empty() {
            String::new()
        } else {
            format!("  {}", b.note)
        };
        let text_x = hi.max(x(b.central)) + 6.0;
        extent = extent.max(text_x + text_width(&format!("{value}{note}"), 11.0));
        let _ = writeln!(
            out,
            r#"<text x="{text_x:.1}" y="{:.1}" font-size="11">{}{}</text>"#,
            cy + 4.0,
            markup(&value),
            markup(&note)
        );
    }
    axis_x(out, &marks, axis_top, bottom, unit, rows_top);
    (bottom + 36.0, extent)
}

/// A horizontal axis at `y` with its ticks, grid lines up to `grid_top`, and its unit.
fn axis_x(out: &mut String, marks: &[f64], top: f64, y: f64, unit: &str, grid_top: f64) {
    let _ = writeln!(
        out,
        r##"<line x1="{PLOT_X0}" y1="{y:.1}" x2="{PLOT_X1}" y2="{y:.1}" stroke="#000"/>"##
    );
    for m in marks {
        let x = PLOT_X0 + m / top * (PLOT_X1 - PLOT_X0);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{grid_top:.1}" x2="{x:.1}" y2="{y:.1}" stroke="#ddd" stroke-width="0.6"/><line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#000"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            y + 4.0,
            y + 16.0,
            sig4(*m)
        );
    }
    let _ = writeln!(
        out,
        r#"<text class="axis-label" x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text>"#,
        (PLOT_X0 + PLOT_X1) / 2.0,
        y + 31.0,
        markup(unit)
    );
}

/// One line: (x, y) points in data units.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) points: Vec<(f64, f64)>,
}

/// A span of the x axis to shade and name (the warm-up), or a line to mark (the window's end).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Span {
    pub(crate) from: f64,
    pub(crate) to: f64,
    pub(crate) label: String,
}

/// Dash patterns and shades that keep series apart in black and white.
const STYLES: [(&str, &str); 6] = [
    ("", "#000"),
    ("7 4", "#444"),
    ("2 3", "#000"),
    ("10 3 2 3", "#666"),
    ("4 2", "#222"),
    ("1 2", "#555"),
];

/// Lines over x (seconds), one per series, with shaded spans and a legend.
pub(crate) fn line_chart(
    title: &str,
    subtitle: &str,
    x_unit: &str,
    y_unit: &str,
    series: &[Series],
    spans: &[Span],
) -> String {
    let (x0, x1, top, bottom) = (80.0, WIDTH - 40.0, 70.0, 370.0);
    let all = || series.iter().flat_map(|s| s.points.iter());
    let xmax = all().map(|p| p.0).fold(0.0, f64::max);
    let ymax = all()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (xtop, xmarks) = ticks(xmax, 8);
    let (ytop, ymarks) = ticks(ymax, 5);
    let px = |v: f64| x0 + (v / xtop).clamp(0.0, 1.0) * (x1 - x0);
    let py = |v: f64| bottom - (v / ytop).clamp(0.0, 1.0) * (bottom - top);
    let mut body = String::new();
    // The shaded spans first, then their labels, so that no span hides another's label; one
    // that overlaps earlier ones has its label a line lower.
    for s in spans {
        let (a, b) = (px(s.from), px(s.to));
        let _ = writeln!(
            body,
            r##"<rect class="span" x="{a:.1}" y="{top}" width="{:.1}" height="{:.1}" fill="#eee" stroke="#999" stroke-dasharray="3 3"/>"##,
            (b - a).max(1.0),
            bottom - top,
        );
    }
    for (i, s) in spans.iter().enumerate() {
        let overlapping = spans[..i]
            .iter()
            .filter(|o| o.from < s.to && s.from < o.to)
            .count();
        let _ = writeln!(
            body,
            r##"<text x="{:.1}" y="{:.1}" font-size="11">{}</text>"##,
            px(s.from) + 4.0,
            top + 14.0 * (1 + overlapping) as f64,
            markup(&s.label)
        );
    }
    for m in &ymarks {
        let y = py(*m);
        let _ = writeln!(
            body,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd" stroke-width="0.6"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            x0 - 6.0,
            y + 4.0,
            sig4(*m)
        );
    }
    for m in &xmarks {
        let x = px(*m);
        let _ = writeln!(
            body,
            r##"<line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{:.1}" stroke="#000"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 17.0,
            sig4(*m)
        );
    }
    let _ = writeln!(
        body,
        r##"<path d="M{x0} {top}V{bottom}H{x1}" stroke="#000" fill="none"/><text class="axis-label" x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text><text class="axis-label" transform="translate(22 {:.1}) rotate(-90)" font-size="12" text-anchor="middle">{}</text>"##,
        (x0 + x1) / 2.0,
        bottom + 34.0,
        markup(x_unit),
        (top + bottom) / 2.0,
        markup(y_unit)
    );
    let mut legend_y = bottom + 58.0;
    for (i, s) in series.iter().enumerate() {
        let (dash, shade) = STYLES[i % STYLES.len()];
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let mut d = String::new();
        for (j, (x, y)) in s.points.iter().filter(|p| p.1.is_finite()).enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if j == 0 { "M" } else { "L" },
                px(*x),
                py(*y)
            );
        }
        let _ = writeln!(
            body,
            r#"<path class="series" d="{d}" stroke="{shade}" stroke-width="1.6" fill="none"{dash}><title>{}</title></path>"#,
            markup(&s.name)
        );
        let _ = writeln!(
            body,
            r#"<line x1="{x0}" y1="{legend_y:.1}" x2="{:.1}" y2="{legend_y:.1}" stroke="{shade}" stroke-width="1.6"{dash}/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            x0 + 36.0,
            x0 + 44.0,
            legend_y + 4.0,
            markup(&s.name)
        );
        legend_y += 18.0;
    }
    document(title, subtitle, WIDTH, legend_y + 6.0, &body)
}

fn document(title: &str, subtitle: &str, width: f64, height: f64, body: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" {FONT}>
<title>{t}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="24" font-size="17" font-weight="bold">{t}</text>
<text x="16" y="42" font-size="12" fill="#333">{s}</text>
{body}</svg>
"##,
        t = markup(title),
        s = markup(subtitle)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_tidy_and_cover_the_maximum() {
        assert_eq!(ticks(9.3, 5), (10.0, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]));
        let (top, t) = ticks(0.0042, 5);
        assert!(top >= 0.0042 && t.len() <= 7);
        assert_eq!(ticks(0.0, 5).0, 1.0);
        assert_eq!(ticks(f64::NAN, 5).0, 1.0);
    }

    #[test]
    fn units_follow_the_size_of_the_figures() {
        assert_eq!(scale(Quantity::MassKg, 0.25).1, "g CO2e");
        assert_eq!(scale(Quantity::MassKg, 2e-9).1, "µg CO2e");
        assert_eq!(scale(Quantity::MassKg, 2500.0), (1e-3, "t CO2e"));
        assert_eq!(scale(Quantity::EnergyKwh, 0.5).1, "Wh");
    }

    #[test]
    fn long_labels_and_values_widen_the_drawing_instead_of_leaving_it() {
        let bar = |label: &str, note: &str| Bar {
            label: label.into(),
            low: 1.0,
            central: 2.0,
            high: 3.0,
            note: note.into(),
        };
        let panel = |bars| Panel {
            title: "CO2e".into(),
            quantity: Quantity::MassKg,
            bars,
        };
        let width = |svg: &str| -> f64 {
            let w = svg.split("width=\"").nth(1).unwrap();
            w[..w.find('"').unwrap()].parse().unwrap()
        };
        let short = bar_chart("t", "", &[panel(vec![bar("H100 · FR", "")])]);
        assert_eq!(width(&short), WIDTH);
        let long = bar_chart(
            "t",
            "",
            &[panel(vec![bar(
                &"A100-SXM4-80GB · aws:us-west-2 · 16 · 0.5 · 1.2 · ".repeat(2),
                "cleanest, cheapest, fastest",
            )])],
        );
        assert!(width(&long) > WIDTH + 100.0, "{}", width(&long));
        assert!(long.contains("<g transform=\"translate("));
    }

    #[test]
    fn text_cannot_break_out_of_the_markup() {
        let svg = bar_chart(
            "a <b> & \"c\"",
            "",
            &[Panel {
                title: "CO2e".into(),
                quantity: Quantity::MassKg,
                bars: vec![Bar {
                    label: "</text><script>".into(),
                    low: 1.0,
                    central: 2.0,
                    high: 3.0,
                    note: String::new(),
                }],
            }],
        );
        assert!(!svg.contains("<script>") && svg.contains("&lt;/text&gt;"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 1);
        assert_eq!(svg.matches("class=\"range\"").count(), 1);
    }
}
