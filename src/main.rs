//! The `mixplore` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    mixplore::cli::main_with_args(std::env::args_os())
}
