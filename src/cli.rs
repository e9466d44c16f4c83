//! Command-line definitions and dispatch. Each command reads its inputs, calls the library,
//! and hands a [`Report`] to an exporter; nothing here computes a figure.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::budget::{self, Limits};
use crate::error::{EXIT_OK, InputError, exit_code};
use crate::impact;
use crate::measure::{self, workload};
use crate::profiles::Registry;
use crate::report::{self, Format, Report};
use crate::scenario;
use crate::spec;
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
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
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
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
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
    #[arg(long, value_enum, default_value_t = workload::Kind::Mlp)]
    workload: workload::Kind,
    /// Measured training steps (default 100 when --duration is not given).
    #[arg(long, conflicts_with = "duration")]
    steps: Option<u64>,
    /// Train for this long instead of a number of steps: 30s, 2m, 1h.
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
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
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    format: Format,
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
            return crate::error::EXIT_INPUT;
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

impl Evaluated {
    /// The report of an evaluated run, for `command`.
    fn into_report(self, command: &'static str, budget: Option<budget::Verdict>) -> Report {
        Report {
            command,
            name: self.spec.name,
            description: self.spec.description,
            estimates: self.estimates,
            assumptions: self.built.assumptions,
            notes: self.built.notes,
            budget,
            measurement: None,
        }
    }
}

/// Reads a run file, looks up its profiles and evaluates every model.
pub fn evaluate_run(path: &Path, profiles: Option<&Path>) -> anyhow::Result<Evaluated> {
    evaluate_spec(spec::load(path)?, profiles)
}

/// Looks up a parsed run's profiles and evaluates every model.
fn evaluate_spec(spec: spec::RunSpec, profiles: Option<&Path>) -> anyhow::Result<Evaluated> {
    let reg = Registry::with_user_dir(profiles)?;
    let figures = match &spec.measured {
        Some(m) => {
            let at = |msg: String| spec.error_at(m.report.line, &m.report.key, msg);
            let text = spec::read_text(&m.path, 64 << 20)
                .map_err(|e| at(format!("{}: {}", m.path.display(), e.message)))?;
            Some(
                measure::figures_from_report(&text)
                    .map_err(|msg| at(format!("{}: {msg}", m.path.display())))?,
            )
        }
        None => None,
    };
    let built = scenario::build(&spec, &reg, figures.as_ref())?;
    let estimates = impact::evaluate(&built.scenario);
    if !estimates.iter().all(impact::Estimate::is_finite) {
        return Err(spec
            .error("the figures overflow: an input is too large (or a product of inputs is)")
            .into());
    }
    Ok(Evaluated {
        spec,
        estimates,
        built,
    })
}

fn estimate(a: &EstimateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let ev = evaluate_run(&a.run, profiles)?;
    if a.format == Format::Junit && ev.spec.budget.is_none() {
        return Err(flag_error(
            "--format",
            "junit reports a budget: add [budget] to the run file, or use `footprint check`",
        ));
    }
    let verdict = match &ev.spec.budget {
        Some(b) => Some(verdict(&ev, Limits::from_spec(b), false)?),
        None => None,
    };
    let report = ev.into_report("estimate", verdict);
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

/// "30s", "2m", "1.5h", "500ms", or plain seconds.
fn parse_duration(s: &str) -> Result<units::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let x: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration: write 30s, 2m, 1h or 500ms"))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" => x,
        "ms" => x / 1e3,
        "m" | "min" => x * 60.0,
        "h" => x * 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}': use ms, s, m or h"
            ));
        }
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("'{s}' must be a positive duration"));
    }
    Ok(units::Duration::from_seconds(secs))
}

fn flag_error(flag: &str, msg: impl Into<String>) -> anyhow::Error {
    InputError::new(msg).for_key(flag).into()
}

/// The workload configuration the flags ask for.
fn workload_config(a: &MeasureArgs) -> anyhow::Result<workload::Config> {
    let mut c = workload::Config::sized(a.workload, &a.sizes)
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

/// The run a measurement is reported against: the user's (`--run`, extrapolated to its
/// N × epochs) or just the measured window itself.
fn measurement_spec(
    a: &MeasureArgs,
    run: Option<spec::RunSpec>,
    m: &measure::Measurement,
) -> anyhow::Result<spec::RunSpec> {
    use spec::{In, RangeValue};
    let here = |key: &str, value: String| In {
        value,
        line: 0,
        key: key.to_string(),
    };
    let measured = spec::Measured {
        report: here("measured.report", "(this measurement)".to_string()),
        path: PathBuf::new(),
    };
    if let Some(mut s) = run {
        if s.dataset.is_none() {
            return Err(s
                .error(
                    "--run: the run needs [dataset] samples (N) to extrapolate the measurement to",
                )
                .into());
        }
        if m.samples.is_none() {
            return Err(flag_error(
                "--samples",
                "--run with a command needs --samples N: how many samples the command trained on",
            ));
        }
        s.measured = Some(measured);
        return Ok(s);
    }
    let name = match &m.command {
        Some(c) => c.join(" "),
        None => m.workload.as_ref().map_or("training".to_string(), |w| {
            format!("{:?} on {}", w.config.kind, w.device).to_lowercase()
        }),
    };
    Ok(spec::RunSpec {
        file: "(command line)".to_string(),
        name,
        description: Some(
            "the measured window itself, not extrapolated (give --run RUN.toml to extrapolate)"
                .to_string(),
        ),
        dataset: Some(spec::Dataset {
            shards: vec![spec::Shard {
                samples: In {
                    value: m
                        .samples
                        .filter(|n| *n > 0 && m.joules_per_sample.is_some())
                        .unwrap_or(1),
                    line: 0,
                    key: "dataset.samples".to_string(),
                },
                sample_bytes: None,
            }],
            epochs: Some(In {
                value: RangeValue::point(1.0),
                line: 0,
                key: "dataset.epochs".to_string(),
            }),
            line: 0,
        }),
        per_sample: None,
        compute: None,
        hardware: None,
        site: spec::Site {
            region: a.region.clone().map(|r| here("--region", r)),
            ..spec::Site::default()
        },
        embodied: None,
        measured: Some(measured),
        budget: None,
    })
}

fn measure_cmd(a: &MeasureArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let reg = Registry::with_user_dir(profiles)?;
    if a.interval_ms == 0 || a.interval_ms > 60_000 {
        return Err(flag_error("--interval-ms", "must be between 1 and 60000"));
    }
    // Read the run file before measuring, so that a bad one fails at once, not after.
    let run = a.run.as_deref().map(spec::load).transpose()?;
    let common = measure::Common {
        interval: units::Duration::from_seconds(a.interval_ms as f64 / 1e3),
        trace: a.trace.clone(),
        progress: !a.no_progress,
    };
    let (m, code, to_stderr) = if a.command.is_empty() {
        if a.samples.is_some() {
            return Err(flag_error(
                "--samples",
                "applies to a command after `--`; the training loop counts its own samples",
            ));
        }
        let cuda = if a.cuda {
            Some(
                a.gpus
                    .as_ref()
                    .and_then(|g| g.first())
                    .copied()
                    .unwrap_or(0) as usize,
            )
        } else {
            None
        };
        let opts = measure::TrainOptions {
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
        };
        let m = measure::train(&opts, &reg)?;
        let code = match m.status {
            measure::Status::Interrupted => 128 + measure::signal::received().unwrap_or(2),
            measure::Status::Complete => EXIT_OK,
        };
        (m, code, false)
    } else {
        if a.cuda || a.steps.is_some() || a.duration.is_some() {
            return Err(flag_error(
                "--cuda",
                "--cuda, --steps and --duration apply to the training loop, not to a command after `--`",
            ));
        }
        let opts = measure::WrapOptions {
            command: a.command.clone(),
            gpus: match &a.gpus {
                Some(g) => measure::sensor::GpuSelection::Indices(g.clone()),
                None => measure::sensor::GpuSelection::All,
            },
            samples: a.samples,
            common,
        };
        match measure::wrap(&opts, &reg)? {
            Ok((m, code)) => (m, code, true),
            Err(fail) => {
                eprintln!("error: {}", fail.message);
                return Ok(fail.code);
            }
        }
    };
    let spec = measurement_spec(a, run, &m)?;
    let built = scenario::build(&spec, &reg, Some(&m.figures()))?;
    let estimates = impact::evaluate(&built.scenario);
    let mut notes = built.notes;
    if m.status == measure::Status::Interrupted {
        notes.insert(
            0,
            "the measurement was interrupted: figures cover what ran until then".to_string(),
        );
    }
    let report = Report {
        command: "measure",
        name: spec.name.clone(),
        description: spec.description.clone(),
        estimates,
        assumptions: built.assumptions,
        notes,
        budget: None,
        measurement: Some(serde_json::to_value(&m)?),
    };
    if let Some(path) = &a.output {
        let json = report::exporter(Format::Json).render(&report)?;
        emit(&json, Some(path))?;
    }
    let text = report::exporter(a.format).render(&report)?;
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

/// Whether a file is a JSON report rather than a run description.
fn looks_like_json(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{')
}

/// A report from `footprint measure -o`, read back for checking.
fn report_from_measurement(path: &Path, text: &str) -> anyhow::Result<Report> {
    let shown = path.display().to_string();
    let fail = |msg: String| anyhow::Error::from(InputError::new(msg).in_file(&shown));
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
    let Some(m) = v.get("measurement").filter(|m| m.is_object()) else {
        return Err(fail(
            "not a measurement report (no `measurement` object): check takes a run description (.toml) or the JSON of `footprint measure -o`".to_string(),
        ));
    };
    let estimates = v
        .get("estimates")
        .and_then(|e| e.as_array())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| fail("the report has no estimates".to_string()))?
        .iter()
        .map(report::estimate_from_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("estimates: {e}")))?;
    let mut notes = vec![format!("checked the measurement report {shown}")];
    if m.get("status").and_then(|s| s.as_str()) == Some("interrupted") {
        notes.push("the measurement was interrupted: its figures cover only what ran".to_string());
    }
    Ok(Report {
        command: "check",
        name: v
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("measurement")
            .to_string(),
        description: v
            .get("description")
            .and_then(|d| d.as_str())
            .map(String::from),
        estimates,
        assumptions: Vec::new(),
        notes,
        budget: None,
        measurement: Some(m.clone()),
    })
}

fn check_cmd(a: &CheckArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let flags = flag_limits(a)?;
    let text = spec::read_text(&a.file, 64 << 20)?;
    let (mut report, file_limits, shown) = if looks_like_json(&a.file, &text) {
        (
            report_from_measurement(&a.file, &text)?,
            Limits::default(),
            a.file.display().to_string(),
        )
    } else {
        // The text is already read: parse it rather than reading the file again (a run file
        // over the run-file size limit still gets load's message).
        if text.len() as u64 > spec::MAX_FILE_BYTES {
            spec::read_text(&a.file, spec::MAX_FILE_BYTES)?;
        }
        let dir = a.file.parent().unwrap_or(Path::new(""));
        let parsed = spec::parse(&text, &a.file.display().to_string(), dir)?;
        let ev = evaluate_spec(parsed, profiles)?;
        let limits = ev
            .spec
            .budget
            .as_ref()
            .map(Limits::from_spec)
            .unwrap_or_default();
        let file = ev.spec.file.clone();
        (ev.into_report("check", None), limits, file)
    };
    let limits = file_limits.overridden_by(flags);
    if limits.is_empty() {
        return Err(InputError::new(
            "no budget: add [budget] to the run file or give --max-co2e, --max-energy or --max-cost",
        )
        .in_file(shown)
        .into());
    }
    let primary = impact::primary(&report.estimates).expect("a report has estimates");
    let verdict = budget::check(primary, &limits, a.strict)
        .map_err(|u| InputError::new(u.0).in_file(&shown))?;
    let ok = verdict.ok;
    report.budget = Some(verdict);
    if let Some(path) = &a.summary {
        let md = report::exporter(Format::Markdown).render(&report)?;
        crate::output::append(path, md.as_bytes()).map_err(|e| {
            InputError::new(format!("cannot append the summary: {e}"))
                .in_file(path.display().to_string())
        })?;
    }
    emit(&report::exporter(a.format).render(&report)?, None)?;
    if ok {
        return Ok(EXIT_OK);
    }
    for (line, pass) in report::verdict_lines(report.budget.as_ref().expect("set")) {
        if !pass {
            eprintln!("budget exceeded: {line}");
        }
    }
    Ok(crate::error::EXIT_BUDGET)
}
