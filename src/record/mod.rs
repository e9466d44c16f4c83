//! The records footprint writes and reads back: a measurement (`footprint measure -o`) and the
//! estimates of a report, as plain data with their serde forms.
//!
//! Data only: nothing here reads a file, a clock or a sensor. `measure` fills a
//! [`Measurement`]; `report` renders it; `check`, `[measured]` and (later) `merge` read a report
//! back through the one reader here, `MeasurementReport::from_json`, which validates what it
//! reads (known schema, finite and non-negative figures) so that no caller has to.
//!
//! The JSON field names are a contract (docs/run-format.md): add, never rename.

mod assumption;
mod estimate;
mod report;
mod sweep;
pub(crate) mod trace;
mod validation;
mod verdict;
mod when;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::impact::Estimate;

pub(crate) use assumption::{AssumedValue, Assumption, ExplainedDefault, Explanation, Origin};
pub(crate) use estimate::Field;
pub(crate) use estimate::JsonBand;
pub(crate) use estimate::{EstimateRecord, tidy};
pub(crate) use report::{Report, ReportKind};
pub(crate) use sweep::{MARKED, best_row, rank_order};
pub(crate) use sweep::{Row, Sweep};
pub(crate) use validation::{CaseCheck, FigureCheck, ValidationSummary};
pub(crate) use verdict::{Basis, Check, Metric, Verdict};
pub(crate) use when::{WhenPlan, WhenRow};

/// Schema of the `measurement` object.
pub(crate) const MEASUREMENT_SCHEMA: u32 = 1;

/// Schema of the whole JSON report.
pub(crate) const REPORT_SCHEMA: u32 = 1;

/// How a figure was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Quality {
    /// Differences of a hardware energy counter.
    #[serde(rename = "measured-counter")]
    MeasuredCounter,
    /// Integrated from power readings of the hardware.
    #[serde(rename = "measured-power")]
    MeasuredPower,
    /// Computed from a model (CPU time × TDP per thread), not read from hardware.
    #[serde(rename = "modelled")]
    Modelled,
}

impl Quality {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Quality::MeasuredCounter => "measured-counter",
            Quality::MeasuredPower => "measured-power",
            Quality::Modelled => "modelled",
        }
    }
}

/// What a sensor measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeviceKind {
    Gpu,
    Cpu,
    Dram,
}

/// Which kind of sensor a device's figures came from, told from its id in this one place (ids
/// are what reports have always carried: `nvml:0`, `rapl:package-0`, `cpu-model`). Which
/// sensors count toward the energy figure depends on it: every GPU, RAPL where readable, the
/// CPU-time model otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SensorFamily {
    /// A RAPL powercap domain: a hardware energy counter for the CPU package or its DRAM.
    Rapl,
    /// The CPU-time × TDP model (always modelled).
    CpuModel,
    /// Everything else (GPUs and accelerators, test sensors).
    Other,
}

impl SensorFamily {
    const RAPL_PREFIX: &str = "rapl:";
    const CPU_MODEL_ID: &str = "cpu-model";

    pub(crate) fn of(id: &str) -> SensorFamily {
        if id.starts_with(Self::RAPL_PREFIX) {
            SensorFamily::Rapl
        } else if id == Self::CPU_MODEL_ID {
            SensorFamily::CpuModel
        } else {
            SensorFamily::Other
        }
    }

    /// The id of a RAPL domain's sensor.
    pub(crate) fn rapl_id(domain: &str) -> String {
        format!("{}{domain}", Self::RAPL_PREFIX)
    }

    /// The id of the CPU-time model's sensor.
    pub(crate) fn cpu_model_id() -> String {
        Self::CPU_MODEL_ID.to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Complete,
    /// Stopped by SIGINT/SIGTERM: figures cover what ran until then.
    Interrupted,
    /// Stopped by `measure --max-energy/--max-co2e/--max-cost`: figures cover what ran until then.
    #[serde(rename = "budget-exceeded")]
    BudgetExceeded,
}

impl Status {
    /// The word the JSON report writes for this status.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Interrupted => "interrupted",
            Status::BudgetExceeded => "budget-exceeded",
        }
    }
}

/// What was measured: footprint's own training loop, or a command after `--`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Training,
    Command,
}

/// The training loss at the first and the last measured step. The loop computes it in f32;
/// it is recorded widened to f64, as reports have always written it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct LossSummary {
    pub(crate) first: f64,
    pub(crate) last: f64,
}

/// Which model the training loop trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    Mlp,
    Transformer,
}

impl WorkloadKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Mlp => "mlp",
            WorkloadKind::Transformer => "transformer",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    pub(crate) input: usize,
    pub(crate) hidden: usize,
    /// Hidden layers.
    pub(crate) depth: usize,
    pub(crate) classes: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    pub(crate) vocab: usize,
    pub(crate) d_model: usize,
    pub(crate) layers: usize,
    pub(crate) heads: usize,
    pub(crate) seq_len: usize,
}

/// The training loop's configuration, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadConfig {
    pub(crate) kind: WorkloadKind,
    pub(crate) batch_size: usize,
    pub(crate) learning_rate: f64,
    pub(crate) seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mlp: Option<MlpConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) transformer: Option<TransformerConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct WorkloadInfo {
    pub(crate) config: WorkloadConfig,
    /// `cpu` or `cuda:N`.
    pub(crate) device: String,
    pub(crate) parameters: usize,
    pub(crate) flops_per_step: f64,
    pub(crate) samples_per_step: usize,
    /// CPU threads the steps ran on (`--threads`, `RAYON_NUM_THREADS`, else physical cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) threads: Option<usize>,
    /// How that count was chosen, and why (older reports lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thread_choice: Option<ThreadChoice>,
}

/// Where the training loop's thread count came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ThreadBasis {
    /// `--threads N`.
    Flag,
    /// `RAYON_NUM_THREADS` or `CANDLE_NUM_THREADS`.
    Environment,
    /// The physical cores, untried.
    Default,
    /// Each count that can help was trained for a short window before the run, and the one
    /// with the lowest J/sample at ≥ 95 % of the best throughput kept (`--prefer speed`: the
    /// best throughput).
    Trial,
}

/// The training loop's thread count: how it was chosen, why, and the trials behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ThreadChoice {
    pub(crate) basis: ThreadBasis,
    /// Why, in words (printed by the terminal report).
    pub(crate) reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) trials: Vec<ThreadTrial>,
}

/// One thread count's short training window before the run, measured as the run is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ThreadTrial {
    pub(crate) threads: usize,
    pub(crate) samples_per_second: f64,
    pub(crate) joules_per_sample: f64,
    /// The energy source of the trial's figure (`rapl`, `cpu-model modelled`, …).
    pub(crate) energy_source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SamplerStats {
    pub(crate) interval_ms: f64,
    pub(crate) ticks: u64,
    pub(crate) cpu_seconds: f64,
    /// Sampler CPU time as a share of one core over the window.
    pub(crate) overhead_pct_of_one_core: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PowerStats {
    pub(crate) min: f64,
    pub(crate) mean: f64,
    pub(crate) max: f64,
}

/// What one sensor measured over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceEnergy {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: DeviceKind,
    /// How `energy_j` was obtained; the weakest source used for any part of the window.
    pub(crate) source: Quality,
    pub(crate) energy_j: f64,
    /// The energy counter's own total (where it covered the window).
    pub(crate) counter_energy_j: Option<f64>,
    /// Power samples integrated on their own over the window (trapezoid).
    pub(crate) power_integrated_energy_j: Option<f64>,
    pub(crate) duration_s: f64,
    pub(crate) seconds_by_counter: f64,
    pub(crate) seconds_by_power: f64,
    pub(crate) gap_seconds: f64,
    pub(crate) power_w: Option<PowerStats>,
    pub(crate) utilization_pct_mean: Option<f64>,
    pub(crate) readings: u64,
    pub(crate) failed_reads: u64,
    pub(crate) first_error: Option<String>,
    pub(crate) notes: Vec<String>,
    /// Whatever else the sensor recorded (power limit, TDP used, scope): free-form by design.
    #[serde(default)]
    pub(crate) details: serde_json::Value,
}

/// Everything one measurement found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Measurement {
    pub(crate) schema_version: u32,
    pub(crate) status: Status,
    pub(crate) interrupted_by: Option<String>,
    pub(crate) mode: Mode,
    pub(crate) started_at_unix_s: f64,
    /// Length of the measured window (after warm-up).
    pub(crate) duration_s: f64,
    /// Energy of the counted sensors over the window (J).
    pub(crate) energy_j: f64,
    /// Which sensors make up `energy_j` and how each was obtained.
    pub(crate) energy_source: String,
    /// The weakest source among them.
    pub(crate) quality: Quality,
    /// What it ran on, for people.
    pub(crate) device: String,
    /// Accelerators used (device-hours = window × this); 1 for a CPU run.
    pub(crate) devices_used: f64,
    pub(crate) samples: Option<u64>,
    pub(crate) samples_per_second: Option<f64>,
    pub(crate) joules_per_sample: Option<f64>,
    pub(crate) tokens_per_second: Option<f64>,
    pub(crate) flops: Option<f64>,
    pub(crate) flops_per_second: Option<f64>,
    pub(crate) joules_per_flop: Option<f64>,
    pub(crate) steps: Option<u64>,
    pub(crate) warmup_steps: Option<u64>,
    pub(crate) loss: Option<LossSummary>,
    pub(crate) workload: Option<WorkloadInfo>,
    pub(crate) command: Option<Vec<String>>,
    pub(crate) exit_code: Option<i32>,
    /// CPU seconds (user + system) of what was measured: this process for training (over
    /// the whole run, warm-up included), the command's process tree for a command.
    pub(crate) cpu_seconds: f64,
    /// Every sensor read, counted or not.
    pub(crate) sensors: Vec<DeviceEnergy>,
    /// Ids of the sensors summed into `energy_j`.
    pub(crate) counted: Vec<String>,
    pub(crate) notices: Vec<String>,
    pub(crate) sampler: SamplerStats,
    /// Where it ran in a distributed job (Slurm, torchrun), or the host alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) placement: Option<Placement>,
    /// For a merged report (`footprint merge`): one row per node report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nodes: Option<Vec<NodeRow>>,
    /// For a merged report: the device time its node reports measured, summed (seconds).
    /// Reports hours apart used their devices for their own windows, not for the span between
    /// them, so the measured model takes device time from this rather than span × devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device_seconds: Option<f64>,
    /// Which runtime limit stopped the measurement (`status` = `budget-exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) budget_exceeded: Option<String>,
    /// The trace (`--trace`) could not be written from some point on: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) trace_error: Option<String>,
    /// When the counted energy was drawn: [Unix seconds, joules since the window began], at
    /// most every minute (coarser past 2,000 points), for CO2e at the hour it was drawn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) energy_timeline: Vec<[f64; 2]>,
    /// The CO2e at the grid's intensity hour by hour (`measure --intensity`), beside the
    /// annual-average figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) time_resolved: Option<TimeResolved>,
}

/// Which launcher set the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Launcher {
    Slurm,
    Torchrun,
    None,
}

/// A process's place in its job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Placement {
    pub(crate) launcher: Launcher,
    /// `SLURM_JOB_ID`, or torchrun's `TORCHELASTIC_RUN_ID`.
    pub(crate) job_id: Option<String>,
    /// The node's name (`SLURMD_NODENAME`, else the host name).
    pub(crate) node: String,
    /// The node's index in the job (`SLURM_NODEID`, torchrun's `GROUP_RANK`).
    pub(crate) node_index: Option<u64>,
    /// Global rank (`SLURM_PROCID`, `RANK`).
    pub(crate) rank: Option<u64>,
    /// Rank on this node (`SLURM_LOCALID`, `LOCAL_RANK`).
    pub(crate) local_rank: Option<u64>,
    /// Processes in the job (`SLURM_NTASKS`, `WORLD_SIZE`).
    pub(crate) world_size: Option<u64>,
}

/// A measurement's CO2e with each stretch of its energy at the intensity of the hour it was
/// drawn in, from an intensity series (`measure --intensity`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TimeResolved {
    /// What the series is (format, zone, basis, step), and its file.
    pub(crate) series: String,
    pub(crate) series_file: String,
    /// The energy-weighted mean intensity over the window.
    pub(crate) mean_g_per_kwh: f64,
    pub(crate) co2e_kg: f64,
    /// The same energy at the site's annual figure.
    pub(crate) annual_g_per_kwh: f64,
    pub(crate) annual_average_co2e_kg: f64,
    /// Time-resolved against annual-average, in % of the annual-average figure.
    pub(crate) difference_percent: f64,
    /// Of the measured energy, the share drawn while the series had a figure (the rest is at
    /// the annual figure).
    pub(crate) energy_covered: f64,
}

/// One sensor's figures while a measurement runs, as live exporters write them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LiveReading {
    pub(crate) id: String,
    pub(crate) quality: Quality,
    /// Since the measured window began.
    pub(crate) energy: crate::units::Energy,
    /// At the last reading, where the sensor gives one.
    pub(crate) power: Option<crate::units::Power>,
    /// Of that energy, at the run's central site rates.
    pub(crate) co2e: crate::units::Mass,
}

/// One node's share of a merged measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct NodeRow {
    pub(crate) node: String,
    pub(crate) rank: Option<u64>,
    pub(crate) started_at_unix_s: f64,
    pub(crate) duration_s: f64,
    pub(crate) energy_j: f64,
    pub(crate) energy_source: String,
    pub(crate) quality: Quality,
    pub(crate) devices_used: f64,
    pub(crate) status: Status,
}

/// What one "sample" of the measured model is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Per {
    /// A training sample: the measurement knows how many it processed.
    Sample,
    /// The whole measured run: a command measured without `--samples`.
    Run,
}

impl Per {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Per::Sample => "sample",
            Per::Run => "run",
        }
    }
}

/// What the measured model takes from a measurement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MeasuredFigures {
    pub(crate) joules_per_sample: f64,
    pub(crate) samples_per_second: f64,
    /// Devices the measurement ran on.
    pub(crate) devices: f64,
    /// Which sensor produced the energy figure, and whether it is measured or modelled.
    pub(crate) energy_source: String,
    /// What it ran on, for people.
    pub(crate) device: String,
    /// Whether the energy was modelled rather than read from hardware.
    pub(crate) modelled: bool,
    pub(crate) per: Per,
    /// Energy per FLOP and achieved FLOP/s of all devices together, when the FLOPs are known
    /// (footprint's own training loop): what a calibration uses.
    pub(crate) joules_per_flop: Option<f64>,
    pub(crate) flops_per_second: Option<f64>,
    /// What was measured: footprint's training loop, or the user's own command.
    pub(crate) mode: Mode,
    /// The GPUs whose energy was counted, by name; none for a CPU-only measurement.
    pub(crate) gpus: Vec<String>,
}

impl Measurement {
    /// What the measured model takes from it. With a sample count (the training loop, or a
    /// command given `--samples`) the figures are per sample; without one the whole run is the
    /// unit ([`Per::Run`]), which can describe the measured window but not be extrapolated to a
    /// number of samples — callers that extrapolate refuse it.
    pub(crate) fn figures(&self) -> MeasuredFigures {
        // The wall time the devices were busy: the window, or for a merged report its
        // summed device time over its devices.
        let busy = match self.device_seconds {
            Some(ds) => ds / self.devices_used.max(1.0),
            None => self.duration_s,
        }
        .max(1e-9);
        let (jps, sps, per) = match (self.joules_per_sample, self.samples_per_second) {
            (Some(j), Some(s)) => match (self.device_seconds, self.samples) {
                (Some(_), Some(n)) => (j, n as f64 / busy, Per::Sample),
                _ => (j, s, Per::Sample),
            },
            _ => (self.energy_j, 1.0 / busy, Per::Run),
        };
        MeasuredFigures {
            joules_per_sample: jps,
            samples_per_second: sps,
            devices: self.devices_used.max(1.0),
            energy_source: self.energy_source.clone(),
            device: self.device.clone(),
            modelled: self.quality == Quality::Modelled,
            per,
            joules_per_flop: self.joules_per_flop.filter(|j| *j > 0.0),
            flops_per_second: self.flops_per_second.filter(|f| *f > 0.0),
            mode: self.mode,
            gpus: self
                .sensors
                .iter()
                .filter(|d| d.kind == DeviceKind::Gpu && self.counted.contains(&d.id))
                .map(|d| d.name.clone())
                .collect(),
        }
    }

    /// Checks what a report read back claims: known schema, finite non-negative figures, and
    /// per-sample figures in the range a measurement can produce.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.schema_version != MEASUREMENT_SCHEMA {
            return Err(format!(
                "measurement schema {} is not {MEASUREMENT_SCHEMA}",
                self.schema_version
            ));
        }
        let fields = [
            ("duration_s", Some(self.duration_s)),
            ("energy_j", Some(self.energy_j)),
            ("devices_used", Some(self.devices_used)),
            ("cpu_seconds", Some(self.cpu_seconds)),
            ("samples_per_second", self.samples_per_second),
            ("joules_per_sample", self.joules_per_sample),
            ("tokens_per_second", self.tokens_per_second),
            ("flops", self.flops),
            ("flops_per_second", self.flops_per_second),
            ("joules_per_flop", self.joules_per_flop),
            ("device_seconds", self.device_seconds),
        ];
        for (name, v) in fields {
            if let Some(x) = v
                && !(x.is_finite() && x >= 0.0)
            {
                return Err(format!(
                    "measurement.{name} is {x}: expected a finite number ≥ 0"
                ));
            }
        }
        for d in &self.sensors {
            if !(d.energy_j.is_finite() && d.energy_j >= 0.0) {
                return Err(format!(
                    "measurement.sensors: {} has energy_j {}: expected a finite number ≥ 0",
                    d.id, d.energy_j
                ));
            }
        }
        if !(1.0..=1e7).contains(&self.devices_used) {
            return Err(format!(
                "measurement.devices_used is {}: expected 1 to 10 million devices",
                self.devices_used
            ));
        }
        if let (Some(j), Some(s)) = (self.joules_per_sample, self.samples_per_second)
            && !((1e-12..=1e15).contains(&j) && (1e-9..=1e12).contains(&s))
        {
            return Err(format!(
                "joules_per_sample {j} and samples_per_second {s} are not plausible measurements"
            ));
        }
        Ok(())
    }
}

/// A report written by `footprint measure -o`, read back: what `check`, `[measured]` and
/// `merge` use of it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MeasurementReport {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// The estimates it was written with, in its order.
    pub(crate) estimates: Vec<Estimate>,
    pub(crate) measurement: Measurement,
}

/// The serde form of the parts of a JSON report that are read back.
#[derive(Deserialize)]
struct ReportDoc {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    estimates: Vec<serde_json::Value>,
    #[serde(default)]
    measurement: Option<serde_json::Value>,
}

impl MeasurementReport {
    /// The one reader of measurement reports. `origin` names the file in errors.
    pub(crate) fn from_json(text: &str, origin: &str) -> Result<MeasurementReport, InputError> {
        let fail = |msg: String| InputError::new(msg).in_file(origin);
        let doc: ReportDoc =
            serde_json::from_str(text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
        if let Some(v) = doc.schema_version
            && v != REPORT_SCHEMA
        {
            return Err(fail(format!("report schema {v} is not {REPORT_SCHEMA}")));
        }
        let Some(m) = doc.measurement.filter(|m| m.is_object()) else {
            return Err(fail(
                "not a measurement report (no `measurement` object): write one with `footprint measure -o FILE`".to_string(),
            ));
        };
        // The schema first, so that a future schema says so rather than "missing field".
        let schema = m.get("schema_version").and_then(serde_json::Value::as_u64);
        if schema != Some(u64::from(MEASUREMENT_SCHEMA)) {
            return Err(fail(format!(
                "measurement schema {} is not {MEASUREMENT_SCHEMA}",
                schema.map_or("(none)".to_string(), |s| s.to_string())
            )));
        }
        let measurement: Measurement =
            serde_json::from_value(m).map_err(|e| fail(format!("measurement: {e}")))?;
        measurement.validate().map_err(fail)?;
        if doc.estimates.is_empty() {
            return Err(fail("the report has no estimates".to_string()));
        }
        let estimates = doc
            .estimates
            .into_iter()
            .map(|v| {
                serde_json::from_value::<EstimateRecord>(v)
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.to_estimate())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(format!("estimates: {e}")))?;
        Ok(MeasurementReport {
            name: doc.name.unwrap_or_else(|| "measurement".to_string()),
            description: doc.description,
            estimates,
            measurement,
        })
    }
}
