//! The EM engine for Gaussian mixtures with full covariances: any number of components K ≥ 1,
//! any dimension D ≥ 1. It does no I/O and knows nothing of terminals; the CLI and the explorer's
//! worker drive it through [`Em`], one iteration at a time.

mod dataset;
mod error;
mod model;

pub use dataset::Dataset;
pub use error::{EmError, ParamError};
pub use model::{Mixture, MixtureParams};
