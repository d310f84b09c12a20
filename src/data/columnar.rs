//! Loading the data matrix from Parquet (`.parquet`) and Arrow IPC (`.arrow`, `.feather`,
//! `.ipc`) files: the tables pandas, polars, pyarrow and Spark write.
//!
//! The column rules are the CSV loader's ([`super::csv`]), with the file's types in place of
//! guessing from text:
//! - `--columns` picks by name (exact, then ignoring case) or 1-based index; by default every
//!   column of a number type (floats and integers) is fitted, other types are skipped.
//! - The truth column: `--truth COLUMN` takes that column; by default the first column named like
//!   labels ([`super::csv::TRUTH_NAMES`]) of a text or integer type, never null, with few
//!   distinct values ([`super::csv::max_truth_classes`]), is the truth and is not fitted (others so
//!   named are left out too, with a warning). An integer column so named that fails the test is
//!   fitted, with a warning, as in CSV; text that fails it is skipped.
//! - A null, NaN or ±inf in a fitted column, a null truth cell, or a fitted column of a type that
//!   is not a number, is a one-line error naming the file, row (1-based, over the whole file) and
//!   column; `--drop-invalid` drops such rows and counts them instead.
//!
//! Only the columns used are decoded (Parquet projection), record batch by record batch, straight
//! into the contiguous row-major buffer [`Dataset`] keeps, so memory is the data plus one batch.
//! Values are converted exactly (integers beyond 2⁵³ round as `as f64` does), so a fit of the
//! Parquet file and of the CSV of the same numbers is bit-identical.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, bail};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Schema};

use super::csv::{
    CsvOptions, LoadError, TRUTH_NAMES, Table, TruthChoice, TruthColumn, max_truth_classes,
};
use crate::em::Dataset;

/// Rows per record batch: large enough that per-batch costs vanish, small enough that one
/// decoded batch is a few megabytes.
const BATCH_ROWS: usize = 8192;

/// Which columnar format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC: the file format (Feather v2) or the stream format.
    ArrowIpc,
}

/// Loads the table at `path` (shown as `name`) in `format`.
pub fn load(
    path: &Path,
    name: &str,
    format: Format,
    options: &CsvOptions,
) -> anyhow::Result<Table> {
    let file = File::open(path).with_context(|| format!("{name}: cannot read"))?;
    match format {
        Format::Parquet => {
            use parquet::arrow::ProjectionMask;
            use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .with_context(|| format!("{name}: not a readable Parquet file"))?;
            let plan = Plan::new(builder.schema(), name, options)?;
            let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let mask = ProjectionMask::roots(builder.parquet_schema(), plan.projection());
            let reader = builder
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .with_context(|| format!("{name}: not a readable Parquet file"))?;
            plan.read(reader, name, options, rows)
        }
        Format::ArrowIpc => {
            use arrow_ipc::reader::{FileReader, StreamReader};
            let mut magic = [0u8; 6];
            let is_file_format = {
                use std::io::Read;
                let mut probe = File::open(path).with_context(|| format!("{name}: cannot read"))?;
                probe.read_exact(&mut magic).is_ok() && &magic == b"ARROW1"
            };
            let context = || format!("{name}: not a readable Arrow IPC (Feather) file");
            if is_file_format {
                let schema = FileReader::try_new(File::open(path)?, None)
                    .with_context(context)?
                    .schema();
                let plan = Plan::new(&schema, name, options)?;
                let reader =
                    FileReader::try_new(file, Some(plan.projection())).with_context(context)?;
                plan.read(reader, name, options, None)
            } else {
                let reader = StreamReader::try_new(std::io::BufReader::new(file), None)
                    .with_context(context)?;
                let plan = Plan::new(&reader.schema(), name, options)?;
                let projection = plan.projection();
                let projected = reader.map(move |batch| batch?.project(&projection));
                plan.read(projected, name, options, None)
            }
        }
    }
}

/// Which columns of the file are read, and as what.
#[derive(Debug)]
struct Plan {
    /// Every column's name (trimmed), for messages.
    names: Vec<String>,
    /// File indices of the fitted columns, in selection order.
    data: Vec<usize>,
    /// File index of the truth column, and whether it was detected (so may still be refused).
    truth: Option<(usize, bool)>,
    /// Warnings found while planning.
    warnings: Vec<String>,
}

/// `column 2 ("waiting")`.
fn column_label(index: usize, names: &[String]) -> String {
    format!("column {} ({:?})", index + 1, names[index])
}

/// Floats and integers: the types fitted.
fn is_number_type(data_type: &DataType) -> bool {
    data_type.is_floating() && *data_type != DataType::Float16 || data_type.is_integer()
}

/// Text, dictionary-encoded text and integers: the types a truth column may have.
fn is_label_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_label_type(values) && !values.is_integer(),
        other => other.is_integer(),
    }
}

/// Finds a `--columns` or `--truth` entry: a name (exactly, then ignoring case), or a 1-based
/// index.
fn find_column(entry: &str, names: &[String], name: &str) -> anyhow::Result<usize> {
    let entry = entry.trim();
    let found = names.iter().position(|column| column == entry).or_else(|| {
        names
            .iter()
            .position(|column| column.eq_ignore_ascii_case(entry))
    });
    if let Some(index) = found {
        return Ok(index);
    }
    let listed = names
        .iter()
        .enumerate()
        .map(|(index, column)| format!("{} {column:?}", index + 1))
        .collect::<Vec<_>>()
        .join(", ");
    match entry.parse::<usize>() {
        Ok(index) if (1..=names.len()).contains(&index) => Ok(index - 1),
        Ok(index) => Err(LoadError::ColumnOutOfRange {
            name: name.into(),
            index,
            count: names.len(),
            columns: listed,
        }
        .into()),
        Err(_) => Err(LoadError::UnknownColumn {
            name: name.into(),
            requested: entry.into(),
            columns: listed,
        }
        .into()),
    }
}

impl Plan {
    fn new(schema: &Schema, name: &str, options: &CsvOptions) -> anyhow::Result<Self> {
        let names: Vec<String> = schema
            .fields()
            .iter()
            .map(|field| field.name().trim().to_owned())
            .collect();
        let type_of = |index: usize| schema.field(index).data_type();
        let named: Option<Vec<usize>> = options
            .columns
            .as_ref()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| find_column(entry, &names, name))
                    .collect::<anyhow::Result<_>>()
            })
            .transpose()?;
        let mut warnings = Vec::new();
        let mut left_out = Vec::new();
        let truth = match &options.truth {
            TruthChoice::Off => None,
            TruthChoice::Column(requested) => {
                let index = find_column(requested, &names, name)?;
                if named.as_ref().is_some_and(|named| named.contains(&index)) {
                    bail!(
                        "{name}: --truth {requested:?} is also named by --columns: a column is either fitted or the truth"
                    );
                }
                Some((index, false))
            }
            TruthChoice::Detect => {
                let mut candidates = (0..names.len()).filter(|&index| {
                    TRUTH_NAMES
                        .iter()
                        .any(|truth| truth.eq_ignore_ascii_case(&names[index]))
                        && is_label_type(type_of(index))
                        && !named.as_ref().is_some_and(|named| named.contains(&index))
                });
                let first = candidates.next();
                for other in candidates {
                    warnings.push(format!(
                        "{} also looks like true classes, so it is not fitted either; name it in --columns to fit it",
                        column_label(other, &names)
                    ));
                    left_out.push(other);
                }
                first.map(|index| (index, true))
            }
        };
        let data: Vec<usize> = match named {
            Some(named) => {
                for &index in &named {
                    if !is_number_type(type_of(index)) {
                        bail!(
                            "{name}: {} has type {}, not a number type",
                            column_label(index, &names),
                            type_of(index)
                        );
                    }
                }
                named
            }
            None => (0..names.len())
                .filter(|&index| {
                    is_number_type(type_of(index))
                        && truth.is_none_or(|(truth, _)| truth != index)
                        && !left_out.contains(&index)
                })
                .collect(),
        };
        if data.is_empty() {
            bail!(
                "{name}: no column of a number type to fit; the columns are {}",
                schema
                    .fields()
                    .iter()
                    .map(|field| format!("{:?} ({})", field.name(), field.data_type()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(Self {
            names,
            data,
            truth,
            warnings,
        })
    }

    /// The file columns to decode, in file order.
    fn projection(&self) -> Vec<usize> {
        let mut columns: Vec<usize> = self
            .data
            .iter()
            .copied()
            .chain(self.truth.map(|t| t.0))
            .collect();
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// Position of file column `index` within a projected batch.
    fn position(&self, index: usize) -> usize {
        self.projection()
            .iter()
            .position(|&column| column == index)
            .unwrap_or(index)
    }

    /// Streams the batches into the row-major matrix, checking every cell. With the number of
    /// `rows` known (Parquet's footer), the matrix is allocated once, at its final size, instead
    /// of growing (whose peak is twice the data).
    fn read(
        self,
        batches: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
        name: &str,
        options: &CsvOptions,
        rows: Option<usize>,
    ) -> anyhow::Result<Table> {
        let d = self.data.len();
        let data_positions: Vec<usize> = self.data.iter().map(|&i| self.position(i)).collect();
        let truth_position = self.truth.map(|(index, _)| self.position(index));
        let mut values: Vec<f64> = Vec::new();
        // A damaged footer could claim any count: reserve only what is plausible (16 GiB), and
        // only if the allocator agrees; otherwise the matrix grows as batches come.
        if let Some(wanted) = rows
            .and_then(|rows| rows.checked_mul(d))
            .filter(|&wanted| wanted <= 1 << 31)
        {
            let _ = values.try_reserve_exact(wanted);
        }
        let mut truth = Labels::default();
        let mut rows_before = 0usize;
        let mut dropped = 0usize;
        let mut first_dropped: Option<String> = None;
        let mut columns: Vec<(Vec<f64>, ArrayRef)> = Vec::with_capacity(d);
        for batch in batches {
            let batch = batch
                .with_context(|| format!("{name}: cannot read the rows after row {rows_before}"))?;
            columns.clear();
            for &position in &data_positions {
                let column = batch.column(position);
                columns.push((widen(column), column.clone()));
            }
            let truth_column = truth_position.map(|position| batch.column(position));
            let truth_texts = truth_column.map(label_texts);
            values.reserve(batch.num_rows() * d);
            for row in 0..batch.num_rows() {
                let problem = self.row_problem(row, &columns, truth_column);
                if let Some(problem) = problem {
                    let message = format!("{name}: row {}, {problem}", rows_before + row + 1);
                    if !options.drop_invalid {
                        bail!(message);
                    }
                    dropped += 1;
                    first_dropped.get_or_insert(message);
                    continue;
                }
                values.extend(columns.iter().map(|(widened, _)| widened[row]));
                if let Some((texts, numbers)) = &truth_texts {
                    truth.push(&texts[row], numbers.as_ref().map(|numbers| numbers[row]));
                }
            }
            rows_before += batch.num_rows();
        }
        let kept = values.len().checked_div(d).unwrap_or(0);
        if kept == 0 {
            match first_dropped {
                Some(first) => bail!(
                    "{name}: every data row is invalid ({dropped} dropped); the first: {first}"
                ),
                None => return Err(LoadError::NoDataRows { name: name.into() }.into()),
            }
        }
        let mut warnings = self.warnings.clone();
        if let Some(first) = first_dropped {
            warnings.insert(
                0,
                format!("{dropped} invalid rows dropped (first: {first})"),
            );
        }
        let mut data_columns: Vec<String> = self
            .data
            .iter()
            .map(|&index| self.names[index].clone())
            .collect();
        let mut truth_column = None;
        if let Some((index, detected)) = self.truth {
            let limit = max_truth_classes(kept);
            let refused = detected && truth.classes.len() > limit;
            if !refused {
                truth_column = Some(TruthColumn {
                    name: self.names[index].clone(),
                    index: index + 1,
                    classes: truth.classes,
                    labels: truth.labels,
                });
            } else if let Some(numbers) = truth.numbers.filter(|_| options.columns.is_none()) {
                // An integer column named like labels with too many values: data after all, in
                // its place among the fitted columns.
                let at = self.data.iter().filter(|&&column| column < index).count();
                values = insert_column(&values, d, at, &numbers);
                data_columns.insert(at, self.names[index].clone());
                warnings.push(format!(
                    "{} is named like true classes but has {} distinct values in {kept} rows (labels have at most {limit}), so it is fitted as data; --truth {} takes it as the classes",
                    column_label(index, &self.names),
                    truth.classes.len(),
                    self.names[index]
                ));
            }
        }
        let dim = data_columns.len();
        let data = Dataset::new(dim, values).map_err(|source| LoadError::Data {
            name: name.into(),
            source,
        })?;
        Ok(Table {
            name: name.into(),
            data,
            columns: data_columns,
            header: None,
            rows: None,
            dropped_rows: dropped,
            first_dropped: None,
            truth: truth_column,
            weights_column: None,
            warnings,
        })
    }

    /// What is wrong with row `row` of a batch, if anything: `column 2 ("b"): …`.
    fn row_problem(
        &self,
        row: usize,
        columns: &[(Vec<f64>, ArrayRef)],
        truth: Option<&ArrayRef>,
    ) -> Option<String> {
        for (&index, (widened, column)) in self.data.iter().zip(columns) {
            // The label is only spelled out for a bad cell: this runs for every cell.
            if column.is_null(row) {
                let label = column_label(index, &self.names);
                return Some(format!("{label}: null, not a number"));
            }
            let value = widened[row];
            if !value.is_finite() {
                let label = column_label(index, &self.names);
                return Some(format!("{label}: {value} is not a finite number"));
            }
        }
        let (index, _) = self.truth?;
        truth.filter(|column| column.is_null(row)).map(|_| {
            format!(
                "{}: null in the truth column",
                column_label(index, &self.names)
            )
        })
    }
}

/// A column of a number type as doubles (null slots hold arbitrary values; the caller checks
/// validity). Other types give an empty vector: planning never selects them.
fn widen(column: &ArrayRef) -> Vec<f64> {
    macro_rules! widen_as {
        ($type:ty) => {
            column
                .as_primitive::<$type>()
                .values()
                .iter()
                .map(|&value| value as f64)
                .collect()
        };
    }
    match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().values().to_vec(),
        DataType::Float32 => widen_as!(Float32Type),
        DataType::Int8 => widen_as!(Int8Type),
        DataType::Int16 => widen_as!(Int16Type),
        DataType::Int32 => widen_as!(Int32Type),
        DataType::Int64 => widen_as!(Int64Type),
        DataType::UInt8 => widen_as!(UInt8Type),
        DataType::UInt16 => widen_as!(UInt16Type),
        DataType::UInt32 => widen_as!(UInt32Type),
        DataType::UInt64 => widen_as!(UInt64Type),
        _ => Vec::new(),
    }
}

/// The truth column's classes as they are read: texts numbered by first appearance, and for an
/// integer column its values too (in case it turns out to be data).
#[derive(Debug, Default)]
struct Labels {
    classes: Vec<String>,
    index: HashMap<String, usize>,
    labels: Vec<usize>,
    numbers: Option<Vec<f64>>,
}

impl Labels {
    /// Adds one kept row's class: its text, and for an integer column its value.
    fn push(&mut self, text: &str, number: Option<f64>) {
        if let Some(number) = number {
            self.numbers.get_or_insert_with(Vec::new).push(number);
        }
        let text = text.trim();
        let next = self.classes.len();
        let class = *self.index.entry(text.to_owned()).or_insert(next);
        if class == next {
            self.classes.push(text.to_owned());
        }
        self.labels.push(class);
    }
}

/// The cells of a batch's truth column as texts (empty for nulls), and for an integer column
/// their values.
fn label_texts(column: &ArrayRef) -> (Vec<String>, Option<Vec<f64>>) {
    let rows = 0..column.len();
    let texts = match column.data_type() {
        DataType::Utf8 => {
            let strings = column.as_string::<i32>();
            rows.map(|row| strings.value(row).to_owned()).collect()
        }
        DataType::LargeUtf8 => {
            let strings = column.as_string::<i64>();
            rows.map(|row| strings.value(row).to_owned()).collect()
        }
        DataType::Utf8View => {
            let strings = column.as_string_view();
            rows.map(|row| strings.value(row).to_owned()).collect()
        }
        DataType::Dictionary(_, _) => {
            let dictionary = column.as_any_dictionary();
            let (values, _) = label_texts(dictionary.values());
            dictionary
                .normalized_keys()
                .into_iter()
                .map(|key| values.get(key).cloned().unwrap_or_default())
                .collect()
        }
        _ => {
            let numbers = widen(column);
            let texts = numbers.iter().map(|value| format!("{value}")).collect();
            return (texts, Some(numbers));
        }
    };
    (texts, None)
}

/// `values` (rows of `d`) with `column` inserted as column `at` of every row.
fn insert_column(values: &[f64], d: usize, at: usize, column: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len() + column.len());
    for (row, extra) in values.chunks_exact(d).zip(column) {
        out.extend_from_slice(&row[..at]);
        out.push(*extra);
        out.extend_from_slice(&row[at..]);
    }
    out
}
