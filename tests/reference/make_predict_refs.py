#!/usr/bin/env python3
# Regenerates tests/reference/sklearn_predict.json and the model files
# tests/reference/<case>.model.json: scikit-learn GaussianMixture's predict, predict_proba,
# score_samples and score of fitted models, which tests/predict_reference.rs compares with
# `mixplore predict` and `mixplore score` run on the same model files.
#
# Same pinned versions as make_refs.py (tests/reference/requirements.txt). Regenerate with
#     pip install -r tests/reference/requirements.txt && python3 tests/reference/make_predict_refs.py
#
# Models: the fits of make_refs.py's cases faithful_k2 (T = 50) and iris_k3 (T = 100), full
# covariances, started from the same theta(0) with reg_covar = 0 and tol = 0; plus faithful_k2
# with covariance_type='diag' (started from the diagonal of the same start). Each model is
# written in mixplore's model format (format_version 1; covariances as full K x D x D
# matrices whatever the type) from sklearn's weights_, means_ and covariances_.
#
# Data each model is applied to: the training file, and a small file of new points written by
# this script (tests/reference/<case>_new.csv) with the columns in another order plus a text
# column, and points far outside the data, where responsibilities reach the underflow range.

import csv
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning

import make_refs

HERE = make_refs.HERE
OUT_JSON = os.path.join(HERE, "sklearn_predict.json")


def new_points(name, cols):
    """Rows of new points for a case: a few inside the data, some far outside."""
    if name.startswith("faithful"):
        return [
            [1.0, 40.0],
            [3.5, 70.0],
            [6.0, 100.0],
            [2.0, 90.0],
            [0.0, 0.0],
            [20.0, 300.0],
            [-5.0, 200.0],
        ]
    return [
        [5.0, 3.4, 1.5, 0.2],
        [6.0, 2.8, 4.5, 1.4],
        [6.8, 3.0, 5.8, 2.2],
        [5.8, 2.7, 5.0, 1.7],
        [0.0, 0.0, 0.0, 0.0],
        [12.0, 1.0, 20.0, 9.0],
    ]


def write_new_csv(rel_path, cols, rows):
    """The new points with the columns reversed and a text column in the middle, so that a
    reader must pick the model's columns by name."""
    order = list(reversed(range(len(cols))))
    header = [cols[j] for j in order]
    header.insert(1, "note")
    with open(os.path.join(make_refs.REPO, rel_path), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for i, row in enumerate(rows):
            cells = [repr(float(row[j])) for j in order]
            cells.insert(1, f"point {i + 1}")
            writer.writerow(cells)


def fit(cov_type, k, T, init, X):
    """make_refs.py's plain fit from init (reg_covar = 0, tol = 0, T iterations), for
    covariance_type 'full' or 'diag' (whose precisions_init is K x D: 1 / the variances)."""
    gm = make_refs.make_gm(k, T, init, warm_start=False)
    if cov_type == "diag":
        cov = np.array(init["covariances"], dtype=np.float64)
        gm.set_params(covariance_type="diag",
                      precisions_init=1.0 / np.diagonal(cov, axis1=1, axis2=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    return gm


def full_covariances(gm):
    if gm.covariance_type == "full":
        return gm.covariances_
    return np.array([np.diag(v) for v in gm.covariances_])


def outputs(gm, X):
    return {
        "n": int(X.shape[0]),
        "predict": [int(c) + 1 for c in gm.predict(X)],
        "predict_proba": gm.predict_proba(X).tolist(),
        "score_samples": gm.score_samples(X).tolist(),
        "score": float(gm.score(X)),
    }


def main():
    cases = []
    specs = [
        (make_refs.case_faithful, 50, "full", "faithful_k2"),
        (make_refs.case_iris, 100, "full", "iris_k3"),
        (make_refs.case_faithful, 50, "diag", "faithful_k2_diag"),
    ]
    for make_case, T, cov_type, name in specs:
        _, rel_file, cols, X, k, _, init = make_case()
        gm = fit(cov_type, k, T, init, X)
        model = {
            "format_version": 1,
            "covariance_type": cov_type,
            "columns": cols,
            "weights": gm.weights_.tolist(),
            "means": gm.means_.tolist(),
            "covariances": full_covariances(gm).tolist(),
            "source": rel_file,
            "n": int(X.shape[0]),
            "log_likelihood": float(gm.score(X) * X.shape[0]),
        }
        model_rel = f"tests/reference/{name}.model.json"
        with open(os.path.join(make_refs.REPO, model_rel), "w") as f:
            json.dump(model, f, indent=1)
            f.write("\n")
        new_rel = f"tests/reference/{name.split('_diag')[0]}_new.csv"
        rows = new_points(name, cols)
        write_new_csv(new_rel, cols, rows)
        data = [
            dict(file=rel_file, **outputs(gm, X)),
            dict(file=new_rel, **outputs(gm, np.array(rows, dtype=np.float64))),
        ]
        print(f"== {name}: score {data[0]['score']!r}; new points {data[1]['score']!r}; "
              f"smallest responsibility {min(min(r) for d in data for r in d['predict_proba']):.3e}")
        cases.append({"name": name, "model": model_rel, "covariance_type": cov_type, "data": data})
    out = {
        "generator": "tests/reference/make_predict_refs.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "semantics": "predict is 1-based (mixplore numbers components from 1); predict_proba "
        "n x K; score_samples = log density per row; score = mean of score_samples",
        "cases": cases,
    }
    with open(OUT_JSON, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
