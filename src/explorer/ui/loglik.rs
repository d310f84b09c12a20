//! The log-likelihood panel: the trace over iterations with the shown iteration marked, its
//! value and change, the convergence state, and a flag on any decrease (exact EM never decreases
//! the log-likelihood; reg_covar can, and the messages say so). `l` switches to the convergence
//! view: log10(L* − L(t)) against t, where linear convergence is a straight line; then to the
//! minorise–maximise picture of the shown iteration.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};

use super::{Theme, format};
use crate::explorer::app::{App, LogView};

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
    // The fullest title that fits: value, iteration, true LL, ARI and the warning stay;
    // the change and the state (also on the status line) go first.
    let value_text = format::score(value, change);
    let delta = change
        .map(|c| format!(" (Δ {})", format::signed(c)))
        .unwrap_or_default();
    let true_ll = app
        .source()
        .simulation
        .as_ref()
        .map(|s| format::score(s.true_log_likelihood, None));
    let truths = [
        true_ll
            .as_ref()
            .map(|v| format!("│ true LL {v} "))
            .unwrap_or_default(),
        true_ll
            .as_ref()
            .map(|v| format!("│ true {v} "))
            .unwrap_or_default(),
    ];
    let ari = entry
        .agreement
        .map(|a| format!("│ ARI {} ", format::fixed(a, 3)))
        .unwrap_or_default();
    let warnings = match decrease {
        Some(at) => [
            format!(" ⚠ fell at iteration {at} (! says why) "),
            format!(" ⚠ fell at {at} (!) "),
        ],
        None => [String::new(), String::new()],
    };
    let room = usize::from(area.width.saturating_sub(2));
    let heads = [
        format!(" Log-likelihood {value_text} at iter {t}{delta} │ {state} "),
        format!(" Log-likelihood {value_text} at iter {t}{delta} "),
        format!(" Log-likelihood {value_text} at iter {t} "),
        format!(" log L {value_text} iter {t} "),
    ];
    // (head, truth, warning) from the fullest down.
    let candidates = [
        (0, 0, 0),
        (1, 0, 0),
        (2, 0, 0),
        (2, 0, 1),
        (3, 0, 1),
        (3, 1, 1),
    ];
    let fits = |&&(h, tr, w): &&(usize, usize, usize)| {
        heads[h].chars().count()
            + truths[tr].chars().count()
            + ari.chars().count()
            + warnings[w].chars().count()
            <= room
    };
    let &(h, tr, w) = candidates
        .iter()
        .find(fits)
        .unwrap_or(&candidates[candidates.len() - 1]);
    let (head, truth, warn) = (heads[h].clone(), truths[tr].clone(), warnings[w].clone());
    let mut title = vec![Span::raw(head), Span::raw(truth), Span::raw(ari)];
    if !warn.is_empty() {
        title.push(Span::styled(warn, theme.warning()));
    }
    let block = Block::bordered().title(Line::from(title));
    if trace.len() < 2 {
        let text = "the trace appears after the first iteration (n or space)";
        frame.render_widget(Paragraph::new(text).style(theme.dim()).block(block), area);
        return;
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match app.display().log_view {
        LogView::Trace => trace_chart(frame, inner, app, &trace, t, theme),
        LogView::Convergence => convergence_chart(frame, inner, &trace, t, theme),
        LogView::Bound => bound_chart(frame, inner, app, theme),
    }
}

/// The log-likelihood against t, scaled to the run; the true log-likelihood as a labelled line
/// when it falls inside, an arrow note when outside, and a note when the fit passes it.
fn trace_chart(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    trace: &[(f64, f64)],
    t: usize,
    theme: &Theme,
) {
    let reference = app
        .source()
        .simulation
        .as_ref()
        .map(|s| s.true_log_likelihood);
    // The axis follows the run (early iterations can sit far below the rest), not the truth.
    let (low, high) = trace
        .iter()
        .map(|&(_, v)| v)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let pad = ((high - low) * 0.05).max(high.abs() * 1e-12).max(1e-9);
    // Bounds, and so the axis labels, at round numbers.
    let (low, high, step) = format::nice_bounds(low - pad, high + pad, 2);
    let best = trace
        .iter()
        .map(|&(_, v)| v)
        .fold(f64::NEG_INFINITY, f64::max);
    let note = match reference {
        Some(truth) if best > truth => {
            let below = if truth < low {
                " · true ↓ below the axis"
            } else {
                ""
            };
            let (best, truth) = (format::score(best, None), format::score(truth, None));
            // The explanation shortens before the numbers or the axis note are cut.
            let long = format!(
                "fit {best} > true {truth} (the MLE fits this sample better than the truth){below}"
            );
            let off_axis = if below.is_empty() {
                ""
            } else {
                " · true ↓ off axis"
            };
            Some(format::first_fitting(
                vec![
                    long,
                    format!("fit {best} > true {truth}: the MLE fits the sample better{below}"),
                    format!("fit {best} > true {truth}: MLE fits the sample better{off_axis}"),
                ],
                usize::from(area.width),
            ))
        }
        Some(truth) if truth > high => Some(format!(
            "true LL {} ↑ above the axis",
            format::score(truth, None)
        )),
        Some(truth) if truth < low => Some(format!(
            "true LL {} ↓ below the axis",
            format::score(truth, None)
        )),
        _ => None,
    };
    let area = match &note {
        Some(note) if area.height > 3 => {
            let [note_area, chart_area] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
            frame.render_widget(Paragraph::new(note.clone()).style(theme.dim()), note_area);
            chart_area
        }
        _ => area,
    };
    let last = trace.last().map_or(0.0, |&(t, _)| t);
    let marker_line = [(t as f64, low), (t as f64, high)];
    let line_style = Style::default().fg(theme.line_colour());
    let reference_line: Vec<(f64, f64)> = reference
        .filter(|value| (low..=high).contains(value))
        .map_or_else(Vec::new, |value| vec![(0.0, value), (last.max(1.0), value)]);
    let reference_style = Style::default().fg(theme.highlight_colour());
    let mut datasets = vec![
        Dataset::default()
            .marker(theme.line_marker())
            .graph_type(GraphType::Line)
            .style(line_style)
            .data(trace),
        Dataset::default()
            .marker(theme.line_marker())
            .graph_type(GraphType::Line)
            .style(theme.warning())
            .data(&marker_line),
    ];
    if !reference_line.is_empty() {
        datasets.insert(
            0,
            Dataset::default()
                .name("true LL")
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(reference_style)
                .data(&reference_line),
        );
    }
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([0.0, last.max(1.0)])
                .labels(vec![Span::raw("0"), Span::raw(format!("{last}"))]),
        )
        .y_axis(Axis::default().bounds([low, high]).labels(vec![
            Span::raw(format::tick(low, step)),
            Span::raw(format::tick(high, step)),
        ]));
    frame.render_widget(chart, area);
}

/// log10(L* − L(t)) against t, L* the best value reached: linear convergence is a straight
/// line whose slope is log10 of the rate, shown as the ratio of successive increments.
fn convergence_chart(frame: &mut Frame, area: Rect, trace: &[(f64, f64)], t: usize, theme: &Theme) {
    let best = trace
        .iter()
        .map(|&(_, v)| v)
        .fold(f64::NEG_INFINITY, f64::max);
    let points: Vec<(f64, f64)> = trace
        .iter()
        .filter(|&&(_, v)| best - v > 0.0)
        .map(|&(i, v)| (i, (best - v).log10()))
        .collect();
    let rate = convergence_rate(trace, t);
    let best_text = format::score(best, None);
    let rate_text = rate.map(|rate| format!(" · rate ΔL(t)/ΔL(t−1) {rate:.3}"));
    let short_rate = rate.map(|rate| format!(" · rate {rate:.3}"));
    let note = format::first_fitting(
        vec![
            format!(
                "log10(L* − L(t)), L* {best_text} best{} · a straight line: linear convergence",
                rate_text.clone().unwrap_or_default()
            ),
            format!(
                "log10(L* − L(t)), L* {best_text}{} · straight: linear",
                rate_text.unwrap_or_default()
            ),
            format!(
                "log10(L* − L(t)), L* {best_text}{}",
                short_rate.unwrap_or_default()
            ),
        ],
        usize::from(area.width),
    );
    let [note_area, chart_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(Paragraph::new(note).style(theme.dim()), note_area);
    if points.len() < 2 {
        frame.render_widget(
            Paragraph::new("needs two iterations below the best").style(theme.dim()),
            chart_area,
        );
        return;
    }
    let (low, high) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
            (lo.min(v), hi.max(v))
        });
    let (low, high) = (low.floor(), high.ceil().max(low.floor() + 1.0));
    let last = trace.last().map_or(1.0, |&(t, _)| t).max(1.0);
    let marker_line = [(t as f64, low), (t as f64, high)];
    let style = Style::default().fg(theme.line_colour());
    let chart = Chart::new(vec![
        Dataset::default()
            .marker(theme.line_marker())
            .graph_type(GraphType::Line)
            .style(style)
            .data(&points),
        Dataset::default()
            .marker(theme.line_marker())
            .graph_type(GraphType::Line)
            .style(theme.warning())
            .data(&marker_line),
    ])
    .x_axis(
        Axis::default()
            .bounds([0.0, last])
            .labels(vec![Span::raw("0"), Span::raw(format!("{last}"))]),
    )
    .y_axis(Axis::default().bounds([low, high]).labels(vec![
        Span::raw(format!("1e{low}")),
        Span::raw(format!("1e{high}")),
    ]));
    frame.render_widget(chart, chart_area);
}

/// The minorise–maximise picture: along θ(s) = θ(t) + s (θ(t+1) − θ(t)), log L(θ(s)) and the
/// lower bound Q(θ(s)|θ(t)) + H(t), which touches it at s = 0 and is maximised at s = 1: the
/// M-step climbs the bound, and the log-likelihood must climb at least as much.
fn bound_chart(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(curve) = app.bound() else {
        let text = match app.view().coloured_by {
            Some(t) => format!("computing the bound at θ({t}) in the background…"),
            None => "θ(0) before its first E-step: n runs it".to_owned(),
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim()), area);
        return;
    };
    if let Some(error) = &curve.error {
        frame.render_widget(
            Paragraph::new(format!("no picture at θ({}): {error}", curve.t)).style(theme.warning()),
            area,
        );
        return;
    }
    let t = curve.t;
    let sample = match curve.sampled {
        Some(m) => format!(" · on the drawn sample of {m}"),
        None => String::new(),
    };
    let next = t + 1;
    let note = format::first_fitting(
        vec![
            format!(
                "s: θ({t}) at 0 → θ({next}) at 1 · log L (line) ≥ Q(θ(s)|θ({t})) + H({t}) (dots), equal at 0{sample}"
            ),
            format!(
                "θ({t}) at s=0 → θ({next}) at 1 · log L (line) ≥ Q(θ(s)|θ({t}))+H({t}) (dots){sample}"
            ),
            format!("θ({t})→θ({next}) · log L (line) ≥ Q+H (dots), equal at s=0{sample}"),
        ],
        usize::from(area.width),
    );
    let note = theme.spell(&note);
    let [note_area, chart_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(Paragraph::new(note).style(theme.dim()), note_area);
    let log_l: Vec<(f64, f64)> = curve.points.iter().map(|&(s, l, _)| (s, l)).collect();
    let bound: Vec<(f64, f64)> = curve.points.iter().map(|&(s, _, b)| (s, b)).collect();
    if log_l.len() < 2 {
        frame.render_widget(
            Paragraph::new("too few valid mixtures on this line to draw").style(theme.dim()),
            chart_area,
        );
        return;
    }
    // Scale to what the picture is about: the bound's climb from s = 0 (where it touches
    // log L) to its top at s = 1, and log L there; the rest may leave the frame.
    let near = |target: f64| {
        curve
            .points
            .iter()
            .min_by(|a, b| (a.0 - target).abs().total_cmp(&(b.0 - target).abs()))
            .copied()
    };
    let (Some(start), Some(end)) = (near(0.0), near(1.0)) else {
        return;
    };
    let span = (end.1.max(end.2) - start.2).abs().max(1e-9);
    let (low, high) = (start.2 - 0.6 * span, end.1.max(end.2) + 0.25 * span);
    let clip = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter(|&&(_, v)| (low..=high).contains(&v))
            .copied()
            .collect()
    };
    let (log_l, bound) = (clip(&log_l), clip(&bound));
    let (s_low, s_high) = crate::explorer::worker::BOUND_RANGE;
    let markers = [(0.0, low), (0.0, high), (1.0, high), (1.0, low)];
    let line_style = Style::default().fg(theme.line_colour());
    let chart = Chart::new(vec![
        Dataset::default()
            .name("log L(θ(s))")
            .marker(theme.line_marker())
            .graph_type(GraphType::Line)
            .style(line_style)
            .data(&log_l),
        Dataset::default()
            .name("Q + H")
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(theme.warning())
            .data(&bound),
        Dataset::default()
            .marker(theme.line_marker())
            .graph_type(GraphType::Scatter)
            .style(theme.dim())
            .data(&markers),
    ])
    .x_axis(
        Axis::default()
            .bounds([s_low, s_high])
            // Evenly spaced, as ratatui places them: −0.5, 0, 0.5, 1, 1.5.
            .labels(
                (0..5)
                    .map(|i| Span::raw(format!("{}", s_low + (s_high - s_low) * i as f64 / 4.0)))
                    .collect::<Vec<_>>(),
            ),
    )
    .y_axis(Axis::default().bounds([low, high]).labels(vec![
        Span::raw(format::score(low, Some(high - low))),
        Span::raw(format::score(high, Some(high - low))),
    ]));
    frame.render_widget(chart, chart_area);
}

/// The ratio of successive increments (L(t) − L(t−1)) / (L(t−1) − L(t−2)) at the shown t, or the
/// last t with three values: the linear rate of convergence EM settles into.
pub fn convergence_rate(trace: &[(f64, f64)], t: usize) -> Option<f64> {
    let t = t.min(trace.len().checked_sub(1)?);
    let t = t.max(2);
    let (a, b, c) = (trace.get(t - 2)?.1, trace.get(t - 1)?.1, trace.get(t)?.1);
    let (before, now) = (b - a, c - b);
    (before > 0.0 && now.is_finite()).then(|| now / before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_of_a_geometric_approach_is_its_ratio() {
        // L(t) = −ρ^t: increments shrink by ρ each step.
        let trace: Vec<(f64, f64)> = (0..10).map(|t| (t as f64, -(0.8f64).powi(t))).collect();
        for t in 2..10 {
            assert!((convergence_rate(&trace, t).unwrap() - 0.8).abs() < 1e-12);
        }
        assert_eq!(convergence_rate(&trace[..2], 1), None);
    }
}
