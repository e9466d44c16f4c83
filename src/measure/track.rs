//! Integration of one sensor's readings over the measured window, in O(1) memory.
//!
//! Per interval between two successful readings:
//! - both readings have an energy counter → the counter difference (wrap-around added back
//!   when the counter's range is known): exact;
//! - else both have power → the trapezoid `(P₀ + P₁)/2 · Δt`;
//! - else the interval is a gap, reported as such.
//!
//! Power is also integrated on its own wherever it exists, so a counter can be compared with
//! the power samples over the same window. A failed read is not fatal: it is counted, the
//! first error kept, and the next successful reading closes the interval (a counter loses
//! nothing across a gap; power is interpolated across it).
//!
//! Kept apart from the sampler's thread so that it can be fed readings at fixed times in tests
//! and benchmarks, with no clock.

use super::sensor::{Quality, Reading, SensorInfo};
use crate::record::{DeviceEnergy, PowerStats};
use crate::units::{Energy, Power};

/// Running statistics of one sensor.
#[derive(Clone, Debug)]
pub struct Track {
    pub info: SensorInfo,
    last: Option<(f64, Reading)>,
    window_start: Option<f64>,
    counter_j: f64,
    counter_s: f64,
    fallback_j: f64,
    fallback_s: f64,
    power_j: f64,
    power_s: f64,
    gap_s: f64,
    p_min: f64,
    p_max: f64,
    util_sum: f64,
    util_n: u64,
    readings: u64,
    failed: u64,
    first_error: Option<String>,
    counter_resets: u64,
}

impl Track {
    pub fn new(info: SensorInfo) -> Track {
        Track {
            info,
            last: None,
            window_start: None,
            counter_j: 0.0,
            counter_s: 0.0,
            fallback_j: 0.0,
            fallback_s: 0.0,
            power_j: 0.0,
            power_s: 0.0,
            gap_s: 0.0,
            p_min: f64::INFINITY,
            p_max: f64::NEG_INFINITY,
            util_sum: 0.0,
            util_n: 0,
            readings: 0,
            failed: 0,
            first_error: None,
            counter_resets: 0,
        }
    }

    /// Adds the reading (or failure) made at `t` seconds.
    pub fn add(&mut self, t: f64, r: Result<Reading, String>) {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                self.failed += 1;
                self.first_error.get_or_insert(e);
                return;
            }
        };
        self.readings += 1;
        if self.window_start.is_none() {
            self.window_start = Some(t);
        }
        if let Some(u) = r.utilization_pct {
            self.util_sum += u;
            self.util_n += 1;
        }
        if let Some((t0, prev)) = self.last {
            let dt = t - t0;
            if dt > 0.0 {
                let counter_delta = match (prev.counter, r.counter) {
                    (Some(c0), Some(c1)) => {
                        let mut d = c1.joules() - c0.joules();
                        if d < 0.0 {
                            match self.info.counter_wrap {
                                Some(w) => d += w.joules(),
                                None => {
                                    self.counter_resets += 1;
                                    d = f64::NAN;
                                }
                            }
                        }
                        (!d.is_nan()).then_some(d)
                    }
                    _ => None,
                };
                let trapezoid = match (prev.power, r.power) {
                    (Some(p0), Some(p1)) => Some((p0.watts() + p1.watts()) / 2.0 * dt),
                    _ => None,
                };
                if let Some(e) = trapezoid {
                    self.power_j += e;
                    self.power_s += dt;
                }
                match (counter_delta, trapezoid) {
                    (Some(d), _) => {
                        self.counter_j += d;
                        self.counter_s += dt;
                        if r.power.is_none() {
                            self.observe_power(d / dt);
                        }
                    }
                    (None, Some(e)) => {
                        self.fallback_j += e;
                        self.fallback_s += dt;
                    }
                    (None, None) => self.gap_s += dt,
                }
            }
        }
        if let Some(p) = r.power {
            self.observe_power(p.watts());
        }
        self.last = Some((t, r));
    }

    fn observe_power(&mut self, w: f64) {
        if w.is_finite() {
            self.p_min = self.p_min.min(w);
            self.p_max = self.p_max.max(w);
        }
    }

    /// Starts a new window at the last reading: what came before is dropped.
    pub fn reset(&mut self) {
        let keep = (self.info.clone(), self.last);
        *self = Track::new(keep.0);
        self.last = keep.1;
        self.window_start = keep.1.map(|(t, _)| t);
        if let Some((_, r)) = keep.1
            && let Some(p) = r.power
        {
            self.observe_power(p.watts());
        }
    }

    /// Energy so far (for progress displays).
    pub fn energy_so_far(&self) -> Energy {
        Energy::from_joules(self.counter_j + self.fallback_j)
    }

    /// The last power seen.
    pub fn last_power(&self) -> Option<Power> {
        self.last.and_then(|(_, r)| r.power)
    }

    pub fn result(&self) -> DeviceEnergy {
        let duration = match (self.window_start, self.last) {
            (Some(a), Some((b, _))) => b - a,
            _ => 0.0,
        };
        let mut notes = Vec::new();
        let mut energy = self.counter_j + self.fallback_j;
        let mut by_counter = self.counter_s;
        let mut by_power = self.fallback_s;
        // An energy counter that never moved over a short window says nothing (NVML updates
        // every 10-100 ms): use the power samples and say so.
        if self.counter_s > 0.0 && self.counter_j == 0.0 && self.power_j > 0.0 {
            energy = self.power_j;
            by_power = self.power_s;
            by_counter = 0.0;
            notes.push(format!(
                "the energy counter did not advance in {duration:.3} s; power samples integrated instead"
            ));
        }
        let mut gap = self.gap_s;
        if gap > 0.0 && duration > gap {
            // Fill a gap at the mean power of the rest, and say how much was filled.
            let filled = energy / (duration - gap) * gap;
            notes.push(format!(
                "{gap:.3} s without readings filled at the mean power ({filled:.1} J)"
            ));
            energy += filled;
        } else if gap > 0.0 {
            gap = duration;
        }
        if self.counter_resets > 0 {
            notes.push(format!(
                "the energy counter went backwards {} time(s) (driver reset?); those intervals used power",
                self.counter_resets
            ));
        }
        if self.failed > 0 {
            notes.push(format!("{} failed read(s)", self.failed));
        }
        let source = if self.info.quality == Quality::Modelled {
            Quality::Modelled
        } else if by_power > 0.0 || gap > 0.0 {
            Quality::MeasuredPower
        } else {
            Quality::MeasuredCounter
        };
        let mean = (duration > 0.0).then(|| energy / duration);
        DeviceEnergy {
            id: self.info.id.clone(),
            name: self.info.name.clone(),
            kind: self.info.kind,
            source,
            energy_j: energy,
            counter_energy_j: (self.counter_s > 0.0).then_some(self.counter_j),
            power_integrated_energy_j: (self.power_s > 0.0).then_some(self.power_j),
            duration_s: duration,
            seconds_by_counter: by_counter,
            seconds_by_power: by_power,
            gap_seconds: gap,
            power_w: match (self.p_min.is_finite(), mean) {
                (true, Some(mean)) => Some(PowerStats {
                    min: self.p_min,
                    mean,
                    max: self.p_max,
                }),
                _ => None,
            },
            utilization_pct_mean: (self.util_n > 0).then(|| self.util_sum / self.util_n as f64),
            readings: self.readings,
            failed_reads: self.failed,
            first_error: self.first_error.clone(),
            notes,
            details: self.info.details.clone(),
        }
    }
}
