//! The data panel. For D ≥ 2: a scatter of the points on the chosen pair of dimensions, each
//! coloured by its most likely component under the shown parameters, the means marked, and 1σ
//! and 2σ ellipses of each component's covariance on that pair. For D = 1: a histogram of the
//! data with each weighted component density and the mixture density over it.

use std::f64::consts::{PI, TAU};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use ratatui::widgets::canvas::{Canvas, Context, Line as Segment, Points};

use super::{Theme, short};
use crate::em::{Mixture, most_likely_components};
use crate::explorer::app::{App, MarkerKind};

/// Segments per ellipse outline: smooth at any panel size a terminal has.
const ELLIPSE_SEGMENTS: usize = 72;

fn marker(kind: MarkerKind) -> Marker {
    match kind {
        MarkerKind::Braille => Marker::Braille,
        MarkerKind::HalfBlock => Marker::HalfBlock,
        MarkerKind::Dot => Marker::Dot,
    }
}

/// The range of `values`, padded by 5% (and widened if all are equal).
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
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

/// Draws the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if app.source.data.dim() == 1 {
        histogram(frame, area, app, theme);
    } else {
        scatter(frame, area, app, theme);
    }
}

fn sample_note(app: &App) -> String {
    let n = app.source.data.len();
    if app.drawn.len() < n {
        format!(" (sample of {} of {n} points)", app.drawn.len())
    } else {
        String::new()
    }
}

/// Where a half-step run stands, for the panel title (empty outside half-step mode).
fn half_step_note(app: &App, changed: usize) -> String {
    let Some(t) = app.shown_snapshot().map(|s| s.iteration) else {
        return String::new();
    };
    if !app.half_steps {
        String::new()
    } else if app.after_m_step && t > 0 {
        format!(" · M-step {t}: ellipses moved, colours from θ({})", t - 1)
    } else if t > 0 {
        format!(" · E-step at θ({t}): {changed} points changed (white)")
    } else {
        " · θ(0)".into()
    }
}

/// The outline of the `scale`-σ ellipse of a 2×2 covariance [[a, b], [b, c]] around `centre`,
/// from its eigen-decomposition (closed form for a symmetric 2×2 matrix).
pub fn ellipse(centre: (f64, f64), a: f64, b: f64, c: f64, scale: f64) -> Vec<(f64, f64)> {
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

fn draw_outline(ctx: &mut Context, outline: &[(f64, f64)], color: Color) {
    for pair in outline.windows(2) {
        ctx.draw(&Segment::new(
            pair[0].0, pair[0].1, pair[1].0, pair[1].1, color,
        ));
    }
}

fn scatter(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let data = &app.source.data;
    let (x, y) = app.dims;
    let columns = &app.source.columns;
    let x_range = padded_range(app.drawn.iter().map(|&i| data.row(i)[x]));
    let y_range = padded_range(app.drawn.iter().map(|&i| data.row(i)[y]));
    let snapshot = app.shown_snapshot();
    // Points grouped by the component their last E-step made most likely (all in one group
    // before the first snapshot).
    let labels = match app.colouring_params() {
        Some(params) => most_likely_components(data, &app.drawn, params),
        None => vec![0; app.drawn.len()],
    };
    // Right after an E-step in half-step mode: the points that changed component.
    let changed: Vec<(f64, f64)> = match app.recolour_reference() {
        Some(before) => most_likely_components(data, &app.drawn, before)
            .iter()
            .zip(&labels)
            .zip(&app.drawn)
            .filter(|((a, b), _)| a != b)
            .map(|(_, &i)| (data.row(i)[x], data.row(i)[y]))
            .collect(),
        None => Vec::new(),
    };
    let phase = half_step_note(app, changed.len());
    let title = format!(
        " Data: {} → vs {} ↑{}{phase} ",
        columns[x],
        columns[y],
        sample_note(app)
    );
    let bottom = format!(
        " {} {} … {} │ {} {} … {} ",
        columns[x],
        short(x_range.0),
        short(x_range.1),
        columns[y],
        short(y_range.0),
        short(y_range.1)
    );
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(bottom));
    let k = snapshot.map_or(1, |s| s.params.k());
    let mut groups: Vec<Vec<(f64, f64)>> = vec![Vec::new(); k];
    for (&i, &label) in app.drawn.iter().zip(&labels) {
        let row = data.row(i);
        groups[label].push((row[x], row[y]));
    }
    let inner = block.inner(area);
    let colour = theme.colour;
    let references = reference_mixtures(app);
    let canvas = Canvas::default()
        .block(block)
        .marker(marker(app.marker))
        .x_bounds([x_range.0, x_range.1])
        .y_bounds([y_range.0, y_range.1])
        .paint(|ctx| {
            if colour {
                for (component, points) in groups.iter().enumerate() {
                    ctx.draw(&Points::new(
                        points,
                        theme.component_colour(app.slot(component)),
                    ));
                }
            } else {
                // Without colour, one letter per occupied cell tells the components apart.
                letters(ctx, &groups, &app.palette, inner, x_range, y_range);
            }
            if !changed.is_empty() {
                let highlight = if colour { Color::White } else { Color::Reset };
                ctx.layer();
                ctx.draw(&Points::new(&changed, highlight));
            }
            ctx.layer();
            if let Some(snapshot) = snapshot {
                draw_components(ctx, &snapshot.params, (x, y), theme, &app.palette);
            }
            if let Some(&row) = app.inspected.and_then(|position| app.drawn.get(position)) {
                let point = data.row(row);
                ctx.print(
                    point[x],
                    point[y],
                    Span::styled(
                        "◎",
                        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
                    ),
                );
            }
            for reference in &references {
                draw_reference(ctx, reference, (x, y), theme);
            }
        });
    frame.render_widget(canvas, area);
}

/// Prints each occupied cell's letter (the last component drawn there wins).
fn letters(
    ctx: &mut Context,
    groups: &[Vec<(f64, f64)>],
    palette: &[usize],
    inner: Rect,
    x_range: (f64, f64),
    y_range: (f64, f64),
) {
    let (width, height) = (inner.width.max(1) as usize, inner.height.max(1) as usize);
    let mut cells: Vec<Option<usize>> = vec![None; width * height];
    let cell_of = |value: f64, (low, high): (f64, f64), count: usize| {
        (((value - low) / (high - low) * count as f64) as usize).min(count - 1)
    };
    for (component, points) in groups.iter().enumerate() {
        for &(px, py) in points {
            let column = cell_of(px, x_range, width);
            let row = cell_of(py, y_range, height);
            cells[row * width + column] = Some(component);
        }
    }
    let cell_width = (x_range.1 - x_range.0) / width as f64;
    let cell_height = (y_range.1 - y_range.0) / height as f64;
    for (index, cell) in cells.iter().enumerate() {
        if let Some(component) = cell {
            let (column, row) = (index % width, index / width);
            ctx.print(
                x_range.0 + (column as f64 + 0.5) * cell_width,
                y_range.0 + (row as f64 + 0.5) * cell_height,
                Theme::letter(palette.get(*component).copied().unwrap_or(*component)).to_string(),
            );
        }
    }
}

/// The mark of component `k`'s mean: × in its colour, or its capital letter without colour.
fn mean_marker(theme: &Theme, k: usize) -> Span<'static> {
    let label = if theme.colour {
        "×".to_string()
    } else {
        Theme::letter(k).to_uppercase().to_string()
    };
    Span::styled(label, theme.component(k).add_modifier(Modifier::BOLD))
}

/// A point of the canvas.
type Point = (f64, f64);

/// The mean of component k on dimensions (x, y) and its 1σ and 2σ ellipse outlines.
fn outlines(mixture: &Mixture, k: usize, (x, y): (usize, usize)) -> (Point, [Vec<Point>; 2]) {
    let d = mixture.dim();
    let mean = mixture.mean(k);
    let cov = mixture.covariance(k);
    let centre = (mean[x], mean[y]);
    let (a, b, c) = (cov[x * d + x], cov[x * d + y], cov[y * d + y]);
    (
        centre,
        [1.0, 2.0].map(|scale| ellipse(centre, a, b, c, scale)),
    )
}

/// Means and 1σ/2σ ellipses of each component on dimensions (x, y).
fn draw_components(
    ctx: &mut Context,
    mixture: &Mixture,
    dims: (usize, usize),
    theme: &Theme,
    palette: &[usize],
) {
    for component in 0..mixture.k() {
        let slot = palette.get(component).copied().unwrap_or(component);
        let (centre, ellipses) = outlines(mixture, component, dims);
        for outline in &ellipses {
            draw_outline(ctx, outline, theme.component_colour(slot));
        }
        ctx.print(centre.0, centre.1, mean_marker(theme, slot));
    }
}

/// Mixtures drawn for reference in a dashed style: the draft of the simulation editor while
/// it is open (a preview), else the true components when `t` turned them on.
/// Only mixtures of the data's dimension can be drawn over it.
fn reference_mixtures(app: &App) -> Vec<Mixture> {
    let d = app.source.data.dim();
    if let Some(editor) = &app.editor {
        return editor
            .preview()
            .into_iter()
            .filter(|m| m.dim() == d)
            .collect();
    }
    match app.source.truth() {
        Some(truth) if app.show_truth && truth.dim() == d => vec![truth.clone()],
        _ => Vec::new(),
    }
}

/// A true (or previewed) component: dashed 1σ and 2σ ellipses and a ◇ at the mean, in the
/// terminal's default colour so they stand apart from the fitted ones.
fn draw_reference(ctx: &mut Context, mixture: &Mixture, dims: (usize, usize), theme: &Theme) {
    let colour = if theme.colour {
        Color::White
    } else {
        Color::Reset
    };
    for component in 0..mixture.k() {
        let (centre, ellipses) = outlines(mixture, component, dims);
        for outline in &ellipses {
            for pair in outline.windows(2).step_by(2) {
                ctx.draw(&Segment::new(
                    pair[0].0, pair[0].1, pair[1].0, pair[1].1, colour,
                ));
            }
        }
        ctx.print(
            centre.0,
            centre.1,
            Span::styled("◇", Style::default().fg(colour)),
        );
    }
}

/// The polyline through (xs[i], ys[i]); with `step` 2 every other segment (dashed).
fn draw_curve(ctx: &mut Context, xs: &[f64], ys: &[f64], colour: Color, step: usize) {
    for i in (1..xs.len().min(ys.len())).step_by(step) {
        ctx.draw(&Segment::new(xs[i - 1], ys[i - 1], xs[i], ys[i], colour));
    }
}

/// The normal density at `x`.
fn normal_density(x: f64, mean: f64, variance: f64) -> f64 {
    (-(x - mean) * (x - mean) / (2.0 * variance)).exp() / (2.0 * PI * variance).sqrt()
}

fn histogram(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let data = &app.source.data;
    let name = &app.source.columns[0];
    let range = padded_range(app.drawn.iter().map(|&i| data.row(i)[0]));
    let block = Block::bordered()
        .title(format!(" Data: histogram of {name}{} ", sample_note(app)))
        .title_bottom(Line::from(format!(
            " {name} {} … {} │ bars data, lines densities ",
            short(range.0),
            short(range.1)
        )));
    let inner = block.inner(area);
    let bins = (inner.width as usize).clamp(4, 80);
    let width = (range.1 - range.0) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &i in &app.drawn {
        let bin = ((data.row(i)[0] - range.0) / width) as usize;
        counts[bin.min(bins - 1)] += 1;
    }
    let total = app.drawn.len().max(1) as f64;
    let heights: Vec<f64> = counts.iter().map(|&c| c as f64 / (total * width)).collect();
    let snapshot = app.shown_snapshot();
    // Densities along the axis, one column of the panel apart.
    let steps = (inner.width as usize * 2).max(8);
    let xs: Vec<f64> = (0..=steps)
        .map(|i| range.0 + (range.1 - range.0) * i as f64 / steps as f64)
        .collect();
    let curves: Vec<Vec<f64>> = snapshot
        .map(|s| {
            let m = &s.params;
            (0..m.k())
                .map(|k| {
                    xs.iter()
                        .map(|&x| {
                            m.weights()[k] * normal_density(x, m.mean(k)[0], m.covariance(k)[0])
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    let reference_curves: Vec<Vec<f64>> = reference_mixtures(app)
        .iter()
        .filter(|m| m.dim() == 1)
        .map(|m| {
            xs.iter()
                .map(|&x| {
                    (0..m.k())
                        .map(|k| {
                            m.weights()[k] * normal_density(x, m.mean(k)[0], m.covariance(k)[0])
                        })
                        .sum()
                })
                .collect()
        })
        .collect();
    let mixture_curve: Vec<f64> = (0..xs.len())
        .map(|i| curves.iter().map(|c| c[i]).sum())
        .collect();
    let top = heights
        .iter()
        .chain(&mixture_curve)
        .chain(reference_curves.iter().flatten())
        .copied()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.05;
    let bar_colour = if theme.colour {
        Color::DarkGray
    } else {
        Color::Reset
    };
    let canvas = Canvas::default()
        .block(block)
        .marker(marker(app.marker))
        .x_bounds([range.0, range.1])
        .y_bounds([0.0, top])
        .paint(|ctx| {
            for (bin, &h) in heights.iter().enumerate() {
                let centre = range.0 + (bin as f64 + 0.5) * width;
                ctx.draw(&Segment::new(centre, 0.0, centre, h, bar_colour));
            }
            ctx.layer();
            for (k, curve) in curves.iter().enumerate() {
                draw_curve(ctx, &xs, curve, theme.component_colour(app.slot(k)), 1);
            }
            for curve in &reference_curves {
                // Dashed: every other step, so the true density stands apart from the fit's.
                let colour = if theme.colour {
                    Color::Gray
                } else {
                    Color::Reset
                };
                draw_curve(ctx, &xs, curve, colour, 2);
            }
            if !curves.is_empty() {
                let colour = if theme.colour {
                    Color::White
                } else {
                    Color::Reset
                };
                draw_curve(ctx, &xs, &mixture_curve, colour, 1);
                if let Some(s) = snapshot {
                    for k in 0..s.params.k() {
                        ctx.print(s.params.mean(k)[0], 0.0, mean_marker(theme, app.slot(k)));
                    }
                }
            }
        });
    frame.render_widget(canvas, area);
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
}
