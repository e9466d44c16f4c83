//! footprint: what a training run costs in money, kWh and CO2e.
//!
//! The data flows one way (see DESIGN.md):
//! `spec` (run file) + `profiles` (embedded data) → `scenario` (defaults, lookups) →
//! `impact` (pure calculator) → `report` (table, JSON, CSV, Markdown) and `budget` (verdicts).

pub mod budget;
pub mod cli;
pub mod error;
pub mod impact;
pub mod measure;
pub mod output;
pub mod profiles;
pub mod report;
pub mod scenario;
pub mod spec;
pub mod units;
