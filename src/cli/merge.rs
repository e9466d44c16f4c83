//! `footprint merge`: node reports of one job into one.

use std::path::Path;

use super::args::MergeArgs;
use super::{check_output, check_outputs, emit, flag_error};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::{self, Format};

pub(super) fn merge_cmd(a: &MergeArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let format = Format::from(a.format);
    if format == Format::Junit {
        return Err(flag_error(
            "--format",
            "junit reports a budget: use `footprint check` on the merged report",
        ));
    }
    let mut inputs = app::inputs_of(None, profiles);
    inputs.extend(a.reports.iter().cloned());
    check_outputs(&[("-o", a.output.as_deref())], &inputs)?;
    check_output(a.output.as_deref(), "-o", &[])?;
    let report = app::merge::merge(&a.reports, a.force, a.region.as_deref(), profiles)?;
    if let Some(out) = &a.output {
        emit(&report::render(&report, Format::Json)?, Some(out))?;
    }
    emit(&report::render(&report, format)?, None)?;
    Ok(EXIT_OK)
}
