//! Training mode: a candle training loop in this process, measured after its warm-up.

use std::time::Instant;

use super::progress::{Progress, live_line};
use super::sensor::cputime::{CpuModel, Scope};
use super::sensor::{DeviceKind, GpuSelection};
use super::{TrainOptions, from_sampler, hardware_sensors, now_unix};
use super::{sensor, signal, workload};
use crate::error::{InputError, MeasureError};
use crate::profiles::Registry;
use crate::record::{LossSummary, Measurement, Mode, WorkloadInfo};
use crate::units::sig4;

/// Memory assumed when the platform does not say how much it has.
const ASSUMED_MEMORY_BYTES: f64 = 8.0 * (1u64 << 30) as f64;

/// Refuses, before anything is allocated, a workload that would not fit in this machine's
/// memory (three quarters of it, leaving room for the rest of the system).
pub fn check_fits(config: &workload::Config) -> Result<(), String> {
    let need = config.memory_bytes();
    let have = super::platform::total_memory_bytes().unwrap_or(ASSUMED_MEMORY_BYTES);
    if need > 0.75 * have {
        let gib = |b: f64| format!("{:.1} GiB", b / (1u64 << 30) as f64);
        return Err(format!(
            "this workload needs about {} (weights, gradients, AdamW state, activations) and the machine has {}: lower --batch-size, --width, --depth or --seq-len",
            gib(need),
            gib(have)
        ));
    }
    Ok(())
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

/// Stack for the training threads: candle's backward pass walks the autograd graph
/// recursively, and the size flags' bounds were set so that the deepest graph fits the main
/// thread's usual 8 MiB; this leaves a wide margin (only the pages used are committed).
const STEP_STACK_BYTES: usize = 64 << 20;

/// candle's CPU workers spin this many times waiting for the next op before they park (its
/// own default is 25,000).
const CANDLE_SPIN_LIMIT: &str = "1000";

/// Sets candle's worker spin limit for this process, unless the user set one.
///
/// candle's CPU workers spin up to 25,000 times waiting for the next op before they park. On
/// the reference machine that spinning was 40 % of the MLP's CPU time and 20 % of the
/// transformer's, for no more samples per second (docs/performance.md): energy spent waiting
/// is not training, and a calibration should not include it. A command measured after `--`
/// must never be given this: call it only for the training loop.
///
/// # Safety
/// Changes the environment: call it before any other thread runs (start of `main`).
pub unsafe fn limit_candle_spinning() {
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        // SAFETY: the caller guarantees no other thread reads the environment now.
        unsafe { std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", CANDLE_SPIN_LIMIT) };
    }
}

/// A trainer with the setting a training loop gives it, so that it measures the hardware
/// rather than the framework's overheads: the memory it frees kept for reuse
/// (`platform::keep_freed_memory`) and its steps run on a thread pool of their own.
///
/// The pool: candle's CPU matrix multiplies (and the fused ops') run on rayon; called from an
/// outside thread, every multiply handed its work to rayon's pool and slept until it was done,
/// a wake-up and a context switch per op each way. A step run inside the pool is itself on a
/// worker, which takes part in each multiply instead: on the reference machine that was 30 %
/// more samples/s for both workloads at lower J/sample (docs/performance.md). As many threads
/// as candle uses (`RAYON_NUM_THREADS`, else physical cores). `measure` and the peer
/// benchmark's plain trainer (benches/peers/train_plain.rs) both step through this.
pub struct Stepper {
    pool: rayon::ThreadPool,
    trainer: Box<dyn workload::Trainer>,
}

impl Stepper {
    pub fn new(trainer: Box<dyn workload::Trainer>) -> anyhow::Result<Stepper> {
        super::platform::keep_freed_memory();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(candle_core::utils::get_num_threads())
            .stack_size(STEP_STACK_BYTES)
            .thread_name(|i| format!("footprint-train-{i}"))
            .build()
            .map_err(|e| MeasureError(format!("cannot start the training threads: {e}")))?;
        Ok(Stepper { pool, trainer })
    }

    /// One optimizer step; returns the loss.
    pub fn step(&mut self) -> workload::Result<f32> {
        let trainer = &mut self.trainer;
        self.pool.install(|| trainer.step())
    }

    pub fn trainer(&self) -> &dyn workload::Trainer {
        self.trainer.as_ref()
    }
}

/// Trains the configured model and measures the steady-state window after warm-up.
pub fn train(opts: &TrainOptions, reg: &Registry) -> anyhow::Result<Measurement> {
    signal::install();
    let (device, device_label) = compute_device(opts.cuda)?;
    let built = workload::build(&opts.config, &device).map_err(|e| {
        MeasureError(format!(
            "cannot build the {} workload: {e}",
            opts.config.kind.as_str()
        ))
    })?;
    let mut stepper = Stepper::new(built)?;
    let (sensors, notices) = training_sensors(opts.cuda, reg);
    let started = now_unix();
    let sampler = super::start_sampler(sensors, &opts.common)?;
    let run = run_steps(&mut stepper, &sampler, opts)?;
    let _ = device.synchronize();
    let seconds = run.started.elapsed().as_secs_f64();
    let out = sampler.stop();

    let mut m = from_sampler(Mode::Training, started, seconds, out, notices);
    if let Some(why) = run.over.clone() {
        super::mark_budget_exceeded(&mut m, why);
    }
    if let (Some(i), false) = (
        opts.cuda,
        m.sensors.iter().any(|d| d.kind == DeviceKind::Gpu),
    ) {
        m.device = format!("CUDA device {i}");
    }
    fill_training_figures(&mut m, &run, seconds, stepper.trainer());
    m.workload = Some(WorkloadInfo {
        config: opts.config.clone(),
        device: device_label,
        parameters: stepper.trainer().parameters(),
        flops_per_step: stepper.trainer().flops_per_step(),
        samples_per_step: stepper.trainer().samples_per_step(),
    });
    m.cpu_seconds = sensor::cputime::self_cpu_seconds();
    Ok(m)
}

/// The sensors a training run reads: the GPU it trains on (if any, and readable) and this
/// process's CPU time; with a notice when a CUDA run's GPU cannot be read.
fn training_sensors(
    cuda: Option<usize>,
    reg: &Registry,
) -> (Vec<Box<dyn sensor::Sensor>>, Vec<String>) {
    let gpus = match cuda {
        Some(i) => GpuSelection::CudaOrdinals(vec![i as u32]),
        None => GpuSelection::None,
    };
    let (mut sensors, mut notices) = hardware_sensors(&gpus);
    if cuda.is_some() && !sensors.iter().any(|s| s.info().kind == DeviceKind::Gpu) {
        notices.push(
            "the GPU's energy is not measured (NVML unavailable): only the host CPU is counted"
                .to_string(),
        );
    }
    sensors.push(Box::new(CpuModel::here(Scope::SelfProcess, reg.cpus())));
    (sensors, notices)
}

/// What the stepping did: the warm-up, the measured steps and their losses, and why it
/// stopped early if a budget did.
struct StepRun {
    warmup: u64,
    steps: u64,
    started: Instant,
    first: Option<f32>,
    last: f32,
    over: Option<String>,
}

/// Warm-up, then [`Sampler::mark`](super::sampler::Sampler::mark), then steps until the step
/// count, the duration, a budget or a signal says stop.
fn run_steps(
    stepper: &mut Stepper,
    sampler: &super::sampler::Sampler,
    opts: &TrainOptions,
) -> anyhow::Result<StepRun> {
    let mut progress = Progress::new(opts.common.progress);
    let step_err = |e: candle_core::Error| MeasureError(format!("training step failed: {e}"));
    let mut warm = 0;
    while warm < opts.warmup && signal::received().is_none() {
        stepper.step().map_err(step_err)?;
        warm += 1;
        progress.show(|| format!("warm-up {warm}/{}", opts.warmup));
    }
    sampler.mark();
    let mut run = StepRun {
        warmup: warm,
        steps: 0,
        started: Instant::now(),
        first: None,
        last: f32::NAN,
        over: None,
    };
    let per_step = stepper.trainer().samples_per_step() as f64;
    loop {
        if let Some(b) = &opts.common.budget {
            let l = sampler.live();
            run.over = b.exceeded(l.energy, l.elapsed, l.devices);
        }
        let elapsed = run.started.elapsed().as_secs_f64();
        if run.over.is_some()
            || signal::received().is_some()
            || opts.steps.is_some_and(|n| run.steps >= n)
            || opts.duration.is_some_and(|d| elapsed >= d.seconds())
        {
            break;
        }
        run.last = stepper.step().map_err(step_err)?;
        run.first.get_or_insert(run.last);
        run.steps += 1;
        progress.show(|| {
            let of = opts.steps.map(|n| format!("/{n}")).unwrap_or_default();
            let rate = run.steps as f64 * per_step / run.started.elapsed().as_secs_f64();
            format!(
                "step {}{of} · {} samples/s · {}",
                run.steps,
                sig4(rate),
                live_line(sampler)
            )
        });
    }
    progress.done();
    Ok(run)
}

/// The training figures of a measured window of `seconds`: samples, tokens and FLOPs and their
/// rates, energy per sample and per FLOP, steps and losses.
fn fill_training_figures(
    m: &mut Measurement,
    run: &StepRun,
    seconds: f64,
    trainer: &dyn workload::Trainer,
) {
    let energy = m.energy_j;
    let steps = run.steps;
    let samples = steps * trainer.samples_per_step() as u64;
    let flops = steps as f64 * trainer.flops_per_step();
    let rate = |x: f64| (steps > 0 && seconds > 0.0).then_some(x / seconds);
    m.samples = Some(samples);
    m.samples_per_second = rate(samples as f64);
    m.joules_per_sample = (samples > 0).then(|| energy / samples as f64);
    m.tokens_per_second = trainer
        .tokens_per_step()
        .and_then(|t| rate(steps as f64 * t as f64));
    m.flops = Some(flops);
    m.flops_per_second = rate(flops);
    m.joules_per_flop = (flops > 0.0).then(|| energy / flops);
    m.steps = Some(steps);
    m.warmup_steps = Some(run.warmup);
    m.loss = run.first.map(|f| LossSummary {
        first: f64::from(f),
        last: f64::from(run.last),
    });
}
