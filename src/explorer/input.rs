//! The explorer's own key type, translated from crossterm at the edge so the reducer and its
//! tests never see a terminal library's events, and [`EscJoiner`], which puts back together an
//! escape sequence whose ESC byte reached us on its own.

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A key press as the explorer understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A printable character (case matters).
    Char(char),
    /// Ctrl plus a letter (lower case).
    Ctrl(char),
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Home.
    Home,
    /// End.
    End,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Enter / Return.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Delete.
    Delete,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
}

impl Key {
    /// The explorer's key for a crossterm key event; `None` for releases and keys it has no use
    /// for (function keys, media keys, lone modifiers).
    pub fn from_crossterm(event: &KeyEvent) -> Option<Self> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        Some(match event.code {
            KeyCode::Char(c) if event.modifiers.contains(KeyModifiers::CONTROL) => {
                Self::Ctrl(c.to_ascii_lowercase())
            }
            KeyCode::Char(c) => Self::Char(c),
            KeyCode::Up => Self::Up,
            KeyCode::Down => Self::Down,
            KeyCode::Left => Self::Left,
            KeyCode::Right => Self::Right,
            KeyCode::Home => Self::Home,
            KeyCode::End => Self::End,
            KeyCode::PageUp => Self::PageUp,
            KeyCode::PageDown => Self::PageDown,
            KeyCode::Enter => Self::Enter,
            KeyCode::Esc => Self::Esc,
            KeyCode::Backspace => Self::Backspace,
            KeyCode::Delete => Self::Delete,
            KeyCode::Tab => Self::Tab,
            KeyCode::BackTab => Self::BackTab,
            _ => return None,
        })
    }
}

/// How long an Esc key waits for the rest of an escape sequence before it counts as Esc.
///
/// Terminals send an arrow key as ESC `[` `C` in one write, and crossterm parses that whole;
/// but over a slow link (SSH) the ESC byte can arrive alone, and crossterm then reports Esc
/// followed by the characters `[` and `C` — and `[` is a binding. 50 ms is long enough for
/// the rest of a split sequence and short enough that a real Esc press feels immediate.
pub const ESC_TIMEOUT: Duration = Duration::from_millis(50);

/// The longest escape sequence the joiner recognises after ESC: `[`, two digits, `~`.
const MAX_SEQUENCE: usize = 4;

/// Puts back together an escape sequence that crossterm reported as Esc plus characters.
///
/// A pure state machine over [`Key`]s and times: [`EscJoiner::feed`] takes each key as it is
/// read and returns the keys that are now certain; after an Esc it holds keys back until they
/// either complete a sequence (ESC `[`/`O` then `A` `B` `C` `D` `H` `F`, or ESC `[` digits `~`),
/// turn out not to, or [`ESC_TIMEOUT`] passes ([`EscJoiner::flush`]). Keys held back that
/// form no sequence come out unchanged and in order.
#[derive(Debug, Clone)]
pub struct EscJoiner {
    /// The keys held back, starting with Esc; empty when nothing is pending.
    held: Vec<Key>,
    /// When the Esc that started `held` was read.
    since: Option<Instant>,
    /// How long to wait for the rest of a sequence.
    timeout: Duration,
}

impl Default for EscJoiner {
    fn default() -> Self {
        Self::new()
    }
}

impl EscJoiner {
    /// A joiner waiting [`ESC_TIMEOUT`] after an Esc.
    pub fn new() -> Self {
        Self::with_timeout(ESC_TIMEOUT)
    }

    /// A joiner waiting `timeout` after an Esc.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            held: Vec::new(),
            since: None,
            timeout,
        }
    }

    /// When [`EscJoiner::flush`] will next release held keys; `None` when nothing is held.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|since| since + self.timeout)
    }

    /// Takes one key read at `now`; returns the keys now decided, in order.
    pub fn feed(&mut self, key: Key, now: Instant) -> Vec<Key> {
        // Keys held past the deadline were a real Esc (and whatever followed it).
        let mut out = self.flush(now);
        if self.held.is_empty() {
            if key == Key::Esc {
                self.held.push(key);
                self.since = Some(now);
            } else {
                out.push(key);
            }
            return out;
        }
        self.held.push(key);
        match sequence(&self.held[1..]) {
            Match::Complete(joined) => {
                out.push(joined);
                self.clear();
            }
            Match::Partial => {}
            Match::None => {
                // Not a sequence: everything held is what it looked like, except that a new
                // Esc may itself start one.
                let last = self.held.pop();
                out.append(&mut self.held);
                self.clear();
                if let Some(last) = last {
                    out.extend(self.feed(last, now));
                }
            }
        }
        out
    }

    /// The held keys, unchanged, once [`ESC_TIMEOUT`] has passed since their Esc at `now`;
    /// nothing before that.
    pub fn flush(&mut self, now: Instant) -> Vec<Key> {
        match self.deadline() {
            Some(deadline) if now >= deadline => {
                let out = std::mem::take(&mut self.held);
                self.clear();
                out
            }
            _ => Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.held.clear();
        self.since = None;
    }
}

/// How the keys after an ESC compare with the sequences the joiner knows.
enum Match {
    /// They are a whole sequence, meaning this key.
    Complete(Key),
    /// They start one.
    Partial,
    /// They cannot become one.
    None,
}

/// Matches the keys after ESC against the cursor-key sequences (`[` or `O` then a final
/// letter, as sent in normal and application cursor mode) and `[` digits `~`.
fn sequence(after_esc: &[Key]) -> Match {
    let final_letter = |c: char| match c {
        'A' => Some(Key::Up),
        'B' => Some(Key::Down),
        'C' => Some(Key::Right),
        'D' => Some(Key::Left),
        'H' => Some(Key::Home),
        'F' => Some(Key::End),
        _ => None,
    };
    let tilde = |number: &str| match number {
        "1" | "7" => Some(Key::Home),
        "4" | "8" => Some(Key::End),
        "3" => Some(Key::Delete),
        "5" => Some(Key::PageUp),
        "6" => Some(Key::PageDown),
        _ => None,
    };
    let Some((&Key::Char(intro @ ('[' | 'O')), rest)) = after_esc.split_first() else {
        return Match::None;
    };
    if after_esc.len() > MAX_SEQUENCE {
        return Match::None;
    }
    let mut digits = String::new();
    for (i, key) in rest.iter().enumerate() {
        let Key::Char(c) = *key else {
            return Match::None;
        };
        let last = i + 1 == rest.len();
        match c {
            '0'..='9' if intro == '[' && last && i < 2 => return Match::Partial,
            '0'..='9' if intro == '[' && i < 2 => digits.push(c),
            '~' if last && !digits.is_empty() => {
                return tilde(&digits).map_or(Match::None, Match::Complete);
            }
            _ if last && digits.is_empty() => {
                return final_letter(c).map_or(Match::None, Match::Complete);
            }
            _ => return Match::None,
        }
    }
    Match::Partial
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_letters_and_releases() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('C'), KeyModifiers::CONTROL);
        assert_eq!(Key::from_crossterm(&ctrl_c), Some(Key::Ctrl('c')));
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(Key::from_crossterm(&release), None);
        assert_eq!(
            Key::from_crossterm(&KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)),
            None
        );
    }

    /// Feeds `keys` `gap` apart from `start`; returns everything that came out, flushing at
    /// the end once the timeout has passed.
    fn joined(keys: &[Key], gap: Duration) -> Vec<Key> {
        let start = Instant::now();
        let mut joiner = EscJoiner::new();
        let mut out = Vec::new();
        let mut now = start;
        for &key in keys {
            out.extend(joiner.flush(now));
            out.extend(joiner.feed(key, now));
            now += gap;
        }
        out.extend(joiner.flush(now + ESC_TIMEOUT));
        assert_eq!(joiner.deadline(), None, "keys left held");
        out
    }

    fn chars(text: &str) -> Vec<Key> {
        text.chars().map(Key::Char).collect()
    }

    #[test]
    fn an_esc_followed_soon_by_bracket_and_a_letter_is_an_arrow() {
        let ms = Duration::from_millis;
        let mut keys = vec![Key::Esc];
        keys.extend(chars("[C"));
        assert_eq!(joined(&keys, ms(20)), [Key::Right]);
        for (tail, key) in [
            ("[A", Key::Up),
            ("[B", Key::Down),
            ("[D", Key::Left),
            ("OC", Key::Right),
            ("OH", Key::Home),
            ("[F", Key::End),
            ("[5~", Key::PageUp),
            ("[6~", Key::PageDown),
            ("[3~", Key::Delete),
            ("[1~", Key::Home),
        ] {
            let mut keys = vec![Key::Esc];
            keys.extend(chars(tail));
            assert_eq!(joined(&keys, ms(10)), [key], "ESC {tail}");
        }
    }

    #[test]
    fn a_late_or_unknown_sequence_stays_as_typed() {
        let ms = Duration::from_millis;
        let mut keys = vec![Key::Esc];
        keys.extend(chars("[C"));
        // Typed slowly: a real Esc, then the characters.
        assert_eq!(joined(&keys, ms(60)), keys);
        // Not a sequence: Esc then q, Esc then [ then x, an unknown tilde code.
        let mut esc_q = vec![Key::Esc];
        esc_q.extend(chars("q"));
        assert_eq!(joined(&esc_q, ms(1)), esc_q);
        let mut esc_bracket_x = vec![Key::Esc];
        esc_bracket_x.extend(chars("[x"));
        assert_eq!(joined(&esc_bracket_x, ms(1)), esc_bracket_x);
        let mut unknown = vec![Key::Esc];
        unknown.extend(chars("[9~"));
        assert_eq!(joined(&unknown, ms(1)), unknown);
        // An Esc alone comes out once the timeout passes, not before.
        let start = Instant::now();
        let mut joiner = EscJoiner::new();
        assert!(joiner.feed(Key::Esc, start).is_empty());
        assert_eq!(joiner.deadline(), Some(start + ESC_TIMEOUT));
        assert!(joiner.flush(start + ms(49)).is_empty());
        assert_eq!(joiner.flush(start + ESC_TIMEOUT), [Key::Esc]);
        assert_eq!(joiner.deadline(), None);
    }

    #[test]
    fn esc_esc_and_keys_around_sequences_keep_their_order() {
        let ms = Duration::from_millis;
        // Two Escs then an arrow's tail: the first Esc is real, the second starts the arrow.
        let mut keys = vec![Key::Char('n'), Key::Esc, Key::Esc];
        keys.extend(chars("[Dn"));
        assert_eq!(
            joined(&keys, ms(5)),
            [Key::Char('n'), Key::Esc, Key::Left, Key::Char('n')]
        );
        // Esc, then a key that is not a character.
        assert_eq!(
            joined(&[Key::Esc, Key::Enter], ms(5)),
            [Key::Esc, Key::Enter]
        );
        // A key arriving after the timeout releases the held Esc first.
        let start = Instant::now();
        let mut joiner = EscJoiner::new();
        assert!(joiner.feed(Key::Esc, start).is_empty());
        assert_eq!(
            joiner.feed(Key::Char('['), start + ms(80)),
            [Key::Esc, Key::Char('[')]
        );
    }
}
