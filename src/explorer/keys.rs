//! The one table from keys to actions. The explorer's event loop and the help overlay both read
//! it, so what the help says is what the keys do.

use super::action::Action;
use super::editor::EditorKey;
use super::input::Key;

/// One row of the table: the keys, how the help shows them, the action, what it does.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Keys that trigger the action.
    pub keys: &'static [Key],
    /// The keys as the help overlay shows them.
    pub label: &'static str,
    /// What they do.
    pub action: Action,
    /// One line for the help overlay.
    pub help: &'static str,
}

/// Every key the explorer knows.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[Key::Char(' ')],
        label: "space",
        action: Action::ToggleRun,
        help: "run / pause",
    },
    Binding {
        keys: &[Key::Char('n'), Key::Right],
        label: "n →",
        action: Action::StepForward,
        help: "one iteration forward (asks for a new one at the newest)",
    },
    Binding {
        keys: &[Key::Char('p'), Key::Left],
        label: "p ←",
        action: Action::StepBack,
        help: "one iteration back through the history",
    },
    Binding {
        keys: &[Key::Char('g'), Key::Home],
        label: "g Home",
        action: Action::First,
        help: "first iteration (θ(0))",
    },
    Binding {
        keys: &[Key::Char('G'), Key::End],
        label: "G End",
        action: Action::Newest,
        help: "newest iteration",
    },
    Binding {
        keys: &[Key::Char('+')],
        label: "+ -",
        action: Action::Faster,
        help: "run faster / slower",
    },
    Binding {
        keys: &[Key::Char('-'), Key::Char('_')],
        label: "",
        action: Action::Slower,
        help: "",
    },
    Binding {
        keys: &[Key::Char('r')],
        label: "r",
        action: Action::Restart,
        help: "restart with a new random initialisation (new seed)",
    },
    Binding {
        keys: &[Key::Char('i')],
        label: "i",
        action: Action::CycleInit,
        help: "next initialisation method, and restart",
    },
    Binding {
        keys: &[Key::Char('[')],
        label: "[ ]",
        action: Action::FewerComponents,
        help: "K − 1 / K + 1, and restart",
    },
    Binding {
        keys: &[Key::Char(']')],
        label: "",
        action: Action::MoreComponents,
        help: "",
    },
    Binding {
        keys: &[Key::Char('c')],
        label: "c",
        action: Action::CycleRegCovar,
        help: "reg_covar ×10 (1e-6 … 0.1, then 0), and restart",
    },
    Binding {
        keys: &[Key::Char('h')],
        label: "h",
        action: Action::ToggleHalfSteps,
        help: "half-steps: n shows the E-step (recolour), then the M-step (ellipses move)",
    },
    Binding {
        keys: &[Key::Char('b')],
        label: "b",
        action: Action::OpenSweep,
        help: "BIC sweep: K 1–8 × covariance types from k-means++ (i there: another init); Enter replays",
    },
    Binding {
        keys: &[Key::Char('R')],
        label: "R",
        action: Action::OpenRestarts,
        help: "10 seeded restarts of this model, their traces together; Enter replays one",
    },
    Binding {
        keys: &[Key::Char('o')],
        label: "o",
        action: Action::ToggleInspector,
        help: "point inspector: the E-step at one point (arrows move, Esc closes)",
    },
    Binding {
        keys: &[Key::Char('d')],
        label: "d",
        action: Action::ToggleDerivation,
        help: "the derivation in numbers: E-step, N_k, M-step, Q(θ|θ(t)), H and the bound",
    },
    Binding {
        keys: &[Key::Char('H')],
        label: "H",
        action: Action::ToggleHardEm,
        help: "hard EM (each point wholly to one component) or soft, from the same start",
    },
    Binding {
        keys: &[Key::Char('v')],
        label: "v",
        action: Action::CycleCovariance,
        help: "covariance type: full, diag, spherical, tied, and restart",
    },
    Binding {
        keys: &[Key::Char('x')],
        label: "x y",
        action: Action::NextX,
        help: "next dimension on the x / y axis (D > 2)",
    },
    Binding {
        keys: &[Key::Char('y')],
        label: "",
        action: Action::NextY,
        help: "",
    },
    Binding {
        keys: &[Key::Char('l')],
        label: "l",
        action: Action::CycleLogView,
        help: "log-likelihood panel: trace, or convergence log10(L* − L(t)) with its rate",
    },
    Binding {
        keys: &[Key::Char('m')],
        label: "m",
        action: Action::CycleMarker,
        help: "point marker: Braille, half block, dot",
    },
    Binding {
        keys: &[Key::Char('=')],
        label: "=",
        action: Action::ToggleFill,
        help: "data panel: equal units on both axes (round shapes look round) or fill the panel",
    },
    Binding {
        keys: &[Key::Char('a')],
        label: "a",
        action: Action::SetStart,
        help: "set a start by hand: move, stretch, turn, reweigh components; Enter runs EM",
    },
    Binding {
        keys: &[Key::Char('s')],
        label: "s",
        action: Action::OpenEditor,
        help: "simulation editor: choose the true mixture, apply to draw new data",
    },
    Binding {
        keys: &[Key::Char('t')],
        label: "t",
        action: Action::ToggleTruth,
        help: "show / hide the true components' ellipses (simulated data)",
    },
    Binding {
        keys: &[Key::Char('S')],
        label: "S",
        action: Action::SaveSpec,
        help: "save the simulation spec as TOML (mixplore explore --spec reads it)",
    },
    Binding {
        keys: &[Key::Char('w')],
        label: "w",
        action: Action::SaveData,
        help: "write the current data set as CSV",
    },
    Binding {
        keys: &[Key::Char('P')],
        label: "P",
        action: Action::SaveFigure,
        help: "save the view (points, ellipses, log-likelihood trace) as SVG",
    },
    Binding {
        keys: &[Key::Char('?')],
        label: "?",
        action: Action::ToggleHelp,
        help: "this help",
    },
    Binding {
        keys: &[Key::Char('!')],
        label: "!",
        action: Action::OpenMessages,
        help: "every warning and error so far, with its iteration",
    },
    Binding {
        keys: &[Key::Char('e')],
        label: "e",
        action: Action::OpenReproduce,
        help: "the mixplore fit command reproducing this run; w there saves θ(0)",
    },
    Binding {
        keys: &[Key::Esc],
        label: "Esc",
        action: Action::Escape,
        help: "close the top panel (never quits)",
    },
    Binding {
        keys: &[Key::Char('q'), Key::Ctrl('c')],
        label: "q ^C",
        action: Action::Quit,
        help: "quit (Ctrl-C from anywhere)",
    },
    Binding {
        keys: &[Key::Ctrl('z')],
        label: "^Z",
        action: Action::Suspend,
        help: "suspend to the shell (from anywhere); fg resumes",
    },
];

/// The editor's keys, as the help and the editor's title show them.
pub const EDITOR_KEYS: &[(&str, &str)] = &[
    ("Tab ↓ / S-Tab ↑", "next / previous field"),
    ("0-9 . - e", "type a number; Backspace deletes"),
    ("Enter", "draw new data from the spec and restart EM"),
    ("Esc", "cancel, changing nothing"),
    ("p", "pick an example spec"),
    ("S", "save the spec as TOML"),
];

/// The editor's meaning of a key (the global keys, Ctrl-C and Ctrl-Z, never reach it).
pub fn editor_key_for(key: Key) -> Option<EditorKey> {
    match key {
        Key::Tab | Key::Down => Some(EditorKey::Next),
        Key::BackTab | Key::Up => Some(EditorKey::Previous),
        Key::Enter => Some(EditorKey::Enter),
        Key::Esc => Some(EditorKey::Escape),
        Key::Backspace => Some(EditorKey::Backspace),
        Key::Char('p') => Some(EditorKey::Presets),
        Key::Char('S') => Some(EditorKey::Save),
        Key::Char(c) => Some(EditorKey::Char(c)),
        _ => None,
    }
}

/// The keys that act whatever is open: quit and suspend.
pub fn global_action(key: Key) -> Option<Action> {
    match key {
        Key::Ctrl('c') => Some(Action::Quit),
        Key::Ctrl('z') => Some(Action::Suspend),
        _ => None,
    }
}

/// The action for a key, if the table has one.
pub fn action_for(key: Key) -> Option<Action> {
    BINDINGS
        .iter()
        .find(|binding| binding.keys.contains(&key))
        .map(|binding| binding.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(key: Key) -> Option<Action> {
        action_for(key)
    }

    #[test]
    fn the_table_maps_keys() {
        assert_eq!(press(Key::Char(' ')), Some(Action::ToggleRun));
        assert_eq!(press(Key::Right), Some(Action::StepForward));
        assert_eq!(press(Key::Char('G')), Some(Action::Newest));
        assert_eq!(press(Key::Ctrl('c')), Some(Action::Quit));
        assert_eq!(press(Key::Char('z')), None);
        assert_eq!(global_action(Key::Ctrl('z')), Some(Action::Suspend));
        assert_eq!(global_action(Key::Char('q')), None);
    }

    #[test]
    fn no_key_is_bound_twice() {
        let keys: Vec<Key> = BINDINGS
            .iter()
            .flat_map(|b| b.keys.iter().copied())
            .collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(key), "{key:?} bound twice");
        }
    }
}
