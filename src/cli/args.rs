//! The command line's argument definitions (clap), checked into engine types at this edge.
//!
//! Every failure, from a usage error to a bad cell in a CSV file, ends the same way: one line on
//! standard error naming where the problem is, and exit status 2.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::csv::{CsvOptions, TruthChoice};
use crate::em::{
    CovarianceType, DEFAULT_MAX_ITER, DEFAULT_REG_COVAR, DEFAULT_TOL, EmConfig, EmError, InitMethod,
};

/// Exit status of every usage error and every bad input.
pub const EXIT_FAILURE: u8 = 2;

/// mixplore: explore the EM algorithm on Gaussian mixture models.
#[derive(Debug, Parser)]
#[command(
    name = "mixplore",
    version,
    about,
    long_about = None,
    override_usage = "mixplore [OPTIONS] [COMMAND]\n       mixplore FILE [explore options]   (the same as mixplore explore FILE)"
)]
pub struct Cli {
    /// What to do; without a command, mixplore opens the explorer on the built-in default
    /// simulation (assets/specs/default.toml) with K = 2; `mixplore FILE …` is
    /// `mixplore explore FILE …`.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Glyphs and theme of the explorer opened without a command.
    #[command(flatten)]
    pub terminal: TerminalArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the explorer: watch EM fit a CSV file or a simulation, iteration by iteration.
    Explore(ExploreArgs),
    /// Fit a Gaussian mixture to a CSV file by EM and print the result.
    Fit(FitArgs),
    /// Draw data from a mixture spec (TOML or JSON) and write them as CSV.
    Simulate(SimulateArgs),
    /// Fit every K in a range and every covariance type asked for; compare them by BIC.
    Select(SelectArgs),
    /// Classify rows with a saved model: each row's most likely component (and responsibilities).
    Predict(PredictArgs),
    /// Score rows with a saved model: each row's log density, and the mean log-likelihood.
    Score(ScoreArgs),
    /// Fit, then save the explorer's picture of the fit as SVG (scatter, ellipses, trace).
    Plot(PlotArgs),
}

/// How EM starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// k-means++ seeding, a few Lloyd iterations, then an M-step.
    #[value(name = "kmeans++")]
    KMeansPlusPlus,
    /// K distinct data points as means, the data covariance for each, equal weights.
    RandomFromData,
    /// Random responsibilities, then an M-step.
    Random,
}

impl From<InitArg> for InitMethod {
    fn from(arg: InitArg) -> Self {
        match arg {
            InitArg::KMeansPlusPlus => Self::KMeansPlusPlus,
            InitArg::RandomFromData => Self::RandomFromData,
            InitArg::Random => Self::Random,
        }
    }
}

/// Regularisation and stopping rule, shared by every command that fits.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Stop after this many iterations.
    #[arg(long, default_value_t = DEFAULT_MAX_ITER)]
    pub max_iter: usize,
    /// Stop at the first iteration whose log-likelihood gain per point is below this (0: never).
    #[arg(long, default_value_t = DEFAULT_TOL, allow_negative_numbers = true)]
    pub tol: f64,
    /// Added to every covariance diagonal after each M-step (0 allowed).
    #[arg(long, default_value_t = DEFAULT_REG_COVAR, allow_negative_numbers = true)]
    pub reg_covar: f64,
}

impl StopArgs {
    /// The engine's settings for `covariance` (checked), soft EM.
    pub fn config(&self, covariance: CovarianceType) -> Result<EmConfig, EmError> {
        EmConfig {
            reg_covar: self.reg_covar,
            tol: self.tol,
            max_iter: self.max_iter,
            covariance,
            hard: false,
        }
        .check()
    }
}

/// Options of the EM run itself, shared by every command that fits.
#[derive(Debug, Clone, Args)]
pub struct EmArgs {
    /// How to choose the starting parameters.
    #[arg(long, value_enum, default_value_t = InitArg::KMeansPlusPlus)]
    pub init: InitArg,
    /// Start from these parameters instead (JSON: weights [K], means [K][D], covariances [K][D][D]).
    #[arg(long, value_name = "JSON", conflicts_with = "init")]
    pub init_params: Option<PathBuf>,
    #[command(flatten)]
    pub stop: StopArgs,
    /// Seed of every random choice (same seed, same result).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Covariance structure: a full matrix per component, diagonal, spherical, or one tied
    /// full matrix shared by all.
    #[arg(long, value_enum, default_value_t = CovarianceArg::Full)]
    pub covariance: CovarianceArg,
    /// Hard (classification) EM: give each point wholly to its most likely component before
    /// every M-step. It maximises the classification likelihood, so the mixture log-likelihood
    /// may fall; it stops when the assignments repeat.
    #[arg(long)]
    pub hard: bool,
}

/// `--covariance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CovarianceArg {
    /// Each component its own full matrix (mclust VVV).
    #[value(aliases = ["VVV", "vvv"])]
    Full,
    /// Each component its own diagonal matrix (mclust VVI).
    #[value(aliases = ["VVI", "vvi"])]
    Diag,
    /// Each component its own multiple of the identity (mclust VII).
    #[value(aliases = ["VII", "vii"])]
    Spherical,
    /// One full matrix shared by all components (mclust EEE).
    #[value(aliases = ["EEE", "eee"])]
    Tied,
}

impl From<CovarianceArg> for CovarianceType {
    fn from(arg: CovarianceArg) -> Self {
        match arg {
            CovarianceArg::Full => Self::Full,
            CovarianceArg::Diag => Self::Diag,
            CovarianceArg::Spherical => Self::Spherical,
            CovarianceArg::Tied => Self::Tied,
        }
    }
}

/// Options for reading a CSV file.
#[derive(Debug, Clone, Args)]
pub struct CsvArgs {
    /// Columns to fit, by header name or 1-based index (default: every numeric column).
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub columns: Option<Vec<String>>,
    /// Field separator: one character, or "tab".
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    pub delimiter: u8,
    /// Skip rows with a bad cell (and say how many) instead of failing.
    #[arg(long)]
    pub drop_invalid: bool,
    /// The column of true class labels, by header name or 1-based index, kept out of the fit
    /// (default: detected, e.g. `component` or `species`; "none": no truth column).
    #[arg(long, value_name = "COLUMN|none")]
    pub truth: Option<String>,
    /// Sample weights from this column (header name or 1-based index), not fitted: each cell a
    /// finite number ≥ 0, not all 0. A row of weight w counts as w copies of itself in every
    /// EM sum (weight 0 drops it); the log-likelihood is Σ w·ln f(x), and the n of BIC is Σ w.
    #[arg(long, value_name = "COLUMN")]
    pub weights: Option<String>,
}

impl CsvArgs {
    /// The loader's options; `keep_rows` when the original rows are written back out.
    pub fn options(&self, keep_rows: bool) -> CsvOptions {
        CsvOptions {
            columns: self.columns.clone(),
            delimiter: self.delimiter,
            drop_invalid: self.drop_invalid,
            keep_rows,
            truth: match self.truth.as_deref().map(str::trim) {
                None => TruthChoice::Detect,
                Some(none) if none.eq_ignore_ascii_case("none") => TruthChoice::Off,
                Some(column) => TruthChoice::Column(column.to_owned()),
            },
            weights: self.weights.clone(),
        }
    }
}

/// `mixplore fit`.
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// The data file to fit: CSV, or by extension .parquet, .arrow/.feather, .npy ("-" reads
    /// CSV from standard input).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Number of mixture components K.
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: u32,
    /// Number of initialisations; the one with the highest final log-likelihood is kept.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub n_init: u32,
    #[command(flatten)]
    pub em: EmArgs,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Print one JSON object instead of the readable summary.
    #[arg(long)]
    pub json: bool,
    /// With --json: add "history", every iteration's parameters, log-likelihood, Q(θ(t)|θ(t)),
    /// entropy H(t) and Q(θ(t+1)|θ(t)) (the kept run's).
    #[arg(long, requires = "json")]
    pub history: bool,
    /// Write the input rows with the most likely component and the K responsibilities here
    /// ("-" for standard output).
    #[arg(long, value_name = "OUT.csv")]
    pub labels: Option<PathBuf>,
    /// Write the log-likelihood of every iteration here ("-" for standard output).
    #[arg(long, value_name = "OUT.csv")]
    pub trace: Option<PathBuf>,
    /// Save the fitted model here (JSON) for `mixplore predict` and `mixplore score`.
    #[arg(long, value_name = "MODEL.json")]
    pub save_model: Option<PathBuf>,
}

/// `mixplore explore`.
#[derive(Debug, Clone, Args)]
pub struct ExploreArgs {
    /// The data file to explore: CSV, .parquet, .arrow/.feather or .npy; a .toml file is
    /// simulated from as a spec, like --spec (omit it for the default simulation).
    #[arg(value_name = "FILE", conflicts_with = "spec")]
    pub file: Option<String>,
    /// Simulate the data from this spec (TOML or JSON) instead.
    #[arg(long, value_name = "SPEC")]
    pub spec: Option<PathBuf>,
    /// Number of mixture components K (default: the spec's, or 2).
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: Option<u32>,
    /// Not an explorer option: accepted only to be refused with a pointer to `r` (the explorer
    /// runs one start at a time), instead of clap's bare "unexpected argument".
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "", allow_hyphen_values = true)]
    pub n_init: Option<String>,
    #[command(flatten)]
    pub em: EmArgs,
    #[command(flatten)]
    pub csv: CsvArgs,
    #[command(flatten)]
    pub terminal: TerminalArgs,
}

/// `mixplore select`.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// The data file: CSV, .parquet, .arrow/.feather or .npy ("-" reads CSV from standard input).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The numbers of components to try: "1..8", "3", or "1,2,5".
    #[arg(short, long, default_value = "1..8", value_parser = parse_k_range)]
    pub k: KRange,
    /// Covariance types to try: "all", or a list such as "full,diag" (mclust's names VVV, VVI,
    /// VII, EEE too).
    #[arg(long, default_value = "full", value_parser = parse_covariance_list)]
    pub covariance: CovarianceList,
    /// How to choose the starting parameters of each run.
    #[arg(long, value_enum, default_value_t = InitArg::KMeansPlusPlus)]
    pub init: InitArg,
    /// Initialisations per fit; the best log-likelihood is kept.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub n_init: u32,
    #[command(flatten)]
    pub stop: StopArgs,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Print a JSON array (one object per fit) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// The values of K `select` tries, in increasing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KRange(pub Vec<usize>);

/// The covariance types `select` tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CovarianceList(pub Vec<CovarianceType>);

fn parse_k_range(text: &str) -> Result<KRange, String> {
    let bad =
        || format!("expected K as \"1..8\", \"3\" or \"1,2,5\" (each from 1 to 64), got {text:?}");
    let number = |part: &str| {
        part.trim()
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=64).contains(k))
    };
    let mut values: Vec<usize> = if let Some((low, high)) = text.split_once("..") {
        let (low, high) = (number(low).ok_or_else(bad)?, number(high).ok_or_else(bad)?);
        if low > high {
            return Err(bad());
        }
        (low..=high).collect()
    } else {
        text.split(',')
            .map(|part| number(part).ok_or_else(bad))
            .collect::<Result<_, _>>()?
    };
    values.sort_unstable();
    values.dedup();
    Ok(KRange(values))
}

fn parse_covariance_list(text: &str) -> Result<CovarianceList, String> {
    if text.trim() == "all" {
        return Ok(CovarianceList(CovarianceType::ALL.to_vec()));
    }
    let mut types = Vec::new();
    for part in text.split(',') {
        let found = crate::data::model::covariance_type_named(part)
            .ok_or_else(|| format!("unknown covariance type {part:?}: use all, or a list of full, diag, spherical, tied (or mclust's VVV, VVI, VII, EEE)"))?;
        if !types.contains(&found) {
            types.push(found);
        }
    }
    Ok(CovarianceList(types))
}

/// `mixplore simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// The mixture spec (TOML, or JSON by the .json extension).
    #[arg(long, value_name = "SPEC")]
    pub spec: PathBuf,
    /// Number of points (default: the spec's n).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub n: Option<u64>,
    /// Seed (default: the spec's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write the CSV ("-" for standard output).
    #[arg(long, value_name = "FILE.csv", default_value = "-")]
    pub out: String,
    /// Leave out the true `component` column.
    #[arg(long)]
    pub no_labels: bool,
}

/// The data and model shared by `mixplore predict` and `mixplore score`.
#[derive(Debug, Clone, Args)]
pub struct ModelUseArgs {
    /// The data file: CSV, .parquet, .arrow/.feather or .npy ("-" reads CSV from standard input).
    #[arg(value_name = "DATA")]
    pub file: String,
    /// The model: a file from `fit --save-model` or a `fit --json` result.
    #[arg(long, value_name = "MODEL.json")]
    pub model: PathBuf,
    // `--columns` defaults to the model's feature names here; the names selected must be the
    // model's, in its order, when the data have a header.
    #[command(flatten)]
    pub csv: CsvArgs,
}

/// `mixplore predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub input: ModelUseArgs,
    /// Also write the K responsibilities of each row.
    #[arg(long)]
    pub proba: bool,
    /// Where to write the CSV ("-" for standard output).
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub out: String,
}

/// `mixplore score`.
#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub input: ModelUseArgs,
    /// Write each row's log density here as CSV ("-" for standard output; the mean then goes
    /// to standard error).
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
}

/// `mixplore plot`.
#[derive(Debug, Clone, Args)]
pub struct PlotArgs {
    /// The data file: CSV, .parquet, .arrow/.feather or .npy ("-" reads CSV from standard input).
    #[arg(value_name = "DATA")]
    pub file: String,
    /// Number of mixture components K.
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub k: u32,
    /// Number of initialisations; the one with the highest final log-likelihood is drawn.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub n_init: u32,
    #[command(flatten)]
    pub em: EmArgs,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// The column on the x axis, by name or 1-based index among the fitted ones (default: the
    /// first).
    #[arg(long, value_name = "COLUMN")]
    pub x: Option<String>,
    /// The column on the y axis (default: the second, or the first if --x names the second).
    #[arg(long, value_name = "COLUMN")]
    pub y: Option<String>,
    /// Where to write the SVG.
    #[arg(long, value_name = "FIG.svg")]
    pub out: String,
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!(
            "expected one ASCII character or \"tab\", got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert!(parse_delimiter("ab").is_err());
    }

    #[test]
    fn k_ranges_and_covariance_lists() {
        assert_eq!(parse_k_range("1..4"), Ok(KRange(vec![1, 2, 3, 4])));
        assert_eq!(parse_k_range("5,2,2"), Ok(KRange(vec![2, 5])));
        assert_eq!(parse_k_range("3"), Ok(KRange(vec![3])));
        assert!(parse_k_range("0..3").is_err() && parse_k_range("4..2").is_err());
        assert!(parse_k_range("x").is_err());
        assert_eq!(parse_covariance_list("all").unwrap().0.len(), 4);
        assert_eq!(
            parse_covariance_list("tied,full").unwrap().0,
            vec![CovarianceType::Tied, CovarianceType::Full]
        );
        assert!(parse_covariance_list("round").is_err());
        assert_eq!(
            parse_covariance_list("VVV,vvi,VII,EEE").unwrap().0,
            CovarianceType::ALL.to_vec()
        );
    }
}

/// The explorer's glyphs and theme, over what TERM, the locale and COLORFGBG say.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct TerminalArgs {
    /// Draw with ASCII only (no Braille, Greek or box drawing), whatever TERM and the locale say.
    #[arg(long, conflicts_with = "unicode")]
    pub ascii: bool,
    /// Draw with Unicode (Braille, Greek, box drawing) even where TERM or the locale suggest ASCII.
    #[arg(long)]
    pub unicode: bool,
    /// Colours for a light or dark background (default: from COLORFGBG, else dark).
    #[arg(long, value_enum, value_name = "THEME")]
    pub theme: Option<ThemeArg>,
}

/// `--theme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThemeArg {
    /// Shades for a light background.
    Light,
    /// Shades for a dark background.
    Dark,
}

impl TerminalArgs {
    /// Whether any was given.
    pub fn given(&self) -> bool {
        self.ascii || self.unicode || self.theme.is_some()
    }

    /// These choices over `fallback` (the ones given before the subcommand).
    pub fn or(self, fallback: Self) -> Self {
        if self.given() { self } else { fallback }
    }

    /// The explorer's overrides.
    pub fn overrides(&self) -> crate::explorer::capabilities::Overrides {
        use crate::explorer::capabilities::{Background, Glyphs, Overrides};
        Overrides {
            glyphs: if self.ascii {
                Some(Glyphs::Ascii)
            } else if self.unicode {
                Some(Glyphs::Unicode)
            } else {
                None
            },
            background: self.theme.map(|theme| match theme {
                ThemeArg::Light => Background::Light,
                ThemeArg::Dark => Background::Dark,
            }),
        }
    }
}
