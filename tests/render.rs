//! Rendered screens of the explorer, drawn into ratatui's TestBackend from app states that the
//! engine produced (no terminal, no threads), kept as insta snapshots in tests/snapshots/.
//! The screens show no timings, so nothing needs filtering.

use std::sync::Arc;

use mixplore::data::spec;
use mixplore::em::{Em, Init, initialise};
use mixplore::explorer::app::{Action, App, RunSettings, Source};
use mixplore::explorer::ui::{Theme, draw};
use mixplore::explorer::worker::{Command, Snapshot, WorkerEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn spec_source(file: &str) -> Source {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/specs")
        .join(file);
    Source::simulated(spec::load(&path).unwrap(), file)
}

/// An app on `file` with K components after `iterations` EM iterations, run in this thread.
fn app_after(file: &str, k: usize, iterations: usize) -> App {
    let (mut app, commands) = App::new(spec_source(file), RunSettings::new(k));
    let request = commands
        .into_iter()
        .find_map(|c| match c {
            Command::Start(request) => Some(request),
            _ => None,
        })
        .unwrap();
    let Init::Method(method) = request.init else {
        unreachable!()
    };
    let init = initialise(
        &request.data,
        request.k,
        method,
        &request.config,
        request.seed,
    )
    .unwrap();
    let mut em = Em::new(Arc::clone(&request.data), init, request.config).unwrap();
    let snapshot = |em: &Em| Snapshot::of(request.run_id, em, request.truth.as_deref());
    app.on_worker(WorkerEvent::Snapshot(snapshot(&em)));
    for _ in 0..iterations {
        em.step().unwrap();
        app.on_worker(WorkerEvent::Snapshot(snapshot(&em)));
    }
    app
}

fn render(app: &App, width: u16, height: u16, theme: Theme) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app, &theme)).unwrap();
    terminal.backend().to_string()
}

const COLOUR: Theme = Theme { colour: true };

#[test]
fn two_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("default.toml", 2, 3), 80, 24, COLOUR));
}

#[test]
fn two_dimensional_120x40() {
    insta::assert_snapshot!(render(&app_after("default.toml", 2, 3), 120, 40, COLOUR));
}

#[test]
fn one_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("bimodal-1d.toml", 2, 3), 80, 24, COLOUR));
}

#[test]
fn one_dimensional_120x40() {
    insta::assert_snapshot!(render(&app_after("bimodal-1d.toml", 2, 3), 120, 40, COLOUR));
}

#[test]
fn five_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("five-d.toml", 3, 3), 80, 24, COLOUR));
}

#[test]
fn five_dimensional_120x40_other_dimensions() {
    let mut app = app_after("five-d.toml", 3, 3);
    app.handle(Action::NextX);
    app.handle(Action::NextX);
    insta::assert_snapshot!(render(&app, 120, 40, COLOUR));
}

#[test]
fn help_overlay_80x24() {
    let mut app = app_after("default.toml", 2, 1);
    app.handle(Action::ToggleHelp);
    insta::assert_snapshot!(render(&app, 80, 24, COLOUR));
}

#[test]
fn without_colour_components_are_letters() {
    insta::assert_snapshot!(render(
        &app_after("separated.toml", 3, 1),
        80,
        24,
        Theme { colour: false }
    ));
}

#[test]
fn too_small_says_so_down_to_one_cell() {
    let app = app_after("default.toml", 2, 1);
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
    app.on_worker(WorkerEvent::Failed {
        run_id: app.run_id,
        iteration: 0,
        message: "component 2 collapsed".into(),
    });
    let failed = render(&app, 80, 24, COLOUR);
    assert!(
        failed.contains("cannot start: component 2 collapsed"),
        "{failed}"
    );
}

fn press(app: &mut App, code: ratatui::crossterm::event::KeyCode) {
    app.on_key(&ratatui::crossterm::event::KeyEvent::new(
        code,
        ratatui::crossterm::event::KeyModifiers::NONE,
    ));
}

#[test]
fn simulation_editor_80x24() {
    use ratatui::crossterm::event::KeyCode;
    let mut app = app_after("default.toml", 2, 2);
    app.presets = mixplore::explorer::editor::presets();
    press(&mut app, KeyCode::Char('s'));
    // An invalid weight, marked in place; the preview then waits for a valid spec.
    for _ in 0..4 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('-'));
    press(&mut app, KeyCode::Char('1'));
    insta::assert_snapshot!(render(&app, 80, 24, COLOUR));
}

#[test]
fn simulation_editor_preview_and_presets_120x40() {
    use ratatui::crossterm::event::KeyCode;
    let mut app = app_after("default.toml", 2, 2);
    app.presets = mixplore::explorer::editor::presets();
    press(&mut app, KeyCode::Char('s'));
    // Move the second true mean: the dashed preview follows.
    for _ in 0..9 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Char('6'));
    let with_preview = render(&app, 120, 40, COLOUR);
    press(&mut app, KeyCode::Char('p'));
    let presets = render(&app, 120, 40, COLOUR);
    insta::assert_snapshot!(format!("{with_preview}\n{presets}"));
}

#[test]
fn save_dialog_and_overwrite_question_80x24() {
    use mixplore::explorer::app::SaveOutcome;
    use ratatui::crossterm::event::KeyCode;
    let mut app = app_after("default.toml", 2, 1);
    press(&mut app, KeyCode::Char('S'));
    let asking = render(&app, 80, 24, COLOUR);
    press(&mut app, KeyCode::Enter);
    let request = app.take_save_request().unwrap();
    app.save_finished(&request, SaveOutcome::Exists);
    let confirming = render(&app, 80, 24, COLOUR);
    insta::assert_snapshot!(format!("{asking}\n{confirming}"));
}

#[test]
fn true_ellipses_overlay_80x24() {
    let mut app = app_after("elongated.toml", 2, 4);
    app.handle(Action::ToggleTruth);
    insta::assert_snapshot!(render(&app, 80, 24, COLOUR));
}

#[test]
fn half_steps_120x40() {
    let mut app = app_after("overlapping.toml", 3, 2);
    app.handle(Action::ToggleHalfSteps);
    app.handle(Action::StepBack);
    let after_m = render(&app, 120, 40, COLOUR);
    assert!(
        after_m.contains("M-step 2: ellipses moved, colours from θ(1)"),
        "{after_m}"
    );
    app.handle(Action::StepForward);
    let after_e = render(&app, 120, 40, COLOUR);
    assert!(after_e.contains("E-step at θ(2):"), "{after_e}");
    insta::assert_snapshot!(format!("{after_m}\n{after_e}"));
}

#[test]
fn point_inspector_120x40() {
    use ratatui::crossterm::event::KeyCode;
    let mut app = app_after("default.toml", 2, 3);
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Right);
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

/// Runs the batch the app asked for in this thread and feeds its results back.
fn run_batch(app: &mut App) {
    use mixplore::explorer::batch::{BatchEvent, FitSummary};
    let (id, jobs) = app.take_batch_request().unwrap();
    for (index, job) in jobs.iter().enumerate() {
        let outcome = mixplore::em::fit(Arc::clone(&app.source.data), &job.options)
            .map(|result| FitSummary {
                k: job.options.k,
                covariance: job.options.config.covariance,
                seed: job.options.seed,
                log_likelihood: result.log_likelihood(),
                bic: result.bic(),
                aic: result.aic(),
                iterations: result.iterations,
                converged: result.converged,
                trace: result.trace.clone(),
                initial: result.initial.clone(),
            })
            .map_err(|e| e.to_string());
        app.on_batch(BatchEvent::Done {
            batch: id,
            index,
            outcome,
        });
    }
}

#[test]
fn bic_sweep_panel_120x40() {
    let mut app = app_after("default.toml", 2, 1);
    app.handle(Action::OpenSweep);
    run_batch(&mut app);
    let screen = render(&app, 120, 40, COLOUR);
    assert!(
        screen.contains("32/32 done") && screen.contains("◀ lowest BIC"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn restarts_panel_120x40() {
    let mut app = app_after("overlapping.toml", 3, 1);
    app.handle(Action::OpenRestarts);
    run_batch(&mut app);
    let screen = render(&app, 120, 40, COLOUR);
    assert!(
        screen.contains("10/10 done") && screen.contains("◀ best"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}
