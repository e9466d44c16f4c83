//! Vectorisable f32 `exp` and `tanh`, and a way to run a loop with the CPU's widest vectors.
//!
//! libm's `expf` and `tanhf` are scalar calls: a loop over them runs one element at a time, and
//! in the transformer's GELU they were a quarter of a training step. These are written only
//! with adds, multiplies, a clamp and bit manipulation, so the compiler turns a loop over them
//! into vector code. The portable build targets baseline x86-64 (SSE2, 4 lanes); [`simd`] runs
//! a closure compiled again for AVX-512 (16 lanes) or AVX2 and FMA (8 lanes) when the CPU has
//! them, which is how a single binary uses a newer CPU without requiring one. Each path gives
//! the same bits (Rust does not fuse or reorder float operations), which a test checks.
//!
//! [`map`] and [`zip_map`] also spread long loops over the current rayon pool.
//!
//! Accuracy: `exp` is within 2 ulp of the true value on [-87, 88] (it clamps outside, so it
//! never overflows to infinity or returns a subnormal); `tanh` built on it has an absolute
//! error below 3e-7 everywhere. Both are checked against libm in the tests below.

use rayon::prelude::*;

/// 1.5 · 2²³: adding it to a float of magnitude below 2²² rounds to an integer, which then
/// sits in the low bits of the sum's mantissa.
const ROUND: f32 = 12_582_912.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `x − n·ln2` is exact for the n that occur (Cody and Waite).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x for x in [-87, 88], clamped outside; NaN stays NaN.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    // The integer n from the sum's mantissa bits; n + 127 is the exponent of 2ⁿ.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = x - n * LN2_HI - n * LN2_LO;
    // e^r on |r| ≤ ln2/2: a degree-6 Taylor-like polynomial with minimax coefficients
    // (the classic Cephes expf set).
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * r * r + r + 1.0;
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    er * scale
}

/// tanh x, as 1 − 2/(e^{2x} + 1): exact limits ±1, absolute error below 3e-7.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

/// Runs `f`, compiled for AVX-512 or for AVX2 and FMA when this CPU has them, else as built. `f` should be a
/// loop over slices with its helpers `#[inline]`, so that the whole loop is compiled for the
/// wider vectors.
#[inline(always)]
pub(crate) fn simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature `avx512` is compiled for (checked above).
            return unsafe { avx512(f) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features `avx2_fma` is compiled for (checked above).
            return unsafe { avx2_fma(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_fma<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Elements per task when a loop is spread over threads. Shorter loops stay on the calling
/// thread: handing out smaller pieces costs more than it saves. Fixed, so that where a sum is
/// split (and so its rounding) does not depend on the number of threads.
pub(crate) const TASK: usize = 1 << 15;

/// `out[i] = f(x[i])`, vectorised, and spread over the current rayon pool when long (the
/// training loop's own pool: on a many-core machine a single-threaded element-wise pass beside
/// parallel matrix multiplies would soon be most of a step).
pub(crate) fn map(x: &[f32], out: &mut [f32], f: impl Fn(f32) -> f32 + Sync) {
    let run = |x: &[f32], out: &mut [f32]| {
        simd(|| {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = f(v);
            }
        })
    };
    if x.len() <= TASK {
        return run(x, out);
    }
    out.par_chunks_mut(TASK)
        .zip(x.par_chunks(TASK))
        .for_each(|(o, x)| run(x, o));
}

/// `out[i] = f(a[i], b[i])`, vectorised, spread over the pool when long (as [`map`]).
pub(crate) fn zip_map(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32 + Sync) {
    let run = |a: &[f32], b: &[f32], out: &mut [f32]| {
        simd(|| {
            for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
                *o = f(u, v);
            }
        })
    };
    if out.len() <= TASK {
        return run(a, b, out);
    }
    out.par_chunks_mut(TASK)
        .zip(a.par_chunks(TASK).zip(b.par_chunks(TASK)))
        .for_each(|(o, (a, b))| run(a, b, o));
}

/// Rows of `width` per task, for loops over rows (at least one row).
pub(crate) fn rows_per_task(width: usize) -> usize {
    (TASK / width.max(1)).max(1)
}

/// `Σ f(a[i], b[i])` with eight partial sums, so that the loop vectorises (one running float sum
/// cannot: float addition is not associative, and the compiler keeps its order).
#[inline(always)]
pub(crate) fn sum_zip(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] += f(ca[l], cb[l]);
        }
    }
    let tail = n - n % 8;
    let rest: f32 = a[tail..]
        .iter()
        .zip(&b[tail..])
        .map(|(&x, &y)| f(x, y))
        .sum();
    acc.iter().sum::<f32>() + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm_over_its_range() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let u = ulps(exp(x), (x as f64).exp() as f32);
            worst = worst.max(u);
            x += 0.001_37;
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn exp_clamps_instead_of_overflowing_and_keeps_nan() {
        assert!(exp(1000.0).is_finite() && exp(1000.0) > 1e38);
        assert!(exp(-1000.0) >= 0.0 && exp(-1000.0) < 1e-37);
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn tanh_is_close_to_libm_everywhere() {
        let mut worst = 0f64;
        let mut x = -30.0f32;
        while x <= 30.0 {
            worst = worst.max((tanh(x) as f64 - (x as f64).tanh()).abs());
            x += 0.000_731;
        }
        assert!(worst < 3e-7, "{worst}");
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
    }

    /// The same loop compiled for each instruction set this CPU has gives the same bits (Rust
    /// never fuses or reorders float operations, whatever the vector width).
    #[test]
    fn every_compiled_path_this_cpu_runs_gives_the_same_bits() {
        let x: Vec<f32> = (0..1003).map(|i| (i as f32 - 500.0) * 0.037).collect();
        let run = |out: &mut Vec<f32>| {
            for (o, &v) in out.iter_mut().zip(&x) {
                *o = tanh(v) + exp(v * 0.5);
            }
            sum_zip(out, &x, |a, b| a * b)
        };
        let mut plain = vec![0f32; x.len()];
        let plain_sum = run(&mut plain);
        assert!(plain_sum.is_finite() && plain.iter().all(|v| v.is_finite()));
        #[cfg(target_arch = "x86_64")]
        {
            let mut paths = 0;
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                let mut out = vec![0f32; x.len()];
                // SAFETY: the features were checked just above.
                let sum = unsafe { avx2_fma(|| run(&mut out)) };
                assert_eq!((out, sum.to_bits()), (plain.clone(), plain_sum.to_bits()));
                paths += 1;
            }
            if std::is_x86_feature_detected!("avx512f") {
                let mut out = vec![0f32; x.len()];
                // SAFETY: the feature was checked just above.
                let sum = unsafe { avx512(|| run(&mut out)) };
                assert_eq!((out, sum.to_bits()), (plain.clone(), plain_sum.to_bits()));
                paths += 1;
            }
            eprintln!("compared {paths} vector paths with the baseline one");
        }
    }

    #[test]
    fn sum_zip_adds_every_pair_including_the_tail() {
        for n in [0, 1, 7, 8, 9, 64, 67] {
            let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let b = vec![2f32; n];
            let want: f32 = (0..n).map(|i| 2.0 * i as f32).sum();
            assert_eq!(sum_zip(&a, &b, |x, y| x * y), want, "n = {n}");
        }
    }

    #[test]
    fn map_and_zip_map_cover_every_element_including_the_tail() {
        for n in [37, 3 * TASK + 5] {
            map_and_zip_map_cover(n);
        }
    }

    /// Short (one thread) and long (tasks over the pool, with a short last one).
    fn map_and_zip_map_cover(n: usize) {
        let x: Vec<f32> = (0..n).map(|i| (i % 41) as f32 * 0.1 - 1.0).collect();
        let mut out = vec![0f32; n];
        map(&x, &mut out, exp);
        for (o, v) in out.iter().zip(&x) {
            assert!((o - v.exp()).abs() <= 1e-6 * v.exp());
        }
        zip_map(&x, &x, &mut out, |a, b| a * b);
        for (o, v) in out.iter().zip(&x) {
            assert_eq!(*o, v * v);
        }
    }
}
