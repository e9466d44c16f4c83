//! footprint: what a training run costs in money, kWh and CO2e.
//!
//! The data flows one way; `docs/architecture.md` is the map of the modules:
//! `runfile` (run file) + `profiles` (embedded data) → `scenario` (defaults, lookups) →
//! `impact` (pure calculator) → `report` (table, JSON, CSV, Markdown) and `budget` (verdicts).
//! `measure` produces a `record::Measurement`; `app` runs each command's pipeline, and `cli`
//! only maps flags to it.

pub mod app;
pub mod budget;
pub mod cli;
pub mod defaults;
pub mod error;
pub(crate) mod files;
pub mod impact;
pub mod intensity;
pub mod measure;
pub(crate) mod platform;
pub mod plot;
pub mod profiles;
pub mod record;
pub mod report;
pub mod runfile;
pub mod scenario;
pub(crate) mod suggest;
pub(crate) mod text;
pub mod train;
pub mod units;
