//! The impact calculator: work → device time → energy → CO2e and money. Pure: no I/O, no
//! clock, no environment, so it can be property-tested and swept over millions of scenarios.
//!
//! # Models
//! Each model turns a description of the work into IT energy (and, where known, device time):
//! - **per-sample**: `E = Σ_i n_i · g(d_i) · e · epochs`, `C = Σ_i n_i · f(d_i) · c · epochs`;
//! - **compute**: `device time = FLOPs ÷ (peak × utilization)`, `E = device time × (P + P_host)`;
//! - **duration**: `device time = count × hours` (or given), `E = device time × (P + P_host)`;
//! - **measured**: `E = J/sample × N × epochs`, `device time = N × epochs ÷ samples/s × devices`.
//!
//! Then, the same for all: facility energy `E × PUE`; operational CO2e `E × PUE × I`; embodied
//! CO2e `device time ÷ lifetime × kg per device` (only when asked for); compute cost (rental
//! price × device time, or per-sample cost); energy cost (facility energy × electricity price,
//! only when no compute price covers it); carbon cost (CO2e × carbon price).
//!
//! # Ranges
//! Every uncertain input is a [`Param`] with a low, central and high value. Each output is
//! monotone in each input taken alone (products, quotients and sums of positive terms: more
//! utilization means *less* energy, more power means more), so its extremes over the box of
//! inputs lie at the box's corners. [`evaluate`] therefore evaluates the central point and
//! every corner of the ranged inputs (2^k points for k ranged inputs) and keeps the least and
//! greatest value of each output. No direction is assumed; none can be got wrong.

mod eval;
mod inputs;
mod outputs;

use serde::{Deserialize, Serialize};

use crate::units::{
    CarbonIntensity, CarbonPrice, Duration, Energy, EnergyPrice, FlopRate, Flops, Mass, Money,
    Power, TimePrice,
};

pub(crate) use eval::SiteRates;
pub use eval::{Scratch, evaluate, evaluate_into};
pub use inputs::Inputs;
use inputs::Point;
pub(crate) use inputs::Spread;
pub(crate) use inputs::{Param, Quantity};
pub(crate) use outputs::{Band, primary};
pub(crate) use outputs::{Estimate, Outputs};

/// Which model produced an estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Measured,
    /// The run's FLOPs at the J/FLOP and FLOP/s measured on the same kind of device.
    Calibrated,
    Duration,
    Compute,
    PerSample,
}

impl ModelKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ModelKind::Measured => "measured",
            ModelKind::Calibrated => "calibrated",
            ModelKind::Duration => "duration",
            ModelKind::Compute => "compute",
            ModelKind::PerSample => "per_sample",
        }
    }
}

/// How the accelerators are used: their draw and their price.
#[derive(Clone, Copy, Debug)]
pub struct DeviceUse {
    /// Average power per device.
    pub power: Param<Power>,
    /// Per-device share of host CPU, RAM and network power.
    pub host_power: Param<Power>,
    /// Rental price per device-hour, when known.
    pub price: Option<Param<TimePrice>>,
}

#[derive(Clone, Copy, Debug)]
pub enum FlopSource {
    Total(Param<Flops>),
    /// 6 · parameters · tokens (forward + backward of a dense transformer).
    SixPT {
        parameters: Param<f64>,
        tokens: Param<f64>,
    },
    PerSample {
        per_sample: Param<Flops>,
        samples: f64,
        epochs: Param<f64>,
    },
}

#[derive(Clone, Copy, Debug)]
pub enum DeviceTime {
    /// Wall-clock hours on `count` devices.
    Wall { hours: Param<Duration>, count: f64 },
    /// Device-hours given directly.
    Total(Param<Duration>),
}

#[derive(Clone, Copy, Debug)]
pub enum Work {
    PerSample {
        /// Σ n_i · f(d_i): samples weighted by their size scaling.
        weighted_samples: f64,
        epochs: Param<f64>,
        energy_per_sample: Param<Energy>,
        cost_per_sample: Option<Param<Money>>,
        /// The per-sample energy is the devices' own, to be multiplied by the site's PUE;
        /// otherwise it is taken as given (the run gave no PUE: the user's figure stands).
        at_devices: bool,
    },
    Compute {
        flops: FlopSource,
        peak: Param<FlopRate>,
        utilization: Param<f64>,
        count: f64,
        device: DeviceUse,
    },
    Duration {
        time: DeviceTime,
        device: DeviceUse,
    },
    Measured {
        energy_per_sample: Param<Energy>,
        samples_per_second: Param<f64>,
        /// Devices the measurement ran on (device time = wall time × devices).
        devices: f64,
        samples: f64,
        epochs: Param<f64>,
        price: Option<Param<TimePrice>>,
    },
    /// The run's FLOPs at a measured energy per FLOP and a measured FLOP rate per device.
    Calibrated {
        flops: FlopSource,
        /// Joules per FLOP, measured (IT energy of the counted sensors).
        joules_per_flop: Param<f64>,
        /// Achieved FLOP/s of one device, measured.
        rate_per_device: Param<FlopRate>,
        count: f64,
        price: Option<Param<TimePrice>>,
    },
}

impl FlopSource {
    fn at(&self, p: &Point<'_>) -> Flops {
        match self {
            FlopSource::Total(f) => p.get(*f),
            FlopSource::SixPT { parameters, tokens } => {
                Flops::from_count(6.0 * p.get(*parameters) * p.get(*tokens))
            }
            FlopSource::PerSample {
                per_sample,
                samples,
                epochs,
            } => p.get(*per_sample) * (samples * p.get(*epochs)),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub intensity: Param<CarbonIntensity>,
    pub pue: Param<f64>,
    pub electricity_price: Option<Param<EnergyPrice>>,
    pub carbon_price: Option<Param<CarbonPrice>>,
}

#[derive(Clone, Copy, Debug)]
pub struct Embodied {
    pub per_device: Param<Mass>,
    pub lifetime: Param<Duration>,
}

#[derive(Clone, Copy, Debug)]
pub struct Model {
    pub kind: ModelKind,
    pub work: Work,
    /// Shown for comparison but never the primary model (a measurement of another device or
    /// workload than the run's).
    pub advisory: bool,
}

/// Everything the calculator needs, with no reference to files or profiles.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub inputs: Inputs,
    pub models: Vec<Model>,
    pub site: Site,
    pub embodied: Option<Embodied>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn site(inp: &mut Inputs, intensity: f64, pue: f64) -> Site {
        Site {
            intensity: inp.point(CarbonIntensity::from_g_per_kwh(intensity)),
            pue: inp.point(pue),
            electricity_price: None,
            carbon_price: None,
        }
    }

    fn device(inp: &mut Inputs, watts: f64) -> DeviceUse {
        DeviceUse {
            power: inp.point(Power::from_watts(watts)),
            host_power: inp.point(Power::ZERO),
            price: None,
        }
    }

    fn one(s: &Scenario) -> Estimate {
        evaluate(s)[0]
    }

    /// The seed documents' example: N=100, 0.1 USD and 0.01 kWh per sample, 1 g/kWh.
    #[test]
    fn seed_example() {
        let mut inp = Inputs::default();
        let work = Work::PerSample {
            weighted_samples: 100.0,
            epochs: inp.point(1.0),
            energy_per_sample: inp.point(Energy::from_kwh(0.01)),
            cost_per_sample: Some(inp.point(Money::from_usd(0.1))),
            at_devices: true,
        };
        let site = site(&mut inp, 1.0, 1.0);
        let e = one(&Scenario {
            inputs: inp,
            models: vec![Model {
                kind: ModelKind::PerSample,
                advisory: false,
                work,
            }],
            site,
            embodied: None,
        });
        assert!((e.central.cost.unwrap().usd() - 10.0).abs() < 1e-9);
        assert!((e.central.energy.kwh() - 1.0).abs() < 1e-9);
        assert!((e.central.co2e.grams() - 1.0).abs() < 1e-9, "1 g, not 1 kg");
        assert_eq!(e.central.device_time, None);
    }

    /// Patterson et al. 2021, GPT-3: 10,000 V100 × 355.2 h × 330 W × PUE 1.1 × 429 g/kWh.
    #[test]
    fn gpt3_duration() {
        let mut inp = Inputs::default();
        let hours = inp.point(Duration::from_hours(355.2));
        let device = device(&mut inp, 330.0);
        let site = site(&mut inp, 429.0, 1.1);
        let e = one(&Scenario {
            inputs: inp,
            models: vec![Model {
                kind: ModelKind::Duration,
                advisory: false,
                work: Work::Duration {
                    time: DeviceTime::Wall {
                        hours,
                        count: 10_000.0,
                    },
                    device,
                },
            }],
            site,
            embodied: None,
        });
        assert!((e.central.device_time.unwrap().hours() - 3_552_000.0).abs() < 1e-6);
        assert!((e.central.energy.kwh() - 1_289_376.0).abs() < 1e-3);
        assert!((e.central.co2e.tonnes() - 553.14).abs() < 0.01);
    }

    #[test]
    fn utilization_range_is_inverted_in_energy() {
        let mut inp = Inputs::default();
        let flops = inp.point(Flops::from_count(1e21));
        let peak = inp.point(FlopRate::from_flop_per_s(1e14));
        let utilization = inp.range(0.2, 0.4, 0.5);
        let device = device(&mut inp, 400.0);
        let site = site(&mut inp, 400.0, 1.0);
        let e = one(&Scenario {
            inputs: inp,
            models: vec![Model {
                kind: ModelKind::Compute,
                advisory: false,
                work: Work::Compute {
                    flops: FlopSource::Total(flops),
                    peak,
                    utilization,
                    count: 8.0,
                    device,
                },
            }],
            site,
            embodied: None,
        });
        // low energy comes from the high utilization and the other way round
        let t = |u: f64| 1e21 / (1e14 * u);
        assert!((e.low.device_time.unwrap().seconds() - t(0.5)).abs() < 1e-3);
        assert!((e.high.device_time.unwrap().seconds() - t(0.2)).abs() < 1e-3);
        assert!((e.central.device_time.unwrap().seconds() - t(0.4)).abs() < 1e-3);
        assert!((e.central.wall_time.unwrap().seconds() - t(0.4) / 8.0).abs() < 1e-3);
        assert!(e.low.energy < e.central.energy && e.central.energy < e.high.energy);
    }

    #[test]
    fn embodied_share_and_costs() {
        let mut inp = Inputs::default();
        let t = inp.point(Duration::from_hours(8766.0));
        let mut dev = device(&mut inp, 500.0);
        dev.price = Some(inp.point(TimePrice::from_usd_per_hour(2.0)));
        let mut s = site(&mut inp, 100.0, 1.0);
        s.electricity_price = Some(inp.point(EnergyPrice::from_usd_per_kwh(0.1)));
        s.carbon_price = Some(inp.point(CarbonPrice::from_usd_per_tonne(200.0)));
        let emb = Embodied {
            per_device: inp.point(Mass::from_kg(150.0)),
            lifetime: inp.point(Duration::from_years(5.0)),
        };
        let e = one(&Scenario {
            inputs: inp,
            models: vec![Model {
                kind: ModelKind::Duration,
                advisory: false,
                work: Work::Duration {
                    time: DeviceTime::Total(t),
                    device: dev,
                },
            }],
            site: s,
            embodied: Some(emb),
        });
        // one year of a five-year life: a fifth of 150 kg
        assert!((e.central.embodied.kg() - 30.0).abs() < 1e-9);
        // 500 W for 8766 h = 4383 kWh at 100 g = 438.3 kg
        assert!((e.central.operational.kg() - 438.3).abs() < 1e-6);
        assert!((e.central.co2e.kg() - 468.3).abs() < 1e-6);
        assert!((e.central.compute_cost.unwrap().usd() - 17_532.0).abs() < 1e-6);
        assert_eq!(
            e.central.energy_cost, None,
            "the rental price covers electricity"
        );
        assert_eq!(e.central.cost, e.central.compute_cost);
        assert!((e.central.carbon_cost.unwrap().usd() - 0.4683 * 200.0).abs() < 1e-6);
    }

    #[test]
    fn measured_model_extrapolates() {
        let mut inp = Inputs::default();
        let work = Work::Measured {
            energy_per_sample: inp.point(Energy::from_joules(2.0)),
            samples_per_second: inp.point(1000.0),
            devices: 1.0,
            samples: 3.6e6,
            epochs: inp.point(2.0),
            price: None,
        };
        let s = site(&mut inp, 500.0, 1.5);
        let e = one(&Scenario {
            inputs: inp,
            models: vec![Model {
                kind: ModelKind::Measured,
                advisory: false,
                work,
            }],
            site: s,
            embodied: None,
        });
        assert!((e.central.it_energy.joules() - 14.4e6).abs() < 1e-6);
        assert!((e.central.energy.kwh() - 6.0).abs() < 1e-9);
        assert!((e.central.wall_time.unwrap().hours() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn primary_prefers_measured_then_duration() {
        let mk = |k| Estimate {
            advisory: false,
            kind: k,
            low: zero(),
            central: zero(),
            high: zero(),
        };
        let es = [
            mk(ModelKind::PerSample),
            mk(ModelKind::Compute),
            mk(ModelKind::Duration),
        ];
        assert_eq!(primary(&es).unwrap().kind, ModelKind::Duration);
    }

    fn zero() -> Outputs {
        Outputs {
            device_time: None,
            wall_time: None,
            flops: None,
            it_energy: Energy::ZERO,
            energy: Energy::ZERO,
            operational: Mass::ZERO,
            embodied: Mass::ZERO,
            co2e: Mass::ZERO,
            compute_cost: None,
            energy_cost: None,
            carbon_cost: None,
            cost: None,
        }
    }

    #[test]
    fn evaluate_into_reuses_its_buffers_without_carrying_anything_over() {
        let wide = ranged_duration(100.0, 400.0, 1.2, 300.0, 0.3);
        let point = ranged_duration(10.0, 700.0, 1.1, 50.0, 0.0);
        let (mut scratch, mut out) = (Scratch::default(), Vec::new());
        for s in [&wide, &point, &wide, &point] {
            evaluate_into(s, &mut scratch, &mut out);
            assert_eq!(out, evaluate(s));
        }
    }

    /// A duration-model scenario from plain numbers, every input a range around its value.
    fn ranged_duration(hours: f64, watts: f64, pue: f64, intensity: f64, spread: f64) -> Scenario {
        let mut inp = Inputs::default();
        let r = |inp: &mut Inputs, x: f64| inp.range(x * (1.0 - spread), x, x * (1.0 + spread));
        let h = r(&mut inp, hours);
        let hours = inp.range(
            Duration::from_hours(inp.get(h).low),
            Duration::from_hours(hours),
            Duration::from_hours(inp.get(h).high),
        );
        let power = {
            let p = r(&mut inp, watts);
            let pr = inp.get(p);
            inp.range(
                Power::from_watts(pr.low),
                Power::from_watts(watts),
                Power::from_watts(pr.high),
            )
        };
        let host_power = inp.range(
            Power::ZERO,
            Power::from_watts(10.0),
            Power::from_watts(20.0),
        );
        let pue = inp.range(1.0_f64.max(pue * (1.0 - spread)), pue, pue * (1.0 + spread));
        let intensity = inp.range(
            CarbonIntensity::from_g_per_kwh(intensity * (1.0 - spread)),
            CarbonIntensity::from_g_per_kwh(intensity),
            CarbonIntensity::from_g_per_kwh(intensity * (1.0 + spread)),
        );
        Scenario {
            inputs: inp,
            models: vec![Model {
                kind: ModelKind::Duration,
                advisory: false,
                work: Work::Duration {
                    time: DeviceTime::Wall { hours, count: 4.0 },
                    device: DeviceUse {
                        power,
                        host_power,
                        price: None,
                    },
                },
            }],
            site: Site {
                intensity,
                pue,
                electricity_price: None,
                carbon_price: None,
            },
            embodied: None,
        }
    }

    proptest! {
        #[test]
        fn low_central_high_are_ordered(
            hours in 0.1f64..1e4, watts in 1f64..1e3, pue in 1.0f64..2.0,
            intensity in 0.0f64..1000.0, spread in 0.0f64..0.5,
        ) {
            let s = ranged_duration(hours, watts, pue, intensity, spread);
            let e = one(&s);
            for (lo, c, hi) in [
                (e.low.energy.raw(), e.central.energy.raw(), e.high.energy.raw()),
                (e.low.co2e.raw(), e.central.co2e.raw(), e.high.co2e.raw()),
                (e.low.device_time.unwrap().raw(), e.central.device_time.unwrap().raw(), e.high.device_time.unwrap().raw()),
            ] {
                prop_assert!(lo <= c * (1.0 + 1e-12) && c <= hi * (1.0 + 1e-12), "{lo} {c} {hi}");
            }
        }

        #[test]
        fn co2e_is_linear_in_intensity(hours in 0.1f64..1e4, watts in 1f64..1e3, i in 1.0f64..1000.0, k in 0.1f64..10.0) {
            let a = one(&ranged_duration(hours, watts, 1.2, i, 0.0)).central.co2e.kg();
            let b = one(&ranged_duration(hours, watts, 1.2, i * k, 0.0)).central.co2e.kg();
            prop_assert!((b - a * k).abs() <= 1e-9 * b.abs().max(1.0));
        }

        #[test]
        fn energy_grows_with_hours_power_pue(hours in 0.1f64..1e4, watts in 1f64..1e3, pue in 1.0f64..2.0, f in 1.01f64..3.0) {
            let base = one(&ranged_duration(hours, watts, pue, 300.0, 0.0)).central.energy;
            prop_assert!(one(&ranged_duration(hours * f, watts, pue, 300.0, 0.0)).central.energy > base);
            prop_assert!(one(&ranged_duration(hours, watts * f, pue, 300.0, 0.0)).central.energy > base);
            prop_assert!(one(&ranged_duration(hours, watts, pue * f, 300.0, 0.0)).central.energy > base);
        }

        /// Any point inside the input box gives outputs inside [low, high].
        #[test]
        fn interior_points_stay_inside_the_band(
            hours in 0.1f64..1e4, watts in 1f64..1e3, spread in 0.01f64..0.5,
            pick in proptest::collection::vec(0.0f64..=1.0, 6),
        ) {
            let s = ranged_duration(hours, watts, 1.3, 400.0, spread);
            let e = one(&s);
            let x: Vec<f64> = s.inputs.ranges.iter().zip(pick.iter().cycle())
                .map(|(r, t)| r.low + (r.high - r.low) * t).collect();
            let o = eval::eval(&s.models[0], &s.site, None, &Point(&x));
            prop_assert!(o.co2e.raw() >= e.low.co2e.raw() * (1.0 - 1e-12));
            prop_assert!(o.co2e.raw() <= e.high.co2e.raw() * (1.0 + 1e-12));
            prop_assert!(o.energy.raw() >= e.low.energy.raw() * (1.0 - 1e-12));
            prop_assert!(o.energy.raw() <= e.high.energy.raw() * (1.0 + 1e-12));
        }
    }
}
