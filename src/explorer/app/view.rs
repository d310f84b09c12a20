//! What the panels draw, prepared once per change (a snapshot arrives, the shown iteration or
//! phase moves, the axes or the inspected point change) so that drawing a frame only formats:
//! no E-step, no matching, no sampling on the render path.

use std::f64::consts::TAU;
use std::sync::Arc;

use crate::em::{Mixture, component_log_densities, match_components};

use super::timeline::{Phase, Timeline};

/// A point whose largest responsibility is at least this is drawn as surely assigned.
pub const SURE: f64 = 0.9;

/// Segments per ellipse outline: smooth at any panel size a terminal has.
const ELLIPSE_SEGMENTS: usize = 72;

/// A point of the canvas, in data units.
pub type Point = (f64, f64);

/// One component's mean and its 1σ and 2σ ellipse outlines on the plotted pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The mean on the plotted dimensions.
    pub centre: Point,
    /// The 1σ and 2σ outlines.
    pub ellipses: [Vec<Point>; 2],
}

/// The E-step at the inspected point, with its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The data row (0-based).
    pub row: usize,
    /// Its coordinates.
    pub point: Vec<f64>,
    /// ln φ_k(x) per component.
    pub log_densities: Vec<f64>,
    /// ln λ_k φ_k(x) per component.
    pub log_shares: Vec<f64>,
    /// r_k per component.
    pub responsibilities: Vec<f64>,
    /// ln Σ_k λ_k φ_k(x): the point's log-likelihood.
    pub log_likelihood: f64,
    /// The iteration t of the parameters used (θ(t)).
    pub iteration: usize,
}

/// The numbers of one EM iteration as the lecture notes derive it: the E-step at θ(t) and the
/// M-step to θ(t+1), with Q and the entropy that explain why the log-likelihood rises.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivationView {
    /// t: the E-step at θ(t) is shown (its colours are on screen) and the M-step to θ(t+1).
    pub t: usize,
    /// Number of data points n.
    pub n: usize,
    /// Σ_i w_i when the points have sample weights (then N_k = Σ_i w_i r_ik, λ_k = N_k / Σ w).
    pub total_weight: Option<f64>,
    /// θ(t).
    pub current: Arc<Mixture>,
    /// θ(t+1), once computed and kept.
    pub next: Option<Arc<Mixture>>,
    /// Whether θ(t+1) is the M-step's result beyond the newest iteration: no pass at it yet,
    /// so no log-likelihood (and, when the run has stopped, never one).
    pub next_beyond: bool,
    /// Whether the run stopped at t (converged, a saddle, the iteration cap).
    pub stopped: bool,
    /// Some points (data row, their responsibilities r_ik under θ(t)).
    pub points: Vec<(usize, Vec<f64>)>,
    /// N_k = Σ_i r_ik at θ(t).
    pub totals: Option<Arc<[f64]>>,
    /// log L(θ(t)).
    pub log_likelihood: f64,
    /// Q(θ(t) | θ(t)).
    pub q: Option<f64>,
    /// H(t).
    pub entropy: Option<f64>,
    /// log L(θ(t+1)), once computed.
    pub next_log_likelihood: Option<f64>,
    /// Q(θ(t+1) | θ(t)), once computed.
    pub q_next: Option<f64>,
}

/// Everything drawn of the shown iteration.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The shown iteration t.
    pub iteration: usize,
    /// The half-step phase shown (None outside half-step mode).
    pub phase: Option<Phase>,
    /// θ(t), once kept or re-derived.
    pub params: Option<Arc<Mixture>>,
    /// θ(t − 1), when kept (never an older iteration).
    pub previous: Option<Arc<Mixture>>,
    /// The iteration whose E-step coloured the points (None: not coloured yet, at θ(0) before
    /// its first E-step).
    pub coloured_by: Option<usize>,
    /// The parameters of that E-step.
    pub colouring: Option<Arc<Mixture>>,
    /// Most likely component of each drawn point (by position in the drawn sample).
    pub labels: Option<Arc<[u16]>>,
    /// Positions in the drawn sample whose component the shown E-step changed.
    pub changed: Vec<usize>,
    /// Positions in the drawn sample whose assignment is uncertain (largest responsibility
    /// below [`SURE`]) in the E-step whose colours are shown.
    pub uncertain: Vec<usize>,
    /// The shown iteration's parameters are being re-derived by the worker.
    pub pending: bool,
    /// For each fitted component, the true component matched to it.
    pub truth_match: Vec<Option<usize>>,
    /// Fitted components' outlines on the plotted pair.
    pub outlines: Vec<Outline>,
    /// Reference (true or previewed) components' outlines on the plotted pair.
    pub references: Vec<Outline>,
    /// Data ranges of the plotted dimensions, padded.
    pub x_range: (f64, f64),
    /// See `x_range`.
    pub y_range: (f64, f64),
    /// The inspector's numbers.
    pub inspection: Option<Inspection>,
    /// Counts of drawn points by fitted component (rows) and true class (columns).
    pub confusion: Option<Vec<Vec<usize>>>,
    /// The derivation's numbers, while its panel is open.
    pub derivation: Option<DerivationView>,
}

/// The parts of the view that only change with the data or the axes.
#[derive(Debug, Clone, Copy)]
pub struct Axes {
    /// Dimensions on x and y.
    pub dims: (usize, usize),
    /// Padded ranges.
    pub x_range: (f64, f64),
    /// See `x_range`.
    pub y_range: (f64, f64),
}

/// What the view is built from.
pub struct Inputs<'a> {
    /// The run's history and the shown position.
    pub timeline: &'a Timeline,
    /// Whether stepping by half-steps.
    pub half_steps: bool,
    /// The plotted dimensions and their ranges.
    pub axes: Axes,
    /// The true mixture (simulations), to match and maybe draw.
    pub truth: Option<&'a Mixture>,
    /// Reference mixtures to outline (true components when shown, the editor's preview).
    pub references: Vec<Mixture>,
    /// The inspected point's row and coordinates.
    pub inspected: Option<(usize, &'a [f64])>,
    /// The true class of each drawn point, when known, and the number of classes.
    pub truth_labels: Option<(&'a [usize], usize)>,
    /// The points whose responsibilities the derivation panel shows (row, coordinates), when
    /// it is open.
    pub derivation_points: Option<Vec<(usize, &'a [f64])>>,
    /// Number of data points.
    pub n: usize,
    /// Σ_i w_i when the points have sample weights.
    pub total_weight: Option<f64>,
}

impl View {
    /// Prepares everything the panels draw.
    pub fn build(inputs: Inputs) -> Self {
        let timeline = inputs.timeline;
        let t = timeline.shown();
        let phase = if inputs.half_steps {
            timeline.phase()
        } else {
            Phase::AfterEStep
        };
        let shown = timeline.full(t);
        let before = timeline.previous();
        let coloured_by = match phase {
            Phase::AfterEStep => Some(t),
            Phase::AfterMStep => t.checked_sub(1),
        };
        let colouring_full = coloured_by.and_then(|c| timeline.full(c));
        let labels = colouring_full.map(|f| Arc::clone(&f.labels));
        // Points the shown E-step moved: only right after an E-step, against the one before.
        let changed = match (inputs.half_steps, phase, shown, before) {
            (true, Phase::AfterEStep, Some(now), Some(then)) => now
                .labels
                .iter()
                .zip(then.labels.iter())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        };
        let sure = crate::explorer::worker::share_byte(SURE);
        let uncertain = colouring_full
            .map(|f| {
                f.shares
                    .iter()
                    .enumerate()
                    .filter(|(_, share)| **share < sure)
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        let params = shown.map(|f| Arc::clone(&f.params));
        let truth_match = match (&params, inputs.truth) {
            (Some(params), Some(truth)) if truth.dim() == params.dim() => {
                let by_truth = match_components(truth, params);
                let mut by_fitted = vec![None; params.k()];
                for (true_component, fitted) in by_truth.into_iter().enumerate() {
                    if let Some(slot) = fitted.and_then(|f| by_fitted.get_mut(f)) {
                        *slot = Some(true_component);
                    }
                }
                by_fitted
            }
            _ => Vec::new(),
        };
        let dims = inputs.axes.dims;
        let outlines = params
            .as_deref()
            .map(|m| (0..m.k()).map(|k| outline(m, k, dims)).collect())
            .unwrap_or_default();
        let references = inputs
            .references
            .iter()
            .filter(|m| params.as_ref().is_none_or(|p| p.dim() == m.dim()))
            .flat_map(|m| (0..m.k()).map(move |k| outline(m, k, dims)))
            .collect();
        let colouring = colouring_full.map(|f| Arc::clone(&f.params));
        let inspection = match (inputs.inspected, &colouring, coloured_by) {
            (Some((row, point)), Some(params), Some(iteration)) => {
                Some(inspect(row, point, params, iteration))
            }
            _ => None,
        };
        let confusion = match (&labels, inputs.truth_labels, &params) {
            (Some(labels), Some((truth, classes)), Some(params)) => {
                let mut table = vec![vec![0usize; classes]; params.k()];
                for (&fitted, &class) in labels.iter().zip(truth) {
                    if let Some(cell) = table
                        .get_mut(usize::from(fitted))
                        .and_then(|row| row.get_mut(class))
                    {
                        *cell += 1;
                    }
                }
                Some(table)
            }
            _ => None,
        };
        let derivation = match (inputs.derivation_points, coloured_by) {
            (Some(points), Some(c)) => timeline.full(c).map(|full| {
                let entries = timeline.entries();
                let entry = entries.get(c);
                let after = entries.get(c + 1);
                let next = timeline.next_params(c);
                DerivationView {
                    t: c,
                    n: inputs.n,
                    total_weight: inputs.total_weight,
                    current: Arc::clone(&full.params),
                    next: next.map(|(m, _)| Arc::clone(m)),
                    next_beyond: next.is_some_and(|(_, beyond)| beyond),
                    stopped: entry.is_some_and(|e| e.done),
                    points: points
                        .into_iter()
                        .map(|(row, point)| {
                            (row, inspect(row, point, &full.params, c).responsibilities)
                        })
                        .collect(),
                    totals: full.totals.clone(),
                    log_likelihood: entry.map_or(f64::NAN, |e| e.log_likelihood),
                    q: entry.and_then(|e| e.q),
                    entropy: entry.and_then(|e| e.entropy),
                    next_log_likelihood: after.map(|e| e.log_likelihood),
                    q_next: after
                        .and_then(|e| e.q_from_previous)
                        .or(entry.and_then(|e| e.q_next)),
                }
            }),
            _ => None,
        };
        Self {
            derivation,
            iteration: t,
            phase: inputs.half_steps.then_some(phase),
            pending: !timeline.is_empty() && shown.is_none(),
            params,
            previous: before.map(|f| Arc::clone(&f.params)),
            coloured_by,
            colouring,
            labels,
            changed,
            uncertain,
            truth_match,
            outlines,
            references,
            x_range: inputs.axes.x_range,
            y_range: inputs.axes.y_range,
            inspection,
            confusion,
        }
    }
}

/// The E-step at one point.
fn inspect(row: usize, point: &[f64], params: &Mixture, iteration: usize) -> Inspection {
    let log_densities = component_log_densities(params, point);
    let log_shares: Vec<f64> = log_densities
        .iter()
        .zip(params.weights())
        .map(|(l, w)| l + w.ln())
        .collect();
    let max = log_shares.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = log_shares.iter().map(|l| (l - max).exp()).sum();
    Inspection {
        row,
        point: point.to_vec(),
        responsibilities: log_shares.iter().map(|l| (l - max).exp() / total).collect(),
        log_likelihood: max + total.ln(),
        log_densities,
        log_shares,
        iteration,
    }
}

/// The mean of component k on dimensions (x, y) and its 1σ and 2σ ellipse outlines.
pub fn outline(mixture: &Mixture, k: usize, (x, y): (usize, usize)) -> Outline {
    let d = mixture.dim();
    let mean = mixture.mean(k);
    let cov = mixture.covariance(k);
    if d == 1 {
        return Outline {
            centre: (mean[0], 0.0),
            ellipses: [Vec::new(), Vec::new()],
        };
    }
    let centre = (mean[x], mean[y]);
    let (a, b, c) = (cov[x * d + x], cov[x * d + y], cov[y * d + y]);
    Outline {
        centre,
        ellipses: [1.0, 2.0].map(|scale| ellipse(centre, a, b, c, scale)),
    }
}

/// The outline of the `scale`-σ ellipse of a 2×2 covariance [[a, b], [b, c]] around `centre`,
/// from its eigen-decomposition (closed form for a symmetric 2×2 matrix).
pub fn ellipse(centre: Point, a: f64, b: f64, c: f64, scale: f64) -> Vec<Point> {
    let half_trace = 0.5 * (a + c);
    let radius = (0.25 * (a - c) * (a - c) + b * b).sqrt();
    let (major, minor) = (
        (half_trace + radius).max(0.0).sqrt(),
        (half_trace - radius).max(0.0).sqrt(),
    );
    let angle = 0.5 * (2.0 * b).atan2(a - c);
    let (sin, cos) = angle.sin_cos();
    (0..=ELLIPSE_SEGMENTS)
        .map(|i| {
            let t = TAU * i as f64 / ELLIPSE_SEGMENTS as f64;
            let (u, v) = (scale * major * t.cos(), scale * minor * t.sin());
            (centre.0 + u * cos - v * sin, centre.1 + u * sin + v * cos)
        })
        .collect()
}

/// The range of `values`, padded by 5% (and widened if all are equal).
pub fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() || !high.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * 0.05)
        .max(low.abs().max(high.abs()) * 1e-9)
        .max(1e-12);
    (low - pad, high + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipse_of_a_diagonal_covariance() {
        let outline = ellipse((1.0, 2.0), 4.0, 0.0, 1.0, 1.0);
        assert!((outline[0].0 - 3.0).abs() < 1e-12 && (outline[0].1 - 2.0).abs() < 1e-12);
        let quarter = outline[ELLIPSE_SEGMENTS / 4];
        assert!((quarter.0 - 1.0).abs() < 1e-12 && (quarter.1 - 3.0).abs() < 1e-12);
    }

    #[test]
    fn ellipse_of_a_correlated_covariance_follows_the_diagonal() {
        // Σ = [[1, 0.9], [0.9, 1]]: major axis along (1, 1) with variance 1.9.
        let outline = ellipse((0.0, 0.0), 1.0, 0.9, 1.0, 2.0);
        let (x, y) = outline[0];
        assert!((x - y).abs() < 1e-12);
        assert!(((x * x + y * y).sqrt() - 2.0 * 1.9f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn points_below_the_sure_share_are_uncertain() {
        use crate::em::MixtureParams;
        use crate::explorer::worker::Snapshot;
        let params = Mixture::from_params(&MixtureParams {
            weights: vec![0.5, 0.5],
            means: vec![vec![0.0, 0.0], vec![3.0, 0.0]],
            covariances: vec![vec![vec![1.0, 0.0], vec![0.0, 1.0]]; 2],
        })
        .unwrap();
        let mut timeline = Timeline::default();
        timeline.push(
            &Snapshot {
                run_id: 1,
                iteration: 0,
                params: Arc::new(params),
                labels: vec![0u16, 1, 0, 1].into(),
                // 1.0, 0.39, 0.898, 0.902 as bytes: the middle two are below 0.9.
                shares: vec![255u8, 100, 229, 230].into(),
                log_likelihood: -1.0,
                converged: false,
                done: false,
                stop: None,
                derivation: None,
                agreement: None,
            },
            Phase::AfterEStep,
        );
        let view = View::build(Inputs {
            timeline: &timeline,
            half_steps: false,
            axes: Axes {
                dims: (0, 1),
                x_range: (0.0, 1.0),
                y_range: (0.0, 1.0),
            },
            truth: None,
            references: Vec::new(),
            inspected: None,
            truth_labels: None,
            derivation_points: None,
            n: 4,
            total_weight: None,
        });
        assert_eq!(view.uncertain, vec![1, 2]);
        assert_eq!(view.outlines.len(), 2);
    }

    #[test]
    fn padded_ranges_widen_a_single_value() {
        let (low, high) = padded_range([2.0, 2.0].into_iter());
        assert!(low < 2.0 && high > 2.0);
        assert_eq!(padded_range(std::iter::empty()), (0.0, 1.0));
    }
}
