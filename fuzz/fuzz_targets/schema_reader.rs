//! The TypeScript schema reader on arbitrary text: parsing, the model built from it (as overlay
//! and as generated file), and the rendered error with its code frame. Never panics.
#![no_main]

use ba_index_advisor::schema::{SchemaError, model, ts};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fuzz_target!(|input: &[u8]| {
    let Ok(src) = std::str::from_utf8(input) else {
        return;
    };
    match ts::parse(src) {
        Ok(parsed) => {
            let generated = model::generated_tables(&parsed);
            let _ = model::build(&parsed, &generated);
            let _ = model::tables_import(&parsed);
            let _ = model::target(&parsed);
        }
        Err(err) => {
            let rendered =
                SchemaError::syntax(PathBuf::from("schema.ts"), src, err.range, err.message)
                    .render();
            assert!(rendered.contains("schema.ts:"));
        }
    }
});
