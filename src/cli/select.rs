//! `mixplore select`: fit every K in a range for every covariance type asked for, and compare
//! the fits by BIC (lower is better), as one table or a JSON array.

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use super::args::SelectArgs;
use crate::data::csv::{Source, load};
use crate::em::{FitOptions, Init, fit, limits};

/// One row of the comparison.
#[derive(Debug, Serialize)]
struct Row {
    covariance: &'static str,
    k: usize,
    /// Total log-likelihood (None when the fit failed).
    log_likelihood: Option<f64>,
    bic: Option<f64>,
    aic: Option<f64>,
    iterations: Option<usize>,
    converged: Option<bool>,
    /// Why the kept run stopped: "converged", "saddle" (the tolerance test held at identical
    /// components, so not converged) or "max-iter".
    stop_reason: Option<&'static str>,
    /// The seed that reproduces the kept run with `mixplore fit … --n-init 1`.
    best_seed: Option<u64>,
    /// The lowest BIC of all rows.
    best: bool,
    /// Why the fit failed, if it did.
    error: Option<String>,
}

/// `mixplore select FILE …`.
pub fn run(args: &SelectArgs) -> anyhow::Result<()> {
    // The limits first, so a bad count fails before the data are read.
    for &k in &args.k.0 {
        limits::check_components(k)?;
    }
    limits::check_n_init(args.n_init as usize)?;
    for &covariance in &args.covariance.0 {
        args.stop.config(covariance)?;
    }
    let table = load(&Source::from_arg(&args.file), &args.csv.options(false))?;
    let data = Arc::new(table.data);
    let mut rows = Vec::new();
    for &covariance in &args.covariance.0 {
        for &k in &args.k.0 {
            let config = args.stop.config(covariance)?;
            let options = FitOptions {
                k,
                init: Init::Method(args.init.into()),
                n_init: args.n_init as usize,
                seed: args.seed,
                config,
            };
            let row = match fit(Arc::clone(&data), &options) {
                Ok(result) => Row {
                    covariance: covariance.name(),
                    k,
                    log_likelihood: Some(result.log_likelihood()),
                    bic: Some(result.bic()),
                    aic: Some(result.aic()),
                    iterations: Some(result.iterations),
                    converged: Some(result.converged),
                    stop_reason: Some(result.stop_reason.name()),
                    best_seed: Some(result.best_seed),
                    best: false,
                    error: None,
                },
                Err(error) => Row {
                    covariance: covariance.name(),
                    k,
                    log_likelihood: None,
                    bic: None,
                    aic: None,
                    iterations: None,
                    converged: None,
                    stop_reason: None,
                    best_seed: None,
                    best: false,
                    error: Some(error.to_string()),
                },
            };
            rows.push(row);
        }
    }
    let best = rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| row.bic.map(|bic| (i, bic)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    if let Some(i) = best {
        rows[i].best = true;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        write!(
            out,
            "mixplore select {}: n = {}, D = {}",
            table.name,
            data.len(),
            data.dim()
        )?;
        if let Some(column) = &table.weights_column {
            // Σw is BIC's n here.
            write!(out, ", weighted by {column} (Σw = {})", data.total_weight())?;
        }
        match best.map(|i| &rows[i]) {
            Some(row) => writeln!(
                out,
                "; lowest BIC: {} covariances, K = {} (BIC {:.3})",
                row.covariance,
                row.k,
                row.bic.unwrap_or(f64::NAN)
            )?,
            None => writeln!(out, "; no fit succeeded")?,
        }
        if let Some(truth) = &table.truth {
            writeln!(out, "{}", truth.describe())?;
        }
        for warning in &table.warnings {
            writeln!(out, "warning: {warning}")?;
        }
        writeln!(
            out,
            "{:<10} {:>3} {:>16} {:>14} {:>14} {:>6} {:>10}",
            "covariance", "K", "log-likelihood", "BIC", "AIC", "iter", "converged"
        )?;
        for row in &rows {
            let mark = if row.best { "  ← lowest BIC" } else { "" };
            match (
                row.log_likelihood,
                row.bic,
                row.aic,
                row.iterations,
                row.stop_reason,
            ) {
                (Some(ll), Some(bic), Some(aic), Some(iterations), Some(stop)) => writeln!(
                    out,
                    "{:<10} {:>3} {:>16.3} {:>14.3} {:>14.3} {:>6} {:>10}{mark}",
                    row.covariance,
                    row.k,
                    ll,
                    bic,
                    aic,
                    iterations,
                    match stop {
                        "converged" => "true",
                        "saddle" => "saddle",
                        _ => "false",
                    }
                )?,
                _ => writeln!(
                    out,
                    "{:<10} {:>3} failed: {}",
                    row.covariance,
                    row.k,
                    row.error.as_deref().unwrap_or("unknown error")
                )?,
            }
        }
        if rows.iter().any(|row| row.stop_reason == Some("saddle")) {
            writeln!(
                out,
                "saddle: the kept run stopped at a saddle point (identical components from a symmetric start), not a maximum; try --init kmeans++, another --seed or a larger --n-init"
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
