//! AdamW for the training loop, updating parameters and moments in place on the CPU.
//!
//! candle's `AdamW` computes each step with eleven tensor ops per parameter, each allocating a
//! fresh buffer the size of the parameter, then copies three of them back: on the reference
//! machine fresh buffers (page faults, zeroing) were a fifth of the training loop's time. This
//! one does the same arithmetic in one vectorised pass over the parameter, its gradient and its
//! moments, with no allocation. The update is candle's (and PyTorch's) AdamW:
//!
//! m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//! θ ← θ·(1 − lr·λ) − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε).
//!
//! Other devices (CUDA) and dtypes keep candle's optimizer: see [`Optimizer`].

use candle_core::{CpuStorage, Layout, Result, Tensor, Var, backprop::GradStore, bail};
use candle_nn::{AdamW, ParamsAdamW};

use super::ops::{contiguous_f32, fused};
use super::vmath;
use rayon::prelude::*;
use std::sync::Mutex;

/// The optimizer a workload trains with: the in-place one on the CPU, candle's elsewhere.
pub(crate) enum Optimizer {
    InPlace(InPlaceAdamW),
    Candle(AdamW),
}

impl Optimizer {
    pub(crate) fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Optimizer> {
        Ok(if vars.iter().all(|v| fused(v)) {
            Optimizer::InPlace(InPlaceAdamW::new(vars, params)?)
        } else {
            use candle_nn::Optimizer as _;
            Optimizer::Candle(AdamW::new(vars, params)?)
        })
    }

    pub(crate) fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        match self {
            Optimizer::InPlace(o) => o.step(&grads),
            Optimizer::Candle(o) => candle_nn::Optimizer::step(o, &grads),
        }
    }
}

/// A parameter and its two moments. The moments are plain memory: only the update reads them.
struct Moments {
    theta: Var,
    mv: Mutex<(Vec<f32>, Vec<f32>)>,
}

pub(crate) struct InPlaceAdamW {
    vars: Vec<Moments>,
    params: ParamsAdamW,
    t: i32,
}

/// The mutable twin of [`contiguous_f32`].
fn slice_mut<'a>(s: &'a mut CpuStorage, l: &Layout, op: &str) -> Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => bail!("{op}: needs a contiguous f32 tensor"),
    }
}

/// The step's coefficients, the same for every parameter.
#[derive(Clone, Copy)]
struct Coefficients {
    beta1: f32,
    beta2: f32,
    decay: f32,
    lr: f32,
    scale_m: f32,
    scale_v: f32,
    eps: f32,
}

/// One parameter's update, in place on θ with its gradient, in one sweep:
/// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ·decay − lr · (m·sm) / (sqrt(v·sv) + ε).
struct Update<'a> {
    mv: &'a Mutex<(Vec<f32>, Vec<f32>)>,
    c: Coefficients,
}

impl candle_core::InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "adamw-update"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        g: &CpuStorage,
        gl: &Layout,
    ) -> Result<()> {
        let theta = slice_mut(dst, dst_l, self.name())?;
        let g = contiguous_f32(g, gl, self.name())?;
        let mut mv = self.mv.lock().expect("AdamW moments");
        let (m, v) = &mut *mv;
        if theta.len() != g.len() || theta.len() != m.len() || theta.len() != v.len() {
            bail!("adamw-update: parameter, gradient and moments differ in size");
        }
        let c = self.c;
        let (c1, c2) = (1.0 - c.beta1, 1.0 - c.beta2);
        let sweep = |theta: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            vmath::simd(|| {
                for (((t, &g), m), v) in theta.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                {
                    *m = c.beta1 * *m + c1 * g;
                    *v = c.beta2 * *v + c2 * g * g;
                    let adjusted = (*m * c.scale_m) / ((*v * c.scale_v).sqrt() + c.eps);
                    *t = *t * c.decay - c.lr * adjusted;
                }
            })
        };
        // Large parameters in pieces over the pool (element-wise: no order to keep).
        if theta.len() <= vmath::TASK {
            sweep(theta, g, m, v);
        } else {
            let n = vmath::TASK;
            theta
                .par_chunks_mut(n)
                .zip(g.par_chunks(n))
                .zip(m.par_chunks_mut(n).zip(v.par_chunks_mut(n)))
                .for_each(|((t, g), (m, v))| sweep(t, g, m, v));
        }
        Ok(())
    }
}

impl InPlaceAdamW {
    pub(crate) fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<InPlaceAdamW> {
        let vars = vars
            .into_iter()
            .map(|theta| {
                let n = theta.elem_count();
                let mv = Mutex::new((vec![0f32; n], vec![0f32; n]));
                Moments { theta, mv }
            })
            .collect();
        Ok(InPlaceAdamW { vars, params, t: 0 })
    }

    pub(crate) fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.t += 1;
        let p = &self.params;
        let c = Coefficients {
            beta1: p.beta1 as f32,
            beta2: p.beta2 as f32,
            decay: (1.0 - p.lr * p.weight_decay) as f32,
            lr: p.lr as f32,
            scale_m: (1.0 / (1.0 - p.beta1.powi(self.t))) as f32,
            scale_v: (1.0 / (1.0 - p.beta2.powi(self.t))) as f32,
            eps: p.eps as f32,
        };
        for x in &self.vars {
            let Some(g) = grads.get(&x.theta) else {
                continue;
            };
            let update = Update { mv: &x.mv, c };
            x.theta.as_tensor().inplace_op2(&g.contiguous()?, &update)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::ops::max_diff;
    use super::*;
    use candle_core::{Device, Tensor};

    /// The same parameters and gradients through candle's AdamW and this one agree to float
    /// precision after several steps, weight decay included.
    #[test]
    fn matches_candles_adamw() {
        // The second shape is large enough to be updated in pieces over the pool.
        for shape in [(64, 33), (256, 200)] {
            agrees_with_candle(shape);
        }
    }

    fn agrees_with_candle(shape: (usize, usize)) {
        let dev = Device::Cpu;
        let init = Tensor::randn(0f32, 1.0, shape, &dev).unwrap();
        let params = ParamsAdamW {
            lr: 1e-2,
            weight_decay: 0.1,
            ..ParamsAdamW::default()
        };
        let (a, b) = (
            Var::from_tensor(&init.copy().unwrap()).unwrap(),
            Var::from_tensor(&init.copy().unwrap()).unwrap(),
        );
        let mut theirs =
            <AdamW as candle_nn::Optimizer>::new(vec![a.clone()], params.clone()).unwrap();
        let mut ours = InPlaceAdamW::new(vec![b.clone()], params).unwrap();
        for step in 0..5 {
            let target = Tensor::randn(0f32, 1.0, shape, &dev).unwrap();
            let loss = |v: &Var| {
                (v.as_tensor() - &target)
                    .unwrap()
                    .sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .affine(1.0 + step as f64, 0.0)
                    .unwrap()
            };
            candle_nn::Optimizer::step(&mut theirs, &loss(&a).backward().unwrap()).unwrap();
            ours.step(&loss(&b).backward().unwrap()).unwrap();
        }
        let diff = max_diff(a.as_tensor(), b.as_tensor());
        assert!(diff < 1e-5, "max difference {diff}");
        let moved = max_diff(a.as_tensor(), &init);
        assert!(moved > 1e-3, "the parameters did move ({moved})");
    }
}
