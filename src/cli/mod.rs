//! Command-line definitions and dispatch: flags → an [`app`](crate::app) call → a rendered
//! report and an exit code. Nothing here computes a figure or reads an input file.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::app::{self, MeasureMode, MeasureOutcome, MeasureRequest};
use crate::budget::{self, Limits};
use crate::error::{
    EXIT_BUDGET, EXIT_INPUT, EXIT_IO, EXIT_OK, InputError, OutputError, exit_code, printable, say,
    say_raw,
};
use crate::files;
use crate::measure::{self, workload};
use crate::report::{self, Format, Report};
use crate::units;

mod args;

pub use args::Cli;
use args::{
    CheckArgs, Command, EstimateArgs, ListFormat, MeasureArgs, ProfilesCommand, ValidateArgs,
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
            // One line, like every other input error: clap's first line, without the usage.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            say(&format!("{} (see `footprint --help`)", printable(first)));
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
    measure::check_fits(&c)
        .map_err(|msg| flag_error("--batch-size/--width/--depth/--seq-len", msg))?;
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
        if a.steps == Some(0) {
            return Err(flag_error("--steps", "must be at least 1"));
        }
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
    if !(a.kill_after.is_finite() && (0.0..=86_400.0).contains(&a.kill_after)) {
        return Err(flag_error(
            "--kill-after",
            "must be between 0 and 86400 seconds",
        ));
    }
    Ok(MeasureMode::Command(measure::WrapOptions {
        command: a.command.clone(),
        kill_after: std::time::Duration::from_secs_f64(a.kill_after),
        gpus: match &a.gpus {
            Some(g) => measure::sensor::GpuSelection::Indices(g.clone()),
            None => measure::sensor::GpuSelection::All,
        },
        samples: a.samples,
        common,
    }))
}

/// Checks the outputs of a measurement before it starts: each can be written, none is an
/// input or another output, and the format is one a measurement has.
fn check_measure_outputs(a: &MeasureArgs) -> anyhow::Result<()> {
    if Format::from(a.format) == Format::Junit {
        return Err(flag_error(
            "--format",
            "junit reports a budget verdict: use it with `footprint check`",
        ));
    }
    let run: Vec<&Path> = a.run.iter().map(PathBuf::as_path).collect();
    if let Some(out) = &a.output {
        not_an_input(out, "-o", &run)?;
        files::check_writable(out, "-o")?;
    }
    if let Some(t) = &a.trace {
        if t.as_os_str() == "-" {
            return Err(flag_error(
                "--trace",
                "the trace goes to a file, not stdout",
            ));
        }
        not_an_input(t, "--trace", &run)?;
        if let Some(out) = &a.output
            && files::same_file(out, t)
        {
            return Err(flag_error("--trace", "the trace and -o name the same file"));
        }
        files::check_writable(t, "--trace")?;
    }
    Ok(())
}

fn measure_cmd(a: &MeasureArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let req = MeasureRequest {
        mode: measure_mode(a)?,
        run: a.run.clone(),
        region: a.region.clone(),
        same_workload: a.same_workload,
    };
    check_measure_outputs(a)?;
    let to_stderr = matches!(req.mode, MeasureMode::Command(_));
    let (report, mut code) = match app::measure(&req, profiles)? {
        MeasureOutcome::Measured { report, exit_code } => (report, exit_code),
        MeasureOutcome::NotStarted(fail) => {
            say(&format!("error: {}", printable(&fail.message)));
            return Ok(fail.code);
        }
    };
    let json = report::exporter(Format::Json).render(&report)?;
    let mut failed = Vec::new();
    if let Some(path) = &a.output
        && let Err(e) = emit(&json, Some(path))
    {
        failed.push(e);
    }
    let text = report::exporter(a.format.into()).render(&report)?;
    if to_stderr {
        say_raw(&text);
    } else if let Err(e) = emit(&text, None) {
        failed.push(e);
    }
    if let Some(e) = report
        .measurement
        .as_ref()
        .and_then(|m| m.trace_error.as_ref())
    {
        say(&format!(
            "warning: --trace: the trace is incomplete: {}",
            printable(e)
        ));
        if code == EXIT_OK {
            code = EXIT_IO;
        }
    }
    if failed.is_empty() {
        return Ok(code);
    }
    // The measurement is made: whatever could not be written, it must not be lost.
    for e in &failed {
        say(&format!("error: {}", printable(&format!("{e:#}"))));
    }
    if to_stderr || a.output.is_none() {
        // The human report may not have reached anyone either.
        say_raw(&text);
    }
    match keep_measurement(&json) {
        Ok(p) => say(&format!(
            "the measurement is kept in {} (read it with `footprint check` or `[measured]`)",
            printable(&p.display().to_string())
        )),
        Err(e) => {
            say(&format!(
                "error: nowhere to keep the measurement ({e}); here it is:"
            ));
            say_raw(&json);
        }
    }
    Ok(if code == EXIT_OK { EXIT_IO } else { code })
}

/// Writes a measurement's JSON to a new file in the temporary directory, or the current one.
fn keep_measurement(json: &str) -> std::io::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut last = None;
    for dir in [std::env::temp_dir(), PathBuf::from(".")] {
        let kept = tempfile::Builder::new()
            .prefix(&format!("footprint-measurement-{stamp}-"))
            .suffix(".json")
            .tempfile_in(&dir)
            .and_then(|mut f| {
                f.write_all(json.as_bytes())?;
                f.as_file().sync_all()?;
                f.keep().map_err(|e| e.error)
            });
        match kept {
            Ok((_, path)) => return Ok(path),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("two attempts"))
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
    let report: Report = app::check(&a.file, profiles, flag_limits(a)?, a.strict)?;
    let verdict = report.budget.as_ref().expect("check sets the verdict");
    // The verdict first: an output that fails afterwards must not hide it.
    let shown = emit(&report::exporter(a.format.into()).render(&report)?, None);
    if !verdict.ok {
        for (line, pass) in report::verdict_lines(verdict) {
            if !pass {
                say(&format!("budget exceeded: {line}"));
            }
        }
    }
    if let Some(path) = &a.summary {
        let md = report::exporter(Format::Markdown).render(&report)?;
        files::append(path, md.as_bytes())
            .map_err(|e| OutputError::new(path.display().to_string(), e))?;
    }
    shown?;
    Ok(if verdict.ok { EXIT_OK } else { EXIT_BUDGET })
}

fn validate_cmd(a: &ValidateArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let format = Format::from(a.format);
    if matches!(format, Format::Csv | Format::Junit) {
        return Err(flag_error(
            "--format",
            "validate writes table, json or markdown",
        ));
    }
    if let Some(c) = a.min_coverage
        && !(0.0..=1.0).contains(&c)
    {
        return Err(flag_error("--min-coverage", "a share from 0 to 1"));
    }
    if let Some(w) = a.max_median_width
        && !(w.is_finite() && w >= 1.0)
    {
        return Err(flag_error("--max-median-width", "a ratio of at least 1"));
    }
    let cases = app::validate(&a.dirs, profiles)?;
    let s = app::summarize(&cases);
    emit(&report::validation::render(&cases, &s, format), None)?;
    let mut failed = Vec::new();
    if s.reproduction_within < s.reproduction_figures {
        failed.push(format!(
            "{} reproduction figure(s) off their tolerance",
            s.reproduction_figures - s.reproduction_within
        ));
    }
    if let Some(min) = a.min_coverage
        && s.prediction_figures > 0
        && (s.prediction_inside as f64) < min * s.prediction_figures as f64
    {
        failed.push(format!(
            "coverage {}/{} below {min}",
            s.prediction_inside, s.prediction_figures
        ));
    }
    if let (Some(max), Some(w)) = (a.max_median_width, s.median_width)
        && w > max
    {
        failed.push(format!("median width ×{w:.2} above ×{max}"));
    }
    for f in &failed {
        say(&format!("validation failed: {f}"));
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_BUDGET
    })
}
