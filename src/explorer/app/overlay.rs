//! The panels that open over the main view, as one typed stack: keys go to the top one first.

use std::path::PathBuf;
use std::sync::Arc;

use crate::data::spec::Spec;
use crate::em::{InitMethod, Mixture};
use crate::explorer::batch::{FitSummary, Job};
use crate::explorer::editor::Editor;

/// One open panel.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// The key list.
    Help {
        /// First line shown.
        scroll: u16,
    },
    /// Every warning and error so far.
    Messages {
        /// First line shown.
        scroll: u16,
    },
    /// The simulation editor.
    Editor(Box<Editor>),
    /// Where to save something.
    Prompt(Prompt),
    /// A background batch's list (BIC sweep or restarts).
    Batch(BatchView),
    /// The point inspector, at a position in the drawn sample.
    Inspector {
        /// Position in the drawn sample.
        cursor: usize,
    },
    /// The command reproducing the current run.
    Reproduce(Reproduce),
    /// A start being set by hand.
    Start(super::StartEditor),
    /// The derivation with live numbers.
    Derivation {
        /// First line shown.
        scroll: u16,
    },
}

impl Overlay {
    /// A short name, for tests and the status line.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Help { .. } => "help",
            Self::Messages { .. } => "messages",
            Self::Editor(_) => "editor",
            Self::Prompt(_) => "save",
            Self::Batch(view) => match view.kind {
                BatchKind::Sweep => "BIC sweep",
                BatchKind::Restarts => "restarts",
            },
            Self::Inspector { .. } => "inspector",
            Self::Reproduce(_) => "reproduce",
            Self::Start(_) => "start",
            Self::Derivation { .. } => "derivation",
        }
    }
}

/// What `e` shows: the shell commands reproducing the run, and its θ(0) to save.
#[derive(Debug, Clone, PartialEq)]
pub struct Reproduce {
    /// The commands, one per line.
    pub lines: Vec<String>,
    /// θ(0) of the run, which `w` saves as an `--init-params` file.
    pub start: Option<Arc<Mixture>>,
}

/// Which list a background batch fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// Every K × covariance type, compared by BIC.
    Sweep,
    /// The current model from several seeds: EM's local optima.
    Restarts,
}

/// The panel of a background batch: what was asked and what has come back.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchView {
    /// Identifies the batch's results.
    pub id: u64,
    /// Sweep or restarts.
    pub kind: BatchKind,
    /// The initialisation every fit of the batch uses.
    pub init: InitMethod,
    /// The fits asked for, in order.
    pub jobs: Vec<Job>,
    /// Their results as they arrive.
    pub results: Vec<Option<Result<FitSummary, String>>>,
    /// The highlighted row.
    pub cursor: usize,
}

impl BatchView {
    /// The finished fit with the lowest BIC (sweep) or highest log-likelihood (restarts).
    pub fn best(&self) -> Option<usize> {
        self.lowest(|s| match self.kind {
            BatchKind::Sweep => s.bic,
            BatchKind::Restarts => -s.log_likelihood,
        })
    }

    /// The finished fit with the lowest ICL (BIC plus the classification entropy term).
    pub fn lowest_icl(&self) -> Option<usize> {
        self.lowest(|s| s.icl)
    }

    /// The finished fit with the lowest `key`.
    fn lowest(&self, key: impl Fn(&FitSummary) -> f64) -> Option<usize> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map(|s| (i, key(s)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// How many fits have reported.
    pub fn done(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }
}

/// What a save writes.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveWhat {
    /// A simulation spec, as TOML.
    Spec(Spec),
    /// The current data set, as CSV (with the true components of simulated data).
    Data,
    /// A run's starting parameters, as JSON that `--init-params` reads.
    Start(Arc<Mixture>),
    /// The shown view as an SVG figure, drawn by the save (off the UI thread).
    Figure(Box<crate::figure::Figure>),
}

impl SaveWhat {
    /// What the messages call it.
    pub fn noun(&self) -> &'static str {
        match self {
            Self::Spec(_) => "spec",
            Self::Data => "data",
            Self::Start(_) => "starting parameters",
            Self::Figure(_) => "figure",
        }
    }

    /// The path the dialog offers first.
    pub fn default_path(&self) -> &'static str {
        match self {
            Self::Spec(_) => "mixplore-spec.toml",
            Self::Data => "mixplore-data.csv",
            Self::Start(_) => "mixplore-start.json",
            Self::Figure(_) => "mixplore-figure.svg",
        }
    }
}

/// The dialog asking where to save.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// What will be written.
    pub what: SaveWhat,
    /// The path as typed.
    pub path: String,
    /// Set to what is there once the path turned out to exist (a file, a link to …): the next
    /// key confirms (y) or not.
    pub confirm_overwrite: Option<String>,
    /// Set when Enter was pressed on a path that starts or ends with whitespace: the next key
    /// keeps it (y), trims it (t) or goes back to editing. Nothing is trimmed unasked.
    pub confirm_spaces: bool,
    /// Set while the save runs in the background.
    pub saving: bool,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

impl Prompt {
    /// Marks the prompt as saving and makes the request for its path, `~` expanded.
    pub fn request(&mut self, overwrite: bool) -> SaveRequest {
        self.saving = true;
        SaveRequest {
            path: crate::output::expand_home(&self.path),
            what: self.what.clone(),
            overwrite,
        }
    }
}

/// A save for the loop to carry out off the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveRequest {
    /// Where: the path as typed, with a leading `~` expanded.
    pub path: PathBuf,
    /// What.
    pub what: SaveWhat,
    /// Whether an existing file may be replaced (only after the user confirmed).
    pub overwrite: bool,
}

/// How a save went.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveOutcome {
    /// Written, to this absolute path (the target when the path was a symbolic link).
    Saved(PathBuf),
    /// Not written: something is at the path (described: "a file", "a symbolic link to …") and
    /// replacing it was not confirmed.
    Exists(String),
    /// Not written, for this reason.
    Failed(String),
}
