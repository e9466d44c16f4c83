//! Command-line definitions and dispatch: flags → an [`app`](crate::app) call → a rendered
//! report and an exit code. Nothing here computes a figure or reads an input file.

use std::io::Write;
use std::path::Path;

use clap::{CommandFactory, Parser};

use crate::app;
use crate::budget::{self, Limits};
use crate::error::{
    EXIT_BUDGET, EXIT_INPUT, EXIT_OK, InputError, OutputError, exit_code, printable, say,
};
use crate::files;
use crate::report::{self, Format, Report};

mod args;
mod measure;
mod validate;

use measure::measure_cmd;
use validate::validate_cmd;

pub use args::Cli;
use args::{
    CheckArgs, Command, EstimateArgs, ListFormat, MergeArgs, PlotArgs, ProfilesCommand, SortArg,
    SweepArgs,
};

/// Runs the command line and returns the process exit code. Errors are printed here, on one
/// line each.
pub fn main() -> i32 {
    // An empty FOOTPRINT_PROFILES means "no extra profiles", not a flag given without a value.
    if std::env::var_os("FOOTPRINT_PROFILES").is_some_and(|v| v.is_empty()) {
        // SAFETY: nothing else runs yet: no other thread reads the environment.
        unsafe { std::env::remove_var("FOOTPRINT_PROFILES") };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // clap's own rendering: the error, a "did you mean" tip, the valid values and the
            // subcommand's usage. A stderr that cannot be written changes nothing.
            let _ = e.print();
            return EXIT_INPUT;
        }
        Err(e) => {
            let _ = e.print();
            return EXIT_OK;
        }
    };
    if let Command::Measure(a) = &cli.command
        && a.command.is_empty()
    {
        // The training loop: candle's workers park soon instead of spinning between ops
        // (a command after `--` never sees this).
        // SAFETY: nothing else runs yet: no other thread reads the environment.
        unsafe { crate::measure::limit_candle_spinning() };
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            say(&format!("error: {}", printable(&format!("{e:#}"))));
            exit_code(&e)
        }
    }
}

fn run(mut cli: Cli) -> anyhow::Result<i32> {
    // An empty FOOTPRINT_PROFILES (or --profiles "") means no extra profiles.
    cli.profiles = cli.profiles.filter(|p| !p.as_os_str().is_empty());
    match cli.command {
        Command::Estimate(a) => estimate(&a, cli.profiles.as_deref()),
        Command::Measure(a) => measure_cmd(&a, cli.profiles.as_deref()),
        Command::Check(a) => check_cmd(&a, cli.profiles.as_deref()),
        Command::Validate(a) => validate_cmd(&a, cli.profiles.as_deref()),
        Command::Sweep(a) => sweep_cmd(&a, cli.profiles.as_deref()),
        Command::Plot(a) => plot_cmd(&a),
        Command::Merge(a) => merge_cmd(&a, cli.profiles.as_deref()),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "footprint", &mut out);
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(EXIT_OK)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| OutputError::new("the man page", e))?;
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(EXIT_OK)
        }
        Command::Profiles { command } => {
            let reg = app::registry(cli.profiles.as_deref())?;
            match command {
                ProfilesCommand::List { kind, format } => {
                    emit(
                        &crate::report::profiles::list(
                            &reg,
                            kind.into(),
                            matches!(format, ListFormat::Json),
                        )?,
                        None,
                    )?;
                }
                ProfilesCommand::Show { name } => {
                    emit(&crate::report::profiles::show(&reg, &name)?, None)?
                }
            }
            Ok(EXIT_OK)
        }
    }
}

fn estimate(a: &EstimateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    if let Some(out) = &a.output {
        not_an_input(out, "-o", &[&a.run])?;
    }
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
    emit(
        &report::exporter(format).render(&report)?,
        a.output.as_deref(),
    )?;
    Ok(EXIT_OK)
}

fn merge_cmd(a: &MergeArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let format = Format::from(a.format);
    if format == Format::Junit {
        return Err(flag_error(
            "--format",
            "junit reports a budget: use `footprint check` on the merged report",
        ));
    }
    let inputs: Vec<&Path> = a.reports.iter().map(|p| p.as_path()).collect();
    check_output(a.output.as_deref(), "-o", &inputs)?;
    let report = app::merge::merge(&a.reports, a.force, a.region.as_deref(), profiles)?;
    if let Some(out) = &a.output {
        emit(&report::exporter(Format::Json).render(&report)?, Some(out))?;
    }
    emit(&report::exporter(format).render(&report)?, None)?;
    Ok(EXIT_OK)
}

fn sweep_cmd(a: &SweepArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    use crate::report::sweep::SortBy;
    let format = Format::from(a.format);
    if format == Format::Junit {
        return Err(flag_error(
            "--format",
            "sweep writes table, json, csv, markdown or html",
        ));
    }
    if let Some(out) = &a.output {
        not_an_input(out, "-o", &[&a.run])?;
    }
    if a.top == Some(0) {
        return Err(flag_error("--top", "must be at least 1"));
    }
    check_output(a.plot.as_deref(), "--plot", &[&a.run])?;
    let axes = app::sweep::Axes {
        devices: a.device.clone(),
        regions: a.region.clone(),
        counts: a.count.clone(),
        utilizations: a.utilization.clone(),
        pues: a.pue.clone(),
        epochs: a.epochs.clone(),
        prices: a.price.clone(),
    };
    let s = app::sweep::sweep(&a.run, profiles, &axes)?;
    let by = match a.sort {
        SortArg::Co2e => SortBy::Co2e,
        SortArg::Energy => SortBy::Energy,
        SortArg::Cost => SortBy::Cost,
        SortArg::Time => SortBy::Time,
    };
    if let Some(path) = &a.plot {
        emit(&report::sweep::chart(&s, by, a.top), Some(path))?;
    }
    emit(
        &report::sweep::render(&s, by, a.top, format),
        a.output.as_deref(),
    )?;
    Ok(EXIT_OK)
}

fn plot_cmd(a: &PlotArgs) -> anyhow::Result<i32> {
    check_output(a.output.as_deref(), "-o", &[&a.trace])?;
    let shown = a.trace.display().to_string();
    // A ten-hour trace of several sensors at 100 ms is a few hundred MB.
    let text = files::read_text(&a.trace, 2 << 30)?;
    let trace = crate::record::trace::parse_trace(&text, &shown)?;
    if trace.series.iter().all(|s| s.points.is_empty()) {
        return Err(
            crate::error::InputError::new("the trace has no power readings to draw")
                .in_file(&shown)
                .into(),
        );
    }
    let name = a
        .trace
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    emit(&report::trace_svg(&trace, &name), a.output.as_deref())?;
    Ok(EXIT_OK)
}

/// Writes to stdout, or to a file (`-o`; `-` is stdout). Any failure, a closed stdout
/// included, is an [`OutputError`] naming what could not be written (exit 4).
pub fn emit(text: &str, to: Option<&Path>) -> anyhow::Result<()> {
    match to {
        Some(path) if path.as_os_str() != "-" => files::write_output(path, text.as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e).into()),
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| OutputError::new("stdout", e).into())
        }
    }
}

/// An output given by `flag`, checked before any work is done: not one of the inputs, and
/// writable.
fn check_output(out: Option<&Path>, flag: &str, inputs: &[&Path]) -> anyhow::Result<()> {
    if let Some(out) = out {
        not_an_input(out, flag, inputs)?;
        files::check_writable(out, flag)?;
    }
    Ok(())
}

/// Refuses an output path that is also one of the inputs: writing it would destroy the input.
fn not_an_input(out: &Path, flag: &str, inputs: &[&Path]) -> anyhow::Result<()> {
    if let Some(i) = inputs.iter().find(|i| files::same_file(out, i)) {
        return Err(flag_error(
            flag,
            format!(
                "{} is also an input ({}): writing it would destroy it; name another file",
                out.display(),
                i.display()
            ),
        ));
    }
    Ok(())
}

fn flag_error(flag: &str, msg: impl Into<String>) -> anyhow::Error {
    InputError::new(msg).for_key(flag).into()
}

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

fn check_cmd(a: &CheckArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    if let Some(s) = &a.summary {
        not_an_input(s, "--summary", &[&a.file])?;
    }
    let format = Format::from(a.format);
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
    let shown = emit(&report::exporter(format).render(&report)?, None);
    if !verdict.ok {
        for (line, pass) in report::verdict_lines(verdict) {
            if !pass {
                say(&format!("budget exceeded: {line}"));
            }
        }
    }
    github(&report, format)?;
    if let Some(path) = &a.summary {
        let md = report::exporter(Format::Markdown).render(&report)?;
        files::append(path, md.as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e))?;
    }
    shown?;
    Ok(if verdict.ok { EXIT_OK } else { EXIT_BUDGET })
}

/// In a GitHub Actions job: an `::error::` annotation per exceeded limit (on stdout, where the
/// runner reads workflow commands, unless stdout carries JSON, CSV or JUnit), and the primary
/// figures and the verdict as step outputs in `$GITHUB_OUTPUT`.
fn github(report: &Report, format: Format) -> anyhow::Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let Some(v) = &report.budget else {
        return Ok(());
    };
    if matches!(format, Format::Table | Format::Markdown) {
        let mut lines = String::new();
        for (line, pass) in report::verdict_lines(v) {
            if !pass {
                lines.push_str(&format!(
                    "::error title=footprint budget ({})::{}\n",
                    report.name.replace([':', ',', '\n', '\r'], " "),
                    line.replace(['\n', '\r'], " ")
                ));
            }
        }
        if !lines.is_empty() {
            emit(&lines, None)?;
        }
    }
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let mut out = format!("budget_ok={}\n", v.ok);
        if let Some(e) = crate::impact::primary(&report.estimates) {
            use crate::record::Field;
            for f in [Field::Co2e, Field::Energy, Field::Cost] {
                if let Some(x) = f.value(&e.central) {
                    out.push_str(&format!("{}={}\n", f.key(), crate::record::tidy(x)));
                }
            }
        }
        files::append(&path, out.as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e))?;
    }
    Ok(())
}
