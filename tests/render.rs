//! Rendered screens of the explorer, drawn into ratatui's TestBackend from app states that the
//! engine produced (no terminal, no threads), kept as insta snapshots in tests/snapshots/.
//! The screens show no timings, so nothing needs filtering.

use std::sync::Arc;

use mixplore::data::spec;
use mixplore::em::Em;
use mixplore::explorer::app::{App, Effect, Msg, Origin, RunSettings, Source};
use mixplore::explorer::batch::{BatchEvent, FitSummary};
use mixplore::explorer::input::Key;
use mixplore::explorer::ui::{Theme, draw};
use mixplore::explorer::worker::{Command, Snapshot, WorkerEvent, start_run};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn spec_source(file: &str) -> Source {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/specs")
        .join(file);
    // The origin as a user in the repository would type it, so snapshots do not depend on
    // where the repository lives.
    let origin = Origin::Spec(std::path::Path::new("assets/specs").join(file));
    Source::simulated(spec::load(&path).unwrap(), file, origin)
}

/// Plays the worker and the batch thread in this thread, so screens are reproducible.
#[derive(Default)]
struct Driver {
    em: Option<(u64, Em, Arc<Vec<usize>>)>,
}

impl Driver {
    fn serve(&mut self, app: &mut App, effects: Vec<Effect>) {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let msg = match effect {
                Effect::Worker(Command::Start(request)) => {
                    let em = start_run(&request).unwrap();
                    let snapshot = Snapshot::of(
                        request.run_id,
                        &em,
                        &request.drawn,
                        request.truth.as_deref(),
                    );
                    self.em = Some((request.run_id, em, request.drawn));
                    Msg::Worker(WorkerEvent::Snapshot(snapshot))
                }
                Effect::Worker(Command::Step) => {
                    let (run_id, em, drawn) = self.em.as_mut().unwrap();
                    em.step().unwrap();
                    Msg::Worker(WorkerEvent::Snapshot(Snapshot::of(
                        *run_id, em, drawn, None,
                    )))
                }
                Effect::StartBatch { id, data, jobs } => {
                    for (index, job) in jobs.iter().enumerate() {
                        let outcome = mixplore::em::fit(Arc::clone(&data), &job.options)
                            .map(|result| FitSummary::of(&job.options, result, &data))
                            .map_err(|e| e.to_string());
                        queue.extend(app.update(Msg::Batch(BatchEvent::Done {
                            batch: id,
                            index,
                            outcome,
                        })));
                    }
                    continue;
                }
                _ => continue,
            };
            queue.extend(app.update(msg));
        }
    }
}

/// An app on `file` with K components after `iterations` EM iterations, run in this thread.
fn app_after(file: &str, k: usize, iterations: usize) -> (App, Driver) {
    let (mut app, effects) = App::new(spec_source(file), RunSettings::new(k));
    let mut driver = Driver::default();
    driver.serve(&mut app, effects);
    for _ in 0..iterations {
        press(&mut app, &mut driver, Key::Char('n'));
    }
    (app, driver)
}

fn press(app: &mut App, driver: &mut Driver, key: Key) {
    let effects = app.update(Msg::Key(key));
    driver.serve(app, effects);
}

fn keys(app: &mut App, driver: &mut Driver, text: &str) {
    for c in text.chars() {
        press(app, driver, Key::Char(c));
    }
}

fn render(app: &App, width: u16, height: u16, theme: Theme) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app, &theme)).unwrap();
    terminal.backend().to_string()
}

const COLOUR: Theme = Theme { colour: true };

#[test]
fn two_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("default.toml", 2, 3).0, 80, 24, COLOUR));
}

#[test]
fn two_dimensional_120x40() {
    insta::assert_snapshot!(render(&app_after("default.toml", 2, 3).0, 120, 40, COLOUR));
}

#[test]
fn one_dimensional_80x24() {
    insta::assert_snapshot!(render(
        &app_after("bimodal-1d.toml", 2, 3).0,
        80,
        24,
        COLOUR
    ));
}

#[test]
fn one_dimensional_120x40() {
    insta::assert_snapshot!(render(
        &app_after("bimodal-1d.toml", 2, 3).0,
        120,
        40,
        COLOUR
    ));
}

#[test]
fn five_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("five-d.toml", 3, 3).0, 80, 24, COLOUR));
}

#[test]
fn five_dimensional_120x40_other_dimensions() {
    let (mut app, mut driver) = app_after("five-d.toml", 3, 3);
    keys(&mut app, &mut driver, "xx");
    insta::assert_snapshot!(render(&app, 120, 40, COLOUR));
}

#[test]
fn help_overlay_80x24() {
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "?");
    insta::assert_snapshot!(render(&app, 80, 24, COLOUR));
}

#[test]
fn without_colour_components_are_letters() {
    insta::assert_snapshot!(render(
        &app_after("separated.toml", 3, 1).0,
        80,
        24,
        Theme { colour: false }
    ));
}

#[test]
fn too_small_says_so_down_to_one_cell() {
    let (app, _) = app_after("default.toml", 2, 1);
    insta::assert_snapshot!(render(&app, 30, 8, COLOUR));
    for (width, height) in [(1, 1), (2, 1), (1, 5), (39, 24), (80, 9)] {
        render(&app, width, height, COLOUR);
    }
}

#[test]
fn before_the_first_snapshot_and_after_a_failure() {
    let (mut app, _) = App::new(spec_source("default.toml"), RunSettings::new(2));
    let starting = render(&app, 80, 24, COLOUR);
    assert!(
        starting.contains("iter 0/0") && starting.contains("starting"),
        "{starting}"
    );
    let run_id = app.run().id;
    app.update(Msg::Worker(WorkerEvent::Failed {
        run_id,
        iteration: 0,
        message: "component 2 collapsed".into(),
    }));
    let failed = render(&app, 80, 24, COLOUR);
    assert!(
        failed.contains("cannot start: component 2 collapsed"),
        "{failed}"
    );
}

#[test]
fn simulation_editor_80x24() {
    let (mut app, mut driver) = app_after("default.toml", 2, 2);
    keys(&mut app, &mut driver, "s");
    // An invalid weight, marked in place; the preview then waits for a valid spec.
    for _ in 0..4 {
        press(&mut app, &mut driver, Key::Tab);
    }
    for _ in 0..3 {
        press(&mut app, &mut driver, Key::Backspace);
    }
    keys(&mut app, &mut driver, "-1");
    insta::assert_snapshot!(render(&app, 80, 24, COLOUR));
}

#[test]
fn simulation_editor_preview_and_presets_120x40() {
    let (mut app, mut driver) = app_after("default.toml", 2, 2);
    keys(&mut app, &mut driver, "s");
    // Move the second true mean: the dashed preview follows.
    for _ in 0..9 {
        press(&mut app, &mut driver, Key::Tab);
    }
    press(&mut app, &mut driver, Key::Backspace);
    keys(&mut app, &mut driver, "6");
    let with_preview = render(&app, 120, 40, COLOUR);
    keys(&mut app, &mut driver, "p");
    let presets = render(&app, 120, 40, COLOUR);
    insta::assert_snapshot!(format!("{with_preview}\n{presets}"));
}

#[test]
fn save_dialog_and_overwrite_question_80x24() {
    use mixplore::explorer::app::SaveOutcome;
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "S");
    let asking = render(&app, 80, 24, COLOUR);
    let request = app
        .update(Msg::Key(Key::Enter))
        .into_iter()
        .find_map(|e| match e {
            Effect::Save(request) => Some(request),
            _ => None,
        })
        .unwrap();
    app.update(Msg::Saved {
        request,
        outcome: SaveOutcome::Exists,
    });
    let confirming = render(&app, 80, 24, COLOUR);
    insta::assert_snapshot!(format!("{asking}\n{confirming}"));
}

#[test]
fn true_ellipses_overlay_80x24() {
    let (mut app, mut driver) = app_after("elongated.toml", 2, 4);
    keys(&mut app, &mut driver, "t");
    insta::assert_snapshot!(render(&app, 80, 24, COLOUR));
}

#[test]
fn half_steps_120x40() {
    let (mut app, mut driver) = app_after("overlapping.toml", 3, 2);
    keys(&mut app, &mut driver, "h");
    let after_m = render(&app, 120, 40, COLOUR);
    assert!(
        after_m.contains("M-step 2: θ(2), colours from the E-step at θ(1)"),
        "{after_m}"
    );
    keys(&mut app, &mut driver, "n");
    let after_e = render(&app, 120, 40, COLOUR);
    assert!(after_e.contains("E-step at θ(2):"), "{after_e}");
    insta::assert_snapshot!(format!("{after_m}\n{after_e}"));
}

#[test]
fn point_inspector_120x40() {
    let (mut app, mut driver) = app_after("default.toml", 2, 3);
    keys(&mut app, &mut driver, "o");
    press(&mut app, &mut driver, Key::Right);
    let screen = render(&app, 120, 40, COLOUR);
    assert!(
        screen.contains("Point inspector") && screen.contains("◎"),
        "{screen}"
    );
    // The responsibilities shown sum to one.
    let total: f64 = screen
        .lines()
        .filter_map(|line| line.split(" r ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .sum();
    assert!((total - 1.0).abs() < 2e-4, "{total}");
    insta::assert_snapshot!(screen);
}

#[test]
fn bic_sweep_panel_120x40() {
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "b");
    let screen = render(&app, 120, 40, COLOUR);
    assert!(
        screen.contains("32/32 done") && screen.contains("◀ lowest BIC"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn restarts_panel_120x40() {
    let (mut app, mut driver) = app_after("overlapping.toml", 3, 1);
    keys(&mut app, &mut driver, "R");
    let screen = render(&app, 120, 40, COLOUR);
    assert!(
        screen.contains("10/10 done") && screen.contains("◀ best"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn messages_and_reproduce_overlays_80x24() {
    let (mut app, mut driver) = app_after("default.toml", 2, 2);
    keys(&mut app, &mut driver, "!");
    let messages = render(&app, 80, 24, COLOUR);
    assert!(messages.contains("nothing to report"), "{messages}");
    press(&mut app, &mut driver, Key::Esc);
    keys(&mut app, &mut driver, "e");
    let reproduce = render(&app, 80, 24, COLOUR);
    assert!(
        reproduce.contains("mixplore simulate") && reproduce.contains("--seed 0"),
        "{reproduce}"
    );
    insta::assert_snapshot!(format!("{messages}\n{reproduce}"));
}

#[test]
fn convergence_view_120x40() {
    let (mut app, mut driver) = app_after("overlapping.toml", 3, 12);
    keys(&mut app, &mut driver, "l");
    let screen = render(&app, 120, 40, COLOUR);
    assert!(
        screen.contains("log10(L* − L(t))") && screen.contains("rate ΔL(t)/ΔL(t−1)"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

/// The derivation panel (d) after three iterations: E-step numbers, N_k, the M-step and the
/// identities, for D = 2 and D = 1 at both sizes.
#[test]
fn derivation_panel_80x24_and_120x40() {
    let mut screens = Vec::new();
    for file in ["default.toml", "bimodal-1d.toml"] {
        let (mut app, mut driver) = app_after(file, 2, 3);
        keys(&mut app, &mut driver, "pd");
        for (width, height) in [(80, 24), (120, 40)] {
            let screen = render(&app, width, height, COLOUR);
            assert!(
                screen.contains("Derivation: E-step at θ(2), M-step to θ(3)"),
                "{screen}"
            );
            screens.push(screen);
        }
        let big = &screens[screens.len() - 1];
        for text in [
            "N_k = Σ_i r_ik",
            "λ_k = N_k / n",
            "log L(θ(2)) = Q(θ(2)|θ(2)) + H(2)",
        ] {
            assert!(big.contains(text), "{text} missing:\n{big}");
        }
    }
    insta::assert_snapshot!(screens.join("\n"));
}

/// The minorise–maximise picture, drawn from a curve the worker would send.
#[test]
fn bound_view_120x40() {
    use mixplore::explorer::worker::{BOUND_RANGE, BOUND_STEPS, BoundCurve};
    let (mut app, mut driver) = app_after("default.toml", 2, 2);
    keys(&mut app, &mut driver, "ll");
    // The worker's answer, computed here from the engine as the worker does.
    let from = app.view().params.clone().unwrap();
    let data = Arc::clone(&app.source().data);
    let at_t = Em::new(Arc::clone(&data), (*from).clone(), Default::default()).unwrap();
    let next = at_t.next_params().unwrap();
    let points = (0..=BOUND_STEPS)
        .map(|i| BOUND_RANGE.0 + (BOUND_RANGE.1 - BOUND_RANGE.0) * i as f64 / BOUND_STEPS as f64)
        .filter_map(|s| {
            let theta = from.interpolate(&next, s).ok()?;
            let bound = at_t.q_of(&theta).ok()? + at_t.entropy();
            Some((s, mixplore::em::log_likelihood_of(&data, &theta), bound))
        })
        .collect();
    let run_id = app.run().id;
    app.update(Msg::Worker(WorkerEvent::Bound(BoundCurve {
        run_id,
        t: 2,
        points,
        sampled: None,
        error: None,
    })));
    let screen = render(&app, 120, 40, COLOUR);
    assert!(screen.contains("Q(θ(s)|θ(2)) + H(2)"), "{screen}");
    insta::assert_snapshot!(screen);
}
