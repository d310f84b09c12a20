//! Drawing points from a Gaussian mixture.
//!
//! Each point picks a component k with probability λ_k, then is x = μ_k + L_k z, with z a
//! vector of independent standard normals and L_k the lower Cholesky factor of Σ_k
//! (L_k L_kᵀ = Σ_k, so x has mean μ_k and covariance Σ_k). The generator is
//! [`StdRng`] seeded with [`SeedableRng::seed_from_u64`]: the same mixture and seed give the
//! same points, in the same order, whether drawn one by one with a [`Sampler`] or all at once
//! with [`sample`].

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::em::{Dataset, Mixture};

/// Draws points one at a time, so that a caller can stream any number of them (to a file, say)
/// without holding them all. Cholesky factors and cumulative weights are computed once.
#[derive(Debug)]
pub struct Sampler {
    dim: usize,
    /// K·D values, component-major.
    means: Vec<f64>,
    /// K lower Cholesky factors, each D·D row-major.
    factors: Vec<f64>,
    /// Cumulative weights λ_1, λ_1 + λ_2, …; the last is (about) 1.
    cumulative: Vec<f64>,
    rng: StdRng,
    /// Scratch space for the standard normal vector.
    z: Vec<f64>,
}

impl Sampler {
    /// Prepares to draw from `mixture` with the generator seeded by `seed`.
    pub fn new(mixture: &Mixture, seed: u64) -> Self {
        let dim = mixture.dim();
        let k = mixture.k();
        let mut means = Vec::with_capacity(k * dim);
        let mut factors = Vec::with_capacity(k * dim * dim);
        for component in 0..k {
            means.extend_from_slice(mixture.mean(component));
            factors.extend_from_slice(mixture.cholesky_factor(component));
        }
        let cumulative = mixture
            .weights()
            .iter()
            .scan(0.0, |sum, &w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        Self {
            dim,
            means,
            factors,
            cumulative,
            rng: StdRng::seed_from_u64(seed),
            z: vec![0.0; dim],
        }
    }

    /// Dimension D of the points drawn.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Draws the 0-based component of the next point.
    fn component(&mut self) -> usize {
        let last = self.cumulative.len() - 1;
        if last == 0 {
            return 0;
        }
        // u in [0, 1); the weights sum to 1 up to rounding, so clamp to the last component
        // in case u lands above a last cumulative weight of 0.999…
        let u: f64 = self.rng.random();
        self.cumulative.partition_point(|&c| c <= u).min(last)
    }

    /// Writes the next point into `point` and returns its 0-based component.
    ///
    /// # Panics
    /// If `point.len()` is not the mixture's dimension (a programming error).
    pub fn next_into(&mut self, point: &mut [f64]) -> usize {
        assert_eq!(
            point.len(),
            self.dim,
            "Sampler::next_into: the point buffer must hold D values"
        );
        let d = self.dim;
        let k = self.component();
        for z in &mut self.z {
            *z = StandardNormal.sample(&mut self.rng);
        }
        let mean = &self.means[k * d..(k + 1) * d];
        let factor = &self.factors[k * d * d..(k + 1) * d * d];
        for (i, x) in point.iter_mut().enumerate() {
            let row = &factor[i * d..i * d + i + 1];
            *x = mean[i] + row.iter().zip(&self.z).map(|(l, z)| l * z).sum::<f64>();
        }
        k
    }
}

/// A simulated data set and the component each point came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulated {
    /// The points.
    pub data: Dataset,
    /// The 0-based component of each point.
    pub labels: Vec<usize>,
}

/// Draws `n` points from `mixture` with the generator seeded by `seed`; the same points as
/// `n` calls of [`Sampler::next_into`] on `Sampler::new(mixture, seed)`.
///
/// It holds all n·D values: specs read by [`crate::data::spec`] are limited to
/// [`crate::data::spec::MAX_SAMPLE_BYTES`]; for more, stream with a [`Sampler`].
pub fn sample(mixture: &Mixture, n: usize, seed: u64) -> Simulated {
    sample_with_progress(mixture, n, seed, |_| {})
}

/// Points drawn between two progress reports of [`sample_with_progress`].
pub const PROGRESS_STEP: usize = 1 << 16;

/// [`sample`], telling `progress` how many points are drawn every [`PROGRESS_STEP`] points (and
/// at the end), so a caller drawing millions of points can show how far it is. The points are
/// the same as [`sample`]'s.
pub fn sample_with_progress(
    mixture: &Mixture,
    n: usize,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Simulated {
    let dim = mixture.dim();
    let mut sampler = Sampler::new(mixture, seed);
    let mut values = vec![0.0; n * dim];
    let mut labels = Vec::with_capacity(n);
    for (i, point) in values.chunks_exact_mut(dim).enumerate() {
        labels.push(sampler.next_into(point));
        if (i + 1) % PROGRESS_STEP == 0 {
            progress(i + 1);
        }
    }
    progress(n);
    // Unreachable failure: D ≥ 1 and the length is n·D; every value is finite, because
    // means and covariances are finite (so |L_ij| ≤ √Σ_ii ≤ 1.4e154) and a standard normal
    // drawn in double precision stays below 40 in magnitude: μ + L z cannot overflow.
    let data = Dataset::new(dim, values)
        .expect("simulated points are finite and come in whole rows of D values");
    Simulated { data, labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_up_to_n_and_leaves_the_points_alone() {
        let mixture = two_component();
        let mut reports = Vec::new();
        let with = sample_with_progress(&mixture, 150_000, 9, |done| reports.push(done));
        assert_eq!(reports, vec![65_536, 131_072, 150_000]);
        let without = sample(&mixture, 150_000, 9);
        assert_eq!(with.data.values(), without.data.values());
        assert_eq!(with.labels, without.labels);
    }

    fn two_component() -> Mixture {
        Mixture::from_flat(
            2,
            vec![0.4, 0.6],
            vec![0.0, 0.0, 3.0, 3.0],
            vec![1.0, 0.5, 0.5, 2.0, 1.0, -0.3, -0.3, 1.5],
        )
        .unwrap()
    }

    /// Mean and covariance (divided by the count) of the points with label `k`.
    fn component_moments(sim: &Simulated, k: usize) -> (usize, Vec<f64>, Vec<f64>) {
        let d = sim.data.dim();
        let rows: Vec<&[f64]> = sim
            .data
            .rows()
            .zip(&sim.labels)
            .filter(|(_, l)| **l == k)
            .map(|(r, _)| r)
            .collect();
        let count = rows.len();
        let mut values = Vec::with_capacity(count * d);
        rows.iter().for_each(|r| values.extend_from_slice(r));
        let (mean, cov) = Dataset::new(d, values).unwrap().mean_and_covariance();
        (count, mean, cov)
    }

    #[test]
    fn same_seed_same_points_different_seed_different_points() {
        let m = two_component();
        let a = sample(&m, 1000, 7);
        let b = sample(&m, 1000, 7);
        assert_eq!(a, b);
        let c = sample(&m, 1000, 8);
        assert_ne!(a.data, c.data);
        assert_eq!(a.data.len(), 1000);
        assert_eq!(a.labels.len(), 1000);
        assert!(a.labels.iter().all(|&l| l < 2));
    }

    #[test]
    fn sampler_streams_the_same_points_as_sample() {
        let m = two_component();
        let all = sample(&m, 500, 99);
        let mut sampler = Sampler::new(&m, 99);
        assert_eq!(sampler.dim(), 2);
        let mut point = [0.0; 2];
        for (row, &label) in all.data.rows().zip(&all.labels) {
            assert_eq!(sampler.next_into(&mut point), label);
            assert_eq!(&point[..], row);
        }
    }

    #[test]
    fn moments_match_the_truth() {
        // Tolerances: means within 0.02, covariance entries within 0.03, label proportions
        // within 0.01 (each several standard errors at these sample sizes).
        let m = two_component();
        let n = 200_000;
        let sim = sample(&m, n, 2024);
        for k in 0..2 {
            let (count, mean, cov) = component_moments(&sim, k);
            let share = count as f64 / n as f64;
            assert!(
                (share - m.weights()[k]).abs() < 0.01,
                "component {k}: share {share}"
            );
            for (got, want) in mean.iter().zip(m.mean(k)) {
                assert!((got - want).abs() < 0.02, "component {k}: mean {mean:?}");
            }
            for (got, want) in cov.iter().zip(m.covariance(k)) {
                assert!((got - want).abs() < 0.03, "component {k}: cov {cov:?}");
            }
        }
        // The overall mean is Σ λ_k μ_k = (1.8, 1.8).
        let (mean, _) = sim.data.mean_and_covariance();
        for got in mean {
            assert!((got - 1.8).abs() < 0.02, "overall mean {got}");
        }
    }

    #[test]
    fn one_dimension_works() {
        let m = Mixture::from_flat(1, vec![1.0, 1.0], vec![-2.0, 2.0], vec![0.25, 1.0]).unwrap();
        let sim = sample(&m, 100_000, 5);
        assert_eq!(sim.data.dim(), 1);
        for (k, (mu, var)) in [(-2.0, 0.25), (2.0, 1.0)].into_iter().enumerate() {
            let (count, mean, cov) = component_moments(&sim, k);
            assert!((count as f64 / 100_000.0 - 0.5).abs() < 0.01);
            assert!((mean[0] - mu).abs() < 0.02, "{mean:?}");
            assert!((cov[0] - var).abs() < 0.03, "{cov:?}");
        }
    }

    #[test]
    fn single_component_and_zero_points() {
        let m = Mixture::from_flat(3, vec![1.0], vec![1.0, 2.0, 3.0], {
            let mut c = vec![0.0; 9];
            c[0] = 1.0;
            c[4] = 1.0;
            c[8] = 1.0;
            c
        })
        .unwrap();
        let sim = sample(&m, 10, 1);
        assert!(sim.labels.iter().all(|&l| l == 0));
        assert_eq!(sim.data.dim(), 3);
        let empty = sample(&m, 0, 1);
        assert!(empty.data.is_empty() && empty.labels.is_empty());
    }

    #[test]
    fn five_dimensional_full_covariances() {
        let spec = crate::data::spec::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/specs/five-d.toml"),
        )
        .unwrap();
        let sim = sample(&spec.mixture, 60_000, spec.seed);
        assert_eq!(sim.data.dim(), 5);
        for k in 0..spec.mixture.k() {
            let (_, mean, cov) = component_moments(&sim, k);
            let scale = spec
                .mixture
                .covariance(k)
                .iter()
                .fold(0.0_f64, |a, b| a.max(b.abs()));
            for (got, want) in mean.iter().zip(spec.mixture.mean(k)) {
                assert!(
                    (got - want).abs() < 0.05 * scale.sqrt().max(1.0),
                    "component {k}: {mean:?}"
                );
            }
            for (got, want) in cov.iter().zip(spec.mixture.covariance(k)) {
                assert!(
                    (got - want).abs() < 0.06 * scale.max(1.0),
                    "component {k}: {cov:?}"
                );
            }
        }
    }
}
