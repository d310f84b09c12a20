//! The commands behind the command line. They read and write files and standard streams; the
//! numbers come from the engine ([`crate::em`]) and the data from [`crate::data`].

mod explore;
mod fit;
mod output;
mod select;
mod simulate;

use crate::cli::{Cli, Command};

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
