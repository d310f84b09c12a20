//! Hostile input, table-driven: each case is a data file (or standard input) and what mixplore
//! must do with it — fit and say what it noticed, or fail with exit status 2 and one line naming
//! the place. The README section "What mixplore does with bad input" lists the same cases.

use std::fmt::Write as _;

use assert_cmd::Command;
use serde_json::Value;

/// What a case must lead to.
enum Outcome {
    /// Exit 0, and every fragment appears somewhere in the JSON's warnings (none if empty).
    Fits { warnings: &'static [&'static str] },
    /// Exit 2 with one line on stderr containing every fragment.
    Fails(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    contents: String,
    args: &'static [&'static str],
    outcome: Outcome,
}

fn rows(n: usize, row: impl Fn(usize) -> String) -> String {
    let mut text = String::with_capacity(n * 16);
    for i in 0..n {
        text.push_str(&row(i));
        text.push('\n');
    }
    text
}

/// Two blobs (around 0 and around 6), deterministic, as `a,b` rows.
fn blobs(n: usize) -> String {
    rows(n, |i| {
        let t = ((i * 7919) % 1000) as f64 / 500.0 - 1.0;
        let u = ((i * 104_729) % 997) as f64 / 498.5 - 1.0;
        let shift = if i % 2 == 0 { 0.0 } else { 6.0 };
        format!("{},{}", shift + t, shift + u)
    })
}

fn cases() -> Vec<Case> {
    let k2: &'static [&'static str] = &["--k", "2"];
    vec![
        Case {
            name: "empty.csv",
            contents: String::new(),
            args: k2,
            outcome: Outcome::Fails(&["empty.csv", "empty"]),
        },
        Case {
            name: "header-only.csv",
            contents: "a,b\n".into(),
            args: k2,
            outcome: Outcome::Fails(&["no data rows"]),
        },
        Case {
            name: "one-row.csv",
            contents: "a,b\n1,2\n".into(),
            args: k2,
            outcome: Outcome::Fails(&["1 data rows", "--k"]),
        },
        Case {
            name: "bom.csv",
            contents: format!("\u{feff}a,b\n{}", blobs(200)),
            args: k2,
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "crlf.csv",
            contents: format!("a,b\r\n{}", blobs(200).replace('\n', "\r\n")),
            args: k2,
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "quoted.csv",
            contents: format!(
                "\"a\",\"b\"\n{}",
                rows(200, |i| format!(
                    "\"{}\",\"{}\"",
                    i % 2 * 6,
                    (i * 37 % 11) as f64 / 10.0
                ))
            ),
            args: k2,
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "semicolon.csv",
            contents: format!("a;b\n{}", blobs(200).replace(',', ";")),
            args: &["--k", "2", "--delimiter", ";"],
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "tab.tsv",
            contents: format!("a\tb\n{}", blobs(200).replace(',', "\t")),
            args: &["--k", "2", "--delimiter", "tab"],
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "wide.csv",
            contents: {
                let header: Vec<String> = (1..=3000).map(|j| format!("c{j}")).collect();
                let mut text = header.join(",") + "\n";
                for i in 0..50 {
                    let row: Vec<String> = (0..3000)
                        .map(|j| format!("{}", (i * 31 + j * 7) % 97))
                        .collect();
                    text.push_str(&row.join(","));
                    text.push('\n');
                }
                text
            },
            args: &["--k", "2", "--columns", "c1,c2999"],
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "text-at-line-1000000.csv",
            contents: {
                let mut text = format!("a,b\n{}", blobs(999_998));
                text.push_str("3.5,oops\n");
                text
            },
            args: k2,
            outcome: Outcome::Fails(&["line 1000000", "column 2", "\"b\"", "oops"]),
        },
        Case {
            name: "nan.csv",
            contents: format!("a,b\n{}nan,1\n", blobs(10)),
            args: k2,
            outcome: Outcome::Fails(&["line 12", "column 1", "nan", "finite"]),
        },
        Case {
            name: "inf.csv",
            contents: format!("a,b\n{}1,-Infinity\n", blobs(10)),
            args: k2,
            outcome: Outcome::Fails(&["line 12", "column 2", "Infinity"]),
        },
        Case {
            name: "identical.csv",
            contents: format!("a,b\n{}", "1.5,2.5\n".repeat(50)),
            args: k2,
            outcome: Outcome::Fails(&["only 1 distinct points", "fewer components"]),
        },
        Case {
            name: "two-identical.csv",
            contents: "a,b\n1,2\n1,2\n".into(),
            args: k2,
            outcome: Outcome::Fails(&["only 1 distinct points"]),
        },
        Case {
            name: "k-above-distinct.csv",
            contents: format!("a,b\n{}", rows(30, |i| format!("{},{}", i % 3, i % 3))),
            args: &["--k", "4"],
            outcome: Outcome::Fails(&["only 3 distinct points", "4 components"]),
        },
        Case {
            name: "constant-column.csv",
            contents: format!(
                "a,b\n{}",
                rows(200, |i| format!("{},7", (i * 37 % 101) as f64 / 10.0))
            ),
            args: k2,
            outcome: Outcome::Fits {
                warnings: &["column 2 is constant"],
            },
        },
        Case {
            name: "huge-values.csv",
            contents: format!(
                "a,b\n{}",
                rows(100, |i| format!("{}e300,{}e299", i % 7, i % 5))
            ),
            args: k2,
            outcome: Outcome::Fails(&["overflow", "divide the data"]),
        },
        Case {
            name: "tiny-values.csv",
            contents: format!(
                "a,b\n{}",
                rows(100, |i| format!("{}e-300,{}e-301", i % 7 + 1, i % 5))
            ),
            args: k2,
            outcome: Outcome::Fails(&["underflow", "multiply the data"]),
        },
        Case {
            name: "scaled-1e9.csv",
            contents: format!(
                "a,b\n{}",
                rows(400, |i| {
                    let shift = if i % 2 == 0 { 0.0 } else { 5.0 };
                    format!(
                        "{},{}",
                        shift + ((i * 7919) % 1000) as f64 / 500.0,
                        (shift + ((i * 104_729) % 997) as f64 / 498.5) * 1e9
                    )
                })
            ),
            args: k2,
            outcome: Outcome::Fits { warnings: &[] },
        },
        Case {
            name: "far-outlier.csv",
            contents: format!("a,b\n{}1e12,-1e12\n", blobs(400)),
            args: &["--k", "3", "--seed", "1"],
            outcome: Outcome::Fits {
                warnings: &["holds about 1.0 points"],
            },
        },
        // Counts beyond em::limits: one line, before any work (4294967295 runs used to abort
        // the process allocating their seeds).
        Case {
            name: "n-init-huge.csv",
            contents: format!("a,b\n{}", blobs(200)),
            args: &["--k", "2", "--n-init", "4294967295"],
            outcome: Outcome::Fails(&["--n-init must be at most 1000", "4294967295"]),
        },
        Case {
            name: "max-iter-huge.csv",
            contents: format!("a,b\n{}", blobs(200)),
            args: &["--k", "2", "--max-iter", "18446744073709551615"],
            outcome: Outcome::Fails(&["--max-iter must be at most 1000000"]),
        },
        Case {
            name: "k-huge.csv",
            contents: format!("a,b\n{}", blobs(200)),
            args: &["--k", "5000"],
            outcome: Outcome::Fails(&["--k must be at most 1000"]),
        },
        // A symmetric start: fits, but says it stopped at a saddle rather than converging.
        Case {
            name: "saddle.csv",
            contents: format!("a,b\n{}", blobs(400)),
            args: &["--k", "2", "--init", "random", "--covariance", "tied"],
            outcome: Outcome::Fits {
                warnings: &["saddle point", "components 1 and 2 are identical"],
            },
        },
    ]
}

fn check(case: &Case, output: std::process::Output) {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    match &case.outcome {
        Outcome::Fits { warnings } => {
            assert!(output.status.success(), "{}: {stderr}", case.name);
            let json: Value = serde_json::from_slice(&output.stdout).unwrap();
            let all: Vec<&str> = json["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if warnings.is_empty() {
                assert!(all.is_empty(), "{}: unexpected warnings {all:?}", case.name);
            }
            for fragment in *warnings {
                assert!(
                    all.iter().any(|w| w.contains(fragment)),
                    "{}: no {fragment:?} in {all:?}",
                    case.name
                );
            }
        }
        Outcome::Fails(fragments) => {
            assert_eq!(output.status.code(), Some(2), "{}: {stderr}", case.name);
            assert!(output.stdout.is_empty(), "{}", case.name);
            assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", case.name);
            assert!(!stderr.contains("panicked"), "{}: {stderr}", case.name);
            for fragment in *fragments {
                assert!(
                    stderr.contains(fragment),
                    "{}: no {fragment:?} in {stderr}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn hostile_files() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases() {
        let path = dir.path().join(case.name);
        std::fs::write(&path, &case.contents).unwrap();
        let output = Command::cargo_bin("mixplore")
            .unwrap()
            .arg("fit")
            .arg(&path)
            .args(case.args)
            .arg("--json")
            .output()
            .unwrap();
        check(&case, output);
    }
}

#[test]
fn ten_million_rows_stream_from_standard_input() {
    let mut text = String::with_capacity(10_000_000 * 8);
    text.push_str("x\n");
    for i in 0..10_000_000u64 {
        let _ = writeln!(
            text,
            "{}",
            (i * 7919) % 1000 + if i % 2 == 0 { 0 } else { 5000 }
        );
    }
    let output = Command::cargo_bin("mixplore")
        .unwrap()
        .args(["fit", "-", "--k", "2", "--max-iter", "3", "--json"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["n"], 10_000_000);
}

#[test]
fn hostile_specs() {
    let dir = tempfile::tempdir().unwrap();
    let component = "[[components]]\nweight = 1\nmean = [0, 0]\ncov = [[1, 0], [0, 1]]\n";
    let cases: [(&str, String, &[&str]); 8] = [
        (
            "missing.toml",
            "n = 10\n".into(),
            &["missing.toml", "components"],
        ),
        (
            "no-weight.toml",
            "n = 10\n[[components]]\nmean = [0]\ncov = 1\n".into(),
            &["weight"],
        ),
        (
            "dims.toml",
            format!(
                "n = 10\n{component}[[components]]\nweight = 1\nmean = [0, 0, 0]\ncov = [[1, 0], [0, 1]]\n"
            ),
            &["component 2"],
        ),
        (
            "not-pd.toml",
            format!(
                "n = 10\n{component}[[components]]\nweight = 1\nmean = [1, 1]\ncov = [[1, 2], [2, 1]]\n"
            ),
            &["component 2", "positive definite"],
        ),
        (
            "negative-weight.toml",
            format!(
                "n = 10\n[[components]]\nweight = -1\nmean = [0, 0]\ncov = [[1, 0], [0, 1]]\n{component}"
            ),
            &["component 1", "weight"],
        ),
        ("zero-n.toml", format!("n = 0\n{component}"), &["n"]),
        (
            "huge-n.toml",
            format!("n = 100000000000000\n{component}"),
            &["would need", "of memory", "lower n"],
        ),
        (
            "two-billion.toml",
            format!("n = 2000000000\n{component}"),
            &["two-billion.toml", "n = 2000000000", "4.0 GiB", "lower n"],
        ),
    ];
    for (name, contents, fragments) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let output = Command::cargo_bin("mixplore")
            .unwrap()
            .arg("simulate")
            .arg("--spec")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        for fragment in fragments {
            assert!(
                stderr.contains(fragment),
                "{name}: no {fragment:?} in {stderr}"
            );
        }
    }
}
