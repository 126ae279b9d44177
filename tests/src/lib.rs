//! Shared by the test suites: the `-o json` schema check, and a fake Redis
//! for what hostile or broken servers do.

pub mod fake;

use std::path::PathBuf;

/// Asserts that `doc` is valid against `schemas/NAME.schema.json` (the
/// documented contract of each `-o json` output), naming every violation.
pub fn assert_schema(name: &str, doc: &serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemas")
        .join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let v = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{} is not a valid schema: {e}", path.display()));
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: the output does not match its schema:\n  {}\n{}",
        errors.join("\n  "),
        serde_json::to_string_pretty(doc).unwrap_or_default()
    );
}

/// Parses `stdout` as one JSON document and checks it against `name`'s schema.
pub fn schema_checked(name: &str, stdout: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{stdout}"));
    assert_schema(name, &doc);
    doc
}

/// `reply` as a `DEBUG DIGEST` / `DEBUG DIGEST-VALUE` digest: 40 hex
/// digits, else the test fails naming the reply. Two identical error replies
/// (DEBUG disabled, a renamed command) would otherwise compare equal.
pub fn digest_of(what: &str, reply: &str) -> String {
    assert!(
        reply.len() == 40 && reply.bytes().all(|b| b.is_ascii_hexdigit()),
        "{what}: not a 40-hex digest: {reply:?}"
    );
    reply.to_string()
}

/// A restore's `-o json` counts against the server: `databases` holds, per
/// database, the backup's count (`want`: db -> keys) and the server's
/// (`got`, read after the restore), no database missing on either side,
/// and `keys_expected`/`keys_loaded` are their sums.
pub fn assert_restore_counts(
    report: &serde_json::Value,
    want: &std::collections::BTreeMap<u64, u64>,
    got: &std::collections::BTreeMap<u64, u64>,
) {
    let dbs: std::collections::BTreeMap<u64, (u64, u64)> = report["databases"]
        .as_array()
        .unwrap_or_else(|| panic!("no databases in {report}"))
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap_or_else(|| panic!("{k} in {d}"));
            (n("db"), (n("keys_expected"), n("keys_loaded")))
        })
        .collect();
    let all: std::collections::BTreeSet<u64> = want.keys().chain(got.keys()).copied().collect();
    let expect: std::collections::BTreeMap<u64, (u64, u64)> = all
        .iter()
        .map(|db| {
            let c = |m: &std::collections::BTreeMap<u64, u64>| m.get(db).copied().unwrap_or(0);
            (*db, (c(want), c(got)))
        })
        .collect();
    assert_eq!(
        dbs, expect,
        "per-database counts (db -> (expected, loaded)) in {report}"
    );
    assert_eq!(
        report["keys_expected"],
        want.values().sum::<u64>(),
        "{report}"
    );
    assert_eq!(report["keys_loaded"], got.values().sum::<u64>(), "{report}");
}

/// The clock in Unix seconds.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// 2026-12-04T12:00:05Z from Unix seconds (via date(1), as a user types a
/// `--to-time`).
pub fn utc(secs: i64) -> String {
    let o = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}
