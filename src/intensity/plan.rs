//! The planner behind `footprint when`: every start time in a window, the run's CO2e if it
//! started then (its energy spread evenly over its duration, at the series' intensity hour by
//! hour), and the best, the next best that does not overlap it, the worst and now.
//!
//! The run's power is taken as constant over its duration (the estimate's mean): an estimate
//! has no power profile, and training holds its draw steady (docs/assumptions.md). Its low,
//! central and high each keep their own duration, so a longer run's window is longer.

use super::Series;
use crate::units::{CarbonIntensity, Duration, Energy, Mass};

/// What the planner needs of a run: its wall-clock duration and facility energy, at the low,
/// central and high ends of its estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Job {
    pub duration: [Duration; 3],
    pub energy: [Energy; 3],
}

/// One start time and what the run emits if it starts then.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Start {
    /// Unix seconds (UTC).
    pub(crate) at: f64,
    /// Operational CO2e at the low, central and high ends of the run.
    pub(crate) co2e: [Mass; 3],
    /// Mean intensity over the central run's window.
    pub(crate) intensity: CarbonIntensity,
    /// Of the longest window, the share the series covers; the rest is at the fallback.
    pub(crate) covered: f64,
}

/// The run started at `at`.
pub(crate) fn start_at(series: &Series, job: &Job, at: f64, fallback: CarbonIntensity) -> Start {
    let means = job
        .duration
        .map(|d| series.mean(at, at + d.seconds(), fallback));
    Start {
        at,
        co2e: [0, 1, 2].map(|i| job.energy[i] * means[i].intensity),
        intensity: means[1].intensity,
        covered: means.iter().map(|m| m.covered).fold(1.0, f64::min),
    }
}

/// The start times the planner compares: from `from` (or the series' start, if later) every
/// `step`, up to `from + within`, each leaving room for the central run inside the series.
pub fn candidates(
    series: &Series,
    job: &Job,
    from: f64,
    within: f64,
    step: f64,
    fallback: CarbonIntensity,
) -> Vec<Start> {
    let first = from.max(series.start());
    let last = (from + within).min(series.end() - job.duration[1].seconds());
    if step.is_nan() || step <= 0.0 || last < first {
        return Vec::new();
    }
    let n = ((last - first) / step).floor() as usize;
    (0..=n)
        .map(|k| start_at(series, job, first + k as f64 * step, fallback))
        .collect()
}

/// The picks people read: the best, the best that does not overlap it, the worst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Picks {
    pub(crate) best: Start,
    pub(crate) next: Option<Start>,
    pub(crate) worst: Start,
}

/// The best, the next best not overlapping it (by the central run's window) and the worst of
/// `starts`; among equals, the earliest.
pub fn pick(starts: &[Start], job: &Job) -> Option<Picks> {
    let central = |s: &Start| s.co2e[1].raw();
    let best = *starts
        .iter()
        .min_by(|a, b| central(a).total_cmp(&central(b)))?;
    let worst = *starts.iter().max_by(|a, b| {
        central(a)
            .total_cmp(&central(b))
            .then(b.at.total_cmp(&a.at))
    })?;
    let d = job.duration[1].seconds();
    let next = starts
        .iter()
        .filter(|s| s.at >= best.at + d || s.at + d <= best.at)
        .min_by(|a, b| central(a).total_cmp(&central(b)))
        .copied();
    Some(Picks { best, next, worst })
}

#[cfg(test)]
mod tests {
    use super::super::{Interval, Series};
    use super::*;

    const H: f64 = 3600.0;

    fn series(values: impl IntoIterator<Item = f64>) -> Series {
        let intervals = values
            .into_iter()
            .enumerate()
            .map(|(i, g)| Interval {
                start: i as f64 * H,
                end: (i + 1) as f64 * H,
                g_per_kwh: g,
            })
            .collect();
        Series::new("test".into(), intervals).unwrap()
    }

    fn job(hours: f64, kwh: f64) -> Job {
        Job {
            duration: [Duration::from_hours(hours); 3],
            energy: [Energy::from_kwh(kwh); 3],
        }
    }

    /// A square wave, 12 h at 100 g/kWh then 12 h at 500, over three days: a 6 h run is best
    /// anywhere inside a clean half, worst inside a dirty half, and costs the closed-form
    /// energy × intensity.
    #[test]
    fn a_square_wave_has_its_known_best_and_worst() {
        let s = series((0..72).map(|h| if h % 24 < 12 { 100.0 } else { 500.0 }));
        let j = job(6.0, 10.0);
        let starts = candidates(&s, &j, 0.0, 72.0 * H, H, CarbonIntensity::from_raw(0.0));
        assert_eq!(starts.len(), 67, "starts 0..=66 h leave room for 6 h");
        let p = pick(&starts, &j).unwrap();
        assert_eq!(p.best.at, 0.0);
        assert_eq!(p.best.co2e[1].kg(), 10.0 * 100.0 / 1000.0);
        assert_eq!(p.worst.at, 12.0 * H);
        assert_eq!(p.worst.co2e[1].kg(), 10.0 * 500.0 / 1000.0);
        // The next best does not overlap the best (0-6 h): 6 h, the rest of the clean half.
        assert_eq!(p.next.unwrap().at, 6.0 * H);
        assert_eq!(p.next.unwrap().co2e[1].kg(), 1.0);
        // Straddling the edge: 3 h clean + 3 h dirty.
        let edge = start_at(&s, &j, 9.0 * H, CarbonIntensity::from_raw(0.0));
        assert!((edge.co2e[1].kg() - 10.0 * 300.0 / 1000.0).abs() < 1e-12);
    }

    /// A ramp falling by 10 g/kWh an hour: the best start is the last one that fits, and its
    /// mean is the mean of the last hours.
    #[test]
    fn a_falling_ramp_is_best_at_its_end() {
        let s = series((0..48).map(|h| 500.0 - 10.0 * h as f64));
        let j = job(4.0, 1.0);
        let starts = candidates(
            &s,
            &j,
            0.0,
            48.0 * H,
            0.5 * H,
            CarbonIntensity::from_raw(0.0),
        );
        let p = pick(&starts, &j).unwrap();
        assert_eq!(p.best.at, 44.0 * H);
        // Hours 44-47: 60, 50, 40, 30 → mean 45.
        assert!((p.best.intensity.raw() - 45.0).abs() < 1e-9);
        assert_eq!(p.worst.at, 0.0);
    }

    /// Over a constant series, every start costs what the annual-average computation gives:
    /// energy × intensity, exactly.
    #[test]
    fn a_constant_series_equals_the_annual_computation() {
        for g in [0.0, 41.44, 329.6, 1000.0] {
            let s = series(std::iter::repeat_n(g, 30));
            let j = Job {
                duration: [2.0, 3.5, 7.25].map(Duration::from_hours),
                energy: [12.5, 20.0, 37.0].map(Energy::from_kwh),
            };
            // Starts whose longest window the series still holds (22 h + 7.25 h ≤ 30 h).
            let starts = candidates(
                &s,
                &j,
                0.0,
                22.0 * H,
                0.25 * H,
                CarbonIntensity::from_raw(9e9),
            );
            assert_eq!(starts.len(), 89);
            for st in starts {
                assert_eq!(st.covered, 1.0);
                for i in 0..3 {
                    assert_eq!(st.co2e[i], j.energy[i] * CarbonIntensity::from_raw(g));
                }
            }
        }
    }

    /// A run longer than what is left of the series: no candidate; a start past the series
    /// is at the fallback, and says how little the series covered.
    #[test]
    fn the_series_must_hold_the_run() {
        let s = series([100.0; 10]);
        let j = job(12.0, 1.0);
        assert!(candidates(&s, &j, 0.0, 10.0 * H, H, CarbonIntensity::from_raw(0.0)).is_empty());
        let late = start_at(
            &s,
            &job(2.0, 1.0),
            9.0 * H,
            CarbonIntensity::from_raw(300.0),
        );
        assert!((late.covered - 0.5).abs() < 1e-12);
        assert!((late.co2e[1].kg() - 0.2).abs() < 1e-12);
    }
}
