//! Loading the data matrix from a NumPy `.npy` file: a 2-D array (rows × columns) or a 1-D array
//! (one column) of floats or integers, in C or Fortran order (read with the `npyz` crate).
//!
//! An array has no column names, so the columns are called `x1`, `x2`, … as in a CSV file
//! without a header; `--columns` picks them by those names or by 1-based index, and `--truth`
//! takes a column (by index) as the true classes; nothing is detected. A NaN or ±inf is a
//! one-line error naming the file, row and column (`--drop-invalid` drops such rows). Arrays in C
//! order are streamed row by row into the contiguous buffer; Fortran-order arrays are read whole
//! and transposed.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, bail};
use npyz::{DType, NpyFile, Order, TypeChar};

use super::csv::{CsvOptions, LoadError, Table, TruthChoice, TruthColumn};
use crate::em::Dataset;

/// Calls `visit` with every element of the array, in file order, as a double.
fn for_each_value(
    npy: NpyFile<BufReader<File>>,
    name: &str,
    mut visit: impl FnMut(f64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dtype = npy.dtype();
    let kind = match &dtype {
        DType::Plain(type_str) => Some((type_str.type_char(), type_str.size_field())),
        _ => None,
    };
    macro_rules! stream_as {
        ($type:ty) => {{
            let reader = npy
                .data::<$type>()
                .with_context(|| format!("{name}: cannot read the array's values"))?;
            for value in reader {
                let value =
                    value.with_context(|| format!("{name}: cannot read the array's values"))?;
                visit(value as f64)?;
            }
            Ok(())
        }};
    }
    match kind {
        Some((TypeChar::Float, 8)) => stream_as!(f64),
        Some((TypeChar::Float, 4)) => stream_as!(f32),
        Some((TypeChar::Int, 8)) => stream_as!(i64),
        Some((TypeChar::Int, 4)) => stream_as!(i32),
        Some((TypeChar::Int, 2)) => stream_as!(i16),
        Some((TypeChar::Int, 1)) => stream_as!(i8),
        Some((TypeChar::Uint, 8)) => stream_as!(u64),
        Some((TypeChar::Uint, 4)) => stream_as!(u32),
        Some((TypeChar::Uint, 2)) => stream_as!(u16),
        Some((TypeChar::Uint, 1)) => stream_as!(u8),
        _ => bail!(
            "{name}: the array's type {} is not a float or integer type mixplore reads (f8, f4, i1–i8, u1–u8)",
            dtype.descr()
        ),
    }
}

/// Loads the array at `path` (shown as `name`).
pub fn load(path: &Path, name: &str, options: &CsvOptions) -> anyhow::Result<Table> {
    let file = File::open(path).with_context(|| format!("{name}: cannot read"))?;
    let npy = NpyFile::new(BufReader::with_capacity(1 << 20, file))
        .with_context(|| format!("{name}: not a readable .npy file"))?;
    let (rows, width) = match *npy.shape() {
        [rows] => (rows, 1),
        [rows, columns] => (rows, columns),
        ref shape => bail!(
            "{name}: an array of shape {shape:?}; mixplore reads 1-D (one column) or 2-D (rows × columns) arrays"
        ),
    };
    let (rows, width) = (
        usize::try_from(rows).context("too many rows")?,
        usize::try_from(width).context("too many columns")?,
    );
    if rows == 0 || width == 0 {
        return Err(LoadError::NoDataRows { name: name.into() }.into());
    }
    let names: Vec<String> = (1..=width).map(|j| format!("x{j}")).collect();
    let find = |entry: &str| -> anyhow::Result<usize> {
        let entry = entry.trim();
        names
            .iter()
            .position(|column| column.eq_ignore_ascii_case(entry))
            .or_else(|| {
                entry
                    .parse::<usize>()
                    .ok()
                    .filter(|index| (1..=width).contains(index))
                    .map(|index| index - 1)
            })
            .with_context(|| {
                format!(
                    "{name}: no column {entry:?}: the array's columns are x1 … x{width} (or 1 to {width})"
                )
            })
    };
    let truth_index = match &options.truth {
        TruthChoice::Column(entry) => Some(find(entry)?),
        TruthChoice::Detect | TruthChoice::Off => None,
    };
    let selected: Vec<usize> = match &options.columns {
        Some(entries) => entries
            .iter()
            .map(|entry| find(entry))
            .collect::<anyhow::Result<_>>()?,
        None => (0..width).filter(|&j| Some(j) != truth_index).collect(),
    };
    if let Some(truth) = truth_index
        && selected.contains(&truth)
    {
        bail!(
            "{name}: --truth names column {} which --columns also names: a column is either fitted or the truth",
            truth + 1
        );
    }
    if selected.is_empty() {
        bail!("{name}: no columns selected");
    }

    let fortran = npy.order() == Order::Fortran;
    let mut reader = RowReader {
        name,
        names: &names,
        selected: &selected,
        truth_index,
        drop_invalid: options.drop_invalid,
        values: Vec::with_capacity(rows.min(1 << 24) * selected.len()),
        truth_values: Vec::new(),
        dropped: 0,
        first_dropped: None,
    };
    if fortran {
        // Column-major on disk: read whole, then take the rows.
        let mut all = Vec::with_capacity(rows * width);
        for_each_value(npy, name, |value| {
            all.push(value);
            Ok(())
        })?;
        let mut row = vec![0.0; width];
        for i in 0..rows {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = all[j * rows + i];
            }
            reader.push(i, &row)?;
        }
    } else {
        let mut row = Vec::with_capacity(width);
        let mut index = 0;
        for_each_value(npy, name, |value| {
            row.push(value);
            if row.len() == width {
                reader.push(index, &row)?;
                row.clear();
                index += 1;
            }
            Ok(())
        })?;
    }
    reader.finish()
}

/// The state of a load: rows kept and dropped so far.
struct RowReader<'a> {
    name: &'a str,
    names: &'a [String],
    selected: &'a [usize],
    truth_index: Option<usize>,
    drop_invalid: bool,
    values: Vec<f64>,
    truth_values: Vec<f64>,
    dropped: usize,
    first_dropped: Option<String>,
}

impl RowReader<'_> {
    /// Checks and keeps (or drops) row `index` (0-based) of the array.
    fn push(&mut self, index: usize, row: &[f64]) -> anyhow::Result<()> {
        let bad = self
            .selected
            .iter()
            .chain(&self.truth_index)
            .find(|&&j| !row[j].is_finite());
        if let Some(&j) = bad {
            let message = format!(
                "{}: row {}, column {} ({:?}): {} is not a finite number",
                self.name,
                index + 1,
                j + 1,
                self.names[j],
                row[j]
            );
            if !self.drop_invalid {
                bail!(message);
            }
            self.dropped += 1;
            self.first_dropped.get_or_insert(message);
            return Ok(());
        }
        self.values.extend(self.selected.iter().map(|&j| row[j]));
        if let Some(j) = self.truth_index {
            self.truth_values.push(row[j]);
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<Table> {
        let name = self.name;
        if self.values.is_empty() {
            bail!(
                "{name}: every data row is invalid ({} dropped); the first: {}",
                self.dropped,
                self.first_dropped.unwrap_or_default()
            );
        }
        let mut warnings = Vec::new();
        if let Some(first) = &self.first_dropped {
            warnings.push(format!(
                "{} invalid rows dropped (first: {first})",
                self.dropped
            ));
        }
        let truth = self.truth_index.map(|j| {
            let mut classes: Vec<String> = Vec::new();
            let labels = self
                .truth_values
                .iter()
                .map(|value| {
                    let text = format!("{value}");
                    classes.iter().position(|c| *c == text).unwrap_or_else(|| {
                        classes.push(text);
                        classes.len() - 1
                    })
                })
                .collect();
            TruthColumn {
                name: self.names[j].clone(),
                index: j + 1,
                classes,
                labels,
            }
        });
        let columns = self
            .selected
            .iter()
            .map(|&j| self.names[j].clone())
            .collect();
        let data =
            Dataset::new(self.selected.len(), self.values).map_err(|source| LoadError::Data {
                name: name.into(),
                source,
            })?;
        Ok(Table {
            name: name.into(),
            data,
            columns,
            header: None,
            rows: None,
            dropped_rows: self.dropped,
            first_dropped: None,
            truth,
            weights_column: None,
            warnings,
        })
    }
}
