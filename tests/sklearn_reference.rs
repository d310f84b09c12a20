//! mixplore's EM against scikit-learn's GaussianMixture, run from the same explicit starting
//! parameters with reg_covar = 0 (tests/reference/make_refs.py regenerates the values).
//!
//! Tolerance: 1e-6 relative for log-likelihoods, weights and means; covariance entries are
//! compared relative to √(Σ_ii Σ_jj), since an off-diagonal entry near zero has no meaningful
//! relative error of its own.

use std::sync::Arc;

use mixplore::em::{CovarianceType, Em, EmConfig, Mixture, MixtureParams};
use serde::Deserialize;

mod common;
use common::{assert_params_match, load, relative, root};

const TOLERANCE: f64 = 1e-6;

#[derive(Deserialize)]
struct References {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    file: String,
    columns: Vec<String>,
    n: usize,
    k: usize,
    iterations: usize,
    init: MixtureParams,
    trace: Vec<f64>,
    checkpoints: Vec<Checkpoint>,
    #[serde(rename = "final")]
    last: Final,
}

#[derive(Deserialize)]
struct Checkpoint {
    iteration: usize,
    #[serde(flatten)]
    params: MixtureParams,
}

#[derive(Deserialize)]
struct Final {
    log_likelihood: f64,
    bic: f64,
    aic: f64,
}

fn references() -> References {
    let text = std::fs::read_to_string(root().join("tests/reference/sklearn_refs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn em_matches_scikit_learn_iteration_by_iteration() {
    let references = references();
    assert_eq!(references.cases.len(), 3);
    for case in &references.cases {
        let data = Arc::new(load(&case.file, &case.columns));
        assert_eq!(data.len(), case.n, "{}", case.name);
        let init = Mixture::from_params(&case.init).unwrap();
        assert_eq!(init.k(), case.k);
        let config = EmConfig {
            reg_covar: 0.0,
            tol: 0.0,
            max_iter: case.iterations,
            ..EmConfig::default()
        };
        let mut em = Em::new(data, init, config).unwrap();
        em.run().unwrap();
        assert_eq!(
            em.iteration(),
            case.iterations,
            "{}: tol 0 runs max_iter",
            case.name
        );
        assert_eq!(em.trace().len(), case.trace.len());
        for (t, (a, e)) in em.trace().iter().zip(&case.trace).enumerate() {
            let error = relative(*a, *e, e.abs());
            assert!(
                error < TOLERANCE,
                "{} trace[{t}]: {a} vs {e} ({error:e})",
                case.name
            );
        }
        let last = &case.checkpoints[case.checkpoints.len() - 1];
        assert_eq!(last.iteration, case.iterations);
        assert_params_match(
            &case.name,
            last.iteration,
            em.params(),
            &last.params,
            TOLERANCE,
        );
        let ll = em.log_likelihood();
        assert!(
            relative(ll, case.last.log_likelihood, ll.abs()) < TOLERANCE,
            "{}",
            case.name
        );
        let p = CovarianceType::Full.free_parameters(case.k, em.params().dim()) as f64;
        let n = case.n as f64;
        let bic = -2.0 * ll + p * n.ln();
        let aic = -2.0 * ll + 2.0 * p;
        assert!(
            relative(bic, case.last.bic, case.last.bic.abs()) < TOLERANCE,
            "{} bic",
            case.name
        );
        assert!(
            relative(aic, case.last.aic, case.last.aic.abs()) < TOLERANCE,
            "{} aic",
            case.name
        );
    }
}

#[test]
fn early_checkpoints_match_scikit_learn() {
    for case in &references().cases {
        let data = Arc::new(load(&case.file, &case.columns));
        let config = EmConfig {
            reg_covar: 0.0,
            tol: 0.0,
            max_iter: case.iterations,
            ..EmConfig::default()
        };
        let mut em = Em::new(data, Mixture::from_params(&case.init).unwrap(), config).unwrap();
        for checkpoint in &case.checkpoints {
            while em.iteration() < checkpoint.iteration {
                em.step().unwrap();
            }
            assert_params_match(
                &case.name,
                checkpoint.iteration,
                em.params(),
                &checkpoint.params,
                TOLERANCE,
            );
        }
    }
}
