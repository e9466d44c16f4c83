//! NVIDIA GPUs through NVML (nvml-wrapper).
//!
//! NVML is loaded when it is first used (`libnvidia-ml.so.1`), so every build can read GPUs,
//! with or without the `cuda` feature. Per GPU we read:
//! - the energy counter `nvmlDeviceGetTotalEnergyConsumption` (mJ since the driver loaded;
//!   Volta and newer): the preferred source. It updates every 10–100 ms, so very short windows
//!   can see no change: the sampler then falls back to power for them and says so;
//! - power: the instantaneous field `NVML_FI_DEV_POWER_INSTANT` (driver r535+) when the driver
//!   has it, else `nvmlDeviceGetPowerUsage`, which on Hopper and Ampere after GA100 is a 1 s
//!   moving average. Used where the counter is missing, and for min/mean/max.

use std::sync::Arc;

use nvml_wrapper::Nvml;
use nvml_wrapper::enums::device::SampleValue;
use nvml_wrapper::struct_wrappers::device::FieldValueSample;
use nvml_wrapper::structs::device::FieldId;

use super::{DeviceKind, GpuSelection, Quality, Reading, Sensor, SensorInfo};
use crate::units::{Energy, Power};

/// `NVML_FI_DEV_POWER_INSTANT` in nvml.h (r535 and newer).
const FI_DEV_POWER_INSTANT: u32 = 186;

pub(crate) struct NvmlSensor {
    nvml: Arc<Nvml>,
    index: u32,
    info: SensorInfo,
    /// Whether the energy counter answered at discovery.
    has_counter: bool,
    /// Whether the instantaneous power field answered at discovery.
    has_instant: bool,
}

fn instant_power(nvml: &Nvml, index: u32) -> Option<Power> {
    let dev = nvml.device_by_index(index).ok()?;
    let vals = dev
        .field_values_for(&[FieldId(FI_DEV_POWER_INSTANT)])
        .ok()?;
    let v: &FieldValueSample = vals.first()?.as_ref().ok()?;
    let mw = match v.value.as_ref().ok()? {
        SampleValue::U32(x) => *x as f64,
        SampleValue::U64(x) => *x as f64,
        SampleValue::I64(x) => *x as f64,
        SampleValue::F64(x) => *x,
    };
    (mw > 0.0).then(|| Power::from_watts(mw / 1e3))
}

/// One entry of `CUDA_VISIBLE_DEVICES`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum VisibleEntry {
    /// An index, in the order NVML and nvidia-smi number GPUs (PCI bus order).
    Index(u32),
    /// A GPU's UUID (`GPU-…`), or a unique prefix of one, as CUDA accepts.
    Uuid(String),
    /// A MIG instance's UUID (`MIG-…`).
    Mig(String),
}

/// Reads `CUDA_VISIBLE_DEVICES` as CUDA does: entries separated by commas, taken up to the
/// first one that is not valid (CUDA ignores it and everything after it, which is why `-1`
/// hides every GPU). Returns the entries and the entry that stopped the list, if any.
pub(crate) fn parse_cuda_visible(value: &str) -> (Vec<VisibleEntry>, Option<String>) {
    let mut out = Vec::new();
    if value.trim().is_empty() {
        return (out, None);
    }
    for raw in value.split(',') {
        let e = raw.trim();
        let entry = if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) {
            e.parse().ok().map(VisibleEntry::Index)
        } else if e.starts_with("GPU-") && e.len() > 4 {
            Some(VisibleEntry::Uuid(e.to_string()))
        } else if e.starts_with("MIG-") && e.len() > 4 {
            Some(VisibleEntry::Mig(e.to_string()))
        } else {
            None
        };
        match entry {
            Some(x) => out.push(x),
            None => return (out, Some(e.to_string())),
        }
    }
    (out, None)
}

/// The physical GPUs to read, by NVML index, each with the MIG instances that led to it.
type Chosen = Vec<(u32, Vec<String>)>;

fn choose(chosen: &mut Chosen, index: u32, mig: Option<String>) {
    match chosen.iter_mut().find(|(i, _)| *i == index) {
        Some((_, migs)) => migs.extend(mig),
        None => chosen.push((index, mig.into_iter().collect())),
    }
}

/// Resolves `CUDA_VISIBLE_DEVICES` to NVML indices, following CUDA: the list ends at the first
/// entry that names no GPU here. MIG instances resolve to their GPU (NVML has no per-instance
/// energy).
fn resolve_visible(nvml: &Nvml, count: u32, value: &str, notices: &mut Vec<String>) -> Chosen {
    let (entries, stop) = parse_cuda_visible(value);
    let mut chosen = Chosen::new();
    let mut stopped_at = stop;
    for entry in entries {
        let found = match &entry {
            VisibleEntry::Index(i) => (*i < count).then_some((*i, None)),
            VisibleEntry::Uuid(u) => uuid_index(nvml, count, u).map(|i| (i, None)),
            VisibleEntry::Mig(u) => nvml
                .device_by_uuid(u.as_str())
                .and_then(|d| d.mig_parent_device())
                .and_then(|p| p.index())
                .ok()
                .map(|i| (i, Some(u.clone()))),
        };
        match found {
            Some((i, mig)) => choose(&mut chosen, i, mig),
            None => {
                stopped_at = Some(match entry {
                    VisibleEntry::Index(i) => i.to_string(),
                    VisibleEntry::Uuid(u) | VisibleEntry::Mig(u) => u,
                });
                break;
            }
        }
    }
    if let Some(bad) = stopped_at {
        notices.push(format!(
            "CUDA_VISIBLE_DEVICES={value:?}: entry {bad:?} names no GPU here, so (as in CUDA) \
             it and every entry after it are ignored"
        ));
    }
    chosen
}

/// The index of the GPU whose UUID is `u`, or starts with `u` (CUDA accepts a unique prefix).
fn uuid_index(nvml: &Nvml, count: u32, u: &str) -> Option<u32> {
    if let Ok(i) = nvml.device_by_uuid(u).and_then(|d| d.index()) {
        return Some(i);
    }
    let matches: Vec<u32> = (0..count)
        .filter(|&i| {
            nvml.device_by_index(i)
                .and_then(|d| d.uuid())
                .is_ok_and(|id| id.starts_with(u))
        })
        .collect();
    (matches.len() == 1).then(|| matches[0])
}

impl NvmlSensor {
    /// One sensor per selected GPU, and what the report should say about the choice. `Err`
    /// when NVML cannot be loaded or no GPU is left to read.
    ///
    /// `cuda_visible` is `CUDA_VISIBLE_DEVICES`: with [`GpuSelection::All`] it limits the GPUs
    /// to those the job can see; [`GpuSelection::CudaOrdinals`] (a `--cuda N` device) is
    /// numbered within it. `--gpus` ([`GpuSelection::Indices`]) takes NVML's numbering as is.
    pub(crate) fn discover(
        sel: &GpuSelection,
        cuda_visible: Option<&str>,
    ) -> Result<(Vec<NvmlSensor>, Vec<String>), String> {
        let nvml =
            Nvml::init().map_err(|e| format!("not available ({e}); no NVIDIA GPU is read"))?;
        let nvml = Arc::new(nvml);
        let count = nvml
            .device_count()
            .map_err(|e| format!("cannot count GPUs: {e}"))?;
        let mut notices = Vec::new();
        let visible = cuda_visible.map(|v| (v, resolve_visible(&nvml, count, v, &mut notices)));
        let chosen: Chosen = match (sel, &visible) {
            (GpuSelection::None, _) => Vec::new(),
            (GpuSelection::All, None) => (0..count).map(|i| (i, Vec::new())).collect(),
            (GpuSelection::All, Some((_, v))) => v.clone(),
            (GpuSelection::Indices(v), vis) => {
                if let Some(&i) = v.iter().find(|&&i| i >= count) {
                    return Err(format!("GPU {i} requested but only {count} visible"));
                }
                if let Some((value, _)) = vis {
                    notices.push(format!(
                        "--gpus takes GPU numbers as nvidia-smi shows them; \
                         CUDA_VISIBLE_DEVICES={value:?} does not renumber them"
                    ));
                }
                v.iter().map(|&i| (i, Vec::new())).collect()
            }
            (GpuSelection::CudaOrdinals(v), vis) => {
                let all: Chosen = match vis {
                    Some((_, list)) => list.clone(),
                    None => (0..count).map(|i| (i, Vec::new())).collect(),
                };
                let mut out = Chosen::new();
                for &o in v {
                    let Some((i, migs)) = all.get(o as usize) else {
                        return Err(format!(
                            "CUDA device {o} requested but only {} visible",
                            all.len()
                        ));
                    };
                    migs.iter()
                        .for_each(|m| choose(&mut out, *i, Some(m.clone())));
                    choose(&mut out, *i, None);
                }
                out
            }
        };
        if chosen.is_empty() {
            return Err(match visible {
                Some((v, _)) => format!("CUDA_VISIBLE_DEVICES={v:?} leaves no GPU visible"),
                None => "no GPU visible".to_string(),
            });
        }
        order_notice(
            &nvml,
            &chosen,
            visible.as_ref().map(|(v, _)| *v),
            &mut notices,
        );
        // One GPU that cannot be opened does not drop the others: each is measured or named.
        let mut out = Vec::new();
        let mut failed = Vec::new();
        for (i, migs) in chosen {
            match Self::open(&nvml, i, &migs, &mut notices) {
                Ok(s) => out.push(s),
                Err(e) => failed.push(e),
            }
        }
        if out.is_empty() && !failed.is_empty() {
            return Err(format!("no GPU could be opened: {}", failed.join("; ")));
        }
        for e in failed {
            notices.push(format!(
                "{e}: this GPU is not measured, and the energy figure leaves it out"
            ));
        }
        Ok((out, notices))
    }

    /// The sensor for GPU `i`: what it can report, found by asking once.
    fn open(
        nvml: &Arc<Nvml>,
        i: u32,
        migs: &[String],
        notices: &mut Vec<String>,
    ) -> Result<NvmlSensor, String> {
        let dev = nvml
            .device_by_index(i)
            .map_err(|e| format!("GPU {i}: {e}"))?;
        let name = dev.name().unwrap_or_else(|_| format!("GPU {i}"));
        let has_counter = dev.total_energy_consumption().is_ok();
        let limit_w = dev.enforced_power_limit().ok().map(|mw| mw as f64 / 1e3);
        let has_instant = instant_power(nvml, i).is_some();
        let mig = dev.mig_mode().is_ok_and(|m| m.current == 1);
        if mig {
            let which = if migs.is_empty() {
                String::new()
            } else {
                format!(" (visible instances: {})", migs.join(", "))
            };
            notices.push(format!(
                "GPU {i} ({name}) is in MIG mode{which}: NVML gives power and energy for the \
                 whole GPU only, so its figures include every instance's work, not this job's \
                 share"
            ));
        }
        let quality = if has_counter {
            Quality::MeasuredCounter
        } else {
            Quality::MeasuredPower
        };
        Ok(NvmlSensor {
            nvml: nvml.clone(),
            index: i,
            has_counter,
            has_instant,
            info: SensorInfo {
                id: format!("nvml:{i}"),
                name,
                kind: DeviceKind::Gpu,
                quality,
                counter_wrap: None,
                counts_from_zero: false,
                max_power: None,
                details: serde_json::json!({
                    "index": i,
                    "uuid": dev.uuid().ok(),
                    "power_limit_w": limit_w,
                    "energy_counter": has_counter,
                    "power_field": if has_instant { "NVML_FI_DEV_POWER_INSTANT" } else { "nvmlDeviceGetPowerUsage (may be a 1 s average)" },
                    "mig_mode": mig,
                    "mig_instances": migs,
                }),
            },
        })
    }
}

/// CUDA numbers GPUs fastest first unless `CUDA_DEVICE_ORDER=PCI_BUS_ID`; NVML numbers them in
/// PCI bus order. The two agree on a node of identical GPUs; on a mixed node, indices in
/// `CUDA_VISIBLE_DEVICES` may name other GPUs than the job uses, so say so.
fn order_notice(nvml: &Nvml, chosen: &Chosen, visible: Option<&str>, notices: &mut Vec<String>) {
    let Some(v) = visible else { return };
    let by_index = parse_cuda_visible(v)
        .0
        .iter()
        .any(|e| matches!(e, VisibleEntry::Index(_)));
    let pci_order = std::env::var("CUDA_DEVICE_ORDER").is_ok_and(|o| o == "PCI_BUS_ID");
    if !by_index || pci_order || chosen.is_empty() {
        return;
    }
    let count = nvml.device_count().unwrap_or(0);
    let mut names: Vec<String> = (0..count)
        .filter_map(|i| nvml.device_by_index(i).and_then(|d| d.name()).ok())
        .collect();
    names.sort();
    names.dedup();
    if names.len() > 1 {
        notices.push(
            "CUDA_VISIBLE_DEVICES indices were read in PCI bus order (nvidia-smi's); on this \
             node of mixed GPUs CUDA orders them fastest first unless \
             CUDA_DEVICE_ORDER=PCI_BUS_ID: set it, or list GPU UUIDs"
                .to_string(),
        );
    }
}

impl Sensor for NvmlSensor {
    fn info(&self) -> &SensorInfo {
        &self.info
    }

    fn read(&mut self) -> Result<Reading, String> {
        let dev = self
            .nvml
            .device_by_index(self.index)
            .map_err(|e| format!("GPU {}: {e}", self.index))?;
        let counter = if self.has_counter {
            dev.total_energy_consumption()
                .ok()
                .map(|mj| Energy::from_millijoules(mj as f64))
        } else {
            None
        };
        let power = if self.has_instant {
            instant_power(&self.nvml, self.index)
        } else {
            None
        }
        .or_else(|| {
            dev.power_usage()
                .ok()
                .map(|mw| Power::from_watts(mw as f64 / 1e3))
        });
        if counter.is_none() && power.is_none() {
            return Err(format!(
                "GPU {}: neither energy nor power could be read",
                self.index
            ));
        }
        Ok(Reading {
            counter,
            power,
            power_quality: power.map(|_| Quality::MeasuredPower),
            utilization_pct: dev.utilization_rates().ok().map(|u| u.gpu as f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{VisibleEntry::*, parse_cuda_visible};

    #[test]
    fn cuda_visible_devices_reads_like_cuda() {
        assert_eq!(parse_cuda_visible("0,2"), (vec![Index(0), Index(2)], None));
        assert_eq!(
            parse_cuda_visible(" 1 , 0 "),
            (vec![Index(1), Index(0)], None)
        );
        assert_eq!(parse_cuda_visible(""), (vec![], None));
        // -1 is the usual way to hide every GPU: the list ends before it
        assert_eq!(parse_cuda_visible("-1"), (vec![], Some("-1".into())));
        assert_eq!(
            parse_cuda_visible("0,x,1"),
            (vec![Index(0)], Some("x".into()))
        );
        assert_eq!(
            parse_cuda_visible("GPU-8f2a,MIG-77c1"),
            (vec![Uuid("GPU-8f2a".into()), Mig("MIG-77c1".into())], None)
        );
        assert_eq!(parse_cuda_visible("GPU-"), (vec![], Some("GPU-".into())));
    }
}
