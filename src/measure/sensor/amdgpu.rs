//! AMD GPUs (Instinct and Radeon) through the amdgpu kernel driver's hwmon files, on Linux.
//! Nothing is needed at build or run time beyond the driver: no ROCm.
//!
//! Per card (`/sys/class/drm/cardN` whose PCI vendor is 0x1002), in `device/hwmon/hwmonM/`:
//! - `energy1_input` (µJ, a counter) where the kernel exposes it: preferred, as NVML's counter
//!   is;
//! - `power1_average` (µW): the power management firmware's average over its own window
//!   (about one second on most parts), so short spikes are smoothed and a run much shorter
//!   than a second is measured coarsely;
//! - `power1_input` (µW): the current power, which newer kernels expose instead on RDNA3 and
//!   MI300 parts.
//!
//! The board's name comes from `device/product_name` when its FRU carries one, else the PCI
//! ids. Which cards a job sees follows ROCm: `ROCR_VISIBLE_DEVICES` (indices or `GPU-` UUIDs),
//! then `HIP_VISIBLE_DEVICES` (indices within that). Indices count cards in PCI bus order,
//! which is the order ROCm enumerates them on the nodes we know of; UUIDs avoid the question.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::amdsmi::{AmdSmi, Gpu};

use super::{DeviceKind, GpuSelection, Quality, Reading, Sensor, SensorInfo};
use crate::units::{Energy, Power};

const AMD_VENDOR: &str = "0x1002";

/// One amdgpu card as sysfs shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AmdCard {
    /// `card0`.
    pub(crate) card: String,
    /// PCI address (`0000:c1:00.0`), the order cards are numbered in.
    pub(crate) pci: String,
    pub(crate) name: String,
    /// ROCm's UUID (`GPU-` and the card's `unique_id`), when the driver exposes one.
    pub(crate) uuid: Option<String>,
    hwmon: PathBuf,
    busy: PathBuf,
}

fn read_trim(p: &Path) -> Option<String> {
    crate::files::read_small(p, crate::measure::SYSFS_MAX_BYTES)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Every amdgpu card under `drm` (`/sys/class/drm`) with a hwmon directory, in PCI order.
pub(crate) fn cards(drm: &Path) -> Vec<AmdCard> {
    let Ok(entries) = std::fs::read_dir(drm) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let card = e.file_name().to_string_lossy().into_owned();
        // cardN only: cardN-DP-1 and the like are connectors, renderD* are render nodes
        let Some(n) = card.strip_prefix("card") else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let dev = e.path().join("device");
        if read_trim(&dev.join("vendor")).as_deref() != Some(AMD_VENDOR) {
            continue;
        }
        let Some(hwmon) = std::fs::read_dir(dev.join("hwmon")).ok().and_then(|h| {
            let mut dirs: Vec<PathBuf> = h.flatten().map(|d| d.path()).collect();
            dirs.sort();
            dirs.into_iter().next()
        }) else {
            continue;
        };
        let pci = std::fs::read_link(&dev)
            .ok()
            .and_then(|l| l.file_name().map(|f| f.to_string_lossy().into_owned()))
            .or_else(|| {
                read_trim(&dev.join("uevent"))?
                    .lines()
                    .find_map(|l| l.strip_prefix("PCI_SLOT_NAME=").map(str::to_string))
            })
            .unwrap_or_else(|| card.clone());
        let ids = read_trim(&dev.join("device")).unwrap_or_default();
        let name = read_trim(&dev.join("product_name"))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("AMD GPU [1002:{}]", ids.trim_start_matches("0x")));
        let uuid = read_trim(&dev.join("unique_id"))
            .filter(|s| !s.is_empty())
            .map(|u| format!("GPU-{u}"));
        out.push(AmdCard {
            card,
            pci,
            name,
            uuid,
            hwmon,
            busy: dev.join("gpu_busy_percent"),
        });
    }
    out.sort_by(|a, b| a.pci.cmp(&b.pci));
    out
}

/// The cards a job sees: `ROCR_VISIBLE_DEVICES` (indices or UUIDs) and then
/// `HIP_VISIBLE_DEVICES` (indices within what ROCR left). An entry that names no card ends
/// the list there, and a notice says so.
pub(crate) fn visible(
    all: Vec<AmdCard>,
    rocr: Option<&str>,
    hip: Option<&str>,
    notices: &mut Vec<String>,
) -> Vec<AmdCard> {
    let mut cards = all;
    for (var, value, uuids) in [
        ("ROCR_VISIBLE_DEVICES", rocr, true),
        ("HIP_VISIBLE_DEVICES", hip, false),
    ] {
        let Some(value) = value else { continue };
        let mut kept: Vec<AmdCard> = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let found = match entry.parse::<usize>() {
                Ok(i) => cards.get(i).cloned(),
                Err(_) if uuids => cards
                    .iter()
                    .find(|c| {
                        c.uuid
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(entry))
                    })
                    .cloned(),
                Err(_) => None,
            };
            match found {
                Some(c) if !kept.iter().any(|k| k.card == c.card) => kept.push(c),
                Some(_) => {}
                None => {
                    notices.push(format!(
                        "{var}={value:?}: entry {entry:?} names no AMD GPU here; it and the \
                         entries after it are ignored"
                    ));
                    break;
                }
            }
        }
        cards = kept;
    }
    cards
}

pub(crate) struct AmdGpuSensor {
    info: SensorInfo,
    /// AMD SMI's energy accumulator for this card, preferred when the library is installed.
    smi: Option<(Arc<AmdSmi>, Gpu)>,
    energy: Option<PathBuf>,
    power: Option<PathBuf>,
    busy: PathBuf,
}

fn micro(p: &Path) -> Option<f64> {
    read_trim(p)?.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl AmdGpuSensor {
    /// One sensor per selected card that reports power or energy. `Err` when there is no
    /// amdgpu card at all (the usual case on other machines: callers say nothing then).
    pub(crate) fn discover(
        drm: &Path,
        sel: &GpuSelection,
        rocr: Option<&str>,
        hip: Option<&str>,
    ) -> Result<(Vec<AmdGpuSensor>, Vec<String>), String> {
        let all = cards(drm);
        if all.is_empty() {
            return Err("no amdgpu card".to_string());
        }
        let mut notices = Vec::new();
        let smi = match AmdSmi::open() {
            Ok(s) => Some(s),
            Err(e) if e.contains("not found") => None,
            Err(e) => {
                notices.push(format!(
                    "AMD SMI: {e}; the driver's hwmon files are read instead"
                ));
                None
            }
        };
        let chosen: Vec<AmdCard> = match sel {
            GpuSelection::None => Vec::new(),
            GpuSelection::Indices(v) => {
                let mut out = Vec::new();
                for &i in v {
                    match all.get(i as usize) {
                        Some(c) => out.push(c.clone()),
                        None => {
                            return Err(format!(
                                "GPU {i} requested but only {} AMD GPUs visible",
                                all.len()
                            ));
                        }
                    }
                }
                out
            }
            GpuSelection::All | GpuSelection::CudaOrdinals(_) => {
                visible(all, rocr, hip, &mut notices)
            }
        };
        let mut out = Vec::new();
        for c in chosen {
            let file = |n: &str| Some(c.hwmon.join(n)).filter(|p| micro(p).is_some());
            let energy = file("energy1_input");
            let smi_gpu = smi.as_ref().and_then(|(lib, gpus)| {
                let g = *gpus.get(&c.pci)?;
                lib.energy_j(g).ok().map(|_| (lib.clone(), g))
            });
            let (power, power_file) = match (file("power1_input"), file("power1_average")) {
                (Some(p), _) => (Some(p), "power1_input (current power)"),
                (None, Some(p)) => (
                    Some(p),
                    "power1_average (the firmware's running average, about 1 s)",
                ),
                (None, None) => (None, ""),
            };
            if smi_gpu.is_none() && energy.is_none() && power.is_none() {
                notices.push(format!(
                    "AMD GPU {} ({}, {}): the driver reports neither energy nor power in {}; not measured",
                    c.card,
                    c.name,
                    c.pci,
                    c.hwmon.display()
                ));
                continue;
            }
            let counter_source = if smi_gpu.is_some() {
                Some("amdsmi_get_energy_count")
            } else if energy.is_some() {
                Some("energy1_input")
            } else {
                None
            };
            let quality = if counter_source.is_some() {
                Quality::MeasuredCounter
            } else {
                Quality::MeasuredPower
            };
            out.push(AmdGpuSensor {
                info: SensorInfo {
                    id: format!("amdgpu:{}", c.card.trim_start_matches("card")),
                    name: c.name.clone(),
                    kind: DeviceKind::Gpu,
                    quality,
                    counter_wrap: None,
                    counts_from_zero: false,
                    max_power: None,
                    details: serde_json::json!({
                        "card": c.card,
                        "pci": c.pci,
                        "uuid": c.uuid,
                        "energy_counter": counter_source,
                        "power_file": power_file,
                        "hwmon": c.hwmon.display().to_string(),
                    }),
                },
                smi: smi_gpu,
                energy,
                power,
                busy: c.busy.clone(),
            });
        }
        Ok((out, notices))
    }
}

impl Sensor for AmdGpuSensor {
    fn info(&self) -> &SensorInfo {
        &self.info
    }

    fn read(&mut self) -> Result<Reading, String> {
        let counter = match &self.smi {
            Some((lib, g)) => lib.energy_j(*g).ok().map(Energy::from_joules),
            None => self
                .energy
                .as_deref()
                .and_then(micro)
                .map(|uj| Energy::from_joules(uj / 1e6)),
        };
        let power = self
            .power
            .as_deref()
            .and_then(micro)
            .map(|uw| Power::from_watts(uw / 1e6));
        if counter.is_none() && power.is_none() {
            return Err(format!(
                "{}: neither energy nor power could be read (card gone?)",
                self.info.id
            ));
        }
        Ok(Reading {
            counter,
            power,
            power_quality: power.map(|_| Quality::MeasuredPower),
            utilization_pct: micro(&self.busy),
        })
    }
}
