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

mod device;
mod models;
mod site;
use device::*;
use models::*;
pub(crate) use site::site_rates;
use site::*;

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
        self.uncertain_from(Origin::Default, input, d, unit, reference, to)
    }

    /// The same for a range whose centre comes from elsewhere (a profile's figure).
    fn uncertain_from<T: Quantity>(
        &mut self,
        origin: Origin,
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
            origin,
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
pub(crate) enum Extrapolation {
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

    /// A figure of another year than the run's is never passed off as the run's: a cloud's
    /// single-year figure, or a year outside a series, gets the spread of an earlier or later
    /// year, and says which.
    #[test]
    fn a_single_year_figure_is_widened_for_another_year() {
        let at = |region: &str, year: &str| {
            let (b, _) = run(&format!(
                "[hardware]\ndevice = \"H100\"\nhours = 10\n[site]\nregion = \"{region}\"\n{year}"
            ));
            b.assumptions
                .into_iter()
                .find(|a| a.input == "site.carbon_intensity_g_per_kwh")
                .unwrap()
        };
        let range = |a: &crate::record::Assumption| match a.value {
            AssumedValue::Range { low, central, high } => (low / central, high / central),
            _ => panic!("{:?}", a.value),
        };
        // A cloud region with its own figure of 2023.
        let cloud = "gcp:us-central1";
        let (same, before, after, none) = (
            at(cloud, "year = 2023\n"),
            at(cloud, "year = 2019\n"),
            at(cloud, "year = 2025\n"),
            at(cloud, ""),
        );
        assert_eq!(range(&same), (0.8, 1.25));
        assert!(!same.reference.contains("before") && !same.reference.contains("after"));
        let (lo, hi) = range(&before);
        assert!(
            (lo - 0.8).abs() < 1e-9 && (hi - 1.39).abs() < 1e-9,
            "{lo} {hi}"
        );
        assert!(
            before.reference.contains("2019, is before this figure's"),
            "{}",
            before.reference
        );
        let (lo, _) = range(&after);
        assert!((lo - 0.72).abs() < 1e-9);
        assert!(
            after.reference.contains("2025, is after this figure's"),
            "{}",
            after.reference
        );
        assert_eq!(range(&none), range(&after));
        // A US state's series (2018-2024): its own year, and before the series, its first.
        let tx2019 = at("US-TX", "year = 2019\n");
        assert!(
            tx2019.reference.contains("the run's year, 2019"),
            "{}",
            tx2019.reference
        );
        assert_eq!(range(&tx2019), (0.8, 1.25));
        let tx2010 = at("US-TX", "year = 2010\n");
        assert!(
            tx2010.reference.contains("2010 is before the series"),
            "{}",
            tx2010.reference
        );
        let (_, hi) = range(&tx2010);
        assert!((hi - 1.39).abs() < 1e-9);
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
            build_err("[dataset]\nsamples = 10\n[per_sample]\nenergy_kwh = 0.1\n[embodied]\n")
                .contains("no [hardware] device")
        );
    }

    #[test]
    fn compute_model_6pt_with_default_utilization_range() {
        let (b, est) = run(
            "[compute]\nparameters = 1e9\ntokens = 2e10\n[hardware]\ndevice = \"A100\"\ncount = 8\n[site]\nyear = 2023\n",
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
