//! What the worker's events do to the state, and the view model rebuilt after every message
//! (with the re-derivations and pictures it asks the worker for).

use std::sync::Arc;

use super::*;

impl App {
    pub(super) fn on_worker(&mut self, event: WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::Snapshot(snapshot) => {
                if snapshot.run_id != self.run.id {
                    return Vec::new();
                }
                self.record_arrival();
                self.take_snapshot(&snapshot);
                Vec::new()
            }
            WorkerEvent::Derived(snapshot) => {
                if snapshot.run_id == self.run.id {
                    if self
                        .derivation
                        .is_some_and(|(_, end)| end == snapshot.iteration)
                    {
                        self.derivation = None;
                    }
                    self.timeline.restore(snapshot.iteration, &snapshot);
                }
                Vec::new()
            }
            WorkerEvent::DeriveFailed {
                run_id,
                iteration,
                message,
            } => {
                if run_id == self.run.id {
                    // The request stays recorded, so the same range is not asked for again
                    // (and fails again) until the view moves elsewhere.
                    self.push_message(Some(iteration), message);
                    self.note = Some("this iteration could not be re-derived: ! says why".into());
                }
                Vec::new()
            }
            WorkerEvent::Bound(curve) => {
                if curve.run_id == self.run.id {
                    self.bound_asked = None;
                    self.bound = Some(Arc::new(curve));
                }
                Vec::new()
            }
            WorkerEvent::Paused { run_id } => {
                if run_id == self.run.id {
                    self.mode = Mode::Paused;
                }
                Vec::new()
            }
            WorkerEvent::Failed {
                run_id,
                iteration,
                message,
            } => {
                if run_id != self.run.id {
                    return Vec::new();
                }
                self.mode = Mode::Paused;
                let text = if iteration == 0 {
                    format!("cannot start: {message}")
                } else {
                    format!("iteration {iteration} failed: {message}")
                };
                self.push_message(Some(iteration), text.clone());
                self.run.failure = Some(text);
                Vec::new()
            }
        }
    }

    pub(super) fn take_snapshot(&mut self, snapshot: &Snapshot) {
        let t = snapshot.iteration;
        if t != self.timeline.len() {
            // Iterations arrive in order; anything else is not this run's next one.
            return;
        }
        if let Some(StopReason::Saddle { components: (a, b) }) = snapshot.stop {
            self.push_message(
                Some(t),
                format!(
                    "stopped at a saddle point, not an optimum: components {} and {} are identical (a symmetric start that EM keeps symmetric); r or i for another start",
                    a + 1,
                    b + 1
                ),
            );
        }
        if snapshot.done {
            self.mode = Mode::Paused;
            // As `mixplore fit` warns: a component with fewer than D + 1 points has a
            // covariance resting on reg_covar.
            // With sample weights a component holds λ·Σw points' worth.
            let (n, d) = (self.source.data.total_weight(), self.source.data.dim());
            for (k, weight) in snapshot.params.weights().iter().enumerate() {
                let points = weight * n;
                if points < (d + 1) as f64 {
                    self.push_message(
                        Some(t),
                        format!(
                            "component {} holds about {points:.1} points, fewer than D + 1 = {}: its covariance rests on reg_covar (an outlier, or too many components?)",
                            k + 1,
                            d + 1
                        ),
                    );
                }
            }
        }
        if t == 0 {
            self.run.start = Some(Arc::clone(&snapshot.params));
            self.palette = match self.previous_run.take() {
                Some((previous, palette)) => carry_palette(&previous, &palette, &snapshot.params),
                None => (0..snapshot.params.k()).collect(),
            };
        }
        if let Some((_, before)) = self.timeline.newest() {
            let fall = before.log_likelihood - snapshot.log_likelihood;
            // EM never lowers the log-likelihood without reg_covar, up to rounding.
            let rounding = 1e-9 * before.log_likelihood.abs().max(1.0);
            if fall > rounding {
                let reg = self.run.spec.config.reg_covar;
                let cause = if self.run.spec.config.hard {
                    "hard EM maximises the classification likelihood, not log L, so log L may fall (H switches back to soft EM)".to_owned()
                } else if reg > 0.0 {
                    format!(
                        "reg_covar = {reg:e} is added to every covariance after the M-step, so the step no longer maximises Q exactly (c sets it to 0)"
                    )
                } else {
                    "beyond rounding with reg_covar = 0: please report this data".to_owned()
                };
                self.push_message(
                    Some(t),
                    format!("log-likelihood fell by {fall:.3e} at iteration {t}: {cause}"),
                );
            }
        }
        // A step asked for in half-step mode arrives as its M-step; a run shows whole
        // iterations.
        let phase = if self.half_steps && self.mode == Mode::Paused {
            Phase::AfterMStep
        } else {
            Phase::AfterEStep
        };
        self.timeline.push(snapshot, phase);
    }

    /// Rebuilds what the panels draw, and asks the worker for iterations the shown position
    /// needs but the timeline no longer keeps.
    pub(super) fn rebuild_view(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        let missing = self.timeline.missing();
        let low = missing.iter().map(|&(t, _)| t).min();
        let high = missing.iter().map(|&(t, _)| t).max();
        let from = missing.iter().map(|&(_, from)| from).min();
        if let (Some(low), Some(high), Some(from)) = (low, high, from) {
            let asked = self
                .derivation
                .is_some_and(|(start, end)| start <= low && high <= end);
            if let (false, Some(full)) = (asked, self.timeline.full(from)) {
                // A few iterations before the shown one too, so stepping back stays smooth.
                let keep_from = low.saturating_sub(DERIVE_AHEAD).max(from + 1);
                self.derivation = Some((keep_from, high));
                effects.push(Effect::Worker(Command::Derive {
                    run_id: self.run.id,
                    from_iteration: from,
                    from: Arc::clone(&full.params),
                    keep_from,
                    to: high,
                }));
            }
        }
        // The minorise–maximise picture follows the shown E-step while its view is on.
        if self.display.log_view == LogView::Bound
            && let Some(c) = self.view_coloured_by()
            && self.bound.as_ref().is_none_or(|b| b.t != c)
            && self.bound_asked != Some(c)
            && let Some(full) = self.timeline.full(c)
        {
            self.bound_asked = Some(c);
            effects.push(Effect::Worker(Command::Bound {
                run_id: self.run.id,
                t: c,
                from: Arc::clone(&full.params),
            }));
        }
        let references = self.reference_mixtures();
        let inspected = self.overlays.iter().find_map(|o| match o {
            Overlay::Inspector { cursor } => self.drawn.get(*cursor).copied(),
            _ => None,
        });
        let truth_labels = self.truth_sample.as_ref().zip(self.source.truth.as_ref());
        let derivation_points = self
            .find(|o| matches!(o, Overlay::Derivation { .. }))
            .map(|_| {
                self.derivation_rows(inspected)
                    .into_iter()
                    .map(|row| (row, self.source.data.row(row)))
                    .collect()
            });
        self.view = View::build(view::Inputs {
            timeline: &self.timeline,
            half_steps: self.half_steps,
            axes: self.axes,
            truth: self.source.true_mixture(),
            references,
            inspected: inspected.map(|row| (row, self.source.data.row(row))),
            truth_labels: truth_labels
                .map(|(sample, truth)| (sample.labels.as_slice(), truth.classes.len())),
            derivation_points,
            n: self.source.data.len(),
            total_weight: self
                .source
                .data
                .weights()
                .map(|_| self.source.data.total_weight()),
        });
        effects
    }

    /// Mixtures outlined for reference: the start being set by hand or the editor's draft while
    /// open (a preview), else the true components when `t` turned them on.
    pub fn reference_mixtures(&self) -> Vec<Mixture> {
        let d = self.source.data.dim();
        if let Some(Overlay::Start(start)) = self.find(|o| matches!(o, Overlay::Start(_))) {
            return vec![(*start.mixture).clone()];
        }
        if let Some(Overlay::Editor(editor)) = self.find(|o| matches!(o, Overlay::Editor(_))) {
            return editor
                .preview()
                .into_iter()
                .filter(|m| m.dim() == d)
                .collect();
        }
        match self.source.true_mixture() {
            Some(truth) if self.display.show_truth && truth.dim() == d => vec![truth.clone()],
            _ => Vec::new(),
        }
    }

    /// The iteration whose E-step the view shows (as the view will compute it).
    pub(super) fn view_coloured_by(&self) -> Option<usize> {
        let t = self.timeline.shown();
        match (self.half_steps, self.timeline.phase()) {
            (true, Phase::AfterMStep) => t.checked_sub(1),
            _ => (!self.timeline.is_empty()).then_some(t),
        }
    }

    /// The rows whose responsibilities the derivation shows: the inspected point if any, the
    /// first drawn point, and the drawn point its E-step is least sure of.
    pub(super) fn derivation_rows(&self, inspected: Option<usize>) -> Vec<usize> {
        let mut rows: Vec<usize> = inspected.into_iter().collect();
        rows.extend(self.drawn.first().copied());
        let least_sure = self
            .view
            .coloured_by
            .and_then(|c| self.timeline.full(c))
            .and_then(|full| {
                full.shares
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, share)| **share)
                    .and_then(|(position, _)| self.drawn.get(position).copied())
            });
        rows.extend(least_sure);
        rows.dedup();
        rows.sort_unstable();
        rows.dedup();
        rows
    }
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
