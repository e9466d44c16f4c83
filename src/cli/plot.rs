//! `footprint plot`: a trace drawn as power over time.

use super::args::PlotArgs;
use super::{check_outputs, emit};
use crate::app;
use crate::error::EXIT_OK;
use crate::report;

pub(super) fn plot_cmd(a: &PlotArgs) -> anyhow::Result<i32> {
    check_outputs(
        &[("-o", a.output.as_deref())],
        std::slice::from_ref(&a.trace),
    )?;
    if let Some(p) = &a.output {
        crate::files::check_writable(p, "-o")?;
    }
    let (trace, name) = app::plot(&a.trace)?;
    emit(&report::trace_svg(&trace, &name), a.output.as_deref())?;
    Ok(EXIT_OK)
}
