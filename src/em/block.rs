//! The fused E-step + statistics pass over one chunk for any D and any covariance structure,
//! a block of [`BLOCK`] points at a time, in three steps:
//!
//! 1. the joint log probabilities ln(λ_k φ_k(x)) of the block, by the structure of the
//!    precision factors ([`FactorShape`]): full factors by [`mahalanobis_lanes`] (the points
//!    side by side in vector lanes, the triangle of U_k·(x − μ_k) a few rows at a time, its
//!    squares summed as they come: O(K·D²/2) per point, no packing), diagonal ones
//!    element-wise (O(K·D)), a shared factor as one matrix product U·(X − c) for every
//!    component (O(D² + K·D), matrixmultiply's kernels through nalgebra);
//! 2. the responsibilities, log-likelihood and Σ r ln r of the block
//!    ([`block_responsibilities`], the one place here where r_ik is made; the compiled small-D
//!    kernels of `kernel.rs` do the same per lane);
//! 3. the sums N_k, S1_k and S2_k ([`Accumulator::add_block`], the one place here where r_ik
//!    is accumulated): full second moments by [`add_second_moments`] (the lower triangle of
//!    (X − c_k)·diag(r_k)·(X − c_k)ᵀ in tiles held in registers), or only their diagonal.
//!
//! The data are row-major n×D, which is a column-major D×n matrix: a block is a D×B matrix
//! view of the data with no copy, each column a point. Only the shared factor's product goes
//! through matrixmultiply; the rest is our own arithmetic with no fused multiply-add, so it
//! gives the same bits on every instruction set.

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
    /// Differences from a mean or a centre: D×B for the shared factor's product, or B points
    /// of [`padded`]`(D)` values (zeros past D) for the full statistics.
    diffs: Vec<f64>,
    /// The shared factor's whitened differences (D×B), or the responsibility-weighted
    /// differences of the full statistics (as `diffs`).
    products: Vec<f64>,
    /// The block transposed: coordinate j of point p at j·B + p (full factors).
    transposed: Vec<f64>,
    /// `transposed` less one component's mean.
    lane_diffs: Vec<f64>,
    /// (x − μ_k)ᵀ Σ_k⁻¹ (x − μ_k) of each point of the block for one component.
    mahalanobis: Vec<f64>,
    buffers: ResponsibilityBuffers,
}

impl Scratch {
    fn new(k: usize, d: usize) -> Self {
        Self {
            log_probs: vec![0.0; BLOCK * k],
            diffs: vec![0.0; BLOCK * padded(d)],
            products: vec![0.0; BLOCK * padded(d)],
            transposed: vec![0.0; BLOCK * d],
            lane_diffs: vec![0.0; BLOCK * d],
            mahalanobis: vec![0.0; BLOCK],
            buffers: ResponsibilityBuffers::new(BLOCK, k),
        }
    }
}

/// D rounded up to whole [`LANES`]: the stride of a point in the full statistics' buffers
/// and of a column of their D×D sums, so that every row block of [`add_second_moments`] is
/// whole vectors. The values past D are never written there (they may hold what the shared
/// factor's product left) and only reach sums past row or column D, which are never read.
fn padded(d: usize) -> usize {
    d.next_multiple_of(LANES)
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
    match prepared.shape() {
        FactorShape::Full => {
            // Whole pairs of lane groups, so that every group of `mahalanobis_lanes` is full;
            // the lanes past the block's points hold −μ and their results are not read.
            let width = points.next_multiple_of(LANES * POINT_GROUPS);
            let transposed = &mut scratch.transposed;
            for (p, x) in block.chunks_exact(d).enumerate() {
                for (j, &value) in x.iter().enumerate() {
                    transposed[j * BLOCK + p] = value;
                }
            }
            for row in transposed.chunks_exact_mut(BLOCK) {
                row[points..width].fill(0.0);
            }
            for (c, &log_normaliser) in log_normalisers.iter().enumerate() {
                for ((out, row), mean) in scratch
                    .lane_diffs
                    .chunks_exact_mut(BLOCK)
                    .zip(transposed.chunks_exact(BLOCK))
                    .zip(prepared.mean(c))
                {
                    for (out, value) in out[..width].iter_mut().zip(&row[..width]) {
                        *out = value - mean;
                    }
                }
                let mahalanobis = &mut scratch.mahalanobis[..width];
                mahalanobis_lanes(
                    prepared.precision_factor_columns(c),
                    d,
                    &scratch.lane_diffs,
                    mahalanobis,
                );
                for (p, distance) in mahalanobis[..points].iter().enumerate() {
                    log_probs[p * k + c] = log_normaliser - 0.5 * distance;
                }
            }
        }
        FactorShape::Shared { centre, offsets } => {
            let diffs = &mut scratch.diffs[..points * d];
            let products = &mut scratch.products[..points * d];
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

/// One value per lane: [`LANES`] points side by side (in `mahalanobis_lanes`) or
/// [`LANES`] rows of a column (in `add_second_moments`).
type Lanes = [f64; LANES];

/// Rows of U·(x − μ) that [`mahalanobis_lanes`] forms together, each for
/// [`POINT_GROUPS`]·[`LANES`] points. Measured at D = 50 (µs per 128 points, one thread,
/// microbenchmark): rows × groups 4 × 2: 9.7; 4 × 1: 11.8; 6 × 2: 10.4; 8 × 1: 16.5; against
/// 14.5–17 for matrixmultiply's banded product plus the sum of squares it needs after; with
/// AVX2 only, 4 × 2: 12.9 against 15.6.
const WHITEN_ROWS: usize = 4;

/// Groups of [`LANES`] points that [`mahalanobis_lanes`] takes together (see
/// [`WHITEN_ROWS`]); [`BLOCK`] is a multiple of their points.
const POINT_GROUPS: usize = 2;

/// The [`LANES`] values at `values[at..]`.
#[inline(always)]
fn load(values: &[f64], at: usize) -> Lanes {
    let mut lanes = [0.0; LANES];
    lanes.copy_from_slice(&values[at..at + LANES]);
    lanes
}

/// sum + scale·values, lane by lane (a multiply and an add, never fused, so every
/// instruction set gives the same bits).
#[inline(always)]
fn add_scaled(sum: Lanes, scale: f64, values: Lanes) -> Lanes {
    let mut out = [0.0; LANES];
    for ((out, sum), value) in out.iter_mut().zip(sum).zip(values) {
        *out = sum + scale * value;
    }
    out
}

/// (x_p − μ)ᵀ Σ⁻¹ (x_p − μ) = ‖U (x_p − μ)‖² for every point p of `out` (a whole number of
/// [`POINT_GROUPS`]·[`LANES`] points), from the lower-triangular precision factor U
/// (column-major D×D, zeros above the diagonal) and the differences `diffs` (coordinate j of
/// point p at j·[`BLOCK`] + p).
///
/// The points go side by side in lanes, [`WHITEN_ROWS`] rows of U·(x − μ) at a time: each
/// row needs the columns of U up to its own index only (the triangle, with no packing of
/// either operand), and its squares are added to the point's sum at once, so the whitened
/// differences are never stored. Every lane's sum runs over the rows in order.
#[inline(always)]
fn mahalanobis_lanes(factor: &[f64], d: usize, diffs: &[f64], out: &mut [f64]) {
    for (group, out) in out.chunks_exact_mut(LANES * POINT_GROUPS).enumerate() {
        let base = group * LANES * POINT_GROUPS;
        let mut sums = [[0.0; LANES]; POINT_GROUPS];
        for first_row in (0..d).step_by(WHITEN_ROWS) {
            let rows = WHITEN_ROWS.min(d - first_row);
            let mut whitened = [[[0.0; LANES]; POINT_GROUPS]; WHITEN_ROWS];
            for j in 0..first_row + rows {
                let mut values = [[0.0; LANES]; POINT_GROUPS];
                for (h, values) in values.iter_mut().enumerate() {
                    *values = load(diffs, j * BLOCK + base + h * LANES);
                }
                let column = &factor[j * d + first_row..j * d + first_row + rows];
                // Indexed over constant bounds (rows past D count as zeros): the form the
                // compiler keeps in registers.
                #[allow(clippy::needless_range_loop)]
                for row in 0..WHITEN_ROWS {
                    let entry = if row < rows { column[row] } else { 0.0 };
                    for h in 0..POINT_GROUPS {
                        whitened[row][h] = add_scaled(whitened[row][h], entry, values[h]);
                    }
                }
            }
            for whitened in &whitened[..rows] {
                for (sum, whitened) in sums.iter_mut().zip(whitened) {
                    for (sum, value) in sum.iter_mut().zip(whitened) {
                        *sum += value * value;
                    }
                }
            }
        }
        for (out, sum) in out.chunks_exact_mut(LANES).zip(&sums) {
            out.copy_from_slice(sum);
        }
    }
}

/// Columns of a tile of [`add_second_moments`]. Measured at D = 50 (µs per 128 points, one
/// thread, microbenchmark): 8: 12.9; 6: 14.0; 4: 13.8; against 15.7 for matrixmultiply's
/// banded product (and 13.1 for faer's triangular one, not a dependency here).
const MOMENT_COLUMNS: usize = LANES;

/// second += Σ_p diffs_p · weighted_pᵀ, the lower triangle by blocks of [`LANES`] rows, for
/// `points` points of `stride` values each (`stride` a multiple of [`LANES`]; the values past
/// D only reach sums past row or column D) into the column-major `stride`×`stride` sums
/// (entries above the diagonal of a row block are summed too and never read).
///
/// A tile is [`LANES`] rows of [`MOMENT_COLUMNS`] columns, held in registers over all the
/// points: per point one load of the rows and a scalar per column, no packing. Each entry's
/// sum runs over the points in order, then is added to `second`.
#[inline(always)]
fn add_second_moments(
    diffs: &[f64],
    weighted: &[f64],
    stride: usize,
    d: usize,
    second: &mut [f64],
) {
    let points = diffs.len() / stride;
    for first_row in (0..d).step_by(LANES) {
        let columns = (first_row + LANES).min(d);
        for first_column in (0..columns).step_by(MOMENT_COLUMNS) {
            let mut tile = [[0.0; LANES]; MOMENT_COLUMNS];
            for p in 0..points {
                let rows = load(diffs, p * stride + first_row);
                let scales = load(weighted, p * stride + first_column);
                // Indexed over constant bounds: the form the compiler keeps in registers.
                #[allow(clippy::needless_range_loop)]
                for column in 0..MOMENT_COLUMNS {
                    tile[column] = add_scaled(tile[column], scales[column], rows);
                }
            }
            for (column, sums) in tile.iter().enumerate() {
                let at = (first_column + column) * stride + first_row;
                for (out, sum) in second[at..at + LANES].iter_mut().zip(sums) {
                    *out += sum;
                }
            }
        }
    }
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

/// Rows of a band of [`whiten`]: at least this many, so that every product stays on
/// matrixmultiply's kernels (nalgebra takes them above 5 rows) and keeps a useful size.
/// Measured at 100 000 × 50 × 5 when the full factors went this way too, one thread, ms per
/// iteration (min / median of 5 interleaved rounds, loaded machine): four bands 162 / 173,
/// two 164 / 179, one 167 / 178. The bands skip a third of the flops, but matrixmultiply packs
/// both operands of every product, and that packing grows with the number of bands.
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
            Layout::Full => k * padded(d) * padded(d),
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
                let stride = padded(d);
                // Only the first D values of each point are written (see `padded`).
                let diffs = &mut scratch.diffs[..points * stride];
                let weighted = &mut scratch.products[..points * stride];
                for c in 0..k {
                    let centre = &centres[c * d..(c + 1) * d];
                    let first = &mut self.first[c * d..(c + 1) * d];
                    for (((x, diff), out), r) in block
                        .chunks_exact(d)
                        .zip(diffs.chunks_exact_mut(stride))
                        .zip(weighted.chunks_exact_mut(stride))
                        .zip(responsibilities.iter().skip(c).step_by(k))
                    {
                        self.mass[c] += r;
                        for ((((x, m), v), w), s) in x
                            .iter()
                            .zip(centre)
                            .zip(diff.iter_mut())
                            .zip(out)
                            .zip(&mut *first)
                        {
                            *v = x - m;
                            *w = r * *v;
                            *s += *w;
                        }
                    }
                    let size = stride * stride;
                    add_second_moments(
                        diffs,
                        weighted,
                        stride,
                        d,
                        &mut self.second[c * size..(c + 1) * size],
                    );
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
                let stride = padded(d);
                for c in 0..k {
                    // Column-major: entry (row, col) at col·stride + row.
                    let square = &self.second[c * stride * stride..(c + 1) * stride * stride];
                    for row in 0..d {
                        for col in 0..=row {
                            stats.second[c * tri + packed(row, col)] = square[col * stride + row];
                        }
                    }
                }
            }
            Layout::Diagonal => stats.second = self.second,
        }
        stats
    }
}
