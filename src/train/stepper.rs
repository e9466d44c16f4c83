//! The setting a training loop steps in, so that it measures the hardware rather than the
//! framework's overheads, and a step that a stop request does not have to wait for.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::workload::{self, Trainer};
use crate::error::MeasureError;

/// Stack for the training threads: candle's backward pass walks the autograd graph
/// recursively, and the size flags' bounds were set so that the deepest graph fits the main
/// thread's usual 8 MiB; twice that leaves a margin without reserving much per thread (a
/// node with strict overcommit counts every thread's stack against its limit).
const STEP_STACK_BYTES: usize = 16 << 20;

/// How often a waiting caller asks whether to stop while a step runs.
const POLL: Duration = Duration::from_millis(20);

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

/// Sets the training loop's thread count (`measure --threads`): rayon's and candle's, which
/// both read it from the environment when their pools start.
///
/// # Safety
/// Changes the environment: call it before any other thread runs (start of `main`).
pub(crate) unsafe fn use_threads(n: usize) {
    for var in ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        // SAFETY: the caller guarantees no other thread reads the environment now.
        unsafe { std::env::set_var(var, n.to_string()) };
    }
}

/// What a trainer's steps are made of, read once: the figures a report needs, available even
/// while a step runs.
#[derive(Clone, Copy, Debug)]
pub struct StepFacts {
    pub samples_per_step: usize,
    pub flops_per_step: f64,
    pub parameters: usize,
    pub tokens_per_step: Option<usize>,
    /// Threads the steps run on.
    pub threads: usize,
}

/// A trainer in the setting a training loop gives it: the memory it frees kept for reuse
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
    trainer: Arc<Mutex<Box<dyn Trainer>>>,
    facts: StepFacts,
}

impl Stepper {
    pub fn new(trainer: Box<dyn Trainer>) -> anyhow::Result<Stepper> {
        crate::platform::keep_freed_memory();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(candle_core::utils::get_num_threads())
            .stack_size(STEP_STACK_BYTES)
            .thread_name(|i| format!("footprint-train-{i}"))
            .build()
            .map_err(|e| MeasureError(format!("cannot start the training threads: {e}")))?;
        let facts = StepFacts {
            samples_per_step: trainer.samples_per_step(),
            flops_per_step: trainer.flops_per_step(),
            parameters: trainer.parameters(),
            tokens_per_step: trainer.tokens_per_step(),
            threads: pool.current_num_threads(),
        };
        Ok(Stepper {
            pool,
            trainer: Arc::new(Mutex::new(trainer)),
            facts,
        })
    }

    pub fn facts(&self) -> &StepFacts {
        &self.facts
    }

    /// One optimizer step; returns the loss.
    pub fn step(&mut self) -> workload::Result<f32> {
        Ok(self.step_unless(|| false)?.expect("never stopped"))
    }

    /// One optimizer step, unless `stop` (asked every 20 ms while the step runs) says to stop
    /// first: then `None`, at once, and the step is left to finish on its own (its loss is
    /// dropped; a later step waits for it). A Ctrl-C or a budget does not have to wait for a
    /// long step. A panic inside the step is an error, not a crash.
    pub(crate) fn step_unless(
        &mut self,
        mut stop: impl FnMut() -> bool,
    ) -> workload::Result<Option<f32>> {
        let (tx, rx) = mpsc::channel();
        let trainer = Arc::clone(&self.trainer);
        self.pool.spawn(move || {
            let mut t = trainer.lock().unwrap_or_else(|e| e.into_inner());
            let r = catch_unwind(AssertUnwindSafe(|| t.step())).unwrap_or_else(|p| {
                let why = p
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| p.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                Err(candle_core::Error::Msg(format!("the step panicked: {why}")))
            });
            // The receiver is gone when the caller stopped waiting: nothing to tell.
            let _ = tx.send(r);
        });
        loop {
            match rx.recv_timeout(POLL) {
                Ok(r) => return r.map(Some),
                Err(RecvTimeoutError::Timeout) if stop() => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(candle_core::Error::Msg(
                        "the training thread ended without a result".to_string(),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A trainer whose steps take as long as it is told, and can fail or panic.
    struct Slow {
        secs: f64,
        calls: usize,
        fail_on: Option<usize>,
        panic_on: Option<usize>,
    }

    impl Trainer for Slow {
        fn step(&mut self) -> workload::Result<f32> {
            self.calls += 1;
            if self.panic_on == Some(self.calls) {
                panic!("boom");
            }
            if self.fail_on == Some(self.calls) {
                return Err(candle_core::Error::Msg("bad step".to_string()));
            }
            std::thread::sleep(Duration::from_secs_f64(self.secs));
            Ok(self.calls as f32)
        }
        fn samples_per_step(&self) -> usize {
            3
        }
        fn flops_per_step(&self) -> f64 {
            7.0
        }
        fn parameters(&self) -> usize {
            5
        }
    }

    fn slow(secs: f64) -> Slow {
        Slow {
            secs,
            calls: 0,
            fail_on: None,
            panic_on: None,
        }
    }

    #[test]
    fn steps_return_their_losses_in_order_and_the_facts_are_read_once() {
        let mut s = Stepper::new(Box::new(slow(0.0))).unwrap();
        assert_eq!(s.step().unwrap(), 1.0);
        assert_eq!(s.step().unwrap(), 2.0);
        assert_eq!(s.facts().samples_per_step, 3);
        assert_eq!(s.facts().flops_per_step, 7.0);
        assert_eq!(s.facts().parameters, 5);
    }

    #[test]
    fn a_stop_request_does_not_wait_for_a_long_step() {
        let mut s = Stepper::new(Box::new(slow(3.0))).unwrap();
        let t0 = Instant::now();
        let mut asked = 0;
        let r = s.step_unless(|| {
            asked += 1;
            asked >= 3
        });
        assert_eq!(r.unwrap(), None);
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    }

    #[test]
    fn a_failing_or_panicking_step_is_an_error() {
        let mut s = Stepper::new(Box::new(Slow {
            fail_on: Some(1),
            panic_on: Some(2),
            ..slow(0.0)
        }))
        .unwrap();
        assert!(s.step().unwrap_err().to_string().contains("bad step"));
        assert!(s.step().unwrap_err().to_string().contains("boom"));
        assert_eq!(s.step().unwrap(), 3.0, "the trainer is still usable");
    }
}
