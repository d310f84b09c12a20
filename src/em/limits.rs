//! The limits on sizes and counts, in one place for the command line, spec loading and the
//! explorer's editor, so each says the same thing about the same value. Each limit keeps a
//! request from exhausting memory or running practically for ever (`--n-init 4294967295`,
//! `n = 2000000000` in a spec) and is far above any sensible use. The checks return
//! [`EmError::Config`] with one line naming the option, for exit status 2 at the command line.

use super::error::EmError;

/// The memory a sample held in memory may take, 4 GiB, counted as n·(D+1)·8 bytes (the points
/// and one label each, as the explorer and `fit` on a spec hold them). Well within a desktop's
/// memory alongside the fit's own working set, and room for 10⁸ points in two dimensions.
pub const MAX_DATA_BYTES: u64 = 4 << 30;

/// The most points a sample of dimension `dim` may have: [`MAX_DATA_BYTES`] / ((D+1)·8)
/// (178 956 970 for D = 2). At least 1, for any `dim`.
pub fn max_points(dim: usize) -> u64 {
    let per_point = (dim as u64).saturating_add(1).saturating_mul(8);
    (MAX_DATA_BYTES / per_point).max(1)
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
            "n = {n} points in D = {dim} dimensions would need {} bytes of memory, more than the limit of 4 GiB: use at most {most} points",
            sample_bytes(n, dim)
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
        assert_eq!(max_points(2), (4u64 << 30) / 24);
        assert_eq!(max_points(2), 178_956_970);
        assert!(check_points(178_956_970, 2).is_ok());
        let error = check_points(2_000_000_000, 2).unwrap_err().to_string();
        assert!(
            error.contains("n = 2000000000") && error.contains("at most 178956970"),
            "{error}"
        );
        assert!(check_points(u128::MAX, usize::MAX).is_err());
        assert_eq!(max_points(usize::MAX), 1);
        assert_eq!(sample_bytes(u128::MAX, 3), u128::MAX);
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
