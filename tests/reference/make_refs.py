#!/usr/bin/env python3
# Regenerates tests/reference/sklearn_refs.json and tests/reference/<case>.init.json:
# scikit-learn GaussianMixture (covariance_type='full') reference runs that the Rust
# tests compare mixplore's EM against; and tests/reference/sklearn_covariance_types.json:
# the same kind of runs for covariance_type in full / diag / spherical / tied (cases
# faithful_k2 and iris_k3), plus a model-selection table (BIC / AIC over type x K) for
# Old Faithful.
#
# Generated with: scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1 (Python 3.11.7).
# Pinned in tests/reference/requirements.txt. Regenerate with
#     pip install -r tests/reference/requirements.txt && python3 tests/reference/make_refs.py
# (works from any working directory; paths are resolved relative to this file).
#
# Iteration alignment (the same as mixplore's): theta(0) is the initial parameters;
# iteration t = 1, 2, ... is an E-step at theta(t-1) followed by an M-step giving
# theta(t). trace[t] is the TOTAL log-likelihood sum_i log sum_k w_k N(x_i; mu_k, S_k)
# at theta(t), for t = 0..=T. scikit-learn's lower_bound_ belongs to the parameters
# BEFORE the M-step of its iteration, so it is not used here: each trace value is
# gm.score(X) * n evaluated after the M-step, and cross-checked independently.
#
# reg_covar = 0 and tol = 0, so exactly T iterations run (sklearn stops only when
# |change| < tol, which can never hold for tol = 0).

import csv
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT_JSON = os.path.join(HERE, "sklearn_refs.json")
REL_OUT_JSON = "tests/reference/sklearn_refs.json"
OUT_JSON_TYPES = os.path.join(HERE, "sklearn_covariance_types.json")
REL_OUT_JSON_TYPES = "tests/reference/sklearn_covariance_types.json"

CHECKPOINTS = (1, 2, 5, 10)  # plus T

SEMANTICS = (
    "theta(0) = init; iteration t = E-step at theta(t-1) then M-step giving theta(t); "
    "trace[t] = total log-likelihood sum_i log sum_k w_k N(x_i; mu_k, Sigma_k) at theta(t), "
    "t = 0..=T; checkpoints and final hold theta(t); reg_covar = 0, tol = 0 (exactly T iterations)"
)


# ---------------------------------------------------------------------------
# Data


def read_csv(rel_path, columns):
    """Read the named numeric columns of a CSV with one header row (float64, n x d)."""
    with open(os.path.join(REPO, rel_path), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    idx = [header.index(c) for c in columns]
    return np.array([[float(r[i]) for i in idx] for r in body], dtype=np.float64)


# ---------------------------------------------------------------------------
# Cases: explicit starting parameters theta(0)


def case_faithful():
    cols = ["eruptions", "waiting"]
    X = read_csv("assets/datasets/faithful.csv", cols)
    init = {
        "weights": [0.5, 0.5],
        "means": [[2.0, 55.0], [4.5, 80.0]],
        "covariances": [[[0.5, 0.0], [0.0, 40.0]], [[0.5, 0.0], [0.0, 40.0]]],
    }
    return "faithful_k2", "assets/datasets/faithful.csv", cols, X, 2, 50, init


def case_iris():
    cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X = read_csv("assets/datasets/iris.csv", cols)
    # Means: rows 1, 51, 101 of the file (0-based 0, 50, 100), one per species.
    # Covariances: the full-data covariance, divided by n (np.cov bias=True), for each
    # component. The exact doubles are written to the JSON / init file.
    full_cov = np.cov(X, rowvar=False, bias=True).tolist()
    init = {
        "weights": [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
        "means": [X[0].tolist(), X[50].tolist(), X[100].tolist()],
        "covariances": [full_cov, full_cov, full_cov],
    }
    return "iris_k3", "assets/datasets/iris.csv", cols, X, 3, 100, init


def case_galaxies():
    cols = ["velocity"]
    X = read_csv("assets/datasets/galaxies.csv", cols)
    init = {
        "weights": [0.1, 0.8, 0.1],
        "means": [[10000.0], [21000.0], [33000.0]],
        "covariances": [[[1.0e6]], [[4.0e6]], [[1.0e6]]],
    }
    return "galaxies_k3", "assets/datasets/galaxies.csv", cols, X, 3, 100, init


# ---------------------------------------------------------------------------
# Independent (non-sklearn) computations


def loglik_scipy(X, w, mu, cov):
    """Total log-likelihood via scipy.stats.multivariate_normal + logsumexp."""
    comp = np.column_stack(
        [
            np.log(w[k]) + multivariate_normal(mean=mu[k], cov=cov[k]).logpdf(X).reshape(-1)
            for k in range(len(w))
        ]
    )
    return float(np.sum(logsumexp(comp, axis=1)))


def log_weighted_numpy(X, w, mu, cov):
    """n x K matrix log w_k + log N(x_i; mu_k, cov_k), numpy only (solve + slogdet)."""
    n, d = X.shape
    out = np.empty((n, len(w)))
    for k in range(len(w)):
        diff = X - mu[k]
        sign, logdet = np.linalg.slogdet(cov[k])
        assert sign > 0, "covariance not positive definite"
        maha = np.einsum("ij,ij->i", diff, np.linalg.solve(cov[k], diff.T).T)
        out[:, k] = math.log(w[k]) - 0.5 * (d * math.log(2.0 * math.pi) + logdet + maha)
    return out


def loglik_numpy(X, w, mu, cov):
    lw = log_weighted_numpy(X, w, mu, cov)
    m = lw.max(axis=1, keepdims=True)
    return float(np.sum(m[:, 0] + np.log(np.sum(np.exp(lw - m), axis=1))))


def em_step_numpy(X, w, mu, cov):
    """One textbook E+M step (no regularisation), numpy only."""
    lw = log_weighted_numpy(X, w, mu, cov)
    m = lw.max(axis=1, keepdims=True)
    r = np.exp(lw - m)
    r /= r.sum(axis=1, keepdims=True)
    nk = r.sum(axis=0)
    w_new = nk / X.shape[0]
    mu_new = (r.T @ X) / nk[:, None]
    cov_new = np.empty_like(cov)
    for k in range(len(nk)):
        diff = X - mu_new[k]
        cov_new[k] = (r[:, k][:, None] * diff).T @ diff / nk[k]
    return w_new, mu_new, cov_new


def rel_err(a, b):
    """Max elementwise |a - b| / |b| (over entries with b != 0; absolute where b == 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.where(b != 0.0, np.abs(b), 1.0)
    return float(np.max(np.abs(a - b) / scale))


def cov_err(a, b):
    """Covariance error scaled by sqrt(S_ii S_jj) of b (safe for near-zero off-diagonals)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    dg = np.sqrt(np.abs(np.diagonal(b, axis1=-2, axis2=-1)))
    scale = dg[..., :, None] * dg[..., None, :]
    return float(np.max(np.abs(a - b) / scale))


def params_err(p, q):
    """Worst of weights / means (elementwise relative) and covariances (correlation scale)."""
    return max(rel_err(p[0], q[0]), rel_err(p[1], q[1]), cov_err(p[2], q[2]),
               rel_err(p[2], q[2]) if np.all(np.asarray(q[2]) != 0) else 0.0)


# ---------------------------------------------------------------------------
# sklearn runs


def make_gm(k, max_iter, init, warm_start):
    cov = np.array(init["covariances"], dtype=np.float64)
    prec = np.linalg.inv(cov)
    prec = 0.5 * (prec + np.transpose(prec, (0, 2, 1)))  # exact symmetry
    return GaussianMixture(
        n_components=k,
        covariance_type="full",
        reg_covar=0.0,
        tol=0.0,
        max_iter=max_iter,
        n_init=1,
        # All of weights/means/precisions are given, so the init_params method only
        # produces responsibilities that _initialize then discards; 'random_from_data'
        # is just the cheapest (the default 'kmeans' would run a KMeans for nothing).
        init_params="random_from_data",
        random_state=0,
        weights_init=np.array(init["weights"], dtype=np.float64),
        means_init=np.array(init["means"], dtype=np.float64),
        precisions_init=prec,
        warm_start=warm_start,
    )


def params_of(gm):
    return (gm.weights_.copy(), gm.means_.copy(), gm.covariances_.copy())


def as_param_dict(p):
    return {"weights": p[0].tolist(), "means": p[1].tolist(), "covariances": p[2].tolist()}


def run_case(name, rel_file, cols, X, k, T, init):
    n, d = X.shape
    w0 = np.array(init["weights"], dtype=np.float64)
    mu0 = np.array(init["means"], dtype=np.float64)
    cov0 = np.array(init["covariances"], dtype=np.float64)
    theta0 = (w0, mu0, cov0)
    print(f"== {name}: n={n} d={d} k={k} T={T}")

    # --- warm-start loop: one E+M iteration per fit() call -------------------
    gm = make_gm(k, 1, init, warm_start=True)
    thetas = [theta0]
    trace = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for t in range(1, T + 1):
            gm.fit(X)
            assert gm.n_iter_ == 1, gm.n_iter_
            thetas.append(params_of(gm))
            trace.append(gm.score(X) * n)
            # sklearn's lower_bound_ is the mean log-likelihood at theta(t-1) (before
            # this M-step): check that alignment too.
            prev_ll = trace[-2] if t >= 2 else None
            if prev_ll is not None:
                assert abs(gm.lower_bound_ * n - prev_ll) <= 1e-10 * abs(prev_ll), (
                    t, gm.lower_bound_ * n, prev_ll)

    # trace[0] at theta(0), computed without sklearn
    trace.insert(0, loglik_scipy(X, *theta0))
    assert len(trace) == T + 1 and len(thetas) == T + 1

    # --- check theta(0) is what sklearn actually used: first step by hand --------
    hand1 = em_step_numpy(X, *theta0)
    e1 = params_err(hand1, thetas[1])
    print(f"   first step, numpy E+M vs sklearn: max rel err {e1:.3e}")
    assert e1 < 1e-12, e1

    # --- numpy-only EM over the whole run (independent trajectory) -------------
    worst_traj = 0.0
    p = theta0
    for t in range(1, T + 1):
        p = em_step_numpy(X, *p)
        worst_traj = max(worst_traj, params_err(p, thetas[t]))
    print(f"   whole run, numpy EM vs sklearn: max rel err over all t {worst_traj:.3e}")
    assert worst_traj < 1e-9, worst_traj

    # --- trace cross-check: independent log-likelihood at every theta(t) --------
    worst_ll = 0.0
    for t in range(T + 1):
        a = loglik_scipy(X, *thetas[t])
        b = loglik_numpy(X, *thetas[t])
        worst_ll = max(worst_ll, abs(a - trace[t]) / abs(a), abs(b - trace[t]) / abs(b))
    print(f"   trace vs scipy/numpy log-likelihood: max rel err {worst_ll:.3e}")
    assert worst_ll < 1e-10, worst_ll

    # --- cross-check: one plain fit with max_iter=T ---------------------------
    gm_plain = make_gm(k, T, init, warm_start=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm_plain.fit(X)
    assert gm_plain.n_iter_ == T, gm_plain.n_iter_
    e_plain = params_err(params_of(gm_plain), thetas[T])
    print(f"   plain fit(max_iter={T}) vs warm-start loop: max rel err {e_plain:.3e}")
    assert e_plain < 1e-12, e_plain
    # sklearn's per-iteration lower bounds = trace[0..T-1] (before each M-step)
    lb = np.array(gm_plain.lower_bounds_) * n
    e_lb = rel_err(lb, np.array(trace[:T]))
    print(f"   plain fit lower_bounds_*n vs trace[0..T-1]: max rel err {e_lb:.3e}")
    assert e_lb < 1e-10, e_lb

    # --- sanity ----------------------------------------------------------------
    diffs = np.diff(trace)
    min_inc = float(diffs.min())
    # EM never decreases the likelihood; allow rounding noise once converged.
    assert min_inc >= -1e-9 * abs(trace[-1]), min_inc
    worst_asym = 0.0
    for t, th in enumerate(thetas):
        assert abs(float(np.sum(th[0])) - 1.0) < 1e-12, (t, np.sum(th[0]))
        assert np.all(th[0] > 0)
        for c in th[2]:
            # sklearn's (resp * diff.T) @ diff is symmetric only up to rounding
            asym = cov_err(c, c.T)
            worst_asym = max(worst_asym, asym)
            assert asym < 1e-14, (t, asym)
            assert np.all(np.linalg.eigvalsh(c) > 0)
    print(f"   trace: {trace[0]!r} -> {trace[T]!r}; min increment {min_inc:.3e}; "
          f"last increment {diffs[-1]:.3e}; max covariance asymmetry {worst_asym:.1e}")

    # --- sensitivity: how much does a 1e-12 relative nudge of theta(0) move theta(T)?
    # (informational: tells how tight a comparison at theta(T) can reasonably be)
    rng = np.random.default_rng(12345)
    pert = (w0 * (1 + 1e-12 * rng.standard_normal(w0.shape)),
            mu0 * (1 + 1e-12 * rng.standard_normal(mu0.shape)),
            cov0 * (1 + 1e-12))
    pert = (pert[0] / pert[0].sum(), pert[1], pert[2])
    for _ in range(T):
        pert = em_step_numpy(X, *pert)
    sens = params_err(pert, thetas[T])
    print(f"   sensitivity: 1e-12 relative nudge of theta(0) -> {sens:.3e} at theta(T)")

    # --- final ---------------------------------------------------------------
    wT, muT, covT = thetas[T]
    bic, aic = float(gm.bic(X)), float(gm.aic(X))
    p_count = (k - 1) + k * d + k * d * (d + 1) // 2
    assert abs(bic - (-2 * trace[T] + p_count * math.log(n))) <= 1e-10 * abs(bic)
    assert abs(aic - (-2 * trace[T] + 2 * p_count)) <= 1e-10 * abs(aic)
    final = as_param_dict(thetas[T])
    final.update({"log_likelihood": trace[T], "bic": bic, "aic": aic})
    print(f"   final weights {np.round(wT, 6).tolist()}")
    print(f"   final means {np.round(muT, 6).tolist()}")
    print(f"   final LL {trace[T]!r}  BIC {bic!r}  AIC {aic!r}")

    checkpoints = [
        dict(iteration=t, **as_param_dict(thetas[t]))
        for t in sorted(set(CHECKPOINTS + (T,)))
        if t <= T
    ]
    return {
        "name": name,
        "file": rel_file,
        "columns": cols,
        "n": n,
        "d": d,
        "k": k,
        "reg_covar": 0.0,
        "iterations": T,
        "init": init,
        "trace": [float(v) for v in trace],
        "checkpoints": checkpoints,
        "final": final,
    }


# ---------------------------------------------------------------------------
# Second output file: covariance types full / diag / spherical / tied
#
# mixplore takes starting parameters as FULL K x D x D matrices and, for the non-full
# types, uses them only in the E-step of iteration 1. So each type starts from
# covariances that already have that type's structure, derived from the case's full
# start covariances S_k:
#   full      S_k unchanged
#   diag      diag(S_k)                   (off-diagonals 0)
#   spherical mean(diag(S_k)) * I         (per component)
#   tied      (1/K) sum_k S_k             (the same matrix for every k)
# and sklearn gets them as precisions_init in its own shape for the type:
#   full (K, D, D) inverses; diag (K, D) 1/variances; spherical (K,) 1/variance;
#   tied (D, D) inverse of the shared matrix.

COV_TYPES = ("full", "diag", "spherical", "tied")
TYPE_CASES = ((case_faithful, 50), (case_iris, 100))

SEMANTICS_TYPES = (
    SEMANTICS + "; covariance_type as named per case; init.covariances and all "
    "covariances are FULL K x D x D matrices with the type's structure (diag: diagonal "
    "matrices; spherical: variance * I; tied: the same matrix for every component); "
    "final.log_likelihood = trace[T]; final.bic / aic / n_parameters from sklearn at theta(T)"
)

SELECTION_TYPES = ("full", "diag", "spherical", "tied")
SELECTION_KS = (1, 2, 3, 4, 5, 6)
SELECTION_SETTINGS = {
    "n_init": 10,
    "random_state": 0,
    "reg_covar": 1e-6,
    "tol": 1e-3,
    "max_iter": 500,
    "init_params": "kmeans",
}


def component_average(cov):
    """(1/K) sum_k cov[k]. When all components are identical the average is that matrix
    exactly (floating-point summation of K equal terms need not round back to it)."""
    if all(np.array_equal(c, cov[0]) for c in cov[1:]):
        return cov[0].copy()
    return np.mean(cov, axis=0)


def structured_start(cov_type, init):
    """(init dict with FULL matrices of the type's structure, sklearn precisions_init)."""
    cov = np.array(init["covariances"], dtype=np.float64)
    k, d, _ = cov.shape
    if cov_type == "full":
        full = cov
        prec = np.linalg.inv(cov)
        prec = 0.5 * (prec + np.transpose(prec, (0, 2, 1)))  # exactly as make_gm
    elif cov_type == "diag":
        var = np.diagonal(cov, axis1=1, axis2=2).copy()  # (K, D)
        full = np.array([np.diag(v) for v in var])
        prec = 1.0 / var
    elif cov_type == "spherical":
        var = np.array([np.mean(np.diag(c)) for c in cov])  # (K,)
        full = np.array([v * np.eye(d) for v in var])
        prec = 1.0 / var
    elif cov_type == "tied":
        shared = component_average(cov)
        full = np.array([shared] * k)
        prec = np.linalg.inv(shared)
        prec = 0.5 * (prec + prec.T)
    else:
        raise ValueError(cov_type)
    new_init = {"weights": list(init["weights"]), "means": [list(m) for m in init["means"]],
                "covariances": full.tolist()}
    return new_init, prec


def expand_cov(cov_type, c, k, d):
    """sklearn covariances_ of the given type -> K x D x D full matrices."""
    c = np.asarray(c, dtype=np.float64)
    if cov_type == "full":
        assert c.shape == (k, d, d)
        return c.copy()
    if cov_type == "diag":
        assert c.shape == (k, d)
        return np.array([np.diag(v) for v in c])
    if cov_type == "spherical":
        assert c.shape == (k,)
        return np.array([v * np.eye(d) for v in c])
    if cov_type == "tied":
        assert c.shape == (d, d)
        return np.array([c] * k)
    raise ValueError(cov_type)


def n_params_formula(cov_type, k, d):
    cov_params = {"full": k * d * (d + 1) // 2, "diag": k * d, "spherical": k,
                  "tied": d * (d + 1) // 2}[cov_type]
    return (k - 1) + k * d + cov_params


def em_step_numpy_typed(X, w, mu, cov, cov_type):
    """One textbook E+M step (no regularisation), numpy only, for the given type.
    cov is always K x D x D (full matrices); the result is too."""
    n, d = X.shape
    lw = log_weighted_numpy(X, w, mu, cov)
    m = lw.max(axis=1, keepdims=True)
    r = np.exp(lw - m)
    r /= r.sum(axis=1, keepdims=True)
    nk = r.sum(axis=0)
    k = len(nk)
    w_new = nk / n
    mu_new = (r.T @ X) / nk[:, None]
    cov_new = np.zeros((k, d, d))
    if cov_type == "full":
        for j in range(k):
            diff = X - mu_new[j]
            cov_new[j] = (r[:, j][:, None] * diff).T @ diff / nk[j]
    elif cov_type in ("diag", "spherical"):
        for j in range(k):
            var = r[:, j] @ (X - mu_new[j]) ** 2 / nk[j]  # (D,)
            if cov_type == "spherical":
                var = np.full(d, np.mean(var))
            cov_new[j] = np.diag(var)
    elif cov_type == "tied":
        shared = np.zeros((d, d))
        for j in range(k):
            diff = X - mu_new[j]
            shared += (r[:, j][:, None] * diff).T @ diff
        shared /= n
        cov_new[:] = shared
    else:
        raise ValueError(cov_type)
    return w_new, mu_new, cov_new


def make_gm_typed(cov_type, k, max_iter, init, prec, warm_start):
    return GaussianMixture(
        n_components=k,
        covariance_type=cov_type,
        reg_covar=0.0,
        tol=0.0,
        max_iter=max_iter,
        n_init=1,
        init_params="random_from_data",  # discarded: all of weights/means/precisions given
        random_state=0,
        weights_init=np.array(init["weights"], dtype=np.float64),
        means_init=np.array(init["means"], dtype=np.float64),
        precisions_init=prec,
        warm_start=warm_start,
    )


def run_case_typed(cov_type, base_name, rel_file, cols, X, k, T, base_init):
    n, d = X.shape
    name = f"{base_name}_{cov_type}"
    init, prec = structured_start(cov_type, base_init)
    w0 = np.array(init["weights"], dtype=np.float64)
    mu0 = np.array(init["means"], dtype=np.float64)
    cov0 = np.array(init["covariances"], dtype=np.float64)
    theta0 = (w0, mu0, cov0)
    print(f"== {name}: n={n} d={d} k={k} T={T}")
    print(f"   start covariances (diagonals): "
          f"{[np.round(np.diag(c), 6).tolist() for c in cov0]}")

    def typed_params(gm):
        return (gm.weights_.copy(), gm.means_.copy(),
                expand_cov(cov_type, gm.covariances_, k, d))

    # --- warm-start loop: one E+M iteration per fit() call -------------------
    gm = make_gm_typed(cov_type, k, 1, init, prec, warm_start=True)
    thetas = [theta0]
    trace = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for t in range(1, T + 1):
            gm.fit(X)
            assert gm.n_iter_ == 1, gm.n_iter_
            thetas.append(typed_params(gm))
            trace.append(gm.score(X) * n)
            if t >= 2:
                prev_ll = trace[-2]
                assert abs(gm.lower_bound_ * n - prev_ll) <= 1e-10 * abs(prev_ll), (
                    t, gm.lower_bound_ * n, prev_ll)
    trace.insert(0, loglik_scipy(X, *theta0))
    assert len(trace) == T + 1 and len(thetas) == T + 1

    # --- sklearn's first iteration = hand-written numpy E+M for this type --------
    hand1 = em_step_numpy_typed(X, *theta0, cov_type)
    e1 = params_err(hand1, thetas[1])
    print(f"   first step, numpy {cov_type} E+M vs sklearn: max rel err {e1:.3e}")
    assert e1 < 1e-12, e1

    # --- numpy-only EM over the whole run --------------------------------------
    worst_traj = 0.0
    p = theta0
    for t in range(1, T + 1):
        p = em_step_numpy_typed(X, *p, cov_type)
        worst_traj = max(worst_traj, params_err(p, thetas[t]))
    print(f"   whole run, numpy EM vs sklearn: max rel err over all t {worst_traj:.3e}")
    assert worst_traj < 1e-9, worst_traj

    # --- trace cross-check -----------------------------------------------------
    worst_ll = 0.0
    for t in range(T + 1):
        a = loglik_scipy(X, *thetas[t])
        b = loglik_numpy(X, *thetas[t])
        worst_ll = max(worst_ll, abs(a - trace[t]) / abs(a), abs(b - trace[t]) / abs(b))
    print(f"   trace vs scipy/numpy log-likelihood: max rel err {worst_ll:.3e}")
    assert worst_ll < 1e-10, worst_ll

    # --- plain fit(max_iter=T) and its lower_bounds_ ------------------------------
    gm_plain = make_gm_typed(cov_type, k, T, init, prec, warm_start=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm_plain.fit(X)
    assert gm_plain.n_iter_ == T, gm_plain.n_iter_
    e_plain = params_err(typed_params(gm_plain), thetas[T])
    print(f"   plain fit(max_iter={T}) vs warm-start loop: max rel err {e_plain:.3e}")
    assert e_plain < 1e-12, e_plain
    lb = np.array(gm_plain.lower_bounds_) * n
    e_lb = rel_err(lb, np.array(trace[:T]))
    print(f"   plain fit lower_bounds_*n vs trace[0..T-1]: max rel err {e_lb:.3e}")
    assert e_lb < 1e-10, e_lb

    # --- sanity ----------------------------------------------------------------
    diffs = np.diff(trace)
    min_inc = float(diffs.min())
    assert min_inc >= -1e-9 * abs(trace[-1]), min_inc
    min_eig = math.inf
    worst_asym = 0.0
    for t, th in enumerate(thetas):
        assert abs(float(np.sum(th[0])) - 1.0) < 1e-12, (t, np.sum(th[0]))
        assert np.all(th[0] > 0)
        for c in th[2]:
            # sklearn's tied M-step (X^T X - sum_k N_k mu_k mu_k^T) / n cancels and is
            # symmetric only up to a larger rounding error than the full one
            asym = cov_err(c, c.T)
            worst_asym = max(worst_asym, asym)
            assert asym < 1e-12, (t, asym)
            ev = np.linalg.eigvalsh(c)
            assert np.all(ev > 0)
            min_eig = min(min_eig, float(ev.min()))
        if cov_type == "tied":
            assert all(np.array_equal(c, th[2][0]) for c in th[2])
        if cov_type in ("diag", "spherical"):
            for c in th[2]:
                assert np.array_equal(c, np.diag(np.diag(c)))
                if cov_type == "spherical":
                    assert np.all(np.diag(c) == c[0, 0])
    print(f"   trace: {trace[0]!r} -> {trace[T]!r}; min increment {min_inc:.3e}; "
          f"last increment {diffs[-1]:.3e}; smallest covariance eigenvalue {min_eig:.3e}; "
          f"max covariance asymmetry {worst_asym:.1e}")

    # --- final ---------------------------------------------------------------
    wT, muT, covT = thetas[T]
    bic, aic = float(gm.bic(X)), float(gm.aic(X))
    n_par = int(gm._n_parameters())
    assert n_par == n_params_formula(cov_type, k, d), (n_par, cov_type)
    assert abs(bic - (-2 * trace[T] + n_par * math.log(n))) <= 1e-10 * abs(bic)
    assert abs(aic - (-2 * trace[T] + 2 * n_par)) <= 1e-10 * abs(aic)
    final = as_param_dict(thetas[T])
    final.update({"log_likelihood": trace[T], "bic": bic, "aic": aic, "n_parameters": n_par})
    print(f"   final weights {np.round(wT, 6).tolist()}")
    print(f"   final means {np.round(muT, 6).tolist()}")
    print(f"   final LL {trace[T]!r}  BIC {bic!r}  AIC {aic!r}  p {n_par}")

    checkpoints = [
        dict(iteration=t, **as_param_dict(thetas[t]))
        for t in sorted(set(CHECKPOINTS + (T,)))
        if t <= T
    ]
    return {
        "name": name,
        "covariance_type": cov_type,
        "file": rel_file,
        "columns": cols,
        "n": n,
        "d": d,
        "k": k,
        "reg_covar": 0.0,
        "iterations": T,
        "init": init,
        "trace": [float(v) for v in trace],
        "checkpoints": checkpoints,
        "final": final,
    }


def run_selection():
    name, rel_file, cols, X, _, _, _ = case_faithful()
    n, d = X.shape
    print(f"== selection: {rel_file} {cols} n={n}, types {list(SELECTION_TYPES)}, "
          f"K = {list(SELECTION_KS)}, {SELECTION_SETTINGS}")
    results = []
    for cov_type in SELECTION_TYPES:
        for k in SELECTION_KS:
            gm = GaussianMixture(n_components=k, covariance_type=cov_type,
                                 **SELECTION_SETTINGS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gm.fit(X)
            ll = float(gm.score(X) * n)
            bic, aic = float(gm.bic(X)), float(gm.aic(X))
            n_par = int(gm._n_parameters())
            assert n_par == n_params_formula(cov_type, k, d)
            assert abs(bic - (-2 * ll + n_par * math.log(n))) <= 1e-10 * abs(bic)
            assert abs(aic - (-2 * ll + 2 * n_par)) <= 1e-10 * abs(aic)
            # independent log-likelihood at the fitted parameters
            cov = expand_cov(cov_type, gm.covariances_, k, d)
            ll_np = loglik_numpy(X, gm.weights_, gm.means_, cov)
            assert abs(ll_np - ll) <= 1e-10 * abs(ll), (ll_np, ll)
            results.append({
                "covariance_type": cov_type,
                "k": k,
                "bic": bic,
                "aic": aic,
                "log_likelihood": ll,
                "n_parameters": n_par,
                "converged": bool(gm.converged_),
                "n_iter": int(gm.n_iter_),
            })
            print(f"   {cov_type:9s} K={k}: LL {ll:.6f}  BIC {bic:.6f}  AIC {aic:.6f}  "
                  f"p {n_par}  converged {gm.converged_}  n_iter {gm.n_iter_}")
    ranked = sorted(results, key=lambda r: r["bic"])
    best, second = ranked[0], ranked[1]
    print(f"   best by BIC: {best['covariance_type']} K={best['k']} BIC {best['bic']!r}; "
          f"runner-up {second['covariance_type']} K={second['k']} BIC {second['bic']!r} "
          f"(margin {second['bic'] - best['bic']:.6f})")
    best_aic = min(results, key=lambda r: r["aic"])
    print(f"   (best by AIC: {best_aic['covariance_type']} K={best_aic['k']} "
          f"AIC {best_aic['aic']!r})")
    return {
        "file": rel_file,
        "columns": cols,
        "n": n,
        "d": d,
        "covariance_types": list(SELECTION_TYPES),
        "k_values": list(SELECTION_KS),
        "settings": dict(SELECTION_SETTINGS),
        "criterion": "bic = -2*log_likelihood + n_parameters*ln(n), aic = -2*log_likelihood "
                     "+ 2*n_parameters, log_likelihood = score(X)*n (total) at the fitted "
                     "parameters; lower is better",
        "results": results,
        "best": {"covariance_type": best["covariance_type"], "k": best["k"],
                 "bic": best["bic"]},
    }


def build_types_doc(full_cases):
    """full_cases: the sklearn_refs.json cases (for cross-checking the 'full' runs)."""
    by_name = {c["name"]: c for c in full_cases}
    cases = []
    for case_fn, T in TYPE_CASES:
        base_name, rel_file, cols, X, k, _, base_init = case_fn()
        for cov_type in COV_TYPES:
            c = run_case_typed(cov_type, base_name, rel_file, cols, X, k, T, base_init)
            if cov_type == "full" and base_name in by_name:
                ref = by_name[base_name]
                assert ref["iterations"] == T
                assert c["init"] == ref["init"], "full start differs from sklearn_refs.json"
                assert c["trace"] == ref["trace"], "full trace differs from sklearn_refs.json"
                for key in ("weights", "means", "covariances", "log_likelihood", "bic", "aic"):
                    assert c["final"][key] == ref["final"][key], key
                print(f"   identical to {base_name} in {REL_OUT_JSON}")
            cases.append(c)
    return {
        "generator": "tests/reference/make_refs.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "semantics": SEMANTICS_TYPES,
        "cases": cases,
        "selection": run_selection(),
    }


# ---------------------------------------------------------------------------
# Output: pretty JSON, innermost number lists on one line; floats via repr
# (json's float formatting), which round-trips doubles exactly.


def dumps(obj, indent=0):
    """Pretty JSON: short number lists (vectors, matrix rows, [[x]] columns) on one line,
    long ones (traces) one value per line."""
    pad, pad1 = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad1}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        scalars = all(not isinstance(v, (dict, list)) for v in obj)
        column = all(isinstance(v, list) and len(v) == 1 and not isinstance(v[0], (dict, list))
                     for v in obj)
        if (scalars or column) and len(obj) <= 8:
            return "[" + ", ".join(dumps(v) for v in obj) + "]"
        items = [f"{pad1}{dumps(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(obj, float):
        assert math.isfinite(obj)
    return json.dumps(obj)


def main():
    cases = [run_case(*c()) for c in (case_faithful, case_iris, case_galaxies)]
    doc = {
        "generator": "tests/reference/make_refs.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "semantics": SEMANTICS,
        "cases": cases,
    }
    text = dumps(doc) + "\n"
    # round-trip check: every double survives the text form exactly
    assert json.loads(text) == json.loads(json.dumps(doc))
    with open(OUT_JSON, "w") as f:
        f.write(text)
    print(f"wrote {REL_OUT_JSON}")
    for c in cases:
        path = os.path.join(HERE, f"{c['name']}.init.json")
        with open(path, "w") as f:
            f.write(dumps(c["init"]) + "\n")
        print(f"wrote tests/reference/{c['name']}.init.json")

    doc_types = build_types_doc(cases)
    text = dumps(doc_types) + "\n"
    assert json.loads(text) == json.loads(json.dumps(doc_types))
    with open(OUT_JSON_TYPES, "w") as f:
        f.write(text)
    print(f"wrote {REL_OUT_JSON_TYPES}")


if __name__ == "__main__":
    main()
