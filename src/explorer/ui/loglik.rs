//! The log-likelihood panel: the trace over iterations with the shown iteration marked, its
//! value and change, the convergence state, and a flag on any decrease (EM never decreases the
//! log-likelihood in exact arithmetic, so a decrease means a numerical problem).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};

use super::{Theme, short};
use crate::explorer::app::App;

/// A decrease smaller than this fraction of |LL| is rounding, not a problem.
const DECREASE_TOLERANCE: f64 = 1e-9;

/// Draws the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let timeline = app.timeline();
    let trace: Vec<(f64, f64)> = timeline
        .entries()
        .iter()
        .enumerate()
        .map(|(t, e)| (t as f64, e.log_likelihood))
        .collect();
    let Some(entry) = timeline.shown_entry() else {
        frame.render_widget(Block::bordered().title(" Log-likelihood "), area);
        return;
    };
    let t = timeline.shown();
    let value = entry.log_likelihood;
    let change = timeline.change();
    let decrease = trace
        .windows(2)
        .find(|w| w[1].1 < w[0].1 - DECREASE_TOLERANCE * w[0].1.abs())
        .map(|w| w[1].0);
    let state = if app.converged() {
        "converged"
    } else if app.finished() {
        "stopped at max-iter"
    } else {
        "not converged"
    };
    let mut title = vec![Span::raw(format!(
        " Log-likelihood {value:.3} at iter {t}{} │ {state} ",
        change.map(|c| format!(" (Δ {c:+.3e})")).unwrap_or_default()
    ))];
    if let Some(simulation) = &app.source().simulation {
        title.push(Span::raw(format!(
            "│ true LL {:.3} ",
            simulation.true_log_likelihood
        )));
    }
    if let Some(agreement) = entry.agreement {
        title.push(Span::raw(format!("│ ARI {agreement:.3} ")));
    }
    if let Some(at) = decrease {
        title.push(Span::styled(
            format!(" ⚠ fell at iteration {at} (! says why) "),
            theme.warning(),
        ));
    }
    let block = Block::bordered().title(Line::from(title));
    if trace.len() < 2 {
        let text = "the trace appears after the first iteration (n or space)";
        frame.render_widget(Paragraph::new(text).style(theme.dim()).block(block), area);
        return;
    }
    let points = trace.as_slice();
    let reference = app
        .source()
        .simulation
        .as_ref()
        .map(|s| s.true_log_likelihood);
    // Early iterations can sit far below the rest: scale to the values seen, padded.
    let (low, high) = trace
        .iter()
        .map(|&(_, v)| v)
        .chain(reference)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let pad = ((high - low) * 0.05).max(high.abs() * 1e-12).max(1e-9);
    let (low, high) = (low - pad, high + pad);
    let last = trace.last().map_or(0.0, |&(t, _)| t);
    let marker_line = [(t as f64, low), (t as f64, high)];
    let line_style = if theme.colour {
        Style::default().fg(ratatui::style::Color::Cyan)
    } else {
        Style::default()
    };
    let reference_line: Vec<(f64, f64)> =
        reference.map_or_else(Vec::new, |value| vec![(0.0, value), (last.max(1.0), value)]);
    let reference_style = if theme.colour {
        Style::default().fg(ratatui::style::Color::Gray)
    } else {
        Style::default()
    };
    let mut datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(line_style)
            .data(points),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.warning())
            .data(&marker_line),
    ];
    if !reference_line.is_empty() {
        datasets.insert(
            0,
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(reference_style)
                .data(&reference_line),
        );
    }
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([0.0, last.max(1.0)])
                .labels(vec![Span::raw("0"), Span::raw(format!("{last}"))]),
        )
        .y_axis(
            Axis::default()
                .bounds([low, high])
                .labels(vec![Span::raw(short(low)), Span::raw(short(high))]),
        );
    frame.render_widget(chart, area);
}
