//! The reproduce overlay (`e`): the shell commands that reproduce the current run with
//! `mixplore fit`, and the offer to save its θ(0) as an `--init-params` file.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::Theme;
use crate::explorer::app::Reproduce;

/// Draws the overlay over `area`.
pub fn render(frame: &mut Frame, area: Rect, reproduce: &Reproduce, theme: &Theme) {
    let mut lines = vec![Line::from(Span::styled(
        "This run, from the command line (trace[0] is this run's iteration 0):",
        theme.dim(),
    ))];
    lines.extend(reproduce.lines.iter().map(|l| Line::from(l.clone())));
    lines.push(Line::from(""));
    if reproduce.start.is_some() {
        lines.push(Line::from(Span::styled(
            "w saves θ(0) as JSON for --init-params · Esc closes",
            theme.dim(),
        )));
    } else {
        lines.push(Line::from(Span::styled(
            "θ(0) has not arrived yet · Esc closes",
            theme.dim(),
        )));
    }
    super::scrolled_popup(frame, area, lines, 0, " Reproduce this run ");
}
