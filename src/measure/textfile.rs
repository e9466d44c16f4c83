//! `measure --prometheus-textfile FILE`: the running figures as a Prometheus text file for
//! node_exporter's textfile collector, replaced whole (write to a temporary file, rename) at
//! every sampling interval so the collector never reads half of one.
//!
//! Names and units follow Prometheus conventions: base units (joules, watts, grams), counters
//! end in `_total`. Labels: `job`, `node`, `device` (the sensor id), `source` (measured-counter,
//! measured-power, modelled).

use std::path::PathBuf;

use super::track::Track;
use crate::impact::SiteRates;
use crate::units::Duration;

/// Where the file goes and what its labels and CO2e factor are.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Textfile {
    pub(crate) path: PathBuf,
    pub(crate) job: String,
    pub(crate) node: String,
    /// The run's central site rates, which turn measured energy into CO2e.
    pub(crate) rates: SiteRates,
}

/// A label value escaped as the text format wants (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Textfile {
    /// The file's text for the tracks as they stand.
    pub(crate) fn render(&self, tracks: &[Track]) -> String {
        let labels = |t: &Track| {
            format!(
                "job=\"{}\",node=\"{}\",device=\"{}\",source=\"{}\"",
                label(&self.job),
                label(&self.node),
                label(&t.info.id),
                t.info.quality.as_str()
            )
        };
        let mut out = String::new();
        out.push_str("# HELP footprint_energy_joules_total Energy measured by footprint since its measured window began.\n");
        out.push_str("# TYPE footprint_energy_joules_total counter\n");
        for t in tracks {
            out.push_str(&format!(
                "footprint_energy_joules_total{{{}}} {}\n",
                labels(t),
                t.energy_so_far().joules()
            ));
        }
        out.push_str("# HELP footprint_power_watts Power at the last reading.\n");
        out.push_str("# TYPE footprint_power_watts gauge\n");
        for t in tracks {
            if let Some(p) = t.last_power() {
                out.push_str(&format!(
                    "footprint_power_watts{{{}}} {}\n",
                    labels(t),
                    p.watts()
                ));
            }
        }
        out.push_str("# HELP footprint_co2e_grams_total CO2e of that energy at the run's grid intensity and PUE.\n");
        out.push_str("# TYPE footprint_co2e_grams_total counter\n");
        for t in tracks {
            out.push_str(&format!(
                "footprint_co2e_grams_total{{{}}} {}\n",
                labels(t),
                self.rates
                    .apply(t.energy_so_far(), Duration::ZERO)
                    .co2e
                    .grams()
            ));
        }
        out
    }

    /// Replaces the file; an error is returned for the report, not fatal to the measurement.
    pub(crate) fn write(&self, tracks: &[Track]) -> std::io::Result<()> {
        crate::files::write_output(&self.path, self.render(tracks).as_bytes())
    }
}
