//! `footprint measure`: the inputs checked, the measurement made (training loop or command),
//! and its report against the run file or the measured window.

use std::path::{Path, PathBuf};

use super::{evaluate, plan_measured, registry};
use crate::budget::Limits;
use crate::error::{InputError, MeasureError};
use crate::impact::SiteRates;
use crate::measure::{self, SpawnFailure, WrapOptions};
use crate::profiles::RegionName;
use crate::profiles::Registry;
use crate::record::{Measurement, Mode, Per, Status};
use crate::report::{Report, ReportKind};
use crate::runfile::{self, RunSpec};
use crate::scenario::{self, Extrapolation, MeasuredUse};
use crate::train::{self, TrainOptions};

/// What `footprint measure` runs.
#[derive(Clone, Debug)]
pub(crate) enum MeasureMode {
    Train(TrainOptions),
    Command(WrapOptions),
}

/// A measurement and what to report it against.
#[derive(Clone, Debug)]
pub(crate) struct MeasureRequest {
    pub(crate) mode: MeasureMode,
    /// How to sample (interval, trace, progress line).
    pub(crate) sampling: measure::Sampling,
    /// A run file to extrapolate to (its N × epochs, grid, PUE, prices).
    pub(crate) run: Option<PathBuf>,
    /// The grid of the measured window when there is no run file.
    pub(crate) region: Option<String>,
    /// The run is the measured workload itself (`--same-workload`).
    pub(crate) same_workload: bool,
    /// Stop the measurement when its window exceeds these (`--max-energy`, ...).
    pub(crate) limits: Limits,
    /// Keep a Prometheus text file up to date during the run.
    pub(crate) prometheus_textfile: Option<PathBuf>,
    /// An intensity series to reckon the CO2e hour by hour (`--intensity`, `--basis`).
    pub(crate) intensity: Option<(PathBuf, crate::intensity::Basis)>,
    /// Which figures of a series the run file names (`--basis`).
    pub(crate) basis: crate::intensity::Basis,
}

/// How a measurement ended.
pub(crate) enum MeasureOutcome {
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
pub(crate) fn measure(
    req: &MeasureRequest,
    profiles: Option<&Path>,
) -> anyhow::Result<MeasureOutcome> {
    let reg = registry(profiles)?;
    // Everything that can be wrong with the inputs is found now, before measuring.
    let mut run = req.run.as_deref().map(runfile::load).transpose()?;
    // --intensity, else the run file's [site] intensity_series.
    let series_path = req.intensity.clone().or_else(|| {
        let (_, p) = run.as_ref()?.site.intensity_series.as_ref()?;
        Some((p.clone(), req.basis))
    });
    let series = series_path
        .as_ref()
        .map(|(p, basis)| super::when::read_series(p, *basis).map(|s| (p, s)))
        .transpose()?;
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
    let site = central_site(run.as_ref(), req.region.as_deref(), &reg)?;
    let budget = runtime_budget(&req.limits, &site)?;
    let textfile = req.prometheus_textfile.as_ref().map(|path| {
        let p = crate::measure::placement::here();
        measure::textfile::Textfile {
            path: path.clone(),
            job: p.job_id.clone().unwrap_or_else(|| "footprint".to_string()),
            node: p.node.clone(),
            rates: site.rates,
            render: crate::report::prometheus::render,
        }
    });
    let common = measure::Common {
        sampling: req.sampling.clone(),
        budget,
        textfile,
    };
    let (m, code) = match &req.mode {
        MeasureMode::Train(opts) => {
            let m = train::train(opts, &common, &reg)?;
            let code = match m.status {
                Status::Interrupted => 128 + measure::signal::received().unwrap_or(2),
                Status::BudgetExceeded => crate::error::EXIT_BUDGET,
                Status::Complete => crate::error::EXIT_OK,
            };
            (m, code)
        }
        MeasureMode::Command(opts) => match measure::wrap(opts, &common, &reg)? {
            Ok(done) => done,
            Err(fail) => return Ok(MeasureOutcome::NotStarted(fail)),
        },
    };
    let mut report = measurement_report(m, run, req.region.clone(), &reg)?;
    if let (Some((path, series)), Some(m)) = (&series, report.measurement.as_mut()) {
        let t = time_resolved(m, series, path, &site);
        if t.energy_covered < 1.0 {
            report.notes.push(format!(
                "the intensity series covers {:.0} % of the measured energy: the rest is at the annual figure, {} g/kWh",
                100.0 * t.energy_covered,
                crate::units::sig4(t.annual_g_per_kwh)
            ));
        }
        m.time_resolved = Some(t);
    }
    Ok(MeasureOutcome::Measured {
        report: Box::new(report),
        exit_code: code,
        site,
    })
}

/// The measured window's CO2e with its energy at the series' intensity minute by minute
/// (`energy_timeline`), beside the annual-average figure: both through the site's rates.
fn time_resolved(
    m: &Measurement,
    series: &crate::intensity::Series,
    path: &Path,
    site: &CentralSite,
) -> crate::record::TimeResolved {
    use crate::units::{Duration, Energy};
    let mean =
        crate::intensity::energy_weighted_mean(series, &m.energy_timeline, site.rates.intensity);
    let energy = Energy::from_joules(m.energy_j);
    let annual = site.rates.apply(energy, Duration::ZERO).co2e;
    let hourly = SiteRates {
        intensity: mean.intensity,
        ..site.rates
    }
    .apply(energy, Duration::ZERO)
    .co2e;
    let tidy = crate::record::tidy;
    crate::record::TimeResolved {
        series: series.label.clone(),
        series_file: path.display().to_string(),
        mean_g_per_kwh: tidy(mean.intensity.raw()),
        co2e_kg: tidy(hourly.kg()),
        annual_g_per_kwh: tidy(site.rates.intensity.raw()),
        annual_average_co2e_kg: tidy(annual.kg()),
        difference_percent: if annual.raw() > 0.0 {
            tidy(100.0 * (hourly.raw() / annual.raw() - 1.0))
        } else {
            0.0
        },
        energy_covered: tidy(mean.covered),
    }
}

/// Where a measurement's own window is reckoned: the central rates of the run file's site (or,
/// without one, of `--region` or the world average at PUE 1), and the place for people.
pub(crate) struct CentralSite {
    pub(crate) rates: SiteRates,
    /// The region as named, and the place's name.
    pub(crate) region: Option<RegionName>,
    pub(crate) place: Option<String>,
}

/// The run the measured window is reckoned against: the user's, else the window itself.
fn window_spec(run: Option<&RunSpec>, region: Option<&str>) -> RunSpec {
    match run {
        Some(r) => r.clone(),
        None => RunSpec::measured_window("window".to_string(), 1, region.map(String::from)),
    }
}

pub(crate) fn central_site(
    run: Option<&RunSpec>,
    region: Option<&str>,
    reg: &Registry,
) -> Result<CentralSite, InputError> {
    let spec = window_spec(run, region);
    let rates = scenario::site_rates(&spec, reg)?;
    let named = spec.site.region.as_ref().map(|r| r.value.clone());
    let place = named
        .as_deref()
        .and_then(|r| reg.region(r).ok())
        .and_then(|r| reg.grid(&r.code).map(|g| g.name.clone()));
    Ok(CentralSite {
        rates,
        region: named.as_deref().map(RegionName::parse),
        place,
    })
}

/// The runtime budget of a measurement: its limits, at the central rates of its site.
fn runtime_budget(
    limits: &Limits,
    site: &CentralSite,
) -> Result<Option<measure::RuntimeBudget>, InputError> {
    if limits.is_empty() {
        return Ok(None);
    }
    let rates = site.rates;
    if limits.cost.is_some() && rates.device_price.is_none() && rates.electricity_price.is_none() {
        return Err(InputError::new(
            "a cost limit needs a price: give --run RUN.toml with hardware.price_usd_per_device_hour (or a device whose profile has one) or site.electricity_usd_per_kwh",
        )
        .for_key("--max-cost"));
    }
    Ok(Some(measure::RuntimeBudget {
        max_energy: limits.energy,
        max_co2e: limits.co2e,
        max_cost: limits.cost,
        rates,
    }))
}

/// The report of a measurement: against the user's run (extrapolated to its N × epochs) or,
/// without one, the measured window itself.
pub(crate) fn measurement_report(
    m: Measurement,
    run: Option<RunSpec>,
    region: Option<String>,
    reg: &Registry,
) -> anyhow::Result<Report> {
    let figures = m.figures();
    let window_only = run.is_none();
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
    report.window_only = window_only;
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
    use crate::impact::Estimate;
    use crate::record::MeasurementReport;

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
