//! The status line and the message area under it.
//!
//! The first row is the run: `iter N/M`, its state, the speed (the measured rate at max
//! speed), the data's size and K, the init and seed, then the display mode when it is not the
//! default and the data's name. What does not fit moves to the start of the second row, never
//! off the screen. The rows below are the message area: a note, a failure with its advice, the
//! background simulation's progress, or the key hints for what is on screen (the most useful
//! first; those that do not fit are left out). A message longer than the width wraps onto
//! more rows (the caller sizes the area with [`height`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Theme, format};
use crate::em::{CovarianceType, DEFAULT_REG_COVAR};
use crate::explorer::app::{App, MarkerKind, Mode, Overlay};

/// The most rows a message may wrap onto.
const MAX_MESSAGE_ROWS: u16 = 4;

/// The run's state in a word or two.
fn state(app: &App) -> &'static str {
    let timeline = app.timeline();
    if app.run().failure.is_some() {
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
    }
}

/// The first row's facts, always shown.
fn run_facts(app: &App) -> String {
    let timeline = app.timeline();
    let newest = timeline.newest().map_or(0, |(t, _)| t);
    let spec = &app.run().spec;
    // Covariance type and reg_covar show only when changed from their defaults. All of it
    // describes the run being fitted, not the settings of the next one.
    format!(
        "/{newest} │ {} │ {} │ n {}{} D {} K {}{} │ {}{} seed {}{}",
        state(app),
        app.speed_label(),
        app.source().data.len(),
        // Weighted data: the sum of the weights, which is BIC's n.
        match app.source().data.weights() {
            Some(_) => format!(" (Σw {})", weight_total(app.source().data.total_weight())),
            None => String::new(),
        },
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
            format!(" reg {}", format::param(spec.config.reg_covar))
        },
    )
}

/// Σw as counted: whole (integer weights, the usual case) without decimals, else as a parameter.
fn weight_total(total: f64) -> String {
    if total.fract() == 0.0 && total < 1e15 {
        format!("{total:.0}")
    } else {
        format::param(total)
    }
}

/// The display mode when not the default: glyphs and colours, the point marker, a filled
/// (not aspect-true) data panel.
fn mode(app: &App, theme: &Theme) -> Option<String> {
    let display = app.display();
    let mut parts: Vec<String> = theme.mode_name().into_iter().collect();
    if display.marker != MarkerKind::Braille {
        parts.push(format!("{} marker", display.marker.name()));
    }
    if display.fill {
        parts.push("fill".into());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The name of the data, and the truth compared with when it is not the simulation's.
fn source_name(app: &App) -> String {
    match &app.source().truth {
        Some(truth) if app.source().simulation.is_none() => {
            format!("{} │ truth: {}", app.source().name, truth.name)
        }
        _ => app.source().name.clone(),
    }
}

/// Key hints for what is on screen, most useful first.
fn hints(app: &App) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let top = app.top();
    match top {
        Some(Overlay::Batch(_)) => {
            hints.extend(
                ["↑↓ choose", "Enter replays", "i other init", "Esc closes"].map(String::from),
            );
        }
        Some(Overlay::Inspector { .. }) => {
            hints.extend(["arrows: next point", "Esc closes"].map(String::from));
        }
        Some(Overlay::Help { .. } | Overlay::Messages { .. } | Overlay::Derivation { .. }) => {
            hints.extend(["↑↓ scroll", "Esc closes"].map(String::from));
        }
        Some(Overlay::Start(_)) => {
            // The start editor takes every key: the run's keys do nothing until it closes.
            return [
                "Enter runs from here",
                "Esc closes",
                "Tab component",
                "arrows move",
                "+/- scale",
                "</> turn",
                "[/] λ",
                "w saves",
            ]
            .map(String::from)
            .to_vec();
        }
        _ => {}
    }
    hints.extend(["space run", "n/p step"].map(String::from));
    let at_start = app.timeline().shown() == 0 && app.mode() == Mode::Paused;
    if at_start && top.is_none() {
        hints.extend(["h half-step", "o inspect"].map(String::from));
    }
    if app.source().data.dim() > 2 {
        hints.push("x/y axes".into());
    }
    let messages = app.messages().len();
    if messages > 0 {
        let noun = if messages == 1 { "message" } else { "messages" };
        hints.push(format!("! {messages} {noun}"));
    }
    hints.extend(["? help", "q quit"].map(String::from));
    hints.extend(
        [
            "+/- speed",
            "r new seed",
            "[ ] K",
            "b BIC",
            "R restarts",
            "d derivation",
            "s simulate",
            "= fill",
        ]
        .map(String::from),
    );
    hints
}

/// The hints that fit in `width` columns, in order of use.
fn fitted_hints(app: &App, width: usize) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut used = 0;
    for hint in hints(app) {
        let extra = hint.chars().count() + if shown.is_empty() { 0 } else { 2 };
        if used + extra > width || shown.contains(&hint) {
            continue;
        }
        used += extra;
        shown.push(hint);
    }
    shown.join("  ")
}

/// The message of the message area, if any (else the hints show), and whether it warns.
fn message(app: &App) -> Option<(String, bool)> {
    if let Some(note) = app.note() {
        Some((note.to_owned(), false))
    } else if let Some(share) = app.simulation_progress() {
        Some((
            format!(
                "drawing the new simulation in the background: {:.0} % (keys still work)",
                100.0 * share
            ),
            false,
        ))
    } else if matches!(app.top(), Some(Overlay::Prompt(_))) {
        Some((
            "saving: type a path, Enter saves, Esc cancels".into(),
            false,
        ))
    } else if matches!(app.top(), Some(Overlay::Editor(_))) {
        Some((
            "editing the simulation: Enter applies, Esc cancels, p presets, S saves".into(),
            false,
        ))
    } else {
        app.run().failure.clone().map(|failure| (failure, true))
    }
}

/// The first row's text and what moved to the second row (mode, data name).
fn rows(app: &App, theme: &Theme, width: usize) -> (Vec<Span<'static>>, String) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let head = format!("iter {}", app.timeline().shown());
    let facts = run_facts(app);
    let mut used = head.chars().count() + facts.chars().count();
    let mut first = vec![Span::styled(head, bold), Span::raw(facts)];
    let mut moved = Vec::new();
    for extra in [mode(app, theme), Some(source_name(app))]
        .into_iter()
        .flatten()
    {
        let length = 3 + extra.chars().count();
        if moved.is_empty() && used + length <= width {
            used += length;
            first.push(Span::raw(format!(" │ {extra}")));
        } else {
            moved.push(extra);
        }
    }
    (first, moved.join(" │ "))
}

/// The message area's text (after what moved from the first row) and its style.
fn second_row(app: &App, theme: &Theme, width: usize) -> (Vec<Span<'static>>, String) {
    let (_, moved) = rows(app, theme, width);
    let prefix = if moved.is_empty() {
        String::new()
    } else {
        format!("{moved} │ ")
    };
    let mut spans = vec![Span::raw(prefix.clone())];
    let text = match message(app) {
        Some((text, warns)) => {
            let style = if warns {
                theme.warning()
            } else {
                Style::default()
            };
            spans.push(Span::styled(text.clone(), style));
            text
        }
        None => {
            let hints = fitted_hints(app, width.saturating_sub(prefix.chars().count()));
            spans.push(Span::styled(hints.clone(), theme.dim()));
            hints
        }
    };
    (spans, format!("{prefix}{text}"))
}

/// Rows the status needs at `width` columns when `available` rows are free: one for the run,
/// then the message area (its message wrapped, up to a few rows).
pub fn height(app: &App, theme: &Theme, width: u16, available: u16) -> u16 {
    if available < 16 {
        return 1;
    }
    let (_, text) = second_row(app, theme, usize::from(width));
    let rows = (text.chars().count() as u16)
        .div_ceil(width.max(1))
        .clamp(1, MAX_MESSAGE_ROWS);
    1 + rows
}

/// Draws the status line and the message area into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = usize::from(area.width);
    let (mut first, _) = rows(app, theme, width);
    if area.height >= 2 {
        let (second, _) = second_row(app, theme, width);
        let [top, rest] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Length(1),
            ratatui::layout::Constraint::Min(1),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(Line::from(first)), top);
        frame.render_widget(
            Paragraph::new(Line::from(second)).wrap(Wrap { trim: false }),
            rest,
        );
    } else {
        if let Some(failure) = &app.run().failure {
            first.push(Span::styled(format!(" │ {failure}"), theme.warning()));
        }
        frame.render_widget(Paragraph::new(Line::from(first)), area);
    }
}
