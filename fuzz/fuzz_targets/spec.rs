//! The spec parser (TOML and JSON) on arbitrary text: one-line errors naming the file, never a
//! panic; a spec it accepts is valid and round-trips through `to_toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplore::data::spec::{parse_json, parse_toml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [parse_toml(text, "fuzz.toml"), parse_json(text, "fuzz.toml")] {
        match parsed {
            Ok(spec) => {
                let again = parse_toml(&spec.to_toml(), "again.toml");
                assert_eq!(again.ok(), Some(spec), "a spec did not round-trip");
            }
            Err(error) => {
                let message = error.to_string();
                assert!(!message.contains('\n'), "multi-line error: {message:?}");
                assert!(
                    message.starts_with("fuzz.toml"),
                    "error without the file name: {message:?}"
                );
            }
        }
    }
});
