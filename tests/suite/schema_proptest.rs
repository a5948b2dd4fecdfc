//! Property: on any overlay layout (existing indexes, comments, whitespace, quotes, commas,
//! line endings), applying random additions only inserts text, and removing the inserted
//! ranges gives back the original file; the re-parse check inside `prepare` must pass.

use ba_index_advisor::document::PlannedIndex;
use ba_index_advisor::schema;
use proptest::prelude::*;
use std::path::Path;

const TABLES: &[(&str, &[&str])] = &[
    (
        "user",
        &[
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "foo",
        ],
    ),
    (
        "session",
        &["expiresAt", "token", "createdAt", "userId", "ipAddress"],
    ),
    ("account", &["accountId", "providerId", "userId", "scope"]),
    (
        "jwks",
        &["publicKey", "privateKey", "createdAt", "expiresAt"],
    ),
];

#[derive(Debug, Clone)]
struct Layout {
    quote: char,
    indent: &'static str,
    crlf: bool,
    trailing_comma: bool,
    /// Per table: present in the overlay?, existing index field picks, multi-line chain?, comment?
    props: Vec<(bool, Vec<usize>, bool, bool)>,
    /// Per table: new index (two field picks) or none.
    additions: Vec<Option<(usize, usize)>>,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop_oneof![Just('"'), Just('\'')],
        prop_oneof![Just("  "), Just("    "), Just("\t")],
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(
            (
                any::<bool>(),
                prop::collection::vec(0usize..4, 0..3),
                any::<bool>(),
                any::<bool>(),
            ),
            TABLES.len(),
        ),
        prop::collection::vec(prop::option::of((0usize..4, 0usize..4)), TABLES.len()),
    )
        .prop_map(
            |(quote, indent, crlf, trailing_comma, props, additions)| Layout {
                quote,
                indent,
                crlf,
                trailing_comma,
                props,
                additions,
            },
        )
}

fn render(l: &Layout) -> (String, Vec<PlannedIndex>) {
    let q = l.quote;
    let nl = if l.crlf { "\r\n" } else { "\n" };
    let i = l.indent;
    let mut elements = vec!["...tables".to_string()];
    for ((table, fields), (present, picks, multiline, comment)) in TABLES.iter().zip(&l.props) {
        if !present {
            continue;
        }
        let mut picks = picks.clone();
        picks.dedup();
        let mut value = format!("tables.{table}");
        for (k, p) in picks.iter().enumerate() {
            let call = format!(".index({q}c{k}{q}, [{q}{}{q}])", fields[*p]);
            if *multiline {
                value.push_str(&format!("{nl}{i}{i}{call}"));
            } else {
                value.push_str(&call);
            }
        }
        if *comment {
            value.push_str(" /* note */");
        }
        elements.push(format!("{table}: {value}"));
    }
    let mut body = String::new();
    for (k, el) in elements.iter().enumerate() {
        let last = k + 1 == elements.len();
        body.push_str(&format!(
            "{i}{el}{}{nl}",
            if !last || l.trailing_comma { "," } else { "" }
        ));
    }
    let src = format!(
        "import {{ defineSchema }} from {q}convex/server{q};{nl}import {{ tables }} from {q}./generatedSchema{q};{nl}{nl}// custom indexes{nl}export default defineSchema({{{nl}{body}}});{nl}"
    );
    let mut additions = Vec::new();
    for ((table, fields), add) in TABLES.iter().zip(&l.additions) {
        if let Some((a, b)) = add
            && a != b
        {
            // Reverse alphabetical pairs: the generator only writes alphabetical ones.
            let (x, y) = if fields[*a] > fields[*b] {
                (a, b)
            } else {
                (b, a)
            };
            additions.push(PlannedIndex::new(
                table,
                &format!("p_{}_{}", fields[*x], fields[*y]),
                &[fields[*x].to_string(), fields[*y].to_string()],
            ));
        }
    }
    (src, additions)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn removing_inserted_ranges_gives_back_the_original(l in layout()) {
        let (src, additions) = render(&l);
        let tmp = tempfile::tempdir().unwrap();
        let generated = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/schema/documented/generatedSchema.ts");
        std::fs::copy(generated, tmp.path().join("generatedSchema.ts")).unwrap();
        std::fs::write(tmp.path().join("schema.ts"), &src).unwrap();
        let component = schema::load(tmp.path()).unwrap();
        let change = schema::overlay::prepare(&component, &additions)
            .unwrap_or_else(|e| panic!("{}\n---\n{src}", e.render()));
        match change {
            None => prop_assert!(additions.is_empty()),
            Some(change) => {
                prop_assert_eq!(&change.before, &src);
                let mut restored = change.after.clone();
                for r in change.inserted.iter().rev() {
                    restored.replace_range(r.clone(), "");
                }
                prop_assert_eq!(restored, src);
                if l.crlf {
                    prop_assert_eq!(change.after.matches('\n').count(), change.after.matches("\r\n").count());
                }
            }
        }
    }
}
