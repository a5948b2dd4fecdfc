//! Each overlay shape seen in real repositories, with a snapshot of the diff `apply` makes, and
//! a second pass over the result that must change nothing.

use ba_index_advisor::advise::{self, AdviceSettings};
use ba_index_advisor::document::{FindingStatus, PlannedIndex, Report};
use ba_index_advisor::engine::{Engine, EngineSettings, SchemaNeed};
use ba_index_advisor::schema::{self, overlay};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema")
}

fn copy_case(case: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures().join(case)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    tmp
}

/// The engine on a component folder, as `apply --schema-dir DIR` opens it.
fn engine(dir: &Path) -> Engine {
    let settings = EngineSettings {
        cwd: dir.to_path_buf(),
        schema_dir: Some(dir.to_path_buf()),
        rules_dir: None,
        insights: None,
        advice: AdviceSettings::default(),
    };
    Engine::open(settings, SchemaNeed::Required).unwrap()
}

/// The saved report's suggestions, concluded against the folder's schema.
fn revise(dir: &Path) -> Report {
    let saved = Engine::read_saved(&fixtures().join("report.json")).unwrap();
    engine(dir).revise(saved)
}

/// Status lines and the unified diff, as `apply --dry-run` shows them.
fn run_case(case: &str) -> String {
    let tmp = copy_case(case);
    let report = revise(tmp.path());
    let mut out = String::new();
    for finding in &report.suggestions {
        out.push_str(&format!(
            "{} [{}]: {}\n",
            finding.table,
            finding.fields.join(", "),
            finding.status.as_ref().unwrap().describe()
        ));
    }
    let component = schema::load(tmp.path()).unwrap();
    match engine(tmp.path()).change(&report) {
        Ok(Some(change)) => {
            // Insertions only: removing them gives back the original bytes.
            let mut restored = change.after.clone();
            for r in change.inserted.iter().rev() {
                restored.replace_range(r.clone(), "");
            }
            assert_eq!(restored, change.before, "{case}: inserted ranges");
            out.push_str(&change.unified_diff("schema.ts").replace('\r', "␍"));
            schema::write::commit(&component.schema, &change.after).unwrap();
            let again = revise(tmp.path());
            assert!(
                again.plan.is_empty(),
                "{case}: second apply plans {:?}",
                again.plan
            );
            let generated = std::fs::read_dir(tmp.path()).unwrap().count();
            assert_eq!(
                generated,
                std::fs::read_dir(fixtures().join(case)).unwrap().count()
            );
        }
        Ok(None) => out.push_str("(no change)\n"),
        Err(err) => out.push_str(&format!("refused:\n{}\n", err.render())),
    }
    out.replace(&*tmp.path().to_string_lossy(), "<dir>")
}

macro_rules! case {
    ($name:ident) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), run_case(stringify!($name)));
        }
    };
}

case!(documented);
case!(define_schema_tables);
case!(single_quotes);
case!(comments);
case!(export_default_no_const);
case!(crlf);
case!(alias_import);
case!(prettier_arrays);
case!(schema_generated_name);

#[test]
fn generated_schema_ts() {
    let out = run_case("generated_schema_ts");
    assert!(out.contains("refused:"), "{out}");
    let original = std::fs::read(fixtures().join("generated_schema_ts/schema.ts")).unwrap();
    assert!(!original.is_empty());
    insta::assert_snapshot!("generated_schema_ts", out);
}

#[test]
fn model_reads_overlay_additions_and_multiline_chains() {
    let component = schema::load(&fixtures().join("comments")).unwrap();
    let session = component.model.table("session").unwrap();
    let names: Vec<&str> = session.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "expiresAt",
            "expiresAt_userId",
            "token",
            "userId",
            "by_token_user",
            "by_exp"
        ]
    );
    let user = component.model.table("user").unwrap();
    let image = user
        .fields
        .as_ref()
        .unwrap()
        .iter()
        .find(|f| f.name == "image")
        .unwrap();
    assert_eq!((image.kind.as_str(), image.optional), ("string", true));
}

#[test]
fn duplicate_keys_last_one_wins() {
    let tmp = copy_case("documented");
    let path = tmp.path().join("schema.ts");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  user: tables.user.index(\"custom_index\", [\"foo\"]),\n",
        "  user: tables.user.index(\"first\", [\"foo\"]),\n  user: tables.user.index(\"second\", [\"name\"]),\n",
    );
    std::fs::write(&path, text).unwrap();
    let component = schema::load(tmp.path()).unwrap();
    let user = component.model.table("user").unwrap();
    assert!(user.indexes.iter().any(|i| i.name == "second"));
    assert!(!user.indexes.iter().any(|i| i.name == "first"));
}

#[test]
fn staged_indexes_are_read_and_do_not_serve() {
    let tmp = copy_case("documented");
    let path = tmp.path().join("schema.ts");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "tables.user.index(\"custom_index\", [\"foo\"])",
        "tables.user.index(\"emailVerified\", { fields: [\"emailVerified\"], staged: true })",
    );
    std::fs::write(&path, text).unwrap();
    let component = schema::load(tmp.path()).unwrap();
    let status = advise::status::classify(
        "user",
        &["emailVerified".to_string()],
        false,
        &component.model,
    );
    assert_eq!(
        status,
        FindingStatus::Staged {
            index: "emailVerified".into()
        }
    );
}

#[test]
fn syntax_errors_point_at_line_and_column() {
    let tmp = copy_case("documented");
    let path = tmp.path().join("schema.ts");
    std::fs::write(
        &path,
        "import { tables } from \"./generatedSchema\";\nconst x = {\n  user: ,\n};\n",
    )
    .unwrap();
    let err = schema::load(tmp.path()).unwrap_err();
    let rendered = err.render();
    assert!(rendered.contains("schema.ts:3:"), "{rendered}");
    assert!(rendered.contains("user: ,"), "{rendered}");
}

#[test]
fn a_file_changed_since_it_was_read_is_not_overwritten() {
    let tmp = copy_case("documented");
    let component = schema::load(tmp.path()).unwrap();
    let path = tmp.path().join("schema.ts");
    let edited_elsewhere = format!("{}// edited by someone else\n", component.schema.text);
    std::fs::write(&path, &edited_elsewhere).unwrap();
    let err = schema::write::commit(&component.schema, "replacement").unwrap_err();
    assert!(matches!(err, schema::SchemaError::Changed { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited_elsewhere);
}

#[test]
fn convex_limits_are_enforced_before_any_edit() {
    let tmp = copy_case("documented");
    let component = schema::load(tmp.path()).unwrap();
    let bad = PlannedIndex::new("user", "by_creation_time", &["name".into()]);
    let err = overlay::prepare(&component, &[bad]).unwrap_err();
    assert!(err.to_string().contains("system index"), "{err}");
}
