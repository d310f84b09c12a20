//! A data matrix stored contiguously, row by row: one buffer of n·D values, not a Vec per point,
//! so that the EM passes stream through memory and split into chunks without copying.
//!
//! Optional per-point sample weights ([`Weights`]) are checked once, when made, so a dataset
//! that holds them holds valid ones: every pass may scale by them without checking again.

use super::error::EmError;

/// The largest magnitude whose square is still comfortably a double (1e300 < f64::MAX).
const MAX_MAGNITUDE: f64 = 1e150;
/// The smallest largest-magnitude whose square is still a normal double.
const MIN_MAGNITUDE: f64 = 1e-150;

/// n points in D dimensions, row-major in one buffer. Every value is finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    dim: usize,
    values: Vec<f64>,
    /// Sample weights, one per point, or `None` (every point counts once).
    weights: Option<Weights>,
}

/// Per-point sample weights: every one finite and ≥ 0, and not all zero (so Σ w > 0). A point
/// of weight w counts as w copies of itself in every sum EM takes; weight 0 drops it.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    values: Vec<f64>,
    total: f64,
}

/// Why a list of sample weights is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightError {
    /// A weight is NaN, infinite or negative.
    #[error("weight {value} is not a finite number ≥ 0")]
    Invalid {
        /// 0-based index of the point.
        index: usize,
        /// The offending weight.
        value: f64,
    },
    /// The weights are finite but their sum is not.
    #[error("the weights sum to more than the largest double; divide them by a constant")]
    TooLarge,
    /// Every weight is 0 (or there are none).
    #[error("every weight is 0: at least one point must count")]
    AllZero,
}

impl Weights {
    /// Checks `values`: each finite and ≥ 0, their sum positive and finite.
    pub fn new(values: Vec<f64>) -> Result<Self, WeightError> {
        if let Some(index) = values.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(WeightError::Invalid {
                index,
                value: values[index],
            });
        }
        let total: f64 = values.iter().sum();
        if total.is_infinite() {
            // Finite weights whose sum overflows: no sum EM takes could be trusted.
            return Err(WeightError::TooLarge);
        }
        if total <= 0.0 {
            return Err(WeightError::AllZero);
        }
        Ok(Self { values, total })
    }

    /// The weights, one per point.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Σ_i w_i (> 0).
    pub fn total(&self) -> f64 {
        self.total
    }
}

impl Dataset {
    /// Wraps `values` (row-major, `values.len()` a multiple of `dim`).
    ///
    /// Fails if `dim` is 0, the length is not a multiple of `dim`, or a value is NaN or infinite.
    pub fn new(dim: usize, values: Vec<f64>) -> Result<Self, EmError> {
        if dim == 0 {
            return Err(EmError::Config("data must have at least one column".into()));
        }
        if !values.len().is_multiple_of(dim) {
            return Err(EmError::Config(format!(
                "{} values do not split into rows of {dim}",
                values.len()
            )));
        }
        if let Some(position) = values.iter().position(|v| !v.is_finite()) {
            return Err(EmError::Config(format!(
                "row {}, column {} holds {} (data must be finite)",
                position / dim + 1,
                position % dim + 1,
                values[position]
            )));
        }
        Ok(Self {
            dim,
            values,
            weights: None,
        })
    }

    /// The same points with sample weights. Fails if there is not one weight per point.
    pub fn with_weights(self, weights: Weights) -> Result<Self, EmError> {
        if weights.values.len() != self.len() {
            return Err(EmError::Config(format!(
                "{} weights for {} points",
                weights.values.len(),
                self.len()
            )));
        }
        Ok(Self {
            weights: Some(weights),
            ..self
        })
    }

    /// The sample weights, if the points have them.
    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_ref().map(Weights::values)
    }

    /// The effective sample size: Σ_i w_i with weights, else n. It is the n of BIC, the mass
    /// the mixing proportions divide, and what the per-point convergence test divides by.
    pub fn total_weight(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(self.len() as f64, Weights::total)
    }

    /// Fails if the values are so large, or all so small, that their squares (variances,
    /// squared distances) leave double precision: beyond 1e150 they overflow, below 1e-150 they
    /// underflow to zero and every point looks like every other. Scaling the data fixes both.
    pub fn check_scale(&self) -> Result<(), EmError> {
        let largest = self.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if largest > MAX_MAGNITUDE || (largest > 0.0 && largest < MIN_MAGNITUDE) {
            return Err(EmError::BadScale { largest });
        }
        Ok(())
    }

    /// Number of points n.
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Point `i` as a slice of D values.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Iterates over the points.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f64> {
        self.values.chunks_exact(self.dim)
    }

    /// The column means and the covariance of the data (divided by n), row-major D×D; with
    /// weights, the weighted mean and covariance (divided by Σ w).
    pub fn mean_and_covariance(&self) -> (Vec<f64>, Vec<f64>) {
        if let Some(weights) = &self.weights {
            return self.weighted_mean_and_covariance(weights);
        }
        let d = self.dim;
        let n = self.len().max(1) as f64;
        let mut mean = vec![0.0; d];
        for row in self.rows() {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut cov = vec![0.0; d * d];
        for row in self.rows() {
            for a in 0..d {
                let da = row[a] - mean[a];
                for b in 0..=a {
                    cov[a * d + b] += da * (row[b] - mean[b]);
                }
            }
        }
        for a in 0..d {
            for b in 0..=a {
                let v = cov[a * d + b] / n;
                cov[a * d + b] = v;
                cov[b * d + a] = v;
            }
        }
        (mean, cov)
    }
}

impl Dataset {
    fn weighted_mean_and_covariance(&self, weights: &Weights) -> (Vec<f64>, Vec<f64>) {
        let d = self.dim;
        let total = weights.total;
        let mut mean = vec![0.0; d];
        for (row, w) in self.rows().zip(&weights.values) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += w * x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= total);
        let mut cov = vec![0.0; d * d];
        for (row, w) in self.rows().zip(&weights.values) {
            for a in 0..d {
                let da = w * (row[a] - mean[a]);
                for b in 0..=a {
                    cov[a * d + b] += da * (row[b] - mean[b]);
                }
            }
        }
        for a in 0..d {
            for b in 0..=a {
                let v = cov[a * d + b] / total;
                cov[a * d + b] = v;
                cov[b * d + a] = v;
            }
        }
        (mean, cov)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_ragged_and_non_finite() {
        assert!(Dataset::new(2, vec![1.0, 2.0, 3.0]).is_err());
        assert!(Dataset::new(0, vec![]).is_err());
        let err = Dataset::new(2, vec![1.0, 2.0, f64::NAN, 4.0]).unwrap_err();
        assert!(err.to_string().contains("row 2, column 1"), "{err}");
    }

    #[test]
    fn scale_check() {
        assert!(
            Dataset::new(1, vec![1e300, 1.0])
                .unwrap()
                .check_scale()
                .is_err()
        );
        assert!(
            Dataset::new(1, vec![1e-300, -2e-300])
                .unwrap()
                .check_scale()
                .is_err()
        );
        assert!(
            Dataset::new(1, vec![0.0, 0.0])
                .unwrap()
                .check_scale()
                .is_ok()
        );
        assert!(
            Dataset::new(1, vec![1e-200, 1.0])
                .unwrap()
                .check_scale()
                .is_ok()
        );
        let err = Dataset::new(1, vec![-3e200])
            .unwrap()
            .check_scale()
            .unwrap_err();
        assert!(
            err.to_string().contains("3e200") && err.to_string().contains("divide"),
            "{err}"
        );
    }

    #[test]
    fn mean_and_covariance_by_hand() {
        let data = Dataset::new(2, vec![0.0, 0.0, 2.0, 4.0]).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.row(1), &[2.0, 4.0]);
        let (mean, cov) = data.mean_and_covariance();
        assert_eq!(mean, vec![1.0, 2.0]);
        assert_eq!(cov, vec![1.0, 2.0, 2.0, 4.0]);
    }

    #[test]
    fn weights_are_checked_once() {
        assert_eq!(
            Weights::new(vec![1.0, -0.5]).unwrap_err(),
            WeightError::Invalid {
                index: 1,
                value: -0.5
            }
        );
        assert!(matches!(
            Weights::new(vec![f64::NAN]),
            Err(WeightError::Invalid { index: 0, .. })
        ));
        assert!(matches!(
            Weights::new(vec![0.0, f64::INFINITY]),
            Err(WeightError::Invalid { index: 1, .. })
        ));
        assert_eq!(
            Weights::new(vec![1e308, 1e308]).unwrap_err(),
            WeightError::TooLarge
        );
        assert_eq!(
            Weights::new(vec![0.0, 0.0]).unwrap_err(),
            WeightError::AllZero
        );
        assert_eq!(Weights::new(vec![]).unwrap_err(), WeightError::AllZero);
        let weights = Weights::new(vec![0.0, 2.5, 1.0]).unwrap();
        assert_eq!(weights.total(), 3.5);
        let data = Dataset::new(1, vec![1.0, 2.0]).unwrap();
        assert!(data.clone().with_weights(weights).is_err());
        assert_eq!(data.total_weight(), 2.0);
        assert_eq!(data.weights(), None);
    }

    #[test]
    fn weighted_moments_are_those_of_repeated_rows() {
        let weighted = Dataset::new(2, vec![0.0, 0.0, 2.0, 4.0, 7.0, 7.0])
            .unwrap()
            .with_weights(Weights::new(vec![1.0, 3.0, 0.0]).unwrap())
            .unwrap();
        let repeated = Dataset::new(2, vec![0.0, 0.0, 2.0, 4.0, 2.0, 4.0, 2.0, 4.0]).unwrap();
        assert_eq!(weighted.total_weight(), 4.0);
        assert_eq!(weighted.weights(), Some(&[1.0, 3.0, 0.0][..]));
        assert_eq!(
            weighted.mean_and_covariance(),
            repeated.mean_and_covariance()
        );
    }
}
