//! Layer norm over the last dimension as one CPU op with its backward pass (candle's fused
//! `layer_norm` has none; its composed one is about twenty element-wise ops each way).

use super::{contiguous_f32, fused, unpack3, vmath};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, bail};
use rayon::prelude::*;

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
        let per_task = d * vmath::rows_per_task(d);
        y.par_chunks_mut(per_task)
            .zip(x.par_chunks(per_task))
            .for_each(|(y, x)| {
                vmath::simd(|| {
                    for (row, out) in x.chunks_exact(d).zip(y.chunks_exact_mut(d)) {
                        let (mean, rstd) = moments(row, self.eps);
                        for (((o, &v), &g), &b) in out.iter_mut().zip(row).zip(g).zip(b) {
                            *o = (v - mean) * rstd * g + b;
                        }
                    }
                })
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
        // Rows in tasks over the pool; each task sums its own dgamma and dbeta, added up
        // after in task order (the same order whatever the number of threads).
        let per_task = d * vmath::rows_per_task(d);
        let partial: Vec<(Vec<f32>, Vec<f32>)> = dx_all
            .par_chunks_mut(per_task)
            .zip(x.par_chunks(per_task).zip(dy.par_chunks(per_task)))
            .map(|(dx, (x, dy))| rows_backward(x, dy, g, dx, self.eps))
            .collect();
        for (pg, pb) in partial {
            dgamma.iter_mut().zip(pg).for_each(|(s, v)| *s += v);
            dbeta.iter_mut().zip(pb).for_each(|(s, v)| *s += v);
        }
        Ok((CpuStorage::F32(out), Shape::from((rows + 2) * d)))
    }
}

/// The backward pass over whole rows of x and dy: fills dx, returns these rows' dgamma and
/// dbeta.
fn rows_backward(
    x: &[f32],
    dy: &[f32],
    g: &[f32],
    dx: &mut [f32],
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let d = g.len();
    let (mut dgamma, mut dbeta) = (vec![0f32; d], vec![0f32; d]);
    let mut xhat = vec![0f32; d];
    let mut dxhat = vec![0f32; d];
    vmath::simd(|| {
        for ((row, dyr), dx) in x
            .chunks_exact(d)
            .zip(dy.chunks_exact(d))
            .zip(dx.chunks_exact_mut(d))
        {
            let (mean, rstd) = moments(row, eps);
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
    (dgamma, dbeta)
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
    use super::super::{max_diff, probe_grads};
    use super::*;
    use candle_core::{Device, Var};

    /// Small, and large enough that the rows are split over tasks (and dgamma, dbeta summed
    /// from the tasks' parts).
    #[test]
    fn fused_layer_norm_matches_candle_including_gamma_and_beta_gradients() {
        let dev = Device::Cpu;
        for (rows, d) in [(24, 16), (750, 128)] {
            assert_eq!(rows > vmath::rows_per_task(d), d == 128);
            let x = Var::from_tensor(&Tensor::randn(0f32, 2.0, (rows, d), &dev).unwrap()).unwrap();
            let g = Var::from_tensor(&Tensor::randn(1f32, 0.3, d, &dev).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::randn(0f32, 0.3, d, &dev).unwrap()).unwrap();
            let w = Tensor::randn(0f32, 1.0, (rows, d), &dev).unwrap();
            let fused = layer_norm(&x, &g, &b, 1e-5).unwrap();
            let plain = candle_nn::ops::layer_norm_slow(&x, &g, &b, 1e-5).unwrap();
            assert!(max_diff(&fused, &plain) < 1e-5);
            let ga = probe_grads(fused, &w);
            let gb = probe_grads(plain, &w);
            for v in [&x, &g, &b] {
                // dgamma and dbeta are sums over the rows: a tolerance relative to their size.
                let want = gb.get(v).unwrap();
                let scale = want
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                let diff = max_diff(ga.get(v).unwrap(), want);
                assert!(
                    diff < 1e-4 * scale.max(1.0),
                    "gradient differs by {diff} (of {scale})"
                );
            }
        }
    }
}
