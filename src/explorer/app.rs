//! The explorer's state machine: what is shown, driven by [`Action`]s from keys and by the
//! worker's events. It owns no terminal and no thread, so tests drive it directly; every change
//! it wants from the worker comes back as [`Command`]s for the caller to send.

use std::path::PathBuf;
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::data::simulate;
use crate::data::spec::Spec;
use crate::em::{
    CovarianceType, Dataset, EmConfig, FitOptions, Init, InitMethod, Mixture, log_likelihood_of,
    match_components,
};
use crate::explorer::batch::{BatchEvent, FitSummary, Job};
use crate::explorer::editor::{Editor, EditorKey, EditorOutcome, Preset};
use crate::explorer::keys::{action_for, editor_key_for};
use crate::explorer::worker::{Command, RunRequest, Snapshot, Speed, TruthSample, WorkerEvent};

/// The most points the data panel draws; more than a terminal can show apart at any size.
pub const MAX_DRAWN_POINTS: usize = 20_000;

/// The most snapshots kept of one run (see [`App::thin_history`]); a snapshot holds only
/// parameters, so this is a few megabytes at most for small K and D.
pub const MAX_HISTORY: usize = 4096;

/// The values `c` steps reg_covar through: the default first, up by tens, then none at all.
pub const REG_COVAR_STEPS: &[f64] = &[1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.0];

/// The most components `]` goes to.
pub const MAX_COMPONENTS: usize = 12;

/// Run speeds `+`/`-` step through, in iterations per second (`None`: unlimited).
pub const SPEEDS: &[Option<f64>] = &[
    Some(1.0),
    Some(2.0),
    Some(5.0),
    Some(10.0),
    Some(20.0),
    Some(50.0),
    Some(100.0),
    None,
];
const DEFAULT_SPEED: usize = 3;

/// Something the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Run or pause.
    ToggleRun,
    /// One iteration forward (a new one from the worker at the newest).
    StepForward,
    /// One iteration back.
    StepBack,
    /// Show θ(0).
    First,
    /// Show the newest iteration.
    Newest,
    /// Run faster.
    Faster,
    /// Run slower.
    Slower,
    /// Restart with a new seed.
    Restart,
    /// Next initialisation method, and restart.
    CycleInit,
    /// K − 1 and restart.
    FewerComponents,
    /// K + 1 and restart.
    MoreComponents,
    /// Next reg_covar (×10, up to 0.1, then 0, then 1e-6 again) and restart.
    CycleRegCovar,
    /// Next covariance type (full, diag, spherical, tied) and restart.
    CycleCovariance,
    /// Step by half-steps (E-step, then M-step) or by whole iterations.
    ToggleHalfSteps,
    /// Open or close the point inspector.
    ToggleInspector,
    /// Run the BIC sweep (every K × covariance type) in the background and show it.
    OpenSweep,
    /// Run seeded restarts of the current model in the background and list them.
    OpenRestarts,
    /// Next dimension on the x axis.
    NextX,
    /// Next dimension on the y axis.
    NextY,
    /// Next point marker.
    CycleMarker,
    /// Open or close the help overlay.
    ToggleHelp,
    /// Open the simulation editor.
    OpenEditor,
    /// Save the current simulation spec as TOML.
    SaveSpec,
    /// Save the current data set as CSV.
    SaveData,
    /// Show or hide the true components' ellipses.
    ToggleTruth,
    /// Close what is open, or quit.
    Escape,
    /// Quit.
    Quit,
}

/// The point marker of the data panel (for terminals whose fonts lack Braille).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// Braille dots: the finest resolution.
    Braille,
    /// Half blocks.
    HalfBlock,
    /// One dot per cell.
    Dot,
}

impl MarkerKind {
    fn next(self) -> Self {
        match self {
            Self::Braille => Self::HalfBlock,
            Self::HalfBlock => Self::Dot,
            Self::Dot => Self::Braille,
        }
    }

    /// The name shown in the status line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Braille => "braille",
            Self::HalfBlock => "half block",
            Self::Dot => "dot",
        }
    }
}

/// What the explorer is looking at.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the data came from, for the status line.
    pub name: String,
    /// Column names, one per dimension.
    pub columns: Vec<String>,
    /// The data.
    pub data: Arc<Dataset>,
    /// The truth, when the data were simulated.
    pub simulation: Option<Simulation>,
}

/// The truth behind simulated data.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The spec the data were drawn from.
    pub spec: Spec,
    /// The true component (0-based) of every point.
    pub labels: Vec<usize>,
    /// The total log-likelihood of the data under the true parameters: the reference line.
    pub true_log_likelihood: f64,
}

impl Source {
    /// Data drawn from `spec`, named `name`, with its truth.
    pub fn simulated(spec: Spec, name: impl Into<String>) -> Self {
        let simulated = simulate::sample(&spec.mixture, spec.n, spec.seed);
        let data = Arc::new(simulated.data);
        let true_log_likelihood = log_likelihood_of(&data, &spec.mixture);
        Self {
            name: name.into(),
            columns: (1..=spec.dim()).map(|j| format!("x{j}")).collect(),
            data,
            simulation: Some(Simulation {
                spec,
                labels: simulated.labels,
                true_log_likelihood,
            }),
        }
    }

    /// The true mixture, for simulated data.
    pub fn truth(&self) -> Option<&Mixture> {
        self.simulation.as_ref().map(|s| &s.spec.mixture)
    }
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
        let key = |s: &FitSummary| match self.kind {
            BatchKind::Sweep => s.bic,
            BatchKind::Restarts => -s.log_likelihood,
        };
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

/// The largest K the BIC sweep tries.
pub const MAX_SWEEP_K: usize = 8;

/// How many restarts `R` runs.
pub const RESTARTS: u64 = 10;

/// What a save writes.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveWhat {
    /// A simulation spec, as TOML.
    Spec(Spec),
    /// The current data set, as CSV (with the true components of simulated data).
    Data,
}

impl SaveWhat {
    fn noun(&self) -> &'static str {
        match self {
            Self::Spec(_) => "spec",
            Self::Data => "data",
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
    /// Set once the path turned out to exist: the next key confirms (y) or not.
    pub confirm_overwrite: bool,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// A save for the caller to carry out (the app itself does no I/O).
#[derive(Debug, Clone, PartialEq)]
pub struct SaveRequest {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub what: SaveWhat,
    /// Whether an existing file may be replaced (only after the user confirmed).
    pub overwrite: bool,
}

/// How a save went.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveOutcome {
    /// Written.
    Saved,
    /// Not written: the file exists and overwriting was not confirmed.
    Exists,
    /// Not written, for this reason.
    Failed(String),
}

/// How runs are started.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Number of components.
    pub k: usize,
    /// The seeded initialisation method (used unless `init_params` is chosen).
    pub init: InitMethod,
    /// Explicit starting parameters, if given; used while `use_init_params` is set.
    pub init_params: Option<Mixture>,
    /// Whether the next run starts from `init_params`.
    pub use_init_params: bool,
    /// Seed of the next run.
    pub seed: u64,
    /// Regularisation and stopping rule.
    pub config: EmConfig,
}

impl RunSettings {
    /// K components from a k-means++ start with seed 0 and the default EM settings.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            init: InitMethod::KMeansPlusPlus,
            init_params: None,
            use_init_params: false,
            seed: 0,
            config: EmConfig::default(),
        }
    }
}

/// Whether the worker is iterating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Waiting for the user.
    Paused,
    /// Iterating at the chosen speed.
    Running,
}

/// The explorer's whole state.
#[derive(Debug)]
pub struct App {
    /// The data and, for simulations, the truth.
    pub source: Source,
    /// How runs start.
    pub settings: RunSettings,
    /// Id of the current run; snapshots of other runs are ignored.
    pub run_id: u64,
    /// Every snapshot of the current run, in iteration order.
    pub history: Vec<Snapshot>,
    /// Index of the shown snapshot in `history`.
    pub shown: usize,
    /// Whether the shown snapshot follows the newest as it arrives.
    pub follow: bool,
    /// Running or paused.
    pub mode: Mode,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// Whether the help overlay is open.
    pub help_open: bool,
    /// Point marker of the data panel.
    pub marker: MarkerKind,
    /// Dimensions on the x and y axes (equal when D = 1).
    pub dims: (usize, usize),
    /// The last failure the worker reported for the current run.
    pub failure: Option<String>,
    /// A short note for the status line (what the last key did, when not obvious).
    pub note: Option<String>,
    /// Set once the user asked to quit.
    pub should_quit: bool,
    /// Indices of the points the data panel draws (all, or a fixed seeded sample).
    pub drawn: Vec<usize>,
    /// The true labels of the drawn points, for simulated data.
    pub truth_sample: Option<Arc<TruthSample>>,
    /// Whether the data panel overlays the true components' ellipses.
    pub show_truth: bool,
    /// The simulation editor, while open.
    pub editor: Option<Editor>,
    /// The save dialog, while open.
    pub prompt: Option<Prompt>,
    /// A save waiting for the caller.
    pub save_request: Option<SaveRequest>,
    /// The example specs the editor offers.
    pub presets: Vec<Preset>,
    /// Whether `n` and `p` move by half-steps (E-step, M-step) instead of whole iterations.
    pub half_steps: bool,
    /// The id of the last batch asked for.
    batch_id: u64,
    /// The background batch's panel, while open.
    pub batch: Option<BatchView>,
    /// A batch for the caller to start (the app itself starts no threads).
    pub batch_request: Option<(u64, Vec<Job>)>,
    /// The point inspector's cursor: a position in `drawn`, while the inspector is open.
    pub inspected: Option<usize>,
    /// In half-step mode: the shown θ(t) has just come out of its M-step, so the points keep
    /// the colours of the E-step at θ(t−1); otherwise the E-step at θ(t) has coloured them.
    pub after_m_step: bool,
    /// The colour slot of each fitted component of the current run: a new run's components
    /// take the slots of the previous run's components they match, so colours stay put across
    /// restarts (within a run EM never reorders components).
    pub palette: Vec<usize>,
    /// The parameters and palette of the run before the current one, until the current one's
    /// first snapshot has been matched to them.
    previous_run: Option<(Mixture, Vec<usize>)>,
}

/// The index of the point with the smallest finite `distance`, if any.
fn nearest(points: &[(f64, f64)], distance: impl Fn((f64, f64)) -> f64) -> Option<usize> {
    points
        .iter()
        .map(|&p| distance(p))
        .enumerate()
        .filter(|(_, d)| d.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The colour slots of `new`'s components: each takes the slot of the `previous` component it
/// matches (Hungarian matching of the means), the rest the lowest free slots.
pub fn carry_palette(previous: &Mixture, palette: &[usize], new: &Mixture) -> Vec<usize> {
    let k = new.k();
    let mut slots: Vec<Option<usize>> = vec![None; k];
    if previous.dim() == new.dim() {
        for (old, matched) in match_components(previous, new).into_iter().enumerate() {
            if let (Some(component), Some(&slot)) = (matched, palette.get(old)) {
                slots[component] = Some(slot);
            }
        }
    }
    let mut free = (0..).filter(|slot| !slots.contains(&Some(*slot)));
    let mut taken: Vec<Option<usize>> = slots.clone();
    for slot in taken.iter_mut().filter(|s| s.is_none()) {
        *slot = free.next();
    }
    taken.into_iter().map(|s| s.unwrap_or(0)).collect()
}

/// The points the data panel draws: all of them up to [`MAX_DRAWN_POINTS`], else a fixed
/// seeded sample (sorted, so memory is read in order).
fn drawn_points(n: usize) -> Vec<usize> {
    if n > MAX_DRAWN_POINTS {
        let mut rng = StdRng::seed_from_u64(0x6d69_7870);
        let mut indices = sample(&mut rng, n, MAX_DRAWN_POINTS).into_vec();
        indices.sort_unstable();
        indices
    } else {
        (0..n).collect()
    }
}

fn truth_sample(source: &Source, drawn: &[usize]) -> Option<Arc<TruthSample>> {
    source.simulation.as_ref().map(|simulation| {
        Arc::new(TruthSample {
            indices: drawn.to_vec(),
            labels: drawn.iter().map(|&i| simulation.labels[i]).collect(),
        })
    })
}

impl App {
    /// A new explorer state; the returned commands start the first run.
    pub fn new(source: Source, settings: RunSettings) -> (Self, Vec<Command>) {
        let drawn = drawn_points(source.data.len());
        let truth_sample = truth_sample(&source, &drawn);
        let d = source.data.dim();
        let mut app = Self {
            source,
            settings,
            run_id: 0,
            history: Vec::new(),
            shown: 0,
            follow: true,
            mode: Mode::Paused,
            speed: DEFAULT_SPEED,
            help_open: false,
            marker: MarkerKind::Braille,
            dims: (0, if d > 1 { 1 } else { 0 }),
            failure: None,
            note: None,
            should_quit: false,
            drawn,
            truth_sample,
            show_truth: false,
            editor: None,
            prompt: None,
            save_request: None,
            presets: Vec::new(),
            palette: Vec::new(),
            previous_run: None,
            half_steps: false,
            after_m_step: false,
            inspected: None,
            batch: None,
            batch_request: None,
            batch_id: 0,
        };
        let mut commands = vec![Command::SetSpeed(app.speed_setting())];
        commands.extend(app.restart());
        (app, commands)
    }

    /// The shown snapshot, once the run has one.
    pub fn shown_snapshot(&self) -> Option<&Snapshot> {
        self.history.get(self.shown)
    }

    /// The snapshot before the shown one (for changes since the previous iteration).
    pub fn previous_snapshot(&self) -> Option<&Snapshot> {
        self.shown.checked_sub(1).and_then(|i| self.history.get(i))
    }

    /// The newest snapshot of the run.
    pub fn newest(&self) -> Option<&Snapshot> {
        self.history.last()
    }

    /// The log-likelihood trace of the run so far, as (iteration, value): iterations, not
    /// positions, since a long run's history is thinned.
    pub fn trace(&self) -> Vec<(f64, f64)> {
        self.history
            .iter()
            .map(|s| (s.iteration as f64, s.log_likelihood))
            .collect()
    }

    /// The run speed as the worker takes it.
    pub fn speed_setting(&self) -> Speed {
        match SPEEDS[self.speed] {
            Some(rate) => Speed::PerSecond(rate),
            None => Speed::Unlimited,
        }
    }

    /// The run speed for the status line.
    pub fn speed_label(&self) -> String {
        match SPEEDS[self.speed] {
            Some(rate) => format!("{rate} it/s"),
            None => "max speed".into(),
        }
    }

    /// The name of the initialisation the current run used.
    pub fn init_label(&self) -> &'static str {
        if self.settings.use_init_params {
            "init-params"
        } else {
            self.settings.init.name()
        }
    }

    /// Whether the newest iteration met the convergence test.
    pub fn converged(&self) -> bool {
        self.newest().is_some_and(|s| s.converged)
    }

    /// Applies a user action; returns what the worker must do.
    pub fn handle(&mut self, action: Action) -> Vec<Command> {
        self.note = None;
        match action {
            Action::ToggleRun => match self.mode {
                Mode::Running => {
                    self.mode = Mode::Paused;
                    vec![Command::Pause]
                }
                Mode::Paused => {
                    if self.newest().is_some_and(|s| s.done) {
                        self.note = Some("the run is finished: n steps on, r restarts".into());
                        return Vec::new();
                    }
                    if self.failure.is_some() {
                        return Vec::new();
                    }
                    // Before the first snapshot too: the worker takes Run after the Start
                    // it is still working on, so a key pressed while starting is not lost.
                    self.mode = Mode::Running;
                    self.follow = true;
                    self.shown = self.history.len().saturating_sub(1);
                    vec![Command::Run]
                }
            },
            Action::StepForward => {
                let mut commands = self.pause();
                if self.half_steps && self.after_m_step {
                    // The E-step at the shown θ(t): the points recolour, the ellipses stay.
                    self.after_m_step = false;
                    return commands;
                }
                self.after_m_step = self.half_steps;
                if self.shown + 1 < self.history.len() {
                    self.shown += 1;
                    self.follow = self.shown + 1 == self.history.len();
                } else if self.failure.is_none() && !self.history.is_empty() {
                    self.follow = true;
                    commands.push(Command::Step);
                }
                commands
            }
            Action::StepBack => {
                let commands = self.pause();
                self.follow = false;
                if self.half_steps && !self.after_m_step && self.shown > 0 {
                    self.after_m_step = true;
                } else {
                    self.shown = self.shown.saturating_sub(1);
                    self.after_m_step = false;
                }
                commands
            }
            Action::OpenSweep | Action::OpenRestarts => {
                let kind = if action == Action::OpenSweep {
                    BatchKind::Sweep
                } else {
                    BatchKind::Restarts
                };
                self.open_batch(kind);
                Vec::new()
            }
            Action::ToggleInspector => {
                self.inspected = match self.inspected {
                    Some(_) => None,
                    None if self.drawn.is_empty() => None,
                    None => Some(self.nearest_to_centre()),
                };
                if self.inspected.is_some() {
                    self.note =
                        Some("inspector: arrows move between points, o or Esc closes".into());
                }
                Vec::new()
            }
            Action::ToggleHalfSteps => {
                self.half_steps = !self.half_steps;
                self.after_m_step = false;
                self.note = Some(if self.half_steps {
                    "half-steps: n shows the E-step (points recolour), then the M-step (ellipses move)".into()
                } else {
                    "whole iterations".into()
                });
                Vec::new()
            }
            Action::First => {
                let commands = self.pause();
                self.shown = 0;
                self.follow = self.history.len() <= 1;
                commands
            }
            Action::Newest => {
                self.shown = self.history.len().saturating_sub(1);
                self.follow = true;
                Vec::new()
            }
            Action::Faster | Action::Slower => {
                self.speed = if action == Action::Faster {
                    (self.speed + 1).min(SPEEDS.len() - 1)
                } else {
                    self.speed.saturating_sub(1)
                };
                vec![Command::SetSpeed(self.speed_setting())]
            }
            Action::Restart => {
                self.settings.seed = self.settings.seed.wrapping_add(1);
                self.restart()
            }
            Action::CycleInit => {
                let methods = [
                    InitMethod::KMeansPlusPlus,
                    InitMethod::RandomFromData,
                    InitMethod::Random,
                ];
                if self.settings.use_init_params {
                    self.settings.use_init_params = false;
                    self.settings.init = methods[0];
                } else {
                    let position = methods.iter().position(|m| *m == self.settings.init);
                    let next = position.map_or(0, |p| p + 1);
                    match methods.get(next) {
                        Some(method) => self.settings.init = *method,
                        None if self.settings.init_params.is_some() => {
                            self.settings.use_init_params = true
                        }
                        None => self.settings.init = methods[0],
                    }
                }
                self.restart()
            }
            Action::FewerComponents | Action::MoreComponents => {
                let k = self.settings.k;
                let max = MAX_COMPONENTS.min(self.source.data.len());
                let new_k = if action == Action::MoreComponents {
                    (k + 1).min(max)
                } else {
                    k.saturating_sub(1).max(1)
                };
                if new_k == k {
                    self.note = Some(format!("K stays {k} (allowed: 1 to {max})"));
                    return Vec::new();
                }
                self.settings.k = new_k;
                // Fixed starting parameters have their own K; a new K needs a seeded start.
                self.settings.use_init_params = false;
                self.restart()
            }
            Action::CycleRegCovar => {
                let current = self.settings.config.reg_covar;
                let next = REG_COVAR_STEPS
                    .iter()
                    .position(|&v| v == current)
                    .map_or(REG_COVAR_STEPS[0], |i| {
                        REG_COVAR_STEPS[(i + 1) % REG_COVAR_STEPS.len()]
                    });
                self.settings.config.reg_covar = next;
                self.note = Some(format!("reg_covar = {next:e}"));
                self.restart()
            }
            Action::CycleCovariance => {
                let types = CovarianceType::ALL;
                let current = self.settings.config.covariance;
                let position = types.iter().position(|&t| t == current).unwrap_or(0);
                let next = types[(position + 1) % types.len()];
                self.settings.config.covariance = next;
                self.note = Some(format!("{} covariances", next.name()));
                self.restart()
            }
            Action::NextX | Action::NextY => {
                let d = self.source.data.dim();
                if d <= 2 {
                    self.note = Some("x / y choose the plotted dimensions when D > 2".into());
                    return Vec::new();
                }
                let (x, y) = self.dims;
                let next = |current: usize, other: usize| {
                    let mut candidate = (current + 1) % d;
                    if candidate == other {
                        candidate = (candidate + 1) % d;
                    }
                    candidate
                };
                self.dims = if action == Action::NextX {
                    (next(x, y), y)
                } else {
                    (x, next(y, x))
                };
                Vec::new()
            }
            Action::CycleMarker => {
                self.marker = self.marker.next();
                Vec::new()
            }
            Action::ToggleHelp => {
                self.help_open = !self.help_open;
                Vec::new()
            }
            Action::OpenEditor => {
                let spec = match &self.source.simulation {
                    Some(simulation) => simulation.spec.clone(),
                    None => match self.presets.first() {
                        Some(preset) => preset.spec.clone(),
                        None => {
                            self.note = Some("no spec to start the editor from".into());
                            return Vec::new();
                        }
                    },
                };
                self.help_open = false;
                self.editor = Some(Editor::new(&spec, self.presets.clone()));
                Vec::new()
            }
            Action::SaveSpec => {
                match &self.source.simulation {
                    Some(simulation) => self.open_prompt(SaveWhat::Spec(simulation.spec.clone())),
                    None => {
                        self.note =
                            Some("S saves a simulation's spec: open the editor with s".into())
                    }
                }
                Vec::new()
            }
            Action::SaveData => {
                self.open_prompt(SaveWhat::Data);
                Vec::new()
            }
            Action::ToggleTruth => {
                if self.source.simulation.is_some() {
                    self.show_truth = !self.show_truth;
                } else {
                    self.note = Some("t shows the true components of simulated data".into());
                }
                Vec::new()
            }
            Action::Escape => {
                if self.inspected.is_some() {
                    self.inspected = None;
                    Vec::new()
                } else if self.help_open {
                    self.help_open = false;
                    Vec::new()
                } else {
                    self.quit()
                }
            }
            Action::Quit => self.quit(),
        }
    }

    fn quit(&mut self) -> Vec<Command> {
        self.should_quit = true;
        vec![Command::Shutdown]
    }

    fn pause(&mut self) -> Vec<Command> {
        if self.mode == Mode::Running {
            self.mode = Mode::Paused;
            vec![Command::Pause]
        } else {
            Vec::new()
        }
    }

    /// The parameters whose E-step coloured the points on screen: θ(t−1) right after the
    /// M-step of iteration t in half-step mode, else the shown θ(t).
    pub fn colouring_params(&self) -> Option<&Mixture> {
        let shown = self.shown_snapshot()?;
        match self.previous_snapshot() {
            Some(previous) if self.half_steps && self.after_m_step => Some(&previous.params),
            _ => Some(&shown.params),
        }
    }

    /// In half-step mode, right after an E-step: the parameters of the E-step before it, whose
    /// colours the points had, so points that changed component can be marked.
    pub fn recolour_reference(&self) -> Option<&Mixture> {
        if self.half_steps && !self.after_m_step {
            self.previous_snapshot().map(|s| &s.params)
        } else {
            None
        }
    }

    /// The colour slot of fitted component `k`.
    pub fn slot(&self, k: usize) -> usize {
        self.palette.get(k).copied().unwrap_or(k)
    }

    /// Abandons the current run and starts a new one with the current settings.
    fn restart(&mut self) -> Vec<Command> {
        if let Some(snapshot) = self.shown_snapshot() {
            self.previous_run = Some((snapshot.params.clone(), self.palette.clone()));
        }
        self.run_id += 1;
        self.history.clear();
        self.shown = 0;
        self.follow = true;
        self.mode = Mode::Paused;
        self.failure = None;
        let init = match (&self.settings.init_params, self.settings.use_init_params) {
            (Some(params), true) => Init::Params(params.clone()),
            _ => Init::Method(self.settings.init),
        };
        vec![Command::Start(RunRequest {
            run_id: self.run_id,
            data: Arc::clone(&self.source.data),
            k: self.settings.k,
            init,
            seed: self.settings.seed,
            config: self.settings.config,
            truth: self.truth_sample.clone(),
        })]
    }

    fn open_prompt(&mut self, what: SaveWhat) {
        let path = match what {
            SaveWhat::Spec(_) => "mixplore-spec.toml",
            SaveWhat::Data => "mixplore-data.csv",
        };
        self.prompt = Some(Prompt {
            what,
            path: path.into(),
            confirm_overwrite: false,
            error: None,
        });
    }

    /// Routes a key: to the save dialog, else the editor, else the main key table.
    pub fn on_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if self.prompt.is_some() {
            self.prompt_key(key);
            return Vec::new();
        }
        if self.batch.is_some() {
            return self.batch_key(key);
        }
        if self.editor.is_some() {
            return match editor_key_for(key) {
                Some(editor_key) => self.editor_key(editor_key),
                None => Vec::new(),
            };
        }
        if self.inspected.is_some() {
            let direction = match key.code {
                KeyCode::Left => Some((-1.0, 0.0)),
                KeyCode::Right => Some((1.0, 0.0)),
                KeyCode::Up => Some((0.0, 1.0)),
                KeyCode::Down => Some((0.0, -1.0)),
                _ => None,
            };
            if let Some(direction) = direction {
                self.move_inspector(direction);
                return Vec::new();
            }
        }
        match action_for(key) {
            Some(action) => self.handle(action),
            None => Vec::new(),
        }
    }

    /// Asks for a batch of fits and opens its panel.
    fn open_batch(&mut self, kind: BatchKind) {
        let n = self.source.data.len();
        let settings = &self.settings;
        let job = |k: usize, covariance: CovarianceType, seed: u64, n_init: usize| Job {
            options: FitOptions {
                k,
                init: Init::Method(settings.init),
                n_init,
                seed,
                config: EmConfig {
                    covariance,
                    ..settings.config
                },
            },
        };
        let jobs: Vec<Job> = match kind {
            BatchKind::Sweep => CovarianceType::ALL
                .into_iter()
                .flat_map(|covariance| (1..=MAX_SWEEP_K.min(n)).map(move |k| (k, covariance)))
                .map(|(k, covariance)| job(k, covariance, settings.seed, 3))
                .collect(),
            BatchKind::Restarts => (0..RESTARTS)
                .map(|r| {
                    job(
                        settings.k,
                        settings.config.covariance,
                        settings.seed.wrapping_add(r),
                        1,
                    )
                })
                .collect(),
        };
        self.batch_id += 1;
        self.batch = Some(BatchView {
            id: self.batch_id,
            kind,
            results: vec![None; jobs.len()],
            jobs: jobs.clone(),
            cursor: 0,
        });
        self.batch_request = Some((self.batch_id, jobs));
    }

    /// Keys while a batch panel is open: ↑/↓ choose, Enter opens the fit in the main view,
    /// Esc closes (and cancels what has not run).
    fn batch_key(&mut self, key: &KeyEvent) -> Vec<Command> {
        let Some(view) = self.batch.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Up => view.cursor = view.cursor.saturating_sub(1),
            KeyCode::Down => view.cursor = (view.cursor + 1).min(view.jobs.len().saturating_sub(1)),
            KeyCode::Esc | KeyCode::Char('b') | KeyCode::Char('R') => self.batch = None,
            KeyCode::Enter => {
                // Replays the chosen fit exactly: same K, type and seed, from the starting
                // parameters of the run the batch kept.
                if let Some(Some(Ok(fit))) = view.results.get(view.cursor).cloned() {
                    self.batch = None;
                    self.settings.k = fit.k;
                    self.settings.config.covariance = fit.covariance;
                    self.settings.seed = fit.seed;
                    self.settings.init_params = Some(fit.initial);
                    self.settings.use_init_params = true;
                    return self.restart();
                }
            }
            KeyCode::Char('q') => return self.quit(),
            _ => {}
        }
        Vec::new()
    }

    /// Takes a batch result.
    pub fn on_batch(&mut self, event: BatchEvent) -> bool {
        let BatchEvent::Done {
            batch,
            index,
            outcome,
        } = event;
        match self.batch.as_mut() {
            Some(view) if view.id == batch && index < view.results.len() => {
                view.results[index] = Some(outcome);
                true
            }
            _ => false,
        }
    }

    /// Takes the batch the app is waiting for the caller to start.
    pub fn take_batch_request(&mut self) -> Option<(u64, Vec<Job>)> {
        self.batch_request.take()
    }

    /// The drawn point closest to the middle of the plotted data (where the inspector opens).
    fn nearest_to_centre(&self) -> usize {
        let points = self.plotted_points();
        let n = points.len().max(1) as f64;
        let centre = points
            .iter()
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
        nearest(&points, |(x, y)| {
            (x - centre.0).powi(2) + (y - centre.1).powi(2)
        })
        .unwrap_or(0)
    }

    /// The drawn points on the plotted dimensions, scaled by each axis' spread so that
    /// "nearest" means nearest on screen.
    fn plotted_points(&self) -> Vec<(f64, f64)> {
        let data = &self.source.data;
        let (x, y) = self.dims;
        let spread = |j: usize| {
            let (low, high) = self
                .drawn
                .iter()
                .map(|&i| data.row(i)[j])
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            (high - low).max(f64::MIN_POSITIVE)
        };
        let (sx, sy) = (spread(x), spread(y));
        self.drawn
            .iter()
            .map(|&i| (data.row(i)[x] / sx, data.row(i)[y] / sy))
            .collect()
    }

    /// Moves the inspector to the nearest point lying within 45° of `direction` on screen.
    fn move_inspector(&mut self, direction: (f64, f64)) {
        let Some(current) = self.inspected else {
            return;
        };
        let points = self.plotted_points();
        let Some(&(cx, cy)) = points.get(current) else {
            return;
        };
        let candidate = nearest(&points, |(px, py)| {
            let (dx, dy) = (px - cx, py - cy);
            let along = dx * direction.0 + dy * direction.1;
            let across = (dx * direction.1 - dy * direction.0).abs();
            if along > 0.0 && across <= along {
                dx * dx + dy * dy
            } else {
                f64::INFINITY
            }
        });
        if let Some(next) = candidate {
            self.inspected = Some(next);
        }
    }

    fn prompt_key(&mut self, key: &KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        if prompt.confirm_overwrite {
            match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    self.save_request = Some(SaveRequest {
                        path: PathBuf::from(&prompt.path),
                        what: prompt.what.clone(),
                        overwrite: true,
                    });
                }
                KeyCode::Esc => self.prompt = None,
                _ => prompt.confirm_overwrite = false,
            }
            return;
        }
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Enter if !prompt.path.trim().is_empty() => {
                self.save_request = Some(SaveRequest {
                    path: PathBuf::from(prompt.path.trim()),
                    what: prompt.what.clone(),
                    overwrite: false,
                });
            }
            KeyCode::Backspace => {
                prompt.path.pop();
                prompt.error = None;
            }
            KeyCode::Char(c) if !c.is_control() => {
                prompt.path.push(c);
                prompt.error = None;
            }
            _ => {}
        }
    }

    /// Takes the save the app is waiting for, if any.
    pub fn take_save_request(&mut self) -> Option<SaveRequest> {
        self.save_request.take()
    }

    /// Reports how a save went.
    pub fn save_finished(&mut self, request: &SaveRequest, outcome: SaveOutcome) {
        match outcome {
            SaveOutcome::Saved => {
                self.prompt = None;
                self.note = Some(format!(
                    "saved the {} to {}",
                    request.what.noun(),
                    request.path.display()
                ));
            }
            SaveOutcome::Exists => {
                if let Some(prompt) = self.prompt.as_mut() {
                    prompt.confirm_overwrite = true;
                }
            }
            SaveOutcome::Failed(reason) => {
                if let Some(prompt) = self.prompt.as_mut() {
                    prompt.confirm_overwrite = false;
                    prompt.error = Some(reason);
                }
            }
        }
    }

    fn editor_key(&mut self, key: EditorKey) -> Vec<Command> {
        let Some(editor) = self.editor.as_mut() else {
            return Vec::new();
        };
        match editor.handle(key) {
            EditorOutcome::Continue => Vec::new(),
            EditorOutcome::Cancel => {
                self.editor = None;
                Vec::new()
            }
            EditorOutcome::Save(spec) => {
                self.open_prompt(SaveWhat::Spec(spec));
                Vec::new()
            }
            EditorOutcome::Apply(spec) => {
                self.editor = None;
                let name = spec
                    .name
                    .clone()
                    .unwrap_or_else(|| "edited simulation".into());
                self.replace_source(Source::simulated(spec, name))
            }
        }
    }

    /// Switches to new data (with K set to the number of true components) and restarts.
    pub fn replace_source(&mut self, source: Source) -> Vec<Command> {
        let mut commands = self.pause();
        if let Some(truth) = source.truth() {
            self.settings.k = truth.k().min(source.data.len());
            self.settings.use_init_params = false;
        }
        let d = source.data.dim();
        self.drawn = drawn_points(source.data.len());
        self.truth_sample = truth_sample(&source, &self.drawn);
        self.dims = (0, if d > 1 { 1 } else { 0 });
        self.source = source;
        commands.extend(self.restart());
        commands
    }

    /// Keeps the history under [`MAX_HISTORY`] snapshots however long a run goes: past it, every
    /// other snapshot of the older half is dropped (θ(0) and the recent half stay whole), so a
    /// very long run keeps ever sparser early history in bounded memory.
    fn thin_history(&mut self) {
        if self.history.len() <= MAX_HISTORY {
            return;
        }
        let shown_iteration = self.history[self.shown].iteration;
        let old_end = self.history.len() - MAX_HISTORY / 2;
        let mut position = 0;
        self.history.retain(|_| {
            let keep = position == 0 || position >= old_end || position % 2 == 0;
            position += 1;
            keep
        });
        // Show the same iteration, or the nearest kept one before it.
        self.shown = self
            .history
            .iter()
            .rposition(|s| s.iteration <= shown_iteration)
            .unwrap_or(0);
    }

    /// Takes an event from the worker; returns whether anything visible changed.
    pub fn on_worker(&mut self, event: WorkerEvent) -> bool {
        match event {
            WorkerEvent::Snapshot(snapshot) => {
                if snapshot.run_id != self.run_id {
                    return false;
                }
                if snapshot.done {
                    self.mode = Mode::Paused;
                }
                if self.history.is_empty() {
                    self.palette = match self.previous_run.take() {
                        Some((previous, palette)) => {
                            carry_palette(&previous, &palette, &snapshot.params)
                        }
                        None => (0..snapshot.params.k()).collect(),
                    };
                }
                self.history.push(snapshot);
                if self.follow {
                    self.shown = self.history.len() - 1;
                    // A step asked for in half-step mode arrives as its M-step; a run shows
                    // whole iterations.
                    self.after_m_step = self.half_steps && self.mode == Mode::Paused;
                }
                self.thin_history();
                true
            }
            WorkerEvent::Paused { run_id } => {
                if run_id != self.run_id || self.mode == Mode::Paused {
                    return false;
                }
                self.mode = Mode::Paused;
                true
            }
            WorkerEvent::Failed {
                run_id,
                iteration,
                message,
            } => {
                if run_id != self.run_id {
                    return false;
                }
                self.mode = Mode::Paused;
                self.failure = Some(if iteration == 0 {
                    format!("cannot start: {message}")
                } else {
                    format!("iteration {iteration} failed: {message}")
                });
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::{Em, MixtureParams};

    fn source() -> Source {
        let mut values = Vec::new();
        for i in 0..60 {
            let t = (i as f64 * 0.7).sin();
            values.extend([if i % 2 == 0 { t } else { 5.0 + t }, (i as f64 * 0.3).cos()]);
        }
        Source {
            name: "test".into(),
            columns: vec!["a".into(), "b".into()],
            data: Arc::new(Dataset::new(2, values).unwrap()),
            simulation: None,
        }
    }

    fn settings() -> RunSettings {
        RunSettings::new(2)
    }

    /// Plays the worker: answers commands with what a worker would send.
    struct FakeWorker {
        em: Option<(u64, Em)>,
    }

    impl FakeWorker {
        fn serve(&mut self, app: &mut App, commands: Vec<Command>) {
            for command in commands {
                let event = match command {
                    Command::Start(request) => {
                        let init = match request.init {
                            Init::Params(params) => params,
                            Init::Method(method) => crate::em::initialise(
                                &request.data,
                                request.k,
                                method,
                                &request.config,
                                request.seed,
                            )
                            .unwrap(),
                        };
                        let em = Em::new(request.data, init, request.config).unwrap();
                        let event = WorkerEvent::Snapshot(Snapshot::of(
                            request.run_id,
                            &em,
                            request.truth.as_deref(),
                        ));
                        self.em = Some((request.run_id, em));
                        event
                    }
                    Command::Step => {
                        let (run_id, em) = self.em.as_mut().unwrap();
                        em.step().unwrap();
                        WorkerEvent::Snapshot(Snapshot::of(*run_id, em, None))
                    }
                    _ => continue,
                };
                app.on_worker(event);
            }
        }
    }

    fn started() -> (App, FakeWorker) {
        let (mut app, commands) = App::new(source(), settings());
        let mut worker = FakeWorker { em: None };
        worker.serve(&mut app, commands);
        (app, worker)
    }

    fn act(app: &mut App, worker: &mut FakeWorker, action: Action) {
        let commands = app.handle(action);
        worker.serve(app, commands);
    }

    #[test]
    fn stepping_forward_and_back_through_history() {
        let (mut app, mut worker) = started();
        assert_eq!((app.history.len(), app.shown), (1, 0));
        for _ in 0..3 {
            act(&mut app, &mut worker, Action::StepForward);
        }
        assert_eq!((app.history.len(), app.shown), (4, 3));
        assert_eq!(app.shown_snapshot().unwrap().iteration, 3);
        act(&mut app, &mut worker, Action::StepBack);
        assert_eq!((app.history.len(), app.shown), (4, 2));
        // Forward inside the history moves without asking the worker.
        assert!(app.handle(Action::StepForward).is_empty());
        assert_eq!(app.shown, 3);
        act(&mut app, &mut worker, Action::First);
        assert_eq!(app.shown, 0);
        act(&mut app, &mut worker, Action::Newest);
        assert_eq!(app.shown, 3);
        act(&mut app, &mut worker, Action::StepBack);
        act(&mut app, &mut worker, Action::StepBack);
        assert_eq!(app.shown, 1);
        assert_eq!(app.mode, Mode::Paused);
    }

    #[test]
    fn running_follows_the_newest_and_pausing_stops() {
        let (mut app, _) = started();
        assert_eq!(app.handle(Action::ToggleRun).len(), 1);
        assert_eq!(app.mode, Mode::Running);
        let em_params = app.history[0].params.clone();
        app.on_worker(WorkerEvent::Snapshot(Snapshot {
            run_id: app.run_id,
            iteration: 1,
            params: em_params,
            log_likelihood: -10.0,
            converged: false,
            done: false,
            agreement: None,
        }));
        assert_eq!(app.shown, 1);
        assert!(matches!(
            app.handle(Action::ToggleRun)[..],
            [Command::Pause]
        ));
        assert_eq!(app.mode, Mode::Paused);
    }

    #[test]
    fn snapshots_of_abandoned_runs_are_ignored() {
        let (mut app, mut worker) = started();
        let old = app.history[0].clone();
        act(&mut app, &mut worker, Action::Restart);
        assert_eq!(app.run_id, 2);
        assert_eq!(app.settings.seed, 1);
        assert!(!app.on_worker(WorkerEvent::Snapshot(old)));
        assert_eq!(app.history.len(), 1);
    }

    #[test]
    fn changing_k_restarts_within_bounds() {
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::MoreComponents);
        assert_eq!(app.settings.k, 3);
        assert_eq!(app.shown_snapshot().unwrap().params.k(), 3);
        act(&mut app, &mut worker, Action::FewerComponents);
        act(&mut app, &mut worker, Action::FewerComponents);
        assert_eq!(app.settings.k, 1);
        assert!(app.handle(Action::FewerComponents).is_empty());
        assert_eq!(app.settings.k, 1);
        assert!(app.note.is_some());
    }

    #[test]
    fn init_cycle_includes_given_parameters() {
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::CycleInit);
        assert_eq!(app.settings.init, InitMethod::RandomFromData);
        act(&mut app, &mut worker, Action::CycleInit);
        assert_eq!(app.settings.init, InitMethod::Random);
        act(&mut app, &mut worker, Action::CycleInit);
        assert_eq!(app.settings.init, InitMethod::KMeansPlusPlus);
        let params = Mixture::from_params(&MixtureParams {
            weights: vec![1.0, 1.0],
            means: vec![vec![0.0, 0.0], vec![5.0, 0.0]],
            covariances: vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]; 2],
        })
        .unwrap();
        app.settings.init_params = Some(params);
        app.settings.init = InitMethod::Random;
        let commands = app.handle(Action::CycleInit);
        assert!(app.settings.use_init_params);
        assert!(matches!(
            &commands[..],
            [Command::Start(RunRequest {
                init: Init::Params(_),
                ..
            })]
        ));
    }

    #[test]
    fn help_escape_and_quit() {
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::ToggleHelp);
        assert!(app.help_open);
        act(&mut app, &mut worker, Action::Escape);
        assert!(!app.help_open && !app.should_quit);
        act(&mut app, &mut worker, Action::Escape);
        assert!(app.should_quit);
    }

    #[test]
    fn failures_pause_and_block_running() {
        let (mut app, _) = started();
        app.handle(Action::ToggleRun);
        app.on_worker(WorkerEvent::Failed {
            run_id: app.run_id,
            iteration: 4,
            message: "component 2 collapsed".into(),
        });
        assert_eq!(app.mode, Mode::Paused);
        assert!(app.failure.as_deref().unwrap().contains("iteration 4"));
        assert!(app.handle(Action::ToggleRun).is_empty());
    }

    #[test]
    fn dimension_keys_only_for_d_above_two() {
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::NextX);
        assert_eq!(app.dims, (0, 1));
        app.source.data = Arc::new(Dataset::new(4, vec![0.0; 40]).unwrap());
        app.handle(Action::NextX);
        assert_eq!(app.dims, (2, 1));
        app.handle(Action::NextY);
        assert_eq!(app.dims, (2, 3));
        app.handle(Action::NextY);
        assert_eq!(app.dims, (2, 0));
    }

    #[test]
    fn speeds_stay_in_range() {
        let (mut app, _) = started();
        for _ in 0..20 {
            app.handle(Action::Faster);
        }
        assert_eq!(app.speed_setting(), Speed::Unlimited);
        for _ in 0..20 {
            app.handle(Action::Slower);
        }
        assert_eq!(app.speed_setting(), Speed::PerSecond(1.0));
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, ratatui::crossterm::event::KeyModifiers::NONE)
    }

    fn type_keys(app: &mut App, worker: &mut FakeWorker, text: &str) {
        for c in text.chars() {
            let commands = app.on_key(&key(KeyCode::Char(c)));
            worker.serve(app, commands);
        }
    }

    fn simulated_app() -> (App, FakeWorker) {
        let spec = crate::data::spec::parse_toml(
            include_str!("../../assets/specs/default.toml"),
            "default.toml",
        )
        .unwrap();
        let (mut app, commands) = App::new(Source::simulated(spec, "default"), settings());
        app.presets = crate::explorer::editor::presets();
        let mut worker = FakeWorker { em: None };
        worker.serve(&mut app, commands);
        (app, worker)
    }

    #[test]
    fn the_editor_applies_a_new_simulation_and_restarts() {
        let (mut app, mut worker) = simulated_app();
        type_keys(&mut app, &mut worker, "nn");
        assert_eq!(app.shown, 2);
        type_keys(&mut app, &mut worker, "s");
        assert!(app.editor.is_some());
        // n is the first field: replace 500 by 800.
        for _ in 0..3 {
            app.on_key(&key(KeyCode::Backspace));
        }
        type_keys(&mut app, &mut worker, "800");
        // Keys that mean something in the main view only type (or are ignored) in the editor.
        type_keys(&mut app, &mut worker, "q");
        assert!(!app.should_quit);
        let commands = app.on_key(&key(KeyCode::Enter));
        assert!(matches!(&commands[..], [Command::Start(_)]));
        worker.serve(&mut app, commands);
        assert!(app.editor.is_none());
        assert_eq!(app.source.data.len(), 800);
        assert_eq!((app.history.len(), app.shown), (1, 0));
        assert_eq!(app.settings.k, 2);
        assert_eq!(app.truth_sample.as_ref().unwrap().labels.len(), 800);
    }

    #[test]
    fn cancelling_the_editor_leaves_the_run_alone() {
        let (mut app, mut worker) = simulated_app();
        type_keys(&mut app, &mut worker, "ns");
        let run_id = app.run_id;
        app.on_key(&key(KeyCode::Backspace));
        type_keys(&mut app, &mut worker, "x");
        assert!(app.on_key(&key(KeyCode::Esc)).is_empty());
        assert!(app.editor.is_none());
        assert_eq!(
            (app.run_id, app.source.data.len(), app.history.len()),
            (run_id, 500, 2)
        );
    }

    #[test]
    fn an_invalid_edit_cannot_be_applied() {
        let (mut app, mut worker) = simulated_app();
        type_keys(&mut app, &mut worker, "s");
        for _ in 0..3 {
            app.on_key(&key(KeyCode::Backspace));
        }
        type_keys(&mut app, &mut worker, "0");
        assert!(app.on_key(&key(KeyCode::Enter)).is_empty());
        let editor = app.editor.as_ref().unwrap();
        assert!(editor.message.as_deref().unwrap().contains("n must be"));
        assert_eq!(app.source.data.len(), 500);
    }

    #[test]
    fn saving_asks_for_a_path_and_confirms_an_overwrite() {
        let (mut app, mut worker) = simulated_app();
        type_keys(&mut app, &mut worker, "S");
        let prompt = app.prompt.as_ref().unwrap();
        assert_eq!(prompt.path, "mixplore-spec.toml");
        app.on_key(&key(KeyCode::Enter));
        let request = app.take_save_request().unwrap();
        assert!(!request.overwrite);
        assert!(matches!(request.what, SaveWhat::Spec(_)));
        // The file exists: the dialog asks; "n" goes back to the path, "y" confirms.
        app.save_finished(&request, SaveOutcome::Exists);
        assert!(app.prompt.as_ref().unwrap().confirm_overwrite);
        type_keys(&mut app, &mut worker, "n");
        assert!(!app.prompt.as_ref().unwrap().confirm_overwrite);
        assert!(app.take_save_request().is_none());
        app.on_key(&key(KeyCode::Enter));
        let request = app.take_save_request().unwrap();
        app.save_finished(&request, SaveOutcome::Exists);
        type_keys(&mut app, &mut worker, "y");
        let request = app.take_save_request().unwrap();
        assert!(request.overwrite);
        app.save_finished(&request, SaveOutcome::Saved);
        assert!(app.prompt.is_none());
        assert!(
            app.note
                .as_deref()
                .unwrap()
                .contains("saved the spec to mixplore-spec.toml")
        );
        // Data: a typed path, and a failure keeps the dialog open with the reason.
        type_keys(&mut app, &mut worker, "w");
        for _ in 0.."mixplore-data.csv".len() {
            app.on_key(&key(KeyCode::Backspace));
        }
        type_keys(&mut app, &mut worker, "out.csv");
        app.on_key(&key(KeyCode::Enter));
        let request = app.take_save_request().unwrap();
        assert_eq!(request.path, PathBuf::from("out.csv"));
        app.save_finished(
            &request,
            SaveOutcome::Failed("out.csv: cannot write: denied".into()),
        );
        assert_eq!(
            app.prompt.as_ref().unwrap().error.as_deref(),
            Some("out.csv: cannot write: denied")
        );
        app.on_key(&key(KeyCode::Esc));
        assert!(app.prompt.is_none() && !app.should_quit);
    }

    #[test]
    fn truth_overlay_only_for_simulations() {
        let (mut app, mut worker) = started();
        type_keys(&mut app, &mut worker, "t");
        assert!(!app.show_truth && app.note.is_some());
        let (mut app, mut worker) = simulated_app();
        type_keys(&mut app, &mut worker, "t");
        assert!(app.show_truth);
    }

    #[test]
    fn reg_covar_steps_and_restarts() {
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::StepForward);
        act(&mut app, &mut worker, Action::CycleRegCovar);
        assert_eq!(app.settings.config.reg_covar, 1e-5);
        assert_eq!((app.history.len(), app.run_id), (1, 2));
        for _ in 0..5 {
            act(&mut app, &mut worker, Action::CycleRegCovar);
        }
        assert_eq!(app.settings.config.reg_covar, 0.0);
        act(&mut app, &mut worker, Action::CycleRegCovar);
        assert_eq!(app.settings.config.reg_covar, 1e-6);
    }

    #[test]
    fn colours_follow_components_across_restarts() {
        let one_d = |means: &[f64]| {
            Mixture::from_flat(
                1,
                vec![1.0; means.len()],
                means.to_vec(),
                vec![1.0; means.len()],
            )
            .unwrap()
        };
        // The old run's component 0 (slot 2) sat at 10, component 1 (slot 0) at 0.
        let previous = one_d(&[10.0, 0.0]);
        let new = one_d(&[0.2, 9.5, 30.0]);
        assert_eq!(carry_palette(&previous, &[2, 0], &new), vec![0, 2, 1]);
        // A restart in the app keeps the colours of matched components.
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::StepForward);
        app.palette = vec![1, 0];
        let before: Vec<(f64, usize)> = (0..2)
            .map(|k| (app.shown_snapshot().unwrap().params.mean(k)[0], app.slot(k)))
            .collect();
        act(&mut app, &mut worker, Action::Restart);
        let params = &app.shown_snapshot().unwrap().params;
        for (mean, slot) in before {
            let k = (0..2)
                .min_by(|&a, &b| {
                    (params.mean(a)[0] - mean)
                        .abs()
                        .total_cmp(&(params.mean(b)[0] - mean).abs())
                })
                .unwrap();
            assert_eq!(app.slot(k), slot);
        }
    }

    #[test]
    fn batches_fill_their_panel_and_open_a_fit() {
        let (mut app, mut worker) = started();
        app.handle(Action::OpenSweep);
        let (id, jobs) = app.take_batch_request().unwrap();
        assert_eq!(jobs.len(), 4 * MAX_SWEEP_K);
        // Results arrive (here made up), the best by BIC is found, Enter opens it.
        for (index, job) in jobs.iter().enumerate() {
            let summary = FitSummary {
                k: job.options.k,
                covariance: job.options.config.covariance,
                seed: job.options.seed,
                log_likelihood: -100.0,
                bic: (job.options.k as f64 - 2.0).abs() + index as f64 * 0.001,
                aic: 0.0,
                iterations: 3,
                converged: true,
                trace: vec![-120.0, -100.0],
                initial: app.history[0].params.clone(),
            };
            assert!(app.on_batch(BatchEvent::Done {
                batch: id,
                index,
                outcome: Ok(summary)
            }));
        }
        assert!(!app.on_batch(BatchEvent::Done {
            batch: id + 1,
            index: 0,
            outcome: Err("x".into())
        }));
        let view = app.batch.as_ref().unwrap();
        assert_eq!(view.done(), jobs.len());
        assert_eq!(view.best(), Some(1));
        app.on_key(&key(KeyCode::Down));
        let commands = app.on_key(&key(KeyCode::Enter));
        worker.serve(&mut app, commands);
        assert!(app.batch.is_none());
        assert_eq!(app.settings.k, 2);
        assert!(app.settings.use_init_params);
        // Restarts: 10 seeds of the current model; Esc closes.
        app.handle(Action::OpenRestarts);
        let (_, jobs) = app.take_batch_request().unwrap();
        let seeds: Vec<u64> = jobs.iter().map(|j| j.options.seed).collect();
        assert_eq!(seeds, (0..RESTARTS).collect::<Vec<_>>());
        app.on_key(&key(KeyCode::Esc));
        assert!(app.batch.is_none() && !app.should_quit);
    }

    #[test]
    fn the_inspector_moves_between_points_by_direction() {
        let source = Source {
            name: "grid".into(),
            columns: vec!["a".into(), "b".into()],
            // A plus sign of points around (0, 0).
            data: Arc::new(
                Dataset::new(
                    2,
                    vec![
                        0.0, 0.0, 1.0, 0.0, 2.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0, -2.0,
                    ],
                )
                .unwrap(),
            ),
            simulation: None,
        };
        let (mut app, _) = App::new(source, settings());
        app.handle(Action::ToggleInspector);
        assert_eq!(app.inspected, Some(0));
        let press = |app: &mut App, code| {
            app.on_key(&key(code));
        };
        press(&mut app, KeyCode::Right);
        assert_eq!(app.inspected, Some(1));
        press(&mut app, KeyCode::Right);
        assert_eq!(app.inspected, Some(2));
        press(&mut app, KeyCode::Right);
        assert_eq!(app.inspected, Some(2), "nothing further right");
        press(&mut app, KeyCode::Left);
        press(&mut app, KeyCode::Left);
        press(&mut app, KeyCode::Down);
        assert_eq!(app.inspected, Some(5));
        press(&mut app, KeyCode::Down);
        assert_eq!(app.inspected, Some(6));
        // While inspecting, arrows do not step; Esc closes the inspector, not the app.
        assert_eq!(app.shown, 0);
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.inspected, None);
        assert!(!app.should_quit);
    }

    #[test]
    fn half_steps_alternate_e_and_m() {
        let (mut app, mut worker) = started();
        act(&mut app, &mut worker, Action::ToggleHalfSteps);
        // θ(0): colours from θ(0).
        assert_eq!((app.shown, app.after_m_step), (0, false));
        let theta0 = app.history[0].params.clone();
        // n: the M-step of iteration 1 (new ellipses, colours still from θ(0)).
        act(&mut app, &mut worker, Action::StepForward);
        assert_eq!((app.shown, app.after_m_step), (1, true));
        assert_eq!(app.colouring_params(), Some(&theta0));
        assert!(app.recolour_reference().is_none());
        // n: the E-step at θ(1) recolours; the points that changed are measured against θ(0).
        act(&mut app, &mut worker, Action::StepForward);
        assert_eq!((app.shown, app.after_m_step), (1, false));
        assert_eq!(app.colouring_params(), Some(&app.history[1].params));
        assert_eq!(app.recolour_reference(), Some(&theta0));
        // n again moves to the next M-step; p walks back the same way.
        act(&mut app, &mut worker, Action::StepForward);
        assert_eq!((app.shown, app.after_m_step), (2, true));
        act(&mut app, &mut worker, Action::StepBack);
        assert_eq!((app.shown, app.after_m_step), (1, false));
        act(&mut app, &mut worker, Action::StepBack);
        assert_eq!((app.shown, app.after_m_step), (1, true));
        act(&mut app, &mut worker, Action::StepBack);
        assert_eq!((app.shown, app.after_m_step), (0, false));
        // Whole iterations again.
        act(&mut app, &mut worker, Action::ToggleHalfSteps);
        act(&mut app, &mut worker, Action::StepForward);
        assert_eq!((app.shown, app.after_m_step), (1, false));
    }

    #[test]
    fn covariance_types_cycle_and_restart() {
        let (mut app, mut worker) = started();
        let names: Vec<&str> = (0..4)
            .map(|_| {
                act(&mut app, &mut worker, Action::CycleCovariance);
                app.settings.config.covariance.name()
            })
            .collect();
        assert_eq!(names, ["diag", "spherical", "tied", "full"]);
        assert_eq!(app.run_id, 5);
    }

    #[test]
    fn long_runs_keep_a_bounded_thinned_history() {
        let (mut app, _) = started();
        let params = app.history[0].params.clone();
        for iteration in 1..=10_000 {
            app.on_worker(WorkerEvent::Snapshot(Snapshot {
                run_id: app.run_id,
                iteration,
                params: params.clone(),
                log_likelihood: -(10_000.0 - iteration as f64),
                converged: false,
                done: false,
                agreement: None,
            }));
        }
        assert!(app.history.len() <= MAX_HISTORY);
        assert_eq!(app.history[0].iteration, 0);
        assert_eq!(app.newest().unwrap().iteration, 10_000);
        assert_eq!(app.shown_snapshot().unwrap().iteration, 10_000);
        // The recent iterations are all there; iterations stay in order.
        let tail: Vec<usize> = app.history[app.history.len() - 100..]
            .iter()
            .map(|s| s.iteration)
            .collect();
        assert_eq!(tail, (9_901..=10_000).collect::<Vec<_>>());
        assert!(
            app.history
                .windows(2)
                .all(|w| w[0].iteration < w[1].iteration)
        );
        // Going back lands on kept iterations.
        app.handle(Action::First);
        assert_eq!(app.shown_snapshot().unwrap().iteration, 0);
    }

    #[test]
    fn large_data_draw_a_fixed_sample() {
        let n = MAX_DRAWN_POINTS * 3;
        let data = Dataset::new(1, (0..n).map(|i| i as f64).collect()).unwrap();
        let source = Source {
            name: "big".into(),
            columns: vec!["v".into()],
            data: Arc::new(data),
            simulation: None,
        };
        let (a, _) = App::new(source.clone(), RunSettings { k: 1, ..settings() });
        let (b, _) = App::new(source, RunSettings { k: 1, ..settings() });
        assert_eq!(a.drawn.len(), MAX_DRAWN_POINTS);
        assert_eq!(a.drawn, b.drawn);
        assert!(a.drawn.windows(2).all(|w| w[0] < w[1]));
    }
}
