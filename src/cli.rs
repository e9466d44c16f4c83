//! Command-line definitions and dispatch: flags → an [`app`](crate::app) call → a rendered
//! report and an exit code. Nothing here computes a figure or reads an input file.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::{self, MeasureMode, MeasureOutcome, MeasureRequest};
use crate::budget::{self, Limits};
use crate::error::{EXIT_BUDGET, EXIT_INPUT, EXIT_OK, InputError, exit_code};
use crate::measure::{self, workload};
use crate::record::WorkloadKind;
use crate::report::{self, Format, Report};
use crate::units;

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
    /// Train a real model (or run any command after `--`) and measure its energy.
    Measure(Box<MeasureArgs>),
    /// Check a run (or a measurement report) against an emission, energy or cost budget:
    /// exit 0 when every limit holds, 1 when one is exceeded, 2 on invalid input.
    Check(CheckArgs),
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
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// A run description (.toml) or a report written by `footprint measure -o` (.json).
    file: PathBuf,
    /// CO2e limit: 50kg, 0.5t, 800g (overrides [budget] max_co2e_kg).
    #[arg(long, value_name = "MASS")]
    max_co2e: Option<String>,
    /// Energy limit (facility energy, × PUE): 120kWh, 1.5MWh, 500Wh, 3.6MJ.
    #[arg(long, value_name = "ENERGY")]
    max_energy: Option<String>,
    /// Cost limit: 400usd or $400.
    #[arg(long, value_name = "MONEY")]
    max_cost: Option<String>,
    /// Check the high end of each range instead of the central figure.
    #[arg(long)]
    strict: bool,
    /// Output format (junit: one test case per limit, for CI test reporters).
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// Also append the Markdown report to FILE (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct MeasureArgs {
    /// Train on the GPU with candle's CUDA backend (a build with `--features cuda`).
    #[arg(long)]
    cuda: bool,
    /// GPUs to measure, e.g. `0,2` (a command: all visible by default; --cuda trains on the first).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    gpus: Option<Vec<u32>>,
    /// The model to train.
    #[arg(long, value_enum, default_value_t = WorkloadArg::Mlp)]
    workload: WorkloadArg,
    /// Measured training steps (default 100 when --duration is not given).
    #[arg(long, conflicts_with = "duration")]
    steps: Option<u64>,
    /// Train for this long instead of a number of steps: 30s, 2m, 1h.
    #[arg(long, value_parser = units::parse::parse_duration, value_name = "TIME")]
    duration: Option<units::Duration>,
    /// Steps before the measured window starts (not in the figures).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    #[command(flatten)]
    sizes: workload::Sizes,
    /// AdamW learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Seed of the synthetic data and the initial weights.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Sampling interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Stream every reading to this JSON-lines file as it is taken.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Extrapolate to this run description (its N × epochs, grid, PUE, prices).
    #[arg(long, value_name = "RUN.toml")]
    run: Option<PathBuf>,
    /// Grid for the measured window's CO2e when there is no --run (default: world average).
    #[arg(long, conflicts_with = "run")]
    region: Option<String>,
    /// Samples the measured command processes (gives J/sample for a command).
    #[arg(long)]
    samples: Option<u64>,
    /// Write the report as JSON to FILE (atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Format of what is printed (stdout for training, stderr for a command).
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// No progress line on stderr.
    #[arg(long)]
    no_progress: bool,
    /// The command to measure, after `--`: footprint measure -- python train.py
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
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

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Aligned table for people (default).
    Table,
    /// JSON, schema 1 of RUN-FORMAT.md.
    Json,
    /// CSV, one row per model.
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// JUnit XML, one test case per budget limit (check only).
    Junit,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Junit => Format::Junit,
        }
    }
}

/// `--workload`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum WorkloadArg {
    /// A multi-layer perceptron classifier.
    Mlp,
    /// A small decoder-only transformer language model.
    Transformer,
}

impl From<WorkloadArg> for WorkloadKind {
    fn from(w: WorkloadArg) -> WorkloadKind {
        match w {
            WorkloadArg::Mlp => WorkloadKind::Mlp,
            WorkloadArg::Transformer => WorkloadKind::Transformer,
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
