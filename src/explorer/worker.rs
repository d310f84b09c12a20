//! The background EM thread and its protocol.
//!
//! The worker owns the data and the EM stepper. The UI sends [`Command`]s on a channel; the
//! worker answers with [`WorkerEvent`]s through a sink the UI provides (so they arrive on the
//! UI's one inbound channel): one [`Snapshot`] per iteration, carrying the parameters and the
//! most likely component of each point the data panel draws (a bounded sample), so the UI never
//! runs an E-step itself. Every snapshot carries the run id of the run it belongs to, so the UI
//! can ignore the tail of a run it abandoned.
//!
//! Commands are read between iterations, so pausing, restarting or quitting never waits for
//! more than one iteration; queued commands are coalesced so the latest start wins and a
//! superseded run never starts. The worker can also re-derive an iteration the UI no longer keeps
//! from an earlier one (runs are deterministic), see [`Command::Derive`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::em::{
    Dataset, Em, EmConfig, EmError, Init, Mixture, StopReason, Weights, adjusted_rand_index,
    assignments, log_likelihood_of, starting_parameters,
};

/// The component labels of the drawn sample, one small integer per point.
pub type Labels = Arc<[u16]>;

/// The responsibility of each drawn point's most likely component, scaled to 0–255 (a byte
/// per point keeps snapshots small; the panels only tell sure from uncertain).
pub type Shares = Arc<[u8]>;

/// A responsibility in 0–1 as a [`Shares`] byte.
pub fn share_byte(share: f64) -> u8 {
    (share.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// The true components of some of the points (simulated data), so each snapshot can say how
/// well the fit's labels agree with the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthSample {
    /// Indices of the points (the explorer's drawn sample: all points up to its size).
    pub indices: Vec<usize>,
    /// The true component of each of those points.
    pub labels: Vec<usize>,
}

impl TruthSample {
    /// The adjusted Rand index between the true labels and fitted `labels` of the same points.
    pub fn agreement(&self, labels: &[u16]) -> f64 {
        let fitted: Vec<usize> = labels.iter().map(|&l| usize::from(l)).collect();
        adjusted_rand_index(&self.labels, &fitted)
    }
}

/// Everything needed to start a run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Identifies the run in its snapshots; the UI makes it unique.
    pub run_id: u64,
    /// The data to fit.
    pub data: Arc<Dataset>,
    /// Number of components.
    pub k: usize,
    /// How to choose θ(0).
    pub init: Init,
    /// Seed of the initialisation.
    pub seed: u64,
    /// Regularisation and stopping rule.
    pub config: EmConfig,
    /// The points the data panel draws: every snapshot carries their most likely components.
    pub drawn: Arc<Vec<usize>>,
    /// The true labels of the drawn points, when the data have a truth.
    pub truth: Option<Arc<TruthSample>>,
}

/// How fast a run goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// At most this many iterations per second.
    PerSecond(f64),
    /// As fast as the machine allows.
    Unlimited,
}

/// What the UI asks of the worker.
#[derive(Debug, Clone)]
pub enum Command {
    /// Abandon any current run and start this one (paused at iteration 0).
    Start(RunRequest),
    /// One iteration, then pause.
    Step,
    /// Iterate until converged, paused or `max_iter`.
    Run,
    /// Stop iterating (the run stays where it is).
    Pause,
    /// Pace of [`Command::Run`].
    SetSpeed(Speed),
    /// Recompute θ(`keep_from`) … θ(`to`) of run `run_id` from θ(`from_iteration`) = `from`,
    /// each answered by a [`WorkerEvent::Derived`]; the UI asks when it no longer keeps an
    /// iteration it must show. A newer derive or start queued behind it supersedes it, also
    /// halfway through (the user has moved on).
    Derive {
        /// The run.
        run_id: u64,
        /// The iteration of `from`.
        from_iteration: usize,
        /// Parameters of that iteration.
        from: Arc<Mixture>,
        /// The first iteration wanted (> `from_iteration`).
        keep_from: usize,
        /// The last iteration wanted.
        to: usize,
    },
    /// Compute the minorise–maximise picture of iteration `t` of run `run_id` from θ(t) =
    /// `from`, answered by [`WorkerEvent::Bound`]; superseded by any newer start, derive or
    /// bound request.
    Bound {
        /// The run.
        run_id: u64,
        /// The iteration t.
        t: usize,
        /// θ(t).
        from: Arc<Mixture>,
    },
    /// End the thread.
    Shutdown,
}

/// The state of a run after one iteration (or at its start, iteration 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The run this belongs to.
    pub run_id: u64,
    /// t of θ(t).
    pub iteration: usize,
    /// θ(t).
    pub params: Arc<Mixture>,
    /// The most likely component under θ(t) of each drawn point (the E-step at θ(t)).
    pub labels: Labels,
    /// How sure each of those assignments is: its responsibility max_k r_ik, as 0–255.
    pub shares: Shares,
    /// trace[t], the total log-likelihood at θ(t).
    pub log_likelihood: f64,
    /// Whether iteration t met the convergence test.
    pub converged: bool,
    /// Whether the run has reached `max_iter` or converged (running stops there).
    pub done: bool,
    /// Why the run stopped, once it did (converged, at a saddle, or at max_iter).
    pub stop: Option<StopReason>,
    /// The derivation's quantities at θ(t) (None only in hand-made test snapshots).
    pub derivation: Option<Derivation>,
    /// For simulated data, the adjusted Rand index between the true labels and the most
    /// likely components under θ(t), over the explorer's drawn sample.
    pub agreement: Option<f64>,
}

/// Steps of s along θ(s) = θ(t) + s (θ(t+1) − θ(t)) in the minorise–maximise picture.
pub const BOUND_STEPS: usize = 40;

/// Where the picture's line starts and ends (s = 0 is θ(t), s = 1 is θ(t+1)).
pub const BOUND_RANGE: (f64, f64) = (-0.5, 1.5);

/// The minorise–maximise picture of iteration t: along θ(s), the log-likelihood and the lower
/// bound Q(θ(s) | θ(t)) + H(t) that touches it at s = 0 and is maximised at s = 1.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundCurve {
    /// The run.
    pub run_id: u64,
    /// The iteration t.
    pub t: usize,
    /// (s, log L(θ(s)), Q(θ(s) | θ(t)) + H(t)) where θ(s) is a valid mixture.
    pub points: Vec<(f64, f64, f64)>,
    /// Some(m) when computed on the explorer's drawn sample of m points (large n), not all.
    pub sampled: Option<usize>,
    /// Why there are no points, if the picture could not be computed.
    pub error: Option<String>,
}

impl BoundCurve {
    fn failed(run_id: u64, t: usize, error: String) -> Self {
        Self {
            run_id,
            t,
            points: Vec::new(),
            sampled: None,
            error: Some(error),
        }
    }
}

/// The quantities of the lecture notes' derivation at θ(t), from the same pass as the
/// log-likelihood (the sufficient statistics give them; no extra pass).
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    /// Q(θ(t) | θ(t)) = Σ_i Σ_k r_ik [log λ_k + log φ_k(x_i)].
    pub q: f64,
    /// H(t) = −Σ_i Σ_k r_ik log r_ik.
    pub entropy: f64,
    /// N_k = Σ_i r_ik at θ(t): the next M-step's λ_k is N_k / n.
    pub totals: Arc<[f64]>,
    /// Q(θ(t) | θ(t−1)): what the M-step that made θ(t) maximised (None at t = 0).
    pub q_from_previous: Option<f64>,
    /// Q(θ(t+1) | θ(t)) for the θ(t+1) the next M-step will make (from the same statistics,
    /// before the pass at θ(t+1) is run).
    pub q_next: Option<f64>,
    /// θ(t+1), the M-step's result from the same statistics, so the derivation can show the
    /// M-step's values at the newest iteration before the pass at θ(t+1) is run.
    pub next: Option<Arc<Mixture>>,
}

impl Derivation {
    /// The quantities of `em` at its current θ(t).
    pub fn of(em: &Em) -> Self {
        let next = em.next_params().ok();
        Self {
            q: em.q(),
            entropy: em.entropy(),
            totals: em.responsibility_totals().into(),
            q_from_previous: em.last_step().map(|step| step.q_next),
            q_next: next.as_ref().and_then(|next| em.q_of(next).ok()),
            next: next.map(Arc::new),
        }
    }
}

impl Snapshot {
    /// The current state of `em`, as run `run_id`: the labels of the `drawn` points, and their
    /// agreement with `truth` if given.
    pub fn of(run_id: u64, em: &Em, drawn: &[usize], truth: Option<&TruthSample>) -> Self {
        let assigned = assignments(em.data(), drawn, em.params());
        let labels: Labels = assigned
            .iter()
            .map(|&(k, _)| u16::try_from(k).unwrap_or(u16::MAX))
            .collect();
        let shares: Shares = assigned.iter().map(|&(_, r)| share_byte(r)).collect();
        Self {
            run_id,
            iteration: em.iteration(),
            params: Arc::new(em.params().clone()),
            log_likelihood: em.log_likelihood(),
            converged: em.converged(),
            done: em.is_done(),
            stop: em.stop_reason(),
            derivation: Some(Derivation::of(em)),
            agreement: truth.map(|truth| truth.agreement(&labels)),
            labels,
            shares,
        }
    }
}

/// What the worker tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// A new iteration.
    Snapshot(Snapshot),
    /// An iteration re-derived on request ([`Command::Derive`]); not a new one.
    Derived(Snapshot),
    /// The minorise–maximise picture asked for by [`Command::Bound`].
    Bound(BoundCurve),
    /// An iteration could not be re-derived; the run itself is unharmed.
    DeriveFailed {
        /// The run concerned.
        run_id: u64,
        /// The iteration that could not be re-derived.
        iteration: usize,
        /// One line for the messages.
        message: String,
    },
    /// The worker stopped iterating because running finished or was paused.
    Paused {
        /// The run concerned.
        run_id: u64,
    },
    /// Starting or stepping failed; the run stays at its last good iteration.
    Failed {
        /// The run concerned.
        run_id: u64,
        /// The iteration that could not be made.
        iteration: usize,
        /// One line for the status bar.
        message: String,
    },
}

/// A handle on the worker thread; dropping it shuts the thread down.
#[derive(Debug)]
pub struct Worker {
    commands: Sender<Command>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread. `sink` receives every event and returns false once nobody listens,
    /// which ends the thread.
    pub fn spawn<F>(sink: F) -> std::io::Result<Self>
    where
        F: FnMut(WorkerEvent) -> bool + Send + 'static,
    {
        let (commands, inbox) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("mixplore-em".into())
            .spawn(move || WorkerLoop::new(inbox, sink).run())?;
        Ok(Self {
            commands,
            handle: Some(handle),
        })
    }

    /// Asks the thread to stop and lets it go without waiting: a run mid-iteration on a large
    /// data set ends at its next command check, or with the process, whichever comes first.
    /// For quitting, which must never wait for stale work.
    pub fn detach(mut self) {
        let _ = self.commands.send(Command::Shutdown);
        drop(self.handle.take());
    }

    /// Sends a command; a worker that has gone away is ignored (the UI reports its last failure).
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

struct WorkerLoop<F> {
    inbox: Receiver<Command>,
    sink: F,
    run: Option<(u64, Em)>,
    drawn: Arc<Vec<usize>>,
    truth: Option<Arc<TruthSample>>,
    /// Commands taken from the channel while coalescing, not yet handled.
    queued: std::collections::VecDeque<Command>,
    running: bool,
    speed: Speed,
    next_step_at: Instant,
}

/// Either keep going or stop the thread.
enum Flow {
    Continue,
    Stop,
}

impl<F: FnMut(WorkerEvent) -> bool> WorkerLoop<F> {
    fn new(inbox: Receiver<Command>, sink: F) -> Self {
        Self {
            inbox,
            sink,
            run: None,
            drawn: Arc::new(Vec::new()),
            truth: None,
            queued: std::collections::VecDeque::new(),
            running: false,
            speed: Speed::PerSecond(10.0),
            next_step_at: Instant::now(),
        }
    }

    fn run(mut self) {
        loop {
            let command = if let Some(command) = self.queued.pop_front() {
                Some(command)
            } else if self.running {
                let wait = self.next_step_at.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    match self.inbox.try_recv() {
                        Ok(command) => Some(command),
                        Err(TryRecvError::Empty) => None,
                        Err(TryRecvError::Disconnected) => return,
                    }
                } else {
                    match self.inbox.recv_timeout(wait) {
                        Ok(command) => Some(command),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            } else {
                match self.inbox.recv() {
                    Ok(command) => Some(command),
                    Err(_) => return,
                }
            };
            let flow = match command {
                Some(command) => self.handle(command),
                None => {
                    self.next_step_at = Instant::now() + self.interval();
                    self.step()
                }
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    fn interval(&self) -> Duration {
        match self.speed {
            Speed::PerSecond(rate) if rate > 0.0 => Duration::from_secs_f64(1.0 / rate),
            _ => Duration::ZERO,
        }
    }

    fn emit(&mut self, event: WorkerEvent) -> Flow {
        if (self.sink)(event) {
            Flow::Continue
        } else {
            Flow::Stop
        }
    }

    /// Takes everything already queued, so that of several starts only the latest runs (with
    /// the commands sent after it); a shutdown anywhere in the queue wins at once.
    fn coalesce(&mut self) -> Result<(), ()> {
        loop {
            match self.inbox.try_recv() {
                Ok(Command::Shutdown) => return Err(()),
                Ok(Command::Start(request)) => {
                    // Everything before a newer start is superseded, except the speed.
                    self.queued.retain(|c| matches!(c, Command::SetSpeed(_)));
                    self.queued.push_back(Command::Start(request));
                }
                Ok(command) => self.queued.push_back(command),
                Err(TryRecvError::Empty) => return Ok(()),
                Err(TryRecvError::Disconnected) => return Err(()),
            }
        }
    }

    fn handle(&mut self, command: Command) -> Flow {
        match command {
            Command::Start(request) => {
                self.running = false;
                self.run = None;
                if self.coalesce().is_err() {
                    return Flow::Stop;
                }
                if self.queued.iter().any(|c| matches!(c, Command::Start(_))) {
                    // A newer start is waiting: this one never begins.
                    return Flow::Continue;
                }
                let run_id = request.run_id;
                self.truth = request.truth.clone();
                self.drawn = Arc::clone(&request.drawn);
                match catch_unwind(AssertUnwindSafe(|| start_run(&request))) {
                    Ok(Ok(em)) => {
                        let snapshot =
                            Snapshot::of(run_id, &em, &self.drawn, self.truth.as_deref());
                        self.run = Some((run_id, em));
                        self.emit(WorkerEvent::Snapshot(snapshot))
                    }
                    Ok(Err(error)) => self.emit(WorkerEvent::Failed {
                        run_id,
                        iteration: 0,
                        message: error.to_string(),
                    }),
                    Err(panic) => self.emit(WorkerEvent::Failed {
                        run_id,
                        iteration: 0,
                        message: format!("internal error while starting: {}", panic_text(&panic)),
                    }),
                }
            }
            Command::Step => {
                self.running = false;
                self.step()
            }
            Command::Run => {
                if self.run.as_ref().is_some_and(|(_, em)| !em.is_done()) {
                    self.running = true;
                    self.next_step_at = Instant::now();
                    Flow::Continue
                } else {
                    self.pause_event()
                }
            }
            Command::Pause => {
                if self.running {
                    self.running = false;
                    self.pause_event()
                } else {
                    Flow::Continue
                }
            }
            Command::SetSpeed(speed) => {
                self.speed = speed;
                self.next_step_at = Instant::now();
                Flow::Continue
            }
            Command::Derive {
                run_id,
                from_iteration,
                from,
                keep_from,
                to,
            } => self.derive(run_id, from_iteration, &from, keep_from..=to),
            Command::Bound { run_id, t, from } => self.bound(run_id, t, &from),
            Command::Shutdown => Flow::Stop,
        }
    }

    /// The minorise–maximise picture at θ(t) = `from`: θ(t+1) from the M-step on all the data,
    /// then both curves along the line through them, on all the data up to the drawn sample's
    /// size and on the drawn sample beyond (the bound holds point by point, so it holds there
    /// too; it is maximised at s = 1 only approximately, and the panel says so).
    fn bound(&mut self, run_id: u64, t: usize, from: &Mixture) -> Flow {
        match self.superseded() {
            Err(()) => return Flow::Stop,
            Ok(true) => return Flow::Continue,
            Ok(false) => {}
        }
        let Some((current, em)) = self.run.as_ref() else {
            return Flow::Continue;
        };
        if *current != run_id {
            return Flow::Continue;
        }
        let (data, config) = (Arc::clone(em.data()), *em.config());
        let drawn = Arc::clone(&self.drawn);
        let computed = catch_unwind(AssertUnwindSafe(|| -> Result<BoundCurve, EmError> {
            let next = Em::new(Arc::clone(&data), from.clone(), config)?.next_params()?;
            let (sample, sampled) = if drawn.len() < data.len() {
                let values: Vec<f64> = drawn.iter().flat_map(|&i| data.row(i)).copied().collect();
                let mut sample = Dataset::new(data.dim(), values)?;
                // Weighted data: the sample keeps its points' weights, so its curves are the
                // same weighted sums as on all the data.
                if let Some(weights) = data.weights() {
                    let drawn_weights = drawn.iter().map(|&i| weights[i]).collect();
                    let weights = Weights::new(drawn_weights)
                        .map_err(|error| EmError::Config(format!("the drawn sample: {error}")))?;
                    sample = sample.with_weights(weights)?;
                }
                (Arc::new(sample), Some(drawn.len()))
            } else {
                (data, None)
            };
            let at_t = Em::new(Arc::clone(&sample), from.clone(), config)?;
            let entropy = at_t.entropy();
            let (low, high) = BOUND_RANGE;
            let points = (0..=BOUND_STEPS)
                .map(|i| low + (high - low) * i as f64 / BOUND_STEPS as f64)
                .filter_map(|s| {
                    // Outside [0, 1] the line can leave the valid mixtures: those s are left out.
                    let theta = from.interpolate(&next, s).ok()?;
                    let bound = at_t.q_of(&theta).ok()? + entropy;
                    Some((s, log_likelihood_of(&sample, &theta), bound))
                })
                .collect();
            Ok(BoundCurve {
                run_id,
                t,
                points,
                sampled,
                error: None,
            })
        }));
        // A picture that cannot be drawn is not a failed run: it comes back empty, saying why.
        let curve = match computed {
            Ok(Ok(curve)) => curve,
            Ok(Err(error)) => BoundCurve::failed(run_id, t, error.to_string()),
            Err(panic) => BoundCurve::failed(run_id, t, panic_text(&panic)),
        };
        self.emit(WorkerEvent::Bound(curve))
    }

    /// Whether a command waiting in the queue makes the derivation under way pointless.
    fn superseded(&mut self) -> Result<bool, ()> {
        self.coalesce()?;
        Ok(self.queued.iter().any(|c| {
            matches!(
                c,
                Command::Start(_) | Command::Derive { .. } | Command::Bound { .. }
            )
        }))
    }

    /// Re-runs the current run's iterations from `from` (θ(from_iteration)) up to the end of
    /// `wanted`, sending each wanted one: the same M-steps on the same data, so the same numbers
    /// as the first time.
    fn derive(
        &mut self,
        run_id: u64,
        from_iteration: usize,
        from: &Mixture,
        wanted: std::ops::RangeInclusive<usize>,
    ) -> Flow {
        let Some((current, em)) = self.run.as_ref() else {
            return Flow::Continue;
        };
        if *current != run_id {
            return Flow::Continue;
        }
        let (data, config) = (Arc::clone(em.data()), *em.config());
        let mut replay = match Em::new(data, from.clone(), config) {
            Ok(replay) => replay,
            Err(error) => {
                return self.emit(WorkerEvent::DeriveFailed {
                    run_id,
                    iteration: *wanted.end(),
                    message: format!("cannot re-derive this iteration: {error}"),
                });
            }
        };
        for t in from_iteration + 1..=*wanted.end() {
            match self.superseded() {
                Err(()) => return Flow::Stop,
                Ok(true) => return Flow::Continue,
                Ok(false) => {}
            }
            let stepped = catch_unwind(AssertUnwindSafe(|| replay.step()));
            let failure = match stepped {
                Ok(Ok(_)) => None,
                Ok(Err(error)) => Some(format!("cannot re-derive this iteration: {error}")),
                Err(panic) => Some(format!("internal error: {}", panic_text(&panic))),
            };
            if let Some(message) = failure {
                return self.emit(WorkerEvent::DeriveFailed {
                    run_id,
                    iteration: t,
                    message,
                });
            }
            if wanted.contains(&t) {
                let mut snapshot =
                    Snapshot::of(run_id, &replay, &self.drawn, self.truth.as_deref());
                snapshot.iteration = t;
                if let Flow::Stop = self.emit(WorkerEvent::Derived(snapshot)) {
                    return Flow::Stop;
                }
            }
        }
        Flow::Continue
    }

    fn pause_event(&mut self) -> Flow {
        match &self.run {
            Some((run_id, _)) => {
                let run_id = *run_id;
                self.emit(WorkerEvent::Paused { run_id })
            }
            None => Flow::Continue,
        }
    }

    /// One iteration of the current run, if any.
    fn step(&mut self) -> Flow {
        let Some((run_id, em)) = self.run.as_mut() else {
            self.running = false;
            return Flow::Continue;
        };
        let run_id = *run_id;
        let iteration = em.iteration() + 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| em.step()));
        let event = match outcome {
            Ok(Ok(_)) => {
                let snapshot = Snapshot::of(run_id, em, &self.drawn, self.truth.as_deref());
                if snapshot.done && self.running {
                    self.running = false;
                }
                WorkerEvent::Snapshot(snapshot)
            }
            Ok(Err(error)) => {
                self.running = false;
                WorkerEvent::Failed {
                    run_id,
                    iteration,
                    message: error.to_string(),
                }
            }
            Err(panic) => {
                self.running = false;
                // The stepper may be half-updated after a panic: drop the run.
                self.run = None;
                WorkerEvent::Failed {
                    run_id,
                    iteration,
                    message: format!("internal error: {}", panic_text(&panic)),
                }
            }
        };
        self.emit(event)
    }
}

/// θ(0) as `mixplore fit --seed S --n-init 1` gets it (run 0 of seed S), then the stepper.
/// The run `request` asks for, at θ(0): the same start `mixplore fit` makes for its first run
/// (so iteration 0 matches `fit`'s trace[0]). Tests that play the worker in their own thread
/// start runs with it too.
pub fn start_run(request: &RunRequest) -> Result<Em, EmError> {
    let initial = starting_parameters(
        &request.data,
        request.k,
        &request.init,
        &request.config,
        request.seed,
        0,
    )?;
    Em::new(Arc::clone(&request.data), initial, request.config)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::InitMethod;

    fn data() -> Arc<Dataset> {
        let mut values = Vec::new();
        for i in 0..200 {
            let t = (i as f64 * 0.37).sin();
            values.extend([
                if i % 2 == 0 { t } else { 6.0 + t },
                (i as f64 * 0.11).cos(),
            ]);
        }
        Arc::new(Dataset::new(2, values).unwrap())
    }

    fn request(run_id: u64, k: usize) -> RunRequest {
        RunRequest {
            run_id,
            data: data(),
            k,
            init: Init::Method(InitMethod::KMeansPlusPlus),
            seed: 1,
            config: EmConfig::default(),
            drawn: Arc::new((0..200).collect()),
            truth: None,
        }
    }

    fn spawn() -> (Worker, Receiver<WorkerEvent>) {
        let (tx, rx) = mpsc::channel();
        let worker = Worker::spawn(move |event| tx.send(event).is_ok()).unwrap();
        (worker, rx)
    }

    fn next_snapshot(rx: &Receiver<WorkerEvent>) -> Snapshot {
        loop {
            match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                WorkerEvent::Snapshot(snapshot) => return snapshot,
                WorkerEvent::Paused { .. }
                | WorkerEvent::Derived(_)
                | WorkerEvent::Bound(_)
                | WorkerEvent::DeriveFailed { .. } => {}
                WorkerEvent::Failed { message, .. } => panic!("{message}"),
            }
        }
    }

    #[test]
    fn start_then_steps_give_consecutive_iterations() {
        let (worker, rx) = spawn();
        worker.send(Command::Start(request(7, 2)));
        let first = next_snapshot(&rx);
        assert_eq!((first.run_id, first.iteration), (7, 0));
        worker.send(Command::Step);
        worker.send(Command::Step);
        let one = next_snapshot(&rx);
        let two = next_snapshot(&rx);
        assert_eq!((one.iteration, two.iteration), (1, 2));
        assert!(two.log_likelihood >= one.log_likelihood - 1e-9);
    }

    #[test]
    fn running_goes_to_convergence_and_stops() {
        let (worker, rx) = spawn();
        worker.send(Command::SetSpeed(Speed::Unlimited));
        worker.send(Command::Start(request(1, 2)));
        worker.send(Command::Run);
        let mut last = next_snapshot(&rx);
        while !last.done {
            last = next_snapshot(&rx);
        }
        assert!(last.converged);
        // Nothing more arrives once done.
        assert!(matches!(
            rx.recv_timeout(Duration::from_millis(200)),
            Err(_) | Ok(WorkerEvent::Paused { .. })
        ));
    }

    #[test]
    fn a_new_start_abandons_the_old_run_and_pause_stops_promptly() {
        let (worker, rx) = spawn();
        worker.send(Command::SetSpeed(Speed::PerSecond(50.0)));
        worker.send(Command::Start(request(1, 2)));
        worker.send(Command::Run);
        next_snapshot(&rx);
        worker.send(Command::Start(request(2, 3)));
        let mut snapshot = next_snapshot(&rx);
        while snapshot.run_id == 1 {
            snapshot = next_snapshot(&rx);
        }
        assert_eq!(
            (snapshot.run_id, snapshot.iteration, snapshot.params.k()),
            (2, 0, 3)
        );
        worker.send(Command::Run);
        next_snapshot(&rx);
        worker.send(Command::Pause);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap()
            {
                WorkerEvent::Paused { run_id } => {
                    assert_eq!(run_id, 2);
                    break;
                }
                WorkerEvent::Snapshot(_)
                | WorkerEvent::Derived(_)
                | WorkerEvent::Bound(_)
                | WorkerEvent::DeriveFailed { .. } => {}
                WorkerEvent::Failed { message, .. } => panic!("{message}"),
            }
        }
    }

    #[test]
    fn snapshots_carry_the_agreement_with_the_truth() {
        let data = data();
        // The data alternate between a cluster near 0 and one near 6 (see `data`).
        let truth = TruthSample {
            indices: (0..data.len()).collect(),
            labels: (0..data.len()).map(|i| i % 2).collect(),
        };
        let (worker, rx) = spawn();
        let mut request = request(5, 2);
        request.truth = Some(Arc::new(truth));
        worker.send(Command::Start(request));
        let snapshot = next_snapshot(&rx);
        assert_eq!(snapshot.agreement, Some(1.0));
        worker.send(Command::Start(self::request(6, 2)));
        assert_eq!(next_snapshot(&rx).agreement, None);
    }

    #[test]
    fn failures_are_reported_not_fatal() {
        let (worker, rx) = spawn();
        worker.send(Command::Start(request(3, 500)));
        match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
            WorkerEvent::Failed {
                run_id, message, ..
            } => {
                assert_eq!(run_id, 3);
                assert!(message.contains("500 components"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        worker.send(Command::Start(request(4, 2)));
        assert_eq!(next_snapshot(&rx).run_id, 4);
    }
}

#[cfg(test)]
mod bound {
    use super::*;
    use crate::em::InitMethod;

    #[test]
    fn the_bound_touches_at_zero_stays_below_and_peaks_at_one() {
        let values: Vec<f64> = (0..600)
            .map(|i| (i % 2) as f64 * 4.0 + ((i * 7919) % 101) as f64 / 50.0)
            .collect();
        let data = Arc::new(Dataset::new(2, values).unwrap());
        let (tx, rx) = mpsc::channel();
        let worker = Worker::spawn(move |event| tx.send(event).is_ok()).unwrap();
        let config = EmConfig {
            reg_covar: 0.0,
            ..EmConfig::default()
        };
        worker.send(Command::Start(RunRequest {
            run_id: 1,
            data,
            k: 2,
            init: Init::Method(InitMethod::RandomFromData),
            seed: 3,
            config,
            drawn: Arc::new((0..300).collect()),
            truth: None,
        }));
        let start = loop {
            if let WorkerEvent::Snapshot(s) = rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                break s;
            }
        };
        worker.send(Command::Bound {
            run_id: 1,
            t: 0,
            from: Arc::clone(&start.params),
        });
        let curve = loop {
            if let WorkerEvent::Bound(c) = rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                break c;
            }
        };
        assert_eq!(
            (curve.t, curve.sampled, curve.error.clone()),
            (0, None, None)
        );
        assert!(curve.points.len() > 20);
        let scale = start.log_likelihood.abs();
        for &(s, log_l, bound) in &curve.points {
            assert!(bound <= log_l + 1e-9 * scale, "s {s}: {bound} > {log_l}");
            if s == 0.0 {
                assert!((bound - log_l).abs() <= 1e-9 * scale, "{bound} vs {log_l}");
                assert!((log_l - start.log_likelihood).abs() <= 1e-9 * scale);
            }
        }
        // The M-step maximises the bound: s = 1 is the highest point of the bound.
        let best = curve
            .points
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .unwrap();
        assert!((best.0 - 1.0).abs() < 1e-12, "{best:?}");
    }
}

#[cfg(test)]
mod coalescing {
    use super::*;
    use crate::em::InitMethod;

    fn request(run_id: u64, n: usize) -> RunRequest {
        let values: Vec<f64> = (0..n * 2)
            .map(|i| (i % 7) as f64 + (i as f64 * 0.37).sin())
            .collect();
        RunRequest {
            run_id,
            data: Arc::new(Dataset::new(2, values).unwrap()),
            k: 3,
            init: Init::Method(InitMethod::KMeansPlusPlus),
            seed: run_id,
            config: EmConfig::default(),
            drawn: Arc::new((0..n.min(1000)).collect()),
            truth: None,
        }
    }

    #[test]
    fn of_many_queued_starts_only_the_latest_runs() {
        let (tx, rx) = mpsc::channel();
        let worker = Worker::spawn(move |event| tx.send(event).is_ok()).unwrap();
        let requests: Vec<RunRequest> = (1..=20).map(|id| request(id, 20_000)).collect();
        for request in requests {
            worker.send(Command::Start(request));
        }
        let mut started = Vec::new();
        while let Ok(event) = rx.recv_timeout(Duration::from_secs(2)) {
            if let WorkerEvent::Snapshot(snapshot) = event {
                started.push(snapshot.run_id);
            }
        }
        // The first may have begun before the rest were queued; the last always runs, and
        // nothing between them is started once a newer start is waiting.
        assert_eq!(started.last(), Some(&20), "{started:?}");
        assert!(started.len() <= 3, "{started:?}");
    }

    #[test]
    fn derived_iterations_equal_the_original_ones() {
        let (tx, rx) = mpsc::channel();
        let worker = Worker::spawn(move |event| tx.send(event).is_ok()).unwrap();
        worker.send(Command::Start(request(1, 2_000)));
        let mut snapshots = Vec::new();
        for _ in 0..6 {
            worker.send(Command::Step);
        }
        while snapshots.len() < 7 {
            if let WorkerEvent::Snapshot(s) = rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                snapshots.push(s);
            }
        }
        worker.send(Command::Derive {
            run_id: 1,
            from_iteration: 2,
            from: Arc::clone(&snapshots[2].params),
            keep_from: 5,
            to: 6,
        });
        let five = loop {
            if let WorkerEvent::Derived(s) = rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                break s;
            }
        };
        assert_eq!(five.iteration, 5);
        assert_eq!(*five.params, *snapshots[5].params);
        let derived = loop {
            if let WorkerEvent::Derived(s) = rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                break s;
            }
        };
        assert_eq!(derived.iteration, 6);
        // Bit for bit: the same M-steps on the same data.
        assert_eq!(*derived.params, *snapshots[6].params);
        assert_eq!(derived.labels, snapshots[6].labels);
        assert_eq!(
            derived.log_likelihood.to_bits(),
            snapshots[6].log_likelihood.to_bits()
        );
    }
}
