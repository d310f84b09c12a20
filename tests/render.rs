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
use mixplore::explorer::worker::{Command, Snapshot, TruthSample, WorkerEvent, start_run};
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

/// The run the driver steps: its id, the stepper, the drawn points and the truth's sample.
type Running = (u64, Em, Arc<Vec<usize>>, Option<Arc<TruthSample>>);

/// Plays the worker and the batch thread in this thread, so screens are reproducible.
#[derive(Default)]
struct Driver {
    em: Option<Running>,
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
                    self.em = Some((request.run_id, em, request.drawn, request.truth.clone()));
                    Msg::Worker(WorkerEvent::Snapshot(snapshot))
                }
                Effect::Worker(Command::Step) => {
                    let (run_id, em, drawn, truth) = self.em.as_mut().unwrap();
                    em.step().unwrap();
                    Msg::Worker(WorkerEvent::Snapshot(Snapshot::of(
                        *run_id,
                        em,
                        drawn,
                        truth.as_deref(),
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

fn colour() -> Theme {
    Theme::dark()
}

#[test]
fn two_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("default.toml", 2, 3).0, 80, 24, colour()));
}

#[test]
fn two_dimensional_120x40() {
    insta::assert_snapshot!(render(
        &app_after("default.toml", 2, 3).0,
        120,
        40,
        colour()
    ));
}

#[test]
fn one_dimensional_80x24() {
    insta::assert_snapshot!(render(
        &app_after("bimodal-1d.toml", 2, 3).0,
        80,
        24,
        colour()
    ));
}

#[test]
fn one_dimensional_120x40() {
    insta::assert_snapshot!(render(
        &app_after("bimodal-1d.toml", 2, 3).0,
        120,
        40,
        colour()
    ));
}

#[test]
fn five_dimensional_80x24() {
    insta::assert_snapshot!(render(&app_after("five-d.toml", 3, 3).0, 80, 24, colour()));
}

#[test]
fn five_dimensional_120x40_other_dimensions() {
    let (mut app, mut driver) = app_after("five-d.toml", 3, 3);
    keys(&mut app, &mut driver, "xx");
    insta::assert_snapshot!(render(&app, 120, 40, colour()));
}

#[test]
fn help_overlay_80x24() {
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "?");
    insta::assert_snapshot!(render(&app, 80, 24, colour()));
}

#[test]
fn without_colour_components_are_letters() {
    insta::assert_snapshot!(render(
        &app_after("separated.toml", 3, 1).0,
        80,
        24,
        Theme::plain()
    ));
}

#[test]
fn too_small_says_so_down_to_one_cell() {
    let (app, _) = app_after("default.toml", 2, 1);
    insta::assert_snapshot!(render(&app, 30, 8, colour()));
    for (width, height) in [(1, 1), (2, 1), (1, 5), (39, 24), (80, 9)] {
        render(&app, width, height, colour());
    }
}

#[test]
fn before_the_first_snapshot_and_after_a_failure() {
    let (mut app, _) = App::new(spec_source("default.toml"), RunSettings::new(2));
    let starting = render(&app, 80, 24, colour());
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
    let failed = render(&app, 80, 24, colour());
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
    insta::assert_snapshot!(render(&app, 80, 24, colour()));
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
    let with_preview = render(&app, 120, 40, colour());
    keys(&mut app, &mut driver, "p");
    let presets = render(&app, 120, 40, colour());
    insta::assert_snapshot!(format!("{with_preview}\n{presets}"));
}

#[test]
fn save_dialog_and_overwrite_question_80x24() {
    use mixplore::explorer::app::SaveOutcome;
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "S");
    let asking = render(&app, 80, 24, colour());
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
        outcome: SaveOutcome::Exists("a file".into()),
    });
    let confirming = render(&app, 80, 24, colour());
    insta::assert_snapshot!(format!("{asking}\n{confirming}"));
}

#[test]
fn true_ellipses_overlay_80x24() {
    let (mut app, mut driver) = app_after("elongated.toml", 2, 4);
    keys(&mut app, &mut driver, "t");
    insta::assert_snapshot!(render(&app, 80, 24, colour()));
}

#[test]
fn half_steps_120x40() {
    let (mut app, mut driver) = app_after("overlapping.toml", 3, 2);
    keys(&mut app, &mut driver, "h");
    let after_m = render(&app, 120, 40, colour());
    assert!(
        after_m.contains("M-step 2: θ(2), colours from the E-step at θ(1)"),
        "{after_m}"
    );
    keys(&mut app, &mut driver, "n");
    let after_e = render(&app, 120, 40, colour());
    assert!(after_e.contains("E-step at θ(2):"), "{after_e}");
    insta::assert_snapshot!(format!("{after_m}\n{after_e}"));
}

#[test]
fn point_inspector_120x40() {
    let (mut app, mut driver) = app_after("default.toml", 2, 3);
    keys(&mut app, &mut driver, "o");
    press(&mut app, &mut driver, Key::Right);
    let screen = render(&app, 120, 40, colour());
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
    let screen = render(&app, 120, 40, colour());
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
    let screen = render(&app, 120, 40, colour());
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
    let messages = render(&app, 80, 24, colour());
    assert!(messages.contains("nothing to report"), "{messages}");
    press(&mut app, &mut driver, Key::Esc);
    keys(&mut app, &mut driver, "e");
    let reproduce = render(&app, 80, 24, colour());
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
    let screen = render(&app, 120, 40, colour());
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
            let screen = render(&app, width, height, colour());
            // The long title where it fits, the short one (with how to close) at 80 columns.
            assert!(
                screen.contains("Derivation: E-step at θ(2), M-step to θ(3) · d closes")
                    || screen.contains("Derivation θ(2) → θ(3) · d closes"),
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
    let screen = render(&app, 120, 40, colour());
    assert!(screen.contains("Q(θ(s)|θ(2)) + H(2)"), "{screen}");
    insta::assert_snapshot!(screen);
}

// ----- Every terminal: what must survive at 80×24, glyphs, colours and styles -----

/// Renders at `width`×`height` and checks that every one of `needed` is on screen.
fn render_keeping(app: &App, width: u16, height: u16, theme: Theme, needed: &[&str]) -> String {
    let screen = render(app, width, height, theme);
    for text in needed {
        assert!(
            screen.contains(text),
            "{text:?} lost at {width}×{height}:\n{screen}"
        );
    }
    screen
}

#[test]
fn sweep_at_80x24_keeps_the_lowest_bic_its_row_flags_and_the_legend() {
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "b");
    let screen = render_keeping(
        &app,
        80,
        24,
        colour(),
        &[
            "32/32 done",
            "◀ lowest BIC",
            "lowest BIC 3501.30: full K 2",
            "also the lowest ICL",
            "ICL ",
            " it ",
            "f full d diag s spherical t tied",
            "✗ stopped at max-iter",
            "Enter replays",
        ],
    );
    // The marked row keeps its iteration count and the flag column.
    let marked = screen
        .lines()
        .find(|line| line.contains("◀ lowest BIC"))
        .unwrap();
    assert!(
        marked.contains("BIC") && marked.contains("ICL") && marked.contains(" it "),
        "{marked}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn restarts_at_80x24_keep_the_best_marker() {
    let (mut app, mut driver) = app_after("overlapping.toml", 3, 1);
    keys(&mut app, &mut driver, "R");
    let screen = render_keeping(&app, 80, 24, colour(), &["10/10 done", "◀ best", "best LL"]);
    insta::assert_snapshot!(screen);
}

#[test]
fn help_at_80x24_shows_how_to_leave_without_scrolling() {
    let (mut app, mut driver) = app_after("default.toml", 2, 1);
    keys(&mut app, &mut driver, "?");
    render_keeping(
        &app,
        80,
        24,
        colour(),
        &[
            "Esc  close the top panel",
            "q ^C  quit",
            "Esc closes · q quits",
        ],
    );
    // It scrolls to the last line.
    for _ in 0..60 {
        press(&mut app, &mut driver, Key::Down);
    }
    render_keeping(&app, 80, 24, colour(), &["Points: colour", "of 4"]);
}

#[test]
fn main_view_at_80x24_keeps_true_ll_ari_and_the_source_name() {
    let (app, _) = app_after("default.toml", 2, 3);
    let screen = render_keeping(
        &app,
        80,
        24,
        colour(),
        &[
            "Log-likelihood",
            "true LL -1723.799",
            "ARI ",
            "default.toml",
            "space run",
            "? help",
            "q quit",
        ],
    );
    // Grouped thousands never reach a log-likelihood.
    assert!(!screen.contains("-1 7"), "{screen}");
    render_keeping(
        &app,
        100,
        30,
        colour(),
        &["true LL -1723.799", "ARI ", "default.toml"],
    );
}

#[test]
fn half_steps_and_inspector_at_80x24_and_100x30_keep_their_notes() {
    let (mut app, mut driver) = app_after("overlapping.toml", 3, 2);
    keys(&mut app, &mut driver, "h");
    render_keeping(&app, 80, 24, colour(), &["M-step θ(2), colours θ(1)"]);
    render_keeping(&app, 100, 30, colour(), &["M-step θ(2), colours θ(1)"]);
    keys(&mut app, &mut driver, "n");
    render_keeping(&app, 80, 24, colour(), &["E-step θ(2):", "changed"]);
    keys(&mut app, &mut driver, "o");
    let screen = render_keeping(
        &app,
        80,
        24,
        colour(),
        &["row ", "ln Σ λφ = ", "(the point's", "log L)"],
    );
    render_keeping(&app, 100, 30, colour(), &["(the point's log L)"]);
    insta::assert_snapshot!(screen);
}

#[test]
fn paused_at_the_start_the_hints_offer_half_steps_and_the_inspector() {
    let (app, _) = app_after("default.toml", 2, 0);
    render_keeping(
        &app,
        80,
        24,
        colour(),
        &["h half-step", "o inspect", "? help"],
    );
    let (app, _) = app_after("five-d.toml", 3, 1);
    render_keeping(&app, 80, 24, colour(), &["x/y axes"]);
}

#[test]
fn editor_errors_at_80x24_and_100x30_are_shown_in_full() {
    let (mut app, mut driver) = app_after("default.toml", 2, 2);
    keys(&mut app, &mut driver, "s");
    // The correlation of the first true component: out of (−1, 1).
    for _ in 0..9 {
        press(&mut app, &mut driver, Key::Tab);
    }
    for _ in 0..6 {
        press(&mut app, &mut driver, Key::Backspace);
    }
    keys(&mut app, &mut driver, "1.5");
    for (width, height) in [(80, 24), (100, 30)] {
        let screen = render(&app, width, height, colour());
        // The editor's half of the screen (the data panel is on the left).
        let error: String = screen
            .lines()
            .skip_while(|line| !line.contains('✗'))
            .take(3)
            .map(|line| {
                line.chars()
                    .skip(usize::from(width) / 2 + 1)
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            error.contains('✗'),
            "no error at {width}×{height}:\n{screen}"
        );
        // The reason ends inside the panel: its last word is followed by spaces, not a border.
        let error = error.replace(['│', '\n', '"'], " ");
        let error = error.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            error.contains("strictly between -1 and 1"),
            "the allowed range is cut at {width}×{height}:\n{screen}"
        );
    }
}

#[test]
fn a_long_failure_wraps_into_the_message_area() {
    let (mut app, _) = App::new(spec_source("default.toml"), RunSettings::new(2));
    let run_id = app.run().id;
    let advice = "component 2 collapsed onto a single point: its covariance is singular; \
                  c raises reg_covar, [ lowers K, r tries another start";
    app.update(Msg::Worker(WorkerEvent::Failed {
        run_id,
        iteration: 0,
        message: advice.into(),
    }));
    let screen = render(&app, 80, 24, colour());
    let flat: String = screen
        .lines()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("r tries another start"),
        "the advice is cut:\n{screen}"
    );
}

#[test]
fn a_decrease_warning_survives_at_80x24() {
    // An iteration whose log-likelihood fell (as reg_covar or hard EM can make it), played
    // as the worker would send it.
    let (mut app, mut driver) = app_after("default.toml", 2, 3);
    let (run_id, em, drawn, truth) = driver.em.as_mut().unwrap();
    em.step().unwrap();
    let mut snapshot = Snapshot::of(*run_id, em, drawn, truth.as_deref());
    snapshot.log_likelihood -= 5.0;
    app.update(Msg::Worker(WorkerEvent::Snapshot(snapshot)));
    let screen = render_keeping(
        &app,
        80,
        24,
        colour(),
        &["⚠ fell at", "true LL -1723.799", "ARI "],
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn ascii_mode_sends_only_ascii_and_tells_points_from_outlines() {
    let (mut app, mut driver) = app_after("default.toml", 2, 3);
    let plain = render(&app, 80, 24, Theme::ascii());
    assert!(plain.is_ascii(), "{plain}");
    // Outlines as line glyphs, points as stars, the mode on the status line.
    assert!(plain.contains('*') && plain.contains('\\') && plain.contains('/'));
    assert!(plain.contains("ascii"), "{plain}");
    for overlay in ["?", "b", "d", "s"] {
        keys(&mut app, &mut driver, overlay);
        let screen = render(&app, 80, 24, Theme::ascii());
        assert!(screen.is_ascii(), "after {overlay}:\n{screen}");
        press(&mut app, &mut driver, Key::Esc);
    }
    insta::assert_snapshot!(plain);
}

#[test]
fn every_marker_draws_outlines_apart_from_points() {
    let (mut app, mut driver) = app_after("separated.toml", 3, 2);
    for _ in 0..2 {
        keys(&mut app, &mut driver, "m");
        let screen = render(&app, 80, 24, colour());
        assert!(
            screen.contains("marker"),
            "the mode is not named:\n{screen}"
        );
        assert!(
            ['─', '│', '╱', '╲'].iter().any(|c| screen.contains(*c)),
            "no outline glyphs:\n{screen}"
        );
    }
}

#[test]
fn equal_units_by_default_and_fill_on_request() {
    let (mut app, mut driver) = app_after("default.toml", 2, 3);
    let equal = render(&app, 80, 24, colour());
    keys(&mut app, &mut driver, "=");
    assert!(app.display().fill);
    let filled = render(&app, 80, 24, colour());
    assert!(filled.contains("fill"), "{filled}");
    assert_ne!(equal, filled);
}

/// The frame's cells with their colours and modifiers, as ratatui's buffer prints them.
fn render_styles(app: &App, width: u16, height: u16, theme: Theme) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app, &theme)).unwrap();
    format!("{:?}", terminal.backend().buffer())
}

#[test]
fn styles_of_the_default_and_light_themes() {
    let (mut app, mut driver) = app_after("default.toml", 2, 2);
    keys(&mut app, &mut driver, "h");
    keys(&mut app, &mut driver, "n");
    let dark = render_styles(&app, 80, 24, Theme::dark());
    let light = render_styles(&app, 80, 24, Theme::light());
    for styles in [&dark, &light] {
        // Highlights are the terminal's own colour, bold or reversed; secondary text is dim;
        // nothing is drawn in white or in colour 8.
        assert!(!styles.contains("fg: White") && !styles.contains("fg: DarkGray"));
        assert!(styles.contains("DIM"), "no dim text");
    }
    assert_ne!(dark, light);
    insta::assert_snapshot!("styles_dark_80x24", dark);
    insta::assert_snapshot!("styles_light_80x24", light);
}

#[test]
fn ascii_spells_out_the_inequalities_of_the_derivation() {
    let (mut app, mut driver) = app_after("default.toml", 2, 3);
    keys(&mut app, &mut driver, "pd");
    let screen = render(&app, 120, 40, Theme::ascii());
    assert!(screen.is_ascii(), "{screen}");
    assert!(
        screen.contains(">= Q(T(3)|T(2)) + H(2) >= log L(T(2))"),
        "{screen}"
    );
}

#[test]
fn every_overlay_draws_at_small_sizes_in_every_theme() {
    let (mut app, mut driver) = app_after("five-d.toml", 3, 2);
    let themes = [
        Theme::dark(),
        Theme::light(),
        Theme::plain(),
        Theme::ascii(),
    ];
    for opener in [
        "", "h", "o", "d", "?", "!", "e", "a", "s", "b", "R", "=", "m", "m", "l", "l",
    ] {
        keys(&mut app, &mut driver, opener);
        for (width, height) in [(40, 10), (41, 11), (50, 16), (60, 20), (80, 24)] {
            for theme in themes {
                let screen = render(&app, width, height, theme);
                assert!(!theme.is_ascii() || screen.is_ascii(), "{screen}");
            }
        }
        if !matches!(opener, "" | "h" | "=" | "m" | "l") {
            press(&mut app, &mut driver, Key::Esc);
        }
    }
}
