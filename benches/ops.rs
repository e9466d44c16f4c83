//! The training loop's fused CPU ops beside the candle ops they replace, forward and backward
//! together, at the default transformer's sizes (16 sequences × 64 positions = 1,024 rows,
//! width 128, MLP width 512).
//!
//! Each figure includes the same probe loss (Σ y ⊙ probe) and candle's gradient bookkeeping
//! for both sides, so the ratios understate the ops' own difference.
//!
//! `cargo bench --bench ops`; figures are recorded in docs/performance.md.

use std::hint::black_box;

use candle_core::{Device, Tensor, Var};
use criterion::{Criterion, criterion_group, criterion_main};
use footprint::bench::ops;

const ROWS: usize = 1024;
const D: usize = 128;

/// Forward, then the backward pass of Σ y ⊙ probe.
fn fwd_bwd(y: Tensor, probe: &Tensor) {
    let g = (y * probe).unwrap().sum_all().unwrap().backward().unwrap();
    black_box(g);
}

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(0f32, 1.0, shape, &Device::Cpu).unwrap()
}

fn benches(c: &mut Criterion) {
    // As in the training loop: freed buffers are reused, not unmapped and faulted in again
    // (without this the page faults are most of every figure here).
    footprint::bench::keep_freed_memory();
    let mut g = c.benchmark_group("gelu fwd+bwd, 1024 x 512");
    let x = Var::from_tensor(&randn(&[ROWS, 4 * D])).unwrap();
    let probe = randn(&[ROWS, 4 * D]);
    g.bench_function("fused", |b| {
        b.iter(|| fwd_bwd(ops::gelu(&x).unwrap(), &probe))
    });
    g.bench_function("candle", |b| b.iter(|| fwd_bwd(x.gelu().unwrap(), &probe)));
    g.finish();

    let mut g = c.benchmark_group("layer norm fwd+bwd, 1024 x 128");
    let x = Var::from_tensor(&randn(&[ROWS, D])).unwrap();
    let gamma = Var::from_tensor(&randn(&[D])).unwrap();
    let beta = Var::from_tensor(&randn(&[D])).unwrap();
    let probe = randn(&[ROWS, D]);
    g.bench_function("fused", |b| {
        b.iter(|| fwd_bwd(ops::layer_norm(&x, &gamma, &beta, 1e-5).unwrap(), &probe))
    });
    g.bench_function("candle", |b| {
        b.iter(|| {
            let y = candle_nn::ops::layer_norm_slow(&x, &gamma, &beta, 1e-5).unwrap();
            fwd_bwd(y, &probe)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("linear fwd+bwd, 1024 x 128 -> 512");
    let w = Var::from_tensor(&randn(&[4 * D, D])).unwrap();
    let bias = Var::from_tensor(&randn(&[4 * D])).unwrap();
    let probe = randn(&[ROWS, 4 * D]);
    g.bench_function("fused", |b| {
        b.iter(|| fwd_bwd(ops::linear(&x, &w, &bias).unwrap(), &probe))
    });
    g.bench_function("candle", |b| {
        b.iter(|| {
            let y = x
                .matmul(&w.t().unwrap())
                .unwrap()
                .broadcast_add(&bias)
                .unwrap();
            fwd_bwd(y, &probe)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("causal attention fwd+bwd, 16 x 64 x 3*128, 4 heads");
    let qkv = Var::from_tensor(&randn(&[16, 64, 3 * D])).unwrap();
    let probe = randn(&[16, 64, D]);
    g.bench_function("fused", |b| {
        b.iter(|| fwd_bwd(ops::causal_attention(&qkv, 4).unwrap(), &probe))
    });
    g.bench_function("candle", |b| {
        b.iter(|| fwd_bwd(ops::causal_attention_composed(&qkv, 4).unwrap(), &probe))
    });
    g.finish();
}

criterion_group!(ops_benches, benches);
criterion_main!(ops_benches);
