//! The messages overlay (`!`): every warning and error of the session, each with the iteration
//! it concerns, in full (wrapped, never cut).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::Theme;
use crate::explorer::app::Message;

/// Draws the overlay over `area`, from line `scroll`.
pub fn render(frame: &mut Frame, area: Rect, messages: &[Message], scroll: u16, theme: &Theme) {
    let mut lines: Vec<Line> = Vec::new();
    if messages.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing to report: no warning or error so far",
            theme.dim(),
        )));
    }
    for message in messages {
        let at = match message.iteration {
            Some(t) => format!("iter {t}: "),
            None => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(at, theme.dim()),
            Span::raw(message.text.clone()),
        ]));
    }
    super::scrolled_popup(
        frame,
        area,
        lines,
        scroll,
        " Messages: warnings and errors · Esc closes ",
    );
}
