//! The panel of a background batch: the BIC sweep (BIC against K per covariance type) or the
//! restarts list (every restart's log-likelihood trace together), with the list of fits as they
//! finish (the sweep also lists ICL, BIC plus twice the classification entropy, as mclust does),
//! the best marked and the highlighted one drawn bold. A ✗ after the iterations: the
//! fit stopped at --max-iter without converging; "saddle": it stopped with identical components
//! (a symmetric start), not at an optimum.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine};
use ratatui::widgets::{Axis, Block, Chart, Clear, Dataset, GraphType, Paragraph};

use super::{Theme, format};
use crate::em::CovarianceType;
use crate::explorer::app::{BatchKind, BatchView};
use crate::explorer::batch::FitSummary;

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
    let width = usize::from(list_area.width);
    let mut lines = Vec::new();
    for (index, job) in view.jobs.iter().enumerate() {
        let (row, mark) = row_text(view, index, job, best, width);
        let style = if index == view.cursor {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(row, style),
            Span::styled(mark, theme.warning()),
        ]));
    }
    // The best row stays named on the first line, wherever the list is scrolled.
    let summary = best.and_then(|index| {
        let job = view.jobs.get(index)?;
        let fit = view.results.get(index)?.as_ref()?.as_ref().ok()?;
        Some(match view.kind {
            BatchKind::Sweep => {
                let bic = format!(
                    "lowest BIC {}: {} K {} (row {})",
                    format::fixed(fit.bic, 2),
                    job.options.config.covariance.name(),
                    job.options.k,
                    index + 1
                );
                match view.lowest_icl() {
                    Some(icl) if icl == index => format!("{bic}, also the lowest ICL"),
                    Some(icl) => match (view.jobs.get(icl), view.results.get(icl)) {
                        (Some(job), Some(Some(Ok(fit)))) => format!(
                            "{bic} · lowest ICL {}: {} K {} (row {})",
                            format::fixed(fit.icl, 2),
                            job.options.config.covariance.name(),
                            job.options.k,
                            icl + 1
                        ),
                        _ => bic,
                    },
                    None => bic,
                }
            }
            BatchKind::Restarts => format!(
                "best LL {}: seed {} (row {})",
                format::fixed(fit.log_likelihood, 2),
                fit.best_seed,
                index + 1
            ),
        })
    });
    let [summary_area, rows_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(list_area);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            summary.unwrap_or_else(|| "…".into()),
            theme.warning(),
        ))),
        summary_area,
    );
    let height = rows_area.height as usize;
    let scroll = view
        .cursor
        .saturating_sub(height / 2)
        .min(lines.len().saturating_sub(height));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), rows_area);
    match view.kind {
        BatchKind::Sweep => sweep_chart(frame, chart_area, view, theme),
        BatchKind::Restarts => restarts_chart(frame, chart_area, view, theme),
    }
}

/// One row of the list, as full as `width` allows, and its marker. The sweep keeps covariance
/// type, K, BIC, iterations, flag and marker; the restarts seed, log-likelihood, iterations,
/// flag and marker; the rest goes first.
fn row_text(
    view: &BatchView,
    index: usize,
    job: &crate::explorer::batch::Job,
    best: Option<usize>,
    width: usize,
) -> (String, &'static str) {
    let options = &job.options;
    let result = &view.results[index];
    // The seed listed is the one that reproduces the kept run alone (`fit --seed`).
    let seed = match result {
        Some(Ok(fit)) => fit.best_seed,
        _ => options.seed,
    };
    let lowest_icl = view.kind == BatchKind::Sweep && view.lowest_icl() == Some(index);
    let mark = match (view.kind, best == Some(index), lowest_icl) {
        (BatchKind::Sweep, true, true) => " ◀ lowest BIC, ICL",
        (BatchKind::Sweep, true, false) => " ◀ lowest BIC",
        (BatchKind::Sweep, false, true) => " ◀ lowest ICL",
        (BatchKind::Restarts, true, _) => " ◀ best",
        _ => "",
    };
    let kind = options.config.covariance.name();
    let flag = |fit: &FitSummary| match fit.stop_reason {
        crate::em::StopReason::Saddle { .. } => " saddle",
        crate::em::StopReason::MaxIter => "✗",
        crate::em::StopReason::Converged => "",
    };
    let candidates: Vec<String> = match result {
        None => vec![
            format!("{kind:<9} K{:<2} s{seed:<3} …", options.k),
            format!("{kind:<9} K{:<2} …", options.k),
        ],
        Some(Err(error)) => vec![format!("{kind:<9} K{:<2} failed: {error}", options.k)],
        Some(Ok(fit)) => {
            let (ll, bic) = (
                format::fixed(fit.log_likelihood, 2),
                format::fixed(fit.bic, 2),
            );
            let it = format!("it {:>3}{}", fit.iterations, flag(fit));
            let full = format!(
                "{kind:<9} K{:<2} s{seed:<3} LL {ll:>10} BIC {bic:>10} {it}",
                options.k
            );
            match view.kind {
                BatchKind::Sweep => vec![
                    format!(
                        "{kind:<9} K{:<2} s{seed:<3} LL {ll:>10} BIC {bic:>10} ICL {:>10} {it}",
                        options.k,
                        format::fixed(fit.icl, 2)
                    ),
                    format!(
                        "{kind:<9} K{:<2} BIC {bic:>10} ICL {:>10} {it}",
                        options.k,
                        format::fixed(fit.icl, 2)
                    ),
                    full,
                    format!("{kind:<9} K{:<2} BIC {bic:>10} {it}", options.k),
                    format!(
                        "{kind:.4} K{} BIC {} {it}",
                        options.k,
                        format::fixed(fit.bic, 1)
                    ),
                ],
                BatchKind::Restarts => vec![
                    full,
                    format!("s{seed:<3} LL {ll:>10} {it}"),
                    format!("s{seed} LL {} {it}", format::fixed(fit.log_likelihood, 1)),
                ],
            }
        }
    };
    let room = width.saturating_sub(mark.chars().count());
    let last = candidates.last().cloned().unwrap_or_default();
    let row = candidates
        .into_iter()
        .find(|c| c.chars().count() <= room)
        .unwrap_or(last);
    (row, mark)
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

/// BIC against K, one line per covariance type, each point labelled by the type's letter
/// (f d s t, named in the title, so the lines read apart without colour), the lowest in
/// capitals and reversed; the bottom line explains the list's flags.
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
    let lowest = series
        .iter()
        .enumerate()
        .flat_map(|(i, (_, points))| points.iter().map(move |&p| (i, p)))
        .min_by(|a, b| a.1.1.total_cmp(&b.1.1));
    let legend: Vec<String> = CovarianceType::ALL
        .iter()
        .map(|kind| format!("{} {}", letter(*kind), kind.name()))
        .collect();
    let legend = legend.join(" ");
    let title = [
        format!(" BIC against K (lower is better): {legend} · capital: lowest "),
        format!(" BIC against K: {legend} · capital: lowest "),
        format!(" BIC: {legend} · capital: lowest "),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= usize::from(area.width))
    .unwrap_or_else(|| format!(" BIC: {legend} "));
    let block = Block::default().title(title).title_bottom(format!(
        " K 1 … {max_k} · BIC {} … {} · ✗ stopped at max-iter, not converged ",
        format::fixed(low, 1),
        format::fixed(high, 1)
    ));
    let canvas = Canvas::default()
        .block(block)
        .marker(if theme.is_ascii() {
            Marker::Dot
        } else {
            Marker::Braille
        })
        .x_bounds([0.5, max_k.max(2.0) + 0.5])
        .y_bounds([low, high])
        .paint(|ctx| {
            if !theme.is_ascii() {
                for (i, (_, points)) in series.iter().enumerate() {
                    let colour = theme.component_colour(i);
                    for pair in points.windows(2) {
                        ctx.draw(&CanvasLine::new(
                            pair[0].0, pair[0].1, pair[1].0, pair[1].1, colour,
                        ));
                    }
                }
            }
            for (i, (kind, points)) in series.iter().enumerate() {
                for &(k, bic) in points {
                    ctx.print(
                        k,
                        bic,
                        Span::styled(letter(*kind).to_string(), theme.component(i)),
                    );
                }
            }
            // The lowest last, so no other letter in its cell hides it.
            if let Some((i, (k, bic))) = lowest {
                let capital = letter(series[i].0).to_ascii_uppercase().to_string();
                ctx.print(k, bic, Span::styled(capital, theme.highlight()));
            }
        });
    frame.render_widget(canvas, area);
}

/// The letter of a covariance type on the BIC chart.
fn letter(kind: CovarianceType) -> char {
    kind.name().chars().next().unwrap_or('?')
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
    let (low, high, step) = format::nice_bounds(low, high, 2);
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
                    .fg(theme.highlight_colour())
                    .add_modifier(Modifier::BOLD)
            } else {
                colour(theme, *i)
            };
            Dataset::default()
                .marker(theme.line_marker())
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
        .y_axis(Axis::default().bounds([low, high]).labels(vec![
            Span::raw(format::tick(low, step)),
            Span::raw(format::tick(high, step)),
        ]));
    frame.render_widget(chart, area);
}
