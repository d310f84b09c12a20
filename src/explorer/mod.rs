//! The explorer: its terminal loop (this file), reducer state (`app`), the key table (`keys`),
//! the simulation editor form, the EM worker and background batches, and the panels (`ui`).
//!
//! The loop: one inbound channel carries keys, resizes, signals, the worker's snapshots and the
//! results of background batches, saves and simulations; the loop drains what is queued, hands
//! each to the reducer ([`app::App::update`]), carries out the effects it returns, and redraws
//! only when something changed, at most about 30 times a second.
//!
//! The terminal is restored on every way out: normal quit, error, panic (ratatui's hook),
//! and every catchable terminating signal (SIGTERM, SIGHUP from a dropped SSH connection,
//! SIGQUIT, …), which arrive here as events. Ctrl-Z and SIGTSTP suspend to the shell and `fg`
//! brings the explorer back redrawn ([`terminal`] has the input and signal threads and the
//! suspend itself, which runs here, on the thread that owns the terminal).
//!
//! Quitting never waits for the EM worker: a run mid-iteration on a large data set is left
//! to end with the process.

pub mod action;
pub mod app;
pub mod batch;
pub mod capabilities;
pub mod editor;
pub mod input;
pub mod keys;
pub mod terminal;
pub mod ui;
pub mod worker;

use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ratatui::DefaultTerminal;

use self::app::{
    App, Effect, Msg, Origin, RunSettings, SaveOutcome, SaveRequest, SaveWhat, Source,
};
use self::batch::{Batch, BatchEvent};
use self::input::Key;
use self::terminal::{Input, Signal};
use self::ui::Theme;
use self::worker::{Worker, WorkerEvent};
use crate::data::save::write_data_csv;

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
    /// A background save finished.
    Saved(SaveRequest, SaveOutcome),
    /// A background simulation reported how far it is.
    SimulationProgress(u64, f64),
    /// A background simulation finished.
    Simulated(u64, Result<Box<Source>, String>),
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

/// Opens the explorer on `source` and runs until the user quits; `overrides` are the command
/// line's choices of glyphs and background over what the environment says.
pub fn run(
    source: Source,
    settings: RunSettings,
    overrides: capabilities::Overrides,
) -> anyhow::Result<()> {
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

    let (mut app, effects) = App::new(source, settings);
    let theme = Theme::new(capabilities::Capabilities::from_env(overrides));
    let mut executor = Executor {
        worker,
        batch: None,
        sender: sender_for_batches,
    };
    let result = ratatui::run(|terminal| {
        for effect in effects {
            if let Flow::Quit = executor.run(effect, terminal, &app)? {
                return Ok(());
            }
        }
        event_loop(terminal, &inbox, &mut app, &mut executor, &theme)
    });
    signal_handle.close();
    // A save still under way ends with the process: its temporary file must not stay behind.
    crate::output::remove_partial_files();
    // Quitting never waits for the EM thread: it may be in the middle of a long iteration.
    executor.worker.detach();
    result
}

/// Whether the loop goes on.
enum Flow {
    Continue,
    Quit,
}

/// Carries out the reducer's effects: the worker, the running batch, background saves and
/// simulations, suspend and quit.
struct Executor {
    worker: Worker,
    /// The running batch, if any; dropping it cancels it.
    batch: Option<Batch>,
    sender: Sender<Event>,
}

impl Executor {
    fn run(
        &mut self,
        effect: Effect,
        terminal: &mut DefaultTerminal,
        app: &App,
    ) -> anyhow::Result<Flow> {
        match effect {
            Effect::Worker(command) => self.worker.send(command),
            Effect::StartBatch { id, data, jobs } => {
                let to_loop = self.sender.clone();
                self.batch = Batch::spawn(id, data, jobs, move |event| {
                    to_loop.send(Event::Batch(event)).is_ok()
                })
                .ok();
            }
            Effect::CancelBatch => self.batch = None,
            Effect::Simulate { id, spec } => {
                let to_loop = self.sender.clone();
                let spawned = std::thread::Builder::new()
                    .name("mixplore-simulate".into())
                    .spawn(move || {
                        let name = spec
                            .name
                            .clone()
                            .unwrap_or_else(|| "edited simulation".into());
                        let progress = to_loop.clone();
                        // A report per percent at most, so the channel is not flooded.
                        let mut reported = 0.0;
                        let drawn = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            Source::simulated_with_progress(*spec, name, Origin::Edited, |done| {
                                if done - reported >= 0.01 {
                                    reported = done;
                                    let _ = progress.send(Event::SimulationProgress(id, done));
                                }
                            })
                        }))
                        .map(Box::new)
                        .map_err(|_| "internal error while sampling".to_owned());
                        let _ = to_loop.send(Event::Simulated(id, drawn));
                    });
                if let Err(error) = spawned {
                    let _ = self.sender.send(Event::Simulated(
                        id,
                        Err(format!("cannot start a thread: {error}")),
                    ));
                }
            }
            Effect::Save(request) => {
                let to_loop = self.sender.clone();
                let source = app.source().clone();
                let spawned = std::thread::Builder::new()
                    .name("mixplore-save".into())
                    .spawn(move || {
                        let outcome = save(&request, &source);
                        let _ = to_loop.send(Event::Saved(request, outcome));
                    });
                if let Err(error) = spawned {
                    bail!("cannot start a thread to save: {error}");
                }
            }
            Effect::Suspend => {
                terminal::suspend(terminal).context("cannot suspend the explorer")?
            }
            Effect::Quit => return Ok(Flow::Quit),
        }
        Ok(Flow::Continue)
    }
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    inbox: &Receiver<Event>,
    app: &mut App,
    executor: &mut Executor,
    theme: &Theme,
) -> anyhow::Result<()> {
    let mut dirty = true;
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
            let msg = match event {
                Event::Key(key) => Msg::Key(key),
                // Suspending needs the terminal, so it is handled here.
                Event::Suspend => {
                    terminal::suspend(terminal).context("cannot suspend the explorer")?;
                    dirty = true;
                    continue;
                }
                Event::Continued => {
                    terminal::resume(terminal).context("cannot take the terminal back")?;
                    dirty = true;
                    continue;
                }
                Event::Resize => Msg::Resize,
                Event::Worker(event) => Msg::Worker(event),
                Event::Batch(event) => Msg::Batch(event),
                Event::Saved(request, outcome) => Msg::Saved { request, outcome },
                Event::SimulationProgress(id, done) => Msg::SimulationProgress { id, done },
                Event::Simulated(id, source) => Msg::Simulated { id, source },
                Event::Signal(_) | Event::InputClosed => return Ok(()),
            };
            dirty = true;
            for effect in app.update(msg) {
                if let Flow::Quit = executor.run(effect, terminal, app)? {
                    return Ok(());
                }
            }
        }
    }
}

/// Carries out a save through [`crate::output`]; anything already at the path (a dangling link
/// included) is only replaced once confirmed.
fn save(request: &SaveRequest, source: &Source) -> SaveOutcome {
    if !request.overwrite
        && let Some(what) = crate::output::describe_existing(&request.path)
    {
        return SaveOutcome::Exists(what);
    }
    let written = crate::output::write_output(&request.path, |out| match &request.what {
        SaveWhat::Spec(spec) => out.write_all(spec.to_toml().as_bytes()),
        SaveWhat::Data => write_data_csv(
            out,
            &source.data,
            &source.columns,
            source
                .simulation
                .as_ref()
                .and(source.truth.as_ref())
                .map(|t| t.labels.as_slice()),
        ),
        SaveWhat::Start(mixture) => {
            let text = serde_json::to_string_pretty(&mixture.to_params())
                .map_err(std::io::Error::other)?;
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")
        }
        SaveWhat::Figure(figure) => {
            let svg = crate::figure::render_svg(figure).map_err(std::io::Error::other)?;
            std::io::Write::write_all(out, svg.as_bytes())
        }
    });
    match written {
        Ok(path) => SaveOutcome::Saved(path),
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
        let source = Source::simulated(spec.clone(), "b", Origin::Default);
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("spec.toml");
        let request = SaveRequest {
            path: spec_path.clone(),
            what: SaveWhat::Spec(spec.clone()),
            overwrite: false,
        };
        assert_eq!(
            save(&request, &source),
            SaveOutcome::Saved(spec_path.clone())
        );
        let back = parse_toml(&std::fs::read_to_string(&spec_path).unwrap(), "spec").unwrap();
        assert_eq!(back, spec);
        assert_eq!(
            save(&request, &source),
            SaveOutcome::Exists("a file".into())
        );
        let overwrite = SaveRequest {
            overwrite: true,
            ..request
        };
        assert_eq!(save(&overwrite, &source), SaveOutcome::Saved(spec_path));

        let data_path = dir.path().join("data.csv");
        let request = SaveRequest {
            path: data_path.clone(),
            what: SaveWhat::Data,
            overwrite: false,
        };
        assert_eq!(
            save(&request, &source),
            SaveOutcome::Saved(data_path.clone())
        );
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
