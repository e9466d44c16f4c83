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

pub struct NvmlSensor {
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

impl NvmlSensor {
    /// One sensor per selected GPU. `Err` when NVML cannot be loaded or sees no GPU.
    pub fn discover(sel: &GpuSelection) -> Result<Vec<NvmlSensor>, String> {
        let nvml =
            Nvml::init().map_err(|e| format!("not available ({e}); no NVIDIA GPU is read"))?;
        let nvml = Arc::new(nvml);
        let count = nvml
            .device_count()
            .map_err(|e| format!("cannot count GPUs: {e}"))?;
        let indices: Vec<u32> = match sel {
            GpuSelection::All => (0..count).collect(),
            GpuSelection::Indices(v) => {
                for &i in v {
                    if i >= count {
                        return Err(format!("GPU {i} requested but only {count} visible"));
                    }
                }
                v.clone()
            }
            GpuSelection::None => Vec::new(),
        };
        if indices.is_empty() {
            return Err("no GPU visible".to_string());
        }
        let mut out = Vec::new();
        for i in indices {
            let dev = nvml
                .device_by_index(i)
                .map_err(|e| format!("GPU {i}: {e}"))?;
            let name = dev.name().unwrap_or_else(|_| format!("GPU {i}"));
            let has_counter = dev.total_energy_consumption().is_ok();
            let limit_w = dev.enforced_power_limit().ok().map(|mw| mw as f64 / 1e3);
            let has_instant = instant_power(&nvml, i).is_some();
            let quality = if has_counter {
                Quality::MeasuredCounter
            } else {
                Quality::MeasuredPower
            };
            out.push(NvmlSensor {
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
                    details: serde_json::json!({
                        "index": i,
                        "power_limit_w": limit_w,
                        "energy_counter": has_counter,
                        "power_field": if has_instant { "NVML_FI_DEV_POWER_INSTANT" } else { "nvmlDeviceGetPowerUsage (may be a 1 s average)" },
                    }),
                },
            });
        }
        Ok(out)
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
