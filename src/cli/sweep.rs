//! `footprint sweep`: what-if across devices, regions and the other options.

use std::path::Path;

use super::args::{SortArg, SweepArgs};
use super::{check_outputs, emit, flag_error, plan};
use crate::app;
use crate::error::EXIT_OK;
use crate::report::sweep::SweepView;
use crate::report::{self, Format};

pub(super) fn sweep_cmd(a: &SweepArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    use crate::report::sweep::SortBy;
    let plan = plan::<SweepView>(&a.out, a.out.format.map_or(Format::Table, Format::from))?;
    let mut outputs = plan.paths();
    outputs.push(("--plot", a.plot.as_deref()));
    check_outputs(&outputs, &app::inputs_of(Some(&a.run), profiles))?;
    if a.top == Some(0) {
        return Err(flag_error("--top", "must be at least 1"));
    }
    if let Some(p) = &a.plot {
        crate::files::check_writable(p, "--plot")?;
    }
    let axes = app::sweep::Axes {
        devices: a.device.clone(),
        regions: a.region.clone(),
        counts: a.count.clone(),
        utilizations: a.utilization.clone(),
        pues: a.pue.clone(),
        epochs: a.epochs.clone(),
        prices: a.price.clone(),
    };
    let by = match a.sort {
        SortArg::Co2e => SortBy::Co2e,
        SortArg::Energy => SortBy::Energy,
        SortArg::Cost => SortBy::Cost,
        SortArg::Time => SortBy::Time,
    };
    let keep = a.top.map(|top| app::sweep::Keep {
        by: by.field(),
        top,
    });
    let s = app::sweep::sweep(&a.run, profiles, &axes, keep)?;
    if let Some(path) = &a.plot {
        emit(&report::sweep::chart(&s, by, a.top), Some(path))?;
    }
    let view = SweepView {
        sweep: &s,
        by,
        top: a.top,
        explain: a.out.explain,
    };
    if plan.files.is_empty() {
        emit(&report::render(&view, plan.printed)?, None)?;
    }
    plan.write_files(|f| report::render(&view, f))?;
    Ok(EXIT_OK)
}
