//! EM engine benchmarks (criterion): the cost of ONE EM iteration (`Em::step`: the M-step plus
//! one fused pass over the data) at (n, D, K) = (10 000, 2, 3), (100 000, 10, 5),
//! (1 000 000, 2, 3) full, and (100 000, 50, 5) full, diag and tied (the blocked, diagonal and
//! shared-factor kernels), and the load of a 1 000 000 × 2 CSV file.
//!
//! Run: `cargo bench --bench em` (a few minutes on 2 cores; see bench/README.md).
//! Filter: `cargo bench --bench em -- step/1000000` or `-- csv_load`.
//!
//! Everything is generated in-process and seeded, so every run times the same work:
//! - the data are drawn from a fixed mixture (well separated, overlapping tails) with a fixed
//!   seed, the start is a seeded random-from-data initialisation, and [`WARM_ITERATIONS`]
//!   iterations are run at set-up so the timed step is a representative mid-fit one;
//! - every timed call steps a fresh clone of that same state (cloning an `Em` copies only the
//!   parameters, the trace and the per-component statistics: the data are behind an `Arc`), and
//!   the clone and its drop are outside the timing, so exactly one `step()` is measured;
//! - the CSV file is written once to a temporary directory; each timed call is one
//!   `data::csv::load` of it (the returned table is dropped outside the timing).

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use criterion::{criterion_group, criterion_main};
use mixplore::data::csv::{CsvOptions, Source, load};
use mixplore::data::simulate::sample;
use mixplore::em::{
    CovarianceType, Dataset, Em, EmConfig, InitMethod, Mixture, MixtureParams, initialise,
};

/// Iterations run before timing, so the timed step is neither the first nor a converged one.
const WARM_ITERATIONS: usize = 3;

/// The (n, D, K, covariance type) cases of the step benchmark.
const STEP_CASES: &[(usize, usize, usize, CovarianceType)] = &[
    (10_000, 2, 3, CovarianceType::Full),
    (100_000, 10, 5, CovarianceType::Full),
    (1_000_000, 2, 3, CovarianceType::Full),
    (100_000, 50, 5, CovarianceType::Full),
    (100_000, 50, 5, CovarianceType::Diag),
    (100_000, 50, 5, CovarianceType::Tied),
];

/// Rows of the CSV load benchmark (2 columns).
const CSV_ROWS: usize = 1_000_000;

/// A fixed K-component mixture in D dimensions: means spread about 3–4.5 standard deviations
/// apart (separated, with overlapping tails), correlated covariances of varied scale.
fn mixture(dim: usize, k: usize) -> Mixture {
    let weights: Vec<f64> = (0..k).map(|c| 1.0 + 0.5 * c as f64).collect();
    let means = (0..k)
        .map(|c| {
            if dim == 2 {
                let angle = std::f64::consts::TAU * c as f64 / k as f64 + 0.3;
                vec![3.5 * angle.cos(), 3.5 * angle.sin()]
            } else {
                // Component c sits 4.2 along axis c (mod D), with a small offset on the others.
                (0..dim)
                    .map(|j| {
                        if j == c % dim {
                            4.2
                        } else {
                            0.2 * ((c + j) % 3) as f64
                        }
                    })
                    .collect()
            }
        })
        .collect();
    // Σ_c = s_c ((1 − ρ_c) I + ρ_c 11ᵀ) scaled per axis: positive definite for ρ_c in [0, 1).
    let covariances = (0..k)
        .map(|c| {
            let scale = 0.8 + 0.3 * c as f64;
            let rho = [0.5_f64, -0.3, 0.2, 0.0, 0.4][c % 5].max(-0.9 / dim as f64);
            let axis = |j: usize| 1.0 + 0.25 * ((j + c) % 3) as f64;
            (0..dim)
                .map(|a| {
                    (0..dim)
                        .map(|b| {
                            let r = if a == b { 1.0 } else { rho };
                            scale * r * (axis(a) * axis(b)).sqrt()
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    Mixture::from_params(&MixtureParams {
        weights,
        means,
        covariances,
    })
    .expect("the benchmark mixture is valid")
}

/// The EM state after [`WARM_ITERATIONS`] iterations on n points of the (D, K) mixture.
fn warmed_em(n: usize, dim: usize, k: usize, covariance: CovarianceType) -> Em {
    let data = Arc::new(sample(&mixture(dim, k), n, 20_240 + n as u64).data);
    let config = EmConfig {
        tol: 0.0,
        covariance,
        ..EmConfig::default()
    };
    let init = initialise(&data, k, InitMethod::RandomFromData, &config, 7)
        .expect("initialisation succeeds");
    let mut em = Em::new(data, init, config).expect("EM starts");
    for _ in 0..WARM_ITERATIONS {
        em.step().expect("warm-up iteration succeeds");
    }
    em
}

fn em_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sampling_mode(SamplingMode::Flat);
    for &(n, dim, k, covariance) in STEP_CASES {
        let em = warmed_em(n, dim, k, covariance);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{n}x{dim}x{k}/{}", covariance.name())),
            &em,
            |b, em| {
                b.iter_batched_ref(
                    || em.clone(),
                    |em| black_box(em.step().expect("iteration succeeds")),
                    BatchSize::SmallInput,
                )
            },
        );
    }
    group.finish();
}

/// Writes `rows` × 2 simulated values as CSV with a header (x1,x2), 8 decimals per value
/// (about the size of the shared benchmark's `%.9g` files: ~23 MB for 1M rows).
fn write_csv(path: &Path, rows: usize) {
    let data: Dataset = sample(&mixture(2, 3), rows, 99).data;
    let mut out = BufWriter::new(File::create(path).expect("cannot create the CSV file"));
    writeln!(out, "x1,x2").unwrap();
    for row in data.rows() {
        writeln!(out, "{:.8},{:.8}", row[0], row[1]).unwrap();
    }
    out.flush().unwrap();
}

fn csv_load(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let path = dir.path().join("load_1m_x2.csv");
    write_csv(&path, CSV_ROWS);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let source = Source::Path(path);
    let options = CsvOptions::default();
    let mut group = c.benchmark_group("csv_load");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Bytes(bytes));
    group.bench_function(format!("{CSV_ROWS}x2"), |b| {
        b.iter_with_large_drop(|| {
            let table = load(&source, &options).expect("the CSV loads");
            assert_eq!(table.data.len(), CSV_ROWS);
            table
        })
    });
    group.finish();
    drop(dir);
}

criterion_group!(benches, em_step, csv_load);
criterion_main!(benches);
