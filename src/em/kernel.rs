//! The fused E-step + statistics pass over one chunk (log-likelihood, Σ r ln r, N_k, Σ r x,
//! Σ r x xᵀ), compiled for each D up to 10 (`pass.rs` picks the kernel; larger D, and diagonal
//! statistics, go through the blocked kernels of `block.rs`).
//!
//! With D a compile-time constant the per-point work (differences, the triangular solve, the
//! outer products) is fixed-size arithmetic the compiler unrolls, and the points are handled in
//! blocks so that the exponentials of a whole block are taken in one tight loop (the
//! responsibilities come from `block::block_responsibilities`, as in every pass). The
//! general-D path in `pass.rs` computes the same quantities up to rounding.

use multiversion::multiversion;

use super::block::{ResponsibilityBuffers, block_responsibilities};
use super::pass::{Prepared, SufficientStats};

// Measured at 100k×10×5: 13 ms per iteration with the D = 10 kernel, 19.5 ms point by point;
// the crossover with the blocked kernels is measured in `pass.rs` (FIXED_MAX_DIM).

/// Points handled together: their K·BLOCK log probabilities sit in a small buffer.
const BLOCK: usize = 64;

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
    // Two instantiations, so the unweighted loop is the one it was before weights existed.
    match weights {
        None => weighted_chunk_stats::<D, false>(chunk, &[], prepared, centres),
        Some(weights) => weighted_chunk_stats::<D, true>(chunk, weights, prepared, centres),
    }
}

/// The body of [`portable_chunk_stats`]; `weights` (one per point of the chunk) are read only
/// if `WEIGHTED`.
// Index loops mirror the formulas (triangles by row and column) and unroll at fixed D.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn weighted_chunk_stats<const D: usize, const WEIGHTED: bool>(
    chunk: &[f64],
    weights: &[f64],
    prepared: &Prepared,
    centres: Option<&[f64]>,
) -> SufficientStats {
    let k = prepared.k();
    let means: Vec<[f64; D]> = (0..k).map(|c| fixed(prepared.mean(c))).collect();
    let factors: Vec<[[f64; D]; D]> = (0..k)
        .map(|c| {
            let factor = prepared.precision_factor(c);
            std::array::from_fn(|row| fixed(&factor[row * D..(row + 1) * D]))
        })
        .collect();
    let log_normalisers = prepared.log_normalisers();
    let centres: Vec<[f64; D]> = match centres {
        Some(centres) => centres.chunks_exact(D).map(fixed).collect(),
        None => means.clone(),
    };

    let mut mass = vec![0.0; k];
    let mut first = vec![[0.0; D]; k];
    let mut second = vec![[[0.0; D]; D]; k];
    let mut log_likelihood = 0.0;
    let mut sum_r_log_r = 0.0;
    let mut log_probs = vec![0.0; BLOCK * k];
    let mut buffers = ResponsibilityBuffers::new(BLOCK, k);

    for (index, block) in chunk.chunks(BLOCK * D).enumerate() {
        let points = block.len() / D;
        // Joint log probabilities ln(λ_c φ_c(x)) of every point and component.
        for p in 0..points {
            let x: [f64; D] = fixed(&block[p * D..(p + 1) * D]);
            for c in 0..k {
                let diff: [f64; D] = std::array::from_fn(|j| x[j] - means[c][j]);
                let mut mahalanobis = 0.0;
                for row in 0..D {
                    let mut y = 0.0;
                    for col in 0..=row {
                        y += factors[c][row][col] * diff[col];
                    }
                    mahalanobis += y * y;
                }
                log_probs[p * k + c] = log_normalisers[c] - 0.5 * mahalanobis;
            }
        }
        let responsibilities = &mut log_probs[..points * k];
        // With weights, the responsibilities come back as w·r: the sums below are weighted.
        let block_weights = WEIGHTED.then(|| &weights[index * BLOCK..index * BLOCK + points]);
        let (block_log_likelihood, block_sum_r_log_r) =
            block_responsibilities(responsibilities, k, &mut buffers, block_weights);
        log_likelihood += block_log_likelihood;
        sum_r_log_r += block_sum_r_log_r;
        // The responsibility-weighted sums, the one place this kernel accumulates r.
        for (p, shares) in responsibilities.chunks_exact(k).enumerate() {
            let x: [f64; D] = fixed(&block[p * D..(p + 1) * D]);
            for c in 0..k {
                let r = shares[c];
                let diff: [f64; D] = std::array::from_fn(|j| x[j] - centres[c][j]);
                mass[c] += r;
                for i in 0..D {
                    let weighted = r * diff[i];
                    first[c][i] += weighted;
                    for j in 0..=i {
                        second[c][i][j] += weighted * diff[j];
                    }
                }
            }
        }
    }

    let mut stats = SufficientStats::zeros(k, D, Vec::new());
    stats.log_likelihood = log_likelihood;
    stats.sum_r_log_r = sum_r_log_r;
    stats.mass = mass;
    let tri = D * (D + 1) / 2;
    for c in 0..k {
        stats.first[c * D..(c + 1) * D].copy_from_slice(&first[c]);
        let mut index = c * tri;
        for i in 0..D {
            for j in 0..=i {
                stats.second[index] = second[c][i][j];
                index += 1;
            }
        }
    }
    stats
}

/// The first D values of `values` as an array (callers pass exactly D).
#[inline(always)]
fn fixed<const D: usize>(values: &[f64]) -> [f64; D] {
    std::array::from_fn(|j| values[j])
}
