//! The candle training loop alone, with no measurement: the "plain" run of the peer
//! benchmarks, and the candle side of the throughput comparison with PyTorch
//! (benches/peers/torch_train.py trains the same models).
//!
//! cargo run --release --example train_plain -- --workload mlp --steps 200 --warmup 10
//! Prints one JSON object: steps, samples, seconds, samples_per_second, first and last loss.

use std::time::Instant;

use clap::Parser;
use footprint::bench::Stepper;
use footprint::bench::workload::{self, Kind};

#[derive(Parser)]
struct Args {
    /// mlp or transformer, as `footprint measure --workload`.
    #[arg(long, default_value = "mlp", value_parser = ["mlp", "transformer"])]
    workload: String,
    #[arg(long, default_value_t = 200)]
    steps: usize,
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    #[command(flatten)]
    sizes: workload::Sizes,
}

fn main() {
    // The same setting as `footprint measure`'s loop: candle's workers park soon, the memory
    // policy and the step pool (`Stepper`).
    // SAFETY: the first thing main does: no other thread runs yet.
    unsafe { footprint::bench::limit_candle_spinning() };
    let a = Args::parse();
    let kind = match a.workload.as_str() {
        "transformer" => Kind::Transformer,
        _ => Kind::Mlp,
    };
    let cfg = workload::Config::sized(kind, &a.sizes)
        .unwrap_or_else(|(flag, msg)| panic!("{flag}: {msg}"));
    let dev = candle_core::Device::Cpu;
    let mut m = Stepper::new(workload::build(&cfg, &dev).expect("build the workload"))
        .expect("start the training threads");
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
    let t = *m.facts();
    let samples = a.steps * t.samples_per_step;
    println!(
        "{}",
        serde_json::json!({
            "framework": "candle",
            "workload": cfg,
            "parameters": t.parameters,
            "steps": a.steps,
            "samples": samples,
            "seconds": secs,
            "samples_per_second": samples as f64 / secs,
            "flops_per_second": t.flops_per_step * a.steps as f64 / secs,
            "loss_first": first,
            "loss_last": last,
        })
    );
}
