//! The EM engine for Gaussian mixtures with full covariances: any number of components K ≥ 1,
//! any dimension D ≥ 1. It does no I/O and knows nothing of terminals; the CLI and the explorer's
//! worker drive it through [`Em`], one iteration at a time, or through [`fit`] for a whole fit.
//!
//! Besides the log-likelihood, each pass yields what the lecture notes derive EM from: the
//! entropy H(t) of the responsibilities and, from the sufficient statistics, the expected
//! complete-data log-likelihood Q(θ' | θ(t)) for any θ' ([`Em::q_of`], [`StepStats::q_next`],
//! [`fit_with_history`]).
//!
//! Degenerate fits: a component whose total responsibility falls under 10·ε·n, or whose
//! covariance is not positive definite even with `reg_covar`, stops the fit with an error
//! naming the component and suggesting a fix ([`EmError::ComponentCollapsed`],
//! [`EmError::SingularCovariance`]). The engine never re-seeds a component behind the user's back.

mod block;
mod config;
mod dataset;
mod error;
mod evaluate;
mod fit;
mod init;
mod kernel;
pub mod limits;
mod matching;
mod model;
mod pass;
mod saddle;
mod stepper;

pub use config::{CovarianceType, DEFAULT_MAX_ITER, DEFAULT_REG_COVAR, DEFAULT_TOL, EmConfig};
pub use dataset::{Dataset, WeightError, Weights};
pub use error::{EmError, ParamError};
pub use evaluate::{RowScores, icl, map_log_responsibility, score_rows};
pub use fit::{
    FitOptions, FitResult, Init, IterationRecord, agreement_with_labels, assignments,
    component_log_densities, fit, fit_cancellable, fit_with_history, log_likelihood_of,
    most_likely_components, responsibilities_of, run_seed, starting_parameters,
};
pub use init::{InitMethod, initialise};
pub use matching::{adjusted_rand_index, adjusted_rand_index_of_table, assign, match_components};
pub use model::{Mixture, MixtureParams};
pub use saddle::{SADDLE_DISTANCE, bhattacharyya_distance, identical_pair, splits_better};
pub use stepper::{Em, StepStats, StopReason};
