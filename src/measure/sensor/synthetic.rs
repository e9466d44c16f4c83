//! A sensor with a known power curve, for tests and benchmarks of the sampler.
//!
//! Its power is a function of time since creation; it can expose that power only, or also an
//! exact energy counter (the integral), optionally wrapping, optionally failing for a while.
//! With such shapes (constant, step, ramp) the exact energy over any window is known, so the
//! sampler's integration can be checked against it.

use std::time::Instant;

use super::{DeviceKind, Quality, Reading, Sensor, SensorInfo};
use crate::units::{Energy, Power};

/// A power curve P(t) with its exact integral E(t), t in seconds.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Constant(f64),
    /// `before` W until `at` s, `after` W from then on.
    Step {
        before: f64,
        after: f64,
        at: f64,
    },
    /// `start` W rising by `slope` W per second.
    Ramp {
        start: f64,
        slope: f64,
    },
}

impl Shape {
    pub(crate) fn power(&self, t: f64) -> f64 {
        match *self {
            Shape::Constant(p) => p,
            Shape::Step { before, after, at } => {
                if t < at {
                    before
                } else {
                    after
                }
            }
            Shape::Ramp { start, slope } => start + slope * t,
        }
    }

    /// ∫₀ᵗ P.
    pub(crate) fn energy(&self, t: f64) -> f64 {
        match *self {
            Shape::Constant(p) => p * t,
            Shape::Step { before, after, at } => {
                if t < at {
                    before * t
                } else {
                    before * at + after * (t - at)
                }
            }
            Shape::Ramp { start, slope } => start * t + slope * t * t / 2.0,
        }
    }
}

pub struct SyntheticSensor {
    info: SensorInfo,
    shape: Shape,
    start: Instant,
    counter: bool,
    /// Fail reads between these times (s).
    fail: Option<(f64, f64)>,
    /// A clock override for deterministic tests: the time of the next read.
    pub fixed_time: Option<f64>,
}

impl SyntheticSensor {
    pub fn new(id: &str, shape: Shape, counter: bool) -> Self {
        SyntheticSensor {
            info: SensorInfo {
                id: id.to_string(),
                name: format!("synthetic {shape:?}"),
                kind: DeviceKind::Gpu,
                quality: if counter {
                    Quality::MeasuredCounter
                } else {
                    Quality::MeasuredPower
                },
                counter_wrap: None,
                counts_from_zero: false,
                max_power: None,
                details: serde_json::Value::Null,
            },
            shape,
            start: Instant::now(),
            counter,
            fail: None,
            fixed_time: None,
        }
    }

    #[cfg(test)]
    /// Its counter wraps to 0 at `range`.
    pub(crate) fn wrapping_at(mut self, range: Energy) -> Self {
        self.info.counter_wrap = Some(range);
        self
    }

    #[cfg(test)]
    /// Reads fail between `from` and `to` seconds.
    pub(crate) fn failing(mut self, from: f64, to: f64) -> Self {
        self.fail = Some((from, to));
        self
    }

    /// Seconds since the sensor was made: the `t` of its curve.
    pub(crate) fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

impl Sensor for SyntheticSensor {
    fn info(&self) -> &SensorInfo {
        &self.info
    }

    fn read(&mut self) -> Result<Reading, String> {
        let t = self.fixed_time.unwrap_or_else(|| self.elapsed());
        if let Some((a, b)) = self.fail
            && t >= a
            && t < b
        {
            return Err("synthetic failure".to_string());
        }
        let mut e = self.shape.energy(t);
        if let Some(w) = self.info.counter_wrap {
            e %= w.joules();
        }
        Ok(Reading {
            counter: self.counter.then(|| Energy::from_joules(e)),
            power: Some(Power::from_watts(self.shape.power(t))),
            power_quality: Some(Quality::MeasuredPower),
            utilization_pct: None,
        })
    }
}
