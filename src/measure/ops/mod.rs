//! Fused CPU operations for the training workloads, each with its backward pass.
//!
//! candle composes a dense layer's bias, layer norm, the tanh GELU's gradient and attention
//! from many element-wise ops (the GELU's with scalar libm calls per element), each allocating
//! its output and each with a backward pass of its own. These do the same arithmetic in one
//! sweep forward and one backward, with vectorised math ([`super::vmath`]) and the matrix
//! multiplies candle itself uses ([`gemm`]), so the training loop measures the hardware rather
//! than per-op overhead. Numerics follow candle's (the same tanh approximation of GELU, the
//! max-subtracted softmax), in f32; each op is checked against candle's composed ops, values
//! and gradients, in its tests. On other devices or dtypes the callers get candle's own ops.

use super::vmath;
use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor, bail,
};

mod attention;
mod gemm;
mod linear;

pub use attention::causal_attention;
pub use linear::linear;

/// Splits a backward op's flat output into gradients shaped like the forward op's three
/// inputs, in order (the ops that compute all three in one sweep return them packed).
fn unpack3(
    packed: &Tensor,
    like: [&Tensor; 3],
) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let flat = packed.flatten_all()?;
    let mut at = 0;
    let mut part = |t: &Tensor| -> Result<Option<Tensor>> {
        let n = t.elem_count();
        let p = flat.narrow(0, at, n)?.reshape(t.shape())?;
        at += n;
        Ok(Some(p))
    };
    Ok((part(like[0])?, part(like[1])?, part(like[2])?))
}

/// The gradients of Σ y ⊙ probe: a random probe checks every element's gradient at once (for
/// the tests).
#[cfg(test)]
pub(super) fn probe_grads(y: Tensor, probe: &Tensor) -> candle_core::backprop::GradStore {
    (y * probe).unwrap().sum_all().unwrap().backward().unwrap()
}

/// The largest absolute difference between two tensors of one shape (for the tests).
#[cfg(test)]
pub(super) fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// sqrt(2/π) and the cubic coefficient of the tanh approximation of GELU.
const C: f32 = 0.797_884_6;
const A: f32 = 0.044_715;

/// The contiguous f32 values of a storage, or an error naming the op.
pub(super) fn contiguous_f32<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => bail!("{op}: needs a contiguous f32 tensor"),
    }
}

/// Whether the fused CPU code applies: an f32 tensor on the CPU.
pub(super) fn fused(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == candle_core::DType::F32
}

struct Gelu;
/// GELU's backward pass: the incoming gradient times GELU's derivative, in one sweep.
struct GeluGrad;

/// 0.5·x·(1 + tanh(C·(x + A·x³))).
#[inline(always)]
fn gelu_value(x: f32) -> f32 {
    0.5 * x * (1.0 + vmath::tanh(C * (x + A * x * x * x)))
}

/// d/dx of 0.5·x·(1 + tanh(u)), u = C·(x + A·x³).
#[inline(always)]
fn gelu_slope(x: f32) -> f32 {
    let t = vmath::tanh(C * (x + A * x * x * x));
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * C * (1.0 + 3.0 * A * x * x)
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "fused-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s, l, self.name())?;
        let mut y = vec![0f32; x.len()];
        vmath::map(x, &mut y, gelu_value);
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.contiguous()?.apply_op2_no_bwd(arg, &GeluGrad)?))
    }
}

impl CustomOp2 for GeluGrad {
    fn name(&self) -> &'static str {
        "fused-gelu-grad"
    }

    fn cpu_fwd(
        &self,
        gs: &CpuStorage,
        gl: &Layout,
        xs: &CpuStorage,
        xl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = contiguous_f32(gs, gl, self.name())?;
        let x = contiguous_f32(xs, xl, self.name())?;
        if g.len() != x.len() {
            bail!("fused-gelu-grad: gradient and input differ in size");
        }
        let mut d = vec![0f32; x.len()];
        vmath::zip_map(g, x, &mut d, |g, x| g * gelu_slope(x));
        Ok((CpuStorage::F32(d), xl.shape().clone()))
    }
}

/// GELU (tanh approximation), fused on the CPU.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if fused(x) {
        x.contiguous()?.apply_op1(Gelu)
    } else {
        x.gelu()
    }
}

/// Layer norm over the last dimension: (x − mean) / sqrt(var + eps) · gamma + beta.
struct LayerNorm {
    eps: f32,
}

/// Its backward pass in one sweep over (x, gamma, dy): dx, then dgamma and dbeta, packed flat.
struct LayerNormGrad {
    eps: f32,
}

/// A row's mean and 1/sqrt(var + eps).
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = vmath::sum_zip(row, row, |v, _| v) / n;
    let var = vmath::sum_zip(row, row, |v, _| (v - mean) * (v - mean)) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "fused-layer-norm"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
        bs: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(xs, xl, self.name())?;
        let (g, b) = (
            contiguous_f32(gs, gl, self.name())?,
            contiguous_f32(bs, bl, self.name())?,
        );
        let d = g.len();
        if d == 0 || b.len() != d || xl.dims().last() != Some(&d) {
            bail!("fused-layer-norm: gamma and beta must match the last dimension");
        }
        let mut y = vec![0f32; x.len()];
        vmath::simd(|| {
            for (row, out) in x.chunks_exact(d).zip(y.chunks_exact_mut(d)) {
                let (mean, rstd) = moments(row, self.eps);
                for (((o, &v), &g), &b) in out.iter_mut().zip(row).zip(g).zip(b) {
                    *o = (v - mean) * rstd * g + b;
                }
            }
        });
        Ok((CpuStorage::F32(y), xl.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let packed =
            x.apply_op3_no_bwd(gamma, &grad.contiguous()?, &LayerNormGrad { eps: self.eps })?;
        unpack3(&packed, [x, gamma, beta])
    }
}

impl CustomOp3 for LayerNormGrad {
    fn name(&self) -> &'static str {
        "fused-layer-norm-grad"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
        dys: &CpuStorage,
        dyl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(xs, xl, self.name())?;
        let g = contiguous_f32(gs, gl, self.name())?;
        let dy = contiguous_f32(dys, dyl, self.name())?;
        let d = g.len();
        if d == 0 || x.len() != dy.len() || x.len() % d != 0 {
            bail!("fused-layer-norm-grad: shapes do not match");
        }
        let rows = x.len() / d;
        let mut out = vec![0f32; (rows + 2) * d];
        let (dx_all, sums) = out.split_at_mut(rows * d);
        let (dgamma, dbeta) = sums.split_at_mut(d);
        let mut xhat = vec![0f32; d];
        let mut dxhat = vec![0f32; d];
        vmath::simd(|| {
            for ((row, dyr), dx) in x
                .chunks_exact(d)
                .zip(dy.chunks_exact(d))
                .zip(dx_all.chunks_exact_mut(d))
            {
                let (mean, rstd) = moments(row, self.eps);
                for (h, &v) in xhat.iter_mut().zip(row) {
                    *h = (v - mean) * rstd;
                }
                for ((a, &dy), &g) in dxhat.iter_mut().zip(dyr).zip(g) {
                    *a = dy * g;
                }
                let m1 = vmath::sum_zip(&dxhat, &dxhat, |a, _| a) / d as f32;
                let m2 = vmath::sum_zip(&dxhat, &xhat, |a, h| a * h) / d as f32;
                for (((o, &a), &h), (dg, (db, &dy))) in dx
                    .iter_mut()
                    .zip(&dxhat)
                    .zip(&xhat)
                    .zip(dgamma.iter_mut().zip(dbeta.iter_mut().zip(dyr)))
                {
                    *o = rstd * (a - m1 - h * m2);
                    *dg += dy * h;
                    *db += dy;
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((rows + 2) * d)))
    }
}

/// Layer norm over the last dimension, fused on the CPU (forward and backward).
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    if fused(x) && fused(gamma) && fused(beta) {
        x.contiguous()?
            .apply_op3(&gamma.contiguous()?, &beta.contiguous()?, LayerNorm { eps })
    } else {
        candle_nn::ops::layer_norm_slow(x, gamma, beta, eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Forward and gradient agree with candle's composed ops.
    fn agrees(fused: fn(&Tensor) -> Result<Tensor>, plain: fn(&Tensor) -> Result<Tensor>) {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&(Tensor::randn(0f32, 2.0, (3, 5, 17), &dev).unwrap())).unwrap();
        let w = Tensor::randn(0f32, 1.0, (3, 5, 17), &dev).unwrap();
        let (a, b) = (fused(&x).unwrap(), plain(&x).unwrap());
        assert!(max_diff(&a, &b) < 1e-5, "forward: {}", max_diff(&a, &b));
        let ga = probe_grads(a, &w);
        let gb = probe_grads(b, &w);
        let (ga, gb) = (ga.get(&x).unwrap(), gb.get(&x).unwrap());
        assert!(max_diff(ga, gb) < 1e-4, "gradient: {}", max_diff(ga, gb));
    }

    #[test]
    fn fused_gelu_matches_candle() {
        agrees(gelu, |x| x.gelu());
    }

    #[test]
    fn fused_layer_norm_matches_candle_including_gamma_and_beta_gradients() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (4, 6, 16), &dev).unwrap()).unwrap();
        let g = Var::from_tensor(&Tensor::randn(1f32, 0.3, 16, &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, 16, &dev).unwrap()).unwrap();
        let w = Tensor::randn(0f32, 1.0, (4, 6, 16), &dev).unwrap();
        let fused = layer_norm(&x, &g, &b, 1e-5).unwrap();
        let plain = candle_nn::ops::layer_norm_slow(&x, &g, &b, 1e-5).unwrap();
        assert!(max_diff(&fused, &plain) < 1e-5);
        let ga = probe_grads(fused, &w);
        let gb = probe_grads(plain, &w);
        for v in [&x, &g, &b] {
            let d = max_diff(ga.get(v).unwrap(), gb.get(v).unwrap());
            assert!(d < 1e-4, "gradient differs by {d}");
        }
    }
}
