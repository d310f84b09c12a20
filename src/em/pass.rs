//! The passes over the data: per-point log densities in the log domain, and the fused
//! E-step + sufficient statistics that one EM iteration needs.
//!
//! Each pass splits the data into fixed chunks of [`CHUNK_POINTS`] points that rayon runs in
//! parallel; each chunk fills its own accumulator, and the accumulators are merged in chunk
//! order. The chunking does not depend on the thread count, so the results are bit-identical
//! whatever the number of threads, and summing per chunk then across chunks keeps rounding error
//! growing with the number of chunks rather than with n. Data under [`SERIAL_POINTS`] go
//! through the same chunks on the calling thread.
//!
//! Kernels: per chunk, the compiled small-D kernels of `kernel.rs` (full statistics, D ≤ 10)
//! or the blocked kernels of `block.rs` (everything else: lane kernels for full factors and
//! full statistics, a matrix product for a shared factor, element-wise work for diagonal
//! ones and diagonal statistics). Both are compiled for AVX-512, AVX2 + FMA and the baseline,
//! chosen at run time by the CPU (`multiversion`).
//!
//! Instruction sets: our kernels give the same bits whichever version runs (Rust never fuses
//! a multiply and an add, nor reorders a sum, so wider vectors only do the same operations
//! side by side; `instruction_sets_give_the_same_bits` checks it). The one exception is the
//! shared (tied) factor's whitening beyond D = 10, a matrixmultiply product whose AVX-512,
//! AVX2/FMA and SSE2 kernels sum in different orders: tied fits with D > 10 are bit-identical
//! across thread counts on one machine but may differ in the last bits between machines with
//! different instruction sets.

use rayon::prelude::*;

use super::block;
use super::config::CovarianceType;
use super::dataset::Dataset;
use super::kernel;
use super::model::Mixture;

/// Points per parallel chunk: large enough that per-chunk accumulators and scheduling cost
/// nothing next to the work, small enough to give both cores work at n = 10 000.
pub(crate) const CHUNK_POINTS: usize = 2048;

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Per-component quantities computed once per iteration so that the per-point work is a
/// triangular mat-vec and a dot product: the precision Cholesky factor U = L⁻¹ (where Σ = L Lᵀ),
/// so the Mahalanobis distance is |U (x − μ)|², and the log normaliser
/// ln λ − D/2 ln 2π − ½ ln|Σ| with ln|Σ| = 2 Σ ln L_jj.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    dim: usize,
    k: usize,
    means: Vec<f64>,
    /// K lower-triangular D×D factors, row-major.
    precision_factors: Vec<f64>,
    /// The same factors column-major, as the blocked kernels' matrix products read them.
    precision_factor_columns: Vec<f64>,
    log_normalisers: Vec<f64>,
    /// The structure the factors have, which picks the E-step kernel.
    shape: FactorShape,
}

/// The structure of the current precision factors, read from the parameters themselves (not
/// from the fit's covariance type, so that a start of another structure is still exact).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FactorShape {
    /// Any lower-triangular factors: O(K·D²) per point.
    Full,
    /// Every factor diagonal (diag and spherical fits): O(K·D) per point. Holds the K·D
    /// diagonals 1/σ_kj.
    Diagonal(Vec<f64>),
    /// One factor U shared by every component (tied fits, K > 1): U x is computed once per point
    /// and U μ_k once per pass, so a point costs O(D² + K·D). Holds the centre c the points are
    /// shifted by before the product (the mean of the means, so U (x − c) stays small) and the
    /// K·D offsets U (μ_k − c).
    Shared { centre: Vec<f64>, offsets: Vec<f64> },
}

impl Prepared {
    /// Precomputes the factors from the mixture's Cholesky factors.
    pub(crate) fn new(mixture: &Mixture) -> Self {
        let (k, dim) = (mixture.k(), mixture.dim());
        let mut precision_factors = Vec::with_capacity(k * dim * dim);
        let mut log_normalisers = Vec::with_capacity(k);
        for component in 0..k {
            let lower = mixture.cholesky_factor(component);
            let log_det_half: f64 = (0..dim).map(|j| lower[j * dim + j].ln()).sum();
            precision_factors.extend(invert_lower(dim, lower));
            log_normalisers
                .push(mixture.weights()[component].ln() - 0.5 * dim as f64 * LN_2PI - log_det_half);
        }
        let means: Vec<f64> = (0..k).flat_map(|c| mixture.mean(c).to_vec()).collect();
        let shape = factor_shape(dim, k, &means, &precision_factors);
        let precision_factor_columns = precision_factors
            .chunks_exact(dim * dim)
            .flat_map(|factor| (0..dim * dim).map(move |i| factor[(i % dim) * dim + i / dim]))
            .collect();
        Self {
            dim,
            k,
            means,
            precision_factors,
            precision_factor_columns,
            log_normalisers,
            shape,
        }
    }

    /// Dimension D.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// The K·D means, component-major.
    pub(crate) fn means(&self) -> &[f64] {
        &self.means
    }

    /// The structure of the precision factors.
    pub(crate) fn shape(&self) -> &FactorShape {
        &self.shape
    }

    /// Whether every precision factor is diagonal.
    pub(crate) fn is_diagonal(&self) -> bool {
        matches!(self.shape, FactorShape::Diagonal(_))
    }

    /// Number of components.
    pub(crate) fn k(&self) -> usize {
        self.k
    }

    /// Mean of component `c`.
    pub(crate) fn mean(&self, c: usize) -> &[f64] {
        &self.means[c * self.dim..(c + 1) * self.dim]
    }

    /// Precision factor U = L⁻¹ of component `c`, row-major lower triangle.
    pub(crate) fn precision_factor(&self, c: usize) -> &[f64] {
        let size = self.dim * self.dim;
        &self.precision_factors[c * size..(c + 1) * size]
    }

    /// Precision factor U = L⁻¹ of component `c`, column-major.
    pub(crate) fn precision_factor_columns(&self, c: usize) -> &[f64] {
        let size = self.dim * self.dim;
        &self.precision_factor_columns[c * size..(c + 1) * size]
    }

    /// ln λ_c − D/2 ln 2π − ½ ln|Σ_c| of every component.
    pub(crate) fn log_normalisers(&self) -> &[f64] {
        &self.log_normalisers
    }

    /// Writes ln(λ_k φ(x; μ_k, Σ_k)) for every k into `log_probs`, and x − μ_k into `diffs`
    /// (K·D values) for the M-step statistics.
    #[inline]
    pub(crate) fn joint_log_probs(&self, point: &[f64], diffs: &mut [f64], log_probs: &mut [f64]) {
        let d = self.dim;
        for component in 0..self.k {
            let mean = &self.means[component * d..(component + 1) * d];
            let diff = &mut diffs[component * d..(component + 1) * d];
            for ((out, x), m) in diff.iter_mut().zip(point).zip(mean) {
                *out = x - m;
            }
            let factor = &self.precision_factors[component * d * d..(component + 1) * d * d];
            let mut mahalanobis = 0.0;
            for row in 0..d {
                let factor_row = &factor[row * d..row * d + row + 1];
                let y: f64 = factor_row.iter().zip(diff.iter()).map(|(u, v)| u * v).sum();
                mahalanobis += y * y;
            }
            log_probs[component] = self.log_normalisers[component] - 0.5 * mahalanobis;
        }
    }
}

impl Prepared {
    /// The index of the largest ln(λ_k φ(x; μ_k, Σ_k)) for each point.
    pub(crate) fn most_likely<'a>(&self, points: impl Iterator<Item = &'a [f64]>) -> Vec<usize> {
        let mut diffs = vec![0.0; self.k * self.dim];
        let mut log_probs = vec![0.0; self.k];
        points
            .map(|point| {
                self.joint_log_probs(point, &mut diffs, &mut log_probs);
                log_probs
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (k, &v)| {
                        if v > best.1 { (k, v) } else { best }
                    })
                    .0
            })
            .collect()
    }
}

impl Prepared {
    /// For each point: the index of its most likely component and that component's
    /// responsibility max_k r_k = λ_k φ_k / Σ_j λ_j φ_j (how sure the assignment is).
    pub(crate) fn assignments<'a>(
        &self,
        points: impl Iterator<Item = &'a [f64]>,
    ) -> Vec<(usize, f64)> {
        let mut diffs = vec![0.0; self.k * self.dim];
        let mut log_probs = vec![0.0; self.k];
        points
            .map(|point| {
                self.joint_log_probs(point, &mut diffs, &mut log_probs);
                let (best, top) =
                    log_probs
                        .iter()
                        .enumerate()
                        .fold((0, f64::NEG_INFINITY), |best, (k, &v)| {
                            if v > best.1 { (k, v) } else { best }
                        });
                // Σ_j exp(l_j − l_best) ≥ 1, so the share is in (0, 1] without overflow.
                let total: f64 = log_probs.iter().map(|&l| (l - top).exp()).sum();
                (best, 1.0 / total)
            })
            .collect()
    }
}

/// Which structure the K precision factors (row-major D×D each) have: diagonal if every
/// off-diagonal entry is exactly 0 (as the diag and spherical M-steps leave them), shared if
/// K > 1 and every factor equals the first bit for bit (as the tied M-step leaves them).
fn factor_shape(dim: usize, k: usize, means: &[f64], factors: &[f64]) -> FactorShape {
    let size = dim * dim;
    let diagonal = factors
        .chunks_exact(size)
        .all(|factor| (0..size).all(|i| i % (dim + 1) == 0 || factor[i] == 0.0));
    if diagonal {
        return FactorShape::Diagonal(
            factors
                .chunks_exact(size)
                .flat_map(|factor| (0..dim).map(move |j| factor[j * dim + j]))
                .collect(),
        );
    }
    let first = &factors[..size];
    if k > 1 && factors.chunks_exact(size).all(|factor| factor == first) {
        let centre: Vec<f64> = (0..dim)
            .map(|j| (0..k).map(|c| means[c * dim + j]).sum::<f64>() / k as f64)
            .collect();
        let mut offsets = Vec::with_capacity(k * dim);
        for mean in means.chunks_exact(dim) {
            let shift: Vec<f64> = mean.iter().zip(&centre).map(|(m, c)| m - c).collect();
            for row in 0..dim {
                let factor_row = &first[row * dim..row * dim + row + 1];
                offsets.push(factor_row.iter().zip(&shift).map(|(u, v)| u * v).sum());
            }
        }
        return FactorShape::Shared { centre, offsets };
    }
    FactorShape::Full
}

/// The inverse of a lower-triangular row-major D×D matrix (itself lower-triangular).
fn invert_lower(dim: usize, lower: &[f64]) -> Vec<f64> {
    let mut inverse = vec![0.0; dim * dim];
    for col in 0..dim {
        inverse[col * dim + col] = 1.0 / lower[col * dim + col];
        for row in col + 1..dim {
            let sum: f64 = (col..row)
                .map(|p| lower[row * dim + p] * inverse[p * dim + col])
                .sum();
            inverse[row * dim + col] = -sum / lower[row * dim + row];
        }
    }
    inverse
}

/// e^x for x ≤ 0 (the only exponentials EM takes are of v − max), to within 2 ulp, written
/// without branches or calls so that a loop over a block of values vectorises; libm's `exp`
/// is a call per value and was a third of the time of an iteration. Values below −745.2 give 0
/// (as e^x does in double precision), NaN gives 0 too: callers never pass NaN.
///
/// Method: x = n·ln 2 + r with |r| ≤ ½ ln 2 (Cody–Waite, ln 2 split so n·LN2_HI is exact),
/// e^r by its Taylor series to r¹³ (truncation below 5e-18), then 2ⁿ built from the exponent
/// bits in two halves so that results down to the subnormal range stay exact powers.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    // fdlibm's split of ln 2: the high part has 32 significant bits, so n·LN2_HI is exact.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    // Adding 1.5·2⁵² rounds to an integer, which then sits in the low bits of the mantissa.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.max(-745.2);
    // Plain multiply-adds: `mul_add` is a library call on CPUs targeted without FMA.
    let shifted = x * LOG2_E + SHIFT;
    let n = shifted - SHIFT;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    for factorial in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / factorial;
    }
    let exponent = shifted.to_bits().wrapping_sub(SHIFT.to_bits()) as i64;
    let half = exponent >> 1;
    let scale = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    p * scale(half) * scale(exponent - half)
}

/// ln x for the sums of exponentials the E-step takes (Σ_k e^(v_k − max), in [1, K]): within
/// 1 ulp for any finite x ≥ 1 (fdlibm's method), −∞ for 0 (every e^s underflowed, as with a
/// point at −∞ from every component). Written without branches or calls so that a loop over
/// lanes vectorises, like [`exp_nonpositive`]; the values below 1 the E-step never passes
/// (other than 0) give a finite but meaningless result.
///
/// Method: x = 2^e·m with m in [√2/2, √2), taken from the bits (the exponent field made a
/// float by the same 2⁵² trick as in `exp_nonpositive`, with no integer conversion), then
/// ln m = 2 atanh(s), s = (m − 1)/(m + 1), by fdlibm's minimax polynomial in s².
#[inline(always)]
pub(crate) fn ln_at_least_one(x: f64) -> f64 {
    const LG1: f64 = 6.666_666_666_666_735e-1;
    const LG2: f64 = 3.999_999_999_940_942e-1;
    const LG3: f64 = 2.857_142_874_366_239e-1;
    const LG4: f64 = 2.222_219_843_214_978_4e-1;
    const LG5: f64 = 1.818_357_216_161_805e-1;
    const LG6: f64 = 1.531_383_769_920_937_3e-1;
    const LG7: f64 = 1.479_819_860_511_658_6e-1;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let bits = x.to_bits();
    let mantissa = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    let biased_exponent = f64::from_bits(TWO_52.to_bits() | (bits >> 52)) - TWO_52;
    let above = mantissa > std::f64::consts::SQRT_2;
    let m = if above { 0.5 * mantissa } else { mantissa };
    let e = biased_exponent - if above { 1022.0 } else { 1023.0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let half_f_squared = 0.5 * f * f;
    let ln = e * LN2_HI - ((half_f_squared - (s * (half_f_squared + (t2 + t1)) + e * LN2_LO)) - f);
    if x > 0.0 { ln } else { f64::NEG_INFINITY }
}

/// Turns joint log probabilities ln(λ_k φ_k) into responsibilities in place and returns their
/// log-sum-exp (the point's log density). One exp per component: exp(v_k − max) serves both the
/// sum and, divided by it, the responsibility.
#[inline]
pub(crate) fn normalise_log_probs(values: &mut [f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    let mut sum = 0.0;
    for v in values.iter_mut() {
        *v = exp_nonpositive(*v - max);
        sum += *v;
    }
    let inverse = 1.0 / sum;
    values.iter_mut().for_each(|v| *v *= inverse);
    max + sum.ln()
}

/// Index into a packed lower triangle (row ≥ col), row-major.
#[inline]
pub(crate) fn packed(row: usize, col: usize) -> usize {
    row * (row + 1) / 2 + col
}

/// What the M-step needs from a pass, per component k, with the data shifted by a centre c_k
/// (the component's current mean) so that the covariance S2/N − m mᵀ does not lose digits to
/// cancellation when the data sit far from the origin:
/// N_k = Σ r_ik, S1_k = Σ r_ik (x_i − c_k), S2_k = Σ r_ik (x_i − c_k)(x_i − c_k)ᵀ (packed lower).
/// Also the total log-likelihood of the parameters the responsibilities came from, and
/// Σ_i Σ_k r_ik ln r_ik (minus the entropy H of the responsibilities), which with the sums gives
/// the lecture notes' decomposition log L = Q + H ([`SufficientStats::q_of`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SufficientStats {
    pub(crate) dim: usize,
    /// Which second moments `second` holds.
    pub(crate) layout: Layout,
    pub(crate) log_likelihood: f64,
    /// Σ_i Σ_k r_ik ln r_ik (≤ 0), with 0·ln 0 = 0.
    pub(crate) sum_r_log_r: f64,
    pub(crate) mass: Vec<f64>,
    pub(crate) first: Vec<f64>,
    /// S2 per component: the packed lower triangle (D(D+1)/2 values) for [`Layout::Full`], the
    /// diagonal (D values) for [`Layout::Diagonal`].
    pub(crate) second: Vec<f64>,
    pub(crate) centres: Vec<f64>,
}

/// Which second moments a pass accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Every S2_k[i][j], j ≤ i: O(K·D²) per point. What full and tied M-steps, and Q of any θ',
    /// need.
    Full,
    /// Only S2_k[j][j]: O(K·D) per point. Enough for the diag and spherical M-steps, and for
    /// Q(θ' | θ) of a θ' with diagonal covariances ([`SufficientStats::covers`]).
    Diagonal,
}

impl Layout {
    /// The layout a soft pass at `prepared`'s parameters needs for a fit of `covariance`:
    /// diagonal when the fit is diag or spherical and the parameters already are diagonal (a
    /// start of another structure keeps full statistics, so Q of it stays exact).
    pub(crate) fn for_fit(covariance: CovarianceType, prepared: &Prepared) -> Self {
        match covariance {
            CovarianceType::Diag | CovarianceType::Spherical if prepared.is_diagonal() => {
                Self::Diagonal
            }
            _ => Self::Full,
        }
    }

    /// Second-moment values per component at dimension `dim`.
    fn per_component(self, dim: usize) -> usize {
        match self {
            Self::Full => dim * (dim + 1) / 2,
            Self::Diagonal => dim,
        }
    }
}

impl SufficientStats {
    /// Empty statistics with full second moments.
    pub(crate) fn zeros(k: usize, dim: usize, centres: Vec<f64>) -> Self {
        Self::zeros_in(Layout::Full, k, dim, centres)
    }

    /// Empty statistics of the given layout.
    pub(crate) fn zeros_in(layout: Layout, k: usize, dim: usize, centres: Vec<f64>) -> Self {
        Self {
            dim,
            layout,
            log_likelihood: 0.0,
            sum_r_log_r: 0.0,
            mass: vec![0.0; k],
            first: vec![0.0; k * dim],
            second: vec![0.0; k * layout.per_component(dim)],
            centres,
        }
    }

    /// S2_k[row][col] (0 off the diagonal for [`Layout::Diagonal`], where it is not kept).
    #[inline]
    pub(crate) fn second_moment(&self, component: usize, row: usize, col: usize) -> f64 {
        let size = self.layout.per_component(self.dim);
        match self.layout {
            Layout::Full => self.second[component * size + packed(row.max(col), row.min(col))],
            Layout::Diagonal if row == col => self.second[component * size + row],
            Layout::Diagonal => 0.0,
        }
    }

    /// Whether [`SufficientStats::q_of`] is exact for `mixture`: always with full second
    /// moments; with diagonal ones only if every covariance of `mixture` is diagonal (then
    /// tr(Σ⁻¹ S) reads only the diagonal of S).
    pub(crate) fn covers(&self, mixture: &Mixture) -> bool {
        let d = self.dim;
        self.layout == Layout::Full
            || (0..mixture.k()).all(|c| {
                let covariance = mixture.covariance(c);
                (0..d * d).all(|i| i % (d + 1) == 0 || covariance[i] == 0.0)
            })
    }

    /// Adds responsibility `weight` of point `x` (given as x − c_k in `diff`) to component `k`.
    #[inline]
    pub(crate) fn add(&mut self, component: usize, weight: f64, diff: &[f64]) {
        let d = self.dim;
        let size = self.layout.per_component(d);
        self.mass[component] += weight;
        let first = &mut self.first[component * d..(component + 1) * d];
        for (s, v) in first.iter_mut().zip(diff) {
            *s += weight * v;
        }
        let second = &mut self.second[component * size..(component + 1) * size];
        match self.layout {
            Layout::Full => {
                let mut index = 0;
                for row in 0..d {
                    let weighted = weight * diff[row];
                    for &v in &diff[..=row] {
                        second[index] += weighted * v;
                        index += 1;
                    }
                }
            }
            Layout::Diagonal => {
                for (s, v) in second.iter_mut().zip(diff) {
                    *s += weight * v * v;
                }
            }
        }
    }

    /// Whether computing a covariance as S2/N − m mᵀ would lose more than half of the digits
    /// of a variance: the shift from the centre to the new mean is large next to the spread
    /// (a component that moved far, or that is collapsing onto a subspace). The M-step then
    /// recomputes the statistics centred on the new means.
    pub(crate) fn loses_digits(&self) -> bool {
        const KEPT_FRACTION: f64 = 1e-8;
        let d = self.dim;
        (0..self.mass.len()).any(|component| {
            let mass = self.mass[component];
            (0..d).any(|j| {
                let raw = self.second_moment(component, j, j) / mass;
                let offset = self.first[component * d + j] / mass;
                let variance = raw - offset * offset;
                variance.is_nan() || variance <= KEPT_FRACTION * raw
            })
        })
    }

    /// The means of the next M-step, K·D values.
    pub(crate) fn new_means(&self) -> Vec<f64> {
        let d = self.dim;
        self.centres
            .iter()
            .zip(&self.first)
            .enumerate()
            .map(|(index, (c, s))| c + s / self.mass[index / d])
            .collect()
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        self.log_likelihood += other.log_likelihood;
        self.sum_r_log_r += other.sum_r_log_r;
        for (a, b) in self.mass.iter_mut().zip(&other.mass) {
            *a += b;
        }
        for (a, b) in self.first.iter_mut().zip(&other.first) {
            *a += b;
        }
        for (a, b) in self.second.iter_mut().zip(&other.second) {
            *a += b;
        }
    }

    /// The mean and covariance (row-major) of component `k` from the statistics, with
    /// `reg_covar` added to the diagonal.
    pub(crate) fn mean_and_covariance(
        &self,
        component: usize,
        reg_covar: f64,
    ) -> (Vec<f64>, Vec<f64>) {
        let d = self.dim;
        let mass = self.mass[component];
        let offset: Vec<f64> = self.first[component * d..(component + 1) * d]
            .iter()
            .map(|s| s / mass)
            .collect();
        let mean: Vec<f64> = self.centres[component * d..(component + 1) * d]
            .iter()
            .zip(&offset)
            .map(|(c, o)| c + o)
            .collect();
        let mut covariance = vec![0.0; d * d];
        for row in 0..d {
            for col in 0..=row {
                let value =
                    self.second_moment(component, row, col) / mass - offset[row] * offset[col];
                covariance[row * d + col] = value;
                covariance[col * d + row] = value;
            }
            covariance[row * d + row] += reg_covar;
        }
        (mean, covariance)
    }

    /// The expected complete-data log-likelihood Q(θ' | θ) of `mixture` = θ', where θ holds the
    /// parameters these statistics were accumulated at (r_ik are its responsibilities):
    ///
    /// Q = Σ_k [N_k ln λ'_k − (N_k/2)(D ln 2π + ln|Σ'_k|) − ½ tr(Σ'_k⁻¹ S_k(μ'_k))],
    /// S_k(μ') = Σ_i r_ik (x_i − μ')(x_i − μ')ᵀ = S2 − S1 δᵀ − δ S1ᵀ + N δ δᵀ, δ = μ' − c_k.
    ///
    /// O(K·D³) whatever n. `mixture` must have the statistics' K and D (callers check).
    /// At μ' = c_k (the parameters of the pass itself) δ = 0 and nothing cancels; at the
    /// M-step's means the cancellation is the M-step's own, which
    /// [`SufficientStats::loses_digits`] guards.
    pub(crate) fn q_of(&self, mixture: &Mixture) -> f64 {
        let d = self.dim;
        let mut total = 0.0;
        let mut scatter = vec![0.0; d * d];
        for (component, &mass) in self.mass.iter().enumerate() {
            let first = &self.first[component * d..(component + 1) * d];
            let delta: Vec<f64> = mixture
                .mean(component)
                .iter()
                .zip(&self.centres[component * d..(component + 1) * d])
                .map(|(m, c)| m - c)
                .collect();
            for row in 0..d {
                for col in 0..=row {
                    let value = self.second_moment(component, row, col)
                        - first[row] * delta[col]
                        - delta[row] * first[col]
                        + mass * delta[row] * delta[col];
                    scatter[row * d + col] = value;
                    scatter[col * d + row] = value;
                }
            }
            let lower = mixture.cholesky_factor(component);
            let log_det_half: f64 = (0..d).map(|j| lower[j * d + j].ln()).sum();
            // tr(Σ⁻¹ S) = tr(U S Uᵀ) with U = L⁻¹ lower-triangular: Σ_i Σ_{j,l ≤ i} U_ij S_jl U_il.
            let factor = invert_lower(d, lower);
            let mut trace = 0.0;
            for i in 0..d {
                let u = &factor[i * d..i * d + i + 1];
                for (j, &u_ij) in u.iter().enumerate() {
                    let row = &scatter[j * d..j * d + i + 1];
                    let inner: f64 = row.iter().zip(u).map(|(s, u_il)| s * u_il).sum();
                    trace += u_ij * inner;
                }
            }
            // N ln λ is 0 for an empty component (λ' > 0 always, so never 0·(−∞)).
            total += mass * mixture.weights()[component].ln()
                - mass * (0.5 * d as f64 * LN_2PI + log_det_half)
                - 0.5 * trace;
        }
        total
    }

    /// H = −Σ_i Σ_k r_ik ln r_ik, the entropy of the responsibilities (≥ 0).
    pub(crate) fn entropy(&self) -> f64 {
        // 0 − x rather than −x: hard EM's sum is +0, whose negation would print as −0.
        0.0 - self.sum_r_log_r
    }
}

/// One fused pass at `prepared`'s parameters: the total log-likelihood and the responsibility-
/// weighted statistics (second moments as `layout` says) for the next M-step, centred on the
/// current means.
pub(crate) fn e_step_stats(data: &Dataset, prepared: &Prepared, layout: Layout) -> SufficientStats {
    e_step_stats_about(data, prepared, None, layout)
}

/// The same pass with the statistics centred on `centres` (K·D values) instead of the current
/// means: with the new means as centres the covariance needs no cancelling subtraction, which
/// [`SufficientStats::loses_digits`] asks for when the fused statistics cannot be trusted.
pub(crate) fn e_step_stats_about(
    data: &Dataset,
    prepared: &Prepared,
    centres: Option<&[f64]>,
    layout: Layout,
) -> SufficientStats {
    let (k, d) = (prepared.k, prepared.dim);
    let chunk_stats = map_chunks(data, |chunk, weights| {
        chunk_stats(chunk, weights, prepared, centres, layout)
    });
    let centres = centres.map_or_else(|| prepared.means.clone(), <[f64]>::to_vec);
    let mut total = SufficientStats::zeros_in(layout, k, d, centres);
    if let Some(sum) = pairwise_sum(chunk_stats) {
        total.merge(&sum);
    }
    total
}

/// Sums the chunks' statistics as a balanced tree in a fixed order: the rounding error grows
/// with log₂ of the number of chunks instead of the number itself (10⁷ points are about 5 000
/// chunks), and the order does not depend on the thread count.
fn pairwise_sum(mut parts: Vec<SufficientStats>) -> Option<SufficientStats> {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut pairs = parts.into_iter();
        while let Some(mut left) = pairs.next() {
            if let Some(right) = pairs.next() {
                left.merge(&right);
            }
            next.push(left);
        }
        parts = next;
    }
    parts.pop()
}

/// Points below which a pass runs on the calling thread: the same chunks in the same order
/// (so the same results), without handing them to rayon's threads. Measured at D = 2, K = 3,
/// ms per iteration on this thread / on two (three rounds, loaded machine): 5 000 points
/// 0.30 / 0.42, 0.26 / 0.41, 0.42 / 0.40; 10 000 points 0.66 / 0.65, 0.44 / 0.81,
/// 0.39 / 0.59; 20 000 points 0.98 / 1.63: two threads pay from about two chunks on.
const SERIAL_POINTS: usize = 2 * CHUNK_POINTS;

/// `per_chunk` of every fixed chunk of the data, in order: in parallel, or on this thread for
/// small data (the chunks and so the results do not change).
/// Each chunk comes with its points' sample weights, if the data have them.
fn map_chunks<T: Send>(
    data: &Dataset,
    per_chunk: impl Fn(&[f64], Option<&[f64]>) -> T + Sync + Send,
) -> Vec<T> {
    let chunk_len = CHUNK_POINTS * data.dim();
    let with_weights = |(index, chunk): (usize, &[f64])| {
        let weights = data.weights().map(|weights| {
            let start = index * CHUNK_POINTS;
            &weights[start..start + chunk.len() / data.dim()]
        });
        per_chunk(chunk, weights)
    };
    if data.len() < SERIAL_POINTS {
        data.values()
            .chunks(chunk_len)
            .enumerate()
            .map(with_weights)
            .collect()
    } else {
        data.values()
            .par_chunks(chunk_len)
            .enumerate()
            .map(with_weights)
            .collect()
    }
}

/// The largest D whose full statistics go through a compiled kernel (`kernel.rs`); larger D go
/// through the blocked matrix kernels (`block.rs`). Measured at 100 000 points, K = 5, one
/// thread (ms per iteration, compiled / blocked, two rounds on a loaded machine): D = 4
/// 36 / 72, 33 / 57; D = 8 42 / 32, 34 / 38; D = 10 48 / 52, 52 / 50; D = 12 77 / 66, 69 / 56;
/// D = 16 198 / 88, 161 / 63. Again with the lane kernels (`kernel.rs`) and the banded blocked
/// ones, 100 000 points, K = 5, one thread, 10 iterations, min of 3 rounds, compiled / blocked:
/// D = 4 17.4 / 24.9, D = 6 8.3 / 21.5, D = 8 12.3 / 19.8, D = 10 17.1 / 31.2, D = 12
/// 84 / 33, D = 16 89 / 42 (compiled for the test only: past D = 10 the compiler no longer
/// keeps a group's values in vector registers). Again after the blocked kernels' lanes and
/// tiles (20 000 points per component, K = 5, one thread, 10 iterations, min of 3 rounds,
/// compiled / blocked): D = 4 6.0 / 11.3, D = 5 7.7 / 13.4, D = 6 9.1 / 13.6, D = 8
/// 12.3 / 16.4, D = 10 16.2 / 22.6.
const FIXED_MAX_DIM: usize = 10;

/// The fused pass over one chunk: for full statistics the kernel compiled for this D, else the
/// blocked kernels, which also serve diagonal statistics and diagonal or shared factors.
/// `weights` are the chunk's points' sample weights, if any.
fn chunk_stats(
    chunk: &[f64],
    weights: Option<&[f64]>,
    prepared: &Prepared,
    centres: Option<&[f64]>,
    layout: Layout,
) -> SufficientStats {
    macro_rules! by_dimension {
        ($($d:literal)*) => {
            match prepared.dim {
                $($d => kernel::chunk_stats::<$d>(chunk, weights, prepared, centres),)*
                _ => block::chunk_stats(chunk, weights, prepared, centres, layout),
            }
        };
    }
    if layout == Layout::Full && prepared.dim <= FIXED_MAX_DIM {
        by_dimension!(1 2 3 4 5 6 7 8 9 10)
    } else {
        block::chunk_stats(chunk, weights, prepared, centres, layout)
    }
}

/// The fused pass over one chunk for any D, point by point (for D above the compiled kernels,
/// and the reference they are tested against).
#[cfg(test)]
fn general_chunk_stats(
    chunk: &[f64],
    prepared: &Prepared,
    centres: Option<&[f64]>,
    layout: Layout,
) -> SufficientStats {
    let (k, d) = (prepared.k, prepared.dim);
    let mut stats = SufficientStats::zeros_in(layout, k, d, Vec::new());
    let mut diffs = vec![0.0; k * d];
    let mut log_probs = vec![0.0; k];
    let mut joint = vec![0.0; k];
    for point in chunk.chunks_exact(d) {
        prepared.joint_log_probs(point, &mut diffs, &mut log_probs);
        if let Some(centres) = centres {
            for ((diff, x), c) in diffs.iter_mut().zip(point.iter().cycle()).zip(centres) {
                *diff = x - c;
            }
        }
        joint.copy_from_slice(&log_probs);
        let log_density = normalise_log_probs(&mut log_probs);
        stats.log_likelihood += log_density;
        // ln r_k = ln(λ_k φ_k) − ln p(x); a responsibility of 0 adds nothing (0·ln 0 = 0).
        stats.sum_r_log_r += log_probs
            .iter()
            .zip(&joint)
            .filter(|(r, _)| **r > 0.0)
            .map(|(r, v)| r * (v - log_density))
            .sum::<f64>();
        for (component, &responsibility) in log_probs.iter().enumerate() {
            stats.add(
                component,
                responsibility,
                &diffs[component * d..(component + 1) * d],
            );
        }
    }
    stats
}

/// The pass of hard (classification) EM at `prepared`'s parameters: each point adds weight 1
/// to its most likely component (ties to the lower index) and nothing to the others, so the
/// masses are counts and the sums are those of the assigned points, centred on `centres` (K·D
/// values) or, if `None`, on the current means. The log-likelihood is still the mixture's
/// (log-sum-exp over the components), and Σ r ln r is 0 (the assignments have no entropy).
/// Also returns every point's component, in data order, so the caller can tell when the
/// assignments repeat.
///
/// Same fixed chunks and merge order as [`e_step_stats_about`], so the results are bit-identical
/// whatever the number of threads. Point by point: hard EM is for teaching, not for speed, and
/// the soft kernels stay as they are.
pub(crate) fn hard_stats_about(
    data: &Dataset,
    prepared: &Prepared,
    centres: Option<&[f64]>,
) -> (SufficientStats, Vec<u32>) {
    let (k, d) = (prepared.k, prepared.dim);
    let chunks = map_chunks(data, |chunk, weights| {
        hard_chunk_stats(chunk, weights, prepared, centres)
    });
    let mut assignments = Vec::with_capacity(data.len());
    let mut parts = Vec::with_capacity(chunks.len());
    for (stats, chunk_assignments) in chunks {
        parts.push(stats);
        assignments.extend(chunk_assignments);
    }
    let centres = centres.map_or_else(|| prepared.means.clone(), <[f64]>::to_vec);
    let mut total = SufficientStats::zeros(k, d, centres);
    if let Some(sum) = pairwise_sum(parts) {
        total.merge(&sum);
    }
    (total, assignments)
}

/// The hard pass over one chunk.
fn hard_chunk_stats(
    chunk: &[f64],
    weights: Option<&[f64]>,
    prepared: &Prepared,
    centres: Option<&[f64]>,
) -> (SufficientStats, Vec<u32>) {
    let (k, d) = (prepared.k, prepared.dim);
    let mut stats = SufficientStats::zeros(k, d, Vec::new());
    let mut assignments = Vec::with_capacity(chunk.len() / d);
    let mut diffs = vec![0.0; k * d];
    let mut log_probs = vec![0.0; k];
    for (index, point) in chunk.chunks_exact(d).enumerate() {
        // Unweighted points count 1, which multiplies without changing a bit.
        let weight = weights.map_or(1.0, |weights| weights[index]);
        prepared.joint_log_probs(point, &mut diffs, &mut log_probs);
        // The same rule as `most_likely`: the first strict maximum wins.
        let best = log_probs
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (c, &v)| {
                if v > best.1 { (c, v) } else { best }
            })
            .0;
        // A NaN or −∞ here makes the total non-finite, which the caller reports.
        stats.log_likelihood += weight * normalise_log_probs(&mut log_probs);
        let diff = &mut diffs[best * d..(best + 1) * d];
        if let Some(centres) = centres {
            for ((out, x), c) in diff.iter_mut().zip(point).zip(&centres[best * d..]) {
                *out = x - c;
            }
        }
        stats.add(best, weight, diff);
        // K is limited far below u32::MAX (limits::check_components).
        assignments.push(best as u32);
    }
    (stats, assignments)
}

/// The n×K responsibilities (row-major) and the total log-likelihood at `prepared`'s parameters.
pub(crate) fn responsibilities(data: &Dataset, prepared: &Prepared) -> (Vec<f64>, f64) {
    let (k, d) = (prepared.k, prepared.dim);
    let mut output = vec![0.0; data.len() * k];
    let log_likelihood: f64 = output
        .par_chunks_mut(CHUNK_POINTS * k)
        .zip(data.values().par_chunks(CHUNK_POINTS * d))
        .map(|(out, chunk)| {
            let mut diffs = vec![0.0; k * d];
            let mut chunk_total = 0.0;
            for (row, point) in out.chunks_exact_mut(k).zip(chunk.chunks_exact(d)) {
                prepared.joint_log_probs(point, &mut diffs, row);
                chunk_total += normalise_log_probs(row);
            }
            chunk_total
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    (output, log_likelihood)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::MixtureParams;

    fn mixture(weights: Vec<f64>, means: Vec<Vec<f64>>, covs: Vec<Vec<Vec<f64>>>) -> Mixture {
        Mixture::from_params(&MixtureParams {
            weights,
            means,
            covariances: covs,
        })
        .unwrap()
    }

    #[test]
    fn log_density_matches_closed_form_2d() {
        // Σ = [[4, 2], [2, 5]]: |Σ| = 16, Σ⁻¹ = [[5, -2], [-2, 4]] / 16.
        let m = mixture(
            vec![1.0],
            vec![vec![1.0, -1.0]],
            vec![vec![vec![4.0, 2.0], vec![2.0, 5.0]]],
        );
        let prepared = Prepared::new(&m);
        let (mut diffs, mut out) = (vec![0.0; 2], vec![0.0; 1]);
        prepared.joint_log_probs(&[2.0, 1.0], &mut diffs, &mut out);
        let (dx, dy) = (1.0, 2.0);
        let maha = (5.0 * dx * dx - 4.0 * dx * dy + 4.0 * dy * dy) / 16.0;
        let expected = -LN_2PI - 0.5 * 16f64.ln() - 0.5 * maha;
        assert!(
            (out[0] - expected).abs() < 1e-14,
            "{} vs {expected}",
            out[0]
        );
        assert_eq!(diffs, vec![1.0, 2.0]);
    }

    #[test]
    fn far_points_keep_finite_responsibilities() {
        // 40 standard deviations from every mean: raw densities underflow to 0, logs do not.
        let m = mixture(
            vec![0.5, 0.5],
            vec![vec![0.0], vec![1.0]],
            vec![vec![vec![1.0]], vec![vec![1.0]]],
        );
        let data = Dataset::new(1, vec![41.0, -40.0, 0.5]).unwrap();
        let (resp, ll) = responsibilities(&data, &Prepared::new(&m));
        assert!(ll.is_finite());
        assert!(
            resp.iter()
                .all(|r| r.is_finite() && (0.0..=1.0).contains(r))
        );
        assert!((resp[0] + resp[1] - 1.0).abs() < 1e-12);
        assert!(
            resp[1] > 0.999_999,
            "the point at +41 belongs to the mean at 1"
        );
        assert!(
            resp[2] > 0.999_999,
            "the point at -40 belongs to the mean at 0"
        );
        assert!((resp[4] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn stats_give_weighted_mean_and_covariance() {
        let data = Dataset::new(2, vec![0.0, 0.0, 2.0, 0.0, 0.0, 2.0, 2.0, 2.0]).unwrap();
        let m = mixture(
            vec![1.0],
            vec![vec![10.0, 10.0]],
            vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]],
        );
        let stats = e_step_stats(&data, &Prepared::new(&m), Layout::Full);
        assert_eq!(stats.mass, vec![4.0]);
        let (mean, cov) = stats.mean_and_covariance(0, 0.5);
        assert_eq!(mean, vec![1.0, 1.0]);
        assert_eq!(cov, vec![1.5, 0.0, 0.0, 1.5]);
    }

    #[test]
    fn exp_is_accurate_over_its_whole_range() {
        let mut worst: f64 = 0.0;
        // Normal results (subnormal ones below e^-708 have fewer bits to be exact in).
        let mut x = 0.0;
        while x > -708.0 {
            let (fast, exact) = (exp_nonpositive(x), x.exp());
            worst = worst.max(((fast - exact) / exact).abs());
            x -= 0.000_731;
        }
        assert!(worst < 4.5e-16, "worst relative error {worst:e}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-1000.0), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        // Subnormal results keep a sensible value.
        let tiny = exp_nonpositive(-740.0);
        assert!(((tiny - (-740.0f64).exp()) / (-740.0f64).exp()).abs() < 1e-6);
    }

    #[test]
    fn ln_is_within_one_ulp_from_one_up() {
        let ulp = |v: f64| f64::from_bits(v.abs().to_bits() + 1) - v.abs();
        let mut worst: f64 = 0.0;
        let mut x = 1.0;
        while x < 1e6 {
            let (fast, exact) = (ln_at_least_one(x), x.ln());
            if x > 1.0 {
                worst = worst.max((fast - exact).abs() / ulp(exact));
            } else {
                assert_eq!(fast, 0.0);
            }
            x *= 1.000_013_7;
        }
        assert!(worst <= 1.0, "worst error {worst} ulp");
        for x in [
            1.0 + f64::EPSILON,
            2.0,
            std::f64::consts::SQRT_2,
            3.0,
            5.0,
            1e300,
        ] {
            let (fast, exact) = (ln_at_least_one(x), x.ln());
            assert!((fast - exact).abs() <= ulp(exact), "{x}: {fast} vs {exact}");
        }
        assert_eq!(ln_at_least_one(0.0), f64::NEG_INFINITY);
    }

    /// Covariances for the kernel tests: full (correlated), diagonal, or one shared matrix.
    fn test_covariances(k: usize, d: usize, shape: &str) -> Vec<f64> {
        let mut covariances = Vec::new();
        for c in 0..k {
            let c = if shape == "shared" { 0 } else { c };
            for i in 0..d {
                for j in 0..d {
                    covariances.push(if i == j {
                        1.0 + c as f64 + 0.1 * i as f64
                    } else if shape == "diagonal" {
                        0.0
                    } else {
                        0.3 / (1 + i + j) as f64
                    });
                }
            }
        }
        covariances
    }

    /// Every kernel (compiled small-D, blocked full, diagonal and shared factors, full and
    /// diagonal statistics) agrees with the point-by-point reference, centred on the means or
    /// on other centres, including a last block shorter than the others.
    #[test]
    fn kernels_agree_with_the_reference() {
        for d in [1usize, 2, 3, 4, 5, 7, 10, 16, 17, 23, 50] {
            for shape in ["full", "diagonal", "shared"] {
                let k = 3;
                let n = 700;
                let values: Vec<f64> = (0..n * d)
                    .map(|i| ((i * 7919 + 13) % 1009) as f64 / 101.0 - 5.0 + (i % d) as f64)
                    .collect();
                let means: Vec<f64> = (0..k * d).map(|i| (i % 5) as f64 - 2.0).collect();
                let covariances = test_covariances(k, d, shape);
                let mixture =
                    Mixture::from_flat(d, vec![1.0, 2.0, 3.0], means, covariances).unwrap();
                let prepared = Prepared::new(&mixture);
                let expected_shape = match prepared.shape() {
                    FactorShape::Full => "full",
                    FactorShape::Diagonal(_) => "diagonal",
                    FactorShape::Shared { .. } => "shared",
                };
                // At D = 1 every factor is diagonal.
                assert_eq!(expected_shape, if d == 1 { "diagonal" } else { shape });
                let centres: Vec<f64> = (0..k * d).map(|i| i as f64 * 0.1).collect();
                let layouts: &[Layout] = if shape == "diagonal" {
                    &[Layout::Full, Layout::Diagonal]
                } else {
                    &[Layout::Full]
                };
                for &layout in layouts {
                    for centre in [None, Some(centres.as_slice())] {
                        let what = format!("d {d}, {shape} factors, {layout:?} statistics");
                        let reference = general_chunk_stats(&values, &prepared, centre, layout);
                        let fast = chunk_stats(&values, None, &prepared, centre, layout);
                        let close = |a: &[f64], b: &[f64]| {
                            a.len() == b.len()
                                && a.iter()
                                    .zip(b)
                                    .all(|(x, y)| (x - y).abs() <= 1e-11 * x.abs().max(1.0))
                        };
                        assert!(
                            close(&[fast.log_likelihood], &[reference.log_likelihood]),
                            "{what}"
                        );
                        assert!(close(&fast.mass, &reference.mass), "{what}");
                        assert!(
                            close(&[fast.sum_r_log_r], &[reference.sum_r_log_r]),
                            "{what}: {} vs {}",
                            fast.sum_r_log_r,
                            reference.sum_r_log_r
                        );
                        assert!(close(&fast.first, &reference.first), "{what}");
                        assert!(close(&fast.second, &reference.second), "{what}");
                    }
                }
            }
        }
    }

    /// The kernel versions the CPU runs (AVX-512 or AVX2 + FMA where it has them) give the
    /// same bits as the baseline versions: no multiply-add is fused and no sum reordered, so
    /// wider vectors change nothing. (The shared factor's matrix product beyond D = 10 is
    /// matrixmultiply's, the same call in both versions here; see the module's notes.)
    #[test]
    fn instruction_sets_give_the_same_bits() {
        for d in [1usize, 2, 3, 5, 10, 12, 50] {
            for shape in ["full", "diagonal", "shared"] {
                let k = 3;
                let values: Vec<f64> = (0..1000 * d)
                    .map(|i| ((i * 7919 + 13) % 1009) as f64 / 101.0 - 5.0 + (i % d) as f64)
                    .collect();
                let means: Vec<f64> = (0..k * d).map(|i| (i % 5) as f64 - 2.0).collect();
                let mixture = Mixture::from_flat(
                    d,
                    vec![1.0, 2.0, 3.0],
                    means,
                    test_covariances(k, d, shape),
                )
                .unwrap();
                let prepared = Prepared::new(&mixture);
                for layout in [Layout::Full, Layout::Diagonal] {
                    let what = format!("d {d}, {shape} factors, {layout:?} statistics");
                    let dispatched = block::chunk_stats(&values, None, &prepared, None, layout);
                    let baseline =
                        block::portable_chunk_stats(&values, None, &prepared, None, layout);
                    assert_eq!(dispatched, baseline, "blocked, {what}");
                }
                macro_rules! compiled {
                    ($($dim:literal)*) => {
                        match d {
                            $($dim => (
                                kernel::chunk_stats::<$dim>(&values, None, &prepared, None),
                                kernel::portable_chunk_stats::<$dim>(&values, None, &prepared, None),
                            ),)*
                            _ => continue,
                        }
                    };
                }
                let (dispatched, baseline) = compiled!(1 2 3 4 5 6 7 8 9 10);
                assert_eq!(dispatched, baseline, "compiled, d {d}, {shape} factors");
            }
        }
    }

    /// Diagonal statistics are the diagonal of the full ones, give the same M-step for a
    /// diagonal fit, and cover Q exactly when θ' is diagonal.
    #[test]
    fn diagonal_statistics_are_the_diagonal_of_the_full_ones() {
        let (k, d) = (2, 4);
        let values: Vec<f64> = (0..300 * d).map(|i| ((i * 31) % 97) as f64 / 9.0).collect();
        let data = Dataset::new(d, values).unwrap();
        let mixture = Mixture::from_flat(
            d,
            vec![0.4, 0.6],
            (0..k * d).map(|i| i as f64).collect(),
            test_covariances(k, d, "diagonal"),
        )
        .unwrap();
        let prepared = Prepared::new(&mixture);
        let full = e_step_stats(&data, &prepared, Layout::Full);
        let diagonal = e_step_stats(&data, &prepared, Layout::Diagonal);
        for c in 0..k {
            for j in 0..d {
                let (a, b) = (full.second_moment(c, j, j), diagonal.second_moment(c, j, j));
                assert!((a - b).abs() <= 1e-12 * a.abs(), "{a} vs {b}");
            }
            assert_eq!(diagonal.second_moment(c, 0, 1), 0.0);
        }
        assert!(diagonal.covers(&mixture));
        let q = (full.q_of(&mixture), diagonal.q_of(&mixture));
        assert!((q.0 - q.1).abs() <= 1e-12 * q.0.abs(), "{q:?}");
        let correlated = Mixture::from_flat(
            d,
            vec![0.4, 0.6],
            (0..k * d).map(|i| i as f64).collect(),
            test_covariances(k, d, "full"),
        )
        .unwrap();
        assert!(!diagonal.covers(&correlated));
        assert!(full.covers(&correlated));
    }

    #[test]
    fn ten_million_points_keep_their_digits() {
        // x_i = 1000.1 + (i mod 7): the exact sum is known in tenths, in integers.
        let n = 10_000_000usize;
        let values: Vec<f64> = (0..n).map(|i| 1000.1 + (i % 7) as f64).collect();
        let exact_tenths: i128 = (0..n).map(|i| 10_001 + 10 * (i % 7) as i128).sum();
        let exact = exact_tenths as f64 / 10.0;
        let data = Dataset::new(1, values).unwrap();
        let m = mixture(vec![1.0], vec![vec![0.0]], vec![vec![vec![1e6]]]);
        let stats = e_step_stats(&data, &Prepared::new(&m), Layout::Full);
        assert_eq!(stats.mass, vec![n as f64]);
        let error = (stats.first[0] - exact).abs() / exact;
        assert!(error < 1e-13, "relative error {error:e}");
    }

    #[test]
    fn inverse_of_lower_triangle() {
        let lower = vec![2.0, 0.0, 0.0, 1.0, 3.0, 0.0, 4.0, 5.0, 6.0];
        let inverse = invert_lower(3, &lower);
        for i in 0..3 {
            for j in 0..3 {
                let product: f64 = (0..3).map(|p| lower[i * 3 + p] * inverse[p * 3 + j]).sum();
                assert!((product - if i == j { 1.0 } else { 0.0 }).abs() < 1e-15);
            }
        }
    }
}
