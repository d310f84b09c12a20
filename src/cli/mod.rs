//! The command line: arguments ([`args`]) and one file per command. Commands read and write
//! files and standard streams; the numbers come from the engine ([`crate::em`]), the data from
//! [`crate::data`], and `explore` hands over to [`crate::explorer`].
//!
//! Every failure, from a usage error to a bad cell in a CSV file, ends the same way: one line on
//! standard error naming where the problem is, and exit status 2.

pub mod args;
mod explore;
mod fit;
mod output;
mod plot;
mod predict;
mod select;
mod simulate;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

use crate::text::one_line;
pub use args::*;

/// The built-in default simulation (the two-component 2-D mixture of the lecture notes), compiled
/// in so that `mixplore` works from any directory.
pub const DEFAULT_SPEC: &str = include_str!("../../assets/specs/default.toml");

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let terminal = cli.terminal;
    if terminal.given() && !matches!(cli.command, None | Some(Command::Explore(_))) {
        anyhow::bail!(
            "--ascii, --unicode and --theme apply to the explorer (mixplore or mixplore explore), not to this command"
        );
    }
    match cli.command {
        Some(Command::Explore(mut args)) => {
            args.terminal = args.terminal.or(terminal);
            explore::run(&args)
        }
        Some(Command::Fit(args)) => fit::run(&args),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Select(args)) => select::run(&args),
        Some(Command::Predict(args)) => predict::run_predict(&args),
        Some(Command::Score(args)) => predict::run_score(&args),
        Some(Command::Plot(args)) => plot::run(&args),
        None => explore::run_default(terminal),
    }
}

/// True when the error is a write to a closed pipe (the reader went away).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `mixplore FILE …` is `mixplore explore FILE …`: a first positional argument that is not a
/// command but names an existing file, or a file by a data or spec extension, gets `explore`
/// put before the arguments (the terminal flags are explore's too).
fn explore_shorthand(mut args: Vec<OsString>) -> Vec<OsString> {
    let mut index = 1;
    while let Some(arg) = args.get(index) {
        let text = arg.to_string_lossy();
        if text == "--theme" {
            index += 2;
            continue;
        }
        if text.starts_with('-') {
            index += 1;
            continue;
        }
        let path = std::path::Path::new(arg);
        let by_extension = crate::data::input::Kind::named(path).is_some()
            || crate::data::input::is_spec_path(path);
        let command = text == "help"
            || <Cli as clap::CommandFactory>::command()
                .get_subcommands()
                .any(|command| command.get_name() == text);
        if !command && (by_extension || path.is_file()) {
            args.insert(1, OsString::from("explore"));
        }
        break;
    }
    args
}

/// Parses the arguments, runs the command and returns the process's exit status.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let stdout_closed = stdout_was_closed();
    let cli = match Cli::try_parse_from(explore_shorthand(
        args.into_iter().map(Into::into).collect(),
    )) {
        Ok(cli) => cli,
        Err(error) if stdout_closed && !error.use_stderr() => return stdout_is_closed(),
        Err(error) => return usage_error(&error),
    };
    let writes_to_stdout = match &cli.command {
        Some(Command::Fit(_) | Command::Select(_)) => true,
        Some(Command::Simulate(args)) => args.out == "-",
        Some(Command::Predict(args)) => args.out == "-",
        // The mean log-likelihood is printed whatever --out says.
        Some(Command::Score(_)) => true,
        Some(Command::Plot(args)) => args.out == "-",
        // The explorer needs a terminal there, and says so.
        Some(Command::Explore(_)) | None => false,
    };
    if stdout_closed && writes_to_stdout {
        return stdout_is_closed();
    }
    if !matches!(cli.command, Some(Command::Explore(_)) | None) {
        // The explorer answers signals itself (restoring the terminal first).
        remove_partial_files_on_signals();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if is_broken_pipe(&error) {
                // The reader went away (`| head`): nothing more to say to it.
                return ExitCode::SUCCESS;
            }
            say(&format!(
                "mixplore: error: {}",
                one_line(&format!("{error:#}"))
            ));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Whether standard output was closed when mixplore started (`>&-`). The Rust runtime reopens a
/// closed standard stream on /dev/null before `main` (so no file opened later can take its
/// number), and every write to it then succeeds unseen: a command that would print must refuse
/// instead of exiting 0 having said nothing. The runtime's /dev/null is open for reading and
/// writing, which a shell's `>/dev/null` is not; that tells the two apart.
fn stdout_was_closed() -> bool {
    use rustix::fs::{OFlags, fstat, major, minor};
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let fd = stdout.as_fd();
    let Ok(flags) = rustix::fs::fcntl_getfl(fd) else {
        return true;
    };
    let is_dev_null = fstat(fd).is_ok_and(|stat| {
        let rdev = stat.st_rdev;
        (stat.st_mode & 0o170000) == 0o020000 && major(rdev) == 1 && minor(rdev) == 3
    });
    is_dev_null && (flags & OFlags::RWMODE) == OFlags::RDWR
}

/// The refusal of a command whose output would go nowhere.
fn stdout_is_closed() -> ExitCode {
    say(
        "mixplore: error: standard output is closed, so nothing could be written to it: redirect it to a file or /dev/null",
    );
    ExitCode::from(EXIT_FAILURE)
}

/// Writes one line to standard error. A closed or full standard error cannot be told anything,
/// so a failure here is ignored rather than a panic (`eprintln!` panics); the exit status still
/// says the command failed.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Starts a thread that, on SIGINT, SIGTERM, SIGHUP or SIGQUIT, removes the temporary file of a
/// write under way ([`crate::output::remove_partial_files`]) and then ends the process as the
/// signal would have (its default action), so the exit status still tells of the signal.
fn remove_partial_files_on_signals() {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
    else {
        // Without the thread a signal ends the process as before, only leaving a partial file.
        return;
    };
    let _ = std::thread::Builder::new()
        .name("mixplore-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                crate::output::remove_partial_files();
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
}

/// Help and version go to standard output with status 0; a usage error becomes one line.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) || error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        // Help that cannot be written (`--help > /dev/full`) is a failure, not a success.
        let printed = error.print().and_then(|()| std::io::stdout().flush());
        if printed.is_err() {
            return ExitCode::from(EXIT_FAILURE);
        }
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(EXIT_FAILURE)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = error.render().to_string();
    // Clap's message runs until the usage block; keep that part, on one line.
    let message: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:"))
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("tip:")
                && !line.starts_with("For more information")
        })
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    say(&format!("mixplore: error: {message} (see mixplore --help)"));
    ExitCode::from(EXIT_FAILURE)
}

#[cfg(test)]
mod tests {
    use super::explore_shorthand;
    use std::ffi::OsString;

    fn words(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_file_first_opens_the_explorer_on_it() {
        let shorthand = |args: &[&str]| explore_shorthand(words(args));
        assert_eq!(
            shorthand(&["mixplore", "data.csv", "--k", "3"]),
            words(&["mixplore", "explore", "data.csv", "--k", "3"])
        );
        assert_eq!(
            shorthand(&["mixplore", "--theme", "light", "spec.TOML"]),
            words(&["mixplore", "explore", "--theme", "light", "spec.TOML"])
        );
        // Commands, flags alone and unknown words are left to clap.
        for args in [
            &["mixplore", "fit", "data.csv", "--k", "2"][..],
            &["mixplore", "--ascii"],
            &["mixplore"],
            &["mixplore", "fti"],
        ] {
            assert_eq!(shorthand(args), words(args));
        }
    }
}
