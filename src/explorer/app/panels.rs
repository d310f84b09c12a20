//! How the overlays behave: the save dialog, the simulation editor, the start set by hand, the
//! batch panels and the inspector — each takes the keys while on top of the stack.

use std::sync::Arc;

use super::*;

impl App {
    pub(super) fn open_prompt(&mut self, what: SaveWhat) {
        self.overlays.retain(|o| !matches!(o, Overlay::Prompt(_)));
        self.overlays.push(Overlay::Prompt(Prompt {
            path: what.default_path().into(),
            what,
            confirm_overwrite: None,
            confirm_spaces: false,
            saving: false,
            error: None,
        }));
    }

    pub(super) fn prompt_key(&mut self, key: Key) -> Option<SaveRequest> {
        let Some(Overlay::Prompt(prompt)) = self.overlays.last_mut() else {
            return None;
        };
        if prompt.saving {
            if key == Key::Esc {
                self.note = Some("the save is under way; it cannot be stopped halfway".into());
            }
            return None;
        }
        if prompt.confirm_overwrite.is_some() {
            match key {
                Key::Char('y') | Key::Char('Y') => return Some(prompt.request(true)),
                Key::Esc => {
                    self.overlays.pop();
                }
                _ => prompt.confirm_overwrite = None,
            }
            return None;
        }
        if prompt.confirm_spaces {
            prompt.confirm_spaces = false;
            match key {
                Key::Char('y') | Key::Char('Y') => return Some(prompt.request(false)),
                Key::Char('t') | Key::Char('T') => {
                    prompt.path = prompt.path.trim().to_owned();
                    return Some(prompt.request(false));
                }
                Key::Esc => {
                    self.overlays.pop();
                }
                _ => {}
            }
            return None;
        }
        match key {
            Key::Esc => {
                self.overlays.pop();
            }
            Key::Enter if !prompt.path.trim().is_empty() => {
                if prompt.path.trim() != prompt.path {
                    prompt.confirm_spaces = true;
                    return None;
                }
                return Some(prompt.request(false));
            }
            Key::Backspace => {
                prompt.path.pop();
                prompt.error = None;
            }
            Key::Char(c) if !c.is_control() => {
                prompt.path.push(c);
                prompt.error = None;
            }
            _ => {}
        }
        None
    }

    pub(super) fn save_finished(&mut self, request: &SaveRequest, outcome: SaveOutcome) {
        let position = self
            .overlays
            .iter()
            .rposition(|o| matches!(o, Overlay::Prompt(p) if p.saving && p.what == request.what));
        if let SaveOutcome::Saved(written) = &outcome {
            if let Some(position) = position {
                self.overlays.remove(position);
            }
            self.note = Some(format!(
                "saved the {} to {}",
                request.what.noun(),
                crate::output::shown(written)
            ));
            return;
        }
        let Some(Overlay::Prompt(prompt)) = position.and_then(|p| self.overlays.get_mut(p)) else {
            if let SaveOutcome::Failed(reason) = outcome {
                self.push_message(None, format!("save failed: {reason}"));
            }
            return;
        };
        prompt.saving = false;
        match outcome {
            SaveOutcome::Exists(what) => prompt.confirm_overwrite = Some(what),
            SaveOutcome::Failed(reason) => {
                prompt.confirm_overwrite = None;
                prompt.error = Some(reason.clone());
                self.push_message(None, format!("save failed: {reason}"));
            }
            SaveOutcome::Saved(_) => {}
        }
    }

    pub(super) fn editor_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(Overlay::Editor(editor)) = self.overlays.last_mut() else {
            return Vec::new();
        };
        if self.simulation.is_some() && key == Key::Enter {
            self.note = Some("still drawing the last simulation…".into());
            return Vec::new();
        }
        let Some(editor_key) = editor_key_for(key) else {
            return Vec::new();
        };
        match editor.handle(editor_key) {
            EditorOutcome::Continue => Vec::new(),
            EditorOutcome::Cancel => {
                self.overlays.pop();
                Vec::new()
            }
            EditorOutcome::Save(spec) => {
                self.open_prompt(SaveWhat::Spec(spec));
                Vec::new()
            }
            EditorOutcome::Apply(spec) => {
                if let Err(error) = limits::check_points(spec.n as u128, spec.dim()) {
                    self.note = Some(error.to_string());
                    return Vec::new();
                }
                self.overlays.pop();
                self.next_id += 1;
                self.simulation = Some((self.next_id, 0.0));
                vec![Effect::Simulate {
                    id: self.next_id,
                    spec: Box::new(spec),
                }]
            }
        }
    }

    pub(super) fn simulated(
        &mut self,
        id: u64,
        source: Result<Box<Source>, String>,
    ) -> Vec<Effect> {
        if self.simulation.is_none_or(|(pending, _)| pending != id) {
            return Vec::new();
        }
        self.simulation = None;
        match source {
            Ok(source) => self.replace_source(*source),
            Err(reason) => {
                self.push_message(None, format!("cannot draw the simulation: {reason}"));
                self.note = Some("the simulation could not be drawn: ! shows why".into());
                Vec::new()
            }
        }
    }

    /// Asks for a batch of fits from `init` and opens its panel.
    pub(super) fn open_batch(&mut self, kind: BatchKind, init: InitMethod) -> Vec<Effect> {
        let n = self.source.data.len();
        let settings = &self.settings;
        let job = |k: usize, covariance: CovarianceType, seed: u64, n_init: usize| Job {
            options: FitOptions {
                k,
                init: Init::Method(init),
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
        self.next_id += 1;
        self.overlays.retain(|o| !matches!(o, Overlay::Batch(_)));
        self.overlays.push(Overlay::Batch(BatchView {
            id: self.next_id,
            kind,
            init,
            results: vec![None; jobs.len()],
            jobs: jobs.clone(),
            cursor: 0,
        }));
        vec![Effect::StartBatch {
            id: self.next_id,
            data: Arc::clone(&self.source.data),
            jobs,
        }]
    }

    /// Keys while a start is being set by hand: Tab chooses the component, arrows move its
    /// mean, `+`/`-` scale and `<`/`>` turn its covariance, `[`/`]` change its weight, Enter
    /// runs EM from the start, `w` saves it, Esc closes.
    pub(super) fn start_key(&mut self, key: Key) -> Vec<Effect> {
        let dims = self.display.dims;
        let ranges = [self.axes.x_range, self.axes.y_range];
        let Some(Overlay::Start(editor)) = self.overlays.last_mut() else {
            return Vec::new();
        };
        let edit = match key {
            Key::Left => Some(Edit::step(-1.0, 0.0)),
            Key::Right => Some(Edit::step(1.0, 0.0)),
            Key::Up => Some(Edit::step(0.0, 1.0)),
            Key::Down => Some(Edit::step(0.0, -1.0)),
            Key::Char('+') | Key::Char('=') => Some(Edit::scale(true)),
            Key::Char('-') | Key::Char('_') => Some(Edit::scale(false)),
            Key::Char('<') | Key::Char(',') => Some(Edit::turn(true)),
            Key::Char('>') | Key::Char('.') => Some(Edit::turn(false)),
            Key::Char(']') => Some(Edit::weight(true)),
            Key::Char('[') => Some(Edit::weight(false)),
            _ => None,
        };
        if let Some(edit) = edit {
            editor.apply(edit, dims, ranges);
            return Vec::new();
        }
        match key {
            Key::Tab => editor.cycle(true),
            Key::BackTab => editor.cycle(false),
            Key::Esc => {
                self.overlays.pop();
            }
            Key::Char('w') => {
                let start = Arc::clone(&editor.mixture);
                self.open_prompt(SaveWhat::Start(start));
            }
            Key::Enter => {
                let start = Arc::clone(&editor.mixture);
                self.overlays.pop();
                self.settings.k = start.k();
                self.settings.init_params = Some(start);
                self.settings.use_init_params = true;
                self.note = Some("EM from the start set by hand (e shows the command)".into());
                return self.restart();
            }
            Key::Char('q') => return self.act(Action::Quit),
            _ => {
                self.note = Some(
                    "Tab component · arrows move · +/- scale · </> turn · [/] weight · Enter runs · w saves · Esc"
                        .into(),
                )
            }
        }
        Vec::new()
    }

    /// Keys while a batch panel is on top: ↑/↓ choose, Enter opens the fit in the main view,
    /// Esc closes (and cancels what has not run).
    pub(super) fn batch_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(Overlay::Batch(view)) = self.overlays.last_mut() else {
            return Vec::new();
        };
        match key {
            Key::Up => view.cursor = view.cursor.saturating_sub(1),
            Key::Down => view.cursor = (view.cursor + 1).min(view.jobs.len().saturating_sub(1)),
            Key::Home => view.cursor = 0,
            Key::End => view.cursor = view.jobs.len().saturating_sub(1),
            Key::Esc | Key::Char('b') | Key::Char('R') => {
                self.overlays.pop();
                return vec![Effect::CancelBatch];
            }
            Key::Enter => {
                // Replays the chosen fit: the same K, covariance type, init and seed give the
                // same θ(0), as `mixplore fit --seed` would.
                match view.results.get(view.cursor).cloned() {
                    Some(Some(Ok(fit))) => {
                        let init = view.init;
                        self.overlays.pop();
                        self.settings.k = fit.k;
                        self.settings.config.covariance = fit.covariance;
                        self.settings.init = init;
                        self.settings.seed = fit.best_seed;
                        self.settings.use_init_params = false;
                        let mut effects = vec![Effect::CancelBatch];
                        effects.extend(self.restart());
                        return effects;
                    }
                    Some(Some(Err(reason))) => {
                        self.note = Some(format!("that fit failed: {reason}"))
                    }
                    _ => self.note = Some("that fit has not finished yet".into()),
                }
            }
            Key::Char('i') => {
                let (kind, init) = (view.kind, next_method(view.init));
                self.note = Some(format!("batch restarted from {}", init.name()));
                return self.open_batch(kind, init);
            }
            Key::Char('q') => return self.act(Action::Quit),
            _ => {
                self.note =
                    Some("↑/↓ choose, Enter replays the fit, i changes the init, Esc closes".into())
            }
        }
        Vec::new()
    }

    pub(super) fn on_batch(&mut self, event: BatchEvent) {
        let BatchEvent::Done {
            batch,
            index,
            outcome,
        } = event;
        let view = self.overlays.iter_mut().find_map(|o| match o {
            Overlay::Batch(view) if view.id == batch => Some(view),
            _ => None,
        });
        if let Some(view) = view
            && index < view.results.len()
        {
            view.results[index] = Some(outcome);
        }
    }

    /// The drawn point closest to the middle of the plotted data (where the inspector opens).
    pub(super) fn nearest_to_centre(&self) -> usize {
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

    /// The drawn points on the plotted dimensions, scaled by each axis' range so that
    /// "nearest" means nearest on screen.
    pub(super) fn plotted_points(&self) -> Vec<(f64, f64)> {
        let data = &self.source.data;
        let (x, y) = self.display.dims;
        let sx = (self.axes.x_range.1 - self.axes.x_range.0).max(f64::MIN_POSITIVE);
        let sy = (self.axes.y_range.1 - self.axes.y_range.0).max(f64::MIN_POSITIVE);
        self.drawn
            .iter()
            .map(|&i| (data.row(i)[x] / sx, data.row(i)[y] / sy))
            .collect()
    }

    /// Moves the inspector to the nearest point lying within 45° of `direction` on screen.
    pub(super) fn move_inspector(&mut self, direction: (f64, f64)) {
        let Some(current) = self.overlays.iter().find_map(|o| match o {
            Overlay::Inspector { cursor } => Some(*cursor),
            _ => None,
        }) else {
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
            for overlay in &mut self.overlays {
                if let Overlay::Inspector { cursor } = overlay {
                    *cursor = next;
                }
            }
        }
    }
}

/// The next seeded initialisation method, in the order `i` cycles them.
fn next_method(method: InitMethod) -> InitMethod {
    match method {
        InitMethod::KMeansPlusPlus => InitMethod::RandomFromData,
        InitMethod::RandomFromData => InitMethod::Random,
        InitMethod::Random => InitMethod::KMeansPlusPlus,
    }
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
