//! `footprint when`: flags → `app::when::when` → the plan in the format asked for, and the
//! chart with `--plot`.

use std::path::Path;

use super::args::WhenArgs;
use super::{check_outputs, emit, flag_error, plan};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::{self, Format, when::WhenView};

pub(super) fn when_cmd(a: &WhenArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let plan = plan::<WhenView<'_>>(&a.out, a.out.format.map_or(Format::Table, Format::from))?;
    let mut outputs = plan.paths();
    outputs.push(("--plot", a.plot.as_deref()));
    let mut inputs = app::inputs_of(Some(&a.run), profiles);
    inputs.extend(a.intensity.clone());
    check_outputs(&outputs, &inputs)?;
    if let Some(p) = &a.plot {
        crate::files::check_writable(p, "--plot")?;
    }
    let now = match &a.now {
        Some(t) => {
            crate::intensity::parse::parse_time(t, false).map_err(|m| flag_error("--now", &m))?
        }
        None => crate::measure::now_unix(),
    };
    if a.step.seconds().is_nan() || a.step.seconds() < 60.0 {
        return Err(flag_error("--step", "is under a minute: write 1m or more"));
    }
    if a.within.seconds().is_nan() || a.within.seconds() < 0.0 {
        return Err(flag_error("--within", "must be a duration ≥ 0"));
    }
    let planned = app::when::when(&app::when::WhenRequest {
        run: &a.run,
        profiles,
        series: a.intensity.as_deref(),
        basis: a.basis.into(),
        within: a.within,
        step: a.step,
        now,
    })?;
    let view = WhenView {
        plan: &planned.plan,
        series: &planned.series,
    };
    if let Some(path) = &a.plot {
        emit(
            &report::when::chart(&planned.plan, &planned.series),
            Some(path),
        )?;
    }
    if plan.files.is_empty() {
        emit(&report::render(&view, plan.printed)?, None)?;
    }
    plan.write_files(|f| report::render(&view, f))?;
    Ok(EXIT_OK)
}
