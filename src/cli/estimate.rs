//! `footprint estimate`: flags → `app::estimate` → the report in the format asked for.

use std::path::Path;

use super::args::EstimateArgs;
use super::{check_outputs, emit, flag_error, plan};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::{self, Format, Report};

pub(super) fn estimate(a: &EstimateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let plan = plan::<Report>(&a.out, a.out.format.map_or(Format::Table, Format::from))?;
    let mut outputs = plan.paths();
    outputs.push(("--plot", a.plot.as_deref()));
    check_outputs(&outputs, &app::inputs_of(Some(&a.run), profiles))?;
    if let Some(p) = &a.plot {
        crate::files::check_writable(p, "--plot")?;
    }
    let report = app::estimate(&a.run, profiles)?;
    if let Some(path) = &a.plot {
        let svg = report::estimate_svg(&report)
            .ok_or_else(|| flag_error("--plot", "the run has no estimate to draw"))?;
        emit(&svg, Some(path))?;
    }
    if plan.writes(Format::Junit) && report.budget.is_none() {
        return Err(flag_error(
            "--format",
            "junit reports a budget: add [budget] to the run file, or use `footprint check`",
        ));
    }
    // Printed when no file is named; otherwise each file gets its format.
    if plan.files.is_empty() {
        emit(
            &report::render_report(&report, plan.printed, a.out.explain)?,
            None,
        )?;
    }
    plan.write_files(|f| report::render_report(&report, f, a.out.explain))?;
    Ok(EXIT_OK)
}
