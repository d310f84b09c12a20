//! Text helpers shared by the command line, the explorer and the data room: one-line messages,
//! and [`printable`], through which every string that came from input (a CSV header, a cell, a
//! file name, a spec's name, an error about any of them) passes before it reaches a terminal or
//! a cell of the explorer's screen, so that no byte of input can move the cursor, retitle the
//! window or otherwise talk to the terminal.

use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as it is: C0 and C1 control characters and DEL (escape
/// sequences, bells, carriage returns) and the bidirectional overrides and isolates, which
/// reorder what is displayed around them.
fn is_hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character shown as a visible escape (`\x1b` for ESC, `\u{202e}`
/// for a bidirectional override); everything else is unchanged.
pub fn printable(text: &str) -> String {
    if !text.chars().any(is_hostile) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_hostile(c) {
            out.push(c);
        } else if u32::from(c) < 0x100 {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    out
}

/// Collapses any line breaks so that a message stays on one line, and makes it [`printable`].
pub fn one_line(text: &str) -> String {
    printable(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_breaks() {
        assert_eq!(one_line("a\n  b\r\nc"), "a b c");
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(printable("x\x1b]2;PWNED\x07y"), "x\\x1b]2;PWNED\\x07y");
        assert_eq!(printable("a\u{9b}b\x7f"), "a\\x9bb\\x7f");
        assert_eq!(printable("evil\u{202e}txt.csv"), "evil\\u{202e}txt.csv");
        assert_eq!(printable("größe µ σ ✓"), "größe µ σ ✓");
        assert_eq!(one_line("a\tb\x1b[2J"), "a b\\x1b[2J");
    }
}
