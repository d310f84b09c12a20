//! Writing files so that a failure half-way never leaves a truncated file in place of an old
//! one, and the data set as CSV.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::em::Dataset;

/// Writes a file through a temporary sibling that replaces the target only once complete.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(".mixplore-partial");
    let temporary: PathBuf = path.with_file_name(temporary_name);
    let result = (|| {
        let file = File::create(&temporary)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        write(&mut writer)?;
        writer
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("{}: cannot write", path.display()));
    }
    Ok(())
}

/// Writes `data` as CSV with a header of `columns`, plus a `component` column (numbered from 1)
/// when `labels` are given: what `mixplore simulate` writes and `mixplore fit` reads, the
/// `component` column as the true classes rather than a dimension (see
/// [`crate::data::csv::TruthChoice`]).
pub fn write_data_csv(
    out: &mut impl Write,
    data: &Dataset,
    columns: &[String],
    labels: Option<&[usize]>,
) -> std::io::Result<()> {
    let mut header = columns.join(",");
    if labels.is_some() {
        header.push_str(",component");
    }
    writeln!(out, "{header}")?;
    for (i, row) in data.rows().enumerate() {
        for (j, value) in row.iter().enumerate() {
            if j > 0 {
                out.write_all(b",")?;
            }
            write!(out, "{value}")?;
        }
        match labels.and_then(|labels| labels.get(i)) {
            Some(label) => writeln!(out, ",{}", label + 1)?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let failed = write_atomically(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        write_atomically(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn data_csv_reads_back() {
        let data = Dataset::new(2, vec![1.5, -2.0, 0.1, 3e-9]).unwrap();
        let mut out = Vec::new();
        write_data_csv(&mut out, &data, &["a".into(), "b".into()], Some(&[0, 1])).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,b,component\n1.5,-2,1\n0.1,0.000000003,2\n"
        );
    }
}
