//! The training loop that `footprint measure` runs when it is given no command: candle models
//! on seeded synthetic data (`workload`), stepped on their own thread pool (`stepper`), with
//! fused CPU ops (`ops`, `vmath`) and an in-place AdamW (`adamw`). `run` measures it with the
//! sensors and sampler of [`crate::measure`].
//!
//! Kept apart from measuring: a reader looking for how NVML is sampled need not walk past
//! AVX-512 kernels, and measuring never depends on how a model is trained.

mod adamw;
pub mod ops;
mod run;
mod stepper;
mod threads;
mod vmath;
pub mod workload;

use crate::units::Duration;

pub use crate::platform::keep_freed_memory;
pub(crate) use run::{check_fits, train};
pub(crate) use stepper::{StepFacts, use_threads};
pub use stepper::{Stepper, limit_candle_spinning};
pub(crate) use threads::{Prefer, ThreadPlan, candidates, listed};

/// What to train, for how long, and how to measure it.
#[derive(Clone, Debug)]
pub(crate) struct TrainOptions {
    pub(crate) config: workload::Config,
    pub(crate) steps: Option<u64>,
    pub(crate) duration: Option<Duration>,
    pub(crate) warmup: u64,
    pub(crate) cuda: Option<usize>,
    /// How the CPU thread count is set (before the run, or by a trial).
    pub(crate) threads: ThreadPlan,
}
