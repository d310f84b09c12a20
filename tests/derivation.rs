//! The derivation of EM from the lecture notes, checked on real data sets at every iteration:
//!
//! - log L(θ(t)) = Q(θ(t) | θ(t)) + H(t), with H(t) the entropy of the responsibilities at θ(t);
//! - log L(θ(t+1)) ≥ Q(θ(t+1) | θ(t)) + H(t) ≥ log L(θ(t)) (the M-step maximises Q);
//! - the M-step's weights are the responsibility totals: λ_k(t+1) = N_k(t) / n.
//!
//! Once through the library ([`Em`] step by step) and once through the binary
//! (`mixplore fit --json --history`). reg_covar = 0 throughout: with reg_covar > 0 the M-step
//! does not maximise Q exactly and the middle inequality may fail by a little.

mod common;

use std::sync::Arc;

use mixplore::em::{
    CovarianceType, Dataset, Em, EmConfig, FitOptions, Init, InitMethod, fit_with_history,
    initialise,
};
use serde_json::Value;

/// A data set, the columns fitted, K and a seed whose k-means++ start fits without a collapse.
struct Case {
    file: &'static str,
    columns: &'static [&'static str],
    k: usize,
    seed: u64,
}

const CASES: &[Case] = &[
    Case {
        file: "assets/datasets/faithful.csv",
        columns: &["eruptions", "waiting"],
        k: 2,
        seed: 1,
    },
    Case {
        file: "assets/datasets/iris.csv",
        columns: &["sepal_length", "sepal_width", "petal_length", "petal_width"],
        k: 3,
        seed: 2,
    },
    Case {
        file: "assets/datasets/galaxies.csv",
        columns: &["velocity"],
        k: 3,
        seed: 3,
    },
];

/// Relative tolerance of the identities (they hold exactly; only rounding separates the sides).
const TOLERANCE: f64 = 1e-9;

fn data(case: &Case) -> Arc<Dataset> {
    let columns: Vec<String> = case.columns.iter().map(|c| (*c).to_owned()).collect();
    Arc::new(common::load(case.file, &columns))
}

fn config(covariance: CovarianceType) -> EmConfig {
    EmConfig {
        reg_covar: 0.0,
        tol: 1e-10,
        max_iter: 300,
        covariance,
        hard: false,
    }
}

/// Checks the three facts at one iteration: `ll`, `q`, `entropy` at θ(t); `q_next` the value of
/// Q(θ(t+1) | θ(t)) and `ll_next` the log-likelihood at θ(t+1).
fn check_step(what: &str, ll: f64, q: f64, entropy: f64, q_next: f64, ll_next: f64) {
    let slack = TOLERANCE * ll.abs();
    assert!(
        (q + entropy - ll).abs() <= slack,
        "{what}: Q + H = {} but log L = {ll}",
        q + entropy
    );
    let bound = q_next + entropy;
    assert!(
        bound >= ll - slack,
        "{what}: Q(θ(t+1)|θ(t)) + H(t) = {bound} below log L(θ(t)) = {ll}"
    );
    assert!(
        ll_next >= bound - slack,
        "{what}: log L(θ(t+1)) = {ll_next} below the bound {bound}"
    );
    assert!(entropy >= 0.0, "{what}: negative entropy {entropy}");
}

#[test]
fn the_identities_hold_at_every_iteration_through_the_library() {
    for case in CASES {
        for covariance in CovarianceType::ALL {
            let data = data(case);
            let n = data.len() as f64;
            let config = config(covariance);
            let start = initialise(
                &data,
                case.k,
                InitMethod::KMeansPlusPlus,
                &config,
                case.seed,
            )
            .unwrap();
            let mut em = Em::new(Arc::clone(&data), start, config).unwrap();
            assert!(em.last_step().is_none());
            while !em.is_done() {
                let what = format!(
                    "{} {} iteration {}",
                    case.file,
                    covariance.name(),
                    em.iteration()
                );
                let (ll, q, entropy) = (em.log_likelihood(), em.q(), em.entropy());
                let totals = em.responsibility_totals().to_vec();
                // Q from the statistics at θ(t) itself agrees with the cached value.
                let direct = em.q_of(em.params()).unwrap();
                assert!((direct - q).abs() <= TOLERANCE * q.abs(), "{what}");
                let step = em.step().unwrap();
                check_step(&what, ll, q, entropy, step.q_next, step.log_likelihood);
                assert_eq!(step.previous_entropy, entropy, "{what}");
                assert_eq!(step.previous_q, q, "{what}");
                assert_eq!(em.last_step(), Some(step), "{what}");
                for (weight, total) in em.params().weights().iter().zip(&totals) {
                    assert!(
                        (weight - total / n).abs() <= 1e-12,
                        "{what}: λ = {weight} but N_k / n = {}",
                        total / n
                    );
                }
            }
            assert!(em.iteration() >= 2, "{} ran too few iterations", case.file);
        }
    }
}

#[test]
fn the_fit_history_records_the_kept_run() {
    let case = &CASES[0];
    let data = data(case);
    let options = FitOptions {
        k: case.k,
        init: Init::Method(InitMethod::RandomFromData),
        n_init: 4,
        seed: case.seed,
        config: config(CovarianceType::Full),
    };
    let result = fit_with_history(Arc::clone(&data), &options).unwrap();
    let history = result.history.as_ref().unwrap();
    assert_eq!(history.len(), result.iterations + 1);
    for (t, record) in history.iter().enumerate() {
        assert_eq!(record.iteration, t);
        assert_eq!(record.log_likelihood, result.trace[t]);
        assert_eq!(record.q_next.is_none(), t == result.iterations);
    }
    assert_eq!(history[0].mixture, result.initial);
    assert_eq!(history[result.iterations].mixture, result.mixture);
    // The kept run alone records the same history, and a plain fit records none.
    let alone = FitOptions {
        n_init: 1,
        seed: result.best_seed,
        ..options.clone()
    };
    assert_eq!(
        fit_with_history(Arc::clone(&data), &alone).unwrap().history,
        result.history
    );
    assert!(mixplore::em::fit(data, &options).unwrap().history.is_none());
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

#[test]
fn the_identities_hold_at_every_iteration_through_the_binary() {
    for case in CASES {
        let json = common::run_json(
            common::mixplore()
                .arg("fit")
                .arg(common::root().join(case.file))
                .args(["--k", &case.k.to_string()])
                .args(["--seed", &case.seed.to_string()])
                // tol 0: 60 iterations, the last ones at convergence, where both sides of
                // each inequality agree to rounding.
                .args(["--reg-covar", "0", "--tol", "0", "--max-iter", "60"])
                .args(["--json", "--history"]),
        );
        let iterations = json["iterations"].as_u64().unwrap() as usize;
        let history = json["history"].as_array().unwrap();
        let trace = json["trace"].as_array().unwrap();
        assert_eq!(iterations, 60, "{}", case.file);
        assert_eq!(history.len(), iterations + 1, "{}", case.file);
        for (t, record) in history.iter().enumerate() {
            assert_eq!(record["iteration"].as_u64(), Some(t as u64));
            assert_eq!(record["log_likelihood"], trace[t]);
            let k = record["weights"].as_array().unwrap().len();
            assert_eq!(k, case.k);
            assert_eq!(record["means"].as_array().unwrap().len(), k);
            assert_eq!(record["covariances"].as_array().unwrap().len(), k);
            let (ll, q, entropy) = (
                number(&record["log_likelihood"]),
                number(&record["q"]),
                number(&record["entropy"]),
            );
            if t == iterations {
                assert!(
                    record["q_next"].is_null(),
                    "{}: q_next at the end",
                    case.file
                );
                assert!((q + entropy - ll).abs() <= TOLERANCE * ll.abs());
                for key in ["weights", "means", "covariances", "log_likelihood"] {
                    assert_eq!(record[key], json[key], "{}: {key}", case.file);
                }
            } else {
                let next = &history[t + 1];
                check_step(
                    &format!("{} iteration {t}", case.file),
                    ll,
                    q,
                    entropy,
                    number(&record["q_next"]),
                    number(&next["log_likelihood"]),
                );
            }
        }
    }
}

#[test]
fn history_needs_json() {
    let output = common::mixplore()
        .arg("fit")
        .arg(common::root().join("assets/datasets/faithful.csv"))
        .args(["--k", "2", "--history"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--json"), "{stderr}");
}

#[test]
fn without_history_the_json_has_no_history() {
    let json = common::run_json(
        common::mixplore()
            .arg("fit")
            .arg(common::root().join("assets/datasets/faithful.csv"))
            .args(["--k", "2", "--json"]),
    );
    assert!(json.get("history").is_none());
}
