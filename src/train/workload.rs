//! Real training loops in candle, on synthetic data, with analytic FLOP counts.
//!
//! Two workloads, both trained with AdamW on data generated from a seed (nothing is
//! downloaded, and the same seed gives the same data and the same initial weights):
//! - an MLP classifier on Gaussian clusters (one sample = one vector);
//! - a small decoder-only transformer language model on a Markov-chain token stream (one
//!   sample = one sequence).
//!
//! FLOPs per step are counted from the shapes, the usual way: a matmul of (m×k)·(k×n) is
//! 2mkn FLOPs, the backward pass costs twice the forward, element-wise work is not counted.
//! That is what makes "achieved FLOP/s" and "J/FLOP" comparable with the compute model.
//!
//! Weights are initialised from our own seeded generator rather than candle's, because the
//! CPU backend cannot be seeded.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::ParamsAdamW;

use super::adamw::Optimizer;

pub(crate) type Result<T> = std::result::Result<T, candle_core::Error>;

pub use crate::record::{
    MlpConfig, TransformerConfig, WorkloadConfig as Config, WorkloadKind as Kind,
};

impl Config {
    pub(crate) fn mlp(batch_size: usize) -> Config {
        Config {
            kind: Kind::Mlp,
            batch_size,
            learning_rate: 1e-3,
            seed: 42,
            mlp: Some(MlpConfig {
                input: 256,
                hidden: 512,
                depth: 3,
                classes: 10,
            }),
            transformer: None,
        }
    }

    pub(crate) fn transformer(batch_size: usize) -> Config {
        Config {
            kind: Kind::Transformer,
            batch_size,
            learning_rate: 1e-3,
            seed: 42,
            mlp: None,
            transformer: Some(TransformerConfig {
                vocab: 256,
                d_model: 128,
                layers: 2,
                heads: 4,
                seq_len: 64,
            }),
        }
    }
}

/// Sizes that override a workload's defaults (`None` keeps the default): the `measure` flags,
/// shared with the peer benchmark's plain trainer.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Sizes {
    /// Samples per step (default 64 for the MLP, 16 sequences for the transformer).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Hidden width (MLP) or model width d_model (transformer).
    #[arg(long)]
    pub width: Option<usize>,
    /// Hidden layers (MLP) or transformer blocks.
    #[arg(long)]
    pub depth: Option<usize>,
    /// Sequence length (transformer).
    #[arg(long)]
    pub seq_len: Option<usize>,
    /// Attention heads (transformer; must divide --width).
    #[arg(long)]
    pub heads: Option<usize>,
}

/// Upper bounds of the size flags: well past any calibration workload, and small enough that
/// the products below cannot overflow and the autograd graph's depth cannot exhaust the stack.
const MAX_BATCH: usize = 1 << 20;
const MAX_WIDTH: usize = 1 << 16;
const MAX_DEPTH: usize = 256;
const MAX_SEQ_LEN: usize = 1 << 16;

impl Config {
    /// Bytes the training loop needs, about: f32 weights, gradients and AdamW's two moments
    /// (4 copies of the parameters) plus the activations kept for the backward pass (a few
    /// tensors per layer per sample; for attention, the scores and their softmax).
    pub(crate) fn memory_bytes(&self) -> f64 {
        let f = |x: usize| x as f64;
        let (params, activations) = match (&self.mlp, &self.transformer) {
            (Some(m), _) => (
                f(m.input) * f(m.hidden)
                    + f(m.hidden) * f(m.hidden) * f(m.depth.saturating_sub(1))
                    + f(m.hidden) * f(m.classes),
                f(self.batch_size) * (f(m.input) + 4.0 * f(m.hidden) * f(m.depth)),
            ),
            (None, Some(t)) => (
                12.0 * f(t.d_model) * f(t.d_model) * f(t.layers)
                    + 2.0 * f(t.vocab) * f(t.d_model)
                    + f(t.seq_len) * f(t.d_model),
                f(self.batch_size)
                    * f(t.layers)
                    * (16.0 * f(t.seq_len) * f(t.d_model)
                        + 3.0 * f(t.heads) * f(t.seq_len) * f(t.seq_len)),
            ),
            (None, None) => (0.0, 0.0),
        };
        4.0 * (4.0 * params + activations)
    }

    /// The default config of `kind` with `sizes` applied. An error names the flag at fault.
    pub fn sized(kind: Kind, sizes: &Sizes) -> std::result::Result<Config, (&'static str, String)> {
        for (flag, v, max) in [
            ("--batch-size", sizes.batch_size, MAX_BATCH),
            ("--width", sizes.width, MAX_WIDTH),
            ("--depth", sizes.depth, MAX_DEPTH),
            ("--seq-len", sizes.seq_len, MAX_SEQ_LEN),
            ("--heads", sizes.heads, MAX_WIDTH),
        ] {
            if v == Some(0) {
                return Err((flag, "must be at least 1".to_string()));
            }
            if let Some(v) = v.filter(|v| *v > max) {
                return Err((flag, format!("{v} is above the largest supported, {max}")));
            }
        }
        match kind {
            Kind::Mlp => {
                if sizes.seq_len.is_some() || sizes.heads.is_some() {
                    return Err((
                        "--seq-len",
                        "--seq-len and --heads apply to --workload transformer".to_string(),
                    ));
                }
                let mut c = Config::mlp(sizes.batch_size.unwrap_or(64));
                let m = c.mlp.as_mut().expect("mlp config");
                m.hidden = sizes.width.unwrap_or(m.hidden);
                m.depth = sizes.depth.unwrap_or(m.depth);
                Ok(c)
            }
            Kind::Transformer => {
                let mut c = Config::transformer(sizes.batch_size.unwrap_or(16));
                let t = c.transformer.as_mut().expect("transformer config");
                t.d_model = sizes.width.unwrap_or(t.d_model);
                t.layers = sizes.depth.unwrap_or(t.layers);
                t.seq_len = sizes.seq_len.unwrap_or(t.seq_len);
                t.heads = sizes.heads.unwrap_or(t.heads);
                if !t.d_model.is_multiple_of(t.heads) {
                    return Err((
                        "--heads",
                        format!("{} heads do not divide the width {}", t.heads, t.d_model),
                    ));
                }
                Ok(c)
            }
        }
    }
}

/// AdamW over `vars` with candle's defaults and this learning rate, and the parameter count.
/// On the CPU the update runs in place (`measure::adamw`); elsewhere it is candle's.
fn adamw(vars: Vec<Var>, lr: f64) -> Result<(Optimizer, usize)> {
    let params = vars.iter().map(|v| v.elem_count()).sum();
    let opt = Optimizer::new(
        vars,
        ParamsAdamW {
            lr,
            ..ParamsAdamW::default()
        },
    )?;
    Ok((opt, params))
}

/// A seeded generator (SplitMix64): the same seed gives the same stream everywhere.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A trainable tensor initialised from the generator: normal(0, std).
fn param(rng: &mut Rng, shape: &[usize], std: f64, dev: &Device) -> Result<Var> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| (rng.normal() * std) as f32).collect();
    Var::from_tensor(&Tensor::from_vec(v, shape, dev)?)
}

fn constant(shape: &[usize], value: f32, dev: &Device) -> Result<Var> {
    let n: usize = shape.iter().product();
    Var::from_tensor(&Tensor::from_vec(vec![value; n], shape, dev)?)
}

/// A dense layer: y = x Wᵀ + b, for inputs of any rank.
struct Linear {
    w: Var,
    b: Var,
}

impl Linear {
    fn new(rng: &mut Rng, input: usize, output: usize, dev: &Device) -> Result<Linear> {
        Ok(Linear {
            w: param(rng, &[output, input], (1.0 / input as f64).sqrt(), dev)?,
            b: constant(&[output], 0.0, dev)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        super::ops::linear(x, self.w.as_tensor(), self.b.as_tensor())
    }

    fn vars(&self) -> [Var; 2] {
        [self.w.clone(), self.b.clone()]
    }

    /// Multiply-adds per input row.
    fn macs(&self) -> f64 {
        let d = self.w.dims();
        (d[0] * d[1]) as f64
    }
}

struct LayerNorm {
    g: Var,
    b: Var,
}

impl LayerNorm {
    fn new(d: usize, dev: &Device) -> Result<LayerNorm> {
        Ok(LayerNorm {
            g: constant(&[d], 1.0, dev)?,
            b: constant(&[d], 0.0, dev)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // candle's own fused layer_norm has no backward pass; this one does (measure::ops).
        super::ops::layer_norm(x, self.g.as_tensor(), self.b.as_tensor(), 1e-5)
    }

    fn vars(&self) -> [Var; 2] {
        [self.g.clone(), self.b.clone()]
    }
}

/// One training run: a model, its data and its optimizer. `Send`: its steps run on the
/// training threads (`train::step_pool`).
pub trait Trainer: Send {
    /// One optimizer step on the next batch; returns the loss.
    fn step(&mut self) -> Result<f32>;
    /// Samples consumed per step.
    fn samples_per_step(&self) -> usize;
    /// Training FLOPs per step (forward + backward), counted analytically.
    fn flops_per_step(&self) -> f64;
    /// Trainable parameters.
    fn parameters(&self) -> usize;
    /// Tokens per step, for language models.
    fn tokens_per_step(&self) -> Option<usize> {
        None
    }
}

pub(crate) struct Mlp {
    layers: Vec<Linear>,
    opt: Optimizer,
    x: Tensor,
    y: Tensor,
    rows: usize,
    batch: usize,
    step: usize,
    params: usize,
}

impl Mlp {
    pub(crate) fn new(cfg: &Config, dev: &Device) -> Result<Mlp> {
        let m = cfg.mlp.clone().expect("mlp config");
        let mut rng = Rng::new(cfg.seed);
        // Data: `classes` Gaussian clusters in `input` dimensions.
        let rows = (cfg.batch_size * 64).max(4096);
        let centers: Vec<Vec<f64>> = (0..m.classes)
            .map(|_| (0..m.input).map(|_| rng.normal() * 0.5).collect())
            .collect();
        let mut xs = Vec::with_capacity(rows * m.input);
        let mut ys = Vec::with_capacity(rows);
        for _ in 0..rows {
            let c = rng.below(m.classes);
            ys.push(c as u32);
            xs.extend(centers[c].iter().map(|mu| (mu + rng.normal()) as f32));
        }
        let x = Tensor::from_vec(xs, (rows, m.input), dev)?;
        let y = Tensor::from_vec(ys, rows, dev)?;
        let mut layers = Vec::new();
        let mut width = m.input;
        for _ in 0..m.depth {
            layers.push(Linear::new(&mut rng, width, m.hidden, dev)?);
            width = m.hidden;
        }
        layers.push(Linear::new(&mut rng, width, m.classes, dev)?);
        let vars: Vec<Var> = layers.iter().flat_map(Linear::vars).collect();
        let (opt, params) = adamw(vars, cfg.learning_rate)?;
        Ok(Mlp {
            layers,
            opt,
            x,
            y,
            rows,
            batch: cfg.batch_size,
            step: 0,
            params,
        })
    }
}

impl Trainer for Mlp {
    fn step(&mut self) -> Result<f32> {
        let batches = (self.rows / self.batch).max(1);
        let start = (self.step % batches) * self.batch;
        self.step += 1;
        let n = self.batch.min(self.rows - start);
        let mut h = self.x.narrow(0, start, n)?;
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if i < last {
                h = h.relu()?;
            }
        }
        let loss = candle_nn::loss::cross_entropy(&h, &self.y.narrow(0, start, n)?)?;
        self.opt.backward_step(&loss)?;
        loss.to_scalar::<f32>()
    }

    fn samples_per_step(&self) -> usize {
        self.batch
    }

    fn flops_per_step(&self) -> f64 {
        6.0 * self.batch as f64 * self.layers.iter().map(Linear::macs).sum::<f64>()
    }

    fn parameters(&self) -> usize {
        self.params
    }
}

struct Block {
    ln1: LayerNorm,
    qkv: Linear,
    proj: Linear,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

pub(crate) struct Transformer {
    cfg: TransformerConfig,
    tok: Var,
    pos: Var,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Linear,
    opt: Optimizer,
    corpus: Vec<u32>,
    batch: usize,
    step: usize,
    params: usize,
    dev: Device,
}

impl Transformer {
    pub(crate) fn new(cfg: &Config, dev: &Device) -> Result<Transformer> {
        let t = cfg.transformer.clone().expect("transformer config");
        assert!(
            t.d_model.is_multiple_of(t.heads),
            "d_model divisible by heads (checked by the CLI)"
        );
        let mut rng = Rng::new(cfg.seed);
        // Data: a Markov chain over the vocabulary; each token follows a fixed successor with
        // probability 0.8, else a uniform one, so there is structure to learn.
        let succ: Vec<u32> = (0..t.vocab).map(|_| rng.below(t.vocab) as u32).collect();
        let len = (cfg.batch_size * (t.seq_len + 1) * 32).max(1 << 16);
        let mut corpus = Vec::with_capacity(len);
        let mut cur = 0u32;
        for _ in 0..len {
            cur = if rng.uniform() < 0.8 {
                succ[cur as usize]
            } else {
                rng.below(t.vocab) as u32
            };
            corpus.push(cur);
        }
        let d = t.d_model;
        let tok = param(&mut rng, &[t.vocab, d], 0.02, dev)?;
        let pos = param(&mut rng, &[t.seq_len, d], 0.02, dev)?;
        let mut blocks = Vec::new();
        for _ in 0..t.layers {
            blocks.push(Block {
                ln1: LayerNorm::new(d, dev)?,
                qkv: Linear::new(&mut rng, d, 3 * d, dev)?,
                proj: Linear::new(&mut rng, d, d, dev)?,
                ln2: LayerNorm::new(d, dev)?,
                fc1: Linear::new(&mut rng, d, 4 * d, dev)?,
                fc2: Linear::new(&mut rng, 4 * d, d, dev)?,
            });
        }
        let ln_f = LayerNorm::new(d, dev)?;
        let head = Linear::new(&mut rng, d, t.vocab, dev)?;
        let mut vars = vec![tok.clone(), pos.clone()];
        for b in &blocks {
            vars.extend(b.ln1.vars());
            vars.extend(b.qkv.vars());
            vars.extend(b.proj.vars());
            vars.extend(b.ln2.vars());
            vars.extend(b.fc1.vars());
            vars.extend(b.fc2.vars());
        }
        vars.extend(ln_f.vars());
        vars.extend(head.vars());
        let (opt, params) = adamw(vars, cfg.learning_rate)?;
        Ok(Transformer {
            cfg: t,
            tok,
            pos,
            blocks,
            ln_f,
            head,
            opt,
            corpus,
            batch: cfg.batch_size,
            step: 0,
            params,
            dev: dev.clone(),
        })
    }

    fn attention(&self, b: &Block, x: &Tensor) -> Result<Tensor> {
        b.proj.forward(&super::ops::causal_attention(
            &b.qkv.forward(x)?,
            self.cfg.heads,
        )?)
    }
}

impl Trainer for Transformer {
    fn step(&mut self) -> Result<f32> {
        let t = self.cfg.seq_len;
        let span = self.corpus.len() - t - 1;
        let mut ids = Vec::with_capacity(self.batch * t);
        let mut targets = Vec::with_capacity(self.batch * t);
        for j in 0..self.batch {
            let off = ((self.step * self.batch + j) * 7919 * t) % span;
            ids.extend_from_slice(&self.corpus[off..off + t]);
            targets.extend_from_slice(&self.corpus[off + 1..off + t + 1]);
        }
        self.step += 1;
        let ids = Tensor::from_vec(ids, self.batch * t, &self.dev)?;
        let targets = Tensor::from_vec(targets, self.batch * t, &self.dev)?;
        let d = self.cfg.d_model;
        let mut x = self
            .tok
            .as_tensor()
            .embedding(&ids)?
            .reshape((self.batch, t, d))?
            .broadcast_add(self.pos.as_tensor())?;
        for b in &self.blocks {
            x = (&x + self.attention(b, &b.ln1.forward(&x)?)?)?;
            let h = b
                .fc2
                .forward(&super::ops::gelu(&b.fc1.forward(&b.ln2.forward(&x)?)?)?)?;
            x = (x + h)?;
        }
        let logits = self
            .head
            .forward(&self.ln_f.forward(&x)?)?
            .reshape((self.batch * t, self.cfg.vocab))?;
        let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
        self.opt.backward_step(&loss)?;
        loss.to_dtype(DType::F32)?.to_scalar::<f32>()
    }

    fn samples_per_step(&self) -> usize {
        self.batch
    }

    /// Per token, forward: each block 24·d² (QKV 6d², projection 2d², MLP 16d²) plus
    /// attention 4·T·d (scores and weighted sum), then the LM head 2·d·V; ×3 for training.
    fn flops_per_step(&self) -> f64 {
        let (d, t, v, l) = (
            self.cfg.d_model as f64,
            self.cfg.seq_len as f64,
            self.cfg.vocab as f64,
            self.cfg.layers as f64,
        );
        let per_token = l * (24.0 * d * d + 4.0 * t * d) + 2.0 * d * v;
        3.0 * per_token * t * self.batch as f64
    }

    fn parameters(&self) -> usize {
        self.params
    }

    fn tokens_per_step(&self) -> Option<usize> {
        Some(self.batch * self.cfg.seq_len)
    }
}

/// Builds the trainer a config asks for.
pub fn build(cfg: &Config, dev: &Device) -> Result<Box<dyn Trainer>> {
    Ok(match cfg.kind {
        Kind::Mlp => Box::new(Mlp::new(cfg, dev)?),
        Kind::Transformer => Box::new(Transformer::new(cfg, dev)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_mlp() -> Config {
        let mut c = Config::mlp(32);
        c.mlp = Some(MlpConfig {
            input: 32,
            hidden: 64,
            depth: 2,
            classes: 4,
        });
        c
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mean: f64 = (0..10_000).map(|_| a.normal()).sum::<f64>() / 10_000.0;
        assert!(mean.abs() < 0.05);
    }

    #[test]
    fn mlp_loss_decreases_over_50_steps_and_repeats() {
        let cfg = small_mlp();
        let run = || -> Vec<f32> {
            let mut m = build(&cfg, &Device::Cpu).unwrap();
            (0..50).map(|_| m.step().unwrap()).collect()
        };
        let a = run();
        let first: f32 = a[..5].iter().sum::<f32>() / 5.0;
        let last: f32 = a[45..].iter().sum::<f32>() / 5.0;
        assert!(last < first * 0.7, "loss {first} -> {last}");
        assert_eq!(a, run(), "same seed, same losses");
    }

    #[test]
    fn transformer_loss_decreases() {
        let mut cfg = Config::transformer(8);
        cfg.transformer = Some(TransformerConfig {
            vocab: 32,
            d_model: 32,
            layers: 1,
            heads: 2,
            seq_len: 16,
        });
        cfg.learning_rate = 3e-3;
        let mut m = build(&cfg, &Device::Cpu).unwrap();
        let losses: Vec<f32> = (0..50).map(|_| m.step().unwrap()).collect();
        let first: f32 = losses[..5].iter().sum::<f32>() / 5.0;
        let last: f32 = losses[45..].iter().sum::<f32>() / 5.0;
        assert!(first > 3.0, "starts near ln(32) = 3.47: {first}");
        assert!(last < first - 0.5, "loss {first} -> {last}");
        assert_eq!(m.tokens_per_step(), Some(8 * 16));
    }

    #[test]
    fn flops_are_counted_from_shapes() {
        let cfg = small_mlp();
        let m = build(&cfg, &Device::Cpu).unwrap();
        // 6 × batch × (32·64 + 64·64 + 64·4)
        assert_eq!(
            m.flops_per_step(),
            6.0 * 32.0 * (32.0 * 64.0 + 64.0 * 64.0 + 64.0 * 4.0)
        );
        assert_eq!(m.parameters(), 32 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4);
        let t = build(&Config::transformer(4), &Device::Cpu).unwrap();
        let (d, tl, v) = (128.0, 64.0, 256.0);
        let want = 3.0 * (2.0 * (24.0 * d * d + 4.0 * tl * d) + 2.0 * d * v) * tl * 4.0;
        assert_eq!(t.flops_per_step(), want);
    }
}
