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
                // Two separated blobs in any pair of columns. (With (31i + 7j) mod 97 every
                // pair of columns lay on two parallel lines: a fit at the reg_covar floor whose
                // log-likelihood moved by 3e-9 relative with the order of a sum, which the
                // kernels are free to choose.)
                for i in 0..50 {
                    let row: Vec<String> = (0..3000)
                        .map(|j| {
                            format!(
                                "{}",
                                (i * i + i * 31 + j * 7 + i * j * 3) % 13 + 50 * (i % 2)
                            )
                        })
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
            &[
                "two-billion.toml",
                "n = 2000000000",
                "more than the budget of 8.0 GiB set by MIXPLORE_MEMORY_BUDGET",
                "lower n",
            ],
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
            // Set, so that the cases are the same on a machine with 100 GB to spare.
            .env("MIXPLORE_MEMORY_BUDGET", "8589934592")
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

/// What a command case must lead to.
enum Expect {
    /// Exit 0, then this check of the directory and the output.
    Succeeds(fn(&std::path::Path, &std::process::Output)),
    /// Exit 2 with one line on stderr (no panic) containing every fragment, then this check of
    /// the directory (that nothing was clobbered).
    Fails(&'static [&'static str], fn(&std::path::Path)),
}

/// A command run in a private directory holding `in.csv` (Old Faithful), after `setup`, which
/// returns why the case cannot run here (a device node that cannot be made), if it cannot.
struct CommandCase {
    name: &'static str,
    setup: fn(&std::path::Path) -> Option<String>,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    expect: Expect,
}

fn nothing(_: &std::path::Path) -> Option<String> {
    None
}

fn untouched(_: &std::path::Path) {}

fn input_intact(dir: &std::path::Path) {
    let faithful = std::fs::read(common::root().join("assets/datasets/faithful.csv")).unwrap();
    assert_eq!(std::fs::read(dir.join("in.csv")).unwrap(), faithful);
}

/// A device node made with mknod(1) (root only), or the reason it could not be.
fn device(dir: &std::path::Path, name: &str, major: &str, minor: &str) -> Option<String> {
    let made = std::process::Command::new("mknod")
        .arg(dir.join(name))
        .args(["c", major, minor])
        .output();
    match made {
        Ok(output) if output.status.success() => None,
        Ok(output) => Some(format!(
            "cannot create a device node: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(error) => Some(format!("cannot run mknod: {error}")),
    }
}

fn is_char_device(path: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_char_device()
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        // A link planted at a temporary-looking name is the attacker's, not a leftover.
        .filter(|entry| !entry.file_type().unwrap().is_symlink())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("mixplore-partial"))
        .collect()
}

fn labels_in(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.starts_with("eruptions,waiting,component,responsibility_1"),
        "{text:.80}"
    );
    assert_eq!(text.lines().count(), 273);
}

fn spec_file(dir: &std::path::Path, n: &str, weight: &str) {
    let component =
        format!("[[components]]\nweight = {weight}\nmean = [0, 0]\ncov = [[1, 0], [0, 1]]\n");
    std::fs::write(
        dir.join("spec.toml"),
        format!(
            "n = {n}\n{component}{}",
            component.replace("[0, 0]", "[4, 4]")
        ),
    )
    .unwrap();
}

fn command_cases() -> Vec<CommandCase> {
    use std::os::unix::fs::{PermissionsExt, symlink};
    const FIT: &[&str] = &["fit", "in.csv", "--k", "2"];
    vec![
        CommandCase {
            name: "--labels is the input",
            setup: nothing,
            args: &["fit", "in.csv", "--k", "2", "--labels", "in.csv"],
            env: &[],
            expect: Expect::Fails(
                &["--labels in.csv is the same file as the input FILE in.csv"],
                input_intact,
            ),
        },
        CommandCase {
            name: "--trace is a link to the input",
            setup: |dir| {
                symlink("in.csv", dir.join("alias.csv")).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--trace", "alias.csv"],
            env: &[],
            expect: Expect::Fails(
                &["--trace alias.csv is the same file as the input FILE"],
                input_intact,
            ),
        },
        CommandCase {
            name: "--labels and --trace one new file spelled twice",
            setup: nothing,
            args: &[
                "fit",
                "in.csv",
                "--k",
                "2",
                "--labels",
                "out.csv",
                "--trace",
                "./out.csv",
            ],
            env: &[],
            expect: Expect::Fails(
                &["--labels out.csv and --trace ./out.csv are the same file"],
                |dir| {
                    assert!(!dir.join("out.csv").exists());
                },
            ),
        },
        CommandCase {
            name: "--labels is the --init-params file",
            setup: |dir| {
                std::fs::copy(
                    common::root().join("tests/reference/faithful_k2.init.json"),
                    dir.join("init.json"),
                )
                .unwrap();
                None
            },
            args: &[
                "fit",
                "in.csv",
                "--k",
                "2",
                "--init-params",
                "init.json",
                "--labels",
                "init.json",
            ],
            env: &[],
            expect: Expect::Fails(&["same file as the input --init-params init.json"], |dir| {
                assert!(
                    std::fs::read_to_string(dir.join("init.json"))
                        .unwrap()
                        .contains("weights")
                );
            }),
        },
        CommandCase {
            name: "simulate --out is the spec",
            setup: |dir| {
                spec_file(dir, "10", "1");
                None
            },
            args: &["simulate", "--spec", "spec.toml", "--out", "spec.toml"],
            env: &[],
            expect: Expect::Fails(
                &["--out spec.toml is the same file as the input --spec"],
                |dir| {
                    assert!(
                        std::fs::read_to_string(dir.join("spec.toml"))
                            .unwrap()
                            .starts_with("n = 10")
                    );
                },
            ),
        },
        CommandCase {
            name: "--labels - is standard output",
            setup: nothing,
            args: &[
                "fit",
                "in.csv",
                "--k",
                "2",
                "--labels",
                "-",
                "--trace",
                "/dev/null",
            ],
            env: &[],
            expect: Expect::Succeeds(|dir, output| {
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(
                    stdout.starts_with("eruptions,waiting,component"),
                    "{stdout:.80}"
                );
                assert!(!dir.join("-").exists());
            }),
        },
        CommandCase {
            name: "--labels /dev/full",
            setup: nothing,
            args: &["fit", "in.csv", "--k", "2", "--labels", "/dev/full"],
            env: &[],
            expect: Expect::Fails(
                &["/dev/full: cannot write: No space left on device"],
                untouched,
            ),
        },
        CommandCase {
            name: "--labels on a private null device",
            setup: |dir| device(dir, "null", "1", "3"),
            args: &["fit", "in.csv", "--k", "2", "--labels", "null", "--json"],
            env: &[],
            expect: Expect::Succeeds(|dir, _| assert!(is_char_device(&dir.join("null")))),
        },
        CommandCase {
            name: "--trace on a private full device",
            setup: |dir| device(dir, "full", "1", "7"),
            args: &["fit", "in.csv", "--k", "2", "--trace", "full"],
            env: &[],
            expect: Expect::Fails(&["full: cannot write: No space left on device"], |dir| {
                assert!(is_char_device(&dir.join("full")));
            }),
        },
        CommandCase {
            name: "simulate --out on a private full device",
            setup: |dir| {
                spec_file(dir, "100", "1");
                device(dir, "full", "1", "7")
            },
            args: &["simulate", "--spec", "spec.toml", "--out", "full"],
            env: &[],
            expect: Expect::Fails(&["No space left on device"], |dir| {
                assert!(is_char_device(&dir.join("full")));
            }),
        },
        CommandCase {
            name: "--trace through a link to /dev/stdout",
            setup: |dir| {
                symlink("/dev/stdout", dir.join("so")).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--trace", "so", "--json"],
            env: &[],
            expect: Expect::Succeeds(|dir, output| {
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(
                    stdout.starts_with("iteration,log_likelihood\n0,"),
                    "{stdout:.80}"
                );
                assert!(
                    std::fs::symlink_metadata(dir.join("so"))
                        .unwrap()
                        .file_type()
                        .is_symlink()
                );
            }),
        },
        CommandCase {
            name: "--labels through a link writes its target",
            setup: |dir| {
                std::fs::write(dir.join("target.csv"), "old").unwrap();
                symlink("target.csv", dir.join("link.csv")).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--labels", "link.csv"],
            env: &[],
            expect: Expect::Succeeds(|dir, _| {
                assert!(
                    std::fs::symlink_metadata(dir.join("link.csv"))
                        .unwrap()
                        .file_type()
                        .is_symlink()
                );
                labels_in(&dir.join("target.csv"));
            }),
        },
        CommandCase {
            name: "--labels through a dangling link creates its target",
            setup: |dir| {
                symlink("made.csv", dir.join("dangling.csv")).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--labels", "dangling.csv"],
            env: &[],
            expect: Expect::Succeeds(|dir, _| labels_in(&dir.join("made.csv"))),
        },
        CommandCase {
            name: "a 600 file stays 600",
            setup: |dir| {
                let path = dir.join("private.csv");
                std::fs::write(&path, "old").unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--labels", "private.csv"],
            env: &[],
            expect: Expect::Succeeds(|dir, _| {
                let path = dir.join("private.csv");
                labels_in(&path);
                assert_eq!(
                    std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                    0o600
                );
            }),
        },
        CommandCase {
            name: "a write-protected file is refused",
            setup: |dir| {
                let path = dir.join("kept.csv");
                std::fs::write(&path, "old").unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--labels", "kept.csv"],
            env: &[],
            expect: Expect::Fails(
                &["kept.csv: cannot write: the file is write-protected (mode 444)"],
                |dir| {
                    assert_eq!(
                        std::fs::read_to_string(dir.join("kept.csv")).unwrap(),
                        "old"
                    );
                },
            ),
        },
        CommandCase {
            name: "a planted link at the old temporary name is not followed",
            setup: |dir| {
                std::fs::write(dir.join("victim.txt"), "victim").unwrap();
                symlink("victim.txt", dir.join(".res.csv.mixplore-partial")).unwrap();
                None
            },
            args: &["fit", "in.csv", "--k", "2", "--labels", "res.csv"],
            env: &[],
            expect: Expect::Succeeds(|dir, _| {
                assert_eq!(
                    std::fs::read_to_string(dir.join("victim.txt")).unwrap(),
                    "victim"
                );
                labels_in(&dir.join("res.csv"));
            }),
        },
        CommandCase {
            name: "an open error says its cause once",
            setup: nothing,
            args: &["fit", "nope.csv", "--k", "2"],
            env: &[],
            expect: Expect::Fails(
                &["nope.csv: cannot read: No such file or directory (os error 2)"],
                |_| {},
            ),
        },
        CommandCase {
            name: "terminal escapes in a header",
            setup: |dir| {
                std::fs::write(
                    dir.join("esc.csv"),
                    "x\x1b]2;PWNED\x07y,b\n1,2\n3,4\n5,7\n9,1\n",
                )
                .unwrap();
                None
            },
            args: &["fit", "esc.csv", "--k", "2"],
            env: &[],
            expect: Expect::Succeeds(|_, output| {
                assert!(!output.stdout.contains(&0x1b) && !output.stdout.contains(&0x07));
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(stdout.contains("x\\x1b]2;PWNED\\x07y"), "{stdout}");
            }),
        },
        CommandCase {
            name: "terminal escapes in a file name",
            setup: |dir| {
                std::fs::write(dir.join("e\x1b[2Jvil.csv"), "a\n1\n").unwrap();
                None
            },
            args: &["fit", "e\x1b[2Jvil.csv", "--k", "2"],
            env: &[],
            expect: Expect::Fails(&["e\\x1b[2Jvil.csv: 1 data rows"], untouched),
        },
        CommandCase {
            name: "fit /dev/zero",
            setup: nothing,
            args: &["fit", "/dev/zero", "--k", "2"],
            env: &[],
            expect: Expect::Fails(
                &["/dev/zero: line 1 is longer than 16777216 bytes"],
                untouched,
            ),
        },
        CommandCase {
            name: "explore /dev/zero",
            setup: nothing,
            args: &["explore", "/dev/zero"],
            env: &[],
            expect: Expect::Fails(&["/dev/zero: line 1 is longer than"], untouched),
        },
        CommandCase {
            name: "a 47 MB single-line CSV",
            setup: |dir| {
                let mut text = String::from("a,b\n");
                text.push_str(&"1,".repeat(23_500_000));
                text.push_str("1\n");
                std::fs::write(dir.join("long.csv"), text).unwrap();
                None
            },
            args: &["fit", "long.csv", "--k", "2"],
            env: &[],
            expect: Expect::Fails(
                &["long.csv: line 2 is longer than 16777216 bytes"],
                untouched,
            ),
        },
        CommandCase {
            name: "--n-init 1000000000",
            setup: nothing,
            args: &["fit", "in.csv", "--k", "2", "--n-init", "1000000000"],
            env: &[],
            expect: Expect::Fails(&["--n-init must be at most 1000"], untouched),
        },
        CommandCase {
            name: "data beyond the memory budget",
            setup: nothing,
            args: FIT,
            env: &[("MIXPLORE_MEMORY_BUDGET", "4000")],
            expect: Expect::Fails(
                &[
                    "in.csv: line",
                    "more memory than the budget of 3.9 KiB",
                    "--columns",
                ],
                untouched,
            ),
        },
        CommandCase {
            name: "a fit beyond the memory budget",
            setup: nothing,
            args: &["fit", "in.csv", "--k", "200", "--n-init", "1000"],
            env: &[("MIXPLORE_MEMORY_BUDGET", "2000000")],
            expect: Expect::Fails(&["in.csv: a fit of K = 200", "fewer components"], untouched),
        },
        CommandCase {
            name: "explore --spec with n = 2e9",
            setup: |dir| {
                spec_file(dir, "2000000000", "1");
                None
            },
            args: &["explore", "--spec", "spec.toml"],
            // Set, so that the case is the same on a machine with 100 GB to spare.
            env: &[("MIXPLORE_MEMORY_BUDGET", "8589934592")],
            expect: Expect::Fails(
                &[
                    "spec.toml: n = 2000000000",
                    "more than the budget of 8.0 GiB set by MIXPLORE_MEMORY_BUDGET",
                    "lower n",
                ],
                untouched,
            ),
        },
        CommandCase {
            name: "an unclosed quote",
            setup: |dir| {
                std::fs::write(dir.join("q.csv"), "a,b\n1,2\n3,4\n\"5,6\n7,8\n").unwrap();
                None
            },
            args: &["fit", "q.csv", "--k", "2"],
            env: &[],
            expect: Expect::Fails(
                &["q.csv: line 4: a quoted field opens here and is never closed"],
                untouched,
            ),
        },
        CommandCase {
            name: "weights of 1e308",
            setup: |dir| {
                spec_file(dir, "20", "1e308");
                None
            },
            args: &["simulate", "--spec", "spec.toml"],
            env: &[],
            expect: Expect::Succeeds(|_, output| {
                assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 21);
            }),
        },
        CommandCase {
            name: "standard deviation 1e-150",
            setup: |dir| {
                let text = rows(200, |i| {
                    let t = ((i * 7919) % 1000) as f64 / 500.0 - 1.0;
                    let u = ((i * 104_729) % 997) as f64 / 498.5 - 1.0;
                    format!("{:e},{:e}", t * 1e-150, u * 1e-150)
                });
                std::fs::write(dir.join("tiny.csv"), format!("a,b\n{text}")).unwrap();
                None
            },
            args: &["fit", "tiny.csv", "--k", "2", "--json"],
            env: &[],
            expect: Expect::Succeeds(|_, output| {
                let json: Value = serde_json::from_slice(&output.stdout).unwrap();
                let warnings = json["warnings"].to_string();
                assert!(warnings.contains("column 1 varies by only"), "{warnings}");
                assert!(
                    warnings.contains("its fitted variances are --reg-covar"),
                    "{warnings}"
                );
            }),
        },
    ]
}

mod common;

#[test]
fn hostile_commands() {
    for case in command_cases() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            common::root().join("assets/datasets/faithful.csv"),
            dir.path().join("in.csv"),
        )
        .unwrap();
        if let Some(reason) = (case.setup)(dir.path()) {
            eprintln!("skipped: {}: {reason}", case.name);
            continue;
        }
        let mut command = Command::cargo_bin("mixplore").unwrap();
        command.current_dir(dir.path()).args(case.args);
        for (key, value) in case.env {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        match case.expect {
            Expect::Succeeds(check) => {
                assert!(output.status.success(), "{}: {stderr}", case.name);
                check(dir.path(), &output);
            }
            Expect::Fails(fragments, check) => {
                assert_eq!(output.status.code(), Some(2), "{}: {stderr}", case.name);
                assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", case.name);
                for fragment in fragments {
                    assert!(
                        stderr.contains(fragment),
                        "{}: no {fragment:?} in {stderr}",
                        case.name
                    );
                }
                assert!(
                    stderr.matches("(os error").count() <= 1,
                    "{}: {stderr}",
                    case.name
                );
                check(dir.path());
            }
        }
        assert!(
            leftovers(dir.path()).is_empty(),
            "{}: {:?}",
            case.name,
            leftovers(dir.path())
        );
    }
}

/// Standard streams that cannot be written: no panic (exit 101), a failure status.
#[test]
fn full_standard_streams_fail_without_panicking() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let run = |args: &[&str], stdout: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mixplore"));
        command.args(args);
        if stdout {
            command.stdout(full());
        } else {
            command.stderr(full());
        }
        command.output().unwrap()
    };
    assert_eq!(
        run(&["fit", "nope.csv", "--k", "2"], false).status.code(),
        Some(2)
    );
    assert_eq!(run(&["--help"], true).status.code(), Some(2));
    let faithful = common::root().join("assets/datasets/faithful.csv");
    let output = run(&["fit", faithful.to_str().unwrap(), "--k", "2"], true);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("No space left"));
    // A closed standard output (`>&-`) is refused rather than written to nowhere; one that is
    // not needed (simulate --out FILE) is no reason to fail.
    let closed = |command: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {command} >&-"))
            .arg(env!("CARGO_BIN_EXE_mixplore"))
            .current_dir(common::root())
            .output()
            .unwrap()
    };
    let output = closed("fit assets/datasets/faithful.csv --k 2");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("standard output is closed"));
    assert_eq!(closed("--help").status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    let output = closed(&format!(
        "simulate --spec assets/specs/default.toml --out {}",
        out.display()
    ));
    assert!(output.status.success());
    assert_eq!(std::fs::read_to_string(out).unwrap().lines().count(), 501);
}

/// A FIFO is written in place: the reader gets the trace, the FIFO stays a FIFO.
#[test]
fn a_fifo_output_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let output = Command::cargo_bin("mixplore")
        .unwrap()
        .arg("fit")
        .arg(common::root().join("assets/datasets/faithful.csv"))
        .args(["--k", "2", "--json", "--trace"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        reader
            .join()
            .unwrap()
            .starts_with("iteration,log_likelihood\n0,")
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// Two writers of one file at once: each leaves a complete file, neither fails.
#[test]
fn concurrent_writers_each_leave_a_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    let faithful = common::root().join("assets/datasets/faithful.csv");
    let writers: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_mixplore"))
                .current_dir(dir.path())
                .arg("fit")
                .arg(&faithful)
                .args(["--k", "2", "--json", "--labels", "same.csv"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut writer in writers {
        assert!(writer.wait().unwrap().success());
    }
    labels_in(&dir.path().join("same.csv"));
    assert!(leftovers(dir.path()).is_empty());
}

/// SIGTERM in the middle of a long write removes the temporary file and leaves no output.
#[test]
fn a_signal_during_a_write_removes_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    spec_file(dir.path(), "10", "1");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mixplore"))
        .current_dir(dir.path())
        .args([
            "simulate",
            "--spec",
            "spec.toml",
            "--n",
            "200000000",
            "--out",
            "big.csv",
        ])
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while leftovers(dir.path()).is_empty() {
        assert!(
            started.elapsed().as_secs() < 30,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = i32::try_from(child.id()).unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(!dir.path().join("big.csv").exists());
}
