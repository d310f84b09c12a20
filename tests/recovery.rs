//! EM recovers the truth: 20 000 points simulated from a 3-component spec are fitted, components
//! are matched to the true ones by the permutation with the closest means, and every parameter
//! lies within a tolerance that several standard errors at this n comfortably cover.

use std::sync::Arc;

use mixplore::data::{simulate, spec};
use mixplore::em::{EmConfig, FitOptions, Init, InitMethod, Mixture, fit};

fn permutations(k: usize) -> Vec<Vec<usize>> {
    if k == 1 {
        return vec![vec![0]];
    }
    let mut all = Vec::new();
    for rest in permutations(k - 1) {
        for position in 0..k {
            let mut order = rest.clone();
            order.insert(position, k - 1);
            all.push(order);
        }
    }
    all
}

/// The fitted components reordered to line up with the true ones.
fn matched(truth: &Mixture, fitted: &Mixture) -> Mixture {
    let distance = |order: &Vec<usize>| -> f64 {
        order
            .iter()
            .enumerate()
            .map(|(k, &f)| {
                truth
                    .mean(k)
                    .iter()
                    .zip(fitted.mean(f))
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
            })
            .sum()
    };
    let best = permutations(truth.k())
        .into_iter()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        .unwrap();
    fitted.permuted(&best)
}

fn check_recovery(spec_file: &str, n: usize, seed: u64) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(spec_file);
    let spec = spec::load(&path).unwrap();
    let truth = &spec.mixture;
    let simulated = simulate::sample(truth, n, seed);
    let options = FitOptions {
        k: truth.k(),
        init: Init::Method(InitMethod::KMeansPlusPlus),
        n_init: 3,
        seed,
        config: EmConfig::default(),
    };
    let result = fit(Arc::new(simulated.data), &options).unwrap();
    assert!(result.converged, "{spec_file}: did not converge");
    let fitted = matched(truth, &result.mixture);
    for k in 0..truth.k() {
        let (w_true, w_fit) = (truth.weights()[k], fitted.weights()[k]);
        assert!(
            (w_true - w_fit).abs() < 0.02,
            "{spec_file} weight {k}: {w_fit} vs {w_true}"
        );
        for (j, (a, b)) in truth.mean(k).iter().zip(fitted.mean(k)).enumerate() {
            assert!(
                (a - b).abs() < 0.1,
                "{spec_file} mean[{k}][{j}]: {b} vs {a}"
            );
        }
        let d = truth.dim();
        let (s_true, s_fit) = (truth.covariance(k), fitted.covariance(k));
        for i in 0..d {
            for j in 0..d {
                let scale = (s_true[i * d + i] * s_true[j * d + j]).sqrt();
                let error = (s_true[i * d + j] - s_fit[i * d + j]).abs() / scale;
                assert!(
                    error < 0.1,
                    "{spec_file} cov[{k}][{i}][{j}]: {} vs {}",
                    s_fit[i * d + j],
                    s_true[i * d + j]
                );
            }
        }
    }
}

#[test]
fn recovers_three_separated_components() {
    check_recovery("assets/specs/separated.toml", 20_000, 1);
}

#[test]
fn recovers_three_five_dimensional_components() {
    check_recovery("assets/specs/five-d.toml", 20_000, 2);
}

#[test]
fn recovers_the_one_dimensional_bimodal_case() {
    check_recovery("assets/specs/bimodal-1d.toml", 20_000, 3);
}
