//! The model file: a fitted mixture saved as JSON so that `mixplore predict` and `mixplore score`
//! can use it on new data.
//!
//! One format, written by `mixplore fit --save-model MODEL.json`; the `fit --json` result carries
//! the same fields, so it serves as a model file too. Format version 1:
//!
//! | field | meaning |
//! |---|---|
//! | `format_version` | 1 (required: a file without it is not a model file) |
//! | `covariance_type` | `full`, `diag`, `spherical` or `tied` (or mclust's `VVV`, `VVI`, `VII`, `EEE`) |
//! | `columns` | the D feature names, in the order of the means' coordinates |
//! | `weights` | K mixing weights (positive; normalised when read) |
//! | `means` | K × D |
//! | `covariances` | K × D × D full matrices whatever the type (diag: diagonal matrices, spherical: v·I, tied: the same matrix K times) |
//!
//! Other fields (`source`, `n`, `log_likelihood`, and everything else in a `--json` result) are
//! ignored when read. Numbers are written so that they read back to the same doubles.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::em::{CovarianceType, Mixture, MixtureParams};

/// The model file format version this build writes and reads.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The model file as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelFile<'a> {
    /// Always [`MODEL_FORMAT_VERSION`].
    pub format_version: u32,
    /// The covariance structure of the fit (`full`, `diag`, `spherical`, `tied`).
    pub covariance_type: &'static str,
    /// The feature names, one per dimension.
    pub columns: &'a [String],
    /// Mixing weights λ_k.
    pub weights: Vec<f64>,
    /// Means μ_k, K × D.
    pub means: Vec<Vec<f64>>,
    /// Covariances Σ_k, K × D × D.
    pub covariances: Vec<Vec<Vec<f64>>>,
    /// Informational: the data the model was fitted to.
    pub source: &'a str,
    /// Informational: the number of rows fitted.
    pub n: usize,
    /// Informational: the total log-likelihood of the fit.
    pub log_likelihood: f64,
}

impl<'a> ModelFile<'a> {
    /// The file for `mixture`, fitted with `covariance` to the columns `columns` of `source`.
    pub fn new(
        mixture: &Mixture,
        covariance: CovarianceType,
        columns: &'a [String],
        source: &'a str,
        n: usize,
        log_likelihood: f64,
    ) -> Self {
        let params = mixture.to_params();
        Self {
            format_version: MODEL_FORMAT_VERSION,
            covariance_type: covariance.name(),
            columns,
            weights: params.weights,
            means: params.means,
            covariances: params.covariances,
            source,
            n,
            log_likelihood,
        }
    }
}

/// What the reader takes from a model file; every field optional so that each missing one gets
/// its own message.
#[derive(Debug, Deserialize)]
struct RawModel {
    format_version: Option<serde_json::Value>,
    covariance_type: Option<String>,
    columns: Option<Vec<String>>,
    weights: Option<Vec<f64>>,
    means: Option<Vec<Vec<f64>>>,
    covariances: Option<Vec<Vec<Vec<f64>>>>,
}

/// A model read back and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The mixture (valid: weights positive and normalised, covariances positive definite).
    pub mixture: Mixture,
    /// The covariance structure it was fitted with.
    pub covariance: CovarianceType,
    /// The D feature names.
    pub columns: Vec<String>,
}

/// Parses a covariance type by its scikit-learn name or its mclust name (`VVV` full, `VVI` diag,
/// `VII` spherical, `EEE` tied); case matters for neither.
pub fn covariance_type_named(name: &str) -> Option<CovarianceType> {
    let name = name.trim();
    CovarianceType::ALL
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(name) || mclust_name(*t).eq_ignore_ascii_case(name))
}

/// mclust's name for a covariance structure: `VVV` (full: volume, shape and orientation vary),
/// `VVI` (diag: axis-aligned), `VII` (spherical), `EEE` (tied: all equal).
pub fn mclust_name(covariance: CovarianceType) -> &'static str {
    match covariance {
        CovarianceType::Full => "VVV",
        CovarianceType::Diag => "VVI",
        CovarianceType::Spherical => "VII",
        CovarianceType::Tied => "EEE",
    }
}

/// Reads and checks a model file; errors are one line starting with the path.
pub fn read_model(path: &Path) -> anyhow::Result<Model> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read"))?;
    parse_model(&text, &name)
}

/// Parses and checks the text of a model file named `name` (for messages).
pub fn parse_model(text: &str, name: &str) -> anyhow::Result<Model> {
    let raw: RawModel =
        serde_json::from_str(text).with_context(|| format!("{name}: not a valid model file"))?;
    let how = "write one with `mixplore fit … --save-model MODEL.json` or `--json`";
    match raw.format_version {
        None => bail!("{name}: not a mixplore model file (no \"format_version\"); {how}"),
        Some(version) if version.as_u64() == Some(u64::from(MODEL_FORMAT_VERSION)) => {}
        Some(version) => bail!(
            "{name}: model format_version {version} is not one this mixplore reads (it reads {MODEL_FORMAT_VERSION})"
        ),
    }
    let missing = |field: &str| anyhow::anyhow!("{name}: the model has no \"{field}\"; {how}");
    let type_name = raw
        .covariance_type
        .ok_or_else(|| missing("covariance_type"))?;
    let covariance = covariance_type_named(&type_name).with_context(|| {
        format!(
            "{name}: unknown covariance_type {type_name:?}: expected full, diag, spherical or tied"
        )
    })?;
    let columns = raw.columns.ok_or_else(|| missing("columns"))?;
    let params = MixtureParams {
        weights: raw.weights.ok_or_else(|| missing("weights"))?,
        means: raw.means.ok_or_else(|| missing("means"))?,
        covariances: raw.covariances.ok_or_else(|| missing("covariances"))?,
    };
    let mixture =
        Mixture::from_params(&params).with_context(|| format!("{name}: invalid model"))?;
    if columns.len() != mixture.dim() {
        bail!(
            "{name}: the model names {} columns but its means have {} coordinates",
            columns.len(),
            mixture.dim()
        );
    }
    if let Some(problem) = structure_problem(&mixture, covariance) {
        bail!(
            "{name}: covariance_type is {} but {problem}",
            covariance.name()
        );
    }
    Ok(Model {
        mixture,
        covariance,
        columns,
    })
}

/// Why the covariances do not have the structure of `covariance`, if they do not (a hand-edited
/// file, or a type that does not belong to the numbers).
fn structure_problem(mixture: &Mixture, covariance: CovarianceType) -> Option<String> {
    let d = mixture.dim();
    for k in 0..mixture.k() {
        let matrix = mixture.covariance(k);
        let off_diagonal = (0..d * d).any(|i| i / d != i % d && matrix[i] != 0.0);
        let component = k + 1;
        match covariance {
            CovarianceType::Diag | CovarianceType::Spherical if off_diagonal => {
                return Some(format!(
                    "component {component}'s covariance has non-zero off-diagonal entries"
                ));
            }
            CovarianceType::Spherical if (1..d).any(|j| matrix[j * d + j] != matrix[0]) => {
                return Some(format!(
                    "component {component}'s covariance has unequal variances"
                ));
            }
            CovarianceType::Tied if matrix != mixture.covariance(0) => {
                return Some(format!(
                    "component {component}'s covariance differs from component 1's"
                ));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixture() -> Mixture {
        Mixture::from_params(&MixtureParams {
            weights: vec![0.3, 0.7],
            means: vec![vec![0.1, -2.0], vec![3.0, 1.0 / 3.0]],
            covariances: vec![
                vec![vec![1.0, 0.0], vec![0.0, 2.0]],
                vec![vec![0.5, 0.0], vec![0.0, 0.25]],
            ],
        })
        .unwrap()
    }

    #[test]
    fn round_trips_exactly() {
        let columns = vec!["a".to_owned(), "b".to_owned()];
        let file = ModelFile::new(
            &mixture(),
            CovarianceType::Diag,
            &columns,
            "x.csv",
            10,
            -3.5,
        );
        let text = serde_json::to_string(&file).unwrap();
        let model = parse_model(&text, "m.json").unwrap();
        assert_eq!(model.mixture, mixture());
        assert_eq!(model.covariance, CovarianceType::Diag);
        assert_eq!(model.columns, columns);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let good = serde_json::to_value(ModelFile::new(
            &mixture(),
            CovarianceType::Full,
            &["a".into(), "b".into()],
            "x.csv",
            10,
            -3.5,
        ))
        .unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut changed = good.clone();
            match value {
                serde_json::Value::Null => {
                    changed.as_object_mut().unwrap().remove(field);
                }
                value => changed[field] = value,
            }
            let message = format!(
                "{:#}",
                parse_model(&changed.to_string(), "m.json").unwrap_err()
            );
            assert!(message.starts_with("m.json: "), "{message}");
            message
        };
        assert!(with("format_version", serde_json::Value::Null).contains("no \"format_version\""));
        assert!(with("format_version", 2.into()).contains("format_version 2"));
        assert!(with("covariance_type", "round".into()).contains("unknown covariance_type"));
        assert!(with("columns", serde_json::Value::Null).contains("no \"columns\""));
        assert!(with("columns", serde_json::json!(["a"])).contains("names 1 columns"));
        assert!(with("weights", serde_json::json!([1.0, -1.0])).contains("invalid model"));
        assert!(with("covariance_type", "spherical".into()).contains("unequal variances"));
        assert!(with("covariance_type", "EEE".into()).contains("differs from component 1"));
        assert!(parse_model("{", "m.json").is_err());
        // The mclust name reads as the same type.
        let mut vvi = good.clone();
        vvi["covariance_type"] = "VVI".into();
        assert_eq!(
            parse_model(&vvi.to_string(), "m.json").unwrap().covariance,
            CovarianceType::Diag
        );
    }
}
