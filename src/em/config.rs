//! Settings of an EM run, checked once where they enter ([`EmConfig::check`]), so the engine
//! works only with values it can use.

use super::error::EmError;

/// Default `reg_covar`, added to every covariance diagonal after each M-step (as scikit-learn).
pub const DEFAULT_REG_COVAR: f64 = 1e-6;
/// Default convergence threshold on the per-point log-likelihood change.
pub const DEFAULT_TOL: f64 = 1e-6;
/// Default iteration cap.
pub const DEFAULT_MAX_ITER: usize = 500;

/// The structure the M-step gives the covariances (as scikit-learn's `covariance_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CovarianceType {
    /// Each component its own full matrix.
    #[default]
    Full,
    /// Each component its own diagonal matrix (independent coordinates).
    Diag,
    /// Each component its own multiple of the identity.
    Spherical,
    /// One full matrix shared by every component.
    Tied,
}

impl CovarianceType {
    /// Every type, in the order `select` lists them.
    pub const ALL: [Self; 4] = [Self::Full, Self::Diag, Self::Spherical, Self::Tied];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Diag => "diag",
            Self::Spherical => "spherical",
            Self::Tied => "tied",
        }
    }

    /// The number of free parameters of a K-component, D-dimensional mixture:
    /// (K − 1) weights + K·D means + the covariances (full K·D(D+1)/2, diag K·D, spherical K,
    /// tied D(D+1)/2).
    pub fn free_parameters(self, k: usize, d: usize) -> usize {
        let covariances = match self {
            Self::Full => k * d * (d + 1) / 2,
            Self::Diag => k * d,
            Self::Spherical => k,
            Self::Tied => d * (d + 1) / 2,
        };
        (k - 1) + k * d + covariances
    }

    /// One component's D×D covariance (row-major, without regularisation) given this type's
    /// structure, with `reg_covar` added to the diagonal. Tied covariances are pooled by the
    /// M-step before this; here they pass through like full ones.
    pub(crate) fn shape(self, d: usize, mut covariance: Vec<f64>, reg_covar: f64) -> Vec<f64> {
        match self {
            Self::Full | Self::Tied => {}
            Self::Diag => {
                for i in 0..d {
                    for j in 0..d {
                        if i != j {
                            covariance[i * d + j] = 0.0;
                        }
                    }
                }
            }
            Self::Spherical => {
                let variance = (0..d).map(|j| covariance[j * d + j]).sum::<f64>() / d as f64;
                covariance.iter_mut().for_each(|v| *v = 0.0);
                for j in 0..d {
                    covariance[j * d + j] = variance;
                }
            }
        }
        for j in 0..d {
            covariance[j * d + j] += reg_covar;
        }
        covariance
    }
}

/// How an EM run regularises and when it stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmConfig {
    /// Added to every covariance diagonal after each M-step; 0 allowed.
    pub reg_covar: f64,
    /// The fit stops at the first iteration t with (trace[t] − trace[t−1]) / n < tol.
    /// 0 disables the test, so exactly `max_iter` iterations run.
    pub tol: f64,
    /// The most iterations a fit runs.
    pub max_iter: usize,
    /// The covariance structure.
    pub covariance: CovarianceType,
    /// Hard (classification) EM instead of EM: before each M-step every point is given wholly
    /// to its most likely component (responsibility 1, the others 0; ties go to the lower
    /// index), so λ_k is the fraction of points assigned to k and μ_k, Σ_k are their plain mean
    /// and covariance. This maximises the classification likelihood Π_i λ_{z_i} φ(x_i; θ_{z_i}),
    /// not the mixture likelihood, so the mixture log-likelihood the trace records may fall
    /// from one iteration to the next (and a fall meets the convergence test, which is
    /// unchanged). The run also stops, converged, as soon as the assignments repeat (the next θ
    /// would be the same), whatever `tol`. Under hard EM the entropy is 0 and Q is the
    /// classification log-likelihood (see [`crate::em::Em::q`]).
    pub hard: bool,
}

impl Default for EmConfig {
    fn default() -> Self {
        Self {
            reg_covar: DEFAULT_REG_COVAR,
            tol: DEFAULT_TOL,
            max_iter: DEFAULT_MAX_ITER,
            covariance: CovarianceType::Full,
            hard: false,
        }
    }
}

impl EmConfig {
    /// Returns the config if every value is usable, or an error naming the option.
    pub fn check(self) -> Result<Self, EmError> {
        if !(self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return Err(EmError::Config(format!(
                "--reg-covar must be a finite number >= 0, got {}",
                self.reg_covar
            )));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(EmError::Config(format!(
                "--tol must be a finite number >= 0, got {}",
                self.tol
            )));
        }
        super::limits::check_max_iter(self.max_iter)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_parameters_per_type() {
        // K = 3, D = 2: 2 weights + 6 means + covariances.
        assert_eq!(CovarianceType::Full.free_parameters(3, 2), 8 + 9);
        assert_eq!(CovarianceType::Diag.free_parameters(3, 2), 8 + 6);
        assert_eq!(CovarianceType::Spherical.free_parameters(3, 2), 8 + 3);
        assert_eq!(CovarianceType::Tied.free_parameters(3, 2), 8 + 3);
    }

    #[test]
    fn shapes() {
        let full = vec![4.0, 1.0, 1.0, 2.0];
        assert_eq!(
            CovarianceType::Full.shape(2, full.clone(), 0.5),
            vec![4.5, 1.0, 1.0, 2.5]
        );
        assert_eq!(
            CovarianceType::Diag.shape(2, full.clone(), 0.5),
            vec![4.5, 0.0, 0.0, 2.5]
        );
        assert_eq!(
            CovarianceType::Spherical.shape(2, full, 0.5),
            vec![3.5, 0.0, 0.0, 3.5]
        );
    }
}
