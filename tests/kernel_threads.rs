//! Every pass kernel gives bit-identical fits whatever the number of threads: the compiled
//! small-D kernels, the blocked matrix kernels (full and shared factors), the diagonal ones,
//! on data large enough to run in parallel (more points than the serial threshold), for every
//! covariance type.

mod common;

use std::sync::Arc;

use mixplore::em::{
    CovarianceType, Dataset, EmConfig, FitOptions, Init, InitMethod, fit_with_history,
};

/// n points in D dimensions around three centres, deterministic and irregular.
fn cloud(n: usize, d: usize) -> Arc<Dataset> {
    let values = (0..n * d)
        .map(|i| {
            let (point, j) = (i / d, i % d);
            let centre = [0.0, 4.0, -3.0][point % 3] + 0.5 * j as f64;
            centre + ((i as f64 * 0.618_033_988_7).fract() - 0.5) * 3.0 + (i as f64 * 1.3).sin()
        })
        .collect();
    Arc::new(Dataset::new(d, values).unwrap())
}

#[test]
fn every_kernel_is_bit_identical_across_thread_counts() {
    for d in [3, 24] {
        let data = cloud(40_000, d);
        for covariance in CovarianceType::ALL {
            let options = FitOptions {
                k: 3,
                init: Init::Method(InitMethod::KMeansPlusPlus),
                n_init: 1,
                seed: 5,
                config: EmConfig {
                    max_iter: 4,
                    tol: 0.0,
                    covariance,
                    ..EmConfig::default()
                },
            };
            let run = |threads: usize| {
                common::with_threads(threads, || {
                    fit_with_history(Arc::clone(&data), &options).unwrap()
                })
            };
            let one = run(1);
            assert_eq!(one.iterations, 4, "D {d} {}", covariance.name());
            assert_eq!(one, run(2), "D {d} {}", covariance.name());
            assert_eq!(one, run(3), "D {d} {}", covariance.name());
        }
    }
}
