//! What the fuzz targets in fuzz/ check, on a bounded number of random inputs so that every
//! `cargo test` (and CI) runs it: the CSV loader and the spec parser never panic on any input,
//! and every rejection is one line naming the file.

use mixplore::data::csv::{CsvOptions, TruthChoice, read};
use mixplore::data::spec::{parse_json, parse_toml};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6675_7a7a),
        ..ProptestConfig::default()
    }
}

/// Bytes that look like CSV often enough to get past the first checks.
fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b";".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"NaN".to_vec()),
        Just(b"-inf".to_vec()),
        Just(b"1e308".to_vec()),
        Just(b"a".to_vec()),
        Just(b"class".to_vec()),
        "[0-9.eE+-]{1,8}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_csv_loader_never_panics(bytes in csv_like(), selector in any::<u8>()) {
        let options = CsvOptions {
            columns: match selector & 3 {
                0 => None,
                1 => Some(vec!["1".to_owned()]),
                2 => Some(vec!["a".to_owned(), "2".to_owned()]),
                _ => Some(vec!["x1".to_owned()]),
            },
            delimiter: if selector & 4 == 0 { b',' } else { b';' },
            drop_invalid: selector & 8 != 0,
            keep_rows: selector & 16 != 0,
            truth: match selector >> 5 {
                0 => TruthChoice::Off,
                1 => TruthChoice::Column("2".to_owned()),
                _ => TruthChoice::Detect,
            },
            // A weight column too, on a third of the inputs.
            weights: (selector % 3 == 0).then(|| "3".to_owned()),
        };
        if let Err(error) = read(bytes.as_slice(), "fuzz.csv", &options) {
            let message = error.to_string();
            prop_assert!(!message.contains('\n'), "{message:?}");
            prop_assert!(message.starts_with("fuzz.csv"), "{message:?}");
        }
    }

    #[test]
    fn the_spec_parser_never_panics(text in "(n|seed|weight|mean|cov|components|\\[|\\]|=|,|\\{|\\}|\"|[0-9.e-]{1,6}|\n| ){0,40}") {
        for parsed in [parse_toml(&text, "fuzz.toml"), parse_json(&text, "fuzz.toml")] {
            match parsed {
                Ok(spec) => prop_assert_eq!(parse_toml(&spec.to_toml(), "again").ok(), Some(spec)),
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(!message.contains('\n'), "{message:?}");
                    prop_assert!(message.starts_with("fuzz.toml"), "{message:?}");
                }
            }
        }
    }
}
