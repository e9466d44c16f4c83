//! From a run description and the profiles to a calculator scenario, with every assumption
//! written down.
//!
//! This is where defaults are chosen and profile values looked up, so it is also where the
//! report's list of assumptions comes from: each input that the user did not give is recorded
//! with its value and where that value came from (`default` or `profile`, with the citation).
//! Errors found here (an unknown device or region) point at the line of the run file.

use crate::error::InputError;
use crate::impact::{
    DeviceTime, DeviceUse, Embodied, FlopSource, Inputs, ModelKind, Param, Quantity, Scenario,
    Site, SiteRates, Work,
};
use crate::profiles::{Accelerator, DEFAULT_GRID, RegionName, Registry};
use crate::record::MeasuredFigures;
pub(crate) use crate::record::{AssumedValue, Assumption, Origin};
use crate::runfile::{FlopsSpec, In, RangeValue, RunSpec, Scaling};
use crate::units::{
    CarbonIntensity, CarbonPrice, Duration, Energy, EnergyPrice, FlopRate, Flops, Mass, Money,
    Power, TimePrice,
};

/// Years a device is amortised over when `[embodied]` gives no lifetime.
pub(crate) const DEFAULT_LIFETIME_YEARS: f64 = 5.0;

/// What `build` produces: the scenario and everything a report says about it.
#[derive(Clone, Debug)]
pub struct Built {
    pub scenario: Scenario,
    pub(crate) assumptions: Vec<Assumption>,
    /// Things the reader should know that are not values (what was not counted, ...).
    pub(crate) notes: Vec<String>,
}

fn range_json(r: RangeValue) -> AssumedValue {
    if r.is_point() {
        AssumedValue::Number(r.low)
    } else {
        AssumedValue::Range {
            low: r.low,
            central: r.central(),
            high: r.high,
        }
    }
}

struct Builder<'a> {
    spec: &'a RunSpec,
    inputs: Inputs,
    assumptions: Vec<Assumption>,
    notes: Vec<String>,
}

impl Builder<'_> {
    fn param<T: Quantity>(&mut self, r: RangeValue, unit: impl Fn(f64) -> T) -> Param<T> {
        self.inputs
            .range(unit(r.low), unit(r.central()), unit(r.high))
    }

    fn assume(
        &mut self,
        input: &str,
        value: AssumedValue,
        unit: Option<&'static str>,
        source: Origin,
        reference: impl Into<String>,
    ) {
        self.assumptions.push(Assumption {
            input: input.to_string(),
            value,
            unit,
            source,
            reference: reference.into(),
        });
    }

    /// A default with its evidence spread, recorded as an assumption; `k` converts the default
    /// to the input's unit.
    fn uncertain<T: Quantity>(
        &mut self,
        input: &str,
        d: crate::defaults::Default3,
        unit: Option<&'static str>,
        reference: String,
        to: impl Fn(f64) -> T,
    ) -> Param<T> {
        self.assume(
            input,
            AssumedValue::Range {
                central: d.central,
                high: d.high,
                low: d.low,
            },
            unit,
            Origin::Default,
            reference,
        );
        self.inputs.uncertain(to(d.low), to(d.central), to(d.high))
    }

    /// A value from the file, else `default` recorded as an assumption.
    fn given_or(
        &mut self,
        given: Option<&In<RangeValue>>,
        input: &str,
        unit: Option<&'static str>,
        default: RangeValue,
        source: Origin,
        reference: &str,
    ) -> RangeValue {
        match given {
            Some(v) => v.value,
            None => {
                self.assume(input, range_json(default), unit, source, reference);
                default
            }
        }
    }
}

/// How a measurement's figures stand in for the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extrapolation {
    /// J/sample × the run's samples: the measurement ran the run's own workload.
    PerSample,
    /// J/FLOP × the run's FLOPs (a calibration): the measurement ran another workload.
    PerFlop,
}

/// A measurement, and how the run uses it (decided by `app`, which compares the devices).
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredUse {
    pub(crate) figures: MeasuredFigures,
    pub(crate) extrapolation: Extrapolation,
    /// Why the measurement is only shown for comparison (another device than the run's), if so.
    pub(crate) advisory: Option<String>,
}

/// Builds the calculator's scenario for a run. `measurement` holds the figures of the report
/// named by `[measured]`, already read (reading files is the caller's job).
pub fn build(
    spec: &RunSpec,
    reg: &Registry,
    measurement: Option<&MeasuredUse>,
) -> Result<Built, InputError> {
    let mut b = Builder {
        spec,
        inputs: Inputs::default(),
        assumptions: Vec::new(),
        notes: Vec::new(),
    };
    let hw = spec.hardware.as_ref();

    // The accelerator profile, when named.
    let device: Option<&Accelerator> = match hw.and_then(|h| h.device.as_ref()) {
        Some(d) => Some(
            reg.accelerator(&d.value)
                .map_err(|e| spec.error_at(d.line, &d.key, e.to_string()))?,
        ),
        None => None,
    };

    let site = site(&mut b, reg)?;
    let epochs = spec.dataset.as_ref().map(|ds| {
        let e = b.given_or(
            ds.epochs.as_ref(),
            "dataset.epochs",
            None,
            RangeValue::point(1.0),
            Origin::Default,
            "one pass over the data",
        );
        b.param(e, |x| x)
    });

    let mut models = Vec::new();
    if let (Some(m), Some(u)) = (spec.measured.as_ref(), measurement) {
        let model = match u.extrapolation {
            Extrapolation::PerSample => measured_model(&mut b, m, &u.figures, epochs)?,
            Extrapolation::PerFlop => calibrated_model(&mut b, m, &u.figures, epochs)?,
        };
        if let Some(why) = &u.advisory {
            b.notes.push(why.clone());
        }
        models.push(model);
    }
    // Models 2 and 3 share how devices draw power and cost money.
    let has_duration = hw.is_some_and(|h| h.hours.is_some() || h.device_hours.is_some());
    let has_compute = spec.compute.is_some() && device.is_some();
    let device_use = if has_duration || has_compute {
        Some(device_use(&mut b, device)?)
    } else {
        None
    };
    if let (Some(h), Some(d)) = (hw.filter(|_| has_duration), device_use) {
        models.push(duration_model(&mut b, h, d));
    }
    if let (Some(c), Some(d), true) = (&spec.compute, device_use, has_compute) {
        models.push(compute_model(&mut b, c, device, d, epochs)?);
    }
    if let Some(ps) = &spec.per_sample {
        models.push(per_sample_model(&mut b, ps, epochs));
        if models.len() == 1 {
            b.notes.push(
                "per-sample model: no device time, so no embodied share and no rental cost"
                    .to_string(),
            );
        }
    }

    if let (Some(m), None) = (&spec.measured, measurement) {
        return Err(spec.error_at(
            m.report.line,
            &m.report.key,
            "the measured model needs the report's figures; none were read",
        ));
    }

    let embodied = embodied(&mut b, device)?;

    cost_notes(&mut b, &models, &site);
    // A default PUE that no model applies (per-sample energy taken as given) is not an
    // assumption of this estimate: listing it would say the figures include it.
    let pue_unused = models.iter().all(|(_, w)| {
        matches!(
            w,
            Work::PerSample {
                at_devices: false,
                ..
            }
        )
    });
    if pue_unused {
        b.assumptions.retain(|a| a.input != "site.pue");
    }

    models.sort_by_key(|(k, _)| *k);
    let advisory = measurement.is_some_and(|u| u.advisory.is_some());
    Ok(Built {
        scenario: Scenario {
            inputs: b.inputs,
            models: models
                .into_iter()
                .map(|(kind, work)| crate::impact::Model {
                    kind,
                    work,
                    advisory: advisory
                        && matches!(kind, ModelKind::Measured | ModelKind::Calibrated),
                })
                .collect(),
            site,
            embodied,
        },
        assumptions: b.assumptions,
        notes: b.notes,
    })
}

/// Where a measurement's energy figures come from: read from hardware, or the CPU-time model.
fn energy_origin(fig: &MeasuredFigures) -> Origin {
    if fig.modelled {
        Origin::Modelled
    } else {
        Origin::Measured
    }
}

/// Model 4, measured: the measurement's J/sample and samples/s, extrapolated to the run.
fn measured_model(
    b: &mut Builder<'_>,
    m: &crate::runfile::Measured,
    fig: &MeasuredFigures,
    epochs: Option<Param<f64>>,
) -> Result<(ModelKind, Work), InputError> {
    let spec = b.spec;
    let hw = spec.hardware.as_ref();
    let Some(ds) = spec.dataset.as_ref() else {
        return Err(spec.error_at(
            m.report.line,
            &m.report.key,
            "the measured model needs [dataset] `samples` to extrapolate to",
        ));
    };
    let energy_per_sample = b.inputs.point(Energy::from_joules(fig.joules_per_sample));
    let samples_per_second = b.inputs.point(fig.samples_per_second);
    b.assume(
        &format!("measured.joules_per_{}", fig.per.as_str()),
        AssumedValue::Number(fig.joules_per_sample),
        Some("J"),
        energy_origin(fig),
        format!("{}: {}", m.report.value, fig.energy_source),
    );
    // Throughput is timed by the clock: measured even where the energy is modelled.
    b.assume(
        &format!("measured.{}s_per_second", fig.per.as_str()),
        AssumedValue::Number(fig.samples_per_second),
        Some(match fig.per {
            crate::record::Per::Sample => "samples/s",
            crate::record::Per::Run => "runs/s",
        }),
        Origin::Measured,
        format!("{} on {}", m.report.value, fig.device),
    );
    let price = hw
        .and_then(|h| h.price_usd_per_device_hour.as_ref())
        .map(|p| b.param(p.value, TimePrice::from_usd_per_hour));
    Ok((
        ModelKind::Measured,
        Work::Measured {
            energy_per_sample,
            samples_per_second,
            devices: fig.devices,
            samples: ds.total_samples() as f64,
            epochs: epochs.expect("dataset present"),
            price,
        },
    ))
}

/// Model 4b, calibrated: the run's FLOPs at the J/FLOP and FLOP/s measured on its device.
fn calibrated_model(
    b: &mut Builder<'_>,
    m: &crate::runfile::Measured,
    fig: &MeasuredFigures,
    epochs: Option<Param<f64>>,
) -> Result<(ModelKind, Work), InputError> {
    let spec = b.spec;
    let (Some(c), Some(jpf), Some(rate)) =
        (&spec.compute, fig.joules_per_flop, fig.flops_per_second)
    else {
        return Err(spec.error_at(
            m.report.line,
            &m.report.key,
            "a calibration needs [compute] FLOPs in the run and J/FLOP in the measurement (footprint's training loop)",
        ));
    };
    let per_device = rate / fig.devices.max(1.0);
    b.assume(
        "measured.joules_per_flop",
        AssumedValue::Number(jpf),
        Some("J"),
        energy_origin(fig),
        format!("{}: {}", m.report.value, fig.energy_source),
    );
    // FLOPs counted from the shapes over a timed window: measured even where the energy is
    // modelled.
    b.assume(
        "measured.flops_per_second_per_device",
        AssumedValue::Number(per_device),
        Some("FLOP/s"),
        Origin::Measured,
        format!("{} on {}", m.report.value, fig.device),
    );
    let flops = flop_source(b, c, epochs);
    let joules_per_flop = b.inputs.point(jpf);
    let rate_per_device = b.inputs.point(FlopRate::from_flop_per_s(per_device));
    let count = count(b);
    let price = spec
        .hardware
        .as_ref()
        .and_then(|h| h.price_usd_per_device_hour.as_ref())
        .map(|p| b.param(p.value, TimePrice::from_usd_per_hour));
    Ok((
        ModelKind::Calibrated,
        Work::Calibrated {
            flops,
            joules_per_flop,
            rate_per_device,
            count,
            price,
        },
    ))
}

/// The run's FLOPs as its [compute] section gives them.
fn flop_source(
    b: &mut Builder<'_>,
    c: &crate::runfile::Compute,
    epochs: Option<Param<f64>>,
) -> FlopSource {
    match &c.flops {
        FlopsSpec::Total(f) => FlopSource::Total(b.param(f.value, Flops::from_count)),
        FlopsSpec::ParamsTokens {
            parameters,
            tokens,
            active,
        } => FlopSource::SixPT {
            // A mixture of experts computes with its active parameters only.
            parameters: b.param(active.as_ref().unwrap_or(parameters).value, |x| x),
            tokens: b.param(tokens.value, |x| x),
        },
        FlopsSpec::PerSample(ps) => FlopSource::PerSample {
            per_sample: b.param(ps.value, Flops::from_count),
            samples: b
                .spec
                .dataset
                .as_ref()
                .expect("the run file checks flops_per_sample has a dataset")
                .total_samples() as f64,
            epochs: epochs.expect("dataset present"),
        },
    }
}

/// Model 3, duration: device-hours (or hours × count) at the devices' draw.
fn duration_model(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    device: DeviceUse,
) -> (ModelKind, Work) {
    let time = match (&h.hours, &h.device_hours) {
        (Some(hours), _) => DeviceTime::Wall {
            hours: b.param(hours.value, Duration::from_hours),
            count: count(b),
        },
        (None, Some(dh)) => DeviceTime::Total(b.param(dh.value, Duration::from_hours)),
        (None, None) => unreachable!("the duration model has hours or device_hours"),
    };
    (ModelKind::Duration, Work::Duration { time, device })
}

/// Model 2, compute: FLOPs ÷ (peak × utilization) of device time.
fn compute_model(
    b: &mut Builder<'_>,
    c: &crate::runfile::Compute,
    device: Option<&Accelerator>,
    device_use: DeviceUse,
    epochs: Option<Param<f64>>,
) -> Result<(ModelKind, Work), InputError> {
    let spec = b.spec;
    let hw = spec.hardware.as_ref();
    let acc = device.expect("the run file checks the compute model has a device");
    let Some(peak) = &acc.peak_flops else {
        let d = hw.and_then(|h| h.device.as_ref()).expect("device named");
        return Err(spec.error_at(
            d.line,
            &d.key,
            format!(
                "profile {} has no peak_flops, which the compute model needs",
                acc.name
            ),
        ));
    };
    let peak_p = b.inputs.point(FlopRate::from_flop_per_s(peak.value));
    b.assume(
        "hardware.peak_flops",
        AssumedValue::Number(peak.value),
        Some("FLOP/s"),
        Origin::Profile,
        format!("{}: {}", acc.name, peak.citation()),
    );
    let utilization = match hw.and_then(|h| h.utilization.as_ref()) {
        Some(u) => b.param(u.value, |x| x),
        None => {
            let n = hw
                .and_then(|h| h.count.as_ref())
                .map_or(1.0, |c| c.value as f64);
            let (parameters, moe) = match &c.flops {
                FlopsSpec::ParamsTokens {
                    parameters, active, ..
                } => (
                    Some(active.as_ref().unwrap_or(parameters).value.central()),
                    active.is_some(),
                ),
                _ => (None, false),
            };
            let year = spec.site.year.as_ref().map(|y| y.value);
            let (d, why) = crate::defaults::utilization(acc, n, parameters, moe, year);
            let mut basis = d.basis.to_string();
            if let Some(r) = &why.relative {
                basis.push_str(&format!("; {} {r}", acc.name));
            }
            if why.moe {
                basis.push_str(&format!(
                    "; mixture of experts x{}-x{}: {}",
                    crate::defaults::MOE_FACTOR.low,
                    crate::defaults::MOE_FACTOR.high,
                    crate::defaults::MOE_FACTOR.basis
                ));
            }
            if year.is_none() {
                basis.push_str("; no [site] year: the latest evidence");
            }
            b.uncertain(
                "hardware.utilization",
                d,
                None,
                format!("{basis}; {}", why.scale),
                |x| x,
            )
        }
    };
    let flops = flop_source(b, c, epochs);
    let count = count(b);
    Ok((
        ModelKind::Compute,
        Work::Compute {
            flops,
            peak: peak_p,
            utilization,
            count,
            device: device_use,
        },
    ))
}

/// Model 1, per-sample: samples (weighted by size when per byte) × energy and cost per sample.
fn per_sample_model(
    b: &mut Builder<'_>,
    ps: &crate::runfile::PerSample,
    epochs: Option<Param<f64>>,
) -> (ModelKind, Work) {
    let ds = b
        .spec
        .dataset
        .as_ref()
        .expect("the run file checks per_sample has a dataset");
    let weighted_samples: f64 = ds
        .shards
        .iter()
        .map(|s| {
            let n = s.samples.value as f64;
            match ps.scaling {
                Scaling::PerSample => n,
                Scaling::PerByte { reference_bytes } => {
                    n * s.sample_bytes.as_ref().map_or(0.0, |d| d.value) / reference_bytes
                }
            }
        })
        .sum();
    if ps.reference_bytes_defaulted {
        b.assume(
            "per_sample.reference_bytes",
            AssumedValue::Number(1.0),
            Some("B"),
            Origin::Default,
            "scaling = \"per_byte\" without reference_bytes: the per-sample values are per byte",
        );
    }
    if b.spec.site.pue.is_none() {
        b.notes.push(
            "per-sample model: the per-sample energy is taken as given, with no PUE (the run gives none); give [site] pue to count the facility around it"
                .to_string(),
        );
    }
    let energy_per_sample = b.param(ps.energy_kwh.value, Energy::from_kwh);
    let cost_per_sample = ps
        .cost_usd
        .as_ref()
        .map(|c| b.param(c.value, Money::from_usd));
    (
        ModelKind::PerSample,
        Work::PerSample {
            weighted_samples,
            epochs: epochs.expect("dataset present"),
            energy_per_sample,
            cost_per_sample,
            at_devices: b.spec.site.pue.is_some(),
        },
    )
}

/// What the report says about prices: none known, or an electricity price left out because a
/// compute price already includes it.
fn cost_notes(b: &mut Builder<'_>, models: &[(ModelKind, Work)], site: &Site) {
    let has_price = models.iter().any(|(_, w)| match w {
        Work::PerSample {
            cost_per_sample, ..
        } => cost_per_sample.is_some(),
        Work::Compute { device, .. } | Work::Duration { device, .. } => device.price.is_some(),
        Work::Measured { price, .. } | Work::Calibrated { price, .. } => price.is_some(),
    });
    if site.electricity_price.is_some() && has_price {
        b.notes.push(
            "site.electricity_usd_per_kwh is not added where a compute price is known: rental and per-sample prices include electricity".to_string(),
        );
    }
    if !has_price && site.electricity_price.is_none() {
        b.notes.push(
            "no price known: give hardware.price_usd_per_device_hour, per_sample.cost_usd or site.electricity_usd_per_kwh for a cost".to_string(),
        );
    }
}

fn count(b: &mut Builder<'_>) -> f64 {
    match b.spec.hardware.as_ref().and_then(|h| h.count.as_ref()) {
        Some(c) => c.value as f64,
        None => {
            if !b.assumptions.iter().any(|a| a.input == "hardware.count") {
                b.assume(
                    "hardware.count",
                    AssumedValue::Count(1),
                    None,
                    Origin::Default,
                    "one device",
                );
            }
            1.0
        }
    }
}

/// Where a yearly figure came from, and how it stands for the run's year.
fn year_citation(y: &crate::profiles::YearIntensity, asked: Option<u64>) -> String {
    let which = match asked {
        None => format!(
            "no [site] year given: the latest published year, {}",
            y.year
        ),
        Some(a) if y.after_series => {
            format!("{a} is after the series: its latest year, {}", y.year)
        }
        Some(a) if y.before_series => {
            format!("{a} is before the series: its first year, {}", y.year)
        }
        Some(_) => format!("the run's year, {}", y.year),
    };
    format!("{} ({which})", y.source)
}

/// The run's site at its central point: the intensity, PUE and prices that its central
/// estimate uses, for figures computed while a measurement runs (its budget, its Prometheus
/// file) and for the CodeCarbon row, so that they agree with the report.
pub(crate) fn site_rates(spec: &RunSpec, reg: &Registry) -> Result<SiteRates, InputError> {
    let mut b = Builder {
        spec,
        inputs: Inputs::default(),
        assumptions: Vec::new(),
        notes: Vec::new(),
    };
    let site = site(&mut b, reg)?;
    let device_price = match spec.hardware.as_ref() {
        Some(h) => {
            let device = match h.device.as_ref() {
                Some(d) => Some(
                    reg.accelerator(&d.value)
                        .map_err(|e| spec.error_at(d.line, &d.key, e.to_string()))?,
                ),
                None => None,
            };
            device_price(&mut b, h, device)
        }
        None => None,
    };
    let inputs = &b.inputs;
    Ok(SiteRates {
        pue: central(inputs, site.pue),
        intensity: central(inputs, site.intensity),
        electricity_price: site.electricity_price.map(|p| central(inputs, p)),
        device_price: device_price.map(|p| central(inputs, p)),
    })
}

fn central<T: Quantity>(inputs: &Inputs, p: Param<T>) -> T {
    T::from_raw(inputs.get(p).central)
}

fn site(b: &mut Builder<'_>, reg: &Registry) -> Result<Site, InputError> {
    let spec = b.spec;
    let s = &spec.site;
    let intensity = match (&s.carbon_intensity_g_per_kwh, &s.region) {
        (Some(i), _) => b.param(i.value, CarbonIntensity::from_g_per_kwh),
        (None, Some(region)) => {
            let r = reg
                .region(&region.value)
                .map_err(|e| spec.error_at(region.line, &region.key, e.to_string()))?;
            let year = s.year.as_ref().map(|y| y.value);
            let by_year = r.grid.as_deref().and_then(|g| reg.intensity_in(g, year));
            let (value, citation, future) = match &by_year {
                Some(y) => (y.g_per_kwh, year_citation(y, year), y.after_series),
                // No series (a US state's eGRID figure, a cloud's own): the profile's year.
                None => {
                    let profile_year = r.intensity.year.map(u64::from);
                    let later = year.is_none_or(|y| profile_year.is_none_or(|p| y > p));
                    (r.intensity.value, r.intensity.citation(), later)
                }
            };
            let spread = crate::defaults::grid_spread(value, future);
            let d = spread.times(value);
            b.assume(
                "site.carbon_intensity_g_per_kwh",
                AssumedValue::Range {
                    central: d.central,
                    high: d.high,
                    low: d.low,
                },
                Some("gCO2e/kWh"),
                Origin::Profile,
                format!(
                    "region {}: {citation}; spread x{}-x{}: {}",
                    r.label, spread.low, spread.high, spread.basis
                ),
            );
            b.inputs.uncertain(
                CarbonIntensity::from_g_per_kwh(d.low),
                CarbonIntensity::from_g_per_kwh(d.central),
                CarbonIntensity::from_g_per_kwh(d.high),
            )
        }
        (None, None) => {
            let year = s.year.as_ref().map(|y| y.value);
            let (value, citation) = match reg.intensity_in(DEFAULT_GRID, year) {
                Some(y) => (y.g_per_kwh, year_citation(&y, year)),
                None => {
                    let world = reg
                        .grid(DEFAULT_GRID)
                        .expect("the WORLD grid is embedded")
                        .carbon_intensity_g_per_kwh
                        .clone();
                    (world.value, world.citation())
                }
            };
            let d = crate::defaults::GRID_UNKNOWN;
            b.uncertain(
                "site.carbon_intensity_g_per_kwh",
                d.times(value),
                Some("gCO2e/kWh"),
                format!(
                    "no region or intensity given: world average, {citation}; {}",
                    d.basis
                ),
                CarbonIntensity::from_g_per_kwh,
            )
        }
    };
    let pue = match &s.pue {
        Some(p) => b.param(p.value, |x| x),
        None => {
            let cloud = s
                .region
                .as_ref()
                .is_some_and(|r| RegionName::parse(&r.value).is_cloud());
            let d = if cloud {
                crate::defaults::PUE_CLOUD
            } else {
                crate::defaults::PUE_UNKNOWN
            };
            let which = if cloud {
                "no PUE given, a cloud region"
            } else {
                "no PUE given, operator unknown"
            };
            b.uncertain("site.pue", d, None, format!("{which}: {}", d.basis), |x| x)
        }
    };
    let electricity_price = s
        .electricity_usd_per_kwh
        .as_ref()
        .map(|p| b.param(p.value, EnergyPrice::from_usd_per_kwh));
    let carbon_price = s
        .carbon_price_usd_per_t
        .as_ref()
        .map(|p| b.param(p.value, CarbonPrice::from_usd_per_tonne));
    Ok(Site {
        intensity,
        pue,
        electricity_price,
        carbon_price,
    })
}

fn device_use(b: &mut Builder<'_>, device: Option<&Accelerator>) -> Result<DeviceUse, InputError> {
    let h = b
        .spec
        .hardware
        .as_ref()
        .expect("device models have [hardware]");
    // The device's TDP, where its profile has one: what power defaults scale from.
    let tdp = device.and_then(|acc| acc.tdp_w.as_ref().map(|t| (acc, t)));
    Ok(DeviceUse {
        power: device_power(b, h, device, tdp)?,
        host_power: host_power(b, h, tdp),
        price: device_price(b, h, device),
    })
}

/// Average power per device: given, else a share of the profile's TDP, else an error.
fn device_power(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    device: Option<&Accelerator>,
    tdp: Option<(&Accelerator, &crate::profiles::Sourced)>,
) -> Result<Param<Power>, InputError> {
    let spec = b.spec;
    Ok(match (&h.power_w, tdp) {
        (Some(p), _) => b.param(p.value, Power::from_watts),
        (None, Some((acc, tdp))) => {
            let d = crate::defaults::POWER_FRACTION_OF_TDP;
            b.uncertain(
                "hardware.power_w",
                d.times(tdp.value),
                Some("W"),
                format!(
                    "{:.0}-{:.0} % of the {} TDP ({}): {}",
                    d.low * 100.0,
                    d.high * 100.0,
                    acc.name,
                    tdp.citation(),
                    d.basis
                ),
                Power::from_watts,
            )
        }
        (None, None) => {
            let why = match device {
                Some(acc) => format!(
                    "the {} profile has no TDP (its maker publishes none): give power_w, the average W per device",
                    acc.name
                ),
                None => "give power_w (average W per device) or a device whose TDP can be used"
                    .to_string(),
            };
            return Err(spec
                .error_at(h.line, "hardware.power_w", why)
                .for_key("hardware.power_w"));
        }
    })
}

/// Host (CPU, RAM, network) power per device: given, else a share of the device's TDP, else 0
/// (said so).
fn host_power(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    tdp: Option<(&Accelerator, &crate::profiles::Sourced)>,
) -> Param<Power> {
    match (&h.host_power_w, tdp) {
        (Some(p), _) => b.param(p.value, Power::from_watts),
        (None, Some((acc, tdp))) => {
            let d = if crate::defaults::generation(acc) == crate::defaults::Generation::Tpu {
                crate::defaults::TPU_HOST_POWER_FRACTION
            } else {
                crate::defaults::HOST_POWER_FRACTION_OF_TDP
            };
            b.uncertain(
                "hardware.host_power_w",
                d.times(tdp.value),
                Some("W"),
                format!(
                    "{:.0}-{:.0} % of the {} TDP per device: {}",
                    d.low * 100.0,
                    d.high * 100.0,
                    acc.name,
                    d.basis
                ),
                Power::from_watts,
            )
        }
        (None, None) => {
            let host = b.given_or(
                None,
                "hardware.host_power_w",
                Some("W"),
                RangeValue::point(0.0),
                Origin::Default,
                "host CPU, RAM and network power not counted (no device TDP to scale it from)",
            );
            b.param(host, Power::from_watts)
        }
    }
}

/// Rental price per device-hour: given, else the profile's list price for the run's cloud
/// (flagged when it is another cloud's or the site is not a cloud region).
fn device_price(
    b: &mut Builder<'_>,
    h: &crate::runfile::Hardware,
    device: Option<&Accelerator>,
) -> Option<Param<TimePrice>> {
    let spec = b.spec;
    let region = spec.site.region.as_ref().map(|r| r.value.as_str());
    match (
        &h.price_usd_per_device_hour,
        device.and_then(|d| d.price_for(region).map(|(p, m)| (d, p, m))),
    ) {
        (Some(p), _) => Some(b.param(p.value, TimePrice::from_usd_per_hour)),
        (None, Some((acc, p, m))) => {
            use crate::profiles::PriceMatch;
            let flag = match &m {
                PriceMatch::SameCloud => String::new(),
                PriceMatch::OtherCloud { run_cloud } => format!(
                    " (ANOTHER CLOUD's price: the profile has no {run_cloud} price; give price_usd_per_device_hour for yours)"
                ),
                PriceMatch::NotACloudRegion => " (a cloud's on-demand price: the run's site is not a cloud region; give price_usd_per_device_hour for your own)".to_string(),
            };
            if m != PriceMatch::SameCloud {
                b.notes.push(format!(
                    "the rental price is {}'s on-demand list price, not a price for the run's own place: hardware.price_usd_per_device_hour in the assumptions says whose",
                    acc.name
                ));
            }
            b.assume(
                "hardware.price_usd_per_device_hour",
                AssumedValue::Number(p.value),
                Some("USD/h"),
                Origin::Profile,
                format!("{}: {}{flag}", acc.name, p.citation()),
            );
            Some(b.inputs.point(TimePrice::from_usd_per_hour(p.value)))
        }
        (None, None) => None,
    }
}

fn embodied(
    b: &mut Builder<'_>,
    device: Option<&Accelerator>,
) -> Result<Option<Embodied>, InputError> {
    let spec = b.spec;
    let Some(e) = &spec.embodied else {
        b.notes.push(
            "embodied (manufacturing) emissions not counted: add [embodied] to include them"
                .to_string(),
        );
        return Ok(None);
    };
    let kg = match (&e.kg_co2e_per_device, device) {
        (Some(k), _) => k.value,
        (None, Some(acc)) => match &acc.embodied_kg_co2e {
            Some(s) => {
                b.assume(
                    "embodied.kg_co2e_per_device",
                    AssumedValue::Number(s.value),
                    Some("kg"),
                    Origin::Profile,
                    format!("{}: {}", acc.name, s.citation()),
                );
                RangeValue::point(s.value)
            }
            None => {
                return Err(spec.error_at(
                    e.line,
                    "embodied.kg_co2e_per_device",
                    format!(
                        "profile {} has no embodied figure: give kg_co2e_per_device",
                        acc.name
                    ),
                ));
            }
        },
        (None, None) => {
            return Err(spec.error_at(
                e.line,
                "embodied.kg_co2e_per_device",
                "give kg_co2e_per_device (no [hardware] device to take it from)",
            ));
        }
    };
    let per_device = b.param(kg, Mass::from_kg);
    let years = b.given_or(
        e.lifetime_years.as_ref(),
        "embodied.lifetime_years",
        Some("years"),
        RangeValue::point(DEFAULT_LIFETIME_YEARS),
        Origin::Default,
        "a typical accelerator service life",
    );
    let lifetime = b.param(years, Duration::from_years);
    Ok(Some(Embodied {
        per_device,
        lifetime,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::impact::evaluate;
    use std::path::Path;

    fn run(text: &str) -> (Built, Vec<crate::impact::Estimate>) {
        let spec = crate::runfile::parse(text, "run.toml", Path::new(".")).unwrap();
        let built = build(&spec, &Registry::embedded(), None).unwrap();
        let est = evaluate(&built.scenario);
        (built, est)
    }

    fn build_err(text: &str) -> String {
        let spec = crate::runfile::parse(text, "run.toml", Path::new(".")).unwrap();
        build(&spec, &Registry::embedded(), None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn region_is_looked_up_and_recorded() {
        let (b, est) = run(
            "[hardware]\ndevice = \"H100\"\nhours = 10\n[site]\nregion = \"FR\"\nyear = 2024\n",
        );
        let a = b
            .assumptions
            .iter()
            .find(|a| a.input == "site.carbon_intensity_g_per_kwh")
            .unwrap();
        assert_eq!(a.source, Origin::Profile);
        assert!(a.reference.contains("France"), "{}", a.reference);
        assert!(
            a.reference.contains("the run's year, 2024"),
            "{}",
            a.reference
        );
        // the grid's 2024 figure (OWID, Ember), with a low-carbon grid's spread (x0.45 - x1.6)
        assert_eq!(
            a.value,
            AssumedValue::Range {
                central: 40.48,
                high: 40.48 * 1.6,
                low: 40.48 * 0.45
            }
        );
        // (80 % of 700 W + 20 % of 700 W host) × 10 h × PUE 1.15 at 40.48 g
        let kwh = (0.8 * 700.0 + 0.2 * 700.0) * 10.0 / 1000.0 * 1.15;
        assert!((est[0].central.co2e.grams() - kwh * 40.48).abs() < 1e-6);
        assert!(est[0].low.co2e < est[0].central.co2e && est[0].central.co2e < est[0].high.co2e);
        // a later year than the series: its last year, with the wider spread of a future year
        let (b, _) = run(
            "[hardware]\ndevice = \"H100\"\nhours = 10\n[site]\nregion = \"FR\"\nyear = 2030\n",
        );
        let a = b
            .assumptions
            .iter()
            .find(|a| a.input == "site.carbon_intensity_g_per_kwh")
            .unwrap();
        assert!(
            a.reference.contains("2030 is after the series"),
            "{}",
            a.reference
        );
        assert_eq!(
            a.value,
            AssumedValue::Range {
                central: 41.44,
                high: 41.44 * 1.7,
                low: 41.44 * 0.4
            }
        );
    }

    #[test]
    fn defaults_are_listed() {
        let (b, _) = run("[hardware]\npower_w = 300\nhours = 1\n");
        let inputs: Vec<&str> = b.assumptions.iter().map(|a| a.input.as_str()).collect();
        assert!(inputs.contains(&"site.pue"));
        assert!(inputs.contains(&"site.carbon_intensity_g_per_kwh"));
        assert!(inputs.contains(&"hardware.count"));
        assert!(inputs.contains(&"hardware.host_power_w"));
        let world = b
            .assumptions
            .iter()
            .find(|a| a.input == "site.carbon_intensity_g_per_kwh")
            .unwrap();
        assert_eq!(world.source, Origin::Default);
        assert_eq!(
            world.value,
            AssumedValue::Range {
                central: 458.29,
                high: 458.29 * 1.6,
                low: 458.29 * 0.5
            }
        );
    }

    #[test]
    fn unknown_device_and_region_point_at_their_lines() {
        assert!(
            build_err("[hardware]\nhours = 1\ndevice = \"H10\"\n").starts_with(
                "run.toml:3: hardware.device: unknown device 'H10' — did you mean H100?"
            )
        );
        assert!(
            build_err("[hardware]\nhours = 1\npower_w = 3\n[site]\n\nregion = \"Frnace\"\n")
                .starts_with("run.toml:6: site.region: unknown region 'Frnace'")
        );
        assert!(build_err("[hardware]\nhours = 1\n").contains("hardware.power_w"));
        assert!(
            build_err("[hardware]\nhours = 1\ndevice = \"L4\"\n[embodied]\n")
                .contains("no embodied figure")
        );
    }

    #[test]
    fn compute_model_6pt_with_default_utilization_range() {
        let (b, est) = run(
            "[compute]\nparameters = 1e9\ntokens = 2e10\n[hardware]\ndevice = \"A100\"\ncount = 8\n",
        );
        let c = &est[0];
        assert_eq!(c.kind, ModelKind::Compute);
        let flops = 6.0 * 1e9 * 2e10;
        let t = |u: f64| flops / (312e12 * u) / 3600.0;
        // A100 runs of a 1B model: 27-50 % (38 % central)
        assert!((c.central.device_time.unwrap().hours() - t(0.38)).abs() < 1e-9);
        assert!((c.low.device_time.unwrap().hours() - t(0.50)).abs() < 1e-9);
        assert!((c.high.device_time.unwrap().hours() - t(0.27)).abs() < 1e-9);
        assert!(
            b.assumptions
                .iter()
                .any(|a| a.input == "hardware.utilization")
        );
        // A100 has a profile price: the cost is known
        assert!(c.central.cost.is_some());
    }

    #[test]
    fn embodied_from_profile() {
        let (b, est) = run(
            "[hardware]\ndevice = \"A100-80GB\"\ndevice_hours = 8766\n[embodied]\nlifetime_years = 2\n",
        );
        assert!((est[0].central.embodied.kg() - 75.0).abs() < 1e-9);
        assert!(
            b.assumptions
                .iter()
                .any(|a| a.input == "embodied.kg_co2e_per_device")
        );
    }

    #[test]
    fn several_models_are_sorted_by_priority() {
        let (_, est) = run(
            "[dataset]\nsamples = 10\n[per_sample]\nenergy_kwh = 1\n[compute]\nflops_per_sample = 1e12\n[hardware]\ndevice = \"T4\"\nhours = 1\n",
        );
        let kinds: Vec<_> = est.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ModelKind::Duration,
                ModelKind::Compute,
                ModelKind::PerSample
            ]
        );
    }

    /// A run where every model applies, with one key replaced by `key = value`.
    fn full_run(key: &str, value: &str) -> String {
        let base: &[(&str, &str, &str)] = &[
            ("dataset", "samples", "1000"),
            ("dataset", "sample_bytes", "800"),
            ("dataset", "epochs", "2"),
            ("per_sample", "energy_kwh", "0.002"),
            ("per_sample", "cost_usd", "0.01"),
            ("per_sample", "scaling", "\"per_byte\""),
            ("per_sample", "reference_bytes", "400"),
            ("compute", "flops_per_sample", "1e15"),
            ("hardware", "device", "\"A100\""),
            ("hardware", "count", "4"),
            ("hardware", "utilization", "0.4"),
            ("hardware", "power_w", "350"),
            ("hardware", "hours", "3"),
            ("hardware", "host_power_w", "50"),
            ("hardware", "price_usd_per_device_hour", "2"),
            ("site", "carbon_intensity_g_per_kwh", "300"),
            ("site", "pue", "1.2"),
            ("site", "electricity_usd_per_kwh", "0.1"),
            ("site", "carbon_price_usd_per_t", "100"),
            ("embodied", "kg_co2e_per_device", "150"),
            ("embodied", "lifetime_years", "4"),
        ];
        let mut out = String::new();
        let mut section = "";
        for (s, k, v) in base {
            if *s != section {
                out.push_str(&format!("[{s}]\n"));
                section = s;
            }
            let v = if *k == key { value } else { v };
            out.push_str(&format!("{k} = {v}\n"));
        }
        out
    }

    /// Every key that takes a range, with a plausible (low, high) for it.
    const RANGED: &[(&str, f64, f64)] = &[
        ("epochs", 1.0, 5.0),
        ("energy_kwh", 0.001, 0.01),
        ("cost_usd", 0.001, 0.1),
        ("flops_per_sample", 1e14, 1e16),
        ("utilization", 0.1, 0.9),
        ("power_w", 100.0, 700.0),
        ("hours", 1.0, 100.0),
        ("host_power_w", 0.0, 200.0),
        ("price_usd_per_device_hour", 0.5, 5.0),
        ("carbon_intensity_g_per_kwh", 10.0, 900.0),
        ("pue", 1.0, 2.0),
        ("electricity_usd_per_kwh", 0.05, 0.5),
        ("carbon_price_usd_per_t", 10.0, 300.0),
        ("kg_co2e_per_device", 50.0, 500.0),
        ("lifetime_years", 2.0, 8.0),
    ];

    fn ordered(lo: f64, c: f64, hi: f64) -> bool {
        let eps = 1e-9 * hi.abs().max(1e-300);
        lo <= c + eps && c <= hi + eps
    }

    proptest::proptest! {
        /// low ≤ central ≤ high for every output of every model, whichever input is ranged.
        #[test]
        fn every_ranged_input_gives_ordered_bands(
            which in 0..RANGED.len(), a in 0.0f64..1.0, b in 0.0f64..1.0, t in 0.0f64..1.0,
        ) {
            let (key, lo, hi) = RANGED[which];
            let (x, y) = (lo + (hi - lo) * a.min(b), lo + (hi - lo) * a.max(b));
            let likely = x + (y - x) * t;
            let (_, est) = run(&full_run(key, &format!("{{ low = {x}, likely = {likely}, high = {y} }}")));
            proptest::prop_assert_eq!(est.len(), 3);
            // A real range must show in some figure (electricity is not charged here: every
            // model has a compute price that includes it).
            let widened = est.iter().any(|e| e.low != e.high);
            if y > x * (1.0 + 1e-6) && key != "electricity_usd_per_kwh" {
                proptest::prop_assert!(widened, "{key} [{x}, {y}] left every figure a point");
            }
            for e in &est {
                for (l, c, h) in [
                    (e.low.energy.raw(), e.central.energy.raw(), e.high.energy.raw()),
                    (e.low.it_energy.raw(), e.central.it_energy.raw(), e.high.it_energy.raw()),
                    (e.low.co2e.raw(), e.central.co2e.raw(), e.high.co2e.raw()),
                    (e.low.embodied.raw(), e.central.embodied.raw(), e.high.embodied.raw()),
                    (e.low.cost.unwrap().raw(), e.central.cost.unwrap().raw(), e.high.cost.unwrap().raw()),
                    (e.low.carbon_cost.unwrap().raw(), e.central.carbon_cost.unwrap().raw(), e.high.carbon_cost.unwrap().raw()),
                ] {
                    proptest::prop_assert!(ordered(l, c, h), "{key} {:?}: {l} {c} {h}", e.kind);
                }
            }
        }

        /// More samples or more epochs never mean less energy, in any model that counts them.
        #[test]
        fn energy_grows_with_samples_and_epochs(n in 1u64..100_000, k in 2u64..10, epochs in 0.5f64..10.0) {
            let energy = |samples: u64, ep: f64| -> Vec<f64> {
                let text = full_run("samples", &samples.to_string()).replace("epochs = 2", &format!("epochs = {ep}"));
                run(&text).1.iter().map(|e| e.central.energy.kwh()).collect()
            };
            let base = energy(n, epochs);
            let more_samples = energy(n * k, epochs);
            let more_epochs = energy(n, epochs * k as f64);
            // [duration, compute, per_sample]: duration does not depend on the dataset.
            proptest::prop_assert!((more_samples[0] - base[0]).abs() < 1e-9 * base[0]);
            for i in 1..3 {
                proptest::prop_assert!(more_samples[i] > base[i]);
                proptest::prop_assert!(more_epochs[i] > base[i]);
                let ratio = more_samples[i] / base[i];
                proptest::prop_assert!((ratio - k as f64).abs() < 1e-9 * k as f64, "linear in N");
            }
        }

        /// per_byte: energy scales with d / reference_bytes.
        #[test]
        fn per_byte_scales_with_sample_size(d in 1.0f64..1e6, r in 1.0f64..1e6) {
            let text = full_run("sample_bytes", &d.to_string()).replace("reference_bytes = 400", &format!("reference_bytes = {r}"));
            let (_, est) = run(&text);
            let ps = est.iter().find(|e| e.kind == ModelKind::PerSample).unwrap();
            let want = 1000.0 * 2.0 * 0.002 * d / r * 1.2;
            proptest::prop_assert!((ps.central.energy.kwh() - want).abs() <= 1e-9 * want);
        }
    }

    #[test]
    fn per_byte_scaling() {
        let (_, a) = run(
            "[dataset]\nsamples = 100\nsample_bytes = 1000\n[per_sample]\nenergy_kwh = 0.01\nscaling = \"per_byte\"\nreference_bytes = 500\n",
        );
        assert!((a[0].central.it_energy.kwh() - 2.0).abs() < 1e-12);
        let (_, b) = run(
            "[dataset]\n[[dataset.shards]]\nsamples = 60\nsample_bytes = 400\n[[dataset.shards]]\nsamples = 40\nsample_bytes = 650\n[per_sample]\nenergy_kwh = 0.01\ncost_usd = 1\nscaling = \"per_byte\"\nreference_bytes = 500\n",
        );
        // (60·400 + 40·650) / 500 = 100 reference samples
        assert!((b[0].central.it_energy.kwh() - 1.0).abs() < 1e-12);
        assert!((b[0].central.cost.unwrap().usd() - 100.0).abs() < 1e-9);
    }
}
