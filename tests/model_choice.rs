//! `mixplore select`'s ICL against a hand computation from the responsibilities that
//! `fit --labels` writes, and mclust's covariance names as aliases.

mod common;

use common::{mixplore, relative, root, run_json, succeeds};

fn faithful() -> String {
    root()
        .join("assets/datasets/faithful.csv")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn icl_is_bic_minus_twice_the_log_responsibilities_of_the_most_likely_components() {
    let rows = run_json(mixplore().args([
        "select",
        &faithful(),
        "--k",
        "1..3",
        "--n-init",
        "2",
        "--json",
    ]));
    let dir = tempfile::tempdir().unwrap();
    for row in rows.as_array().unwrap() {
        let k = row["k"].as_u64().unwrap();
        let seed = row["best_seed"].as_u64().unwrap();
        let (bic, icl) = (row["bic"].as_f64().unwrap(), row["icl"].as_f64().unwrap());
        // The same fit alone, with its responsibilities written out.
        let labels = dir.path().join(format!("k{k}.csv"));
        let fitted = run_json(
            mixplore()
                .args(["fit", &faithful(), "--json", "--n-init", "1"])
                .args(["--k", &k.to_string(), "--seed", &seed.to_string()])
                .arg("--labels")
                .arg(&labels),
        );
        assert_eq!(fitted["bic"].as_f64().unwrap(), bic, "K = {k}");
        // Columns: eruptions, waiting, component, responsibility_1..K.
        let text = std::fs::read_to_string(&labels).unwrap();
        let mut sum_log_max = 0.0;
        for line in text.lines().skip(1) {
            let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
            let largest = cells[3..].iter().copied().fold(0.0, f64::max);
            sum_log_max += largest.ln();
        }
        let by_hand = bic - 2.0 * sum_log_max;
        let error = relative(icl, by_hand, by_hand.abs());
        assert!(error < 1e-9, "K = {k}: ICL {icl} vs {by_hand} by hand");
        if k == 1 {
            assert_eq!(icl, bic);
        } else {
            assert!(icl > bic);
        }
    }
}

#[test]
fn mclust_names_are_aliases_and_shown() {
    let select = |types: &str| {
        let mut rows = run_json(mixplore().args([
            "select",
            &faithful(),
            "--k",
            "2",
            "--n-init",
            "1",
            "--covariance",
            types,
            "--json",
        ]));
        rows.as_array_mut().unwrap().clone()
    };
    let by_sklearn_names = select("full,diag,spherical,tied");
    let by_mclust_names = select("VVV,VVI,vii,EEE");
    assert_eq!(by_sklearn_names, by_mclust_names);
    let mclust: Vec<&str> = by_mclust_names
        .iter()
        .map(|row| row["mclust"].as_str().unwrap())
        .collect();
    assert_eq!(mclust, ["VVV", "VVI", "VII", "EEE"]);

    let fit = |covariance: &str| {
        let mut result = run_json(mixplore().args([
            "fit",
            &faithful(),
            "--k",
            "2",
            "--json",
            "--covariance",
            covariance,
        ]));
        result.as_object_mut().unwrap().remove("timing");
        result
    };
    assert_eq!(fit("EEE"), fit("tied"));

    let table = succeeds(mixplore().args([
        "select",
        &faithful(),
        "--k",
        "1..2",
        "--n-init",
        "1",
        "--covariance",
        "all",
    ]));
    let header = table.lines().nth(1).unwrap();
    assert!(header.contains("BIC") && header.contains("AIC") && header.contains("ICL"));
    for name in ["full VVV", "diag VVI", "spherical VII", "tied EEE"] {
        assert!(table.contains(name), "{name} missing from\n{table}");
    }
    assert!(table.contains("lowest ICL"), "{table}");
}
