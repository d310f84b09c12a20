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
    // The popup's inner width: descriptions wrap under themselves, not under the keys.
    let width = usize::from(area.width.saturating_sub(2));
    for binding in ordered.filter(|b| !b.label.is_empty()) {
        lines.extend(entry(
            format!("{:>8}  ", binding.label),
            binding.help,
            width,
        ));
    }
    lines.push(Line::from(Span::styled(
        "In the simulation editor:",
        Style::default().add_modifier(Modifier::BOLD),
    )));
    for (keys, help) in EDITOR_KEYS {
        lines.extend(entry(format!("{keys:>16}  "), help, width));
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

/// One key's entry: its label in bold, then its description word-wrapped to `width` columns,
/// continuation rows indented to the description's column.
fn entry(label: String, help: &str, width: usize) -> Vec<Line<'static>> {
    let indent = label.chars().count();
    // Too narrow to indent usefully: let the popup wrap it.
    let room = width.saturating_sub(indent);
    if room < 16 {
        return vec![Line::from(vec![
            Span::styled(label, Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(help.to_owned()),
        ])];
    }
    let mut rows: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in help.split(' ') {
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && needed > room {
            rows.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    rows.push(current);
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let lead = if i == 0 {
                label.clone()
            } else {
                " ".repeat(indent)
            };
            Line::from(vec![
                Span::styled(lead, Style::default().add_modifier(Modifier::BOLD)),
                Span::raw(row),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_wrap_under_themselves() {
        let lines = entry(
            "     h  ".into(),
            "half-steps: n shows the E-step, then the M-step",
            30,
        );
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text,
            [
                "     h  half-steps: n shows",
                "        the E-step, then the",
                "        M-step"
            ]
        );
    }
}
