//! `footprint sweep`: every combination of the options given, each evaluated by the same
//! pipeline as `estimate` (ranges included), so a team can compare devices, regions, counts
//! and utilizations in one command.

use std::path::Path;

use rayon::prelude::*;

use super::{evaluate, plan_measured, read_measured, registry};
use crate::error::InputError;
use crate::profiles::Registry;
use crate::record::{Row, Sweep};
use crate::runfile::{self, In, RangeValue, RunSpec};

/// The values each option takes; an empty list keeps the run file's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Axes {
    pub devices: Vec<String>,
    pub regions: Vec<String>,
    pub counts: Vec<u64>,
    pub utilizations: Vec<f64>,
    pub pues: Vec<f64>,
    pub epochs: Vec<f64>,
    pub prices: Vec<f64>,
}

fn flag_err(flag: &str, msg: impl Into<String>) -> InputError {
    InputError::new(msg).for_key(flag)
}

/// `all` → every profile that can be evaluated with a compute or duration model; otherwise
/// each name checked, with the usual "did you mean".
fn devices(reg: &Registry, given: &[String]) -> Result<Vec<String>, InputError> {
    if given.iter().any(|d| d.eq_ignore_ascii_case("all")) {
        return Ok(reg
            .accelerators()
            .iter()
            .filter(|a| a.tdp_w.is_some() && a.peak_flops.is_some())
            .map(|a| a.name.clone())
            .collect());
    }
    let names = given
        .iter()
        .map(|d| {
            reg.accelerator(d)
                .map(|a| a.name.clone())
                .map_err(|e| flag_err("--device", e.to_string()))
        })
        .collect::<Result<Vec<String>, InputError>>()?;
    once_each("--device", given, &names)?;
    Ok(names)
}

/// A value named twice (`H100,H100-SXM5-80GB`, `FR,France`) would make two identical options,
/// ranked against each other: refused, naming both spellings.
fn once_each(flag: &str, given: &[String], resolved: &[String]) -> Result<(), InputError> {
    for (i, r) in resolved.iter().enumerate() {
        if let Some(j) = resolved[..i].iter().position(|e| e == r) {
            let also = if given[i] == given[j] {
                String::new()
            } else {
                format!(" (as {} and {})", given[j], given[i])
            };
            return Err(flag_err(flag, format!("{r} is given twice{also}")));
        }
    }
    Ok(())
}

fn regions(reg: &Registry, given: &[String]) -> Result<Vec<String>, InputError> {
    if given.iter().any(|r| r.eq_ignore_ascii_case("all")) {
        let mut all: Vec<String> = reg.grids().iter().map(|g| g.code.clone()).collect();
        all.extend(reg.clouds().iter().map(|c| c.code.clone()));
        return Ok(all);
    }
    let codes = given
        .iter()
        .map(|r| {
            reg.region(r)
                .map(|found| found.code)
                .map_err(|e| flag_err("--region", e.to_string()))
        })
        .collect::<Result<Vec<String>, InputError>>()?;
    once_each("--region", given, &codes)?;
    Ok(given.to_vec())
}

fn check_values(axes: &Axes) -> Result<(), InputError> {
    let counts: Vec<String> = axes.counts.iter().map(u64::to_string).collect();
    once_each("--count", &counts, &counts)?;
    for (flag, values) in [
        ("--utilization", &axes.utilizations),
        ("--pue", &axes.pues),
        ("--epochs", &axes.epochs),
        ("--price", &axes.prices),
    ] {
        let shown: Vec<String> = values.iter().map(f64::to_string).collect();
        once_each(flag, &shown, &shown)?;
    }
    if let Some(c) = axes.counts.iter().find(|c| !(1..=10_000_000).contains(*c)) {
        return Err(flag_err(
            "--count",
            format!("{c}: counts are 1 to 10,000,000 devices"),
        ));
    }
    // Each value meets the rule of the run-file key it overrides.
    for (flag, key, values) in [
        ("--utilization", "hardware.utilization", &axes.utilizations),
        ("--pue", "site.pue", &axes.pues),
        ("--epochs", "dataset.epochs", &axes.epochs),
        (
            "--price",
            "hardware.price_usd_per_device_hour",
            &axes.prices,
        ),
    ] {
        for v in values {
            if let Some(why) = runfile::violation(key, *v) {
                return Err(flag_err(flag, format!("{why} (as {key})")));
            }
        }
    }
    Ok(())
}

/// Every combination of `axes`' values (`None` where an axis is empty).
/// The options, counted without being built: each axis's values (`None` where the run file's
/// own value stays).
struct Options<'a> {
    devices: Vec<Option<&'a String>>,
    regions: Vec<Option<&'a String>>,
    counts: Vec<Option<u64>>,
    utilizations: Vec<Option<f64>>,
    pues: Vec<Option<f64>>,
    epochs: Vec<Option<f64>>,
    prices: Vec<Option<f64>>,
}

fn values<T>(v: impl ExactSizeIterator<Item = T>) -> Vec<Option<T>> {
    if v.len() == 0 {
        vec![None]
    } else {
        v.map(Some).collect()
    }
}

impl<'a> Options<'a> {
    fn new(axes: &'a Axes, devices: &'a [String], regions: &'a [String]) -> Options<'a> {
        Options {
            devices: values(devices.iter()),
            regions: values(regions.iter()),
            counts: values(axes.counts.iter().copied()),
            utilizations: values(axes.utilizations.iter().copied()),
            pues: values(axes.pues.iter().copied()),
            epochs: values(axes.epochs.iter().copied()),
            prices: values(axes.prices.iter().copied()),
        }
    }

    /// How many options there are; `None` past what a `usize` holds.
    fn count(&self) -> Option<usize> {
        [
            self.devices.len(),
            self.regions.len(),
            self.counts.len(),
            self.utilizations.len(),
            self.pues.len(),
            self.epochs.len(),
            self.prices.len(),
        ]
        .iter()
        .try_fold(1usize, |a, b| a.checked_mul(*b))
    }

    /// Option number `i` (the last axis varies fastest).
    fn nth(&self, mut i: usize) -> Row0 {
        let mut pick = |n: usize| {
            let k = i % n;
            i /= n;
            k
        };
        let price = self.prices[pick(self.prices.len())];
        let epochs = self.epochs[pick(self.epochs.len())];
        let pue = self.pues[pick(self.pues.len())];
        let utilization = self.utilizations[pick(self.utilizations.len())];
        let count = self.counts[pick(self.counts.len())];
        let region = self.regions[pick(self.regions.len())].cloned();
        let device = self.devices[pick(self.devices.len())].cloned();
        Row0 {
            device,
            region,
            count,
            utilization,
            pue,
            epochs,
            price,
        }
    }
}

#[derive(Clone, Debug)]
struct Row0 {
    device: Option<String>,
    region: Option<String>,
    count: Option<u64>,
    utilization: Option<f64>,
    pue: Option<f64>,
    epochs: Option<f64>,
    price: Option<f64>,
}

/// The run file with one option's values in place of its own.
fn apply(base: &RunSpec, o: &Row0) -> Result<RunSpec, InputError> {
    fn flag<T>(key: &str, value: T) -> In<T> {
        In {
            value,
            line: 0,
            key: key.to_string(),
        }
    }
    let point = |x: f64| RangeValue::point(x);
    let mut s = base.clone();
    let needs_hw =
        o.device.is_some() || o.count.is_some() || o.utilization.is_some() || o.price.is_some();
    if needs_hw && s.hardware.is_none() {
        return Err(InputError::new(
            "--device, --count, --utilization and --price vary [hardware]: the run file has none",
        )
        .in_file(&base.file));
    }
    if let Some(h) = s.hardware.as_mut() {
        if let Some(d) = &o.device {
            h.device = Some(flag("--device", d.clone()));
            // A device's own draw replaces the run's, unless the run gives power explicitly
            // for that reason: a sweep over devices compares them at their own TDPs.
            h.power_w = None;
        }
        if let Some(c) = o.count {
            h.count = Some(flag("--count", c));
        }
        if let Some(u) = o.utilization {
            h.utilization = Some(flag("--utilization", point(u)));
        }
        if let Some(p) = o.price {
            h.price_usd_per_device_hour = Some(flag("--price", point(p)));
        }
    }
    if let Some(r) = &o.region {
        s.site.region = Some(flag("--region", r.clone()));
        s.site.carbon_intensity_g_per_kwh = None;
    }
    if let Some(p) = o.pue {
        s.site.pue = Some(flag("--pue", point(p)));
    }
    if let Some(e) = o.epochs {
        let Some(ds) = s.dataset.as_mut() else {
            return Err(
                InputError::new("--epochs varies [dataset]: the run file has none")
                    .in_file(&base.file),
            );
        };
        ds.epochs = Some(flag("--epochs", point(e)));
    }
    Ok(s)
}

/// The most options a sweep evaluates.
const MAX_OPTIONS: usize = 5_000_000;

/// Options evaluated between two prunings.
const CHUNK: usize = 1 << 16;

/// What a ranking will show: the best `top` by `by`.
#[derive(Clone, Copy, Debug)]
pub struct Keep {
    pub(crate) by: crate::record::Field,
    pub(crate) top: usize,
}

/// Keeps the rows a ranking by `keep` can show: its best `top`, and the cleanest, cheapest and
/// fastest (which it marks wherever they rank).
fn prune(rows: &mut Vec<Row>, keep: Keep) {
    if rows.len() <= keep.top + 3 {
        return;
    }
    let marked: Vec<usize> = crate::record::MARKED
        .into_iter()
        .filter_map(|(f, _)| crate::record::best_row(rows, f))
        .collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    // Stable, so that ties keep the order a full ranking would give them.
    order.sort_by(|&a, &b| crate::record::rank_order(&rows[a], &rows[b], keep.by));
    let mut kept: Vec<usize> = order.into_iter().take(keep.top).collect();
    kept.extend(marked);
    kept.sort_unstable();
    kept.dedup();
    let mut i = 0;
    rows.retain(|_| {
        let k = kept.binary_search(&i).is_ok();
        i += 1;
        k
    });
}

/// Evaluates every combination of `axes` over the run file, in parallel; with `keep`, memory
/// holds only the rows that ranking can show, however many options there are.
pub fn sweep(
    run: &Path,
    profiles: Option<&Path>,
    axes: &Axes,
    keep: Option<Keep>,
) -> Result<Sweep, InputError> {
    let reg = registry(profiles)?;
    let base = runfile::load(run)?;
    check_values(axes)?;
    if !axes.utilizations.is_empty() && base.compute.is_none() {
        return Err(flag_err(
            "--utilization",
            "applies to the compute model: the run file has no [compute] (FLOPs), so it would change nothing",
        ));
    }
    let devices = devices(&reg, &axes.devices)?;
    let regions = regions(&reg, &axes.regions)?;
    // Counted before anything is built: a product of many axes is refused, not allocated.
    let options = Options::new(axes, &devices, &regions);
    let total = options
        .count()
        .filter(|n| *n <= MAX_OPTIONS)
        .ok_or_else(|| {
            InputError::new(format!(
                "{} combinations: narrow the options (at most 5,000,000)",
                options
                    .count()
                    .map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
            ))
        })?;
    let measured = read_measured(&base)?;
    let generic = WithoutEvidence::of(&reg, &base, &devices);
    let evaluate_one = |o: Row0| -> Result<Row, InputError> {
        let mut spec = apply(&base, &o)?;
        let device = spec.hardware.as_ref().and_then(|h| h.device.as_ref());
        if trains_in_fp8(&spec) && device.is_some_and(|d| lacks_fp8(&reg, &d.value)) {
            bf16(&mut spec);
        }
        let used = match &measured {
            Some(f) => Some(plan_measured(&spec, &reg, f.clone(), "measured.report")?),
            None => None,
        };
        let ev = evaluate(spec, &reg, used.as_ref())?;
        let e = *crate::impact::primary(&ev.estimates).expect("a run has a model");
        let unranked =
            o.utilization.is_none() && o.device.as_ref().is_some_and(|d| generic.lists_apart(d));
        Ok(Row {
            device: o.device,
            region: o.region,
            count: o.count,
            utilization: o.utilization,
            pue: o.pue,
            epochs: o.epochs,
            price: o.price,
            model: e.kind,
            estimate: e,
            unranked,
        })
    };
    // Evaluated in chunks, in parallel within each; with a `keep`, only the rows a ranking can
    // show stay in memory between chunks.
    let mut rows: Vec<Row> = Vec::new();
    let mut start = 0;
    while start < total {
        let end = (start + CHUNK).min(total);
        let chunk: Result<Vec<Row>, InputError> = (start..end)
            .into_par_iter()
            .map(|i| evaluate_one(options.nth(i)))
            .collect();
        rows.extend(chunk?);
        if let Some(k) = keep {
            prune(&mut rows, k);
        }
        start = end;
    }
    Ok(Sweep {
        name: base.name.clone(),
        evaluated: total,
        rows,
        notes: evidence_notes(&reg, &base, &devices, &generic),
    })
}

fn trains_in_fp8(spec: &RunSpec) -> bool {
    spec.compute
        .as_ref()
        .and_then(|c| c.precision.as_ref())
        .is_some_and(|p| p.value == crate::runfile::Precision::Fp8)
}

/// Whether a device has no FP8 units. `estimate` refuses an FP8 run on it; a sweep compares
/// choices, so that option trains in BF16, as the device would (and a note says so).
fn lacks_fp8(reg: &Registry, device: &str) -> bool {
    reg.accelerator(device)
        .ok()
        .and_then(|a| a.family)
        .and_then(|f| f.has_fp8())
        == Some(false)
}

fn bf16(spec: &mut RunSpec) {
    if let Some(c) = spec.compute.as_mut() {
        c.precision = None;
    }
}

/// Devices compared on a generic utilization default: their rank against the others rests on
/// peak FLOP/s alone, and the sweep says so; an FP8 run's devices without FP8 train in BF16.
fn evidence_notes(
    reg: &Registry,
    base: &RunSpec,
    devices: &[String],
    generic: &WithoutEvidence,
) -> Vec<String> {
    let mut notes = fp8_notes(reg, base, devices);
    notes.extend(generic.notes());
    notes
}

fn fp8_notes(reg: &Registry, base: &RunSpec, devices: &[String]) -> Vec<String> {
    if !trains_in_fp8(base) {
        return Vec::new();
    }
    devices
        .iter()
        .filter(|d| lacks_fp8(reg, d))
        .map(|d| {
            format!(
                "{d}: no FP8 units, so its option trains in BF16 (the run's precision = \"fp8\" applies to the others)"
            )
        })
        .collect()
}

/// The swept devices whose utilization would be the generic default (no published run or
/// benchmark), when several devices are swept on the run's defaults; `unranked` when another
/// swept device's rests on evidence, so that ranking these against it would rank peak FLOP/s.
#[derive(Default)]
struct WithoutEvidence {
    devices: Vec<String>,
    unranked: bool,
}

impl WithoutEvidence {
    fn of(reg: &Registry, base: &RunSpec, devices: &[String]) -> WithoutEvidence {
        if devices.len() < 2 || utilization_given(base) {
            return WithoutEvidence::default();
        }
        let evidence = |d: &String| {
            reg.accelerator(d)
                .is_ok_and(crate::defaults::has_training_evidence)
        };
        WithoutEvidence {
            devices: devices.iter().filter(|d| !evidence(d)).cloned().collect(),
            unranked: devices.iter().any(evidence),
        }
    }

    /// Whether `device`'s option is listed after the ranked ones.
    fn lists_apart(&self, device: &str) -> bool {
        self.unranked && self.devices.iter().any(|d| d == device)
    }

    fn notes(&self) -> Vec<String> {
        let listed = if self.unranked {
            "so it is listed after them, unranked"
        } else {
            "so their order rests on peak FLOP/s, not evidence"
        };
        self.devices
            .iter()
            .map(|d| {
                format!(
                    "{d}: no published training run or benchmark places it against the others (its utilization is the generic default), {listed}; give --utilization for it to rank it"
                )
            })
            .collect()
    }
}

/// Whether the run file gives the utilization, so that no device uses a default.
fn utilization_given(base: &RunSpec) -> bool {
    base.hardware
        .as_ref()
        .is_some_and(|h| h.utilization.is_some())
}
