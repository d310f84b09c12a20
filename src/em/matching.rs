//! Matching fitted components to true ones (for simulated data), since EM's labels are an
//! arbitrary permutation of the truth's.

use super::model::Mixture;

/// Up to this K the best permutation is found exhaustively (8! = 40 320 orders).
const EXHAUSTIVE_UP_TO: usize = 8;

/// For each true component, the fitted component matched to it (`None` when there are fewer
/// fitted components), minimising the total squared distance between matched means, each
/// coordinate scaled by the true components' pooled standard deviation so no column dominates.
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
    if kt == kf && kt <= EXHAUSTIVE_UP_TO {
        let mut order: Vec<usize> = (0..kf).collect();
        let mut best = (f64::INFINITY, order.clone());
        permute(&mut order, 0, &mut |order| {
            let total: f64 = order.iter().enumerate().map(|(t, &f)| cost(t, f)).sum();
            if total < best.0 {
                best = (total, order.to_vec());
            }
        });
        return best.1.into_iter().map(Some).collect();
    }
    // Greedy: the closest remaining pair first.
    let mut pairs: Vec<(f64, usize, usize)> = (0..kt)
        .flat_map(|t| (0..kf).map(move |f| (t, f)))
        .map(|(t, f)| (cost(t, f), t, f))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut matched = vec![None; kt];
    let mut used = vec![false; kf];
    for (_, t, f) in pairs {
        if matched[t].is_none() && !used[f] {
            matched[t] = Some(f);
            used[f] = true;
        }
    }
    matched
}

/// Calls `visit` with every permutation of `order[start..]` (Heap-style recursion by swaps).
fn permute(order: &mut [usize], start: usize, visit: &mut impl FnMut(&[usize])) {
    if start + 1 >= order.len() {
        visit(order);
        return;
    }
    for i in start..order.len() {
        order.swap(start, i);
        permute(order, start + 1, visit);
        order.swap(start, i);
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
