//! Calculator and input benchmarks: one evaluation, a sweep of 10^6 scenarios, parsing and
//! validating a run file, loading the embedded profiles.
//!
//! `cargo bench --bench calculator`; figures are recorded in docs/performance.md.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use footprint::bench::Registry;
use footprint::bench::{CarbonIntensity, Duration, Power};
use footprint::bench::{
    DeviceTime, DeviceUse, Inputs, Model, ModelKind, Scenario, Scratch, Site, Work, evaluate,
    evaluate_into,
};
use footprint::bench::{build_scenario, parse_run_file};

const LAPTOP: &str = include_str!("../examples/laptop-finetune.toml");
const GPT3: &str = include_str!("../examples/published/reproduction/gpt3-patterson.toml");

fn built(text: &str, reg: &Registry) -> Scenario {
    let s = parse_run_file(text, "bench.toml", Path::new(".")).unwrap();
    build_scenario(&s, reg, None).unwrap().scenario
}

/// A duration-model scenario from plain numbers, as a sweep would make them.
fn duration_scenario(hours: f64, watts: f64, intensity: f64, pue: f64) -> Scenario {
    let mut inp = Inputs::default();
    let hours = inp.point(Duration::from_hours(hours));
    let device = DeviceUse {
        power: inp.point(Power::from_watts(watts)),
        host_power: inp.point(Power::ZERO),
        price: None,
    };
    let site = Site {
        intensity: inp.point(CarbonIntensity::from_g_per_kwh(intensity)),
        pue: inp.point(pue),
        electricity_price: None,
        carbon_price: None,
    };
    Scenario {
        inputs: inp,
        models: vec![Model {
            kind: ModelKind::Duration,
            advisory: false,
            work: Work::Duration {
                time: DeviceTime::Wall { hours, count: 8.0 },
                device,
            },
        }],
        site,
        embodied: None,
    }
}

fn benches(c: &mut Criterion) {
    let reg = Registry::embedded();
    let gpt3 = built(GPT3, &reg);
    let laptop = built(LAPTOP, &reg);

    c.bench_function("evaluate: point inputs (gpt3-patterson)", |b| {
        b.iter(|| evaluate(black_box(&gpt3)))
    });
    c.bench_function(
        "evaluate: 2 ranged inputs, 4 corners (laptop-finetune)",
        |b| b.iter(|| evaluate(black_box(&laptop))),
    );
    // The same with working memory and output reused between calls, as a sweep can: no
    // allocation per scenario.
    let (mut scratch, mut out) = (Scratch::default(), Vec::new());
    c.bench_function(
        "evaluate_into: point inputs (gpt3-patterson), buffers reused",
        |b| {
            b.iter(|| {
                evaluate_into(black_box(&gpt3), &mut scratch, &mut out);
                out[0].central.co2e
            })
        },
    );
    c.bench_function(
        "evaluate_into: 2 ranged inputs, 4 corners (laptop-finetune), buffers reused",
        |b| {
            b.iter(|| {
                evaluate_into(black_box(&laptop), &mut scratch, &mut out);
                out[0].central.co2e
            })
        },
    );

    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.bench_function("10^6 scenarios (build + evaluate)", |b| {
        b.iter(|| {
            let mut total = 0.0;
            for i in 0..1_000_000u32 {
                let s = duration_scenario(
                    1.0 + (i % 1000) as f64,
                    100.0 + (i % 7) as f64 * 100.0,
                    (i % 997) as f64,
                    1.0 + (i % 5) as f64 * 0.1,
                );
                total += evaluate(&s)[0].central.co2e.kg();
            }
            black_box(total)
        })
    });
    g.finish();

    c.bench_function("parse + validate + build (laptop-finetune.toml)", |b| {
        b.iter(|| built(black_box(LAPTOP), &reg))
    });
    c.bench_function(
        "load embedded profiles (accelerators, grids, clouds)",
        |b| b.iter(Registry::embedded),
    );

    // footprint sweep: every device × every region over the laptop fine-tune (ranged inputs),
    // through the same pipeline as `estimate`, in parallel.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = root.join("examples/laptop-finetune.toml");
    let axes = footprint::bench::Axes {
        devices: vec!["all".to_string()],
        regions: vec!["all".to_string()],
        ..Default::default()
    };
    let options = footprint::bench::sweep(&run, None, &axes, None)
        .unwrap()
        .rows
        .len();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(options as u64));
    g.bench_function(
        format!("all devices x all regions ({options} options, ranged)"),
        |b| b.iter(|| footprint::bench::sweep(black_box(&run), None, &axes, None).unwrap()),
    );
    g.finish();
}

criterion_group!(calculator, benches);
criterion_main!(calculator);
