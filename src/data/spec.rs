//! Simulation specs: a Gaussian mixture to draw from, how many points and which seed.
//!
//! A spec is a TOML file (or JSON, chosen by a `.json` extension) of this shape:
//!
//! ```toml
//! name = "two components of the notes"     # optional
//! description = "..."                       # optional
//! n = 500                                   # number of points, at least 1
//! seed = 42                                 # optional, defaults to 0
//!
//! [[components]]
//! weight = 0.4                              # > 0; the weights are normalised
//! mean = [0.0, 0.0]                         # for D = 1 also a scalar: mean = 0.0
//! cov = [[1.0, 0.5], [0.5, 2.0]]            # for D = 1 also cov = 0.25 or [0.25] or [[0.25]]
//! ```
//!
//! `n` and `components` (each with `weight`, `mean` and `cov`) are required; unknown fields
//! are refused. Every error is one line that names the file and, where it applies, the
//! 1-based component. A spec whose sample would not fit in memory
//! (beyond [`limits::memory_budget`]) is refused up front.
//!
//! [`Spec::to_toml`] writes a spec that [`parse_toml`] reads back to an equal [`Spec`].

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::em::{Mixture, MixtureParams, ParamError, limits};

/// A validated simulation spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Optional short name.
    pub name: Option<String>,
    /// Optional longer description.
    pub description: Option<String>,
    /// Number of points to draw (at least 1).
    pub n: usize,
    /// Seed of the random number generator.
    pub seed: u64,
    /// The weights as written in the spec, before normalisation. [`Spec::to_toml`] writes
    /// these, so that reading the file back normalises them to exactly the same mixture.
    pub weights: Vec<f64>,
    /// The mixture to draw from (weights normalised, covariances exactly symmetric).
    pub mixture: Mixture,
}

/// Why a spec cannot be used. Every message is a single line starting with the file name.
///
/// Underlying errors (I/O, parameter checks) are part of the message rather than a
/// `source()`, so that printing the whole error chain does not repeat them.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file cannot be read.
    #[error("{file}: cannot read the spec: {error}")]
    Read {
        /// The file as named by the user.
        file: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// The text is not valid TOML/JSON, or a value has the wrong type, or a field is unknown.
    #[error("{file}: {}{message}", location(*line, *column))]
    Syntax {
        /// The file as named by the user.
        file: String,
        /// 1-based line of the error, when the parser reports one.
        line: Option<usize>,
        /// 1-based column of the error, when the parser reports one.
        column: Option<usize>,
        /// The parser's message, on one line.
        message: String,
    },
    /// A spec-level field is missing or out of range.
    #[error("{file}: {message}")]
    Invalid {
        /// The file as named by the user.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A component is missing a field or has one of the wrong shape.
    #[error("{file}: component {component}: {message}")]
    Component {
        /// The file as named by the user.
        file: String,
        /// 1-based component number.
        component: usize,
        /// What is wrong.
        message: String,
    },
    /// The mixture parameters are invalid (the engine's checks; the message names the component).
    #[error("{file}: {error}")]
    Params {
        /// The file as named by the user.
        file: String,
        /// The engine's verdict.
        error: ParamError,
    },
    /// The sample would need more than the [`limits::memory_budget`]: n·(D+1)·8 bytes for the
    /// points and their labels, refused when the spec is read, before anything is allocated.
    #[error(
        "{file}: n = {n} points in D = {dim} dimensions would need {} of memory (n·(D+1)·8 bytes), more than the budget of {}: lower n",
        limits::human_bytes(*bytes),
        limits::describe_budget()
    )]
    TooLarge {
        /// The file as named by the user.
        file: String,
        /// The number of points asked for.
        n: u128,
        /// The dimension.
        dim: usize,
        /// n·(D+1)·8.
        bytes: u128,
    },
}

impl SpecError {
    /// The 1-based component the error is about, if it is about one.
    pub fn component(&self) -> Option<usize> {
        match self {
            Self::Component { component, .. } => Some(*component),
            Self::Params { error, .. } => match error {
                ParamError::NoComponents => None,
                ParamError::WrongShape { component, .. }
                | ParamError::BadWeight { component, .. }
                | ParamError::NotFinite { component, .. }
                | ParamError::NotSymmetric { component, .. }
                | ParamError::NotPositiveDefinite { component } => Some(*component),
            },
            _ => None,
        }
    }
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: "),
        (Some(line), None) => format!("line {line}: "),
        _ => String::new(),
    }
}

/// Collapses runs of whitespace (newlines included) to single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a spec file: JSON if the extension is `.json` (any case), TOML otherwise.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| SpecError::Read {
        file: file.clone(),
        error,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    if is_json {
        parse_json(&text, &file)
    } else {
        parse_toml(&text, &file)
    }
}

/// Parses a TOML spec; `name` is the file name used in messages.
pub fn parse_toml(text: &str, name: &str) -> Result<Spec, SpecError> {
    let raw: RawSpec<toml::Value> = toml::from_str(text).map_err(|err| {
        let (line, column) = match err.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        SpecError::Syntax {
            file: name.to_owned(),
            line,
            column,
            message: one_line(err.message()),
        }
    })?;
    build(raw, name, |value| {
        RawComponent::deserialize(value).map_err(|err| one_line(err.message()))
    })
}

/// Parses a JSON spec (same fields as the TOML one); `name` is the file name used in messages.
pub fn parse_json(text: &str, name: &str) -> Result<Spec, SpecError> {
    let raw: RawSpec<serde_json::Value> = serde_json::from_str(text).map_err(|err| {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full);
        SpecError::Syntax {
            file: name.to_owned(),
            line: (line > 0).then_some(line),
            column: (line > 0).then_some(column),
            message: one_line(message),
        }
    })?;
    build(raw, name, |value| {
        RawComponent::deserialize(value).map_err(|err| one_line(&err.to_string()))
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl Spec {
    /// A spec drawing `n` points from `mixture` with `seed` (no name, no description).
    ///
    /// The mixture is rebuilt from its own (normalised) weights, exactly as reading the spec
    /// back would rebuild it, so that `to_toml` → `parse_toml` gives an equal spec; its
    /// weights may therefore differ from `mixture`'s in the last bit. The memory limit is
    /// not checked here (it is when the spec is read).
    pub fn from_mixture(mixture: Mixture, n: usize, seed: u64) -> Self {
        let weights = mixture.weights().to_vec();
        let params = mixture.to_params();
        // Cannot fail: the parameters come from a valid mixture, whose covariances are
        // exactly symmetric and already passed the same Cholesky test. Keep the original
        // rather than panic should that ever change.
        let mixture = Mixture::from_params(&params).unwrap_or(mixture);
        Self {
            name: None,
            description: None,
            n,
            seed,
            weights,
            mixture,
        }
    }

    /// Dimension D of the points.
    pub fn dim(&self) -> usize {
        self.mixture.dim()
    }

    /// Number of components K.
    pub fn k(&self) -> usize {
        self.mixture.k()
    }

    /// Memory the sample needs: n·(D+1)·8 bytes (the points and a label per point).
    pub fn bytes_needed(&self) -> u128 {
        bytes_needed(self.n as u128, self.dim())
    }

    /// The spec as TOML that [`parse_toml`] reads back to an equal spec: floats are written
    /// with as many digits as they need to round-trip, and D = 1 means and variances as scalars.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        if let Some(name) = &self.name {
            let _ = writeln!(out, "name = {}", toml_string(name));
        }
        if let Some(description) = &self.description {
            let _ = writeln!(out, "description = {}", toml_string(description));
        }
        let _ = writeln!(out, "n = {}", self.n);
        if self.seed <= i64::MAX as u64 {
            let _ = writeln!(out, "seed = {}", self.seed);
        } else {
            // TOML integers stop at i64::MAX; larger seeds are written as strings.
            let _ = writeln!(out, "seed = \"{}\"", self.seed);
        }
        let d = self.dim();
        let params = self.mixture.to_params();
        for (k, (mean, cov)) in params.means.iter().zip(&params.covariances).enumerate() {
            let weight = self.weights.get(k).copied().unwrap_or(params.weights[k]);
            out.push_str("\n[[components]]\n");
            let _ = writeln!(out, "weight = {}", toml_float(weight));
            if d == 1 {
                let _ = writeln!(out, "mean = {}", toml_float(mean[0]));
                let _ = writeln!(out, "cov = {}", toml_float(cov[0][0]));
            } else {
                let _ = writeln!(out, "mean = {}", toml_array(mean));
                if d <= 2 {
                    let rows: Vec<String> = cov.iter().map(|row| toml_array(row)).collect();
                    let _ = writeln!(out, "cov = [{}]", rows.join(", "));
                } else {
                    out.push_str("cov = [\n");
                    for row in cov {
                        let _ = writeln!(out, "    {},", toml_array(row));
                    }
                    out.push_str("]\n");
                }
            }
        }
        out
    }
}

fn bytes_needed(n: u128, dim: usize) -> u128 {
    limits::sample_bytes(n, dim)
}

/// A TOML float that parses back to exactly `x` (Rust's `Debug` prints the shortest
/// round-tripping form, always with a `.` or an exponent).
fn toml_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{x:?}")
    }
}

fn toml_array(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|&x| toml_float(x)).collect();
    format!("[{}]", items.join(", "))
}

/// A quoted, escaped TOML string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The top level of a spec file; `V` is the format's own value type, so that each component
/// is checked on its own and its errors can name it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec<V> {
    name: Option<String>,
    description: Option<String>,
    n: Option<Integer>,
    seed: Option<Seed>,
    components: Option<Components<V>>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a component: a table with weight, mean and cov"
)]
struct RawComponent {
    weight: Option<Weight>,
    mean: Option<Nested>,
    cov: Option<Nested>,
}

fn build<V>(
    raw: RawSpec<V>,
    file: &str,
    component: impl Fn(V) -> Result<RawComponent, String>,
) -> Result<Spec, SpecError> {
    let invalid = |message: String| SpecError::Invalid {
        file: file.to_owned(),
        message,
    };
    let n = match raw.n {
        None => {
            return Err(invalid(
                "missing `n` (the number of points to draw, at least 1)".into(),
            ));
        }
        Some(Integer(n)) if n < 1 => {
            return Err(invalid(format!(
                "n = {n}: the number of points must be at least 1"
            )));
        }
        Some(Integer(n)) => n as u128,
    };
    let seed = raw.seed.map_or(0, |Seed(seed)| seed);
    let values = match raw.components {
        None => {
            return Err(invalid(
                "missing `components` (add at least one [[components]] table with weight, mean and cov)"
                    .into(),
            ));
        }
        Some(Components(values)) if values.is_empty() => {
            return Err(invalid(
                "no components (add at least one [[components]] table with weight, mean and cov)"
                    .into(),
            ));
        }
        Some(Components(values)) => values,
    };

    let mut params = MixtureParams {
        weights: Vec::with_capacity(values.len()),
        means: Vec::with_capacity(values.len()),
        covariances: Vec::with_capacity(values.len()),
    };
    for (index, value) in values.into_iter().enumerate() {
        let number = index + 1;
        let fail = |message: String| SpecError::Component {
            file: file.to_owned(),
            component: number,
            message,
        };
        let raw = component(value).map_err(fail)?;
        let Weight(weight) = raw
            .weight
            .ok_or_else(|| fail("missing `weight` (a positive number)".into()))?;
        let mean = raw.mean.ok_or_else(|| {
            fail("missing `mean` (a list of D numbers, or a number for D = 1)".into())
        })?;
        let cov = raw.cov.ok_or_else(|| {
            fail("missing `cov` (a D×D matrix as a list of rows, or a variance for D = 1)".into())
        })?;
        let mean = mean_vector(mean).map_err(fail)?;
        let cov = cov_matrix(cov, mean.len()).map_err(fail)?;
        params.weights.push(weight);
        params.means.push(mean);
        params.covariances.push(cov);
    }
    let weights = params.weights.clone();
    let mixture = Mixture::from_params(&params).map_err(|error| SpecError::Params {
        file: file.to_owned(),
        error,
    })?;

    let dim = mixture.dim();
    let bytes = bytes_needed(n, dim);
    let n = match usize::try_from(n) {
        Ok(n) if limits::check_points(n as u128, dim).is_ok() => n,
        _ => {
            return Err(SpecError::TooLarge {
                file: file.to_owned(),
                n,
                dim,
                bytes,
            });
        }
    };
    Ok(Spec {
        name: raw.name,
        description: raw.description,
        n,
        seed,
        weights,
        mixture,
    })
}

fn mean_vector(mean: Nested) -> Result<Vec<f64>, String> {
    let values = match mean {
        Nested::Number(x) => vec![x],
        Nested::List(items) => items
            .into_iter()
            .map(|item| match item {
                Nested::Number(x) => Ok(x),
                Nested::List(_) => Err(
                    "mean must be a list of numbers (or a single number for D = 1), not a list of lists"
                        .to_owned(),
                ),
            })
            .collect::<Result<_, _>>()?,
    };
    if values.is_empty() {
        return Err("mean is empty: it needs one number per dimension".into());
    }
    Ok(values)
}

/// The covariance as rows; `dim` is the length of the component's own mean.
fn cov_matrix(cov: Nested, dim: usize) -> Result<Vec<Vec<f64>>, String> {
    let scalar_only = || {
        format!(
            "cov must be a {dim}×{dim} matrix written as a list of {dim} rows, e.g. [[1.0, 0.0], [0.0, 1.0]] for D = 2 (a single variance is accepted only for D = 1)"
        )
    };
    match cov {
        Nested::Number(x) if dim == 1 => Ok(vec![vec![x]]),
        Nested::Number(_) => Err(scalar_only()),
        Nested::List(items) => {
            if items.iter().all(|item| matches!(item, Nested::Number(_))) && !items.is_empty() {
                // A flat list: only [variance] for D = 1.
                return match items.as_slice() {
                    [Nested::Number(x)] if dim == 1 => Ok(vec![vec![*x]]),
                    _ => Err(scalar_only()),
                };
            }
            items
                .into_iter()
                .enumerate()
                .map(|(r, row)| match row {
                    Nested::List(entries) => entries
                        .into_iter()
                        .map(|entry| match entry {
                            Nested::Number(x) => Ok(x),
                            Nested::List(_) => Err(format!(
                                "cov row {} holds a list where a number belongs (cov is a list of rows of numbers)",
                                r + 1
                            )),
                        })
                        .collect(),
                    Nested::Number(_) => Err(format!(
                        "cov row {} is a single number: cov must be a list of rows, each a list of numbers",
                        r + 1
                    )),
                })
                .collect()
        }
    }
}

/// A number or an arbitrarily nested array of numbers (mean and cov in all their forms).
enum Nested {
    Number(f64),
    List(Vec<Nested>),
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NestedVisitor;
        impl<'de> Visitor<'de> for NestedVisitor {
            type Value = Nested;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or an array of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Nested, E> {
                Ok(Nested::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Nested, E> {
                Ok(Nested::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Nested, E> {
                Ok(Nested::Number(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Nested, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Nested::List(items))
            }
        }
        deserializer.deserialize_any(NestedVisitor)
    }
}

/// The list of components, each kept in the format's own value type.
struct Components<V>(Vec<V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Components<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ComponentsVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for ComponentsVisitor<V> {
            type Value = Components<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a list of components (in TOML, [[components]] tables, with two brackets)",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Components(items))
            }
        }
        deserializer.deserialize_seq(ComponentsVisitor(std::marker::PhantomData))
    }
}

/// A component weight: any number (its range is checked with the mixture).
struct Weight(f64);

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WeightVisitor;
        impl Visitor<'_> for WeightVisitor {
            type Value = Weight;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a weight: a positive number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Weight, E> {
                Ok(Weight(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Weight, E> {
                Ok(Weight(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Weight, E> {
                Ok(Weight(v as f64))
            }
        }
        deserializer.deserialize_any(WeightVisitor)
    }
}

/// Any integer (checked for range by the caller), so that `n = -5` gets our own message.
struct Integer(i128);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntegerVisitor;
        impl Visitor<'_> for IntegerVisitor {
            type Value = Integer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Integer, E> {
                Ok(Integer(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Integer, E> {
                Ok(Integer(v.into()))
            }
        }
        deserializer.deserialize_any(IntegerVisitor)
    }
}

/// A seed: a whole number from 0 to 2⁶⁴ − 1, or such a number in a string (TOML integers stop
/// at 2⁶³ − 1, so [`Spec::to_toml`] writes larger seeds as strings).
struct Seed(u64);

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeedVisitor;
        impl Visitor<'_> for SeedVisitor {
            type Value = Seed;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a seed: a whole number from 0 to {}", u64::MAX)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seed, E> {
                u64::try_from(v)
                    .map(Seed)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seed, E> {
                Ok(Seed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seed, E> {
                v.trim()
                    .parse()
                    .map(Seed)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(SeedVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
name = "two"
description = "two components"
n = 500
seed = 42

[[components]]
weight = 0.4
mean = [0.0, 0.0]
cov = [[1.0, 0.5], [0.5, 2.0]]

[[components]]
weight = 0.6
mean = [3.0, 3.0]
cov = [[1.0, -0.3], [-0.3, 1.5]]
"#;

    fn specs_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/specs")
    }

    const SHIPPED: [&str; 6] = [
        "default.toml",
        "separated.toml",
        "overlapping.toml",
        "elongated.toml",
        "bimodal-1d.toml",
        "five-d.toml",
    ];

    fn err_toml(text: &str) -> SpecError {
        parse_toml(text, "spec.toml").expect_err("should be refused")
    }

    /// The error as shown, checked to be one line starting with the file name.
    fn message(err: &SpecError) -> String {
        let text = err.to_string();
        assert!(!text.contains('\n'), "not one line: {text:?}");
        assert!(
            text.starts_with("spec.toml: ") || text.starts_with("spec.json: "),
            "{text}"
        );
        text
    }

    /// TWO with component 2's body replaced.
    fn second(body: &str) -> String {
        format!(
            "n = 10\n[[components]]\nweight = 1.0\nmean = [0.0, 0.0]\ncov = [[1.0, 0.0], [0.0, 1.0]]\n[[components]]\n{body}\n"
        )
    }

    #[test]
    fn parses_the_documented_schema() {
        let spec = parse_toml(TWO, "spec.toml").unwrap();
        assert_eq!(spec.name.as_deref(), Some("two"));
        assert_eq!(spec.description.as_deref(), Some("two components"));
        assert_eq!((spec.n, spec.seed, spec.dim(), spec.k()), (500, 42, 2, 2));
        assert_eq!(spec.weights, vec![0.4, 0.6]);
        assert_eq!(spec.mixture.mean(1), &[3.0, 3.0]);
        assert_eq!(spec.mixture.covariance(0), &[1.0, 0.5, 0.5, 2.0]);
        assert_eq!(spec.bytes_needed(), 500 * 3 * 8);
    }

    #[test]
    fn seed_defaults_to_zero_and_integers_are_numbers() {
        let spec = parse_toml(
            "n = 3\n[[components]]\nweight = 2\nmean = [1, -2]\ncov = [[2, 0], [0, 1]]\n",
            "spec.toml",
        )
        .unwrap();
        assert_eq!(spec.seed, 0);
        assert_eq!(spec.weights, vec![2.0]);
        assert_eq!(spec.mixture.weights(), &[1.0]);
        assert_eq!(spec.mixture.mean(0), &[1.0, -2.0]);
    }

    #[test]
    fn one_dimension_accepts_scalars_and_lists() {
        let forms = [
            "mean = 0.5\ncov = 0.25",
            "mean = [0.5]\ncov = [0.25]",
            "mean = 0.5\ncov = [[0.25]]",
        ];
        let specs: Vec<Spec> = forms
            .iter()
            .map(|body| {
                parse_toml(
                    &format!("n = 7\n[[components]]\nweight = 1.0\n{body}\n"),
                    "spec.toml",
                )
                .unwrap()
            })
            .collect();
        assert_eq!(specs[0].dim(), 1);
        assert_eq!(specs[0].mixture.covariance(0), &[0.25]);
        assert_eq!(specs[0], specs[1]);
        assert_eq!(specs[0], specs[2]);
        assert!(specs[0].to_toml().contains("mean = 0.5\ncov = 0.25\n"));
    }

    #[test]
    fn shipped_specs_load_and_round_trip() {
        for file in SHIPPED {
            let path = specs_dir().join(file);
            let spec = load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(spec.name.is_some() && spec.description.is_some(), "{file}");
            let text = spec.to_toml();
            let back = parse_toml(&text, file).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(back, spec, "{file}:\n{text}");
        }
        let by_name = |file: &str| load(&specs_dir().join(file)).unwrap();
        let default = by_name("default.toml");
        assert_eq!((default.n, default.dim(), default.k()), (500, 2, 2));
        assert_eq!(by_name("separated.toml").n, 900);
        assert_eq!(by_name("bimodal-1d.toml").dim(), 1);
        let five = by_name("five-d.toml");
        assert_eq!((five.dim(), five.k()), (5, 3));
        for k in 0..3 {
            let cov = five.mixture.covariance(k);
            assert!(
                (0..5).any(|i| (0..5).any(|j| i != j && cov[i * 5 + j] != 0.0)),
                "five-d component {} is diagonal",
                k + 1
            );
        }
    }

    #[test]
    fn round_trip_keeps_awkward_floats_names_and_big_seeds() {
        let mut spec = parse_toml(TWO, "spec.toml").unwrap();
        spec.name = Some("quotes \" and \\ and\nnewline\u{7f}".into());
        spec.description = None;
        spec.seed = u64::MAX;
        let awkward = Mixture::from_flat(
            2,
            vec![0.1 + 0.2, 1.0 / 3.0, 1e-300],
            vec![1e-7, -0.0, 1e8 / 3.0, 1e22, std::f64::consts::PI, -2.5e-12],
            vec![
                2.0 / 3.0,
                0.1,
                0.1,
                7.0,
                1e10,
                1e4,
                1e4,
                1e-2 + 1e4,
                1.0 / 7.0,
                0.0,
                0.0,
                1e-100,
            ],
        )
        .unwrap();
        spec = Spec {
            weights: vec![0.1 + 0.2, 1.0 / 3.0, 1e-300],
            mixture: awkward,
            ..spec
        };
        let text = spec.to_toml();
        assert_eq!(parse_toml(&text, "spec.toml").unwrap(), spec, "{text}");

        // A spec built from a normalised mixture round-trips too.
        let from = Spec::from_mixture(spec.mixture.clone(), 12, 3);
        assert_eq!(parse_toml(&from.to_toml(), "spec.toml").unwrap(), from);
    }

    #[test]
    fn json_equivalent_parses_to_the_same_spec() {
        let json = r#"{
            "name": "two", "description": "two components", "n": 500, "seed": 42,
            "components": [
                {"weight": 0.4, "mean": [0, 0], "cov": [[1.0, 0.5], [0.5, 2.0]]},
                {"weight": 0.6, "mean": [3.0, 3.0], "cov": [[1.0, -0.3], [-0.3, 1.5]]}
            ]
        }"#;
        assert_eq!(
            parse_json(json, "spec.json").unwrap(),
            parse_toml(TWO, "spec.toml").unwrap()
        );
        let one = r#"{"n": 5, "components": [{"weight": 1, "mean": 2.0, "cov": 0.5}]}"#;
        assert_eq!(parse_json(one, "spec.json").unwrap().dim(), 1);
    }

    #[test]
    fn load_picks_the_format_by_extension() {
        let dir = std::env::temp_dir().join(format!("mixplore-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("s.JSON");
        std::fs::write(
            &json,
            r#"{"n": 5, "components": [{"weight": 1, "mean": 2.0, "cov": 0.5}]}"#,
        )
        .unwrap();
        assert_eq!(load(&json).unwrap().n, 5);
        let missing = dir.join("nope.toml");
        let err = load(&missing).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}: cannot read", missing.display()))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn syntax_errors_give_line_and_column_on_one_line() {
        let err = err_toml("n = 5\nseed = \n");
        let text = message(&err);
        assert!(
            matches!(err, SpecError::Syntax { line: Some(2), .. }),
            "{text}"
        );
        assert!(text.starts_with("spec.toml: line 2, column"), "{text}");

        let err = parse_json("{\n  \"n\": 5,\n  \"components\": [,]\n}", "spec.json").unwrap_err();
        let text = message(&err);
        assert!(text.starts_with("spec.json: line 3, column"), "{text}");
        assert!(!text.contains(" at line "), "{text}");

        let text = message(&err_toml("n = \"five\"\n[[components]]\n"));
        assert!(
            text.contains("line 1") && text.contains("whole number"),
            "{text}"
        );
    }

    #[test]
    fn missing_and_unknown_fields() {
        let text = message(&err_toml(
            "seed = 1\n[[components]]\nweight = 1.0\nmean = 0.0\ncov = 1.0\n",
        ));
        assert!(text.contains("missing `n`"), "{text}");
        let text = message(&err_toml("n = 5\n"));
        assert!(text.contains("missing `components`"), "{text}");
        let text = message(&err_toml("n = 5\ncomponents = []\n"));
        assert!(text.contains("no components"), "{text}");

        let text = message(&err_toml("n = 5\nsed = 3\n"));
        assert!(
            text.contains("line 2") && text.contains("unknown field `sed`"),
            "{text}"
        );

        for (body, field) in [
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, 0.0], [0.0, 1.0]]",
                "weight",
            ),
            ("weight = 1.0\ncov = [[1.0, 0.0], [0.0, 1.0]]", "mean"),
            ("weight = 1.0\nmean = [1.0, 1.0]", "cov"),
        ] {
            let err = err_toml(&second(body));
            let text = message(&err);
            assert_eq!(err.component(), Some(2), "{text}");
            assert!(
                text.starts_with("spec.toml: component 2: missing `"),
                "{text}"
            );
            assert!(text.contains(&format!("`{field}`")), "{text}");
        }
        let err = err_toml(&second(
            "weight = 1.0\nmean = [1.0, 1.0]\ncovariance = [[1.0, 0.0], [0.0, 1.0]]",
        ));
        let text = message(&err);
        assert!(
            text.starts_with("spec.toml: component 2: unknown field `covariance`"),
            "{text}"
        );

        let json = r#"{"n": 5, "components": [{"weight": 1, "mean": 2.0, "cov": 0.5}, {"weight": 1, "mean": 2.0, "var": 0.5}]}"#;
        let err = parse_json(json, "spec.json").unwrap_err();
        let text = message(&err);
        assert!(
            text.starts_with("spec.json: component 2: unknown field `var`"),
            "{text}"
        );

        let err = err_toml(&second(
            "weight = \"heavy\"\nmean = [1.0, 1.0]\ncov = [[1.0, 0.0], [0.0, 1.0]]",
        ));
        assert!(
            message(&err).starts_with("spec.toml: component 2: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn bad_n_and_seed() {
        let body = "[[components]]\nweight = 1.0\nmean = 0.0\ncov = 1.0\n";
        let text = message(&err_toml(&format!("n = 0\n{body}")));
        assert!(
            text.contains("n = 0") && text.contains("at least 1"),
            "{text}"
        );
        let text = message(&err_toml(&format!("n = -4\n{body}")));
        assert!(text.contains("n = -4"), "{text}");
        let text = message(&err_toml(&format!("n = 4\nseed = -1\n{body}")));
        assert!(text.contains("line 2") && text.contains("seed"), "{text}");
        let spec = parse_toml(
            &format!("n = 4\nseed = \"18446744073709551615\"\n{body}"),
            "spec.toml",
        )
        .unwrap();
        assert_eq!(spec.seed, u64::MAX);
        assert!(spec.to_toml().contains("seed = \"18446744073709551615\""));
    }

    #[test]
    fn bad_weights_name_the_component() {
        for weight in ["0.0", "-1.0", "nan", "inf"] {
            let err = err_toml(&second(&format!(
                "weight = {weight}\nmean = [1.0, 1.0]\ncov = [[1.0, 0.0], [0.0, 1.0]]"
            )));
            let text = message(&err);
            assert_eq!(err.component(), Some(2), "{text}");
            assert!(text.starts_with("spec.toml: component 2: weight"), "{text}");
        }
    }

    #[test]
    fn shape_errors_name_the_component() {
        let cases = [
            // mean dimension differs from component 1's
            (
                "mean = [1.0, 1.0, 1.0]\ncov = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]",
                "mean has 3 entries, expected 2",
            ),
            // cov dimension differs from the mean's
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]",
                "covariance (rows) has 3 entries, expected 2",
            ),
            // non-square
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, 0.0], [0.0, 1.0, 0.0]]",
                "covariance row 2 has 3 entries, expected 2",
            ),
            // scalar cov for D = 2
            ("mean = [1.0, 1.0]\ncov = 1.0", "cov must be a 2×2 matrix"),
            // flat cov for D = 2
            (
                "mean = [1.0, 1.0]\ncov = [1.0, 0.0, 0.0, 1.0]",
                "cov must be a 2×2 matrix",
            ),
            // nested mean
            (
                "mean = [[1.0, 1.0]]\ncov = [[1.0, 0.0], [0.0, 1.0]]",
                "mean must be a list of numbers",
            ),
            ("mean = []\ncov = [[1.0, 0.0], [0.0, 1.0]]", "mean is empty"),
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, 0.0], 1.0]",
                "cov row 2 is a single number",
            ),
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, [0.0]], [0.0, 1.0]]",
                "cov row 1 holds a list",
            ),
            (
                "mean = \"origin\"\ncov = [[1.0, 0.0], [0.0, 1.0]]",
                "expected a number or an array of numbers",
            ),
        ];
        for (body, expected) in cases {
            let err = err_toml(&second(&format!("weight = 1.0\n{body}")));
            let text = message(&err);
            assert_eq!(err.component(), Some(2), "{text}");
            assert!(text.starts_with("spec.toml: component 2: "), "{text}");
            assert!(text.contains(expected), "{text} lacks {expected:?}");
        }
    }

    #[test]
    fn matrix_errors_name_the_component() {
        let cases = [
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, 0.5], [0.4, 1.0]]",
                "covariance is not symmetric",
            ),
            (
                "mean = [1.0, 1.0]\ncov = [[1.0, 2.0], [2.0, 1.0]]",
                "covariance is not positive definite",
            ),
            (
                "mean = [1.0, 1.0]\ncov = [[0.0, 0.0], [0.0, 1.0]]",
                "covariance is not positive definite",
            ),
            (
                "mean = [1.0, nan]\ncov = [[1.0, 0.0], [0.0, 1.0]]",
                "mean contains a value that is not finite",
            ),
            (
                "mean = [1.0, 1.0]\ncov = [[inf, 0.0], [0.0, 1.0]]",
                "covariance contains a value that is not finite",
            ),
        ];
        for (body, expected) in cases {
            let err = err_toml(&second(&format!("weight = 1.0\n{body}")));
            let text = message(&err);
            assert!(
                text.starts_with(&format!("spec.toml: component 2: {expected}")),
                "{text} lacks {expected:?}"
            );
        }
        let text = message(&err_toml(
            "n = 1\n[[components]]\nweight = 1.0\nmean = 0.0\ncov = -0.25\n",
        ));
        assert!(
            text.starts_with("spec.toml: component 1: covariance is not positive definite"),
            "{text}"
        );
    }

    #[test]
    fn refuses_samples_that_would_not_fit_in_memory() {
        let body =
            "[[components]]\nweight = 1.0\nmean = [0.0, 0.0]\ncov = [[1.0, 0.0], [0.0, 1.0]]\n";
        // The budget / 24 bytes per point is the most that fits in D = 2.
        let most = u128::from(limits::memory_budget()) / 24;
        assert_eq!(most, u128::from(limits::max_points(2)));
        assert!(parse_toml(&format!("n = {most}\n{body}"), "spec.toml").is_ok());
        let err = err_toml(&format!("n = {}\n{body}", most + 1));
        let text = message(&err);
        assert!(matches!(err, SpecError::TooLarge { dim: 2, .. }), "{text}");
        assert!(
            text.contains("available memory") && text.contains("lower n"),
            "{text}"
        );
        let text = message(&err_toml(&format!("n = {}\n{body}", i64::MAX)));
        assert!(text.contains("EiB"), "{text}");
        let json = format!(
            r#"{{"n": {}, "components": [{{"weight": 1, "mean": 0, "cov": 1}}]}}"#,
            u64::MAX
        );
        assert!(matches!(
            parse_json(&json, "spec.json").unwrap_err(),
            SpecError::TooLarge { .. }
        ));
    }
}
