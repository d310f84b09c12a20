//! The parameters of a Gaussian mixture: weights λ_k, means μ_k and full covariances Σ_k.
//!
//! [`Mixture`] can only hold valid parameters (positive weights summing to one, consistent
//! dimensions, symmetric positive definite covariances): it is checked once where it is built,
//! so the engine never has to ask again. [`MixtureParams`] is its plain, serialisable shape
//! (the `--init-params` JSON schema), which may hold anything until converted.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::error::ParamError;

/// Mixture parameters in plain nested arrays, as read from and written to JSON:
/// `weights` [K], `means` [K][D], `covariances` [K][D][D]. Other fields are ignored, so a whole
/// `mixplore fit --json` result (or a file with notes of its own) serves as starting parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixtureParams {
    /// Mixing weights, one per component (normalised when validated).
    pub weights: Vec<f64>,
    /// Component means, K rows of D values.
    pub means: Vec<Vec<f64>>,
    /// Component covariances, K matrices of D×D values.
    pub covariances: Vec<Vec<Vec<f64>>>,
}

/// Valid parameters of a K-component, D-dimensional Gaussian mixture with full covariances.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    dim: usize,
    weights: Vec<f64>,
    /// K·D values, component-major.
    means: Vec<f64>,
    /// K·D·D values, component-major, each matrix row-major.
    covariances: Vec<f64>,
    /// The lower Cholesky factors L_k (Σ_k = L_k L_kᵀ), laid out like `covariances`. Computed
    /// once by the validation that proves each Σ_k positive definite, so users of the factor
    /// cannot meet a failing factorisation.
    cholesky_factors: Vec<f64>,
}

/// Relative tolerance for symmetry of an input covariance (JSON round trips and sums of
/// outer products in another order leave differences in the last bits).
const SYMMETRY_TOLERANCE: f64 = 1e-8;

impl Mixture {
    /// Checks nested parameters and builds a mixture; weights are normalised to sum to one and
    /// covariances made exactly symmetric.
    pub fn from_params(params: &MixtureParams) -> Result<Self, ParamError> {
        let k = params.weights.len();
        if k == 0 {
            return Err(ParamError::NoComponents);
        }
        let dim = params.means.first().map_or(0, Vec::len);
        if params.means.len() != k {
            return Err(ParamError::WrongShape {
                component: params.means.len().min(k) + 1,
                what: "the list of means".into(),
                found: params.means.len(),
                expected: k,
                dim,
            });
        }
        if params.covariances.len() != k {
            return Err(ParamError::WrongShape {
                component: params.covariances.len().min(k) + 1,
                what: "the list of covariances".into(),
                found: params.covariances.len(),
                expected: k,
                dim,
            });
        }
        let mut means = Vec::with_capacity(k * dim);
        let mut covariances = Vec::with_capacity(k * dim * dim);
        for (index, (mean, cov)) in params.means.iter().zip(&params.covariances).enumerate() {
            let component = index + 1;
            let shape = |what: String, found: usize| ParamError::WrongShape {
                component,
                what,
                found,
                expected: dim,
                dim,
            };
            if mean.len() != dim || dim == 0 {
                return Err(shape("mean".into(), mean.len()));
            }
            if cov.len() != dim {
                return Err(shape("covariance (rows)".into(), cov.len()));
            }
            means.extend_from_slice(mean);
            for (r, row) in cov.iter().enumerate() {
                if row.len() != dim {
                    return Err(shape(format!("covariance row {}", r + 1), row.len()));
                }
                covariances.extend_from_slice(row);
            }
        }
        Self::from_flat(dim, params.weights.clone(), means, covariances)
    }

    /// Builds a mixture from flat arrays: `means` K·D values, `covariances` K·D·D values
    /// (each matrix row-major). Same checks as [`Mixture::from_params`].
    pub fn from_flat(
        dim: usize,
        mut weights: Vec<f64>,
        means: Vec<f64>,
        mut covariances: Vec<f64>,
    ) -> Result<Self, ParamError> {
        let k = weights.len();
        if k == 0 {
            return Err(ParamError::NoComponents);
        }
        let shape = |what: &str, found: usize, expected: usize| ParamError::WrongShape {
            component: 1,
            what: what.into(),
            found,
            expected,
            dim,
        };
        if dim == 0 || means.len() != k * dim {
            return Err(shape("means (all components)", means.len(), k * dim));
        }
        if covariances.len() != k * dim * dim {
            return Err(shape(
                "covariances (all components)",
                covariances.len(),
                k * dim * dim,
            ));
        }
        for (index, &weight) in weights.iter().enumerate() {
            if !(weight.is_finite() && weight > 0.0) {
                return Err(ParamError::BadWeight {
                    component: index + 1,
                    weight,
                });
            }
        }
        let mut total: f64 = weights.iter().sum();
        if !total.is_finite() {
            // Weights near f64::MAX (1e308 each) overflow the sum: scaled by the largest first,
            // each is in (0, 1] and the sum at most K. Only then, so that ordinary weights
            // normalise bit for bit as before.
            let largest = weights.iter().copied().fold(0.0, f64::max);
            weights.iter_mut().for_each(|w| *w /= largest);
            total = weights.iter().sum();
        }
        weights.iter_mut().for_each(|w| *w /= total);
        for (index, mean) in means.chunks_exact(dim).enumerate() {
            if let Some(&value) = mean.iter().find(|v| !v.is_finite()) {
                return Err(ParamError::NotFinite {
                    component: index + 1,
                    what: "mean",
                    value,
                });
            }
        }
        let mut cholesky_factors = Vec::with_capacity(k * dim * dim);
        for (index, cov) in covariances.chunks_exact_mut(dim * dim).enumerate() {
            let component = index + 1;
            if let Some(&value) = cov.iter().find(|v| !v.is_finite()) {
                return Err(ParamError::NotFinite {
                    component,
                    what: "covariance",
                    value,
                });
            }
            symmetrise(component, dim, cov)?;
            let factor =
                cholesky_lower(dim, cov).ok_or(ParamError::NotPositiveDefinite { component })?;
            cholesky_factors.extend(factor);
        }
        Ok(Self {
            dim,
            weights,
            means,
            covariances,
            cholesky_factors,
        })
    }

    /// Number of components K.
    pub fn k(&self) -> usize {
        self.weights.len()
    }

    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Mixing weights (sum to one).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Mean of component `k` (0-based).
    pub fn mean(&self, k: usize) -> &[f64] {
        &self.means[k * self.dim..(k + 1) * self.dim]
    }

    /// Covariance of component `k` (0-based), D·D values row-major.
    pub fn covariance(&self, k: usize) -> &[f64] {
        let size = self.dim * self.dim;
        &self.covariances[k * size..(k + 1) * size]
    }

    /// The lower Cholesky factor L of component `k`'s covariance (Σ = L Lᵀ), row-major.
    pub fn cholesky_factor(&self, k: usize) -> &[f64] {
        let size = self.dim * self.dim;
        &self.cholesky_factors[k * size..(k + 1) * size]
    }

    /// Mean of component `k` as a nalgebra vector.
    pub fn mean_vector(&self, k: usize) -> DVector<f64> {
        DVector::from_column_slice(self.mean(k))
    }

    /// Covariance of component `k` as a nalgebra matrix.
    pub fn covariance_matrix(&self, k: usize) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.dim, self.dim, self.covariance(k))
    }

    /// The parameters as plain nested arrays (for JSON).
    pub fn to_params(&self) -> MixtureParams {
        let d = self.dim;
        MixtureParams {
            weights: self.weights.clone(),
            means: self.means.chunks_exact(d).map(<[f64]>::to_vec).collect(),
            covariances: self
                .covariances
                .chunks_exact(d * d)
                .map(|cov| cov.chunks_exact(d).map(<[f64]>::to_vec).collect())
                .collect(),
        }
    }

    /// The mixture (1 − s)·self + s·other, parameter by parameter (weights, means and
    /// covariances): the line θ(s) = θ(t) + s (θ(t+1) − θ(t)) along which Q(θ(s) | θ(t)) can be
    /// plotted. For s in [0, 1] it is always valid (positive weights, and a convex combination of
    /// positive definite matrices is positive definite); outside it may not be, and then the
    /// error names the component. The two mixtures must have the same K and D.
    pub fn interpolate(&self, other: &Self, s: f64) -> Result<Self, ParamError> {
        if other.dim != self.dim || other.k() != self.k() {
            return Err(ParamError::WrongShape {
                component: 1,
                what: "the mixture to interpolate towards (K·D means)".into(),
                found: other.means.len(),
                expected: self.means.len(),
                dim: self.dim,
            });
        }
        let line = |a: &[f64], b: &[f64]| -> Vec<f64> {
            a.iter().zip(b).map(|(a, b)| a + s * (b - a)).collect()
        };
        Self::from_flat(
            self.dim,
            line(&self.weights, &other.weights),
            line(&self.means, &other.means),
            line(&self.covariances, &other.covariances),
        )
    }

    /// Keeps only the components in `order`, in that order (used to match components).
    pub fn permuted(&self, order: &[usize]) -> Self {
        let d = self.dim;
        Self {
            dim: d,
            weights: order.iter().map(|&k| self.weights[k]).collect(),
            means: order.iter().flat_map(|&k| self.mean(k).to_vec()).collect(),
            covariances: order
                .iter()
                .flat_map(|&k| self.covariance(k).to_vec())
                .collect(),
            cholesky_factors: order
                .iter()
                .flat_map(|&k| self.cholesky_factor(k).to_vec())
                .collect(),
        }
    }
}

/// Checks that a row-major D×D matrix is symmetric to [`SYMMETRY_TOLERANCE`] and makes it exactly so.
fn symmetrise(component: usize, dim: usize, cov: &mut [f64]) -> Result<(), ParamError> {
    for row in 0..dim {
        for col in row + 1..dim {
            let upper = cov[row * dim + col];
            let lower = cov[col * dim + row];
            let scale = (cov[row * dim + row].abs() * cov[col * dim + col].abs())
                .sqrt()
                .max(upper.abs())
                .max(f64::MIN_POSITIVE);
            if (upper - lower).abs() > SYMMETRY_TOLERANCE * scale {
                return Err(ParamError::NotSymmetric {
                    component,
                    row: row + 1,
                    col: col + 1,
                    upper,
                    lower,
                });
            }
            let average = 0.5 * (upper + lower);
            cov[row * dim + col] = average;
            cov[col * dim + row] = average;
        }
    }
    Ok(())
}

/// The smallest share of a coordinate's variance that the coordinates before it may leave
/// unexplained (L_jj² / A_jj, which does not depend on the units of the columns). Below it the
/// matrix is singular for all numerical purposes: its log-determinant and Mahalanobis distances
/// would be mostly rounding error, and EM's log-likelihood could go down. This is where a
/// component collapsing onto fewer than D + 1 points is caught.
const MIN_UNEXPLAINED_VARIANCE: f64 = 1e-12;

/// The lower Cholesky factor L (row-major, L·Lᵀ = A) of a symmetric row-major D×D matrix,
/// or `None` when the matrix is not (numerically) positive definite.
fn cholesky_lower(dim: usize, matrix: &[f64]) -> Option<Vec<f64>> {
    let mut lower = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let mut sum = matrix[i * dim + j];
            for p in 0..j {
                sum -= lower[i * dim + p] * lower[j * dim + p];
            }
            if i == j {
                if !sum.is_finite() || sum <= MIN_UNEXPLAINED_VARIANCE * matrix[i * dim + i] {
                    return None;
                }
                lower[i * dim + i] = sum.sqrt();
            } else {
                lower[i * dim + j] = sum / lower[j * dim + j];
            }
        }
    }
    Some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(weights: Vec<f64>, means: Vec<Vec<f64>>, covs: Vec<Vec<Vec<f64>>>) -> MixtureParams {
        MixtureParams {
            weights,
            means,
            covariances: covs,
        }
    }

    #[test]
    fn normalises_weights_and_round_trips() {
        let p = params(
            vec![1.0, 3.0],
            vec![vec![0.0, 1.0], vec![2.0, 3.0]],
            vec![
                vec![vec![1.0, 0.5], vec![0.5, 2.0]],
                vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            ],
        );
        let m = Mixture::from_params(&p).unwrap();
        assert_eq!(m.weights(), &[0.25, 0.75]);
        assert_eq!(m.mean(1), &[2.0, 3.0]);
        assert_eq!(m.covariance(0), &[1.0, 0.5, 0.5, 2.0]);
        let back = m.to_params();
        assert_eq!(back.means, p.means);
        assert_eq!(back.covariances, p.covariances);
    }

    #[test]
    fn names_the_bad_component() {
        let bad_weight = params(
            vec![1.0, -1.0],
            vec![vec![0.0], vec![1.0]],
            vec![vec![vec![1.0]]; 2],
        );
        let huge = params(
            vec![1e308, 1e308],
            vec![vec![0.0, 0.0], vec![1.0, 1.0]],
            vec![
                vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            ],
        );
        assert_eq!(Mixture::from_params(&huge).unwrap().weights(), &[0.5, 0.5]);
        assert_eq!(
            Mixture::from_params(&bad_weight).unwrap_err(),
            ParamError::BadWeight {
                component: 2,
                weight: -1.0
            }
        );
        let not_pd = params(
            vec![1.0, 1.0],
            vec![vec![0.0, 0.0], vec![1.0, 1.0]],
            vec![
                vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                vec![vec![1.0, 2.0], vec![2.0, 1.0]],
            ],
        );
        assert_eq!(
            Mixture::from_params(&not_pd).unwrap_err(),
            ParamError::NotPositiveDefinite { component: 2 }
        );
        let asym = params(
            vec![1.0],
            vec![vec![0.0, 0.0]],
            vec![vec![vec![1.0, 0.1], vec![0.2, 1.0]]],
        );
        assert!(matches!(
            Mixture::from_params(&asym).unwrap_err(),
            ParamError::NotSymmetric { component: 1, .. }
        ));
        let shape = params(
            vec![1.0, 1.0],
            vec![vec![0.0, 0.0], vec![1.0]],
            vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]; 2],
        );
        let err = Mixture::from_params(&shape).unwrap_err();
        assert!(err.to_string().starts_with("component 2: mean"), "{err}");
    }

    #[test]
    fn stored_cholesky_factor_reproduces_the_covariance() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let m = Mixture::from_flat(3, vec![1.0], vec![0.0; 3], a.to_vec()).unwrap();
        let l = m.cholesky_factor(0);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|p| l[i * 3 + p] * l[j * 3 + p]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn interpolation_runs_along_the_line() {
        let a = Mixture::from_flat(1, vec![0.25, 0.75], vec![0.0, 4.0], vec![1.0, 2.0]).unwrap();
        let b = Mixture::from_flat(1, vec![0.75, 0.25], vec![2.0, 0.0], vec![3.0, 4.0]).unwrap();
        assert_eq!(a.interpolate(&b, 0.0).unwrap(), a);
        assert_eq!(a.interpolate(&b, 1.0).unwrap(), b);
        let half = a.interpolate(&b, 0.5).unwrap();
        assert_eq!(half.weights(), &[0.5, 0.5]);
        assert_eq!(half.mean(0), &[1.0]);
        assert_eq!(half.covariance(1), &[3.0]);
        // Beyond the ends it may be no mixture: at s = −3 the first weight is 0.25 − 3·0.5.
        assert!(matches!(
            a.interpolate(&b, -3.0),
            Err(ParamError::BadWeight { component: 1, .. })
        ));
        let other_k = Mixture::from_flat(1, vec![1.0], vec![0.0], vec![1.0]).unwrap();
        assert!(a.interpolate(&other_k, 0.5).is_err());
    }

    #[test]
    fn cholesky_matches_hand_factor() {
        let l = cholesky_lower(2, &[4.0, 2.0, 2.0, 5.0]).unwrap();
        assert_eq!(l, vec![2.0, 0.0, 1.0, 2.0]);
        assert!(cholesky_lower(1, &[0.0]).is_none());
        // Correlation 1 − 1e-14: singular for every numerical purpose; units do not matter.
        let rho = 1.0 - 1e-14;
        assert!(cholesky_lower(2, &[1.0, rho, rho, 1.0]).is_none());
        assert!(cholesky_lower(2, &[1e18, 1e9 * 0.999, 1e9 * 0.999, 1.0]).is_some());
        assert!(cholesky_lower(1, &[f64::NAN]).is_none());
    }
}
