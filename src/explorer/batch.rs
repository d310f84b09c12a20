//! Background batches of whole fits for the explorer: the BIC sweep (every K × covariance type)
//! and the restarts list (the same model from R seeds). A batch runs its fits one after another
//! in its own thread, reports each as it finishes, and stops between fits once cancelled, so
//! closing the panel never waits for the rest: the fit under way stops at its next iteration.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::em::{
    CovarianceType, Dataset, FitOptions, FitResult, Mixture, StopReason, fit_cancellable, icl,
};

/// One fit of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its settings (K, init, seed, covariance type, …).
    pub options: FitOptions,
}

/// What a finished fit reports.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSummary {
    /// Number of components.
    pub k: usize,
    /// Covariance type.
    pub covariance: CovarianceType,
    /// Seed of the fit.
    pub seed: u64,
    /// Final total log-likelihood.
    pub log_likelihood: f64,
    /// BIC (lower is better).
    pub bic: f64,
    /// AIC (lower is better).
    pub aic: f64,
    /// ICL, mclust's integrated completed likelihood on BIC's scale (lower is better):
    /// BIC − 2 Σ_i ln max_k r_ik ([`crate::em::icl`]).
    pub icl: f64,
    /// Iterations of the best run.
    pub iterations: usize,
    /// Whether it met the convergence test (false at a saddle).
    pub converged: bool,
    /// Why the kept run stopped.
    pub stop_reason: StopReason,
    /// The seed that reproduces the kept run alone (`fit --seed best_seed --n-init 1`).
    pub best_seed: u64,
    /// The log-likelihood at every iteration.
    pub trace: Vec<f64>,
    /// The starting parameters of the kept run, so the explorer can replay exactly this fit.
    pub initial: Mixture,
}

impl FitSummary {
    /// The summary of a finished fit made with `options` on `data` (one more pass over the
    /// data, for the ICL).
    pub fn of(options: &FitOptions, result: FitResult, data: &Dataset) -> Self {
        let icl = icl(result.bic(), data, &result.mixture);
        Self {
            k: options.k,
            covariance: options.config.covariance,
            seed: options.seed,
            log_likelihood: result.log_likelihood(),
            bic: result.bic(),
            aic: result.aic(),
            icl,
            iterations: result.iterations,
            converged: result.converged,
            stop_reason: result.stop_reason,
            best_seed: result.best_seed,
            trace: result.trace,
            initial: result.initial,
        }
    }
}

/// What a batch tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchEvent {
    /// Fit `index` of batch `batch` finished (or failed, with the reason).
    Done {
        /// The batch.
        batch: u64,
        /// Position of the fit in the batch.
        index: usize,
        /// The result.
        outcome: Result<FitSummary, String>,
    },
}

/// A running batch; dropping it cancels the fits not yet started.
#[derive(Debug)]
pub struct Batch {
    cancelled: Arc<AtomicBool>,
}

impl Batch {
    /// Starts the fits of `jobs` on `data` in a new thread; `sink` gets every result and
    /// returns false once nobody listens.
    pub fn spawn<F>(
        batch: u64,
        data: Arc<Dataset>,
        jobs: Vec<Job>,
        mut sink: F,
    ) -> std::io::Result<Self>
    where
        F: FnMut(BatchEvent) -> bool + Send + 'static,
    {
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancelled);
        std::thread::Builder::new()
            .name("mixplore-batch".into())
            .spawn(move || {
                for (index, job) in jobs.into_iter().enumerate() {
                    if flag.load(Ordering::Relaxed) {
                        return;
                    }
                    let options = &job.options;
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        fit_cancellable(Arc::clone(&data), options, &flag)
                    }))
                    .map_err(|_| "internal error".to_owned())
                    .and_then(|result| result.map_err(|e| e.to_string()));
                    if flag.load(Ordering::Relaxed) {
                        // Cancelled within the fit: nobody wants this result.
                        return;
                    }
                    let outcome = outcome.map(|result| FitSummary::of(options, result, &data));
                    if !sink(BatchEvent::Done {
                        batch,
                        index,
                        outcome,
                    }) {
                        return;
                    }
                }
            })?;
        Ok(Self { cancelled })
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::{EmConfig, Init, InitMethod};
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn reports_every_fit_and_stops_when_dropped() {
        let values: Vec<f64> = (0..400)
            .map(|i| (i % 2) as f64 * 6.0 + (i as f64 * 0.37).sin())
            .collect();
        let data = Arc::new(Dataset::new(1, values).unwrap());
        let jobs: Vec<Job> = (1..=3)
            .map(|k| Job {
                options: FitOptions {
                    k,
                    init: Init::Method(InitMethod::KMeansPlusPlus),
                    n_init: 1,
                    seed: 0,
                    config: EmConfig::default(),
                },
            })
            .collect();
        let (tx, rx) = mpsc::channel();
        let batch = Batch::spawn(7, data, jobs, move |e| tx.send(e).is_ok()).unwrap();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let BatchEvent::Done {
                batch,
                index,
                outcome,
            } = rx.recv_timeout(Duration::from_secs(20)).unwrap();
            assert_eq!(batch, 7);
            let summary = outcome.unwrap();
            // One component claims every point with certainty: no classification penalty.
            if summary.k == 1 {
                assert_eq!(summary.icl, summary.bic);
            } else {
                assert!(summary.icl > summary.bic, "{} {}", summary.icl, summary.bic);
            }
            seen.push((index, summary.k));
        }
        assert_eq!(seen, vec![(0, 1), (1, 2), (2, 3)]);
        drop(batch);
    }
}
