//! `measure --prometheus-textfile FILE`: the running figures in Prometheus's text format, for
//! node_exporter's textfile collector. The sampler replaces the file whole at every interval
//! (`files::write_output`), so the collector never reads half of one.
//!
//! Names and units follow Prometheus conventions: base units (joules, watts, grams), counters
//! end in `_total`. Labels: `job`, `node`, `device` (the sensor id), `source` (measured-counter,
//! measured-power, modelled).

use crate::record::LiveReading;

/// A label value escaped as the text format wants (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family: its help, its type and one sample per reading that has the figure.
fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl Iterator<Item = (String, f64)>,
) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
    for (labels, x) in samples {
        out.push_str(&format!("{name}{{{labels}}} {x}\n"));
    }
}

/// The file's text for the readings as they stand.
pub(crate) fn render(job: &str, node: &str, readings: &[LiveReading]) -> String {
    let labels = |r: &LiveReading| {
        format!(
            "job=\"{}\",node=\"{}\",device=\"{}\",source=\"{}\"",
            label(job),
            label(node),
            label(&r.id),
            r.quality.as_str()
        )
    };
    let mut out = String::new();
    family(
        &mut out,
        "footprint_energy_joules_total",
        "counter",
        "Energy measured by footprint since its measured window began.",
        readings.iter().map(|r| (labels(r), r.energy.joules())),
    );
    family(
        &mut out,
        "footprint_power_watts",
        "gauge",
        "Power at the last reading.",
        readings
            .iter()
            .filter_map(|r| Some((labels(r), r.power?.watts()))),
    );
    family(
        &mut out,
        "footprint_co2e_grams_total",
        "counter",
        "CO2e of that energy at the run's grid intensity and PUE.",
        readings.iter().map(|r| (labels(r), r.co2e.grams())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Quality;
    use crate::units::{Energy, Mass, Power};

    #[test]
    fn families_in_base_units_with_escaped_labels() {
        let r = |id: &str, power| LiveReading {
            id: id.to_string(),
            quality: Quality::MeasuredPower,
            energy: Energy::from_kwh(0.001),
            power,
            co2e: Mass::from_kg(0.0005),
        };
        let text = render(
            "j\"1",
            "n\\2",
            &[r("nvml:0", Some(Power::from_watts(300.0))), r("x\ny", None)],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "# HELP footprint_energy_joules_total Energy measured by footprint since its measured window began."
        );
        assert_eq!(lines[1], "# TYPE footprint_energy_joules_total counter");
        assert_eq!(
            lines[2],
            r#"footprint_energy_joules_total{job="j\"1",node="n\\2",device="nvml:0",source="measured-power"} 3600"#
        );
        assert!(lines[3].contains(r#"device="x\ny""#), "{}", lines[3]);
        // The reading without power has no gauge sample.
        assert_eq!(text.matches("footprint_power_watts{").count(), 1);
        assert!(text.ends_with("source=\"measured-power\"} 0.5\n"), "{text}");
    }
}
