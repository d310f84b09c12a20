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
use std::process::ExitCode;

use clap::Parser;

use crate::text::one_line;
pub use args::*;

/// The built-in default simulation (the two-component 2-D mixture of the lecture notes), compiled
/// in so that `mixplore` works from any directory.
pub const DEFAULT_SPEC: &str = include_str!("../../assets/specs/default.toml");

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Explore(args)) => explore::run(&args),
        Some(Command::Fit(args)) => fit::run(&args),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Select(args)) => select::run(&args),
        Some(Command::Predict(args)) => predict::run_predict(&args),
        Some(Command::Score(args)) => predict::run_score(&args),
        Some(Command::Plot(args)) => plot::run(&args),
        None => explore::run_default(),
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

/// Parses the arguments, runs the command and returns the process's exit status.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if is_broken_pipe(&error) {
                // The reader went away (`| head`): nothing more to say to it.
                return ExitCode::SUCCESS;
            }
            eprintln!("mixplore: error: {}", one_line(&format!("{error:#}")));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Help and version go to standard output with status 0; a usage error becomes one line.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) || error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = error.print();
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
    eprintln!("mixplore: error: {message} (see mixplore --help)");
    ExitCode::from(EXIT_FAILURE)
}
