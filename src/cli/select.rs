//! `mixplore select`: fit every K in a range for every covariance type asked for, and compare
//! the fits by BIC, AIC and ICL (lower is better), as one table or a JSON array. Covariance types
//! are shown with their mclust names (full VVV, diag VVI, spherical VII, tied EEE).

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use super::args::SelectArgs;
use crate::data::csv::Source;
use crate::data::input::load;
use crate::data::model::mclust_name;
use crate::em::{FitOptions, Init, fit, icl, limits};

/// One row of the comparison.
#[derive(Debug, Serialize)]
struct Row {
    covariance: &'static str,
    /// mclust's name for the covariance type (VVV, VVI, VII, EEE).
    mclust: &'static str,
    k: usize,
    /// Total log-likelihood (None when the fit failed).
    log_likelihood: Option<f64>,
    bic: Option<f64>,
    aic: Option<f64>,
    /// mclust's ICL on BIC's scale: BIC − 2 Σ_i ln max_k r_ik (lower is better).
    icl: Option<f64>,
    iterations: Option<usize>,
    converged: Option<bool>,
    /// Why the kept run stopped: "converged", "saddle" (the tolerance test held at identical
    /// components, so not converged) or "max-iter".
    stop_reason: Option<&'static str>,
    /// The seed that reproduces the kept run with `mixplore fit … --n-init 1`.
    best_seed: Option<u64>,
    /// The lowest BIC of all rows.
    best: bool,
    /// The lowest ICL of all rows.
    best_icl: bool,
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
                    mclust: mclust_name(covariance),
                    k,
                    log_likelihood: Some(result.log_likelihood()),
                    bic: Some(result.bic()),
                    aic: Some(result.aic()),
                    icl: Some(icl(result.bic(), &data, &result.mixture)),
                    iterations: Some(result.iterations),
                    converged: Some(result.converged),
                    stop_reason: Some(result.stop_reason.name()),
                    best_seed: Some(result.best_seed),
                    best: false,
                    best_icl: false,
                    error: None,
                },
                Err(error) => Row {
                    covariance: covariance.name(),
                    mclust: mclust_name(covariance),
                    k,
                    log_likelihood: None,
                    bic: None,
                    aic: None,
                    icl: None,
                    iterations: None,
                    converged: None,
                    stop_reason: None,
                    best_seed: None,
                    best: false,
                    best_icl: false,
                    error: Some(error.to_string()),
                },
            };
            rows.push(row);
        }
    }
    let lowest = |criterion: fn(&Row) -> Option<f64>| {
        rows.iter()
            .enumerate()
            .filter_map(|(i, row)| criterion(row).map(|value| (i, value)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    };
    let best = lowest(|row| row.bic);
    let best_icl = lowest(|row| row.icl);
    if let Some(i) = best {
        rows[i].best = true;
    }
    if let Some(i) = best_icl {
        rows[i].best_icl = true;
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
        match (best.map(|i| &rows[i]), best_icl.map(|i| &rows[i])) {
            (Some(row), Some(by_icl)) => writeln!(
                out,
                "; lowest BIC: {} covariances ({}), K = {} (BIC {:.3}); lowest ICL: {} ({}), K = {} (ICL {:.3})",
                row.covariance,
                row.mclust,
                row.k,
                row.bic.unwrap_or(f64::NAN),
                by_icl.covariance,
                by_icl.mclust,
                by_icl.k,
                by_icl.icl.unwrap_or(f64::NAN)
            )?,
            _ => writeln!(out, "; no fit succeeded")?,
        }
        if let Some(truth) = &table.truth {
            writeln!(out, "{}", truth.describe())?;
        }
        for warning in &table.warnings {
            writeln!(out, "warning: {warning}")?;
        }
        writeln!(
            out,
            "{:<14} {:>3} {:>16} {:>14} {:>14} {:>14} {:>6} {:>10}",
            "covariance", "K", "log-likelihood", "BIC", "AIC", "ICL", "iter", "converged"
        )?;
        for row in &rows {
            let mark = match (row.best, row.best_icl) {
                (true, true) => "  ← lowest BIC and ICL",
                (true, false) => "  ← lowest BIC",
                (false, true) => "  ← lowest ICL",
                (false, false) => "",
            };
            let covariance = format!("{} {}", row.covariance, row.mclust);
            match (
                row.log_likelihood,
                row.bic,
                row.aic,
                row.icl,
                row.iterations,
                row.stop_reason,
            ) {
                (Some(ll), Some(bic), Some(aic), Some(icl), Some(iterations), Some(stop)) => {
                    writeln!(
                        out,
                        "{covariance:<14} {:>3} {:>16.3} {:>14.3} {:>14.3} {:>14.3} {:>6} {:>10}{mark}",
                        row.k,
                        ll,
                        bic,
                        aic,
                        icl,
                        iterations,
                        match stop {
                            "converged" => "true",
                            "saddle" => "saddle",
                            _ => "false",
                        }
                    )?
                }
                _ => writeln!(
                    out,
                    "{covariance:<14} {:>3} failed: {}",
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
