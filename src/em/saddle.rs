//! Telling a saddle point from a maximum when the convergence test fires.
//!
//! Two components with the same weight-free parameters (mean and covariance) get responsibilities
//! in the fixed ratio of their weights at every point, so the M-step gives them the same mean and
//! covariance again: identical components stay identical for ever. A start that makes them
//! (nearly) identical — random responsibilities average out to the same component K times — is
//! therefore a fixed point of EM with the log-likelihood of a (K−1)-component fit, almost always
//! a saddle: the per-point change is tiny, the tolerance test fires, and the run would be
//! reported as converged at a log-likelihood far below the optimum.
//!
//! The measure of "nearly identical" is the Bhattacharyya distance between the two Gaussians,
//! D_B = ⅛ δᵀ Σ̄⁻¹ δ + ½ ln(det Σ̄ / √(det Σ_i det Σ_j)) with δ = μ_i − μ_j and Σ̄ = (Σ_i + Σ_j)/2.
//! It is 0 exactly for identical components and grows with both a shift of the means (measured in
//! the components' own spread, so it does not depend on the units or the scale of the data) and a
//! difference of shapes; exp(−D_B) is the overlap of the two densities (the Bhattacharyya
//! coefficient). Weights are ignored on purpose: identical components keep whatever weights
//! they started with.
//!
//! Nearness alone does not make a saddle: when the data do not support K components, EM also
//! drives two components together and the best K-component fit *is* (the limit of) a merged
//! pair — galaxies with tied covariances at K = 2 does so from every start. Another start would
//! not help there, so the pair is put to a test ([`splits_better`]): split it apart along its
//! principal axis, keeping the pair's first two moments, run a few EM iterations from there,
//! and call the stop a saddle only if that climbs clearly above where the run stopped.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use super::config::EmConfig;
use super::dataset::Dataset;
use super::model::Mixture;
use super::pass::{Layout, Prepared, e_step_stats};
use super::stepper::m_step;

/// Two components closer than this in Bhattacharyya distance (overlap above 98 %) are candidates
/// for a saddle. At a symmetric start their parameters differ by sampling noise, so D_B shrinks
/// like 1/n: on the reference data sets (n = 150 to 272) the runs stuck from random starts
/// stopped at D_B up to 0.005, more for fewer points. Converged fits whose data do not support
/// K components also come this close (0.002 to 0.02), which is what [`splits_better`] is for.
pub const SADDLE_DISTANCE: f64 = 2e-2;

/// EM iterations run from the split pair by [`splits_better`].
const PROBE_ITERATIONS: usize = 10;

/// The least gain per point, over the probe, that counts as leaving a saddle (when 10·tol is
/// smaller). Measured on the reference data sets (every K ≤ 6, covariance type, initialisation,
/// 12 seeds): the stops at one-Gaussian fits from symmetric starts (Old Faithful −1289.80, Iris
/// −379.91) gain 0.02 to 0.7 per point; pairs that merged on their own gain under 1e-3 (galaxies
/// K = 5 at −765.69: 2e-4 to 9e-4, about 0.05 in total) or lose, and another start would not
/// make those fits meaningfully better.
const PROBE_GAIN: f64 = 1e-3;

/// The Bhattacharyya distance between components `i` and `j` of `mixture` (0 for identical
/// components; +∞ if it cannot be computed, which only happens for unusable covariances).
pub fn bhattacharyya_distance(mixture: &Mixture, i: usize, j: usize) -> f64 {
    let d = mixture.dim();
    let average = (mixture.covariance_matrix(i) + mixture.covariance_matrix(j)) * 0.5;
    let Some(cholesky) = average.cholesky() else {
        return f64::INFINITY;
    };
    let delta = mixture.mean_vector(i) - mixture.mean_vector(j);
    let solved = cholesky.l().solve_lower_triangular(&delta);
    let mahalanobis = solved.map_or(f64::INFINITY, |z| z.norm_squared());
    let log_det_average = log_det_of_factor(&cholesky.l());
    let log_det = |k: usize| {
        let factor = DMatrix::from_row_slice(d, d, mixture.cholesky_factor(k));
        log_det_of_factor(&factor)
    };
    let shape = 0.5 * (log_det_average - 0.5 * (log_det(i) + log_det(j)));
    // The shape term is ≥ 0 in exact arithmetic (det of an average ≥ geometric mean of dets);
    // clamp the rounding below zero.
    0.125 * mahalanobis + shape.max(0.0)
}

/// ln det Σ from its lower Cholesky factor: 2 Σ ln L_ii.
fn log_det_of_factor(factor: &DMatrix<f64>) -> f64 {
    2.0 * factor.diagonal().iter().map(|v| v.ln()).sum::<f64>()
}

/// The pair of components (0-based, lower index first) that are closest in Bhattacharyya
/// distance, if that distance is under [`SADDLE_DISTANCE`].
pub fn identical_pair(mixture: &Mixture) -> Option<(usize, usize)> {
    let k = mixture.k();
    (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .map(|(i, j)| ((i, j), bhattacharyya_distance(mixture, i, j)))
        .filter(|(_, distance)| *distance < SADDLE_DISTANCE)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(pair, _)| pair)
}

/// Whether the stop at `params` (total log-likelihood `log_likelihood`) with components `pair`
/// nearly identical is a saddle: the pair, split apart, climbs higher. The split puts the two
/// means ±½√λ (scaled by the weights) along the principal axis v of their average covariance Σ̄
/// and gives both Σ̄ − ¼λvvᵀ, which keeps the pair's mean and covariance; EM then runs
/// [`PROBE_ITERATIONS`] iterations. Continuing the stopped run that long would gain under
/// PROBE_ITERATIONS·tol per point (its per-iteration change was under tol and falling), so a
/// gain beyond that, beyond [`PROBE_GAIN`] per point and beyond one nat per parameter of a
/// component, means the run sat at a saddle. A probe that
/// fails (a component collapses) says no.
pub fn splits_better(
    data: &Dataset,
    params: &Mixture,
    pair: (usize, usize),
    config: &EmConfig,
    log_likelihood: f64,
) -> bool {
    let Some(split) = split_pair(params, pair) else {
        return false;
    };
    // The effective sample size: the log-likelihood gain is a weighted sum.
    let n = data.total_weight();
    let soft_pass = |mixture: &Mixture| {
        let prepared = Prepared::new(mixture);
        e_step_stats(
            data,
            &prepared,
            Layout::for_fit(config.covariance, &prepared),
        )
    };
    let mut stats = soft_pass(&split);
    for iteration in 1..=PROBE_ITERATIONS {
        let Ok(next) = m_step(&stats, data, config, iteration) else {
            return false;
        };
        stats = soft_pass(&next);
    }
    let gain = stats.log_likelihood - log_likelihood;
    // Besides the per-point floors, the split must pay for the parameters of the component it
    // frees, one nat each as AIC charges: fitting noise with a split pair of one Gaussian gains
    // a few nats whatever n, a saddle on structured data gains in proportion to n.
    let d = params.dim();
    let component_parameters = (1 + d + d * (d + 1) / 2) as f64;
    let per_point = (PROBE_ITERATIONS as f64 * config.tol).max(PROBE_GAIN);
    let floor = (per_point * n).max(component_parameters);
    gain.is_finite() && gain > floor
}

/// `params` with components `pair` split apart along their principal axis (see
/// [`splits_better`]), or `None` if the result is not a valid mixture.
fn split_pair(params: &Mixture, (i, j): (usize, usize)) -> Option<Mixture> {
    let (k, d) = (params.k(), params.dim());
    let (wi, wj) = (params.weights()[i], params.weights()[j]);
    let average = (params.covariance_matrix(i) * wi + params.covariance_matrix(j) * wj) / (wi + wj);
    let centre = (params.mean_vector(i) * wi + params.mean_vector(j) * wj) / (wi + wj);
    let eigen = SymmetricEigen::new(average.clone());
    let top = eigen.eigenvalues.imax();
    let lambda = eigen.eigenvalues[top];
    if !(lambda.is_finite() && lambda > 0.0) {
        return None;
    }
    let axis: DVector<f64> = eigen.eigenvectors.column(top).into_owned();
    let a = 0.5 * lambda.sqrt();
    let covariance = &average - &axis * axis.transpose() * (0.25 * lambda);
    let mut means = Vec::with_capacity(k * d);
    let mut covariances = Vec::with_capacity(k * d * d);
    for c in 0..k {
        if c == i || c == j {
            let offset = if c == i {
                &axis * (a * (wj / wi).sqrt())
            } else {
                &axis * (-a * (wi / wj).sqrt())
            };
            means.extend((&centre + offset).iter());
            covariances.extend(covariance.transpose().iter());
        } else {
            means.extend_from_slice(params.mean(c));
            covariances.extend_from_slice(params.covariance(c));
        }
    }
    Mixture::from_flat(d, params.weights().to_vec(), means, covariances).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_d(means: [[f64; 2]; 2], covariances: [[f64; 4]; 2]) -> Mixture {
        Mixture::from_flat(2, vec![0.3, 0.7], means.concat(), covariances.concat()).unwrap()
    }

    #[test]
    fn distance_by_hand() {
        let identity = [1.0, 0.0, 0.0, 1.0];
        // Same covariance: D_B = |δ|²/8.
        let m = two_d([[0.0, 0.0], [3.0, 4.0]], [identity, identity]);
        assert!((bhattacharyya_distance(&m, 0, 1) - 25.0 / 8.0).abs() < 1e-12);
        // Same mean, variances 1 and 4 in both coordinates: Σ̄ = 2.5 I;
        // ½ ln(2.5² / √(1·16)) = ½ ln(6.25/4).
        let m = two_d([[1.0, 1.0], [1.0, 1.0]], [identity, [4.0, 0.0, 0.0, 4.0]]);
        let expected = 0.5 * (6.25_f64 / 4.0).ln();
        assert!((bhattacharyya_distance(&m, 0, 1) - expected).abs() < 1e-12);
        assert_eq!(bhattacharyya_distance(&m, 1, 1), 0.0);
    }

    #[test]
    fn identical_components_are_found_whatever_the_scale() {
        for scale in [1e-6, 1.0, 1e6] {
            let cov = [scale * scale, 0.0, 0.0, scale * scale];
            let m = two_d([[0.0, 0.0], [1e-3 * scale, 0.0]], [cov, cov]);
            assert_eq!(identical_pair(&m), Some((0, 1)), "scale {scale}");
            let m = two_d([[0.0, 0.0], [scale, 0.0]], [cov, cov]);
            assert_eq!(identical_pair(&m), None, "scale {scale}");
        }
        let one = Mixture::from_flat(1, vec![1.0], vec![0.0], vec![1.0]).unwrap();
        assert_eq!(identical_pair(&one), None);
    }

    /// Deterministic, roughly normal values (sums of sines, by the central limit theorem).
    fn bell(n: usize, centre: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let t = i as f64;
                centre
                    + ((t * 0.618).sin()
                        + (t * 1.303).sin()
                        + (t * 2.177).sin()
                        + (t * 0.271).sin())
                        * 0.6
            })
            .collect()
    }

    fn identical_start(data: &Dataset, k: usize) -> Mixture {
        let (mean, covariance) = data.mean_and_covariance();
        let d = data.dim();
        Mixture::from_flat(d, vec![1.0; k], mean.repeat(k), covariance.repeat(k)).unwrap()
    }

    #[test]
    fn an_identical_start_on_two_blobs_stops_at_a_saddle() {
        use crate::em::{Em, StopReason};
        use std::sync::Arc;
        let mut values = bell(300, 0.0);
        values.extend(bell(300, 8.0));
        let data = Arc::new(Dataset::new(1, values).unwrap());
        for k in [2, 3] {
            let mut em = Em::new(
                Arc::clone(&data),
                identical_start(&data, k),
                EmConfig::default(),
            )
            .unwrap();
            em.run().unwrap();
            assert!(em.is_done());
            assert!(!em.converged());
            assert!(
                matches!(em.stop_reason(), Some(StopReason::Saddle { .. })),
                "K = {k}: {:?} after {} iterations",
                em.stop_reason(),
                em.iteration()
            );
            // It stopped at once, at the one-Gaussian log-likelihood.
            assert!(em.iteration() <= 2);
        }
    }

    #[test]
    fn components_merged_on_one_gaussian_are_converged() {
        use crate::em::{Em, StopReason};
        use std::sync::Arc;
        // One Gaussian sample: the two-component fit is the Gaussian twice, and splitting it
        // only fits noise.
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let values: Vec<f64> = (0..5000)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                3.0 + 2.0 * z
            })
            .collect();
        let data = Arc::new(Dataset::new(1, values).unwrap());
        let mut em = Em::new(
            Arc::clone(&data),
            identical_start(&data, 2),
            EmConfig::default(),
        )
        .unwrap();
        em.run().unwrap();
        assert_eq!(em.stop_reason(), Some(StopReason::Converged));
        assert!(em.converged());
    }

    #[test]
    fn the_split_keeps_the_pair_moments() {
        let m = two_d(
            [[1.0, 2.0], [1.0, 2.0]],
            [[4.0, 1.0, 1.0, 2.0], [4.0, 1.0, 1.0, 2.0]],
        );
        let split = split_pair(&m, (0, 1)).unwrap();
        let (w0, w1) = (0.3, 0.7);
        for j in 0..2 {
            let mean = (w0 * split.mean(0)[j] + w1 * split.mean(1)[j]) / (w0 + w1);
            assert!((mean - m.mean(0)[j]).abs() < 1e-12);
        }
        // Second moment about the common mean: Σ' + weighted outer products of the offsets.
        for (r, c) in [(0, 0), (0, 1), (1, 1)] {
            let spread: f64 = [(0, w0), (1, w1)]
                .iter()
                .map(|&(k, w)| {
                    w / (w0 + w1)
                        * (split.covariance(k)[r * 2 + c]
                            + (split.mean(k)[r] - 1.0 - (r as f64))
                                * (split.mean(k)[c] - 1.0 - (c as f64)))
                })
                .sum();
            assert!(
                (spread - m.covariance(0)[r * 2 + c]).abs() < 1e-12,
                "{r}{c}"
            );
        }
    }
}
