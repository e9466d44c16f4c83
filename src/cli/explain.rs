//! `footprint explain KEY`: the evidence behind one default.

use super::args::ExplainArgs;
use super::{check_outputs, emit, plan};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::{self, Format};

pub(super) fn explain_cmd(a: &ExplainArgs) -> anyhow::Result<i32> {
    let explanation = app::explain(&a.key)?;
    let plan = plan::<crate::record::Explanation>(
        &a.out,
        a.out.format.map_or(Format::Table, Format::from),
    )?;
    check_outputs(&plan.paths(), &[])?;
    if plan.files.is_empty() {
        emit(&report::render(&explanation, plan.printed)?, None)?;
    }
    plan.write_files(|f| report::render(&explanation, f))?;
    Ok(EXIT_OK)
}
