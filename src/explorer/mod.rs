//! The explorer: its terminal loop (this file), reducer state (`app`), the key table (`keys`),
//! the simulation editor form, the EM worker and background batches, and the panels (`ui`).
//!
//! The loop: one inbound channel carries keys, resizes, signals and the worker's snapshots; the
//! loop drains what is queued, updates the app state, and redraws only when something changed, at most about 30 times a second.
//!
//! The terminal is restored on every way out: normal quit, error, panic (ratatui's hook),
//! and every catchable terminating signal (SIGTERM, SIGHUP from a dropped SSH connection,
//! SIGQUIT, …), which arrive here as events. Ctrl-Z and SIGTSTP suspend to the shell and `fg`
//! brings the explorer back redrawn ([`terminal`] has the input and signal threads and the
//! suspend itself, which runs here, on the thread that owns the terminal).
//!
//! Quitting never waits for the EM worker: a run mid-iteration on a large data set is left
//! to end with the process.

pub mod app;
pub mod batch;
pub mod editor;
pub mod input;
pub mod keys;
pub mod terminal;
pub mod ui;
pub mod worker;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ratatui::DefaultTerminal;

use self::app::{App, RunSettings, SaveOutcome, SaveRequest, SaveWhat, Source};
use self::batch::{Batch, BatchEvent};
use self::input::Key;
use self::terminal::{Input, Signal};
use self::ui::Theme;
use self::worker::{Worker, WorkerEvent};
use crate::data::save::{write_atomically, write_data_csv};

/// The shortest time between two frames (about 30 frames per second).
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// The most events taken in one go before a frame may be drawn, so a flood of snapshots or
/// held keys cannot hold the display back.
const MAX_EVENTS_PER_FRAME: usize = 4096;

/// Everything the loop waits for.
#[derive(Debug)]
pub enum Event {
    /// A key press.
    Key(Key),
    /// The terminal changed size.
    Resize,
    /// The worker reported.
    Worker(WorkerEvent),
    /// A background batch reported a fit.
    Batch(BatchEvent),
    /// A terminating signal (one of [`terminal::TERMINATING`]).
    Signal(i32),
    /// SIGTSTP from outside: suspend to the shell.
    Suspend,
    /// SIGCONT: the process was continued; take the terminal back and redraw.
    Continued,
    /// The terminal input failed (closed).
    InputClosed,
}

/// Refuses terminals the explorer cannot draw on, with a one-line reason.
fn check_terminal() -> anyhow::Result<()> {
    if std::env::var("TERM").is_ok_and(|term| term == "dumb") {
        bail!(
            "the explorer needs a terminal that can move the cursor, and TERM=dumb cannot: run it in a full terminal, or use `mixplore fit` for plain text output"
        );
    }
    if !std::io::stdout().is_terminal() {
        bail!(
            "standard output is not a terminal, so the explorer cannot draw: run it in a terminal, or use `mixplore fit` for output to a file or pipe"
        );
    }
    Ok(())
}

/// Opens the explorer on `source` and runs until the user quits.
pub fn run(source: Source, settings: RunSettings) -> anyhow::Result<()> {
    check_terminal()?;
    let (sender, inbox) = mpsc::channel::<Event>();

    let to_loop = sender.clone();
    let signal_handle = terminal::spawn_signals(move |signal| {
        let event = match signal {
            Signal::Terminate(number) => Event::Signal(number),
            Signal::Suspend => Event::Suspend,
            Signal::Continued => Event::Continued,
        };
        to_loop.send(event).is_ok()
    })
    .context("cannot watch for signals")?;

    let to_loop = sender.clone();
    let worker = Worker::spawn(move |event| to_loop.send(Event::Worker(event)).is_ok())
        .context("cannot start the EM thread")?;

    let sender_for_batches = sender.clone();
    let to_loop = sender;
    terminal::spawn_input(move |input| {
        let event = match input {
            Input::Key(key) => Event::Key(key),
            Input::Resize => Event::Resize,
            Input::Closed => Event::InputClosed,
        };
        to_loop.send(event).is_ok()
    })
    .context("cannot start the input thread")?;

    let (mut app, commands) = App::new(source, settings);
    app.presets = editor::presets();
    for command in commands {
        worker.send(command);
    }
    let theme = Theme::from_env();
    let result = ratatui::run(|terminal| {
        event_loop(
            terminal,
            &inbox,
            &sender_for_batches,
            &mut app,
            &worker,
            &theme,
        )
    });
    signal_handle.close();
    // Not joined: a worker mid-iteration on a large data set would hold the exit up; it ends
    // with the process.
    worker.detach();
    result
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    inbox: &Receiver<Event>,
    sender: &Sender<Event>,
    app: &mut App,
    worker: &Worker,
    theme: &Theme,
) -> anyhow::Result<()> {
    let mut dirty = true;
    // The running batch, if any; dropping it cancels the fits it has not started.
    let mut batch: Option<Batch> = None;
    let mut last_draw: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let due = last_draw.map_or(now, |at| at + FRAME_INTERVAL);
        if dirty && now >= due {
            terminal
                .draw(|frame| ui::draw(frame, app, theme))
                .context("cannot draw on the terminal")?;
            dirty = false;
            last_draw = Some(Instant::now());
        }
        // Paused and unchanged: sleep until something arrives (no busy loop).
        let first = if dirty {
            match inbox.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(event) => Some(event),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        } else {
            match inbox.recv() {
                Ok(event) => Some(event),
                Err(_) => return Ok(()),
            }
        };
        let pending = first
            .into_iter()
            .chain(inbox.try_iter().take(MAX_EVENTS_PER_FRAME));
        for event in pending {
            // Suspending needs the terminal, so it is handled here. Ctrl-Z is mapped directly
            // (in raw mode the terminal sends it as a key, not as SIGTSTP) until the reducer
            // emits its own suspend effect for it.
            match event {
                Event::Key(Key::Ctrl('z')) | Event::Suspend => {
                    terminal::suspend(terminal).context("cannot suspend the explorer")?;
                    dirty = true;
                    continue;
                }
                Event::Continued => {
                    terminal::resume(terminal).context("cannot take the terminal back")?;
                    dirty = true;
                    continue;
                }
                _ => {}
            }
            dirty |= apply(event, app, worker);
            if app.should_quit {
                return Ok(());
            }
        }
        if let Some((id, jobs)) = app.take_batch_request() {
            let to_loop = sender.clone();
            batch = Batch::spawn(id, Arc::clone(&app.source.data), jobs, move |event| {
                to_loop.send(Event::Batch(event)).is_ok()
            })
            .ok();
        }
        if app.batch.is_none() && batch.is_some() {
            // The panel closed: cancel what has not run.
            drop(batch.take());
        }
    }
}

/// Applies one event; returns whether the screen must change.
fn apply(event: Event, app: &mut App, worker: &Worker) -> bool {
    match event {
        Event::Key(key) => {
            for command in app.on_key(&key.to_crossterm()) {
                worker.send(command);
            }
            if let Some(request) = app.take_save_request() {
                let outcome = save(&request, &app.source);
                app.save_finished(&request, outcome);
            }
            true
        }
        Event::Resize => true,
        Event::Worker(event) => app.on_worker(event),
        Event::Batch(event) => app.on_batch(event),
        // Handled in the loop, which owns the terminal.
        Event::Suspend | Event::Continued => false,
        Event::Signal(_) | Event::InputClosed => {
            app.should_quit = true;
            true
        }
    }
}

/// Carries out a save the app asked for; an existing file is only replaced once confirmed.
fn save(request: &SaveRequest, source: &Source) -> SaveOutcome {
    if !request.overwrite && request.path.exists() {
        return SaveOutcome::Exists;
    }
    let written = write_atomically(&request.path, |out| match &request.what {
        SaveWhat::Spec(spec) => std::io::Write::write_all(out, spec.to_toml().as_bytes()),
        SaveWhat::Data => write_data_csv(
            out,
            &source.data,
            &source.columns,
            source.simulation.as_ref().map(|s| s.labels.as_slice()),
        ),
    });
    match written {
        Ok(()) => SaveOutcome::Saved,
        Err(error) => SaveOutcome::Failed(crate::text::one_line(&format!("{error:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::spec::parse_toml;

    #[test]
    fn saves_write_specs_and_data_and_never_overwrite_unasked() {
        let spec = parse_toml(include_str!("../../assets/specs/bimodal-1d.toml"), "b").unwrap();
        let source = Source::simulated(spec.clone(), "b");
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("spec.toml");
        let request = SaveRequest {
            path: spec_path.clone(),
            what: SaveWhat::Spec(spec.clone()),
            overwrite: false,
        };
        assert_eq!(save(&request, &source), SaveOutcome::Saved);
        let back = parse_toml(&std::fs::read_to_string(&spec_path).unwrap(), "spec").unwrap();
        assert_eq!(back, spec);
        assert_eq!(save(&request, &source), SaveOutcome::Exists);
        let overwrite = SaveRequest {
            overwrite: true,
            ..request
        };
        assert_eq!(save(&overwrite, &source), SaveOutcome::Saved);

        let data_path = dir.path().join("data.csv");
        let request = SaveRequest {
            path: data_path.clone(),
            what: SaveWhat::Data,
            overwrite: false,
        };
        assert_eq!(save(&request, &source), SaveOutcome::Saved);
        let text = std::fs::read_to_string(&data_path).unwrap();
        assert!(text.starts_with("x1,component\n"));
        assert_eq!(text.lines().count(), spec.n + 1);

        let missing = SaveRequest {
            path: dir.path().join("no/such/dir/x.csv"),
            what: SaveWhat::Data,
            overwrite: false,
        };
        match save(&missing, &source) {
            SaveOutcome::Failed(reason) => assert!(reason.contains("cannot write"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
