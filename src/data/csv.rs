//! Loading a numeric data matrix from CSV, for `mixplore fit FILE` and `mixplore explore FILE`
//! (`FILE` may be `-` for standard input).
//!
//! Files come from spreadsheets, R, pandas and hand editing, so the loader guesses what it can
//! and is exact about what it cannot:
//! - A header row is detected, not declared: the first non-blank record is a header when one of
//!   its cells is non-empty and not a number. Without a header the columns are named `x1`, `x2`, …
//! - By default every numeric column is used, judged on the first data row, so a trailing text
//!   column drops out by itself. [`CsvOptions::columns`] picks columns by name or by 1-based index
//!   instead.
//! - A column of true class labels is taken aside, never fitted: mixplore's own `simulate` and
//!   `w` write a whole-number `component` column that would otherwise pass for a dimension. See
//!   [`TruthChoice`] for the rule; [`Table::truth`] holds the labels.
//! - A column of sample weights ([`CsvOptions::weights`], `--weights`) is read aside like the
//!   truth column, never fitted: every cell a finite number ≥ 0, not all 0 (see
//!   [`Table::data`]'s weights).
//! - Every selected cell must be a finite number and every row must have as many fields as the
//!   header (or the first row). A violation is one line that leads the user to the cell, e.g.
//!   `data.csv: line 12, column 2 ("waiting"): "abc" is not a number`. With
//!   [`CsvOptions::drop_invalid`] such rows are skipped and counted instead.
//! - A UTF-8 byte order mark, CRLF line endings, quoted fields and any one-byte delimiter work.
//!
//! Loading has to keep up with a million-row file, so records are read into one reused
//! [`ByteRecord`], only the selected fields are parsed, straight from bytes, and values go into one
//! row-major `Vec<f64>`, the layout [`Dataset`] keeps. Nothing is read ahead beyond the parser's
//! buffer, so standard input streams.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use csv::{ByteRecord, StringRecord};
use thiserror::Error;

use crate::em::{Dataset, EmError, WeightError, Weights};
use crate::text::printable;

/// The parser's read buffer. Large reads keep system calls rare on big files; the csv reader
/// already buffers, so sources are handed to it unbuffered rather than through a second buffer.
const BUFFER_CAPACITY: usize = 1 << 20;

/// The longest line read, 16 MiB: a thousand times a wide file's line, and a bound on what one
/// line (or /dev/zero, or a file with no line breaks) can make the parser hold in memory.
pub const MAX_LINE_BYTES: u64 = 16 << 20;

/// Quoted cell texts are cut to this many characters so one absurd cell cannot flood the message.
const MAX_QUOTED_CHARS: usize = 40;

/// Column lists in messages stop after this many names; a 500-column file would drown the point.
const MAX_LISTED_COLUMNS: usize = 30;

/// Header names that mark a column of true class labels, compared ignoring case and surrounding
/// whitespace.
pub const TRUTH_NAMES: [&str; 7] = [
    "component",
    "label",
    "labels",
    "class",
    "cluster",
    "species",
    "truth",
];

/// The most distinct values a column detected by name may have and still be taken as labels.
pub const MAX_TRUTH_CLASSES: usize = 50;

/// How many distinct values count as "few" for `rows` data rows: max(2, min(50, rows / 2)).
/// More than that and a column is an identifier or a measurement, not a class.
pub fn max_truth_classes(rows: usize) -> usize {
    (rows / 2).clamp(2, MAX_TRUTH_CLASSES)
}

/// Which column holds the true class labels (`--truth`), if any. That column is never fitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TruthChoice {
    /// Detect it (the default): a column named one of [`TRUTH_NAMES`] whose cells are text or
    /// whole numbers with few distinct values ([`max_truth_classes`]) and never empty, and that
    /// [`CsvOptions::columns`] does not name. When several qualify the first is the truth and the
    /// others are left out too. A column that is named so but fails the test is read as it
    /// would be without detection (numbers as data, text skipped), with a warning when it is
    /// fitted.
    #[default]
    Detect,
    /// This column, by header name or 1-based index as in [`CsvOptions::columns`]; any values.
    /// A row where it is empty is invalid (dropped under [`CsvOptions::drop_invalid`]). Nothing
    /// else is detected then: other columns are read as without detection.
    Column(String),
    /// No truth column: every column is judged as data (`--truth none`).
    Off,
}

/// The true class of every kept row, from the truth column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthColumn {
    /// The column's name (as in [`Table::columns`]).
    pub name: String,
    /// Its 1-based column index in the file.
    pub index: usize,
    /// The distinct cell texts (trimmed), in order of first appearance among the kept rows.
    pub classes: Vec<String>,
    /// For every kept row, the 0-based index of its class in `classes`.
    pub labels: Vec<usize>,
}

impl TruthColumn {
    /// One line for the user, e.g. ``truth: column `species` (3 classes), not used as a feature``.
    pub fn describe(&self) -> String {
        let count = self.classes.len();
        let plural = if count == 1 { "" } else { "es" };
        format!(
            "truth: column `{}` ({count} class{plural}), not used as a feature",
            self.name
        )
    }
}

/// Where the CSV comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
}

impl Source {
    /// Interprets a command-line argument: `-` is standard input, anything else a path.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }
}

impl fmt::Display for Source {
    /// The path as given, or `<stdin>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Shown in messages and on screen: no byte of a file name reaches the terminal raw.
            Source::Path(path) => f.write_str(&printable(&path.display().to_string())),
            Source::Stdin => f.write_str("<stdin>"),
        }
    }
}

/// How to read the CSV and which columns to take.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Columns to use (`--columns a,b`), each a header name or a 1-based column index. Names
    /// match exactly first, then ignoring case; a header name that looks like a number wins over
    /// the index. `None` takes every numeric column.
    pub columns: Option<Vec<String>>,
    /// Field delimiter, one byte (`,` by default; `;` and tab are common).
    pub delimiter: u8,
    /// Skip rows with a bad selected cell or the wrong number of fields, counting them, instead of
    /// failing (`--drop-invalid`).
    pub drop_invalid: bool,
    /// Keep the original records of the kept rows, to write them back out with labels.
    pub keep_rows: bool,
    /// The column of true class labels (`--truth`): detected by default.
    pub truth: TruthChoice,
    /// The column of sample weights (`--weights`), by name or 1-based index like a `--columns`
    /// entry; `None` weighs every row 1. The column is not data, and its cells must be finite
    /// numbers ≥ 0, not all 0.
    pub weights: Option<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            columns: None,
            delimiter: b',',
            drop_invalid: false,
            keep_rows: false,
            truth: TruthChoice::Detect,
            weights: None,
        }
    }
}

/// A loaded data matrix and what is needed to talk about it.
#[derive(Debug)]
pub struct Table {
    /// Display name of the source: the path as given, or `<stdin>`.
    pub name: String,
    /// The selected numeric columns of the kept rows, n × D.
    pub data: Dataset,
    /// Names of the selected columns, in selection order: the header names (trimmed), or
    /// `x1`, `x2`, … by 1-based file column index when there is no header or a name is empty.
    pub columns: Vec<String>,
    /// The whole header row (lossily decoded), if the file had one.
    pub header: Option<StringRecord>,
    /// The original records of the kept rows, in order; only with [`CsvOptions::keep_rows`].
    pub rows: Option<Vec<StringRecord>>,
    /// Rows skipped under [`CsvOptions::drop_invalid`].
    pub dropped_rows: usize,
    /// The full error message the first dropped row would have given.
    pub first_dropped: Option<String>,
    /// The column of true class labels, if one was given or detected; it is not in `data`.
    pub truth: Option<TruthColumn>,
    /// The name of the `--weights` column, if one was given; its values are `data`'s weights.
    pub weights_column: Option<String>,
    /// What the user should know about the load, one line each without a `warning:` prefix
    /// (dropped rows, a column named like labels but fitted): the loader prints nothing, each
    /// command shows these its own way.
    pub warnings: Vec<String>,
}

/// What is wrong with one data row. Its message starts at the line number; [`LoadError`] puts the
/// source's name in front.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RowProblem {
    /// The row has a different number of fields from the header (or the first row).
    #[error("line {line} has {fields} fields, expected {expected} as {}", reference(.by_header, .reference_line))]
    Ragged {
        /// 1-based line of the row in the file.
        line: u64,
        /// How many fields it has.
        fields: usize,
        /// How many it should have.
        expected: usize,
        /// Whether the expected count comes from the header (else from the first data row).
        by_header: bool,
        /// 1-based line of the header or first row that set the count.
        reference_line: u64,
    },
    /// A selected cell does not hold a finite number.
    #[error("line {line}, column {column}{}: {problem}", column_label(.column_name.as_deref()))]
    Cell {
        /// 1-based line of the row in the file.
        line: u64,
        /// 1-based column in the file (not within the selection).
        column: usize,
        /// The column's header name, when the file has a header.
        column_name: Option<String>,
        /// What is wrong with the cell, quoting it.
        problem: CellProblem,
    },
    /// A quoted field opens on this line and is never closed: the rest of the input was read
    /// into it.
    #[error("line {line}: a quoted field opens here and is never closed")]
    UnclosedQuote {
        /// 1-based line on which the row (and its open quote) starts.
        line: u64,
    },
}

impl RowProblem {
    /// The 1-based line of the row.
    pub fn line(&self) -> u64 {
        match self {
            RowProblem::Ragged { line, .. }
            | RowProblem::Cell { line, .. }
            | RowProblem::UnclosedQuote { line } => *line,
        }
    }
}

/// Why a cell is not usable as a data value. Each message quotes the (trimmed) cell.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CellProblem {
    /// Empty or only whitespace.
    #[error("the cell is empty, expected a number")]
    Empty,
    /// A cell of the truth column given by `--truth` is empty or only whitespace.
    #[error("the cell is empty, expected a class label (--truth)")]
    EmptyLabel,
    /// Text that does not parse as a number.
    #[error("{} is not a number", quote(.0))]
    NotANumber(String),
    /// NaN, an infinity, or a number too large for a 64-bit float (such as `1e400`).
    #[error("{} is not a finite number", quote(.0))]
    NotFinite(String),
    /// Bytes that are not UTF-8 (shown lossily decoded).
    #[error("{} is not a number (it is not valid UTF-8 text)", quote(.0))]
    NotUtf8(String),
    /// A cell of the `--weights` column is a number below 0.
    #[error("{} is negative; a weight must be a finite number ≥ 0 (--weights)", quote(.0))]
    NegativeWeight(String),
}

/// Why a CSV source could not be loaded. Every message is one line starting with the source's
/// name.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file could not be opened.
    #[error("{name}: cannot read: {cause}")]
    Open {
        /// The source's display name.
        name: String,
        /// The underlying error: in the message, and deliberately not the error's `source()`,
        /// so that printing the chain does not say it twice.
        cause: io::Error,
    },
    /// Reading failed partway through the file.
    #[error("{name}: line {line}: cannot read: {cause}")]
    Read {
        /// The source's display name.
        name: String,
        /// 1-based line the parser had reached.
        line: u64,
        /// The underlying error (in the message only, as for [`LoadError::Open`]).
        cause: csv::Error,
    },
    /// A line longer than [`MAX_LINE_BYTES`] (or input with no line breaks, such as /dev/zero).
    #[error(
        "{name}: line {line} is longer than {} bytes: not a CSV file, or a line break is missing",
        MAX_LINE_BYTES
    )]
    LineTooLong {
        /// The source's display name.
        name: String,
        /// 1-based line that is too long.
        line: u64,
    },
    /// The data read so far fill the memory budget.
    #[error(
        "{name}: line {line}: the data would need more memory than the budget of {}: select fewer columns (--columns) or fit a sample of the rows",
        crate::em::limits::describe_budget()
    )]
    TooLarge {
        /// The source's display name.
        name: String,
        /// 1-based line at which the budget was reached.
        line: u64,
    },
    /// Nothing but whitespace and line breaks.
    #[error("{name}: the file is empty")]
    Empty {
        /// The source's display name.
        name: String,
    },
    /// A header and nothing after it.
    #[error("{name}: no data rows after the header")]
    NoDataRows {
        /// The source's display name.
        name: String,
    },
    /// Default column selection found no column whose first data cell is a number.
    #[error(
        "{name}: no column is numeric: no cell of the first data row (line {line}) is a number; the columns are {columns}"
    )]
    NoNumericColumns {
        /// The source's display name.
        name: String,
        /// 1-based line of the first data row.
        line: u64,
        /// The available columns, listed for the message.
        columns: String,
    },
    /// `columns` was given but empty.
    #[error("{name}: no columns selected; the columns are {columns}")]
    NoColumnsSelected {
        /// The source's display name.
        name: String,
        /// The available columns, listed for the message.
        columns: String,
    },
    /// A requested column name matches no column.
    #[error("{name}: no column named {}; the columns are {columns} (or give a 1-based index)", quote(.requested))]
    UnknownColumn {
        /// The source's display name.
        name: String,
        /// The name asked for.
        requested: String,
        /// The available columns, listed for the message.
        columns: String,
    },
    /// A requested column index is 0 or past the last column.
    #[error(
        "{name}: there is no column {index}: columns are numbered 1 to {count}; the columns are {columns}"
    )]
    ColumnOutOfRange {
        /// The source's display name.
        name: String,
        /// The 1-based index asked for.
        index: usize,
        /// How many columns the file has.
        count: usize,
        /// The available columns, listed for the message.
        columns: String,
    },
    /// A requested name matches more than one column.
    #[error("{name}: column name {} is ambiguous: it matches columns {first} and {second}; give a 1-based index instead", quote(.requested))]
    AmbiguousColumn {
        /// The source's display name.
        name: String,
        /// The name asked for.
        requested: String,
        /// 1-based index of the first match.
        first: usize,
        /// 1-based index of the second match.
        second: usize,
    },
    /// Two entries of `columns` pick the same column.
    #[error("{name}: column {index}{} is selected twice", column_label(.column_name.as_deref()))]
    DuplicateColumn {
        /// The source's display name.
        name: String,
        /// 1-based index of the column.
        index: usize,
        /// Its header name, when the file has a header.
        column_name: Option<String>,
    },
    /// The `--truth` column cannot be found (the message of the lookup, after the name).
    #[error("{name}: --truth {}: {reason}", quote(.requested))]
    UnknownTruth {
        /// The source's display name.
        name: String,
        /// The column asked for.
        requested: String,
        /// Why it matches no single column.
        reason: String,
    },
    /// The `--truth` column is also named in `--columns`.
    #[error("{name}: column {index}{} is named by both --truth and --columns; a column is either the true classes or data", column_label(.column_name.as_deref()))]
    TruthSelected {
        /// The source's display name.
        name: String,
        /// 1-based index of the column.
        index: usize,
        /// Its header name, when the file has a header.
        column_name: Option<String>,
    },
    /// The `--weights` column cannot be found (the message of the lookup, after the name).
    #[error("{name}: --weights {}: {reason}", quote(.requested))]
    UnknownWeights {
        /// The source's display name.
        name: String,
        /// The column asked for.
        requested: String,
        /// Why it matches no single column.
        reason: String,
    },
    /// The `--weights` column is also named in `--columns` or by `--truth`.
    #[error("{name}: column {index}{} is named by both --weights and {other}; the weight column is not data", column_label(.column_name.as_deref()))]
    WeightsSelected {
        /// The source's display name.
        name: String,
        /// 1-based index of the column.
        index: usize,
        /// Its header name, when the file has a header.
        column_name: Option<String>,
        /// The other option naming it.
        other: &'static str,
    },
    /// Every weight of the kept rows is 0.
    #[error("{name}: every weight in column {index}{} is 0; at least one row must have a positive weight (--weights)", column_label(.column_name.as_deref()))]
    AllWeightsZero {
        /// The source's display name.
        name: String,
        /// 1-based index of the column.
        index: usize,
        /// Its header name, when the file has a header.
        column_name: Option<String>,
    },
    /// Every numeric column is the truth column, so nothing is left to fit.
    #[error("{name}: no column is left to fit: column {index} ({}) holds the true classes; --truth none fits it as data, or --columns picks the columns", quote(.column))]
    OnlyTruth {
        /// The source's display name.
        name: String,
        /// 1-based index of the truth column.
        index: usize,
        /// Its name.
        column: String,
    },
    /// A data row is invalid (and rows are not being dropped).
    #[error("{name}: {problem}")]
    Row {
        /// The source's display name.
        name: String,
        /// What is wrong, and where.
        problem: RowProblem,
    },
    /// Under `drop_invalid`, every data row was invalid.
    #[error("{name}: every data row is invalid ({dropped} dropped); the first: {first}")]
    AllRowsInvalid {
        /// The source's display name.
        name: String,
        /// How many rows were dropped.
        dropped: usize,
        /// What was wrong with the first of them.
        first: RowProblem,
    },
    /// The engine refused the matrix (not expected: values are checked as they are read).
    #[error("{name}: {source}")]
    Data {
        /// The source's display name.
        name: String,
        /// The engine's error.
        #[source]
        source: EmError,
    },
}

/// Loads the data matrix from a file or standard input.
///
/// # Errors
///
/// When the file cannot be opened, or for any reason [`read`] gives.
pub fn load(source: &Source, options: &CsvOptions) -> Result<Table, LoadError> {
    let name = source.to_string();
    match source {
        Source::Stdin => read(io::stdin().lock(), &name, options),
        Source::Path(path) => {
            let open_error = |cause| LoadError::Open {
                name: name.clone(),
                cause,
            };
            let file = File::open(path).map_err(open_error)?;
            // Opening a directory succeeds on Unix; reading it then fails with a message about
            // line 1, which would send the user looking inside a file that is not there.
            let metadata = file.metadata().map_err(open_error)?;
            if metadata.is_dir() {
                return Err(open_error(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "it is a directory",
                )));
            }
            read_sized(file, &name, options, Some(metadata.len()), Some(path))
        }
    }
}

/// Reads the data matrix from any reader; `name` is how messages refer to it.
///
/// # Errors
///
/// When reading fails, the input is empty or has no data rows, the columns cannot be selected,
/// or a row is invalid (unless rows are being dropped, and then when every row is).
pub fn read<R: Read>(reader: R, name: &str, options: &CsvOptions) -> Result<Table, LoadError> {
    read_sized(reader, name, options, None, None)
}

/// [`read`] of an input of `size` bytes, if known: the matrix is then allocated once from an
/// estimate of the rows left (see [`Loader::make_room`]) instead of doubling as it grows.
fn read_sized<R: Read>(
    reader: R,
    name: &str,
    options: &CsvOptions,
    size: Option<u64>,
    path: Option<&Path>,
) -> Result<Table, LoadError> {
    let parser = csv::ReaderBuilder::new()
        .has_headers(false)
        // Ragged rows are reported (or dropped) here, with the numbers a user needs.
        .flexible(true)
        .delimiter(options.delimiter)
        .buffer_capacity(BUFFER_CAPACITY)
        .from_reader(Input::new(reader));
    let mut rows = Records {
        parser,
        record: ByteRecord::new(),
        name,
    };

    if !rows.advance()? {
        return Err(LoadError::Empty { name: name.into() });
    }
    let first_line = rows.line();
    let expected = rows.record.len();
    let header =
        is_header(&rows.record).then(|| StringRecord::from_byte_record_lossy(rows.record.clone()));
    let names = column_names(header.as_ref(), expected);
    if header.is_some() && !rows.advance()? {
        return Err(LoadError::NoDataRows { name: name.into() });
    }

    let explicit_truth = match &options.truth {
        TruthChoice::Column(requested) => Some(find_truth(requested, &names, name)?),
        TruthChoice::Detect | TruthChoice::Off => None,
    };
    let weights_index = match &options.weights {
        Some(requested) => Some(find_weights(requested, &names, name)?),
        None => None,
    };
    let has_header = header.is_some();
    let weights_selected =
        |index: usize, names: &[String], other: &'static str| LoadError::WeightsSelected {
            name: name.into(),
            index: index + 1,
            column_name: has_header.then(|| names.get(index).cloned()).flatten(),
            other,
        };
    if let Some(index) = weights_index.filter(|index| explicit_truth == Some(*index)) {
        return Err(weights_selected(index, &names, "--truth"));
    }
    let mut loader = Loader {
        rows,
        options,
        expected,
        reference_line: first_line,
        by_header: header.is_some(),
        names,
        values: Vec::new(),
        size,
        kept: options.keep_rows.then(Vec::new),
        kept_rows: 0,
        trackers: Vec::new(),
        weights_index,
        weights: Vec::new(),
        dropped: 0,
        first_dropped: None,
        kept_bytes: 0,
    };

    let selection = match &options.columns {
        Some(requested) => {
            let selection = select_columns(requested, &loader.names, header.is_some(), name)?;
            if let Some(index) = explicit_truth.filter(|index| selection.contains(index)) {
                return Err(LoadError::TruthSelected {
                    name: name.into(),
                    index: index + 1,
                    column_name: header
                        .is_some()
                        .then(|| loader.names.get(index).cloned())
                        .flatten(),
                });
            }
            if let Some(index) = weights_index.filter(|index| selection.contains(index)) {
                return Err(weights_selected(index, &loader.names, "--columns"));
            }
            selection
        }
        None => {
            // The numeric columns are judged on a row of the right width; under drop_invalid a
            // ragged row before it is dropped like any other.
            while loader.rows.record.len() != expected {
                let problem = loader.ragged();
                loader.reject(problem)?;
                if !loader.rows.advance()? {
                    return Err(loader.nothing_kept());
                }
            }
            numeric_columns(
                &loader.rows.record,
                loader.rows.line(),
                header.as_ref(),
                &loader.names,
                name,
            )?
        }
    };

    // The truth column, or the columns that may turn out to be one: these are kept out of the
    // selection while the rows are read. A candidate that would have been data by default comes
    // back as data at the end if its values are not labels after all.
    let by_default = options.columns.is_none();
    match explicit_truth {
        Some(index) => loader.trackers.push(Tracker::new(index, true, false)),
        None if options.truth == TruthChoice::Detect && header.is_some() => {
            for (index, column) in loader.names.iter().enumerate() {
                let selected = selection.contains(&index);
                if is_truth_name(column)
                    && (by_default || !selected)
                    && weights_index != Some(index)
                {
                    loader
                        .trackers
                        .push(Tracker::new(index, false, by_default && selected));
                }
            }
        }
        None => {}
    }
    let selection: Vec<usize> = if by_default {
        selection
            .into_iter()
            .filter(|index| {
                loader
                    .trackers
                    .iter()
                    .all(|tracker| tracker.index != *index)
                    && weights_index != Some(*index)
            })
            .collect()
    } else {
        selection
    };
    if selection.is_empty() && loader.trackers.iter().all(|tracker| !tracker.fallback) {
        // Only reachable when --truth took the one numeric column.
        let index = loader.trackers.first().map_or(0, |tracker| tracker.index);
        return Err(LoadError::OnlyTruth {
            name: name.into(),
            index: index + 1,
            column: loader.names.get(index).cloned().unwrap_or_default(),
        });
    }

    let mut more = true;
    // A regular file whose rows need no bookkeeping beyond their values: the rest after this
    // row is read by the parallel fast path, unless it finds anything it does not read exactly
    // like the record path (then the record path goes on from the next row, as it would have).
    // A truth column may come along while its cells are still classes after the first row.
    if let Some(path) = path.filter(|path| {
        loader.trackers.len() <= 1
            && loader.weights_index.is_none()
            && loader.kept.is_none()
            && !selection.is_empty()
            && std::fs::metadata(path).is_ok_and(|meta| meta.is_file())
    }) {
        loader.take(&selection)?;
        let kept_rows = loader.kept_rows;
        let tracker = loader.trackers.first_mut();
        let mut classes = match tracker {
            None => None,
            Some(tracker) if tracker.holds_only_classes(kept_rows) => {
                Some(tracker.classes_for_fast_path())
            }
            // Its bookkeeping has started (an empty cell, a bad number): row by row.
            Some(_) => None,
        };
        let shape = super::plain_csv::Shape {
            delimiter: options.delimiter,
            width: expected,
            selection: &selection,
            budget: crate::em::limits::memory_budget(),
            truth: classes
                .as_ref()
                .and(loader.trackers.first().map(|tracker| tracker.index)),
        };
        let offset = loader.rows.parser.position().byte();
        let fast = if loader.trackers.is_empty() || classes.is_some() {
            super::plain_csv::read_rest(path, offset, &shape, &mut loader.values, classes.as_mut())
        } else {
            None
        };
        let tracker = loader.trackers.first_mut();
        match fast {
            Some(rows) => {
                loader.kept_rows += rows;
                if let (Some(tracker), Some(classes)) = (tracker, classes) {
                    tracker.take_fast_path_classes(classes);
                }
                more = false;
            }
            None => {
                if let (Some(tracker), Some(classes)) = (tracker, classes) {
                    tracker.restore_labels(classes, kept_rows);
                }
                more = loader.rows.advance()?;
            }
        }
    }
    while more {
        loader.take(&selection)?;
        more = loader.rows.advance()?;
    }
    loader.finish(header, &selection)
}

/// The parser and the one record buffer that every row is read into.
struct Records<'a, R> {
    parser: csv::Reader<Input<R>>,
    record: ByteRecord,
    name: &'a str,
}

impl<R: Read> Records<'_, R> {
    /// Reads the next record that is not blank; false at the end of the input.
    fn advance(&mut self) -> Result<bool, LoadError> {
        loop {
            match self.parser.read_byte_record(&mut self.record) {
                Ok(false) => return Ok(false),
                Ok(true) if is_blank(&self.record) => {}
                Ok(true) => return Ok(true),
                Err(cause) => {
                    if let csv::ErrorKind::Io(error) = cause.kind()
                        && error
                            .get_ref()
                            .is_some_and(|inner| inner.is::<LineTooLong>())
                    {
                        // The parser has counted every line break it was given: the long line
                        // is the one it is on.
                        return Err(LoadError::LineTooLong {
                            name: self.name.into(),
                            line: self.parser.position().line(),
                        });
                    }
                    let position = self.parser.position();
                    // After a CR the parser has not yet counted the line it is on.
                    let after_cr = self.byte_before(position.byte()) == Some(b'\r');
                    return Err(LoadError::Read {
                        name: self.name.into(),
                        line: position.line() + u64::from(after_cr),
                        cause,
                    });
                }
            }
        }
    }

    /// The 1-based line on which the current record starts.
    ///
    /// `ByteRecord::position()` is not enough: it is where the parser stood when it began the
    /// record, before it skipped empty lines and the LF of a CRLF, so it lags behind in CRLF files
    /// and after blank lines. Counting back from where the record ended is exact: the parser's
    /// line count then includes the record's own embedded newlines and its LF terminator, if the
    /// record ended with one rather than with a CR or the end of the input.
    fn line(&self) -> u64 {
        let end = self.parser.position();
        // The LF before the end is the record's own terminator, unless an unclosed quote
        // swallowed it.
        let ended_by_lf = self.byte_before(end.byte()) == Some(b'\n') && !self.unclosed_quote();
        let embedded = self
            .record
            .as_slice()
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        end.line()
            .saturating_sub(u64::try_from(embedded).unwrap_or(u64::MAX))
            .saturating_sub(u64::from(ended_by_lf))
            .max(1)
    }

    /// Whether the current record ran to the end of the input inside a quote that was never
    /// closed: its last field then ends with the input's final LF, and the byte before that LF
    /// is not a closing quote. (Only a quoted field can hold an LF, and a closed one that ends
    /// with an LF is followed by its closing quote and then the terminator.)
    fn unclosed_quote(&self) -> bool {
        let end = self.parser.position().byte();
        self.byte_before(end) == Some(b'\n')
            && self
                .record
                .iter()
                .next_back()
                .is_some_and(|field| field.ends_with(b"\n"))
            && end.checked_sub(1).and_then(|at| self.byte_before(at)) != Some(b'"')
    }

    fn byte_before(&self, offset: u64) -> Option<u8> {
        self.parser.get_ref().byte_at(offset.checked_sub(1)?)
    }
}

/// The state of one load past the header: what has been kept and dropped so far.
/// A bad cell at `line`, column `index` (0-based), named by the header when there is one.
fn cell_problem(
    line: u64,
    by_header: bool,
    names: &[String],
    index: usize,
    problem: CellProblem,
) -> RowProblem {
    RowProblem::Cell {
        line,
        column: index + 1,
        column_name: by_header.then(|| names.get(index).cloned()).flatten(),
        problem,
    }
}

struct Loader<'a, R> {
    rows: Records<'a, R>,
    options: &'a CsvOptions,
    expected: usize,
    reference_line: u64,
    by_header: bool,
    names: Vec<String>,
    values: Vec<f64>,
    /// The input's size in bytes, when known (a file), for [`Loader::make_room`].
    size: Option<u64>,
    kept: Option<Vec<StringRecord>>,
    /// Rows kept so far (the matrix may have no columns yet while a candidate truth is pending).
    kept_rows: usize,
    /// The truth column, or the columns that may turn out to be one.
    trackers: Vec<Tracker>,
    /// The 0-based `--weights` column, if any, and the weights of the rows kept so far.
    weights_index: Option<usize>,
    weights: Vec<f64>,
    dropped: usize,
    first_dropped: Option<RowProblem>,
    /// Bytes of the original records kept under `keep_rows`, counted against the budget.
    kept_bytes: usize,
}

impl<R: Read> Loader<'_, R> {
    /// Refuses to hold more than the memory budget: the values twice over (a growing vector
    /// briefly holds its old and new buffers) and the kept records.
    fn check_budget(&self) -> Result<(), LoadError> {
        let bytes = self
            .values
            .len()
            .saturating_mul(16)
            .saturating_add(self.kept_bytes);
        if u64::try_from(bytes).unwrap_or(u64::MAX) > crate::em::limits::memory_budget() {
            return Err(LoadError::TooLarge {
                name: self.rows.name.into(),
                line: self.rows.line(),
            });
        }
        Ok(())
    }

    /// Grows the matrix for the rows still to come, estimated from the bytes left in the input
    /// at the bytes per row read so far (plus 1/64 and 64 rows to spare), so that a file is
    /// read into one allocation of about its final size, or a few when its rows lengthen:
    /// never the doubling a growing vector does, which at 10⁷ rows held up to twice the data.
    /// Without a known size (standard input) the vector grows as usual.
    fn make_room(&mut self, width: usize) {
        let consumed = self.rows.parser.position().byte();
        let rows_read = (self.values.len() / width.max(1)).max(1) as u64;
        let Some(left) = self.size.map(|size| size.saturating_sub(consumed)) else {
            self.values.reserve(width);
            return;
        };
        let bytes_per_row = (consumed / rows_read).max(1);
        let rows_left = left / bytes_per_row;
        let extra = usize::try_from(rows_left + rows_left / 64 + 64).unwrap_or(usize::MAX / 2);
        self.values.reserve_exact(extra.saturating_mul(width));
    }

    /// Parses the selected cells of the current row into the matrix, or rejects the row.
    fn take(&mut self, selection: &[usize]) -> Result<(), LoadError> {
        if self.rows.unclosed_quote() {
            let problem = RowProblem::UnclosedQuote {
                line: self.rows.line(),
            };
            return self.reject(problem);
        }
        let record = &self.rows.record;
        if record.len() != self.expected {
            let problem = self.ragged();
            return self.reject(problem);
        }
        if self.values.capacity() - self.values.len() < selection.len() {
            self.make_room(selection.len());
        }
        let record = &self.rows.record;
        let row_start = self.values.len();
        for &index in selection {
            let cell = record.get(index).unwrap_or_default();
            match parse_cell(cell) {
                Ok(value) => self.values.push(value),
                Err(problem) => return self.reject_cell(row_start, index, problem),
            }
        }
        // A row's weight is checked like a data cell: a bad one makes the row invalid.
        if let Some(index) = self.weights_index {
            let cell = record.get(index).unwrap_or_default();
            let weight = parse_cell(cell).and_then(|value| {
                // −0 is 0: only a number below 0 is negative.
                if value < 0.0 {
                    Err(CellProblem::NegativeWeight(
                        String::from_utf8_lossy(cell.trim_ascii()).into_owned(),
                    ))
                } else {
                    Ok(value)
                }
            });
            match weight {
                Ok(weight) => self.weights.push(weight),
                Err(problem) => return self.reject_cell(row_start, index, problem),
            }
        }
        // A row without its class under --truth cannot be scored; it is invalid like a bad cell.
        if let Some(tracker) = self.trackers.iter().find(|tracker| tracker.explicit)
            && record
                .get(tracker.index)
                .unwrap_or_default()
                .trim_ascii()
                .is_empty()
        {
            self.values.truncate(row_start);
            self.weights.truncate(self.kept_rows);
            let problem = cell_problem(
                self.rows.line(),
                self.by_header,
                &self.names,
                tracker.index,
                CellProblem::EmptyLabel,
            );
            return self.reject(problem);
        }
        let row = self.kept_rows;
        for tracker in &mut self.trackers {
            let index = tracker.index;
            tracker.record(record.get(index).unwrap_or_default(), row, |problem| {
                cell_problem(
                    self.rows.line(),
                    self.by_header,
                    &self.names,
                    index,
                    problem,
                )
            });
        }
        self.kept_rows += 1;
        if let Some(kept) = &mut self.kept {
            // The bytes, their field bounds and the record's own header.
            self.kept_bytes = self.kept_bytes.saturating_add(
                record.as_slice().len() + record.len() * std::mem::size_of::<usize>() + 64,
            );
            kept.push(StringRecord::from_byte_record_lossy(record.clone()));
        }
        self.check_budget()
    }

    fn ragged(&self) -> RowProblem {
        RowProblem::Ragged {
            line: self.rows.line(),
            fields: self.rows.record.len(),
            expected: self.expected,
            by_header: self.by_header,
            reference_line: self.reference_line,
        }
    }

    /// Counts a bad row under `drop_invalid`, or fails with it.
    /// Rejects the current row for its cell in column `index` (a data or weight cell), first
    /// removing the row's values already pushed: a dropped row must leave no half-row behind.
    fn reject_cell(
        &mut self,
        row_start: usize,
        index: usize,
        problem: CellProblem,
    ) -> Result<(), LoadError> {
        self.values.truncate(row_start);
        let problem = cell_problem(
            self.rows.line(),
            self.by_header,
            &self.names,
            index,
            problem,
        );
        self.reject(problem)
    }

    fn reject(&mut self, problem: RowProblem) -> Result<(), LoadError> {
        if !self.options.drop_invalid {
            return Err(LoadError::Row {
                name: self.rows.name.into(),
                problem,
            });
        }
        self.dropped += 1;
        self.first_dropped.get_or_insert(problem);
        Ok(())
    }

    /// The error for a load in which rows were read but none kept.
    fn nothing_kept(&mut self) -> LoadError {
        let name = self.rows.name.into();
        match self.first_dropped.take() {
            Some(first) => LoadError::AllRowsInvalid {
                name,
                dropped: self.dropped,
                first,
            },
            // Rows are only ever lost by being dropped, so this means there were none.
            None => LoadError::NoDataRows { name },
        }
    }

    fn finish(
        mut self,
        header: Option<StringRecord>,
        selection: &[usize],
    ) -> Result<Table, LoadError> {
        if self.kept_rows == 0 {
            return Err(self.nothing_kept());
        }
        let name = self.rows.name;
        let mut warnings = Vec::new();
        let mut truth: Option<Tracker> = None;
        let mut demoted: Vec<Tracker> = Vec::new();
        for mut tracker in std::mem::take(&mut self.trackers) {
            let column = format!(
                "column {} ({})",
                tracker.index + 1,
                quote(self.names.get(tracker.index).map_or("", String::as_str))
            );
            match tracker.rejection(self.kept_rows) {
                None if truth.is_none() => truth = Some(tracker),
                None => warnings.push(format!(
                    "{column} also looks like true classes, so it is not fitted either; name it in --columns to fit it"
                )),
                Some(reason) if tracker.fallback => {
                    warnings.push(format!(
                        "{column} is named like true classes but {reason}, so it is fitted as data; --truth {} takes it as the classes",
                        tracker.index + 1
                    ));
                    if !(tracker.overflow || tracker.empty) {
                        tracker.values = tracker.values_from_labels();
                    }
                    demoted.push(tracker);
                }
                // Text that is not labels stays skipped, as without detection.
                Some(_) => {}
            }
        }

        // A candidate that turned out to be data may hold cells that are not numbers: the rows
        // are invalid after all, reported or dropped as they would have been.
        let mut bad: Vec<(usize, RowProblem)> = demoted
            .iter_mut()
            .flat_map(|tracker| std::mem::take(&mut tracker.bad))
            .collect();
        bad.sort_by_key(|(row, problem)| (*row, problem.line()));
        if let Some((_, first)) = bad.first()
            && !self.options.drop_invalid
        {
            return Err(LoadError::Row {
                name: name.into(),
                problem: first.clone(),
            });
        }
        let mut bad_rows: Vec<usize> = Vec::with_capacity(bad.len());
        for (row, problem) in bad {
            if bad_rows.last() == Some(&row) {
                continue;
            }
            bad_rows.push(row);
            self.dropped += 1;
            if self
                .first_dropped
                .as_ref()
                .is_none_or(|first| problem.line() < first.line())
            {
                self.first_dropped = Some(problem);
            }
        }
        if bad_rows.len() == self.kept_rows {
            self.kept_rows = 0;
            return Err(self.nothing_kept());
        }

        let (selection, values) = merge_columns(
            selection,
            std::mem::take(&mut self.values),
            &demoted,
            self.kept_rows,
            &bad_rows,
        );
        if selection.is_empty() {
            let index = truth.as_ref().map_or(0, |tracker| tracker.index);
            return Err(LoadError::OnlyTruth {
                name: name.into(),
                index: index + 1,
                column: self.names.get(index).cloned().unwrap_or_default(),
            });
        }
        let rows = self
            .kept
            .map(|rows| remove_rows(rows.into_iter(), &bad_rows).collect());
        let mut data = Dataset::new(selection.len(), values).map_err(|source| LoadError::Data {
            name: name.into(),
            source,
        })?;
        let weights_column = match self.weights_index {
            Some(index) => {
                let column_name = self
                    .by_header
                    .then(|| self.names.get(index).cloned())
                    .flatten();
                let weights: Vec<f64> =
                    remove_rows(std::mem::take(&mut self.weights).into_iter(), &bad_rows).collect();
                // Each cell was checked as it was read; what is left to fail is the sum.
                let weights = Weights::new(weights).map_err(|error| match error {
                    WeightError::AllZero => LoadError::AllWeightsZero {
                        name: name.into(),
                        index: index + 1,
                        column_name: column_name.clone(),
                    },
                    other => LoadError::Data {
                        name: name.into(),
                        source: EmError::Config(format!(
                            "--weights column {}{}: {other}",
                            index + 1,
                            column_label(column_name.as_deref())
                        )),
                    },
                })?;
                data = data
                    .with_weights(weights)
                    .map_err(|source| LoadError::Data {
                        name: name.into(),
                        source,
                    })?;
                Some(self.names.get(index).cloned().unwrap_or_default())
            }
            None => None,
        };
        let columns = selection
            .iter()
            .map(|&index| self.names.get(index).cloned().unwrap_or_default())
            .collect();
        let truth = truth.map(|tracker| {
            let mut labels = tracker.labels;
            if !bad_rows.is_empty() {
                labels = remove_rows(labels.into_iter(), &bad_rows).collect();
            }
            let classes = renumber(&tracker.classes, &mut labels);
            let classes: Vec<String> = classes.iter().map(|class| printable(class)).collect();
            TruthColumn {
                name: self.names.get(tracker.index).cloned().unwrap_or_default(),
                index: tracker.index + 1,
                classes,
                labels,
            }
        });
        let first_dropped = self.first_dropped.map(|problem| {
            LoadError::Row {
                name: name.into(),
                problem,
            }
            .to_string()
        });
        if self.dropped > 0 {
            let reason = first_dropped
                .as_ref()
                .map(|first| format!(" (first: {first})"))
                .unwrap_or_default();
            warnings.insert(0, format!("{} invalid rows dropped{reason}", self.dropped));
        }
        Ok(Table {
            name: name.into(),
            data,
            columns,
            header,
            rows,
            dropped_rows: self.dropped,
            first_dropped,
            truth,
            weights_column,
            warnings,
        })
    }
}

/// What is known so far about a column that is, or may be, the truth.
struct Tracker {
    /// 0-based column in the file.
    index: usize,
    /// Given by `--truth`: taken whatever its values.
    explicit: bool,
    /// Would be data without detection, and is again if its values are not labels.
    fallback: bool,
    /// Class index by cell text.
    ids: HashMap<Vec<u8>, usize>,
    /// Cell texts in order of first appearance.
    classes: Vec<String>,
    /// Class index of every kept row (dropped once the column cannot be labels).
    labels: Vec<usize>,
    /// More than [`MAX_TRUTH_CLASSES`] distinct values (detection only).
    overflow: bool,
    /// An empty cell (detection only: under `--truth` the row is invalid).
    empty: bool,
    /// Every cell so far a finite number.
    numbers: bool,
    /// Every number so far whole.
    whole: bool,
    /// The values as data, for `fallback` (0 in place of a bad cell), once the labels are given
    /// up: while the column may be labels they are its classes' values, and holding both would
    /// add 8 bytes a row to the peak of every load of a file with a `component` column.
    values: Vec<f64>,
    /// For `fallback`: the kept rows (0-based) whose cell is not a number, and why.
    bad: Vec<(usize, RowProblem)>,
}

impl Tracker {
    fn new(index: usize, explicit: bool, fallback: bool) -> Self {
        Self {
            index,
            explicit,
            fallback,
            ids: HashMap::new(),
            classes: Vec::new(),
            labels: Vec::new(),
            overflow: false,
            empty: false,
            numbers: true,
            whole: true,
            values: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// Takes the cell of kept row `row`; `problem` places a cell that is not a number.
    fn record(&mut self, cell: &[u8], row: usize, problem: impl FnOnce(CellProblem) -> RowProblem) {
        let parsed = parse_cell(cell);
        self.count_kind(&parsed);
        let value = match parsed {
            Ok(value) => value,
            Err(cell_problem) => {
                if self.fallback {
                    self.bad.push((row, problem(cell_problem)));
                }
                0.0
            }
        };
        if self.overflow || self.empty {
            if self.fallback {
                self.values.push(value);
            }
            return;
        }
        let trimmed = cell.trim_ascii();
        if trimmed.is_empty() {
            self.empty = true;
            self.give_up_labels(value);
            return;
        }
        let label = match self.ids.get(trimmed) {
            Some(&label) => label,
            None => {
                if !self.explicit && self.classes.len() >= MAX_TRUTH_CLASSES {
                    self.overflow = true;
                    self.give_up_labels(value);
                    self.ids = HashMap::new();
                    return;
                }
                let label = self.classes.len();
                self.ids.insert(trimmed.to_vec(), label);
                self.classes
                    .push(String::from_utf8_lossy(trimmed).into_owned());
                label
            }
        };
        self.labels.push(label);
    }

    /// Counts a cell, parsed, towards `numbers` and `whole`.
    fn count_kind(&mut self, parsed: &Result<f64, CellProblem>) {
        match parsed {
            Ok(value) => self.whole &= value.fract() == 0.0,
            Err(_) => self.numbers = false,
        }
    }

    /// Whether the column is, after `rows` kept rows, nothing but classes: what the fast path
    /// can carry on with.
    fn holds_only_classes(&self, rows: usize) -> bool {
        !self.overflow
            && !self.empty
            && self.bad.is_empty()
            && self.values.is_empty()
            && self.labels.len() == rows
    }

    /// The classes so far, for the fast path, with the limits [`Tracker::record`] keeps to.
    /// The labels so far move into it (so that the rows' labels are held once); they come
    /// back through [`Tracker::take_fast_path_classes`] or [`Tracker::restore_labels`].
    fn classes_for_fast_path(&mut self) -> super::plain_csv::Classes {
        let mut texts = vec![Vec::new(); self.classes.len()];
        for (text, &id) in &self.ids {
            if let Some(slot) = texts.get_mut(id) {
                slot.clone_from(text);
            }
        }
        super::plain_csv::Classes::new(
            texts,
            std::mem::take(&mut self.labels),
            (!self.explicit).then_some(MAX_TRUTH_CLASSES),
            self.fallback,
        )
    }

    /// Takes back the labels of the first `rows` rows after the fast path gave up.
    fn restore_labels(&mut self, classes: super::plain_csv::Classes, rows: usize) {
        self.labels = classes.labels;
        self.labels.truncate(rows);
    }

    /// Takes the rows the fast path read: their classes, and the classes it found, which
    /// count towards `numbers` and `whole` as their cells would have one by one.
    fn take_fast_path_classes(&mut self, classes: super::plain_csv::Classes) {
        for text in classes.texts_from(self.classes.len()) {
            self.count_kind(&parse_cell(text));
            self.ids.insert(text.clone(), self.classes.len());
            self.classes
                .push(String::from_utf8_lossy(text).into_owned());
        }
        self.labels = classes.labels;
    }

    /// Drops the labels of a column that cannot be labels; a fallback column gets its values back
    /// from them, then `value`, the current row's.
    fn give_up_labels(&mut self, value: f64) {
        if self.fallback {
            self.values = self.values_from_labels();
            self.values.push(value);
        }
        self.labels = Vec::new();
    }

    /// The values of the rows so far, from their labels: each class's text parsed as its cells
    /// were (the same trimmed text, so the same bits; 0 for one that is not a number).
    fn values_from_labels(&self) -> Vec<f64> {
        let by_class: Vec<f64> = self
            .classes
            .iter()
            .map(|class| parse_cell(class.as_bytes()).unwrap_or(0.0))
            .collect();
        self.labels
            .iter()
            .map(|&label| by_class.get(label).copied().unwrap_or(0.0))
            .collect()
    }

    /// Why a column detected by name is not the truth after all, or None if it is.
    fn rejection(&self, rows: usize) -> Option<String> {
        if self.explicit {
            return None;
        }
        let limit = max_truth_classes(rows);
        if self.empty {
            Some("has empty cells".into())
        } else if self.numbers && !self.whole {
            Some("holds numbers that are not whole".into())
        } else if self.overflow {
            Some(format!("has more than {MAX_TRUTH_CLASSES} distinct values"))
        } else if self.classes.len() > limit {
            Some(format!(
                "has {} distinct values in {rows} rows (labels have at most {limit})",
                self.classes.len()
            ))
        } else {
            None
        }
    }
}

/// A truth column name ([`TRUTH_NAMES`]), ignoring case and surrounding whitespace.
fn is_truth_name(column: &str) -> bool {
    let column = column.trim();
    TRUTH_NAMES
        .iter()
        .any(|truth| truth.eq_ignore_ascii_case(column))
}

/// Resolves `--truth` like a `--columns` entry, naming `--truth` in the error.
fn find_truth(requested: &str, names: &[String], name: &str) -> Result<usize, LoadError> {
    find_column(requested.trim(), names, name).map_err(|error| {
        let message = error.to_string();
        let reason = message
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&message)
            .to_owned();
        LoadError::UnknownTruth {
            name: name.into(),
            requested: requested.into(),
            reason,
        }
    })
}

/// Resolves `--weights` like a `--columns` entry, naming `--weights` in the error.
fn find_weights(requested: &str, names: &[String], name: &str) -> Result<usize, LoadError> {
    find_column(requested.trim(), names, name).map_err(|error| {
        let message = error.to_string();
        let reason = message
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&message)
            .to_owned();
        LoadError::UnknownWeights {
            name: name.into(),
            requested: requested.into(),
            reason,
        }
    })
}

/// The matrix with the demoted candidates' columns put back in file order, and the rows in
/// `bad_rows` (sorted) removed.
fn merge_columns(
    selection: &[usize],
    values: Vec<f64>,
    demoted: &[Tracker],
    rows: usize,
    bad_rows: &[usize],
) -> (Vec<usize>, Vec<f64>) {
    if demoted.is_empty() && bad_rows.is_empty() {
        return (selection.to_vec(), values);
    }
    let old_width = selection.len();
    let mut merged_selection: Vec<usize> = selection.to_vec();
    merged_selection.extend(demoted.iter().map(|tracker| tracker.index));
    merged_selection.sort_unstable();
    // Where each merged column's values come from: the matrix read, or a candidate.
    let sources: Vec<Result<usize, &Tracker>> = merged_selection
        .iter()
        .map(
            |index| match selection.iter().position(|column| column == index) {
                Some(position) => Ok(position),
                None => Err(demoted
                    .iter()
                    .find(|tracker| tracker.index == *index)
                    .unwrap_or(&demoted[0])),
            },
        )
        .collect();
    let mut merged = Vec::with_capacity((rows - bad_rows.len()) * merged_selection.len());
    let mut bad = bad_rows.iter().peekable();
    for row in 0..rows {
        if bad.next_if_eq(&&row).is_some() {
            continue;
        }
        for source in &sources {
            let value = match source {
                Ok(position) => values.get(row * old_width + position),
                Err(tracker) => tracker.values.get(row),
            };
            merged.push(value.copied().unwrap_or_default());
        }
    }
    (merged_selection, merged)
}

/// The items not at the (sorted) positions `bad_rows`.
fn remove_rows<'a, T: 'a>(
    items: impl Iterator<Item = T> + 'a,
    bad_rows: &'a [usize],
) -> impl Iterator<Item = T> + 'a {
    let mut bad = bad_rows.iter().peekable();
    items
        .enumerate()
        .filter(move |(row, _)| bad.next_if_eq(&row).is_none())
        .map(|(_, item)| item)
}

/// Class indices renumbered in place by first appearance in `labels`; returns the classes some
/// row has left, in that order. In place, so that no second n-long vector is held.
fn renumber(classes: &[String], labels: &mut [usize]) -> Vec<String> {
    let mut new_index: Vec<Option<usize>> = vec![None; classes.len()];
    let mut kept_classes = Vec::new();
    for label in labels.iter_mut() {
        let old = *label;
        *label = new_index.get_mut(old).map_or(0, |slot| {
            *slot.get_or_insert_with(|| {
                kept_classes.push(classes.get(old).cloned().unwrap_or_default());
                kept_classes.len() - 1
            })
        });
    }
    kept_classes
}

/// A line holding nothing but whitespace. The csv crate skips truly empty lines but hands these
/// over as one blank field; they are as empty to a reader, so they are skipped too (a whitespace
/// line is also what trailing editor junk at the end of a file looks like).
fn is_blank(record: &ByteRecord) -> bool {
    record.len() == 1 && record.iter().all(|field| field.trim_ascii().is_empty())
}

/// A record is a header when some cell is text. Empty cells do not count either way: a missing
/// value in the first data row should be reported as such, not turn the row into column names.
fn is_header(record: &ByteRecord) -> bool {
    record.iter().any(|field| {
        let trimmed = field.trim_ascii();
        !trimmed.is_empty() && !parses_as_number(trimmed)
    })
}

/// Whether the text is a number at all; NaN and infinities count, so that they are reported as
/// non-finite rather than mistaken for a header or a text column.
fn parses_as_number(trimmed: &[u8]) -> bool {
    std::str::from_utf8(trimmed).is_ok_and(|text| text.parse::<f64>().is_ok())
}

/// One cell as a finite number, or what is wrong with it (shared with [`super::plain_csv`]).
pub(crate) fn parse_cell(cell: &[u8]) -> Result<f64, CellProblem> {
    let trimmed = cell.trim_ascii();
    if trimmed.is_empty() {
        return Err(CellProblem::Empty);
    }
    // fast-float2 reads the bytes without a UTF-8 pass and accepts the grammar std does (a
    // proptest below holds it to std's bits); whatever it refuses goes through std, whose
    // verdict decides the error.
    if let Ok(value) = fast_float2::parse::<f64, _>(trimmed)
        && value.is_finite()
    {
        return Ok(value);
    }
    let Ok(text) = std::str::from_utf8(trimmed) else {
        return Err(CellProblem::NotUtf8(
            String::from_utf8_lossy(trimmed).into_owned(),
        ));
    };
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(CellProblem::NotFinite(text.into())),
        Err(_) => Err(CellProblem::NotANumber(text.into())),
    }
}

/// The name of every column of the file: header names, or `x<index>` where there are none.
fn column_names(header: Option<&StringRecord>, count: usize) -> Vec<String> {
    (0..count)
        .map(|index| {
            header
                .and_then(|header| header.get(index))
                .map(str::trim)
                .filter(|name| !name.is_empty())
                // Names are shown everywhere (summaries, messages, the explorer's axes):
                // control characters become visible escapes here, where they enter.
                .map_or_else(|| format!("x{}", index + 1), printable)
        })
        .collect()
}

/// The default selection: every column whose cell in the first data row is a number.
///
/// An empty cell counts as numeric so that a value missing from the first row is reported rather
/// than silently losing a whole column of data. The exception is an unnamed last column: a
/// trailing delimiter on every line (`1,2,`) is a common export artifact, not a column of data.
fn numeric_columns(
    record: &ByteRecord,
    line: u64,
    header: Option<&StringRecord>,
    names: &[String],
    name: &str,
) -> Result<Vec<usize>, LoadError> {
    let last = record.len().saturating_sub(1);
    let unnamed = |index: usize| {
        header
            .and_then(|header| header.get(index))
            .is_none_or(|column| column.trim().is_empty())
    };
    let selection: Vec<usize> = record
        .iter()
        .enumerate()
        .filter(|&(index, field)| {
            let trimmed = field.trim_ascii();
            if trimmed.is_empty() {
                !(index == last && index > 0 && unnamed(index))
            } else {
                parses_as_number(trimmed)
            }
        })
        .map(|(index, _)| index)
        .collect();
    if selection.is_empty() {
        return Err(LoadError::NoNumericColumns {
            name: name.into(),
            line,
            columns: list_columns(names),
        });
    }
    Ok(selection)
}

/// Resolves `--columns` entries to 0-based file column indices.
fn select_columns(
    requested: &[String],
    names: &[String],
    has_header: bool,
    name: &str,
) -> Result<Vec<usize>, LoadError> {
    if requested.is_empty() {
        return Err(LoadError::NoColumnsSelected {
            name: name.into(),
            columns: list_columns(names),
        });
    }
    let mut selection: Vec<usize> = Vec::with_capacity(requested.len());
    for entry in requested {
        let index = find_column(entry.trim(), names, name)?;
        if selection.contains(&index) {
            return Err(LoadError::DuplicateColumn {
                name: name.into(),
                index: index + 1,
                column_name: has_header.then(|| names.get(index).cloned()).flatten(),
            });
        }
        selection.push(index);
    }
    Ok(selection)
}

fn find_column(entry: &str, names: &[String], name: &str) -> Result<usize, LoadError> {
    let unique = |matches: Vec<usize>| -> Result<Option<usize>, LoadError> {
        match matches.as_slice() {
            [] => Ok(None),
            [index] => Ok(Some(*index)),
            [first, second, ..] => Err(LoadError::AmbiguousColumn {
                name: name.into(),
                requested: entry.into(),
                first: first + 1,
                second: second + 1,
            }),
        }
    };
    let positions = |matches: &dyn Fn(&str) -> bool| -> Vec<usize> {
        names
            .iter()
            .enumerate()
            .filter(|(_, column)| matches(column))
            .map(|(index, _)| index)
            .collect()
    };
    if let Some(index) = unique(positions(&|column| column == entry))? {
        return Ok(index);
    }
    let lower = entry.to_lowercase();
    if let Some(index) = unique(positions(&|column| column.to_lowercase() == lower))? {
        return Ok(index);
    }
    match entry.parse::<usize>() {
        Ok(index) if (1..=names.len()).contains(&index) => Ok(index - 1),
        Ok(index) => Err(LoadError::ColumnOutOfRange {
            name: name.into(),
            index,
            count: names.len(),
            columns: list_columns(names),
        }),
        Err(_) => Err(LoadError::UnknownColumn {
            name: name.into(),
            requested: entry.into(),
            columns: list_columns(names),
        }),
    }
}

/// `1 "a", 2 "b", …` for messages, cut short on very wide files.
fn list_columns(names: &[String]) -> String {
    let mut listed: Vec<String> = names
        .iter()
        .take(MAX_LISTED_COLUMNS)
        .enumerate()
        .map(|(index, column)| format!("{} {}", index + 1, quote(column)))
        .collect();
    if names.len() > MAX_LISTED_COLUMNS {
        listed.push(format!("… ({} more)", names.len() - MAX_LISTED_COLUMNS));
    }
    listed.join(", ")
}

/// Quotes text for a one-line message: escapes keep a newline inside a quoted CSV field from
/// breaking the line, and very long cells are cut.
fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}…", text.get(..cut).unwrap_or(text)),
        None => format!("{text:?}"),
    }
}

fn column_label(name: Option<&str>) -> String {
    name.map(|name| format!(" ({})", quote(name)))
        .unwrap_or_default()
}

fn reference(by_header: &bool, line: &u64) -> String {
    if *by_header {
        format!("in the header (line {line})")
    } else {
        format!("in the first row (line {line})")
    }
}

/// The source as the parser sees it: minus a leading UTF-8 byte order mark, and remembering the
/// latest bytes read so that [`Records::line`] can look at how a record ended.
///
/// csv-core drops a byte order mark only when its first read holds all three bytes; a pipe may
/// deliver fewer, and the mark would then be glued onto the first column's name. Stripping it
/// here, before parsing, also keeps a quoted first field quoted.
struct Input<R> {
    inner: R,
    /// The first bytes of the input, held back to see whether they are a mark.
    prefix: [u8; 3],
    prefix_len: usize,
    prefix_pos: usize,
    started: bool,
    /// A copy of the latest non-empty read. The parser's buffer refills only when it is used up,
    /// so the last byte of the record just parsed is always in here.
    recent: Vec<u8>,
    /// Offset of `recent[0]` in the stream handed to the parser (which has no mark).
    recent_start: u64,
    /// Bytes handed to the parser so far.
    delivered: u64,
    /// Bytes since the last line break handed to the parser: a line longer than
    /// [`MAX_LINE_BYTES`] ends the read with [`LineTooLong`].
    line_length: u64,
}

/// The error [`Input`] ends a read with when a line is longer than [`MAX_LINE_BYTES`] (the
/// parser knows which line that is).
#[derive(Debug)]
struct LineTooLong;

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a line is longer than {MAX_LINE_BYTES} bytes")
    }
}

impl std::error::Error for LineTooLong {}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            prefix: [0; 3],
            prefix_len: 0,
            prefix_pos: 0,
            started: false,
            recent: Vec::new(),
            recent_start: 0,
            delivered: 0,
            line_length: 0,
        }
    }

    /// The byte at `offset` in the stream handed to the parser, if it was in the latest read.
    fn byte_at(&self, offset: u64) -> Option<u8> {
        let index = usize::try_from(offset.checked_sub(self.recent_start)?).ok()?;
        self.recent.get(index).copied()
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            // A pipe may deliver the mark in pieces, so gather all three bytes before judging.
            while self.prefix_len < self.prefix.len() {
                let Some(rest) = self.prefix.get_mut(self.prefix_len..) else {
                    break;
                };
                match self.inner.read(rest) {
                    Ok(0) => break,
                    Ok(n) => self.prefix_len += n,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            self.started = true;
            if self.prefix.get(..self.prefix_len) == Some(BOM) {
                self.prefix_len = 0;
            }
        }
        let held = self
            .prefix
            .get(self.prefix_pos..self.prefix_len)
            .unwrap_or_default();
        if !held.is_empty() {
            let n = held.len().min(buf.len());
            if let (Some(to), Some(from)) = (buf.get_mut(..n), held.get(..n)) {
                to.copy_from_slice(from);
            }
            self.prefix_pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_inner(buf)?;
        if let Some(bytes) = buf.get(..n).filter(|bytes| !bytes.is_empty()) {
            self.recent.clear();
            self.recent.extend_from_slice(bytes);
            self.recent_start = self.delivered;
            self.delivered += u64::try_from(n).unwrap_or(u64::MAX);
            let length = |bytes: &[u8]| u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            // Only the ends are scanned (to the first and from the last line break), so this
            // costs next to nothing on ordinary lines.
            if let Some(first) = bytes.iter().position(|&byte| byte == b'\n')
                && self.line_length + length(bytes.get(..first).unwrap_or_default())
                    > MAX_LINE_BYTES
            {
                return Err(io::Error::other(LineTooLong));
            }
            self.line_length = match bytes.iter().rposition(|&byte| byte == b'\n') {
                Some(last) => length(bytes.get(last + 1..).unwrap_or_default()),
                None => self.line_length + length(bytes),
            };
            if self.line_length > MAX_LINE_BYTES {
                return Err(io::Error::other(LineTooLong));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn load_bytes(input: &[u8], options: &CsvOptions) -> Result<Table, LoadError> {
        read(input, "data.csv", options)
    }

    fn ok(input: &str) -> Table {
        load_bytes(input.as_bytes(), &CsvOptions::default()).unwrap()
    }

    fn err(input: &str) -> String {
        err_with(input, &CsvOptions::default())
    }

    fn err_with(input: &str, options: &CsvOptions) -> String {
        let message = load_bytes(input.as_bytes(), options)
            .unwrap_err()
            .to_string();
        assert!(!message.contains('\n'), "not one line: {message}");
        message
    }

    fn columns(list: &[&str]) -> CsvOptions {
        CsvOptions {
            columns: Some(list.iter().map(|s| s.to_string()).collect()),
            ..CsvOptions::default()
        }
    }

    fn dropping() -> CsvOptions {
        CsvOptions {
            drop_invalid: true,
            ..CsvOptions::default()
        }
    }

    fn values(table: &Table) -> Vec<f64> {
        table.data.values().to_vec()
    }

    fn weighted(column: &str) -> CsvOptions {
        CsvOptions {
            weights: Some(column.into()),
            ..CsvOptions::default()
        }
    }

    #[test]
    fn weights_column_is_read_aside() {
        // By name: left out of the default columns, one weight per kept row.
        let table = load_bytes(b"x,w,y\n1,2,3\n4,0,6\n", &weighted("w")).unwrap();
        assert_eq!(table.columns, ["x", "y"]);
        assert_eq!(values(&table), [1.0, 3.0, 4.0, 6.0]);
        assert_eq!(table.data.weights(), Some(&[2.0, 0.0][..]));
        assert_eq!(table.weights_column.as_deref(), Some("w"));
        // By index, without a header.
        let table = load_bytes(b"1,0.5\n2,1.5\n", &weighted("2")).unwrap();
        assert_eq!(values(&table), [1.0, 2.0]);
        assert_eq!(table.data.total_weight(), 2.0);
        // Without --weights every row counts once.
        assert_eq!(ok("x,w\n1,2\n").data.weights(), None);
    }

    #[test]
    fn bad_weights_are_located_or_dropped() {
        let message = err_with("x,w\n1,1\n2,-0.5\n", &weighted("w"));
        assert_eq!(
            message,
            "data.csv: line 3, column 2 (\"w\"): \"-0.5\" is negative; a weight must be a finite number ≥ 0 (--weights)"
        );
        let message = err_with("x,w\n1,nan\n", &weighted("w"));
        assert!(
            message.contains("line 2, column 2") && message.contains("not a finite"),
            "{message}"
        );
        let message = err_with("x,w\n1,\n", &weighted("w"));
        assert!(
            message.contains("line 2, column 2") && message.contains("empty"),
            "{message}"
        );
        let message = err_with("x,w\n1,0\n2,0\n", &weighted("w"));
        assert!(
            message.contains("every weight in column 2 (\"w\") is 0"),
            "{message}"
        );
        let message = err_with("x,w\n1,1\n", &weighted("weight"));
        assert!(
            message.starts_with("data.csv: --weights \"weight\": no column named"),
            "{message}"
        );
        let options = CsvOptions {
            columns: Some(vec!["x".into(), "w".into()]),
            ..weighted("w")
        };
        assert!(err_with("x,w\n1,1\n", &options).contains("both --weights and --columns"));
        let options = CsvOptions {
            truth: TruthChoice::Column("w".into()),
            ..weighted("w")
        };
        assert!(err_with("x,w\n1,1\n", &options).contains("both --weights and --truth"));
        // Dropped rows take their weights with them, whichever cell was bad.
        let options = CsvOptions {
            drop_invalid: true,
            ..weighted("w")
        };
        let table = load_bytes(b"x,w\n1,1\n2,-1\nz,3\n4,4\n", &options).unwrap();
        assert_eq!(values(&table), [1.0, 4.0]);
        assert_eq!(table.data.weights(), Some(&[1.0, 4.0][..]));
        assert_eq!(table.dropped_rows, 2);
    }

    #[test]
    fn weights_stay_aligned_with_a_detected_truth() {
        // A `label` column is detected as the truth; a row whose label cell is empty keeps
        // weights and labels in step with the data.
        let table = load_bytes(b"x,label,w\n1,a,1\n2,b,2\n3,a,3\n", &weighted("w")).unwrap();
        assert_eq!(values(&table), [1.0, 2.0, 3.0]);
        assert_eq!(table.data.weights(), Some(&[1.0, 2.0, 3.0][..]));
        assert_eq!(
            table.truth.as_ref().map(|t| t.labels.clone()),
            Some(vec![0, 1, 0])
        );
        // An explicit truth with an empty cell drops the row and its weight.
        let options = CsvOptions {
            truth: TruthChoice::Column("label".into()),
            drop_invalid: true,
            ..weighted("w")
        };
        let table = load_bytes(b"x,label,w\n1,a,1\n2,,2\n3,b,3\n", &options).unwrap();
        assert_eq!(values(&table), [1.0, 3.0]);
        assert_eq!(table.data.weights(), Some(&[1.0, 3.0][..]));
    }

    #[test]
    fn source_from_arg_and_display() {
        assert_eq!(Source::from_arg("-"), Source::Stdin);
        assert_eq!(Source::Stdin.to_string(), "<stdin>");
        let path = Source::from_arg("dir/data.csv");
        assert_eq!(path, Source::Path("dir/data.csv".into()));
        assert_eq!(path.to_string(), "dir/data.csv");
    }

    #[test]
    fn header_row_names_columns() {
        let table = ok("eruptions,waiting\n3.6,79\n1.8,54\n");
        assert_eq!(table.name, "data.csv");
        assert_eq!(table.columns, ["eruptions", "waiting"]);
        assert_eq!(table.data.dim(), 2);
        assert_eq!(table.data.len(), 2);
        assert_eq!(table.data.row(1), &[1.8, 54.0]);
        let header = table.header.unwrap();
        assert_eq!(header.iter().collect::<Vec<_>>(), ["eruptions", "waiting"]);
        assert!(table.rows.is_none());
        assert_eq!(table.dropped_rows, 0);
        assert!(table.first_dropped.is_none());
    }

    #[test]
    fn without_header_columns_are_x1_x2() {
        let table = ok("3.6,79\n1.8,54\n-2e3,+.5\n");
        assert!(table.header.is_none());
        assert_eq!(table.columns, ["x1", "x2"]);
        assert_eq!(values(&table), [3.6, 79.0, 1.8, 54.0, -2000.0, 0.5]);
    }

    #[test]
    fn columns_by_name_index_and_mixed() {
        let input = "a,b,c\n1,2,3\n4,5,6\n";
        let by_name = load_bytes(input.as_bytes(), &columns(&["c", "a"])).unwrap();
        assert_eq!(by_name.columns, ["c", "a"]);
        assert_eq!(values(&by_name), [3.0, 1.0, 6.0, 4.0]);

        let by_index = load_bytes(input.as_bytes(), &columns(&["2"])).unwrap();
        assert_eq!(by_index.columns, ["b"]);
        assert_eq!(values(&by_index), [2.0, 5.0]);

        let mixed = load_bytes(input.as_bytes(), &columns(&["3", " B "])).unwrap();
        assert_eq!(mixed.columns, ["c", "b"]);
        assert_eq!(values(&mixed), [3.0, 2.0, 6.0, 5.0]);
    }

    #[test]
    fn columns_without_header_by_index_or_x_name() {
        let table = load_bytes(b"1,2,3\n4,5,6\n", &columns(&["x3", "1"])).unwrap();
        assert_eq!(table.columns, ["x3", "x1"]);
        assert_eq!(values(&table), [3.0, 1.0, 6.0, 4.0]);
    }

    #[test]
    fn exact_name_beats_case_insensitive_and_index() {
        let input = "A,a,2\n1,2,3\n";
        let table = load_bytes(input.as_bytes(), &columns(&["a", "2"])).unwrap();
        assert_eq!(values(&table), [2.0, 3.0]);
        let message = err_with("Ab,aB\n1,2\n", &columns(&["ab"]));
        assert_eq!(
            message,
            "data.csv: column name \"ab\" is ambiguous: it matches columns 1 and 2; give a 1-based index instead"
        );
    }

    #[test]
    fn unknown_column_lists_the_columns() {
        let input = "eruptions,waiting\n3.6,79\n";
        assert_eq!(
            err_with(input, &columns(&["eruption"])),
            "data.csv: no column named \"eruption\"; the columns are 1 \"eruptions\", 2 \"waiting\" (or give a 1-based index)"
        );
        assert_eq!(
            err_with(input, &columns(&["3"])),
            "data.csv: there is no column 3: columns are numbered 1 to 2; the columns are 1 \"eruptions\", 2 \"waiting\""
        );
        assert!(err_with(input, &columns(&["0"])).contains("there is no column 0"));
        assert_eq!(
            err_with(input, &columns(&["waiting", "2"])),
            "data.csv: column 2 (\"waiting\") is selected twice"
        );
        assert!(err_with(input, &columns(&[])).contains("no columns selected"));
    }

    #[test]
    fn default_skips_text_column_like_iris_species() {
        let input = "sepal_length,sepal_width,petal_length,petal_width,species\n\
                     5.1,3.5,1.4,0.2,setosa\n\
                     7.0,3.2,4.7,1.4,versicolor\n";
        let table = ok(input);
        assert_eq!(
            table.columns,
            ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        );
        assert_eq!(table.data.row(1), &[7.0, 3.2, 4.7, 1.4]);
        // ... and is now recognised as the true classes.
        let truth = table.truth.unwrap();
        assert_eq!(truth.name, "species");
        assert_eq!(truth.index, 5);
        assert_eq!(truth.classes, ["setosa", "versicolor"]);
        assert_eq!(truth.labels, [0, 1]);
        assert!(table.warnings.is_empty());
    }

    fn truth_of(table: &Table) -> (&str, Vec<&str>, Vec<usize>) {
        let truth = table.truth.as_ref().expect("a truth column");
        (
            truth.name.as_str(),
            truth.classes.iter().map(String::as_str).collect(),
            truth.labels.clone(),
        )
    }

    fn with_truth(choice: TruthChoice) -> CsvOptions {
        CsvOptions {
            truth: choice,
            ..CsvOptions::default()
        }
    }

    #[test]
    fn few_means_at_most_half_the_rows_between_2_and_50() {
        assert_eq!(max_truth_classes(0), 2);
        assert_eq!(max_truth_classes(5), 2);
        assert_eq!(max_truth_classes(10), 5);
        assert_eq!(max_truth_classes(150), 50);
        assert_eq!(max_truth_classes(1_000_000), 50);
    }

    #[test]
    fn whole_number_component_column_is_truth_not_a_dimension() {
        // What `mixplore simulate` writes.
        let table = ok("x1,x2,component
0.5,1,2
0.7,1.5,1
3,4,2
3.5,4.5,3
1,2,1
9,9,3
");
        assert_eq!(table.columns, ["x1", "x2"]);
        assert_eq!(table.data.dim(), 2);
        assert_eq!(values(&table)[..4], [0.5, 1.0, 0.7, 1.5]);
        let (name, classes, labels) = truth_of(&table);
        assert_eq!(name, "component");
        assert_eq!(classes, ["2", "1", "3"]);
        assert_eq!(labels, [0, 1, 0, 2, 1, 2]);
        assert_eq!(table.truth.as_ref().unwrap().index, 3);
        assert!(table.warnings.is_empty());
    }

    #[test]
    fn truth_names_ignore_case_and_whitespace() {
        for header in [
            "Component",
            " CLASS ",
            "Label",
            "labels",
            "cluster",
            "Truth",
            "SPECIES",
        ] {
            let table = ok(&format!(
                "a,{header}
1,1
2,2
3,1
4,2
"
            ));
            assert_eq!(table.columns, ["a"], "{header}");
            assert_eq!(truth_of(&table).0, header.trim());
        }
        // Other names, `y` above all, are data.
        for header in ["y", "group_size", "classes", "x1"] {
            let table = ok(&format!(
                "a,{header}
1,1
2,2
3,1
4,2
"
            ));
            assert_eq!(table.data.dim(), 2, "{header}");
            assert!(table.truth.is_none());
        }
    }

    #[test]
    fn real_valued_or_many_valued_truth_names_stay_data_with_a_warning() {
        let table = ok("a,class
1,0.5
2,1.5
3,0.5
4,2.5
");
        assert_eq!(table.columns, ["a", "class"]);
        assert_eq!(values(&table), [1.0, 0.5, 2.0, 1.5, 3.0, 0.5, 4.0, 2.5]);
        assert!(table.truth.is_none());
        assert_eq!(
            table.warnings,
            [
                "column 2 (\"class\") is named like true classes but holds numbers that are not whole, so it is fitted as data; --truth 2 takes it as the classes"
            ]
        );
        // Ten rows allow five classes; ten distinct whole numbers are an identifier or a count.
        let mut input = String::from("label,a\n");
        for i in 0..10 {
            input.push_str(&format!("{i},{}\n", i * 2));
        }
        let table = ok(&input);
        assert_eq!(table.columns, ["label", "a"]);
        assert_eq!(table.data.row(3), &[3.0, 6.0]);
        assert!(
            table.warnings[0].contains("10 distinct values in 10 rows (labels have at most 5)")
        );
        // Many distinct texts: skipped as text, as before detection, and nothing to say.
        let mut input = String::from("a,label\n");
        for i in 0..10 {
            input.push_str(&format!("{i},point{i}\n"));
        }
        let table = ok(&input);
        assert_eq!(table.columns, ["a"]);
        assert!(table.truth.is_none() && table.warnings.is_empty());
    }

    #[test]
    fn empty_cell_in_a_detected_column_undoes_the_detection() {
        // Text: skipped as before; numbers: data, and the empty cell is reported as before.
        let table = ok("a,species\n1,setosa\n2,\n3,virginica\n4,setosa\n");
        assert_eq!(table.columns, ["a"]);
        assert!(table.truth.is_none());
        assert_eq!(
            err("a,component\n1,1\n2,\n3,2\n4,1\n"),
            "data.csv: line 3, column 2 (\"component\"): the cell is empty, expected a number"
        );
    }

    #[test]
    fn truth_none_reads_every_column_as_data() {
        let table = load_bytes(
            b"x1,component\n1,1\n2,2\n3,1\n4,2\n",
            &with_truth(TruthChoice::Off),
        )
        .unwrap();
        assert_eq!(table.columns, ["x1", "component"]);
        assert!(table.truth.is_none());
        // Text columns are still skipped.
        let table = load_bytes(
            b"a,species\n1,setosa\n2,virginica\n",
            &with_truth(TruthChoice::Off),
        )
        .unwrap();
        assert_eq!(table.columns, ["a"]);
        assert!(table.truth.is_none());
    }

    #[test]
    fn columns_naming_a_truth_column_fit_it() {
        let input = "x,component,class\n1,1,a\n2,2,b\n3,1,a\n4,2,b\n";
        let table = load_bytes(input.as_bytes(), &columns(&["x", "component"])).unwrap();
        assert_eq!(table.columns, ["x", "component"]);
        // The other truth-named column is still found.
        assert_eq!(
            truth_of(&table),
            ("class", vec!["a", "b"], vec![0, 1, 0, 1])
        );
        let table = load_bytes(input.as_bytes(), &columns(&["x"])).unwrap();
        assert_eq!(truth_of(&table).0, "component");
    }

    #[test]
    fn a_second_truth_column_is_left_out_too() {
        let table = ok("x,component,cluster\n1,1,2\n2,2,1\n3,1,2\n4,2,1\n");
        assert_eq!(table.columns, ["x"]);
        assert_eq!(truth_of(&table).0, "component");
        assert_eq!(
            table.warnings,
            [
                "column 3 (\"cluster\") also looks like true classes, so it is not fitted either; name it in --columns to fit it"
            ]
        );
    }

    #[test]
    fn truth_by_name_or_index_takes_any_column() {
        let input = "a,b,group\n1,10,0.5\n2,20,0.5\n3,30,0.7\n";
        for requested in ["group", "GROUP", "3"] {
            let options = with_truth(TruthChoice::Column(requested.into()));
            let table = load_bytes(input.as_bytes(), &options).unwrap();
            assert_eq!(table.columns, ["a", "b"]);
            assert_eq!(
                truth_of(&table),
                ("group", vec!["0.5", "0.7"], vec![0, 0, 1])
            );
        }
        // Without a header, by index or positional name.
        let options = with_truth(TruthChoice::Column("x1".into()));
        let table = load_bytes(b"1,5\n2,6\n", &options).unwrap();
        assert_eq!(table.columns, ["x2"]);
        assert_eq!(truth_of(&table), ("x1", vec!["1", "2"], vec![0, 1]));
    }

    #[test]
    fn bad_truth_requests_are_one_line_errors() {
        let input = "a,b,group\n1,10,p\n";
        let with =
            |requested: &str| err_with(input, &with_truth(TruthChoice::Column(requested.into())));
        assert_eq!(
            with("kind"),
            "data.csv: --truth \"kind\": no column named \"kind\"; the columns are 1 \"a\", 2 \"b\", 3 \"group\" (or give a 1-based index)"
        );
        assert!(with("9").starts_with("data.csv: --truth \"9\": there is no column 9"));
        let options = CsvOptions {
            truth: TruthChoice::Column("b".into()),
            ..columns(&["a", "B"])
        };
        assert_eq!(
            err_with(input, &options),
            "data.csv: column 2 (\"b\") is named by both --truth and --columns; a column is either the true classes or data"
        );
        assert_eq!(
            err_with(
                "a,group\n1,p\n",
                &with_truth(TruthChoice::Column("a".into()))
            ),
            "data.csv: no column is left to fit: column 1 (\"a\") holds the true classes; --truth none fits it as data, or --columns picks the columns"
        );
        assert_eq!(
            err("component\n1\n2\n1\n2\n"),
            "data.csv: no column is left to fit: column 1 (\"component\") holds the true classes; --truth none fits it as data, or --columns picks the columns"
        );
    }

    #[test]
    fn empty_given_truth_cell_is_a_bad_row() {
        let input = "a,b,group\n1,10,p\n2,20, \n3,30,q\n";
        let options = with_truth(TruthChoice::Column("group".into()));
        assert_eq!(
            err_with(input, &options),
            "data.csv: line 3, column 3 (\"group\"): the cell is empty, expected a class label (--truth)"
        );
        let options = CsvOptions {
            drop_invalid: true,
            ..options
        };
        let table = load_bytes(input.as_bytes(), &options).unwrap();
        assert_eq!(values(&table), [1.0, 10.0, 3.0, 30.0]);
        assert_eq!(truth_of(&table), ("group", vec!["p", "q"], vec![0, 1]));
        assert_eq!(table.dropped_rows, 1);
    }

    #[test]
    fn dropped_rows_keep_labels_aligned_and_warn() {
        let input = "a,species\n1,setosa\nx,versicolor\n3,virginica\n4,setosa\n5\n";
        let options = CsvOptions {
            keep_rows: true,
            ..dropping()
        };
        let table = load_bytes(input.as_bytes(), &options).unwrap();
        assert_eq!(values(&table), [1.0, 3.0, 4.0]);
        // versicolor went with its row: the classes are renumbered over the kept rows.
        assert_eq!(
            truth_of(&table),
            ("species", vec!["setosa", "virginica"], vec![0, 1, 0])
        );
        assert_eq!(table.rows.unwrap().len(), 3);
        assert_eq!(
            table.warnings,
            [
                "2 invalid rows dropped (first: data.csv: line 3, column 1 (\"a\"): \"x\" is not a number)"
            ]
        );
    }

    #[test]
    fn a_truth_named_data_column_reports_its_bad_cells() {
        // Text among real numbers: not labels (too many values), so data, and the text is bad.
        let mut input = String::from("a,class\n");
        for i in 0..10 {
            let class = if i == 6 {
                "oops".to_string()
            } else {
                format!("{}.5", i)
            };
            input.push_str(&format!("{i},{class}\n"));
        }
        assert_eq!(
            err(&input),
            "data.csv: line 8, column 2 (\"class\"): \"oops\" is not a number"
        );
        let options = CsvOptions {
            keep_rows: true,
            ..dropping()
        };
        let table = load_bytes(input.as_bytes(), &options).unwrap();
        assert_eq!(table.columns, ["a", "class"]);
        assert_eq!(table.data.len(), 9);
        assert_eq!(table.data.row(6), &[7.0, 7.5]);
        assert_eq!(table.rows.unwrap().len(), 9);
        assert_eq!(table.dropped_rows, 1);
        assert!(table.warnings[0].starts_with("1 invalid rows dropped (first: data.csv: line 8"));
        assert!(table.warnings[1].contains("is fitted as data"));
    }

    #[test]
    fn written_data_read_back_with_the_same_dimension() {
        let data = Dataset::new(3, (0..30).map(|i| f64::from(i) * 0.37).collect()).unwrap();
        let labels: Vec<usize> = (0..10).map(|i| i % 3).collect();
        let names: Vec<String> = ["x1", "x2", "x3"].map(String::from).to_vec();
        let mut out = Vec::new();
        crate::data::save::write_data_csv(&mut out, &data, &names, Some(&labels)).unwrap();
        let table = load_bytes(&out, &CsvOptions::default()).unwrap();
        assert_eq!(table.columns, names);
        assert_eq!(table.data.values(), data.values());
        let (name, classes, read_labels) = truth_of(&table);
        assert_eq!((name, classes), ("component", vec!["1", "2", "3"]));
        assert_eq!(read_labels, labels);
        let mut out = Vec::new();
        crate::data::save::write_data_csv(&mut out, &data, &names, None).unwrap();
        let table = load_bytes(&out, &CsvOptions::default()).unwrap();
        assert_eq!(table.data.dim(), 3);
        assert!(table.truth.is_none());
    }

    #[test]
    fn explicitly_selected_text_column_fails_at_first_text_cell() {
        let input = "x,species\n1,setosa\n";
        assert_eq!(
            err_with(input, &columns(&["x", "species"])),
            "data.csv: line 2, column 2 (\"species\"): \"setosa\" is not a number"
        );
    }

    #[test]
    fn no_numeric_column_is_an_error() {
        assert_eq!(
            err("name,species\nann,setosa\n"),
            "data.csv: no column is numeric: no cell of the first data row (line 2) is a number; the columns are 1 \"name\", 2 \"species\""
        );
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let table = ok("\u{feff}a,b\n1,2\n");
        assert_eq!(table.columns, ["a", "b"]);
        assert_eq!(table.header.unwrap().get(0), Some("a"));
        let quoted = ok("\u{feff}\"a\",b\n1,2\n");
        assert_eq!(quoted.columns, ["a", "b"]);
        let no_header = ok("\u{feff}1,2\n3,4\n");
        assert_eq!(values(&no_header), [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn byte_order_mark_split_across_reads() {
        // A reader that hands out one byte at a time, like a slow pipe.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match (self.0.split_first(), buf.first_mut()) {
                    (Some((&byte, rest)), Some(slot)) => {
                        *slot = byte;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let input = "\u{feff}a,b\n1,2\n".as_bytes();
        let table = read(Trickle(input), "pipe", &CsvOptions::default()).unwrap();
        assert_eq!(table.columns, ["a", "b"]);
        let short = read(Trickle(b"7"), "pipe", &CsvOptions::default()).unwrap();
        assert_eq!(values(&short), [7.0]);
    }

    #[test]
    fn crlf_line_endings() {
        let table = ok("a,b\r\n1,2\r\n3,4\r\n");
        assert_eq!(table.columns, ["a", "b"]);
        assert_eq!(values(&table), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            err("a,b\r\n1,2\r\n3,x\r\n"),
            "data.csv: line 3, column 2 (\"b\"): \"x\" is not a number"
        );
    }

    #[test]
    fn quoted_fields() {
        let table = ok("\"a\",\"b, c\"\n\"1.5\",\" 2 \"\n");
        assert_eq!(table.columns, ["a", "b, c"]);
        assert_eq!(values(&table), [1.5, 2.0]);
    }

    #[test]
    fn semicolon_and_tab_delimiters() {
        for delimiter in [b';', b'\t'] {
            let d = delimiter as char;
            let input = format!("a{d}b\n1{d}2\n3{d}4\n");
            let options = CsvOptions {
                delimiter,
                ..CsvOptions::default()
            };
            let table = load_bytes(input.as_bytes(), &options).unwrap();
            assert_eq!(table.columns, ["a", "b"]);
            assert_eq!(values(&table), [1.0, 2.0, 3.0, 4.0]);
        }
    }

    #[test]
    fn ragged_row_names_its_line() {
        assert_eq!(
            err("a,b\n1,2\n3,4\n\n5,6\n7\n8,9,10\n"),
            "data.csv: line 6 has 1 fields, expected 2 as in the header (line 1)"
        );
        assert_eq!(
            err("1,2\n3,4\n5,6\n6,7\n7,8\n8,9\n9,10,11\n"),
            "data.csv: line 7 has 3 fields, expected 2 as in the first row (line 1)"
        );
    }

    #[test]
    fn bad_cell_names_line_column_name_and_text() {
        let input = "eruptions,waiting\n3.6,79\n1.8,abc\n";
        assert_eq!(
            err(input),
            "data.csv: line 3, column 2 (\"waiting\"): \"abc\" is not a number"
        );
        // Without a header there is no name to give.
        assert_eq!(
            err("1,2\n3,4 x\n"),
            "data.csv: line 2, column 2: \"4 x\" is not a number"
        );
        assert_eq!(
            err("a,b\n1,2\n3,\n"),
            "data.csv: line 3, column 2 (\"b\"): the cell is empty, expected a number"
        );
        assert_eq!(
            err("a,b\n1,2\n3,\"  \"\n"),
            "data.csv: line 3, column 2 (\"b\"): the cell is empty, expected a number"
        );
    }

    #[test]
    fn message_stays_one_line_and_short() {
        let long = "y".repeat(500);
        let message = err(&format!("a\n1\n\"two\nlines\"\n{long}\n"));
        assert_eq!(
            message,
            "data.csv: line 3, column 1 (\"a\"): \"two\\nlines\" is not a number"
        );
        let message = err(&format!("a\n1\n{long}\n"));
        assert!(message.len() < 120, "{message}");
    }

    #[test]
    fn nan_and_infinities_are_not_finite() {
        for text in [
            "NaN",
            "nan",
            "-nan",
            "inf",
            "-Inf",
            "+INFINITY",
            "infinity",
            "1e400",
        ] {
            assert_eq!(
                err(&format!("a,b\n1,2\n3,{text}\n")),
                format!("data.csv: line 3, column 2 (\"b\"): \"{text}\" is not a finite number"),
            );
        }
        // In the first row too: they must not pass for a header or a text column.
        assert_eq!(
            err("1,NaN\n"),
            "data.csv: line 1, column 2: \"NaN\" is not a finite number"
        );
        assert_eq!(
            err("a,b\n1, inf \n"),
            "data.csv: line 2, column 2 (\"b\"): \"inf\" is not a finite number"
        );
    }

    #[test]
    fn missing_value_in_first_row_is_reported_not_skipped() {
        // An empty cell makes neither a header nor a text column.
        assert_eq!(
            err("1,,3\n4,5,6\n"),
            "data.csv: line 1, column 2: the cell is empty, expected a number"
        );
        assert_eq!(
            err("a,b\n1,\n2,3\n"),
            "data.csv: line 2, column 2 (\"b\"): the cell is empty, expected a number"
        );
    }

    #[test]
    fn unselected_columns_may_hold_anything() {
        let input = b"a,note,b\n1,\xff\xfe,2\n3,NaN,4\n5,,6\n";
        let table = load_bytes(input, &columns(&["a", "b"])).unwrap();
        assert_eq!(values(&table), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn non_utf8_cells_and_names() {
        let message = load_bytes(b"a,b\n1,2\n3,4\xff\n", &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "data.csv: line 3, column 2 (\"b\"): \"4\u{fffd}\" is not a number (it is not valid UTF-8 text)"
        );
        let table = load_bytes(b"caf\xe9,b\n1,2\n", &CsvOptions::default()).unwrap();
        assert_eq!(table.columns, ["caf\u{fffd}", "b"]);
    }

    #[test]
    fn empty_input() {
        for input in ["", "\n", "\r\n\r\n", "   \n\t\n  "] {
            assert_eq!(err(input), "data.csv: the file is empty", "{input:?}");
        }
    }

    #[test]
    fn header_only() {
        assert_eq!(err("a,b\n"), "data.csv: no data rows after the header");
        assert_eq!(
            err("a,b\n\n  \n"),
            "data.csv: no data rows after the header"
        );
        assert_eq!(
            err_with("a,b", &dropping()),
            "data.csv: no data rows after the header"
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_lines_still_counted() {
        let input = "\n\na,b\n\n1,2\n   \n3,x\n";
        assert_eq!(
            err(input),
            "data.csv: line 7, column 2 (\"b\"): \"x\" is not a number"
        );
    }

    #[test]
    fn a_line_beyond_the_limit_is_named_and_never_held() {
        let limit = usize::try_from(MAX_LINE_BYTES).unwrap();
        let long = format!("a,b\n1,2\n{}\n3,4\n", "9".repeat(limit + 1));
        assert_eq!(
            err(&long),
            "data.csv: line 3 is longer than 16777216 bytes: not a CSV file, or a line break is missing"
        );
        // No line break at all, as from /dev/zero.
        let zeros = "\0".repeat(limit + (1 << 20));
        assert!(err(&zeros).starts_with("data.csv: line 1 is longer"));
        // A line of exactly the limit is read (a number padded with spaces).
        let wide = format!("a\n7{}\n1\n", " ".repeat(limit - 1));
        let table = load_bytes(wide.as_bytes(), &CsvOptions::default());
        assert!(
            table.as_ref().is_ok_and(|table| table.data.len() == 2),
            "a line of the limit is not read"
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_where_it_opens() {
        assert_eq!(
            err("a,b\n1,2\n3,4\n\"5,6\n7,8\n"),
            "data.csv: line 4: a quoted field opens here and is never closed"
        );
        assert_eq!(
            err("a,b\r\n1,2\r\n\"3,4\r\n5,6\r\n"),
            "data.csv: line 3: a quoted field opens here and is never closed"
        );
        // A closed quoted field holding a line break at the end of the file is fine.
        assert_eq!(ok("a,b\n1,2\n3,\"4\n\"\n").data.len(), 2);
    }

    #[test]
    fn line_numbers_are_exact() {
        // csv's own record positions lag behind after blank lines and in CRLF files.
        let cases = [
            ("a,b\n1,2\n\n\n3,x\n", 5),
            ("a,b\r\n1,2\r\n\r\n3,x\r\n", 4),
            ("a,b\r\n1,2\r\n3,x", 3),
            ("a,b\n1,2\n3,x", 3),
            ("a,b\n\"1\n\n\",2\n\"3\",\"x\ny\"\n", 5),
            ("a,b\r\n\"1\r\n\",2\r\n3,x\r\n", 4),
            ("\u{feff}a,b\n1,2\n3,x\n", 3),
        ];
        for (input, line) in cases {
            let message = err(input);
            assert!(
                message.starts_with(&format!("data.csv: line {line}, column 2")),
                "{input:?}: {message}"
            );
        }
        assert_eq!(
            err("a,b\r\n1,2\r\n\r\n3\r\n"),
            "data.csv: line 4 has 1 fields, expected 2 as in the header (line 1)"
        );
        assert_eq!(
            err("\n\n1,2\n3\n"),
            "data.csv: line 4 has 1 fields, expected 2 as in the first row (line 3)"
        );
        assert_eq!(
            err("\r\n\r\nname,species\r\nann,setosa\r\n"),
            "data.csv: no column is numeric: no cell of the first data row (line 4) is a number; the columns are 1 \"name\", 2 \"species\""
        );
    }

    #[test]
    fn line_numbers_stay_exact_across_buffer_refills() {
        // Rows of 13 bytes (12 with LF) over more than one parser buffer, with the bad cell in
        // rows around the first refill, where a record straddles two reads. The first read is
        // the 3 bytes held back to look for a byte order mark.
        for end in ["\n", "\r\n"] {
            let row_len = 11 + end.len();
            let rows = BUFFER_CAPACITY / row_len + 1000;
            let boundary_row = (BUFFER_CAPACITY + 3) / row_len;
            for bad in boundary_row - 2..boundary_row + 3 {
                let mut input = String::with_capacity(rows * row_len);
                for i in 0..rows {
                    if i == bad {
                        input.push_str(&format!("000001,\"x{end}\"{end}"));
                    } else {
                        input.push_str(&format!("{:06},{:04}{end}", i, i % 10_000));
                    }
                }
                let message = err(&input);
                assert!(
                    message.starts_with(&format!("data.csv: line {}, column 2", bad + 1)),
                    "{end:?} {bad}: {message}"
                );
            }
        }
    }

    #[test]
    fn whitespace_padded_numbers() {
        let table = ok(" a ,\tb\n  1.5 ,\t-2 \n3\t, 4\n");
        assert_eq!(table.columns, ["a", "b"]);
        assert_eq!(values(&table), [1.5, -2.0, 3.0, 4.0]);
    }

    #[test]
    fn trailing_delimiter_column_is_ignored_by_default() {
        let table = ok("a,b,\n1,2,\n3,4,\n");
        assert_eq!(table.columns, ["a", "b"]);
        let table = ok("1,2,\n3,4,\n");
        assert_eq!(table.columns, ["x1", "x2"]);
        assert_eq!(values(&table), [1.0, 2.0, 3.0, 4.0]);
        // A named last column with a missing first value is data, and is reported.
        assert_eq!(
            err("a,b,c\n1,2,\n"),
            "data.csv: line 2, column 3 (\"c\"): the cell is empty, expected a number"
        );
    }

    #[test]
    fn empty_header_name_gets_positional_name() {
        // R's write.csv puts row names under an empty header.
        let table = ok("\"\",\"x\",\"y\"\n\"1\",2,3\n\"2\",4,5\n");
        assert_eq!(table.columns, ["x1", "x", "y"]);
    }

    #[test]
    fn drop_invalid_counts_and_remembers_the_first() {
        let input = "a,b\n1,2\n3,x\n5\n7,8\n9,NaN\n";
        let table = load_bytes(input.as_bytes(), &dropping()).unwrap();
        assert_eq!(values(&table), [1.0, 2.0, 7.0, 8.0]);
        assert_eq!(table.dropped_rows, 3);
        assert_eq!(
            table.first_dropped.as_deref(),
            Some("data.csv: line 3, column 2 (\"b\"): \"x\" is not a number")
        );
    }

    #[test]
    fn drop_invalid_leaves_no_half_rows_and_keeps_records() {
        let input = "a,b,label\n1,2,p\n3,x,q\n5,6,r\n";
        let options = CsvOptions {
            drop_invalid: true,
            keep_rows: true,
            ..CsvOptions::default()
        };
        let table = load_bytes(input.as_bytes(), &options).unwrap();
        assert_eq!(values(&table), [1.0, 2.0, 5.0, 6.0]);
        let rows = table.rows.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].iter().collect::<Vec<_>>(), ["5", "6", "r"]);
    }

    #[test]
    fn drop_invalid_skips_ragged_rows_before_choosing_columns() {
        let input = "a,b,label\n1\n3,4,p\n";
        let table = load_bytes(input.as_bytes(), &dropping()).unwrap();
        assert_eq!(table.columns, ["a", "b"]);
        assert_eq!(values(&table), [3.0, 4.0]);
        assert_eq!(table.dropped_rows, 1);
    }

    #[test]
    fn every_row_invalid_under_drop_invalid() {
        let options = CsvOptions {
            drop_invalid: true,
            ..columns(&["a", "b"])
        };
        assert_eq!(
            err_with("a,b\n1,x\n2,y\n", &options),
            "data.csv: every data row is invalid (2 dropped); the first: line 2, column 2 (\"b\"): \"x\" is not a number"
        );
        assert_eq!(
            err_with("a,b\n1\n2\n", &dropping()),
            "data.csv: every data row is invalid (2 dropped); the first: line 2 has 1 fields, expected 2 as in the header (line 1)"
        );
    }

    #[test]
    fn structural_errors_still_fail_under_drop_invalid() {
        let options = CsvOptions {
            drop_invalid: true,
            ..columns(&["nope"])
        };
        assert!(err_with("a,b\n1,2\n", &options).contains("no column named \"nope\""));
        assert_eq!(err_with("", &dropping()), "data.csv: the file is empty");
    }

    #[test]
    fn keep_rows_keeps_original_text() {
        let options = CsvOptions {
            keep_rows: true,
            ..CsvOptions::default()
        };
        let table = load_bytes(b"a,b,name\n 1 ,2,\"x, y\"\n", &options).unwrap();
        let rows = table.rows.unwrap();
        assert_eq!(rows[0].iter().collect::<Vec<_>>(), [" 1 ", "2", "x, y"]);
    }

    #[test]
    fn thousands_of_generated_rows() {
        let n = 5000;
        let mut input = String::from("x,y,tag\n");
        for i in 0..n {
            input.push_str(&format!("{},{},t{}\n", i, f64::from(i) * 0.5, i % 3));
        }
        let table = ok(&input);
        assert_eq!(table.data.len(), n as usize);
        assert_eq!(table.data.dim(), 2);
        assert_eq!(table.data.row(4321), &[4321.0, 2160.5]);
    }

    #[test]
    fn load_reports_missing_file_and_directory() {
        let missing = Source::Path("no/such/dir/data.csv".into());
        let message = load(&missing, &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("no/such/dir/data.csv: cannot read: "),
            "{message}"
        );
        assert!(!message.contains('\n'));

        let dir = tempfile::tempdir().unwrap();
        let message = load(&Source::Path(dir.path().into()), &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.ends_with(": cannot read: it is a directory"),
            "{message}"
        );
    }

    #[test]
    fn load_reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faithful.csv");
        std::fs::write(&path, "eruptions,waiting\n3.6,79\n1.8,54\n").unwrap();
        let source = Source::Path(path.clone());
        let table = load(&source, &CsvOptions::default()).unwrap();
        assert_eq!(table.name, path.display().to_string());
        assert_eq!(table.data.len(), 2);
    }

    /// A file read with its size known (rows sized from the bytes left, lengthening rows, a
    /// dropped row) gives the same matrix as the same bytes read as a stream.
    #[test]
    fn a_sized_file_reads_like_a_stream() {
        let mut text = String::from("a,b,c\n");
        for i in 0..5000u32 {
            // Rows lengthen along the file, so the first estimate falls short and is topped up.
            let digits = 1 + i as usize / 700;
            let value = f64::from(i) * 1.000_1;
            text.push_str(&format!("{value:.digits$},{},{i}\n", -value));
            if i == 2500 {
                text.push_str("1,oops,3\n");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sized.csv");
        std::fs::write(&path, &text).unwrap();
        let from_file = load(&Source::Path(path), &dropping()).unwrap();
        let streamed = load_bytes(text.as_bytes(), &dropping()).unwrap();
        assert_eq!(from_file.data, streamed.data);
        assert_eq!(from_file.data.len(), 5000);
        assert_eq!(from_file.dropped_rows, 1);
    }

    #[test]
    fn read_error_mid_file_names_the_line() {
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("device gone"));
                }
                let n = self.0.read(buf)?;
                Ok(n)
            }
        }
        let message = read(Failing(b"a,b\n1,2\n3,4\n"), "pipe", &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(message, "pipe: line 4: cannot read: device gone");
    }

    fn matrix() -> impl Strategy<Value = (usize, Vec<f64>)> {
        (1usize..5, 1usize..30)
            .prop_flat_map(|(dim, n)| (Just(dim), prop::collection::vec(-1e12f64..1e12, dim * n)))
    }

    proptest! {
        #[test]
        fn written_values_read_back_exactly(
            (dim, data) in matrix(),
            delimiter in prop::sample::select(vec![b',', b';', b'\t']),
            pad in prop::sample::select(vec!["", " ", "  "]),
            header in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let d = delimiter as char;
            let end = if crlf { "\r\n" } else { "\n" };
            let mut input = String::new();
            if header {
                let names: Vec<String> = (0..dim).map(|j| format!("c{j}")).collect();
                input.push_str(&names.join(&d.to_string()));
                input.push_str(end);
            }
            for row in data.chunks(dim) {
                let cells: Vec<String> = row.iter().map(|v| format!("{pad}{v}{pad}")).collect();
                input.push_str(&cells.join(&d.to_string()));
                input.push_str(end);
            }
            let options = CsvOptions { delimiter, ..CsvOptions::default() };
            let table = load_bytes(input.as_bytes(), &options).unwrap();
            prop_assert_eq!(table.data.dim(), dim);
            prop_assert_eq!(table.data.values(), data.as_slice());
            prop_assert_eq!(table.header.is_some(), header);
        }

        /// The cell parser (fast-float2 first) gives exactly std's answer: the same bits where
        /// std reads a finite number, an error where std refuses or reads a non-finite one.
        #[test]
        fn cells_parse_as_std_parses(
            cell in prop_oneof![
                prop::collection::vec(
                    prop::sample::select(b"0123456789.-+eEinfatyINFATY_x \xff".to_vec()),
                    0..24,
                ),
                any::<f64>().prop_map(|value| value.to_string().into_bytes()),
                any::<f64>().prop_map(|value| format!("{value:e}").into_bytes()),
                (any::<i64>(), 0u32..30, -400i32..400)
                    .prop_map(|(digits, point, exponent)| {
                        let digits = digits.unsigned_abs().to_string();
                        let point = (point as usize).min(digits.len());
                        format!("{}.{}e{exponent}", &digits[..point], &digits[point..])
                            .into_bytes()
                    }),
            ],
        ) {
            let expected = std::str::from_utf8(cell.trim_ascii())
                .ok()
                .and_then(|text| text.parse::<f64>().ok())
                .filter(|value| value.is_finite());
            match (parse_cell(&cell), expected) {
                (Ok(value), Some(expected)) => prop_assert_eq!(value.to_bits(), expected.to_bits()),
                (Err(_), None) => {}
                (got, expected) => prop_assert!(false, "{:?}: got {:?}, std {:?}", String::from_utf8_lossy(&cell), got, expected),
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            input in prop::collection::vec(
                prop::sample::select(b"0123456789.,;-+eE \t\r\n\"xNaif\xef\xbb\xbf\xff".to_vec()),
                0..200,
            ),
            drop_invalid in any::<bool>(),
        ) {
            let options = CsvOptions { drop_invalid, keep_rows: true, ..CsvOptions::default() };
            match load_bytes(&input, &options) {
                Ok(table) => prop_assert!(!table.data.is_empty()),
                Err(error) => prop_assert!(!error.to_string().contains('\n')),
            }
        }
    }
}
