//! `mixplore explore` (and `mixplore` alone): load or simulate the data, check the settings,
//! then hand over to the explorer. Everything that can be wrong with the input is reported here,
//! before the terminal is touched.

use std::sync::Arc;

use anyhow::{Context, bail};

use super::args::{CsvArgs, EmArgs, ExploreArgs, TerminalArgs};
use super::fit::fit_options;
use crate::data::csv::Source as CsvSource;
use crate::data::input::load;
use crate::data::spec;
use crate::em::{Init, InitMethod, limits};
use crate::explorer;
use crate::explorer::app::{Origin, RunSettings, Source, Truth, shell_word};

/// K when neither --k nor a spec says.
const DEFAULT_K: u32 = 2;

/// The start of `mixplore` with no arguments: means at two data points (random-from-data,
/// seed 3), visibly poor (log-likelihood −2078.7 against −1716.5 at the optimum) and 34
/// iterations from convergence, so the first steps show EM moving. k-means++ would start at
/// ARI 0.913 and converge in 10 iterations with almost nothing to watch.
pub const DEFAULT_START: (InitMethod, u64) = (InitMethod::RandomFromData, 3);

/// `mixplore` with no arguments: the default simulation, K = 2, from [`DEFAULT_START`].
pub fn run_default(terminal: TerminalArgs) -> anyhow::Result<()> {
    let spec = spec::parse_toml(super::DEFAULT_SPEC, "assets/specs/default.toml")?;
    let source = Source::simulated(spec, "default simulation", Origin::Default);
    let (init, seed) = DEFAULT_START;
    let settings = RunSettings {
        init,
        seed,
        ..RunSettings::new(DEFAULT_K as usize)
    };
    explorer::run(source, settings, terminal.overrides())
}

/// `mixplore explore [FILE | --spec SPEC] …`.
pub fn run(args: &ExploreArgs) -> anyhow::Result<()> {
    if args.n_init.is_some() {
        bail!(
            "--n-init applies to fit and select; the explorer runs one start at a time (r for another)"
        );
    }
    // A spec given where the data go (`explore my.toml`) is what the user means by it.
    let spec_in_file = match (&args.file, &args.spec) {
        (Some(file), None) if crate::data::input::is_spec_path(std::path::Path::new(file)) => {
            Some(std::path::PathBuf::from(file))
        }
        _ => None,
    };
    let file = args.file.as_ref().filter(|_| spec_in_file.is_none());
    let spec_path = spec_in_file.as_ref().or(args.spec.as_ref());
    let (source, default_k) = match (file, spec_path) {
        (Some(file), _) => {
            let table = load(&CsvSource::from_arg(file), &args.csv.options(false))?;
            let mut source = Source::loaded(
                table.name,
                Origin::File {
                    path: file.clone(),
                    options: csv_words(&args.csv),
                },
                table.columns,
                table.data,
            );
            // The truth column is the explorer's truth (ARI per iteration, confusion table);
            // what loading had to say goes to its messages.
            source.truth = table.truth.map(|truth| Truth {
                name: format!("column {}", truth.name),
                classes: truth.classes,
                labels: truth.labels,
            });
            source.warnings = table.warnings;
            (source, DEFAULT_K)
        }
        (None, Some(path)) => {
            let spec = spec::load(path)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let k = spec.k() as u32;
            (Source::simulated(spec, name, Origin::Spec(path.clone())), k)
        }
        (None, None) => {
            let spec = spec::parse_toml(super::DEFAULT_SPEC, "assets/specs/default.toml")?;
            (
                Source::simulated(spec, "default simulation", Origin::Default),
                DEFAULT_K,
            )
        }
    };
    let k = args.k.unwrap_or(default_k);
    let settings = settings(k, &args.em, &source)?;
    explorer::run(source, settings, args.terminal.overrides())
}

fn settings(k: u32, em: &EmArgs, source: &Source) -> anyhow::Result<RunSettings> {
    let options = fit_options(k, 1, em)?;
    let n = source.data.len();
    if n < options.k {
        bail!(
            "{}: {n} data rows, fewer than the {} components asked for (--k)",
            source.name,
            options.k
        );
    }
    limits::check_fit(n, source.data.dim(), options.k, 1).with_context(|| source.name.clone())?;
    let (init, init_params) = match options.init {
        Init::Params(params) => {
            if params.dim() != source.data.dim() {
                bail!(
                    "the starting parameters have dimension {} but the data have {} columns",
                    params.dim(),
                    source.data.dim()
                );
            }
            if params.k() != options.k {
                bail!(
                    "the starting parameters have {} components but --k is {}",
                    params.k(),
                    options.k
                );
            }
            (InitMethod::KMeansPlusPlus, Some(Arc::new(params)))
        }
        Init::Method(method) => (method, None),
    };
    Ok(RunSettings {
        k: options.k,
        init,
        use_init_params: init_params.is_some(),
        init_params,
        seed: options.seed,
        config: options.config,
    })
}

/// The CSV options as they would be written on a `mixplore fit` command line.
fn csv_words(csv: &CsvArgs) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(columns) = &csv.columns {
        words.push(format!("--columns {}", shell_word(&columns.join(","))));
    }
    if csv.delimiter != b',' {
        let delimiter = if csv.delimiter == b'\t' {
            "tab".to_owned()
        } else {
            shell_word(&char::from(csv.delimiter).to_string())
        };
        words.push(format!("--delimiter {delimiter}"));
    }
    if csv.drop_invalid {
        words.push("--drop-invalid".to_owned());
    }
    if let Some(truth) = &csv.truth {
        words.push(format!("--truth {}", shell_word(truth)));
    }
    if let Some(weights) = &csv.weights {
        words.push(format!("--weights {}", shell_word(weights)));
    }
    words
}
