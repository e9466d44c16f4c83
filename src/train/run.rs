//! Training mode: a candle training loop in this process, measured after its warm-up.

use std::time::Instant;

use super::{StepFacts, Stepper, ThreadPlan, TrainOptions, workload};
use crate::error::MeasureError;
use crate::measure::progress::{Progress, live_line};
use crate::measure::sensor::cputime::{CpuModel, Scope};
use crate::measure::sensor::{DeviceKind, GpuSelection};
use crate::measure::{Common, from_sampler, hardware_sensors, now_unix, sensor};
use crate::platform::signal;
use crate::profiles::Registry;
use crate::record::{LossSummary, Measurement, Mode, WorkloadInfo};
use crate::units::sig4;

/// Memory assumed when the platform does not say how much it has.
const ASSUMED_MEMORY_BYTES: f64 = 8.0 * (1u64 << 30) as f64;

/// Refuses, before anything is allocated, a workload that would not fit in this machine's
/// memory (three quarters of it, leaving room for the rest of the system).
pub(crate) fn check_fits(config: &workload::Config) -> Result<(), String> {
    let need = config.memory_bytes();
    let have = crate::platform::total_memory_bytes().unwrap_or(ASSUMED_MEMORY_BYTES);
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
        Some(_) => Err(crate::error::InputError::new(
            "--cuda: this footprint was built without CUDA support; rebuild with `cargo build --release --features cuda` (needs the CUDA toolkit's nvcc; see docs/cuda.md)",
        )
        .into()),
    }
}

/// Trains the configured model and measures the steady-state window after warm-up.
pub(crate) fn train(
    opts: &TrainOptions,
    common: &Common,
    reg: &Registry,
) -> anyhow::Result<Measurement> {
    // First: a stop during the thread trial must end the run with a report, not kill it
    // (installing handlers starts no thread).
    signal::install();
    let thread_choice = match &opts.threads {
        ThreadPlan::Set(choice) => choice.clone(),
        ThreadPlan::Trial {
            measure_flags,
            prefer,
        } => {
            // SAFETY: the first thing the training run does: no sampler or candle pool has
            // started, and `try_counts` checks where the platform can tell.
            unsafe { super::threads::try_counts(measure_flags, *prefer) }
        }
    };
    let (device, device_label) = compute_device(opts.cuda)?;
    let built = workload::build(&opts.config, &device).map_err(|e| {
        MeasureError(format!(
            "cannot build the {} workload: {e}",
            opts.config.kind.as_str()
        ))
    })?;
    let mut stepper = Stepper::new(built)?;
    let (sensors, mut notices) = training_sensors(opts.cuda, reg);
    let started = now_unix();
    let sampler = crate::measure::start_sampler(sensors, common)?;
    let run = run_steps(&mut stepper, &sampler, opts, common)?;
    if !run.abandoned {
        // Queued GPU work belongs in the window. (A step that was left running would make
        // this wait for it.)
        let _ = device.synchronize();
    }
    let seconds = run.started.elapsed().as_secs_f64();
    let out = sampler.stop();
    if run.abandoned {
        notices.push(
            "stopped in the middle of a step: that step's energy so far is in the figures, its samples are not"
                .to_string(),
        );
    }

    let mut m = from_sampler(Mode::Training, started, seconds, out, notices);
    if let Some(why) = run.over.clone() {
        crate::measure::mark_budget_exceeded(&mut m, why);
    }
    crate::measure::final_budget_check(&mut m, common.budget.as_ref());
    if let (Some(i), false) = (
        opts.cuda,
        m.sensors.iter().any(|d| d.kind == DeviceKind::Gpu),
    ) {
        m.device = format!("CUDA device {i}");
    }
    let facts = stepper.facts();
    fill_training_figures(&mut m, &run, seconds, facts);
    m.workload = Some(WorkloadInfo {
        config: opts.config.clone(),
        device: device_label,
        parameters: facts.parameters,
        flops_per_step: facts.flops_per_step,
        samples_per_step: facts.samples_per_step,
        threads: Some(facts.threads),
        thread_choice: Some(thread_choice),
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

/// What the stepping did: the warm-up, the measured steps and their losses, why it stopped
/// early if a budget did, and whether a step was left unfinished by a stop.
struct StepRun {
    warmup: u64,
    steps: u64,
    started: Instant,
    first: Option<f32>,
    last: f32,
    over: Option<String>,
    abandoned: bool,
}

/// Warm-up, then [`Sampler::mark`](crate::measure::sampler::Sampler::mark), then steps until the step
/// count or the duration is reached (a step in progress finishes), or a signal or a budget says
/// stop (at once, even in the middle of a step).
fn run_steps(
    stepper: &mut Stepper,
    sampler: &crate::measure::sampler::Sampler,
    opts: &TrainOptions,
    common: &Common,
) -> anyhow::Result<StepRun> {
    let mut progress = Progress::new(common.sampling.progress);
    let step_err = |e: candle_core::Error| MeasureError(format!("training step failed: {e}"));
    let mut run = StepRun {
        warmup: 0,
        steps: 0,
        started: Instant::now(),
        first: None,
        last: f32::NAN,
        over: None,
        abandoned: false,
    };
    let signalled = || signal::received().is_some();
    while run.warmup < opts.warmup && !signalled() {
        if stepper.step_unless(signalled).map_err(step_err)?.is_none() {
            run.abandoned = true;
            return Ok(run);
        }
        run.warmup += 1;
        progress.show(|| format!("warm-up {}/{}", run.warmup, opts.warmup));
    }
    sampler.mark();
    run.started = Instant::now();
    let per_step = stepper.facts().samples_per_step as f64;
    // A budget or a signal: checked before each step and while one runs.
    let stop_now = |over: &mut Option<String>| {
        if let Some(b) = &common.budget {
            let l = sampler.live();
            *over = b.exceeded(l.energy, l.elapsed, l.devices);
        }
        over.is_some() || signalled()
    };
    loop {
        let elapsed = run.started.elapsed().as_secs_f64();
        if stop_now(&mut run.over)
            || opts.steps.is_some_and(|n| run.steps >= n)
            || opts.duration.is_some_and(|d| elapsed >= d.seconds())
        {
            break;
        }
        let Some(loss) = stepper
            .step_unless(|| stop_now(&mut run.over))
            .map_err(step_err)?
        else {
            run.abandoned = true;
            break;
        };
        run.last = loss;
        run.first.get_or_insert(loss);
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
fn fill_training_figures(m: &mut Measurement, run: &StepRun, seconds: f64, facts: &StepFacts) {
    let energy = m.energy_j;
    let steps = run.steps;
    let samples = steps * facts.samples_per_step as u64;
    let flops = steps as f64 * facts.flops_per_step;
    let rate = |x: f64| (steps > 0 && seconds > 0.0).then_some(x / seconds);
    m.samples = Some(samples);
    m.samples_per_second = rate(samples as f64);
    m.joules_per_sample = (samples > 0).then(|| energy / samples as f64);
    m.tokens_per_second = facts
        .tokens_per_step
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
