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
        SaveWhat::Start(_) => "Save θ(0) as JSON (for --init-params)",
        SaveWhat::Figure(_) => "Save the view as SVG",
    };
    let mut lines = vec![Line::from(format!("path: {}▏", prompt.path))];
    if prompt.saving {
        lines.push(Line::from(Span::styled("saving…", theme.dim())));
    } else if prompt.confirm_overwrite {
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
    let width = 64.min(area.width);
    let height = lines
        .iter()
        .map(|l| {
            (l.width() as u16)
                .div_ceil(width.saturating_sub(2).max(1))
                .max(1)
        })
        .sum::<u16>()
        + 2;
    let popup = centred(area, width, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {what} "))),
        popup,
    );
}
