//! What the explorer is looking at: the data, where they came from (to reproduce a run from the
//! command line), and their truth when there is one (a simulation's components or a CSV's truth
//! column).

use std::path::PathBuf;
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

use crate::data::simulate;
use crate::data::spec::Spec;
use crate::em::{Dataset, Mixture, log_likelihood_of};

/// The most points the data panel draws; more than a terminal can show apart at any size.
pub const MAX_DRAWN_POINTS: usize = 20_000;

/// Where the data came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A CSV file (or `-`), with the command-line options that chose its columns, as they
    /// would be written on a `mixplore fit` command line.
    File {
        /// The path as given.
        path: String,
        /// `--columns …`, `--delimiter …` and the like, already quoted for a shell.
        options: Vec<String>,
    },
    /// A spec file.
    Spec(PathBuf),
    /// The built-in default simulation.
    Default,
    /// A simulation edited in the explorer.
    Edited,
}

/// The truth behind simulated data.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The spec the data were drawn from.
    pub spec: Spec,
    /// The total log-likelihood of the data under the true parameters: the reference line.
    pub true_log_likelihood: f64,
}

/// True classes of the data: a simulation's components or a CSV's truth column.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// Where they came from, for the status line ("component", "column species").
    pub name: String,
    /// Class names, in order of their indices.
    pub classes: Vec<String>,
    /// The class (0-based) of every point.
    pub labels: Vec<usize>,
}

/// The explorer's data.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where the data came from, for the status line.
    pub name: String,
    /// Where the data came from, to reproduce a run.
    pub origin: Origin,
    /// Column names, one per dimension.
    pub columns: Vec<String>,
    /// The data.
    pub data: Arc<Dataset>,
    /// The true mixture, when the data were simulated.
    pub simulation: Option<Simulation>,
    /// The true classes, when known.
    pub truth: Option<Truth>,
    /// What loading the data had to say (constant columns and the like), one line each.
    pub warnings: Vec<String>,
}

impl Source {
    /// Data drawn from `spec`, named `name`, with its truth.
    pub fn simulated(spec: Spec, name: impl Into<String>, origin: Origin) -> Self {
        Self::simulated_with_progress(spec, name, origin, |_| {})
    }

    /// [`Source::simulated`], telling `progress` the share done (0 to 1) as the points are drawn.
    pub fn simulated_with_progress(
        spec: Spec,
        name: impl Into<String>,
        origin: Origin,
        mut progress: impl FnMut(f64),
    ) -> Self {
        let n = spec.n.max(1) as f64;
        // Drawing is most of the work; the true log-likelihood takes the last part.
        let simulated = simulate::sample_with_progress(&spec.mixture, spec.n, spec.seed, |done| {
            progress(0.9 * done as f64 / n)
        });
        let data = Arc::new(simulated.data);
        let true_log_likelihood = log_likelihood_of(&data, &spec.mixture);
        let k = spec.k();
        Self {
            // A spec's file name or own name: shown on the status line, so made printable.
            name: crate::text::printable(&name.into()),
            origin,
            columns: (1..=spec.dim()).map(|j| format!("x{j}")).collect(),
            data,
            simulation: Some(Simulation {
                spec,
                true_log_likelihood,
            }),
            truth: Some(Truth {
                name: "true component".into(),
                classes: (1..=k).map(|c| c.to_string()).collect(),
                labels: simulated.labels,
            }),
            warnings: Vec::new(),
        }
    }

    /// Data loaded from a file, without truth.
    pub fn loaded(name: String, origin: Origin, columns: Vec<String>, data: Dataset) -> Self {
        Self {
            name: crate::text::printable(&name),
            origin,
            columns,
            data: Arc::new(data),
            simulation: None,
            truth: None,
            warnings: Vec::new(),
        }
    }

    /// The true mixture, for simulated data.
    pub fn true_mixture(&self) -> Option<&Mixture> {
        self.simulation.as_ref().map(|s| &s.spec.mixture)
    }
}

/// The points the data panel draws: all of them up to [`MAX_DRAWN_POINTS`], else a fixed
/// seeded sample (sorted, so memory is read in order).
pub fn drawn_points(n: usize) -> Vec<usize> {
    if n > MAX_DRAWN_POINTS {
        let mut rng = StdRng::seed_from_u64(0x6d69_7870);
        let mut indices = sample(&mut rng, n, MAX_DRAWN_POINTS).into_vec();
        indices.sort_unstable();
        indices
    } else {
        (0..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_data_draw_a_fixed_sample() {
        let drawn = drawn_points(100_000);
        assert_eq!(drawn.len(), MAX_DRAWN_POINTS);
        assert!(drawn.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(drawn, drawn_points(100_000));
        assert_eq!(drawn_points(10), (0..10).collect::<Vec<_>>());
    }
}
