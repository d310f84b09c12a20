//! `mixplore fit`: load a CSV, fit, and report (summary or JSON, plus optional label and trace
//! files). Also the no-argument default: fit the built-in default simulation.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};

use super::args::{EmArgs, FitArgs};
use super::output::{FitReport, HistoryEntry, SampleWeights, Timing, summary};
use crate::data::csv::{Source, Table, TruthColumn};
use crate::data::input::load;
use crate::data::model::{MODEL_FORMAT_VERSION, ModelFile};
use crate::em::{
    Dataset, EmConfig, FitOptions, FitResult, Init, Mixture, MixtureParams, agreement_with_labels,
    fit, fit_with_history, limits, responsibilities_of,
};
use crate::output::{check_distinct, write_output};

/// The fit settings from the command line, with the starting parameters read if given.
/// K and --n-init are checked against the engine's limits (`em::limits`) before anything is read.
pub(super) fn fit_options(k: u32, n_init: u32, args: &EmArgs) -> anyhow::Result<FitOptions> {
    limits::check_components(k as usize)?;
    limits::check_n_init(n_init as usize)?;
    let init = match &args.init_params {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            let params: MixtureParams = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a valid parameters file", path.display()))?;
            let mixture = Mixture::from_params(&params)
                .with_context(|| format!("{}: invalid starting parameters", path.display()))?;
            Init::Params(mixture)
        }
        None => Init::Method(args.init.into()),
    };
    Ok(FitOptions {
        k: k as usize,
        init,
        n_init: n_init as usize,
        seed: args.seed,
        config: EmConfig {
            hard: args.hard,
            ..args.stop.config(args.covariance.into())?
        },
    })
}

fn init_name(options: &FitOptions) -> &'static str {
    match &options.init {
        Init::Params(_) => "from --init-params",
        Init::Method(method) => method.name(),
    }
}

/// Fits and times (recording every iteration if `history`); the error names the source when it
/// is about the data.
fn timed_fit(
    source: &str,
    data: Arc<Dataset>,
    options: &FitOptions,
    history: bool,
) -> anyhow::Result<(FitResult, f64)> {
    if let Init::Params(params) = &options.init
        && params.dim() != data.dim()
    {
        bail!(
            "{source}: the starting parameters have dimension {} but {} columns were selected",
            params.dim(),
            data.dim()
        );
    }
    if data.len() < options.k {
        bail!(
            "{source}: {} data rows, fewer than the {} components asked for (--k)",
            data.len(),
            options.k
        );
    }
    limits::check_fit(data.len(), data.dim(), options.k, options.n_init)
        .with_context(|| source.to_owned())?;
    let start = Instant::now();
    let result = if history {
        fit_with_history(data, options)
    } else {
        fit(data, options)
    }
    .with_context(|| format!("{source}: the fit failed"))?;
    Ok((result, start.elapsed().as_secs_f64() * 1e3))
}

/// `mixplore fit FILE …`.
pub fn run(args: &FitArgs) -> anyhow::Result<()> {
    check_outputs(args)?;
    let options = fit_options(args.k, args.n_init, &args.em)?;
    let started = Instant::now();
    let source = Source::from_arg(&args.file);
    let table = load(&source, &args.csv.options(args.labels.is_some()))?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let Table {
        name,
        data,
        columns,
        header,
        rows,
        dropped_rows,
        first_dropped: _,
        truth,
        weights_column,
        warnings,
    } = table;
    let data = Arc::new(data);
    let (mut result, fit_ms) = timed_fit(&name, Arc::clone(&data), &options, args.history)?;
    // The load's warnings (dropped rows first) come before the fit's.
    result.warnings.splice(0..0, warnings);
    let ari = truth
        .as_ref()
        .map(|truth| agreement_with_labels(&data, &truth.labels, &result.mixture));
    let timing = Timing {
        load_ms,
        fit_ms,
        per_iter_ms: fit_ms / result.total_iterations.max(1) as f64,
    };

    if let Some(path) = &args.labels {
        let (responsibilities, _) = responsibilities_of(&data, &result.mixture);
        let k = result.mixture.k();
        write_output(path, |out| {
            write_labels(
                out,
                header.as_ref(),
                rows.as_deref(),
                &data,
                &columns,
                &responsibilities,
                k,
            )
        })?;
    }
    if let Some(path) = &args.save_model {
        let model = ModelFile::new(
            &result.mixture,
            options.config.covariance,
            &columns,
            &name,
            result.n,
            result.log_likelihood(),
        );
        write_output(path, |out| {
            serde_json::to_writer_pretty(&mut *out, &model)?;
            writeln!(out)
        })?;
    }
    if let Some(path) = &args.trace {
        write_output(path, |out| {
            writeln!(out, "iteration,log_likelihood")?;
            for (iteration, value) in result.trace.iter().enumerate() {
                writeln!(out, "{iteration},{value}")?;
            }
            Ok(())
        })?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let params = result.mixture.to_params();
        let report = FitReport {
            format_version: MODEL_FORMAT_VERSION,
            source: &name,
            columns: &columns,
            n: result.n,
            d: data.dim(),
            k: result.mixture.k(),
            iterations: result.iterations,
            converged: result.converged,
            stop_reason: result.stop_reason.name(),
            log_likelihood: result.log_likelihood(),
            mean_log_likelihood: result.mean_log_likelihood(),
            bic: result.bic(),
            aic: result.aic(),
            weights: params.weights,
            means: params.means,
            covariances: params.covariances,
            trace: &result.trace,
            init: init_name(&options),
            seed: options.seed,
            n_init: options.n_init,
            best_run: result.best_run,
            best_seed: result.best_seed,
            covariance_type: options.config.covariance.name(),
            hard: options.config.hard,
            reg_covar: options.config.reg_covar,
            tol: options.config.tol,
            max_iter: options.config.max_iter,
            dropped_rows,
            warnings: &result.warnings,
            truth_column: truth.as_ref().map(|truth| truth.name.as_str()),
            sample_weights: weights_column
                .as_deref()
                .zip(result.total_weight)
                .map(|(column, total)| SampleWeights { column, total }),
            ari,
            timing,
            history: result
                .history
                .as_ref()
                .map(|records| records.iter().map(HistoryEntry::of).collect()),
        };
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        let mut text = summary(
            &name,
            &columns,
            &result,
            init_name(&options),
            options.config.tol,
            dropped_rows,
            &timing,
        );
        if let (Some(truth), Some(ari)) = (&truth, ari) {
            // Right under the first line, which names the columns that were fitted.
            let at = text.find('\n').map_or(text.len(), |end| end + 1);
            text.insert_str(at, &format!("{}\n", truth_line(truth, ari)));
        }
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Refuses, before anything is read, a `--labels` or `--trace` that is the data file, the
/// `--init-params` file or the other output.
fn check_outputs(args: &FitArgs) -> anyhow::Result<()> {
    let mut inputs: Vec<(&str, &std::path::Path)> =
        vec![("FILE", std::path::Path::new(&args.file))];
    if let Some(path) = &args.em.init_params {
        inputs.push(("--init-params", path));
    }
    let mut outputs: Vec<(&str, &std::path::Path)> = Vec::new();
    if let Some(path) = &args.labels {
        outputs.push(("--labels", path));
    }
    if let Some(path) = &args.trace {
        outputs.push(("--trace", path));
    }
    if let Some(path) = &args.save_model {
        outputs.push(("--save-model", path));
    }
    check_distinct(&inputs, &outputs)
}

/// The summary's line about the truth column, e.g. ``truth: column `species` (3 classes), not
/// used as a feature; adjusted Rand index 0.904 …``.
fn truth_line(truth: &TruthColumn, ari: f64) -> String {
    format!(
        "{}; adjusted Rand index {ari:.3} against the most likely components",
        truth.describe()
    )
}

/// The `--labels` file: each kept input row (all its fields), then the most likely component
/// (1-based) and the K responsibilities.
fn write_labels(
    out: &mut dyn Write,
    header: Option<&csv::StringRecord>,
    rows: Option<&[csv::StringRecord]>,
    data: &Dataset,
    columns: &[String],
    responsibilities: &[f64],
    k: usize,
) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut head: Vec<String> = match (header, rows) {
        (Some(header), _) => header.iter().map(str::to_owned).collect(),
        (None, Some(rows)) => (1..=rows.first().map_or(0, csv::StringRecord::len))
            .map(|i| format!("x{i}"))
            .collect(),
        (None, None) => columns.to_vec(),
    };
    head.push("component".into());
    head.extend((1..=k).map(|c| format!("responsibility_{c}")));
    writer.write_record(&head)?;
    let mut record: Vec<String> = Vec::new();
    for (i, row_responsibilities) in responsibilities.chunks_exact(k).enumerate() {
        record.clear();
        match rows.and_then(|rows| rows.get(i)) {
            Some(row) => record.extend(row.iter().map(str::to_owned)),
            None => record.extend(data.row(i).iter().map(f64::to_string)),
        }
        let best = row_responsibilities
            .iter()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |acc, (c, &r)| if r > acc.1 { (c, r) } else { acc },
            )
            .0;
        record.push((best + 1).to_string());
        record.extend(row_responsibilities.iter().map(f64::to_string));
        writer.write_record(&record)?;
    }
    writer.flush()
}
