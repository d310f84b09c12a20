//! A whole fit: initialise (possibly several times), run EM to convergence, keep the best run,
//! and report the criteria (BIC, AIC) and anything the user should know as warnings.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::config::{CovarianceType, EmConfig};
use super::dataset::Dataset;
use super::error::EmError;
use super::init::{InitMethod, initialise};
use super::model::Mixture;
use super::pass::{Prepared, responsibilities};
use super::stepper::Em;

/// Where θ(0) comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// A seeded method.
    Method(InitMethod),
    /// Explicit starting parameters (`--init-params`).
    Params(Mixture),
}

/// Everything a fit needs besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Number of components K.
    pub k: usize,
    /// How to start.
    pub init: Init,
    /// Number of initialisations; the run with the highest final log-likelihood is kept.
    pub n_init: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Regularisation and stopping rule.
    pub config: EmConfig,
}

/// The outcome of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitResult {
    /// θ(iterations) of the best run.
    pub mixture: Mixture,
    /// The starting parameters of the best run.
    pub initial: Mixture,
    /// trace[0..=iterations] of the best run.
    pub trace: Vec<f64>,
    /// Iterations the best run took.
    pub iterations: usize,
    /// Whether the best run met the convergence test (rather than stopping at max_iter).
    pub converged: bool,
    /// 1-based number of the best run among `runs`.
    pub best_run: usize,
    /// Number of runs made.
    pub runs: usize,
    /// Iterations summed over all runs (for the time per iteration).
    pub total_iterations: usize,
    /// Number of data points.
    pub n: usize,
    /// Things the user should know (did not converge, runs that failed, ...).
    pub warnings: Vec<String>,
    /// The covariance structure fitted.
    pub covariance: CovarianceType,
}

impl FitResult {
    /// trace[iterations], the total log-likelihood at the reported parameters.
    pub fn log_likelihood(&self) -> f64 {
        self.trace[self.trace.len() - 1]
    }

    /// The log-likelihood divided by n.
    pub fn mean_log_likelihood(&self) -> f64 {
        self.log_likelihood() / self.n as f64
    }

    /// The number of free parameters of the fitted model (depends on the covariance type).
    pub fn free_parameters(&self) -> usize {
        self.covariance
            .free_parameters(self.mixture.k(), self.mixture.dim())
    }

    /// Bayesian information criterion −2·LL + p·ln n (lower is better).
    pub fn bic(&self) -> f64 {
        -2.0 * self.log_likelihood() + self.free_parameters() as f64 * (self.n as f64).ln()
    }

    /// Akaike information criterion −2·LL + 2p (lower is better).
    pub fn aic(&self) -> f64 {
        -2.0 * self.log_likelihood() + 2.0 * self.free_parameters() as f64
    }
}

/// The seed of run `run` (0-based) of a fit seeded by `seed`: the runs draw their seeds in
/// order from one generator, so run 1 of `--n-init 5` is run 1 of `--n-init 1` too.
pub fn run_seeds(seed: u64, runs: usize) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..runs).map(|_| rng.random::<u64>()).collect()
}

/// Fits a K-component mixture to `data`.
///
/// With several runs, a run that fails (a collapsed component, say) becomes a warning and the
/// others go on; the fit fails only if every run does, with the first run's error.
pub fn fit(data: Arc<Dataset>, options: &FitOptions) -> Result<FitResult, EmError> {
    let config = options.config.check()?;
    if options.k == 0 {
        return Err(EmError::Config("--k must be at least 1".into()));
    }
    if options.n_init == 0 {
        return Err(EmError::Config("--n-init must be at least 1".into()));
    }
    if let Init::Params(params) = &options.init {
        if params.k() != options.k {
            return Err(EmError::Config(format!(
                "the starting parameters have {} components but --k is {}",
                params.k(),
                options.k
            )));
        }
        if options.n_init > 1 {
            return Err(EmError::Config(
                "--n-init above 1 needs a random initialisation, not fixed --init-params".into(),
            ));
        }
    }
    if data.len() < options.k {
        return Err(EmError::TooFewPoints {
            n: data.len(),
            k: options.k,
        });
    }

    let mut warnings = Vec::new();
    let mut best: Option<(usize, Mixture, Em)> = None;
    let mut first_error = None;
    let mut total_iterations = 0;
    for (run, seed) in run_seeds(options.seed, options.n_init)
        .into_iter()
        .enumerate()
    {
        let attempt = (|| {
            let initial = match &options.init {
                Init::Params(params) => params.clone(),
                Init::Method(method) => initialise(&data, options.k, *method, &config, seed)?,
            };
            let mut em = Em::new(Arc::clone(&data), initial.clone(), config)?;
            em.run()?;
            Ok::<_, EmError>((initial, em))
        })();
        match attempt {
            Ok((initial, em)) => {
                total_iterations += em.iteration();
                let better = best
                    .as_ref()
                    .is_none_or(|(_, _, kept)| em.log_likelihood() > kept.log_likelihood());
                if better {
                    best = Some((run, initial, em));
                }
            }
            Err(error) => {
                if options.n_init > 1 {
                    warnings.push(format!(
                        "run {} of {} failed: {error}",
                        run + 1,
                        options.n_init
                    ));
                }
                first_error.get_or_insert(error);
            }
        }
    }
    let Some((run, initial, em)) = best else {
        return Err(first_error.unwrap_or(EmError::Config("no run was made".into())));
    };
    if !em.converged() {
        let trace = em.trace();
        let last_change = match trace {
            [.., before, last] => format!(
                " (last change per point {:.3e})",
                (last - before) / data.len() as f64
            ),
            _ => String::new(),
        };
        if config.tol > 0.0 {
            warnings.push(format!(
                "did not converge within --max-iter {} iterations{last_change}; raise --max-iter or --tol",
                config.max_iter
            ));
        }
    }
    warnings.extend(data_warnings(&data, em.params()));
    if let Some(decrease) = largest_decrease(em.trace()) {
        warnings.push(format!(
            "the log-likelihood decreased by {decrease:.3e} at some iteration; EM never does so in exact arithmetic, so the data may be badly scaled"
        ));
    }
    Ok(FitResult {
        mixture: em.params().clone(),
        initial,
        trace: em.trace().to_vec(),
        iterations: em.iteration(),
        converged: em.converged(),
        best_run: run + 1,
        runs: options.n_init,
        total_iterations,
        n: data.len(),
        warnings,
        covariance: config.covariance,
    })
}

/// What about the data or the fit makes the numbers less meaningful than they look: constant
/// columns (their variance is reg_covar alone) and components holding fewer points than a
/// covariance needs (an outlier caught by its own component, or too many components).
fn data_warnings(data: &Dataset, mixture: &Mixture) -> Vec<String> {
    let d = data.dim();
    let mut warnings = Vec::new();
    for column in 0..d {
        let mut values = data.rows().map(|row| row[column]);
        if let Some(first) = values.next()
            && values.all(|v| v == first)
        {
            warnings.push(format!(
                "column {} is constant ({first}): its variance is --reg-covar alone, which sets the log-likelihood; drop the column",
                column + 1
            ));
        }
    }
    let n = data.len() as f64;
    for (k, weight) in mixture.weights().iter().enumerate() {
        let points = weight * n;
        if points < (d + 1) as f64 {
            warnings.push(format!(
                "component {} holds about {points:.1} points, fewer than D + 1 = {}: its covariance rests on --reg-covar (an outlier, or too many components?)",
                k + 1,
                d + 1
            ));
        }
    }
    warnings
}

/// The largest decrease between consecutive trace values beyond rounding (1e-9·|LL|), if any.
fn largest_decrease(trace: &[f64]) -> Option<f64> {
    trace
        .windows(2)
        .map(|pair| (pair[0] - pair[1], 1e-9 * pair[0].abs()))
        .filter(|(drop, allowed)| drop > allowed)
        .map(|(drop, _)| drop)
        .max_by(f64::total_cmp)
}

/// The n×K responsibilities (row-major) of `data` under `mixture`, and the total log-likelihood.
/// Only computed when asked for (`--labels`): a fit never keeps an n×K matrix.
pub fn responsibilities_of(data: &Dataset, mixture: &Mixture) -> (Vec<f64>, f64) {
    responsibilities(data, &Prepared::new(mixture))
}

/// The most likely component (0-based) of each of the points `indices` of `data` under
/// `mixture`: what the explorer colours a drawn point by. Costs O(len · K · D²), independent of n.
pub fn most_likely_components(data: &Dataset, indices: &[usize], mixture: &Mixture) -> Vec<usize> {
    let prepared = Prepared::new(mixture);
    prepared.most_likely(indices.iter().map(|&i| data.row(i)))
}

/// The total log-likelihood of `data` under `mixture` (one parallel pass, no n×K matrix).
pub fn log_likelihood_of(data: &Dataset, mixture: &Mixture) -> f64 {
    super::pass::e_step_stats(data, &Prepared::new(mixture)).log_likelihood
}

/// ln φ(x; μ_k, Σ_k) of every component at one point (the E-step's ingredients, for the
/// explorer's point inspector).
pub fn component_log_densities(mixture: &Mixture, point: &[f64]) -> Vec<f64> {
    let prepared = Prepared::new(mixture);
    let mut diffs = vec![0.0; mixture.k() * mixture.dim()];
    let mut joint = vec![0.0; mixture.k()];
    prepared.joint_log_probs(point, &mut diffs, &mut joint);
    joint
        .iter()
        .zip(mixture.weights())
        .map(|(j, w)| j - w.ln())
        .collect()
}
