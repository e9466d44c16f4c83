//! `measure --prometheus-textfile FILE`: at every sampling interval the tracks' running figures
//! become `LiveReading`s, rendered by the writer `app` hands in (`report::prometheus`, which
//! `measure` may not import) and written whole.

use std::path::PathBuf;

use super::track::Track;
use crate::impact::SiteRates;
use crate::record::LiveReading;
use crate::units::Duration;

/// Where the file goes and what its labels and CO2e factor are.
#[derive(Clone, Debug)]
pub(crate) struct Textfile {
    pub(crate) path: PathBuf,
    pub(crate) job: String,
    pub(crate) node: String,
    /// The run's central site rates, which turn measured energy into CO2e.
    pub(crate) rates: SiteRates,
    /// The text format's writer.
    pub(crate) render: fn(&str, &str, &[LiveReading]) -> String,
}

impl Textfile {
    /// Replaces the file with the tracks as they stand; an error is returned for the report,
    /// not fatal to the measurement.
    pub(crate) fn write(&self, tracks: &[Track]) -> std::io::Result<()> {
        let readings: Vec<LiveReading> = tracks
            .iter()
            .map(|t| LiveReading {
                id: t.info.id.clone(),
                quality: t.info.quality,
                energy: t.energy_so_far(),
                power: t.last_power(),
                co2e: self.rates.apply(t.energy_so_far(), Duration::ZERO).co2e,
            })
            .collect();
        let text = (self.render)(&self.job, &self.node, &readings);
        crate::files::write_output(&self.path, text.as_bytes())
    }
}
