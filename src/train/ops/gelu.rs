//! GELU (the tanh approximation, as candle's `gelu`) as one CPU op with its backward pass.
//!
//! candle's gradient of it is a dozen element-wise ops, two of them `powf` (a scalar libm call
//! per element); here one vectorised sweep forward and one backward, which multiplies by the
//! incoming gradient in the same pass.

use super::{contiguous_f32, fused, vmath};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, bail};

/// sqrt(2/π) and the cubic coefficient of the tanh approximation of GELU.
const C: f32 = 0.797_884_6;
const A: f32 = 0.044_715;

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

#[cfg(test)]
mod tests {
    use super::super::{max_diff, probe_grads};
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
}
