//! Reducer tests: each drives the state with messages, as the loop would, and checks what is
//! shown and which effects come back. A fake worker answers worker commands synchronously.

use super::*;
use crate::data::spec::parse_toml;
use crate::em::{Em, MixtureParams};
use crate::explorer::batch::FitSummary;
use crate::explorer::worker::start_run;
use std::path::PathBuf;

fn source() -> Source {
    let mut values = Vec::new();
    for i in 0..60 {
        let t = (i as f64 * 0.7).sin();
        values.extend([if i % 2 == 0 { t } else { 5.0 + t }, (i as f64 * 0.3).cos()]);
    }
    Source::loaded(
        "test".into(),
        Origin::File {
            path: "test.csv".into(),
            options: Vec::new(),
        },
        vec!["a".into(), "b".into()],
        Dataset::new(2, values).unwrap(),
    )
}

fn simulated() -> Source {
    let spec = parse_toml(include_str!("../../../assets/specs/default.toml"), "d").unwrap();
    Source::simulated(spec, "default simulation", Origin::Default)
}

/// Plays the worker: answers commands with what a worker would send.
#[derive(Default)]
struct FakeWorker {
    em: Option<(u64, Em, Arc<Vec<usize>>)>,
    started: Vec<u64>,
}

impl FakeWorker {
    fn serve(&mut self, app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
        let mut others = Vec::new();
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let event = match effect {
                Effect::Worker(Command::Start(request)) => {
                    self.started.push(request.run_id);
                    let em = start_run(&request).unwrap();
                    let event = WorkerEvent::Snapshot(Snapshot::of(
                        request.run_id,
                        &em,
                        &request.drawn,
                        request.truth.as_deref(),
                    ));
                    self.em = Some((request.run_id, em, request.drawn));
                    event
                }
                Effect::Worker(Command::Step) => {
                    let (run_id, em, drawn) = self.em.as_mut().unwrap();
                    em.step().unwrap();
                    WorkerEvent::Snapshot(Snapshot::of(*run_id, em, drawn, None))
                }
                Effect::Worker(_) => continue,
                other => {
                    others.push(other);
                    continue;
                }
            };
            queue.extend(app.update(Msg::Worker(event)));
        }
        others
    }
}

fn started(source: Source, settings: RunSettings) -> (App, FakeWorker) {
    let (mut app, effects) = App::new(source, settings);
    let mut worker = FakeWorker::default();
    worker.serve(&mut app, effects);
    (app, worker)
}

fn press(app: &mut App, worker: &mut FakeWorker, key: Key) -> Vec<Effect> {
    let effects = app.update(Msg::Key(key));
    worker.serve(app, effects)
}

fn keys(app: &mut App, worker: &mut FakeWorker, text: &str) {
    for c in text.chars() {
        press(app, worker, Key::Char(c));
    }
}

#[test]
fn the_data_are_in_view_before_the_start_arrives() {
    // No worker answers: this is the screen while θ(0) is still being computed.
    let (app, _effects) = App::new(source(), RunSettings::new(2));
    assert!(app.view().params.is_none());
    // The points' x values run from −1 to 6 (sin and 5 + sin): the axes span them.
    let (low, high) = app.view().x_range;
    assert!(low < -0.9 && high > 5.9, "{low} {high}");
}

#[test]
fn stepping_forward_and_back_through_history() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    assert_eq!((app.timeline().len(), app.timeline().shown()), (1, 0));
    keys(&mut app, &mut worker, "nnn");
    assert_eq!((app.timeline().len(), app.timeline().shown()), (4, 3));
    press(&mut app, &mut worker, Key::Left);
    assert_eq!(app.timeline().shown(), 2);
    // Forward inside the history moves without asking the worker.
    let effects = app.update(Msg::Key(Key::Char('n')));
    assert!(effects.is_empty());
    assert_eq!(app.timeline().shown(), 3);
    keys(&mut app, &mut worker, "g");
    assert_eq!(app.timeline().shown(), 0);
    keys(&mut app, &mut worker, "G");
    assert_eq!(app.timeline().shown(), 3);
    assert_eq!(app.view().iteration, 3);
    assert!(app.view().previous.is_some());
}

#[test]
fn the_status_describes_the_run_being_fitted() {
    // A sweep row replayed at K 5 then a new simulation and init changes: K always that of the
    // fitted run, and a given start only while its K and D match.
    let (app, mut worker) = started(simulated(), RunSettings::new(2));
    let params = app.view().params.clone().unwrap();
    let mut settings = app.settings().clone();
    settings.init_params = Some(params);
    settings.use_init_params = true;
    settings.k = 3;
    let (mut app, mut worker2) = started(simulated(), settings);
    assert_eq!(app.run().spec.k, 3);
    assert_eq!(app.run().spec.init_label(), "kmeans++");
    assert_eq!(app.view().params.as_ref().unwrap().k(), 3);
    for _ in 0..4 {
        press(&mut app, &mut worker2, Key::Char('i'));
        let spec = &app.run().spec;
        assert_eq!(spec.k, app.view().params.as_ref().unwrap().k());
        assert_ne!(spec.init_label(), "init-params");
    }
    let _ = &mut worker;
}

#[test]
fn r_always_starts_a_new_random_initialisation() {
    let (app, mut worker) = started(source(), RunSettings::new(2));
    let start = app.run().start.clone().unwrap();
    let mut settings = app.settings().clone();
    settings.init_params = Some(start);
    settings.use_init_params = true;
    let (mut app, _) = started(source(), settings);
    assert_eq!(app.run().spec.init_label(), "init-params");
    press(&mut app, &mut worker, Key::Char('r'));
    assert_eq!(app.run().spec.init_label(), "kmeans++");
    assert_eq!(app.run().spec.seed, 1);
    press(&mut app, &mut worker, Key::Char('r'));
    assert_eq!(
        app.run().spec.start,
        Start::Method(InitMethod::KMeansPlusPlus)
    );
    assert_eq!(app.run().spec.seed, 2);
}

#[test]
fn component_numbers_run_one_to_k_after_k_changes() {
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "]]][[[");
    let params = app.view().params.clone().unwrap();
    assert_eq!(params.k(), 2);
    // Colour slots may follow matched components, but stay distinct.
    let slots: Vec<usize> = (0..2).map(|k| app.slot(k)).collect();
    assert_ne!(slots[0], slots[1]);
}

#[test]
fn half_steps_start_with_the_e_step() {
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "nn");
    assert_eq!(app.timeline().shown(), 2);
    press(&mut app, &mut worker, Key::Char('h'));
    // From θ(2): first the E-step at θ(2), parameters unchanged.
    let before = app.view().params.clone().unwrap();
    assert_eq!(app.view().phase, Some(Phase::AfterMStep));
    assert_eq!(app.view().coloured_by, Some(1));
    press(&mut app, &mut worker, Key::Char('n'));
    assert_eq!(app.view().phase, Some(Phase::AfterEStep));
    assert_eq!(app.view().coloured_by, Some(2));
    assert_eq!(app.view().iteration, 2);
    assert!(Arc::ptr_eq(&before, app.view().params.as_ref().unwrap()));
    // Then the M-step giving θ(3), still coloured by the E-step at θ(2).
    press(&mut app, &mut worker, Key::Char('n'));
    assert_eq!(app.view().iteration, 3);
    assert_eq!(app.view().phase, Some(Phase::AfterMStep));
    assert_eq!(app.view().coloured_by, Some(2));
    // p walks back the same way.
    press(&mut app, &mut worker, Key::Char('p'));
    assert_eq!(
        (app.view().iteration, app.view().phase),
        (2, Some(Phase::AfterEStep))
    );
    press(&mut app, &mut worker, Key::Char('p'));
    assert_eq!(
        (app.view().iteration, app.view().phase),
        (2, Some(Phase::AfterMStep))
    );
    // At θ(0) before the first E-step nothing is coloured yet.
    press(&mut app, &mut worker, Key::Char('g'));
    assert_eq!(app.view().coloured_by, None);
    assert!(app.view().labels.is_none());
    press(&mut app, &mut worker, Key::Char('n'));
    assert_eq!(app.view().coloured_by, Some(0));
}

#[test]
fn esc_closes_the_top_overlay_and_never_quits() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "?");
    assert_eq!(app.top().map(Overlay::name), Some("help"));
    for _ in 0..3 {
        let effects = press(&mut app, &mut worker, Key::Esc);
        assert!(!effects.iter().any(|e| matches!(e, Effect::Quit)));
        assert!(!app.quitting());
    }
    assert!(app.top().is_none());
    assert_eq!(app.note(), Some("nothing to close: q quits"));
    // S on CSV data then Esc: a note, no overlay, no quit.
    keys(&mut app, &mut worker, "S");
    press(&mut app, &mut worker, Key::Esc);
    assert!(!app.quitting());
}

#[test]
fn ctrl_c_quits_and_ctrl_z_suspends_from_every_overlay() {
    let openers: &[&str] = &["", "?", "!", "e", "o", "w", "s", "b", "R"];
    for opener in openers {
        let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
        keys(&mut app, &mut worker, opener);
        if !opener.is_empty() {
            assert!(app.top().is_some(), "{opener} opened nothing");
        }
        let effects = press(&mut app, &mut worker, Key::Ctrl('z'));
        assert!(
            effects.iter().any(|e| matches!(e, Effect::Suspend)),
            "Ctrl-Z in {opener}"
        );
        let effects = press(&mut app, &mut worker, Key::Ctrl('c'));
        assert!(
            effects.iter().any(|e| matches!(e, Effect::Quit)),
            "Ctrl-C in {opener}"
        );
        assert!(app.quitting());
    }
}

/// Opens the data save dialog (`w`) and types `path` over the offered name.
fn type_save_path(app: &mut App, worker: &mut FakeWorker, path: &str) {
    keys(app, worker, "w");
    for _ in 0.."mixplore-data.csv".len() {
        press(app, worker, Key::Backspace);
    }
    keys(app, worker, path);
}

#[test]
fn the_save_prompt_takes_text_and_runs_the_save_in_the_background() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    type_save_path(&mut app, &mut worker, "out.csv");
    let effects = press(&mut app, &mut worker, Key::Enter);
    let request = match effects.as_slice() {
        [Effect::Save(request)] => request.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(request.path, PathBuf::from("out.csv"));
    // The file exists: the prompt asks, y confirms.
    app.update(Msg::Saved {
        request: request.clone(),
        outcome: SaveOutcome::Exists("a file".into()),
    });
    match app.top() {
        Some(Overlay::Prompt(prompt)) => {
            assert_eq!(prompt.confirm_overwrite.as_deref(), Some("a file"));
        }
        other => panic!("{other:?}"),
    }
    let effects = press(&mut app, &mut worker, Key::Char('y'));
    assert!(matches!(effects.as_slice(), [Effect::Save(r)] if r.overwrite));
    app.update(Msg::Saved {
        request,
        outcome: SaveOutcome::Saved(PathBuf::from("/somewhere/out.csv")),
    });
    assert!(app.top().is_none());
    assert!(app.note().unwrap().contains("/somewhere/out.csv"));
}

#[test]
fn the_save_prompt_trims_nothing_unasked_and_expands_home() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    type_save_path(&mut app, &mut worker, " out.csv ");
    // Enter asks; any other key goes back to editing, with the path as typed.
    assert!(press(&mut app, &mut worker, Key::Enter).is_empty());
    match app.top() {
        Some(Overlay::Prompt(prompt)) => assert!(prompt.confirm_spaces),
        other => panic!("{other:?}"),
    }
    assert!(press(&mut app, &mut worker, Key::Char('n')).is_empty());
    match app.top() {
        Some(Overlay::Prompt(prompt)) => {
            assert!(!prompt.confirm_spaces);
            assert_eq!(prompt.path, " out.csv ");
        }
        other => panic!("{other:?}"),
    }
    press(&mut app, &mut worker, Key::Enter);
    let effects = press(&mut app, &mut worker, Key::Char('y'));
    assert!(
        matches!(effects.as_slice(), [Effect::Save(r)] if r.path == std::path::Path::new(" out.csv ")),
        "{effects:?}"
    );
    app.update(Msg::Saved {
        request: SaveRequest {
            path: PathBuf::from(" out.csv "),
            what: SaveWhat::Data,
            overwrite: false,
        },
        outcome: SaveOutcome::Failed("x".into()),
    });
    press(&mut app, &mut worker, Key::Enter);
    let effects = press(&mut app, &mut worker, Key::Char('t'));
    assert!(
        matches!(effects.as_slice(), [Effect::Save(r)] if r.path == std::path::Path::new("out.csv")),
        "{effects:?}"
    );
    if let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        let (mut app, mut worker) = started(source(), RunSettings::new(2));
        type_save_path(&mut app, &mut worker, "~/d.csv");
        let effects = press(&mut app, &mut worker, Key::Enter);
        let expected = PathBuf::from(home).join("d.csv");
        assert!(
            matches!(effects.as_slice(), [Effect::Save(r)] if r.path == expected),
            "{effects:?}"
        );
    }
}

#[test]
fn the_editor_caps_n_and_simulates_off_the_ui_thread() {
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "s");
    // The first field is n: replace it with a number beyond the cap.
    for _ in 0..10 {
        press(&mut app, &mut worker, Key::Backspace);
    }
    keys(&mut app, &mut worker, "2900000000");
    let effects = press(&mut app, &mut worker, Key::Enter);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Simulate { .. })),
        "{effects:?}"
    );
    for _ in 0..10 {
        press(&mut app, &mut worker, Key::Backspace);
    }
    keys(&mut app, &mut worker, "300");
    let effects = press(&mut app, &mut worker, Key::Enter);
    let (id, spec) = match effects.into_iter().next() {
        Some(Effect::Simulate { id, spec }) => (id, spec),
        other => panic!("{other:?}"),
    };
    assert_eq!(app.simulation_progress(), Some(0.0));
    app.update(Msg::SimulationProgress { id, done: 0.5 });
    assert_eq!(app.simulation_progress(), Some(0.5));
    // Keys still work while sampling.
    keys(&mut app, &mut worker, "?");
    press(&mut app, &mut worker, Key::Esc);
    let source = Source::simulated(*spec, "edited", Origin::Edited);
    let effects = app.update(Msg::Simulated {
        id,
        source: Ok(Box::new(source)),
    });
    worker.serve(&mut app, effects);
    assert!(!app.simulating());
    assert_eq!(app.source().data.len(), 300);
    assert_eq!(app.view().iteration, 0);
}

#[test]
fn batch_replays_use_the_listed_seed_and_init() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    let effects = press(&mut app, &mut worker, Key::Char('R'));
    let (id, jobs) = match effects.into_iter().next() {
        Some(Effect::StartBatch { id, jobs, .. }) => (id, jobs),
        other => panic!("{other:?}"),
    };
    let job = &jobs[3];
    let result = crate::em::fit(Arc::clone(&app.source().data), &job.options).unwrap();
    let summary = FitSummary::of(&job.options, result.clone(), &app.source().data);
    app.update(Msg::Batch(BatchEvent::Done {
        batch: id,
        index: 3,
        outcome: Ok(summary),
    }));
    keys(&mut app, &mut worker, "");
    for _ in 0..3 {
        press(&mut app, &mut worker, Key::Down);
    }
    let effects = press(&mut app, &mut worker, Key::Enter);
    assert!(effects.iter().any(|e| matches!(e, Effect::CancelBatch)));
    assert!(app.top().is_none());
    assert_eq!(app.run().spec.seed, job.options.seed);
    assert_eq!(app.run().spec.init_label(), "kmeans++");
    // The replayed θ(0) is the batch fit's θ(0).
    assert_eq!(*app.run().start.clone().unwrap(), result.initial);
    assert_eq!(
        app.timeline().entries()[0].log_likelihood.to_bits(),
        result.trace[0].to_bits()
    );
}

#[test]
fn a_decrease_with_reg_covar_is_explained_in_the_messages() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    let params = app.view().params.clone().unwrap();
    let run_id = app.run().id;
    let snapshot = |t: usize, ll: f64| Snapshot {
        run_id,
        iteration: t,
        params: Arc::clone(&params),
        labels: vec![0u16; 60].into(),
        shares: vec![255u8; 60].into(),
        log_likelihood: ll,
        converged: false,
        done: false,
        stop: None,
        derivation: None,
        agreement: None,
    };
    let first = app.timeline().entries()[0].log_likelihood;
    app.update(Msg::Worker(WorkerEvent::Snapshot(snapshot(1, first - 1.0))));
    let message = app.messages().last().unwrap();
    assert_eq!(message.iteration, Some(1));
    assert!(
        message.text.contains("reg_covar = 1e-6"),
        "{}",
        message.text
    );
    keys(&mut app, &mut worker, "!");
    assert_eq!(app.top().map(Overlay::name), Some("messages"));
}

#[test]
fn the_reproduce_overlay_names_every_setting() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "ivcc");
    keys(&mut app, &mut worker, "e");
    let Some(Overlay::Reproduce(reproduce)) = app.top() else {
        panic!("{:?}", app.top());
    };
    assert_eq!(
        reproduce.lines,
        vec![
            "mixplore fit test.csv --k 2 --init random-from-data --seed 0 --covariance diag --reg-covar 1e-4 --json"
        ]
    );
    press(&mut app, &mut worker, Key::Char('w'));
    match app.top() {
        Some(Overlay::Prompt(prompt)) => assert!(matches!(prompt.what, SaveWhat::Start(_))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_keys_say_so() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    press(&mut app, &mut worker, Key::Char('z'));
    assert!(app.note().unwrap().contains("? lists the keys"));
}

#[test]
fn the_inspector_follows_the_e_step_shown() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "nno");
    let inspection = app.view().inspection.clone().unwrap();
    assert_eq!(inspection.iteration, 2);
    let total: f64 = inspection.responsibilities.iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
    press(&mut app, &mut worker, Key::Right);
    let moved = app.view().inspection.clone().unwrap();
    assert!(moved.point[0] >= inspection.point[0]);
    // Stepping works with the inspector open; Esc closes it.
    press(&mut app, &mut worker, Key::Char('p'));
    assert_eq!(app.view().inspection.as_ref().unwrap().iteration, 1);
    press(&mut app, &mut worker, Key::Esc);
    assert!(app.view().inspection.is_none());
}

#[test]
fn snapshots_of_abandoned_runs_are_ignored() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    let params = app.view().params.clone().unwrap();
    let old = Snapshot {
        run_id: app.run().id,
        iteration: 1,
        params,
        labels: vec![0u16; 60].into(),
        shares: vec![255u8; 60].into(),
        log_likelihood: 0.0,
        converged: false,
        done: false,
        stop: None,
        derivation: None,
        agreement: None,
    };
    keys(&mut app, &mut worker, "r");
    app.update(Msg::Worker(WorkerEvent::Snapshot(old)));
    assert_eq!(app.timeline().len(), 1);
}

#[test]
fn given_params_of_another_k_are_never_used() {
    let params = Mixture::from_params(&MixtureParams {
        weights: vec![0.2, 0.3, 0.5],
        means: vec![vec![0.0, 0.0], vec![5.0, 0.0], vec![2.0, 1.0]],
        covariances: vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]; 3],
    })
    .unwrap();
    let mut settings = RunSettings::new(3);
    settings.init_params = Some(Arc::new(params));
    settings.use_init_params = true;
    let (mut app, mut worker) = started(source(), settings);
    assert_eq!(app.run().spec.init_label(), "init-params");
    keys(&mut app, &mut worker, "[");
    assert_eq!(app.run().spec.k, 2);
    assert_eq!(app.run().spec.init_label(), "kmeans++");
    keys(&mut app, &mut worker, "iii");
    assert_eq!(app.run().spec.init_label(), "kmeans++");
    keys(&mut app, &mut worker, "]");
    assert_eq!(app.run().spec.k, 3);
    keys(&mut app, &mut worker, "iii");
    assert_eq!(app.run().spec.init_label(), "init-params");
}

#[test]
fn a_saddle_is_reported_as_such_not_as_converged() {
    // Old Faithful, tied covariances from a random start: the two components start (nearly)
    // identical and EM keeps them so; the tolerance test fires at a saddle.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/datasets/faithful.csv");
    let table = crate::data::csv::load(
        &crate::data::csv::Source::from_arg(path),
        &crate::data::csv::CsvOptions::default(),
    )
    .unwrap();
    let source = Source::loaded(
        "faithful".into(),
        Origin::Default,
        table.columns,
        table.data,
    );
    let mut settings = RunSettings::new(2);
    settings.init = InitMethod::Random;
    settings.config.covariance = CovarianceType::Tied;
    let (mut app, mut worker) = started(source, settings);
    for _ in 0..50 {
        if app.finished() {
            break;
        }
        press(&mut app, &mut worker, Key::Char('n'));
    }
    assert!(app.finished());
    assert!(!app.converged());
    assert!(matches!(app.stop_reason(), Some(StopReason::Saddle { .. })));
    let message = &app.messages().last().unwrap().text;
    assert!(message.contains("saddle"), "{message}");
}

#[test]
fn batches_start_from_kmeans_plus_plus_and_i_changes_their_init() {
    let mut settings = RunSettings::new(2);
    settings.init = InitMethod::Random;
    let (mut app, mut worker) = started(source(), settings);
    let effects = press(&mut app, &mut worker, Key::Char('b'));
    let first = match effects.as_slice() {
        [Effect::StartBatch { id, jobs, .. }] => {
            assert!(
                jobs.iter()
                    .all(|j| j.options.init == Init::Method(InitMethod::KMeansPlusPlus))
            );
            *id
        }
        other => panic!("{other:?}"),
    };
    let effects = press(&mut app, &mut worker, Key::Char('i'));
    match effects.as_slice() {
        [Effect::StartBatch { id, jobs, .. }] => {
            assert_ne!(*id, first);
            assert!(
                jobs.iter()
                    .all(|j| j.options.init == Init::Method(InitMethod::RandomFromData))
            );
        }
        other => panic!("{other:?}"),
    }
    match app.top() {
        Some(Overlay::Batch(view)) => assert_eq!(view.init, InitMethod::RandomFromData),
        other => panic!("{other:?}"),
    }
    // The main run is untouched.
    assert_eq!(app.run().spec.init_label(), "random");
}

// ----- ported from the state tests before the reducer -----

#[test]
fn running_follows_the_newest_and_pausing_stops() {
    let (mut app, _) = started(source(), RunSettings::new(2));
    let effects = app.update(Msg::Key(Key::Char(' ')));
    assert!(matches!(effects.as_slice(), [Effect::Worker(Command::Run)]));
    assert_eq!(app.mode(), Mode::Running);
    let params = app.view().params.clone().unwrap();
    app.update(Msg::Worker(WorkerEvent::Snapshot(Snapshot {
        run_id: app.run().id,
        iteration: 1,
        params,
        labels: vec![0u16; 60].into(),
        shares: vec![255u8; 60].into(),
        log_likelihood: -10.0,
        converged: false,
        done: false,
        stop: None,
        derivation: None,
        agreement: None,
    })));
    assert_eq!(app.timeline().shown(), 1);
    let effects = app.update(Msg::Key(Key::Char(' ')));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Worker(Command::Pause)]
    ));
    assert_eq!(app.mode(), Mode::Paused);
}

#[test]
fn changing_k_restarts_within_bounds() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "]");
    assert_eq!(app.run().spec.k, 3);
    assert_eq!(app.view().params.as_ref().unwrap().k(), 3);
    keys(&mut app, &mut worker, "[[");
    assert_eq!(app.run().spec.k, 1);
    let id = app.run().id;
    assert!(app.update(Msg::Key(Key::Char('['))).is_empty());
    assert_eq!((app.run().spec.k, app.run().id), (1, id));
    assert!(app.note().is_some());
}

#[test]
fn init_cycle_includes_given_parameters() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    let labels: Vec<&str> = (0..3)
        .map(|_| {
            press(&mut app, &mut worker, Key::Char('i'));
            app.run().spec.init_label()
        })
        .collect();
    assert_eq!(labels, ["random-from-data", "random", "kmeans++"]);
    let params = Mixture::from_params(&MixtureParams {
        weights: vec![1.0, 1.0],
        means: vec![vec![0.0, 0.0], vec![5.0, 0.0]],
        covariances: vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]; 2],
    })
    .unwrap();
    let mut settings = RunSettings::new(2);
    settings.init_params = Some(Arc::new(params));
    settings.init = InitMethod::Random;
    let (mut app, _) = started(source(), settings);
    let effects = app.update(Msg::Key(Key::Char('i')));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Worker(Command::Start(RunRequest {
            init: Init::Params(_),
            ..
        }))]
    ));
    assert_eq!(app.run().spec.init_label(), "init-params");
}

#[test]
fn failures_pause_and_block_running() {
    let (mut app, _) = started(source(), RunSettings::new(2));
    app.update(Msg::Key(Key::Char(' ')));
    let run_id = app.run().id;
    app.update(Msg::Worker(WorkerEvent::Failed {
        run_id,
        iteration: 4,
        message: "component 2 collapsed".into(),
    }));
    assert_eq!(app.mode(), Mode::Paused);
    assert!(
        app.run()
            .failure
            .as_deref()
            .unwrap()
            .contains("iteration 4")
    );
    assert!(app.update(Msg::Key(Key::Char(' '))).is_empty());
    assert!(app.messages().last().unwrap().text.contains("collapsed"));
}

#[test]
fn dimension_keys_only_for_d_above_two() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "x");
    assert_eq!(app.display().dims, (0, 1));
    let values: Vec<f64> = (0..40).map(|i| (i * 7 % 11) as f64).collect();
    let four = Source::loaded(
        "four".into(),
        Origin::Default,
        (1..=4).map(|j| format!("x{j}")).collect(),
        Dataset::new(4, values).unwrap(),
    );
    let (mut app, mut worker) = started(four, RunSettings::new(2));
    keys(&mut app, &mut worker, "x");
    assert_eq!(app.display().dims, (2, 1));
    keys(&mut app, &mut worker, "y");
    assert_eq!(app.display().dims, (2, 3));
    keys(&mut app, &mut worker, "y");
    assert_eq!(app.display().dims, (2, 0));
}

#[test]
fn speeds_stay_in_range() {
    let (mut app, _) = started(source(), RunSettings::new(2));
    let mut last = None;
    for _ in 0..20 {
        last = app.update(Msg::Key(Key::Char('+'))).pop();
    }
    assert!(matches!(
        last,
        Some(Effect::Worker(Command::SetSpeed(Speed::Unlimited)))
    ));
    for _ in 0..20 {
        last = app.update(Msg::Key(Key::Char('-'))).pop();
    }
    assert!(matches!(
        last,
        Some(Effect::Worker(Command::SetSpeed(Speed::PerSecond(r)))) if r == 1.0
    ));
}

#[test]
fn cancelling_the_editor_leaves_the_run_alone() {
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "ns");
    let run_id = app.run().id;
    press(&mut app, &mut worker, Key::Backspace);
    keys(&mut app, &mut worker, "x");
    assert!(press(&mut app, &mut worker, Key::Esc).is_empty());
    assert!(app.top().is_none());
    assert_eq!(
        (app.run().id, app.source().data.len(), app.timeline().len()),
        (run_id, 500, 2)
    );
}

#[test]
fn an_invalid_edit_cannot_be_applied() {
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "s");
    for _ in 0..3 {
        press(&mut app, &mut worker, Key::Backspace);
    }
    keys(&mut app, &mut worker, "0");
    assert!(press(&mut app, &mut worker, Key::Enter).is_empty());
    match app.top() {
        Some(Overlay::Editor(editor)) => {
            assert!(editor.message.as_deref().unwrap().contains("n must be"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.source().data.len(), 500);
}

#[test]
fn truth_overlay_only_for_simulations() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "t");
    assert!(!app.display().show_truth && app.note().is_some());
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "t");
    assert!(app.display().show_truth);
    assert!(!app.view().references.is_empty());
}

#[test]
fn reg_covar_steps_and_restarts() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "nc");
    assert_eq!(app.run().spec.config.reg_covar, 1e-5);
    assert_eq!((app.timeline().len(), app.run().id), (1, 2));
    keys(&mut app, &mut worker, "ccccc");
    assert_eq!(app.run().spec.config.reg_covar, 0.0);
    keys(&mut app, &mut worker, "c");
    assert_eq!(app.run().spec.config.reg_covar, 1e-6);
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
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "n");
    app.palette = vec![1, 0];
    let before: Vec<(f64, usize)> = (0..2)
        .map(|k| (app.view().params.as_ref().unwrap().mean(k)[0], app.slot(k)))
        .collect();
    keys(&mut app, &mut worker, "r");
    let params = app.view().params.clone().unwrap();
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
fn the_inspector_moves_between_points_by_direction() {
    // A plus sign of points around (0, 0).
    let grid = Source::loaded(
        "grid".into(),
        Origin::Default,
        vec!["a".into(), "b".into()],
        Dataset::new(
            2,
            vec![
                0.0, 0.0, 1.0, 0.0, 2.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0, -2.0,
            ],
        )
        .unwrap(),
    );
    let (mut app, mut worker) = started(grid, RunSettings::new(2));
    let cursor = |app: &App| {
        app.overlays().iter().find_map(|o| match o {
            Overlay::Inspector { cursor } => Some(*cursor),
            _ => None,
        })
    };
    keys(&mut app, &mut worker, "o");
    assert_eq!(cursor(&app), Some(0));
    press(&mut app, &mut worker, Key::Right);
    assert_eq!(cursor(&app), Some(1));
    press(&mut app, &mut worker, Key::Right);
    assert_eq!(cursor(&app), Some(2));
    press(&mut app, &mut worker, Key::Right);
    assert_eq!(cursor(&app), Some(2), "nothing further right");
    press(&mut app, &mut worker, Key::Left);
    press(&mut app, &mut worker, Key::Left);
    press(&mut app, &mut worker, Key::Down);
    assert_eq!(cursor(&app), Some(5));
    press(&mut app, &mut worker, Key::Down);
    assert_eq!(cursor(&app), Some(6));
    // While inspecting, arrows do not step; Esc closes the inspector, not the app.
    assert_eq!(app.timeline().shown(), 0);
    press(&mut app, &mut worker, Key::Esc);
    assert_eq!(cursor(&app), None);
    assert!(!app.quitting());
}

#[test]
fn covariance_types_cycle_and_restart() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    let names: Vec<&str> = (0..4)
        .map(|_| {
            keys(&mut app, &mut worker, "v");
            app.run().spec.config.covariance.name()
        })
        .collect();
    assert_eq!(names, ["diag", "spherical", "tied", "full"]);
    assert_eq!(app.run().id, 5);
}

#[test]
fn a_start_set_by_hand_is_the_run_s_theta_zero() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "a");
    assert_eq!(app.top().map(Overlay::name), Some("start"));
    // The second component: one step right, bigger, turned, more weight.
    press(&mut app, &mut worker, Key::Tab);
    press(&mut app, &mut worker, Key::Right);
    keys(&mut app, &mut worker, "+<]");
    let set = match app.top() {
        Some(Overlay::Start(editor)) => Arc::clone(&editor.mixture),
        other => panic!("{other:?}"),
    };
    // The start is outlined on the data while it is set.
    assert_eq!(app.view().references.len(), 2);
    let before = app.view().params.clone().unwrap();
    assert_ne!(*set, *before);
    assert_eq!(set.mean(0), before.mean(0));
    press(&mut app, &mut worker, Key::Enter);
    assert!(app.top().is_none());
    assert_eq!(app.run().spec.init_label(), "init-params");
    assert_eq!(*app.run().start.clone().unwrap(), *set);
    assert_eq!(app.timeline().shown(), 0);
    // e then offers the same start as an --init-params file.
    keys(&mut app, &mut worker, "e");
    match app.top() {
        Some(Overlay::Reproduce(reproduce)) => {
            assert_eq!(**reproduce.start.as_ref().unwrap(), *set);
            assert!(reproduce.lines[0].contains("--init-params"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_derivation_shows_lambda_as_n_k_over_n_and_the_em_identities() {
    let mut settings = RunSettings::new(2);
    settings.config.reg_covar = 0.0;
    let (mut app, mut worker) = started(simulated(), settings);
    keys(&mut app, &mut worker, "nnnpd");
    let derivation = app.view().derivation.clone().unwrap();
    assert_eq!(derivation.t, 2);
    let n = derivation.n as f64;
    let next = derivation.next.clone().unwrap();
    let totals = derivation.totals.clone().unwrap();
    for (k, total) in totals.iter().enumerate() {
        // λ_k of θ(t+1) is N_k / n, as the panel displays it.
        assert!((total / n - next.weights()[k]).abs() < 1e-12);
        assert_eq!(
            format!("{:.4}", total / n),
            format!("{:.4}", next.weights()[k])
        );
    }
    let (l, q, h) = (
        derivation.log_likelihood,
        derivation.q.unwrap(),
        derivation.entropy.unwrap(),
    );
    assert!((q + h - l).abs() <= 1e-9 * l.abs(), "{q} + {h} vs {l}");
    let bound = derivation.q_next.unwrap() + h;
    let after = derivation.next_log_likelihood.unwrap();
    let slack = 1e-9 * l.abs();
    assert!(
        after >= bound - slack && bound >= l - slack,
        "{after} ≥ {bound} ≥ {l}"
    );
    // Every shown point's responsibilities sum to one.
    for (_, responsibilities) in &derivation.points {
        assert!((responsibilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // Closed again with d; stepping works with it open.
    keys(&mut app, &mut worker, "n");
    assert_eq!(app.view().derivation.as_ref().unwrap().t, 3);
    keys(&mut app, &mut worker, "d");
    assert!(app.view().derivation.is_none());
}

#[test]
fn the_derivation_at_the_newest_iteration_shows_the_m_step_it_will_take() {
    let (mut app, mut worker) = started(simulated(), RunSettings::new(2));
    keys(&mut app, &mut worker, "nnd");
    let derivation = app.view().derivation.clone().unwrap();
    assert_eq!(derivation.t, 2);
    assert_eq!(app.timeline().len(), 3);
    // θ(3) comes from the pass at θ(2) before any pass at it has run.
    assert!(derivation.next_beyond);
    assert!(derivation.next_log_likelihood.is_none());
    let promised = derivation.next.clone().unwrap();
    // n makes θ(3): exactly the parameters the panel showed.
    keys(&mut app, &mut worker, "n");
    assert_eq!(**app.view().params.as_ref().unwrap(), *promised);
    keys(&mut app, &mut worker, "p");
    let derivation = app.view().derivation.clone().unwrap();
    assert_eq!(derivation.t, 2);
    assert!(!derivation.next_beyond);
    assert_eq!(*derivation.next.unwrap(), *promised);
}

#[test]
fn the_bound_view_asks_for_the_shown_iteration_once() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "nn");
    assert!(app.update(Msg::Key(Key::Char('l'))).is_empty());
    let effects = app.update(Msg::Key(Key::Char('l')));
    assert_eq!(app.display().log_view, LogView::Bound);
    match effects.as_slice() {
        [Effect::Worker(Command::Bound { t, .. })] => assert_eq!(*t, 2),
        other => panic!("{other:?}"),
    }
    // Not asked again while it is on its way; asked anew for another iteration.
    assert!(app.update(Msg::Resize).is_empty());
    let effects = app.update(Msg::Key(Key::Char('p')));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Worker(Command::Bound { t: 1, .. })]
    ));
}

#[test]
fn hard_em_restarts_from_the_same_start_and_is_reproducible() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    let soft_start = app.run().start.clone().unwrap();
    keys(&mut app, &mut worker, "H");
    assert!(app.run().spec.config.hard);
    assert_eq!(*app.run().start.clone().unwrap(), *soft_start);
    keys(&mut app, &mut worker, "nne");
    match app.top() {
        Some(Overlay::Reproduce(reproduce)) => {
            assert!(
                reproduce.lines[0].contains("--hard"),
                "{:?}",
                reproduce.lines
            )
        }
        other => panic!("{other:?}"),
    }
    // Hard EM's λ are counts / n.
    let params = app.view().params.clone().unwrap();
    for weight in params.weights() {
        let count = weight * 60.0;
        assert!((count - count.round()).abs() < 1e-9, "{weight}");
    }
    press(&mut app, &mut worker, Key::Esc);
    keys(&mut app, &mut worker, "H");
    assert!(!app.run().spec.config.hard);
}

#[test]
fn the_rate_at_max_speed_is_measured_over_the_last_second() {
    use std::time::{Duration, Instant};
    let mut meter = super::RateMeter::default();
    let start = Instant::now();
    assert_eq!(meter.per_second(), None);
    // 200 iterations 5 ms apart: 200 per second, the oldest beyond a second forgotten.
    for i in 0..400 {
        meter.record(start + Duration::from_millis(5 * i));
    }
    let rate = meter.per_second().unwrap();
    assert!((rate - 200.0).abs() < 1e-6, "{rate}");
    assert!(meter.arrivals.len() <= 201);
    meter.clear();
    assert_eq!(meter.per_second(), None);
    // Slower than one a second (10⁸ points): the last three still give the rate.
    for i in 0..5 {
        meter.record(start + Duration::from_millis(1500 * i));
    }
    let rate = meter.per_second().unwrap();
    assert!((rate - 1.0 / 1.5).abs() < 1e-9, "{rate}");
}

#[test]
fn p_offers_the_shown_view_as_an_svg_figure() {
    let (mut app, mut worker) = started(source(), RunSettings::new(2));
    keys(&mut app, &mut worker, "nnn");
    press(&mut app, &mut worker, Key::Char('P'));
    let Some(Overlay::Prompt(prompt)) = app.top() else {
        panic!("{:?}", app.top());
    };
    let SaveWhat::Figure(figure) = &prompt.what else {
        panic!("{:?}", prompt.what);
    };
    assert_eq!(prompt.path, "mixplore-figure.svg");
    // What the panels show: the drawn points, θ(3) and the trace up to iteration 3.
    assert_eq!(figure.points.len(), 60);
    assert_eq!(figure.trace.len(), 4);
    assert_eq!(&figure.mixture, app.view().params.as_deref().unwrap());
    assert_eq!(figure.axis_names, ("a".to_owned(), "b".to_owned()));
    assert_eq!(figure.colours, vec![app.slot(0), app.slot(1)]);
}
