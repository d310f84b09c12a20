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
    Dataset, Em, EmConfig, EmError, Init, Mixture, StopReason, adjusted_rand_index, assignments,
    starting_parameters,
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
}

impl Derivation {
    /// The quantities of `em` at its current θ(t).
    pub fn of(em: &Em) -> Self {
        Self {
            q: em.q(),
            entropy: em.entropy(),
            totals: em.responsibility_totals().into(),
            q_from_previous: em.last_step().map(|step| step.q_next),
            q_next: em.next_params().ok().and_then(|next| em.q_of(&next).ok()),
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
                match catch_unwind(AssertUnwindSafe(|| start(request))) {
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
            Command::Shutdown => Flow::Stop,
        }
    }

    /// Whether a command waiting in the queue makes the derivation under way pointless.
    fn superseded(&mut self) -> Result<bool, ()> {
        self.coalesce()?;
        Ok(self
            .queued
            .iter()
            .any(|c| matches!(c, Command::Start(_) | Command::Derive { .. })))
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
                return self.emit(WorkerEvent::Failed {
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
                return self.emit(WorkerEvent::Failed {
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
fn start(request: RunRequest) -> Result<Em, EmError> {
    let initial = starting_parameters(
        &request.data,
        request.k,
        &request.init,
        &request.config,
        request.seed,
        0,
    )?;
    Em::new(request.data, initial, request.config)
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
                WorkerEvent::Paused { .. } | WorkerEvent::Derived(_) => {}
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
                WorkerEvent::Snapshot(_) | WorkerEvent::Derived(_) => {}
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
