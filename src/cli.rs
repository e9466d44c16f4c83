//! Command-line definitions and dispatch. Each command reads its inputs, calls the library,
//! and hands a [`Report`] to an exporter; nothing here computes a figure.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::budget::{self, Limits};
use crate::error::{EXIT_OK, InputError, exit_code};
use crate::impact;
use crate::profiles::Registry;
use crate::report::{self, Format, Report};
use crate::scenario;
use crate::spec;

#[derive(Parser, Debug)]
#[command(
    name = "footprint",
    version,
    about = "What a training run costs in money, kWh and CO2e: before (estimate), while (measure) and in CI (check).",
    after_help = "Exit codes: 0 ok, 1 budget exceeded, 2 invalid input or usage, 3 measurement failed."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Directory of extra profile files (*.toml) that add to or override the embedded ones.
    #[arg(long, global = true, env = "FOOTPRINT_PROFILES", value_name = "DIR")]
    profiles: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Estimate cost, energy and CO2e of a run from its description (no hardware needed).
    Estimate(EstimateArgs),
    /// Show the embedded hardware, grid and cloud data.
    Profiles {
        #[command(subcommand)]
        command: ProfilesCommand,
    },
}

#[derive(Args, Debug)]
struct EstimateArgs {
    /// The run description (TOML, format 1).
    run: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum ProfilesCommand {
    /// List the profiles of one kind.
    List {
        #[arg(value_enum)]
        kind: ProfileKind,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one profile (an accelerator, a region or a CPU) with the source of every value.
    Show {
        /// A name or alias: H100, FR, US-CA, aws:us-east-1, "AMD EPYC 7763"...
        name: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProfileKind {
    /// Accelerators (GPUs and TPUs).
    #[value(alias = "accelerators")]
    Gpus,
    /// Electricity grids: countries, US states, bidding zones.
    #[value(alias = "regions")]
    Grids,
    /// Cloud regions.
    Clouds,
    /// CPU models and their TDP.
    Cpus,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

/// Runs the command line and returns the process exit code. Errors are printed here, on one
/// line each.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
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
        Command::Profiles { command } => {
            let reg = Registry::with_user_dir(cli.profiles.as_deref())?;
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

impl From<ProfileKind> for crate::report::profiles::Kind {
    fn from(k: ProfileKind) -> Self {
        use crate::report::profiles::Kind;
        match k {
            ProfileKind::Gpus => Kind::Accelerators,
            ProfileKind::Grids => Kind::Grids,
            ProfileKind::Clouds => Kind::Clouds,
            ProfileKind::Cpus => Kind::Cpus,
        }
    }
}

/// Everything an estimate of a run file produces, before it is rendered.
pub struct Evaluated {
    pub spec: spec::RunSpec,
    pub estimates: Vec<impact::Estimate>,
    pub built: scenario::Built,
}

/// Reads a run file, looks up its profiles and evaluates every model.
pub fn evaluate_run(path: &Path, profiles: Option<&Path>) -> anyhow::Result<Evaluated> {
    let reg = Registry::with_user_dir(profiles)?;
    let spec = spec::load(path)?;
    let figures = match &spec.measured {
        Some(m) => {
            return Err(spec
                .error_at(
                    m.report.line,
                    &m.report.key,
                    "[measured] is not yet supported by this version of footprint",
                )
                .into());
        }
        None => None,
    };
    let built = scenario::build(&spec, &reg, figures.as_ref())?;
    let estimates = impact::evaluate(&built.scenario);
    Ok(Evaluated {
        spec,
        estimates,
        built,
    })
}

fn estimate(a: &EstimateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let ev = evaluate_run(&a.run, profiles)?;
    let verdict = match &ev.spec.budget {
        Some(b) => Some(verdict(&ev, Limits::from_spec(b), false)?),
        None => None,
    };
    let report = Report {
        command: "estimate",
        name: ev.spec.name.clone(),
        description: ev.spec.description.clone(),
        estimates: ev.estimates,
        assumptions: ev.built.assumptions,
        notes: ev.built.notes,
        budget: verdict,
        measurement: None,
    };
    let text = report::exporter(a.format).render(&report)?;
    emit(&text, a.output.as_deref())?;
    Ok(EXIT_OK)
}

/// The budget verdict on the primary estimate of a run.
fn verdict(ev: &Evaluated, limits: Limits, strict: bool) -> anyhow::Result<budget::Verdict> {
    let primary = impact::primary(&ev.estimates).expect("a run has at least one model");
    budget::check(primary, &limits, strict)
        .map_err(|u| InputError::new(u.0).in_file(&ev.spec.file).into())
}

/// Writes to stdout, or atomically to a file. A closed stdout (`| head`) is not an error.
pub fn emit(text: &str, to: Option<&Path>) -> anyhow::Result<()> {
    match to {
        Some(path) => crate::output::write_atomic(path, text.as_bytes()).map_err(|e| {
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
