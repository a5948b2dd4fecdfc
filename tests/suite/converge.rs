//! Runs converge: for any split of the same logs into batches, `apply` after each batch ends with
//! the indexes one `apply` over all of them writes, judged by the real `tsc` and `convex` loading
//! both schemas; every schema written passes `doctor --check`, but for the indexes written by
//! hand that a planned index begins with, which the plan names and `doctor` then reports; and a
//! hand-written call stays byte-identical through every run.

use crate::common::{bin, register_component, root, toolchain};
use crate::toolchain_judge::judge;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lists Better Auth prints for the documented generated schema. `account [providerId]` and
/// `user [email]` begin a generated index (`providerId_userId`, `email_name`) and still fired:
/// createdAt queries, which only an index of exactly their fields serves.
const LISTS: &[(&str, &[&str])] = &[
    ("session", &["ipAddress"]),
    ("session", &["ipAddress", "userAgent"]),
    ("session", &["ipAddress", "userAgent", "updatedAt"]),
    ("account", &["providerId"]),
    ("account", &["providerId", "scope"]),
    ("account", &["userId", "providerId"]),
    ("account", &["userId", "providerId", "accountId"]),
    ("user", &["email"]),
    ("user", &["email", "emailVerified"]),
    ("user", &["emailVerified"]),
    ("user", &["emailVerified", "createdAt"]),
    ("verification", &["value"]),
    ("verification", &["value", "expiresAt"]),
    ("twoFactor", &["secret"]),
    ("twoFactor", &["secret", "verified"]),
];

/// Indexes a user wrote by hand in the overlay (names the tool never gives).
const HAND_WRITTEN: &[(&str, &str, &[&str])] = &[
    ("session", "by_ip", &["ipAddress"]),
    ("account", "by_user_provider", &["userId", "providerId"]),
    (
        "user",
        "by_verified_created",
        &["emailVerified", "createdAt"],
    ),
    ("verification", "by_value_expiry", &["value", "expiresAt"]),
];

/// A warning line as `npx convex logs` prints it (captured from the real CLI).
fn warning(table: &str, fields: &[&str]) -> String {
    format!(
        "1/15/2026, 2:03:08 PM [CONVEX Q(auth:lookup)] [WARN] 'Querying without an index on \
         table \"{table}\".\\nThis can cause performance issues, and may hit the document read \
         limit.\\nTo fix, add an index that begins with the following fields in order:\\n[{}]'\n",
        fields.join(", ")
    )
}

fn call(name: &str, fields: &[&str]) -> String {
    let fields: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
    format!(".index(\"{name}\", [{}])", fields.join(", "))
}

#[derive(Debug, Clone)]
struct Case {
    /// `convex/betterAuth` or `convex/auth`.
    folder: &'static str,
    /// The hand-written indexes the overlay starts with; none means `defineSchema(tables)`.
    hand_written: Vec<usize>,
    /// The log lines (indexes into `LISTS`), in the order they arrive.
    lines: Vec<usize>,
    /// Where the lines are cut into batches.
    cuts: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec!["convex/betterAuth", "convex/auth"]),
        prop::collection::btree_set(0..HAND_WRITTEN.len(), 0..=HAND_WRITTEN.len()),
        prop::collection::vec(0..LISTS.len(), 1..14),
        prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    )
        .prop_map(|(folder, hand, lines, cuts)| {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(lines.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.dedup();
            Case {
                folder,
                hand_written: hand.into_iter().collect(),
                lines,
                cuts,
            }
        })
}

impl Case {
    fn overlay(&self) -> String {
        if self.hand_written.is_empty() {
            return "import { defineSchema } from \"convex/server\";\nimport { tables } from \
                    \"./generatedSchema\";\n\nconst schema = defineSchema(tables);\n\nexport \
                    default schema;\n"
                .to_owned();
        }
        let mut by_table: BTreeMap<&str, String> = BTreeMap::new();
        for &h in &self.hand_written {
            let (table, name, fields) = HAND_WRITTEN[h];
            by_table
                .entry(table)
                .or_insert_with(|| format!("tables.{table}"))
                .push_str(&format!("\n    {}", call(name, fields)));
        }
        let props: String = by_table
            .iter()
            .map(|(table, chain)| format!("  {table}: {chain},\n"))
            .collect();
        format!(
            "import {{ defineSchema }} from \"convex/server\";\nimport {{ tables }} from \
             \"./generatedSchema\";\n\n// Indexes of our own.\nconst schema = defineSchema({{\n  \
             ...tables,\n{props}}});\n\nexport default schema;\n"
        )
    }

    fn batches(&self) -> Vec<String> {
        let mut bounds = vec![0];
        bounds.extend(&self.cuts);
        bounds.push(self.lines.len());
        bounds
            .windows(2)
            .map(|w| {
                self.lines[w[0]..w[1]]
                    .iter()
                    .map(|&l| warning(LISTS[l].0, LISTS[l].1))
                    .collect::<String>()
            })
            .filter(|batch| !batch.is_empty())
            .collect()
    }

    fn project(&self) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(self.folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            root().join("tests/fixtures/schema/documented/generatedSchema.ts"),
            dir.join("generatedSchema.ts"),
        )
        .unwrap();
        std::fs::write(dir.join("schema.ts"), self.overlay()).unwrap();
        // Registered as the local-install docs show, so any folder name is found.
        register_component(tmp.path(), self.folder.trim_start_matches("convex/"), true);
        std::os::unix::fs::symlink(
            toolchain().join("node_modules"),
            tmp.path().join("node_modules"),
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("tsconfig.json"),
            r#"{"compilerOptions": {"target": "ES2022", "module": "ESNext",
  "moduleResolution": "Bundler", "strict": true, "noEmit": true, "skipLibCheck": true},
  "include": ["convex/**/*.ts"]}"#,
        )
        .unwrap();
        tmp
    }
}

fn apply(project: &Path, log: &str, name: &str) -> String {
    std::fs::write(project.join(name), log).unwrap();
    let out = bin()
        .current_dir(project)
        .args(["apply", name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "apply {name}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `doctor --check --json`: its exit code and the problems as (kind, table, index).
fn doctor(project: &Path) -> (i32, BTreeSet<(String, String, String)>) {
    let out = bin()
        .current_dir(project)
        .args(["doctor", "--check", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let problems = doc
        .as_array()
        .expect("doctor --json prints the problems")
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
            (s("kind"), s("table"), s("index"))
        })
        .collect();
    (out.status.code().unwrap_or(-1), problems)
}

/// What `doctor` must report on a schema with `loaded` indexes: each hand-written index that
/// another index on its table begins with.
fn expected_problems(
    case: &Case,
    loaded: &serde_json::Value,
) -> BTreeSet<(String, String, String)> {
    case.hand_written
        .iter()
        .map(|&h| HAND_WRITTEN[h])
        .filter(|(table, name, fields)| {
            loaded[*table].as_array().is_some_and(|indexes| {
                indexes.iter().any(|i| {
                    let other: Vec<&str> = i[1]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_str().unwrap())
                        .collect();
                    i[0] != *name && other.len() > fields.len() && other.starts_with(fields)
                })
            })
        })
        .map(|(table, name, _)| {
            (
                "redundant_index".to_owned(),
                table.to_owned(),
                name.to_owned(),
            )
        })
        .collect()
}

/// The loaded schema as table → its set of `[name, fields]`, order left out.
fn index_sets(loaded: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    loaded
        .as_object()
        .unwrap()
        .iter()
        .map(|(table, indexes)| {
            let set = indexes
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.to_string())
                .collect();
            (table.clone(), set)
        })
        .collect()
}

fn check(case: &Case) {
    let batches = case.batches();
    let all: String = batches.concat();
    let many = case.project();
    let one = case.project();
    // What doctor says of the schema before any run (the generated file's own warnings).
    let (_, base) = doctor(one.path());
    let hand_calls: Vec<String> = case
        .hand_written
        .iter()
        .map(|&h| call(HAND_WRITTEN[h].1, HAND_WRITTEN[h].2))
        .collect();
    let schema_of =
        |p: &Path| std::fs::read_to_string(p.join(case.folder).join("schema.ts")).unwrap();
    for (k, batch) in batches.iter().enumerate() {
        apply(many.path(), batch, &format!("batch{k}.log"));
        // Every schema written passes doctor, but for the hand-written prefixes it names.
        let (_, problems) = doctor(many.path());
        assert!(
            problems
                .difference(&base)
                .all(|(kind, _, index)| kind == "redundant_index" && index.starts_with("by_")),
            "after batch {k}: {problems:?}\n{}",
            schema_of(many.path())
        );
        for hand in &hand_calls {
            assert!(
                schema_of(many.path()).contains(hand.as_str()),
                "{hand} was edited"
            );
        }
    }
    apply(one.path(), &all, "all.log");
    let loaded_many = judge(many.path(), toolchain());
    let loaded_one = judge(one.path(), toolchain());
    assert_eq!(
        index_sets(&loaded_many),
        index_sets(&loaded_one),
        "batches {batches:?}\nmany runs:\n{}\none run:\n{}",
        schema_of(many.path()),
        schema_of(one.path())
    );
    for project in [many.path(), one.path()] {
        let (code, problems) = doctor(project);
        let expected = expected_problems(case, &loaded_one);
        let new: BTreeSet<_> = problems.difference(&base).cloned().collect();
        assert_eq!(new, expected, "{}", schema_of(project));
        assert_eq!(code, if problems.is_empty() { 0 } else { 1 });
        // The converged schema is a fixed point: one more run over everything adds nothing.
        let again = apply(project, &all, "again.log");
        assert!(again.contains("nothing to change"), "{again}");
        for hand in &hand_calls {
            assert!(
                schema_of(project).contains(hand.as_str()),
                "{hand} was edited"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn many_runs_over_batches_end_where_one_run_over_all_ends(case in case()) {
        check(&case);
    }
}

/// The drift reported: `[ipAddress]` first, `[ipAddress, userAgent]` later. The second run
/// extends the tool's own index in place (the diff shows the call replaced), where a second
/// index beside it would have made the first redundant.
#[test]
fn a_tool_written_prefix_is_extended_in_place_not_duplicated() {
    let case = Case {
        folder: "convex/auth",
        hand_written: vec![],
        lines: vec![],
        cuts: vec![],
    };
    let project = case.project();
    let p = project.path();
    let schema = p.join("convex/auth/schema.ts");
    let base = doctor(p);
    apply(p, &warning("session", &["ipAddress"]), "day1.log");
    let day1 = std::fs::read_to_string(&schema).unwrap();
    assert!(day1.contains(
        r#"session: tables.session.index("ipAddress", ["ipAddress"] /* added by ba-index-advisor */),"#
    ));
    std::fs::write(
        p.join("day2.log"),
        warning("session", &["ipAddress", "userAgent"]),
    )
    .unwrap();
    let report = bin()
        .current_dir(p)
        .args(["report", "day2.log", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let planned = &doc["plan"][0];
    assert_eq!(planned["name"], "ipAddress_userAgent");
    assert_eq!(planned["extends"]["name"], "ipAddress");
    assert!(
        planned["note"]
            .as_str()
            .unwrap()
            .contains("Convex backfills a changed index"),
        "{planned}"
    );
    let dry = bin()
        .current_dir(p)
        .args(["apply", "--dry-run", "day2.log"])
        .output()
        .unwrap();
    let diff = String::from_utf8_lossy(&dry.stdout);
    assert!(
        diff.contains(r#"-  session: tables.session.index("ipAddress", ["ipAddress"] /* added by ba-index-advisor */),"#)
            && diff.contains(r#"+  session: tables.session.index("ipAddress_userAgent", ["ipAddress", "userAgent"] /* added by ba-index-advisor */),"#),
        "{diff}"
    );
    let said = apply(
        p,
        &warning("session", &["ipAddress", "userAgent"]),
        "day2.log",
    );
    assert!(
        said.contains("extended session.ipAddress [ipAddress] to ipAddress_userAgent"),
        "{said}"
    );
    let day2 = std::fs::read_to_string(&schema).unwrap();
    assert_eq!(day2.matches(".index(").count(), 1, "{day2}");
    assert_eq!(doctor(p), base);

    // A schema written before the mark existed: the same call without it is the tool's too.
    std::fs::write(
        &schema,
        day1.replace(" /* added by ba-index-advisor */", ""),
    )
    .unwrap();
    apply(
        p,
        &warning("session", &["ipAddress", "userAgent"]),
        "day2.log",
    );
    assert_eq!(std::fs::read_to_string(&schema).unwrap(), day2);
}

/// An index written by hand is never edited: the plan adds the longer one beside it and says
/// what `doctor` will report.
#[test]
fn a_hand_written_prefix_is_left_and_the_plan_says_what_doctor_will_say() {
    let case = Case {
        folder: "convex/betterAuth",
        hand_written: vec![0],
        lines: vec![],
        cuts: vec![],
    };
    let project = case.project();
    let p = project.path();
    let (_, base) = doctor(p);
    let before = std::fs::read_to_string(p.join("convex/betterAuth/schema.ts")).unwrap();
    std::fs::write(
        p.join("a.log"),
        warning("session", &["ipAddress", "userAgent"]),
    )
    .unwrap();
    let out = bin()
        .current_dir(p)
        .args(["report", "a.log"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`by_ip` [ipAddress] begins these fields but was written by hand"),
        "{text}"
    );
    apply(p, &warning("session", &["ipAddress", "userAgent"]), "a.log");
    let after = std::fs::read_to_string(p.join("convex/betterAuth/schema.ts")).unwrap();
    assert!(after.contains(&call("by_ip", &["ipAddress"])), "{after}");
    assert_eq!(after.lines().count(), before.lines().count() + 1, "{after}");
    let (code, problems) = doctor(p);
    assert_eq!(code, 1);
    assert_eq!(
        problems.difference(&base).cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([("redundant_index".into(), "session".into(), "by_ip".into())])
    );
}

/// `watch - --write` fed the batches one after the other (each written before the next arrives)
/// ends with the schema one `apply` over all of them writes.
#[test]
fn watch_write_over_batches_ends_where_one_apply_ends() {
    use std::io::Write;
    let case = Case {
        folder: "convex/betterAuth",
        hand_written: vec![1],
        lines: vec![0, 3, 5, 1, 6, 7, 2, 8],
        cuts: vec![2, 5],
    };
    let watched = case.project();
    let applied = case.project();
    let schema = |p: &Path| std::fs::read_to_string(p.join(case.folder).join("schema.ts")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"))
        .current_dir(watched.path())
        .args(["watch", "-", "--write", "--format", "lines"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for batch in case.batches() {
        let before = schema(watched.path());
        stdin.write_all(batch.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let start = std::time::Instant::now();
        while schema(watched.path()) == before {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "no write for {batch}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    apply(applied.path(), &case.batches().concat(), "all.log");
    assert_eq!(
        index_sets(&judge(watched.path(), toolchain())),
        index_sets(&judge(applied.path(), toolchain())),
        "watch:\n{}\napply:\n{}",
        schema(watched.path()),
        schema(applied.path())
    );
}

/// Piped `watch --write` whose planned write could never be made exits 2 and names it: here the
/// table already has the 32 indexes Convex allows, so the write is refused every time.
#[test]
fn piped_watch_write_that_never_wrote_exits_2() {
    let case = Case {
        folder: "convex/betterAuth",
        hand_written: vec![],
        lines: vec![],
        cuts: vec![],
    };
    let project = case.project();
    let fields = [
        "expiresAt",
        "token",
        "createdAt",
        "updatedAt",
        "userAgent",
        "userId",
    ];
    let calls: String = fields
        .iter()
        .flat_map(|a| {
            fields
                .iter()
                .filter(move |b| *b != a)
                .map(move |b| [*a, *b])
        })
        .filter(|pair| *pair != ["expiresAt", "userId"])
        .take(28)
        .enumerate()
        .map(|(k, pair)| format!("\n    {}", call(&format!("by_{k}"), &pair)))
        .collect();
    std::fs::write(
        project.path().join("convex/betterAuth/schema.ts"),
        format!(
            "import {{ defineSchema }} from \"convex/server\";\nimport {{ tables }} from \
             \"./generatedSchema\";\n\nexport default defineSchema({{\n  ...tables,\n  session: \
             tables.session{calls},\n}});\n"
        ),
    )
    .unwrap();
    let out = bin()
        .current_dir(project.path())
        .args(["watch", "-", "--write"])
        .write_stdin(warning("session", &["ipAddress"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: --write never wrote the index for 1 suggestion(s): session [ipAddress]"
        ),
        "{stderr}"
    );
}
