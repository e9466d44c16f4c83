//! JSON output, schema 1 (docs/run-format.md). Field names here are a contract: add, never rename.
//! An estimate's fields are [`EstimateRecord`]'s, the measurement is the [`Measurement`] record:
//! the same types the report is read back through.

use serde::Serialize;

use super::{Exporter, Report};
use crate::impact::ModelKind;
use crate::record::Assumption;
use crate::record::Verdict;
use crate::record::{EstimateRecord, Measurement, REPORT_SCHEMA};

pub(crate) const SCHEMA_VERSION: u32 = REPORT_SCHEMA;

/// The whole JSON document.
#[derive(Serialize, Debug)]
pub(crate) struct JsonReport<'a> {
    pub(crate) schema_version: u32,
    pub(crate) name: &'a str,
    pub(crate) primary: Option<ModelKind>,
    pub(crate) estimates: Vec<EstimateRecord>,
    pub(crate) assumptions: &'a [Assumption],
    pub(crate) budget: Option<&'a Verdict>,
    // Added to schema 1:
    pub(crate) command: &'a str,
    pub(crate) description: Option<&'a str>,
    pub(crate) notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) measurement: Option<&'a Measurement>,
}

impl<'a> JsonReport<'a> {
    pub(crate) fn new(r: &'a Report) -> Self {
        JsonReport {
            schema_version: SCHEMA_VERSION,
            name: &r.name,
            primary: r.primary(),
            estimates: r.estimates.iter().map(EstimateRecord::from).collect(),
            assumptions: &r.assumptions,
            budget: r.budget.as_ref(),
            command: r.kind.as_str(),
            description: r.description.as_deref(),
            notes: &r.notes,
            measurement: r.measurement.as_ref(),
        }
    }
}

pub(crate) struct JsonExporter;

impl Exporter for JsonExporter {
    fn render(&self, report: &Report) -> anyhow::Result<String> {
        let mut s = serde_json::to_string_pretty(&JsonReport::new(report))?;
        s.push('\n');
        Ok(s)
    }
}
