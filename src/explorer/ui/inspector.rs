//! The point inspector: the E-step of the notes with live numbers at one data point — each
//! component's log density there, its weighted share λ_k φ_k, and the responsibility
//! λ_k φ_k / Σ_j λ_j φ_j — under the parameters whose E-step coloured the points on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{Theme, compact};
use crate::em::component_log_densities;
use crate::explorer::app::App;

/// Draws the panel (in place of the parameters panel while the inspector is open).
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::bordered().title(" Point inspector (o or Esc closes) ");
    let (Some(position), Some(params)) = (app.inspected, app.colouring_params()) else {
        frame.render_widget(Paragraph::new("no point").block(block), area);
        return;
    };
    let Some(&row) = app.drawn.get(position) else {
        frame.render_widget(Paragraph::new("no point").block(block), area);
        return;
    };
    let point = app.source.data.row(row);
    let log_densities = component_log_densities(params, point);
    let log_shares: Vec<f64> = log_densities
        .iter()
        .zip(params.weights())
        .map(|(l, w)| l + w.ln())
        .collect();
    let max = log_shares.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = log_shares.iter().map(|l| (l - max).exp()).sum();
    let coordinates: Vec<String> = point.iter().map(|v| compact(*v)).collect();
    let mut lines = vec![
        Line::from(format!("row {} at ({})", row + 1, coordinates.join(", "))),
        Line::from(Span::styled(
            "r_k = λ_k φ_k(x) / Σ_j λ_j φ_j(x)",
            theme.dim(),
        )),
    ];
    for k in 0..params.k() {
        let slot = app.slot(k);
        let responsibility = (log_shares[k] - max).exp() / total;
        lines.push(Line::from(vec![
            Span::styled(
                format!("■ {} ", slot + 1),
                theme.component(slot).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "ln φ {}  ln λφ {}  r {:.4}",
                compact(log_densities[k]),
                compact(log_shares[k]),
                responsibility
            )),
        ]));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "ln Σ λφ = {} (this point's log-likelihood)",
            compact(max + total.ln())
        ),
        theme.dim(),
    )));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
