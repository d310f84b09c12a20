//! Getting data into mixplore: CSV files and simulation from a mixture spec.

pub mod csv;
pub mod simulate;
pub mod spec;
