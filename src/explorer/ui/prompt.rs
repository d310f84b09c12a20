//! The save dialog: the path being typed, then a question if the path has spaces at either end
//! or something is already there, and the last error in full. Every line is wrapped at the
//! dialog's width character by character (paths have no words to break at), so a long path or
//! error is shown whole rather than cut off.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{Theme, centred};
use crate::explorer::app::{Prompt, SaveWhat};
use crate::text::printable;

/// Draws the dialog centred in `area`.
pub fn render(frame: &mut Frame, area: Rect, prompt: &Prompt, theme: &Theme) {
    let what = match prompt.what {
        SaveWhat::Spec(_) => "Save the simulation spec (TOML)",
        SaveWhat::Data => "Save the data set (CSV)",
        SaveWhat::Start(_) => "Save θ(0) as JSON (for --init-params)",
        SaveWhat::Figure(_) => "Save the view as SVG",
    };
    // Quoted, so spaces at either end can be seen.
    let path = printable(&prompt.path);
    let mut texts: Vec<(String, Style)> = vec![(format!("path: \"{path}\"▏"), Style::default())];
    if prompt.saving {
        texts.push(("saving…".into(), theme.dim()));
    } else if let Some(existing) = &prompt.confirm_overwrite {
        texts.push((
            format!("\"{path}\" is {existing}: overwrite it? y / n"),
            theme.warning(),
        ));
    } else if prompt.confirm_spaces {
        texts.push((
            "the path starts or ends with spaces: y keeps them · t trims them · n edits".into(),
            theme.warning(),
        ));
    } else {
        texts.push((
            "Enter saves · Esc cancels · ~ is your home".into(),
            theme.dim(),
        ));
    }
    if let Some(error) = &prompt.error {
        texts.push((printable(error), theme.warning()));
    }
    let width = area.width.min(72);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let lines: Vec<Line> = texts
        .iter()
        .flat_map(|(text, style)| {
            wrap(text, inner)
                .into_iter()
                .map(|piece| Line::from(Span::styled(piece, *style)))
        })
        .collect();
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let popup = centred(area, width, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(" {what} "))),
        popup,
    );
}

/// `text` cut into pieces of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width)
        .map(|chunk| chunk.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_by_characters() {
        assert_eq!(wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert_eq!(wrap("σσσσ", 2), vec!["σσ", "σσ"]);
    }
}
