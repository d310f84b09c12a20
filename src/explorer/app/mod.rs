//! The explorer's state as a reducer: [`App::update`] takes a [`Msg`] (a key, a worker or batch
//! event, a finished save or simulation) and returns the [`Effect`]s for the loop to carry out
//! (worker commands, batches, saves, simulations, suspend, quit). Nothing else changes the
//! state, and the state owns no terminal and no thread, so tests drive it directly.
//!
//! Keys go through three layers: the global keys (Ctrl-C quits, Ctrl-Z suspends, from
//! anywhere), then the top [`Overlay`] of the stack, then the one key table
//! ([`crate::explorer::keys`]). Esc closes the top overlay and never quits.
//!
//! What is shown lives in a [`Timeline`] (the run's history within a byte budget) and is
//! prepared for drawing once per change in a [`View`]; the panels only format.
//!
//! Where things are: this file has the state, the message and effect types, the key routing and
//! the main key table's actions; `panels` how each overlay takes its keys; `events` what the
//! worker's events do and the view rebuild; `run` the run settings and the reproduce command;
//! `start` the start set by hand; `source` the data and their truth.

mod events;
mod overlay;
mod panels;
mod run;
mod source;
mod start;
mod timeline;
mod view;

use std::sync::Arc;

pub use events::carry_palette;
pub use overlay::{
    BatchKind, BatchView, Overlay, Prompt, Reproduce, SaveOutcome, SaveRequest, SaveWhat,
};
pub use run::{RunSettings, RunSpec, Start, reproduce_commands, shell_word};
pub use source::{MAX_DRAWN_POINTS, Origin, Simulation, Source, Truth, drawn_points};
pub use start::{Edit, StartEditor};
pub use timeline::{DEFAULT_BUDGET, Entry, Full, Phase, Timeline};
pub use view::{Axes, DerivationView, Inspection, Outline, View, ellipse, padded_range};

use crate::data::spec::Spec;
use crate::em::{
    CovarianceType, Dataset, EmConfig, FitOptions, Init, InitMethod, Mixture, StopReason, limits,
    match_components,
};
use crate::explorer::action::Action;
use crate::explorer::batch::{BatchEvent, Job};
use crate::explorer::editor::{self, Editor, EditorOutcome, Preset};
use crate::explorer::input::Key;
use crate::explorer::keys::{action_for, editor_key_for, global_action};
use crate::explorer::worker::{
    BoundCurve, Command, RunRequest, Snapshot, Speed, TruthSample, WorkerEvent,
};

/// The values `c` steps reg_covar through: the default first, up by tens, then none at all.
pub const REG_COVAR_STEPS: &[f64] = &[1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 0.0];

/// The most components `]` goes to (the shared limit of what the explorer can draw apart).
pub const MAX_COMPONENTS: usize = limits::MAX_DRAWN_COMPONENTS;

/// The largest K the BIC sweep tries.
pub const MAX_SWEEP_K: usize = 8;

/// How many restarts `R` runs.
pub const RESTARTS: u64 = 10;

/// How many iterations before a re-derived one are re-derived with it, so that stepping back
/// from it does not wait again at every step.
const DERIVE_AHEAD: usize = 8;

/// The most messages kept (the oldest go first).
pub const MAX_MESSAGES: usize = 500;

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

/// What the reducer takes.
#[derive(Debug)]
pub enum Msg {
    /// A key press.
    Key(Key),
    /// The EM worker reported.
    Worker(WorkerEvent),
    /// A background batch reported a fit.
    Batch(BatchEvent),
    /// A save finished.
    Saved {
        /// What was asked.
        request: SaveRequest,
        /// How it went.
        outcome: SaveOutcome,
    },
    /// How far the background simulation is (share done, 0 to 1).
    SimulationProgress {
        /// The simulation.
        id: u64,
        /// Share done.
        done: f64,
    },
    /// New simulated data are ready (or could not be drawn).
    Simulated {
        /// The simulation asked for.
        id: u64,
        /// The data, or why not.
        source: Result<Box<Source>, String>,
    },
    /// The terminal changed size (only a redraw).
    Resize,
}

/// What the reducer asks the loop to do.
#[derive(Debug)]
pub enum Effect {
    /// Send a command to the EM worker.
    Worker(Command),
    /// Start a batch of fits in the background (replacing, and so cancelling, any other).
    StartBatch {
        /// Identifies its results.
        id: u64,
        /// The data.
        data: Arc<Dataset>,
        /// The fits.
        jobs: Vec<Job>,
    },
    /// Cancel the running batch (within the fit it is in).
    CancelBatch,
    /// Draw data from a spec in the background.
    Simulate {
        /// Identifies the result.
        id: u64,
        /// The spec.
        spec: Box<Spec>,
    },
    /// Write a file in the background.
    Save(SaveRequest),
    /// Restore the terminal and stop the process (Ctrl-Z); `fg` resumes.
    Suspend,
    /// Leave.
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

/// What the log-likelihood panel plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogView {
    /// log L(θ(t)) against t.
    Trace,
    /// log10(L* − L(t)) against t, L* the best value reached.
    Convergence,
    /// The minorise–maximise picture of the shown iteration: log L and its lower bound
    /// Q(θ(s)|θ(t)) + H(t) along the line from θ(t) through θ(t+1).
    Bound,
}

/// Whether the worker is iterating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Waiting for the user.
    Paused,
    /// Iterating at the chosen speed.
    Running,
}

/// One warning or error, kept for the messages overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The iteration it concerns, if any.
    pub iteration: Option<usize>,
    /// The text, one line.
    pub text: String,
}

/// The run being fitted.
#[derive(Debug, Clone)]
pub struct Run {
    /// Identifies its snapshots.
    pub id: u64,
    /// Exactly what is fitted.
    pub spec: RunSpec,
    /// Why it stopped early, if it failed.
    pub failure: Option<String>,
    /// θ(0), once it arrived.
    pub start: Option<Arc<Mixture>>,
}

/// How the data panel is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    /// Point marker.
    pub marker: MarkerKind,
    /// Dimensions on the x and y axes (equal when D = 1).
    pub dims: (usize, usize),
    /// Whether the true components' ellipses are drawn.
    pub show_truth: bool,
    /// What the log-likelihood panel plots.
    pub log_view: LogView,
    /// Whether the data panel fills its area (x and y scaled apart) instead of keeping equal
    /// units on both axes.
    pub fill: bool,
}

/// Iterations per second over about the last second (or the last three iterations, when
/// slower), from arrival times.
#[derive(Debug, Default)]
struct RateMeter {
    arrivals: std::collections::VecDeque<std::time::Instant>,
}

impl RateMeter {
    /// The window measured over.
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

    fn record(&mut self, at: std::time::Instant) {
        self.arrivals.push_back(at);
        // The last three arrivals stay whatever their age, so that a slow run (under one
        // iteration per second, as at 10⁸ points) still shows its rate.
        while self.arrivals.len() > 3
            && self
                .arrivals
                .front()
                .is_some_and(|first| at.duration_since(*first) > Self::WINDOW)
        {
            self.arrivals.pop_front();
        }
    }

    fn clear(&mut self) {
        self.arrivals.clear();
    }

    /// Arrivals per second between the first and last kept, once there are a few.
    fn per_second(&self) -> Option<f64> {
        let (first, last) = (self.arrivals.front()?, self.arrivals.back()?);
        let seconds = last.duration_since(*first).as_secs_f64();
        (self.arrivals.len() >= 3 && seconds > 0.0)
            .then(|| (self.arrivals.len() - 1) as f64 / seconds)
    }
}

/// The explorer's whole state.
#[derive(Debug)]
pub struct App {
    source: Source,
    drawn: Arc<Vec<usize>>,
    truth_sample: Option<Arc<TruthSample>>,
    settings: RunSettings,
    run: Run,
    timeline: Timeline,
    mode: Mode,
    speed: usize,
    half_steps: bool,
    display: Display,
    overlays: Vec<Overlay>,
    note: Option<String>,
    messages: Vec<Message>,
    palette: Vec<usize>,
    previous_run: Option<(Arc<Mixture>, Vec<usize>)>,
    presets: Vec<Preset>,
    next_id: u64,
    /// The background simulation under way, and its share done.
    simulation: Option<(u64, f64)>,
    /// The iterations asked of the worker to re-derive, first and last.
    derivation: Option<(usize, usize)>,
    /// The latest minorise–maximise picture the worker computed.
    bound: Option<Arc<BoundCurve>>,
    /// The iteration whose picture was asked for and has not arrived.
    bound_asked: Option<usize>,
    axes: Axes,
    view: View,
    quitting: bool,
    /// Arrival times of recent iterations, for the rate shown at max speed.
    rate: RateMeter,
}

impl App {
    /// A new explorer state; the returned effects start the first run.
    pub fn new(source: Source, settings: RunSettings) -> (Self, Vec<Effect>) {
        let mut app = Self {
            drawn: Arc::new(Vec::new()),
            truth_sample: None,
            run: Run {
                id: 0,
                spec: settings.spec(source.data.dim()),
                failure: None,
                start: None,
            },
            settings,
            timeline: Timeline::default(),
            mode: Mode::Paused,
            speed: DEFAULT_SPEED,
            half_steps: false,
            display: Display {
                marker: MarkerKind::Braille,
                dims: (0, 0),
                show_truth: false,
                log_view: LogView::Trace,
                fill: false,
            },
            overlays: Vec::new(),
            note: None,
            messages: Vec::new(),
            palette: Vec::new(),
            previous_run: None,
            presets: editor::presets(),
            next_id: 0,
            simulation: None,
            derivation: None,
            bound: None,
            bound_asked: None,
            axes: Axes {
                dims: (0, 0),
                x_range: (0.0, 1.0),
                y_range: (0.0, 1.0),
            },
            view: View::default(),
            quitting: false,
            rate: RateMeter::default(),
            source,
        };
        app.take_source_warnings();
        app.prepare_source();
        let mut effects = vec![Effect::Worker(Command::SetSpeed(app.speed_setting()))];
        effects.extend(app.restart());
        // The data are drawn (uncoloured) from the first frame, not only once θ(0) arrives:
        // at 10⁷ points the start takes longer than the loading.
        effects.extend(app.rebuild_view());
        (app, effects)
    }

    // ----- read access for the panels -----

    /// The data and their truth.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Row indices of the points the data panel draws.
    pub fn drawn(&self) -> &[usize] {
        &self.drawn
    }

    /// The settings the next run takes.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// The run being fitted.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The run's history and the shown position.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// What the panels draw.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Running or paused.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Marker, axes, truth overlay.
    pub fn display(&self) -> Display {
        self.display
    }

    /// The open overlays, bottom first.
    pub fn overlays(&self) -> &[Overlay] {
        &self.overlays
    }

    /// The top overlay.
    pub fn top(&self) -> Option<&Overlay> {
        self.overlays.last()
    }

    /// The open overlay of a kind, if any.
    pub fn find(&self, matches: impl Fn(&Overlay) -> bool) -> Option<&Overlay> {
        self.overlays.iter().rev().find(|o| matches(o))
    }

    /// The short note for the status line.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Every warning and error so far.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Whether new data are being drawn in the background.
    pub fn simulating(&self) -> bool {
        self.simulation.is_some()
    }

    /// The share (0 to 1) of the background simulation done, while one runs.
    pub fn simulation_progress(&self) -> Option<f64> {
        self.simulation.map(|(_, share)| share)
    }

    /// Whether the user asked to quit.
    pub fn quitting(&self) -> bool {
        self.quitting
    }

    /// The shown view as a figure: the drawn points coloured as on screen (grey where no
    /// component is sure), the shown parameters' ellipses on the plotted pair, and the trace up
    /// to the shown iteration. Only what the state holds; drawing happens in the save.
    pub fn figure(&self) -> Option<crate::figure::Figure> {
        let params = self.view.params.as_deref()?;
        let t = self.timeline.shown();
        let dims = self.display.dims;
        let unsure: std::collections::HashSet<usize> =
            self.view.uncertain.iter().copied().collect();
        let labels = self.view.labels.as_deref();
        let points = self
            .drawn
            .iter()
            .enumerate()
            .map(|(i, &row)| {
                let point = self.source.data.row(row);
                let y = point.get(dims.1).copied().filter(|_| point.len() > 1);
                let component = labels
                    .and_then(|labels| labels.get(i))
                    .filter(|_| !unsure.contains(&i))
                    .map(|&c| usize::from(c));
                ((point[dims.0], y.unwrap_or(0.0)), component)
            })
            .collect();
        let name = |d: usize| self.source.columns.get(d).cloned().unwrap_or_default();
        Some(crate::figure::Figure {
            title: format!(
                "{}: K = {}, {} covariances, iteration {t}",
                self.source.name,
                params.k(),
                self.run.spec.config.covariance.name()
            ),
            axis_names: (name(dims.0), name(dims.1)),
            dims,
            points,
            mixture: params.clone(),
            trace: self
                .timeline
                .entries()
                .iter()
                .take(t + 1)
                .map(|entry| entry.log_likelihood)
                .collect(),
            colours: (0..params.k()).map(|k| self.slot(k)).collect(),
        })
    }

    /// The colour slot of fitted component `k`.
    pub fn slot(&self, k: usize) -> usize {
        self.palette.get(k).copied().unwrap_or(k)
    }

    /// The run speed for the status line: the chosen rate, or at max speed the rate measured
    /// over the last second while running.
    pub fn speed_label(&self) -> String {
        match SPEEDS[self.speed] {
            Some(rate) => format!("{rate} it/s"),
            None => match self
                .rate
                .per_second()
                .filter(|_| self.mode == Mode::Running)
            {
                Some(measured) if measured < 10.0 => format!("max {measured:.1} it/s"),
                Some(measured) => format!("max {measured:.0} it/s"),
                None => "max speed".into(),
            },
        }
    }

    /// Records that a new iteration arrived now (for the measured rate).
    fn record_arrival(&mut self) {
        self.rate.record(std::time::Instant::now());
    }

    /// The run speed as the worker takes it.
    fn speed_setting(&self) -> Speed {
        match SPEEDS[self.speed] {
            Some(rate) => Speed::PerSecond(rate),
            None => Speed::Unlimited,
        }
    }

    /// Whether the newest iteration met the convergence test.
    pub fn converged(&self) -> bool {
        self.timeline.newest().is_some_and(|(_, e)| e.converged)
    }

    /// Why the run stopped, once it did.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.timeline.newest().and_then(|(_, e)| e.stop)
    }

    /// Whether the run is over (converged, stopped or at max_iter).
    pub fn finished(&self) -> bool {
        self.timeline.newest().is_some_and(|(_, e)| e.done)
    }

    /// The minorise–maximise picture of the iteration whose E-step is shown, once computed.
    pub fn bound(&self) -> Option<&BoundCurve> {
        let c = self.view.coloured_by?;
        self.bound.as_deref().filter(|b| b.t == c)
    }

    /// Applies one message; returns what the loop must do. The view is rebuilt when anything
    /// it shows may have changed.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Worker(event) => self.on_worker(event),
            Msg::Batch(event) => {
                self.on_batch(event);
                Vec::new()
            }
            Msg::Saved { request, outcome } => {
                self.save_finished(&request, outcome);
                Vec::new()
            }
            Msg::SimulationProgress { id, done } => {
                if let Some((pending, share)) = self.simulation.as_mut()
                    && *pending == id
                {
                    *share = done;
                }
                Vec::new()
            }
            Msg::Simulated { id, source } => self.simulated(id, source),
            Msg::Resize => Vec::new(),
        };
        let mut effects = effects;
        effects.extend(self.rebuild_view());
        effects
    }

    fn on_key(&mut self, key: Key) -> Vec<Effect> {
        if let Some(action) = global_action(key) {
            return self.act(action);
        }
        self.note = None;
        let Some(top) = self.overlays.last_mut() else {
            return self.table_key(key);
        };
        match top {
            Overlay::Derivation { scroll } => match key {
                Key::Up => *scroll = scroll.saturating_sub(1),
                Key::Down => *scroll = scroll.saturating_add(1),
                Key::PageUp => *scroll = scroll.saturating_sub(10),
                Key::PageDown => *scroll = scroll.saturating_add(10),
                Key::Esc | Key::Char('d') => {
                    self.overlays.pop();
                }
                // Stepping, running and the rest work with the derivation open.
                _ => return self.table_key(key),
            },
            Overlay::Help { scroll } | Overlay::Messages { scroll } => match key {
                Key::Up => *scroll = scroll.saturating_sub(1),
                Key::Down => *scroll = scroll.saturating_add(1),
                Key::PageUp => *scroll = scroll.saturating_sub(10),
                Key::PageDown => *scroll = scroll.saturating_add(10),
                Key::Home => *scroll = 0,
                Key::Esc | Key::Char('?') | Key::Char('!') => {
                    self.overlays.pop();
                }
                Key::Char('q') => return self.act(Action::Quit),
                _ => self.note = Some("Esc closes this panel".into()),
            },
            Overlay::Reproduce(reproduce) => match key {
                Key::Esc | Key::Char('e') => {
                    self.overlays.pop();
                }
                Key::Char('w') => {
                    if let Some(start) = reproduce.start.clone() {
                        self.open_prompt(SaveWhat::Start(start));
                    }
                }
                Key::Char('q') => return self.act(Action::Quit),
                _ => self.note = Some("w saves θ(0) as JSON, Esc closes".into()),
            },
            Overlay::Prompt(_) => {
                return self.prompt_key(key).map(Effect::Save).into_iter().collect();
            }
            Overlay::Editor(_) => return self.editor_key(key),
            Overlay::Start(_) => return self.start_key(key),
            Overlay::Batch(_) => return self.batch_key(key),
            Overlay::Inspector { .. } => {
                let direction = match key {
                    Key::Left => Some((-1.0, 0.0)),
                    Key::Right => Some((1.0, 0.0)),
                    Key::Up => Some((0.0, 1.0)),
                    Key::Down => Some((0.0, -1.0)),
                    _ => None,
                };
                match (key, direction) {
                    (_, Some(direction)) => self.move_inspector(direction),
                    (Key::Esc | Key::Char('o'), _) => {
                        self.overlays.pop();
                    }
                    // The inspector stays open while the run is stepped or changed.
                    _ => return self.table_key(key),
                }
            }
        }
        Vec::new()
    }

    fn table_key(&mut self, key: Key) -> Vec<Effect> {
        match action_for(key) {
            Some(action) => self.act(action),
            None => {
                self.note = Some(format!(
                    "{} does nothing here: ? lists the keys",
                    key_name(key)
                ));
                Vec::new()
            }
        }
    }

    /// Carries out an action of the key table.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => {
                self.quitting = true;
                vec![Effect::CancelBatch, Effect::Quit]
            }
            Action::Suspend => vec![Effect::Suspend],
            Action::Escape => {
                if self.overlays.pop().is_none() {
                    self.note = Some("nothing to close: q quits".into());
                }
                Vec::new()
            }
            Action::ToggleRun => match self.mode {
                Mode::Running => {
                    self.mode = Mode::Paused;
                    vec![Effect::Worker(Command::Pause)]
                }
                Mode::Paused => {
                    if self.finished() {
                        self.note = Some("the run is finished: n steps on, r restarts".into());
                        return Vec::new();
                    }
                    if self.run.failure.is_some() {
                        self.note = Some("the run failed (! shows why): r restarts".into());
                        return Vec::new();
                    }
                    // Before the first snapshot too: the worker takes Run after the Start
                    // it is still working on, so a key pressed while starting is not lost.
                    self.mode = Mode::Running;
                    self.timeline.follow_newest(Phase::AfterEStep);
                    vec![Effect::Worker(Command::Run)]
                }
            },
            Action::StepForward => self.step_forward(),
            Action::StepBack => {
                let effects = self.pause();
                self.timeline.unfollow();
                let t = self.timeline.shown();
                match (self.half_steps, self.timeline.phase()) {
                    (true, Phase::AfterEStep) => self.timeline.show(t, Phase::AfterMStep),
                    (true, Phase::AfterMStep) if t > 0 => {
                        self.timeline.show(t - 1, Phase::AfterEStep)
                    }
                    (false, _) if t > 0 => self.timeline.show(t - 1, Phase::AfterEStep),
                    _ => self.note = Some("this is θ(0), the start".into()),
                }
                self.timeline.unfollow();
                effects
            }
            Action::First => {
                let effects = self.pause();
                let phase = if self.half_steps {
                    Phase::AfterMStep
                } else {
                    Phase::AfterEStep
                };
                self.timeline.show(0, phase);
                effects
            }
            Action::Newest => {
                self.timeline.follow_newest(Phase::AfterEStep);
                Vec::new()
            }
            Action::Faster | Action::Slower => {
                self.speed = if action == Action::Faster {
                    (self.speed + 1).min(SPEEDS.len() - 1)
                } else {
                    self.speed.saturating_sub(1)
                };
                vec![Effect::Worker(Command::SetSpeed(self.speed_setting()))]
            }
            Action::Restart => {
                // Always a new random initialisation: a new seed, never the given start.
                self.settings.seed = self.settings.seed.wrapping_add(1);
                self.settings.use_init_params = false;
                self.restart()
            }
            Action::CycleInit => {
                self.cycle_init();
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
            Action::ToggleHardEm => {
                // The same start, soft or hard: the contrast is the point.
                self.settings.config.hard = !self.settings.config.hard;
                self.note = Some(if self.settings.config.hard {
                    "hard EM: each point wholly to its most likely component (same start)".into()
                } else {
                    "soft EM: responsibilities (same start)".into()
                });
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
            Action::ToggleHalfSteps => {
                self.half_steps = !self.half_steps;
                // From θ(t) the first half-step forward is the E-step at θ(t).
                let phase = if self.half_steps {
                    Phase::AfterMStep
                } else {
                    Phase::AfterEStep
                };
                self.timeline.set_phase(phase);
                self.note = Some(if self.half_steps {
                    "half-steps: n shows the E-step (points recolour), then the M-step (ellipses move)".into()
                } else {
                    "whole iterations".into()
                });
                Vec::new()
            }
            Action::ToggleInspector => {
                if self
                    .overlays
                    .iter()
                    .any(|o| matches!(o, Overlay::Inspector { .. }))
                {
                    self.overlays
                        .retain(|o| !matches!(o, Overlay::Inspector { .. }));
                } else if !self.drawn.is_empty() {
                    let cursor = self.nearest_to_centre();
                    self.overlays.push(Overlay::Inspector { cursor });
                    self.note =
                        Some("inspector: arrows move between points, o or Esc closes".into());
                }
                Vec::new()
            }
            // Batches start from k-means++ whatever the main run uses (a random start makes
            // most fits saddles); `i` in the panel changes it.
            Action::OpenSweep => self.open_batch(BatchKind::Sweep, InitMethod::KMeansPlusPlus),
            Action::OpenRestarts => {
                self.open_batch(BatchKind::Restarts, InitMethod::KMeansPlusPlus)
            }
            Action::NextX | Action::NextY => {
                let d = self.source.data.dim();
                if d <= 2 {
                    self.note = Some("x / y choose the plotted dimensions when D > 2".into());
                    return Vec::new();
                }
                let (x, y) = self.display.dims;
                let next = |current: usize, other: usize| {
                    let mut candidate = (current + 1) % d;
                    if candidate == other {
                        candidate = (candidate + 1) % d;
                    }
                    candidate
                };
                self.display.dims = if action == Action::NextX {
                    (next(x, y), y)
                } else {
                    (x, next(y, x))
                };
                self.prepare_axes();
                Vec::new()
            }
            Action::CycleLogView => {
                self.display.log_view = match self.display.log_view {
                    LogView::Trace => LogView::Convergence,
                    LogView::Convergence => LogView::Bound,
                    LogView::Bound => LogView::Trace,
                };
                Vec::new()
            }
            Action::ToggleFill => {
                self.display.fill = !self.display.fill;
                self.note = Some(
                    if self.display.fill {
                        "data panel fills its area (x and y scaled apart); = for equal units"
                    } else {
                        "data panel in equal units on both axes; = fills the area"
                    }
                    .into(),
                );
                Vec::new()
            }
            Action::CycleMarker => {
                self.display.marker = self.display.marker.next();
                self.note = Some(format!("{} markers", self.display.marker.name()));
                Vec::new()
            }
            Action::ToggleHelp => {
                self.toggle(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Action::ToggleDerivation => {
                self.toggle(Overlay::Derivation { scroll: 0 });
                Vec::new()
            }
            Action::OpenMessages => {
                self.toggle(Overlay::Messages { scroll: 0 });
                Vec::new()
            }
            Action::OpenReproduce => {
                let start = self.run.start.clone();
                let lines = reproduce_commands(&self.source, &self.run.spec, "mixplore-start.json");
                self.overlays
                    .retain(|o| !matches!(o, Overlay::Reproduce(_)));
                self.overlays
                    .push(Overlay::Reproduce(Reproduce { lines, start }));
                Vec::new()
            }
            Action::SetStart => {
                let Some(params) = self.view.params.clone() else {
                    self.note = Some("no parameters yet to start from".into());
                    return Vec::new();
                };
                self.overlays.retain(|o| !matches!(o, Overlay::Start(_)));
                self.overlays.push(Overlay::Start(StartEditor::new(params)));
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
                self.overlays
                    .retain(|o| !matches!(o, Overlay::Help { .. } | Overlay::Editor(_)));
                self.overlays.push(Overlay::Editor(Box::new(Editor::new(
                    &spec,
                    self.presets.clone(),
                ))));
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
            Action::SaveFigure => {
                match self.figure() {
                    Some(figure) => self.open_prompt(SaveWhat::Figure(Box::new(figure))),
                    None => self.note = Some("P saves the view once an iteration is shown".into()),
                }
                Vec::new()
            }
            Action::ToggleTruth => {
                if self.source.simulation.is_some() {
                    self.display.show_truth = !self.display.show_truth;
                } else {
                    self.note = Some("t shows the true components of simulated data".into());
                }
                Vec::new()
            }
        }
    }

    fn toggle(&mut self, overlay: Overlay) {
        let kind = std::mem::discriminant(&overlay);
        if self
            .overlays
            .last()
            .is_some_and(|o| std::mem::discriminant(o) == kind)
        {
            self.overlays.pop();
        } else {
            self.overlays.retain(|o| std::mem::discriminant(o) != kind);
            self.overlays.push(overlay);
        }
    }

    fn step_forward(&mut self) -> Vec<Effect> {
        let mut effects = self.pause();
        if self.timeline.is_empty() {
            return effects;
        }
        let t = self.timeline.shown();
        if self.half_steps && self.timeline.phase() == Phase::AfterMStep {
            // The E-step at the shown θ(t): the points recolour, the ellipses stay.
            self.timeline.show(t, Phase::AfterEStep);
            self.timeline.unfollow();
            return effects;
        }
        let phase = if self.half_steps {
            Phase::AfterMStep
        } else {
            Phase::AfterEStep
        };
        if t + 1 < self.timeline.len() {
            self.timeline.show(t + 1, phase);
            if t + 2 < self.timeline.len() {
                self.timeline.unfollow();
            }
        } else if self.run.failure.is_none() {
            // The worker's next iteration arrives as the M-step of t + 1.
            self.timeline.follow_newest(self.timeline.phase());
            effects.push(Effect::Worker(Command::Step));
        }
        effects
    }

    fn pause(&mut self) -> Vec<Effect> {
        if self.mode == Mode::Running {
            self.mode = Mode::Paused;
            vec![Effect::Worker(Command::Pause)]
        } else {
            Vec::new()
        }
    }

    fn cycle_init(&mut self) {
        let methods = [
            InitMethod::KMeansPlusPlus,
            InitMethod::RandomFromData,
            InitMethod::Random,
        ];
        let usable = self
            .settings
            .usable_init_params(self.source.data.dim())
            .is_some();
        if self.settings.use_init_params && usable {
            self.settings.use_init_params = false;
            self.settings.init = methods[0];
            return;
        }
        self.settings.use_init_params = false;
        let position = methods.iter().position(|m| *m == self.settings.init);
        let next = position.map_or(0, |p| p + 1);
        match methods.get(next) {
            Some(method) => self.settings.init = *method,
            None if usable => self.settings.use_init_params = true,
            None => self.settings.init = methods[0],
        }
        if !usable && self.settings.init_params.is_some() && next == methods.len() {
            self.note = Some("the --init-params start has another K or D: skipped".into());
        }
    }

    /// Abandons the current run and starts a new one with the current settings.
    fn restart(&mut self) -> Vec<Effect> {
        if let Some(params) = &self.view.params {
            self.previous_run = Some((Arc::clone(params), self.palette.clone()));
        }
        self.next_id += 1;
        self.rate.clear();
        let spec = self.settings.spec(self.source.data.dim());
        self.run = Run {
            id: self.next_id,
            spec: spec.clone(),
            failure: None,
            start: None,
        };
        self.timeline = Timeline::default();
        self.derivation = None;
        self.bound = None;
        self.bound_asked = None;
        self.mode = Mode::Paused;
        vec![Effect::Worker(Command::Start(RunRequest {
            run_id: self.run.id,
            data: Arc::clone(&self.source.data),
            k: spec.k,
            init: spec.init(),
            seed: spec.seed,
            config: spec.config,
            drawn: Arc::clone(&self.drawn),
            truth: self.truth_sample.clone(),
        }))]
    }

    /// Switches to new data (with K set to the number of true components) and restarts.
    pub fn replace_source(&mut self, source: Source) -> Vec<Effect> {
        let mut effects = self.pause();
        if let Some(truth) = source.true_mixture() {
            self.settings.k = truth.k().min(source.data.len()).max(1);
        }
        self.settings.use_init_params = false;
        self.source = source;
        self.take_source_warnings();
        self.prepare_source();
        effects.extend(self.restart());
        effects
    }

    fn take_source_warnings(&mut self) {
        for warning in std::mem::take(&mut self.source.warnings) {
            self.push_message(None, warning);
        }
        // As `mixplore fit` warns: a constant column's variance is reg_covar alone.
        let data = Arc::clone(&self.source.data);
        for column in 0..data.dim() {
            let mut values = data.rows().map(|row| row[column]);
            if let Some(first) = values.next()
                && values.all(|v| v == first)
            {
                let name = &self.source.columns[column];
                self.push_message(
                    None,
                    format!(
                        "column {name} is constant ({first}): its variance is reg_covar alone, which sets the log-likelihood; drop the column"
                    ),
                );
            }
        }
    }

    /// The drawn sample, its truth and the axes, after the data changed.
    fn prepare_source(&mut self) {
        self.drawn = Arc::new(drawn_points(self.source.data.len()));
        self.truth_sample = self.source.truth.as_ref().map(|truth| {
            Arc::new(TruthSample {
                indices: self.drawn.to_vec(),
                labels: self.drawn.iter().map(|&i| truth.labels[i]).collect(),
            })
        });
        let d = self.source.data.dim();
        self.display.dims = (0, if d > 1 { 1 } else { 0 });
        self.display.show_truth = self.display.show_truth && self.source.simulation.is_some();
        self.overlays
            .retain(|o| !matches!(o, Overlay::Inspector { .. }));
        self.prepare_axes();
    }

    fn prepare_axes(&mut self) {
        let data = &self.source.data;
        let (x, y) = self.display.dims;
        self.axes = Axes {
            dims: (x, y),
            x_range: padded_range(self.drawn.iter().map(|&i| data.row(i)[x])),
            y_range: padded_range(self.drawn.iter().map(|&i| data.row(i)[y])),
        };
    }

    fn push_message(&mut self, iteration: Option<usize>, text: String) {
        let text = crate::text::one_line(&text);
        if self.messages.last().is_some_and(|m| m.text == text) {
            return;
        }
        if self.messages.len() == MAX_MESSAGES {
            self.messages.remove(0);
        }
        self.messages.push(Message { iteration, text });
    }
}

/// A key as the status line names it.
fn key_name(key: Key) -> String {
    match key {
        Key::Char(' ') => "space".into(),
        Key::Char(c) => c.to_string(),
        Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests;
