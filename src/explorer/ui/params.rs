//! The parameters panel: per component its colour, weight, mean and covariance summary, the
//! change since the previous iteration, and for simulated data the true values of the matched
//! component beside them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{Theme, compact};
use crate::em::Mixture;
use crate::explorer::app::App;

/// Standard deviations and correlation of dimensions (a, b) of component k.
fn spread(mixture: &Mixture, k: usize, a: usize, b: usize) -> (f64, f64, f64) {
    let d = mixture.dim();
    let cov = mixture.covariance(k);
    let (sa, sb) = (cov[a * d + a].sqrt(), cov[b * d + b].sqrt());
    (sa, sb, cov[a * d + b] / (sa * sb))
}

/// The mean over the dimensions shown.
fn mean_text(mixture: &Mixture, k: usize, dims: &[usize]) -> String {
    let mean = mixture.mean(k);
    let parts: Vec<String> = dims.iter().map(|&j| compact(mean[j])).collect();
    // Commas, since grouped thousands (20 923) contain spaces.
    format!("μ {}", parts.join(", "))
}

/// The covariance summary: σ for D = 1; σx, σy and ρ of the plotted pair otherwise.
fn cov_text(mixture: &Mixture, k: usize, (x, y): (usize, usize)) -> String {
    if mixture.dim() == 1 {
        format!("σ {}", compact(mixture.covariance(k)[0].sqrt()))
    } else {
        let (sx, sy, rho) = spread(mixture, k, x, y);
        format!(
            "σ {}, {} ρ {}",
            compact(sx),
            compact(sy),
            super::format::fixed(rho, 2)
        )
    }
}

/// How much of each component the panel has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Weight, mean, covariance and their changes on three lines, the truth and the error on
    /// three more.
    Full,
    /// The same three lines, the truth's weight and mean on one.
    Medium,
    /// The three lines of the fit alone.
    Fitted,
    /// One line: weight and mean.
    Compact,
}

/// The lines describing fitted component `k` (and the true component matched to it).
#[allow(clippy::too_many_arguments)]
fn component_lines(
    mixture: &Mixture,
    previous: Option<&Mixture>,
    truth: Option<(&Mixture, usize)>,
    k: usize,
    slot: usize,
    dims: &[usize],
    plotted: (usize, usize),
    theme: &Theme,
    detail: Detail,
) -> Vec<Line<'static>> {
    // Numbered 1..K in order; coloured by colour slot, which stays with a matched component
    // across restarts.
    let tag = theme.tag(k, slot);
    let weight = mixture.weights()[k];
    let mut head = vec![
        Span::styled(tag, theme.component(slot).add_modifier(Modifier::BOLD)),
        Span::raw(format!(" λ {}", compact(weight))),
    ];
    if detail == Detail::Compact {
        head.push(Span::raw(format!(" {}", mean_text(mixture, k, dims))));
        return vec![Line::from(head)];
    }
    let mut moved = String::new();
    if let Some(previous) = previous {
        let distance: f64 = mixture
            .mean(k)
            .iter()
            .zip(previous.mean(k))
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        // Each Δ to the precision of the value it changes.
        head.push(Span::styled(
            format!(
                " (Δ {})",
                super::format::change(weight - previous.weights()[k], weight)
            ),
            theme.dim(),
        ));
        let scale = mixture.mean(k).iter().map(|v| v.abs()).fold(0.0, f64::max);
        let shown = super::format::change(distance, scale);
        moved = format!(" Δ {}", shown.trim_start_matches('+'));
    }
    let mut lines = vec![
        Line::from(head),
        Line::from(vec![
            Span::raw(format!(" {}", mean_text(mixture, k, dims))),
            Span::styled(moved, theme.dim()),
        ]),
        Line::from(format!(" {}", cov_text(mixture, k, plotted))),
    ];
    if let Some((truth, t)) = truth.filter(|_| detail != Detail::Fitted) {
        let style = Style::default().add_modifier(Modifier::ITALIC);
        lines.push(Line::from(Span::styled(
            format!(
                " true λ {} {}",
                compact(truth.weights()[t]),
                mean_text(truth, t, dims)
            ),
            style,
        )));
        if detail == Detail::Full {
            lines.push(Line::from(Span::styled(
                format!("      {}", cov_text(truth, t, plotted)),
                style,
            )));
            lines.push(Line::from(Span::styled(
                format!(" err {}", error_text(mixture, k, truth, t)),
                theme.dim(),
            )));
        }
    }
    lines
}

/// The fit's error against the matched true component: weight difference, distance between
/// the means, and the largest relative error of a standard deviation.
fn error_text(fitted: &Mixture, k: usize, truth: &Mixture, t: usize) -> String {
    let d = fitted.dim();
    let weight = fitted.weights()[k] - truth.weights()[t];
    let mean: f64 = fitted
        .mean(k)
        .iter()
        .zip(truth.mean(t))
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let sd = (0..d)
        .map(|j| {
            let true_sd = truth.covariance(t)[j * d + j].sqrt();
            (fitted.covariance(k)[j * d + j].sqrt() - true_sd).abs() / true_sd
        })
        .fold(0.0, f64::max);
    // Errors need no more than three figures: they say how far, not where.
    format!(
        "λ {} |μ| {} σ {}%",
        super::format::fixed(weight, 3),
        super::format::fixed(mean, 3),
        super::format::fixed(100.0 * sd, 0)
    )
}

/// Draws the panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let view = app.view();
    let block = Block::bordered().title(format!(" Parameters θ({}) ", view.iteration));
    let Some(mixture) = view.params.as_deref() else {
        let text = match (&app.run().failure, view.pending) {
            (Some(failure), _) => failure.clone(),
            (None, true) => format!(
                "re-deriving θ({}) from an earlier iteration…",
                view.iteration
            ),
            (None, false) => "starting…".into(),
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    };
    let previous = view.previous.as_deref();
    let d = mixture.dim();
    let plotted = app.display().dims;
    let dims: Vec<usize> = if d <= 2 {
        (0..d).collect()
    } else {
        vec![plotted.0, plotted.1]
    };
    let truth = app.source().true_mixture();
    let true_of: Vec<Option<usize>> = (0..mixture.k())
        .map(|k| view.truth_match.get(k).copied().flatten())
        .collect();
    let mut lines: Vec<Line> = Vec::new();
    if d > 2 {
        let columns = &app.source().columns;
        lines.push(Line::from(Span::styled(
            format!(
                "showing {} and {} of {d} dims",
                columns[dims[0]], columns[dims[1]]
            ),
            theme.dim(),
        )));
    }
    let available = block.inner(area).height as usize;
    let previous = previous.filter(|p| p.k() == mixture.k());
    // The fullest layout that fits: 6 lines per component with the truth, 4, 3, then 1.
    let mut chosen = Vec::new();
    for detail in [
        Detail::Full,
        Detail::Medium,
        Detail::Fitted,
        Detail::Compact,
    ] {
        let mut candidate = lines.clone();
        for (k, true_component) in true_of.iter().enumerate() {
            let truth = truth.zip(*true_component);
            candidate.extend(component_lines(
                mixture,
                previous,
                truth,
                k,
                app.slot(k),
                &dims,
                plotted,
                theme,
                detail,
            ));
        }
        let fits = candidate.len() <= available;
        chosen = candidate;
        if fits {
            break;
        }
    }
    lines = chosen;
    // With room to spare and a truth to compare with: drawn points by fitted component (rows)
    // and true class (columns), from the E-step whose colours are on screen.
    if let (Some(confusion), Some(truth)) = (&view.confusion, &app.source().truth) {
        let width = block.inner(area).width as usize;
        let needed = confusion.len() + 2;
        let cell = truth
            .classes
            .iter()
            .map(|c| c.chars().count())
            .chain(confusion.iter().flatten().map(|n| n.to_string().len()))
            .max()
            .unwrap_or(1)
            .clamp(3, 8);
        let row_width = 5 + (cell + 1) * truth.classes.len();
        if available >= lines.len() + needed && row_width <= width {
            lines.push(Line::from(Span::styled(
                format!("points by component × {}", truth.name),
                theme.dim(),
            )));
            let mut header = "     ".to_owned();
            for class in &truth.classes {
                let name: String = class.chars().take(cell).collect();
                header.push_str(&format!(" {name:>cell$}"));
            }
            lines.push(Line::from(Span::styled(header, theme.dim())));
            for (k, row) in confusion.iter().enumerate() {
                let mut spans = vec![Span::styled(
                    format!("{:<5}", theme.tag(k, app.slot(k))),
                    theme.component(app.slot(k)),
                )];
                let counts: String = row.iter().map(|n| format!(" {n:>cell$}")).collect();
                spans.push(Span::raw(counts));
                lines.push(Line::from(spans));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
