//! The evaluation: each model's work → device time → energy, then the site's PUE, intensity
//! and prices, at the central point and every corner of the ranged inputs.

use super::inputs::Point;
use super::*;
use crate::units::{CarbonIntensity, Duration, Energy, EnergyPrice, Mass, Money, TimePrice};

fn device_energy(d: &DeviceUse, time: Duration, p: &Point<'_>) -> (Energy, Option<Money>) {
    let energy = (p.get(d.power) + p.get(d.host_power)) * time;
    let cost = d.price.map(|pr| time * p.get(pr));
    (energy, cost)
}

pub(super) fn eval(m: &Model, site: &Site, emb: Option<&Embodied>, p: &Point<'_>) -> Outputs {
    let (device_time, wall_time, flops, it_energy, compute_cost) = match &m.work {
        Work::PerSample {
            weighted_samples,
            epochs,
            energy_per_sample,
            cost_per_sample,
            ..
        } => {
            let n = weighted_samples * p.get(*epochs);
            let e = p.get(*energy_per_sample) * n;
            (None, None, None, e, cost_per_sample.map(|c| p.get(c) * n))
        }
        Work::Compute {
            flops,
            peak,
            utilization,
            count,
            device,
        } => {
            let f = flops.at(p);
            let achieved = p.get(*peak) * p.get(*utilization);
            let time = f / achieved;
            let (e, cost) = device_energy(device, time, p);
            (Some(time), Some(time / *count), Some(f), e, cost)
        }
        Work::Duration { time, device } => {
            let (t, wall) = match time {
                DeviceTime::Wall { hours, count } => {
                    let w = p.get(*hours);
                    (w * *count, Some(w))
                }
                DeviceTime::Total(t) => (p.get(*t), None),
            };
            let (e, cost) = device_energy(device, t, p);
            (Some(t), wall, None, e, cost)
        }
        Work::Measured {
            energy_per_sample,
            samples_per_second,
            devices,
            samples,
            epochs,
            price,
        } => {
            let n = samples * p.get(*epochs);
            let wall = Duration::from_seconds(n / p.get(*samples_per_second));
            let time = wall * *devices;
            let e = p.get(*energy_per_sample) * n;
            (
                Some(time),
                Some(wall),
                None,
                e,
                price.map(|pr| time * p.get(pr)),
            )
        }
        Work::Calibrated {
            flops,
            joules_per_flop,
            rate_per_device,
            count,
            price,
        } => {
            let f = flops.at(p);
            let time = f / p.get(*rate_per_device);
            let e = Energy::from_joules(f.count() * p.get(*joules_per_flop));
            (
                Some(time),
                Some(time / *count),
                Some(f),
                e,
                price.map(|pr| time * p.get(pr)),
            )
        }
    };
    let pue = match m.work {
        Work::PerSample {
            at_devices: false, ..
        } => 1.0,
        _ => p.get(site.pue),
    };
    let energy = it_energy * pue;
    let operational = energy * p.get(site.intensity);
    let embodied = match (emb, device_time) {
        (Some(e), Some(t)) => p.get(e.per_device) * (t / p.get(e.lifetime)),
        _ => Mass::ZERO,
    };
    let co2e = operational + embodied;
    let energy_cost = match compute_cost {
        Some(_) => None,
        None => site.electricity_price.map(|pr| energy * p.get(pr)),
    };
    let carbon_cost = site.carbon_price.map(|cp| co2e * p.get(cp));
    Outputs {
        device_time,
        wall_time,
        flops,
        it_energy,
        energy,
        operational,
        embodied,
        co2e,
        compute_cost,
        energy_cost,
        carbon_cost,
        cost: compute_cost.or(energy_cost),
    }
}

/// The central rates at which a site turns device energy and device time into facility
/// energy, CO2e and cost. A running measurement's budget, its Prometheus figures and its
/// CodeCarbon row use these, so that each agrees with the report's central estimate: the same
/// products as the estimate's evaluation, at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SiteRates {
    /// Facility energy per unit of device energy.
    pub pue: f64,
    pub intensity: CarbonIntensity,
    /// What facility energy costs, when the cost is energy-priced.
    pub electricity_price: Option<EnergyPrice>,
    /// What a device-hour costs (rental); it takes precedence over the electricity price, as
    /// in the estimate.
    pub device_price: Option<TimePrice>,
}

/// Device energy and time so far, at a site's rates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AtSite {
    pub energy: Energy,
    pub co2e: Mass,
    pub cost: Option<Money>,
}

impl SiteRates {
    pub(crate) fn apply(&self, device_energy: Energy, device_time: Duration) -> AtSite {
        let energy = device_energy * self.pue;
        let cost = match (self.device_price, self.electricity_price) {
            (Some(p), _) => Some(device_time * p),
            (None, Some(p)) => Some(energy * p),
            (None, None) => None,
        };
        AtSite {
            energy,
            co2e: energy * self.intensity,
            cost,
        }
    }
}

/// Evaluates every model of the scenario: central values and their range.
pub fn evaluate(s: &Scenario) -> Vec<Estimate> {
    let mut out = Vec::with_capacity(s.models.len());
    evaluate_into(s, &mut Scratch::default(), &mut out);
    out
}

/// Working memory of [`evaluate_into`], kept between calls so that evaluating many scenarios
/// (a sweep) allocates nothing per scenario once the buffers have grown.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    central: Vec<f64>,
    x: Vec<f64>,
    ranged: Vec<usize>,
    uncertain: Vec<usize>,
}

/// [`evaluate`] into `out` (cleared first), with reusable working memory.
pub fn evaluate_into(s: &Scenario, scratch: &mut Scratch, out: &mut Vec<Estimate>) {
    out.clear();
    let Scratch {
        central,
        x,
        ranged,
        uncertain,
    } = scratch;
    central.clear();
    central.extend(s.inputs.ranges.iter().map(|r| r.central));
    ranged.clear();
    uncertain.clear();
    for (i, r) in s.inputs.ranges.iter().enumerate() {
        if r.low < r.high {
            match r.spread {
                Spread::Bound => ranged.push(i),
                Spread::Uncertain => uncertain.push(i),
            }
        }
    }
    for m in &s.models {
        let c = eval(m, &s.site, s.embodied.as_ref(), &Point(central));
        let (mut lo, mut hi) = (c, c);
        if !ranged.is_empty() {
            x.clear();
            x.extend_from_slice(central);
            for mask in 0u64..(1u64 << ranged.len()) {
                for (bit, &i) in ranged.iter().enumerate() {
                    let r = &s.inputs.ranges[i];
                    x[i] = if mask >> bit & 1 == 1 { r.high } else { r.low };
                }
                let o = eval(m, &s.site, s.embodied.as_ref(), &Point(x));
                lo = lo.fold(&o, true);
                hi = hi.fold(&o, false);
            }
        }
        // Defaults' spreads: one at a time from the centre, combined in log space.
        if !uncertain.is_empty() {
            let centre = c.figures();
            let mut down = [0.0f64; 12];
            let mut up = [0.0f64; 12];
            x.clear();
            x.extend_from_slice(central);
            for &i in uncertain.iter() {
                let r = &s.inputs.ranges[i];
                for v in [r.low, r.high] {
                    x[i] = v;
                    let o = eval(m, &s.site, s.embodied.as_ref(), &Point(x)).figures();
                    for j in 0..12 {
                        if let (Some(cj), Some(oj)) = (centre[j], o[j])
                            && cj > 0.0
                            && oj > 0.0
                        {
                            let l = (oj / cj).ln();
                            if l < 0.0 {
                                down[j] += l * l;
                            } else {
                                up[j] += l * l;
                            }
                        }
                    }
                }
                x[i] = central[i];
            }
            lo = lo.scaled(&down.map(|d| (-d.sqrt()).exp()));
            hi = hi.scaled(&up.map(|u| u.sqrt().exp()));
        }
        out.push(Estimate {
            kind: m.kind,
            low: lo,
            central: c,
            high: hi,
            advisory: m.advisory,
        });
    }
}
