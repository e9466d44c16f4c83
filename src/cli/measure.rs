//! `footprint measure`: flags to a measurement request, outputs checked before the run, and
//! the measurement kept whatever happens to its outputs afterwards.

use std::ffi::OsString;
use std::io::Write;

use clap::ValueEnum;
use std::path::{Path, PathBuf};

use super::args::{MeasureArgs, PreferArg, ThreadsArg};
use super::output::Plan;
use super::{check_outputs, emit, flag_error, plan};
use crate::app::{self, MeasureMode, MeasureOutcome, MeasureRequest};
use crate::error::{EXIT_IO, EXIT_OK, printable, say, say_raw};
use crate::files;
use crate::measure;
use crate::record::{ThreadBasis, ThreadChoice};
use crate::report::{self, Format, Report};
use crate::train::{self, workload};
use crate::units;

/// How long the training loop trains, after its warm-up, when neither --steps nor --duration
/// is given.
const DEFAULT_TRAIN_SECONDS: f64 = 5.0;

/// A `--duration` at least this long tries thread counts first unless told a count: the
/// trials (2 s and a short warm-up per count) are then a few per cent of the run.
const AUTO_TRIAL_MIN_SECONDS: f64 = 60.0;

/// The variable that sets the training loop's threads, and its count, if one does (read as
/// candle reads them: a whole number above zero).
fn threads_from_env() -> Option<(&'static str, usize)> {
    ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"]
        .into_iter()
        .find_map(|var| {
            let n = std::env::var(var).ok()?.trim().parse::<usize>().ok()?;
            (n > 0).then_some((var, n))
        })
}

/// How the training loop's thread count is set: `--threads N` (already applied by
/// `cli::main`), the environment, a trial (`--threads auto`, `--prefer`, or a long
/// `--duration`), or candle's default, each with the reason the report gives.
fn thread_plan(
    a: &MeasureArgs,
    cuda: bool,
    duration: Option<units::Duration>,
    profiles: Option<&Path>,
) -> anyhow::Result<train::ThreadPlan> {
    let set = |basis, reason: String| {
        train::ThreadPlan::Set(ThreadChoice {
            basis,
            reason,
            trials: Vec::new(),
        })
    };
    let asked = matches!(a.threads, Some(ThreadsArg::Auto)) || a.prefer.is_some();
    if let Some(ThreadsArg::Count(n)) = a.threads {
        if a.prefer.is_some() {
            return Err(flag_error(
                "--prefer",
                "chooses among thread counts a trial tried; --threads N sets the count",
            ));
        }
        return Ok(set(ThreadBasis::Flag, format!("--threads {n}")));
    }
    // The flag that asked for a trial, for the errors below.
    let asked_by = if a.prefer.is_some() {
        "--prefer"
    } else {
        "--threads"
    };
    if cuda && asked {
        return Err(flag_error(
            asked_by,
            "the thread trial tries CPU thread counts; a --cuda run trains on the GPU",
        ));
    }
    if let Some((var, n)) = threads_from_env() {
        if asked {
            return Err(flag_error(
                asked_by,
                format!("{var}={n} sets the thread count; unset it to try counts"),
            ));
        }
        return Ok(set(ThreadBasis::Environment, format!("{var}={n}")));
    }
    if cuda {
        return Ok(set(
            ThreadBasis::Default,
            "the physical cores (candle's default; a --cuda run trains on the GPU)".to_string(),
        ));
    }
    let counts = train::candidates();
    let long = duration.is_some_and(|d| d.seconds() >= AUTO_TRIAL_MIN_SECONDS);
    if counts.len() < 2 {
        return Ok(set(
            ThreadBasis::Default,
            "the physical cores: the only count this machine can run".to_string(),
        ));
    }
    if asked || long {
        return Ok(train::ThreadPlan::Trial {
            measure_flags: workload_flags(a, profiles),
            prefer: a.prefer.unwrap_or(PreferArg::Energy).into(),
        });
    }
    // A --steps run's length is unknown until it runs: it is tried only when asked.
    let untried = if duration.is_some() {
        "runs under 1 min are not tried"
    } else {
        "a --steps run is not tried"
    };
    Ok(set(
        ThreadBasis::Default,
        format!(
            "the physical cores; {untried} (--threads auto tries {})",
            train::listed(&counts)
        ),
    ))
}

/// The `footprint measure` flags that make a trial child train the same model as this run.
fn workload_flags(a: &MeasureArgs, profiles: Option<&Path>) -> Vec<OsString> {
    let mut flags: Vec<OsString> = Vec::new();
    let mut push = |flag: &str, value: OsString| {
        flags.push(flag.into());
        flags.push(value);
    };
    let workload = a
        .workload
        .to_possible_value()
        .map(|v| v.get_name().to_string());
    push("--workload", workload.unwrap_or_default().into());
    push("--seed", a.seed.to_string().into());
    if let Some(lr) = a.lr {
        push("--lr", lr.to_string().into());
    }
    let s = &a.sizes;
    for (flag, value) in [
        ("--batch-size", s.batch_size),
        ("--width", s.width),
        ("--depth", s.depth),
        ("--seq-len", s.seq_len),
        ("--heads", s.heads),
    ] {
        if let Some(v) = value {
            push(flag, v.to_string().into());
        }
    }
    if let Some(p) = profiles {
        push("--profiles", p.as_os_str().to_owned());
    }
    flags
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
    train::check_fits(&c)
        .map_err(|msg| flag_error("--batch-size/--width/--depth/--seq-len", msg))?;
    Ok(c)
}

/// What the measure flags ask for: the training loop or a command, checked for conflicts.
fn measure_mode(
    a: &MeasureArgs,
    profiles: Option<&Path>,
) -> anyhow::Result<(MeasureMode, measure::Sampling)> {
    if a.interval_ms == 0 || a.interval_ms > 60_000 {
        return Err(flag_error("--interval-ms", "must be between 1 and 60000"));
    }
    let sampling = measure::Sampling {
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
        // With neither --steps nor --duration, a fixed time rather than a fixed step count: the
        // same calibration takes 0.3 s on one machine and minutes on another by steps, while
        // power readings need a window of seconds whatever the speed (NVML averages over about
        // a second; at the default 100 ms interval this is 50 readings).
        let duration = match (a.steps, a.duration) {
            (None, None) => Some(units::Duration::from_seconds(DEFAULT_TRAIN_SECONDS)),
            (_, d) => d,
        };
        return Ok((
            MeasureMode::Train(train::TrainOptions {
                config: workload_config(a)?,
                steps: a.steps,
                duration,
                warmup: a.warmup,
                threads: thread_plan(a, cuda.is_some(), duration, profiles)?,
                cuda,
            }),
            sampling,
        ));
    }
    // Name the flag the user typed.
    let given = [
        ("--cuda", a.cuda),
        ("--threads", a.threads.is_some()),
        ("--prefer", a.prefer.is_some()),
        ("--steps", a.steps.is_some()),
        ("--duration", a.duration.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
        return Err(flag_error(
            flag,
            "applies to the training loop, not to a command after `--` (which runs until it exits)",
        ));
    }
    if let Some(g) = &a.gpus
        && let Some(dup) = g.iter().enumerate().find(|(i, x)| g[..*i].contains(x))
    {
        return Err(flag_error(
            "--gpus",
            format!("GPU {} is listed twice (it would be counted twice)", dup.1),
        ));
    }
    if !(a.kill_after.is_finite() && (0.0..=86_400.0).contains(&a.kill_after)) {
        return Err(flag_error(
            "--kill-after",
            "must be between 0 and 86400 seconds",
        ));
    }
    Ok((
        MeasureMode::Command(measure::WrapOptions {
            command: a.command.clone(),
            kill_after: std::time::Duration::from_secs_f64(a.kill_after),
            gpus: match &a.gpus {
                Some(g) => measure::sensor::GpuSelection::Indices(g.clone()),
                None => measure::sensor::GpuSelection::All,
            },
            samples: a.samples,
        }),
        sampling,
    ))
}

/// The runtime limits the flags give.
fn runtime_limits(a: &MeasureArgs) -> anyhow::Result<crate::budget::Limits> {
    use crate::budget::{parse_energy, parse_mass, parse_money};
    let bad = |flag: &'static str| move |msg: String| flag_error(flag, msg);
    Ok(crate::budget::Limits {
        co2e: a
            .max_co2e
            .as_deref()
            .map(parse_mass)
            .transpose()
            .map_err(bad("--max-co2e"))?,
        energy: a
            .max_energy
            .as_deref()
            .map(parse_energy)
            .transpose()
            .map_err(bad("--max-energy"))?,
        cost: a
            .max_cost
            .as_deref()
            .map(parse_money)
            .transpose()
            .map_err(bad("--max-cost"))?,
    })
}

/// Checks the outputs of a measurement before it starts: each can be written, none is an
/// input or another output, and the format is one a measurement has.
fn check_measure_outputs(
    a: &MeasureArgs,
    plan: &Plan,
    profiles: Option<&Path>,
) -> anyhow::Result<()> {
    if plan.writes(Format::Junit) {
        return Err(flag_error(
            "--format",
            "junit reports a budget verdict: use it with `footprint check`",
        ));
    }
    let mut outputs = plan.paths();
    outputs.extend([
        ("--trace", a.trace.as_deref()),
        ("--csv-append", a.csv_append.as_deref()),
        ("--prometheus-textfile", a.prometheus_textfile.as_deref()),
    ]);
    let mut inputs = app::inputs_of(a.run.as_deref(), profiles);
    inputs.extend(a.intensity.clone());
    check_outputs(&outputs, &inputs)?;
    if a.trace.as_deref().is_some_and(|t| t.as_os_str() == "-") {
        return Err(flag_error(
            "--trace",
            "the trace goes to a file, not stdout",
        ));
    }
    // Each can be written (inputs, duplicates and planted links are ruled out above).
    for (flag, path) in outputs.iter().filter_map(|(f, p)| p.map(|p| (*f, p))) {
        files::check_writable(path, flag)?;
    }
    if let Some(p) = a.csv_append.as_deref()
        && let Some(why) = files::csv_header_conflict(p, &crate::report::codecarbon::header())
    {
        return Err(flag_error("--csv-append", format!("{} {why}", p.display())));
    }
    Ok(())
}

/// The flags with `{node}`, `{rank}`... filled in from the launcher's environment.
fn placed(a: &MeasureArgs, p: &crate::record::Placement) -> anyhow::Result<MeasureArgs> {
    let mut a = a.clone();
    let others = [
        ("--trace", &mut a.trace),
        ("--csv-append", &mut a.csv_append),
        ("--prometheus-textfile", &mut a.prometheus_textfile),
    ];
    let outputs = a.out.outputs.iter_mut().map(|p| ("-o", p));
    for (flag, x) in outputs.chain(
        others
            .into_iter()
            .filter_map(|(f, p)| p.as_mut().map(|x| (f, x))),
    ) {
        // A path that is not UTF-8 is kept byte for byte (never rewritten with U+FFFD);
        // placeholders need a UTF-8 path.
        match x.to_str() {
            Some(s) => *x = PathBuf::from(p.expand(s).map_err(|e| flag_error(flag, e))?),
            None if x.as_os_str().as_encoded_bytes().contains(&b'{') => {
                return Err(flag_error(
                    flag,
                    "a path with placeholders ({node}, {rank}...) must be UTF-8",
                ));
            }
            None => {}
        }
    }
    Ok(a)
}

/// Not the first process on its node: run the command unmeasured, exit with its code.
fn run_unmeasured(a: &MeasureArgs, p: &crate::record::Placement) -> anyhow::Result<i32> {
    say(&format!(
        "footprint: local rank {} on {}: --once-per-node, so only local rank 0 measures; running the command unmeasured",
        p.local_rank.unwrap_or(0),
        printable(&p.node)
    ));
    let mut cmd = std::process::Command::new(&a.command[0]);
    cmd.args(&a.command[1..]);
    // On Unix the command replaces footprint (exec): the launcher's signals (Slurm's SIGTERM
    // at the time limit, Ctrl-C) reach it directly and nothing of footprint stays around.
    #[cfg(unix)]
    let status: std::io::Result<std::process::ExitStatus> = {
        use std::os::unix::process::CommandExt;
        Err(cmd.exec())
    };
    #[cfg(not(unix))]
    let status = cmd.status();
    match status {
        Ok(s) => Ok(crate::platform::exit_code_of(s)),
        Err(e) => {
            say(&format!(
                "error: cannot run '{}': {e}",
                printable(&a.command[0].to_string_lossy())
            ));
            Ok(if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            })
        }
    }
}

pub(super) fn measure_cmd(a: &MeasureArgs, profiles: Option<&Path>) -> anyhow::Result<i32> {
    let placement = crate::measure::placement::here();
    let a = &placed(a, &placement)?;
    if a.once_per_node {
        if a.command.is_empty() {
            return Err(flag_error(
                "--once-per-node",
                "applies to a command after `--` started by a launcher on each rank",
            ));
        }
        if !placement.is_first_on_node() {
            return run_unmeasured(a, &placement);
        }
    }
    let (mode, sampling) = measure_mode(a, profiles)?;
    let req = MeasureRequest {
        mode,
        sampling,
        run: a.run.clone(),
        region: a.region.clone(),
        same_workload: a.same_workload,
        limits: runtime_limits(a)?,
        prometheus_textfile: a.prometheus_textfile.clone(),
        intensity: a.intensity.clone().map(|p| (p, a.basis.into())),
        basis: a.basis.into(),
    };
    // Files are the JSON report (what `check`, `merge` and `[measured]` read) unless -f or
    // their extension says otherwise.
    let plan = plan::<Report>(&a.out, Format::Json)?;
    check_measure_outputs(a, &plan, profiles)?;
    if !plan.files.is_empty() && !plan.files.iter().any(|(_, f)| *f == Format::Json) {
        say(
            "note: no -o is JSON, so no report that `check`, `merge` or `[measured]` can read is kept; add -o report.json to keep one",
        );
    }
    let to_stderr = matches!(req.mode, MeasureMode::Command(_));
    let (report, mut code, site) = match app::measure(&req, profiles)? {
        MeasureOutcome::Measured {
            report,
            exit_code,
            site,
        } => (report, exit_code, site),
        MeasureOutcome::NotStarted(fail) => {
            say(&format!("error: {}", printable(&fail.message)));
            return Ok(fail.code);
        }
    };
    let json = report::render(report.as_ref(), Format::Json)?;
    let mut failed = Vec::new();
    for (path, format) in &plan.files {
        let text = match *format {
            Format::Json => Ok(json.clone()),
            f => report::render_report(report.as_ref(), f, a.out.explain),
        };
        if let Err(e) = text.and_then(|t| emit(&t, Some(path))) {
            failed.push(e);
        }
    }
    if let (Some(path), Some(m)) = (&a.csv_append, &report.measurement)
        && let Err(e) = append_codecarbon_row(path, m, &report.name, &site)
    {
        failed.push(e);
    }
    let text = report::render_report(report.as_ref(), plan.printed, a.out.explain)?;
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
            "warning: an output kept during the run (--trace or --prometheus-textfile) is incomplete: {}",
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
    if to_stderr || plan.files.is_empty() {
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

/// Appends the CodeCarbon-style row, with the header when the file is new or empty.
fn append_codecarbon_row(
    path: &Path,
    m: &crate::record::Measurement,
    name: &str,
    site: &app::CentralSite,
) -> anyhow::Result<()> {
    use crate::report::codecarbon;
    let row = codecarbon::row(
        m,
        name,
        &codecarbon::Site {
            region: site.region.as_ref(),
            country_name: site.place.as_deref(),
            rates: site.rates,
            ram_total_gb: crate::platform::total_memory_bytes().map(|b| b / 1e9),
        },
    );
    files::append_csv_row(path, &codecarbon::header(), &row)
        .map_err(|e| crate::error::OutputError::new(path.display().to_string(), e).into())
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
