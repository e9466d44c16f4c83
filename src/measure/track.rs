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

use super::sensor::{MAX_SENSOR_POWER_W, Quality, Reading, SensorInfo};
use crate::record::{DeviceEnergy, PowerStats};
use crate::units::{Energy, Power};

/// Running statistics of one sensor.
#[derive(Clone, Debug)]
pub struct Track {
    pub(crate) info: SensorInfo,
    last: Option<(f64, Reading)>,
    window_start: Option<f64>,
    /// When the first and the latest read were attempted, whether they succeeded or not: a
    /// sensor that fails at the start or stops answering (a GPU lost mid-run) leaves gaps
    /// at the edges of the window, not a shorter window.
    first_attempt: Option<f64>,
    last_attempt: Option<f64>,
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

/// A reading within what a device can physically report: power from 0 to
/// [`MAX_SENSOR_POWER_W`], an energy counter finite and not negative. Anything else (a hwmon
/// file reading -5,000,000 µW, or 1e300) is a failed read, counted and noted.
fn plausible(r: Reading) -> Result<Reading, String> {
    if let Some(p) = r.power
        && !(p.watts().is_finite() && (0.0..=MAX_SENSOR_POWER_W).contains(&p.watts()))
    {
        return Err(format!(
            "implausible power reading {} W (a device reads 0 to {} W)",
            crate::units::short_number(p.watts()),
            MAX_SENSOR_POWER_W
        ));
    }
    if let Some(c) = r.counter
        && !(c.joules().is_finite() && c.joules() >= 0.0)
    {
        return Err(format!(
            "implausible energy counter {} J",
            crate::units::short_number(c.joules())
        ));
    }
    Ok(r)
}

impl Track {
    pub fn new(info: SensorInfo) -> Track {
        Track {
            info,
            last: None,
            window_start: None,
            first_attempt: None,
            last_attempt: None,
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
        self.first_attempt.get_or_insert(t);
        self.last_attempt = Some(t);
        let r = match r.and_then(plausible) {
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
        // Power from a counter over a few milliseconds can read far above what the device
        // can draw: the ceiling bounds what is reported as its maximum.
        let w = match self.info.max_power {
            Some(cap) => w.min(cap.watts()),
            None => w,
        };
        if w.is_finite() {
            self.p_min = self.p_min.min(w);
            self.p_max = self.p_max.max(w);
        }
    }

    /// Starts a new window at the last reading: what came before is dropped.
    pub(crate) fn reset(&mut self) {
        let keep = (self.info.clone(), self.last);
        *self = Track::new(keep.0);
        self.last = keep.1;
        self.window_start = keep.1.map(|(t, _)| t);
        self.first_attempt = self.window_start;
        self.last_attempt = self.window_start;
        if let Some((_, r)) = keep.1
            && let Some(p) = r.power
        {
            self.observe_power(p.watts());
        }
    }

    /// Energy so far (for progress displays).
    pub(crate) fn energy_so_far(&self) -> Energy {
        Energy::from_joules(self.counter_j + self.fallback_j)
    }

    /// The last power seen.
    pub(crate) fn last_power(&self) -> Option<Power> {
        self.last.and_then(|(_, r)| r.power)
    }

    pub fn result(&self) -> DeviceEnergy {
        let (duration, edge_gap) = match (self.window_start, self.last) {
            (Some(a), Some((b, _))) => {
                let first = self.first_attempt.unwrap_or(a).min(a);
                let last = self.last_attempt.unwrap_or(b).max(b);
                (last - first, (a - first) + (last - b))
            }
            _ => (0.0, 0.0),
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
        let mut gap = self.gap_s + edge_gap;
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
        if self.counter_resets == 0 && by_counter > 0.0 && by_power > 0.0 {
            notes.push(format!(
                "the energy counter could not be read for {by_power:.3} s of the window; power samples used there"
            ));
        }
        if self.failed > 0 {
            notes.push(match &self.first_error {
                Some(e) => format!("{} failed read(s), the first: {e}", self.failed),
                None => format!("{} failed read(s)", self.failed),
            });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::sensor::DeviceKind;

    fn info() -> SensorInfo {
        SensorInfo {
            id: "nvml:0".into(),
            name: "GPU".into(),
            kind: DeviceKind::Gpu,
            quality: Quality::MeasuredPower,
            counter_wrap: None,
            counts_from_zero: false,
            max_power: None,
            details: serde_json::Value::Null,
        }
    }

    fn watts(w: f64) -> Result<Reading, String> {
        Ok(Reading {
            power: Some(Power::from_watts(w)),
            ..Reading::default()
        })
    }

    #[test]
    fn a_sensor_that_stops_answering_leaves_a_filled_gap_at_the_end() {
        let mut t = Track::new(info());
        for i in 0..=5 {
            t.add(i as f64 * 0.1, watts(200.0));
        }
        for i in 6..=10 {
            t.add(i as f64 * 0.1, Err("GPU 0: lost".into()));
        }
        let r = t.result();
        assert!((r.duration_s - 1.0).abs() < 1e-9, "{r:?}");
        assert!((r.gap_seconds - 0.5).abs() < 1e-9, "{r:?}");
        // 0.5 s read at 200 W, 0.5 s filled at that mean: 200 J, and a note says how
        assert!((r.energy_j - 200.0).abs() < 1e-6, "{r:?}");
        assert!(r.notes.iter().any(|n| n.contains("filled")), "{r:?}");
        assert_eq!(r.failed_reads, 5);
    }

    #[test]
    fn failures_before_the_first_reading_are_a_gap_too() {
        let mut t = Track::new(info());
        t.add(0.0, Err("busy".into()));
        for i in 1..=4 {
            t.add(i as f64 * 0.25, watts(100.0));
        }
        let r = t.result();
        assert!((r.duration_s - 1.0).abs() < 1e-9);
        assert!((r.gap_seconds - 0.25).abs() < 1e-9);
        assert!((r.energy_j - 100.0).abs() < 1e-6);
    }
}
