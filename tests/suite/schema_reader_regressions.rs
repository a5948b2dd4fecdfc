//! Schema-reader inputs found by fuzzing (fuzz/fuzz_targets/schema_reader.rs), each named after
//! the behaviour it pins.

use ba_index_advisor::schema::ts;

/// Found by `schema_reader`: 377 bytes of nested `[`/`<` make oxc 0.146's parser speculate on
/// type arguments at every level, and its arena keeps every abandoned attempt, so memory grows
/// past 2 GB. The reader now refuses such nesting before oxc sees it.
#[test]
fn nested_type_argument_speculation_is_refused_before_parsing() {
    let src = include_str!("../fixtures/fuzz/schema-reader-oom-nested-type-arguments.ts");
    match ts::parse(src) {
        Err(err) => assert!(
            err.message.contains("nest more than 64 levels"),
            "{}",
            err.message
        ),
        Ok(_) => panic!("the fuzz input parsed"),
    }
}

/// The guard leaves real files alone: generics, comparisons and brackets in strings and comments.
#[test]
fn ordinary_nesting_still_parses() {
    let src = r#"// a < b [ ( {
const x = "[[[[<<<<" ;
const y = 1 < 2 && 3 <= 4;
type T = Array<Array<Record<string, Array<number>>>>;
/* [[[[[[ <<<< */ export default { a: [[[[1]]]] };
"#;
    assert!(ts::parse(src).is_ok());
}
