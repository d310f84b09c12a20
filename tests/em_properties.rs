//! Properties EM must have on any data: the log-likelihood never decreases (beyond rounding),
//! weights sum to one, covariances stay symmetric positive definite, the order of the rows does
//! not matter, and the thread count does not change a single bit.

use std::sync::Arc;

mod common;

use mixplore::em::{
    Dataset, Em, EmConfig, EmError, FitOptions, Init, InitMethod, Mixture, fit, fit_with_history,
    initialise,
};
use proptest::prelude::*;

fn dataset(dim: usize) -> impl Strategy<Value = Dataset> {
    (8usize..80).prop_flat_map(move |n| {
        prop::collection::vec(-50.0f64..50.0, n * dim)
            .prop_map(move |values| Dataset::new(dim, values).unwrap())
    })
}

fn case() -> impl Strategy<Value = (Dataset, usize, u64)> {
    (1usize..4).prop_flat_map(|dim| (dataset(dim), 1usize..4, any::<u64>()))
}

/// Errors EM is allowed to stop with on arbitrary data (documented degenerate fits).
fn is_degenerate(error: &EmError) -> bool {
    matches!(
        error,
        EmError::ComponentCollapsed { .. }
            | EmError::SingularCovariance { .. }
            | EmError::TooFewDistinctPoints { .. }
            | EmError::NonFiniteLikelihood { .. }
    )
}

fn assert_valid(mixture: &Mixture) {
    let sum: f64 = mixture.weights().iter().sum();
    assert!((sum - 1.0).abs() < 1e-12, "weights sum to {sum}");
    for k in 0..mixture.k() {
        let cov = mixture.covariance_matrix(k);
        assert_eq!(cov, cov.transpose(), "component {k} not symmetric");
        assert!(
            cov.clone().cholesky().is_some(),
            "component {k} not positive definite"
        );
    }
}

/// A fixed seed: CI explores the same 128 cases every run (no flaky failures); change the seed
/// or set PROPTEST_CASES to explore more.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6d69_7870_6c6f_7265),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// With reg_covar = 0 (exact EM): regularisation moves θ(t) off the M-step's maximiser, so
    /// with it a tiny decrease is possible and no bug.
    #[test]
    fn log_likelihood_never_decreases((data, k, seed) in case()) {
        let data = Arc::new(data);
        let config = EmConfig { reg_covar: 0.0, tol: 0.0, max_iter: 40 ,..EmConfig::default()
};
        let init = match initialise(&data, k, InitMethod::KMeansPlusPlus, &config, seed) {
            Ok(init) => init,
            Err(error) => { prop_assert!(is_degenerate(&error), "{error}"); return Ok(()); }
        };
        let mut em = Em::new(Arc::clone(&data), init, config).unwrap();
        while !em.is_done() {
            let before = em.log_likelihood();
            match em.step() {
                Ok(stats) => {
                    prop_assert!(stats.log_likelihood.is_finite());
                    prop_assert!(
                        stats.log_likelihood >= before - 1e-9 * before.abs(),
                        "decrease at iteration {}: {} -> {}", stats.iteration, before, stats.log_likelihood
                    );
                    assert_valid(em.params());
                }
                Err(error) => { prop_assert!(is_degenerate(&error), "{error}"); break; }
            }
        }
    }

    #[test]
    fn row_order_does_not_matter((data, k, seed) in case(), shuffle_seed in any::<u64>()) {
        let config = EmConfig { reg_covar: 1e-3, tol: 0.0, max_iter: 25 ,..EmConfig::default()
};
        let Ok(init) = initialise(&data, k, InitMethod::RandomFromData, &config, seed) else {
            return Ok(());
        };
        // A permutation of the rows, drawn from the shuffle seed.
        let n = data.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = shuffle_seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let values: Vec<f64> = order.iter().flat_map(|&i| data.row(i).to_vec()).collect();
        let shuffled = Dataset::new(data.dim(), values).unwrap();

        let mut original = Em::new(Arc::new(data), init.clone(), config).unwrap();
        let mut permuted = Em::new(Arc::new(shuffled), init, config).unwrap();
        let (a, b) = (original.run(), permuted.run());
        if a.is_err() || b.is_err() {
            return Ok(());
        }
        for (x, y) in original.trace().iter().zip(permuted.trace()) {
            prop_assert!((x - y).abs() <= 1e-8 * x.abs().max(1.0), "{x} vs {y}");
        }
        let (p, q) = (original.params().to_params(), permuted.params().to_params());
        for (x, y) in p.means.iter().flatten().zip(q.means.iter().flatten()) {
            prop_assert!((x - y).abs() <= 1e-7 * x.abs().max(1.0), "mean {x} vs {y}");
        }
        for (x, y) in p.weights.iter().zip(&q.weights) {
            prop_assert!((x - y).abs() <= 1e-7, "weight {x} vs {y}");
        }
    }
}

/// Three well-separated blobs of 12 000 points.
fn blobs() -> Arc<Dataset> {
    common::blobs([(0.0, 0.0), (6.0, 1.0), (2.0, 7.0)])
}

#[test]
fn thread_count_does_not_change_a_bit() {
    let data = blobs();
    let options = FitOptions {
        k: 3,
        init: Init::Method(InitMethod::KMeansPlusPlus),
        n_init: 2,
        seed: 11,
        config: EmConfig {
            max_iter: 30,
            tol: 0.0,
            ..EmConfig::default()
        },
    };
    // With the history, Q, H and Q(θ(t+1)|θ(t)) of every iteration are compared too.
    let run = |threads: usize| {
        common::with_threads(threads, || {
            fit_with_history(Arc::clone(&data), &options).unwrap()
        })
    };
    let one = run(1);
    let two = run(2);
    let three = run(3);
    assert_eq!(one, two);
    assert_eq!(one, three);
    assert_eq!(one.iterations, 30);
    assert_eq!(one.history.as_ref().map(Vec::len), Some(31));
}

#[test]
fn same_seed_same_result_other_seed_other_start() {
    let data = blobs();
    let options = |seed| FitOptions {
        k: 3,
        init: Init::Method(InitMethod::Random),
        n_init: 1,
        seed,
        config: EmConfig {
            max_iter: 5,
            tol: 0.0,
            ..EmConfig::default()
        },
    };
    let a = fit(Arc::clone(&data), &options(1)).unwrap();
    let b = fit(Arc::clone(&data), &options(1)).unwrap();
    let c = fit(Arc::clone(&data), &options(2)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.initial, c.initial);
}
