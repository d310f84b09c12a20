//! The simulation editor: a form over a [`Spec`] (n, seed, D, the number of true components,
//! and each component's weight, mean and covariance) that the explorer opens with `s`.
//!
//! Pure state, driven by [`EditorKey`]s, so tests need no terminal. Every field is checked as it
//! is typed; a spec is only produced when every field is valid, so nothing invalid ever reaches
//! the running fit. For D = 2 the covariance is edited as two standard deviations and a
//! correlation in (−1, 1), for D = 1 as a standard deviation (both always give a valid matrix);
//! for larger D as the full matrix (its upper triangle), checked for positive definiteness.

use crate::data::spec::Spec;
use crate::em::Mixture;
use crate::em::limits;

/// The largest dimension the editor offers.
pub const MAX_DIM: usize = 8;
/// The largest number of true components the editor offers.
pub const MAX_COMPONENTS: usize = 8;

/// What a field edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Number of points.
    N,
    /// Seed of the sample.
    Seed,
    /// Dimension D.
    Dim,
    /// Number of true components.
    Components,
    /// Weight of component k.
    Weight(usize),
    /// Coordinate j of the mean of component k.
    Mean(usize, usize),
    /// Standard deviation of coordinate j of component k (D ≤ 2).
    StdDev(usize, usize),
    /// Correlation of component k (D = 2).
    Correlation(usize),
    /// Covariance entry (i, j), i ≤ j, of component k (D > 2).
    Covariance(usize, usize, usize),
}

/// One field of the form: what it edits and the text typed so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// What the field edits.
    pub kind: FieldKind,
    /// The text as typed.
    pub text: String,
}

impl Field {
    /// The field's label in the form.
    pub fn label(&self) -> String {
        match self.kind {
            FieldKind::N => "n".into(),
            FieldKind::Seed => "seed".into(),
            FieldKind::Dim => "D".into(),
            FieldKind::Components => "components".into(),
            FieldKind::Weight(_) => "λ weight".into(),
            FieldKind::Mean(_, j) => format!("mean x{}", j + 1),
            FieldKind::StdDev(_, j) => format!("sd x{}", j + 1),
            FieldKind::Correlation(_) => "correlation".into(),
            FieldKind::Covariance(_, i, j) => format!("cov x{} x{}", i + 1, j + 1),
        }
    }

    /// The component this field belongs to, if any.
    pub fn component(&self) -> Option<usize> {
        match self.kind {
            FieldKind::Weight(k)
            | FieldKind::Mean(k, _)
            | FieldKind::StdDev(k, _)
            | FieldKind::Correlation(k)
            | FieldKind::Covariance(k, _, _) => Some(k),
            _ => None,
        }
    }
}

/// A key as the editor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorKey {
    /// Next field (Tab, ↓).
    Next,
    /// Previous field (Shift-Tab, ↑).
    Previous,
    /// A character typed into the field.
    Char(char),
    /// Delete the last character.
    Backspace,
    /// Apply the spec.
    Enter,
    /// Cancel (or close the preset list).
    Escape,
    /// Open or close the preset list.
    Presets,
    /// Save the spec to a file.
    Save,
}

/// What the editor wants done after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorOutcome {
    /// Keep editing.
    Continue,
    /// Close, changing nothing.
    Cancel,
    /// Close and draw a new sample from this spec.
    Apply(Spec),
    /// Save this spec (the editor stays open).
    Save(Spec),
}

/// A named example spec to start from.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Shown in the list.
    pub name: String,
    /// The spec.
    pub spec: Spec,
}

/// The editor's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Editor {
    fields: Vec<Field>,
    /// Index of the focused field.
    pub focus: usize,
    /// The example specs.
    pub presets: Vec<Preset>,
    /// The highlighted preset while the list is open.
    pub preset_cursor: Option<usize>,
    /// Why the last Enter or save did nothing.
    pub message: Option<String>,
    name: Option<String>,
    description: Option<String>,
    /// Per component, the covariance as loaded and the texts it was shown as: while the texts
    /// are unchanged the loaded matrix is used as is, since sd² and ρ·sd·sd can differ from
    /// it in the last bit.
    loaded: Vec<Option<(Vec<String>, Vec<f64>)>>,
}

/// The shortest text that reads back as `value`.
fn number(value: f64) -> String {
    format!("{value}")
}

/// A derived value (a standard deviation or correlation from a covariance) for display: the
/// shortest exact text when it is short, else 6 significant digits. The exact covariance stays
/// in use until the text is edited (see `Editor::loaded`).
fn derived(value: f64) -> String {
    let exact = number(value);
    if exact.len() <= 9 || value == 0.0 || !value.is_finite() {
        return exact;
    }
    let decimals = (5 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let rounded = format!("{value:.decimals$}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_owned()
}

fn parse_float(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err("must be a finite number".into()),
        Err(_) if text.trim().is_empty() => Err("is empty".into()),
        Err(_) => Err("is not a number".into()),
    }
}

fn parse_count(text: &str, low: u64, high: u64, what: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(value) if (low..=high).contains(&value) => Ok(value),
        _ => Err(format!(
            "{what} must be a whole number from {low} to {high}"
        )),
    }
}

impl Editor {
    /// A form showing `spec`.
    pub fn new(spec: &Spec, presets: Vec<Preset>) -> Self {
        let mut editor = Self {
            fields: Vec::new(),
            focus: 0,
            presets,
            preset_cursor: None,
            message: None,
            name: None,
            description: None,
            loaded: Vec::new(),
        };
        editor.load(spec);
        editor
    }

    /// Replaces every field with the values of `spec`.
    fn load(&mut self, spec: &Spec) {
        let mixture = &spec.mixture;
        let d = mixture.dim();
        let mut fields = vec![
            Field {
                kind: FieldKind::N,
                text: spec.n.to_string(),
            },
            Field {
                kind: FieldKind::Seed,
                text: spec.seed.to_string(),
            },
            Field {
                kind: FieldKind::Dim,
                text: d.to_string(),
            },
            Field {
                kind: FieldKind::Components,
                text: mixture.k().to_string(),
            },
        ];
        for k in 0..mixture.k() {
            let weight = spec.weights.get(k).copied().unwrap_or(mixture.weights()[k]);
            fields.push(Field {
                kind: FieldKind::Weight(k),
                text: number(weight),
            });
            for (j, value) in mixture.mean(k).iter().enumerate() {
                fields.push(Field {
                    kind: FieldKind::Mean(k, j),
                    text: number(*value),
                });
            }
            let cov = mixture.covariance(k);
            fields.extend(covariance_fields(k, d, cov));
        }
        self.fields = fields;
        self.loaded = (0..mixture.k())
            .map(|k| Some((self.covariance_texts(k), mixture.covariance(k).to_vec())))
            .collect();
        self.name = spec.name.clone();
        self.description = spec.description.clone();
        self.focus = self.focus.min(self.fields.len() - 1);
    }

    /// The fields in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The dimension the form describes now (the last valid D typed).
    pub fn dim(&self) -> usize {
        self.fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::Mean(0, _)))
            .count()
    }

    fn count_of(&self) -> usize {
        self.fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::Weight(_)))
            .count()
    }

    /// Handles one key.
    pub fn handle(&mut self, key: EditorKey) -> EditorOutcome {
        if let Some(cursor) = self.preset_cursor {
            return self.handle_presets(cursor, key);
        }
        self.message = None;
        let last = self.fields.len() - 1;
        match key {
            EditorKey::Next => {
                self.focus = if self.focus == last {
                    0
                } else {
                    self.focus + 1
                }
            }
            EditorKey::Previous => {
                self.focus = if self.focus == 0 {
                    last
                } else {
                    self.focus - 1
                }
            }
            EditorKey::Char(c) => {
                if c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E') {
                    self.fields[self.focus].text.push(c);
                    self.reshape();
                }
            }
            EditorKey::Backspace => {
                self.fields[self.focus].text.pop();
                self.reshape();
            }
            EditorKey::Enter => match self.spec() {
                Ok(spec) => return EditorOutcome::Apply(spec),
                Err(message) => self.message = Some(message),
            },
            EditorKey::Save => match self.spec() {
                Ok(spec) => return EditorOutcome::Save(spec),
                Err(message) => self.message = Some(message),
            },
            EditorKey::Escape => return EditorOutcome::Cancel,
            EditorKey::Presets => {
                if !self.presets.is_empty() {
                    self.preset_cursor = Some(0);
                }
            }
        }
        EditorOutcome::Continue
    }

    fn handle_presets(&mut self, cursor: usize, key: EditorKey) -> EditorOutcome {
        let count = self.presets.len();
        match key {
            EditorKey::Next => self.preset_cursor = Some((cursor + 1) % count),
            EditorKey::Previous => self.preset_cursor = Some((cursor + count - 1) % count),
            EditorKey::Enter => {
                let spec = self.presets[cursor].spec.clone();
                self.load(&spec);
                self.preset_cursor = None;
            }
            EditorKey::Escape | EditorKey::Presets => self.preset_cursor = None,
            _ => {}
        }
        EditorOutcome::Continue
    }

    /// Rebuilds the component fields when a valid new D or number of components was typed,
    /// keeping what can be kept (weights, means; covariances reset to the identity when D
    /// changes).
    fn reshape(&mut self) {
        let text = |kind: FieldKind| {
            self.fields
                .iter()
                .find(|f| f.kind == kind)
                .map(|f| f.text.clone())
                .unwrap_or_default()
        };
        let old_dim = self.dim();
        let old_count = self.count_of();
        let dim = parse_count(&text(FieldKind::Dim), 1, MAX_DIM as u64, "D")
            .map_or(old_dim, |v| v as usize);
        let count = parse_count(&text(FieldKind::Components), 1, MAX_COMPONENTS as u64, "")
            .map_or(old_count, |v| v as usize);
        if dim == old_dim && count == old_count {
            return;
        }
        let focused = self.fields[self.focus].kind;
        let mut fields: Vec<Field> = self.fields[..4].to_vec();
        for k in 0..count {
            let weight = if k < old_count {
                text(FieldKind::Weight(k))
            } else {
                "1".into()
            };
            fields.push(Field {
                kind: FieldKind::Weight(k),
                text: weight,
            });
            for j in 0..dim {
                let mean = if k < old_count && j < old_dim {
                    text(FieldKind::Mean(k, j))
                } else {
                    // New components start spread along the first axis, 3 apart.
                    if j == 0 {
                        number(3.0 * k as f64)
                    } else {
                        "0".into()
                    }
                };
                fields.push(Field {
                    kind: FieldKind::Mean(k, j),
                    text: mean,
                });
            }
            if k < old_count && dim == old_dim {
                fields.extend(
                    self.fields
                        .iter()
                        .filter(|f| is_covariance_of(f, k))
                        .cloned(),
                );
            } else {
                let identity: Vec<f64> = (0..dim * dim)
                    .map(|i| if i % (dim + 1) == 0 { 1.0 } else { 0.0 })
                    .collect();
                fields.extend(covariance_fields(k, dim, &identity));
            }
        }
        self.fields = fields;
        if dim != old_dim {
            self.loaded.clear();
        }
        self.focus = self
            .fields
            .iter()
            .position(|f| f.kind == focused)
            .unwrap_or(self.focus.min(self.fields.len() - 1));
    }

    /// Why field `index` is invalid, if it is.
    pub fn error(&self, index: usize) -> Option<String> {
        let field = self.fields.get(index)?;
        let text = &field.text;
        let checked: Result<(), String> = match field.kind {
            FieldKind::N => {
                // The same limit as specs and the command line (`em::limits`).
                parse_count(text, 1, limits::max_points(self.dim()), "n").map(|_| ())
            }
            FieldKind::Seed => text
                .trim()
                .parse::<u64>()
                .map(|_| ())
                .map_err(|_| "seed must be a whole number ≥ 0".into()),
            FieldKind::Dim => parse_count(text, 1, MAX_DIM as u64, "D").map(|_| ()),
            FieldKind::Components => {
                parse_count(text, 1, MAX_COMPONENTS as u64, "components").map(|_| ())
            }
            FieldKind::Weight(_) => parse_float(text).and_then(|w| {
                if w > 0.0 {
                    Ok(())
                } else {
                    Err("weight must be > 0".into())
                }
            }),
            FieldKind::Mean(..) => parse_float(text).map(|_| ()),
            FieldKind::StdDev(..) => parse_float(text).and_then(|s| {
                if s > 0.0 {
                    Ok(())
                } else {
                    Err("sd must be > 0".into())
                }
            }),
            FieldKind::Correlation(_) => parse_float(text).and_then(|r| {
                if r > -1.0 && r < 1.0 {
                    Ok(())
                } else {
                    Err("correlation must be strictly between -1 and 1".into())
                }
            }),
            FieldKind::Covariance(k, i, j) => parse_float(text).and_then(|v| {
                if i == j && v <= 0.0 {
                    return Err("variance must be > 0".into());
                }
                // The matrix as a whole is judged at its first entry.
                let first = i == 0 && j == 0;
                if first && self.component_fields_parse(k) && self.covariance(k).is_none() {
                    Err("covariance is not positive definite".into())
                } else {
                    Ok(())
                }
            }),
        };
        checked.err()
    }

    fn component_fields_parse(&self, k: usize) -> bool {
        self.fields
            .iter()
            .filter(|f| is_covariance_of(f, k))
            .all(|f| parse_float(&f.text).is_ok())
    }

    fn value(&self, kind: FieldKind) -> Option<f64> {
        self.fields
            .iter()
            .find(|f| f.kind == kind)
            .and_then(|f| parse_float(&f.text).ok())
    }

    fn covariance_texts(&self, k: usize) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| is_covariance_of(f, k))
            .map(|f| f.text.clone())
            .collect()
    }

    /// The covariance of component k as a row-major D×D matrix, if its fields make a
    /// symmetric positive definite one.
    fn covariance(&self, k: usize) -> Option<Vec<f64>> {
        let d = self.dim();
        if let Some(Some((texts, cov))) = self.loaded.get(k)
            && cov.len() == d * d
            && *texts == self.covariance_texts(k)
        {
            return Some(cov.clone());
        }
        let mut cov = vec![0.0; d * d];
        if d <= 2 {
            let sds: Vec<f64> = (0..d)
                .map(|j| self.value(FieldKind::StdDev(k, j)))
                .collect::<Option<_>>()?;
            if sds.iter().any(|s| *s <= 0.0) {
                return None;
            }
            for j in 0..d {
                cov[j * d + j] = sds[j] * sds[j];
            }
            if d == 2 {
                let rho = self.value(FieldKind::Correlation(k))?;
                if !(rho > -1.0 && rho < 1.0) {
                    return None;
                }
                cov[1] = rho * sds[0] * sds[1];
                cov[2] = cov[1];
            }
        } else {
            for i in 0..d {
                for j in i..d {
                    let v = self.value(FieldKind::Covariance(k, i, j))?;
                    cov[i * d + j] = v;
                    cov[j * d + i] = v;
                }
            }
        }
        let means = vec![0.0; d];
        Mixture::from_flat(d, vec![1.0], means, cov.clone())
            .ok()
            .map(|_| cov)
    }

    /// The spec the form describes, or the first problem (with its field) as one line.
    pub fn spec(&self) -> Result<Spec, String> {
        if let Some((index, error)) =
            (0..self.fields.len()).find_map(|i| self.error(i).map(|e| (i, e)))
        {
            let field = &self.fields[index];
            let place = match field.component() {
                Some(k) => format!("component {} {}", k + 1, field.label()),
                None => field.label(),
            };
            return Err(format!("{place}: {error}"));
        }
        let d = self.dim();
        let count = self.count_of();
        let mut weights = Vec::with_capacity(count);
        let mut means = Vec::with_capacity(count * d);
        let mut covariances = Vec::with_capacity(count * d * d);
        for k in 0..count {
            weights.push(self.value(FieldKind::Weight(k)).ok_or("weight")?);
            for j in 0..d {
                means.push(self.value(FieldKind::Mean(k, j)).ok_or("mean")?);
            }
            covariances.extend(self.covariance(k).ok_or("covariance")?);
        }
        let mixture = Mixture::from_flat(d, weights.clone(), means, covariances)
            .map_err(|e| e.to_string())?;
        let n = self.fields[0]
            .text
            .trim()
            .parse::<usize>()
            .map_err(|e| e.to_string())?;
        let seed = self.fields[1]
            .text
            .trim()
            .parse::<u64>()
            .map_err(|e| e.to_string())?;
        Ok(Spec {
            name: self.name.clone(),
            description: self.description.clone(),
            n,
            seed,
            weights,
            mixture,
        })
    }

    /// The true components as typed, when every component field is valid (for the preview).
    pub fn preview(&self) -> Option<Mixture> {
        self.spec().ok().map(|spec| spec.mixture)
    }
}

/// Whether `field` edits the covariance of component k.
fn is_covariance_of(field: &Field, k: usize) -> bool {
    field.component() == Some(k)
        && matches!(
            field.kind,
            FieldKind::StdDev(..) | FieldKind::Correlation(_) | FieldKind::Covariance(..)
        )
}

/// The covariance fields of component k from a row-major D×D matrix.
fn covariance_fields(k: usize, d: usize, cov: &[f64]) -> Vec<Field> {
    let mut fields = Vec::new();
    if d <= 2 {
        let sds: Vec<f64> = (0..d).map(|j| cov[j * d + j].sqrt()).collect();
        for (j, sd) in sds.iter().enumerate() {
            fields.push(Field {
                kind: FieldKind::StdDev(k, j),
                text: derived(*sd),
            });
        }
        if d == 2 {
            let rho = cov[1] / (sds[0] * sds[1]);
            fields.push(Field {
                kind: FieldKind::Correlation(k),
                text: derived(rho),
            });
        }
    } else {
        for i in 0..d {
            for j in i..d {
                fields.push(Field {
                    kind: FieldKind::Covariance(k, i, j),
                    text: number(cov[i * d + j]),
                });
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::spec::parse_toml;

    const DEFAULT: &str = include_str!("../../assets/specs/default.toml");

    fn editor() -> Editor {
        Editor::new(&parse_toml(DEFAULT, "default.toml").unwrap(), Vec::new())
    }

    fn focus(editor: &mut Editor, kind: FieldKind) {
        editor.focus = editor.fields().iter().position(|f| f.kind == kind).unwrap();
    }

    fn retype(editor: &mut Editor, kind: FieldKind, text: &str) {
        focus(editor, kind);
        while !editor.fields()[editor.focus].text.is_empty() {
            editor.handle(EditorKey::Backspace);
        }
        for c in text.chars() {
            editor.handle(EditorKey::Char(c));
        }
    }

    #[test]
    fn shows_the_spec_as_sd_and_correlation() {
        let editor = editor();
        let texts: Vec<(String, &str)> = editor
            .fields()
            .iter()
            .map(|f| (f.label(), f.text.as_str()))
            .collect();
        assert_eq!(texts[0], ("n".into(), "500"));
        assert_eq!(texts[4], ("λ weight".into(), "0.4"));
        assert!(texts.contains(&("correlation".into(), "0.5")));
        assert_eq!(editor.dim(), 2);
        let spec = editor.spec().unwrap();
        assert_eq!(spec, parse_toml(DEFAULT, "default.toml").unwrap());
    }

    #[test]
    fn valid_edits_apply_and_invalid_ones_are_marked() {
        let mut editor = editor();
        retype(&mut editor, FieldKind::N, "1234");
        retype(&mut editor, FieldKind::Mean(1, 0), "5.5");
        match editor.handle(EditorKey::Enter) {
            EditorOutcome::Apply(spec) => {
                assert_eq!(spec.n, 1234);
                assert_eq!(spec.mixture.mean(1), &[5.5, 3.0]);
            }
            other => panic!("{other:?}"),
        }
        for (kind, text, reason) in [
            (FieldKind::Weight(0), "0", "weight must be > 0"),
            (FieldKind::StdDev(1, 1), "-2", "sd must be > 0"),
            (FieldKind::Correlation(0), "1", "strictly between -1 and 1"),
            (FieldKind::Mean(0, 1), "1.2.3", "is not a number"),
            (FieldKind::N, "0", "n must be a whole number"),
        ] {
            let mut editor = self::editor();
            retype(&mut editor, kind, text);
            let index = editor.focus;
            assert!(editor.error(index).unwrap().contains(reason), "{kind:?}");
            assert_eq!(editor.handle(EditorKey::Enter), EditorOutcome::Continue);
            assert!(editor.message.as_deref().unwrap().contains(reason));
            assert!(editor.preview().is_none());
        }
    }

    #[test]
    fn letters_are_not_typed_and_cancel_changes_nothing() {
        let mut editor = editor();
        let before = editor.clone();
        focus(&mut editor, FieldKind::N);
        editor.handle(EditorKey::Char('x'));
        assert_eq!(editor.fields()[0].text, "500");
        assert_eq!(editor.handle(EditorKey::Escape), EditorOutcome::Cancel);
        assert_eq!(editor.fields(), before.fields());
    }

    #[test]
    fn changing_d_and_the_number_of_components_reshapes_the_form() {
        let mut editor = editor();
        retype(&mut editor, FieldKind::Dim, "3");
        assert_eq!(editor.dim(), 3);
        assert!(
            editor
                .fields()
                .iter()
                .any(|f| f.kind == FieldKind::Covariance(1, 0, 2))
        );
        assert!(
            !editor
                .fields()
                .iter()
                .any(|f| matches!(f.kind, FieldKind::Correlation(_)))
        );
        // Means are kept, a new coordinate starts at 0, covariances at the identity.
        let spec = editor.spec().unwrap();
        assert_eq!(spec.mixture.mean(1), &[3.0, 3.0, 0.0]);
        assert_eq!(
            spec.mixture.covariance(0),
            &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        );
        retype(&mut editor, FieldKind::Components, "4");
        let spec = editor.spec().unwrap();
        assert_eq!(spec.k(), 4);
        assert_eq!(spec.mixture.mean(3), &[9.0, 0.0, 0.0]);
        // A full matrix that is not positive definite is marked at its first entry.
        retype(&mut editor, FieldKind::Covariance(2, 0, 1), "3");
        let first = editor
            .fields()
            .iter()
            .position(|f| f.kind == FieldKind::Covariance(2, 0, 0))
            .unwrap();
        assert!(editor.error(first).unwrap().contains("positive definite"));
        assert!(
            editor
                .spec()
                .unwrap_err()
                .starts_with("component 3 cov x1 x1")
        );
        retype(&mut editor, FieldKind::Dim, "1");
        let spec = editor.spec().unwrap();
        assert_eq!((spec.dim(), spec.k()), (1, 4));
        // An out-of-range D is marked and the form keeps its shape.
        retype(&mut editor, FieldKind::Dim, "9");
        assert_eq!(editor.dim(), 1);
        assert!(editor.error(editor.focus).is_some());
    }

    #[test]
    fn a_saved_spec_loads_back_the_same() {
        let mut editor = editor();
        retype(&mut editor, FieldKind::Weight(0), "0.25");
        retype(&mut editor, FieldKind::Correlation(1), "-0.7");
        let EditorOutcome::Save(spec) = editor.handle(EditorKey::Save) else {
            panic!()
        };
        let back = parse_toml(&spec.to_toml(), "saved.toml").unwrap();
        assert_eq!(back, spec);
        assert_eq!(Editor::new(&back, Vec::new()).spec().unwrap(), spec);
    }

    #[test]
    fn derived_values_show_six_significant_digits() {
        assert_eq!(derived(1.224744871391589), "1.22474");
        assert_eq!(derived(-0.24494897427831783), "-0.244949");
        assert_eq!(derived(0.5), "0.5");
        assert_eq!(derived(1234.5678901234), "1234.57");
    }

    #[test]
    fn presets_replace_the_form() {
        let other = parse_toml(include_str!("../../assets/specs/bimodal-1d.toml"), "b").unwrap();
        let mut editor = Editor::new(
            &parse_toml(DEFAULT, "default.toml").unwrap(),
            vec![
                Preset {
                    name: "default".into(),
                    spec: parse_toml(DEFAULT, "d").unwrap(),
                },
                Preset {
                    name: "bimodal".into(),
                    spec: other.clone(),
                },
            ],
        );
        editor.handle(EditorKey::Presets);
        editor.handle(EditorKey::Next);
        assert_eq!(editor.preset_cursor, Some(1));
        editor.handle(EditorKey::Enter);
        assert_eq!(editor.preset_cursor, None);
        assert_eq!(editor.spec().unwrap(), other);
        assert_eq!(editor.dim(), 1);
    }
}

/// The example specs shipped in assets/specs/, compiled in so the list works anywhere.
pub fn presets() -> Vec<Preset> {
    const SPECS: [(&str, &str); 6] = [
        ("default", include_str!("../../assets/specs/default.toml")),
        (
            "separated",
            include_str!("../../assets/specs/separated.toml"),
        ),
        (
            "overlapping",
            include_str!("../../assets/specs/overlapping.toml"),
        ),
        (
            "elongated",
            include_str!("../../assets/specs/elongated.toml"),
        ),
        (
            "bimodal-1d",
            include_str!("../../assets/specs/bimodal-1d.toml"),
        ),
        ("five-d", include_str!("../../assets/specs/five-d.toml")),
    ];
    SPECS
        .iter()
        .filter_map(|(file, text)| {
            // The shipped specs are valid (tested); a broken one is left out, not fatal.
            let spec = crate::data::spec::parse_toml(text, file).ok()?;
            let name = match &spec.name {
                Some(name) => format!("{file}: {name}"),
                None => (*file).to_owned(),
            };
            Some(Preset { name, spec })
        })
        .collect()
}

#[cfg(test)]
mod preset_tests {
    #[test]
    fn every_shipped_spec_is_a_preset() {
        assert_eq!(super::presets().len(), 6);
    }
}
