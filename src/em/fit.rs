//! A whole fit: initialise (possibly several times), run EM to convergence, keep the best run,
//! and report the criteria (BIC, AIC) and anything the user should know as warnings.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::config::{CovarianceType, EmConfig};
use super::dataset::Dataset;
use super::error::EmError;
use super::init::{InitMethod, initialise};
use super::limits;
use super::model::Mixture;
use super::pass::{Layout, Prepared, responsibilities};
use super::stepper::{Em, StopReason};

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
    /// Whether the best run converged: it met the convergence test at distinct components
    /// (false when it stopped at max_iter or at a saddle).
    pub converged: bool,
    /// Why the best run stopped.
    pub stop_reason: StopReason,
    /// 1-based number of the best run among `runs`.
    pub best_run: usize,
    /// The seed that reproduces the best run on its own: a fit with this seed and n_init = 1
    /// starts from the same θ(0) (see [`run_seed`]). The fit's own seed for `--init-params`.
    pub best_seed: u64,
    /// Number of runs made.
    pub runs: usize,
    /// Iterations summed over all runs (for the time per iteration).
    pub total_iterations: usize,
    /// Number of data points.
    pub n: usize,
    /// Σ_i w_i when the data have sample weights (`None` without): the n of BIC and of the
    /// mean log-likelihood.
    pub total_weight: Option<f64>,
    /// Things the user should know (did not converge, runs that failed, ...).
    pub warnings: Vec<String>,
    /// The covariance structure fitted.
    pub covariance: CovarianceType,
    /// The best run's iteration by iteration record, t = 0..=iterations, when the fit was made
    /// by [`fit_with_history`] (`None` from [`fit`], which stores no parameters per iteration).
    pub history: Option<Vec<IterationRecord>>,
}

/// One iteration t of a fit as the lecture notes derive EM: θ(t), log L(θ(t)), and the two
/// halves of log L(θ(t)) = Q(θ(t) | θ(t)) + H(t), plus Q(θ(t+1) | θ(t)), the value the next
/// M-step reached. Natural logs, totals over the data (not means), as the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationRecord {
    /// t.
    pub iteration: usize,
    /// trace[t] = log L(θ(t)).
    pub log_likelihood: f64,
    /// θ(t).
    pub mixture: Mixture,
    /// Q(θ(t) | θ(t)) = Σ_i Σ_k r_ik [ln λ_k + ln φ(x_i; μ_k, Σ_k)] at θ(t).
    pub q: f64,
    /// H(t) = −Σ_i Σ_k r_ik ln r_ik at θ(t).
    pub entropy: f64,
    /// Q(θ(t+1) | θ(t)); `None` at the last iteration.
    pub q_next: Option<f64>,
}

impl IterationRecord {
    /// The record of the current iteration of `em` (its q_next is not known yet).
    fn of(em: &Em) -> Self {
        Self {
            iteration: em.iteration(),
            log_likelihood: em.log_likelihood(),
            mixture: em.params().clone(),
            q: em.q(),
            entropy: em.entropy(),
            q_next: None,
        }
    }
}

impl FitResult {
    /// trace[iterations], the total log-likelihood at the reported parameters.
    pub fn log_likelihood(&self) -> f64 {
        self.trace[self.trace.len() - 1]
    }

    /// The sample size of BIC and of the mean log-likelihood: Σ_i w_i with sample weights (a
    /// point of weight w counts as w points, so integer weights give the BIC of the data with
    /// rows repeated), else n.
    pub fn sample_size(&self) -> f64 {
        self.total_weight.unwrap_or(self.n as f64)
    }

    /// The log-likelihood divided by n (by Σ w with sample weights).
    pub fn mean_log_likelihood(&self) -> f64 {
        self.log_likelihood() / self.sample_size()
    }

    /// The number of free parameters of the fitted model (depends on the covariance type).
    pub fn free_parameters(&self) -> usize {
        self.covariance
            .free_parameters(self.mixture.k(), self.mixture.dim())
    }

    /// Bayesian information criterion −2·LL + p·ln n (lower is better), n = Σ w with sample
    /// weights ([`FitResult::sample_size`]).
    pub fn bic(&self) -> f64 {
        -2.0 * self.log_likelihood() + self.free_parameters() as f64 * self.sample_size().ln()
    }

    /// Akaike information criterion −2·LL + 2p (lower is better).
    pub fn aic(&self) -> f64 {
        -2.0 * self.log_likelihood() + 2.0 * self.free_parameters() as f64
    }
}

/// The seed with which run `run` (0-based) of a fit seeded by `seed` initialises: `seed + run`
/// (wrapping). So run r of `--seed S --n-init R` is the one run of `--seed S+r --n-init 1`, and a
/// list of restarts with seeds S, S+1, … is a list of the runs of one fit. (The generator
/// scrambles its seed, so neighbouring seeds give unrelated streams.)
pub fn run_seed(seed: u64, run: usize) -> u64 {
    seed.wrapping_add(run as u64)
}

/// θ(0) of run `run` (0-based) of a fit of `k` components seeded by `seed`: the one function both
/// `fit` and the explorer's worker start from, so the same seed gives the same iteration 0 in
/// both. Explicit parameters are returned as they are (whatever the run), after checking K.
pub fn starting_parameters(
    data: &Dataset,
    k: usize,
    init: &Init,
    config: &EmConfig,
    seed: u64,
    run: usize,
) -> Result<Mixture, EmError> {
    match init {
        Init::Params(params) if params.k() != k => Err(EmError::Config(format!(
            "the starting parameters have {} components but --k is {k}",
            params.k()
        ))),
        Init::Params(params) => Ok(params.clone()),
        Init::Method(method) => initialise(data, k, *method, config, run_seed(seed, run)),
    }
}

/// Fits a K-component mixture to `data`.
///
/// With several runs, a run that fails (a collapsed component, say) becomes a warning and the
/// others go on; the fit fails only if every run does, with the first run's error.
pub fn fit(data: Arc<Dataset>, options: &FitOptions) -> Result<FitResult, EmError> {
    fit_cancellable(data, options, &AtomicBool::new(false))
}

/// [`fit`], giving up with [`EmError::Cancelled`] once `cancel` is set: the flag is read before
/// each run and between iterations, so the fit returns within one iteration (or one
/// initialisation) of it being set.
pub fn fit_cancellable(
    data: Arc<Dataset>,
    options: &FitOptions,
    cancel: &AtomicBool,
) -> Result<FitResult, EmError> {
    fit_recording(data, options, cancel, false)
}

/// [`fit`], also recording the kept run's [`IterationRecord`] of every iteration in
/// [`FitResult::history`] (`mixplore fit --json --history`). Costs a copy of the parameters per
/// iteration (K·D² values) and O(K·D³) per iteration for Q; no extra pass over the data.
pub fn fit_with_history(data: Arc<Dataset>, options: &FitOptions) -> Result<FitResult, EmError> {
    fit_recording(data, options, &AtomicBool::new(false), true)
}

/// The fit behind [`fit_cancellable`] and [`fit_with_history`]; `record` keeps the history.
fn fit_recording(
    data: Arc<Dataset>,
    options: &FitOptions,
    cancel: &AtomicBool,
    record: bool,
) -> Result<FitResult, EmError> {
    let config = options.config.check()?;
    limits::check_components(options.k)?;
    limits::check_n_init(options.n_init)?;
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
    let cancelled = || cancel.load(Ordering::Relaxed);

    let mut warnings = Vec::new();
    let mut best: Option<(usize, Mixture, Em, Option<Vec<IterationRecord>>)> = None;
    let mut first_error = None;
    let mut total_iterations = 0;
    for run in 0..options.n_init {
        if cancelled() {
            return Err(EmError::Cancelled);
        }
        let attempt = (|| {
            let initial =
                starting_parameters(&data, options.k, &options.init, &config, options.seed, run)?;
            let mut em = Em::new(Arc::clone(&data), initial.clone(), config)?;
            let mut history = record.then(|| vec![IterationRecord::of(&em)]);
            while !em.is_done() {
                if cancelled() {
                    return Err(EmError::Cancelled);
                }
                let step = em.step()?;
                if let Some(history) = &mut history {
                    if let Some(last) = history.last_mut() {
                        last.q_next = Some(step.q_next);
                    }
                    history.push(IterationRecord::of(&em));
                }
            }
            Ok::<_, EmError>((initial, em, history))
        })();
        match attempt {
            Err(EmError::Cancelled) => return Err(EmError::Cancelled),
            Ok((initial, em, history)) => {
                total_iterations += em.iteration();
                let better = best
                    .as_ref()
                    .is_none_or(|(_, _, kept, _)| em.log_likelihood() > kept.log_likelihood());
                if better {
                    best = Some((run, initial, em, history));
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
    let Some((run, initial, em, history)) = best else {
        return Err(first_error.unwrap_or(EmError::Config("no run was made".into())));
    };
    let stop_reason = em.stop_reason().unwrap_or(StopReason::MaxIter);
    let which = if options.n_init > 1 {
        format!(" (run {} of {})", run + 1, options.n_init)
    } else {
        String::new()
    };
    if let StopReason::Saddle {
        components: (first, second),
    } = stop_reason
    {
        let advice = match &options.init {
            Init::Method(InitMethod::KMeansPlusPlus) => "try another --seed or a larger --n-init",
            Init::Method(_) => "try --init kmeans++ or another --seed",
            Init::Params(_) => "try other --init-params or --init kmeans++",
        };
        warnings.push(format!(
            "the run{which} stopped at a saddle point, not a maximum: components {} and {} are identical (a symmetric start, which EM never breaks); {advice}",
            first + 1,
            second + 1
        ));
    }
    if stop_reason == StopReason::MaxIter {
        let trace = em.trace();
        let last_change = match trace {
            [.., before, last] => format!(
                " (last change per point {:.3e})",
                (last - before) / data.total_weight()
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
    warnings.extend(data_warnings(&data, em.params(), config.reg_covar));
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
        stop_reason,
        best_run: run + 1,
        best_seed: match options.init {
            Init::Params(_) => options.seed,
            Init::Method(_) => run_seed(options.seed, run),
        },
        runs: options.n_init,
        total_iterations,
        n: data.len(),
        total_weight: data.weights().map(|_| data.total_weight()),
        warnings,
        covariance: config.covariance,
        history,
    })
}

/// What about the data or the fit makes the numbers less meaningful than they look: constant
/// columns (their variance is reg_covar alone) and components holding fewer points than a
/// covariance needs (an outlier caught by its own component, or too many components).
fn data_warnings(data: &Dataset, mixture: &Mixture, reg_covar: f64) -> Vec<String> {
    let d = data.dim();
    let n = data.len() as f64;
    let mut warnings = Vec::new();
    // A component holds λ·Σw points' worth of weight.
    let sample_size = data.total_weight();
    for column in 0..d {
        let mut values = data.rows().map(|row| row[column]);
        if let Some(first) = values.next()
            && values.all(|v| v == first)
        {
            warnings.push(format!(
                "column {} is constant ({first}): its variance is --reg-covar alone, which sets the log-likelihood; drop the column",
                column + 1
            ));
            continue;
        }
        // A column that varies far less than --reg-covar adds (standard deviation 1e-150): the
        // fitted variances are then --reg-covar, not anything the data say.
        let mean = data.rows().map(|row| row[column]).sum::<f64>() / n;
        let variance = data
            .rows()
            .map(|row| (row[column] - mean) * (row[column] - mean))
            .sum::<f64>()
            / n;
        if reg_covar > 0.0 && variance < reg_covar {
            warnings.push(format!(
                "column {} varies by only {:.3e} (standard deviation), below √--reg-covar = {:.3e}: its fitted variances are --reg-covar, not the data's; multiply the column by a power of ten or lower --reg-covar",
                column + 1,
                variance.sqrt(),
                reg_covar.sqrt()
            ));
        }
    }
    for (k, weight) in mixture.weights().iter().enumerate() {
        let points = weight * sample_size;
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

/// The adjusted Rand index of `labels` (one per point of `data`) against each point's most
/// likely component under `mixture`: [`super::adjusted_rand_index`] of the two, the same bits,
/// but the points are classified a block at a time into the contingency table, so no n-long
/// vector of components (nor of indices) is held beside the data.
pub fn agreement_with_labels(data: &Dataset, labels: &[usize], mixture: &Mixture) -> f64 {
    const BLOCK: usize = 1 << 16;
    let n = data.len().min(labels.len());
    let rows = labels[..n].iter().max().map_or(0, |m| m + 1);
    let cols = mixture.k();
    let prepared = Prepared::new(mixture);
    let mut table = vec![0u64; rows * cols];
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let predicted = prepared.most_likely((start..end).map(|i| data.row(i)));
        for (&truth, &component) in labels[start..end].iter().zip(&predicted) {
            if let Some(count) = table.get_mut(truth * cols + component) {
                *count += 1;
            }
        }
    }
    super::adjusted_rand_index_of_table(&table, cols, n)
}

/// For each of the points `indices` of `data` under `mixture`: its most likely component
/// (0-based, as [`most_likely_components`]) and that component's responsibility, the largest
/// r_ik (1 for a sure assignment, 1/K for a point no component claims more than another).
pub fn assignments(data: &Dataset, indices: &[usize], mixture: &Mixture) -> Vec<(usize, f64)> {
    let prepared = Prepared::new(mixture);
    prepared.assignments(indices.iter().map(|&i| data.row(i)))
}

/// The total log-likelihood of `data` under `mixture` (one parallel pass, no n×K matrix).
pub fn log_likelihood_of(data: &Dataset, mixture: &Mixture) -> f64 {
    let prepared = Prepared::new(mixture);
    // Only the log-likelihood is wanted: the cheapest statistics the parameters allow.
    let layout = if prepared.is_diagonal() {
        Layout::Diagonal
    } else {
        Layout::Full
    };
    super::pass::e_step_stats(data, &prepared, layout).log_likelihood
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_in_blocks_is_the_adjusted_rand_index_of_all_points() {
        // More points than one block, so the contingency table is filled in two.
        let n = 70_000;
        let values: Vec<f64> = (0..n)
            .flat_map(|i| {
                let t = i as f64;
                [(i % 3) as f64 * 2.0 + (t * 0.37).sin(), (t * 0.11).cos()]
            })
            .collect();
        let data = Dataset::new(2, values).unwrap();
        let labels: Vec<usize> = (0..n).map(|i| (i % 3 + i % 7 / 6) % 3).collect();
        let mixture = Mixture::from_flat(
            2,
            vec![0.5, 0.5],
            vec![0.5, 0.0, 3.5, 0.0],
            vec![1.0, 0.0, 0.0, 1.0, 1.5, 0.1, 0.1, 1.0],
        )
        .unwrap();
        let all: Vec<usize> = (0..n).collect();
        let expected = super::super::adjusted_rand_index(
            &labels,
            &most_likely_components(&data, &all, &mixture),
        );
        let blocked = agreement_with_labels(&data, &labels, &mixture);
        assert_eq!(
            blocked.to_bits(),
            expected.to_bits(),
            "{blocked} {expected}"
        );
        assert!(blocked > 0.1 && blocked < 1.0, "{blocked}");
    }

    #[test]
    fn assignments_agree_with_the_responsibilities() {
        let values: Vec<f64> = (0..120)
            .map(|i| (i % 3) as f64 * 2.5 + (i as f64 * 0.71).sin())
            .collect();
        let data = Dataset::new(2, values).unwrap();
        let mixture = Mixture::from_flat(
            2,
            vec![0.3, 0.7],
            vec![0.0, 0.5, 3.0, 2.5],
            vec![1.0, 0.2, 0.2, 1.5, 2.0, -0.4, -0.4, 1.0],
        )
        .unwrap();
        let indices: Vec<usize> = (0..data.len()).collect();
        let (responsibilities, _) = responsibilities_of(&data, &mixture);
        let labels = most_likely_components(&data, &indices, &mixture);
        for ((i, (label, share)), expected) in assignments(&data, &indices, &mixture)
            .into_iter()
            .enumerate()
            .zip(labels)
        {
            assert_eq!(label, expected);
            let row = &responsibilities[i * 2..i * 2 + 2];
            let top = row.iter().copied().fold(0.0, f64::max);
            assert!((share - top).abs() < 1e-12, "{share} vs {top}");
        }
    }
    use std::time::{Duration, Instant};

    fn blobs(n: usize) -> Arc<Dataset> {
        let values = (0..n)
            .flat_map(|i| {
                let t = (i as f64 * 0.37).sin();
                let shift = if i % 2 == 0 { 0.0 } else { 6.0 };
                [shift + t, (i as f64 * 0.11).cos()]
            })
            .collect();
        Arc::new(Dataset::new(2, values).unwrap())
    }

    fn options(n_init: usize, seed: u64) -> FitOptions {
        FitOptions {
            k: 2,
            init: Init::Method(InitMethod::RandomFromData),
            n_init,
            seed,
            config: EmConfig::default(),
        }
    }

    #[test]
    fn run_r_starts_as_seed_plus_r_alone() {
        let data = blobs(400);
        let config = EmConfig::default();
        let init = Init::Method(InitMethod::Random);
        for run in 0..4 {
            assert_eq!(
                starting_parameters(&data, 2, &init, &config, 10, run).unwrap(),
                starting_parameters(&data, 2, &init, &config, 10 + run as u64, 0).unwrap()
            );
        }
        assert_eq!(run_seed(u64::MAX, 2), 1);
        let batch = fit(Arc::clone(&data), &options(5, 3)).unwrap();
        assert_eq!(batch.best_seed, 3 + batch.best_run as u64 - 1);
        let alone = fit(data, &options(1, batch.best_seed)).unwrap();
        assert_eq!(alone.trace, batch.trace);
        assert_eq!(alone.initial, batch.initial);
        assert_eq!(alone.best_seed, batch.best_seed);
    }

    #[test]
    fn starting_parameters_check_explicit_k() {
        let data = blobs(10);
        let one =
            Mixture::from_flat(2, vec![1.0], vec![0.0, 0.0], vec![1.0, 0.0, 0.0, 1.0]).unwrap();
        let init = Init::Params(one.clone());
        let config = EmConfig::default();
        assert_eq!(
            starting_parameters(&data, 1, &init, &config, 0, 3).unwrap(),
            one
        );
        assert!(matches!(
            starting_parameters(&data, 2, &init, &config, 0, 0),
            Err(EmError::Config(_))
        ));
    }

    #[test]
    fn a_set_flag_cancels_at_once() {
        let cancel = AtomicBool::new(true);
        let error = fit_cancellable(blobs(100), &options(3, 0), &cancel).unwrap_err();
        assert_eq!(error, EmError::Cancelled);
        assert_eq!(error.to_string(), "cancelled");
    }

    #[test]
    fn a_flag_set_during_a_fit_stops_it_within_an_iteration() {
        // tol 0 and a huge max_iter: this fit would run for minutes.
        let data = blobs(20_000);
        let options = FitOptions {
            config: EmConfig {
                tol: 0.0,
                max_iter: limits::MAX_ITERATIONS,
                ..EmConfig::default()
            },
            ..options(2, 0)
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let started = Instant::now();
        let worker = std::thread::spawn(move || fit_cancellable(data, &options, &flag));
        std::thread::sleep(Duration::from_millis(200));
        let set_at = Instant::now();
        cancel.store(true, Ordering::Relaxed);
        let result = worker.join().unwrap();
        assert_eq!(result.unwrap_err(), EmError::Cancelled);
        // One iteration over 20 000 points takes milliseconds; allow for a loaded machine.
        assert!(
            set_at.elapsed() < Duration::from_secs(2),
            "returned {:?} after the flag",
            set_at.elapsed()
        );
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
