//! The evaluation core every command shares: a parsed run (and the measurement its
//! `[measured]` section names) through `scenario` and `impact`, to estimates and a report.

use super::MAX_REPORT_BYTES;
use crate::budget::{self, Limits};
use crate::error::InputError;
use crate::impact::{self, Estimate};
use crate::profiles::Registry;
use crate::record::{Field, FigureCheck, MeasuredFigures, MeasurementReport, Mode, Per};
use crate::report::{Report, ReportKind};
use crate::runfile::{self, RunSpec};
use crate::scenario::{self, Built, Extrapolation, MeasuredUse};

/// A run evaluated: its estimates and everything the report says about them.
pub(crate) struct Evaluated {
    pub(super) spec: RunSpec,
    pub estimates: Vec<Estimate>,
    built: Built,
}

impl Evaluated {
    /// The report of this run, for one command.
    pub(crate) fn into_report(self, kind: ReportKind, budget: Option<budget::Verdict>) -> Report {
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
            window_only: false,
        }
    }

    /// The published figures compared with the primary estimate, as `validate` judges them.
    pub(crate) fn published_figures(&self) -> Vec<FigureCheck> {
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
    pub(crate) fn limits(&self) -> Option<Limits> {
        self.spec.budget.as_ref().map(limits_of)
    }

    /// The budget verdict on the primary estimate.
    pub(crate) fn verdict(
        &self,
        limits: &Limits,
        strict: bool,
    ) -> Result<budget::Verdict, InputError> {
        verdict(&self.estimates, limits, strict, &self.spec.file)
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

pub(super) fn verdict(
    estimates: &[Estimate],
    limits: &Limits,
    strict: bool,
    file: &str,
) -> Result<budget::Verdict, InputError> {
    let primary = impact::primary(estimates).expect("a run has at least one model");
    budget::check(primary, limits, strict).map_err(|u| InputError::new(u.0).in_file(file))
}

/// Reads the report a run's `[measured]` section names, through the one reader of reports.
pub(crate) fn read_measured(spec: &RunSpec) -> Result<Option<MeasuredFigures>, InputError> {
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
/// - otherwise the measured J/FLOP and FLOP/s calibrate the run's FLOPs (`[compute]`);
/// - a measurement on another kind of device than the run's is shown for comparison, never
///   primary.
///
/// Refused when neither applies. `what` names the input at fault in messages.
pub(crate) fn plan_measured(
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
pub(crate) fn evaluate(
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
pub(crate) fn evaluate_run(spec: RunSpec, reg: &Registry) -> Result<Evaluated, InputError> {
    let measured = match read_measured(&spec)? {
        Some(f) => Some(plan_measured(&spec, reg, f, "measured.report")?),
        None => None,
    };
    evaluate(spec, reg, measured.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
}
