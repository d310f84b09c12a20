//! Getting data in and out of mixplore: CSV, Parquet, Arrow and NumPy files, simulation from a mixture spec, saving, and
//! model files.

pub mod columnar;
pub mod csv;
pub mod input;
pub mod model;
pub mod npy;
mod plain_csv;
pub mod save;
pub mod simulate;
pub mod spec;
