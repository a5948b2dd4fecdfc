//! Plan and edit: arbitrary findings, planned by `advise` and applied by `overlay::prepare` to
//! the real overlay fixtures (optionally with arbitrary text spliced in, kept when it still
//! parses). The result must re-parse with exactly the old indexes plus the planned ones and
//! differ from the original only by the inserted ranges, or be a clean refusal; the editor
//! refusing its own output (`Verify`, `Overlap`) counts as a bug.
#![no_main]

use arbitrary::Arbitrary;
use ba_index_advisor::advise::{self, AdviceSettings};
use ba_index_advisor::document;
use ba_index_advisor::schema::locate::SourceFile;
use ba_index_advisor::schema::{self, Component, Layout, SchemaError, model, overlay, ts};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::sync::OnceLock;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/schema");

fn fixtures() -> &'static [Component] {
    static ALL: OnceLock<Vec<Component>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut dirs: Vec<_> = std::fs::read_dir(FIXTURES)
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("schema.ts").is_file())
            .collect();
        dirs.sort();
        dirs.iter()
            .map(|d| schema::load(d).expect("fixture loads"))
            .collect()
    })
}

#[derive(Debug, Arbitrary)]
enum Pick {
    Known(u8),
    Any(String),
}

#[derive(Debug, Arbitrary)]
struct Finding {
    table: Pick,
    fields: Vec<Pick>,
    legacy: bool,
}

#[derive(Debug, Arbitrary)]
struct Input {
    fixture: u8,
    splice: Option<(u16, String)>,
    merge: bool,
    findings: Vec<Finding>,
}

/// The fixture with `text` spliced in at `at`, as a component, when it still parses.
fn spliced(base: &Component, at: u16, text: &str) -> Option<Component> {
    let src = &base.schema.text;
    let mut at = usize::from(at) % (src.len() + 1);
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let new = format!("{}{text}{}", &src[..at], &src[at..]);
    let parsed = ts::parse(&new).ok()?;
    let (layout, generated) = match (&base.layout, model::tables_import(&parsed)) {
        (Layout::Overlay { generated, .. }, Some((alias, _))) => (
            Layout::Overlay {
                generated: generated.clone(),
                alias: alias.to_string(),
            },
            model::generated_tables(&generated.parsed),
        ),
        _ => return None,
    };
    let model = model::build(&parsed, &generated);
    Some(Component {
        dir: base.dir.clone(),
        schema: SourceFile {
            path: base.schema.path.clone(),
            text: new,
            modified: None,
            parsed,
        },
        layout,
        model,
    })
}

fn pick(p: &Pick, known: &[String]) -> String {
    match p {
        Pick::Known(i) if !known.is_empty() => known[usize::from(*i) % known.len()].clone(),
        Pick::Known(_) => "user".into(),
        Pick::Any(s) => s.clone(),
    }
}

fn index_set(m: &schema::SchemaModel) -> BTreeSet<(String, String, Vec<String>)> {
    m.tables
        .iter()
        .flat_map(|t| {
            t.indexes
                .iter()
                .map(|i| (t.name.clone(), i.name.clone(), i.fields.clone()))
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let all = fixtures();
    let base = &all[usize::from(input.fixture) % all.len()];
    let owned;
    let component = match &input.splice {
        Some((at, text)) => match spliced(base, *at, text) {
            Some(c) => {
                owned = c;
                &owned
            }
            None => return,
        },
        None => base,
    };
    let generated = match &component.layout {
        Layout::Overlay { generated, .. } => model::generated_tables(&generated.parsed),
        Layout::Generated => Vec::new(),
    };
    let tables: Vec<String> = component.model.table_names();
    let findings: Vec<document::Finding> = input
        .findings
        .iter()
        .take(16)
        .map(|f| {
            let table = pick(&f.table, &tables);
            let known: Vec<String> = component
                .model
                .table(&table)
                .and_then(|t| t.fields.as_ref())
                .map(|fs| fs.iter().map(|f| f.name.clone()).collect())
                .unwrap_or_default();
            document::Finding {
                fields: f.fields.iter().take(20).map(|p| pick(p, &known)).collect(),
                table,
                count: 1,
                legacy_underscore: u64::from(f.legacy),
                ..document::Finding::default()
            }
        })
        .collect();
    let settings = AdviceSettings {
        merge: input.merge,
        ..AdviceSettings::default()
    };
    let additions = advise::conclude(findings, Vec::new(), Some(&component.model), &settings).plan;
    match overlay::prepare(component, &additions) {
        Ok(None) => assert!(additions.is_empty()),
        Ok(Some(change)) => {
            let parsed = ts::parse(&change.after).expect("the written file re-parses");
            let got = index_set(&model::build(&parsed, &generated));
            let mut want = index_set(&component.model);
            for a in &additions {
                want.insert((a.table.clone(), a.name.clone(), a.fields.clone()));
            }
            assert_eq!(got, want, "exactly the planned indexes");
            // Only insertions: removing the inserted ranges gives back the original.
            let mut rest = String::new();
            let mut at = 0;
            for r in &change.inserted {
                rest.push_str(&change.after[at..r.start]);
                at = r.end;
            }
            rest.push_str(&change.after[at..]);
            assert_eq!(rest, change.before);
        }
        Err(err @ (SchemaError::Verify { .. } | SchemaError::Overlap(_))) => {
            panic!("the editor refused its own output: {err}\n{additions:?}")
        }
        Err(err) => {
            let _ = err.render();
        }
    }
});
