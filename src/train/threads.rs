//! How many CPU threads the training loop steps on.
//!
//! The loop exists to measure what the machine does at its best: its J/FLOP calibrates
//! estimates. On some CPUs a second thread buys little throughput for a whole core's power
//! (issue 27: on a 2-core Intel Xeon VM, one thread trained the transformer at 23 % lower
//! J/sample), so a count is chosen by measurement, not assumed: each count that can help (one,
//! the physical cores, the logical CPUs) trains for a short window in a child `footprint
//! measure`, measured by the same sensors as the run, and the run keeps the count with the
//! lowest J/sample among those within 5 % of the best throughput.
//!
//! Children, not threads of this process: candle sizes its CPU pools once per process from
//! the environment, so a count can only be tried in a process of its own, and the run's count
//! must be set before this process starts any pool.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::record::{MeasurementReport, ThreadBasis, ThreadChoice, ThreadTrial};

/// Length of each trial's measured window: long enough for the CPU-time model's and RAPL's
/// readings (tens of samples at 100 ms), short next to a run worth trying counts for.
const TRIAL_SECONDS: u64 = 2;

/// Warm-up steps of each trial (allocation and caches settle; the run has its own warm-up).
const TRIAL_WARMUP_STEPS: u64 = 2;

/// A trial still running after this is abandoned (a workload whose steps take tens of
/// seconds): the run keeps the default count and says why.
const TRIAL_TIMEOUT: Duration = Duration::from_secs(120);

/// A count is chosen for a lower J/sample only if it trains at least this share of the best
/// trial's samples/s: a count that saves energy by training much slower costs wall time and
/// idle power elsewhere, and a calibration should reflect a setting people would run.
const THROUGHPUT_FLOOR: f64 = 0.95;

/// What the thread trial optimizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefer {
    /// The lowest J/sample within [`THROUGHPUT_FLOOR`] of the best throughput.
    Energy,
    /// The most samples/s.
    Speed,
}

/// How the run's thread count is set.
#[derive(Clone, Debug)]
pub(crate) enum ThreadPlan {
    /// Already set before any thread started (`--threads N`, the environment), or left to
    /// candle's default; the record says which and why.
    Set(ThreadChoice),
    /// Tried before the run starts. `measure_flags` are the `footprint measure` flags that
    /// describe the workload (and the profiles), so each child trains the same model.
    Trial {
        measure_flags: Vec<OsString>,
        prefer: Prefer,
    },
}

/// The thread counts worth trying: one, the physical cores, and the logical CPUs this process
/// may run on (its affinity and cgroup limits), without repeats.
pub(crate) fn candidates() -> Vec<usize> {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Without RAYON_NUM_THREADS (a trial runs only then), candle's count is the physical cores.
    let physical = candle_core::utils::get_num_threads().clamp(1, logical);
    let mut counts = vec![1, physical, logical];
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// A list of counts as people write it: "1, 2 and 4".
pub(crate) fn listed(counts: &[usize]) -> String {
    let names: Vec<String> = counts.iter().map(usize::to_string).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Runs the trials and sets the chosen count for this process's pools; on any failure, leaves
/// the default and says why. Never fails the run: the trial only tunes it.
///
/// # Safety
/// Sets environment variables (`use_threads`): call it before any other thread of this process
/// runs. On Linux it checks, and keeps the default when other threads exist.
pub(crate) unsafe fn try_counts(measure_flags: &[OsString], prefer: Prefer) -> ThreadChoice {
    let counts = candidates();
    let fallback = |why: String, trials: Vec<ThreadTrial>| ThreadChoice {
        basis: ThreadBasis::Default,
        reason: format!("the physical cores: {why}"),
        trials,
    };
    if counts.len() < 2 {
        return fallback(
            "the only count this machine can run".to_string(),
            Vec::new(),
        );
    }
    if crate::platform::thread_count().is_some_and(|n| n > 1) {
        return fallback(
            "threads were already running, so no count could be set".to_string(),
            Vec::new(),
        );
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return fallback(format!("no trial ({e})"), Vec::new()),
    };
    crate::error::say(&format!(
        "footprint: trying {} threads for {TRIAL_SECONDS} s each before the run (--threads N skips this)",
        listed(&counts)
    ));
    let mut trials = Vec::new();
    for &n in &counts {
        match run_trial(&exe, n, measure_flags) {
            Ok(t) => trials.push(t),
            Err(why) => return fallback(format!("the {n}-thread trial failed ({why})"), trials),
        }
    }
    let Some(chosen) = pick(&trials, prefer) else {
        return fallback("no trial trained".to_string(), trials);
    };
    // SAFETY: the caller guarantees no other thread runs (checked above where the platform
    // can tell); the children have exited.
    unsafe { super::use_threads(chosen) };
    let tried = listed(&counts);
    let reason = match prefer {
        Prefer::Energy => format!(
            "the lowest J/sample within {:.0} % of the best samples/s, of {tried} tried for {TRIAL_SECONDS} s each",
            (1.0 - THROUGHPUT_FLOOR) * 100.0
        ),
        Prefer::Speed => {
            format!(
                "the most samples/s (--prefer speed), of {tried} tried for {TRIAL_SECONDS} s each"
            )
        }
    };
    ThreadChoice {
        basis: ThreadBasis::Trial,
        reason,
        trials,
    }
}

/// The count a set of trials points to; `None` when no trial trained a sample.
fn pick(trials: &[ThreadTrial], prefer: Prefer) -> Option<usize> {
    let usable = || {
        trials
            .iter()
            .filter(|t| t.samples_per_second > 0.0 && t.joules_per_sample.is_finite())
    };
    let best = usable().map(|t| t.samples_per_second).fold(0.0, f64::max);
    let mut chosen: Option<&ThreadTrial> = None;
    // Trials come in rising thread counts; only a strictly better one replaces the current
    // choice, so a tie goes to fewer threads.
    for t in usable() {
        let better = match (chosen, prefer) {
            (None, Prefer::Speed) => true,
            (None, Prefer::Energy) => t.samples_per_second >= THROUGHPUT_FLOOR * best,
            (Some(c), Prefer::Speed) => t.samples_per_second > c.samples_per_second,
            (Some(c), Prefer::Energy) => {
                t.samples_per_second >= THROUGHPUT_FLOOR * best
                    && t.joules_per_sample < c.joules_per_sample
            }
        };
        if better {
            chosen = Some(t);
        }
    }
    chosen.map(|t| t.threads)
}

/// One trial: `footprint measure --threads N` for a short window, its JSON report read back.
fn run_trial(
    exe: &Path,
    threads: usize,
    measure_flags: &[OsString],
) -> Result<ThreadTrial, String> {
    let mut child = Command::new(exe)
        .arg("measure")
        .args(["--threads", &threads.to_string()])
        .args(["--duration", &format!("{TRIAL_SECONDS}s")])
        .args(["--warmup", &TRIAL_WARMUP_STEPS.to_string()])
        .args(["--no-progress", "-f", "json"])
        .args(measure_flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    // The report (a few kB) fits the pipe, so the child never blocks writing it.
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            // A stop (Ctrl-C, SIGTERM) ends the trial at once; the run then stops at its
            // first step and reports.
            Ok(None) if crate::platform::received().is_some() => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("stopped by a signal".to_string());
            }
            Ok(None) if started.elapsed() > TRIAL_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {} s", TRIAL_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut text).map_err(|e| e.to_string())?;
    }
    if !status.success() {
        return Err(format!("exit status {}", status.code().unwrap_or(-1)));
    }
    let report =
        MeasurementReport::from_json(&text, "the thread trial").map_err(|e| e.to_string())?;
    let m = report.measurement;
    match (m.samples_per_second, m.joules_per_sample) {
        (Some(sps), Some(jps)) if sps > 0.0 && jps.is_finite() => Ok(ThreadTrial {
            threads,
            samples_per_second: sps,
            joules_per_sample: jps,
            energy_source: m.energy_source,
        }),
        _ => Err("no samples/s or J/sample in its report".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(threads: usize, sps: f64, jps: f64) -> ThreadTrial {
        ThreadTrial {
            threads,
            samples_per_second: sps,
            joules_per_sample: jps,
            energy_source: "test".to_string(),
        }
    }

    #[test]
    fn energy_keeps_the_lowest_j_per_sample_within_the_throughput_floor() {
        // Issue 27's transformer on the Intel VM: one thread is slower (82 %) at lower J.
        let t = [trial(1, 437.0, 0.0092), trial(2, 533.0, 0.0119)];
        assert_eq!(pick(&t, Prefer::Energy), Some(2), "82 % is below the floor");
        assert_eq!(pick(&t, Prefer::Speed), Some(2));
        // Its MLP: one thread is faster and cheaper.
        let t = [trial(1, 15_680.0, 0.00030), trial(2, 14_900.0, 0.00039)];
        assert_eq!(pick(&t, Prefer::Energy), Some(1));
        assert_eq!(pick(&t, Prefer::Speed), Some(1));
        // Within 5 % of the best and cheaper: the fewer threads.
        let t = [trial(1, 960.0, 0.010), trial(2, 1000.0, 0.012)];
        assert_eq!(pick(&t, Prefer::Energy), Some(1));
        assert_eq!(pick(&t, Prefer::Speed), Some(2));
    }

    #[test]
    fn ties_go_to_fewer_threads_and_empty_trials_choose_nothing() {
        let t = [
            trial(1, 100.0, 0.01),
            trial(2, 100.0, 0.01),
            trial(4, 100.0, 0.01),
        ];
        assert_eq!(pick(&t, Prefer::Energy), Some(1));
        assert_eq!(pick(&t, Prefer::Speed), Some(1));
        assert_eq!(pick(&[], Prefer::Energy), None);
        assert_eq!(pick(&[trial(2, 0.0, f64::NAN)], Prefer::Speed), None);
    }

    #[test]
    fn candidates_start_at_one_and_do_not_repeat() {
        let c = candidates();
        assert_eq!(c[0], 1);
        assert!(c.windows(2).all(|w| w[0] < w[1]), "{c:?}");
        assert_eq!(listed(&[1, 2, 4]), "1, 2 and 4");
        assert_eq!(listed(&[1, 2]), "1 and 2");
        assert_eq!(listed(&[1]), "1");
    }
}
