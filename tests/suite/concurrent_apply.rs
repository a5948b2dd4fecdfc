//! Concurrent writers on one schema lose nothing: several real `apply` processes, each adding a
//! different index at the same moment, all succeed and every index lands in a file that parses.

use crate::common::{self, bin};
use ba_index_advisor::schema;
use std::path::Path;
use std::process::{Command, Stdio};

const INDEXES: &[(&str, &[&str])] = &[
    ("user", &["image"]),
    ("user", &["emailVerified"]),
    ("user", &["displayUsername"]),
    ("session", &["ipAddress"]),
    ("session", &["userAgent"]),
    ("account", &["scope"]),
    ("account", &["idToken"]),
    ("verification", &["value"]),
];

fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = common::root().join("tests/fixtures/schema/documented");
    for name in ["schema.ts", "generatedSchema.ts"] {
        std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
    }
    (tmp, dir)
}

fn saved_report(dir: &Path, k: usize, table: &str, fields: &[&str]) -> std::path::PathBuf {
    let path = dir.join(format!("report-{k}.json"));
    let report = serde_json::json!({ "suggestions": [{ "table": table, "fields": fields }] });
    std::fs::write(&path, report.to_string()).unwrap();
    path
}

#[test]
fn racing_applies_each_land_their_index() {
    let (tmp, dir) = project();
    let reports = tempfile::tempdir().unwrap();
    let program = bin().get_program().to_owned();
    for round in 0..3 {
        if round > 0 {
            let fixture = common::root().join("tests/fixtures/schema/documented/schema.ts");
            std::fs::copy(fixture, dir.join("schema.ts")).unwrap();
        }
        let children: Vec<_> = INDEXES
            .iter()
            .enumerate()
            .map(|(k, (table, fields))| {
                let report = saved_report(reports.path(), k, table, fields);
                Command::new(&program)
                    .current_dir(tmp.path())
                    .arg("apply")
                    .arg("--from-report")
                    .arg(report)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
        let component = schema::load(&dir).expect("the written schema parses");
        for (table, fields) in INDEXES {
            let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            let found = component
                .model
                .table(table)
                .is_some_and(|t| t.indexes.iter().any(|i| i.fields == fields));
            assert!(
                found,
                "round {round}: {table} {fields:?} was lost:\n{}",
                component.schema.text
            );
        }
    }
}
