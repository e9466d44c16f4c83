//! `footprint check`: the budget gate for CI, with its GitHub Actions outputs.

use std::path::Path;

use super::args::CheckArgs;
use super::{check_outputs, emit, flag_error, plan};
use crate::app;
use crate::budget::{self, Limits};
use crate::error::{EXIT_BUDGET, EXIT_OK, OutputError, say};
use crate::files;
use crate::report::{self, Format, Report};

/// The limits given on the command line.
fn flag_limits(a: &CheckArgs) -> anyhow::Result<Limits> {
    fn bad(flag: &'static str) -> impl Fn(String) -> anyhow::Error {
        move |msg| flag_error(flag, msg)
    }
    Ok(Limits {
        co2e: a
            .max_co2e
            .as_deref()
            .map(|s| budget::parse_mass(s).map_err(bad("--max-co2e")))
            .transpose()?,
        energy: a
            .max_energy
            .as_deref()
            .map(|s| budget::parse_energy(s).map_err(bad("--max-energy")))
            .transpose()?,
        cost: a
            .max_cost
            .as_deref()
            .map(|s| budget::parse_money(s).map_err(bad("--max-cost")))
            .transpose()?,
    })
}

pub(super) fn check_cmd(a: &CheckArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let plan = plan::<Report>(&a.out, a.out.format.map_or(Format::Table, Format::from))?;
    let mut outputs = plan.paths();
    outputs.push(("--summary", a.summary.as_deref()));
    check_outputs(&outputs, &app::inputs_of(Some(&a.file), profiles))?;
    let format = plan.printed;
    let report: Report = match app::check(&a.file, profiles, flag_limits(a)?, a.strict) {
        Ok(r) => r,
        Err(e) if format == Format::Junit => {
            // A CI reporter still gets a file that says why.
            emit(
                &report::junit::input_error(&a.file.display().to_string(), &e.to_string()),
                None,
            )?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let verdict = report.budget.as_ref().expect("check sets the verdict");
    // The verdict first: an output that fails afterwards must not hide it.
    let shown = emit(
        &report::render_report(&report, format, a.out.explain)?,
        None,
    );
    if !verdict.ok {
        for (line, pass) in report::verdict_lines(verdict) {
            if !pass {
                say(&format!("budget exceeded: {line}"));
            }
        }
    }
    github(&report, format)?;
    let files = plan.write_files(|f| report::render_report(&report, f, a.out.explain));
    if let Some(path) = &a.summary {
        let md = report::render_report(&report, Format::Markdown, a.out.explain)?;
        files::append(path, md.as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e))?;
    }
    shown?;
    files?;
    Ok(if verdict.ok { EXIT_OK } else { EXIT_BUDGET })
}

/// In a GitHub Actions job: the annotations on stdout (unless stdout carries JSON, CSV or
/// JUnit, where the runner would mix them in) and the step outputs in `$GITHUB_OUTPUT`.
fn github(report: &Report, format: Format) -> anyhow::Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") || report.budget.is_none() {
        return Ok(());
    }
    if matches!(format, Format::Table | Format::Markdown) {
        let lines = report::github::annotations(report);
        if !lines.is_empty() {
            emit(&lines, None)?;
        }
    }
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        let path = std::path::PathBuf::from(path);
        files::append(&path, report::github::step_outputs(report).as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e))?;
    }
    Ok(())
}
