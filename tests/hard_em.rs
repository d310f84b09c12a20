//! Hard (classification) EM against soft EM: the two differ where the clusters overlap, and
//! the hard pass keeps the engine's promise that the thread count does not change a bit.

use std::sync::Arc;

use mixplore::em::{
    Dataset, Em, EmConfig, FitOptions, Init, InitMethod, Mixture, fit_with_history, initialise,
};

/// Old Faithful (eruptions, waiting), read by hand so that the test depends on the engine only.
fn faithful() -> Arc<Dataset> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/datasets/faithful.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let values: Vec<f64> = text
        .lines()
        .skip(1)
        .flat_map(|line| line.split(',').map(|v| v.trim().parse::<f64>().unwrap()))
        .collect();
    Arc::new(Dataset::new(2, values).unwrap())
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

/// Three overlapping blobs of 12 000 points (several parallel chunks), deterministic.
fn blobs() -> Arc<Dataset> {
    let mut values = Vec::new();
    for i in 0..12_000u64 {
        let centre = [(0.0, 0.0), (3.0, 1.0), (1.0, 3.5)][(i % 3) as usize];
        let a = ((i * 7919) % 1000) as f64 / 1000.0 - 0.5;
        let b = ((i * 104_729) % 997) as f64 / 997.0 - 0.5;
        values.extend([centre.0 + 2.0 * a, centre.1 + 2.0 * b + a]);
    }
    Arc::new(Dataset::new(2, values).unwrap())
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
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| fit_with_history(Arc::clone(&data), &options).unwrap())
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one, two);
    assert!(one.trace.iter().all(|v| v.is_finite()));
}
