//! The intensity planner at scale: a year of a series at 5-minute steps (105,120 rows), parsed,
//! then every start of a 13-hour run over the whole year every 15 minutes planned.
//!
//! `cargo bench --bench intensity`; figures are recorded in docs/performance.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use footprint::bench::Basis;
use footprint::bench::parse_intensity as parse;
use footprint::bench::{CarbonIntensity, Duration, Energy};
use footprint::bench::{Job, candidates, pick};

/// A year from 2024-01-01 at 5-minute steps: a daily swing and a weekly one, as a wind- and
/// solar-heavy grid shows.
fn year_csv() -> String {
    let start = 1_704_067_200u64;
    let mut out = String::from("timestamp,g_per_kwh\n");
    for i in 0..105_120u64 {
        let h = i as f64 / 12.0;
        let g = 350.0
            + 150.0 * (h * std::f64::consts::TAU / 24.0).sin()
            + 60.0 * (h * std::f64::consts::TAU / 168.0).cos();
        out.push_str(&format!("{},{g:.1}\n", start + 300 * i));
    }
    out
}

fn bench(c: &mut Criterion) {
    let text = year_csv();
    c.bench_function("parse a year at 5-minute steps", |b| {
        b.iter(|| parse("year.csv", black_box(&text), Basis::Lifecycle).unwrap())
    });
    let series = parse("year.csv", &text, Basis::Lifecycle).unwrap();
    let job = Job {
        duration: [8.9, 13.0, 21.1].map(Duration::from_hours),
        energy: [51.9, 83.5, 156.1].map(Energy::from_kwh),
    };
    c.bench_function("plan every 15 min over a year (35,000 starts)", |b| {
        b.iter(|| {
            let starts = candidates(
                &series,
                &job,
                1_704_067_200.0,
                365.0 * 86_400.0,
                900.0,
                CarbonIntensity::from_raw(350.0),
            );
            black_box(pick(&starts, &job))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
