//! The data set as CSV, as `mixplore simulate` and the explorer's `w` write it (through
//! [`crate::output`], which decides how a file is replaced).

use std::io::Write;

use crate::em::Dataset;

/// Writes `data` as CSV with a header of `columns`, plus a `component` column (numbered from 1)
/// when `labels` are given: what `mixplore simulate` writes and `mixplore fit` reads, the
/// `component` column as the true classes rather than a dimension (see
/// [`crate::data::csv::TruthChoice`]).
pub fn write_data_csv(
    out: &mut dyn Write,
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
