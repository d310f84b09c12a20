//! Sample weights: a point of integer weight w fits exactly as w copies of it, a point of
//! weight 0 exactly as if it were absent, the fit is bit-identical across thread counts, BIC's n
//! is Σ w, and the CLI rejects bad weight columns with a located one-line error.
//!
//! Tolerance of the equalities: 1e-12 relative. They hold in exact arithmetic, but not to the
//! bit: repeated or dropped rows move the chunk and block boundaries, so the same terms are
//! summed in another order (and w·r is one rounding where r + r + r are two). After 25
//! iterations of EM the parameters agree to about 1e-14; 1e-12 leaves a margin while still
//! catching any term weighted wrongly (which shows at 1e-3 or more).

mod common;

use std::sync::Arc;

use common::{mixplore, relative, with_threads};
use mixplore::em::{
    CovarianceType, Dataset, EmConfig, FitOptions, FitResult, Init, InitMethod, Mixture, Weights,
    fit,
};

const TOLERANCE: f64 = 1e-12;

/// n points in D dimensions around three centres, deterministic and irregular, with integer
/// weights 0..=3 (about a quarter of them 0).
fn weighted_cloud(n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let values = (0..n * d)
        .map(|i| {
            let (point, j) = (i / d, i % d);
            let centre = [0.0, 5.0, -4.0][point % 3] + 0.5 * j as f64;
            centre + ((i as f64 * 0.618_033_988_7).fract() - 0.5) * 3.0 + (i as f64 * 1.3).sin()
        })
        .collect();
    let weights = (0..n).map(|i| ((i * 7 + i / 5) % 4) as f64).collect();
    (values, weights)
}

/// The rows of `values` each repeated as many times as its (integer) weight says.
fn repeated(values: &[f64], weights: &[f64], d: usize) -> Vec<f64> {
    values
        .chunks_exact(d)
        .zip(weights)
        .flat_map(|(row, &w)| std::iter::repeat_n(row, w as usize).flatten().copied())
        .collect()
}

/// A fixed start of three components near the centres.
fn start(d: usize) -> Mixture {
    let means: Vec<f64> = [0.3, 4.6, -3.5]
        .iter()
        .flat_map(|&c| (0..d).map(move |j| c + 0.5 * j as f64))
        .collect();
    let covariances: Vec<f64> = (0..3)
        .flat_map(|c| {
            (0..d * d).map(move |i| {
                if i % (d + 1) == 0 {
                    2.0 + c as f64
                } else {
                    0.2
                }
            })
        })
        .collect();
    Mixture::from_flat(d, vec![1.0, 1.0, 1.0], means, covariances).unwrap()
}

fn run(data: Dataset, init: Init, covariance: CovarianceType, hard: bool) -> FitResult {
    let options = FitOptions {
        k: 3,
        init,
        n_init: 1,
        seed: 3,
        config: EmConfig {
            max_iter: 25,
            tol: 0.0,
            covariance,
            hard,
            ..EmConfig::default()
        },
    };
    fit(Arc::new(data), &options).unwrap()
}

fn assert_same_fit(what: &str, a: &FitResult, b: &FitResult) {
    let (pa, pb) = (a.mixture.to_params(), b.mixture.to_params());
    let flat = |p: &mixplore::em::MixtureParams| -> Vec<f64> {
        p.weights
            .iter()
            .copied()
            .chain(p.means.iter().flatten().copied())
            .chain(p.covariances.iter().flatten().flatten().copied())
            .collect()
    };
    for (i, (x, y)) in flat(&pa).iter().zip(flat(&pb)).enumerate() {
        let error = relative(*x, y, y.abs().max(1.0));
        assert!(
            error < TOLERANCE,
            "{what}: parameter {i}: {x} vs {y} ({error:e})"
        );
    }
    assert_eq!(a.trace.len(), b.trace.len(), "{what}");
    for (t, (x, y)) in a.trace.iter().zip(&b.trace).enumerate() {
        let error = relative(*x, *y, y.abs());
        assert!(
            error < TOLERANCE,
            "{what}: trace[{t}]: {x} vs {y} ({error:e})"
        );
    }
    let error = relative(a.bic(), b.bic(), b.bic().abs());
    assert!(error < TOLERANCE, "{what}: BIC {} vs {}", a.bic(), b.bic());
}

/// Integer weights give the fit of the data with rows repeated, from the same θ(0), for every
/// covariance type, soft and hard EM, through the compiled (D = 2) and blocked (D = 12, and
/// diagonal statistics) kernels, on enough points to run in parallel chunks.
#[test]
fn integer_weights_fit_as_repeated_rows() {
    for d in [2, 12] {
        let (values, weights) = weighted_cloud(6_000, d);
        let expanded = repeated(&values, &weights, d);
        for covariance in CovarianceType::ALL {
            for hard in [false, true] {
                let what = format!("D {d}, {covariance:?}, hard {hard}");
                let weighted = Dataset::new(d, values.clone())
                    .unwrap()
                    .with_weights(Weights::new(weights.clone()).unwrap())
                    .unwrap();
                let a = run(weighted, Init::Params(start(d)), covariance, hard);
                let b = run(
                    Dataset::new(d, expanded.clone()).unwrap(),
                    Init::Params(start(d)),
                    covariance,
                    hard,
                );
                assert_eq!(a.sample_size(), b.n as f64, "{what}");
                assert_same_fit(&what, &a, &b);
            }
        }
    }
}

/// Weights of 0 and 1 give the fit of the data without the rows of weight 0.
#[test]
fn zero_weights_fit_as_dropped_rows() {
    for d in [2, 12] {
        let (values, weights) = weighted_cloud(6_000, d);
        let zero_or_one: Vec<f64> = weights.iter().map(|&w| w.min(1.0)).collect();
        let kept = repeated(&values, &zero_or_one, d);
        for covariance in CovarianceType::ALL {
            let what = format!("D {d}, {covariance:?}");
            let weighted = Dataset::new(d, values.clone())
                .unwrap()
                .with_weights(Weights::new(zero_or_one.clone()).unwrap())
                .unwrap();
            let a = run(weighted, Init::Params(start(d)), covariance, false);
            let b = run(
                Dataset::new(d, kept.clone()).unwrap(),
                Init::Params(start(d)),
                covariance,
                false,
            );
            assert_same_fit(&what, &a, &b);
        }
    }
}

/// Weighted fits, from every initialisation, are bit-identical on 1, 2 and 3 threads.
#[test]
fn weighted_fits_are_bit_identical_across_thread_counts() {
    for d in [3, 12] {
        let (values, weights) = weighted_cloud(12_000, d);
        let fractional: Vec<f64> = weights.iter().map(|w| w * 0.37 + 0.01).collect();
        for method in [
            InitMethod::KMeansPlusPlus,
            InitMethod::RandomFromData,
            InitMethod::Random,
        ] {
            for covariance in [CovarianceType::Full, CovarianceType::Diag] {
                let fit_on = |threads: usize| {
                    let data = Dataset::new(d, values.clone())
                        .unwrap()
                        .with_weights(Weights::new(fractional.clone()).unwrap())
                        .unwrap();
                    with_threads(threads, || {
                        run(data, Init::Method(method), covariance, false)
                    })
                };
                let one = fit_on(1);
                for threads in [2, 3] {
                    assert_eq!(
                        fit_on(threads),
                        one,
                        "D {d}, {method:?}, {covariance:?}, {threads} threads"
                    );
                }
            }
        }
    }
}

/// No initialisation ever starts a component at a point of weight 0: points of weight 0 sit
/// far away, and every start's means stay among the points that count.
#[test]
fn points_of_weight_zero_are_never_centres() {
    let mut values = Vec::new();
    let mut weights = Vec::new();
    for i in 0..300 {
        let t = i as f64 * 0.01;
        values.extend([t.sin(), t.cos() + (i % 3) as f64 * 4.0]);
        weights.push(1.0);
        // A far outlier of weight 0 next to every point: drawn uniformly or by distance, one
        // would surely be picked.
        values.extend([1000.0 + t, -1000.0]);
        weights.push(0.0);
    }
    for seed in 0..20 {
        for method in [
            InitMethod::KMeansPlusPlus,
            InitMethod::RandomFromData,
            InitMethod::Random,
        ] {
            let data = Dataset::new(2, values.clone())
                .unwrap()
                .with_weights(Weights::new(weights.clone()).unwrap())
                .unwrap();
            let start =
                mixplore::em::initialise(&data, 3, method, &EmConfig::default(), seed).unwrap();
            for c in 0..3 {
                let mean = start.mean(c);
                assert!(
                    mean[0].abs() < 2.0 && mean[1] > -2.0 && mean[1] < 11.0,
                    "{method:?} seed {seed}: mean {mean:?}"
                );
            }
        }
    }
}

/// BIC is −2 LL + p ln Σw, and the JSON says so.
#[test]
fn bic_uses_the_sum_of_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weighted.csv");
    let mut text = String::from("x,y,w\n");
    for i in 0..200 {
        let t = i as f64 * 0.37;
        let centre = if i % 2 == 0 { 0.0 } else { 6.0 };
        let w = [0.5, 1.0, 2.5, 0.0][i % 4];
        text.push_str(&format!("{},{},{w}\n", centre + t.sin(), (t * 1.7).cos()));
    }
    std::fs::write(&path, text).unwrap();
    let json = common::run_json(mixplore().args([
        "fit",
        path.to_str().unwrap(),
        "--k",
        "2",
        "--weights",
        "w",
        "--json",
    ]));
    let total: f64 = (0..200).map(|i| [0.5, 1.0, 2.5, 0.0][i % 4]).sum();
    assert_eq!(json["sample_weights"]["column"], "w");
    assert_eq!(json["sample_weights"]["total"].as_f64().unwrap(), total);
    assert_eq!(json["n"].as_u64().unwrap(), 200);
    let log_likelihood = json["log_likelihood"].as_f64().unwrap();
    // Full covariances, K = 2, D = 2: 1 + 2·2 + 2·3 = 11 free parameters.
    let expected = -2.0 * log_likelihood + 11.0 * total.ln();
    let bic = json["bic"].as_f64().unwrap();
    assert!(
        relative(bic, expected, expected.abs()) < 1e-12,
        "{bic} vs {expected}"
    );
    // The weight column is not data: the means have two coordinates.
    assert_eq!(json["means"][0].as_array().unwrap().len(), 2);
}

/// Bad weight columns: one line naming the file, the line and the column, exit status 2.
#[test]
fn bad_weights_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("negative", "x,y,w\n1,2,1\n3,4,-1\n5,6,1\n", "line 3", "-1"),
        ("nan", "x,y,w\n1,2,1\n3,4,1\n5,6,NaN\n", "line 4", "NaN"),
        (
            "infinite",
            "x,y,w\n1,2,inf\n3,4,1\n5,6,1\n",
            "line 2",
            "inf",
        ),
        (
            "text",
            "x,y,w\n1,2,1\n3,4,heavy\n5,6,1\n",
            "line 3",
            "heavy",
        ),
        ("zero", "x,y,w\n1,2,0\n3,4,0\n5,6,0\n", "every weight", "0"),
    ];
    for (name, text, place, value) in cases {
        let path = dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        for command in ["fit", "select"] {
            let mut cmd = mixplore();
            cmd.args([
                command,
                path.to_str().unwrap(),
                "--weights",
                "w",
                "--k",
                "1",
            ]);
            let output = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{name} {command}: {stderr}");
            assert_eq!(
                stderr.trim().lines().count(),
                1,
                "{name} {command}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("{name}.csv"))
                    && stderr.contains(place)
                    && stderr.contains("w")
                    && stderr.contains(value),
                "{name} {command}: {stderr}"
            );
        }
    }
    let path = dir.path().join("negative.csv");
    for missing in ["weight", "9", "0"] {
        let output = mixplore()
            .args([
                "fit",
                path.to_str().unwrap(),
                "--k",
                "1",
                "--weights",
                missing,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{missing}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{missing}: {stderr}");
        assert!(stderr.contains("--weights"), "{missing}: {stderr}");
    }
    // The weight column cannot also be a data column.
    let output = mixplore()
        .args([
            "fit",
            path.to_str().unwrap(),
            "--k",
            "1",
            "--columns",
            "x,w",
            "--weights",
            "w",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--weights"));
}
