//! The CSV loader on arbitrary bytes: it may refuse them, but only with a one-line error, and
//! it must never panic. The first byte picks the options (delimiter, --drop-invalid, a column
//! selection), so those paths are fuzzed too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplore::data::csv::{CsvOptions, TruthChoice, read};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let delimiter = [b',', b';', b'\t', b' '][usize::from(selector & 3)];
    let columns = match (selector >> 2) & 3 {
        0 => None,
        1 => Some(vec!["1".to_owned()]),
        2 => Some(vec!["a".to_owned(), "2".to_owned()]),
        _ => Some(vec!["x1".to_owned()]),
    };
    let options = CsvOptions {
        columns,
        delimiter,
        drop_invalid: selector & 16 != 0,
        keep_rows: selector & 32 != 0,
        truth: match selector >> 6 {
            0 => TruthChoice::Off,
            1 => TruthChoice::Column("2".to_owned()),
            _ => TruthChoice::Detect,
        },
    };
    if let Err(error) = read(bytes, "fuzz.csv", &options) {
        let message = error.to_string();
        assert!(!message.contains('\n'), "multi-line error: {message:?}");
        assert!(
            message.starts_with("fuzz.csv"),
            "error without the file name: {message:?}"
        );
    }
});
