//! The charts of footprint's reports, built from the same figures as the tables: an estimate's
//! models side by side, a measurement's sensors, and a trace's power over time. The drawing
//! itself is in [`crate::plot`].

use super::Report;
use crate::impact::Estimate;
use crate::plot::{Bar, Panel, Quantity, Series, Span, bar_chart, line_chart};
use crate::record::trace::TraceData;
use crate::record::{Field, Measurement};

/// A model's name as people read it, with what sets it apart.
fn model_label(e: &Estimate) -> String {
    let name = e.kind.as_str().replace('_', "-");
    if e.advisory {
        format!("{name} (for comparison)")
    } else {
        name
    }
}

/// One bar per estimate for a figure, or `None` when no estimate has it (or, for a figure
/// that is zero unless asked for, such as embodied CO2e, when every estimate has it at 0).
fn panel(r: &Report, field: Field, title: &str, q: Quantity) -> Option<Panel> {
    let primary = r.primary();
    let bars: Vec<Bar> = r
        .estimates
        .iter()
        .filter_map(|e| {
            let b = field.band(e)?;
            Some(Bar {
                label: model_label(e),
                low: b.low,
                central: b.central,
                high: b.high,
                note: if Some(e.kind) == primary && r.estimates.len() > 1 {
                    "primary".to_string()
                } else {
                    String::new()
                },
            })
        })
        .collect();
    let all_zero = bars.iter().all(|b| b.high == 0.0 && b.central == 0.0);
    let nothing = bars.is_empty() || (all_zero && field == Field::Embodied);
    (!nothing).then(|| Panel {
        title: title.to_string(),
        quantity: q,
        bars,
    })
}

/// Low, central and high per model: energy, CO2e and cost, each named as the table names it.
/// CO2e is the total, or its operational and embodied parts when embodied is counted.
pub(crate) fn estimate_svg(r: &Report) -> Option<String> {
    let embodied_counted = r.estimates.iter().any(|e| e.high.embodied.raw() > 0.0);
    let co2e: &[Field] = if embodied_counted {
        &[Field::Operational, Field::Embodied]
    } else {
        &[Field::Co2e]
    };
    let quantity = |f: Field| match f {
        Field::Energy => Quantity::EnergyKwh,
        Field::Cost => Quantity::MoneyUsd,
        _ => Quantity::MassKg,
    };
    let panels: Vec<Panel> = std::iter::once(Field::Energy)
        .chain(co2e.iter().copied())
        .chain(std::iter::once(Field::Cost))
        .filter_map(|f| panel(r, f, f.label(), quantity(f)))
        .collect();
    if panels.is_empty() {
        return None;
    }
    Some(bar_chart(
        &format!("footprint {}: {}", r.kind.as_str(), r.name),
        "Bars: central figure. Whiskers: low to high, where the inputs have a range.",
        &panels,
    ))
}

/// Energy per sensor of a measurement (counted or not, and how each was obtained).
pub(crate) fn sensors_svg(m: &Measurement, name: &str) -> Option<String> {
    if m.sensors.is_empty() {
        return None;
    }
    let bars = m
        .sensors
        .iter()
        .map(|d| Bar {
            label: format!("{} {}", d.id, d.name),
            low: d.energy_j / 3.6e6,
            central: d.energy_j / 3.6e6,
            high: d.energy_j / 3.6e6,
            note: format!(
                "{}{}",
                d.source.as_str(),
                if m.counted.contains(&d.id) {
                    ""
                } else {
                    ", not counted"
                }
            ),
        })
        .collect();
    Some(bar_chart(
        &format!("footprint measure: {name}"),
        &format!(
            "Energy per sensor over the measured window ({:.4} s)",
            m.duration_s
        ),
        &[Panel {
            title: "Energy".to_string(),
            quantity: Quantity::EnergyKwh,
            bars,
        }],
    ))
}

/// Points per line past which a chart averages neighbours: more than a chart is wide shows
/// nothing more and makes the file slow to open.
const MAX_POINTS: usize = 2000;

/// At most about `max` points: the mean time and mean power of consecutive runs of points
/// (readings are evenly spaced, so a run's mean power is its energy over its time).
pub(crate) fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points.to_vec();
    }
    let per = points.len().div_ceil(max);
    points
        .chunks(per)
        .map(|c| {
            let n = c.len() as f64;
            (
                c.iter().map(|p| p.0).sum::<f64>() / n,
                c.iter().map(|p| p.1).sum::<f64>() / n,
            )
        })
        .collect()
}

/// Power over time per sensor, the warm-up shaded.
pub(crate) fn trace_svg(t: &TraceData, name: &str) -> String {
    let series: Vec<Series> = t
        .series
        .iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| Series {
            name: format!(
                "{} {}{}{}",
                s.id,
                s.name,
                if s.quality.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", s.quality)
                },
                if s.errors > 0 {
                    format!(" ({} failed readings)", s.errors)
                } else {
                    String::new()
                }
            ),
            points: thin(&s.points, MAX_POINTS),
        })
        .collect();
    let mut spans = Vec::new();
    if let Some(m) = t.mark.filter(|m| *m > 0.0) {
        spans.push(Span {
            from: 0.0,
            to: m,
            label: "warm-up (not in the figures)".to_string(),
        });
    }
    let window = match (t.mark, t.stop) {
        (Some(a), Some(b)) => format!("measured window {:.4} s – {:.4} s", a, b),
        (None, Some(b)) => format!("measured window 0 – {b:.4} s"),
        _ => "the run did not finish writing its trace".to_string(),
    };
    line_chart(
        &format!("Power over time: {name}"),
        &format!("{window}; power from energy-counter differences where a sensor has one"),
        "time since start (s)",
        "power (W)",
        &series,
        &spans,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_traces_are_thinned_to_means() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, (i % 2) as f64 * 100.0))
            .collect();
        let t = super::thin(&pts, 2500);
        assert!(t.len() <= 2500);
        assert!(t.iter().all(|p| (p.1 - 50.0).abs() < 1e-9));
    }
}
