//! Settings of an EM run, checked once where they enter ([`EmConfig::check`]), so the engine
//! works only with values it can use.

use super::error::EmError;

/// Default `reg_covar`, added to every covariance diagonal after each M-step (as scikit-learn).
pub const DEFAULT_REG_COVAR: f64 = 1e-6;
/// Default convergence threshold on the per-point log-likelihood change.
pub const DEFAULT_TOL: f64 = 1e-6;
/// Default iteration cap.
pub const DEFAULT_MAX_ITER: usize = 500;

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
}

impl Default for EmConfig {
    fn default() -> Self {
        Self {
            reg_covar: DEFAULT_REG_COVAR,
            tol: DEFAULT_TOL,
            max_iter: DEFAULT_MAX_ITER,
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
        Ok(self)
    }
}
