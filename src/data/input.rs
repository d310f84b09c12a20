//! One entry point for every data file a command reads, chosen by the file's extension:
//! `.parquet` ([`super::columnar`]), `.arrow` / `.feather` / `.ipc` / `.arrows` (Arrow IPC, same
//! module), `.npy` ([`super::npy`]), anything else (and standard input) CSV ([`super::csv`]).
//! Every reader returns the same [`Table`] under the same column rules.

use std::path::Path;

use super::columnar::{self, Format};
use super::csv::{self, CsvOptions, Source, Table};
use super::npy;

/// The kinds of data file, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Comma- (or otherwise) separated text; also standard input.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (Feather v2, or the stream format).
    ArrowIpc,
    /// A NumPy `.npy` array.
    Npy,
}

impl Kind {
    /// The kind of `source`, by its extension (case ignored).
    pub fn of(source: &Source) -> Self {
        match source {
            Source::Path(path) => Self::named(path).unwrap_or(Self::Csv),
            Source::Stdin => Self::Csv,
        }
    }

    /// The kind a file's extension names (case ignored), if it names one: `.csv`, `.tsv` and
    /// `.txt` are CSV; files with other extensions are read as CSV too, but say nothing here.
    pub fn named(path: &Path) -> Option<Self> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv" | "tsv" | "txt") => Some(Self::Csv),
            Some("parquet" | "pq") => Some(Self::Parquet),
            Some("arrow" | "feather" | "ipc" | "arrows") => Some(Self::ArrowIpc),
            Some("npy") => Some(Self::Npy),
            _ => None,
        }
    }
}

/// Whether `path` names a simulation spec (`.toml`) rather than data.
pub fn is_spec_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

/// Loads the data matrix from `source` by its kind. Errors are one line naming the source.
pub fn load(source: &Source, options: &CsvOptions) -> anyhow::Result<Table> {
    let name = source.to_string();
    let path = |source: &Source| match source {
        Source::Path(path) => path.clone(),
        Source::Stdin => Path::new("-").to_path_buf(),
    };
    if let Source::Path(path) = source
        && is_spec_path(path)
    {
        anyhow::bail!(
            "{name}: this is a simulation spec, not data: draw data from it with `mixplore simulate --spec {name} --out data.csv`, or explore it with `mixplore explore {name}`"
        );
    }
    let kind = Kind::of(source);
    if options.weights.is_some() && kind != Kind::Csv {
        // Not built yet for the columnar and array readers: refused rather than ignored.
        anyhow::bail!(
            "{name}: --weights is read from CSV files only so far; write the data with its weight column as CSV"
        );
    }
    match kind {
        Kind::Csv => Ok(csv::load(source, options)?),
        Kind::Parquet => columnar::load(&path(source), &name, Format::Parquet, options),
        Kind::ArrowIpc => columnar::load(&path(source), &name, Format::ArrowIpc, options),
        Kind::Npy => npy::load(&path(source), &name, options),
    }
}
