//! ASCII mode's last step: every cell of a drawn frame rewritten to ASCII, so no byte above
//! 0x7f reaches a terminal whose font or locale cannot show it (the Linux console, vt100, a C
//! locale). Greek letters become the Latin letter they are read as (μ m, σ s, θ T …), box
//! drawing becomes + - |, arrows and marks their ASCII look-alikes (◀ <, ✗ X, ⚠ !), and any
//! character not listed a `?`. Each replacement is one character, so the layout, computed for
//! the Unicode text, stays as drawn.
//!
//! The panels choose ASCII-friendly drawing themselves where it matters for reading (points
//! and outlines with their own glyphs, no Braille); this pass is the guarantee.

use ratatui::buffer::Buffer;

/// The ASCII stand-in for `c`.
pub fn ascii_of(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c {
        // Greek, as the notes read them.
        'μ' => 'm',
        'σ' => 's',
        'ρ' => 'r',
        'λ' => 'w',
        'φ' => 'f',
        'θ' => 'T',
        'π' => 'p',
        'Σ' => 'S',
        'Δ' => 'd',
        '∂' => 'd',
        'ᵀ' => 'T',
        // Box drawing and lines.
        '─' | '━' | '═' | '╌' | '┄' => '-',
        '│' | '┃' | '║' | '╎' | '┆' | '▏' | '▕' => '|',
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' | '╭' | '╮' | '╯' | '╰' => {
            '+'
        }
        '╱' => '/',
        '╲' => '\\',
        // Arrows and marks.
        '→' | '▶' | '›' | '»' => '>',
        '←' | '◀' | '‹' | '«' => '<',
        '↑' | '▲' => '^',
        '↓' | '▼' => 'v',
        '✗' | '✘' => 'X',
        '⚠' => '!',
        '×' => 'x',
        '◇' | '◆' => '+',
        '◎' => '@',
        '■' | '█' | '▀' | '▄' | '▌' | '▐' => '#',
        '•' | '∙' => '*',
        '·' | '…' => '.',
        '≥' => '>',
        '≤' => '<',
        '−' | '–' | '—' => '-',
        '°' => 'o',
        '²' => '2',
        '\u{2800}' => ' ',
        // Other Braille patterns (only where a panel kept them): by how many dots are set.
        '\u{2801}'..='\u{28ff}' => {
            if (c as u32 - 0x2800).count_ones() <= 2 {
                '.'
            } else {
                ':'
            }
        }
        _ => '?',
    }
}

/// Rewrites every cell of `buffer` to ASCII.
pub fn transliterate(buffer: &mut Buffer) {
    for cell in buffer.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.is_ascii() {
            continue;
        }
        // A cell holds one grapheme: its first character decides (combining marks drop).
        let replacement = symbol.chars().next().map_or(' ', ascii_of);
        cell.set_char(replacement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn every_cell_becomes_ascii() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 40, 1));
        buffer.set_string(
            0,
            0,
            "┌ μ 3.0 σ 1 ρ 0.5 ◀ best ✗ ⚠ ⣿⠁ 中",
            ratatui::style::Style::default(),
        );
        transliterate(&mut buffer);
        let text: String = buffer.content.iter().map(|c| c.symbol()).collect();
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.starts_with("+ m 3.0 s 1 r 0.5 < best X ! :."),
            "{text}"
        );
    }
}
