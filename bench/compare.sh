#!/usr/bin/env bash
# mixplore against scikit-learn, side by side on one machine in one run (see bench/README.md).
#
# usage: bench/compare.sh [DATA_DIR] [ROUNDS]
#   DATA_DIR  where the data and the raw results go (default /tmp/mixplore-bench)
#   ROUNDS    alternating rounds per case (default 3, or $ROUNDS); medians are reported
#
# For each case (N×D×K, covariance) = 10k×2×3, 100k×2×3, 1M×2×3, 100k×10×5 full, 100k×50×5
# full and diag it runs, alternately, ROUNDS times each:
#   scikit-learn  GaussianMixture(covariance), single-threaded, tol 0, 50 iterations, from the
#                 .init.json start (shaped to the covariance type)
#   mixplore      fit --init-params (the same start) --covariance C --tol 0 --max-iter 50 --json
#                 (default threads: all cores)
# then prints milliseconds per iteration, the ratio, and how well the log-likelihoods agree
# (a Markdown table as in the README), then the peak memory of the mixplore 1M×2×3 fit (GNU
# time) against its budget.
#
# Needs: python3 with scikit-learn, numpy and threadpoolctl (pip install scikit-learn numpy
# threadpoolctl), GNU time at /usr/bin/time (Debian package `time`), and cargo.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
data_dir="${1:-/tmp/mixplore-bench}"
rounds="${2:-${ROUNDS:-3}}"
max_iter=50
cases=("10000 2 3 full" "100000 2 3 full" "1000000 2 3 full" "100000 10 5 full"
    "100000 50 5 full" "100000 50 5 diag")

if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "compare.sh: ROUNDS must be a positive integer, got '$rounds'" >&2
    exit 2
fi
if ! python3 -c 'import sklearn, numpy, threadpoolctl' 2>/dev/null; then
    echo "compare.sh: python3 cannot import scikit-learn, numpy and threadpoolctl." >&2
    echo "  install them with:  pip install scikit-learn numpy threadpoolctl" >&2
    exit 2
fi
if ! [ -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
    echo "compare.sh: needs GNU time at /usr/bin/time for the peak memory (apt-get install time)" >&2
    exit 2
fi

mkdir -p "$data_dir"
results="$data_dir/results"
rm -rf "$results"
mkdir -p "$results"

# 1. Data (deterministic: generated once, reused while every file is there).
missing=0
for case in "${cases[@]}"; do
    read -r n d k cov <<<"$case"
    for ext in csv init.json truth.json; do
        [ -s "$data_dir/gmm_N${n}_D${d}_K${k}.$ext" ] || missing=1
    done
done
if [ "$missing" = 1 ]; then
    echo "== generating data in $data_dir"
    python3 "$here/gen_data.py" "$data_dir"
else
    echo "== data already in $data_dir (delete it to regenerate)"
fi

# 2. The binary.
echo "== cargo build --release"
(cd "$root" && cargo build --release --quiet)
mixplore="$root/target/release/mixplore"

# scikit-learn single-threaded. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines here
# for older OpenBLAS builds) slow a current numpy, so they are unset for this command only;
# sk_bench.py reports the kernel OpenBLAS then picks (threadpoolctl).
run_sklearn() {
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        python3 "$here/sk_bench.py" "$1" "$2" --covariance "$3" --threads 1 \
        --max-iter "$max_iter" --no-diff
}

run_mixplore() {
    "$mixplore" fit "$1" --k "$2" --init-params "${1%.csv}.$3.init.json" --covariance "$3" \
        --tol 0 --max-iter "$max_iter" --json
}

# 3. Alternating rounds.
echo "== $rounds alternating rounds per case ($(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
for case in "${cases[@]}"; do
    read -r n d k cov <<<"$case"
    stem="gmm_N${n}_D${d}_K${k}"
    csv="$data_dir/$stem.csv"
    python3 "$here/shape_init.py" "$data_dir/$stem" "$cov"
    for ((r = 1; r <= rounds; r++)); do
        printf '   %-22s %-5s round %d/%d: scikit-learn' "$stem" "$cov" "$r" "$rounds"
        run_sklearn "$csv" "$k" "$cov" >"$results/$stem.$cov.sklearn.$r.json"
        printf ', mixplore'
        run_mixplore "$csv" "$k" "$cov" >"$results/$stem.$cov.mixplore.$r.json"
        printf '\n'
    done
done

# 4. Peak memory of the 1M×2×3 fit (its JSON goes to the results too).
echo "== peak memory: mixplore fit on gmm_N1000000_D2_K3 under /usr/bin/time -v"
big="$data_dir/gmm_N1000000_D2_K3.csv"
/usr/bin/time -v -o "$results/memory.time.txt" \
    "$mixplore" fit "$big" --k 3 --init-params "${big%.csv}.full.init.json" \
    --tol 0 --max-iter "$max_iter" --json >"$results/memory.mixplore.json"

# 5. The table.
echo
python3 "$here/summarise.py" "$results" "$rounds" "${cases[@]}"
echo
echo "raw results: $results"
