//! What the terminal can show, detected from the environment, with the command line's overrides.
//!
//! - Glyphs: Unicode (Braille, Greek, box drawing) or plain ASCII. ASCII when the locale is not
//!   UTF-8 (LC_ALL, then LC_CTYPE, then LANG, as the C library reads them; unset means the C
//!   locale) or TERM names a terminal whose fonts lack them (the Linux console, vt100, vt220,
//!   ansi). `--ascii` / `--unicode` force either.
//! - Colours: none when NO_COLOR is set to anything non-empty (https://no-color.org); 256 when
//!   TERM says `256color` or COLORTERM is set (truecolor terminals take the 256-colour palette
//!   too); the 16 basic colours otherwise.
//! - Background: light or dark, for the palette's shades: from `--theme`, else COLORFGBG
//!   ("15;0": the background is colour 0, dark; "0;15": light), else dark.

/// Which characters the panels may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyphs {
    /// Braille, Greek letters, box drawing, arrows.
    Unicode,
    /// Only ASCII: no byte above 0x7f reaches the terminal.
    Ascii,
}

/// How many colours the terminal has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colours {
    /// None (NO_COLOR): components are told apart by letters.
    None,
    /// The 16 basic ANSI colours.
    Basic,
    /// The xterm 256-colour palette.
    Indexed,
}

/// The terminal's background, for the palette's shades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// Dark background (the default).
    Dark,
    /// Light background.
    Light,
}

/// Choices from the command line that override detection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--ascii` or `--unicode`.
    pub glyphs: Option<Glyphs>,
    /// `--theme light|dark`.
    pub background: Option<Background>,
}

/// What the explorer draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Unicode or ASCII.
    pub glyphs: Glyphs,
    /// Colour depth.
    pub colours: Colours,
    /// Light or dark background.
    pub background: Background,
}

/// TERM values whose usual fonts have no Braille, Greek or box drawing.
const ASCII_TERMS: &[&str] = &["linux", "vt100", "vt102", "vt220", "vt52", "ansi", "cons25"];

fn set(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

impl Capabilities {
    /// Detection from the process environment, then the overrides.
    pub fn from_env(overrides: Overrides) -> Self {
        Self::detect(|name| std::env::var(name).ok(), overrides)
    }

    /// Detection from the variables `var` returns, then the overrides.
    pub fn detect(var: impl Fn(&str) -> Option<String>, overrides: Overrides) -> Self {
        let term = set(var("TERM")).unwrap_or_default();
        let locale = set(var("LC_ALL"))
            .or_else(|| set(var("LC_CTYPE")))
            .or_else(|| set(var("LANG")))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        let base = term.split('-').next().unwrap_or_default();
        let plain_terminal = ASCII_TERMS.contains(&term.as_str()) || ASCII_TERMS.contains(&base);
        let glyphs = overrides.glyphs.unwrap_or(if utf8 && !plain_terminal {
            Glyphs::Unicode
        } else {
            Glyphs::Ascii
        });
        let colours = if set(var("NO_COLOR")).is_some() {
            Colours::None
        } else if term.contains("256color") || set(var("COLORTERM")).is_some() {
            Colours::Indexed
        } else {
            Colours::Basic
        };
        let background = overrides.background.unwrap_or_else(|| {
            // COLORFGBG is "fg;bg" or "fg;default;bg": the last field is the background.
            match set(var("COLORFGBG"))
                .and_then(|v| v.rsplit(';').next().and_then(|bg| bg.parse::<u8>().ok()))
            {
                Some(7 | 9..=15) => Background::Light,
                _ => Background::Dark,
            }
        });
        Self {
            glyphs,
            colours,
            background,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(vars: &[(&str, &str)], overrides: Overrides) -> Capabilities {
        Capabilities::detect(
            |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            },
            overrides,
        )
    }

    const UTF8: (&str, &str) = ("LANG", "en_GB.UTF-8");

    #[test]
    fn unicode_needs_a_utf8_locale_and_a_capable_terminal() {
        let xterm = ("TERM", "xterm-256color");
        assert_eq!(
            detect(&[xterm, UTF8], Overrides::default()).glyphs,
            Glyphs::Unicode
        );
        assert_eq!(
            detect(&[xterm, ("LANG", "C")], Overrides::default()).glyphs,
            Glyphs::Ascii
        );
        assert_eq!(detect(&[xterm], Overrides::default()).glyphs, Glyphs::Ascii);
        // LC_ALL wins over LANG.
        assert_eq!(
            detect(&[xterm, UTF8, ("LC_ALL", "POSIX")], Overrides::default()).glyphs,
            Glyphs::Ascii
        );
        for term in ["linux", "vt100", "vt220", "ansi"] {
            let found = detect(&[("TERM", term), UTF8], Overrides::default());
            assert_eq!(found.glyphs, Glyphs::Ascii, "{term}");
            assert_eq!(found.colours, Colours::Basic, "{term}");
        }
    }

    #[test]
    fn flags_override_detection() {
        let forced = Overrides {
            glyphs: Some(Glyphs::Unicode),
            background: Some(Background::Light),
        };
        let found = detect(&[("TERM", "linux"), ("COLORFGBG", "15;0")], forced);
        assert_eq!(found.glyphs, Glyphs::Unicode);
        assert_eq!(found.background, Background::Light);
        let ascii = Overrides {
            glyphs: Some(Glyphs::Ascii),
            background: None,
        };
        assert_eq!(
            detect(&[("TERM", "xterm-256color"), UTF8], ascii).glyphs,
            Glyphs::Ascii
        );
    }

    #[test]
    fn colours_from_term_colorterm_and_no_color() {
        let none = Overrides::default();
        assert_eq!(detect(&[("TERM", "xterm")], none).colours, Colours::Basic);
        assert_eq!(
            detect(&[("TERM", "screen-256color")], none).colours,
            Colours::Indexed
        );
        assert_eq!(
            detect(&[("TERM", "xterm"), ("COLORTERM", "truecolor")], none).colours,
            Colours::Indexed
        );
        assert_eq!(
            detect(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")], none).colours,
            Colours::None
        );
        // An empty NO_COLOR does not count.
        assert_eq!(
            detect(&[("TERM", "xterm"), ("NO_COLOR", "")], none).colours,
            Colours::Basic
        );
    }

    #[test]
    fn the_background_from_colorfgbg() {
        let none = Overrides::default();
        let background = |value: &str| detect(&[("COLORFGBG", value)], none).background;
        assert_eq!(background("15;0"), Background::Dark);
        assert_eq!(background("0;15"), Background::Light);
        assert_eq!(background("0;default;7"), Background::Light);
        assert_eq!(background("nonsense"), Background::Dark);
        assert_eq!(detect(&[], none).background, Background::Dark);
    }
}
