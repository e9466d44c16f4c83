//! footprint: what a training run costs in money, kWh and CO2e.
//!
//! The data flows one way; `docs/architecture.md` is the map of the modules:
//! `runfile` (run file) + `profiles` (embedded data) → `scenario` (defaults, lookups) →
//! `impact` (pure calculator) → `report` (table, JSON, CSV, Markdown) and `budget` (verdicts).
//! `measure` produces a `record::Measurement`; `app` runs each command's pipeline, and `cli`
//! only maps flags to it.

mod app;
mod budget;
mod cli;
mod defaults;
mod error;
mod files;
mod impact;
mod intensity;
mod measure;
mod platform;
mod plot;
mod profiles;
mod record;
mod report;
mod runfile;
mod scenario;
mod suggest;
mod text;
mod train;
mod units;

#[doc(hidden)]
pub mod fuzzing;

/// The `footprint` command line: parses `std::env::args`, runs the command, returns the exit
/// code (0, 1 for a budget exceeded, 2 for bad input).
pub use cli::main;

/// What the benches (`benches/`) and the peer example (`benches/peers/train_plain.rs`) drive,
/// re-exported from the private modules. Not a stable API: the tool's interface is its command
/// line and the run-file and JSON contract of docs/run-format.md. Everything else in the crate
/// is private, so a `pub` inside a module means "used across modules", and the compiler
/// (`unreachable_pub`) keeps it `pub(crate)` unless it is named here.
#[doc(hidden)]
pub mod bench {
    pub use crate::app::sweep::{Axes, sweep};
    pub use crate::impact::{
        DeviceTime, DeviceUse, Inputs, Model, ModelKind, Scenario, Scratch, Site, Work, evaluate,
        evaluate_into,
    };
    pub use crate::intensity::Basis;
    pub use crate::intensity::parse::parse as parse_intensity;
    pub use crate::intensity::plan::{Job, candidates, pick};
    pub use crate::measure::sampler::Track;
    pub use crate::measure::sensor::Sensor;
    pub use crate::measure::sensor::cputime::{CpuModel, Scope};
    pub use crate::measure::sensor::synthetic::{Shape, SyntheticSensor};
    pub use crate::profiles::Registry;
    pub use crate::runfile::parse as parse_run_file;
    pub use crate::scenario::build as build_scenario;
    pub use crate::train::{Stepper, keep_freed_memory, limit_candle_spinning, ops, workload};
    pub use crate::units::{CarbonIntensity, Duration, Energy, Power};
}
