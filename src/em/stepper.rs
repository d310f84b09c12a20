//! The EM stepper: one iteration per [`Em::step`] call, so that `mixplore fit` can loop over it
//! and the explorer's worker can run it one snapshot at a time.
//!
//! Iteration semantics (so results compare with other tools): θ(0) is the initial parameters;
//! iteration t is an E-step at θ(t−1) followed by an M-step giving θ(t); `trace[t]` is the total
//! log-likelihood at θ(t). Each iteration costs one pass over the data: the pass at θ(t) yields
//! both trace[t] and the statistics the next M-step needs, so they are kept until then.
//!
//! The same statistics give the lecture notes' derivation of EM at no extra pass: the expected
//! complete-data log-likelihood Q(θ' | θ(t)) for any θ' ([`Em::q_of`]), the entropy H(t) of the
//! responsibilities ([`Em::entropy`]), and so log L(θ(t)) = Q(θ(t) | θ(t)) + H(t) and
//! log L(θ(t+1)) ≥ Q(θ(t+1) | θ(t)) + H(t) ≥ log L(θ(t)) ([`StepStats::q_next`]). With
//! reg_covar > 0 the M-step maximises Q only up to the added diagonal, so the middle inequality
//! may fail by a little.
//!
//! Hard (classification) EM ([`EmConfig::hard`]) runs through the same stepper with a different
//! pass: each point counts wholly for its most likely component. The trace is still the mixture
//! log-likelihood log L(θ(t)); the sums now give the classification log-likelihood instead of Q
//! (Σ_i [ln λ_{z_i} + ln φ(x_i; θ_{z_i})] with z_i the assignments at θ(t)), the entropy is 0,
//! and log L(θ(t)) ≥ Q(θ(t) | θ(t)) (a max of the terms is below their log-sum-exp), with no
//! equality and no guarantee that log L rises.

use std::sync::Arc;

use super::config::{CovarianceType, EmConfig};
use super::dataset::Dataset;
use super::error::{EmError, ParamError};
use super::model::Mixture;
use super::pass::{
    Layout, Prepared, SufficientStats, e_step_stats, e_step_stats_about, hard_stats_about,
};
use super::saddle::{identical_pair, splits_better};

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The convergence test held at a point where the components are distinct, or (hard EM)
    /// the assignments repeated, so the parameters would not change again.
    Converged,
    /// The convergence test held, but two components are (nearly) identical: EM keeps identical
    /// components identical, so this is a fixed point reached from a symmetric start — a saddle,
    /// not a maximum. The run is not converged; another initialisation should do better.
    Saddle {
        /// The closest identical pair, 0-based, lower index first.
        components: (usize, usize),
    },
    /// `max_iter` iterations ran without the convergence test holding.
    MaxIter,
}

impl StopReason {
    /// The name used in JSON and tables: "converged", "saddle" or "max-iter".
    pub fn name(self) -> &'static str {
        match self {
            Self::Converged => "converged",
            Self::Saddle { .. } => "saddle",
            Self::MaxIter => "max-iter",
        }
    }
}

/// What one iteration did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The iteration t just completed (θ(t) is now current).
    pub iteration: usize,
    /// trace[t], the total log-likelihood at θ(t).
    pub log_likelihood: f64,
    /// (trace[t] − trace[t−1]) / n.
    pub change_per_point: f64,
    /// Whether the run converged at this iteration (the convergence test held at distinct
    /// components; false at a saddle).
    pub converged: bool,
    /// Why the run stopped, if it did at this iteration.
    pub stop_reason: Option<StopReason>,
    /// Q(θ(t) | θ(t−1)), t = `iteration`: the expected complete-data log-likelihood of the new
    /// parameters under the responsibilities at the previous ones — the value the M-step
    /// maximised, at its maximiser. `q_next + previous_entropy` lies between trace[t−1] and
    /// trace[t] (with reg_covar = 0; see the module notes).
    pub q_next: f64,
    /// Q(θ(t−1) | θ(t−1)) (so trace[t−1] = previous_q + previous_entropy).
    pub previous_q: f64,
    /// H(t−1), the entropy of the responsibilities at θ(t−1).
    pub previous_entropy: f64,
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
    stop_reason: Option<StopReason>,
    /// What the step that made the current parameters current did (`None` at t = 0).
    last_step: Option<StepStats>,
    /// Hard EM only: every point's component at the current parameters, to tell when the
    /// assignments repeat (empty for soft EM).
    assignments: Vec<u32>,
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
        data.check_scale()?;
        let (stats, assignments) = pass(&data, &init, &config, 0)?;
        Ok(Self {
            trace: vec![stats.log_likelihood],
            data,
            config,
            params: init,
            stats,
            stop_reason: None,
            last_step: None,
            assignments,
        })
    }

    /// θ(t+1) from the statistics at θ(t) (the M-step), and Q(θ(t+1) | θ(t)) computed from the
    /// same statistics.
    fn maximise(&self, iteration: usize) -> Result<(Mixture, f64), EmError> {
        let exact;
        let stats = if self.stats.loses_digits() && self.stats.mass.iter().all(|m| *m > 0.0) {
            // Rare (ill-conditioned components): one more pass, centred on the new means.
            let centres = self.stats.new_means();
            let prepared = Prepared::new(&self.params);
            exact = if self.config.hard {
                hard_stats_about(&self.data, &prepared, Some(&centres)).0
            } else {
                e_step_stats_about(&self.data, &prepared, Some(&centres), self.stats.layout)
            };
            &exact
        } else {
            &self.stats
        };
        let params = m_step(stats, &self.data, &self.config, iteration)?;
        let q_next = stats.q_of(&params);
        Ok((params, q_next))
    }

    /// The parameters θ(t+1) the next [`Em::step`] would make current, without the pass over
    /// the data that the step adds (O(K·D³), or one pass in the rare case where the M-step
    /// recentres its statistics). For plotting Q(θ | θ(t)) between θ(t) and θ(t+1) with
    /// [`Em::q_of`] and [`Mixture::interpolate`]. Fails as the step would.
    pub fn next_params(&self) -> Result<Mixture, EmError> {
        self.maximise(self.iteration() + 1)
            .map(|(params, _)| params)
    }

    /// Runs one iteration: the M-step from the statistics of the E-step at θ(t−1), then the pass
    /// at the new θ(t) for trace[t]. On error nothing changes: θ(t−1) stays current.
    pub fn step(&mut self) -> Result<StepStats, EmError> {
        let iteration = self.iteration() + 1;
        let (params, q_next) = self.maximise(iteration)?;
        let (previous_q, previous_entropy) = (self.q(), self.entropy());
        let (stats, assignments) = pass(&self.data, &params, &self.config, iteration)?;
        let log_likelihood = stats.log_likelihood;
        let previous = self.log_likelihood();
        let change_per_point = (log_likelihood - previous) / self.data.total_weight();
        // tol = 0 means "run max_iter iterations": a last-bit decrease must not stop it.
        let tol_met = self.config.tol > 0.0 && change_per_point < self.config.tol;
        // Hard EM: the same assignments give the same statistics, so θ(t+1) would be θ(t) (up
        // to the rounding of recentred sums) — a fixed point reached exactly.
        let repeated = self.config.hard && assignments == self.assignments;
        // Only a stop by the tolerance test is checked for a saddle: a run that goes on is
        // free to leave one, and max_iter says nothing about where the run is. Hard EM is never
        // checked: identical components cannot stay identical under it (ties go to the lower
        // index, which empties the other), and the probe would run soft EM.
        let stop_reason = if repeated || (tol_met && self.config.hard) {
            Some(StopReason::Converged)
        } else if tol_met {
            Some(match identical_pair(&params) {
                Some(components)
                    if splits_better(
                        &self.data,
                        &params,
                        components,
                        &self.config,
                        log_likelihood,
                    ) =>
                {
                    StopReason::Saddle { components }
                }
                _ => StopReason::Converged,
            })
        } else if iteration >= self.config.max_iter {
            Some(StopReason::MaxIter)
        } else {
            None
        };
        let step = StepStats {
            iteration,
            log_likelihood,
            change_per_point,
            converged: stop_reason == Some(StopReason::Converged),
            stop_reason,
            q_next,
            previous_q,
            previous_entropy,
        };
        self.params = params;
        self.stats = stats;
        self.assignments = assignments;
        self.trace.push(log_likelihood);
        self.stop_reason = stop_reason;
        self.last_step = Some(step);
        Ok(step)
    }

    /// Steps until converged or `max_iter` iterations have run.
    pub fn run(&mut self) -> Result<(), EmError> {
        while !self.is_done() {
            self.step()?;
        }
        Ok(())
    }

    /// True once the convergence test held (converged or at a saddle) or `max_iter`
    /// iterations have run.
    pub fn is_done(&self) -> bool {
        self.stop_reason.is_some() || self.iteration() >= self.config.max_iter
    }

    /// Whether the run has converged: the last iteration met the convergence test at distinct
    /// components (false at a saddle, see [`StopReason::Saddle`]).
    pub fn converged(&self) -> bool {
        self.stop_reason == Some(StopReason::Converged)
    }

    /// Why the run stopped, or `None` while it can go on. (A run created with max_iter = 0 is
    /// done at once, with `Some(MaxIter)`.)
    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.stop_reason {
            None if self.iteration() >= self.config.max_iter => Some(StopReason::MaxIter),
            reason => reason,
        }
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

    /// What the step that made θ(t) current did, Q(θ(t) | θ(t−1)) included; `None` at t = 0.
    pub fn last_step(&self) -> Option<StepStats> {
        self.last_step
    }

    /// N_k = Σ_i r_ik, the responsibility totals at the current parameters θ(t), one per
    /// component (they sum to n). The next M-step's weights are N_k / n. Under hard EM, the
    /// number of points assigned to each component.
    pub fn responsibility_totals(&self) -> &[f64] {
        &self.stats.mass
    }

    /// H(t) = −Σ_i Σ_k r_ik ln r_ik, the entropy of the responsibilities at θ(t) (≥ 0, natural
    /// log, a total over the data), accumulated by the same pass as the log-likelihood.
    /// Under hard EM, 0: the assignments are certain.
    pub fn entropy(&self) -> f64 {
        self.stats.entropy()
    }

    /// Q(θ(t) | θ(t)): the expected complete-data log-likelihood of the current parameters
    /// under their own responsibilities, Σ_i Σ_k r_ik [ln λ_k + ln φ(x_i; μ_k, Σ_k)]. Equals
    /// log L(θ(t)) − H(t) up to rounding. O(K·D³).
    ///
    /// Under hard EM, the classification log-likelihood Σ_i [ln λ_{z_i} + ln φ(x_i; μ_{z_i},
    /// Σ_{z_i})] = Σ_i max_k ln(λ_k φ_k(x_i)), with z_i the most likely component at θ(t); it is
    /// at most log L(θ(t)).
    pub fn q(&self) -> f64 {
        self.stats.q_of(&self.params)
    }

    /// Q(θ' | θ(t)) = Σ_i Σ_k r_ik [ln λ'_k + ln φ(x_i; μ'_k, Σ'_k)] for any parameters θ' =
    /// `theta` of the fit's K and D, with r_ik the responsibilities at the current θ(t); from
    /// the pass's sums in O(K·D³), without a pass over the data (except for a diag or
    /// spherical fit asked about a θ' with off-diagonal covariances: then one pass). Q(θ' | θ(t)) + H(t) is the
    /// lower bound on log L(θ') that EM maximises; it touches log L at θ' = θ(t).
    ///
    /// Under hard EM, the classification log-likelihood of θ' with the assignments z_i at θ(t)
    /// held fixed, Σ_i [ln λ'_{z_i} + ln φ(x_i; μ'_{z_i}, Σ'_{z_i})]: what the hard M-step
    /// maximises. Not a bound that touches log L.
    pub fn q_of(&self, theta: &Mixture) -> Result<f64, EmError> {
        if theta.dim() != self.params.dim() {
            return Err(EmError::DimensionMismatch {
                params: theta.dim(),
                data: self.params.dim(),
            });
        }
        if theta.k() != self.params.k() {
            return Err(EmError::Config(format!(
                "Q(θ' | θ(t)) needs θ' with the fit's {} components, not {}",
                self.params.k(),
                theta.k()
            )));
        }
        if self.stats.covers(theta) {
            Ok(self.stats.q_of(theta))
        } else {
            // A diag or spherical fit keeps only diagonal second moments, which are all Q of a
            // diagonal θ' reads; for any other θ' one pass gathers the full ones.
            let prepared = Prepared::new(&self.params);
            Ok(e_step_stats(&self.data, &prepared, Layout::Full).q_of(theta))
        }
    }
}

/// The pass at `params` (soft or hard as `config` says, with the hard pass's assignments,
/// empty for soft), failing if the log-likelihood is not finite.
fn pass(
    data: &Dataset,
    params: &Mixture,
    config: &EmConfig,
    iteration: usize,
) -> Result<(SufficientStats, Vec<u32>), EmError> {
    let prepared = Prepared::new(params);
    let (stats, assignments) = if config.hard {
        hard_stats_about(data, &prepared, None)
    } else {
        let layout = Layout::for_fit(config.covariance, &prepared);
        (e_step_stats(data, &prepared, layout), Vec::new())
    };
    if !stats.log_likelihood.is_finite() {
        return Err(EmError::NonFiniteLikelihood { iteration });
    }
    Ok((stats, assignments))
}

/// The closed-form M-step: λ_k = N_k / n, μ_k = Σ r x / N_k,
/// Σ_k = Σ r (x − μ_k)(x − μ_k)ᵀ / N_k + reg_covar·I.
///
/// A component whose mass N_k is under 10·ε·n has collapsed, and a covariance that fails
/// Cholesky even with reg_covar is singular: both stop the fit with an error naming the
/// component (the documented choice: no silent re-seeding, so what EM did stays visible).
pub(crate) fn m_step(
    stats: &SufficientStats,
    data: &Dataset,
    config: &EmConfig,
    iteration: usize,
) -> Result<Mixture, EmError> {
    let reg_covar = config.reg_covar;
    let k = stats.mass.len();
    let d = stats.dim;
    let n = data.len();
    // Σ w with sample weights (the masses sum to it), n without.
    let total_weight = data.total_weight();
    let threshold = 10.0 * f64::EPSILON * total_weight;
    let mut means = Vec::with_capacity(k * d);
    let mut covariances = Vec::with_capacity(k);
    for (component, &mass) in stats.mass.iter().enumerate() {
        if !(mass >= threshold && mass > 0.0) {
            return Err(EmError::ComponentCollapsed {
                component: component + 1,
                iteration,
                mass,
                n,
            });
        }
        let (mean, covariance) = stats.mean_and_covariance(component, 0.0);
        means.extend(mean);
        covariances.push(covariance);
    }
    if config.covariance == CovarianceType::Tied {
        // One matrix for all: the components' covariances pooled by their masses.
        let total: f64 = stats.mass.iter().sum();
        let mut pooled = vec![0.0; d * d];
        for (covariance, mass) in covariances.iter().zip(&stats.mass) {
            for (p, c) in pooled.iter_mut().zip(covariance) {
                *p += mass * c / total;
            }
        }
        covariances.iter_mut().for_each(|c| c.clone_from(&pooled));
    }
    let covariances: Vec<f64> = covariances
        .into_iter()
        .flat_map(|c| config.covariance.shape(d, c, reg_covar))
        .collect();
    // Hard EM's masses are whole counts summing exactly to n: handing them over as they are
    // lets the mixture's normalisation give λ_k = count / n correctly rounded, with no second
    // rounding from dividing count / n by a total that is 1 only up to rounding.
    let weights = if config.hard {
        stats.mass.clone()
    } else {
        stats.mass.iter().map(|m| m / total_weight).collect()
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::MixtureParams;

    fn one_d(weights: Vec<f64>, means: Vec<f64>, variances: Vec<f64>) -> Mixture {
        Mixture::from_params(&MixtureParams {
            weights,
            means: means.into_iter().map(|m| vec![m]).collect(),
            covariances: variances.into_iter().map(|v| vec![vec![v]]).collect(),
        })
        .unwrap()
    }

    fn data(values: &[f64]) -> Arc<Dataset> {
        Arc::new(Dataset::new(1, values.to_vec()).unwrap())
    }

    #[test]
    fn one_iteration_by_hand() {
        // K = 1: one M-step from any start gives the sample mean and variance (+ reg_covar).
        let values = [1.0, 2.0, 4.0, 5.0];
        let config = EmConfig {
            reg_covar: 0.5,
            tol: 0.0,
            max_iter: 3,
            ..EmConfig::default()
        };
        let mut em = Em::new(
            data(&values),
            one_d(vec![1.0], vec![0.0], vec![1.0]),
            config,
        )
        .unwrap();
        let trace0 = -0.5
            * values
                .iter()
                .map(|x| x * x + std::f64::consts::TAU.ln())
                .sum::<f64>();
        assert!((em.log_likelihood() - trace0).abs() < 1e-12);
        let stats = em.step().unwrap();
        assert_eq!(stats.iteration, 1);
        assert_eq!(em.params().mean(0), &[3.0]);
        assert_eq!(em.params().covariance(0), &[2.5 + 0.5]);
        let trace1 = -0.5
            * values
                .iter()
                .map(|x| (x - 3.0) * (x - 3.0) / 3.0 + (std::f64::consts::TAU * 3.0).ln())
                .sum::<f64>();
        assert!((stats.log_likelihood - trace1).abs() < 1e-12);
        assert_eq!(em.trace().len(), 2);
    }

    #[test]
    fn tol_zero_runs_exactly_max_iter_and_tol_stops_at_first_small_change() {
        let values = [0.0, 0.2, 0.1, 5.0, 5.3, 5.1, 4.9, 0.3];
        let start = one_d(vec![0.5, 0.5], vec![1.0, 4.0], vec![1.0, 1.0]);
        let config = EmConfig {
            reg_covar: 1e-6,
            tol: 0.0,
            max_iter: 7,
            ..EmConfig::default()
        };
        let mut em = Em::new(data(&values), start.clone(), config).unwrap();
        em.run().unwrap();
        assert_eq!(em.iteration(), 7);
        assert!(!em.converged());

        let config = EmConfig {
            reg_covar: 1e-6,
            tol: 1e-3,
            max_iter: 500,
            ..EmConfig::default()
        };
        let mut em = Em::new(data(&values), start, config).unwrap();
        em.run().unwrap();
        assert!(em.converged());
        let trace = em.trace();
        let n = values.len() as f64;
        let t = em.iteration();
        assert!((trace[t] - trace[t - 1]) / n < 1e-3);
        for window in trace[..t].windows(2) {
            assert!(
                (window[1] - window[0]) / n >= 1e-3,
                "stopped late: {trace:?}"
            );
        }
    }

    #[test]
    fn an_empty_component_stops_with_an_error_naming_it() {
        let values = [0.0, 0.1, 0.2, 0.3];
        let start = one_d(vec![0.9, 0.1], vec![0.1, 1000.0], vec![1.0, 0.01]);
        let mut em = Em::new(data(&values), start.clone(), EmConfig::default()).unwrap();
        let error = em.step().unwrap_err();
        assert!(
            matches!(
                error,
                EmError::ComponentCollapsed {
                    component: 2,
                    iteration: 1,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("--reg-covar"));
        // The failed step changed nothing.
        assert_eq!(em.params(), &start);
        assert_eq!(em.iteration(), 0);
    }

    #[test]
    fn a_component_shrinking_onto_one_point_never_gives_nan() {
        let values = [0.0, 0.0, 0.0, 10.0, 11.0, 12.0];
        let start = one_d(vec![0.5, 0.5], vec![0.0, 11.0], vec![1.0, 1.0]);
        let config = EmConfig {
            reg_covar: 0.0,
            tol: 0.0,
            max_iter: 200,
            ..EmConfig::default()
        };
        let mut em = Em::new(data(&values), start, config).unwrap();
        let error = em.run().unwrap_err();
        assert!(
            matches!(
                error,
                EmError::SingularCovariance { component: 1, .. }
                    | EmError::NonFiniteLikelihood { .. }
            ),
            "{error}"
        );
        assert!(em.trace().iter().all(|v| v.is_finite()));
        assert!(em.params().covariance(0)[0] >= 0.0);
        // With reg_covar the same fit converges.
        let start = one_d(vec![0.5, 0.5], vec![0.0, 11.0], vec![1.0, 1.0]);
        let mut em = Em::new(data(&values), start, EmConfig::default()).unwrap();
        em.run().unwrap();
        assert!(em.converged());
        assert!((em.params().covariance(0)[0] - 1e-6).abs() < 1e-9);
    }

    #[test]
    fn a_far_move_does_not_lose_the_variance_to_cancellation() {
        // The start is 1e8 away from data whose variance is 2/3: S2/N − m² would keep no
        // correct digit, so the M-step recomputes the statistics about the new mean.
        let values = [1e8 - 1.0, 1e8, 1e8 + 1.0];
        let config = EmConfig {
            reg_covar: 0.0,
            tol: 0.0,
            max_iter: 1,
            ..EmConfig::default()
        };
        let mut em = Em::new(
            data(&values),
            one_d(vec![1.0], vec![0.0], vec![1e16]),
            config,
        )
        .unwrap();
        em.step().unwrap();
        assert_eq!(em.params().mean(0), &[1e8]);
        let variance = em.params().covariance(0)[0];
        assert!((variance - 2.0 / 3.0).abs() < 1e-12, "{variance}");
    }

    /// 300 points in 2-D around three centres, deterministic.
    fn three_blobs() -> Arc<Dataset> {
        let values = (0..300)
            .flat_map(|i| {
                let (a, b) = ((i as f64 * 0.37).sin(), (i as f64 * 1.13).cos());
                let (x, y) = [(0.0, 0.0), (4.0, 1.0), (1.0, 5.0)][i % 3];
                [x + a + 0.3 * b, y + b - 0.2 * a]
            })
            .collect();
        Arc::new(Dataset::new(2, values).unwrap())
    }

    /// Σ_i Σ_k r_ik [ln λ'_k + ln φ(x_i; θ'_k)] with r at `at`, point by point, and
    /// −Σ_i Σ_k r_ik ln r_ik at `at`.
    fn direct_q_and_entropy(data: &Dataset, at: &Mixture, theta: &Mixture) -> (f64, f64) {
        use crate::em::{component_log_densities, responsibilities_of};
        let (responsibilities, _) = responsibilities_of(data, at);
        let k = at.k();
        let (mut q, mut entropy) = (0.0, 0.0);
        for (i, point) in data.rows().enumerate() {
            let log_densities = component_log_densities(theta, point);
            for c in 0..k {
                let r = responsibilities[i * k + c];
                q += r * (theta.weights()[c].ln() + log_densities[c]);
                if r > 0.0 {
                    entropy -= r * r.ln();
                }
            }
        }
        (q, entropy)
    }

    #[test]
    fn q_and_entropy_equal_the_direct_sums_for_every_covariance_type() {
        let data = three_blobs();
        for covariance in CovarianceType::ALL {
            let config = EmConfig {
                reg_covar: 0.0,
                tol: 0.0,
                max_iter: 50,
                covariance,
                hard: false,
            };
            let start = Mixture::from_flat(
                2,
                vec![0.2, 0.3, 0.5],
                vec![0.5, 0.5, 3.0, 0.0, 0.0, 4.0],
                vec![2.0, 0.3, 0.3, 1.0, 1.0, 0.0, 0.0, 1.0, 1.5, -0.4, -0.4, 2.0],
            )
            .unwrap();
            let mut em = Em::new(Arc::clone(&data), start, config).unwrap();
            for _ in 0..3 {
                em.step().unwrap();
            }
            let name = covariance.name();
            let at = em.params().clone();
            let (q, entropy) = direct_q_and_entropy(&data, &at, &at);
            assert!(
                (em.q() - q).abs() <= 1e-9 * q.abs(),
                "{name}: {} vs {q}",
                em.q()
            );
            assert!(
                (em.entropy() - entropy).abs() <= 1e-9 * entropy.abs(),
                "{name}: {} vs {entropy}",
                em.entropy()
            );
            let ll = em.log_likelihood();
            assert!(
                (em.q() + em.entropy() - ll).abs() <= 1e-9 * ll.abs(),
                "{name}"
            );
            // At other parameters: the next ones, and a point beyond them on the same line.
            let next = em.next_params().unwrap();
            for theta in [next.clone(), at.interpolate(&next, 1.7).unwrap()] {
                let (q, _) = direct_q_and_entropy(&data, &at, &theta);
                let from_stats = em.q_of(&theta).unwrap();
                assert!(
                    (from_stats - q).abs() <= 1e-9 * q.abs(),
                    "{name}: {from_stats} vs {q}"
                );
            }
            // The step makes exactly the parameters next_params promised and reports their Q.
            let q_next = em.q_of(&next).unwrap();
            let step = em.step().unwrap();
            assert_eq!(em.params(), &next, "{name}");
            assert_eq!(step.q_next, q_next, "{name}");
            assert_eq!(em.last_step(), Some(step));
        }
    }

    /// A diag or spherical fit keeps only diagonal second moments once its parameters are
    /// diagonal; Q of a θ' with off-diagonal covariances is still exact (one full pass).
    #[test]
    fn q_of_a_correlated_theta_is_exact_for_diagonal_fits() {
        let data = three_blobs();
        for covariance in [CovarianceType::Diag, CovarianceType::Spherical] {
            let config = EmConfig {
                tol: 0.0,
                max_iter: 10,
                covariance,
                ..EmConfig::default()
            };
            let start = Mixture::from_flat(
                2,
                vec![0.2, 0.3, 0.5],
                vec![0.5, 0.5, 3.0, 0.0, 0.0, 4.0],
                vec![2.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.5, 0.0, 0.0, 2.0],
            )
            .unwrap();
            let mut em = Em::new(Arc::clone(&data), start, config).unwrap();
            em.step().unwrap();
            em.step().unwrap();
            assert_eq!(em.stats.layout, Layout::Diagonal, "{}", covariance.name());
            let correlated = Mixture::from_flat(
                2,
                vec![0.3, 0.3, 0.4],
                vec![0.0, 0.0, 4.0, 1.0, 1.0, 5.0],
                vec![1.0, 0.4, 0.4, 1.0, 2.0, -0.3, -0.3, 1.0, 1.0, 0.2, 0.2, 1.5],
            )
            .unwrap();
            let at = em.params().clone();
            let (q, _) = direct_q_and_entropy(&data, &at, &correlated);
            let from_stats = em.q_of(&correlated).unwrap();
            assert!(
                (from_stats - q).abs() <= 1e-9 * q.abs(),
                "{}: {from_stats} vs {q}",
                covariance.name()
            );
        }
    }

    #[test]
    fn q_of_rejects_other_shapes() {
        let mut em = Em::new(
            data(&[0.0, 1.0, 2.0, 5.0]),
            one_d(vec![0.5, 0.5], vec![0.0, 4.0], vec![1.0, 1.0]),
            EmConfig::default(),
        )
        .unwrap();
        assert!(em.last_step().is_none());
        em.step().unwrap();
        let other_k = one_d(vec![1.0], vec![0.0], vec![1.0]);
        assert!(matches!(em.q_of(&other_k), Err(EmError::Config(_))));
        let two_d = Mixture::from_flat(
            2,
            vec![1.0, 1.0],
            vec![0.0; 4],
            [1.0, 0.0, 0.0, 1.0].repeat(2),
        )
        .unwrap();
        assert!(matches!(
            em.q_of(&two_d),
            Err(EmError::DimensionMismatch { .. })
        ));
    }

    /// Two clusters in 2-D, 40 points, with a few points in between (deterministic).
    fn two_clusters() -> Arc<Dataset> {
        let values = (0..40)
            .flat_map(|i| {
                let (a, b) = ((i as f64 * 0.71).sin(), (i as f64 * 1.37).cos());
                let (x, y) = if i % 2 == 0 { (0.0, 0.0) } else { (3.0, 2.0) };
                [x + a, y + 0.8 * b + 0.3 * a]
            })
            .collect();
        Arc::new(Dataset::new(2, values).unwrap())
    }

    fn hard(tol: f64, max_iter: usize) -> EmConfig {
        EmConfig {
            reg_covar: 1e-6,
            tol,
            max_iter,
            hard: true,
            ..EmConfig::default()
        }
    }

    fn two_d_start() -> Mixture {
        Mixture::from_flat(
            2,
            vec![0.3, 0.7],
            vec![1.0, 1.5, 2.0, 0.5],
            vec![1.0, 0.0, 0.0, 1.0, 2.0, 0.5, 0.5, 1.0],
        )
        .unwrap()
    }

    /// The weights, means and covariances (+ reg_covar) of the points in each group.
    fn plain_fit(
        data: &Dataset,
        labels: &[usize],
        k: usize,
        reg_covar: f64,
    ) -> Vec<(f64, Vec<f64>, Vec<f64>)> {
        let d = data.dim();
        (0..k)
            .map(|c| {
                let rows: Vec<&[f64]> = data
                    .rows()
                    .zip(labels)
                    .filter(|(_, l)| **l == c)
                    .map(|(x, _)| x)
                    .collect();
                let count = rows.len() as f64;
                let mean: Vec<f64> = (0..d)
                    .map(|j| rows.iter().map(|x| x[j]).sum::<f64>() / count)
                    .collect();
                let mut covariance = vec![0.0; d * d];
                for i in 0..d {
                    for j in 0..d {
                        covariance[i * d + j] = rows
                            .iter()
                            .map(|x| (x[i] - mean[i]) * (x[j] - mean[j]))
                            .sum::<f64>()
                            / count
                            + if i == j { reg_covar } else { 0.0 };
                    }
                }
                (rows.len() as f64 / data.len() as f64, mean, covariance)
            })
            .collect()
    }

    fn close(a: &[f64], b: &[f64], tolerance: f64) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn hard_em_gives_counts_and_plain_means_of_the_assigned_points() {
        let data = two_clusters();
        let mut em = Em::new(Arc::clone(&data), two_d_start(), hard(1e-6, 100)).unwrap();
        for _ in 0..3 {
            let labels = Prepared::new(em.params()).most_likely(data.rows());
            let expected = plain_fit(&data, &labels, 2, 1e-6);
            let counts: Vec<f64> = (0..2)
                .map(|c| labels.iter().filter(|l| **l == c).count() as f64)
                .collect();
            assert_eq!(em.responsibility_totals(), counts.as_slice());
            assert_eq!(em.entropy(), 0.0);
            let step = em.step().unwrap();
            for (c, (weight, mean, covariance)) in expected.iter().enumerate() {
                // Exactly count / n, not just close.
                assert_eq!(
                    em.params().weights()[c],
                    *weight,
                    "iteration {}",
                    step.iteration
                );
                assert!(
                    close(em.params().mean(c), mean, 1e-12),
                    "{:?} vs {mean:?}",
                    em.params().mean(c)
                );
                assert!(close(em.params().covariance(c), covariance, 1e-12));
            }
            if em.is_done() {
                break;
            }
        }
    }

    #[test]
    fn hard_em_stops_when_the_assignments_repeat_even_with_tol_zero() {
        let data = two_clusters();
        let mut em = Em::new(Arc::clone(&data), two_d_start(), hard(0.0, 100)).unwrap();
        let mut labels = vec![Prepared::new(em.params()).most_likely(data.rows())];
        while !em.is_done() {
            em.step().unwrap();
            labels.push(Prepared::new(em.params()).most_likely(data.rows()));
        }
        let t = em.iteration();
        assert!(t < 100, "ran to max_iter");
        assert!(em.converged());
        assert_eq!(em.stop_reason(), Some(StopReason::Converged));
        // Stopped at the first repeat, not before.
        assert_eq!(labels[t], labels[t - 1]);
        for window in labels[..t].windows(2) {
            assert_ne!(window[0], window[1]);
        }
        // A fixed point: θ(t) is the plain fit of its own assignments.
        for (c, (weight, mean, _)) in plain_fit(&data, &labels[t], 2, 1e-6).iter().enumerate() {
            assert_eq!(em.params().weights()[c], *weight);
            assert!(close(em.params().mean(c), mean, 1e-12));
        }
        assert!(em.trace().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn hard_q_is_the_classification_log_likelihood() {
        use crate::em::component_log_densities;
        let data = two_clusters();
        let mut em = Em::new(Arc::clone(&data), two_d_start(), hard(0.0, 5)).unwrap();
        em.step().unwrap();
        let params = em.params().clone();
        let classification: f64 = data
            .rows()
            .map(|x| {
                component_log_densities(&params, x)
                    .iter()
                    .zip(params.weights())
                    .map(|(l, w)| l + w.ln())
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .sum();
        assert!((em.q() - classification).abs() <= 1e-9 * classification.abs());
        assert_eq!(em.entropy(), 0.0);
        assert!(em.q() <= em.log_likelihood());
        // The hard M-step maximises the classification likelihood at fixed assignments.
        let next = em.next_params().unwrap();
        assert!(em.q_of(&next).unwrap() >= em.q() - 1e-9 * em.q().abs());
    }

    #[test]
    fn hard_em_reports_an_empty_component_as_collapsed() {
        let values = [0.0, 0.1, 0.2, 0.3];
        // The second component is likely nowhere: no point is assigned to it.
        let start = one_d(vec![0.5, 0.5], vec![0.1, 5.0], vec![1.0, 1.0]);
        let mut em = Em::new(data(&values), start.clone(), hard(1e-6, 10)).unwrap();
        let error = em.step().unwrap_err();
        assert!(
            matches!(
                error,
                EmError::ComponentCollapsed {
                    component: 2,
                    iteration: 1,
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().contains("collapsed") && error.to_string().contains("--reg-covar")
        );
        assert_eq!(em.params(), &start);
    }

    #[test]
    fn rejects_mismatched_dimensions_and_too_few_points() {
        let start = one_d(vec![0.5, 0.5], vec![0.0, 1.0], vec![1.0, 1.0]);
        assert_eq!(
            Em::new(data(&[1.0]), start.clone(), EmConfig::default()).unwrap_err(),
            EmError::TooFewPoints { n: 1, k: 2 }
        );
        let two_d = Arc::new(Dataset::new(2, vec![0.0; 8]).unwrap());
        assert!(matches!(
            Em::new(two_d, start, EmConfig::default()).unwrap_err(),
            EmError::DimensionMismatch { params: 1, data: 2 }
        ));
    }
}
