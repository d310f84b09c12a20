//! The EM stepper: one iteration per [`Em::step`] call, so that `mixplore fit` can loop over it
//! and the explorer's worker can run it one snapshot at a time.
//!
//! Iteration semantics (so results compare with other tools): θ(0) is the initial parameters;
//! iteration t is an E-step at θ(t−1) followed by an M-step giving θ(t); `trace[t]` is the total
//! log-likelihood at θ(t). Each iteration costs one pass over the data: the pass at θ(t) yields
//! both trace[t] and the statistics the next M-step needs, so they are kept until then.

use std::sync::Arc;

use super::config::EmConfig;
use super::dataset::Dataset;
use super::error::{EmError, ParamError};
use super::model::Mixture;
use super::pass::{Prepared, SufficientStats, e_step_stats};

/// What one iteration did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The iteration t just completed (θ(t) is now current).
    pub iteration: usize,
    /// trace[t], the total log-likelihood at θ(t).
    pub log_likelihood: f64,
    /// (trace[t] − trace[t−1]) / n.
    pub change_per_point: f64,
    /// Whether the convergence test held at this iteration.
    pub converged: bool,
}

/// A running EM fit over shared data.
#[derive(Debug, Clone)]
pub struct Em {
    data: Arc<Dataset>,
    config: EmConfig,
    params: Mixture,
    trace: Vec<f64>,
    /// Statistics of the pass at the current parameters, for the next M-step.
    stats: SufficientStats,
    converged: bool,
}

impl Em {
    /// Starts a fit at θ(0) = `init`, computing trace[0] with one pass.
    pub fn new(data: Arc<Dataset>, init: Mixture, config: EmConfig) -> Result<Self, EmError> {
        let config = config.check()?;
        if init.dim() != data.dim() {
            return Err(EmError::DimensionMismatch {
                params: init.dim(),
                data: data.dim(),
            });
        }
        if data.len() < init.k() {
            return Err(EmError::TooFewPoints {
                n: data.len(),
                k: init.k(),
            });
        }
        let stats = pass(&data, &init, 0, config.reg_covar)?;
        Ok(Self {
            trace: vec![stats.log_likelihood],
            data,
            config,
            params: init,
            stats,
            converged: false,
        })
    }

    /// Runs one iteration: the M-step from the statistics of the E-step at θ(t−1), then the pass
    /// at the new θ(t) for trace[t]. On error nothing changes: θ(t−1) stays current.
    pub fn step(&mut self) -> Result<StepStats, EmError> {
        let iteration = self.iteration() + 1;
        let params = m_step(
            &self.stats,
            self.data.len(),
            self.config.reg_covar,
            iteration,
        )?;
        let stats = pass(&self.data, &params, iteration, self.config.reg_covar)?;
        let log_likelihood = stats.log_likelihood;
        let previous = self.log_likelihood();
        let change_per_point = (log_likelihood - previous) / self.data.len() as f64;
        // tol = 0 means "run max_iter iterations": a last-bit decrease must not stop it.
        let converged = self.config.tol > 0.0 && change_per_point < self.config.tol;
        self.params = params;
        self.stats = stats;
        self.trace.push(log_likelihood);
        self.converged = converged;
        Ok(StepStats {
            iteration,
            log_likelihood,
            change_per_point,
            converged,
        })
    }

    /// Steps until converged or `max_iter` iterations have run.
    pub fn run(&mut self) -> Result<(), EmError> {
        while !self.is_done() {
            self.step()?;
        }
        Ok(())
    }

    /// True once the convergence test held or `max_iter` iterations have run.
    pub fn is_done(&self) -> bool {
        self.converged || self.iteration() >= self.config.max_iter
    }

    /// Whether the last iteration met the convergence test.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// The number of iterations run so far (t of the current θ(t)).
    pub fn iteration(&self) -> usize {
        self.trace.len() - 1
    }

    /// The current parameters θ(t).
    pub fn params(&self) -> &Mixture {
        &self.params
    }

    /// trace[0..=t]: the total log-likelihood at θ(0), …, θ(t).
    pub fn trace(&self) -> &[f64] {
        &self.trace
    }

    /// trace[t], the total log-likelihood at the current parameters.
    pub fn log_likelihood(&self) -> f64 {
        self.trace[self.trace.len() - 1]
    }

    /// The data being fitted.
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }

    /// The run's settings.
    pub fn config(&self) -> &EmConfig {
        &self.config
    }
}

/// The pass at `params`, failing if the log-likelihood is not finite.
fn pass(
    data: &Dataset,
    params: &Mixture,
    iteration: usize,
    reg_covar: f64,
) -> Result<SufficientStats, EmError> {
    let prepared = Prepared::new(params).map_err(|component| EmError::SingularCovariance {
        component: component + 1,
        iteration,
        reg_covar,
    })?;
    let stats = e_step_stats(data, &prepared);
    if !stats.log_likelihood.is_finite() {
        return Err(EmError::NonFiniteLikelihood { iteration });
    }
    Ok(stats)
}

/// The closed-form M-step: λ_k = N_k / n, μ_k = Σ r x / N_k,
/// Σ_k = Σ r (x − μ_k)(x − μ_k)ᵀ / N_k + reg_covar·I.
///
/// A component whose mass N_k is under 10·ε·n has collapsed, and a covariance that fails
/// Cholesky even with reg_covar is singular: both stop the fit with an error naming the
/// component (the documented choice: no silent re-seeding, so what EM did stays visible).
pub(crate) fn m_step(
    stats: &SufficientStats,
    n: usize,
    reg_covar: f64,
    iteration: usize,
) -> Result<Mixture, EmError> {
    let k = stats.mass.len();
    let d = stats.dim;
    let threshold = 10.0 * f64::EPSILON * n as f64;
    let mut means = Vec::with_capacity(k * d);
    let mut covariances = Vec::with_capacity(k * d * d);
    for (component, &mass) in stats.mass.iter().enumerate() {
        if !(mass >= threshold && mass > 0.0) {
            return Err(EmError::ComponentCollapsed {
                component: component + 1,
                iteration,
                mass,
                n,
            });
        }
        let (mean, covariance) = stats.mean_and_covariance(component, reg_covar);
        means.extend(mean);
        covariances.extend(covariance);
    }
    let weights = stats.mass.iter().map(|m| m / n as f64).collect();
    Mixture::from_flat(d, weights, means, covariances).map_err(|error| match error {
        ParamError::NotPositiveDefinite { component }
        | ParamError::NotFinite { component, .. }
        | ParamError::NotSymmetric { component, .. } => EmError::SingularCovariance {
            component,
            iteration,
            reg_covar,
        },
        other => EmError::Params(other),
    })
}
