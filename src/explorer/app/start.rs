//! Starts set by hand (`a`): a working copy of θ(0) whose components the user moves, stretches,
//! turns and reweighs on the plotted pair of dimensions, before running EM from it. Every change
//! goes through [`Mixture::from_params`], so the start is always a valid mixture.

use std::f64::consts::PI;
use std::sync::Arc;

use crate::em::{Mixture, MixtureParams};

/// How far an arrow moves a mean: this share of the plotted range.
const MOVE_SHARE: f64 = 0.03;
/// How much `+` / `-` scale a covariance.
const SCALE: f64 = 1.25;
/// How far `<` / `>` turn a covariance in the plotted plane.
const TURN: f64 = PI / 12.0;
/// How much `]` / `[` add to or take from a weight (before renormalising).
const WEIGHT_STEP: f64 = 0.05;

/// One change to the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    /// Move the chosen mean by (dx, dy) shares of the plotted ranges.
    Move(f64, f64),
    /// Scale the chosen covariance by this factor.
    Scale(f64),
    /// Turn the chosen covariance by this angle (radians) in the plotted plane.
    Turn(f64),
    /// Add this to the chosen weight (then all are renormalised).
    Weight(f64),
}

impl Edit {
    /// Moves by one step in a direction (−1, 0, 1 per axis).
    pub fn step(dx: f64, dy: f64) -> Self {
        Self::Move(dx * MOVE_SHARE, dy * MOVE_SHARE)
    }

    /// Scales up (`true`) or down.
    pub fn scale(up: bool) -> Self {
        Self::Scale(if up { SCALE } else { 1.0 / SCALE })
    }

    /// Turns anticlockwise (`true`) or clockwise.
    pub fn turn(anticlockwise: bool) -> Self {
        Self::Turn(if anticlockwise { TURN } else { -TURN })
    }

    /// More (`true`) or less weight.
    pub fn weight(more: bool) -> Self {
        Self::Weight(if more { WEIGHT_STEP } else { -WEIGHT_STEP })
    }
}

/// The start being set.
#[derive(Debug, Clone, PartialEq)]
pub struct StartEditor {
    /// The start as it stands.
    pub mixture: Arc<Mixture>,
    /// The component the keys act on.
    pub component: usize,
    /// Why the last edit was refused, if it was.
    pub refused: Option<String>,
}

impl StartEditor {
    /// Starts editing from `mixture`.
    pub fn new(mixture: Arc<Mixture>) -> Self {
        Self {
            mixture,
            component: 0,
            refused: None,
        }
    }

    /// The next (or previous) component.
    pub fn cycle(&mut self, forward: bool) {
        let k = self.mixture.k();
        self.component = if forward {
            (self.component + 1) % k
        } else {
            (self.component + k - 1) % k
        };
    }

    /// Applies `edit` to the chosen component on the plotted dimensions `(x, y)` whose ranges
    /// are `ranges`; an edit that would leave no valid mixture changes nothing and says why.
    pub fn apply(&mut self, edit: Edit, (x, y): (usize, usize), ranges: [(f64, f64); 2]) {
        let mut params = self.mixture.to_params();
        let c = self.component;
        let d = self.mixture.dim();
        match edit {
            Edit::Move(dx, dy) => {
                params.means[c][x] += dx * (ranges[0].1 - ranges[0].0);
                if d > 1 {
                    params.means[c][y] += dy * (ranges[1].1 - ranges[1].0);
                }
            }
            Edit::Scale(factor) => {
                for row in &mut params.covariances[c] {
                    for value in row {
                        *value *= factor;
                    }
                }
            }
            Edit::Turn(angle) if d > 1 => {
                // Σ' = R Σ Rᵀ with R the rotation by `angle` in the (x, y) plane.
                let (sin, cos) = angle.sin_cos();
                let cov = &mut params.covariances[c];
                // Rows x and y, then columns x and y.
                let (row_x, row_y) = (cov[x].clone(), cov[y].clone());
                for (j, (a, b)) in row_x.iter().zip(&row_y).enumerate() {
                    cov[x][j] = cos * a - sin * b;
                    cov[y][j] = sin * a + cos * b;
                }
                for row in cov.iter_mut() {
                    let (a, b) = (row[x], row[y]);
                    row[x] = cos * a - sin * b;
                    row[y] = sin * a + cos * b;
                }
            }
            Edit::Turn(_) => {
                self.refused = Some("turning needs two dimensions".into());
                return;
            }
            Edit::Weight(change) => {
                let total: f64 = params.weights.iter().sum();
                params.weights[c] = (params.weights[c] / total + change).max(0.01);
            }
        }
        match Mixture::from_params(&params) {
            Ok(mixture) => {
                self.mixture = Arc::new(mixture);
                self.refused = None;
            }
            Err(error) => self.refused = Some(error.to_string()),
        }
    }

    /// The start as nested parameters (what `--init-params` reads).
    pub fn params(&self) -> MixtureParams {
        self.mixture.to_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Arc<Mixture> {
        Arc::new(
            Mixture::from_params(&MixtureParams {
                weights: vec![0.5, 0.5],
                means: vec![vec![0.0, 0.0], vec![4.0, 0.0]],
                covariances: vec![
                    vec![vec![2.0, 0.0], vec![0.0, 1.0]],
                    vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                ],
            })
            .unwrap(),
        )
    }

    const RANGES: [(f64, f64); 2] = [(0.0, 10.0), (-5.0, 5.0)];

    #[test]
    fn moves_scales_turns_and_reweighs_the_chosen_component() {
        let mut editor = StartEditor::new(two());
        editor.cycle(true);
        editor.apply(Edit::step(1.0, -1.0), (0, 1), RANGES);
        assert!((editor.mixture.mean(1)[0] - 4.3).abs() < 1e-12);
        assert!((editor.mixture.mean(1)[1] + 0.3).abs() < 1e-12);
        assert_eq!(editor.mixture.mean(0), &[0.0, 0.0]);
        editor.cycle(false);
        editor.apply(Edit::scale(true), (0, 1), RANGES);
        assert!((editor.mixture.covariance(0)[0] - 2.5).abs() < 1e-12);
        // A quarter turn swaps the variances of x and y.
        let mut turned = StartEditor::new(two());
        for _ in 0..6 {
            turned.apply(Edit::turn(true), (0, 1), RANGES);
        }
        let cov = turned.mixture.covariance(0);
        assert!((cov[0] - 1.0).abs() < 1e-12 && (cov[3] - 2.0).abs() < 1e-12);
        assert!(cov[1].abs() < 1e-12);
        turned.apply(Edit::weight(true), (0, 1), RANGES);
        let w = turned.mixture.weights();
        assert!((w[0] - 0.55 / 1.05).abs() < 1e-12 && (w[0] + w[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_collapsing_covariance_is_refused_and_changes_nothing() {
        let mut editor = StartEditor::new(two());
        let before = Arc::clone(&editor.mixture);
        editor.apply(Edit::Scale(0.0), (0, 1), RANGES);
        assert!(editor.refused.is_some());
        assert_eq!(*editor.mixture, *before);
    }
}
