//! Matching fitted components to true ones (for simulated data), since EM's labels are an
//! arbitrary permutation of the truth's.

use super::model::Mixture;

/// For each true component, the fitted component matched to it (`None` when there are fewer
/// fitted components, or when every distance to the remaining ones overflows), minimising the
/// total squared distance between matched means, each coordinate scaled by the true components'
/// pooled standard deviation so no column dominates (the Hungarian algorithm, so any K).
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
    let scaled = |t: usize, f: usize| {
        truth
            .mean(t)
            .iter()
            .zip(fitted.mean(f))
            .zip(&scale)
            .map(|((a, b), s)| (a - b) / s)
    };
    // Squared scaled distances overflow for far-apart means and tiny variances (means 0 and
    // 9e149 with variance 1e-10), so every scaled difference is first divided by the largest
    // one: a common positive factor changes no assignment. What still overflows (a difference
    // that is itself infinite) is left to `assign` as a forbidden pair.
    let largest = (0..kt)
        .flat_map(|t| (0..kf).flat_map(move |f| scaled(t, f)))
        .map(f64::abs)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let unit = if largest > 0.0 { largest } else { 1.0 };
    let costs: Vec<Vec<f64>> = (0..kt)
        .map(|t| {
            (0..kf)
                .map(|f| scaled(t, f).map(|v| (v / unit).powi(2)).sum())
                .collect()
        })
        .collect();
    assign(&costs)
}

/// The assignment of rows to distinct columns with the least total cost (the Hungarian
/// algorithm, O(max(R, C)³)); with more rows than columns some rows get `None`.
///
/// Any costs are accepted and it always returns. A cost that is not finite (+∞, −∞ or NaN)
/// marks a forbidden pair: the result first pairs as many rows as possible through allowed
/// pairs, and among those assignments has the least total cost. A row that could only be
/// paired through a forbidden pair is left unmatched (`None`), so every `Some` is an allowed
/// pair and no column is used twice. The result depends only on the costs (deterministic).
/// Ragged rows count their missing entries as forbidden.
pub fn assign(costs: &[Vec<f64>]) -> Vec<Option<usize>> {
    let rows = costs.len();
    let cols = costs.iter().map(Vec::len).max().unwrap_or(0);
    let size = rows.max(cols);
    if size == 0 || cols == 0 {
        return vec![None; rows];
    }
    let cost = |r: usize, c: usize| costs[r].get(c).copied().filter(|v| v.is_finite());
    // The allowed costs scaled into [−1, 1] (a positive factor changes no assignment, and keeps
    // the potentials far from overflow); a forbidden pair costs more than any difference
    // between the allowed parts of two assignments (at most 2·size), so fewer forbidden pairs
    // always wins.
    let largest = (0..rows)
        .flat_map(|r| (0..cols).filter_map(move |c| cost(r, c)))
        .map(f64::abs)
        .fold(0.0_f64, f64::max);
    let unit = if largest > 0.0 { largest } else { 1.0 };
    let forbidden = 2.0 * size as f64 + 1.0;
    // Square, padded with zero-cost dummy rows or columns.
    let at = |r: usize, c: usize| {
        if r < rows && c < cols {
            cost(r, c).map_or(forbidden, |v| v / unit)
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
        // Each pass marks one more column used, so at most size passes; the bound only guards
        // against a rounding surprise turning this into an endless loop.
        for _ in 0..=size {
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
                    if next == 0 || min_to[c] < delta {
                        delta = min_to[c];
                        next = c;
                    }
                }
            }
            if next == 0 {
                // Unreachable with finite costs (an unused column always remains while row r
                // is unplaced); stop rather than loop.
                break;
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
        if row_of_col[col] != 0 {
            continue;
        }
        while col != 0 {
            let previous = way[col];
            row_of_col[col] = row_of_col[previous];
            col = previous;
        }
    }
    let mut assignment = vec![None; rows];
    for (c, &r) in row_of_col.iter().enumerate().skip(1) {
        if (1..=rows).contains(&r) && c <= cols && cost(r - 1, c - 1).is_some() {
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
    adjusted_rand_index_of_table(&table, cols, n)
}

/// [`adjusted_rand_index`] from the contingency table of the two labelings of `n` points:
/// row-major, `cols` columns, entry (r, c) the number of points labelled r by the first and c
/// by the second. Columns (or rows) of zeros change nothing, not even a bit.
pub fn adjusted_rand_index_of_table(table: &[u64], cols: usize, n: usize) -> f64 {
    if n < 2 || cols == 0 {
        return 1.0;
    }
    let rows = table.len() / cols;
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
    use proptest::prelude::*;

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
    fn non_finite_costs_are_forbidden_pairs() {
        let inf = f64::INFINITY;
        // A row of +∞ used to loop for ever.
        assert_eq!(assign(&[vec![inf, inf]]), vec![None]);
        assert_eq!(
            assign(&[vec![1.0, 2.0], vec![inf, inf]]),
            vec![Some(0), None]
        );
        // Forbidden pairs are avoided even when the allowed ones are dear: row 0 could take
        // column 0 cheaply, but then row 1 could not be paired at all.
        assert_eq!(
            assign(&[vec![0.0, 1e300], vec![1.0, f64::NAN]]),
            vec![Some(1), Some(0)]
        );
        // −∞ is forbidden too, not a bargain.
        assert_eq!(
            assign(&[vec![f64::NEG_INFINITY, 5.0], vec![3.0, 4.0]]),
            vec![Some(1), Some(0)]
        );
        assert_eq!(assign(&vec![vec![f64::NAN; 3]; 3]), vec![None; 3]);
        assert_eq!(assign(&[vec![], vec![]]), vec![None, None]);
        assert_eq!(assign(&[]), Vec::<Option<usize>>::new());
    }

    /// The number of allowed pairs in the largest matching and, among the matchings that large,
    /// the least total cost, by exhaustive search.
    fn brute_force(costs: &[Vec<f64>], cols: usize) -> (usize, f64) {
        fn go(
            costs: &[Vec<f64>],
            row: usize,
            used: &mut [bool],
            best: &mut (usize, f64),
            at: (usize, f64),
        ) {
            if row == costs.len() {
                if at.0 > best.0 || (at.0 == best.0 && at.1 < best.1) {
                    *best = at;
                }
                return;
            }
            go(costs, row + 1, used, best, at);
            for c in 0..used.len() {
                let cost = costs[row].get(c).copied().unwrap_or(f64::NAN);
                if !used[c] && cost.is_finite() {
                    used[c] = true;
                    go(costs, row + 1, used, best, (at.0 + 1, at.1 + cost));
                    used[c] = false;
                }
            }
        }
        let mut best = (0, f64::INFINITY);
        go(costs, 0, &mut vec![false; cols], &mut best, (0, 0.0));
        if best.0 == 0 {
            best.1 = 0.0;
        }
        best
    }

    fn cell() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -1e3..1e3_f64,
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(f64::NAN),
            1 => prop_oneof![Just(1e300), Just(-1e300), Just(0.0)],
        ]
    }

    fn matrix(max: usize) -> impl Strategy<Value = Vec<Vec<f64>>> {
        (0..=max, 0..=max).prop_flat_map(|(rows, cols)| {
            proptest::collection::vec(proptest::collection::vec(cell(), cols), rows)
        })
    }

    fn check_valid(costs: &[Vec<f64>], assignment: &[Option<usize>]) -> Result<(), TestCaseError> {
        let cols = costs.first().map_or(0, Vec::len);
        prop_assert_eq!(assignment.len(), costs.len());
        let mut seen = vec![false; cols];
        for (r, pick) in assignment.iter().enumerate() {
            if let Some(c) = *pick {
                prop_assert!(c < cols, "row {} → column {} of {}", r, c, cols);
                prop_assert!(
                    costs[r][c].is_finite(),
                    "row {} → forbidden column {}",
                    r,
                    c
                );
                prop_assert!(!seen[c], "column {} used twice", c);
                seen[c] = true;
            }
        }
        Ok(())
    }

    fn total(costs: &[Vec<f64>], assignment: &[Option<usize>]) -> (usize, f64) {
        assignment
            .iter()
            .enumerate()
            .filter_map(|(r, c)| c.map(|c| costs[r][c]))
            .fold((0, 0.0), |(n, sum), cost| (n + 1, sum + cost))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_costs_give_a_valid_assignment(costs in matrix(12)) {
            let assignment = assign(&costs);
            check_valid(&costs, &assignment)?;
        }

        #[test]
        fn the_assignment_is_optimal_up_to_six(costs in matrix(6)) {
            let cols = costs.first().map_or(0, Vec::len);
            let assignment = assign(&costs);
            check_valid(&costs, &assignment)?;
            let (matched, cost) = total(&costs, &assignment);
            let (best_matched, best_cost) = brute_force(&costs, cols);
            // As many allowed pairs as possible, then the least cost (relative to the largest
            // allowed cost, the scale the algorithm works in).
            prop_assert_eq!(matched, best_matched);
            let scale = costs
                .iter()
                .flatten()
                .filter(|v| v.is_finite())
                .fold(1.0_f64, |m, v| m.max(v.abs()));
            prop_assert!(
                (cost - best_cost).abs() <= 1e-9 * scale,
                "cost {} vs brute force {}", cost, best_cost
            );
            if costs.iter().flatten().all(|v| v.is_finite()) {
                prop_assert_eq!(matched, costs.len().min(cols));
            }
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
    fn far_means_and_tiny_variances_still_match() {
        // Means 0 and 9e149 with variance 1e-10: squared scaled distances overflow to +∞.
        let truth =
            Mixture::from_flat(1, vec![1.0, 1.0], vec![0.0, 9e149], vec![1e-10; 2]).unwrap();
        let fitted =
            Mixture::from_flat(1, vec![1.0, 1.0], vec![9.1e149, 1.0], vec![1e299; 2]).unwrap();
        assert_eq!(match_components(&truth, &fitted), vec![Some(1), Some(0)]);
        // Both fitted components in the same place (a random start): still a full matching.
        let fitted =
            Mixture::from_flat(1, vec![1.0, 1.0], vec![4.5e149, 4.5e149], vec![1e299; 2]).unwrap();
        let matched = match_components(&truth, &fitted);
        assert!(matched.iter().all(Option::is_some), "{matched:?}");
        assert_ne!(matched[0], matched[1]);
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
