//! Matching fitted components to true ones (for simulated data), since EM's labels are an
//! arbitrary permutation of the truth's.

use super::model::Mixture;

/// For each true component, the fitted component matched to it (`None` when there are fewer
/// fitted components), minimising the total squared distance between matched means, each
/// coordinate scaled by the true components' pooled standard deviation so no column dominates
/// (the Hungarian algorithm, so any K).
pub fn match_components(truth: &Mixture, fitted: &Mixture) -> Vec<Option<usize>> {
    let (kt, kf, d) = (truth.k(), fitted.k(), truth.dim());
    if fitted.dim() != d {
        return vec![None; kt];
    }
    let scale: Vec<f64> = (0..d)
        .map(|j| {
            let pooled: f64 = (0..kt)
                .map(|k| truth.weights()[k] * truth.covariance(k)[j * d + j])
                .sum();
            pooled.sqrt().max(f64::MIN_POSITIVE)
        })
        .collect();
    let cost = |t: usize, f: usize| -> f64 {
        truth
            .mean(t)
            .iter()
            .zip(fitted.mean(f))
            .zip(&scale)
            .map(|((a, b), s)| ((a - b) / s).powi(2))
            .sum()
    };
    let costs: Vec<Vec<f64>> = (0..kt)
        .map(|t| (0..kf).map(|f| cost(t, f)).collect())
        .collect();
    assign(&costs)
}

/// The assignment of rows to distinct columns with the least total cost (the Hungarian
/// algorithm, O(max(R, C)³)); with more rows than columns some rows get `None`.
pub fn assign(costs: &[Vec<f64>]) -> Vec<Option<usize>> {
    let rows = costs.len();
    let cols = costs.first().map_or(0, Vec::len);
    let size = rows.max(cols);
    if size == 0 {
        return Vec::new();
    }
    // Square, padded with zero-cost dummy rows or columns.
    let at = |r: usize, c: usize| {
        if r < rows && c < cols {
            costs[r][c]
        } else {
            0.0
        }
    };
    // Potentials u (rows) and v (columns), 1-based with 0 as the virtual start column.
    let mut u = vec![0.0; size + 1];
    let mut v = vec![0.0; size + 1];
    let mut row_of_col = vec![0usize; size + 1];
    let mut way = vec![0usize; size + 1];
    for r in 1..=size {
        row_of_col[0] = r;
        let mut col = 0;
        let mut min_to = vec![f64::INFINITY; size + 1];
        let mut used = vec![false; size + 1];
        loop {
            used[col] = true;
            let row = row_of_col[col];
            let mut delta = f64::INFINITY;
            let mut next = 0;
            for c in 1..=size {
                if !used[c] {
                    let reduced = at(row - 1, c - 1) - u[row] - v[c];
                    if reduced < min_to[c] {
                        min_to[c] = reduced;
                        way[c] = col;
                    }
                    if min_to[c] < delta {
                        delta = min_to[c];
                        next = c;
                    }
                }
            }
            for c in 0..=size {
                if used[c] {
                    u[row_of_col[c]] += delta;
                    v[c] -= delta;
                } else {
                    min_to[c] -= delta;
                }
            }
            col = next;
            if row_of_col[col] == 0 {
                break;
            }
        }
        while col != 0 {
            let previous = way[col];
            row_of_col[col] = row_of_col[previous];
            col = previous;
        }
    }
    let mut assignment = vec![None; rows];
    for (c, &r) in row_of_col.iter().enumerate().skip(1) {
        if (1..=rows).contains(&r) && c <= cols {
            assignment[r - 1] = Some(c - 1);
        }
    }
    assignment
}

/// The adjusted Rand index of two labelings of the same points (Hubert and Arabie 1985):
/// 1 for identical partitions whatever the label names, about 0 for independent ones.
pub fn adjusted_rand_index(first: &[usize], second: &[usize]) -> f64 {
    let n = first.len().min(second.len());
    if n < 2 {
        return 1.0;
    }
    let rows = first.iter().max().map_or(0, |m| m + 1);
    let cols = second.iter().max().map_or(0, |m| m + 1);
    let mut table = vec![0u64; rows * cols];
    for (&a, &b) in first.iter().zip(second) {
        table[a * cols + b] += 1;
    }
    let pairs = |count: u64| (count * count.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.iter().map(|&c| pairs(c)).sum();
    let row_sums: f64 = (0..rows)
        .map(|r| pairs(table[r * cols..(r + 1) * cols].iter().sum()))
        .sum();
    let col_sums: f64 = (0..cols)
        .map(|c| pairs((0..rows).map(|r| table[r * cols + c]).sum()))
        .sum();
    let total = pairs(n as u64);
    let expected = row_sums * col_sums / total;
    let maximum = 0.5 * (row_sums + col_sums);
    if maximum == expected {
        // Both partitions trivial (one cluster each, or all singletons): they agree.
        return 1.0;
    }
    (index - expected) / (maximum - expected)
}

#[cfg(test)]
mod assignment_tests {
    use super::*;

    #[test]
    fn hungarian_finds_the_cheapest_assignment() {
        let costs = vec![
            vec![4.0, 1.0, 3.0],
            vec![2.0, 0.0, 5.0],
            vec![3.0, 2.0, 2.0],
        ];
        // Best: row 0 → col 1 (1), row 1 → col 0 (2), row 2 → col 2 (2): total 5.
        assert_eq!(assign(&costs), vec![Some(1), Some(0), Some(2)]);
        let rectangular = vec![vec![1.0, 9.0], vec![9.0, 9.0], vec![9.0, 1.0]];
        assert_eq!(assign(&rectangular), vec![Some(0), None, Some(1)]);
        let wide = vec![vec![5.0, 1.0, 7.0]];
        assert_eq!(assign(&wide), vec![Some(1)]);
    }

    #[test]
    fn hungarian_recovers_known_permutations_up_to_ten() {
        for k in 1..=10usize {
            // A permutation with a cost of 0 on its cells and at least 1 elsewhere.
            let permutation: Vec<usize> = (0..k).map(|i| (2 * k + 1 - i) % k).collect();
            let costs: Vec<Vec<f64>> = (0..k)
                .map(|r| {
                    (0..k)
                        .map(|c| {
                            if permutation[r] == c {
                                0.0
                            } else {
                                1.0 + ((r * c) % 5) as f64
                            }
                        })
                        .collect()
                })
                .collect();
            let expected: Vec<Option<usize>> = permutation.iter().map(|&c| Some(c)).collect();
            assert_eq!(assign(&costs), expected, "k = {k}");
        }
    }

    #[test]
    fn adjusted_rand_index_by_hand() {
        // Identical up to renaming.
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
        // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: contingency [[2,1,0],[0,1,2]];
        // Σ C(n_ij,2) = 1 + 1 = 2; rows: 2·C(3,2) = 6; cols: 3·C(2,2) = 3; C(6,2) = 15;
        // expected = 6·3/15 = 1.2; max = 4.5; ARI = (2 − 1.2)/(4.5 − 1.2) = 0.8/3.3.
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((ari - 0.8 / 3.3).abs() < 1e-12, "{ari}");
        // Worse than chance: negative.
        assert!(adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) < 0.0);
        assert_eq!(adjusted_rand_index(&[0, 0, 0], &[0, 0, 0]), 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_d(means: &[f64]) -> Mixture {
        let k = means.len();
        Mixture::from_flat(1, vec![1.0; k], means.to_vec(), vec![1.0; k]).unwrap()
    }

    #[test]
    fn finds_known_permutations() {
        let truth = one_d(&[0.0, 10.0, 20.0, 30.0]);
        let fitted = one_d(&[20.5, 0.2, 29.0, 9.8]);
        assert_eq!(
            match_components(&truth, &fitted),
            vec![Some(1), Some(3), Some(0), Some(2)]
        );
    }

    #[test]
    fn exhaustive_beats_greedy_where_they_differ() {
        // Greedy would pair truth 0.0 with fitted 1.0 first (cost 1), forcing 2.0 onto -1.5
        // (cost 12.25): total 13.25. The best is 0.0↔-1.5, 2.0↔1.0: 2.25 + 1 = 3.25.
        let truth = one_d(&[0.0, 2.0]);
        let fitted = one_d(&[1.0, -1.5]);
        assert_eq!(match_components(&truth, &fitted), vec![Some(1), Some(0)]);
    }

    #[test]
    fn fewer_fitted_components_leave_some_unmatched() {
        let truth = one_d(&[0.0, 10.0, 20.0]);
        let fitted = one_d(&[19.0, 1.0]);
        assert_eq!(
            match_components(&truth, &fitted),
            vec![Some(1), None, Some(0)]
        );
    }
}
