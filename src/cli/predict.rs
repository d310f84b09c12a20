//! `mixplore predict` and `mixplore score`: use a saved model ([`crate::data::model`]) on data.
//!
//! The data's columns are chosen by the model's feature names unless `--columns` says otherwise,
//! and the names selected must be the model's (in its order) whenever the data have a header, so
//! a model is never silently applied to the wrong measurements. The numbers are scikit-learn's
//! `predict`, `predict_proba`, `score_samples` and `score` ([`crate::em::score_rows`]).

use std::io::Write;
use std::path::Path;

use anyhow::bail;

use super::args::{ModelUseArgs, PredictArgs, ScoreArgs};
use crate::data::csv::{LoadError, Source, Table};
use crate::data::input::{Kind, load};
use crate::data::model::{Model, read_model};
use crate::em::{RowScores, score_rows};

/// The model and the data's matching columns, checked against each other; `out` is refused
/// first if it names the data or the model file.
fn load_model_and_data(args: &ModelUseArgs, out: Option<&str>) -> anyhow::Result<(Model, Table)> {
    if let Some(out) = out {
        crate::output::check_distinct(
            &[("DATA", Path::new(&args.file)), ("--model", &args.model)],
            &[("--out", Path::new(out))],
        )?;
    }
    let model = read_model(&args.model)?;
    let features = model.columns.join(", ");
    let mut options = args.csv.options(false);
    let by_model_names = options.columns.is_none();
    if by_model_names {
        options.columns = Some(model.columns.clone());
    }
    let source = Source::from_arg(&args.file);
    let table = match load(&source, &options) {
        Err(error) if by_model_names => match error.downcast_ref::<LoadError>() {
            Some(LoadError::UnknownColumn {
                name,
                requested,
                columns,
            }) => bail!(
                "{name}: the model's feature {requested:?} is not a column of the data (the model {} has features {features}); the columns are {columns}; choose the data's columns in the model's order with --columns",
                args.model.display()
            ),
            _ => return Err(error),
        },
        other => other?,
    };
    if table.data.dim() != model.mixture.dim() {
        bail!(
            "{}: {} columns selected ({}) but the model {} has {} features ({features})",
            table.name,
            table.data.dim(),
            table.columns.join(", "),
            args.model.display(),
            model.mixture.dim()
        );
    }
    let same_names = table
        .columns
        .iter()
        .zip(&model.columns)
        .all(|(data, model)| data.trim().eq_ignore_ascii_case(model.trim()));
    // Columns have names of their own in a CSV header, Parquet and Arrow; not in .npy arrays or
    // a CSV file without a header, which are taken by position.
    let named =
        table.header.is_some() || matches!(Kind::of(&source), Kind::Parquet | Kind::ArrowIpc);
    if named && !same_names {
        bail!(
            "{}: the selected columns {} are not the model's features {features} ({}); select the model's columns with --columns",
            table.name,
            table.columns.join(", "),
            args.model.display()
        );
    }
    Ok((model, table))
}

/// Writes to `out` through [`crate::output`]: `-` is standard output, a file is written whole
/// or not at all, a device in place.
fn write_output(
    out: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    crate::output::write_output(Path::new(out), write).map(|_| ())
}

/// Tells the user on standard error about rows the loader dropped or warned of.
fn report_load(table: &Table) {
    for warning in &table.warnings {
        eprintln!("mixplore: warning: {warning}");
    }
}

/// A number for a CSV cell that reads back to the same double: plain decimals in the usual
/// range, scientific notation otherwise (Rust's plain `{}` spells 1e-300 with 300 zeros).
fn cell(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-5..1e16).contains(&magnitude) || !value.is_finite() {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

/// The `predict` CSV: `component` (1-based) and, with `proba`, `responsibility_1..K`.
fn write_predictions(
    out: &mut dyn Write,
    scores: &RowScores,
    k: usize,
    proba: bool,
) -> std::io::Result<()> {
    out.write_all(b"component")?;
    if proba {
        for c in 1..=k {
            write!(out, ",responsibility_{c}")?;
        }
    }
    out.write_all(b"\n")?;
    for (i, component) in scores.components.iter().enumerate() {
        write!(out, "{}", component + 1)?;
        if let Some(all) = scores.responsibilities.as_deref().filter(|_| proba) {
            for value in &all[i * k..(i + 1) * k] {
                write!(out, ",{}", cell(*value))?;
            }
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// `mixplore predict DATA --model MODEL.json [--proba] [--out FILE|-]`.
pub fn run_predict(args: &PredictArgs) -> anyhow::Result<()> {
    let (model, table) = load_model_and_data(&args.input, Some(&args.out))?;
    report_load(&table);
    let scores = score_rows(&table.data, &model.mixture, args.proba);
    let k = model.mixture.k();
    write_output(&args.out, |out| {
        write_predictions(out, &scores, k, args.proba)
    })
}

/// `mixplore score DATA --model MODEL.json [--out FILE|-]`.
pub fn run_score(args: &ScoreArgs) -> anyhow::Result<()> {
    let (model, table) = load_model_and_data(&args.input, args.out.as_deref())?;
    report_load(&table);
    let scores = score_rows(&table.data, &model.mixture, false);
    let n = scores.log_densities.len();
    // Shortest round-trip formatting: the printed numbers read back to the same doubles.
    let summary = format!(
        "mean log-likelihood {} over {n} rows of {} (total {}; model {})",
        scores.mean_log_density(),
        table.name,
        scores.total_log_density(),
        args.input.model.display()
    );
    if let Some(out) = &args.out {
        write_output(out, |out| {
            out.write_all(b"log_density\n")?;
            for value in &scores.log_densities {
                writeln!(out, "{}", cell(*value))?;
            }
            Ok(())
        })?;
    }
    if args.out.as_deref() == Some("-") {
        eprintln!("{summary}");
    } else {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        writeln!(out, "{summary}")?;
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_back_exactly_and_stay_short() {
        for value in [
            0.0,
            1.0,
            -4.637001960739941,
            2.6142027956459206e-9,
            1e-300,
            5e-324,
            3e20,
        ] {
            let text = cell(value);
            assert_eq!(text.parse::<f64>().unwrap(), value);
            assert!(text.len() <= 24, "{text}");
        }
        assert_eq!(cell(0.5), "0.5");
        assert_eq!(cell(2.5e-9), "2.5e-9");
    }
}
