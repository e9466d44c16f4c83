//! Power and energy sources, behind one trait.
//!
//! A sensor is read at intervals by the sampler. A reading may carry a cumulative **energy
//! counter** (NVML `total_energy_consumption`, RAPL `energy_uj`), a **power** value (NVML
//! `power_usage`, or the CPU-time model's estimate), or both. The sampler prefers counters
//! (differences of a counter are exact over any window the counter resolves) and integrates
//! power only where no counter is available. Every figure carries how it was obtained:
//! [`Quality::MeasuredCounter`], [`Quality::MeasuredPower`] or [`Quality::Modelled`].

pub(crate) mod amdgpu;
pub(crate) mod amdsmi;
pub(crate) mod cputime;
pub(crate) mod gaudi;
pub(crate) mod nvml;
pub(crate) mod rapl;
pub(crate) mod synthetic;

use serde::Serialize;

use crate::units::{Energy, Power};

pub(crate) use crate::record::{DeviceKind, Quality};

/// The first of `names` the dynamic loader finds, or "`names[0]` not found": a vendor's
/// management library, loaded at run time when its driver stack installed it, never required.
pub(crate) fn load_library(names: &[&str]) -> Result<libloading::Library, String> {
    names
        .iter()
        // SAFETY: loading a vendor's library runs its initialisers, which is what using it
        // means; nothing else of ours runs in them.
        .find_map(|n| unsafe { libloading::Library::new(n) }.ok())
        .ok_or_else(|| format!("{} not found", names[0]))
}

/// No one sensor's device draws more (a node of 8 of the largest accelerators is about
/// 15 kW): a reading above it, or below 0, is a failed read, never a figure.
pub(crate) const MAX_SENSOR_POWER_W: f64 = 20_000.0;

/// A sensor's description, fixed for its life.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensorInfo {
    /// Stable id: `nvml:0`, `rapl:package-0`, `cpu-model`.
    pub(crate) id: String,
    /// What it is, for people: "NVIDIA H100 80GB HBM3", "AMD EPYC 7763 (CPU-time model)".
    pub(crate) name: String,
    pub(crate) kind: DeviceKind,
    /// The best quality its readings can have.
    pub(crate) quality: Quality,
    /// Range after which its energy counter wraps to 0, if it has a counter that wraps.
    #[serde(skip)]
    pub(crate) counter_wrap: Option<Energy>,
    /// Its counter is 0 at the moment the sampler starts (a just-spawned child's CPU time):
    /// the sampler then counts from that origin instead of from the first reading.
    #[serde(skip)]
    pub(crate) counts_from_zero: bool,
    /// The most this device can draw, where it is known (the CPU-time model: every visible
    /// thread busy, and the machine's memory): power over a tiny interval above it is timing
    /// noise, not a figure. Every reading is also held to [`MAX_SENSOR_POWER_W`].
    #[serde(skip)]
    pub(crate) max_power: Option<Power>,
    /// Anything else worth recording (power limit, TDP used, scope).
    pub(crate) details: serde_json::Value,
}

/// One reading. Either part may be missing (a counter not supported, a read that failed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reading {
    /// Cumulative energy counter value (arbitrary origin, may wrap at `counter_wrap`).
    pub(crate) counter: Option<Energy>,
    /// Power now (or averaged over the sensor's own window).
    pub(crate) power: Option<Power>,
    /// Quality of `power` when it is present (measured for NVML, modelled for the CPU model).
    pub(crate) power_quality: Option<Quality>,
    /// Device utilisation in percent, when the sensor knows it.
    pub(crate) utilization_pct: Option<f64>,
}

/// A source of energy readings.
pub trait Sensor: Send {
    fn info(&self) -> &SensorInfo;
    /// Reads now. An error is a gap in the record, not the end of the measurement.
    fn read(&mut self) -> Result<Reading, String>;
}

/// Which GPUs to read.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum GpuSelection {
    /// Every GPU the job can see (all, or those `CUDA_VISIBLE_DEVICES` leaves).
    All,
    /// GPUs by NVML's numbering (nvidia-smi's), whatever `CUDA_VISIBLE_DEVICES` says (`--gpus`).
    Indices(Vec<u32>),
    /// CUDA devices by ordinal, numbered within `CUDA_VISIBLE_DEVICES` (`--cuda N`).
    CudaOrdinals(Vec<u32>),
    None,
}
