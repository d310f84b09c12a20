//! Hard (classification) EM against soft EM: the two differ where the clusters overlap, and
//! the hard pass keeps the engine's promise that the thread count does not change a bit.

use std::sync::Arc;

mod common;

use mixplore::em::{
    Dataset, Em, EmConfig, FitOptions, Init, InitMethod, Mixture, fit_with_history, initialise,
};

/// Old Faithful (eruptions, waiting), read without mixplore's loader.
fn faithful() -> Arc<Dataset> {
    let columns = ["eruptions".to_owned(), "waiting".to_owned()];
    Arc::new(common::load("assets/datasets/faithful.csv", &columns))
}

fn config(hard: bool) -> EmConfig {
    EmConfig {
        hard,
        ..EmConfig::default()
    }
}

#[test]
fn hard_and_soft_differ_on_overlapping_data() {
    let data = faithful();
    let start: Mixture =
        initialise(&data, 2, InitMethod::KMeansPlusPlus, &config(false), 1).unwrap();
    // The start does not depend on the flag.
    let hard_start = initialise(&data, 2, InitMethod::KMeansPlusPlus, &config(true), 1).unwrap();
    assert_eq!(start, hard_start);
    let mut soft = Em::new(Arc::clone(&data), start.clone(), config(false)).unwrap();
    let mut hard = Em::new(Arc::clone(&data), start, config(true)).unwrap();
    soft.run().unwrap();
    hard.run().unwrap();
    assert!(soft.converged() && hard.converged());
    // Soft EM climbs log L; hard EM does not maximise it, so it ends lower.
    assert!(hard.log_likelihood() < soft.log_likelihood());
    assert!(hard.trace().iter().all(|v| v.is_finite()));
    // Hard weights are whole counts over n.
    let n = data.len() as f64;
    for w in hard.params().weights() {
        assert_eq!((w * n).round() / n, *w);
    }
    let (s, h) = (soft.params(), hard.params());
    let differ = (0..2).any(|c| {
        s.covariance(c)
            .iter()
            .zip(h.covariance(c))
            .any(|(a, b)| (a - b).abs() > 1e-3 * a.abs())
    });
    assert!(differ, "soft {s:?} vs hard {h:?}");
    // Hard EM: no entropy, and the classification log-likelihood is below log L.
    assert_eq!(hard.entropy(), 0.0);
    assert!(hard.q() < hard.log_likelihood());
    assert!(soft.entropy() > 0.0);
}

/// Three overlapping blobs of 12 000 points.
fn blobs() -> Arc<Dataset> {
    common::blobs([(0.0, 0.0), (3.0, 1.0), (1.0, 3.5)])
}

#[test]
fn hard_em_does_not_depend_on_the_thread_count() {
    let data = blobs();
    let options = FitOptions {
        k: 3,
        init: Init::Method(InitMethod::KMeansPlusPlus),
        n_init: 2,
        seed: 11,
        config: EmConfig {
            max_iter: 30,
            tol: 0.0,
            hard: true,
            ..EmConfig::default()
        },
    };
    let run = |threads: usize| {
        common::with_threads(threads, || {
            fit_with_history(Arc::clone(&data), &options).unwrap()
        })
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one, two);
    assert!(one.trace.iter().all(|v| v.is_finite()));
}
