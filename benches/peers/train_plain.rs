//! The candle training loop alone, with no measurement: the "plain" run of the peer
//! benchmarks, and the candle side of the throughput comparison with PyTorch
//! (benches/peers/torch_train.py trains the same models).
//!
//! cargo run --release --example train_plain -- --workload mlp --steps 200 --warmup 10
//! Prints one JSON object: steps, samples, seconds, samples_per_second, first and last loss.

use std::time::Instant;

use clap::Parser;
use footprint::measure::workload::{self, Kind};

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum, default_value_t = Kind::Mlp)]
    workload: Kind,
    #[arg(long, default_value_t = 200)]
    steps: usize,
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    width: Option<usize>,
    #[arg(long)]
    depth: Option<usize>,
    #[arg(long)]
    seq_len: Option<usize>,
    #[arg(long)]
    heads: Option<usize>,
}

fn main() {
    let a = Args::parse();
    let mut cfg = match a.workload {
        Kind::Mlp => workload::Config::mlp(a.batch_size.unwrap_or(64)),
        Kind::Transformer => workload::Config::transformer(a.batch_size.unwrap_or(16)),
    };
    if let Some(m) = cfg.mlp.as_mut() {
        m.hidden = a.width.unwrap_or(m.hidden);
        m.depth = a.depth.unwrap_or(m.depth);
    }
    if let Some(t) = cfg.transformer.as_mut() {
        t.d_model = a.width.unwrap_or(t.d_model);
        t.layers = a.depth.unwrap_or(t.layers);
        t.seq_len = a.seq_len.unwrap_or(t.seq_len);
        t.heads = a.heads.unwrap_or(t.heads);
    }
    let dev = candle_core::Device::Cpu;
    let mut m = workload::build(&cfg, &dev).expect("build the workload");
    for _ in 0..a.warmup {
        m.step().expect("step");
    }
    let t0 = Instant::now();
    let mut first = None;
    let mut last = f32::NAN;
    for _ in 0..a.steps {
        last = m.step().expect("step");
        first.get_or_insert(last);
    }
    let secs = t0.elapsed().as_secs_f64();
    let samples = a.steps * m.samples_per_step();
    println!(
        "{}",
        serde_json::json!({
            "framework": "candle",
            "workload": cfg,
            "parameters": m.parameters(),
            "steps": a.steps,
            "samples": samples,
            "seconds": secs,
            "samples_per_second": samples as f64 / secs,
            "flops_per_second": m.flops_per_step() * a.steps as f64 / secs,
            "loss_first": first,
            "loss_last": last,
        })
    );
}
