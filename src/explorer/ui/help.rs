//! The help overlay: every key, read from the same table that maps keys to actions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{Theme, centred};
use crate::explorer::keys::{BINDINGS, EDITOR_KEYS};

/// Draws the overlay over `area`.
pub fn render(frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines: Vec<Line> = Vec::new();
    for binding in BINDINGS.iter().filter(|b| !b.label.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:>8}  ", binding.label),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(binding.help),
        ]));
    }
    let main_keys = lines.len();
    lines.push(Line::from(Span::styled(
        "In the simulation editor:",
        Style::default().add_modifier(Modifier::BOLD),
    )));
    for (keys, help) in EDITOR_KEYS {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{keys:>16}  "),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(*help),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "Points: colour = most likely component. Ellipses: 1σ and 2σ.",
        theme.dim(),
    )));
    // A short terminal gets the main keys only (the editor shows its keys on its border).
    if lines.len() + 2 > area.height as usize {
        lines.truncate(main_keys);
    }
    // Lines are cut at the edge rather than wrapped, so the height counted is the height drawn.
    let height = lines.len() as u16 + 2;
    let width = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
    let popup = centred(area, width, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Help: keys (Esc or ? closes) ")),
        popup,
    );
}
