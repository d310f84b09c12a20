//! Parquet, Arrow IPC (Feather) and NumPy `.npy` input: the same data written by the crates
//! themselves (parquet's ArrowWriter, arrow-ipc's FileWriter, npyz) give bit-identical fits to
//! the CSV file, the truth column is found by the same rule, and bad cells are one-line errors
//! with their row and column.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::{mixplore, root, run_json};
use mixplore::data::csv::{CsvOptions, Source};
use mixplore::data::input::load;
use npyz::WriterBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde_json::Value;

/// A data set's columns, as read from its CSV by mixplore's loader.
struct Columns {
    names: Vec<String>,
    values: Vec<Vec<f64>>,
    truth: Option<(String, Vec<String>)>,
}

fn from_csv(file: &str) -> Columns {
    let table = load(&Source::Path(root().join(file)), &CsvOptions::default()).unwrap();
    let d = table.data.dim();
    let values = (0..d)
        .map(|j| table.data.rows().map(|row| row[j]).collect())
        .collect();
    let truth = table.truth.map(|truth| {
        let texts = truth
            .labels
            .iter()
            .map(|&label| truth.classes[label].clone())
            .collect();
        (truth.name, texts)
    });
    Columns {
        names: table.columns,
        values,
        truth,
    }
}

/// One record batch: the numeric columns as Float64, and the truth (if any) as text, last.
fn batch(columns: &Columns) -> RecordBatch {
    let mut fields: Vec<Field> = columns
        .names
        .iter()
        .map(|name| Field::new(name, DataType::Float64, true))
        .collect();
    let mut arrays: Vec<ArrayRef> = columns
        .values
        .iter()
        .map(|values| Arc::new(Float64Array::from(values.clone())) as ArrayRef)
        .collect();
    if let Some((name, texts)) = &columns.truth {
        fields.push(Field::new(name, DataType::Utf8, false));
        arrays.push(Arc::new(StringArray::from(texts.clone())));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

fn write_parquet(path: &Path, batch: &RecordBatch, compression: Compression, rows: usize) {
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(rows))
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        File::create(path).unwrap(),
        batch.schema(),
        Some(properties),
    )
    .unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

fn write_arrow(path: &Path, batch: &RecordBatch) {
    let mut writer =
        arrow_ipc::writer::FileWriter::try_new(File::create(path).unwrap(), &batch.schema())
            .unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap();
}

fn write_npy(path: &Path, columns: &Columns, order: npyz::Order) {
    let (n, d) = (columns.values[0].len(), columns.values.len());
    let values: Vec<f64> = match order {
        npyz::Order::C => (0..n)
            .flat_map(|i| columns.values.iter().map(move |column| column[i]))
            .collect(),
        npyz::Order::Fortran => columns.values.concat(),
    };
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[n as u64, d as u64])
        .order(order)
        .writer(std::io::BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    writer.extend(values).unwrap();
    writer.finish().unwrap();
}

/// `fit --json` of `file`, without what legitimately differs between sources.
fn fit(file: &Path, extra: &[&str]) -> Value {
    let mut result = run_json(
        mixplore()
            .arg("fit")
            .arg(file)
            .args(["--k", "3", "--json", "--n-init", "2"])
            .args(extra),
    );
    let object = result.as_object_mut().unwrap();
    object.remove("timing");
    object.remove("source");
    result
}

#[test]
fn every_format_fits_bit_identically_to_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["assets/datasets/faithful.csv", "assets/datasets/iris.csv"] {
        let columns = from_csv(file);
        let expected = fit(&root().join(file), &[]);
        let batch = batch(&columns);
        let mut written: Vec<PathBuf> = Vec::new();
        for (tag, compression) in [
            ("plain", Compression::UNCOMPRESSED),
            ("snappy", Compression::SNAPPY),
            ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ] {
            let path = dir.path().join(format!("data-{tag}.parquet"));
            // Row groups of 100 rows: several groups and batches to stream through.
            write_parquet(&path, &batch, compression, 100);
            written.push(path);
        }
        for extension in ["arrow", "feather"] {
            let path = dir.path().join(format!("data.{extension}"));
            write_arrow(&path, &batch);
            written.push(path);
        }
        for path in &written {
            assert_eq!(fit(path, &[]), expected, "{file} as {}", path.display());
        }
        // An array has no names and no truth column: its fit equals the CSV's numeric columns
        // fitted with the truth turned off, named x1.. (compare everything but the names).
        for (tag, order) in [("c", npyz::Order::C), ("fortran", npyz::Order::Fortran)] {
            let path = dir.path().join(format!("data-{tag}.npy"));
            write_npy(&path, &columns, order);
            let mut from_npy = fit(&path, &[]);
            let mut from_csv = expected.clone();
            for result in [&mut from_npy, &mut from_csv] {
                for key in ["columns", "truth_column", "ari"] {
                    result.as_object_mut().unwrap().remove(key);
                }
            }
            assert_eq!(from_npy, from_csv, "{file} as {tag}-order .npy");
        }
    }
}

/// Runs `mixplore fit` expecting a one-line error, and returns it.
fn fails(args: &[&str]) -> String {
    let output = mixplore().arg("fit").args(args).output().unwrap();
    let message = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    message
}

#[test]
fn bad_cells_are_located_and_can_be_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Float32, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("count", DataType::Int64, true),
    ]));
    let n = 40;
    let a: Vec<Option<f64>> = (0..n)
        .map(|i| match i {
            4 => None,
            _ => Some((i % 3) as f64 * 5.0 + (i as f64 * 0.7).sin()),
        })
        .collect();
    let b: Vec<Option<f32>> = (0..n)
        .map(|i| match i {
            9 => Some(f32::NAN),
            _ => Some((i as f32 * 0.3).cos()),
        })
        .collect();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(a)),
            Arc::new(Float32Array::from(b)),
            Arc::new(StringArray::from(vec![Some("x"); n])),
            Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let path = dir.path().join("bad.parquet");
    write_parquet(&path, &batch, Compression::SNAPPY, 16);
    let file = path.to_str().unwrap();
    let null = fails(&[file, "--k", "2"]);
    assert!(
        null.contains("bad.parquet: row 5, column 1 (\"a\"): null, not a number"),
        "{null}"
    );
    let nan = fails(&[file, "--k", "2", "--columns", "b"]);
    assert!(
        nan.contains("row 10, column 2 (\"b\"): NaN is not a finite number"),
        "{nan}"
    );
    let text = fails(&[file, "--k", "2", "--columns", "a,note"]);
    assert!(
        text.contains("column 3 (\"note\") has type Utf8, not a number type"),
        "{text}"
    );
    let unknown = fails(&[file, "--k", "2", "--columns", "a,zz"]);
    assert!(unknown.contains("no column named \"zz\""), "{unknown}");

    // Dropped: the two bad rows go, the rest fit; the default columns are the number types
    // (a, b, count), text skipped.
    let result = run_json(mixplore().args(["fit", file, "--k", "2", "--json", "--drop-invalid"]));
    assert_eq!(result["dropped_rows"], 2);
    assert_eq!(result["n"], n - 2);
    assert_eq!(result["columns"], serde_json::json!(["a", "b", "count"]));
    assert!(
        result["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("2 invalid rows dropped (first: ")
    );

    // The same in .npy: a NaN at row 3, column 2.
    let npy = dir.path().join("bad.npy");
    let columns = Columns {
        names: vec!["x1".into(), "x2".into()],
        values: vec![
            (0..10).map(f64::from).collect(),
            (0..10)
                .map(|i| if i == 2 { f64::NAN } else { f64::from(i * i) })
                .collect(),
        ],
        truth: None,
    };
    write_npy(&npy, &columns, npyz::Order::C);
    let message = fails(&[npy.to_str().unwrap(), "--k", "2"]);
    assert!(
        message.contains("bad.npy: row 3, column 2 (\"x2\"): NaN is not a finite number"),
        "{message}"
    );
}

#[test]
fn select_predict_and_score_read_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let columns = from_csv("assets/datasets/faithful.csv");
    let path = dir.path().join("faithful.parquet");
    write_parquet(&path, &batch(&columns), Compression::SNAPPY, 1000);
    let csv = root().join("assets/datasets/faithful.csv");
    let select = |file: &Path| {
        run_json(
            mixplore()
                .arg("select")
                .arg(file)
                .args(["--k", "1..3", "--n-init", "1", "--json"]),
        )
    };
    assert_eq!(select(&path), select(&csv));
    let model = root().join("tests/reference/faithful_k2.model.json");
    let predict = |file: &Path| {
        common::succeeds(
            mixplore()
                .arg("predict")
                .arg(file)
                .arg("--model")
                .arg(&model)
                .arg("--proba"),
        )
    };
    assert_eq!(predict(&path), predict(&csv));
}

#[test]
fn weights_from_columnar_and_array_files_are_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let columns = from_csv("assets/datasets/faithful.csv");
    let parquet = dir.path().join("faithful.parquet");
    write_parquet(&parquet, &batch(&columns), Compression::UNCOMPRESSED, 100);
    let npy = dir.path().join("faithful.npy");
    write_npy(&npy, &columns, npyz::Order::C);
    for path in [&parquet, &npy] {
        let message = fails(&[path.to_str().unwrap(), "--k", "2", "--weights", "waiting"]);
        assert!(
            message.contains("--weights is read from CSV files only"),
            "{message}"
        );
    }
}
