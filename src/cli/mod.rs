//! Command-line definitions and dispatch: flags → an [`app`](crate::app) call → a rendered
//! report and an exit code. Nothing here computes a figure or reads an input file.

use std::io::Write;
use std::path::Path;

use clap::Parser;

use crate::app::{self, MeasureMode, MeasureOutcome, MeasureRequest};
use crate::budget::{self, Limits};
use crate::error::{EXIT_BUDGET, EXIT_INPUT, EXIT_OK, InputError, exit_code};
use crate::measure::{self, workload};
use crate::report::{self, Format, Report};
use crate::units;

mod args;

pub use args::Cli;
use args::{CheckArgs, Command, EstimateArgs, ListFormat, MeasureArgs, ProfilesCommand};

/// Runs the command line and returns the process exit code. Errors are printed here, on one
/// line each.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // One line, like every other input error: clap's first line, without the usage.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("{first} (see `footprint --help`)");
            return EXIT_INPUT;
        }
        Err(e) => {
            let _ = e.print();
            return EXIT_OK;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code(&e)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Estimate(a) => estimate(&a, cli.profiles.as_deref()),
        Command::Measure(a) => measure_cmd(&a, cli.profiles.as_deref()),
        Command::Check(a) => check_cmd(&a, cli.profiles.as_deref()),
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
    let report = app::estimate(&a.run, profiles)?;
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

/// Writes to stdout, or atomically to a file. A closed stdout (`| head`) is not an error.
pub fn emit(text: &str, to: Option<&Path>) -> anyhow::Result<()> {
    match to {
        Some(path) => crate::files::write_atomic(path, text.as_bytes()).map_err(|e| {
            InputError::new(format!("cannot write: {e}"))
                .in_file(path.display().to_string())
                .into()
        }),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            }
        }
    }
}

fn flag_error(flag: &str, msg: impl Into<String>) -> anyhow::Error {
    InputError::new(msg).for_key(flag).into()
}

/// The workload configuration the flags ask for.
fn workload_config(a: &MeasureArgs) -> anyhow::Result<workload::Config> {
    let mut c = workload::Config::sized(a.workload.into(), &a.sizes)
        .map_err(|(flag, msg)| flag_error(flag, msg))?;
    if let Some(lr) = a.lr {
        if !(lr.is_finite() && lr > 0.0 && lr < 10.0) {
            return Err(flag_error(
                "--lr",
                format!("learning rate {lr} must be in (0, 10)"),
            ));
        }
        c.learning_rate = lr;
    }
    c.seed = a.seed;
    Ok(c)
}

/// What the measure flags ask for: the training loop or a command, checked for conflicts.
fn measure_mode(a: &MeasureArgs) -> anyhow::Result<MeasureMode> {
    if a.interval_ms == 0 || a.interval_ms > 60_000 {
        return Err(flag_error("--interval-ms", "must be between 1 and 60000"));
    }
    let common = measure::Common {
        interval: units::Duration::from_seconds(a.interval_ms as f64 / 1e3),
        trace: a.trace.clone(),
        progress: !a.no_progress,
    };
    if a.command.is_empty() {
        if a.samples.is_some() {
            return Err(flag_error(
                "--samples",
                "applies to a command after `--`; the training loop counts its own samples",
            ));
        }
        let cuda = a.cuda.then(|| {
            a.gpus
                .as_ref()
                .and_then(|g| g.first())
                .copied()
                .unwrap_or(0) as usize
        });
        return Ok(MeasureMode::Train(measure::TrainOptions {
            config: workload_config(a)?,
            steps: a.steps.or(if a.duration.is_none() {
                Some(100)
            } else {
                None
            }),
            duration: a.duration,
            warmup: a.warmup,
            cuda,
            common,
        }));
    }
    if a.cuda || a.steps.is_some() || a.duration.is_some() {
        return Err(flag_error(
            "--cuda",
            "--cuda, --steps and --duration apply to the training loop, not to a command after `--`",
        ));
    }
    Ok(MeasureMode::Command(measure::WrapOptions {
        command: a.command.clone(),
        gpus: match &a.gpus {
            Some(g) => measure::sensor::GpuSelection::Indices(g.clone()),
            None => measure::sensor::GpuSelection::All,
        },
        samples: a.samples,
        common,
    }))
}

fn measure_cmd(a: &MeasureArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let req = MeasureRequest {
        mode: measure_mode(a)?,
        run: a.run.clone(),
        region: a.region.clone(),
    };
    let to_stderr = matches!(req.mode, MeasureMode::Command(_));
    let (report, code) = match app::measure(&req, profiles)? {
        MeasureOutcome::Measured { report, exit_code } => (report, exit_code),
        MeasureOutcome::NotStarted(fail) => {
            eprintln!("error: {}", fail.message);
            return Ok(fail.code);
        }
    };
    if let Some(path) = &a.output {
        emit(&report::exporter(Format::Json).render(&report)?, Some(path))?;
    }
    let text = report::exporter(a.format.into()).render(&report)?;
    if to_stderr {
        eprint!("{text}");
    } else {
        emit(&text, None)?;
    }
    Ok(code)
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
            .map(|s| budget::parse_mass("--max-co2e", s).map_err(bad("--max-co2e")))
            .transpose()?,
        energy: a
            .max_energy
            .as_deref()
            .map(|s| budget::parse_energy("--max-energy", s).map_err(bad("--max-energy")))
            .transpose()?,
        cost: a
            .max_cost
            .as_deref()
            .map(|s| budget::parse_money("--max-cost", s).map_err(bad("--max-cost")))
            .transpose()?,
    })
}

fn check_cmd(a: &CheckArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let report: Report = app::check(&a.file, profiles, flag_limits(a)?, a.strict)?;
    let verdict = report.budget.as_ref().expect("check sets the verdict");
    if let Some(path) = &a.summary {
        let md = report::exporter(Format::Markdown).render(&report)?;
        crate::files::append(path, md.as_bytes()).map_err(|e| {
            InputError::new(format!("cannot append the summary: {e}"))
                .in_file(path.display().to_string())
        })?;
    }
    emit(&report::exporter(a.format.into()).render(&report)?, None)?;
    if verdict.ok {
        return Ok(EXIT_OK);
    }
    for (line, pass) in report::verdict_lines(verdict) {
        if !pass {
            eprintln!("budget exceeded: {line}");
        }
    }
    Ok(EXIT_BUDGET)
}
