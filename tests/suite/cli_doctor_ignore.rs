//! `doctor` and `ignore` as a user runs them in CI and at the terminal: the real binary on real
//! generated schemas copied into temp dirs, asserting what is printed and the exit code. The
//! duplicate-name case is judged by the real `convex` package as well.

use crate::cli_schema::project;
use crate::common::{bin, json, node, root, toolchain};
use crate::toolchain_judge;
use std::path::Path;

/// An `apikey` table as the generator writes it (better-auth.md §3.1): the 0.8.x generator's
/// manual list indexed `apikey` by `key` (§3.2), so a regenerated file gains
/// `.index("key", ["key"])` where an overlay may already add an index called `key`.
const APIKEY_TABLE: &str = r#"  apikey: defineTable({
    key: v.string(),
    referenceId: v.string(),
  })
    .index("key", ["key"]),
"#;

/// The documented overlay's only custom line, to add lines after.
const CUSTOM: &str = "  user: tables.user.index(\"custom_index\", [\"foo\"]),\n";

/// Adds the apikey table to the real v0.12.5 generated file and `lines` to its overlay.
fn regenerated_with_apikey(dir: &Path, lines: &str) {
    let generated = dir.join("generatedSchema.ts");
    let text = std::fs::read_to_string(&generated).unwrap();
    std::fs::write(
        &generated,
        text.replace("\n};\n", &format!("\n{APIKEY_TABLE}}};\n")),
    )
    .unwrap();
    add_to_overlay(dir, lines);
}

fn add_to_overlay(dir: &Path, lines: &str) {
    let schema = dir.join("schema.ts");
    let text = std::fs::read_to_string(&schema).unwrap();
    assert!(text.contains(CUSTOM));
    std::fs::write(&schema, text.replace(CUSTOM, &format!("{CUSTOM}{lines}"))).unwrap();
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = bin()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The real `convex` package's verdict on the project's schema (tests/support/convex-codegen.mjs).
fn convex_codegen(project: &Path, toolchain: &Path) -> serde_json::Value {
    let bundled = toolchain_judge::bundle(project, toolchain);
    let out = toolchain_judge::run(
        node()
            .arg(root().join("tests/support/convex-codegen.mjs"))
            .arg(&bundled)
            .arg(project.join("out")),
        "convex codegen",
    );
    serde_json::from_str(out.trim()).expect("convex-codegen.mjs prints JSON")
}

#[test]
fn doctor_check_fails_on_the_duplicate_name_convex_refuses_and_passes_once_fixed() {
    let toolchain = toolchain().to_path_buf();
    let project = toolchain_judge::project("documented", &toolchain);
    let dir = project.path().join("convex/betterAuth");
    regenerated_with_apikey(&dir, "  apikey: tables.apikey.index(\"key\", [\"key\"]),\n");

    // Upstream's judgement: `convex` keeps both definitions, and its CLI refuses the schema.
    let verdict = convex_codegen(project.path(), &toolchain);
    assert_eq!(
        verdict["indexes"]["apikey"],
        serde_json::json!([["key", ["key"]], ["key", ["key"]]]),
        "{verdict}"
    );
    assert_eq!(
        verdict["codegen"], "refused: Duplicate index name key in table apikey.",
        "{verdict}"
    );

    // doctor says the same, where, and what to delete.
    let out = run_in(project.path(), &["doctor", "--check"]);
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "convex/betterAuth/schema.ts:9:24: error: apikey.key [key]: the generated file \
             (convex/betterAuth/generatedSchema.ts:"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "Convex refuses the deploy (the CLI: \"Duplicate index name key in table apikey.\""
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  fix: delete `.index(\"key\", [\"key\"])` at convex/betterAuth/schema.ts:9:24\n"
        ),
        "{}",
        out.stdout
    );
    // Without --check the same report exits 0.
    let plain = run_in(project.path(), &["doctor"]);
    assert_eq!(plain.code, Some(0));
    assert_eq!(plain.stdout, out.stdout);

    // Make the fix exactly as --json describes it; Convex then accepts the schema.
    let report = json(
        run_in(project.path(), &["doctor", "--json"])
            .stdout
            .as_bytes(),
    );
    let duplicate = report
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "duplicate_name")
        .expect("a duplicate_name problem");
    assert_eq!(duplicate["severity"], "error");
    let fix = &duplicate["fix"];
    assert_eq!(fix["action"], "remove");
    let schema = project.path().join(fix["at"]["file"].as_str().unwrap());
    let text = std::fs::read_to_string(&schema).unwrap();
    let line = fix["at"]["line"].as_u64().unwrap() as usize;
    let column = fix["at"]["column"].as_u64().unwrap() as usize;
    let code = fix["at"]["code"].as_str().unwrap();
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum::<usize>()
        + column
        - 1;
    assert_eq!(&text[start..start + code.len()], code);
    std::fs::write(
        &schema,
        format!("{}{}", &text[..start], &text[start + code.len()..]),
    )
    .unwrap();
    assert_eq!(
        convex_codegen(project.path(), &toolchain)["codegen"],
        "accepted"
    );

    // What is left is the warning about the generated `expiresAt_userId`; declining that list
    // in ba-index-advisor.toml makes the check pass.
    let left = run_in(project.path(), &["doctor", "--check"]);
    assert_eq!(left.code, Some(1), "{}", left.stdout);
    assert!(left.stdout.contains(
        "warning: session.expiresAt_userId [expiresAt, userId] cannot serve [userId, expiresAt]"
    ));
    assert!(
        left.stdout.contains(
            "  fix: in convex/betterAuth/schema.ts, add `session: tables.session.index(\
             \"userId_expiresAt\", [\"userId\", \"expiresAt\"]),` to the object passed to \
             defineSchema, after `...tables`\n"
        ),
        "{}",
        left.stdout
    );
    let ignored = run_in(
        project.path(),
        &[
            "ignore",
            "session",
            "userId",
            "expiresAt",
            "--reason",
            "no multi-session",
        ],
    );
    assert_eq!(ignored.code, Some(0), "{}", ignored.stderr);
    let clean = run_in(project.path(), &["doctor", "--check"]);
    assert_eq!(clean.code, Some(0), "{}", clean.stdout);
    assert_eq!(
        clean.stdout,
        "convex/betterAuth/schema.ts: no index problems found\n"
    );
}

#[test]
fn doctor_renames_an_overlay_index_whose_name_the_generated_file_took() {
    let (tmp, dir) = project("documented");
    regenerated_with_apikey(
        &dir,
        "  apikey: tables.apikey.index(\"key\", [\"key\", \"referenceId\"]),\n",
    );
    let out = run_in(tmp.path(), &["doctor", "--check"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout.contains(
            "  fix: at convex/betterAuth/schema.ts:9:24, replace `.index(\"key\", [\"key\", \
             \"referenceId\"])` with `.index(\"key_referenceId\", [\"key\", \"referenceId\"])`\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn doctor_reports_an_index_with_the_fields_of_a_generated_one() {
    let (tmp, dir) = project("documented");
    add_to_overlay(
        &dir,
        "  session: tables.session.index(\"by_token\", [\"token\"]),\n",
    );
    let out = run_in(tmp.path(), &["doctor", "--check"]);
    assert_eq!(out.code, Some(1));
    // convex-backend `schemas/json.rs` (`IndexNotUnique`), naming the later name first.
    assert!(
        out.stdout.contains(
            "convex/betterAuth/schema.ts:9:26: error: session.by_token [token]: the generated \
             file (convex/betterAuth/generatedSchema.ts:47) already declares these fields as \
             `token`; Convex refuses the deploy (\"In table \\\"session\\\" index \\\"token\\\" \
             and index \\\"by_token\\\" have the same fields. Indexes must be unique within a \
             table.\")\n  fix: delete `.index(\"by_token\", [\"token\"])` at \
             convex/betterAuth/schema.ts:9:26\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn doctor_applies_convex_limits_to_every_index() {
    let (tmp, dir) = project("documented");
    add_to_overlay(
        &dir,
        "  session: tables.session\n    .index(\"by_creation_time\", [\"ipAddress\"])\n    \
         .index(\"userId_ct\", [\"userAgent\", \"_creationTime\"])\n    .index(\"usrAgent\", \
         [\"usrAgent\"]),\n",
    );
    let out = run_in(tmp.path(), &["doctor", "--check"]);
    assert_eq!(out.code, Some(1));
    for expected in [
        "convex/betterAuth/schema.ts:10:5: error: session.by_creation_time [ipAddress]: Convex \
         refuses this index: its name: `by_creation_time` is a system index every table already has\n  \
         fix: at convex/betterAuth/schema.ts:10:5, replace `.index(\"by_creation_time\", \
         [\"ipAddress\"])` with `.index(\"ipAddress\", [\"ipAddress\"])`\n",
        "convex/betterAuth/schema.ts:11:5: error: session.userId_ct [userAgent, _creationTime]: \
         Convex refuses this index: its fields: `_creationTime`:",
        "  fix: at convex/betterAuth/schema.ts:11:5, replace `.index(\"userId_ct\", [\"userAgent\", \
         \"_creationTime\"])` with `.index(\"userId_ct\", [\"userAgent\"])`\n",
        "convex/betterAuth/schema.ts:12:5: error: session.usrAgent [usrAgent]: session has no \
         field `usrAgent` (did you mean `userAgent`?)",
        "  fix: at convex/betterAuth/schema.ts:12:5, replace `.index(\"usrAgent\", \
         [\"usrAgent\"])` with `.index(\"userAgent\", [\"userAgent\"])`\n",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected}\n---\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .ends_with("3 error(s): Convex refuses to deploy the schema as it is; 1 warning(s)\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn doctor_needs_a_schema_and_says_so_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["doctor", "--check"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("no Better Auth component folder found"));
}

#[test]
fn ignore_refuses_a_misspelt_table_or_field_with_near_matches_unless_forced() {
    let (tmp, _) = project("documented");
    let config = tmp.path().join("ba-index-advisor.toml");
    let out = run_in(
        tmp.path(),
        &["ignore", "sesion", "userId", "--reason", "admin page"],
    );
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "error: the schema has no table `sesion`; did you mean `session`?\n\
         nothing was written; --force writes the entry anyway\n"
    );
    let out = run_in(
        tmp.path(),
        &["ignore", "session", "userid", "--reason", "admin page"],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .starts_with("error: session has no field `userid`; did you mean `userId`?\n"),
        "{}",
        out.stderr
    );
    assert!(!config.exists(), "nothing is written");

    let forced = run_in(
        tmp.path(),
        &[
            "ignore",
            "sesion",
            "userId",
            "--reason",
            "admin page",
            "--force",
        ],
    );
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    assert!(
        forced
            .stderr
            .starts_with("warning: the schema has no table `sesion`"),
        "{}",
        forced.stderr
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("table = \"sesion\"")
    );
}

#[test]
fn ignore_refuses_a_field_order_better_auth_never_prints() {
    let (tmp, _) = project("documented");
    let out = run_in(
        tmp.path(),
        &[
            "ignore",
            "session",
            "userId",
            "token",
            "expiresAt",
            "--reason",
            "x",
        ],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.starts_with(
            "error: Better Auth never prints session [userId, token, expiresAt]: it lists the \
             equality fields in localeCompare order, then at most one range or sort field \
             (never createdAt), so no warning can match this entry. For these fields it prints \
             [expiresAt, token, userId] (equality on every field), or [token, userId, expiresAt] \
             (equality on token, userId, then a range or sort on expiresAt), or"
        ),
        "{}",
        out.stderr
    );
    assert!(!tmp.path().join("ba-index-advisor.toml").exists());
    // The order Better Auth does print is accepted.
    let ok = run_in(
        tmp.path(),
        &[
            "ignore",
            "session",
            "token",
            "userId",
            "expiresAt",
            "--reason",
            "x",
        ],
    );
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
}

#[test]
fn ignore_refuses_an_empty_or_blank_reason() {
    let (tmp, _) = project("documented");
    for reason in ["", "   \t"] {
        let out = run_in(
            tmp.path(),
            &["ignore", "session", "userId", "--reason", reason],
        );
        assert_eq!(out.code, Some(2), "{reason:?}");
        assert!(
            out.stderr
                .contains("the reason must say why the suggestion is declined"),
            "{}",
            out.stderr
        );
    }
    let missing = run_in(tmp.path(), &["ignore", "session", "userId"]);
    assert_eq!(missing.code, Some(2));
    assert!(!tmp.path().join("ba-index-advisor.toml").exists());
}

#[test]
fn ignore_without_a_schema_writes_the_entry_and_says_it_was_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "ignore",
            "member",
            "organizationId",
            "userId",
            "--reason",
            "x",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.starts_with(
            "note: no Better Auth schema found (pass --schema-dir); member [organizationId, \
             userId] could not be checked against it\n"
        ),
        "{}",
        out.stderr
    );
    assert!(dir.path().join("ba-index-advisor.toml").exists());
}

/// A file as a team keeps it: comments, odd spacing, a hand-written entry, another table in
/// between, no trailing newline at the end.
const KEPT: &str = "# Team settings  \nmin_count   =  2 # noisy below that\n\n\
    # declined after the March review\n[[ignore]]\ntable = \"verification\"\nfields = [\"identifier\"]\n\
    reason = \"cleaned hourly\"   # see ops doc\n\n[watch]\nprod = true\n";
const MIDDLE: &str = "\n[[ignore]]\ntable = \"session\"\nfields = [\"userId\", \"expiresAt\"]\n\
    reason = \"admin-only\"\n";
const LAST: &str =
    "\n[[ignore]]\ntable = \"user\"\nfields = [\n  \"email\",\n]\nreason = \"tiny table\"\n# end";

#[test]
fn ignore_remove_deletes_one_entry_and_keeps_every_other_byte() {
    let (tmp, _) = project("documented");
    let path = tmp.path().join("ba-index-advisor.toml");
    let before = format!("{KEPT}{MIDDLE}{LAST}");
    std::fs::write(&path, &before).unwrap();

    let out = run_in(
        tmp.path(),
        &["ignore", "--remove", "session", "userId", "expiresAt"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("session [userId, expiresAt] is no longer ignored")
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{KEPT}{LAST}")
    );

    // An entry that is not there is an error, and the file stays as it is.
    let missing = run_in(tmp.path(), &["ignore", "--remove", "user", "email", "name"]);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing
            .stderr
            .contains("error: user [email, name] is not ignored in ")
            && missing.stderr.contains("(it ignores user [email])"),
        "{}",
        missing.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{KEPT}{LAST}")
    );

    // The entry the tool appends comes out as it went in.
    let plain = "min_count = 2\n";
    std::fs::write(&path, plain).unwrap();
    let add = run_in(
        tmp.path(),
        &["ignore", "session", "userId", "expiresAt", "--reason", "x"],
    );
    assert_eq!(add.code, Some(0), "{}", add.stderr);
    let remove = run_in(
        tmp.path(),
        &["ignore", "--remove", "session", "userId", "expiresAt"],
    );
    assert_eq!(remove.code, Some(0), "{}", remove.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), plain);
}

#[test]
fn ignore_remove_refuses_an_entry_it_cannot_remove_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ba-index-advisor.toml");
    let inline = "min_count = 2\nignore = [\n  { table = \"user\", fields = [\"email\"], reason = \"x\" },\n]\n";
    std::fs::write(&path, inline).unwrap();
    let out = run_in(dir.path(), &["ignore", "--remove", "user", "email"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains(
            "ba-index-advisor.toml:3: this entry is not written as an `[[ignore]]` table this \
             tool can remove byte for byte (it is written inline, as `ignore = [...]` or a \
             dotted key); delete it by hand"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), inline);
}
