//! `apply`, `init` and `doctor` as a user runs them: the real binary, real files in temp dirs.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::str::contains;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema")
}

/// A project with `convex/betterAuth/` holding the fixture's files.
pub(crate) fn project(case: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(fixtures().join(case)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    (tmp, dir)
}

fn report() -> String {
    fixtures().join("report.json").display().to_string()
}

#[test]
fn apply_writes_then_a_second_apply_is_a_no_op() {
    let (tmp, dir) = project("documented");
    let generated = std::fs::read(dir.join("generatedSchema.ts")).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path().join("convex"))
        .args(["apply", "--from-report", &report()])
        .assert()
        .success()
        .stderr(contains(
            "added session.userId_expiresAt [userId, expiresAt]",
        ));
    let once = std::fs::read(dir.join("schema.ts")).unwrap();
    assert!(String::from_utf8_lossy(&once).contains(
        "jwks: tables.jwks.index(\"expiresAt\", [\"expiresAt\"] /* added by ba-index-advisor */),"
    ));
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .success()
        .stderr(contains("nothing to change"));
    assert_eq!(std::fs::read(dir.join("schema.ts")).unwrap(), once);
    assert_eq!(
        std::fs::read(dir.join("generatedSchema.ts")).unwrap(),
        generated
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let (tmp, dir) = project("single_quotes");
    let before = std::fs::read(dir.join("schema.ts")).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--dry-run", "--from-report", &report()])
        .assert()
        .success()
        .stdout(contains(
            "+        .index('userId_expiresAt', ['userId', 'expiresAt'] /* added by ba-index-advisor */),",
        ));
    assert_eq!(std::fs::read(dir.join("schema.ts")).unwrap(), before);
}

#[test]
fn check_exits_1_while_changes_are_pending_and_0_after() {
    let (tmp, dir) = project("crlf");
    let before = std::fs::read(dir.join("schema.ts")).unwrap();
    let check = || {
        cargo_bin_cmd!("ba-index-advisor")
            .current_dir(tmp.path())
            .args(["apply", "--check", "--from-report", &report()])
            .assert()
    };
    check().code(1);
    assert_eq!(std::fs::read(dir.join("schema.ts")).unwrap(), before);
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .success();
    let after = String::from_utf8(std::fs::read(dir.join("schema.ts")).unwrap()).unwrap();
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "CRLF kept"
    );
    check().code(0);
}

#[test]
fn a_generated_schema_ts_is_refused_and_left_byte_identical() {
    let (tmp, dir) = project("generated_schema_ts");
    let before = std::fs::read(dir.join("schema.ts")).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .code(2)
        .stderr(contains("not an overlay"))
        .stderr(contains("ba-index-advisor init"));
    assert_eq!(std::fs::read(dir.join("schema.ts")).unwrap(), before);
    assert!(!dir.join("generatedSchema.ts").exists());
}

#[test]
fn a_syntax_error_is_refused_with_a_code_frame() {
    let (tmp, dir) = project("documented");
    let broken = "import { defineSchema } from \"convex/server\";\nimport { tables } from \"./generatedSchema\";\nexport default defineSchema({ ...tables, user: });\n";
    std::fs::write(dir.join("schema.ts"), broken).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .code(2)
        .stderr(contains("schema.ts:3:"))
        .stderr(contains(
            "export default defineSchema({ ...tables, user: });",
        ));
    assert_eq!(
        std::fs::read(dir.join("schema.ts")).unwrap(),
        broken.as_bytes()
    );
}

#[test]
fn an_unsupported_value_is_refused_and_left_byte_identical() {
    let (tmp, dir) = project("documented");
    let text = std::fs::read_to_string(dir.join("schema.ts"))
        .unwrap()
        .replace(
            "user: tables.user.index(\"custom_index\", [\"foo\"]),",
            "user: makeUser(tables.user),",
        );
    std::fs::write(dir.join("schema.ts"), &text).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .code(2)
        .stderr(contains("cannot append"));
    assert_eq!(
        std::fs::read_to_string(dir.join("schema.ts")).unwrap(),
        text
    );
}

#[cfg(unix)]
#[test]
fn apply_keeps_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, dir) = project("export_default_no_const");
    let path = dir.join("schema.ts");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .success();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn schema_dir_flag_and_missing_folder() {
    let (_tmp, dir) = project("alias_import");
    let elsewhere = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(elsewhere.path())
        .args(["apply", "--dry-run", "--from-report", &report()])
        .assert()
        .code(2)
        .stderr(contains("--schema-dir"));
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(elsewhere.path())
        .args([
            "apply",
            "--dry-run",
            "--from-report",
            &report(),
            "--schema-dir",
        ])
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains("\tmember: generatedTables.member"));
}

#[test]
fn init_converts_the_generated_file_and_is_idempotent() {
    let (tmp, dir) = project("generated_schema_ts");
    let original = std::fs::read(dir.join("schema.ts")).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .arg("init")
        .assert()
        .success()
        .stderr(contains("npx auth generate --output generatedSchema.ts"))
        .stderr(contains(
            "npx @better-auth/cli generate -y --output generatedSchema.ts",
        ));
    assert_eq!(
        std::fs::read(dir.join("generatedSchema.ts")).unwrap(),
        original
    );
    let schema = std::fs::read_to_string(dir.join("schema.ts")).unwrap();
    assert!(
        schema.contains("import { tables } from \"./generatedSchema\";"),
        "{schema}"
    );
    assert!(schema.contains("...tables,"), "{schema}");
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .arg("init")
        .assert()
        .success()
        .stderr(contains("already is an overlay"));
    assert_eq!(
        std::fs::read_to_string(dir.join("schema.ts")).unwrap(),
        schema
    );
    // Now apply works on the converted folder.
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .args(["apply", "--from-report", &report()])
        .assert()
        .success();
}

#[test]
fn init_refuses_to_overwrite_an_existing_generated_file() {
    let (tmp, dir) = project("generated_schema_ts");
    std::fs::write(dir.join("generatedSchema.ts"), "// mine\n").unwrap();
    let before = std::fs::read(dir.join("schema.ts")).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(contains("already exists"));
    assert_eq!(std::fs::read(dir.join("schema.ts")).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(dir.join("generatedSchema.ts")).unwrap(),
        "// mine\n"
    );
}

#[test]
fn doctor_lists_unserved_orders_and_redundant_indexes() {
    let (tmp, dir) = project("documented");
    let text = std::fs::read_to_string(dir.join("schema.ts")).unwrap().replace(
        "user: tables.user.index(\"custom_index\", [\"foo\"]),",
        "user: tables.user.index(\"custom_index\", [\"foo\"]).index(\"foo_name\", [\"foo\", \"name\"]),",
    );
    std::fs::write(dir.join("schema.ts"), text).unwrap();
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(tmp.path())
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains(
            "session.expiresAt_userId [expiresAt, userId] cannot serve [userId, expiresAt]",
        ))
        .stdout(contains("user.custom_index [foo] is a prefix of foo_name"));
}
