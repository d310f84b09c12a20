//! The help overlay: every key, read from the same table that maps keys to actions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::{Theme, centred};
use crate::keys::BINDINGS;

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
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Points: colour = most likely component. Ellipses: 1σ and 2σ.",
        theme.dim(),
    )));
    let height = lines.len() as u16 + 2;
    let popup = centred(area, 76, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Help: keys (Esc or ? closes) ")),
        popup,
    );
}
