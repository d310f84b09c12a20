//! The status line: always `iter N`, then the data, the run's state and the main keys; a
//! second line for a failure, a note, or key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::em::{CovarianceType, DEFAULT_REG_COVAR};
use crate::explorer::app::{App, Mode, Overlay};

/// Draws the status line(s) into `area` (one or two rows).
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let data = &app.source().data;
    let timeline = app.timeline();
    let iteration = timeline.shown();
    let newest = timeline.newest().map_or(0, |(t, _)| t);
    let run = app.run();
    let state = if run.failure.is_some() {
        "failed"
    } else if app.mode() == Mode::Running {
        "running"
    } else if matches!(
        app.stop_reason(),
        Some(crate::em::StopReason::Saddle { .. })
    ) {
        "saddle (not converged: ! says why)"
    } else if app.converged() {
        "converged"
    } else if app.finished() {
        "max-iter"
    } else if timeline.is_empty() {
        "starting"
    } else {
        "paused"
    };
    let spec = &run.spec;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let truth = match &app.source().truth {
        Some(truth) if app.source().simulation.is_none() => format!(" │ truth: {}", truth.name),
        _ => String::new(),
    };
    let mut spans = vec![
        Span::styled(format!("iter {iteration}"), bold),
        Span::raw(format!("/{newest} │ {state} │ {} │ ", app.speed_label())),
        // The source name goes last: it is the longest and the one a narrow terminal may cut.
        // Covariance type and reg_covar show only when changed from their defaults. All of it
        // describes the run being fitted, not the settings of the next one.
        Span::raw(format!(
            "n {} D {} K {}{} │ {}{} seed {}{} │ {}{truth}",
            data.len(),
            spec.dim,
            spec.k,
            match spec.config.covariance {
                CovarianceType::Full => String::new(),
                other => format!(" {}", other.name()),
            },
            if spec.config.hard { "hard EM " } else { "" },
            spec.init_label(),
            spec.seed,
            if spec.config.reg_covar == DEFAULT_REG_COVAR {
                String::new()
            } else {
                format!(" reg {:e}", spec.config.reg_covar)
            },
            app.source().name,
        )),
    ];
    let messages = app.messages().len();
    let hints = if messages > 0 {
        let noun = if messages == 1 { "message" } else { "messages" };
        format!("space run  n/p step  r new seed  [ ] K  ! {messages} {noun}  ? help  q quit")
    } else {
        "space run  n/p step  +/- speed  r new seed  [ ] K  s simulate  ? help  q quit".to_owned()
    };
    let top = app.top();
    let second = if let Some(note) = app.note() {
        Line::from(note.to_owned())
    } else if let Some(share) = app.simulation_progress() {
        Line::from(format!(
            "drawing the new simulation in the background: {:.0} % (keys still work)",
            100.0 * share
        ))
    } else if matches!(top, Some(Overlay::Prompt(_))) {
        Line::from(Span::styled(
            "saving: type a path, Enter saves, Esc cancels",
            theme.dim(),
        ))
    } else if matches!(top, Some(Overlay::Editor(_))) {
        Line::from(Span::styled(
            "editing the simulation: Enter applies, Esc cancels, p presets, S saves",
            theme.dim(),
        ))
    } else if let Some(failure) = &run.failure {
        Line::from(Span::styled(failure.clone(), theme.warning()))
    } else {
        Line::from(Span::styled(hints, theme.dim()))
    };
    let lines = if area.height >= 2 {
        vec![Line::from(spans), second]
    } else {
        if let Some(failure) = &run.failure {
            spans.push(Span::styled(format!(" │ {failure}"), theme.warning()));
        }
        vec![Line::from(spans)]
    };
    frame.render_widget(Paragraph::new(lines), area);
}
