//! The status line: always `iter N`, then the data, the run's state and the main keys; a
//! second line for a failure, a note, or key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::em::{CovarianceType, DEFAULT_REG_COVAR};
use crate::explorer::app::{App, Mode};

/// Draws the status line(s) into `area` (one or two rows).
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let data = &app.source.data;
    let iteration = app.shown_snapshot().map_or(0, |s| s.iteration);
    let newest = app.newest().map_or(0, |s| s.iteration);
    let state = if app.failure.is_some() {
        "failed"
    } else if app.mode == Mode::Running {
        "running"
    } else if app.converged() {
        "converged"
    } else if app.newest().is_some_and(|s| s.done) {
        "max-iter"
    } else if app.history.is_empty() {
        "starting"
    } else {
        "paused"
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut spans = vec![
        Span::styled(format!("iter {iteration}"), bold),
        Span::raw(format!("/{newest} │ {state} │ {} │ ", app.speed_label())),
        // The source name goes last: it is the longest and the one a narrow terminal may cut.
        // Covariance type and reg_covar show only when changed from their defaults.
        Span::raw(format!(
            "n {} D {} K {}{} │ {} seed {}{} │ {}",
            data.len(),
            data.dim(),
            app.settings.k,
            match app.settings.config.covariance {
                CovarianceType::Full => String::new(),
                other => format!(" {}", other.name()),
            },
            app.init_label(),
            app.settings.seed,
            if app.settings.config.reg_covar == DEFAULT_REG_COVAR {
                String::new()
            } else {
                format!(" reg {:e}", app.settings.config.reg_covar)
            },
            app.source.name,
        )),
    ];
    let hints = "space run  n/p step  +/- speed  r new seed  [ ] K  s simulate  ? help  q quit";
    let second = if app.prompt.is_some() {
        Line::from(Span::styled(
            "saving: type a path, Enter saves, Esc cancels",
            theme.dim(),
        ))
    } else if app.editor.is_some() {
        Line::from(Span::styled(
            "editing the simulation: Enter applies, Esc cancels, p presets, S saves",
            theme.dim(),
        ))
    } else if let Some(failure) = &app.failure {
        Line::from(Span::styled(failure.clone(), theme.warning()))
    } else if let Some(note) = &app.note {
        Line::from(note.clone())
    } else {
        Line::from(Span::styled(hints, theme.dim()))
    };
    let lines = if area.height >= 2 {
        vec![Line::from(spans), second]
    } else {
        if let Some(failure) = &app.failure {
            spans.push(Span::styled(format!(" │ {failure}"), theme.warning()));
        }
        vec![Line::from(spans)]
    };
    frame.render_widget(Paragraph::new(lines), area);
}
