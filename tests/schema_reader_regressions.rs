//! Schema-reader inputs found by fuzzing (fuzz/fuzz_targets/schema_reader.rs), each named after
//! the behaviour it pins.

use ba_index_advisor::schema::ts;

/// Found by `schema_reader`: 377 bytes of nested `[`/`<` make oxc 0.146's parser speculate on
/// type arguments at every level, and its arena keeps every abandoned attempt, so memory grows
/// past 2 GB before it answers. Not fixed here: it is upstream in oxc, and only the user's own
/// `schema.ts` reaches it. Ignored until oxc is upgraded; run with `--ignored` to check.
#[test]
#[ignore = "upstream oxc_parser memory blow-up; see docs/reliability.md"]
fn nested_type_argument_speculation_stays_bounded() {
    let src = include_str!("fixtures/fuzz/schema-reader-oom-nested-type-arguments.ts");
    let _ = ts::parse(src);
}
