//! The fused E-step + statistics pass over one chunk (log-likelihood, Σ r ln r, N_k, Σ r x,
//! Σ r x xᵀ), compiled for each D up to 10 (`pass.rs` picks the kernel; larger D, and diagonal
//! statistics, go through the blocked kernels of `block.rs`).
//!
//! The points go [`LANES`] at a time, side by side: a group of points is transposed to D rows
//! of [`LANES`] values, and every step (differences, the triangular product, the exponentials
//! and logarithm, the responsibilities, the weighted sums) is the same arithmetic on each lane,
//! which the compiler turns into vector instructions (one AVX-512 register, two AVX2 ones).
//! Every sum is kept per lane, in point order, and the lanes are added pairwise at the end of
//! the chunk: a fixed order, so the results depend neither on the threads nor on the
//! instruction set. With D a compile-time constant the loops over coordinates unroll, and a
//! group's values stay in registers from the data to the sums.
//!
//! The general-D path in `pass.rs` computes the same quantities up to rounding.

use multiversion::multiversion;

use super::pass::{Prepared, SufficientStats, exp_nonpositive, ln_at_least_one};

// Measured at 100k×10×5 (one thread, ms per iteration): 13 with the point-by-point compiled
// kernel this replaced, 19.5 before it; see the commit adding the lanes for their figures. The
// crossover with the blocked kernels is measured in `pass.rs` (FIXED_MAX_DIM).

/// Points handled side by side: one AVX-512 vector of f64 (two AVX2 ones, four SSE2 ones; the
/// same on every instruction set so that the sums, kept per lane, add in the same order).
const LANES: usize = 8;

/// One value per lane.
type Lanes = [f64; LANES];

/// One chunk of points (row-major, D values each) at `prepared`'s parameters; statistics
/// centred on `centres` (K·D values) or, if `None`, on the current means.
///
/// Compiled for AVX-512, AVX2 + FMA and the baseline, and chosen by the CPU at run time (see
/// `pass.rs` on why the results do not depend on the choice).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn chunk_stats<const D: usize>(
    chunk: &[f64],
    weights: Option<&[f64]>,
    prepared: &Prepared,
    centres: Option<&[f64]>,
) -> SufficientStats {
    portable_chunk_stats::<D>(chunk, weights, prepared, centres)
}

/// The body of [`chunk_stats`], inlined into each instruction-set version (and, called from
/// the tests, the baseline version to compare them with).
#[inline(always)]
pub(crate) fn portable_chunk_stats<const D: usize>(
    chunk: &[f64],
    weights: Option<&[f64]>,
    prepared: &Prepared,
    centres: Option<&[f64]>,
) -> SufficientStats {
    // Two instantiations, so the unweighted loop has no multiplication by weights.
    match weights {
        None => weighted_chunk_stats::<D, false>(chunk, &[], prepared, centres),
        Some(weights) => weighted_chunk_stats::<D, true>(chunk, weights, prepared, centres),
    }
}

/// The parameters of one pass in fixed-size form.
struct Model<const D: usize> {
    means: Vec<[f64; D]>,
    /// Row-major lower-triangular precision factors U_k.
    factors: Vec<[[f64; D]; D]>,
    log_normalisers: Vec<f64>,
    centres: Vec<[f64; D]>,
}

/// The running per-lane sums of one chunk.
struct Accumulators<const D: usize> {
    log_likelihood: Lanes,
    sum_r_log_r: Lanes,
    mass: Vec<Lanes>,
    first: Vec<[Lanes; D]>,
    /// S2_k[i][j] for j ≤ i (the upper triangle stays 0).
    second: Vec<[[Lanes; D]; D]>,
}

/// Per-group scratch: K rows of lanes each.
struct GroupScratch {
    /// Joint log probabilities, then their shift by the maximum.
    shifted: Vec<Lanes>,
    exps: Vec<Lanes>,
    /// Responsibilities (times the weights), 0 in lanes past the data.
    shares: Vec<Lanes>,
}

/// The body of [`portable_chunk_stats`]; `weights` (one per point of the chunk) are read only
/// if `WEIGHTED`.
#[inline(always)]
fn weighted_chunk_stats<const D: usize, const WEIGHTED: bool>(
    chunk: &[f64],
    weights: &[f64],
    prepared: &Prepared,
    centres: Option<&[f64]>,
) -> SufficientStats {
    let k = prepared.k();
    let means: Vec<[f64; D]> = (0..k).map(|c| fixed(prepared.mean(c))).collect();
    let model = Model::<D> {
        factors: (0..k)
            .map(|c| {
                let factor = prepared.precision_factor(c);
                std::array::from_fn(|row| fixed(&factor[row * D..(row + 1) * D]))
            })
            .collect(),
        log_normalisers: prepared.log_normalisers().to_vec(),
        centres: match centres {
            Some(centres) => centres.chunks_exact(D).map(fixed).collect(),
            None => means.clone(),
        },
        means,
    };
    let mut sums = Accumulators::<D> {
        log_likelihood: [0.0; LANES],
        sum_r_log_r: [0.0; LANES],
        mass: vec![[0.0; LANES]; k],
        first: vec![[[0.0; LANES]; D]; k],
        second: vec![[[[0.0; LANES]; D]; D]; k],
    };
    let mut scratch = GroupScratch {
        shifted: vec![[0.0; LANES]; k],
        exps: vec![[0.0; LANES]; k],
        shares: vec![[0.0; LANES]; k],
    };

    let points = chunk.len() / D;
    let whole = points - points % LANES;
    for start in (0..whole).step_by(LANES) {
        let x: [Lanes; D] =
            std::array::from_fn(|j| std::array::from_fn(|l| chunk[(start + l) * D + j]));
        let weight: Lanes = if WEIGHTED {
            std::array::from_fn(|l| weights[start + l])
        } else {
            [1.0; LANES]
        };
        add_group::<D, WEIGHTED, false>(&x, &weight, LANES, &model, &mut sums, &mut scratch);
    }
    if whole < points {
        // The last group is filled up with copies of its last point, whose shares and sums
        // are then zeroed, so the padding adds nothing (not even a NaN times 0).
        let valid = points - whole;
        let x: [Lanes; D] = std::array::from_fn(|j| {
            std::array::from_fn(|l| chunk[(whole + l.min(valid - 1)) * D + j])
        });
        let weight: Lanes = if WEIGHTED {
            std::array::from_fn(|l| weights[whole + l.min(valid - 1)])
        } else {
            [1.0; LANES]
        };
        add_group::<D, WEIGHTED, true>(&x, &weight, valid, &model, &mut sums, &mut scratch);
    }

    let mut stats = SufficientStats::zeros(k, D, Vec::new());
    stats.log_likelihood = lane_total(&sums.log_likelihood);
    stats.sum_r_log_r = lane_total(&sums.sum_r_log_r);
    stats.mass = sums.mass.iter().map(lane_total).collect();
    let tri = D * (D + 1) / 2;
    for c in 0..k {
        for i in 0..D {
            stats.first[c * D + i] = lane_total(&sums.first[c][i]);
        }
        let mut index = c * tri;
        for (i, row) in sums.second[c].iter().enumerate() {
            for lanes in &row[..=i] {
                stats.second[index] = lane_total(lanes);
                index += 1;
            }
        }
    }
    stats
}

/// Adds one group of [`LANES`] points (`x`: coordinate j of lane l at `x[j][l]`), of which the
/// first `valid` are data, to the sums. `PARTIAL` (a constant, so that full groups pay
/// nothing) zeroes what the lanes from `valid` on would add.
// Index loops mirror the formulas (triangles by row and column) and unroll at fixed D.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn add_group<const D: usize, const WEIGHTED: bool, const PARTIAL: bool>(
    x: &[Lanes; D],
    weight: &Lanes,
    valid: usize,
    model: &Model<D>,
    sums: &mut Accumulators<D>,
    scratch: &mut GroupScratch,
) {
    let k = model.log_normalisers.len();
    // Joint log probabilities ln(λ_c φ_c(x)) = ln λ_c − ½ ln|2πΣ_c| − ½ |U_c (x − μ_c)|².
    let mut max = [f64::NEG_INFINITY; LANES];
    for c in 0..k {
        let (mean, factor) = (&model.means[c], &model.factors[c]);
        let diff: [Lanes; D] = std::array::from_fn(|j| std::array::from_fn(|l| x[j][l] - mean[j]));
        let mut mahalanobis = [0.0; LANES];
        for row in 0..D {
            let mut y = [0.0; LANES];
            for col in 0..=row {
                for l in 0..LANES {
                    y[l] += factor[row][col] * diff[col][l];
                }
            }
            for l in 0..LANES {
                mahalanobis[l] += y[l] * y[l];
            }
        }
        let log_normaliser = model.log_normalisers[c];
        for l in 0..LANES {
            let value = log_normaliser - 0.5 * mahalanobis[l];
            scratch.shifted[c][l] = value;
            max[l] = max[l].max(value);
        }
    }
    // Responsibilities r = e^s / Σ e^s with s = v − max (so Σ e^s ≥ 1), the log density
    // max + ln Σ e^s, and Σ_c r ln r = Σ_c r s − ln Σ e^s (the r sum to one). An s so negative
    // that e^s is 0 (r = 0, 0·ln 0 = 0), even −∞, is clamped to a finite value first so that
    // the product is 0, not NaN.
    // Flat loops over the K·LANES values, so that the exponentials vectorise.
    for shifted in scratch.shifted.iter_mut() {
        for l in 0..LANES {
            shifted[l] -= max[l];
        }
    }
    for (e, &shifted) in scratch
        .exps
        .as_flattened_mut()
        .iter_mut()
        .zip(scratch.shifted.as_flattened())
    {
        *e = exp_nonpositive(shifted);
    }
    let mut total = [0.0; LANES];
    for exps in &scratch.exps {
        for l in 0..LANES {
            total[l] += exps[l];
        }
    }
    let mut ln_total = [0.0; LANES];
    let mut inverse = [0.0; LANES];
    for l in 0..LANES {
        ln_total[l] = ln_at_least_one(total[l]);
        inverse[l] = 1.0 / total[l];
    }
    let mut r_times_s = [0.0; LANES];
    for c in 0..k {
        for l in 0..LANES {
            let r = scratch.exps[c][l] * inverse[l];
            r_times_s[l] += r * scratch.shifted[c][l].max(-1000.0);
            let share = if WEIGHTED { weight[l] * r } else { r };
            scratch.shares[c][l] = if PARTIAL && l >= valid { 0.0 } else { share };
        }
    }
    for l in 0..LANES {
        let (mut log_density, mut r_log_r) = (max[l] + ln_total[l], r_times_s[l] - ln_total[l]);
        if WEIGHTED {
            log_density *= weight[l];
            r_log_r *= weight[l];
        }
        if !(PARTIAL && l >= valid) {
            sums.log_likelihood[l] += log_density;
            sums.sum_r_log_r[l] += r_log_r;
        }
    }
    // The responsibility-weighted sums, the one place this kernel accumulates r.
    for c in 0..k {
        let (r, centre) = (&scratch.shares[c], &model.centres[c]);
        let diff: [Lanes; D] =
            std::array::from_fn(|j| std::array::from_fn(|l| x[j][l] - centre[j]));
        let (first, second) = (&mut sums.first[c], &mut sums.second[c]);
        add_lanes(&mut sums.mass[c], r);
        for i in 0..D {
            let weighted = product(r, &diff[i]);
            add_lanes(&mut first[i], &weighted);
            if D == 4 {
                // The same sums, indexed: at D = 4 the compiler turns the form below into
                // scatters across the sums instead of one vector per lane group (measured at
                // 100 000 × 4 × 5, one thread: 15.5 ms per iteration, 6.0 indexed). At the other
                // D the indexed form measured 3–7 % slower, so it is kept to D = 4.
                #[allow(clippy::needless_range_loop)]
                for j in 0..=i {
                    add_lanes(&mut second[i][j], &product(&weighted, &diff[j]));
                }
            } else {
                for (sum, diff) in second[i][..=i].iter_mut().zip(&diff[..=i]) {
                    add_lanes(sum, &product(&weighted, diff));
                }
            }
        }
    }
}

/// a·b lane by lane.
#[inline(always)]
fn product(a: &Lanes, b: &Lanes) -> Lanes {
    std::array::from_fn(|l| a[l] * b[l])
}

/// sum += add lane by lane, as one load and one store of the whole sum (written element by
/// element, the compiler kept the D = 10 sums scalar: it could not move the loads of the next
/// lanes above the store of the previous one).
#[inline(always)]
fn add_lanes(sum: &mut Lanes, add: &Lanes) {
    let mut lanes = *sum;
    for l in 0..LANES {
        lanes[l] += add[l];
    }
    *sum = lanes;
}

/// The sum of the lanes, added pairwise in a fixed order.
#[inline(always)]
fn lane_total(lanes: &Lanes) -> f64 {
    let [a, b, c, d, e, f, g, h] = *lanes;
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}

/// The first D values of `values` as an array (callers pass exactly D).
#[inline(always)]
fn fixed<const D: usize>(values: &[f64]) -> [f64; D] {
    std::array::from_fn(|j| values[j])
}
