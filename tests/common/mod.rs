//! Helpers shared by the integration tests: data sets read without mixplore's loader, synthetic
//! blobs, tolerances, and runs at a given thread count.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use assert_cmd::Command;
use serde_json::Value;

use mixplore::em::{Dataset, Mixture, MixtureParams};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The named columns of a plain CSV data set (header row, commas, no quoting), read without
/// mixplore's loader so that the reference tests do not depend on it.
pub fn load(file: &str, columns: &[String]) -> Dataset {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let picks: Vec<usize> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut values = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        values.extend(picks.iter().map(|&p| cells[p].parse::<f64>().unwrap()));
    }
    Dataset::new(columns.len(), values).unwrap()
}

/// |actual − expected| / scale.
pub fn relative(actual: f64, expected: f64, scale: f64) -> f64 {
    (actual - expected).abs() / scale.max(f64::MIN_POSITIVE)
}

/// Asserts fitted parameters equal the reference to `tolerance` relative: weights and means
/// entry by entry, covariance entries relative to √(Σ_ii Σ_jj) (an off-diagonal entry near zero
/// has no meaningful relative error of its own).
pub fn assert_params_match(
    case: &str,
    iteration: usize,
    actual: &Mixture,
    expected: &MixtureParams,
    tolerance: f64,
) {
    let actual = actual.to_params();
    for (k, (a, e)) in actual.weights.iter().zip(&expected.weights).enumerate() {
        let error = relative(*a, *e, e.abs());
        assert!(
            error < tolerance,
            "{case} t={iteration} weight {k}: {a} vs {e} ({error:e})"
        );
    }
    for (k, (a_mean, e_mean)) in actual.means.iter().zip(&expected.means).enumerate() {
        for (j, (a, e)) in a_mean.iter().zip(e_mean).enumerate() {
            let error = relative(*a, *e, e.abs());
            assert!(
                error < tolerance,
                "{case} t={iteration} mean[{k}][{j}]: {a} vs {e} ({error:e})"
            );
        }
    }
    for (k, (a_cov, e_cov)) in actual
        .covariances
        .iter()
        .zip(&expected.covariances)
        .enumerate()
    {
        for i in 0..e_cov.len() {
            for j in 0..e_cov.len() {
                let scale = (e_cov[i][i] * e_cov[j][j]).sqrt();
                let error = relative(a_cov[i][j], e_cov[i][j], scale);
                assert!(
                    error < tolerance,
                    "{case} t={iteration} cov[{k}][{i}][{j}]: {} vs {} ({error:e})",
                    a_cov[i][j],
                    e_cov[i][j]
                );
            }
        }
    }
}

/// Three blobs of 12 000 points around `centres` (several parallel chunks), deterministic.
pub fn blobs(centres: [(f64, f64); 3]) -> Arc<Dataset> {
    let mut values = Vec::new();
    for i in 0..12_000u64 {
        let centre = centres[(i % 3) as usize];
        let a = ((i * 7919) % 1000) as f64 / 1000.0 - 0.5;
        let b = ((i * 104_729) % 997) as f64 / 997.0 - 0.5;
        values.extend([centre.0 + 2.0 * a, centre.1 + 2.0 * b + a]);
    }
    Arc::new(Dataset::new(2, values).unwrap())
}

/// `work` run on a rayon pool of `threads` threads.
pub fn with_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(work)
}

/// The `mixplore` binary.
pub fn mixplore() -> Command {
    Command::cargo_bin("mixplore").unwrap()
}

/// Runs `command`, which must succeed, and returns its standard output.
pub fn succeeds(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `command`, which must succeed, and parses its standard output as JSON.
pub fn run_json(command: &mut Command) -> Value {
    serde_json::from_str(&succeeds(command)).unwrap()
}
