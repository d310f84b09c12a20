//! Initialisation: the starting parameters θ(0) of a fit, all drawn from a seeded generator so
//! that the same seed gives bit-identical parameters on the same machine.
//!
//! With sample weights every method treats a point of weight w as w copies of it, and a point
//! of weight 0 as absent: k-means++ draws the first centre with probability ∝ w_i and the next
//! ones ∝ w_i·d_i² (so a point of weight 0 is never a centre), and its Lloyd means are weighted;
//! random-from-data draws K distinct points without replacement with probability ∝ w_i
//! (Efraimidis–Spirakis keys); random draws the responsibilities as before and weights them in
//! the M-step. Without weights the draws are exactly those of an unweighted fit.
//!
//! The k-means passes run on rayon's threads over fixed pieces of [`INIT_CHUNK`] points whose
//! sums are added in piece order, so θ(0) does not depend on the number of threads; a data set
//! of at most one piece is summed point by point in order, as a single loop would.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use super::config::EmConfig;
use super::dataset::Dataset;
use super::error::EmError;
use super::model::Mixture;
use super::pass::SufficientStats;
use super::stepper::m_step;

/// Lloyd iterations after k-means++ seeding: enough to settle the centres roughly, which is all
/// EM needs from them.
const LLOYD_ITERATIONS: usize = 10;

/// Points per parallel piece of the k-means passes: large enough that the per-piece sums cost
/// nothing, and that data sets up to this size (every reference data set) are one piece.
const INIT_CHUNK: usize = 1 << 16;

/// How to choose θ(0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitMethod {
    /// k-means++ seeding, a few Lloyd iterations, then one M-step from the hard assignments.
    KMeansPlusPlus,
    /// K distinct data points as means, the data covariance for each, equal weights.
    RandomFromData,
    /// Random responsibilities for every point, then an M-step.
    Random,
}

impl InitMethod {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::KMeansPlusPlus => "kmeans++",
            Self::RandomFromData => "random-from-data",
            Self::Random => "random",
        }
    }
}

/// Chooses K starting components for `data` by `method`, seeded by `seed`.
pub fn initialise(
    data: &Dataset,
    k: usize,
    method: InitMethod,
    config: &EmConfig,
    seed: u64,
) -> Result<Mixture, EmError> {
    if k == 0 {
        return Err(EmError::Config(
            "the number of components K must be at least 1".into(),
        ));
    }
    if data.len() < k {
        return Err(EmError::TooFewPoints { n: data.len(), k });
    }
    data.check_scale()?;
    let mut rng = StdRng::seed_from_u64(seed);
    match method {
        InitMethod::KMeansPlusPlus => kmeans(data, k, config, &mut rng),
        InitMethod::RandomFromData => random_from_data(data, k, config, &mut rng),
        InitMethod::Random => random_responsibilities(data, k, config, &mut rng),
    }
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Counts distinct rows (for error messages only, so the cost is paid only when failing).
/// Rows of weight 0 do not count: they can never be a centre.
fn distinct_rows(data: &Dataset) -> usize {
    let mut rows: Vec<Vec<u64>> = data
        .rows()
        .enumerate()
        .filter(|(i, _)| data.weights().is_none_or(|weights| weights[*i] > 0.0))
        .map(|(_, row)| row.iter().map(|v| (v + 0.0).to_bits()).collect())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows.len()
}

/// The index of a point's nearest centre. K is at most [`super::limits::MAX_COMPONENTS`], so two
/// bytes per point: at 10⁷ two-dimensional points that is 20 MB beside 160 MB of data, where a
/// `usize` label and an `f64` distance per point took 160 MB more and put the peak memory of a
/// default fit at twice the data.
type Label = u16;

/// k-means++ seeding (each next centre drawn with probability ∝ squared distance to the nearest
/// chosen one), Lloyd iterations, then the M-step of the hard assignments.
///
/// Only each point's nearest centre is stored, never its distance: the distance is recomputed
/// from the centre when it is needed, and gives the same bits (a minimum of squared distances is
/// exact), so the draws and centres are those of keeping every distance.
fn kmeans(
    data: &Dataset,
    k: usize,
    config: &EmConfig,
    rng: &mut StdRng,
) -> Result<Mixture, EmError> {
    if Label::try_from(k - 1).is_err() {
        super::limits::check_components(k)?;
    }
    let (n, d) = (data.len(), data.dim());
    // Unweighted points count 1, which multiplies without changing a bit.
    let weight = |i: usize| data.weights().map_or(1.0, |weights| weights[i]);
    let mut centres = Vec::with_capacity(k * d);
    let first = match data.weights() {
        None => rng.random_range(0..n),
        // Σ w > 0 (checked when the weights were made), so a point of positive weight exists.
        Some(weights) => draw_proportional(n, |i| weights[i], rng).unwrap_or(0),
    };
    centres.extend_from_slice(data.row(first));
    // Every point's nearest chosen centre so far; ties keep the earlier centre.
    let mut labels: Vec<Label> = vec![0; n];
    for _ in 1..k {
        let nearest = |i: usize| distance_to(data.row(i), &centres, labels[i], d);
        let drawn = match data.weights() {
            None => draw_proportional(n, nearest, rng),
            Some(weights) => draw_proportional(n, |i| nearest(i) * weights[i], rng),
        };
        let Some(chosen) = drawn else {
            return Err(EmError::TooFewDistinctPoints {
                distinct: distinct_rows(data),
                k,
            });
        };
        let start = centres.len();
        let new_label = label_of(start / d);
        centres.extend_from_slice(data.row(chosen));
        let centres = &centres;
        labels
            .par_chunks_mut(INIT_CHUNK)
            .zip(data.values().par_chunks(INIT_CHUNK * d))
            .for_each(|(labels, values)| {
                for (label, x) in labels.iter_mut().zip(values.chunks_exact(d)) {
                    if squared_distance(x, &centres[start..start + d])
                        < distance_to(x, centres, *label, d)
                    {
                        *label = new_label;
                    }
                }
            });
    }

    for iteration in 0..LLOYD_ITERATIONS {
        // The sums are taken in the same pass as the assignment, in point order within each
        // piece, then piece by piece. Counts are sums of weights (whole numbers, exact,
        // without weights).
        let (reassigned, pieces) = assign(
            data,
            &centres,
            &mut labels,
            || (vec![0.0; k], vec![0.0; k * d]),
            |(counts, sums), i, x, label| {
                let w = weight(i);
                counts[label] += w;
                for (s, v) in sums[label * d..(label + 1) * d].iter_mut().zip(x) {
                    *s += w * v;
                }
            },
        );
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0.0; k];
        for (piece_counts, piece_sums) in pieces {
            for (total, piece) in counts.iter_mut().zip(piece_counts) {
                *total += piece;
            }
            for (total, piece) in sums.iter_mut().zip(piece_sums) {
                *total += piece;
            }
        }
        // The first pass counts as a change whatever it finds, as from no labels at all.
        let changed = reassigned || iteration == 0;
        if counts.contains(&0.0) {
            refill_empty(data, &mut centres, &labels, &counts);
        }
        for cluster in 0..k {
            if counts[cluster] == 0.0 {
                continue;
            }
            for (c, s) in centres[cluster * d..(cluster + 1) * d]
                .iter_mut()
                .zip(&sums[cluster * d..(cluster + 1) * d])
            {
                *c = s / counts[cluster];
            }
        }
        if !changed {
            break;
        }
    }
    let (_, pieces) = assign(
        data,
        &centres,
        &mut labels,
        || (SufficientStats::zeros(k, d, centres.clone()), vec![0.0; d]),
        |(stats, diff), i, x, label| {
            for ((out, v), c) in diff
                .iter_mut()
                .zip(x)
                .zip(&centres[label * d..(label + 1) * d])
            {
                *out = v - c;
            }
            stats.add(label, weight(i), diff);
        },
    );
    let mut stats = SufficientStats::zeros(k, d, centres.clone());
    for (piece, _) in &pieces {
        stats.merge(piece);
    }
    // The starts are the same for soft and hard EM (hard only changes later M-steps' weights
    // by rounding), so that the two compare from one θ(0).
    m_step(&stats, data, &soft(config), 0)
}

/// Moves the centre of each empty cluster (count 0), in cluster order, onto the point (of
/// positive weight) farthest from its nearest centre as `labels` assigned it, the last such
/// point on a tie; a point taken counts as distance 0 for the clusters after it.
fn refill_empty(data: &Dataset, centres: &mut [f64], labels: &[Label], counts: &[f64]) {
    let d = data.dim();
    // The distances are to the centres as assigned, before any of them moves.
    let assigned = centres.to_vec();
    let mut taken: Vec<usize> = Vec::new();
    for (cluster, _) in counts.iter().enumerate().filter(|(_, c)| **c == 0.0) {
        let far = (0..data.len())
            .filter(|&i| data.weights().is_none_or(|weights| weights[i] > 0.0))
            .map(|i| {
                let distance = if taken.contains(&i) {
                    0.0
                } else {
                    distance_to(data.row(i), &assigned, labels[i], d)
                };
                (i, distance)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(0, |(i, _)| i);
        centres[cluster * d..(cluster + 1) * d].copy_from_slice(data.row(far));
        taken.push(far);
    }
}

/// The squared distance from `x` to centre `label` of the flat `centres` (D values each).
fn distance_to(x: &[f64], centres: &[f64], label: Label, d: usize) -> f64 {
    let start = usize::from(label) * d;
    squared_distance(x, &centres[start..start + d])
}

/// Centre index `index` as a [`Label`]; [`kmeans`] has checked that K fits.
fn label_of(index: usize) -> Label {
    Label::try_from(index).unwrap_or(Label::MAX)
}

/// An index below `n` drawn with probability ∝ `score(i)` (≥ 0), or `None` if the scores sum
/// to 0 (or NaN). A score of 0 is never drawn. The scores are computed on demand: summed per
/// piece of [`INIT_CHUNK`] indices in parallel (in index order within a piece, the pieces in
/// order), then walked within the piece where the draw falls, so no per-point array is held.
fn draw_proportional(
    n: usize,
    score: impl Fn(usize) -> f64 + Sync,
    rng: &mut StdRng,
) -> Option<usize> {
    let pieces: Vec<(usize, usize)> = (0..n)
        .step_by(INIT_CHUNK)
        .map(|start| (start, (start + INIT_CHUNK).min(n)))
        .collect();
    let totals: Vec<f64> = pieces
        .par_iter()
        .map(|&(start, end)| (start..end).map(&score).sum())
        .collect();
    let total: f64 = totals.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let target = rng.random::<f64>() * total;
    let mut before = 0.0;
    for (&(start, end), &piece_total) in pieces.iter().zip(&totals) {
        // The draw falls in this piece, unless rounding leaves it just past the piece's own
        // running sum: then the walk goes on into the next ones.
        if before + piece_total >= target {
            let mut cumulative = before;
            for i in start..end {
                let w = score(i);
                cumulative += w;
                if w > 0.0 && cumulative >= target {
                    return Some(i);
                }
            }
        }
        before += piece_total;
    }
    // Rounding left the target past every running sum: the last index with a positive score.
    (0..n).rposition(|i| score(i) > 0.0)
}

/// Assigns each point to its nearest centre (the first on a tie) and hands `visit` a piece's
/// state (made by `state`), the point's index, values and new label, in point order within
/// each piece of [`INIT_CHUNK`] points; the pieces run in parallel. Returns whether any label
/// changed, and every piece's state in piece order.
///
/// The start at 10⁸ points is mostly these passes, so D = 1, 2 and 3 get a copy whose loops
/// over the coordinates have a fixed length and unroll; the arithmetic and its order are the
/// same, so are the bits.
fn assign<S: Send>(
    data: &Dataset,
    centres: &[f64],
    labels: &mut [Label],
    state: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, usize, &[f64], usize) + Sync,
) -> (bool, Vec<S>) {
    let d = data.dim();
    let pieces: Vec<(bool, S)> = labels
        .par_chunks_mut(INIT_CHUNK)
        .zip(data.values().par_chunks(INIT_CHUNK * d))
        .enumerate()
        .map(|(piece, (labels, values))| {
            let first = piece * INIT_CHUNK;
            let mut piece_state = state();
            let mut visit = |i: usize, x: &[f64], label: usize| {
                visit(&mut piece_state, first + i, x, label);
            };
            let changed = match d {
                1 => assign_fixed::<1>(values, centres, labels, &mut visit),
                2 => assign_fixed::<2>(values, centres, labels, &mut visit),
                3 => assign_fixed::<3>(values, centres, labels, &mut visit),
                d => assign_rows(
                    values.chunks_exact(d),
                    centres.chunks_exact(d),
                    labels,
                    &mut visit,
                ),
            };
            (changed, piece_state)
        })
        .collect();
    let changed = pieces.iter().any(|(changed, _)| *changed);
    (
        changed,
        pieces.into_iter().map(|(_, state)| state).collect(),
    )
}

/// [`assign`] for a piece of points of dimension `D`.
fn assign_fixed<const D: usize>(
    values: &[f64],
    centres: &[f64],
    labels: &mut [Label],
    visit: impl FnMut(usize, &[f64], usize),
) -> bool {
    let (rows, _) = values.as_chunks::<D>();
    let (centres, _) = centres.as_chunks::<D>();
    assign_rows(
        rows.iter().map(|x| x.as_slice()),
        centres.iter().map(|c| c.as_slice()),
        labels,
        visit,
    )
}

/// The loop of [`assign`] over `rows`, the points, and `centres`, each a D-vector.
fn assign_rows<'a>(
    rows: impl Iterator<Item = &'a [f64]>,
    centres: impl Iterator<Item = &'a [f64]> + Clone,
    labels: &mut [Label],
    mut visit: impl FnMut(usize, &[f64], usize),
) -> bool {
    let mut changed = false;
    for (i, (x, label)) in rows.zip(labels.iter_mut()).enumerate() {
        let (best, _) = centres
            .clone()
            .map(|c| squared_distance(x, c))
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |acc, (i, dd)| if dd < acc.1 { (i, dd) } else { acc },
            );
        let new_label = label_of(best);
        changed |= *label != new_label;
        *label = new_label;
        visit(i, x, best);
    }
    changed
}

/// K distinct data points as means, the data covariance (plus reg_covar) for each, equal weights.
fn random_from_data(
    data: &Dataset,
    k: usize,
    config: &EmConfig,
    rng: &mut StdRng,
) -> Result<Mixture, EmError> {
    let (n, d) = (data.len(), data.dim());
    let mut means: Vec<f64> = Vec::with_capacity(k * d);
    if let Some(weights) = data.weights() {
        // Sampling without replacement ∝ w: each point of positive weight gets the key
        // ln(u)/w (u uniform in (0, 1]), and the points are taken by decreasing key
        // (Efraimidis and Spirakis 2006); weight 0 never enters.
        let mut keyed: Vec<(f64, usize)> = weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0.0)
            .map(|(i, w)| ((1.0 - rng.random::<f64>()).ln() / w, i))
            .collect();
        keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in keyed {
            if means.len() == k * d {
                break;
            }
            let candidate = data.row(i);
            if means.chunks_exact(d).all(|m| m != candidate) {
                means.extend_from_slice(candidate);
            }
        }
    } else {
        // A partial Fisher–Yates shuffle visits points in random order until K distinct ones
        // are found. Only the positions it has swapped are stored (position → point), not the
        // whole order of n indices: the same draws without 8·n bytes beside the data.
        let mut moved: HashMap<usize, usize> = HashMap::new();
        for i in 0..n {
            if means.len() == k * d {
                break;
            }
            let j = rng.random_range(i..n);
            // Position i is never visited again, so only position j keeps what was at i.
            let at_i = moved.remove(&i).unwrap_or(i);
            let at_j = if j == i {
                at_i
            } else {
                moved.insert(j, at_i).unwrap_or(j)
            };
            let candidate = data.row(at_j);
            if means.chunks_exact(d).all(|m| m != candidate) {
                means.extend_from_slice(candidate);
            }
        }
    }
    if means.len() < k * d {
        return Err(EmError::TooFewDistinctPoints {
            distinct: means.len() / d,
            k,
        });
    }
    let reg_covar = config.reg_covar;
    let (_, covariance) = data.mean_and_covariance();
    let covariance = config.covariance.shape(d, covariance, reg_covar);
    let covariances = covariance.repeat(k);
    Mixture::from_flat(d, vec![1.0; k], means, covariances)
        .map_err(|_| EmError::SingularData { reg_covar })
}

/// Random responsibilities (uniform, normalised per point), then an M-step.
fn random_responsibilities(
    data: &Dataset,
    k: usize,
    config: &EmConfig,
    rng: &mut StdRng,
) -> Result<Mixture, EmError> {
    let d = data.dim();
    let (centre, _) = data.mean_and_covariance();
    let mut stats = SufficientStats::zeros(k, d, centre.repeat(k));
    let mut diff = vec![0.0; d];
    let mut draws = vec![0.0; k];
    for (i, x) in data.rows().enumerate() {
        // Unweighted points count 1, which multiplies without changing a bit.
        let weight = data.weights().map_or(1.0, |weights| weights[i]);
        draws.iter_mut().for_each(|r| *r = rng.random::<f64>());
        let total: f64 = draws.iter().sum();
        for ((out, v), c) in diff.iter_mut().zip(x).zip(&centre) {
            *out = v - c;
        }
        for (component, r) in draws.iter().enumerate() {
            stats.add(component, weight * (r / total), &diff);
        }
    }
    m_step(&stats, data, &soft(config), 0)
}

/// `config` as soft EM: starts do not depend on [`EmConfig::hard`].
fn soft(config: &EmConfig) -> EmConfig {
    EmConfig {
        hard: false,
        ..*config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_blobs() -> Dataset {
        let mut values = Vec::new();
        for i in 0..50 {
            let t = i as f64 / 50.0;
            values.extend([t, 1.0 - t, 10.0 + t, 10.0 - t]);
        }
        Dataset::new(2, values).unwrap()
    }

    #[test]
    fn every_method_is_valid_and_deterministic() {
        let data = two_blobs();
        for method in [
            InitMethod::KMeansPlusPlus,
            InitMethod::RandomFromData,
            InitMethod::Random,
        ] {
            let a = initialise(&data, 2, method, &EmConfig::default(), 7).unwrap();
            let b = initialise(&data, 2, method, &EmConfig::default(), 7).unwrap();
            assert_eq!(a, b, "{}", method.name());
            assert_eq!(a.k(), 2);
            assert!((a.weights().iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    /// Past one piece ([`INIT_CHUNK`] points) the k-means start runs in parallel pieces: the
    /// same θ(0) on 1, 2 or 3 threads, with and without weights, at D = 2 (the unrolled
    /// assignment) and D = 5 (the general one).
    #[test]
    fn the_kmeans_start_does_not_depend_on_the_threads() {
        let n = 3 * INIT_CHUNK + 1234;
        for d in [2usize, 5] {
            let values: Vec<f64> = (0..n * d)
                .map(|i| {
                    let point = i / d;
                    ((i * 7919) % 1009) as f64 / 101.0 + 8.0 * (point % 3) as f64
                })
                .collect();
            let weights: Vec<f64> = (0..n).map(|i| (i % 4) as f64).collect();
            for weighted in [false, true] {
                let mut data = Dataset::new(d, values.clone()).unwrap();
                if weighted {
                    let weights = crate::em::dataset::Weights::new(weights.clone()).unwrap();
                    data = data.with_weights(weights).unwrap();
                }
                let start = |threads: usize| {
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap()
                        .install(|| {
                            initialise(
                                &data,
                                3,
                                InitMethod::KMeansPlusPlus,
                                &EmConfig::default(),
                                5,
                            )
                        })
                        .unwrap()
                };
                let one = start(1);
                assert_eq!(one, start(2), "d {d}, weighted {weighted}");
                assert_eq!(one, start(3), "d {d}, weighted {weighted}");
            }
        }
    }

    #[test]
    fn kmeans_finds_the_two_blobs() {
        let m = initialise(
            &two_blobs(),
            2,
            InitMethod::KMeansPlusPlus,
            &EmConfig::default(),
            3,
        )
        .unwrap();
        let mut firsts: Vec<f64> = (0..2).map(|c| m.mean(c)[0]).collect();
        firsts.sort_by(f64::total_cmp);
        assert!(
            (firsts[0] - 0.49).abs() < 1e-9 && (firsts[1] - 10.49).abs() < 1e-9,
            "{firsts:?}"
        );
        assert!((m.weights()[0] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn empty_clusters_take_the_farthest_points_in_turn() {
        // Everything assigned to centre 0 (at 0); clusters 1 and 2 are empty. Cluster 1 takes
        // the farthest point (9), cluster 2 the farthest left (the last of the two at 5).
        let data = Dataset::new(1, vec![0.0, 5.0, 9.0, 5.0, 1.0]).unwrap();
        let mut centres = vec![0.0, 100.0, 200.0];
        refill_empty(&data, &mut centres, &[0; 5], &[5.0, 0.0, 0.0]);
        assert_eq!(centres, vec![0.0, 9.0, 5.0]);
        // Each point counts its distance to its own assigned centre (point 9 is 1 from 8).
        let mut centres = vec![0.0, 8.0, 200.0];
        refill_empty(&data, &mut centres, &[0, 0, 1, 0, 0], &[4.0, 1.0, 0.0]);
        assert_eq!(centres, vec![0.0, 8.0, 5.0]);
    }

    #[test]
    fn too_few_distinct_points_is_an_error() {
        let data = Dataset::new(1, vec![1.0, 1.0, 2.0, 2.0, 2.0]).unwrap();
        for method in [InitMethod::KMeansPlusPlus, InitMethod::RandomFromData] {
            assert_eq!(
                initialise(&data, 3, method, &EmConfig::default(), 1).unwrap_err(),
                EmError::TooFewDistinctPoints { distinct: 2, k: 3 }
            );
        }
        assert_eq!(
            initialise(&data, 6, InitMethod::Random, &EmConfig::default(), 1).unwrap_err(),
            EmError::TooFewPoints { n: 5, k: 6 }
        );
    }
}
