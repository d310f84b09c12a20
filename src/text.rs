//! Text helpers shared by the command line, the explorer and the data room: one-line messages.

/// Collapses any line breaks so that a message stays on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_breaks() {
        assert_eq!(one_line("a\n  b\r\nc"), "a b c");
    }
}
