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

use super::{Theme, format, short};
use crate::explorer::app::{App, MarkerKind, Outline, Phase};

/// A terminal cell is about twice as tall as it is wide.
const CELL_ASPECT: f64 = 2.0;

/// The canvas marker: Braille only where the glyphs are Unicode (ASCII mode draws points as
/// one dot per cell, which the ASCII pass turns into `*`).
fn marker(kind: MarkerKind, theme: &Theme) -> Marker {
    match kind {
        MarkerKind::Braille if theme.is_ascii() => Marker::Dot,
        MarkerKind::Braille => Marker::Braille,
        MarkerKind::HalfBlock => Marker::HalfBlock,
        MarkerKind::Dot => Marker::Dot,
    }
}

/// Whether outlines are drawn as line glyphs on their own (─ │ ╱ ╲, or - | / \ in ASCII)
/// rather than with the points' marker: always, except in Braille, where the fine dots of a
/// line already look unlike the scattered points.
fn outlines_as_glyphs(kind: MarkerKind, theme: &Theme) -> bool {
    // Without colour the points are letters, printed over the canvas: outlines must be
    // printed too, after them, to stay visible.
    kind != MarkerKind::Braille || theme.is_ascii() || !theme.coloured()
}

/// The ranges shown: the data's ranges widened so one unit is as long on x as on y (a round
/// component looks round), or as they are when the panel fills its area.
pub fn visible_ranges(
    x: (f64, f64),
    y: (f64, f64),
    inner: Rect,
    fill: bool,
) -> ((f64, f64), (f64, f64)) {
    if fill || inner.width == 0 || inner.height == 0 {
        return (x, y);
    }
    let width = f64::from(inner.width);
    let height = f64::from(inner.height) * CELL_ASPECT;
    let per_unit = ((x.1 - x.0) / width).max((y.1 - y.0) / height);
    if !per_unit.is_finite() || per_unit <= 0.0 {
        return (x, y);
    }
    let centre = |(low, high): (f64, f64)| 0.5 * (low + high);
    let (cx, cy) = (centre(x), centre(y));
    (
        (cx - 0.5 * per_unit * width, cx + 0.5 * per_unit * width),
        (cy - 0.5 * per_unit * height, cy + 0.5 * per_unit * height),
    )
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

/// [`half_step_note`] in a few words, for narrow panels.
fn short_half_step_note(app: &App, changed: usize) -> String {
    let view = app.view();
    let t = view.iteration;
    match view.phase {
        None => String::new(),
        Some(Phase::AfterMStep) if t > 0 => format!(" · M-step θ({t}), colours θ({})", t - 1),
        Some(Phase::AfterMStep) => " · θ(0): n runs E-step".into(),
        Some(Phase::AfterEStep) if t > 0 => format!(" · E-step θ({t}): {changed} changed"),
        Some(Phase::AfterEStep) => " · E-step at θ(0)".into(),
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
            format!(" · E-step at θ({t}): {changed} points changed (highlighted)")
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
    let axes = format!("{} → vs {} ↑", columns[x], columns[y]);
    let short_phase = short_half_step_note(app, view.changed.len());
    let unsure_count = if view.labels.is_some() {
        format!(" · {} unsure", view.uncertain.len())
    } else {
        String::new()
    };
    // The fullest title that fits: the half-step note stays longest, decoration goes first.
    let room = usize::from(area.width.saturating_sub(2));
    let title = [
        format!(
            " Data: {axes}{}{phase}{uncertain}{pending} ",
            sample_note(app)
        ),
        format!(" Data: {axes}{phase}{unsure_count}{pending} "),
        format!(" Data: {axes}{phase}{pending} "),
        format!(" Data: {axes}{short_phase}{pending} "),
        format!(" {axes}{short_phase} "),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= room)
    .unwrap_or_else(|| format!(" {axes}{short_phase} "));
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    let (x_range, y_range) = visible_ranges(x_range, y_range, inner, app.display().fill);
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
    let colour = theme.coloured();
    let glyph_outlines = outlines_as_glyphs(app.display().marker, theme);
    let palette: Vec<usize> = (0..k).map(|c| app.slot(c)).collect();
    let canvas = Canvas::default()
        .block(block)
        .marker(marker(app.display().marker, theme))
        .x_bounds([x_range.0, x_range.1])
        .y_bounds([y_range.0, y_range.1])
        .paint(|ctx| {
            if colour {
                for (component, points) in groups.iter().enumerate() {
                    let colour = if component == neutral {
                        theme.neutral_colour()
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
                ctx.layer();
                ctx.draw(&Points::new(&changed, theme.highlight_colour()));
            }
            ctx.layer();
            let grid = Grid {
                inner,
                x_range,
                y_range,
            };
            for (component, outline) in view.outlines.iter().enumerate() {
                let slot = app.slot(component);
                if glyph_outlines {
                    for ellipse in &outline.ellipses {
                        grid.trace(ctx, ellipse, theme, theme.component_colour(slot), 1);
                    }
                } else {
                    for ellipse in &outline.ellipses {
                        draw_outline(ctx, ellipse, theme.component_colour(slot));
                    }
                }
            }
            for (component, outline) in view.outlines.iter().enumerate() {
                ctx.print(
                    outline.centre.0,
                    outline.centre.1,
                    mean_marker(theme, app.slot(component)),
                );
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
                draw_reference(ctx, reference, theme, glyph_outlines.then_some(&grid));
            }
        });
    frame.render_widget(canvas, area);
    x_ticks(frame, area, inner, x_range, theme);
    y_ticks(frame, inner, y_range, theme);
}

/// Round x values along the bottom border, each at its column.
fn x_ticks(frame: &mut Frame, area: Rect, inner: Rect, range: (f64, f64), theme: &Theme) {
    if inner.width < 8 || area.height < 3 {
        return;
    }
    let step = format::nice_step(range.1 - range.0, usize::from(inner.width / 12).max(2));
    let row = area.bottom() - 1;
    let mut free_from = inner.x;
    for value in format::ticks(range.0, range.1, usize::from(inner.width / 12).max(2)) {
        let label = format!("┴{}", format::tick(value, step));
        let column =
            inner.x + ((value - range.0) / (range.1 - range.0) * f64::from(inner.width)) as u16;
        let end = column + label.chars().count() as u16;
        if column < free_from || end > inner.right() {
            continue;
        }
        frame
            .buffer_mut()
            .set_string(column, row, &label, theme.dim());
        free_from = end + 1;
    }
}

/// Round y values at the panel's left edge, each on its row.
fn y_ticks(frame: &mut Frame, inner: Rect, range: (f64, f64), theme: &Theme) {
    if inner.height < 4 || inner.width < 16 {
        return;
    }
    let count = usize::from(inner.height / 4).max(2);
    let step = format::nice_step(range.1 - range.0, count);
    let mut last_row = None;
    for value in format::ticks(range.0, range.1, count) {
        let from_top = (range.1 - value) / (range.1 - range.0) * f64::from(inner.height);
        let row = inner.y + (from_top as u16).min(inner.height - 1);
        if last_row == Some(row) {
            continue;
        }
        last_row = Some(row);
        frame.buffer_mut().set_string(
            inner.x.saturating_sub(1),
            row,
            format!("├{}", format::tick(value, step)),
            theme.dim(),
        );
    }
}

/// The data panel's cells, to draw outlines as line glyphs cell by cell.
struct Grid {
    inner: Rect,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl Grid {
    /// The cell (column, row from the top) of a point, if inside.
    fn cell(&self, (x, y): (f64, f64)) -> Option<(i64, i64)> {
        let (width, height) = (f64::from(self.inner.width), f64::from(self.inner.height));
        let column = ((x - self.x_range.0) / (self.x_range.1 - self.x_range.0) * width).floor();
        let row = ((self.y_range.1 - y) / (self.y_range.1 - self.y_range.0) * height).floor();
        ((0.0..width).contains(&column) && (0.0..height).contains(&row))
            .then_some((column as i64, row as i64))
    }

    /// The centre of a cell, in data units.
    fn centre(&self, (column, row): (i64, i64)) -> (f64, f64) {
        let cell_width = (self.x_range.1 - self.x_range.0) / f64::from(self.inner.width);
        let cell_height = (self.y_range.1 - self.y_range.0) / f64::from(self.inner.height);
        (
            self.x_range.0 + (column as f64 + 0.5) * cell_width,
            self.y_range.1 - (row as f64 + 0.5) * cell_height,
        )
    }

    /// Prints the polyline `outline` as line glyphs (every `step`-th cell: 2 is dashed), each
    /// cell's glyph following the line's direction there.
    fn trace(
        &self,
        ctx: &mut Context,
        outline: &[(f64, f64)],
        theme: &Theme,
        colour: Color,
        step: usize,
    ) {
        let mut cells: Vec<((i64, i64), char)> = Vec::new();
        for pair in outline.windows(2) {
            let (Some(from), Some(to)) = (self.cell(pair[0]), self.cell(pair[1])) else {
                continue;
            };
            // Direction on screen, in columns: a row is about twice as tall as a column is
            // wide.
            let cell_width = (self.x_range.1 - self.x_range.0) / f64::from(self.inner.width);
            let cell_height = (self.y_range.1 - self.y_range.0) / f64::from(self.inner.height);
            let (dx, dy) = (
                (pair[1].0 - pair[0].0) / cell_width,
                (pair[1].1 - pair[0].1) / cell_height * CELL_ASPECT,
            );
            let glyph = line_glyph(dx, dy, theme.is_ascii());
            let samples = (to.0 - from.0).abs().max((to.1 - from.1).abs()).max(1);
            for i in 0..=samples {
                let t = i as f64 / samples as f64;
                let point = (
                    pair[0].0 + t * (pair[1].0 - pair[0].0),
                    pair[0].1 + t * (pair[1].1 - pair[0].1),
                );
                if let Some(cell) = self.cell(point)
                    && cells.last().is_none_or(|(last, _)| *last != cell)
                {
                    cells.push((cell, glyph));
                }
            }
        }
        for (cell, glyph) in cells.into_iter().step_by(step.max(1)) {
            let (x, y) = self.centre(cell);
            ctx.print(
                x,
                y,
                Span::styled(glyph.to_string(), Style::default().fg(colour)),
            );
        }
    }
}

/// The glyph of a line going (dx, dy) on screen (y up).
fn line_glyph(dx: f64, dy: f64, ascii: bool) -> char {
    let angle = dy.atan2(dx).to_degrees().rem_euclid(180.0);
    let (flat, steep, rising, falling) = if ascii {
        ('-', '|', '/', '\\')
    } else {
        ('─', '│', '╱', '╲')
    };
    if !(22.5..157.5).contains(&angle) {
        flat
    } else if (67.5..112.5).contains(&angle) {
        steep
    } else if angle < 90.0 {
        rising
    } else {
        falling
    }
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
    let label = if theme.coloured() {
        "×".to_string()
    } else {
        Theme::letter(k).to_uppercase().to_string()
    };
    Span::styled(label, theme.component(k).add_modifier(Modifier::BOLD))
}

/// A true (or previewed) component: dashed 1σ and 2σ ellipses and a ◇ at the mean, in the
/// terminal's own foreground so they stand apart from the fitted ones on any background; as
/// line glyphs on the `grid` when given.
fn draw_reference(ctx: &mut Context, reference: &Outline, theme: &Theme, grid: Option<&Grid>) {
    let colour = theme.highlight_colour();
    for outline in &reference.ellipses {
        match grid {
            Some(grid) => grid.trace(ctx, outline, theme, colour, 2),
            None => {
                for pair in outline.windows(2).step_by(2) {
                    ctx.draw(&Segment::new(
                        pair[0].0, pair[0].1, pair[1].0, pair[1].1, colour,
                    ));
                }
            }
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
        .title_bottom(Line::from({
            let range_text = format!(" {name} {} … {} ", short(range.0), short(range.1));
            let legend = "│ bars data, lines densities ";
            // The legend is decoration: it goes when the range would be cut.
            if range_text.chars().count() + legend.chars().count() + 2 <= usize::from(area.width) {
                format!("{range_text}{legend}")
            } else {
                range_text
            }
        }));
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
    let bar_colour = theme.neutral_colour();
    let canvas = Canvas::default()
        .block(block)
        .marker(marker(app.display().marker, theme))
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
                draw_curve(ctx, &xs, curve, theme.highlight_colour(), 2);
            }
            if !curves.is_empty() {
                draw_curve(ctx, &xs, &mixture_curve, theme.highlight_colour(), 1);
                if let Some(m) = shown {
                    for k in 0..m.k() {
                        ctx.print(m.mean(k)[0], 0.0, mean_marker(theme, app.slot(k)));
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
    fn equal_units_make_a_unit_square_look_square() {
        // 40 columns by 10 rows: 40 cell widths across, 20 down (a row is two widths tall).
        let inner = Rect::new(0, 0, 40, 10);
        let (x, y) = visible_ranges((-1.0, 1.0), (-1.0, 1.0), inner, false);
        let per_column = (x.1 - x.0) / 40.0;
        let per_row = (y.1 - y.0) / 10.0;
        assert!((per_row - CELL_ASPECT * per_column).abs() < 1e-12);
        // The data stay inside, centred; the tighter axis is exactly the data's.
        assert!(x.0 <= -1.0 && x.1 >= 1.0 && (x.0 + x.1).abs() < 1e-12);
        assert!((y.0 + 1.0).abs() < 1e-12 && (y.1 - 1.0).abs() < 1e-12);
        // Filling leaves the ranges as they are.
        assert_eq!(
            visible_ranges((-1.0, 1.0), (0.0, 5.0), inner, true),
            ((-1.0, 1.0), (0.0, 5.0))
        );
    }

    #[test]
    fn line_glyphs_follow_the_direction_on_screen() {
        assert_eq!(line_glyph(1.0, 0.0, false), '─');
        assert_eq!(line_glyph(0.0, -1.0, false), '│');
        assert_eq!(line_glyph(1.0, 1.0, false), '╱');
        assert_eq!(line_glyph(-1.0, 1.0, true), '\\');
        assert_eq!(line_glyph(-1.0, -1.0, true), '/');
    }
}
