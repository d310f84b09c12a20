//! The help overlay: every key, read from the same table that maps keys to actions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::Theme;
use crate::explorer::action::Action;
use crate::explorer::keys::{BINDINGS, Binding, EDITOR_KEYS};

/// Draws the overlay over `area`, from line `scroll` (↑/↓ scroll when it does not fit).
pub fn render(frame: &mut Frame, area: Rect, scroll: u16, theme: &Theme) {
    let mut lines: Vec<Line> = Vec::new();
    // How to leave comes first, so a short terminal shows it without scrolling.
    let leaving =
        |b: &&Binding| matches!(b.action, Action::Escape | Action::Quit | Action::Suspend);
    let ordered = BINDINGS
        .iter()
        .filter(leaving)
        .chain(BINDINGS.iter().filter(|b| !leaving(b)));
    for binding in ordered.filter(|b| !b.label.is_empty()) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:>8}  ", binding.label),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(binding.help),
        ]));
    }
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
        "Points: colour (or letter) = most likely component. Ellipses: 1σ and 2σ.",
        theme.dim(),
    )));
    super::scrolled_popup(
        frame,
        area,
        lines,
        scroll,
        " Help: keys · Esc closes · q quits ",
    );
}
