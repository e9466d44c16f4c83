//! Measuring: sensors, the sampler, and the command mode of `footprint measure`.
//!
//! Two modes share the sensors and the sampler:
//! - **training** (in [`crate::train`]): a candle training loop in this process, CPU or CUDA;
//!   warm-up steps run before the measured window starts, so the figures describe steady state;
//! - **command** (`wrap`): any command, spawned without a shell; all GPUs and the command's
//!   whole process tree are measured for as long as it runs, and footprint exits with its code.
//!
//! This room knows nothing of training: the training loop uses it, never the reverse.
//!
//! The result is a [`Measurement`]: energy per device with its source, throughput, J/sample,
//! achieved FLOP/s and J/FLOP where they are known. It serialises as the `measurement` part of
//! a report (`-o report.json`), which `[measured] report = ...` and `footprint check` read back.

pub(crate) mod placement;
pub(crate) mod progress;
pub(crate) mod sampler;
pub(crate) mod sensor;
pub(crate) mod textfile;
mod track;
mod wrap;

pub(crate) use crate::platform::signal;

use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::impact::SiteRates;
use crate::record::{
    DeviceEnergy, MEASUREMENT_SCHEMA, Measurement, Mode, Quality, SamplerStats, SensorFamily,
    Status,
};
use crate::units::{Duration, Energy};
use sampler::{SamplerOutput, Trace};
use sensor::{DeviceKind, GpuSelection, Sensor};

/// The runtime budget checked once more on the final figures: a run shorter than one sampling
/// interval (or one that overran between two checks) is judged as `footprint check` would
/// judge its report. Returns whether it marked the measurement.
pub(crate) fn final_budget_check(m: &mut Measurement, budget: Option<&RuntimeBudget>) -> bool {
    if m.status != Status::Complete {
        return false;
    }
    let Some(why) = budget.and_then(|b| {
        b.exceeded(
            Energy::from_joules(m.energy_j),
            Duration::from_seconds(m.duration_s),
            m.devices_used.max(1.0),
        )
    }) else {
        return false;
    };
    mark_budget_exceeded(
        m,
        format!("{why}, on the final figures (the run had ended)"),
    );
    true
}

/// Marks a measurement stopped by its runtime budget.
pub(crate) fn mark_budget_exceeded(m: &mut Measurement, why: String) {
    m.status = Status::BudgetExceeded;
    m.notices.insert(
        0,
        format!("stopped by the runtime budget: {why}; the figures cover what ran until then"),
    );
    m.budget_exceeded = Some(why);
}
pub(crate) use wrap::{SpawnFailure, wrap};

/// How to sample, as the user asked (`--interval-ms`, `--trace`, the progress line).
#[derive(Clone, Debug)]
pub(crate) struct Sampling {
    pub(crate) interval: Duration,
    pub(crate) trace: Option<PathBuf>,
    pub(crate) progress: bool,
}

/// What both modes run with: the sampling asked for, and what the pipeline resolved from the
/// run's site before the measurement starts. Built whole by `app::measure`, never half-filled.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    pub(crate) sampling: Sampling,
    /// Stop when the measured window exceeds this (`measure --max-energy ...`).
    pub(crate) budget: Option<RuntimeBudget>,
    /// Keep a Prometheus text file up to date (`--prometheus-textfile`).
    pub(crate) textfile: Option<textfile::Textfile>,
}

/// A budget enforced while the measurement runs: the window's counted energy, and the CO2e
/// and cost it implies at the run's central site rates (`impact::SiteRates`, the same products
/// as the estimate's).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RuntimeBudget {
    pub(crate) max_energy: Option<Energy>,
    pub(crate) max_co2e: Option<crate::units::Mass>,
    pub(crate) max_cost: Option<crate::units::Money>,
    pub(crate) rates: SiteRates,
}

impl RuntimeBudget {
    /// The limit exceeded by `energy` measured over `elapsed` on `devices`, if one is.
    pub(crate) fn exceeded(
        &self,
        energy: Energy,
        elapsed: Duration,
        devices: f64,
    ) -> Option<String> {
        use crate::units::{human_energy, human_mass, human_money};
        let at = self.rates.apply(energy, elapsed * devices);
        if let Some(max) = self.max_energy
            && at.energy > max
        {
            return Some(format!(
                "energy {} > limit {}",
                human_energy(at.energy),
                human_energy(max)
            ));
        }
        if let Some(max) = self.max_co2e
            && at.co2e > max
        {
            return Some(format!(
                "CO2e {} > limit {}",
                human_mass(at.co2e),
                human_mass(max)
            ));
        }
        if let (Some(max), Some(cost)) = (self.max_cost, at.cost)
            && cost > max
        {
            return Some(format!(
                "cost {} > limit {}",
                human_money(cost),
                human_money(max)
            ));
        }
        None
    }
}

#[derive(Clone, Debug)]
pub(crate) struct WrapOptions {
    /// The program and its arguments, as given (not necessarily UTF-8).
    pub(crate) command: Vec<std::ffi::OsString>,
    /// How long a command may keep running after a stop signal before it is killed.
    pub(crate) kill_after: std::time::Duration,
    pub(crate) gpus: GpuSelection,
    /// Samples the command processes, when the user knows it (gives J/sample).
    pub(crate) samples: Option<u64>,
}

pub(crate) fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Where sysfs is: `/sys`, or `FOOTPRINT_SYSFS_ROOT` when set (a container that mounts the
/// host's `/sys` elsewhere; the test suite's fake trees).
/// The most a sysfs attribute is read: they are a line of text, and a tree under
/// `FOOTPRINT_SYSFS_ROOT` may hold a link to `/dev/zero`.
pub(crate) const SYSFS_MAX_BYTES: u64 = 4096;

pub(crate) fn sysfs_root() -> PathBuf {
    std::env::var_os("FOOTPRINT_SYSFS_ROOT")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/sys"), PathBuf::from)
}

/// Hardware sensors: NVIDIA GPUs through NVML as selected, AMD GPUs through amdgpu's hwmon
/// files, then readable RAPL domains. A source that finds nothing adds a notice, never an
/// error: the others still count.
pub(crate) fn hardware_sensors(gpus: &GpuSelection) -> (Vec<Box<dyn Sensor>>, Vec<String>) {
    let mut sensors: Vec<Box<dyn Sensor>> = Vec::new();
    let mut notices = Vec::new();
    let sys = sysfs_root();
    if *gpus != GpuSelection::None {
        let visible = std::env::var("CUDA_VISIBLE_DEVICES").ok();
        match sensor::nvml::NvmlSensor::discover(gpus, visible.as_deref()) {
            Ok((found, said)) => {
                sensors.extend(found.into_iter().map(|s| Box::new(s) as Box<dyn Sensor>));
                notices.extend(said);
            }
            Err(e) => notices.push(format!("NVML: {NVML_LIBRARY} {e}")),
        }
        if !cfg!(target_os = "linux") {
            return (sensors, with_cpu_modelled(notices));
        }
        // --gpus numbers one vendor's GPUs: NVIDIA's when NVML found them, else AMD's.
        let amd_sel = match gpus {
            GpuSelection::Indices(_) if !sensors.is_empty() => GpuSelection::None,
            other => other.clone(),
        };
        let env = |k: &str| std::env::var(k).ok();
        match sensor::amdgpu::AmdGpuSensor::discover(
            &sys.join("class/drm"),
            &amd_sel,
            env("ROCR_VISIBLE_DEVICES").as_deref(),
            env("HIP_VISIBLE_DEVICES").as_deref(),
        ) {
            Ok((found, said)) => {
                sensors.extend(found.into_iter().map(|s| Box::new(s) as Box<dyn Sensor>));
                notices.extend(said);
            }
            Err(e) if e.starts_with("no amdgpu") => {}
            Err(e) => notices.push(format!("amdgpu: {e}")),
        }
        match sensor::gaudi::GaudiSensor::discover(env("HABANA_VISIBLE_DEVICES").as_deref()) {
            Ok((found, said)) => {
                sensors.extend(found.into_iter().map(|s| Box::new(s) as Box<dyn Sensor>));
                notices.extend(said);
            }
            Err(why) => notices.extend(gaudi_notice(&sys, &why)),
        }
    }
    if !cfg!(target_os = "linux") {
        return (sensors, with_cpu_modelled(notices));
    }
    let rapl_root = sys.join("class/powercap");
    match sensor::rapl::RaplSensor::discover(&rapl_root) {
        Ok(found) if found.is_empty() => notices.push(format!(
            "RAPL: no readable package or dram domain under {}; the CPU is modelled",
            rapl_root.display()
        )),
        Ok(found) => sensors.extend(found.into_iter().map(|s| Box::new(s) as Box<dyn Sensor>)),
        Err(e) => notices.push(format!("RAPL: {e}; the CPU is modelled")),
    }
    (sensors, notices)
}

/// The library NVML is loaded from on this OS, named in the notice when it is missing.
const NVML_LIBRARY: &str = if cfg!(windows) {
    "nvml.dll"
} else {
    "libnvidia-ml.so.1"
};

/// Off Linux there is no RAPL, amdgpu or Gaudi sysfs to read: the notice says what the CPU's
/// figure is instead, naming nothing that OS does not have.
fn with_cpu_modelled(mut notices: Vec<String>) -> Vec<String> {
    notices.push(format!(
        "CPU energy counters (RAPL) are read on Linux only; on {} the CPU is modelled from its CPU time",
        match std::env::consts::OS {
            "macos" => "macOS",
            "windows" => "Windows",
            other => other,
        }
    ));
    notices
}

/// Intel Gaudi accelerators (PCI vendor 0x1da3, the habanalabs driver) seen in sysfs when
/// Habana's library could not read them (`why`): say that their energy is missing rather than
/// report a total without them.
fn gaudi_notice(sys: &Path, why: &str) -> Option<String> {
    let mut seen = Vec::new();
    for class in ["class/accel", "class/habanalabs"] {
        let Ok(entries) = std::fs::read_dir(sys.join(class)) else {
            continue;
        };
        for e in entries.flatten() {
            let vendor = crate::files::read_small(&e.path().join("device/vendor"), SYSFS_MAX_BYTES)
                .unwrap_or_default();
            if vendor.trim() == "0x1da3" {
                seen.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    seen.sort();
    seen.dedup();
    (!seen.is_empty()).then(|| {
        format!(
            "Intel Gaudi accelerator(s) seen ({}) but not measured ({why}): the total leaves \
             them out",
            seen.join(", ")
        )
    })
}

/// Whether a sensor's energy is part of the total: every GPU, and the CPU once (RAPL when
/// readable, else the CPU-time model). The same rule for live figures and for the report.
pub(crate) fn counts(kind: DeviceKind, id: &str, has_rapl: bool) -> bool {
    match SensorFamily::of(id) {
        SensorFamily::Rapl => true,
        SensorFamily::CpuModel => !has_rapl,
        SensorFamily::Other => kind == DeviceKind::Gpu,
    }
}

/// The total of the counted sensors: (energy, ids, description, weakest quality).
fn total(devices: &[DeviceEnergy]) -> (Energy, Vec<String>, String, Quality) {
    let has_rapl = devices
        .iter()
        .any(|d| SensorFamily::of(&d.id) == SensorFamily::Rapl);
    let counted: Vec<&DeviceEnergy> = devices
        .iter()
        .filter(|d| counts(d.kind, &d.id, has_rapl))
        .collect();
    let energy = counted
        .iter()
        .map(|d| Energy::from_joules(d.energy_j))
        .sum();
    let quality = counted
        .iter()
        .map(|d| d.source)
        .max()
        .unwrap_or(Quality::Modelled);
    let desc = counted
        .iter()
        .map(|d| format!("{} {}", d.id, d.source.as_str()))
        .collect::<Vec<_>>()
        .join(" + ");
    (
        energy,
        counted.iter().map(|d| d.id.clone()).collect(),
        desc,
        quality,
    )
}

fn sampler_stats(out: &SamplerOutput) -> SamplerStats {
    SamplerStats {
        interval_ms: out.interval.seconds() * 1e3,
        ticks: out.ticks,
        cpu_seconds: out.sampler_cpu.seconds(),
        overhead_pct_of_one_core: 100.0 * out.sampler_cpu.seconds()
            / out.window.seconds().max(1e-9),
    }
}

/// Starts the sampler with the options both modes share.
pub(crate) fn start_sampler(
    sensors: Vec<Box<dyn Sensor>>,
    common: &Common,
) -> anyhow::Result<sampler::Sampler> {
    Ok(sampler::Sampler::start_with(
        sensors,
        common.sampling.interval,
        open_trace(common)?,
        common.textfile.clone(),
    ))
}

pub(crate) fn open_trace(common: &Common) -> anyhow::Result<Option<Trace>> {
    Ok(match &common.sampling.trace {
        Some(p) => Some(Trace::create(p).map_err(|e| {
            InputError::new(format!("cannot create the trace: {e}"))
                .in_file(p.display().to_string())
        })?),
        None => None,
    })
}

/// What was run on, for people: the GPU(s) when there are any, else the CPU.
fn device_name(devices: &[DeviceEnergy]) -> String {
    let gpus: Vec<&str> = devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Gpu)
        .map(|d| d.name.as_str())
        .collect();
    match gpus.len() {
        0 => devices
            .iter()
            .find(|d| SensorFamily::of(&d.id) == SensorFamily::CpuModel)
            .map(|d| d.name.trim_end_matches(" (CPU-time model)").to_string())
            .unwrap_or_else(|| "CPU".to_string()),
        1 => gpus[0].to_string(),
        n => format!("{n} GPUs: {}", gpus.join(", ")),
    }
}

/// A measurement with the fields both modes fill alike, from what the sampler measured; the
/// mode fills in its own (samples, workload, command...).
pub(crate) fn from_sampler(
    mode: Mode,
    started: f64,
    window: f64,
    out: SamplerOutput,
    mut notices: Vec<String>,
) -> Measurement {
    let (energy, counted, source, quality) = total(&out.devices);
    if window < 2.0 * out.interval.seconds() {
        notices.push(format!(
            "the measured window ({window:.3} s) is shorter than two sampling intervals ({} ms): its figures are mostly timing noise; measure longer",
            crate::units::sig4(out.interval.seconds() * 1e3)
        ));
    }
    if let Some(e) = &out.trace_error {
        notices.push(format!(
            "an output kept during the run could not be written ({e}): it is incomplete; the figures here are whole"
        ));
    }
    let interrupted = signal::received();
    Measurement {
        schema_version: MEASUREMENT_SCHEMA,
        status: if interrupted.is_some() {
            Status::Interrupted
        } else {
            Status::Complete
        },
        interrupted_by: interrupted.map(|s| signal::name(s).to_string()),
        mode,
        started_at_unix_s: started,
        duration_s: window,
        energy_j: energy.joules(),
        energy_source: source,
        quality,
        device: device_name(&out.devices),
        devices_used: out
            .devices
            .iter()
            .filter(|d| d.kind == DeviceKind::Gpu)
            .count()
            .max(1) as f64,
        samples: None,
        samples_per_second: None,
        joules_per_sample: None,
        tokens_per_second: None,
        flops: None,
        flops_per_second: None,
        joules_per_flop: None,
        steps: None,
        warmup_steps: None,
        loss: None,
        workload: None,
        command: None,
        exit_code: None,
        cpu_seconds: 0.0,
        sampler: sampler_stats(&out),
        trace_error: out.trace_error.clone(),
        energy_timeline: out.energy_timeline.clone(),
        time_resolved: None,
        budget_exceeded: None,
        placement: Some(placement::here()),
        nodes: None,
        device_seconds: None,
        sensors: out.devices,
        counted,
        notices,
    }
}
