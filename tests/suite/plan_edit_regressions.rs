//! Schema-edit cases found by fuzzing (fuzz/fuzz_targets/plan_edit.rs), each named after the
//! behaviour it pins.

use ba_index_advisor::document::PlannedIndex;
use ba_index_advisor::schema::{self, overlay};

#[test]
fn unicode_and_vertical_whitespace_before_a_trailing_comma_is_still_whitespace() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/schema/comments"
    );
    for space in [
        "\u{b}\u{b}",
        "\u{c}",
        "\u{a0}",
        "\u{feff}",
        "\u{2028}",
        "\u{3000}",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["schema.ts", "generatedSchema.ts"] {
            std::fs::copy(format!("{fixture}/{name}"), tmp.path().join(name)).unwrap();
        }
        let path = tmp.path().join("schema.ts");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "/* after user */, // and more",
            &format!("/* after user */{space}, // and more"),
        );
        std::fs::write(&path, text).unwrap();
        let component = schema::load(tmp.path()).unwrap();
        let addition = PlannedIndex::new("jwks", "publicKey", &["publicKey".into()]);
        let change = overlay::prepare(&component, &[addition])
            .unwrap_or_else(|e| panic!("{space:?}: {e}"))
            .unwrap();
        assert!(
            change
                .after
                .contains("jwks: tables.jwks.index(\"publicKey\", [\"publicKey\"] /* added by ba-index-advisor */)")
        );
    }
}
