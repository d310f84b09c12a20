//! The `mixplore` binary end to end: bad input gives exit status 2 and one line naming the
//! place; good input gives the promised outputs.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn mixplore() -> Command {
    Command::cargo_bin("mixplore").unwrap()
}

fn asset(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs and checks the failure contract: status 2, one line on stderr, nothing on stdout,
/// no panic text; returns the line.
fn fails(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("mixplore: error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    stderr
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn bad_csv_cells_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "text.csv",
            "a,b\n1,2\n3,x7\n5,6\n",
            vec!["text.csv", "line 3", "column 2", "\"b\"", "x7"],
        ),
        (
            "ragged.csv",
            "a,b\n1,2\n3\n5,6\n",
            vec!["ragged.csv", "line 3", "1 field"],
        ),
        (
            "nan.csv",
            "a,b\n1,2\n3,4\nNaN,6\n",
            vec!["nan.csv", "line 4", "column 1", "NaN"],
        ),
        (
            "inf.csv",
            "a,b\n1,2\n3,-inf\n5,6\n",
            vec!["inf.csv", "line 3", "column 2", "-inf"],
        ),
        ("empty.csv", "", vec!["empty.csv", "empty"]),
        ("header.csv", "a,b\n", vec!["header.csv", "no data rows"]),
    ];
    for (name, contents, needles) in cases {
        let path = write(dir.path(), name, contents);
        let line = fails(mixplore().arg("fit").arg(&path).args(["--k", "1"]));
        for needle in needles {
            assert!(
                line.contains(needle),
                "{name}: {needle:?} missing from {line}"
            );
        }
    }
}

#[test]
fn fewer_rows_than_components() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "three.csv", "a\n1\n2\n3\n");
    let line = fails(mixplore().arg("fit").arg(&path).args(["--k", "4"]));
    assert!(
        line.contains("three.csv") && line.contains("3 data rows"),
        "{line}"
    );
}

#[test]
fn drop_invalid_skips_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut contents = String::from("a,b\n");
    for i in 0..40 {
        contents.push_str(&format!("{},{}\n", i % 7, (i * 3) % 11));
    }
    contents.push_str("oops,1\n");
    let path = write(dir.path(), "dirty.csv", &contents);
    fails(mixplore().arg("fit").arg(&path).args(["--k", "2"]));
    let output = mixplore()
        .arg("fit")
        .arg(&path)
        .args(["--k", "2", "--drop-invalid", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["n"], 40);
    assert_eq!(json["dropped_rows"], 1);
    assert!(
        json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("1 invalid rows dropped")
    );
}

#[test]
fn usage_errors_are_one_line() {
    fails(mixplore().args(["fit"]));
    fails(mixplore().args(["fit", "x.csv", "--k", "0"]));
    fails(mixplore().args(["fit", "x.csv", "--k", "2", "--bogus"]));
    fails(mixplore().args(["fit", "x.csv", "--k", "2", "--init", "magic"]));
    fails(mixplore().args(["frobnicate"]));
    let line = fails(mixplore().args(["fit", "/no/such/file.csv", "--k", "2"]));
    assert!(line.contains("/no/such/file.csv"), "{line}");
    let faithful = asset("assets/datasets/faithful.csv");
    let line = fails(
        mixplore()
            .arg("fit")
            .arg(&faithful)
            .args(["--k", "2", "--tol", "-1"]),
    );
    assert!(line.contains("--tol"), "{line}");
    let line = fails(
        mixplore()
            .arg("fit")
            .arg(&faithful)
            .args(["--k", "2", "--columns", "speed"]),
    );
    assert!(
        line.contains("speed") && line.contains("eruptions"),
        "{line}"
    );
    // A spec given as data says what it is and what to run instead.
    let spec = asset("assets/specs/default.toml");
    let line = fails(mixplore().arg("fit").arg(&spec).args(["--k", "2"]));
    assert!(
        line.contains("simulation spec") && line.contains("mixplore simulate --spec"),
        "{line}"
    );
}

#[test]
fn bad_init_params_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let faithful = asset("assets/datasets/faithful.csv");
    let fit_from = |name: &str, contents: &str| {
        let path = write(dir.path(), name, contents);
        fails(
            mixplore()
                .arg("fit")
                .arg(&faithful)
                .args(["--k", "2", "--init-params"])
                .arg(&path),
        )
    };
    let line = fit_from(
        "bad.json",
        r#"{"weights":[1,1],"means":[[2,55],[4,80]],"covariances":[[[1,0],[0,1]],[[1,3],[3,1]]]}"#,
    );
    assert!(
        line.contains("bad.json")
            && line.contains("component 2")
            && line.contains("positive definite"),
        "{line}"
    );
    let line = fit_from("garbage.json", "{ weights: ");
    assert!(line.contains("garbage.json"), "{line}");
    let line = fit_from(
        "oned.json",
        r#"{"weights":[1,1],"means":[[2],[4]],"covariances":[[[1]],[[1]]]}"#,
    );
    assert!(
        line.contains("dimension 1") && line.contains("2 columns"),
        "{line}"
    );
}

#[test]
fn a_collapsing_fit_fails_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "tied.csv", "x\n0\n0\n0\n5\n6\n7\n");
    let init = write(
        dir.path(),
        "init.json",
        r#"{"weights":[0.5,0.5],"means":[[0],[6]],"covariances":[[[1]],[[1]]]}"#,
    );
    let line = fails(
        mixplore()
            .arg("fit")
            .arg(&path)
            .args(["--k", "2", "--reg-covar", "0", "--init-params"])
            .arg(&init),
    );
    assert!(
        line.contains("component 1") && line.contains("--reg-covar"),
        "{line}"
    );
}

#[test]
fn json_has_every_field_and_matches_scikit_learn() {
    let output = mixplore()
        .arg("fit")
        .arg(asset("assets/datasets/faithful.csv"))
        .args([
            "--k",
            "2",
            "--tol",
            "0",
            "--max-iter",
            "50",
            "--reg-covar",
            "0",
            "--json",
            "--init-params",
        ])
        .arg(asset("tests/reference/faithful_k2.init.json"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    for field in [
        "n",
        "d",
        "k",
        "iterations",
        "converged",
        "log_likelihood",
        "mean_log_likelihood",
        "bic",
        "aic",
        "weights",
        "means",
        "covariances",
        "trace",
        "hard",
        "warnings",
        "truth_column",
        "ari",
        "timing",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    for field in ["load_ms", "fit_ms", "per_iter_ms"] {
        assert!(json["timing"][field].is_number(), "missing timing.{field}");
    }
    assert_eq!(json["n"], 272);
    assert_eq!(json["d"], 2);
    assert_eq!(json["iterations"], 50);
    assert_eq!(json["trace"].as_array().unwrap().len(), 51);
    assert_eq!(json["covariances"][1].as_array().unwrap().len(), 2);
    // The scikit-learn reference for the same start (tests/reference/sklearn_refs.json).
    let ll = json["log_likelihood"].as_f64().unwrap();
    assert!((ll - -1130.2639601847416).abs() < 1e-6 * 1130.0, "{ll}");
    // The result seeds another fit, which then has nothing left to do.
    let dir = tempfile::tempdir().unwrap();
    let again = write(
        dir.path(),
        "again.json",
        &String::from_utf8(output.stdout).unwrap(),
    );
    let params: Value = serde_json::json!({
        "weights": json["weights"], "means": json["means"], "covariances": json["covariances"]
    });
    std::fs::write(&again, params.to_string()).unwrap();
    let output = mixplore()
        .arg("fit")
        .arg(asset("assets/datasets/faithful.csv"))
        .args(["--k", "2", "--reg-covar", "0", "--json", "--init-params"])
        .arg(&again)
        .output()
        .unwrap();
    let refit: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(refit["iterations"], 1);
    assert_eq!(refit["converged"], true);
}

#[test]
fn summary_labels_and_trace_files() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.csv");
    let trace = dir.path().join("trace.csv");
    let output = mixplore()
        .arg("fit")
        .arg(asset("assets/datasets/iris.csv"))
        .args(["--k", "3", "--seed", "1", "--labels"])
        .arg(&labels)
        .arg("--trace")
        .arg(&trace)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("n = 150, D = 4, K = 3"), "{text}");
    assert!(
        text.contains("sepal_length") && text.contains("BIC") && text.contains("component 3"),
        "{text}"
    );
    let labels = std::fs::read_to_string(&labels).unwrap();
    let mut lines = labels.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sepal_length,sepal_width,petal_length,petal_width,species,component,responsibility_1,responsibility_2,responsibility_3"
    );
    assert_eq!(lines.clone().count(), 150);
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 9);
        let component: usize = fields[5].parse().unwrap();
        assert!((1..=3).contains(&component));
        let sum: f64 = fields[6..].iter().map(|f| f.parse::<f64>().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(trace.starts_with("iteration,log_likelihood\n0,"));
}

#[test]
fn fit_reads_standard_input_with_other_delimiters() {
    let output = mixplore()
        .args(["fit", "-", "--k", "2", "--delimiter", ";", "--json"])
        .write_stdin("u;v\n1;2\n1.5;2.5\n1.2;2.1\n9;9\n9.5;9.1\n9.2;9.4\n")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["n"], 6);
    assert_eq!(json["source"], "<stdin>");
}

#[test]
fn simulate_writes_csv_deterministically() {
    let spec = asset("assets/specs/separated.toml");
    let run = |seed: &str| {
        let output = mixplore()
            .arg("simulate")
            .arg("--spec")
            .arg(&spec)
            .args(["--n", "50", "--seed", seed])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let first = run("3");
    assert_eq!(first, run("3"));
    assert_ne!(first, run("4"));
    let mut lines = first.lines();
    assert_eq!(lines.next().unwrap(), "x1,x2,component");
    assert_eq!(lines.count(), 50);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sim.csv");
    mixplore()
        .arg("simulate")
        .arg("--spec")
        .arg(asset("assets/specs/bimodal-1d.toml"))
        .args(["--no-labels", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("x1\n"));
    // What simulate writes, fit reads.
    mixplore()
        .arg("fit")
        .arg(&out)
        .args(["--k", "2"])
        .assert()
        .success();
}

#[test]
fn bad_specs_name_the_component() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "bad.toml",
        "n = 10\nseed = 1\n[[components]]\nweight = 1\nmean = [0, 0]\ncov = [[1, 0], [0, 1]]\n\
         [[components]]\nweight = -2\nmean = [1, 1]\ncov = [[1, 0], [0, 1]]\n",
    );
    let line = fails(mixplore().arg("simulate").arg("--spec").arg(&spec));
    assert!(
        line.contains("bad.toml") && line.contains("component 2"),
        "{line}"
    );
    let line = fails(mixplore().args(["simulate", "--spec", "/no/such/spec.toml"]));
    assert!(line.contains("/no/such/spec.toml"), "{line}");
}

#[test]
fn the_explorer_refuses_what_it_cannot_draw_on() {
    // No terminal on standard output (as here): a clear error, not escape codes.
    let line = fails(&mut mixplore());
    assert!(
        line.contains("not a terminal") && line.contains("mixplore fit"),
        "{line}"
    );
    let line = fails(
        mixplore()
            .args(["explore", "--spec"])
            .arg(asset("assets/specs/separated.toml")),
    );
    assert!(line.contains("not a terminal"), "{line}");
    let line = fails(mixplore().env("TERM", "dumb"));
    assert!(line.contains("TERM=dumb"), "{line}");
    // Bad input is reported before the terminal is touched.
    let line = fails(mixplore().args(["explore", "/no/such.csv"]));
    assert!(line.contains("/no/such.csv"), "{line}");
    let line = fails(
        mixplore()
            .arg("explore")
            .arg(asset("assets/datasets/galaxies.csv"))
            .args(["--k", "100"]),
    );
    assert!(line.contains("82 data rows"), "{line}");
}

/// Runs a command that must succeed and returns its standard output.
fn succeeds(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fit_json(file: &Path, extra: &[&str]) -> Value {
    let stdout = succeeds(
        mixplore()
            .arg("fit")
            .arg(file)
            .args(["--json", "--seed", "1"])
            .args(extra),
    );
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn simulated_component_column_is_truth_not_a_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.csv");
    succeeds(
        mixplore()
            .arg("simulate")
            .arg("--spec")
            .arg(asset("assets/specs/separated.toml"))
            .args(["--n", "600", "--out"])
            .arg(&out),
    );
    let json = fit_json(&out, &["--k", "3"]);
    assert_eq!(json["d"], 2);
    assert_eq!(json["columns"], serde_json::json!(["x1", "x2"]));
    assert_eq!(json["truth_column"], "component");
    let ari = json["ari"].as_f64().unwrap();
    assert!(ari > 0.9 && ari <= 1.0, "{ari}");
    let text = succeeds(mixplore().arg("fit").arg(&out).args(["--k", "3"]));
    let second = text.lines().nth(1).unwrap();
    assert!(
        second.starts_with(
            "truth: column `component` (3 classes), not used as a feature; adjusted Rand index"
        ),
        "{text}"
    );
    // --truth none restores the old reading; --truth by index is the same as detection.
    assert_eq!(fit_json(&out, &["--k", "3", "--truth", "none"])["d"], 3);
    assert_eq!(
        fit_json(&out, &["--k", "3", "--truth", "3"])["truth_column"],
        "component"
    );
    // --columns naming it fits it.
    let json = fit_json(&out, &["--k", "3", "--columns", "x1,component"]);
    assert_eq!(json["d"], 2);
    assert_eq!(json["truth_column"], Value::Null);

    let bare = dir.path().join("bare.csv");
    succeeds(
        mixplore()
            .arg("simulate")
            .arg("--spec")
            .arg(asset("assets/specs/separated.toml"))
            .args(["--n", "600", "--no-labels", "--out"])
            .arg(&bare),
    );
    let json = fit_json(&bare, &["--k", "3"]);
    assert_eq!(json["d"], 2);
    assert_eq!(json["truth_column"], Value::Null);
    assert_eq!(json["ari"], Value::Null);
}

#[test]
fn iris_species_is_truth_and_scored() {
    let iris = asset("assets/datasets/iris.csv");
    let json = fit_json(&iris, &["--k", "3"]);
    assert_eq!(json["d"], 4);
    assert_eq!(json["truth_column"], "species");
    let ari = json["ari"].as_f64().unwrap();
    assert!(ari > 0.5 && ari <= 1.0, "{ari}");
    assert_eq!(json["warnings"], serde_json::json!([]));
    let text = succeeds(mixplore().arg("select").arg(&iris).args(["--k", "1..2"]));
    assert_eq!(
        text.lines()
            .filter(|line| line.starts_with("truth: column `species` (3 classes)"))
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn bad_truth_options_fail_in_one_line() {
    let iris = asset("assets/datasets/iris.csv");
    for command in ["fit", "select", "explore"] {
        let line = fails(
            mixplore()
                .arg(command)
                .arg(&iris)
                .args(["--k", "3", "--truth", "kind"]),
        );
        assert!(
            line.contains("iris.csv: --truth \"kind\": no column named \"kind\""),
            "{command}: {line}"
        );
    }
    let line = fails(mixplore().arg("fit").arg(&iris).args([
        "--k",
        "3",
        "--truth",
        "petal_width",
        "--columns",
        "sepal_length,petal_width",
    ]));
    assert!(
        line.contains("column 4 (\"petal_width\") is named by both --truth and --columns"),
        "{line}"
    );
}

#[test]
fn explore_refuses_n_init() {
    let faithful = asset("assets/datasets/faithful.csv");
    for args in [&["--n-init", "5"][..], &["--n-init"][..]] {
        let line = fails(mixplore().arg("explore").arg(&faithful).args(args));
        assert_eq!(
            line.trim_end(),
            "mixplore: error: --n-init applies to fit and select; the explorer runs one start at a time (r for another)"
        );
    }
    // fit and select still take it.
    let json = fit_json(&faithful, &["--k", "2", "--n-init", "3"]);
    assert_eq!(json["n_init"], 3);
}

#[test]
fn hard_em_is_a_flag_echoed_in_the_json() {
    let faithful = asset("assets/datasets/faithful.csv");
    let soft = fit_json(&faithful, &["--k", "2"]);
    assert_eq!(soft["hard"], Value::Bool(false));
    let hard = fit_json(&faithful, &["--k", "2", "--hard"]);
    assert_eq!(hard["hard"], Value::Bool(true));
    let trace = hard["trace"].as_array().unwrap();
    assert!(trace.len() >= 2);
    assert!(trace.iter().all(|v| v.as_f64().is_some_and(f64::is_finite)));
    // Hard EM stops when the assignments repeat: well before the default max_iter.
    assert_eq!(hard["stop_reason"], "converged");
    let weights: Vec<f64> = hard["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect();
    // λ_k = count / 272: each weight times n is a whole number of points.
    for w in weights {
        let count = w * 272.0;
        assert!((count - count.round()).abs() < 1e-9, "{w}");
    }
    // `explore` takes the flag too (refused here for another reason, after parsing).
    let line = fails(
        mixplore()
            .arg("explore")
            .arg(&faithful)
            .args(["--hard", "--tol", "-1"]),
    );
    assert!(line.contains("--tol"), "{line}");
}

#[test]
fn terminal_flags_belong_to_the_explorer() {
    let faithful = asset("assets/datasets/faithful.csv");
    let error = fails(
        mixplore()
            .args(["--ascii", "fit"])
            .arg(&faithful)
            .args(["--k", "2"]),
    );
    assert!(error.contains("apply to the explorer"), "{error}");
    let error = fails(mixplore().args(["--ascii", "--unicode"]));
    assert!(error.contains("cannot be used with"), "{error}");
    let error = fails(mixplore().args(["explore", "--theme", "blue"]));
    assert!(error.contains("light, dark"), "{error}");
}
