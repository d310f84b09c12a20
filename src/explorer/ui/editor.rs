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
        let mut spans = vec![
            Span::raw(format!(" {:label_width$}", field.label())),
            Span::styled(format!("{}{cursor}", field.text), value_style),
        ];
        if let Some(error) = editor.error(index) {
            spans.push(Span::styled(format!("  ✗ {error}"), theme.warning()));
        }
        lines.push(Line::from(spans));
    }
    if let Some(message) = &editor.message {
        lines.push(Line::from(Span::styled(
            format!("cannot apply: {message}"),
            theme.warning(),
        )));
    }
    // Scroll so the focused field stays in view.
    let height = inner.height as usize;
    let scroll = focus_line.saturating_sub(height.saturating_sub(2).max(1) / 2);
    let scroll = scroll.min(lines.len().saturating_sub(height));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        area,
    );
}
