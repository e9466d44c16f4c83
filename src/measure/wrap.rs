//! Command mode: any command, spawned without a shell, measured with its whole process tree
//! for as long as it runs.

use std::time::Instant;

use super::progress::{Progress, live_line};
use super::sensor;
use super::sensor::cputime::{CpuModel, Scope};
use super::sensor::{DeviceKind, GpuSelection};
use super::{Common, WrapOptions, from_sampler, hardware_sensors, now_unix};
use crate::error::MeasureError;
use crate::platform::{self, signal};
use crate::profiles::Registry;
use crate::record::{Measurement, Mode};

/// Why a command could not be started, and the exit code `env` would use.
pub(crate) struct SpawnFailure {
    pub(crate) message: String,
    pub(crate) code: i32,
}

/// Runs `opts.command`, measuring everything it uses until it exits. Returns the measurement
/// and the command's exit code.
pub(crate) fn wrap(
    opts: &WrapOptions,
    common: &Common,
    reg: &Registry,
) -> anyhow::Result<Result<(Measurement, i32), SpawnFailure>> {
    signal::install();
    let (mut sensors, mut notices) = hardware_sensors(&opts.gpus);
    require_asked_gpus(&opts.gpus, &sensors, &notices)?;
    let adopting = platform::adopt_orphans();
    let program = opts.command[0].to_string_lossy().into_owned();
    let started = now_unix();
    let t0 = Instant::now();
    let mut child = match spawn(opts, &program) {
        Ok(c) => c,
        Err(failure) => return Ok(Err(failure)),
    };
    let pid = child.id() as i32;
    signal::forward_to(pid);
    let mut cpu = CpuModel::here(Scope::Tree(pid), reg.cpus());
    cpu.start_at_zero();
    sensors.push(Box::new(cpu));
    let sampler = super::start_sampler(sensors, common)?;
    let (status, over) =
        wait_measuring(&mut child, &sampler, opts, common, &program, &mut notices)?;
    let window = t0.elapsed().as_secs_f64();
    let out = sampler.stop();
    signal::forward_to(0);
    if adopting && (over.is_some() || signal::received().is_some()) {
        stop_leftovers(opts.kill_after, &mut notices);
    }
    if adopting {
        notices.extend(leftover_notice(&platform::leftover_children()));
    }
    // Interrupted: exit as the interrupted footprint would (130, 143, 129), not with whatever
    // the command chose to return; stopped by its budget: 1, as `check` does.
    let code = match (signal::received(), &over) {
        (Some(sig), _) => 128 + sig,
        (None, Some(_)) => crate::error::EXIT_BUDGET,
        (None, None) => platform::exit_code_of(status),
    };
    let mut m = from_sampler(Mode::Command, started, window, out, notices);
    if let Some(why) = over {
        super::mark_budget_exceeded(&mut m, why);
    }
    let code = if super::final_budget_check(&mut m, common.budget.as_ref())
        && signal::received().is_none()
    {
        crate::error::EXIT_BUDGET
    } else {
        code
    };
    let energy = m.energy_j;
    m.samples = opts.samples;
    m.samples_per_second = opts
        .samples
        .filter(|_| window > 0.0)
        .map(|n| n as f64 / window);
    m.joules_per_sample = opts.samples.filter(|n| *n > 0).map(|n| energy / n as f64);
    m.command = Some(
        opts.command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    );
    m.exit_code = Some(platform::exit_code_of(status));
    m.cpu_seconds = sensor::cputime::children_cpu_seconds();
    Ok(Ok((m, code)))
}

/// GPUs asked for by number must be read: measuring without them would report a CPU-only
/// figure for a GPU job. Refused (exit 2) before the command starts, with the reason the
/// vendor's reader gave.
fn require_asked_gpus(
    gpus: &GpuSelection,
    sensors: &[Box<dyn sensor::Sensor>],
    notices: &[String],
) -> Result<(), crate::error::InputError> {
    let GpuSelection::Indices(asked) = gpus else {
        return Ok(());
    };
    let read = sensors.iter().filter(|s| s.info().kind == DeviceKind::Gpu);
    if read.count() >= asked.len() {
        return Ok(());
    }
    let why = notices
        .iter()
        .find_map(|n| n.strip_prefix("amdgpu: "))
        .or_else(|| notices.iter().find_map(|n| n.strip_prefix("NVML: ")))
        .unwrap_or("not every GPU asked for can be read");
    Err(crate::error::InputError::new(why).for_key("--gpus"))
}

/// Starts the command, no shell in between; a failure carries the exit code `env` would use.
fn spawn(opts: &WrapOptions, program: &str) -> Result<std::process::Child, SpawnFailure> {
    std::process::Command::new(&opts.command[0])
        .args(&opts.command[1..])
        .spawn()
        .map_err(|e| {
            let (what, code) = match e.kind() {
                std::io::ErrorKind::NotFound => ("not found", 127),
                std::io::ErrorKind::PermissionDenied => ("permission denied", 126),
                _ => ("cannot start", 126),
            };
            SpawnFailure {
                message: format!("cannot run '{program}': {what} ({e})"),
                code,
            }
        })
}

/// Waits for the command while the sampler runs: checks the runtime budget (asking the command
/// to stop when it is spent), escalates a stop the command ignores, shows progress. Returns
/// its exit status and the budget it exceeded, if one.
fn wait_measuring(
    child: &mut std::process::Child,
    sampler: &super::sampler::Sampler,
    opts: &WrapOptions,
    common: &Common,
    program: &str,
    notices: &mut Vec<String>,
) -> anyhow::Result<(std::process::ExitStatus, Option<String>)> {
    let pid = child.id() as i32;
    let mut progress = Progress::new(common.sampling.progress);
    let mut stop = Escalation::default();
    let mut over: Option<String> = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {
                if over.is_none()
                    && let Some(b) = &common.budget
                {
                    let l = sampler.live();
                    over = b.exceeded(l.energy, l.elapsed, l.devices);
                    if over.is_some() {
                        // Ask the command and everything it started to stop, as a
                        // scheduler's cgroup kill would; they get the same grace.
                        platform::terminate_tree(pid);
                        stop.requested();
                    }
                }
                if let Some(note) = stop.tick(pid, opts.kill_after) {
                    notices.push(note);
                }
                progress.show(|| format!("{program} · {}", live_line(sampler)));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(MeasureError(format!("waiting for '{program}': {e}")).into()),
        }
    };
    progress.done();
    Ok((status, over))
}

/// After a stop (the budget's or a signal's), what the command started and left running is
/// stopped too: asked (TERM), then killed after the grace the command itself had.
fn stop_leftovers(grace: std::time::Duration, notices: &mut Vec<String>) {
    let left = platform::leftover_children();
    if left.is_empty() {
        return;
    }
    for &p in &left {
        platform::terminate_tree(p);
    }
    let t0 = Instant::now();
    while t0.elapsed() < grace && !platform::leftover_children().is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = platform::leftover_children();
    for &p in &killed {
        platform::kill_tree(p);
    }
    notices.push(format!(
        "the stop also ended {} process(es) the command had left running ({}){}",
        left.len(),
        left.iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        if killed.is_empty() {
            String::new()
        } else {
            format!("; {} killed after the grace", killed.len())
        }
    ));
}

/// The notice for processes the command started that outlived it (adopted as orphans).
fn leftover_notice(leftover: &[i32]) -> Option<String> {
    (!leftover.is_empty()).then(|| {
        format!(
            "{} process(es) started by the command were still running when it exited (pid {}): what they use from then on is not counted",
            leftover.len(),
            leftover
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// What happens after a stop signal reached a command that keeps running: after `kill_after`
/// (or at once on a second signal) the command and its descendants are killed.
#[derive(Default)]
struct Escalation {
    first: Option<Instant>,
    killed: bool,
}

impl Escalation {
    /// footprint itself asked the command to stop (its runtime budget).
    fn requested(&mut self) {
        self.first.get_or_insert_with(Instant::now);
    }

    /// Called while the command runs; returns a note for the report when it kills.
    fn tick(&mut self, pid: i32, kill_after: std::time::Duration) -> Option<String> {
        if self.first.is_none() {
            signal::received()?;
            // The handler forwarded the signal to the command; its descendants get it too.
            platform::terminate_tree(pid);
        }
        let first = *self.first.get_or_insert_with(Instant::now);
        let again = platform::signal_count() >= 2;
        if self.killed || !(again || first.elapsed() >= kill_after) {
            return None;
        }
        self.killed = true;
        platform::kill_tree(pid);
        Some(if again {
            "a second stop signal: the command and its processes were killed".to_string()
        } else {
            format!(
                "the command was still running {} s after the stop signal: it and its processes were killed",
                kill_after.as_secs_f64()
            )
        })
    }
}
