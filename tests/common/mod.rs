//! Helpers shared by the tests that compare with scikit-learn's reference values.

#![allow(dead_code)]

use std::path::PathBuf;

use mixplore::em::Dataset;

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
