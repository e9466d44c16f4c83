//! Grid carbon intensity over time: a series of intervals (from a provider's export or a
//! forecast), the mean over any span, and the planner behind `footprint when`. Pure: the file
//! is read by `app`, and the text is parsed here (`parse`).
//!
//! A series is a sorted run of intervals with no gap and no overlap, so the intensity at any
//! moment it covers is one number, and the integral over a span is a difference of prefix sums
//! (O(log n) per span: a year at 5-minute steps plans in milliseconds).

pub(crate) mod parse;
pub(crate) mod plan;

use crate::units::CarbonIntensity;

/// One interval of a series, in Unix seconds (UTC).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Interval {
    pub(crate) start: f64,
    pub(crate) end: f64,
    pub(crate) g_per_kwh: f64,
}

/// Which of a provider's figures a series holds (Electricity Maps gives both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Life-cycle emissions (the profiles' basis: Ember's figures are life-cycle).
    Lifecycle,
    /// Direct (combustion) emissions only.
    Direct,
}

impl Basis {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Basis::Lifecycle => "life-cycle",
            Basis::Direct => "direct",
        }
    }
}

/// A checked series: sorted, contiguous intervals, with what it is for people.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The format, zone and basis, e.g. "Electricity Maps DE, life-cycle, hourly".
    pub(crate) label: String,
    intervals: Vec<Interval>,
    /// `prefix[i]` = ∫ (intensity − the first interval's) dt from the series' start to
    /// `intervals[i].start` (g·s/kWh). Relative to one reference value, so that the mean over a
    /// constant stretch is that value exactly, not a quotient of rounded products.
    prefix: Vec<f64>,
}

/// The mean intensity over a span, and how much of the span the series covered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SpanMean {
    pub(crate) intensity: CarbonIntensity,
    /// Of the span's length, the share inside the series (0 to 1).
    pub(crate) covered: f64,
}

impl Series {
    /// A series from intervals already sorted and checked (`parse` says what is wrong with a
    /// file in its own words before this).
    pub(crate) fn new(label: String, intervals: Vec<Interval>) -> Result<Series, String> {
        if intervals.is_empty() {
            return Err("the series has no rows".to_string());
        }
        let mut prefix = Vec::with_capacity(intervals.len());
        let mut sum = 0.0;
        let reference = intervals[0].g_per_kwh;
        for (i, iv) in intervals.iter().enumerate() {
            if iv.end.is_nan() || iv.end <= iv.start {
                return Err(format!("interval {} ends before it starts", i + 1));
            }
            if i > 0 && intervals[i - 1].end != iv.start {
                return Err(format!("intervals {} and {} do not meet", i, i + 1));
            }
            prefix.push(sum);
            sum += (iv.g_per_kwh - reference) * (iv.end - iv.start);
        }
        Ok(Series {
            label,
            intervals,
            prefix,
        })
    }

    pub(crate) fn start(&self) -> f64 {
        self.intervals[0].start
    }

    pub(crate) fn end(&self) -> f64 {
        self.intervals[self.intervals.len() - 1].end
    }

    pub(crate) fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// The intensity every other is measured against in `prefix`.
    fn reference(&self) -> f64 {
        self.intervals[0].g_per_kwh
    }

    /// ∫ (intensity − reference) dt from the series' start to `t`, `t` clamped into the series.
    fn cumulative(&self, t: f64) -> f64 {
        let t = t.clamp(self.start(), self.end());
        // The last interval starting at or before t.
        let i = self.intervals.partition_point(|iv| iv.start <= t).max(1) - 1;
        let iv = &self.intervals[i];
        self.prefix[i] + (iv.g_per_kwh - self.reference()) * (t.min(iv.end) - iv.start)
    }

    /// The mean intensity over `[from, to]`: the series where it covers the span, `fallback`
    /// (the profile's annual figure) where it does not. A zero-length span takes the intensity
    /// at its moment.
    pub(crate) fn mean(&self, from: f64, to: f64, fallback: CarbonIntensity) -> SpanMean {
        if to <= from {
            let inside = (self.start()..self.end()).contains(&from);
            let at = if inside {
                let i = self.intervals.partition_point(|iv| iv.start <= from) - 1;
                self.intervals[i].g_per_kwh
            } else {
                fallback.raw()
            };
            return SpanMean {
                intensity: CarbonIntensity::from_raw(at),
                covered: if inside { 1.0 } else { 0.0 },
            };
        }
        let (a, b) = (from.max(self.start()), to.min(self.end()));
        let inside = (b - a).max(0.0);
        let span = to - from;
        let mean = if inside >= span {
            self.reference() + (self.cumulative(b) - self.cumulative(a)) / span
        } else if inside > 0.0 {
            let integral = self.reference() * inside + self.cumulative(b) - self.cumulative(a);
            (integral + fallback.raw() * (span - inside)) / span
        } else {
            fallback.raw()
        };
        SpanMean {
            intensity: CarbonIntensity::from_raw(mean),
            covered: inside / span,
        }
    }
}

/// The mean intensity of energy drawn along `timeline` ([Unix seconds, joules so far] in time
/// order): each stretch's energy at the mean intensity of its span, so that energy drawn at a
/// dirty hour weighs as much as it drew. `covered` is the share of the energy inside the
/// series. A timeline with no energy in it (too short to see any) weighs time instead.
pub(crate) fn energy_weighted_mean(
    series: &Series,
    timeline: &[[f64; 2]],
    fallback: CarbonIntensity,
) -> SpanMean {
    let (mut weighted, mut covered, mut total) = (0.0, 0.0, 0.0);
    for w in timeline.windows(2) {
        let (t0, t1) = (w[0][0], w[1][0]);
        let joules = (w[1][1] - w[0][1]).max(0.0);
        let m = series.mean(t0, t1, fallback);
        weighted += joules * m.intensity.raw();
        covered += joules * m.covered;
        total += joules;
    }
    if total > 0.0 {
        return SpanMean {
            intensity: CarbonIntensity::from_raw(weighted / total),
            covered: covered / total,
        };
    }
    match (timeline.first(), timeline.last()) {
        (Some(a), Some(b)) => series.mean(a[0], b[0], fallback),
        _ => SpanMean {
            intensity: fallback,
            covered: 0.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64], step: f64) -> Series {
        let intervals = values
            .iter()
            .enumerate()
            .map(|(i, &g)| Interval {
                start: i as f64 * step,
                end: (i + 1) as f64 * step,
                g_per_kwh: g,
            })
            .collect();
        Series::new("test".into(), intervals).unwrap()
    }

    #[test]
    fn the_mean_over_a_span_is_the_time_weighted_integral() {
        // A ramp 0, 100, 200, 300 g/kWh, one hour each.
        let s = series(&[0.0, 100.0, 200.0, 300.0], 3600.0);
        let none = CarbonIntensity::from_raw(1000.0);
        let m = s.mean(0.0, 4.0 * 3600.0, none);
        assert_eq!((m.intensity.raw(), m.covered), (150.0, 1.0));
        // Half of hour 1 and half of hour 2: (0.5·100 + 0.5·200) / 1.
        let m = s.mean(1.5 * 3600.0, 2.5 * 3600.0, none);
        assert!((m.intensity.raw() - 150.0).abs() < 1e-9);
        // An hour past the end: half the span at the fallback.
        let m = s.mean(3.5 * 3600.0, 4.5 * 3600.0, none);
        assert!((m.intensity.raw() - (300.0 + 1000.0) / 2.0).abs() < 1e-9);
        assert!((m.covered - 0.5).abs() < 1e-12);
        // Wholly outside.
        let m = s.mean(10.0 * 3600.0, 11.0 * 3600.0, none);
        assert_eq!((m.intensity.raw(), m.covered), (1000.0, 0.0));
        // A moment.
        assert_eq!(s.mean(7200.0, 7200.0, none).intensity.raw(), 200.0);
    }

    #[test]
    fn energy_weighs_the_hours_it_was_drawn_in() {
        // 100 g/kWh for an hour, then 500.
        let s = series(&[100.0, 500.0], 3600.0);
        let none = CarbonIntensity::from_raw(0.0);
        // 3 kJ in the first hour, 1 kJ in the second: (3·100 + 1·500) / 4 = 200.
        let tl = [[0.0, 0.0], [3600.0, 3000.0], [7200.0, 4000.0]];
        let m = energy_weighted_mean(&s, &tl, none);
        assert_eq!((m.intensity.raw(), m.covered), (200.0, 1.0));
        // Over a constant series, the annual computation exactly.
        let flat = series(&[329.6; 5], 3600.0);
        let tl = [[10.0, 0.0], [700.0, 1.5], [9000.0, 77.0], [17_000.0, 80.0]];
        assert_eq!(
            energy_weighted_mean(&flat, &tl, none).intensity.raw(),
            329.6
        );
        // Energy drawn past the series is at the fallback, and counted as not covered.
        let tl = [[0.0, 0.0], [7200.0, 1000.0], [10_800.0, 2000.0]];
        let m = energy_weighted_mean(&s, &tl, CarbonIntensity::from_raw(1000.0));
        assert!((m.covered - 0.5).abs() < 1e-12);
        assert!((m.intensity.raw() - (300.0 + 1000.0) / 2.0).abs() < 1e-9);
        // No energy seen: time-weighted.
        let m = energy_weighted_mean(&s, &[[0.0, 0.0], [7200.0, 0.0]], none);
        assert_eq!(m.intensity.raw(), 300.0);
    }

    #[test]
    fn intervals_must_meet() {
        let gap = vec![
            Interval {
                start: 0.0,
                end: 10.0,
                g_per_kwh: 1.0,
            },
            Interval {
                start: 20.0,
                end: 30.0,
                g_per_kwh: 1.0,
            },
        ];
        assert!(Series::new("gap".into(), gap).is_err());
        assert!(Series::new("empty".into(), Vec::new()).is_err());
    }
}
