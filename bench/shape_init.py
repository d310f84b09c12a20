#!/usr/bin/env python3
"""Writes STEM.COVARIANCE.init.json: STEM.init.json with its covariances given the structure of
COVARIANCE (diag: the diagonal; spherical: the mean of the diagonal times I; tied: the mean
matrix; full: unchanged), the same start sk_bench.py gives scikit-learn as precisions.

usage: shape_init.py STEM COVARIANCE
"""
import json
import sys

import numpy as np


def shaped(c, covariances, covariance):
    if covariance == "diag":
        return np.diag(np.diag(c))
    if covariance == "spherical":
        return np.eye(len(c)) * np.mean(np.diag(c))
    if covariance == "tied":
        return np.mean(covariances, axis=0)
    return c


def main():
    stem, covariance = sys.argv[1], sys.argv[2]
    with open(stem + ".init.json") as f:
        init = json.load(f)
    covariances = [np.asarray(c) for c in init["covariances"]]
    init["covariances"] = [shaped(c, covariances, covariance).tolist() for c in covariances]
    with open(f"{stem}.{covariance}.init.json", "w") as f:
        json.dump(init, f)


if __name__ == "__main__":
    main()
