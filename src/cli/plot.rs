//! `mixplore plot DATA --k K [fit options] --out FIG.svg`: fit as `mixplore fit` does and save
//! the explorer's picture of the result as SVG ([`crate::figure`]).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};

use super::args::PlotArgs;
use super::fit::fit_options;
use crate::data::csv::Source;
use crate::data::input::load;
use crate::em::{Dataset, FitResult, assignments, fit};
use crate::figure::{Figure, render_svg};

/// At most this many points are drawn (every m-th row beyond it), as the explorer does: more
/// would not show and would make the file huge.
pub const MAX_DRAWN: usize = 20_000;

/// Responsibility from which a point takes its component's colour (the explorer's rule).
const SURE: f64 = 0.9;

/// The rows drawn: all of them, or every ⌈n / MAX_DRAWN⌉-th.
fn drawn_rows(n: usize) -> Vec<usize> {
    let stride = n.div_ceil(MAX_DRAWN).max(1);
    (0..n).step_by(stride).collect()
}

/// Finds a `--x`/`--y` column by name (ignoring case) or 1-based index among `columns`.
fn find_dimension(entry: &str, columns: &[String], option: &str) -> anyhow::Result<usize> {
    columns
        .iter()
        .position(|name| name.eq_ignore_ascii_case(entry.trim()))
        .or_else(|| {
            entry
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|index| (1..=columns.len()).contains(index))
                .map(|index| index - 1)
        })
        .with_context(|| {
            format!(
                "{option} {entry:?}: not one of the fitted columns {}",
                columns.join(", ")
            )
        })
}

/// The figure of `result` on `data`, coloured by the final parameters.
pub fn figure_of(
    title: String,
    data: &Dataset,
    columns: &[String],
    dims: (usize, usize),
    result: &FitResult,
) -> Figure {
    let rows = drawn_rows(data.len());
    let labels = assignments(data, &rows, &result.mixture);
    let points = rows
        .iter()
        .zip(labels)
        .map(|(&i, (component, share))| {
            let row = data.row(i);
            let y = if data.dim() > 1 { row[dims.1] } else { 0.0 };
            ((row[dims.0], y), (share >= SURE).then_some(component))
        })
        .collect();
    Figure {
        title,
        axis_names: (
            columns[dims.0].clone(),
            columns.get(dims.1).cloned().unwrap_or_default(),
        ),
        dims,
        points,
        mixture: result.mixture.clone(),
        trace: result.trace.clone(),
        colours: Vec::new(),
    }
}

/// `mixplore plot …`.
pub fn run(args: &PlotArgs) -> anyhow::Result<()> {
    let options = fit_options(args.k, args.n_init, &args.em)?;
    let mut inputs = vec![("DATA", Path::new(&args.file))];
    if let Some(path) = &args.em.init_params {
        inputs.push(("--init-params", path));
    }
    crate::output::check_distinct(&inputs, &[("--out", Path::new(&args.out))])?;
    let table = load(&Source::from_arg(&args.file), &args.csv.options(false))?;
    let data = Arc::new(table.data);
    if data.len() < options.k {
        bail!(
            "{}: {} data rows, fewer than the {} components asked for (--k)",
            table.name,
            data.len(),
            options.k
        );
    }
    let d = data.dim();
    let x = match &args.x {
        Some(entry) => find_dimension(entry, &table.columns, "--x")?,
        None => 0,
    };
    let y = match &args.y {
        Some(entry) => find_dimension(entry, &table.columns, "--y")?,
        None => usize::from(d > 1 && x == 0),
    };
    if d > 1 && x == y {
        bail!("--x and --y name the same column {:?}", table.columns[x]);
    }
    let result = fit(Arc::clone(&data), &options)
        .with_context(|| format!("{}: the fit failed", table.name))?;
    let title = format!(
        "{}: K = {}, {} covariances, iteration {} ({})",
        table.name,
        result.mixture.k(),
        result.covariance.name(),
        result.iterations,
        result.stop_reason.name()
    );
    let figure = figure_of(title, &data, &table.columns, (x, y), &result);
    let svg = render_svg(&figure).map_err(|error| anyhow!("{error}"))?;
    crate::output::write_output(Path::new(&args.out), |out| out.write_all(svg.as_bytes()))?;
    for warning in table.warnings.iter().chain(&result.warnings) {
        eprintln!("mixplore: warning: {warning}");
    }
    Ok(())
}
