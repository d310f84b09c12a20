//! How runs start: the settings the next run takes ([`RunSettings`]), and the exact description
//! of the run being fitted ([`RunSpec`]), which is what the status line and the `mixplore fit`
//! command shown by `e` describe.

use std::sync::Arc;

use crate::em::{
    CovarianceType, DEFAULT_MAX_ITER, DEFAULT_REG_COVAR, DEFAULT_TOL, EmConfig, Init, InitMethod,
    Mixture,
};

use super::source::{Origin, Source};

/// The settings the next run takes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Number of components.
    pub k: usize,
    /// The seeded initialisation method (used unless the given parameters are chosen).
    pub init: InitMethod,
    /// Starting parameters given with `--init-params`, if any.
    pub init_params: Option<Arc<Mixture>>,
    /// Whether the next run starts from `init_params` (only while their K and D match).
    pub use_init_params: bool,
    /// Seed of the next run.
    pub seed: u64,
    /// Regularisation and stopping rule.
    pub config: EmConfig,
}

impl RunSettings {
    /// K components from a k-means++ start with seed 0 and the default EM settings.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            init: InitMethod::KMeansPlusPlus,
            init_params: None,
            use_init_params: false,
            seed: 0,
            config: EmConfig::default(),
        }
    }

    /// The given starting parameters, when they fit K and the data's dimension.
    pub fn usable_init_params(&self, dim: usize) -> Option<&Arc<Mixture>> {
        self.init_params
            .as_ref()
            .filter(|p| p.k() == self.k && p.dim() == dim)
    }

    /// The exact run these settings start on data of dimension `dim`.
    pub fn spec(&self, dim: usize) -> RunSpec {
        let start = match self.usable_init_params(dim) {
            Some(params) if self.use_init_params => Start::Params(Arc::clone(params)),
            _ => Start::Method(self.init),
        };
        RunSpec {
            k: self.k,
            dim,
            start,
            seed: self.seed,
            config: self.config,
        }
    }
}

/// Where θ(0) of a run comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// A seeded method.
    Method(InitMethod),
    /// Given parameters (`--init-params`).
    Params(Arc<Mixture>),
}

/// Exactly the run being fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Number of components.
    pub k: usize,
    /// Dimension of the data.
    pub dim: usize,
    /// Where θ(0) comes from.
    pub start: Start,
    /// Seed (of the seeded methods).
    pub seed: u64,
    /// Covariance type, reg_covar, stopping rule.
    pub config: EmConfig,
}

impl RunSpec {
    /// The engine's initialisation.
    pub fn init(&self) -> Init {
        match &self.start {
            Start::Method(method) => Init::Method(*method),
            Start::Params(params) => Init::Params((**params).clone()),
        }
    }

    /// The initialisation's name for the status line.
    pub fn init_label(&self) -> &'static str {
        match self.start {
            Start::Method(method) => method.name(),
            Start::Params(_) => "init-params",
        }
    }

    /// The arguments after `mixplore fit DATA` that reproduce this run, with `start_file` naming
    /// the JSON file of θ(0) when the run starts from given parameters.
    pub fn fit_arguments(&self, start_file: &str) -> Vec<String> {
        let mut args = vec!["--k".to_owned(), self.k.to_string()];
        match &self.start {
            Start::Method(method) => {
                args.extend(["--init".to_owned(), method.name().to_owned()]);
                args.extend(["--seed".to_owned(), self.seed.to_string()]);
            }
            Start::Params(_) => args.extend(["--init-params".to_owned(), shell_word(start_file)]),
        }
        if self.config.covariance != CovarianceType::Full {
            args.extend([
                "--covariance".to_owned(),
                self.config.covariance.name().to_owned(),
            ]);
        }
        if self.config.reg_covar != DEFAULT_REG_COVAR {
            args.extend([
                "--reg-covar".to_owned(),
                format!("{:e}", self.config.reg_covar),
            ]);
        }
        if self.config.tol != DEFAULT_TOL {
            args.extend(["--tol".to_owned(), format!("{:e}", self.config.tol)]);
        }
        if self.config.hard {
            args.push("--hard".to_owned());
        }
        if self.config.max_iter != DEFAULT_MAX_ITER {
            args.extend(["--max-iter".to_owned(), self.config.max_iter.to_string()]);
        }
        args
    }
}

/// The shell commands that reproduce the run `spec` on `source`: a `mixplore fit` line (after
/// a `mixplore simulate` line when the data were simulated), or why it cannot be one.
pub fn reproduce_commands(source: &Source, spec: &RunSpec, start_file: &str) -> Vec<String> {
    let fit_args = spec.fit_arguments(start_file).join(" ");
    match &source.origin {
        Origin::File { path, options } => {
            let mut line = format!("mixplore fit {}", shell_word(path));
            for option in options {
                line.push(' ');
                line.push_str(option);
            }
            vec![format!("{line} {fit_args} --json")]
        }
        Origin::Spec(path) => vec![
            format!(
                "mixplore simulate {} --out data.csv",
                shell_word(&path.display().to_string())
            ),
            format!("mixplore fit data.csv {fit_args} --json"),
        ],
        Origin::Default | Origin::Edited => vec![
            "(save the data with w, e.g. as data.csv, then:)".to_owned(),
            format!("mixplore fit data.csv {fit_args} --json"),
        ],
    }
}

/// `text` quoted for a POSIX shell when it needs to be. Control characters (a file name with an
/// escape sequence) are written as bash's `$'…'` escapes, so the line is both printable and
/// still names the file.
pub fn shell_word(text: &str) -> String {
    if crate::text::printable(text) != text {
        let mut quoted = String::from("$'");
        for c in text.chars() {
            let mut one = [0; 4];
            match c {
                '\\' => quoted.push_str(r"\\"),
                '\'' => quoted.push_str(r"\'"),
                _ if crate::text::printable(c.encode_utf8(&mut one)).len() > c.len_utf8() => {
                    // Every character printable escapes is below U+10000: four hex digits do.
                    if u32::from(c) < 0x100 {
                        quoted.push_str(&format!("\\x{:02x}", u32::from(c)));
                    } else {
                        quoted.push_str(&format!("\\u{:04x}", u32::from(c)));
                    }
                }
                _ => quoted.push(c),
            }
        }
        quoted.push('\'');
        return quoted;
    }
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_name_every_setting_that_differs_from_the_defaults() {
        let mut settings = RunSettings::new(3);
        settings.init = InitMethod::RandomFromData;
        settings.seed = 2;
        settings.config.covariance = CovarianceType::Tied;
        settings.config.reg_covar = 1e-4;
        let spec = settings.spec(4);
        assert_eq!(
            spec.fit_arguments("start.json").join(" "),
            "--k 3 --init random-from-data --seed 2 --covariance tied --reg-covar 1e-4"
        );
        assert_eq!(shell_word("a b'c"), r"'a b'\''c'");
        assert_eq!(shell_word("data/x.csv"), "data/x.csv");
        assert_eq!(shell_word("e\x1b[2J'v}.csv"), r"$'e\x1b[2J\'v}.csv'");
        assert_eq!(shell_word("a\u{202e}b"), r"$'a\u202eb'");
    }

    #[test]
    fn given_parameters_are_only_used_while_k_matches() {
        let mut settings = RunSettings::new(2);
        let params = crate::em::Mixture::from_params(&crate::em::MixtureParams {
            weights: vec![0.5, 0.5],
            means: vec![vec![0.0], vec![1.0]],
            covariances: vec![vec![vec![1.0]], vec![vec![1.0]]],
        })
        .unwrap();
        settings.init_params = Some(Arc::new(params));
        settings.use_init_params = true;
        assert_eq!(settings.spec(1).init_label(), "init-params");
        settings.k = 3;
        assert_eq!(settings.spec(1).init_label(), "kmeans++");
        settings.k = 2;
        assert_eq!(settings.spec(2).init_label(), "kmeans++");
    }
}
