//! Rendering: pure functions from the app state to a frame, one file per panel. Nothing here
//! changes state or does EM arithmetic: the labels, matching, ellipse outlines and inspector
//! numbers come prepared in the app's [`crate::explorer::app::View`]; panels only format.

mod batch;
mod data;
mod derivation;
mod editor;
mod help;
mod inspector;
mod loglik;
mod messages;
mod params;
mod prompt;
mod reproduce;
mod start;
mod status;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::explorer::app::{App, Overlay};

/// Below this size the explorer shows only a "terminal too small" note.
pub const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 10;

/// The 16 basic ANSI colours render the same over any SSH client; components cycle through
/// the clearly distinct ones.
const COMPONENT_COLOURS: [Color; 12] = [
    Color::Red,
    Color::Blue,
    Color::Green,
    Color::Magenta,
    Color::Cyan,
    Color::Yellow,
    Color::LightRed,
    Color::LightBlue,
    Color::LightGreen,
    Color::LightMagenta,
    Color::LightCyan,
    Color::LightYellow,
];

/// Colours, or none (NO_COLOR): then components are told apart by letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether to use colour at all.
    pub colour: bool,
}

impl Theme {
    /// Colour unless the NO_COLOR environment variable is set to anything non-empty.
    pub fn from_env() -> Self {
        Self {
            colour: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// The colour of component `k` (0-based); the terminal's default without colour.
    pub fn component_colour(&self, k: usize) -> Color {
        if self.colour {
            COMPONENT_COLOURS[k % COMPONENT_COLOURS.len()]
        } else {
            Color::Reset
        }
    }

    /// The style of text about component `k`.
    pub fn component(&self, k: usize) -> Style {
        Style::default().fg(self.component_colour(k))
    }

    /// The letter that names component `k` where colour cannot (a, b, c, …).
    pub fn letter(k: usize) -> char {
        (b'a' + (k % 26) as u8) as char
    }

    /// A warning (log-likelihood decrease, failed run).
    pub fn warning(&self) -> Style {
        if self.colour {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.colour {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
}

/// Draws the whole explorer.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small ({}×{}): need {MIN_WIDTH}×{MIN_HEIGHT}; q quits",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(Line::from(text)).wrap(Default::default()),
            area,
        );
        return;
    }
    let status_height = if area.height >= 16 { 2 } else { 1 };
    let [main, status_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(status_height)]).areas(area);
    let batch = app.find(|o| matches!(o, Overlay::Batch(_)));
    let editor = app.find(|o| matches!(o, Overlay::Editor(_)));
    if let Some(Overlay::Batch(view)) = batch {
        let [data_area, panel_area] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                .areas(main);
        data::render(frame, data_area, app, theme);
        batch::render(frame, panel_area, view, theme);
    } else if let Some(Overlay::Editor(form)) = editor {
        // The data panel stays in view to preview the true components being edited.
        let [data_area, editor_area] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(main);
        data::render(frame, data_area, app, theme);
        editor::render(frame, editor_area, form, theme);
    } else {
        let trace_height = (area.height / 3).clamp(5, 14);
        let [top, trace_area] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(trace_height)]).areas(main);
        let derivation = app.find(|o| matches!(o, Overlay::Derivation { .. }));
        // The derivation needs room for its formulas: it takes over half the width.
        let params_width = if derivation.is_some() {
            (area.width * 3 / 5).clamp(24, 90)
        } else {
            (area.width * 2 / 5).clamp(24, 60)
        };
        let [data_area, params_area] =
            Layout::horizontal([Constraint::Min(16), Constraint::Length(params_width)]).areas(top);
        data::render(frame, data_area, app, theme);
        if let Some(Overlay::Derivation { scroll }) = derivation {
            derivation::render(frame, params_area, app, *scroll, theme);
        } else if let Some(Overlay::Start(editor)) = app.find(|o| matches!(o, Overlay::Start(_))) {
            start::render(frame, params_area, editor, app, theme);
        } else if app
            .find(|o| matches!(o, Overlay::Inspector { .. }))
            .is_some()
        {
            inspector::render(frame, params_area, app, theme);
        } else {
            params::render(frame, params_area, app, theme);
        }
        loglik::render(frame, trace_area, app, theme);
    }
    status::render(frame, status_area, app, theme);
    // Popups in stack order, the top one last.
    for overlay in app.overlays() {
        match overlay {
            Overlay::Help { scroll } => help::render(frame, area, *scroll, theme),
            Overlay::Messages { scroll } => {
                messages::render(frame, area, app.messages(), *scroll, theme)
            }
            Overlay::Reproduce(reproduce) => reproduce::render(frame, area, reproduce, theme),
            Overlay::Prompt(prompt) => prompt::render(frame, area, prompt, theme),
            Overlay::Editor(_)
            | Overlay::Batch(_)
            | Overlay::Inspector { .. }
            | Overlay::Start(_)
            | Overlay::Derivation { .. } => {}
        }
    }
}

/// A bordered popup of `lines`, wrapped to the area's width and scrolled from `scroll`, with
/// "more" marks when lines are above or below.
fn scrolled_popup(frame: &mut Frame, area: Rect, lines: Vec<Line>, scroll: u16, title: &str) {
    let width = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2)
        .max(title.chars().count() as u16 + 4)
        .min(area.width);
    let inner_width = width.saturating_sub(2).max(1);
    let total: u16 = lines
        .iter()
        .map(|l| (l.width() as u16).div_ceil(inner_width).max(1))
        .sum();
    let height = (total + 2).min(area.height);
    let visible = height.saturating_sub(2);
    let scroll = scroll.min(total.saturating_sub(visible));
    let mut block = Block::bordered().title(title.to_owned());
    if total > visible {
        block = block.title_bottom(format!(
            " ↑↓ scroll · lines {}–{} of {total} ",
            scroll + 1,
            (scroll + visible).min(total)
        ));
    }
    let popup = centred(area, width, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        popup,
    );
}

/// A rectangle of at most `width`×`height` centred in `area`.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Formats a number with `digits` significant digits: fixed-point between 10^-(digits-1) and
/// 10^(digits+1), scientific outside, so it stays within about digits + 4 characters.
fn significant(value: f64, digits: i32) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !value.is_finite() {
        format!("{value}")
    } else if magnitude >= 10f64.powi(1 - digits) && magnitude < 10f64.powi(digits + 1) {
        let decimals =
            (digits - 1 - magnitude.log10().floor() as i32).clamp(0, digits + 1) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.prec$e}", prec = (digits - 2).max(0) as usize)
    }
}

/// A number in at most about 8 characters (4 significant digits), for axis labels.
pub fn short(value: f64) -> String {
    significant(value, 4)
}

/// A number with 3 significant digits, for the narrow parameters panel.
pub fn compact(value: f64) -> String {
    significant(value, 3)
}

/// Formats a signed change with 3 significant digits.
pub fn signed(value: f64) -> String {
    if value >= 0.0 {
        format!("+{}", compact(value))
    } else {
        compact(value)
    }
}
