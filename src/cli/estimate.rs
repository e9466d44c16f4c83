//! `footprint estimate`: flags → `app::estimate` → the report in the format asked for.

use std::path::Path;

use super::args::EstimateArgs;
use super::{check_output, check_outputs, emit, flag_error};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::{self, Format};

pub(super) fn estimate(a: &EstimateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    check_outputs(
        &[("-o", a.output.as_deref()), ("--plot", a.plot.as_deref())],
        &app::inputs_of(Some(&a.run), profiles),
    )?;
    check_output(a.plot.as_deref(), "--plot", &[&a.run])?;
    let report = app::estimate(&a.run, profiles)?;
    if let Some(path) = &a.plot {
        let svg = report::estimate_svg(&report)
            .ok_or_else(|| flag_error("--plot", "the run has no estimate to draw"))?;
        emit(&svg, Some(path))?;
    }
    let format = Format::from(a.format);
    if format == Format::Junit && report.budget.is_none() {
        return Err(flag_error(
            "--format",
            "junit reports a budget: add [budget] to the run file, or use `footprint check`",
        ));
    }
    emit(&report::render(&report, format)?, a.output.as_deref())?;
    Ok(EXIT_OK)
}
