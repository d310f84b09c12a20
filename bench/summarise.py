#!/usr/bin/env python3
"""The table of bench/compare.sh, from the raw JSON results it wrote.

usage: summarise.py RESULTS_DIR ROUNDS "N D K COVARIANCE" ...

Per case: median ms per EM iteration of scikit-learn (s_per_iter) and of mixplore
(timing.per_iter_ms) over the rounds, their ratio (how many times faster mixplore is), and the
relative difference of the per-point log-likelihoods.

Log-likelihood alignment: scikit-learn's lower_bound_ after max_iter iterations is the mean
log-likelihood at θ(max_iter − 1) (it is computed by the E-step that starts the last iteration),
so it is compared with mixplore's trace[max_iter − 1] / n, not with its final value.
Then the peak memory of the mixplore 1M×2×3 fit against the budget, and its CSV load time.
"""
import json
import os
import re
import statistics
import sys

TARGETS = {  # case -> minimum speed-up over single-threaded scikit-learn (issue 14's bars)
    (10_000, 2, 3, "full"): 12.0,
    (1_000_000, 2, 3, "full"): 25.0,
    (100_000, 10, 5, "full"): 12.0,
    (100_000, 50, 5, "full"): 6.0,
    (100_000, 50, 5, "diag"): 3.0,
}
DATA_MB = 16.0  # 1M × 2 f64 values
BUDGET_MB = 1.1 * DATA_MB + 40.0 * 1.048576  # 1.1 × data + 40 MiB
LOAD_TARGET_MS = 500.0


def load(path):
    with open(path) as f:
        return json.load(f)


def label(n, d, k, cov):
    size = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"
    return f"{size}×{d}×{k} {cov}"


def main():
    results, rounds = sys.argv[1], int(sys.argv[2])
    cases = []
    for c in sys.argv[3:]:
        n, d, k, cov = c.split()
        cases.append((int(n), int(d), int(k), cov))
    rows = []
    blas = None
    for n, d, k, cov in cases:
        stem = f"gmm_N{n}_D{d}_K{k}.{cov}"
        sk = [load(os.path.join(results, f"{stem}.sklearn.{r}.json")) for r in range(1, rounds + 1)]
        mp = [load(os.path.join(results, f"{stem}.mixplore.{r}.json")) for r in range(1, rounds + 1)]
        blas = blas or sk[0].get("blas")
        sk_ms = statistics.median(s["s_per_iter"] * 1e3 for s in sk)
        mp_ms = statistics.median(m["timing"]["per_iter_ms"] for m in mp)
        max_iter = sk[0]["n_iter"]
        for m in mp:
            if m["iterations"] != max_iter or len(m["trace"]) != max_iter + 1:
                sys.exit(f"{stem}: mixplore ran {m['iterations']} iterations, scikit-learn {max_iter}")
        # Agreement: the worst over rounds (every round should give the same numbers).
        rel = max(
            abs(s["lower_bound"] - m["trace"][max_iter - 1] / m["n"]) / abs(s["lower_bound"])
            for s, m in zip(sk, mp)
        )
        load_ms = statistics.median(m["timing"]["load_ms"] for m in mp)
        rows.append(dict(case=(n, d, k, cov), sk_ms=sk_ms, mp_ms=mp_ms, ratio=sk_ms / mp_ms, rel=rel,
                         load_ms=load_ms, sk_ll=sk[0]["lower_bound"]))

    print(f"median of {rounds} alternating rounds, 50 iterations each, tol 0, same start"
          f" (scikit-learn 1 thread, mixplore {os.cpu_count()} threads)")
    header = f"{'case':<16} {'sklearn ms/it':>13} {'mixplore ms/it':>14} {'ratio':>7} {'target':>9}" \
             f"  {'mean loglik (sklearn)':>22} {'rel. diff':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        target = TARGETS.get(row["case"])
        ratio = row["ratio"]
        mark = "" if target is None else (f"≥{target:g}× " + ("ok" if ratio >= target else "NO"))
        print(f"{label(*row['case']):<16} {row['sk_ms']:>13.2f} {row['mp_ms']:>14.3f}"
              f" {ratio:>6.1f}× {mark:>9}  {row['sk_ll']:>22.12f} {row['rel']:>9.1e}")
    print("(ratio = sklearn ms/iter ÷ mixplore ms/iter; rel. diff = |sklearn lower_bound_ −"
          " mixplore trace[49]/n| / |lower_bound_|)")
    print()
    print("As Markdown (the README's table):")
    print()
    print("| case n × D × K | scikit-learn | mixplore | ratio | bar | log-lik. rel. diff |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        n, d, k, cov = row["case"]
        target = TARGETS.get(row["case"])
        bar = "" if target is None else f"≥ {target:g}×"
        size = f"{n:,}".replace(",", " ")
        print(f"| {size} × {d} × {k}, {cov} | {row['sk_ms']:.2f} | {row['mp_ms']:.2f} |"
              f" {row['ratio']:.1f}× | {bar} | {row['rel']:.1e} |")
    if blas:
        kernels = sorted({f"{b.get('internal_api')} {b.get('version')} {b.get('architecture')}"
                          for b in blas if b.get("internal_api") == "openblas"})
        print("scikit-learn BLAS:", "; ".join(kernels) or "none reported")

    for row in rows:
        if row["case"] == (1_000_000, 2, 3, "full"):
            load_ms = row["load_ms"]
            print(f"1M×2 CSV load inside `mixplore fit` (timing.load_ms, median): {load_ms:.0f} ms"
                  f" (target < {LOAD_TARGET_MS:.0f} ms: {'ok' if load_ms < LOAD_TARGET_MS else 'NO'})")

    time_txt = os.path.join(results, "memory.time.txt")
    if os.path.exists(time_txt):
        text = open(time_txt).read()
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        if match:
            kib = int(match.group(1))
            mb = kib * 1024 / 1e6
            print(f"peak memory, mixplore fit 1M×2×3: {mb:.1f} MB ({kib / 1024:.1f} MiB);"
                  f" budget 1.1 × {DATA_MB:g} MB + 40 MiB = {BUDGET_MB:.1f} MB:"
                  f" {'ok' if mb <= BUDGET_MB else 'OVER'}")
        else:
            print("peak memory: no 'Maximum resident set size' in", time_txt)


if __name__ == "__main__":
    main()
