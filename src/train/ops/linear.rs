//! A dense layer, y = x·Wᵀ + b, as one CPU op with its backward pass.
//!
//! Composed from candle's ops, the bias is a broadcast add (a second sweep over the output and a
//! fresh buffer) and its gradient a sum over the rows through candle's strided reduction, which
//! was a tenth of a transformer step. Here the bias is written into the output before the
//! multiply accumulates onto it, and the backward pass is two multiplies that read the
//! transposes in place plus one vectorised sum of the rows.

use super::gemm::{Mat, matmul};
use super::{contiguous_f32, fused, unpack3, vmath};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor, bail};
use rayon::prelude::*;

struct Linear;

/// The backward pass of [`Linear`]: dx, dW and db packed in one flat tensor.
struct LinearGrad;

/// (rows, inputs, outputs) from the shapes of x (rows × in), W (out × in) and b (out).
fn sizes(xl: &Layout, wl: &Layout, b_len: usize, op: &str) -> Result<(usize, usize, usize)> {
    let (out, inp) = match wl.dims() {
        [o, i] => (*o, *i),
        _ => bail!("{op}: the weight must be a matrix"),
    };
    if xl.dims().last() != Some(&inp) || b_len != out || inp == 0 {
        bail!("{op}: shapes do not match");
    }
    Ok((xl.shape().elem_count() / inp, inp, out))
}

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "fused-linear"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        bs: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(xs, xl, self.name())?;
        let w = contiguous_f32(ws, wl, self.name())?;
        let b = contiguous_f32(bs, bl, self.name())?;
        let (rows, inp, out) = sizes(xl, wl, b.len(), self.name())?;
        let mut y = Vec::with_capacity(rows * out);
        for _ in 0..rows {
            y.extend_from_slice(b);
        }
        matmul(
            &mut y,
            true,
            Mat::new(x, rows, inp),
            Mat::new(w, out, inp).t(),
            true,
        );
        let mut dims = xl.dims().to_vec();
        *dims.last_mut().expect("rank ≥ 1") = out;
        Ok((CpuStorage::F32(y), Shape::from(dims)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let packed = x.apply_op3_no_bwd(w, &grad.contiguous()?, &LinearGrad)?;
        unpack3(&packed, [x, w, b])
    }
}

impl CustomOp3 for LinearGrad {
    fn name(&self) -> &'static str {
        "fused-linear-grad"
    }

    /// dx = g·W, dW = gᵀ·x, db = Σ_rows g, for g the gradient of y (rows × out).
    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(xs, xl, self.name())?;
        let w = contiguous_f32(ws, wl, self.name())?;
        let g = contiguous_f32(gs, gl, self.name())?;
        let out = wl.dims().first().copied().unwrap_or(0);
        let (rows, inp, out) = sizes(xl, wl, out, self.name())?;
        if g.len() != rows * out {
            bail!("{}: the gradient does not match the output", self.name());
        }
        let mut packed = vec![0f32; rows * inp + out * inp + out];
        let (dx, rest) = packed.split_at_mut(rows * inp);
        let (dw, db) = rest.split_at_mut(out * inp);
        let gm = Mat::new(g, rows, out);
        matmul(dx, false, gm, Mat::new(w, out, inp), true);
        matmul(dw, false, gm.t(), Mat::new(x, rows, inp), true);
        // The bias gradient, Σ over rows: rows in tasks over the pool, each task's sums added
        // up after in task order.
        let per_task = out * vmath::rows_per_task(out);
        let partial: Vec<Vec<f32>> = g
            .par_chunks(per_task)
            .map(|rows| {
                let mut sums = vec![0f32; out];
                vmath::simd(|| {
                    for row in rows.chunks_exact(out) {
                        sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                    }
                });
                sums
            })
            .collect();
        for sums in partial {
            db.iter_mut().zip(sums).for_each(|(s, v)| *s += v);
        }
        Ok((
            CpuStorage::F32(packed),
            Shape::from(rows * inp + out * inp + out),
        ))
    }
}

/// x·Wᵀ + b over the last dimension of `x` (any rank), fused on the CPU.
pub fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    if fused(x) && fused(w) && fused(b) {
        x.contiguous()?
            .apply_op3(&w.contiguous()?, &b.contiguous()?, Linear)
    } else {
        let dims = x.dims().to_vec();
        let (rows, inp) = match dims.split_last() {
            Some((i, lead)) => (lead.iter().product::<usize>(), *i),
            None => bail!("linear: x must have at least one dimension"),
        };
        let mut out = dims;
        *out.last_mut().expect("rank ≥ 1") = w.dims()[0];
        x.reshape((rows, inp))?
            .matmul(&w.t()?)?
            .broadcast_add(b)?
            .reshape(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{max_diff, probe_grads};
    use super::*;
    use candle_core::{Device, Var};

    /// Small, and large enough that the bias gradient's rows are split over tasks.
    #[test]
    fn fused_linear_matches_matmul_plus_bias_with_all_three_gradients() {
        let dev = Device::Cpu;
        for (lead, inp, out) in [((3, 5), 7, 4), ((2, 150), 64, 200)] {
            let x =
                Var::from_tensor(&Tensor::randn(0f32, 1.0, (lead.0, lead.1, inp), &dev).unwrap())
                    .unwrap();
            let w = Var::from_tensor(&Tensor::randn(0f32, 0.5, (out, inp), &dev).unwrap()).unwrap();
            let b = Var::from_tensor(&Tensor::randn(0f32, 0.5, out, &dev).unwrap()).unwrap();
            let probe = Tensor::randn(0f32, 1.0, (lead.0, lead.1, out), &dev).unwrap();
            let fused = linear(&x, &w, &b).unwrap();
            let plain = x
                .broadcast_matmul(&w.t().unwrap())
                .unwrap()
                .broadcast_add(&b)
                .unwrap();
            assert_eq!(fused.dims(), &[lead.0, lead.1, out]);
            assert!(max_diff(&fused, &plain) < 1e-4);
            let ga = probe_grads(fused, &probe);
            let gb = probe_grads(plain, &probe);
            for v in [&x, &w, &b] {
                let (a, b) = (ga.get(v).unwrap(), gb.get(v).unwrap());
                assert_eq!(a.dims(), b.dims());
                let scale = b
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap();
                let diff = max_diff(a, b);
                assert!(
                    diff < 1e-4 * scale.max(1.0),
                    "gradient differs by {diff} (of {scale})"
                );
            }
        }
    }

    #[test]
    fn the_composed_path_off_the_fused_case_gives_the_same_values() {
        // f64 takes the path other devices take (candle's matmul + broadcast add).
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (2, 3, 5), &dev).unwrap();
        let w = Tensor::randn(0f32, 0.5, (4, 5), &dev).unwrap();
        let b = Tensor::randn(0f32, 0.5, 4, &dev).unwrap();
        let f64s = |t: &Tensor| t.to_dtype(candle_core::DType::F64).unwrap();
        let composed = linear(&f64s(&x), &f64s(&w), &f64s(&b))
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap();
        assert_eq!(composed.dims(), &[2, 3, 4]);
        assert!(max_diff(&linear(&x, &w, &b).unwrap(), &composed) < 1e-5);
    }

    #[test]
    fn mismatched_shapes_are_an_error_not_a_panic() {
        let dev = Device::Cpu;
        let x = Tensor::zeros((2, 3), candle_core::DType::F32, &dev).unwrap();
        let w = Tensor::zeros((4, 5), candle_core::DType::F32, &dev).unwrap();
        let b = Tensor::zeros(4, candle_core::DType::F32, &dev).unwrap();
        assert!(linear(&x, &w, &b).is_err());
    }
}
