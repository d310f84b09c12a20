//! Writing results: the readable summary and the JSON object. Files are written through
//! [`crate::output`].

use serde::Serialize;

use crate::em::{FitResult, IterationRecord, Mixture, StopReason};

/// Time spent, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// Reading and parsing the data.
    pub load_ms: f64,
    /// Initialisation and EM, all runs.
    pub fit_ms: f64,
    /// fit_ms divided by the iterations of all runs.
    pub per_iter_ms: f64,
}

/// The sample weights of a fit (`--weights`).
#[derive(Debug, Serialize)]
pub struct SampleWeights<'a> {
    /// The weight column's name.
    pub column: &'a str,
    /// Σ_i w_i over the rows fitted: BIC's n.
    pub total: f64,
}

/// The `--json` object.
#[derive(Debug, Serialize)]
pub struct FitReport<'a> {
    /// The model file format version ([`crate::data::model`]): the result is a model file too.
    pub format_version: u32,
    pub source: &'a str,
    pub columns: &'a [String],
    pub n: usize,
    pub d: usize,
    pub k: usize,
    pub iterations: usize,
    pub converged: bool,
    /// "converged", "saddle" or "max-iter".
    pub stop_reason: &'a str,
    pub log_likelihood: f64,
    pub mean_log_likelihood: f64,
    pub bic: f64,
    pub aic: f64,
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    pub covariances: Vec<Vec<Vec<f64>>>,
    pub trace: &'a [f64],
    pub init: &'a str,
    pub seed: u64,
    pub n_init: usize,
    pub best_run: usize,
    /// The seed that reproduces the kept run with `--n-init 1`.
    pub best_seed: u64,
    pub covariance_type: &'a str,
    /// Whether the fit was hard (classification) EM (`--hard`).
    pub hard: bool,
    pub reg_covar: f64,
    pub tol: f64,
    pub max_iter: usize,
    pub dropped_rows: usize,
    pub warnings: &'a [String],
    /// The column of true classes (not fitted), if the data had one.
    pub truth_column: Option<&'a str>,
    /// The `--weights` column and Σ w (the n of BIC), if the rows were weighted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_weights: Option<SampleWeights<'a>>,
    /// Adjusted Rand index of the true classes against the most likely components.
    pub ari: Option<f64>,
    pub timing: Timing,
    /// Every iteration of the kept run, with `--history` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
}

/// One element of the `--history` array: θ(t) in the top-level result's nested format, and the
/// quantities of the derivation of EM at it (natural logs, totals over the data).
#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    pub iteration: usize,
    pub log_likelihood: f64,
    pub weights: Vec<f64>,
    pub means: Vec<Vec<f64>>,
    pub covariances: Vec<Vec<Vec<f64>>>,
    /// Q(θ(t) | θ(t)).
    pub q: f64,
    /// H(t), the entropy of the responsibilities at θ(t).
    pub entropy: f64,
    /// Q(θ(t+1) | θ(t)); null at the last iteration.
    pub q_next: Option<f64>,
}

impl HistoryEntry {
    /// The JSON shape of one engine record.
    pub fn of(record: &IterationRecord) -> Self {
        let params = record.mixture.to_params();
        Self {
            iteration: record.iteration,
            log_likelihood: record.log_likelihood,
            weights: params.weights,
            means: params.means,
            covariances: params.covariances,
            q: record.q,
            entropy: record.entropy,
            q_next: record.q_next,
        }
    }
}

/// Formats a number for the summary: 6 significant digits, scientific when very large or small.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&magnitude) {
        let decimals = (5 - magnitude.log10().floor() as i32).clamp(0, 8) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.5e}")
    }
}

/// The readable summary of a fit.
#[allow(clippy::too_many_arguments)]
pub fn summary(
    source: &str,
    columns: &[String],
    result: &FitResult,
    init: &str,
    tol: f64,
    dropped_rows: usize,
    timing: &Timing,
) -> String {
    let mixture: &Mixture = &result.mixture;
    let (k, d) = (mixture.k(), mixture.dim());
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "mixplore fit {source}: n = {}, D = {d}, K = {k} ({} covariances), columns {}",
        result.n,
        result.covariance.name(),
        columns.join(", ")
    ));
    if dropped_rows > 0 {
        line(format!(
            "  {dropped_rows} invalid rows dropped (--drop-invalid)"
        ));
    }
    if let Some(total) = result.total_weight {
        line(format!(
            "  weighted rows (--weights): Σw = {}, the n of BIC and of the mean per point",
            number(total)
        ));
    }
    let state = match result.stop_reason {
        StopReason::Converged => format!(
            "converged after {} iterations (tol {tol:e})",
            result.iterations
        ),
        StopReason::Saddle { .. } => format!(
            "stopped at a saddle point after {} iterations, not converged (see the warning)",
            result.iterations
        ),
        StopReason::MaxIter => format!(
            "stopped after {} iterations without converging",
            result.iterations
        ),
    };
    let best = if result.runs > 1 {
        format!(" (run {}, --seed {})", result.best_run, result.best_seed)
    } else {
        String::new()
    };
    line(format!(
        "{state}; init {init}, best of {} run{}{best}; fit {:.1} ms ({:.3} ms per iteration), load {:.1} ms",
        result.runs,
        if result.runs == 1 { "" } else { "s" },
        timing.fit_ms,
        timing.per_iter_ms,
        timing.load_ms
    ));
    line(format!(
        "log-likelihood {} (mean {} per point)   BIC {}   AIC {}",
        number(result.log_likelihood()),
        number(result.mean_log_likelihood()),
        number(result.bic()),
        number(result.aic())
    ));
    let label_width = 14;
    let width = columns
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .max(12)
        + 2;
    let mut header = format!("{:label_width$}", "");
    for column in columns {
        header.push_str(&format!("{column:>width$}"));
    }
    for component in 0..k {
        line(String::new());
        line(format!(
            "component {}   weight {}",
            component + 1,
            number(mixture.weights()[component])
        ));
        line(header.clone());
        let mut mean = format!("{:label_width$}", "  mean");
        for value in mixture.mean(component) {
            mean.push_str(&format!("{:>width$}", number(*value)));
        }
        line(mean);
        let covariance = mixture.covariance(component);
        for row in 0..d {
            let label = if row == 0 { "  covariance" } else { "" };
            let mut text = format!("{label:label_width$}");
            for value in &covariance[row * d..(row + 1) * d] {
                text.push_str(&format!("{:>width$}", number(*value)));
            }
            line(text);
        }
    }
    for warning in &result.warnings {
        line(format!("warning: {warning}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_readable() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1.234567891), "1.23457");
        assert_eq!(number(-1130.2639), "-1130.26");
        assert_eq!(number(2.5e-7), "2.50000e-7");
        assert_eq!(number(12345678.0), "1.23457e7");
    }
}
