//! The pipelines behind each command, in one place: read the inputs, look up profiles, run
//! the calculator (or a measurement), and assemble the [`Report`]. The CLI maps flags to these
//! calls and reports to exit codes; the fuzz target and the benches call the same functions, so
//! what they exercise is what users run.
//!
//! Every check that can fail on user input runs before a measurement starts: a measurement can
//! be hours of GPU time, and must not be lost to a typo found afterwards.

use std::path::{Path, PathBuf};

pub mod merge;
pub mod sweep;

use crate::budget::{self, Limits};
use crate::error::{InputError, MeasureError};
use crate::impact::{self, Estimate};
use crate::measure::{self, SpawnFailure, TrainOptions, WrapOptions};
use crate::profiles::Registry;
use crate::record::{Field, MeasuredFigures, Measurement, MeasurementReport, Mode, Per, Status};
use crate::report::{Report, ReportKind};
use crate::runfile::{self, RunSpec};
use crate::scenario::{self, Built, Extrapolation, MeasuredUse};

/// Largest measurement report read back (a report with many sensors is still far smaller).
pub const MAX_REPORT_BYTES: u64 = 64 << 20;

/// The embedded profiles, with the user's directory (`--profiles`) merged over them.
pub fn registry(profiles: Option<&Path>) -> Result<Registry, InputError> {
    Registry::with_user_dir(profiles)
}

/// A run evaluated: its estimates and everything the report says about them.
pub struct Evaluated {
    spec: RunSpec,
    pub estimates: Vec<Estimate>,
    built: Built,
}

impl Evaluated {
    /// The report of this run, for one command.
    pub fn into_report(self, kind: ReportKind, budget: Option<budget::Verdict>) -> Report {
        let published = self.published_line();
        let mut notes = self.built.notes;
        notes.extend(published);
        Report {
            kind,
            name: self.spec.name,
            description: self.spec.description,
            estimates: self.estimates,
            assumptions: self.built.assumptions,
            notes,
            budget,
            measurement: None,
        }
    }

    /// The published figures compared with the primary estimate, as `validate` judges them.
    pub fn published_figures(&self) -> Vec<FigureCheck> {
        let (Some(p), Some(e)) = (&self.spec.published, impact::primary(&self.estimates)) else {
            return Vec::new();
        };
        let tolerance = p.tolerance.as_ref().map(|t| t.value);
        [
            (Field::Energy, &p.energy_kwh),
            (Field::Co2e, &p.co2e_kg),
            (Field::DeviceHours, &p.device_hours),
            (Field::Cost, &p.cost_usd),
        ]
        .into_iter()
        .filter_map(|(f, v)| {
            let published = v.as_ref()?.value;
            let band = f.band(e)?;
            let pass = match tolerance {
                Some(t) => (band.central - published).abs() <= t * published,
                None => {
                    band.low <= published * (1.0 + 1e-9) && published <= band.high * (1.0 + 1e-9)
                }
            };
            Some(FigureCheck {
                field: f,
                published,
                low: band.low,
                central: band.central,
                high: band.high,
                tolerance,
                pass,
            })
        })
        .collect()
    }

    /// One line for the report's notes: what was published, and whether the estimate agrees.
    fn published_line(&self) -> Option<String> {
        let p = self.spec.published.as_ref()?;
        let checks = self.published_figures();
        if checks.is_empty() {
            return None;
        }
        let parts: Vec<String> = checks
            .iter()
            .map(|c| {
                let verdict = match (c.tolerance, c.pass) {
                    (Some(t), true) => format!("central within {} %", t * 100.0),
                    (Some(t), false) => format!("central OFF by more than {} %", t * 100.0),
                    (None, true) => "inside the range".to_string(),
                    (None, false) => "OUTSIDE the range".to_string(),
                };
                format!(
                    "{} {} ({verdict})",
                    c.field.key(),
                    crate::units::sig4(c.published)
                )
            })
            .collect();
        let source = p
            .source
            .as_ref()
            .map(|s| format!(" by {}", s.value))
            .unwrap_or_default();
        Some(format!("published{source}: {}", parts.join(", ")))
    }

    /// The run file's own budget, if it has one.
    pub fn limits(&self) -> Option<Limits> {
        self.spec.budget.as_ref().map(limits_of)
    }

    /// The budget verdict on the primary estimate.
    pub fn verdict(&self, limits: &Limits, strict: bool) -> Result<budget::Verdict, InputError> {
        verdict(&self.estimates, limits, strict, &self.spec.file)
    }
}

/// A published figure against the estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureCheck {
    pub field: Field,
    pub published: f64,
    pub low: f64,
    pub central: f64,
    pub high: f64,
    /// Reproduction tolerance; `None` for a prediction (the range must hold the figure).
    pub tolerance: Option<f64>,
    pub pass: bool,
}

/// One published case, estimated and compared.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseCheck {
    pub name: String,
    pub file: String,
    pub model: Option<crate::impact::ModelKind>,
    pub source: Option<String>,
    pub figures: Vec<FigureCheck>,
}

/// `footprint validate`: every run file with a `[published]` section in the folders, estimated
/// and compared with what was published.
pub fn validate(dirs: &[PathBuf], profiles: Option<&Path>) -> Result<Vec<CaseCheck>, InputError> {
    let reg = registry(profiles)?;
    let mut cases = Vec::new();
    for dir in dirs {
        let shown = dir.display().to_string();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| InputError::new(format!("cannot read the folder: {e}")).in_file(&shown))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(InputError::new("no run files (*.toml) here").in_file(&shown));
        }
        for path in files {
            let spec = runfile::load(&path)?;
            if spec.published.is_none() {
                continue;
            }
            let source = spec
                .published
                .as_ref()
                .and_then(|p| p.source.as_ref())
                .map(|s| s.value.clone());
            let ev = evaluate_run(spec, &reg)?;
            cases.push(CaseCheck {
                name: ev.spec.name.clone(),
                file: path.display().to_string(),
                model: impact::primary(&ev.estimates).map(|e| e.kind),
                source,
                figures: ev.published_figures(),
            });
        }
    }
    Ok(cases)
}

/// What a set of cases says: predictions' coverage and width, reproductions' pass rate.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationSummary {
    pub prediction_figures: usize,
    pub prediction_inside: usize,
    /// Median of high ÷ low over prediction figures.
    pub median_width: Option<f64>,
    /// Median of |central − published| ÷ published over prediction figures.
    pub median_error: Option<f64>,
    pub reproduction_figures: usize,
    pub reproduction_within: usize,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

pub fn summarize(cases: &[CaseCheck]) -> ValidationSummary {
    let figs = cases.iter().flat_map(|c| &c.figures);
    let pred: Vec<&FigureCheck> = figs.clone().filter(|f| f.tolerance.is_none()).collect();
    let repr: Vec<&FigureCheck> = figs.filter(|f| f.tolerance.is_some()).collect();
    ValidationSummary {
        prediction_figures: pred.len(),
        prediction_inside: pred.iter().filter(|f| f.pass).count(),
        median_width: median(
            pred.iter()
                .filter(|f| f.low > 0.0)
                .map(|f| f.high / f.low)
                .collect(),
        ),
        median_error: median(
            pred.iter()
                .map(|f| (f.central - f.published).abs() / f.published)
                .collect(),
        ),
        reproduction_figures: repr.len(),
        reproduction_within: repr.iter().filter(|f| f.pass).count(),
    }
}

fn limits_of(b: &runfile::Budget) -> Limits {
    use crate::units::{Energy, Mass, Money};
    Limits {
        co2e: b.max_co2e_kg.as_ref().map(|v| Mass::from_kg(v.value)),
        energy: b.max_energy_kwh.as_ref().map(|v| Energy::from_kwh(v.value)),
        cost: b.max_cost_usd.as_ref().map(|v| Money::from_usd(v.value)),
    }
}

fn verdict(
    estimates: &[Estimate],
    limits: &Limits,
    strict: bool,
    file: &str,
) -> Result<budget::Verdict, InputError> {
    let primary = impact::primary(estimates).expect("a run has at least one model");
    budget::check(primary, limits, strict).map_err(|u| InputError::new(u.0).in_file(file))
}

/// Reads the report a run's `[measured]` section names, through the one reader of reports.
pub fn read_measured(spec: &RunSpec) -> Result<Option<MeasuredFigures>, InputError> {
    let Some(m) = &spec.measured else {
        return Ok(None);
    };
    let at = |msg: String| spec.error_at(m.report.line, &m.report.key, msg);
    let shown = m.path.display().to_string();
    let text = crate::files::read_text(&m.path, MAX_REPORT_BYTES)
        .map_err(|e| at(format!("{shown}: {}", e.message)))?;
    let report = MeasurementReport::from_json(&text, &shown)
        .map_err(|e| at(format!("{shown}: {}", e.message)))?;
    Ok(Some(report.measurement.figures()))
}

/// What a device is, for deciding whether a measurement ran on the run's kind of device.
#[derive(Clone, Debug, PartialEq)]
enum DeviceClass {
    /// No accelerator: the CPU.
    Cpu,
    /// An accelerator, by profile name when the registry knows it, else as named.
    Accelerator(String),
}

impl DeviceClass {
    fn describe(&self, fallback: &str) -> String {
        match self {
            DeviceClass::Cpu => format!("the CPU ({fallback})"),
            DeviceClass::Accelerator(a) => a.clone(),
        }
    }
}

/// Decides how a run uses a measurement:
/// - its J/sample carries over only for the run's own workload (a measured command with
///   `--samples`, or `same_workload = true`);
/// - otherwise the measured J/FLOP and FLOP/s calibrate the run's FLOPs ([compute]);
/// - a measurement on another kind of device than the run's is shown for comparison, never
///   primary.
///
/// Refused when neither applies. `what` names the input at fault in messages.
pub fn plan_measured(
    spec: &RunSpec,
    reg: &Registry,
    figures: MeasuredFigures,
    what: &str,
) -> Result<MeasuredUse, InputError> {
    let m = spec.measured.as_ref();
    let at = |msg: String| match m {
        Some(m) if m.report.line > 0 => spec.error_at(m.report.line, &m.report.key, msg),
        _ => InputError::new(msg).in_file(&spec.file).for_key(what),
    };
    let said_same = m.and_then(|m| m.same_workload.as_ref()).map(|b| b.value);
    let same_workload = said_same.unwrap_or(figures.mode == Mode::Command);
    let measured_class = match figures.gpus.first() {
        None => DeviceClass::Cpu,
        Some(g) => DeviceClass::Accelerator(
            reg.accelerator_named_by_driver(g)
                .map_or_else(|| g.clone(), |a| a.name.clone()),
        ),
    };
    let run_class = match spec.hardware.as_ref().and_then(|h| h.device.as_ref()) {
        None => DeviceClass::Cpu,
        Some(d) => DeviceClass::Accelerator(
            reg.accelerator(&d.value)
                .map_or_else(|_| d.value.clone(), |a| a.name.clone()),
        ),
    };
    let advisory = (measured_class != run_class).then(|| {
        format!(
            "the measurement ran on {} and the run is on {}: its column is for comparison only, never the primary figure or a budget's",
            measured_class.describe(&figures.device),
            run_class.describe("no accelerator named"),
        )
    });
    if same_workload {
        if figures.per != Per::Sample {
            return Err(at(
                "the measurement has no per-sample figures (a command measured without --samples N)"
                    .to_string(),
            ));
        }
        if spec.dataset.is_none() {
            return Err(at(
                "extrapolating a measurement needs the run's [dataset] samples".to_string(),
            ));
        }
        return Ok(MeasuredUse {
            figures,
            extrapolation: Extrapolation::PerSample,
            advisory,
        });
    }
    if spec.compute.is_some()
        && figures.joules_per_flop.is_some()
        && figures.flops_per_second.is_some()
    {
        return Ok(MeasuredUse {
            figures,
            extrapolation: Extrapolation::PerFlop,
            advisory,
        });
    }
    Err(at(
        "the measurement is of footprint's training workload, not this run's: give the run [compute] FLOPs to calibrate from its J/FLOP, or set `same_workload = true` in [measured] (measure --same-workload) if the run is that workload".to_string(),
    ))
}

/// Builds and evaluates a parsed run with the measured figures given (or none). Refuses
/// figures that overflow.
pub fn evaluate(
    spec: RunSpec,
    reg: &Registry,
    measured: Option<&MeasuredUse>,
) -> Result<Evaluated, InputError> {
    let built = scenario::build(&spec, reg, measured)?;
    let estimates = impact::evaluate(&built.scenario);
    if !estimates.iter().all(Estimate::is_finite) {
        return Err(spec.error(format!(
            "the figures overflow: a product of inputs is too large; {}",
            largest_inputs(&built)
        )));
    }
    Ok(Evaluated {
        spec,
        estimates,
        built,
    })
}

/// The inputs that came from outside the run file (profiles, a measurement report), largest
/// first: where to look when the figures overflow, since the run file's own values are bounded.
fn largest_inputs(built: &Built) -> String {
    let mut given: Vec<&scenario::Assumption> = built.assumptions.iter().collect();
    given.sort_by(|a, b| b.value.central().abs().total_cmp(&a.value.central().abs()));
    let named: Vec<String> = given
        .iter()
        .take(3)
        .map(|a| format!("{} = {:e} ({})", a.input, a.value.central(), a.reference))
        .collect();
    if named.is_empty() {
        "check the largest values of the run file".to_string()
    } else {
        format!(
            "the largest inputs from profiles and reports: {}",
            named.join("; ")
        )
    }
}

/// Evaluates a parsed run, reading its `[measured]` report if it names one.
pub fn evaluate_run(spec: RunSpec, reg: &Registry) -> Result<Evaluated, InputError> {
    let measured = match read_measured(&spec)? {
        Some(f) => Some(plan_measured(&spec, reg, f, "measured.report")?),
        None => None,
    };
    evaluate(spec, reg, measured.as_ref())
}

/// `footprint estimate`: the report of a run file, with its budget's verdict when it has one.
pub fn estimate(run: &Path, profiles: Option<&Path>) -> Result<Report, InputError> {
    let reg = registry(profiles)?;
    let ev = evaluate_run(runfile::load(run)?, &reg)?;
    let verdict = match ev.limits() {
        Some(l) => Some(ev.verdict(&l, false)?),
        None => None,
    };
    Ok(ev.into_report(ReportKind::Estimate, verdict))
}

/// Whether a file is a JSON report rather than a run description.
fn looks_like_json(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{')
}

/// `footprint check`: a run file (or a measurement report) against its budget and the flags'
/// limits. The report carries the verdict; `budget.ok` decides the exit code.
pub fn check(
    file: &Path,
    profiles: Option<&Path>,
    flags: Limits,
    strict: bool,
) -> Result<Report, InputError> {
    let shown = file.display().to_string();
    let text = crate::files::read_text(file, MAX_REPORT_BYTES)?;
    let (mut report, file_limits) = if looks_like_json(file, &text) {
        (checked_measurement(&text, &shown)?, Limits::default())
    } else {
        // The text is already read: parse it rather than reading the file again (a run file
        // over the run-file size limit still gets load's message).
        if text.len() as u64 > runfile::MAX_FILE_BYTES {
            crate::files::read_text(file, runfile::MAX_FILE_BYTES)?;
        }
        let dir = file.parent().unwrap_or(Path::new(""));
        let ev = evaluate_run(runfile::parse(&text, &shown, dir)?, &registry(profiles)?)?;
        let limits = ev.limits().unwrap_or_default();
        (ev.into_report(ReportKind::Check, None), limits)
    };
    let limits = file_limits.overridden_by(flags);
    if limits.is_empty() {
        return Err(InputError::new(
            "no budget: add [budget] to the run file or give --max-co2e, --max-energy or --max-cost",
        )
        .in_file(shown));
    }
    report.budget = Some(verdict(&report.estimates, &limits, strict, &shown)?);
    Ok(report)
}

/// A report from `footprint measure -o`, read back for checking.
fn checked_measurement(text: &str, shown: &str) -> Result<Report, InputError> {
    let r = MeasurementReport::from_json(text, shown)?;
    let mut notes = vec![format!("checked the measurement report {shown}")];
    if r.measurement.status == Status::Interrupted {
        notes.push("the measurement was interrupted: its figures cover only what ran".to_string());
    }
    Ok(Report {
        kind: ReportKind::Check,
        name: r.name,
        description: r.description,
        estimates: r.estimates,
        assumptions: Vec::new(),
        notes,
        budget: None,
        measurement: Some(r.measurement),
    })
}

/// What `footprint measure` runs.
#[derive(Clone, Debug)]
pub enum MeasureMode {
    Train(TrainOptions),
    Command(WrapOptions),
}

/// A measurement and what to report it against.
#[derive(Clone, Debug)]
pub struct MeasureRequest {
    pub mode: MeasureMode,
    /// A run file to extrapolate to (its N × epochs, grid, PUE, prices).
    pub run: Option<PathBuf>,
    /// The grid of the measured window when there is no run file.
    pub region: Option<String>,
    /// The run is the measured workload itself (`--same-workload`).
    pub same_workload: bool,
    /// Stop the measurement when its window exceeds these (`--max-energy`, ...).
    pub limits: Limits,
    /// Keep a Prometheus text file up to date during the run.
    pub prometheus_textfile: Option<PathBuf>,
}

/// How a measurement ended.
pub enum MeasureOutcome {
    /// Measured (completely, or until interrupted). `exit_code` is the command's, or 128 + the
    /// signal for an interrupted training loop.
    Measured {
        report: Box<Report>,
        exit_code: i32,
        /// Where the measured window itself is reckoned (for a CodeCarbon-style row).
        site: CentralSite,
    },
    /// The command could not be started: nothing was measured.
    NotStarted(SpawnFailure),
}

/// `footprint measure`: checks every input, measures, and reports the measurement against the
/// run file (or the measured window itself).
pub fn measure(req: &MeasureRequest, profiles: Option<&Path>) -> anyhow::Result<MeasureOutcome> {
    let reg = registry(profiles)?;
    // Everything that can be wrong with the inputs is found now, before measuring.
    let mut run = req.run.as_deref().map(runfile::load).transpose()?;
    if let Some(s) = run.as_mut() {
        let mut this = runfile::Measured::this_measurement();
        if req.same_workload {
            this.same_workload = Some(runfile::In {
                value: true,
                line: 0,
                key: "--same-workload".to_string(),
            });
        }
        s.measured = Some(this);
    }
    if let Some(s) = &run {
        if s.dataset.is_none() {
            return Err(s
                .error(
                    "--run: the run needs [dataset] samples (N) to extrapolate the measurement to",
                )
                .into());
        }
        if let MeasureMode::Command(w) = &req.mode
            && w.samples.is_none()
        {
            return Err(InputError::new(
                "--run with a command needs --samples N: how many samples the command trained on",
            )
            .for_key("--samples")
            .into());
        }
        // How the run will use the measurement is decided now, from what the measurement
        // will be: a run it cannot inform is refused before anything is measured.
        if let MeasureMode::Train(_) = &req.mode
            && !req.same_workload
            && s.compute.is_none()
        {
            return Err(InputError::new(
                "--run: footprint's training loop is not this run's workload: give the run [compute] FLOPs (calibrated from the measured J/FLOP), or pass --same-workload if the run is that workload",
            )
            .in_file(&s.file)
            .into());
        }
    }
    if let Some(r) = &req.region {
        reg.region(r)
            .map_err(|e| InputError::new(e.to_string()).for_key("--region"))?;
    }
    let budget = runtime_budget(&req.limits, run.as_ref(), req.region.as_deref(), &reg)?;
    let site = central_site(run.as_ref(), req.region.as_deref(), &reg)?;
    let textfile = req.prometheus_textfile.as_ref().map(|path| {
        let p = crate::record::Placement::here();
        measure::textfile::Textfile {
            path: path.clone(),
            job: p.job_id.clone().unwrap_or_else(|| "footprint".to_string()),
            node: p.node.clone(),
            grams_per_joule: site.g_per_kwh * site.pue / 3.6e6,
        }
    });
    let mut mode = req.mode.clone();
    let common = match &mut mode {
        MeasureMode::Train(o) => &mut o.common,
        MeasureMode::Command(o) => &mut o.common,
    };
    common.budget = budget;
    common.textfile = textfile;
    let (m, code) = match &mode {
        MeasureMode::Train(opts) => {
            let m = measure::train(opts, &reg)?;
            let code = match m.status {
                Status::Interrupted => 128 + measure::signal::received().unwrap_or(2),
                Status::BudgetExceeded => crate::error::EXIT_BUDGET,
                Status::Complete => crate::error::EXIT_OK,
            };
            (m, code)
        }
        MeasureMode::Command(opts) => match measure::wrap(opts, &reg)? {
            Ok(done) => done,
            Err(fail) => return Ok(MeasureOutcome::NotStarted(fail)),
        },
    };
    let report = measurement_report(m, run, req.region.clone(), &reg)?;
    Ok(MeasureOutcome::Measured {
        report: Box::new(report),
        exit_code: code,
        site,
    })
}

/// The central grid intensity, PUE and place that a measurement's own window is reckoned at:
/// the run file's, else `--region`'s, else the world average.
pub struct CentralSite {
    pub g_per_kwh: f64,
    pub pue: f64,
    /// The region as named, and the place's name.
    pub region: Option<String>,
    pub place: Option<String>,
}

pub fn central_site(
    run: Option<&RunSpec>,
    region: Option<&str>,
    reg: &Registry,
) -> Result<CentralSite, InputError> {
    let site = run.map(|r| &r.site);
    let named = site
        .and_then(|s| s.region.as_ref().map(|r| r.value.clone()))
        .or_else(|| region.map(String::from));
    let looked_up = match &named {
        Some(r) => Some(reg.region(r).map_err(|e| {
            let e = InputError::new(e.to_string());
            match run {
                Some(s) => e.in_file(&s.file).for_key("site.region"),
                None => e.for_key("--region"),
            }
        })?),
        None => None,
    };
    let g_per_kwh = match (
        site.and_then(|s| s.carbon_intensity_g_per_kwh.as_ref()),
        &looked_up,
    ) {
        (Some(i), _) => i.value.central(),
        (None, Some(r)) => r.intensity.value,
        (None, None) => {
            reg.grid(crate::profiles::DEFAULT_GRID)
                .expect("the WORLD grid is embedded")
                .carbon_intensity_g_per_kwh
                .value
        }
    };
    let pue = match site.and_then(|s| s.pue.as_ref()) {
        Some(p) => p.value.central(),
        None if run.is_some() => {
            if named.as_ref().is_some_and(|r| r.contains(':')) {
                crate::defaults::PUE_CLOUD.central
            } else {
                crate::defaults::PUE_UNKNOWN.central
            }
        }
        None => 1.0,
    };
    let place = looked_up
        .as_ref()
        .and_then(|r| reg.grid(&r.code).map(|g| g.name.clone()));
    Ok(CentralSite {
        g_per_kwh,
        pue,
        region: named,
        place,
    })
}

/// The runtime budget of a measurement: its limits, and the central PUE, intensity and price
/// (of the run file, else the region, else the world average) that turn measured energy into
/// CO2e and money while it runs.
fn runtime_budget(
    limits: &Limits,
    run: Option<&RunSpec>,
    region: Option<&str>,
    reg: &Registry,
) -> Result<Option<measure::RuntimeBudget>, InputError> {
    if limits.is_empty() {
        return Ok(None);
    }
    let site = run.map(|r| &r.site);
    let central = central_site(run, region, reg)?;
    let (pue, g_per_kwh) = (central.pue, central.g_per_kwh);
    let hw = run.and_then(|r| r.hardware.as_ref());
    let usd_per_device_hour = hw
        .and_then(|h| {
            h.price_usd_per_device_hour
                .as_ref()
                .map(|p| p.value.central())
        })
        .or_else(|| {
            let d = hw.and_then(|h| h.device.as_ref())?;
            reg.accelerator(&d.value)
                .ok()?
                .price_usd_per_hour
                .as_ref()
                .map(|p| p.value)
        });
    let usd_per_kwh = site
        .and_then(|s| s.electricity_usd_per_kwh.as_ref())
        .map(|p| p.value.central());
    if limits.cost.is_some() && usd_per_device_hour.is_none() && usd_per_kwh.is_none() {
        return Err(InputError::new(
            "a cost limit needs a price: give --run RUN.toml with hardware.price_usd_per_device_hour (or a device whose profile has one) or site.electricity_usd_per_kwh",
        )
        .for_key("--max-cost"));
    }
    Ok(Some(measure::RuntimeBudget {
        max_energy: limits.energy,
        max_co2e: limits.co2e,
        max_cost: limits.cost,
        pue,
        kg_per_kwh: g_per_kwh / 1000.0,
        usd_per_kwh,
        usd_per_device_hour,
    }))
}

/// The report of a measurement: against the user's run (extrapolated to its N × epochs) or,
/// without one, the measured window itself.
pub fn measurement_report(
    m: Measurement,
    run: Option<RunSpec>,
    region: Option<String>,
    reg: &Registry,
) -> anyhow::Result<Report> {
    let figures = m.figures();
    let (spec, used) = match run {
        Some(s) => {
            let used = plan_measured(&s, reg, figures, "--run")
                .map_err(|e| MeasureError(format!("the measurement could not be reported: {e}")))?;
            (s, used)
        }
        None => {
            let samples = m
                .samples
                .filter(|n| *n > 0 && figures.per == Per::Sample)
                .unwrap_or(1);
            let used = MeasuredUse {
                figures,
                extrapolation: Extrapolation::PerSample,
                advisory: None,
            };
            (
                RunSpec::measured_window(window_name(&m), samples, region),
                used,
            )
        }
    };
    let ev = evaluate(spec, reg, Some(&used)).map_err(|e| {
        // The measurement is already made: an error now must not hide it.
        MeasureError(format!("the measurement could not be reported: {e}"))
    })?;
    let mut report = ev.into_report(ReportKind::Measure, None);
    if m.status == Status::Interrupted {
        report.notes.insert(
            0,
            "the measurement was interrupted: figures cover what ran until then".to_string(),
        );
    }
    report.measurement = Some(m);
    Ok(report)
}

/// What a measurement without a run file is called: the command, or the workload and device.
fn window_name(m: &Measurement) -> String {
    match (&m.command, &m.workload, m.mode) {
        (Some(c), _, _) => c.join(" "),
        (None, Some(w), _) => format!("{} on {}", w.config.kind.as_str(), w.device).to_lowercase(),
        (None, None, Mode::Training | Mode::Command) => "training".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measured_run_without_samples_is_refused_for_extrapolation() {
        let dir = std::env::temp_dir().join(format!("fp-app-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fixture = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/measurement-cpu.json"),
        )
        .unwrap();
        // the same report, as a command measured without --samples would write it
        let mut v: serde_json::Value = serde_json::from_str(&fixture).unwrap();
        v["measurement"]["mode"] = serde_json::json!("command");
        v["measurement"]["joules_per_sample"] = serde_json::Value::Null;
        v["measurement"]["samples_per_second"] = serde_json::Value::Null;
        std::fs::write(dir.join("m.json"), v.to_string()).unwrap();
        let spec = runfile::parse(
            "[dataset]\nsamples = 10\n[measured]\nreport = \"m.json\"\n",
            "r.toml",
            &dir,
        )
        .unwrap();
        let reg = Registry::embedded();
        let f = read_measured(&spec).unwrap().unwrap();
        assert_eq!(f.per, Per::Run);
        let e = plan_measured(&spec, &reg, f, "x").unwrap_err().to_string();
        assert!(e.contains("--samples"), "{e}");
        // with its samples, a measured command is the run's own workload: J/sample carries over
        std::fs::write(
            dir.join("m.json"),
            fixture.replace("\"mode\": \"training\"", "\"mode\": \"command\""),
        )
        .unwrap();
        let f = read_measured(&spec).unwrap().unwrap();
        assert_eq!(f.per, Per::Sample);
        let u = plan_measured(&spec, &reg, f, "x").unwrap();
        assert_eq!(u.extrapolation, Extrapolation::PerSample);
        assert_eq!(u.advisory, None, "CPU measurement, run with no accelerator");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Should the figures ever overflow, the message points at the inputs that came from
    /// outside the run file, largest first, with where each came from.
    #[test]
    fn an_overflow_names_the_largest_outside_inputs() {
        let spec = runfile::parse(
            "[hardware]\ndevice = \"H100\"\nhours = 1\n[site]\nregion = \"PL\"\n",
            "r.toml",
            Path::new("."),
        )
        .unwrap();
        let built = scenario::build(&spec, &Registry::embedded(), None).unwrap();
        let msg = largest_inputs(&built);
        let first = msg.split("; ").next().unwrap();
        assert!(
            first.contains("site.carbon_intensity_g_per_kwh") || first.contains("hardware.power_w"),
            "{msg}"
        );
        assert!(msg.contains("region PL"), "the source is named: {msg}");
    }

    /// A measurement written as `measure -o` writes it is read back whole by the one reader:
    /// the record and the estimates come back equal.
    #[test]
    fn a_measurement_report_round_trips_through_the_record() {
        let fixture = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/measurement-cpu.json"),
        )
        .unwrap();
        let m = MeasurementReport::from_json(&fixture, "fixture.json")
            .unwrap()
            .measurement;
        let reg = Registry::embedded();
        let report = measurement_report(m.clone(), None, Some("FR".to_string()), &reg).unwrap();
        let json = crate::report::exporter(crate::report::Format::Json)
            .render(&report)
            .unwrap();
        let back = MeasurementReport::from_json(&json, "written.json").unwrap();
        assert_eq!(back.measurement, m);
        // the estimates as reports write them (12 significant digits) come back the same
        let written = |es: &[Estimate]| -> Vec<crate::record::EstimateRecord> {
            es.iter().map(crate::record::EstimateRecord::from).collect()
        };
        assert_eq!(written(&back.estimates), written(&report.estimates));
        assert_eq!(back.name, report.name);
        // and a hostile edit is refused with the field named
        let bad = json.replacen("\"energy_j\": ", "\"energy_j\": -", 1);
        let e = MeasurementReport::from_json(&bad, "bad.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad.json: ") && e.contains("energy_j"), "{e}");
        // a report that would make a product of inputs overflow is refused by the reader
        let huge = json.replacen("\"devices_used\": 1.0", "\"devices_used\": 1e300", 1);
        let e = MeasurementReport::from_json(&huge, "huge.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("devices_used"), "{e}");
        let future = json.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
        assert!(MeasurementReport::from_json(&future, "f.json").is_err());
    }
}
