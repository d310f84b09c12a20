//! Rendering: pure functions from the app state to a frame, one file per panel. Nothing here
//! changes state or does EM arithmetic: the labels, matching, ellipse outlines and inspector
//! numbers come prepared in the app's [`crate::explorer::app::View`]; panels only format.

mod ascii;
mod batch;
mod data;
mod derivation;
mod editor;
pub mod format;
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
use crate::explorer::capabilities::{Background, Capabilities, Colours, Glyphs};

/// Below this size the explorer shows only a "terminal too small" note.
pub const MIN_WIDTH: u16 = 40;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 10;

/// The Okabe–Ito colour-vision-safe palette (orange, sky blue, bluish green, vermillion, blue,
/// reddish purple, yellow; its black left out), in the xterm 256-colour cube: shades for dark
/// backgrounds, then darker ones that read on light backgrounds.
const OKABE_ITO_DARK: [u8; 7] = [214, 74, 36, 166, 33, 175, 227];
/// See [`OKABE_ITO_DARK`].
const OKABE_ITO_LIGHT: [u8; 7] = [172, 32, 29, 166, 25, 132, 136];

/// The same hues among the 16 basic colours, as near as they go (orange is the dark yellow of
/// most palettes), so that components 1 and 3 are not red and green.
const BASIC_DARK: [Color; 7] = [
    Color::Yellow,
    Color::LightCyan,
    Color::Green,
    Color::Red,
    Color::LightBlue,
    Color::Magenta,
    Color::LightYellow,
];
/// See [`BASIC_DARK`].
const BASIC_LIGHT: [Color; 7] = [
    Color::Yellow,
    Color::Cyan,
    Color::Green,
    Color::Red,
    Color::Blue,
    Color::Magenta,
    Color::LightRed,
];

/// How the panels colour and which glyphs they may send, from the terminal's
/// [`Capabilities`]. Highlights use the terminal's own foreground with bold or reverse video
/// (never white, which vanishes on light backgrounds); secondary text is dim (never colour 8,
/// the background of some schemes); without colour, components are told apart by letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// What the terminal can show.
    pub capabilities: Capabilities,
}

impl Theme {
    /// The theme for `capabilities`.
    pub fn new(capabilities: Capabilities) -> Self {
        Self { capabilities }
    }

    /// Unicode, 256 colours, dark background: the usual terminal.
    pub fn dark() -> Self {
        Self::new(Capabilities {
            glyphs: Glyphs::Unicode,
            colours: Colours::Indexed,
            background: Background::Dark,
        })
    }

    /// Unicode, 256 colours, light background.
    pub fn light() -> Self {
        Self::new(Capabilities {
            background: Background::Light,
            ..Self::dark().capabilities
        })
    }

    /// Unicode without colour (NO_COLOR).
    pub fn plain() -> Self {
        Self::new(Capabilities {
            colours: Colours::None,
            ..Self::dark().capabilities
        })
    }

    /// ASCII only, 16 colours (the Linux console).
    pub fn ascii() -> Self {
        Self::new(Capabilities {
            glyphs: Glyphs::Ascii,
            colours: Colours::Basic,
            background: Background::Dark,
        })
    }

    /// Whether to use colour at all.
    pub fn coloured(&self) -> bool {
        self.capabilities.colours != Colours::None
    }

    /// Whether only ASCII may be sent.
    pub fn is_ascii(&self) -> bool {
        self.capabilities.glyphs == Glyphs::Ascii
    }

    /// The colour of component `k` (0-based); the terminal's default without colour.
    pub fn component_colour(&self, k: usize) -> Color {
        let light = self.capabilities.background == Background::Light;
        match self.capabilities.colours {
            Colours::None => Color::Reset,
            Colours::Indexed => {
                let palette = if light {
                    &OKABE_ITO_LIGHT
                } else {
                    &OKABE_ITO_DARK
                };
                Color::Indexed(palette[k % palette.len()])
            }
            Colours::Basic => {
                let palette = if light { &BASIC_LIGHT } else { &BASIC_DARK };
                palette[k % palette.len()]
            }
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

    /// Points no component is sure of, histogram bars: a mid grey that reads on dark and light
    /// backgrounds alike.
    pub fn neutral_colour(&self) -> Color {
        match (self.capabilities.colours, self.capabilities.background) {
            (Colours::None, _) => Color::Reset,
            (Colours::Indexed, _) => Color::Indexed(244),
            (Colours::Basic, Background::Dark) => Color::Gray,
            (Colours::Basic, Background::Light) => Color::DarkGray,
        }
    }

    /// Highlighted marks on the plots (changed points, true ellipses, the chosen trace): the
    /// terminal's own foreground, the most visible colour on any background.
    pub fn highlight_colour(&self) -> Color {
        Color::Reset
    }

    /// Highlighted text (the chosen row, the inspected point).
    pub fn highlight(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    /// A warning (log-likelihood decrease, failed run).
    pub fn warning(&self) -> Style {
        if self.coloured() {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// Secondary text: dimmed, in the terminal's own colour.
    pub fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    /// `text` as this terminal should read it: in ASCII the relations that have no one-letter
    /// stand-in are spelled out (≥ as >=, ≤ as <=) before layout; the ASCII pass does the rest.
    pub fn spell(&self, text: &str) -> String {
        if self.is_ascii() {
            text.replace('≥', ">=").replace('≤', "<=")
        } else {
            text.to_owned()
        }
    }

    /// The marker of plotted lines: Braille, or one dot per cell (`*` in ASCII).
    pub fn line_marker(&self) -> ratatui::symbols::Marker {
        if self.is_ascii() {
            ratatui::symbols::Marker::Dot
        } else {
            ratatui::symbols::Marker::Braille
        }
    }

    /// The colour of a plotted line (the log-likelihood trace).
    pub fn line_colour(&self) -> Color {
        self.component_colour(1)
    }

    /// The tag of component `k` (number k + 1) drawn in colour `slot` in text: a square in
    /// its colour (■, or # in ASCII), or its points' letter without colour.
    pub fn tag(&self, k: usize, slot: usize) -> String {
        if !self.coloured() {
            format!("{} {}", Self::letter(slot), k + 1)
        } else if self.is_ascii() {
            format!("# {}", k + 1)
        } else {
            format!("■ {}", k + 1)
        }
    }

    /// What the status line says about the glyphs and colours when they are not the default
    /// (Unicode in colour), so the user knows why the screen looks as it does.
    pub fn mode_name(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.is_ascii() {
            parts.push("ascii");
        }
        if !self.coloured() {
            parts.push("no colour");
        }
        if self.capabilities.background == Background::Light {
            parts.push("light");
        }
        (!parts.is_empty()).then(|| parts.join(" "))
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
        if theme.is_ascii() {
            ascii::transliterate(frame.buffer_mut());
        }
        return;
    }
    let status_height = status::height(app, theme, area.width, area.height);
    let [main, status_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(status_height)]).areas(area);
    let batch = app.find(|o| matches!(o, Overlay::Batch(_)));
    let editor = app.find(|o| matches!(o, Overlay::Editor(_)));
    if let Some(Overlay::Batch(view)) = batch {
        // Below 100 columns the list needs the whole width for its markers and flags; the
        // data panel comes back when the batch closes.
        if main.width < 100 {
            batch::render(frame, main, view, theme);
        } else {
            let [data_area, panel_area] =
                Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(main);
            data::render(frame, data_area, app, theme);
            batch::render(frame, panel_area, view, theme);
        }
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
    if theme.is_ascii() {
        ascii::transliterate(frame.buffer_mut());
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

/// A parameter or axis value (see [`format::param`]).
pub fn short(value: f64) -> String {
    format::param(value)
}

/// A parameter in the narrow panels (see [`format::param`]).
pub fn compact(value: f64) -> String {
    format::param(value)
}

/// A signed parameter (see [`format::signed`]).
pub fn signed(value: f64) -> String {
    format::signed(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palettes_give_the_first_seven_components_distinct_colours() {
        let themes = [
            Theme::dark(),
            Theme::light(),
            Theme::ascii(),
            Theme::new(Capabilities {
                background: Background::Light,
                ..Theme::ascii().capabilities
            }),
        ];
        for theme in themes {
            let colours: Vec<Color> = (0..7).map(|k| theme.component_colour(k)).collect();
            for (i, colour) in colours.iter().enumerate() {
                assert!(!colours[i + 1..].contains(colour), "{theme:?}: {colours:?}");
                assert!(!matches!(
                    colour,
                    Color::White | Color::DarkGray | Color::Reset
                ));
            }
        }
        assert_eq!(Theme::plain().component_colour(3), Color::Reset);
        assert_eq!(Theme::plain().mode_name().as_deref(), Some("no colour"));
        assert_eq!(Theme::dark().mode_name(), None);
    }
}
