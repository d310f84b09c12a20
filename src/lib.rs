//! mixplore: explore the Expectation-Maximization algorithm on Gaussian mixture models.
//!
//! The crate is split into rooms that do not reach into each other:
//! - [`em`]: the engine (model, E/M passes, initialisation, errors). No I/O, no terminal.
//! - [`data`]: getting data in and out (CSV loading, simulation specs, sampling).
//! - [`cli`]: the command line (`mixplore fit`, `mixplore simulate`) over the two above.

pub mod app;
pub mod batch;
pub mod cli;
mod commands;
pub mod data;
pub mod editor;
pub mod em;
pub mod explorer;
pub mod keys;
pub mod ui;
pub mod worker;
