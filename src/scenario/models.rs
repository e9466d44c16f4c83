//! The work models a run file describes (per-sample, compute, duration, measured,
//! calibrated), each built with its assumptions recorded.

use super::*;

/// Where a measurement's energy figures come from: read from hardware, or the CPU-time model.
pub(super) fn energy_origin(fig: &MeasuredFigures) -> Origin {
    if fig.modelled {
        Origin::Modelled
    } else {
        Origin::Measured
    }
}

/// Model 4, measured: the measurement's J/sample and samples/s, extrapolated to the run.
pub(super) fn measured_model(
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
pub(super) fn calibrated_model(
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

/// The run's FLOPs as its `[compute]` section gives them.
pub(super) fn flop_source(
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
pub(super) fn duration_model(
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
pub(super) fn compute_model(
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
    let fp8 = fp8_on(spec, c, acc)?;
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
            let faster = fp8 == Fp8::Faster;
            let (d, why) = crate::defaults::utilization(acc, n, parameters, moe, faster, year);
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
            if why.fp8 {
                let f = crate::defaults::FP8_FACTOR;
                basis.push_str(&format!("; FP8 x{}-x{}: {}", f.low, f.high, f.basis));
            }
            if fp8 == Fp8::NoEvidence {
                basis.push_str(&format!(
                    "; FP8 on {}: no published FP8-over-BF16 speed-up for its family, so the BF16 default",
                    acc.name
                ));
            }
            if why.years_after_evidence > 0 {
                let t = crate::defaults::SOFTWARE_TREND_PER_YEAR;
                let n = why.years_after_evidence;
                let after = if year.is_none() {
                    "no [site] year, taken as 1 year".to_string()
                } else if n == 1 {
                    "1 year".to_string()
                } else {
                    format!("{n} years")
                };
                basis.push_str(&format!(
                    "; {after} after the evidence ({}): high end x{} a year: {}",
                    crate::defaults::UTILIZATION_EVIDENCE_YEAR,
                    t.high,
                    t.basis
                ));
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

/// What `[compute] precision = "fp8"` does to the utilization default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fp8 {
    /// Not an FP8 run.
    No,
    /// FP8 on a family whose FP8 speed-up over BF16 is published: the default is multiplied.
    Faster,
    /// FP8 on a family without same-device FP8/BF16 evidence (AMD, Gaudi, TPU): the BF16
    /// default is kept, and the basis says so (one 2024 port ran FP8 slower on MI300X).
    NoEvidence,
}

/// Whether and how the run trains in FP8: on a device whose family has no FP8 tensor units it
/// is refused, naming the key. A given `utilization` is taken as it is (achieved FLOP/s over
/// the BF16 peak, so an FP8 run's already holds its speed-up); only the default changes.
fn fp8_on(
    spec: &crate::runfile::RunSpec,
    c: &crate::runfile::Compute,
    acc: &Accelerator,
) -> Result<Fp8, InputError> {
    let Some(p) = c
        .precision
        .as_ref()
        .filter(|p| p.value == crate::runfile::Precision::Fp8)
    else {
        return Ok(Fp8::No);
    };
    let has = acc.family.and_then(|f| f.has_fp8());
    if has == Some(false) {
        return Err(spec.error_at(
            p.line,
            &p.key,
            format!(
                "{} has no FP8 tensor units (Hopper, Ada, Blackwell, MI300 and Gaudi 2 and later do): give \"bf16\" or an FP8 device",
                acc.name
            ),
        ));
    }
    Ok(if has == Some(true) {
        Fp8::Faster
    } else {
        Fp8::NoEvidence
    })
}

/// Model 1, per-sample: samples (weighted by size when per byte) × energy and cost per sample.
pub(super) fn per_sample_model(
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
pub(super) fn cost_notes(b: &mut Builder<'_>, models: &[(ModelKind, Work)], site: &Site) {
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
    if !has_price && site.electricity_price.is_none() && !b.spec.measured_window {
        b.notes.push(
            "no price known: give hardware.price_usd_per_device_hour, per_sample.cost_usd or site.electricity_usd_per_kwh for a cost".to_string(),
        );
    }
}

pub(super) fn count(b: &mut Builder<'_>) -> f64 {
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
