//! Shared by the test suites: the `-o json` schema check.

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
