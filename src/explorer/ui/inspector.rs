//! The point inspector: the E-step of the notes with live numbers at one data point — each
//! component's log density there, its weighted share λ_k φ_k, and the responsibility
//! λ_k φ_k / Σ_j λ_j φ_j — under the parameters whose E-step coloured the points on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{Theme, compact};
use crate::explorer::app::App;

/// Draws the panel (in place of the parameters panel while the inspector is open).
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let view = app.view();
    let title = match view.coloured_by {
        Some(t) if area.width >= 46 => format!(" Point inspector: E-step at θ({t}) · Esc closes "),
        Some(t) => format!(" Point inspector θ({t}) · Esc "),
        None => " Point inspector · Esc closes ".to_owned(),
    };
    let block = Block::bordered().title(title);
    let Some(inspection) = &view.inspection else {
        let text = if view.coloured_by.is_none() {
            "θ(0) before its first E-step: n runs it"
        } else {
            "no point"
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let coordinates: Vec<String> = inspection.point.iter().map(|v| compact(*v)).collect();
    let mut lines = vec![Line::from(format!(
        "row {} at ({})",
        inspection.row + 1,
        coordinates.join(", ")
    ))];
    let formula = Line::from(Span::styled(
        "r_k = λ_k φ_k(x) / Σ_j λ_j φ_j(x)",
        theme.dim(),
    ));
    for k in 0..inspection.responsibilities.len() {
        let slot = app.slot(k);
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", theme.tag(k, slot)),
                theme.component(slot).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "ln φ {}  ln λφ {}  r {}",
                compact(inspection.log_densities[k]),
                compact(inspection.log_shares[k]),
                super::format::fixed(inspection.responsibilities[k], 4)
            )),
        ]));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "ln Σ λφ = {} (the point's log L)",
            compact(inspection.log_likelihood)
        ),
        theme.dim(),
    )));
    // The formula is the one line that goes when the panel is short: the numbers, down to
    // this point's log-likelihood on the last line, stay.
    let inner = block.inner(area);
    let width = usize::from(inner.width.max(1));
    let rows: usize = lines
        .iter()
        .chain(std::iter::once(&formula))
        .map(|l| l.width().div_ceil(width).max(1))
        .sum();
    if rows <= usize::from(inner.height) {
        lines.insert(1, formula);
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block),
        area,
    );
}
