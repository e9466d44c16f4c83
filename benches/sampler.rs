//! Sampler benchmarks: the cost of one reading, per sensor kind, and of integrating it.
//!
//! At the default 100 ms interval, a sensor that costs X µs per reading costs X/1000 % of one
//! core; the target is under 1 % for all sensors together.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use footprint::bench::Registry;
use footprint::bench::Sensor;
use footprint::bench::Track;
use footprint::bench::{CpuModel, Scope};
use footprint::bench::{Shape, SyntheticSensor};

fn benches(c: &mut Criterion) {
    let reg = Registry::embedded();

    let mut s = SyntheticSensor::new(
        "bench",
        Shape::Ramp {
            start: 100.0,
            slope: 1.0,
        },
        true,
    );
    let mut tr = Track::new(s.info().clone());
    let mut t = 0.0;
    c.bench_function("integrate one reading (counter + power)", |b| {
        b.iter(|| {
            t += 0.1;
            s.fixed_time = Some(t);
            tr.add(black_box(t), s.read());
        })
    });
    black_box(tr.result());

    let mut own = CpuModel::here(Scope::SelfProcess, reg.cpus());
    c.bench_function(
        "read CPU-time model: this process (getrusage + statm)",
        |b| b.iter(|| own.read().unwrap()),
    );

    // A small process tree: sh -> sleep, as a wrapped command would have.
    let mut child = std::process::Command::new("sh")
        .args(["-c", "sleep 600 & sleep 600; wait"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut tree = CpuModel::here(Scope::Tree(child.id() as i32), reg.cpus());
    c.bench_function("read CPU-time model: 3-process tree (/proc walk)", |b| {
        b.iter(|| tree.read().unwrap())
    });
    let _ = std::process::Command::new("pkill")
        .args(["-P", &child.id().to_string()])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

criterion_group!(sampler, benches);
criterion_main!(sampler);
