//! Unescaping edge cases — quotes, backslashes and non-ASCII names — rendered by the real
//! object-inspect (the version Convex pins), Node's util.inspect (the "use node" runtime) and
//! JSON encoders, in six renderings each.

use crate::common::{bin, json, node, root, suggestions};

#[test]
fn awkward_names_survive_every_escaping_layer() {
    let out = node()
        .arg(root().join("tests/support/escapes.mjs"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = bin()
        .args(["report", "-", "--format", "json"])
        .write_stdin(out.stdout)
        .output()
        .unwrap();
    assert!(report.status.success());
    let report = json(&report.stdout);
    let mut found: Vec<(String, Vec<String>, u64)> = suggestions(&report);
    found.sort();
    let expected = |t: &str, f: &str| {
        (
            t.to_owned(),
            vec!["organizationId".to_owned(), f.to_owned()],
            6,
        )
    };
    assert_eq!(
        found,
        vec![
            expected("back\\slash", "a\\b"),
            expected("café", "naïve"),
            expected("emoji😀", "x😀y"),
            expected("o'brien", "it's"),
            expected("日本", "名前"),
        ]
    );
    assert_eq!(report["stats"]["suspects"], 0);
}
