//! Fused CPU operations for the training workloads, each with its backward pass.
//!
//! candle composes a dense layer's bias, layer norm, the tanh GELU's gradient and attention
//! from many element-wise ops (the GELU's with scalar libm calls per element), each allocating
//! its output and each with a backward pass of its own. These do the same arithmetic in one
//! sweep forward and one backward, with vectorised math (`train::vmath`) and the matrix
//! multiplies candle itself uses (`gemm`), so the training loop measures the hardware rather
//! than per-op overhead. Numerics follow candle's (the same tanh approximation of GELU, the
//! max-subtracted softmax), in f32; each op is checked against candle's composed ops, values
//! and gradients, in its tests. On other devices or dtypes the callers get candle's own ops.

use super::vmath;
use candle_core::{CpuStorage, Layout, Result, Tensor, bail};

mod attention;
mod gelu;
mod gemm;
mod layer_norm;
mod linear;

pub use attention::{causal_attention, causal_attention_composed};
pub use gelu::gelu;
pub use layer_norm::layer_norm;
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
