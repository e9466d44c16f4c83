//! A bounds-checked front to the `gemm` crate (the matrix multiply candle's CPU backend uses),
//! for the fused ops that multiply matrices inside one op: a linear layer with its bias, the
//! attention of every head. Strides let a transposed operand be read in place instead of
//! copied.

use gemm::Parallelism;

/// A read-only f32 matrix over a slice: element (i, j) is `data[i·rs + j·cs]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mat<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows × cols` matrix.
    pub(crate) fn new(data: &'a [f32], rows: usize, cols: usize) -> Mat<'a> {
        Mat::strided(data, rows, cols, cols, 1)
    }

    pub(crate) fn strided(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Mat<'a> {
        Mat {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transpose, read through the same slice.
    pub(crate) fn t(self) -> Mat<'a> {
        Mat::strided(self.data, self.cols, self.rows, self.cs, self.rs)
    }

    /// Whether every element's index lies inside the slice.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1)
                .checked_mul(self.rs)
                .zip((self.cols - 1).checked_mul(self.cs))
                .and_then(|(a, b)| a.checked_add(b))
                .is_some_and(|last| last < self.data.len())
    }
}

/// Threads for one multiply: those of the rayon pool it runs in (the training loop's, sized
/// by candle's count). Small products run on one thread; gemm decides from the sizes.
fn parallelism(threads: bool) -> Parallelism {
    let n = rayon::current_num_threads();
    if threads && n > 1 {
        Parallelism::Rayon(n)
    } else {
        Parallelism::None
    }
}

/// `out = a·b`, or `out += a·b` when `accumulate`; `out` is row-major `a.rows × b.cols`.
/// `threads: false` keeps the multiply on the calling thread (for callers that are already
/// spread across threads).
///
/// # Panics
/// When the shapes do not match or a view reaches past its slice: a caller's bug, checked here
/// because the multiply itself reads through raw pointers.
pub(crate) fn matmul(out: &mut [f32], accumulate: bool, a: Mat, b: Mat, threads: bool) {
    assert_eq!(out.len(), a.rows * b.cols, "output size");
    matmul_into(out, b.cols, accumulate, a, b, threads)
}

/// [`matmul`] into rows `out_rs` apart: `a.rows × b.cols` at the start of `out`, for writing
/// one block of a wider matrix (one head's columns of the attention output).
pub(crate) fn matmul_into(
    out: &mut [f32],
    out_rs: usize,
    accumulate: bool,
    a: Mat,
    b: Mat,
    threads: bool,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions");
    assert!(a.in_bounds() && b.in_bounds(), "matrix view out of bounds");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    assert!(out_rs >= n, "output rows overlap");
    let end = (m - 1).checked_mul(out_rs).and_then(|v| v.checked_add(n));
    assert!(end.is_some_and(|e| e <= out.len()), "output out of bounds");
    if k == 0 {
        if !accumulate {
            out.chunks_mut(out_rs)
                .take(m)
                .for_each(|r| r[..n].fill(0.0));
        }
        return;
    }
    let stride = |s: usize| isize::try_from(s).expect("stride fits isize");
    // SAFETY: every index the multiply reads (i·rs + j·cs within each view's shape) or writes
    // (i·out_rs + j, i < m, j < n) was checked to lie inside its slice above; `out` is
    // borrowed mutably, so it cannot alias the inputs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            stride(out_rs),
            accumulate,
            a.data.as_ptr(),
            stride(a.cs),
            stride(a.rs),
            b.data.as_ptr(),
            stride(b.cs),
            stride(b.rs),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism(threads),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: Mat, b: Mat) -> Vec<f32> {
        let mut out = vec![0f32; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                out[i * b.cols + j] = (0..a.cols)
                    .map(|p| a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs])
                    .sum();
            }
        }
        out
    }

    #[test]
    fn plain_transposed_and_accumulated_products_match_a_naive_loop() {
        let x: Vec<f32> = (0..35).map(|i| (i as f32 * 0.37).sin()).collect();
        let y: Vec<f32> = (0..35).map(|i| (i as f32 * 0.11).cos()).collect();
        let (a, b) = (Mat::new(&x, 5, 7), Mat::new(&y, 7, 5));
        for (a, b) in [(a, b), (a, Mat::new(&y, 5, 7).t()), (b.t(), a.t())] {
            let mut out = vec![0f32; a.rows * b.cols];
            matmul(&mut out, false, a, b, true);
            let want = naive(a, b);
            for (o, w) in out.iter().zip(&want) {
                assert!((o - w).abs() < 1e-5);
            }
            matmul(&mut out, true, a, b, false);
            for (o, w) in out.iter().zip(&want) {
                assert!((o - 2.0 * w).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn a_block_of_a_wider_output_is_written_and_nothing_else() {
        let x: Vec<f32> = (0..6).map(|i| i as f32).collect();
        let mut out = vec![-1f32; 2 * 5];
        // (2×3)·(3×2) into columns 1..3 of a 2×5 matrix.
        matmul_into(
            &mut out[1..],
            5,
            false,
            Mat::new(&x, 2, 3),
            Mat::new(&x, 3, 2),
            false,
        );
        assert_eq!(
            out,
            [-1.0, 10.0, 13.0, -1.0, -1.0, -1.0, 28.0, 40.0, -1.0, -1.0]
        );
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn a_view_past_its_slice_is_refused() {
        let x = vec![0f32; 10];
        let mut out = vec![0f32; 9];
        matmul(
            &mut out,
            false,
            Mat::new(&x, 3, 4),
            Mat::new(&x, 4, 3),
            false,
        );
    }
}
