//! Causal multi-head self-attention as one CPU op with its backward pass.
//!
//! Composed from candle's ops, attention splits Q, K and V out of the fused projection with
//! three transposed copies, copies Kᵀ again, scales, adds the mask, takes the softmax,
//! multiplies, and copies the heads back together: a dozen full-size temporaries a layer, each
//! with a backward pass of its own. Here each head's Q, K and V are read in place from the
//! projection's output (rows of 3·d, heads side by side), the softmax is computed once per row
//! over the positions the mask allows, and each head's output is written straight into its
//! columns of the result. The probabilities are kept by the op for the backward pass, as the
//! composed graph keeps its softmax output. The arithmetic is the same as the composed model's,
//! masked positions included (they get probability 0), so the FLOP count does not change.

use super::gemm::{Mat, matmul, matmul_into};
use super::{contiguous_f32, vmath};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, bail};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// The op for one forward call; it keeps that call's softmax probabilities for the backward.
pub(super) struct CausalAttention {
    heads: usize,
    probs: Mutex<Option<Arc<Vec<f32>>>>,
}

/// The backward pass: d(qkv) from d(y), with the forward call's probabilities.
struct CausalAttentionGrad {
    heads: usize,
    probs: Arc<Vec<f32>>,
}

/// Sizes read from the projection's layout: (batch, positions, width, head width).
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    t: usize,
    d: usize,
    dh: usize,
}

impl Dims {
    fn of(qkv: &Layout, heads: usize, op: &str) -> Result<Dims> {
        let (batch, t, d3) = match qkv.dims() {
            [b, t, d3] => (*b, *t, *d3),
            _ => bail!("{op}: expects (batch, positions, 3·width)"),
        };
        let d = d3 / 3;
        if d3 % 3 != 0 || heads == 0 || d % heads != 0 || d == 0 {
            bail!("{op}: 3·width {d3} does not split into {heads} heads");
        }
        Ok(Dims {
            batch,
            t,
            d,
            dh: d / heads,
        })
    }

    /// Q, K and V of head `h` in one sequence's (t × 3d) block of the projection.
    fn qkv<'a>(&self, block: &'a [f32], h: usize) -> [Mat<'a>; 3] {
        let at = |part: usize| {
            Mat::strided(
                &block[part * self.d + h * self.dh..],
                self.t,
                self.dh,
                3 * self.d,
                1,
            )
        };
        [at(0), at(1), at(2)]
    }

    fn scale(&self) -> f32 {
        1.0 / (self.dh as f32).sqrt()
    }
}

/// Scores (t × t, from Q·Kᵀ) to causal softmax probabilities in place: row i over columns
/// 0..=i of the scaled scores; later columns get 0.
fn causal_softmax(p: &mut [f32], t: usize, scale: f32) {
    vmath::simd(|| {
        for (i, row) in p.chunks_exact_mut(t).enumerate() {
            let (seen, future) = row.split_at_mut(i + 1);
            let max = seen.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) * scale;
            for v in seen.iter_mut() {
                *v = vmath::exp(*v * scale - max);
            }
            let inv = 1.0 / vmath::sum_zip(seen, seen, |v, _| v);
            seen.iter_mut().for_each(|v| *v *= inv);
            future.fill(0.0);
        }
    })
}

impl CustomOp1 for CausalAttention {
    fn name(&self) -> &'static str {
        "fused-causal-attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let qkv = contiguous_f32(s, l, self.name())?;
        let z = Dims::of(l, self.heads, self.name())?;
        let (t, d, h) = (z.t, z.d, self.heads);
        let mut y = vec![0f32; z.batch * t * d];
        let mut probs = vec![0f32; z.batch * h * t * t];
        if t > 0 {
            y.par_chunks_mut(t * d)
                .zip(probs.par_chunks_mut(h * t * t))
                .zip(qkv.par_chunks(t * 3 * d))
                .for_each(|((yb, pb), xb)| {
                    for (head, p) in pb.chunks_exact_mut(t * t).enumerate() {
                        let [q, k, v] = z.qkv(xb, head);
                        matmul(p, false, q, k.t(), false);
                        causal_softmax(p, t, z.scale());
                        let out = &mut yb[head * z.dh..];
                        matmul_into(out, d, false, Mat::new(p, t, t), v, false);
                    }
                });
        }
        *self.probs.lock().expect("attention probabilities") = Some(Arc::new(probs));
        Ok((CpuStorage::F32(y), Shape::from((z.batch, t, d))))
    }

    fn bwd(&self, qkv: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let probs = self.probs.lock().expect("attention probabilities").clone();
        let Some(probs) = probs else {
            bail!("{}: backward pass before the forward pass", self.name());
        };
        let op = CausalAttentionGrad {
            heads: self.heads,
            probs,
        };
        Ok(Some(grad.contiguous()?.apply_op2_no_bwd(qkv, &op)?))
    }
}

impl CustomOp2 for CausalAttentionGrad {
    fn name(&self) -> &'static str {
        "fused-causal-attention-grad"
    }

    /// Per head, with P the probabilities and dY the head's output gradient:
    /// dV = Pᵀ·dY, dP = dY·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale, dQ = dS·K, dK = dSᵀ·Q.
    fn cpu_fwd(
        &self,
        gs: &CpuStorage,
        gl: &Layout,
        xs: &CpuStorage,
        xl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let gy = contiguous_f32(gs, gl, self.name())?;
        let qkv = contiguous_f32(xs, xl, self.name())?;
        let z = Dims::of(xl, self.heads, self.name())?;
        let (t, d, dh, h) = (z.t, z.d, z.dh, self.heads);
        if gy.len() != z.batch * t * d || self.probs.len() != z.batch * h * t * t {
            bail!("{}: shapes do not match the forward pass", self.name());
        }
        let mut dqkv = vec![0f32; qkv.len()];
        if t > 0 {
            dqkv.par_chunks_mut(t * 3 * d)
                .zip(qkv.par_chunks(t * 3 * d))
                .zip(gy.par_chunks(t * d).zip(self.probs.par_chunks(h * t * t)))
                .for_each(|((db, xb), (gb, pb))| {
                    let mut ds = vec![0f32; t * t];
                    for (head, p) in pb.chunks_exact(t * t).enumerate() {
                        let [q, k, v] = z.qkv(xb, head);
                        let p = Mat::new(p, t, t);
                        let dy = Mat::strided(&gb[head * dh..], t, dh, d, 1);
                        let at = |part: usize| part * d + head * dh;
                        matmul_into(&mut db[at(2)..], 3 * d, false, p.t(), dy, false);
                        matmul(&mut ds, false, dy, v.t(), false);
                        softmax_backward(&mut ds, p.data, t, z.scale());
                        let dsm = Mat::new(&ds, t, t);
                        matmul_into(&mut db[at(0)..], 3 * d, false, dsm, k, false);
                        matmul_into(&mut db[at(1)..], 3 * d, false, dsm.t(), q, false);
                    }
                });
        }
        Ok((CpuStorage::F32(dqkv), xl.shape().clone()))
    }
}

/// dP (in `ds`) to the gradient of the scaled scores, in place: P ⊙ (dP − Σ_j dP ⊙ P) · scale.
fn softmax_backward(ds: &mut [f32], p: &[f32], t: usize, scale: f32) {
    vmath::simd(|| {
        for (row, pr) in ds.chunks_exact_mut(t).zip(p.chunks_exact(t)) {
            let dot = vmath::sum_zip(row, pr, |a, b| a * b);
            for (g, &pv) in row.iter_mut().zip(pr) {
                *g = pv * (*g - dot) * scale;
            }
        }
    })
}

/// Causal self-attention of `heads` heads over a fused Q‖K‖V projection (batch, t, 3·d): the
/// result is (batch, t, d), heads side by side. One fused op on the CPU in f32; elsewhere
/// candle's ops (split, Q·Kᵀ/√dh, additive mask, softmax, ·V, heads joined).
pub fn causal_attention(qkv: &Tensor, heads: usize) -> Result<Tensor> {
    if super::fused(qkv) {
        return qkv.contiguous()?.apply_op1(CausalAttention {
            heads,
            probs: Mutex::new(None),
        });
    }
    causal_attention_composed(qkv, heads)
}

/// The same attention from candle's own ops, on any device: what other devices get, and the
/// fused op's peer in `benches/ops.rs`.
pub fn causal_attention_composed(qkv: &Tensor, heads: usize) -> Result<Tensor> {
    let (bs, t, d3) = qkv.dims3()?;
    let (d, dh) = (d3 / 3, d3 / 3 / heads.max(1));
    let qkv = qkv.reshape((bs, t, 3, heads, dh))?;
    let split = |i: usize| {
        qkv.narrow(2, i, 1)?
            .squeeze(2)?
            .transpose(1, 2)?
            .contiguous()
    };
    let (q, k, v) = (split(0)?, split(1)?, split(2)?);
    // -1e9 where the key comes after the query, built on the device (no t×t upload per call).
    let pos = Tensor::arange(0u32, t as u32, qkv.device())?;
    let future = pos.unsqueeze(0)?.broadcast_gt(&pos.unsqueeze(1)?)?;
    let mask = (future.to_dtype(qkv.dtype())? * -1e9)?;
    let att = (q.matmul(&k.t()?.contiguous()?)? / (dh as f64).sqrt())?.broadcast_add(&mask)?;
    let att = candle_nn::ops::softmax(&att, candle_core::D::Minus1)?;
    att.matmul(&v)?.transpose(1, 2)?.reshape((bs, t, d))
}

#[cfg(test)]
mod tests {
    use super::super::{max_diff, probe_grads};
    use super::*;
    use candle_core::{Device, Var};

    /// The composed path, forced (the public function takes it only off the CPU).
    fn composed(qkv: &Tensor, heads: usize) -> Tensor {
        let as_f64 = qkv.to_dtype(candle_core::DType::F64).unwrap();
        causal_attention(&as_f64, heads)
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap()
    }

    #[test]
    fn fused_attention_matches_the_composed_ops_and_their_gradient() {
        let dev = Device::Cpu;
        for (bs, t, d, heads) in [(2, 5, 8, 2), (3, 7, 12, 3), (1, 1, 4, 1)] {
            let qkv =
                Var::from_tensor(&Tensor::randn(0f32, 1.0, (bs, t, 3 * d), &dev).unwrap()).unwrap();
            let probe = Tensor::randn(0f32, 1.0, (bs, t, d), &dev).unwrap();
            let fused = causal_attention(&qkv, heads).unwrap();
            let plain = composed(&qkv, heads);
            assert_eq!(fused.dims(), &[bs, t, d]);
            assert!(
                max_diff(&fused, &plain) < 1e-5,
                "forward {}",
                max_diff(&fused, &plain)
            );
            let ga = probe_grads(fused, &probe);
            let gb = probe_grads(plain, &probe);
            let (a, b) = (ga.get(&qkv).unwrap(), gb.get(&qkv).unwrap());
            assert!(max_diff(a, b) < 1e-4, "gradient {}", max_diff(a, b));
        }
    }

    #[test]
    fn a_position_attends_only_to_itself_and_earlier_ones() {
        // Changing the last position's K and V leaves every earlier output as it was.
        let dev = Device::Cpu;
        let (t, d) = (6, 4);
        let a = Tensor::randn(0f32, 1.0, (1, t, 3 * d), &dev).unwrap();
        let noise = Tensor::randn(0f32, 5.0, (1, 1, 3 * d), &dev).unwrap();
        let b = Tensor::cat(&[a.narrow(1, 0, t - 1).unwrap(), noise], 1).unwrap();
        let (ya, yb) = (
            causal_attention(&a, 2).unwrap(),
            causal_attention(&b, 2).unwrap(),
        );
        let early = |y: &Tensor| y.narrow(1, 0, t - 1).unwrap();
        assert_eq!(max_diff(&early(&ya), &early(&yb)), 0.0);
        assert!(max_diff(&ya, &yb) > 0.0);
    }

    #[test]
    fn widths_that_do_not_split_into_heads_are_an_error() {
        let x = Tensor::zeros((1, 2, 12), candle_core::DType::F32, &Device::Cpu).unwrap();
        assert!(causal_attention(&x, 3).is_err());
        let x = Tensor::zeros((1, 2, 10), candle_core::DType::F32, &Device::Cpu).unwrap();
        assert!(causal_attention(&x, 1).is_err());
    }
}
