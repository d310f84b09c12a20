//! The data panel. For D ≥ 2: a scatter of the points on the chosen pair of dimensions, each
//! coloured by its most likely component under the shown parameters, the means marked, and 1σ
//! and 2σ ellipses of each component's covariance on that pair. For D = 1: a histogram of the
//! data with each weighted component density and the mixture density over it.

use std::f64::consts::PI;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use ratatui::widgets::canvas::{Canvas, Context, Line as Segment, Points};

use super::{Theme, short};
use crate::explorer::app::{App, MarkerKind, Outline, Phase};

fn marker(kind: MarkerKind) -> Marker {
    match kind {
        MarkerKind::Braille => Marker::Braille,
        MarkerKind::HalfBlock => Marker::HalfBlock,
        MarkerKind::Dot => Marker::Dot,
    }
}

/// Draws the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if app.source().data.dim() == 1 {
        histogram(frame, area, app, theme);
    } else {
        scatter(frame, area, app, theme);
    }
}

fn sample_note(app: &App) -> String {
    let n = app.source().data.len();
    if app.drawn().len() < n {
        format!(" (sample of {} of {n} points)", app.drawn().len())
    } else {
        String::new()
    }
}

/// Where a half-step run stands, for the panel title (empty outside half-step mode).
fn half_step_note(app: &App, changed: usize) -> String {
    let view = app.view();
    let t = view.iteration;
    match view.phase {
        None => String::new(),
        Some(Phase::AfterMStep) if t > 0 => {
            format!(
                " · M-step {t}: θ({t}), colours from the E-step at θ({})",
                t - 1
            )
        }
        Some(Phase::AfterMStep) => " · θ(0): n runs the first E-step".into(),
        Some(Phase::AfterEStep) if t > 0 => {
            format!(" · E-step at θ({t}): {changed} points changed (white)")
        }
        Some(Phase::AfterEStep) => " · E-step at θ(0)".into(),
    }
}

fn draw_outline(ctx: &mut Context, outline: &[(f64, f64)], color: Color) {
    for pair in outline.windows(2) {
        ctx.draw(&Segment::new(
            pair[0].0, pair[0].1, pair[1].0, pair[1].1, color,
        ));
    }
}

fn scatter(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let source = app.source();
    let data = &source.data;
    let view = app.view();
    let (x, y) = app.display().dims;
    let columns = &source.columns;
    let (x_range, y_range) = (view.x_range, view.y_range);
    let drawn = app.drawn();
    let phase = half_step_note(app, view.changed.len());
    let pending = if view.pending {
        " · re-deriving…"
    } else {
        ""
    };
    let uncertain = if view.labels.is_some() {
        format!(" · {} unsure (max r < 0.9, grey)", view.uncertain.len())
    } else {
        String::new()
    };
    let title = format!(
        " Data: {} → vs {} ↑{}{phase}{uncertain}{pending} ",
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
    // Points grouped by the component their last E-step made most likely; one neutral group
    // before the first E-step and for the points no component is sure of (soft assignments
    // show as grey rather than as a confident colour).
    let k = view.params.as_ref().map_or(1, |p| p.k()).max(1);
    let mut groups: Vec<Vec<(f64, f64)>> = vec![Vec::new(); k + 1];
    let neutral = k;
    let mut unsure = vec![false; drawn.len()];
    for &position in &view.uncertain {
        if let Some(flag) = unsure.get_mut(position) {
            *flag = true;
        }
    }
    for (position, &i) in drawn.iter().enumerate() {
        let row = data.row(i);
        let group = view
            .labels
            .as_ref()
            .and_then(|labels| labels.get(position))
            .filter(|_| !unsure[position])
            .map_or(neutral, |&l| usize::from(l).min(neutral));
        groups[group].push((row[x], row[y]));
    }
    let changed: Vec<(f64, f64)> = view
        .changed
        .iter()
        .filter_map(|&position| drawn.get(position))
        .map(|&i| (data.row(i)[x], data.row(i)[y]))
        .collect();
    let inner = block.inner(area);
    let colour = theme.colour;
    let palette: Vec<usize> = (0..k).map(|c| app.slot(c)).collect();
    let canvas = Canvas::default()
        .block(block)
        .marker(marker(app.display().marker))
        .x_bounds([x_range.0, x_range.1])
        .y_bounds([y_range.0, y_range.1])
        .paint(|ctx| {
            if colour {
                for (component, points) in groups.iter().enumerate() {
                    let colour = if component == neutral {
                        Color::Gray
                    } else {
                        theme.component_colour(app.slot(component))
                    };
                    ctx.draw(&Points::new(points, colour));
                }
            } else {
                // Without colour, one letter per occupied cell tells the components apart.
                letters(ctx, &groups, &palette, inner, x_range, y_range);
            }
            if !changed.is_empty() {
                let highlight = if colour { Color::White } else { Color::Reset };
                ctx.layer();
                ctx.draw(&Points::new(&changed, highlight));
            }
            ctx.layer();
            for (component, outline) in view.outlines.iter().enumerate() {
                draw_component(ctx, outline, theme, app.slot(component));
            }
            if let Some(inspection) = &view.inspection {
                ctx.print(
                    inspection.point[x],
                    inspection.point[y],
                    Span::styled(
                        "◎",
                        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
                    ),
                );
            }
            for reference in &view.references {
                draw_reference(ctx, reference, theme);
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
                match palette.get(*component) {
                    Some(&slot) => Theme::letter(slot).to_string(),
                    None => "·".to_string(),
                },
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

/// A component's mean and its 1σ and 2σ ellipses.
fn draw_component(ctx: &mut Context, outline: &Outline, theme: &Theme, slot: usize) {
    for ellipse in &outline.ellipses {
        draw_outline(ctx, ellipse, theme.component_colour(slot));
    }
    ctx.print(outline.centre.0, outline.centre.1, mean_marker(theme, slot));
}

/// A true (or previewed) component: dashed 1σ and 2σ ellipses and a ◇ at the mean, in the
/// terminal's default colour so they stand apart from the fitted ones.
fn draw_reference(ctx: &mut Context, reference: &Outline, theme: &Theme) {
    let colour = if theme.colour {
        Color::White
    } else {
        Color::Reset
    };
    for outline in &reference.ellipses {
        for pair in outline.windows(2).step_by(2) {
            ctx.draw(&Segment::new(
                pair[0].0, pair[0].1, pair[1].0, pair[1].1, colour,
            ));
        }
    }
    ctx.print(
        reference.centre.0,
        reference.centre.1,
        Span::styled("◇", Style::default().fg(colour)),
    );
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
    let data = &app.source().data;
    let name = &app.source().columns[0];
    let view = app.view();
    let range = view.x_range;
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
    for &i in app.drawn() {
        let bin = ((data.row(i)[0] - range.0) / width) as usize;
        counts[bin.min(bins - 1)] += 1;
    }
    let total = app.drawn().len().max(1) as f64;
    let heights: Vec<f64> = counts.iter().map(|&c| c as f64 / (total * width)).collect();
    let shown = view.params.as_deref();
    // Densities along the axis, one column of the panel apart.
    let steps = (inner.width as usize * 2).max(8);
    let xs: Vec<f64> = (0..=steps)
        .map(|i| range.0 + (range.1 - range.0) * i as f64 / steps as f64)
        .collect();
    let curves: Vec<Vec<f64>> = shown
        .map(|m| {
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
    let reference_curves: Vec<Vec<f64>> = app
        .reference_mixtures()
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
        .marker(marker(app.display().marker))
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
                if let Some(m) = shown {
                    for k in 0..m.k() {
                        ctx.print(m.mean(k)[0], 0.0, mean_marker(theme, app.slot(k)));
                    }
                }
            }
        });
    frame.render_widget(canvas, area);
}
