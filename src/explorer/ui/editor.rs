//! The simulation editor panel: the form's fields with their values, each invalid one marked in
//! place with its reason, the focused one highlighted, and the preset list when open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph};

use super::Theme;
use crate::explorer::editor::{Editor, FieldKind};

/// Draws the editor into `area`.
pub fn render(frame: &mut Frame, area: Rect, editor: &Editor, theme: &Theme) {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(" Simulation: Enter apply · Esc cancel ")
        .title_bottom(Line::from(" Tab/↑↓ move · p presets · S save "));
    if let Some(cursor) = editor.preset_cursor {
        let items: Vec<ListItem> = editor
            .presets
            .iter()
            .map(|p| ListItem::new(p.name.clone()))
            .collect();
        let list = List::new(items)
            .block(Block::bordered().title(" Presets: Enter load · Esc back "))
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .highlight_symbol("› ");
        let mut state = ListState::default().with_selected(Some(cursor));
        frame.render_stateful_widget(list, area, &mut state);
        return;
    }
    let inner = block.inner(area);
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0;
    let label_width = 12;
    for (index, field) in editor.fields().iter().enumerate() {
        if let FieldKind::Weight(k) = field.kind {
            lines.push(Line::from(Span::styled(
                format!("── true component {} ──", k + 1),
                theme.component(k).add_modifier(Modifier::BOLD),
            )));
        }
        let focused = index == editor.focus;
        if focused {
            focus_line = lines.len();
        }
        let value_style = if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let cursor = if focused { "▏" } else { "" };
        let spans = vec![
            Span::raw(format!(" {:label_width$}", field.label())),
            Span::styled(format!("{}{cursor}", field.text), value_style),
        ];
        lines.push(Line::from(spans));
        // The reason on its own line, wrapped, so a narrow panel never cuts it.
        if let Some(error) = editor.error(index) {
            lines.push(Line::from(Span::styled(
                format!("   ✗ {error}"),
                theme.warning(),
            )));
        }
    }
    if let Some(message) = &editor.message {
        lines.push(Line::from(Span::styled(
            format!("cannot apply: {message}"),
            theme.warning(),
        )));
    }
    // Scroll so the focused field (and the reason under it) stays in view, counting the rows
    // that wrapped lines take.
    let width = usize::from(inner.width.max(1));
    let rows = |line: &Line| line.width().div_ceil(width).max(1);
    let focus_row: usize = lines[..focus_line].iter().map(rows).sum();
    let total: usize = lines.iter().map(rows).sum();
    let height = inner.height as usize;
    let scroll = focus_row.saturating_sub(height.saturating_sub(2).max(1) / 2);
    let scroll = scroll.min(total.saturating_sub(height));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        area,
    );
}
