//! `footprint merge`: node reports of one job into one.

use std::path::Path;

use super::args::MergeArgs;
use super::{check_outputs, emit, flag_error, plan};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::{self, Format, Report};

pub(super) fn merge_cmd(a: &MergeArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    // A merged report's files are JSON unless -f or their extension says otherwise: the
    // report `check` and `[measured]` read.
    let plan = plan::<Report>(&a.out, Format::Json)?;
    if plan.writes(Format::Junit) {
        return Err(flag_error(
            "--format",
            "junit reports a budget: use `footprint check` on the merged report",
        ));
    }
    let mut inputs = app::inputs_of(None, profiles);
    inputs.extend(a.reports.iter().cloned());
    check_outputs(&plan.paths(), &inputs)?;
    for (path, _) in &plan.files {
        crate::files::check_writable(path, "-o")?;
    }
    let report = app::merge::merge(&a.reports, a.force, a.region.as_deref(), profiles)?;
    plan.write_files(|f| report::render_report(&report, f, a.out.explain))?;
    emit(
        &report::render_report(&report, plan.printed, a.out.explain)?,
        None,
    )?;
    Ok(EXIT_OK)
}
