//! Getting data in and out of mixplore: CSV files, simulation from a mixture spec, saving.

pub mod csv;
pub mod save;
pub mod simulate;
pub mod spec;
