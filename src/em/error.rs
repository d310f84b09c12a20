//! Errors of the engine. Components are numbered from 1 in every message, as users count them.

use thiserror::Error;

/// Why a set of mixture parameters is not valid.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamError {
    /// No components at all.
    #[error("a mixture needs at least one component")]
    NoComponents,
    /// A component's mean or covariance has the wrong size.
    #[error(
        "component {component}: {what} has {found} entries, expected {expected} (dimension D = {dim})"
    )]
    WrongShape {
        /// 1-based component number.
        component: usize,
        /// Which part has the wrong size ("mean", "covariance row 2", ...).
        what: String,
        /// The size found.
        found: usize,
        /// The size expected.
        expected: usize,
        /// The mixture's dimension.
        dim: usize,
    },
    /// A weight is zero, negative or not finite.
    #[error("component {component}: weight {weight} must be a positive finite number")]
    BadWeight {
        /// 1-based component number.
        component: usize,
        /// The offending weight.
        weight: f64,
    },
    /// A mean or covariance entry is NaN or infinite.
    #[error("component {component}: {what} contains a value that is not finite ({value})")]
    NotFinite {
        /// 1-based component number.
        component: usize,
        /// "mean" or "covariance".
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The covariance is not symmetric.
    #[error(
        "component {component}: covariance is not symmetric (entry [{row}][{col}] = {upper} but [{col}][{row}] = {lower})"
    )]
    NotSymmetric {
        /// 1-based component number.
        component: usize,
        /// 1-based row of the upper entry.
        row: usize,
        /// 1-based column of the upper entry.
        col: usize,
        /// Value above the diagonal.
        upper: f64,
        /// Value below the diagonal.
        lower: f64,
    },
    /// The covariance is not positive definite (its Cholesky factorisation fails).
    #[error(
        "component {component}: covariance is not positive definite (variances must be > 0 and correlations strictly between -1 and 1)"
    )]
    NotPositiveDefinite {
        /// 1-based component number.
        component: usize,
    },
}

/// Why EM cannot start or go on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EmError {
    /// The starting or current parameters are invalid.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// The parameters' dimension differs from the data's.
    #[error("the parameters have dimension {params} but the data have {data} columns")]
    DimensionMismatch {
        /// Dimension of the parameters.
        params: usize,
        /// Dimension of the data.
        data: usize,
    },
    /// Fewer data points than components.
    #[error("{n} data points cannot be fitted with {k} components: use at most {n} components")]
    TooFewPoints {
        /// Number of data points.
        n: usize,
        /// Number of components asked for.
        k: usize,
    },
    /// Fewer distinct data points than components, so an initialisation cannot pick K distinct means.
    #[error(
        "the data have only {distinct} distinct points, fewer than the {k} components asked for: use fewer components"
    )]
    TooFewDistinctPoints {
        /// Number of distinct points.
        distinct: usize,
        /// Number of components asked for.
        k: usize,
    },
    /// A component's total responsibility fell to (almost) nothing.
    #[error(
        "component {component} collapsed at iteration {iteration}: it holds {mass:.3e} of {n} points' responsibility; try fewer components, a larger --reg-covar, or scaling the data"
    )]
    ComponentCollapsed {
        /// 1-based component number.
        component: usize,
        /// The iteration whose M-step failed.
        iteration: usize,
        /// Total responsibility of the component.
        mass: f64,
        /// Number of data points.
        n: usize,
    },
    /// A component's covariance is singular even after adding reg_covar.
    #[error(
        "component {component} became singular at iteration {iteration} (its covariance is not positive definite even with reg_covar = {reg_covar:e}); try a larger --reg-covar, fewer components, or scaling the data"
    )]
    SingularCovariance {
        /// 1-based component number.
        component: usize,
        /// The iteration whose M-step failed.
        iteration: usize,
        /// The regularisation in force.
        reg_covar: f64,
    },
    /// The log-likelihood is not finite (data too extreme for double precision).
    #[error(
        "the log-likelihood is not finite at iteration {iteration}; the data may hold values too large for double precision: try scaling the data"
    )]
    NonFiniteLikelihood {
        /// The iteration at which it happened.
        iteration: usize,
    },
    /// The data's own covariance is singular, so it cannot serve as a starting covariance.
    #[error(
        "the data's covariance is singular (a constant column, or columns that are exact multiples of each other?) and reg_covar = {reg_covar:e} does not fix it: drop such columns or use --reg-covar > 0"
    )]
    SingularData {
        /// The regularisation in force.
        reg_covar: f64,
    },
    /// The data's values are too large or too small for their squares to be doubles.
    #[error("{}", scale_message(*largest))]
    BadScale {
        /// The largest magnitude among the values.
        largest: f64,
    },
    /// A configuration value is out of range.
    #[error("{0}")]
    Config(String),
    /// The fit was cancelled (by [`crate::em::fit_cancellable`]'s flag).
    #[error("cancelled")]
    Cancelled,
}

fn scale_message(largest: f64) -> String {
    if largest > 1.0 {
        format!(
            "the data hold values as large as {largest:e}, whose squares overflow double precision: divide the data by a power of ten (to bring them below 1e150)"
        )
    } else {
        format!(
            "the data's values are at most {largest:e} in size, whose squares underflow to zero in double precision: multiply the data by a power of ten (to bring them above 1e-150)"
        )
    }
}
