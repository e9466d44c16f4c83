//! One reader per section of a run file: each checks its keys against `keys`, reads its values
//! under `rules`, and refuses what cannot go together; `check_models` then checks the file as a
//! whole (one way to give the work, a model the calculator can run).

use std::path::Path;

use super::walk::Table;
use super::{
    Budget, Compute, Dataset, Embodied, FlopsSpec, Hardware, In, Measured, PerSample, Precision,
    Published, RunSpec, Scaling, Shard, Site, YEARS, keys, rules,
};
use crate::error::InputError;

pub(super) fn dataset(t: &Table<'_, '_>) -> Result<Dataset, InputError> {
    t.check_keys(keys::DATASET, keys::ALL)?;
    let epochs = t.range("epochs", rules::EPOCHS)?;
    let shards = match t.tables("shards")? {
        Some(list) => {
            if t.has("samples") || t.has("sample_bytes") {
                return Err(t.key_error(
                    "shards",
                    "give either samples/sample_bytes or [[dataset.shards]], not both",
                ));
            }
            if list.is_empty() {
                return Err(t.key_error("shards", "needs at least one shard"));
            }
            list.iter().map(shard).collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let Some(samples) = t.whole("samples", 1)? else {
                return Err(t
                    .error("missing `samples` (N, the number of samples; or [[dataset.shards]])")
                    .for_key("dataset.samples"));
            };
            vec![Shard {
                samples,
                sample_bytes: t.number("sample_bytes", rules::SAMPLE_BYTES)?,
            }]
        }
    };
    Ok(Dataset {
        shards,
        epochs,
        line: t.line(),
    })
}

pub(super) fn shard(t: &Table<'_, '_>) -> Result<Shard, InputError> {
    t.check_keys(keys::SHARD, &[])?;
    let Some(samples) = t.whole("samples", 1)? else {
        return Err(t
            .error("every shard needs `samples`")
            .for_key(format!("{}.samples", t.path)));
    };
    Ok(Shard {
        samples,
        sample_bytes: t.number("sample_bytes", rules::SAMPLE_BYTES)?,
    })
}

pub(super) fn per_sample(t: &Table<'_, '_>, ds: Option<&Dataset>) -> Result<PerSample, InputError> {
    t.check_keys(keys::PER_SAMPLE, keys::ALL)?;
    let cost_usd = t.range("cost_usd", rules::COST_PER_SAMPLE)?;
    let energy_kwh = match (
        t.range("energy_kwh", rules::ENERGY_PER_SAMPLE_KWH)?,
        t.range("energy_j", rules::ENERGY_PER_SAMPLE_J)?,
    ) {
        (Some(_), Some(_)) => {
            return Err(t.key_error("energy_j", "give energy_kwh or energy_j, not both"));
        }
        (Some(k), None) => k,
        (None, Some(j)) => j.map(|r| r.scale(1.0 / 3.6e6)),
        (None, None) => {
            return Err(t
                .error("missing `energy_kwh` (or `energy_j`): the IT energy per sample")
                .for_key("per_sample.energy_kwh"));
        }
    };
    let reference = t.number("reference_bytes", rules::REFERENCE_BYTES)?;
    let scaling_name = t.string("scaling")?;
    let (scaling, reference_bytes_defaulted) = match scaling_name.as_ref().map(|s| s.value.as_str())
    {
        None | Some("per_sample") => {
            if let Some(r) = &reference {
                return Err(t.key_error(
                    "reference_bytes",
                    format!(
                        "only used with scaling = \"per_byte\" (line {}); remove it or set scaling",
                        r.line
                    ),
                ));
            }
            (Scaling::PerSample, false)
        }
        Some("per_byte") => (
            Scaling::PerByte {
                reference_bytes: reference.as_ref().map_or(1.0, |r| r.value),
            },
            reference.is_none(),
        ),
        Some(other) => {
            let hint = crate::suggest::nearest(other, ["per_sample", "per_byte"])
                .map(|s| crate::suggest::did_you_mean(s, crate::suggest::Quote::Double))
                .unwrap_or_default();
            return Err(t.key_error(
                "scaling",
                format!(
                    "unknown scaling \"{other}\"; expected \"per_sample\" or \"per_byte\"{hint}"
                ),
            ));
        }
    };
    let Some(ds) = ds else {
        return Err(t.error(
            "[per_sample] needs [dataset] with `samples` (N) to know how many samples there are",
        ));
    };
    if matches!(scaling, Scaling::PerByte { .. }) {
        for (i, s) in ds.shards.iter().enumerate() {
            if s.sample_bytes.is_none() {
                let which = if ds.shards.len() == 1 {
                    "dataset.sample_bytes".to_string()
                } else {
                    format!("dataset.shards[{i}].sample_bytes")
                };
                return Err(t.key_error(
                    "scaling",
                    format!("scaling = \"per_byte\" needs the sample size: {which} is missing"),
                ));
            }
        }
    }
    Ok(PerSample {
        cost_usd,
        energy_kwh,
        scaling,
        reference_bytes_defaulted,
        line: t.line(),
    })
}

pub(super) fn compute(t: &Table<'_, '_>, ds: Option<&Dataset>) -> Result<Compute, InputError> {
    t.check_keys(keys::COMPUTE, keys::ALL)?;
    let flops = t.range("flops", rules::FLOPS)?;
    let parameters = t.range("parameters", rules::PARAMETERS)?;
    let tokens = t.range("tokens", rules::TOKENS)?;
    let per_sample = t.range("flops_per_sample", rules::FLOPS_PER_SAMPLE)?;
    let active = t.range("active_parameters", rules::PARAMETERS)?;
    let forms = [
        flops.is_some(),
        parameters.is_some() || tokens.is_some(),
        per_sample.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if forms > 1 {
        return Err(t.error(
            "give FLOPs one way: `flops`, or `parameters` with `tokens`, or `flops_per_sample`",
        ));
    }
    if active.is_some() && parameters.is_none() {
        return Err(t.key_error(
            "active_parameters",
            "needs `parameters` (the total) and `tokens`: FLOPs = 6 · active_parameters · tokens",
        ));
    }
    let spec = match (flops, parameters, tokens, per_sample) {
        (Some(f), ..) => FlopsSpec::Total(f),
        (None, Some(p), Some(tk), None) => {
            if let Some(a) = &active
                && a.value.high > p.value.high
            {
                return Err(t.key_error(
                    "active_parameters",
                    "cannot exceed `parameters` (the total): a mixture-of-experts model uses a part of its parameters per token",
                ));
            }
            FlopsSpec::ParamsTokens {
                parameters: p,
                tokens: tk,
                active,
            }
        }
        (None, Some(_), None, None) => {
            return Err(t.key_error(
                "parameters",
                "needs `tokens` too (FLOPs = 6 · parameters · tokens)",
            ));
        }
        (None, None, Some(_), None) => {
            return Err(t.key_error(
                "tokens",
                "needs `parameters` too (FLOPs = 6 · parameters · tokens)",
            ));
        }
        (None, None, None, Some(ps)) => {
            if ds.is_none() {
                return Err(t.key_error(
                    "flops_per_sample",
                    "needs [dataset] with `samples` (FLOPs = flops_per_sample × samples × epochs)",
                ));
            }
            FlopsSpec::PerSample(ps)
        }
        _ => {
            return Err(t.error(
                "[compute] is empty: give `flops`, or `parameters` and `tokens`, or `flops_per_sample`",
            ));
        }
    };
    let precision = match t.string("precision")? {
        None => None,
        Some(p) => match Precision::parse(&p.value) {
            Some(value) => Some(In {
                value,
                line: p.line,
                key: p.key,
            }),
            None => {
                let hint = crate::suggest::nearest(&p.value, Precision::NAMES)
                    .map_or(String::new(), |n| format!(" (did you mean \"{n}\"?)"));
                return Err(t.key_error(
                    "precision",
                    format!(
                        "\"{}\" is not a training precision{hint}: give \"bf16\", \"fp16\" or \"fp8\"",
                        p.value
                    ),
                ));
            }
        },
    };
    Ok(Compute {
        flops: spec,
        precision,
        line: t.line(),
    })
}

pub(super) fn hardware(t: &Table<'_, '_>) -> Result<Hardware, InputError> {
    t.check_keys(keys::HARDWARE, keys::ALL)?;
    let h = Hardware {
        device: t.string("device")?,
        count: t.whole("count", 1)?,
        utilization: t.range("utilization", rules::UTILIZATION)?,
        power_w: t.range("power_w", rules::DEVICE_POWER)?,
        hours: t.range("hours", rules::HOURS)?,
        device_hours: t.range("device_hours", rules::DEVICE_HOURS)?,
        host_power_w: t.range("host_power_w", rules::HOST_POWER)?,
        price_usd_per_device_hour: t.range("price_usd_per_device_hour", rules::PRICE_PER_HOUR)?,
        line: t.line(),
    };
    if let Some(c) = &h.count
        && c.value > 100_000_000
    {
        return Err(t.key_error(
            "count",
            format!(
                "{} devices is above the largest plausible value 100000000",
                c.value
            ),
        ));
    }
    if h.hours.is_some() && h.device_hours.is_some() {
        return Err(t.key_error(
            "device_hours",
            "give hours (wall-clock, × count) or device_hours, not both",
        ));
    }
    Ok(h)
}

pub(super) fn site(t: &Table<'_, '_>, dir: &Path) -> Result<Site, InputError> {
    t.check_keys(keys::SITE, keys::ALL)?;
    let series = t.string("intensity_series")?.map(|v| {
        let path = dir.join(&v.value);
        (v, path)
    });
    let s = Site {
        intensity_series: series,
        carbon_intensity_g_per_kwh: t.range("carbon_intensity_g_per_kwh", rules::INTENSITY)?,
        region: t.string("region")?,
        pue: t.range("pue", rules::PUE)?,
        electricity_usd_per_kwh: t.range("electricity_usd_per_kwh", rules::ELECTRICITY)?,
        carbon_price_usd_per_t: t.range("carbon_price_usd_per_t", rules::CARBON_PRICE)?,
        year: t.year("year")?,
    };
    if let Some(y) = &s.year
        && !(YEARS.contains(&y.value))
    {
        return Err(t.key_error(
            "year",
            format!(
                "must be a year from {} to {}, got {}",
                YEARS.start(),
                YEARS.end(),
                y.value
            ),
        ));
    }
    if s.carbon_intensity_g_per_kwh.is_some() && s.region.is_some() {
        return Err(t.key_error(
            "region",
            "give carbon_intensity_g_per_kwh or region, not both",
        ));
    }
    Ok(s)
}

pub(super) fn embodied(t: &Table<'_, '_>) -> Result<Embodied, InputError> {
    t.check_keys(keys::EMBODIED, keys::ALL)?;
    Ok(Embodied {
        kg_co2e_per_device: t.range("kg_co2e_per_device", rules::EMBODIED)?,
        lifetime_years: t.range("lifetime_years", rules::LIFETIME)?,
        line: t.line(),
    })
}

pub(super) fn measured(t: &Table<'_, '_>, dir: &Path) -> Result<Measured, InputError> {
    t.check_keys(keys::MEASURED, keys::ALL)?;
    let Some(report) = t.string("report")? else {
        return Err(t
            .error("missing `report`: the path of a `footprint measure -o` JSON report")
            .for_key("measured.report"));
    };
    let path = dir.join(&report.value);
    Ok(Measured {
        report,
        path,
        same_workload: t.boolean("same_workload")?,
    })
}

pub(super) fn budget(t: &Table<'_, '_>) -> Result<Budget, InputError> {
    t.check_keys(keys::BUDGET, keys::ALL)?;
    let b = Budget {
        max_co2e_kg: t.number("max_co2e_kg", rules::LIMIT)?,
        max_energy_kwh: t.number("max_energy_kwh", rules::LIMIT)?,
        max_cost_usd: t.number("max_cost_usd", rules::LIMIT)?,
    };
    if b.max_co2e_kg.is_none() && b.max_energy_kwh.is_none() && b.max_cost_usd.is_none() {
        return Err(t.error("[budget] is empty: give max_co2e_kg, max_energy_kwh or max_cost_usd"));
    }
    Ok(b)
}

pub(super) fn published(t: &Table<'_, '_>) -> Result<Published, InputError> {
    t.check_keys(keys::PUBLISHED, keys::ALL)?;
    let p = Published {
        energy_kwh: t.number("energy_kwh", rules::PUBLISHED)?,
        co2e_kg: t.number("co2e_kg", rules::PUBLISHED)?,
        device_hours: t.number("device_hours", rules::PUBLISHED)?,
        cost_usd: t.number("cost_usd", rules::PUBLISHED)?,
        tolerance: t.number("tolerance", rules::TOLERANCE)?,
        source: t.string("source")?,
    };
    if p.energy_kwh.is_none()
        && p.co2e_kg.is_none()
        && p.device_hours.is_none()
        && p.cost_usd.is_none()
    {
        return Err(t.error(
            "[published] has no figure: give energy_kwh, co2e_kg, device_hours or cost_usd",
        ));
    }
    Ok(p)
}

/// The run must give at least one way to know how much work it is.
pub(super) fn check_models(spec: &RunSpec, root: &Table<'_, '_>) -> Result<(), InputError> {
    let hw = spec.hardware.as_ref();
    let has_duration = hw.is_some_and(|h| h.hours.is_some() || h.device_hours.is_some());
    // Without a device the compute model has no peak FLOP/s; a measurement's J/FLOP can
    // still calibrate the FLOPs ([measured]).
    if spec.compute.is_some() && hw.is_none_or(|h| h.device.is_none()) && spec.measured.is_none() {
        return Err(root
            .key_error(
                "compute",
                "the compute model needs [hardware] `device` (its peak FLOP/s; see `footprint profiles list gpus`)",
            )
            .for_key("hardware.device"));
    }
    if hw.is_some_and(|h| h.utilization.is_some()) && spec.compute.is_none() {
        let u = hw.and_then(|h| h.utilization.as_ref()).expect("checked");
        return Err(spec.error_at(
            u.line,
            &u.key,
            "utilization is only used by the compute model: add [compute] or remove it",
        ));
    }
    if spec.per_sample.is_none()
        && spec.compute.is_none()
        && !has_duration
        && spec.measured.is_none()
    {
        let msg = if hw.is_some() {
            "no work model: [hardware] needs `hours` or `device_hours` (duration model), or add [compute], [per_sample] or [measured]"
        } else {
            "no work model: give [per_sample], [compute] with [hardware], [hardware] hours or device_hours, or [measured]"
        };
        return Err(spec.error(msg));
    }
    Ok(())
}
