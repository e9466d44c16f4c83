//! RAPL energy counters through Linux powercap (`/sys/class/powercap/intel-rapl:*`).
//!
//! Each top-level zone is a CPU package (`package-0`); its sub-zones include `dram` on many
//! servers. `energy_uj` is a counter in microjoules that wraps at `max_energy_range_uj`. Since
//! Linux 5.10 `energy_uj` is readable by root only (a side channel, CVE-2020-8694); then this
//! source says so in one line and the next one is used. The package counter covers the whole
//! socket, every process on it, which the report states.

use std::path::{Path, PathBuf};

use super::{DeviceKind, Quality, Reading, Sensor, SensorInfo};
use crate::units::Energy;

pub(crate) struct RaplSensor {
    info: SensorInfo,
    energy_file: PathBuf,
}

fn read_trim(p: &Path) -> std::io::Result<String> {
    Ok(
        crate::files::read_small(p, crate::measure::SYSFS_MAX_BYTES)?
            .trim()
            .to_string(),
    )
}

impl RaplSensor {
    /// Every package and dram zone whose counter can be read. `Err` when powercap is absent
    /// or unreadable (with the reason).
    pub(crate) fn discover(root: &Path) -> Result<Vec<RaplSensor>, String> {
        let entries = std::fs::read_dir(root).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("no {} here (not present)", root.display()),
            _ => format!("cannot list {}: {e}", root.display()),
        })?;
        let mut zones: Vec<PathBuf> = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with("intel-rapl:") {
                continue;
            }
            zones.push(e.path());
        }
        zones.sort();
        let mut out = Vec::new();
        let mut denied = None;
        for z in zones {
            let Ok(name) = read_trim(&z.join("name")) else {
                continue;
            };
            let kind = if name.starts_with("package") {
                DeviceKind::Cpu
            } else if name == "dram" {
                DeviceKind::Dram
            } else {
                continue; // core/uncore are inside the package figure
            };
            let energy_file = z.join("energy_uj");
            match read_trim(&energy_file) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    denied = Some(energy_file.display().to_string());
                    continue;
                }
                Err(_) => continue,
            }
            let wrap = read_trim(&z.join("max_energy_range_uj"))
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .map(|uj| Energy::from_joules(uj / 1e6));
            let zone = z
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            out.push(RaplSensor {
                info: SensorInfo {
                    id: crate::record::SensorFamily::rapl_id(&name),
                    name: format!("RAPL {name} ({zone})"),
                    kind,
                    quality: Quality::MeasuredCounter,
                    counter_wrap: wrap,
                    counts_from_zero: false,
                    max_power: None,
                    details: serde_json::json!({
                        "scope": "the whole CPU socket or its DRAM: every process, not only the measured one",
                        "max_energy_range_j": wrap.map(|w| w.joules()),
                    }),
                },
                energy_file,
            });
        }
        if out.is_empty()
            && let Some(f) = denied
        {
            return Err(format!(
                "permission denied reading {f} (root only since Linux 5.10); using the CPU-time model"
            ));
        }
        Ok(out)
    }
}

impl Sensor for RaplSensor {
    fn info(&self) -> &SensorInfo {
        &self.info
    }

    fn read(&mut self) -> Result<Reading, String> {
        let s = read_trim(&self.energy_file)
            .map_err(|e| format!("{}: {e}", self.energy_file.display()))?;
        let uj: f64 = s
            .parse()
            .map_err(|_| format!("{}: not a number: {s}", self.energy_file.display()))?;
        Ok(Reading {
            counter: Some(Energy::from_joules(uj / 1e6)),
            ..Reading::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(root: &Path, dir: &str, name: &str, uj: &str, max: &str) {
        let z = root.join(dir);
        std::fs::create_dir_all(&z).unwrap();
        std::fs::write(z.join("name"), name).unwrap();
        std::fs::write(z.join("energy_uj"), uj).unwrap();
        std::fs::write(z.join("max_energy_range_uj"), max).unwrap();
    }

    #[test]
    fn finds_package_and_dram_and_reads_counters() {
        let root = std::env::temp_dir().join(format!("fp-rapl-{}", std::process::id()));
        zone(
            &root,
            "intel-rapl:0",
            "package-0",
            "1000000",
            "262143328850",
        );
        zone(&root, "intel-rapl:0:0", "core", "5", "10");
        zone(&root, "intel-rapl:0:1", "dram", "2500000", "65712999613");
        let mut found = RaplSensor::discover(&root).unwrap();
        let ids: Vec<_> = found.iter().map(|s| s.info().id.clone()).collect();
        assert_eq!(ids, ["rapl:package-0", "rapl:dram"]);
        assert_eq!(
            found[0].read().unwrap().counter,
            Some(Energy::from_joules(1.0))
        );
        assert_eq!(
            found[0].info().counter_wrap,
            Some(Energy::from_joules(262143.32885))
        );
        std::fs::write(root.join("intel-rapl:0/energy_uj"), "garbage").unwrap();
        assert!(found[0].read().is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn absent_powercap_is_a_reason_not_a_crash() {
        let e = RaplSensor::discover(Path::new("/nonexistent/powercap"))
            .err()
            .unwrap();
        assert!(e.contains("not present"), "{e}");
    }
}
