//! `footprint measure`: run something real and measure what it used.
//!
//! Two modes share the sensors and the sampler:
//! - **training**: a candle training loop in this process (`workload`), CPU or CUDA; warm-up
//!   steps run before the measured window starts, so the figures describe steady state;
//! - **command**: any command, spawned without a shell; all GPUs and the command's whole
//!   process tree are measured for as long as it runs, and footprint exits with its code.
//!
//! The result is a [`Measurement`]: energy per device with its source, throughput, J/sample,
//! achieved FLOP/s and J/FLOP where they are known. It serialises as the `measurement` part of
//! a report (`-o report.json`), which `[measured] report = ...` and `footprint check` read back.

pub mod sampler;
pub mod sensor;
pub mod signal;
pub mod workload;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{InputError, MeasureError};
use crate::profiles::Registry;
use crate::scenario::MeasuredFigures;
use crate::units::{Duration, Energy, human_energy, human_power, sig4};
use sampler::{DeviceEnergy, Sampler, SamplerOutput, Trace};
use sensor::cputime::{CpuModel, Scope};
use sensor::{DeviceKind, GpuSelection, Quality, Sensor};

/// Schema of the `measurement` object.
pub const MEASUREMENT_SCHEMA: u32 = 1;

const RAPL_ROOT: &str = "/sys/class/powercap";
const CPUINFO: &str = "/proc/cpuinfo";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    /// Stopped by SIGINT/SIGTERM: figures cover what ran until then.
    Interrupted,
}

#[derive(Clone, Debug, Serialize)]
pub struct LossSummary {
    pub first: f32,
    pub last: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadInfo {
    pub config: workload::Config,
    /// `cpu` or `cuda:N`.
    pub device: String,
    pub parameters: usize,
    pub flops_per_step: f64,
    pub samples_per_step: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct SamplerStats {
    pub interval_ms: f64,
    pub ticks: u64,
    pub cpu_seconds: f64,
    /// Sampler CPU time as a share of one core over the window.
    pub overhead_pct_of_one_core: f64,
}

/// Everything one measurement found.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub schema_version: u32,
    pub status: Status,
    pub interrupted_by: Option<String>,
    /// `training` or `command`.
    pub mode: &'static str,
    pub started_at_unix_s: f64,
    /// Length of the measured window (after warm-up).
    pub duration_s: f64,
    /// Energy of the counted sensors over the window (J).
    pub energy_j: f64,
    /// Which sensors make up `energy_j` and how each was obtained.
    pub energy_source: String,
    /// The weakest source among them.
    pub quality: Quality,
    /// What it ran on, for people.
    pub device: String,
    /// Accelerators used (device-hours = window × this); 1 for a CPU run.
    pub devices_used: f64,
    pub samples: Option<u64>,
    pub samples_per_second: Option<f64>,
    pub joules_per_sample: Option<f64>,
    pub tokens_per_second: Option<f64>,
    pub flops: Option<f64>,
    pub flops_per_second: Option<f64>,
    pub joules_per_flop: Option<f64>,
    pub steps: Option<u64>,
    pub warmup_steps: Option<u64>,
    pub loss: Option<LossSummary>,
    pub workload: Option<WorkloadInfo>,
    pub command: Option<Vec<String>>,
    pub exit_code: Option<i32>,
    /// CPU seconds (user + system) of what was measured: this process for training (over
    /// the whole run, warm-up included), the command's process tree for a command.
    pub cpu_seconds: f64,
    /// Every sensor read, counted or not.
    pub sensors: Vec<DeviceEnergy>,
    /// Ids of the sensors summed into `energy_j`.
    pub counted: Vec<String>,
    pub notices: Vec<String>,
    pub sampler: SamplerStats,
}

impl Measurement {
    /// What the estimate models take from it. A command measured without `--samples` has no
    /// per-sample figures; then the whole run counts as one "sample".
    pub fn figures(&self) -> MeasuredFigures {
        let (jps, sps, per) = match (self.joules_per_sample, self.samples_per_second) {
            (Some(j), Some(s)) => (j, s, "sample"),
            _ => (self.energy_j, 1.0 / self.duration_s.max(1e-9), "run"),
        };
        MeasuredFigures {
            joules_per_sample: jps,
            samples_per_second: sps,
            devices: self.devices_used,
            energy_source: self.energy_source.clone(),
            device: self.device.clone(),
            modelled: self.quality == Quality::Modelled,
            per,
        }
    }
}

/// Reads the figures the measured model needs from a report written by `measure -o`.
pub fn figures_from_report(text: &str) -> Result<MeasuredFigures, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let m = v
        .get("measurement")
        .filter(|m| m.is_object())
        .ok_or("not a measurement report: no `measurement` object (write one with `footprint measure -o FILE`)")?;
    let schema = m.get("schema_version").and_then(|s| s.as_u64());
    if schema != Some(MEASUREMENT_SCHEMA as u64) {
        return Err(format!(
            "measurement schema {schema:?} is not {MEASUREMENT_SCHEMA}"
        ));
    }
    let num = |k: &str| m.get(k).and_then(|x| x.as_f64());
    let (Some(jps), Some(sps)) = (num("joules_per_sample"), num("samples_per_second")) else {
        return Err(
            "the report has no per-sample figures (a command measured without --samples N)"
                .to_string(),
        );
    };
    if !((1e-12..=1e15).contains(&jps) && (1e-9..=1e12).contains(&sps)) {
        return Err(format!(
            "joules_per_sample {jps} and samples_per_second {sps} are not plausible measurements"
        ));
    }
    let text_of = |k: &str| m.get(k).and_then(|x| x.as_str()).unwrap_or("?").to_string();
    Ok(MeasuredFigures {
        joules_per_sample: jps,
        samples_per_second: sps,
        devices: num("devices_used").filter(|d| *d >= 1.0).unwrap_or(1.0),
        energy_source: text_of("energy_source"),
        device: text_of("device"),
        modelled: text_of("quality") == "modelled",
        per: "sample",
    })
}

/// Options shared by both modes.
#[derive(Clone, Debug)]
pub struct Common {
    pub interval: Duration,
    pub trace: Option<PathBuf>,
    pub progress: bool,
}

#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub config: workload::Config,
    pub steps: Option<u64>,
    pub duration: Option<Duration>,
    pub warmup: u64,
    pub cuda: Option<usize>,
    pub common: Common,
}

#[derive(Clone, Debug)]
pub struct WrapOptions {
    pub command: Vec<String>,
    pub gpus: GpuSelection,
    /// Samples the command processes, when the user knows it (gives J/sample).
    pub samples: Option<u64>,
    pub common: Common,
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Hardware sensors: NVML GPUs as selected, then readable RAPL domains.
fn hardware_sensors(gpus: &GpuSelection) -> (Vec<Box<dyn Sensor>>, Vec<String>) {
    let mut sensors: Vec<Box<dyn Sensor>> = Vec::new();
    let mut notices = Vec::new();
    if *gpus != GpuSelection::None {
        match sensor::nvml::NvmlSensor::discover(gpus) {
            Ok(found) => sensors.extend(found.into_iter().map(|s| Box::new(s) as Box<dyn Sensor>)),
            Err(e) => notices.push(format!("NVML: {e}")),
        }
    }
    match sensor::rapl::RaplSensor::discover(Path::new(RAPL_ROOT)) {
        Ok(found) if found.is_empty() => notices.push(format!(
            "RAPL: no readable package or dram domain under {RAPL_ROOT}; the CPU is modelled"
        )),
        Ok(found) => sensors.extend(found.into_iter().map(|s| Box::new(s) as Box<dyn Sensor>)),
        Err(e) => notices.push(format!("RAPL: {e}; the CPU is modelled")),
    }
    (sensors, notices)
}

/// Which sensors make the total: every GPU, and the CPU once (RAPL when readable, else the
/// CPU-time model). Returns (energy, ids, description, weakest quality).
fn total(devices: &[DeviceEnergy]) -> (Energy, Vec<String>, String, Quality) {
    let has_rapl = devices.iter().any(|d| d.id.starts_with("rapl:"));
    let counted: Vec<&DeviceEnergy> = devices
        .iter()
        .filter(|d| {
            d.kind == DeviceKind::Gpu
                || d.id.starts_with("rapl:")
                || (!has_rapl && d.id == "cpu-model")
        })
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

/// A one-line status on stderr, redrawn in place; only when stderr is a terminal.
struct Progress {
    on: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new(wanted: bool) -> Progress {
        Progress {
            on: wanted && std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn show(&mut self, line: impl FnOnce() -> String) {
        if !self.on || self.last.is_some_and(|t| t.elapsed().as_millis() < 200) {
            return;
        }
        self.last = Some(Instant::now());
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[K{}", line());
        let _ = e.flush();
    }

    fn done(&mut self) {
        if self.on && self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

fn live_line(s: &Sampler) -> String {
    let l = s.live();
    format!(
        "{} · {} · {} so far",
        crate::units::human_duration(l.elapsed),
        human_power(l.power),
        human_energy(l.energy)
    )
}

fn open_trace(common: &Common) -> anyhow::Result<Option<Trace>> {
    Ok(match &common.trace {
        Some(p) => Some(Trace::create(p).map_err(|e| {
            InputError::new(format!("cannot create the trace: {e}"))
                .in_file(p.display().to_string())
        })?),
        None => None,
    })
}

/// The candle device to train on.
fn compute_device(cuda: Option<usize>) -> anyhow::Result<(candle_core::Device, String)> {
    match cuda {
        None => Ok((candle_core::Device::Cpu, "cpu".to_string())),
        #[cfg(feature = "cuda")]
        Some(i) => {
            let d = candle_core::Device::new_cuda(i)
                .map_err(|e| MeasureError(format!("cannot open CUDA device {i}: {e}")))?;
            Ok((d, format!("cuda:{i}")))
        }
        #[cfg(not(feature = "cuda"))]
        Some(_) => Err(InputError::new(
            "--cuda: this footprint was built without CUDA support; rebuild with `cargo build --release --features cuda` (needs the CUDA toolkit's nvcc; see docs/cuda.md)",
        )
        .into()),
    }
}

/// Trains the configured model and measures the steady-state window after warm-up.
pub fn train(opts: &TrainOptions, reg: &Registry) -> anyhow::Result<Measurement> {
    signal::install();
    let (device, device_label) = compute_device(opts.cuda)?;
    let mut trainer = workload::build(&opts.config, &device).map_err(|e| {
        MeasureError(format!(
            "cannot build the {:?} workload: {e}",
            opts.config.kind
        ))
    })?;
    let gpus = match opts.cuda {
        Some(i) => GpuSelection::Indices(vec![i as u32]),
        None => GpuSelection::None,
    };
    let (mut sensors, mut notices) = hardware_sensors(&gpus);
    if opts.cuda.is_some() && !sensors.iter().any(|s| s.info().kind == DeviceKind::Gpu) {
        notices.push(
            "the GPU's energy is not measured (NVML unavailable): only the host CPU is counted"
                .to_string(),
        );
    }
    sensors.push(Box::new(CpuModel::new(
        Scope::SelfProcess,
        reg.cpus(),
        Path::new(CPUINFO),
    )));
    let started = now_unix();
    let sampler = Sampler::start(sensors, opts.common.interval, open_trace(&opts.common)?);
    let mut progress = Progress::new(opts.common.progress);
    let step_err = |e: candle_core::Error| MeasureError(format!("training step failed: {e}"));

    let mut warm = 0;
    while warm < opts.warmup && signal::received().is_none() {
        trainer.step().map_err(step_err)?;
        warm += 1;
        progress.show(|| format!("warm-up {warm}/{}", opts.warmup));
    }
    sampler.mark();
    let t0 = Instant::now();
    let mut steps = 0u64;
    let mut first = None;
    let mut last = f32::NAN;
    let per_step = trainer.samples_per_step() as f64;
    loop {
        if signal::received().is_some()
            || opts.steps.is_some_and(|n| steps >= n)
            || opts
                .duration
                .is_some_and(|d| t0.elapsed().as_secs_f64() >= d.seconds())
        {
            break;
        }
        last = trainer.step().map_err(step_err)?;
        first.get_or_insert(last);
        steps += 1;
        progress.show(|| {
            let of = opts.steps.map(|n| format!("/{n}")).unwrap_or_default();
            format!(
                "step {steps}{of} · {} samples/s · {}",
                sig4(steps as f64 * per_step / t0.elapsed().as_secs_f64()),
                live_line(&sampler)
            )
        });
    }
    let _ = device.synchronize();
    let window = t0.elapsed().as_secs_f64();
    let out = sampler.stop();
    progress.done();

    let mut m = from_sampler("training", started, window, out, notices);
    let energy = m.energy_j;
    let samples = steps * trainer.samples_per_step() as u64;
    let flops = steps as f64 * trainer.flops_per_step();
    let have = |x: f64| (steps > 0 && window > 0.0).then_some(x);
    if let (Some(i), false) = (
        opts.cuda,
        m.sensors.iter().any(|d| d.kind == DeviceKind::Gpu),
    ) {
        m.device = format!("CUDA device {i}");
    }
    m.samples = Some(samples);
    m.samples_per_second = have(samples as f64 / window);
    m.joules_per_sample = (samples > 0).then(|| energy / samples as f64);
    m.tokens_per_second = trainer
        .tokens_per_step()
        .and_then(|t| have(steps as f64 * t as f64 / window));
    m.flops = Some(flops);
    m.flops_per_second = have(flops / window);
    m.joules_per_flop = (flops > 0.0).then(|| energy / flops);
    m.steps = Some(steps);
    m.warmup_steps = Some(warm);
    m.loss = first.map(|f| LossSummary { first: f, last });
    m.workload = Some(WorkloadInfo {
        config: opts.config.clone(),
        device: device_label,
        parameters: trainer.parameters(),
        flops_per_step: trainer.flops_per_step(),
        samples_per_step: trainer.samples_per_step(),
    });
    m.cpu_seconds = sensor::cputime::self_cpu_seconds();
    Ok(m)
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
            .find(|d| d.id == "cpu-model")
            .map(|d| d.name.trim_end_matches(" (CPU-time model)").to_string())
            .unwrap_or_else(|| "CPU".to_string()),
        1 => gpus[0].to_string(),
        n => format!("{n} GPUs: {}", gpus.join(", ")),
    }
}

/// A measurement with the fields both modes fill alike, from what the sampler measured; the
/// mode fills in its own (samples, workload, command...).
fn from_sampler(
    mode: &'static str,
    started: f64,
    window: f64,
    out: SamplerOutput,
    notices: Vec<String>,
) -> Measurement {
    let (energy, counted, source, quality) = total(&out.devices);
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
        sensors: out.devices,
        counted,
        notices,
    }
}

/// How a wrapped command ended: its exit code as a shell reports it.
fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Why a command could not be started, and the exit code `env` would use.
pub struct SpawnFailure {
    pub message: String,
    pub code: i32,
}

/// Runs `opts.command`, measuring everything it uses until it exits. Returns the measurement
/// and the command's exit code.
pub fn wrap(
    opts: &WrapOptions,
    reg: &Registry,
) -> anyhow::Result<Result<(Measurement, i32), SpawnFailure>> {
    signal::install();
    let (mut sensors, notices) = hardware_sensors(&opts.gpus);
    let program = &opts.command[0];
    let started = now_unix();
    let t0 = Instant::now();
    let mut child = match std::process::Command::new(program)
        .args(&opts.command[1..])
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let (what, code) = match e.kind() {
                std::io::ErrorKind::NotFound => ("not found", 127),
                std::io::ErrorKind::PermissionDenied => ("permission denied", 126),
                _ => ("cannot start", 126),
            };
            return Ok(Err(SpawnFailure {
                message: format!("cannot run '{program}': {what} ({e})"),
                code,
            }));
        }
    };
    let pid = child.id() as i32;
    signal::forward_to(pid);
    let mut cpu = CpuModel::new(Scope::Tree(pid), reg.cpus(), Path::new(CPUINFO));
    cpu.start_at_zero();
    sensors.push(Box::new(cpu));
    let sampler = Sampler::start(sensors, opts.common.interval, open_trace(&opts.common)?);
    let mut progress = Progress::new(opts.common.progress);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {
                progress.show(|| format!("{program} · {}", live_line(&sampler)));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(MeasureError(format!("waiting for '{program}': {e}")).into()),
        }
    };
    let window = t0.elapsed().as_secs_f64();
    let out = sampler.stop();
    signal::forward_to(0);
    progress.done();
    let code = exit_code_of(status);
    let mut m = from_sampler("command", started, window, out, notices);
    let energy = m.energy_j;
    m.samples = opts.samples;
    m.samples_per_second = opts
        .samples
        .filter(|_| window > 0.0)
        .map(|n| n as f64 / window);
    m.joules_per_sample = opts.samples.filter(|n| *n > 0).map(|n| energy / n as f64);
    m.command = Some(opts.command.clone());
    m.exit_code = Some(code);
    m.cpu_seconds = sensor::cputime::children_cpu_seconds();
    Ok(Ok((m, code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_round_trip_through_json() {
        let text = r#"{"schema_version": 1, "measurement": {"schema_version": 1, "joules_per_sample": 2.5,
            "samples_per_second": 400, "devices_used": 1, "quality": "modelled",
            "energy_source": "cpu-model modelled", "device": "AMD EPYC"}}"#;
        let f = figures_from_report(text).unwrap();
        assert_eq!(f.joules_per_sample, 2.5);
        assert_eq!(f.samples_per_second, 400.0);
        assert!(f.modelled);
        assert_eq!(f.energy_source, "cpu-model modelled");
    }

    #[test]
    fn not_a_measurement_report() {
        assert!(
            figures_from_report("{}")
                .unwrap_err()
                .contains("not a measurement report")
        );
        assert!(
            figures_from_report("nope")
                .unwrap_err()
                .contains("not JSON")
        );
        let no_samples = r#"{"measurement": {"schema_version": 1, "joules_per_sample": null, "samples_per_second": null}}"#;
        assert!(
            figures_from_report(no_samples)
                .unwrap_err()
                .contains("--samples")
        );
    }
}
