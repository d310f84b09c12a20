//! The history of one run and the position shown in it.
//!
//! Every iteration keeps a small [`Entry`] (log-likelihood, convergence, agreement), so the trace
//! and the change since t − 1 are always exact. Full parameters (and the labels of the drawn
//! points) are kept within a byte budget: θ(0), a recent window, and checkpoints spread evenly
//! over the rest. An iteration whose parameters were dropped is re-derived by the worker from the
//! nearest earlier checkpoint (runs are deterministic), so memory stays bounded whatever K and D
//! without the history ever showing another iteration than the one asked for.
//!
//! Invariants: `shown < len()` once the run has an iteration; [`Timeline::previous`] is θ(t − 1)
//! or nothing, never an older iteration.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::em::{Mixture, StopReason};
use crate::explorer::worker::{Labels, Shares, Snapshot};

/// The most a run's kept parameters take, 64 MiB: room for thousands of iterations of large
/// models; on a machine with less to spare, [`history_budget`] is smaller.
pub const DEFAULT_BUDGET: usize = 64 << 20;

/// The byte budget of a run's kept parameters: [`DEFAULT_BUDGET`], or an eighth of the
/// process's [`crate::em::limits::memory_budget`] if that is less (the data and the fit need
/// the rest).
pub fn history_budget() -> usize {
    let share = usize::try_from(crate::em::limits::memory_budget() / 8).unwrap_or(usize::MAX);
    DEFAULT_BUDGET.min(share.max(1 << 20))
}

/// How many iterations up to the shown one are never dropped.
const NEAR_SHOWN: usize = 10;

/// What every iteration keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// trace[t].
    pub log_likelihood: f64,
    /// Whether iteration t met the convergence test.
    pub converged: bool,
    /// Whether the run ended at t.
    pub done: bool,
    /// Why it ended, if it did.
    pub stop: Option<StopReason>,
    /// Q(θ(t) | θ(t)).
    pub q: Option<f64>,
    /// H(t).
    pub entropy: Option<f64>,
    /// Q(θ(t) | θ(t−1)), what the M-step that made θ(t) maximised.
    pub q_from_previous: Option<f64>,
    /// Q(θ(t+1) | θ(t)), what the next M-step maximises.
    pub q_next: Option<f64>,
    /// Agreement with the truth (adjusted Rand index), when there is one.
    pub agreement: Option<f64>,
}

/// What an iteration needs to be drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Full {
    /// θ(t).
    pub params: Arc<Mixture>,
    /// Most likely component of each drawn point under θ(t).
    pub labels: Labels,
    /// How sure each of those assignments is (responsibility, 0–255).
    pub shares: Shares,
    /// N_k = Σ_i r_ik at θ(t).
    pub totals: Option<Arc<[f64]>>,
}

impl Full {
    /// What `snapshot` keeps for drawing.
    pub fn of(snapshot: &Snapshot) -> Self {
        Self {
            params: Arc::clone(&snapshot.params),
            labels: Arc::clone(&snapshot.labels),
            shares: Arc::clone(&snapshot.shares),
            totals: snapshot.derivation.as_ref().map(|d| Arc::clone(&d.totals)),
        }
    }

    /// Bytes held, roughly: the mixture's arrays and the labels.
    pub fn bytes(&self) -> usize {
        let (k, d) = (self.params.k(), self.params.dim());
        // Weights, means, covariances and their Cholesky factors.
        8 * (2 * k + k * d + 2 * k * d * d) + 2 * self.labels.len() + self.shares.len() + 128
    }
}

/// Where in an iteration the view stands when stepping by half-steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// θ(t) just came out of its M-step: the points keep the colours of the E-step at θ(t − 1)
    /// (none at t = 0).
    AfterMStep,
    /// The E-step at θ(t) has recoloured the points; the parameters are still θ(t). Whole-
    /// iteration stepping always shows this phase.
    AfterEStep,
}

/// One run's history and the shown position.
#[derive(Debug, Clone)]
pub struct Timeline {
    entries: Vec<Entry>,
    full: BTreeMap<usize, Full>,
    full_bytes: usize,
    budget: usize,
    shown: usize,
    phase: Phase,
    follow: bool,
    /// θ(t+1) of the newest t, made by the M-step from the newest pass's statistics but not yet
    /// an iteration of its own (no pass at it, so no log-likelihood).
    newest_next: Option<Arc<Mixture>>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::with_budget(history_budget())
    }
}

impl Timeline {
    /// An empty history keeping at most about `budget` bytes of parameters.
    pub fn with_budget(budget: usize) -> Self {
        Self {
            entries: Vec::new(),
            full: BTreeMap::new(),
            full_bytes: 0,
            budget,
            shown: 0,
            phase: Phase::AfterEStep,
            follow: true,
            newest_next: None,
        }
    }

    /// Number of iterations so far (θ(0) included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no iteration has arrived yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every iteration's entry, by iteration.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The newest iteration's number and entry.
    pub fn newest(&self) -> Option<(usize, &Entry)> {
        self.entries.last().map(|e| (self.entries.len() - 1, e))
    }

    /// The shown iteration t.
    pub fn shown(&self) -> usize {
        self.shown
    }

    /// The shown iteration's entry.
    pub fn shown_entry(&self) -> Option<&Entry> {
        self.entries.get(self.shown)
    }

    /// The half-step phase of the shown iteration.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the view follows new iterations as they arrive.
    pub fn follows(&self) -> bool {
        self.follow
    }

    /// The kept parameters of iteration `t`, if kept.
    pub fn full(&self, t: usize) -> Option<&Full> {
        self.full.get(&t)
    }

    /// θ(t + 1), if kept as an iteration, or as the M-step's result beyond the newest one; the
    /// flag says which (true: beyond the newest, no pass at it yet).
    pub fn next_params(&self, t: usize) -> Option<(&Arc<Mixture>, bool)> {
        match self.full.get(&(t + 1)) {
            Some(full) => Some((&full.params, false)),
            None if t + 1 == self.entries.len() => self.newest_next.as_ref().map(|m| (m, true)),
            None => None,
        }
    }

    /// θ(t − 1) of the shown t, if kept; never an older iteration.
    pub fn previous(&self) -> Option<&Full> {
        self.shown.checked_sub(1).and_then(|t| self.full.get(&t))
    }

    /// Bytes of parameters held.
    pub fn bytes(&self) -> usize {
        self.full_bytes + self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    /// Number of iterations whose parameters are kept.
    pub fn kept(&self) -> usize {
        self.full.len()
    }

    /// The change in log-likelihood from t − 1 to the shown t.
    pub fn change(&self) -> Option<f64> {
        let now = self.entries.get(self.shown)?;
        let before = self.entries.get(self.shown.checked_sub(1)?)?;
        Some(now.log_likelihood - before.log_likelihood)
    }

    /// The iterations the shown position needs drawn but no longer keeps, each with the
    /// nearest earlier kept iteration to re-derive it from.
    pub fn missing(&self) -> Vec<(usize, usize)> {
        let mut wanted = vec![self.shown];
        if self.shown > 0 {
            wanted.push(self.shown - 1);
        }
        wanted
            .into_iter()
            .filter(|t| *t < self.entries.len() && !self.full.contains_key(t))
            .filter_map(|t| self.full.range(..t).next_back().map(|(&from, _)| (t, from)))
            .collect()
    }

    /// Appends the next iteration; the view moves to it when following (in `phase`).
    pub fn push(&mut self, snapshot: &Snapshot, phase: Phase) {
        let t = self.entries.len();
        self.entries.push(Entry {
            log_likelihood: snapshot.log_likelihood,
            converged: snapshot.converged,
            done: snapshot.done,
            stop: snapshot.stop,
            q: snapshot.derivation.as_ref().map(|d| d.q),
            entropy: snapshot.derivation.as_ref().map(|d| d.entropy),
            q_from_previous: snapshot.derivation.as_ref().and_then(|d| d.q_from_previous),
            q_next: snapshot.derivation.as_ref().and_then(|d| d.q_next),
            agreement: snapshot.agreement,
        });
        self.insert_full(t, Full::of(snapshot));
        self.newest_next = snapshot.derivation.as_ref().and_then(|d| d.next.clone());
        if self.follow {
            self.shown = t;
            self.phase = phase;
        }
        self.evict();
    }

    /// Keeps a re-derived iteration (one that had been dropped).
    pub fn restore(&mut self, t: usize, snapshot: &Snapshot) {
        if t < self.entries.len() && !self.full.contains_key(&t) {
            self.insert_full(t, Full::of(snapshot));
            self.evict();
        }
    }

    fn insert_full(&mut self, t: usize, full: Full) {
        self.full_bytes += full.bytes();
        if let Some(old) = self.full.insert(t, full) {
            self.full_bytes -= old.bytes();
        }
    }

    /// Drops kept parameters until within budget: never θ(0), the shown iteration and the few
    /// before it, or the recent window; otherwise the checkpoint whose neighbours are closest,
    /// so the rest stay evenly spread.
    fn evict(&mut self) {
        let newest = self.entries.len().saturating_sub(1);
        while self.full_bytes > self.budget {
            let per = self.full.values().next_back().map_or(1, Full::bytes).max(1);
            let window = (self.budget / 2 / per).max(2);
            // θ(0), the recent window, and the shown iteration with a few before it (stepping
            // back from it should not wait for the worker at every step).
            let protected = |t: usize| {
                t == 0 || t + window > newest || (t <= self.shown && t + NEAR_SHOWN > self.shown)
            };
            let kept: Vec<usize> = self.full.keys().copied().collect();
            let victim = kept
                .windows(3)
                .filter(|w| !protected(w[1]))
                .min_by_key(|w| (w[2] - w[0], w[1]))
                .map(|w| w[1]);
            match victim {
                Some(t) => {
                    if let Some(old) = self.full.remove(&t) {
                        self.full_bytes -= old.bytes();
                    }
                }
                None => break,
            }
        }
    }

    /// Shows iteration `t` (clamped) in `phase`; following stops unless it is the newest.
    pub fn show(&mut self, t: usize, phase: Phase) {
        if self.entries.is_empty() {
            return;
        }
        self.shown = t.min(self.entries.len() - 1);
        self.phase = phase;
        self.follow = self.shown + 1 == self.entries.len();
    }

    /// Follows the newest iteration from now on.
    pub fn follow_newest(&mut self, phase: Phase) {
        self.follow = true;
        if !self.entries.is_empty() {
            self.shown = self.entries.len() - 1;
            self.phase = phase;
        }
    }

    /// Sets the phase of the shown iteration.
    pub fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
    }

    /// Stops following (the user is looking back).
    pub fn unfollow(&mut self) {
        self.follow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::MixtureParams;

    fn snapshot(t: usize, k: usize, d: usize) -> Snapshot {
        let params = Mixture::from_params(&MixtureParams {
            weights: vec![1.0 / k as f64; k],
            means: (0..k).map(|j| vec![j as f64 + t as f64; d]).collect(),
            covariances: (0..k)
                .map(|_| {
                    (0..d)
                        .map(|r| (0..d).map(|c| if r == c { 1.0 } else { 0.0 }).collect())
                        .collect()
                })
                .collect(),
        })
        .unwrap();
        Snapshot {
            run_id: 1,
            iteration: t,
            params: Arc::new(params),
            labels: vec![0u16; 100].into(),
            shares: vec![255u8; 100].into(),
            log_likelihood: -(1000.0 / (t as f64 + 1.0)),
            converged: false,
            done: false,
            stop: None,
            derivation: None,
            agreement: None,
        }
    }

    #[test]
    fn small_runs_keep_everything_and_previous_is_t_minus_one() {
        let mut timeline = Timeline::default();
        for t in 0..50 {
            timeline.push(&snapshot(t, 2, 2), Phase::AfterEStep);
        }
        assert_eq!(
            (timeline.len(), timeline.kept(), timeline.shown()),
            (50, 50, 49)
        );
        timeline.show(10, Phase::AfterMStep);
        assert!(!timeline.follows());
        assert_eq!(timeline.previous().unwrap().params.mean(0)[0], 9.0);
        assert!(timeline.missing().is_empty());
        let change = timeline.change().unwrap();
        assert!((change - (-1000.0 / 11.0 + 1000.0 / 10.0)).abs() < 1e-12);
    }

    #[test]
    fn large_parameters_stay_within_the_byte_budget() {
        // K 5, D 100: about 800 KB a snapshot; 10 000 iterations would be 8 GB.
        let budget = 64 << 20;
        let mut timeline = Timeline::with_budget(budget);
        let one = snapshot(0, 5, 100);
        let per = Full::of(&one).bytes();
        for t in 0..2000 {
            let mut s = one.clone();
            s.iteration = t;
            s.log_likelihood = t as f64;
            timeline.push(&s, Phase::AfterEStep);
            assert!(timeline.full_bytes <= budget + per, "at {t}");
        }
        assert_eq!(timeline.len(), 2000);
        assert!(timeline.full(0).is_some() && timeline.full(1999).is_some());
        // Looking back far: the shown iteration is missing and comes from the nearest kept one.
        timeline.show(1000, Phase::AfterEStep);
        let missing = timeline.missing();
        assert!(!missing.is_empty());
        for (t, from) in &missing {
            assert!(from < t && timeline.full(*from).is_some());
        }
        // Previous is t − 1 or nothing, never an older iteration.
        assert_eq!(timeline.previous().is_some(), timeline.full(999).is_some());
        if let Some(previous) = timeline.previous() {
            assert!(Arc::ptr_eq(
                &previous.params,
                &timeline.full(999).unwrap().params
            ));
        }
        // Every iteration keeps its log-likelihood.
        assert_eq!(timeline.entries()[1000].log_likelihood, 1000.0);
        let mut s = one.clone();
        s.iteration = 1000;
        timeline.restore(1000, &s);
        assert!(timeline.full(1000).is_some());
    }

    #[test]
    fn checkpoints_stay_spread_out() {
        let one = snapshot(0, 5, 100);
        let per = Full::of(&one).bytes();
        let mut timeline = Timeline::with_budget(per * 40);
        for _ in 0..1000 {
            timeline.push(&one, Phase::AfterEStep);
        }
        let kept: Vec<usize> = timeline.full.keys().copied().collect();
        let widest = kept.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        // 20 checkpoints over 1000 iterations: gaps of about 50, none much wider.
        assert!(widest <= 128, "{kept:?}");
    }
}
