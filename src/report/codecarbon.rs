//! `measure --csv-append FILE`: one row per measurement with the columns of CodeCarbon's
//! `emissions.csv`, so notebooks that load those files keep working after a switch.
//!
//! Units as CodeCarbon writes them: seconds, kg CO2e, kWh, W, GB. footprint fills what it
//! measured or knows and leaves the rest empty (`python_version`, `codecarbon_version`,
//! `longitude`, `latitude`); two columns of its own follow CodeCarbon's: `tool` and
//! `energy_source` (which sensors, and whether measured or modelled).

use crate::impact::SiteRates;
use crate::profiles::RegionName;
use crate::record::{DeviceKind, Measurement, SensorFamily};
use crate::text::csv_field;
use crate::units::{Duration, Energy};

/// CodeCarbon's columns, in its order, then footprint's own.
pub(crate) const COLUMNS: [&str; 34] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "on_cloud",
    "pue",
    "tool",
    "energy_source",
];

/// Where and how a measurement's CO2e was reckoned, for the row.
pub(crate) struct Site<'a> {
    /// As the user named it: "FR", "US-CA", "aws:us-east-1", or none (world average).
    pub(crate) region: Option<&'a RegionName>,
    /// The place's name, when known ("France").
    pub(crate) country_name: Option<&'a str>,
    /// The central rates of the measurement's site: its CO2e and facility energy.
    pub(crate) rates: SiteRates,
    pub(crate) ram_total_gb: Option<f64>,
}

/// The header line.
pub(crate) fn header() -> String {
    COLUMNS.join(",") + "\n"
}

fn num(x: f64) -> String {
    // An empty sum is -0.0 in Rust; a reader wants 0.
    if x == 0.0 {
        return "0".to_string();
    }
    format!("{}", crate::record::tidy(x))
}

/// ISO 8601 UTC of a Unix time, as CodeCarbon writes `timestamp`.
pub(crate) fn iso8601(unix_s: f64) -> String {
    let secs = unix_s.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One row for a measurement named `project`.
pub(crate) fn row(m: &Measurement, project: &str, site: &Site<'_>) -> String {
    let kwh = |j: f64| j / 3.6e6;
    let counted = |d: &&crate::record::DeviceEnergy| m.counted.contains(&d.id);
    let sum = |kind: DeviceKind, what: fn(&crate::record::DeviceEnergy) -> f64| -> f64 {
        m.sensors
            .iter()
            .filter(counted)
            .filter(|d| d.kind == kind)
            .map(what)
            .sum()
    };
    let mean_w = |d: &crate::record::DeviceEnergy| d.power_w.map_or(0.0, |p| p.mean);
    let at_site = site
        .rates
        .apply(Energy::from_joules(m.energy_j), Duration::ZERO);
    let energy_kwh = at_site.energy.kwh();
    let emissions = at_site.co2e.kg();
    let gpus: Vec<&str> = m
        .sensors
        .iter()
        .filter(|d| d.kind == DeviceKind::Gpu)
        .map(|d| d.name.as_str())
        .collect();
    let cpu = m
        .sensors
        .iter()
        .find(|d| SensorFamily::of(&d.id) == SensorFamily::CpuModel);
    let detail = |k: &str| cpu.and_then(|c| c.details.get(k)).cloned();
    let (cloud_provider, cloud_region) = match site.region {
        Some(RegionName::Cloud { provider, region }) => (provider.clone(), region.clone()),
        _ => (String::new(), String::new()),
    };
    let grid = match site.region {
        Some(RegionName::Grid(g)) => Some(g.as_str()),
        _ => None,
    };
    let iso = grid.map_or(String::new(), |r| {
        r.split('-').next().unwrap_or(r).to_string()
    });
    let run_id = format!(
        "{:x}-{:x}",
        (m.started_at_unix_s * 1e3) as u64,
        std::process::id()
    );
    let cells: Vec<String> = vec![
        iso8601(m.started_at_unix_s),
        csv_field(project),
        run_id,
        String::new(),
        num(m.duration_s),
        num(emissions),
        num(if m.duration_s > 0.0 {
            emissions / m.duration_s
        } else {
            0.0
        }),
        num(sum(DeviceKind::Cpu, mean_w)),
        num(sum(DeviceKind::Gpu, mean_w)),
        num(sum(DeviceKind::Dram, mean_w)),
        num(kwh(sum(DeviceKind::Cpu, |d| d.energy_j))),
        num(kwh(sum(DeviceKind::Gpu, |d| d.energy_j))),
        num(kwh(sum(DeviceKind::Dram, |d| d.energy_j))),
        num(energy_kwh),
        csv_field(site.country_name.unwrap_or("")),
        iso,
        csv_field(grid.unwrap_or("")),
        cloud_provider,
        cloud_region,
        std::env::consts::OS.to_string(),
        String::new(),
        String::new(),
        detail("threads_visible").map_or(String::new(), |v| v.to_string()),
        csv_field(
            detail("cpu")
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
                .as_str(),
        ),
        gpus.len().to_string(),
        csv_field(&gpus.join(", ")),
        String::new(),
        String::new(),
        site.ram_total_gb.map_or(String::new(), num),
        if m.command.is_some() {
            "process"
        } else {
            "machine"
        }
        .to_string(),
        if site.region.is_some_and(RegionName::is_cloud) {
            "Y"
        } else {
            "N"
        }
        .to_string(),
        num(site.rates.pue),
        format!("footprint {}", env!("CARGO_PKG_VERSION")),
        csv_field(&m.energy_source),
    ];
    cells.join(",") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso8601_utc() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00");
        assert_eq!(iso8601(951_782_400.0), "2000-02-29T00:00:00");
        assert_eq!(iso8601(1_795_996_800.0 + 3_661.0), "2026-11-30T01:01:01");
    }

    #[test]
    fn the_header_is_codecarbons_then_ours() {
        let h = header();
        assert!(h.starts_with("timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue"));
        assert!(h.trim_end().ends_with("tool,energy_source"));
    }
}
