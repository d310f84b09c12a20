//! The fused E-step + statistics pass over one chunk for any D and any covariance structure,
//! a block of [`BLOCK`] points at a time, in three steps:
//!
//! 1. the joint log probabilities ln(λ_k φ_k(x)) of the block, by the structure of the
//!    precision factors ([`FactorShape`]): full factors as one matrix product U_k·(X − μ_k) per
//!    component (O(K·D²) per point, in matrixmultiply's kernels through nalgebra), diagonal
//!    ones element-wise (O(K·D)), a shared factor as one product U·(X − c) for every component
//!    (O(D² + K·D));
//! 2. the responsibilities, log-likelihood and Σ r ln r of the block
//!    ([`block_responsibilities`], the one place here where r_ik is made; the compiled small-D
//!    kernels of `kernel.rs` do the same per lane);
//! 3. the sums N_k, S1_k and S2_k ([`Accumulator::add_block`], the one place here where r_ik
//!    is accumulated): full second moments as the product (X − c_k)·diag(r_k)·(X − c_k)ᵀ (its
//!    lower triangle, by bands of rows), or only their diagonal.
//!
//! The data are row-major n×D, which is a column-major D×n matrix: a block is a D×B matrix
//! view of the data with no copy, each column a point.

use multiversion::multiversion;
use nalgebra::{DMatrixView, DMatrixViewMut};

use super::pass::{
    FactorShape, Layout, Prepared, SufficientStats, exp_nonpositive, ln_at_least_one, packed,
};

/// Points handled together. Measured at 100 000 × 50 × 5: 64, 128 and 256 within 5 % of each
/// other; 128 keeps a block's D×B scratch matrices in L2 up to D ≈ 100.
pub(crate) const BLOCK: usize = 128;

/// The pass over one chunk (row-major, D values per point) at `prepared`'s parameters, with
/// the statistics centred on `centres` (K·D values) or, if `None`, on the current means.
///
/// Compiled for AVX-512, AVX2 + FMA and the baseline, and chosen by the CPU at run time (see
/// `pass.rs` on why the results do not depend on the choice).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn chunk_stats(
    chunk: &[f64],
    weights: Option<&[f64]>,
    prepared: &Prepared,
    centres: Option<&[f64]>,
    layout: Layout,
) -> SufficientStats {
    portable_chunk_stats(chunk, weights, prepared, centres, layout)
}

/// The body of [`chunk_stats`], inlined into each instruction-set version (and, called from
/// the tests, the baseline version to compare them with) with the helpers it
/// calls (all `inline(always)` for that reason).
#[inline(always)]
pub(crate) fn portable_chunk_stats(
    chunk: &[f64],
    weights: Option<&[f64]>,
    prepared: &Prepared,
    centres: Option<&[f64]>,
    layout: Layout,
) -> SufficientStats {
    // Two instantiations, so the unweighted loop is the one it was before weights existed.
    match weights {
        None => weighted_chunk_stats::<false>(chunk, &[], prepared, centres, layout),
        Some(weights) => weighted_chunk_stats::<true>(chunk, weights, prepared, centres, layout),
    }
}

/// The body of [`portable_chunk_stats`]; `weights` (one per point of the chunk) are read only
/// if `WEIGHTED`.
#[inline(always)]
fn weighted_chunk_stats<const WEIGHTED: bool>(
    chunk: &[f64],
    weights: &[f64],
    prepared: &Prepared,
    centres: Option<&[f64]>,
    layout: Layout,
) -> SufficientStats {
    let (k, d) = (prepared.k(), prepared.dim());
    let centres = centres.unwrap_or(prepared.means());
    let mut accumulator = Accumulator::new(layout, k, d);
    let mut scratch = Scratch::new(k, d);
    for (index, block) in chunk.chunks(BLOCK * d).enumerate() {
        let points = block.len() / d;
        let mut log_probs = std::mem::take(&mut scratch.log_probs);
        joint_log_probs(prepared, block, &mut log_probs[..points * k], &mut scratch);
        let block_weights = WEIGHTED.then(|| &weights[index * BLOCK..index * BLOCK + points]);
        let (log_likelihood, sum_r_log_r) = block_responsibilities(
            &mut log_probs[..points * k],
            k,
            &mut scratch.buffers,
            block_weights,
        );
        accumulator.log_likelihood += log_likelihood;
        accumulator.sum_r_log_r += sum_r_log_r;
        accumulator.add_block(block, &log_probs[..points * k], centres, &mut scratch);
        scratch.log_probs = log_probs;
    }
    accumulator.finish()
}

/// Buffers reused from block to block.
struct Scratch {
    /// B×K log probabilities, then responsibilities, point-major.
    log_probs: Vec<f64>,
    /// D×B: differences from a mean or a centre.
    diffs: Vec<f64>,
    /// D×B: whitened differences, or responsibility-weighted ones.
    products: Vec<f64>,
    buffers: ResponsibilityBuffers,
}

impl Scratch {
    fn new(k: usize, d: usize) -> Self {
        Self {
            log_probs: vec![0.0; BLOCK * k],
            diffs: vec![0.0; BLOCK * d],
            products: vec![0.0; BLOCK * d],
            buffers: ResponsibilityBuffers::new(BLOCK, k),
        }
    }
}

/// Writes ln(λ_k φ_k(x_p)) of every point p of `block` and component k into `log_probs`
/// (point-major), by the structure of the factors.
#[inline(always)]
fn joint_log_probs(
    prepared: &Prepared,
    block: &[f64],
    log_probs: &mut [f64],
    scratch: &mut Scratch,
) {
    let (k, d) = (prepared.k(), prepared.dim());
    let points = block.len() / d;
    let log_normalisers = prepared.log_normalisers();
    let diffs = &mut scratch.diffs[..points * d];
    let products = &mut scratch.products[..points * d];
    match prepared.shape() {
        FactorShape::Full => {
            for (c, &log_normaliser) in log_normalisers.iter().enumerate() {
                subtract_from_each(block, prepared.mean(c), diffs);
                whiten(prepared.precision_factor_columns(c), d, diffs, products);
                for (p, y) in products.chunks_exact(d).enumerate() {
                    let mahalanobis = lane_sum(y.len(), |j| y[j] * y[j]);
                    log_probs[p * k + c] = log_normaliser - 0.5 * mahalanobis;
                }
            }
        }
        FactorShape::Shared { centre, offsets } => {
            subtract_from_each(block, centre, diffs);
            whiten(prepared.precision_factor_columns(0), d, diffs, products);
            for (y, out) in products.chunks_exact(d).zip(log_probs.chunks_exact_mut(k)) {
                for ((value, offset), &log_normaliser) in out
                    .iter_mut()
                    .zip(offsets.chunks_exact(d))
                    .zip(log_normalisers)
                {
                    let mahalanobis = lane_sum(d, |j| (y[j] - offset[j]) * (y[j] - offset[j]));
                    *value = log_normaliser - 0.5 * mahalanobis;
                }
            }
        }
        FactorShape::Diagonal(precisions) => {
            let means = prepared.means();
            for (x, out) in block.chunks_exact(d).zip(log_probs.chunks_exact_mut(k)) {
                for (((value, mean), precision), &log_normaliser) in out
                    .iter_mut()
                    .zip(means.chunks_exact(d))
                    .zip(precisions.chunks_exact(d))
                    .zip(log_normalisers)
                {
                    let mahalanobis = lane_sum(d, |j| {
                        let y = (x[j] - mean[j]) * precision[j];
                        y * y
                    });
                    *value = log_normaliser - 0.5 * mahalanobis;
                }
            }
        }
    }
}

/// Independent partial sums in [`lane_sum`]: enough to hide the latency of an addition and
/// fill a vector register, so a long sum runs at the machine's throughput instead of one
/// addition per latency.
const LANES: usize = 8;

/// Σ_{j < len} term(j), in [`LANES`] partial sums (j mod LANES) added pairwise at the end: a
/// fixed order, so the result depends only on the values, never on threads or blocks.
#[inline(always)]
fn lane_sum(len: usize, term: impl Fn(usize) -> f64) -> f64 {
    let mut lanes = [0.0; LANES];
    let whole = len - len % LANES;
    for start in (0..whole).step_by(LANES) {
        for (lane, partial) in lanes.iter_mut().enumerate() {
            *partial += term(start + lane);
        }
    }
    for (lane, partial) in lanes.iter_mut().enumerate().take(len - whole) {
        *partial += term(whole + lane);
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}

/// out_p = x_p − shift for every point p (D values each).
#[inline(always)]
fn subtract_from_each(block: &[f64], shift: &[f64], out: &mut [f64]) {
    for (x, o) in block
        .chunks_exact(shift.len())
        .zip(out.chunks_exact_mut(shift.len()))
    {
        for ((o, x), s) in o.iter_mut().zip(x).zip(shift) {
            *o = x - s;
        }
    }
}

/// products = U·diffs for the column-major lower-triangular D×D factor U and the D×B matrix of
/// differences (each column a point).
///
/// U is lower-triangular, so the product goes by bands of rows ([`bands`]): the rows of band
/// [a, b) need only the first b columns of U and rows of the differences, which skips most of
/// the zeros above the diagonal (a quarter of the work with two bands, 3/8 with four).
///
/// Every view here has unit row stride (a contiguous column-major matrix or a band of rows of
/// one): nalgebra 0.35's fallback product for small sizes (used when any dimension is ≤ 5)
/// writes out of bounds with row-strided views (seen under valgrind at D = 4), so none is ever
/// made, and a band is only cut when every dimension of its product is above 5.
fn whiten(factor: &[f64], d: usize, diffs: &[f64], products: &mut [f64]) {
    let points = diffs.len() / d;
    let factor = DMatrixView::from_slice(factor, d, d);
    let diffs = DMatrixView::from_slice(diffs, d, points);
    let mut products = DMatrixViewMut::from_slice(products, d, points);
    let bands = bands(d, points);
    for band in 0..bands {
        let (start, end) = band_rows(d, bands, band);
        let mut rows = products.rows_mut(start, end - start);
        rows.gemm(
            1.0,
            &factor.view((start, 0), (end - start, end)),
            &diffs.rows(0, end),
            0.0,
        );
    }
}

/// Rows of a band of [`whiten`] and of the second moments: at least this many, so that every
/// product stays on matrixmultiply's kernels (nalgebra takes them above 5 rows) and keeps a
/// useful size. Measured at 100 000 × 50 × 5 full, one thread, ms per iteration (min / median
/// of 5 interleaved rounds, loaded machine): four bands 162 / 173, two 164 / 179, one 167 / 178.
/// The bands skip a third of the flops, but matrixmultiply packs both operands of every
/// product, and that packing (a fifth of the time at D = 50) grows with the number of bands.
const BAND_ROWS: usize = 12;

/// How many bands of rows the triangular products of a block of `points` points at dimension
/// `d` are cut into: one (the whole square product) for small D or a block of 5 points or
/// fewer, else up to four bands of at least [`BAND_ROWS`] rows.
fn bands(d: usize, points: usize) -> usize {
    if points <= 5 {
        1
    } else {
        (d / BAND_ROWS).clamp(1, 4)
    }
}

/// Rows [start, end) of band `band` of `bands` over `d` rows.
fn band_rows(d: usize, bands: usize, band: usize) -> (usize, usize) {
    (band * d / bands, (band + 1) * d / bands)
}

/// Buffers of [`block_responsibilities`], sized for a block.
pub(crate) struct ResponsibilityBuffers {
    maxima: Vec<f64>,
    exps: Vec<f64>,
}

impl ResponsibilityBuffers {
    /// Buffers for up to `points` points of `k` components.
    pub(crate) fn new(points: usize, k: usize) -> Self {
        Self {
            maxima: vec![0.0; points],
            exps: vec![0.0; points * k],
        }
    }
}

/// Turns a block's joint log probabilities v_pk = ln(λ_k φ_k(x_p)) (point-major, K per point)
/// into responsibilities r_pk in place, and returns the block's log-likelihood Σ_p ln p(x_p)
/// and Σ_p Σ_k r_pk ln r_pk. Every blocked pass's responsibilities are made here.
///
/// With sample weights w_p (`weights`, one per point of the block) the E-step is the same, but
/// what is left in place is w_p·r_pk, and the sums are Σ_p w_p ln p(x_p) and
/// Σ_p w_p Σ_k r_pk ln r_pk: every statistic the callers accumulate from the values is then
/// weighted, as if point p were there w_p times. Without weights nothing is multiplied (a
/// separate instantiation, so the unweighted pass is unchanged to the bit and in speed).
///
/// The exponentials of s = v − max are taken for the whole block in one loop, which
/// vectorises; with the shifted s kept, ln r = s − ln Σ e^s needs no logarithm per value, so
/// Σ_k r ln r = Σ_k r s − ln Σ e^s (the r sum to one). An s so negative that e^s is 0
/// (r = 0, 0·ln 0 = 0), even −∞, is clamped to a finite value first so that the product is 0,
/// not NaN.
#[inline(always)]
pub(crate) fn block_responsibilities(
    values: &mut [f64],
    k: usize,
    buffers: &mut ResponsibilityBuffers,
    weights: Option<&[f64]>,
) -> (f64, f64) {
    match weights {
        None => responsibilities_scaled::<false>(values, k, buffers, &[]),
        Some(weights) => responsibilities_scaled::<true>(values, k, buffers, weights),
    }
}

/// [`block_responsibilities`], with every point's results multiplied by its weight if
/// `WEIGHTED` (a constant, so the unweighted version has no multiplication at all).
#[inline(always)]
fn responsibilities_scaled<const WEIGHTED: bool>(
    values: &mut [f64],
    k: usize,
    buffers: &mut ResponsibilityBuffers,
    weights: &[f64],
) -> (f64, f64) {
    let points = values.len() / k;
    let maxima = &mut buffers.maxima[..points];
    let exps = &mut buffers.exps[..points * k];
    for (row, max) in values.chunks_exact_mut(k).zip(maxima.iter_mut()) {
        *max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.iter_mut().for_each(|v| *v -= *max);
    }
    for (out, value) in exps.iter_mut().zip(values.iter()) {
        *out = exp_nonpositive(*value);
    }
    let (mut log_likelihood, mut sum_r_log_r) = (0.0, 0.0);
    for (p, ((row, shares), max)) in values
        .chunks_exact_mut(k)
        .zip(exps.chunks_exact(k))
        .zip(maxima.iter())
        .enumerate()
    {
        let sum: f64 = shares.iter().sum();
        let ln_sum = ln_at_least_one(sum);
        let inverse = 1.0 / sum;
        let mut r_times_s = 0.0;
        if WEIGHTED {
            let weight = weights[p];
            log_likelihood += weight * (max + ln_sum);
            for (value, share) in row.iter_mut().zip(shares) {
                let r = share * inverse;
                r_times_s += r * value.max(-1000.0);
                *value = weight * r;
            }
            sum_r_log_r += weight * (r_times_s - ln_sum);
        } else {
            log_likelihood += max + ln_sum;
            for (value, share) in row.iter_mut().zip(shares) {
                let r = share * inverse;
                r_times_s += r * value.max(-1000.0);
                *value = r;
            }
            sum_r_log_r += r_times_s - ln_sum;
        }
    }
    (log_likelihood, sum_r_log_r)
}

/// The running sums of one chunk.
struct Accumulator {
    layout: Layout,
    k: usize,
    d: usize,
    log_likelihood: f64,
    sum_r_log_r: f64,
    mass: Vec<f64>,
    first: Vec<f64>,
    /// Full: K column-major D×D matrices (packed at the end). Diagonal: K·D values.
    second: Vec<f64>,
}

impl Accumulator {
    fn new(layout: Layout, k: usize, d: usize) -> Self {
        let second = match layout {
            Layout::Full => k * d * d,
            Layout::Diagonal => k * d,
        };
        Self {
            layout,
            k,
            d,
            log_likelihood: 0.0,
            sum_r_log_r: 0.0,
            mass: vec![0.0; k],
            first: vec![0.0; k * d],
            second: vec![0.0; second],
        }
    }

    /// Adds the block's points, with responsibilities `responsibilities` (point-major), to the
    /// sums centred on `centres`: N_k += Σ_p r_pk, S1_k += Σ_p r_pk (x_p − c_k),
    /// S2_k += Σ_p r_pk (x_p − c_k)(x_p − c_k)ᵀ (or its diagonal).
    #[inline(always)]
    fn add_block(
        &mut self,
        block: &[f64],
        responsibilities: &[f64],
        centres: &[f64],
        scratch: &mut Scratch,
    ) {
        let (k, d) = (self.k, self.d);
        let points = block.len() / d;
        match self.layout {
            Layout::Full => {
                let diffs = &mut scratch.diffs[..points * d];
                let weighted = &mut scratch.products[..points * d];
                let bands = bands(d, points);
                for c in 0..k {
                    subtract_from_each(block, &centres[c * d..(c + 1) * d], diffs);
                    let first = &mut self.first[c * d..(c + 1) * d];
                    // `weighted` has the layout of `diffs` (D×B column-major), written in order.
                    for ((diff, out), r) in diffs
                        .chunks_exact(d)
                        .zip(weighted.chunks_exact_mut(d))
                        .zip(responsibilities.iter().skip(c).step_by(k))
                    {
                        self.mass[c] += r;
                        for ((v, w), s) in diff.iter().zip(out.iter_mut()).zip(first.iter_mut()) {
                            *w = r * v;
                            *s += *w;
                        }
                    }
                    let second = &mut self.second[c * d * d..(c + 1) * d * d];
                    if points <= 5 || d <= 5 {
                        // A last block of a few points, or D ≤ 5 (only the tests send those
                        // here): nalgebra would take its small-size product, which must not see
                        // the strided view below (see `whiten`), so the outer products go by hand.
                        for (diff, w) in diffs.chunks_exact(d).zip(weighted.chunks_exact(d)) {
                            for (col, &w_col) in w.iter().enumerate() {
                                for (row, &v) in diff.iter().enumerate().skip(col) {
                                    second[col * d + row] += v * w_col;
                                }
                            }
                        }
                        continue;
                    }
                    // S2_k += (X − c_k)·(r ∘ (X − c_k))ᵀ, a D×B by B×D product, by bands of
                    // rows (only the lower triangle is read, so band [a, b) needs the first b
                    // columns). The right operand is `weighted` read transposed: row stride
                    // D, column stride 1, which matrixmultiply packs like any other; every
                    // dimension of these products is above 5 (points > 5, bands ≥ 6 rows).
                    let diffs = DMatrixView::from_slice(diffs, d, points);
                    let weighted_t =
                        DMatrixView::from_slice_with_strides(weighted, points, d, d, 1);
                    let mut second = DMatrixViewMut::from_slice(second, d, d);
                    for band in 0..bands {
                        let (start, end) = band_rows(d, bands, band);
                        second.view_mut((start, 0), (end - start, end)).gemm(
                            1.0,
                            &diffs.rows(start, end - start),
                            &weighted_t.columns(0, end),
                            1.0,
                        );
                    }
                }
            }
            Layout::Diagonal => {
                for (x, shares) in block.chunks_exact(d).zip(responsibilities.chunks_exact(k)) {
                    for (c, &r) in shares.iter().enumerate() {
                        self.mass[c] += r;
                        let centre = &centres[c * d..(c + 1) * d];
                        let first = &mut self.first[c * d..(c + 1) * d];
                        let second = &mut self.second[c * d..(c + 1) * d];
                        for (((x, m), s1), s2) in x.iter().zip(centre).zip(first).zip(second) {
                            let v = x - m;
                            let w = r * v;
                            *s1 += w;
                            *s2 += w * v;
                        }
                    }
                }
            }
        }
    }

    /// The chunk's statistics (centres left empty: the caller's total holds them).
    fn finish(self) -> SufficientStats {
        let (k, d) = (self.k, self.d);
        let mut stats = SufficientStats::zeros_in(self.layout, k, d, Vec::new());
        stats.log_likelihood = self.log_likelihood;
        stats.sum_r_log_r = self.sum_r_log_r;
        stats.mass = self.mass;
        stats.first = self.first;
        match self.layout {
            Layout::Full => {
                let tri = d * (d + 1) / 2;
                for c in 0..k {
                    // Column-major: entry (row, col) at col·D + row.
                    let square = &self.second[c * d * d..(c + 1) * d * d];
                    for row in 0..d {
                        for col in 0..=row {
                            stats.second[c * tri + packed(row, col)] = square[col * d + row];
                        }
                    }
                }
            }
            Layout::Diagonal => stats.second = self.second,
        }
        stats
    }
}
