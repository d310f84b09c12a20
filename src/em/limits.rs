//! The limits on sizes and counts, in one place for the command line, spec loading, the CSV
//! loader and the explorer, so each says the same thing about the same value. Each limit keeps a
//! request from exhausting memory or running practically for ever (`--n-init 4294967295`,
//! `n = 2000000000` in a spec) and is far above any sensible use. Memory is judged against
//! [`memory_budget`], worked out from the machine's available memory, not a constant. The checks return
//! [`EmError::Config`] with one line naming the option, for exit status 2 at the command line.

use super::error::EmError;
pub use crate::memory::{describe_budget, human_bytes, memory_budget};

/// The most points a sample of dimension `dim` may have: the [`memory_budget`] / ((D+1)·8).
/// At least 1, for any `dim`.
pub fn max_points(dim: usize) -> u64 {
    let per_point = (dim as u64).saturating_add(1).saturating_mul(8);
    (memory_budget() / per_point).max(1)
}

/// The bytes a sample of `n` points in `dim` dimensions takes: n·(D+1)·8, saturating.
pub fn sample_bytes(n: u128, dim: usize) -> u128 {
    n.saturating_mul(dim as u128 + 1).saturating_mul(8)
}

/// Checks that a sample of `n` points in `dim` dimensions is within [`max_points`].
pub fn check_points(n: u128, dim: usize) -> Result<(), EmError> {
    let most = max_points(dim);
    if n > u128::from(most) {
        return Err(EmError::Config(format!(
            "n = {n} points in D = {dim} dimensions would need {} of memory, more than the budget of {}: use at most {most} points",
            human_bytes(sample_bytes(n, dim)),
            describe_budget()
        )));
    }
    Ok(())
}

/// The bytes a fit of K components to n points in D dimensions works in, beyond the data:
/// the n×K responsibilities (and their scratch copy), and for each of the `n_init` runs the
/// parameters it keeps (K means, K covariances of D² entries, K weights).
pub fn fit_bytes(n: usize, dim: usize, k: usize, n_init: usize) -> u128 {
    let (n, dim, k, n_init) = (n as u128, dim as u128, k as u128, n_init as u128);
    let responsibilities = n.saturating_mul(k).saturating_mul(16);
    let parameters = k
        .saturating_mul(
            dim.saturating_mul(dim)
                .saturating_add(dim)
                .saturating_add(1),
        )
        .saturating_mul(8)
        .saturating_mul(n_init.saturating_add(2));
    responsibilities.saturating_add(parameters)
}

/// Checks the working set of a fit ([`fit_bytes`]) with the data (n·D·8) against the
/// [`memory_budget`].
pub fn check_fit(n: usize, dim: usize, k: usize, n_init: usize) -> Result<(), EmError> {
    let data = sample_bytes(n as u128, dim);
    let bytes = fit_bytes(n, dim, k, n_init).saturating_add(data);
    if bytes > u128::from(memory_budget()) {
        return Err(EmError::Config(format!(
            "a fit of K = {k} components to n = {n} points in D = {dim} dimensions with --n-init {n_init} would need {} of memory, more than the budget of {}: use fewer components, columns or initialisations, or a sample of the rows",
            human_bytes(bytes),
            describe_budget()
        )));
    }
    Ok(())
}

/// The most mixture components a fit may have (`--k`, `select --k`): every component costs
/// O(D²) memory and O(n·D²) work per iteration, and beyond a thousand no mixture is readable.
pub const MAX_COMPONENTS: usize = 1000;

/// The most components the explorer draws and its `]` key goes up to: beyond 12 its colours
/// and parameter panels cannot tell components apart.
pub const MAX_DRAWN_COMPONENTS: usize = 12;

/// The most initialisations of one fit (`--n-init`): each is a whole EM run, and a thousand
/// already explores far more starts than a mixture has useful local optima.
pub const MAX_N_INIT: usize = 1000;

/// The most iterations of one run (`--max-iter`): the trace keeps one number per iteration, and
/// a run still moving after a million iterations needs a larger --tol, not more iterations.
pub const MAX_ITERATIONS: usize = 1_000_000;

/// Checks K against 1..=[`MAX_COMPONENTS`].
pub fn check_components(k: usize) -> Result<(), EmError> {
    check_range("--k", "components", k, MAX_COMPONENTS)
}

/// Checks `--n-init` against 1..=[`MAX_N_INIT`].
pub fn check_n_init(n_init: usize) -> Result<(), EmError> {
    check_range("--n-init", "initialisations", n_init, MAX_N_INIT)
}

/// Checks `--max-iter` against 0..=[`MAX_ITERATIONS`] (0 is allowed: θ(0) alone).
pub fn check_max_iter(max_iter: usize) -> Result<(), EmError> {
    if max_iter > MAX_ITERATIONS {
        return Err(EmError::Config(format!(
            "--max-iter must be at most {MAX_ITERATIONS}, got {max_iter}; a run still moving after that many iterations needs a larger --tol"
        )));
    }
    Ok(())
}

fn check_range(option: &str, what: &str, value: usize, most: usize) -> Result<(), EmError> {
    if value == 0 {
        return Err(EmError::Config(format!("{option} must be at least 1")));
    }
    if value > most {
        return Err(EmError::Config(format!(
            "{option} must be at most {most} {what}, got {value}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_follow_the_byte_budget() {
        let budget = memory_budget();
        assert!(budget >= 1);
        assert_eq!(max_points(2), (budget / 24).max(1));
        assert!(check_points(u128::from(max_points(2)), 2).is_ok());
        let beyond = u128::from(max_points(2)) + 1;
        let error = check_points(beyond, 2).unwrap_err().to_string();
        assert!(
            error.contains(&format!("n = {beyond}"))
                && error.contains(&format!("at most {}", max_points(2)))
                && error.contains("available memory"),
            "{error}"
        );
        assert!(check_points(u128::MAX, usize::MAX).is_err());
        assert_eq!(max_points(usize::MAX), 1);
        assert_eq!(sample_bytes(u128::MAX, 3), u128::MAX);
    }

    #[test]
    fn fits_beyond_the_budget_are_refused() {
        assert!(check_fit(272, 2, 2, 10).is_ok());
        let error = check_fit(usize::MAX, 2, 1000, 1000)
            .unwrap_err()
            .to_string();
        assert!(error.contains("fewer components"), "{error}");
        assert_eq!(
            fit_bytes(usize::MAX, usize::MAX, usize::MAX, usize::MAX),
            u128::MAX
        );
    }

    #[test]
    fn counts_are_range_checked() {
        assert!(check_components(1).is_ok() && check_components(MAX_COMPONENTS).is_ok());
        assert!(check_components(0).is_err() && check_components(MAX_COMPONENTS + 1).is_err());
        assert!(check_n_init(MAX_N_INIT).is_ok());
        let error = check_n_init(4_294_967_295).unwrap_err().to_string();
        assert_eq!(
            error,
            "--n-init must be at most 1000 initialisations, got 4294967295"
        );
        assert!(check_max_iter(0).is_ok() && check_max_iter(MAX_ITERATIONS).is_ok());
        assert!(check_max_iter(usize::MAX).is_err());
    }
}
