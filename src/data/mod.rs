//! Getting data in and out of mixplore: CSV files, simulation from a mixture spec, saving, and
//! model files.

pub mod csv;
pub mod model;
pub mod save;
pub mod simulate;
pub mod spec;
