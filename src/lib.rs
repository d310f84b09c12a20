//! mixplore: explore the Expectation-Maximization algorithm on Gaussian mixture models.
//!
//! The crate is split into rooms; every dependency points down this list:
//! - [`cli`]: the command line (`mixplore fit`, `simulate`, `select`, `explore`).
//! - [`explorer`]: the terminal explorer (event loop, reducer state, keys, worker, panels).
//! - [`figure`]: SVG figures of a fit (for `mixplore plot` and the explorer's `P`). No terminal.
//! - [`data`]: getting data in and out (CSV loading, simulation specs, sampling, writing files).
//! - [`em`]: the engine (model, E/M passes, initialisation, errors). No I/O, no terminal.
//! - [`memory`]: the memory budget, from the machine's available memory.
//! - [`output`]: writing files (atomic replacement, devices, links, same-file checks).
//! - [`text`]: small text helpers any room may use.

pub mod cli;
pub mod data;
pub mod em;
pub mod explorer;
pub mod figure;
pub mod memory;
pub mod output;
pub mod text;
