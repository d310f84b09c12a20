//! `mixplore predict` and `mixplore score` against scikit-learn 1.9.1's `predict`,
//! `predict_proba`, `score_samples` and `score` on the same models (tests/reference/
//! make_predict_refs.py writes the model files and the values), and the model file's round trip
//! through `fit --save-model` and `fit --json`.

mod common;

use common::{mixplore, relative, root, succeeds};
use serde_json::Value;

/// Relative tolerance of every comparison with scikit-learn.
const TOLERANCE: f64 = 1e-9;

/// Responsibilities this small are in the range where e^x underflows; scikit-learn gives 0 and
/// mixplore the smallest subnormal or 0, both meaning "no share at all".
const UNDERFLOW: f64 = 1e-300;

fn references() -> Value {
    let text =
        std::fs::read_to_string(root().join("tests/reference/sklearn_predict.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The rows of a CSV written by mixplore: header, then numbers.
fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|line| line.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn assert_close(what: &str, actual: f64, expected: f64) {
    if actual.abs() < UNDERFLOW && expected.abs() < UNDERFLOW {
        return;
    }
    let error = relative(actual, expected, expected.abs());
    assert!(
        error <= TOLERANCE,
        "{what}: {actual} vs scikit-learn {expected} ({error:e})"
    );
}

/// Checks `predict --proba` and `score --out -` of `model` on `file` against `expected`.
fn check_against_sklearn(case: &str, model: &str, file: &str, expected: &Value) {
    let predicted = succeeds(mixplore().args(["predict", file, "--model", model, "--proba"]));
    let (header, rows) = csv_rows(&predicted);
    let labels = expected["predict"].as_array().unwrap();
    let k = expected["predict_proba"][0].as_array().unwrap().len();
    assert_eq!(header.len(), 1 + k, "{case} {file}: {header:?}");
    assert_eq!(rows.len(), labels.len(), "{case} {file}: rows");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row[0] as u64,
            labels[i].as_u64().unwrap(),
            "{case} {file} row {i}: predict"
        );
        for (c, expected) in numbers(&expected["predict_proba"][i]).iter().enumerate() {
            assert_close(
                &format!("{case} {file} row {i} responsibility {c}"),
                row[1 + c],
                *expected,
            );
        }
    }

    let output = mixplore()
        .args(["score", file, "--model", model, "--out", "-"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{case} {file}: score failed");
    let (header, rows) = csv_rows(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(header, ["log_density"]);
    let samples = numbers(&expected["score_samples"]);
    assert_eq!(rows.len(), samples.len());
    for (i, (row, expected)) in rows.iter().zip(&samples).enumerate() {
        assert_close(
            &format!("{case} {file} row {i} log density"),
            row[0],
            *expected,
        );
    }
    // The mean goes to standard error when the rows go to standard output.
    let summary = String::from_utf8(output.stderr).unwrap();
    let mean: f64 = summary
        .strip_prefix("mean log-likelihood ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("{case}: no mean in {summary:?}"));
    assert_close(
        &format!("{case} {file} score"),
        mean,
        expected["score"].as_f64().unwrap(),
    );
}

#[test]
fn predict_and_score_agree_with_scikit_learn() {
    let references = references();
    let cases = references["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let model = root().join(case["model"].as_str().unwrap());
        for data in case["data"].as_array().unwrap() {
            let file = root().join(data["file"].as_str().unwrap());
            check_against_sklearn(name, model.to_str().unwrap(), file.to_str().unwrap(), data);
        }
    }
}

#[test]
fn a_model_saved_by_fit_predicts_as_scikit_learn() {
    // mixplore's own fit from the reference start (reg_covar = 0, 50 iterations) matches
    // scikit-learn's to about 1e-11, so its saved model predicts and scores as scikit-learn's.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("faithful.model.json");
    let faithful = root().join("assets/datasets/faithful.csv");
    let start = root().join("tests/reference/faithful_k2.init.json");
    let json = succeeds(
        mixplore()
            .arg("fit")
            .arg(&faithful)
            .args([
                "--k",
                "2",
                "--reg-covar",
                "0",
                "--tol",
                "0",
                "--max-iter",
                "50",
            ])
            .arg("--init-params")
            .arg(&start)
            .arg("--save-model")
            .arg(&saved)
            .arg("--json"),
    );
    let result = dir.path().join("result.json");
    std::fs::write(&result, json).unwrap();
    let references = references();
    let expected = &references["cases"][0]["data"][0];
    for model in [&saved, &result] {
        check_against_sklearn(
            "faithful_k2 (mixplore fit)",
            model.to_str().unwrap(),
            faithful.to_str().unwrap(),
            expected,
        );
    }
    // The saved file and the --json result are the same model: the same output, byte for byte.
    let predict = |model: &std::path::Path| {
        succeeds(
            mixplore()
                .arg("predict")
                .arg(&faithful)
                .arg("--model")
                .arg(model)
                .arg("--proba"),
        )
    };
    assert_eq!(predict(&saved), predict(&result));
}

#[test]
fn columns_are_checked_against_the_model() {
    let model = root().join("tests/reference/faithful_k2.model.json");
    let run = |args: &[&str]| {
        let output = mixplore()
            .arg("predict")
            .args(args)
            .arg("--model")
            .arg(&model)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
        let message = String::from_utf8(output.stderr).unwrap();
        assert_eq!(message.lines().count(), 1, "{message}");
        message
    };
    let iris = root().join("assets/datasets/iris.csv");
    let iris = iris.to_str().unwrap();
    let missing = run(&[iris]);
    assert!(
        missing.contains("the model's feature \"eruptions\" is not a column of the data"),
        "{missing}"
    );
    let renamed = run(&[iris, "--columns", "1,2"]);
    assert!(
        renamed.contains("the selected columns sepal_length, sepal_width are not the model's features eruptions, waiting"),
        "{renamed}"
    );
    let count = run(&[iris, "--columns", "1,2,3"]);
    assert!(count.contains("3 columns selected"), "{count}");
    let not_a_model = root().join("tests/reference/faithful_k2.init.json");
    let output = mixplore()
        .arg("score")
        .arg(iris)
        .arg("--model")
        .arg(&not_a_model)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no \"format_version\""));
}

#[test]
fn headerless_data_are_taken_in_the_model_s_order_and_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new.csv");
    std::fs::write(&data, "2.0,55\n4.5,80\n").unwrap();
    let model = root().join("tests/reference/faithful_k2.model.json");
    let run = |command: &str, out: &std::path::Path| {
        succeeds(
            mixplore()
                .arg(command)
                .arg(&data)
                .arg("--model")
                .arg(&model)
                .args(["--columns", "1,2", "--out"])
                .arg(out),
        )
    };
    let out = dir.path().join("labels.csv");
    assert!(run("predict", &out).is_empty());
    let written = std::fs::read_to_string(&out).unwrap();
    let (header, rows) = csv_rows(&written);
    assert_eq!(header, ["component"]);
    // The reference model's component 1 is the short-eruption cluster.
    assert_eq!(rows, vec![vec![1.0], vec![2.0]]);
    let densities = dir.path().join("densities.csv");
    let summary = run("score", &densities);
    assert!(summary.starts_with("mean log-likelihood "), "{summary}");
    assert_eq!(
        std::fs::read_to_string(&densities).unwrap().lines().count(),
        3
    );
}
