//! The panel of a background batch: the BIC sweep (BIC against K per covariance type) or the
//! restarts list (every restart's log-likelihood trace together), with the list of fits as they
//! finish, the best marked and the highlighted one drawn bold. A ✗ after the iterations: the
//! fit stopped at --max-iter without converging; "saddle": it stopped with identical components
//! (a symmetric start), not at an optimum.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Clear, Dataset, GraphType, Paragraph};

use super::{Theme, short};
use crate::em::CovarianceType;
use crate::explorer::app::{BatchKind, BatchView};

/// Draws the panel into `area`.
pub fn render(frame: &mut Frame, area: Rect, view: &BatchView, theme: &Theme) {
    frame.render_widget(Clear, area);
    let what = match view.kind {
        BatchKind::Sweep => "BIC sweep",
        BatchKind::Restarts => "Restarts (other seeds)",
    };
    let title = format!(
        " {what} · init {} (i) · {}/{} done · Enter replays · Esc ",
        view.init.name(),
        view.done(),
        view.jobs.len()
    );
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list_area, chart_area] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    let best = view.best();
    let mut lines = Vec::new();
    for (index, job) in view.jobs.iter().enumerate() {
        let options = &job.options;
        // The seed listed is the one that reproduces the kept run alone (`fit --seed`).
        let seed = match &view.results[index] {
            Some(Ok(fit)) => fit.best_seed,
            _ => options.seed,
        };
        let head = format!(
            "{:<9} K{:<2} s{:<3}",
            options.config.covariance.name(),
            options.k,
            seed
        );
        let body = match &view.results[index] {
            None => "…".to_owned(),
            Some(Err(error)) => format!("failed: {error}"),
            Some(Ok(fit)) => format!(
                "LL {:>10.2} BIC {:>10.2} it {:>3}{}",
                fit.log_likelihood,
                fit.bic,
                fit.iterations,
                match fit.stop_reason {
                    crate::em::StopReason::Saddle { .. } => " saddle",
                    crate::em::StopReason::MaxIter => "✗",
                    crate::em::StopReason::Converged => "",
                }
            ),
        };
        let mark = if best == Some(index) {
            match view.kind {
                BatchKind::Sweep => " ◀ lowest BIC",
                BatchKind::Restarts => " ◀ best",
            }
        } else {
            ""
        };
        let style = if index == view.cursor {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{head} {body}"), style),
            Span::styled(mark, theme.warning()),
        ]));
    }
    let height = list_area.height as usize;
    let scroll = view
        .cursor
        .saturating_sub(height / 2)
        .min(lines.len().saturating_sub(height));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), list_area);
    match view.kind {
        BatchKind::Sweep => sweep_chart(frame, chart_area, view, theme),
        BatchKind::Restarts => restarts_chart(frame, chart_area, view, theme),
    }
}

fn colour(theme: &Theme, index: usize) -> Style {
    theme.component(index)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * 0.05).max(1e-9);
    (low - pad, high + pad)
}

fn sweep_chart(frame: &mut Frame, area: Rect, view: &BatchView, theme: &Theme) {
    let series: Vec<(CovarianceType, Vec<(f64, f64)>)> = CovarianceType::ALL
        .into_iter()
        .map(|kind| {
            let points = view
                .jobs
                .iter()
                .zip(&view.results)
                .filter(|(job, _)| job.options.config.covariance == kind)
                .filter_map(|(job, result)| {
                    let fit = result.as_ref()?.as_ref().ok()?;
                    Some((job.options.k as f64, fit.bic))
                })
                .collect();
            (kind, points)
        })
        .collect();
    let (low, high) = bounds(series.iter().flat_map(|(_, p)| p.iter().map(|&(_, b)| b)));
    let max_k = view.jobs.iter().map(|j| j.options.k).max().unwrap_or(1) as f64;
    let datasets: Vec<Dataset> = series
        .iter()
        .enumerate()
        .map(|(i, (kind, points))| {
            Dataset::default()
                .name(kind.name())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(colour(theme, i))
                .data(points)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(Block::default().title(" BIC against K (lower is better) "))
        .x_axis(
            Axis::default()
                .bounds([1.0, max_k.max(2.0)])
                .labels(vec![Span::raw("1"), Span::raw(format!("{max_k}"))]),
        )
        .y_axis(
            Axis::default()
                .bounds([low, high])
                .labels(vec![Span::raw(short(low)), Span::raw(short(high))]),
        );
    frame.render_widget(chart, area);
}

fn restarts_chart(frame: &mut Frame, area: Rect, view: &BatchView, theme: &Theme) {
    let traces: Vec<(usize, Vec<(f64, f64)>)> = view
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, result)| {
            let fit = result.as_ref()?.as_ref().ok()?;
            let points = fit
                .trace
                .iter()
                .enumerate()
                .map(|(t, &v)| (t as f64, v))
                .collect();
            Some((i, points))
        })
        .collect();
    let (low, high) = bounds(traces.iter().flat_map(|(_, p)| p.iter().map(|&(_, v)| v)));
    let longest = traces
        .iter()
        .map(|(_, p)| p.len())
        .max()
        .unwrap_or(2)
        .max(2) as f64
        - 1.0;
    let datasets: Vec<Dataset> = traces
        .iter()
        .map(|(i, points)| {
            let style = if *i == view.cursor {
                Style::default()
                    .fg(if theme.colour {
                        Color::White
                    } else {
                        Color::Reset
                    })
                    .add_modifier(Modifier::BOLD)
            } else {
                colour(theme, *i)
            };
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(style)
                .data(points)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(Block::default().title(" log-likelihood traces (highlighted: the chosen row) "))
        .x_axis(
            Axis::default()
                .bounds([0.0, longest])
                .labels(vec![Span::raw("0"), Span::raw(format!("{longest}"))]),
        )
        .y_axis(
            Axis::default()
                .bounds([low, high])
                .labels(vec![Span::raw(short(low)), Span::raw(short(high))]),
        );
    frame.render_widget(chart, area);
}
