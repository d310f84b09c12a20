//! Figures of a fit as SVG, drawn with `plotters` (SVG backend only): the data panel of the
//! explorer (points coloured by their most likely component, grey where no component has a
//! responsibility of at least 0.9, each component's 1σ and 2σ ellipses on the plotted pair and its
//! mean) above the log-likelihood trace. For D = 1 the top panel shows each component's weighted
//! density λ_k φ_k(x) over the points.
//!
//! Used by `mixplore plot` and by the explorer's `P` key; it only draws what it is given, so each
//! caller decides which points and which iteration (no terminal code, no fitting here).

use std::f64::consts::TAU;

use plotters::prelude::*;

use crate::em::Mixture;

/// Figure size in pixels (width, height).
pub const SIZE: (u32, u32) = (960, 720);

/// Height of the data panel; the trace takes the rest.
const DATA_PANEL_HEIGHT: u32 = 500;

/// Points per ellipse outline.
const ELLIPSE_POINTS: usize = 120;

/// Component colours, in the explorer's order: the Okabe–Ito colour-vision-safe palette (orange,
/// sky blue, bluish green, vermillion, blue, reddish purple, then a yellow darkened to read on
/// white), as the explorer's light theme shows them.
const PALETTE: [RGBColor; 7] = [
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(175, 160, 0),
];

/// Points no component claims surely.
const UNSURE: RGBColor = RGBColor(170, 170, 170);

/// The colour of component `k` (0-based), as in the SVG.
pub fn component_colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// What a figure shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title above the data panel.
    pub title: String,
    /// Names of the plotted dimensions (x, then y; y unused for D = 1).
    pub axis_names: (String, String),
    /// The plotted dimensions (0-based).
    pub dims: (usize, usize),
    /// The points drawn: their coordinates on the plotted pair (y ignored for D = 1) and their
    /// most likely component, `None` when unsure (grey).
    pub points: Vec<((f64, f64), Option<usize>)>,
    /// The parameters whose components are outlined.
    pub mixture: Mixture,
    /// The log-likelihood at each iteration 0..=t of the trace drawn.
    pub trace: Vec<f64>,
    /// The colour slot of each component (the explorer keeps a component's colour across
    /// restarts); a component without one takes its own index.
    pub colours: Vec<usize>,
}

impl Figure {
    /// The colour of component `k`.
    fn colour(&self, k: usize) -> RGBColor {
        component_colour(self.colours.get(k).copied().unwrap_or(k))
    }
}

/// The 1σ or 2σ (`scale`) ellipse of component `k` on the dimensions `dims`, as a closed path:
/// x = μ + scale · V Λ^½ (cos t, sin t) with Σ = V Λ Vᵀ the 2×2 block's eigen-decomposition.
pub fn ellipse_path(
    mixture: &Mixture,
    k: usize,
    dims: (usize, usize),
    scale: f64,
) -> Vec<(f64, f64)> {
    let d = mixture.dim();
    let (x, y) = dims;
    let mean = mixture.mean(k);
    let covariance = mixture.covariance(k);
    let block = nalgebra::Matrix2::new(
        covariance[x * d + x],
        covariance[x * d + y],
        covariance[y * d + x],
        covariance[y * d + y],
    );
    let eigen = nalgebra::SymmetricEigen::new(block);
    let axes = eigen.eigenvectors
        * nalgebra::Matrix2::from_diagonal(&eigen.eigenvalues.map(|v| v.max(0.0).sqrt()));
    (0..=ELLIPSE_POINTS)
        .map(|i| {
            let t = TAU * i as f64 / ELLIPSE_POINTS as f64;
            let offset = axes * nalgebra::Vector2::new(t.cos(), t.sin()) * scale;
            (mean[x] + offset[0], mean[y] + offset[1])
        })
        .collect()
}

/// The range of `values` padded by 5% on each side (a unit range around a constant).
fn padded(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !low.is_finite() {
        return 0.0..1.0;
    }
    // A constant (one iteration's trace, one point) gets a unit range, so that the ticks differ.
    let pad = if high > low {
        ((high - low) * 0.05).max(high.abs().max(low.abs()) * 1e-9)
    } else {
        1.0
    };
    (low - pad)..(high + pad)
}

/// Draws `figure` as an SVG document.
pub fn render_svg(figure: &Figure) -> Result<String, String> {
    let mut svg = String::new();
    draw(figure, &mut svg).map_err(|error| format!("cannot draw the figure: {error}"))?;
    Ok(svg)
}

fn draw(figure: &Figure, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(DATA_PANEL_HEIGHT);
    if figure.mixture.dim() == 1 {
        draw_densities(figure, &top)?;
    } else {
        draw_scatter(figure, &top)?;
    }
    draw_trace(figure, &bottom)?;
    root.present()?;
    Ok(())
}

type Area<'a, 'b> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw_scatter(figure: &Figure, area: &Area) -> Result<(), Box<dyn std::error::Error>> {
    let mixture = &figure.mixture;
    let outlines: Vec<[Vec<(f64, f64)>; 2]> = (0..mixture.k())
        .map(|k| [1.0, 2.0].map(|scale| ellipse_path(mixture, k, figure.dims, scale)))
        .collect();
    let xs = figure.points.iter().map(|((x, _), _)| *x);
    let ys = figure.points.iter().map(|((_, y), _)| *y);
    let outline_points = || outlines.iter().flat_map(|pair| pair[1].iter().copied());
    let x_range = padded(xs.chain(outline_points().map(|p| p.0)));
    let y_range = padded(ys.chain(outline_points().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(&figure.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(figure.axis_names.0.as_str())
        .y_desc(figure.axis_names.1.as_str())
        .draw()?;
    // Unsure points first, so the coloured ones are drawn over them.
    let unsure = figure.points.iter().filter(|(_, c)| c.is_none());
    chart.draw_series(unsure.map(|(point, _)| Circle::new(*point, 2, UNSURE.filled())))?;
    let sure = figure.points.iter().filter_map(|(p, c)| c.map(|c| (*p, c)));
    chart
        .draw_series(sure.map(|(point, c)| Circle::new(point, 2, component_colour(c).filled())))?;
    for (k, [one, two]) in outlines.into_iter().enumerate() {
        let colour = component_colour(k);
        chart.draw_series(std::iter::once(PathElement::new(
            one,
            colour.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            two,
            colour.stroke_width(1),
        )))?;
        let mean = mixture.mean(k);
        chart.draw_series(std::iter::once(Cross::new(
            (mean[figure.dims.0], mean[figure.dims.1]),
            6,
            BLACK.stroke_width(2),
        )))?;
    }
    Ok(())
}

fn draw_densities(figure: &Figure, area: &Area) -> Result<(), Box<dyn std::error::Error>> {
    let mixture = &figure.mixture;
    let x_range = padded(figure.points.iter().map(|((x, _), _)| *x).chain(
        (0..mixture.k()).flat_map(|k| {
            let sd = mixture.covariance(k)[0].sqrt();
            [mixture.mean(k)[0] - 3.0 * sd, mixture.mean(k)[0] + 3.0 * sd]
        }),
    ));
    let grid: Vec<f64> = (0..=400)
        .map(|i| x_range.start + (x_range.end - x_range.start) * i as f64 / 400.0)
        .collect();
    let density = |k: usize, x: f64| {
        let (mean, variance) = (mixture.mean(k)[0], mixture.covariance(k)[0]);
        mixture.weights()[k] * (-(x - mean) * (x - mean) / (2.0 * variance)).exp()
            / (TAU * variance).sqrt()
    };
    let top = (0..mixture.k())
        .flat_map(|k| grid.iter().map(move |&x| density(k, x)))
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(&figure.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, -0.05 * top..top)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(figure.axis_names.0.as_str())
        .y_desc("weighted density")
        .draw()?;
    let rug = figure.points.iter().map(|((x, _), c)| {
        let colour = c.map_or(UNSURE, |c| figure.colour(c));
        Circle::new((*x, -0.025 * top), 2, colour.filled())
    });
    chart.draw_series(rug)?;
    for k in 0..mixture.k() {
        chart.draw_series(LineSeries::new(
            grid.iter().map(|&x| (x, density(k, x))),
            figure.colour(k).stroke_width(2),
        ))?;
    }
    Ok(())
}

fn draw_trace(figure: &Figure, area: &Area) -> Result<(), Box<dyn std::error::Error>> {
    let last = figure.trace.len().saturating_sub(1).max(1) as f64;
    let y_range = padded(figure.trace.iter().copied());
    let caption = match figure.trace.last() {
        Some(value) => format!(
            "log-likelihood {value:.3} at iteration {}",
            figure.trace.len() - 1
        ),
        None => "log-likelihood".to_owned(),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..last, y_range)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("iteration")
        .y_desc("log-likelihood")
        .draw()?;
    chart.draw_series(LineSeries::new(
        figure
            .trace
            .iter()
            .enumerate()
            .map(|(t, value)| (t as f64, *value)),
        BLACK.stroke_width(2),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::em::MixtureParams;

    #[test]
    fn ellipses_have_the_covariance_s_axes() {
        // Σ = diag(4, 1): the 1σ ellipse reaches x = μ ± 2 and y = μ ± 1.
        let mixture = Mixture::from_params(&MixtureParams {
            weights: vec![1.0],
            means: vec![vec![1.0, 2.0]],
            covariances: vec![vec![vec![4.0, 0.0], vec![0.0, 1.0]]],
        })
        .unwrap();
        let path = ellipse_path(&mixture, 0, (0, 1), 1.0);
        let max_x = path.iter().map(|p| p.0).fold(f64::MIN, f64::max);
        let max_y = path.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        assert!(
            (max_x - 3.0).abs() < 1e-9 && (max_y - 3.0).abs() < 1e-3,
            "{max_x} {max_y}"
        );
        let two = ellipse_path(&mixture, 0, (0, 1), 2.0);
        let max_x2 = two.iter().map(|p| p.0).fold(f64::MIN, f64::max);
        assert!((max_x2 - 5.0).abs() < 1e-9);
    }
}
