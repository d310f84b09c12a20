//! The panel of a start set by hand (`a`): each component's λ, mean and spread on the plotted
//! pair, the chosen one marked, and the keys. The start itself is outlined (dashed) on the data.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{Theme, compact};
use crate::explorer::app::{App, StartEditor};

/// Draws the panel (in place of the parameters panel while a start is being set).
pub fn render(frame: &mut Frame, area: Rect, editor: &StartEditor, app: &App, theme: &Theme) {
    let title = if area.width >= 36 {
        " θ(0) by hand · Enter runs · Esc "
    } else {
        " θ(0) by hand · Enter · Esc "
    };
    let block = Block::bordered().title(title);
    let mixture = &editor.mixture;
    let (x, y) = app.display().dims;
    let d = mixture.dim();
    let mut lines = Vec::new();
    for k in 0..mixture.k() {
        let chosen = k == editor.component;
        let mean = mixture.mean(k);
        let cov = mixture.covariance(k);
        let spread = if d == 1 {
            format!("σ {}", compact(cov[0].sqrt()))
        } else {
            let (sx, sy) = (cov[x * d + x].sqrt(), cov[y * d + y].sqrt());
            format!(
                "σ {}, {} ρ {}",
                compact(sx),
                compact(sy),
                super::format::fixed(cov[x * d + y] / (sx * sy), 2)
            )
        };
        let centre = if d == 1 {
            compact(mean[0])
        } else {
            format!("{}, {}", compact(mean[x]), compact(mean[y]))
        };
        let mut tag = theme.component(app.slot(k));
        if chosen {
            tag = tag.add_modifier(Modifier::BOLD | Modifier::REVERSED);
        }
        lines.push(Line::from(vec![
            Span::raw(if chosen { "▶ " } else { "  " }),
            Span::styled(theme.tag(k, app.slot(k)), tag),
            Span::raw(format!(
                " λ {} μ {centre} {spread}",
                compact(mixture.weights()[k])
            )),
        ]));
    }
    lines.push(Line::from(""));
    for help in [
        "Tab: next component",
        "arrows: move its mean",
        "+ -: scale its covariance",
        "< >: turn it (plotted pair)",
        "[ ]: less / more weight",
        "Enter: run EM from here",
        "w: save as --init-params JSON",
    ] {
        lines.push(Line::from(Span::styled(help, theme.dim())));
    }
    if let Some(reason) = &editor.refused {
        lines.push(Line::from(Span::styled(
            format!("refused: {reason}"),
            theme.warning(),
        )));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}
