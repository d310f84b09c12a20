//! The explorer's edge with the terminal and the process: the input thread (keys, with split
//! escape sequences joined again), the signal thread, and suspending to the shell and coming
//! back (Ctrl-Z, `kill -TSTP`, `fg`).
//!
//! Both threads hand what they see to a sink the loop provides (a send on its one inbound
//! channel), so the terminal is only ever touched by the thread that owns it: a signal never
//! restores or suspends the terminal itself, it becomes an event, and the loop calls
//! [`suspend`] or quits. The one exception is a second terminating signal while the first is
//! still unanswered (the loop is stuck): then the signal thread restores the terminal and exits,
//! so a wedged explorer can always be ended without leaving the terminal raw.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ratatui::DefaultTerminal;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{self, Event as TerminalEvent};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::layout::Rect;
use signal_hook::consts::signal::{
    SIGALRM, SIGCONT, SIGHUP, SIGINT, SIGIO, SIGPROF, SIGQUIT, SIGTERM, SIGTSTP, SIGUSR1, SIGUSR2,
    SIGVTALRM, SIGXCPU, SIGXFSZ,
};
use signal_hook::iterator::{Handle, Signals};

use super::input::{EscJoiner, Key};

/// What the input thread reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A key press (escape sequences split in transit already joined).
    Key(Key),
    /// The terminal changed size.
    Resize,
    /// The terminal input failed or closed; nothing more will come.
    Closed,
}

/// What the signal thread reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A signal whose default action ends the process: the loop should quit (restoring the
    /// terminal on the way out). Carries the signal number.
    Terminate(i32),
    /// SIGTSTP from outside (`kill -TSTP`): the loop should call [`suspend`].
    Suspend,
    /// SIGCONT: the process was stopped and continued (after [`suspend`], or after a SIGSTOP
    /// that nobody could catch); the loop should call [`resume`] to take the terminal back
    /// and redraw everything.
    Continued,
}

/// Every signal whose default action ends the process and that a process may catch: each one
/// restores the terminal instead (the explorer exits cleanly, with status 0).
///
/// Not here: SIGKILL and SIGSTOP (cannot be caught); SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
/// SIGSYS and SIGABRT (a fault in this process, or abort after a panic, which ratatui's panic
/// hook already restores from: nothing sane can run after them); SIGPIPE (the Rust runtime
/// ignores it, so a write to a closed pipe is an error that unwinds through the normal exit);
/// and the real-time signals, which nothing sends to a terminal program.
pub const TERMINATING: &[i32] = &[
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU,
    SIGXFSZ, SIGIO,
];

/// Set once a terminating signal has been passed to the loop, so a second one knows the
/// first was not answered.
static TERMINATING_SEEN: AtomicBool = AtomicBool::new(false);

/// Starts the thread that reads the terminal and reports every [`Input`] to `sink`, which
/// returns false once nobody listens (ending the thread).
///
/// An Esc key is held back for up to [`super::input::ESC_TIMEOUT`] in case it is the first
/// byte of an arrow key whose rest arrives separately (see [`EscJoiner`]). The thread blocks
/// in the terminal read, so it ends with the process, not before.
pub fn spawn_input<F>(mut sink: F) -> io::Result<()>
where
    F: FnMut(Input) -> bool + Send + 'static,
{
    std::thread::Builder::new()
        .name("mixplore-input".into())
        .spawn(move || {
            let mut joiner = EscJoiner::new();
            loop {
                let input = match next_input(&mut joiner) {
                    Ok(Some(ReadInput::Keys(keys))) => {
                        if !keys.into_iter().all(|key| sink(Input::Key(key))) {
                            return;
                        }
                        continue;
                    }
                    Ok(Some(ReadInput::Resize)) => Input::Resize,
                    Ok(None) => continue,
                    Err(_) => Input::Closed,
                };
                if !sink(input) || input == Input::Closed {
                    return;
                }
            }
        })?;
    Ok(())
}

/// What one turn of the input thread read.
enum ReadInput {
    /// Keys now decided (possibly none).
    Keys(Vec<Key>),
    /// A resize.
    Resize,
}

/// Waits for the next terminal event, or for held keys to time out.
fn next_input(joiner: &mut EscJoiner) -> io::Result<Option<ReadInput>> {
    if let Some(deadline) = joiner.deadline() {
        let wait = deadline.saturating_duration_since(Instant::now());
        if !event::poll(wait)? {
            return Ok(Some(ReadInput::Keys(joiner.flush(Instant::now()))));
        }
    }
    Ok(match event::read()? {
        TerminalEvent::Key(key) => {
            let keys = Key::from_crossterm(&key)
                .map(|key| joiner.feed(key, Instant::now()))
                .unwrap_or_default();
            Some(ReadInput::Keys(keys))
        }
        TerminalEvent::Resize(..) => Some(ReadInput::Resize),
        _ => None,
    })
}

/// Starts the thread that turns signals into [`Signal`]s for `sink` (which returns false
/// once nobody listens): every signal in [`TERMINATING`], SIGTSTP and SIGCONT. Closing the
/// returned handle ends the thread.
///
/// Catching SIGTSTP means the process no longer stops by itself on `kill -TSTP`: the loop
/// must answer [`Signal::Suspend`] with [`suspend`], which restores the terminal first.
pub fn spawn_signals<F>(mut sink: F) -> io::Result<Handle>
where
    F: FnMut(Signal) -> bool + Send + 'static,
{
    let mut signals = Signals::new(TERMINATING.iter().copied().chain([SIGTSTP, SIGCONT]))?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("mixplore-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let event = match signal {
                    SIGTSTP => Signal::Suspend,
                    SIGCONT => Signal::Continued,
                    other => {
                        if TERMINATING_SEEN.swap(true, Ordering::SeqCst) {
                            // The loop has not answered the first one: end here.
                            let _ = restore();
                            crate::output::remove_partial_files();
                            std::process::exit(128 + other);
                        }
                        Signal::Terminate(other)
                    }
                };
                if !sink(event) {
                    break;
                }
            }
        })?;
    Ok(handle)
}

/// Gives the terminal back to the shell and stops the process, as Ctrl-Z does in a program
/// that is not in raw mode; returns once the process is continued (`fg`), with the explorer
/// back on the alternate screen in raw mode and the next draw repainting everything.
///
/// Call it on the thread that owns the terminal. Where no shell does job control (the process
/// group is orphaned: `ssh host mixplore`, `sh -c mixplore`), nothing could ever continue a
/// stopped explorer, so it does not stop and comes straight back, as the kernel does with a
/// Ctrl-Z typed in such a group.
pub fn suspend(terminal: &mut DefaultTerminal) -> io::Result<()> {
    terminal.show_cursor()?;
    restore()?;
    stop_as_sigtstp()?;
    resume(terminal)
}

/// Stops the process the way SIGTSTP's default action does, returning once it is continued.
///
/// SIGTSTP is caught (by [`spawn_signals`]), so for the moment of the stop its action goes back
/// to the default and the signal is raised at this thread; the handler is put back after. Not
/// SIGSTOP (signal-hook's `emulate_default_handler`): the kernel discards a default-action
/// SIGTSTP for an orphaned process group, where SIGSTOP would stop it for good.
fn stop_as_sigtstp() -> io::Result<()> {
    // SAFETY: sigaction with a zeroed struct whose handler is SIG_DFL, and the previous action
    // saved and restored unchanged, is the documented way to raise a signal with its default
    // action (ncurses does the same on SIGTSTP); raise only signals this thread. A SIGTSTP from
    // outside in that window stops the process too, which is what it asked for: the terminal
    // is already restored.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(SIGTSTP, &default, &mut previous) != 0 {
            return Err(io::Error::last_os_error());
        }
        let raised = libc::raise(SIGTSTP);
        let raise_error = io::Error::last_os_error();
        if libc::sigaction(SIGTSTP, &previous, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        if raised != 0 {
            return Err(raise_error);
        }
    }
    Ok(())
}

/// Takes the terminal back after the process was stopped and continued: raw mode (again,
/// even if crossterm believes it is on: the shell resets the terminal's modes while it has
/// it), the alternate screen, the cursor hidden, and a cleared screen with ratatui's
/// buffers reset so the next draw repaints every cell. Harmless when nothing changed.
pub fn resume(terminal: &mut DefaultTerminal) -> io::Result<()> {
    // crossterm only enters raw mode if it thinks it is not in it; leaving first forces it.
    disable_raw_mode()?;
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, Hide)?;
    terminal.hide_cursor()?;
    // Not `terminal.clear()`: it asks the terminal for the cursor position, and the answer is
    // read by the input thread (blocked in its read), so the query times out after 2 s with
    // an error. `resize` clears the screen and resets the buffers without asking anything.
    let size = terminal.size()?;
    terminal.resize(Rect::new(0, 0, size.width, size.height))
}

/// Puts the terminal back as the shell expects it: raw mode off, the normal screen, the cursor
/// shown.
pub fn restore() -> io::Result<()> {
    // Raw mode first: leaving it matters more than the screen if a write fails.
    disable_raw_mode()?;
    let mut stdout = io::stdout();
    execute!(stdout, LeaveAlternateScreen, Show)?;
    stdout.flush()
}
