//! Using a fitted mixture on data, row by row: each row's log density ln f(x) (scikit-learn's
//! `score_samples`), its most likely component (`predict`, from the weighted log densities as
//! scikit-learn does, ties to the lower index) and its responsibilities (`predict_proba`); and
//! the integrated completed likelihood criterion (ICL) of a fit.
//!
//! Rows are processed in the engine's fixed chunks on rayon's threads, so the output does not
//! depend on the thread count.

use rayon::prelude::*;

use super::Dataset;
use super::model::Mixture;
use super::pass::{CHUNK_POINTS, Prepared, normalise_log_probs};

/// Per-row results of a mixture on a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct RowScores {
    /// ln f(x_i) = ln Σ_k λ_k φ(x_i; μ_k, Σ_k), one per row.
    pub log_densities: Vec<f64>,
    /// The most likely component of each row (0-based): argmax_k ln λ_k φ_k(x_i).
    pub components: Vec<usize>,
    /// The n×K responsibilities (row-major), only when asked for.
    pub responsibilities: Option<Vec<f64>>,
}

impl RowScores {
    /// The mean of the rows' log densities (scikit-learn's `score`); NaN for no rows.
    pub fn mean_log_density(&self) -> f64 {
        self.total_log_density() / self.log_densities.len() as f64
    }

    /// The total log-likelihood Σ_i ln f(x_i).
    pub fn total_log_density(&self) -> f64 {
        self.log_densities.iter().sum()
    }
}

/// Evaluates `mixture` on every row of `data` (the dimensions must agree); the n×K
/// responsibilities are kept only `with_responsibilities`.
pub fn score_rows(data: &Dataset, mixture: &Mixture, with_responsibilities: bool) -> RowScores {
    let prepared = Prepared::new(mixture);
    let (k, d) = (mixture.k(), mixture.dim());
    let chunks: Vec<(Vec<f64>, Vec<usize>, Vec<f64>)> = data
        .values()
        .par_chunks(CHUNK_POINTS * d)
        .map(|chunk| {
            let rows = chunk.len() / d;
            let mut densities = Vec::with_capacity(rows);
            let mut components = Vec::with_capacity(rows);
            let mut responsibilities =
                Vec::with_capacity(if with_responsibilities { rows * k } else { 0 });
            let mut diffs = vec![0.0; k * d];
            let mut log_probs = vec![0.0; k];
            for point in chunk.chunks_exact(d) {
                prepared.joint_log_probs(point, &mut diffs, &mut log_probs);
                // The argmax of the weighted log densities, before they become responsibilities
                // (exponentials can round two close values to a tie).
                components.push(first_maximum(&log_probs));
                densities.push(normalise_log_probs(&mut log_probs));
                if with_responsibilities {
                    responsibilities.extend_from_slice(&log_probs);
                }
            }
            (densities, components, responsibilities)
        })
        .collect();
    let mut scores = RowScores {
        log_densities: Vec::with_capacity(data.len()),
        components: Vec::with_capacity(data.len()),
        responsibilities: with_responsibilities.then(|| Vec::with_capacity(data.len() * k)),
    };
    for (densities, components, responsibilities) in chunks {
        scores.log_densities.extend(densities);
        scores.components.extend(components);
        if let Some(all) = &mut scores.responsibilities {
            all.extend(responsibilities);
        }
    }
    scores
}

/// The index of the largest value, the first of equal ones (NumPy's `argmax`, which
/// scikit-learn's `predict` uses).
fn first_maximum(values: &[f64]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if value > values[best] {
            best = index;
        }
    }
    best
}

/// Σ_i ln max_k r_ik: the log of the probability that the most likely components are the true
/// ones, under `mixture` (≤ 0; 0 when every row is assigned with certainty).
pub fn map_log_responsibility(data: &Dataset, mixture: &Mixture) -> f64 {
    let prepared = Prepared::new(mixture);
    let (k, d) = (mixture.k(), mixture.dim());
    let per_chunk: Vec<f64> = data
        .values()
        .par_chunks(CHUNK_POINTS * d)
        .map(|chunk| {
            let mut diffs = vec![0.0; k * d];
            let mut log_probs = vec![0.0; k];
            chunk
                .chunks_exact(d)
                .map(|point| {
                    prepared.joint_log_probs(point, &mut diffs, &mut log_probs);
                    let top = log_probs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    // ln max_k r_k = l_top − ln Σ_j e^{l_j} = −ln Σ_j e^{l_j − l_top}, the sum ≥ 1.
                    -log_probs.iter().map(|&l| (l - top).exp()).sum::<f64>().ln()
                })
                .sum::<f64>()
        })
        .collect();
    per_chunk.iter().sum()
}

/// The integrated completed likelihood criterion as mclust computes it, on scikit-learn's
/// lower-is-better scale: ICL = BIC − 2 Σ_i ln r_{i,ẑ_i}, with ẑ_i the most likely component of
/// row i. It adds to BIC a penalty for rows that no component claims clearly, so it prefers
/// well-separated components (Biernacki, Celeux & Govaert 2000; mclust's `icl`).
pub fn icl(bic: f64, data: &Dataset, mixture: &Mixture) -> f64 {
    bic - 2.0 * map_log_responsibility(data, mixture)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::MixtureParams;

    fn two_components() -> Mixture {
        Mixture::from_params(&MixtureParams {
            weights: vec![0.25, 0.75],
            means: vec![vec![0.0], vec![2.0]],
            covariances: vec![vec![vec![1.0]], vec![vec![4.0]]],
        })
        .unwrap()
    }

    /// The density of the mixture at x, written out from the formula.
    fn by_hand(x: f64) -> (f64, [f64; 2]) {
        let phi = |x: f64, m: f64, v: f64| {
            (-(x - m) * (x - m) / (2.0 * v)).exp() / (2.0 * std::f64::consts::PI * v).sqrt()
        };
        let joint = [0.25 * phi(x, 0.0, 1.0), 0.75 * phi(x, 2.0, 4.0)];
        let total = joint[0] + joint[1];
        (total.ln(), [joint[0] / total, joint[1] / total])
    }

    #[test]
    fn rows_match_the_formula() {
        let xs = [-1.5, 0.0, 0.7, 2.0, 9.0];
        let data = Dataset::new(1, xs.to_vec()).unwrap();
        let scores = score_rows(&data, &two_components(), true);
        let responsibilities = scores.responsibilities.as_ref().unwrap();
        for (i, &x) in xs.iter().enumerate() {
            let (log_density, r) = by_hand(x);
            assert!((scores.log_densities[i] - log_density).abs() <= 1e-13 * log_density.abs());
            for c in 0..2 {
                assert!((responsibilities[2 * i + c] - r[c]).abs() <= 1e-13);
            }
            let expected = if r[0] > r[1] { 0 } else { 1 };
            assert_eq!(scores.components[i], expected, "x = {x}");
        }
        let total: f64 = xs.iter().map(|&x| by_hand(x).0).sum();
        assert!((scores.total_log_density() - total).abs() <= 1e-12 * total.abs());
        assert!((scores.mean_log_density() - total / 5.0).abs() <= 1e-12 * total.abs());
    }

    #[test]
    fn icl_adds_the_classification_penalty() {
        let xs = [-1.5, 0.0, 0.7, 2.0, 9.0];
        let data = Dataset::new(1, xs.to_vec()).unwrap();
        let penalty: f64 = xs
            .iter()
            .map(|&x| {
                let (_, r) = by_hand(x);
                -2.0 * r[0].max(r[1]).ln()
            })
            .sum();
        let icl_value = icl(100.0, &data, &two_components());
        assert!((icl_value - (100.0 + penalty)).abs() <= 1e-12 * icl_value);
        assert!(penalty > 0.0);
    }

    #[test]
    fn bit_identical_whatever_the_threads() {
        let values: Vec<f64> = (0..9000).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
        let data = Dataset::new(1, values).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    (
                        score_rows(&data, &two_components(), true),
                        map_log_responsibility(&data, &two_components()),
                    )
                })
        };
        assert_eq!(run(1), run(3));
    }
}
