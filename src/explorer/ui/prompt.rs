//! The save dialog: the path being typed, then the overwrite question if the file exists.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::{Theme, centred};
use crate::explorer::app::{Prompt, SaveWhat};

/// Draws the dialog centred in `area`.
pub fn render(frame: &mut Frame, area: Rect, prompt: &Prompt, theme: &Theme) {
    let what = match prompt.what {
        SaveWhat::Spec(_) => "Save the simulation spec (TOML)",
        SaveWhat::Data => "Save the data set (CSV)",
    };
    let mut lines = vec![Line::from(format!("path: {}▏", prompt.path))];
    if prompt.confirm_overwrite {
        lines.push(Line::from(Span::styled(
            format!("{} exists: overwrite it? y / n", prompt.path),
            theme.warning(),
        )));
    } else {
        lines.push(Line::from(Span::styled(
            "Enter saves · Esc cancels",
            theme.dim(),
        )));
    }
    if let Some(error) = &prompt.error {
        lines.push(Line::from(Span::styled(error.clone(), theme.warning())));
    }
    let popup = centred(area, 64, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {what} "))),
        popup,
    );
}
