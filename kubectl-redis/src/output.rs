//! Machine-readable output (`-o json`): one JSON document on stdout, marked
//! with `apiVersion` and `kind` as kubectl's own JSON is. Each kind has a
//! JSON Schema in the repository's `schemas/` folder, which the tests check
//! real outputs against. Errors are `{"message": ..., "hint": ...}` objects
//! under `error`.

use crate::ui::Ui;
use serde_json::{json, Map, Value};

/// The version of every document's schema.
pub const API_VERSION: &str = "kubectl-redis.io/v1";

/// `fields` (an object) as a document of `kind`, printed on stdout.
pub fn print(ui: &Ui, kind: &str, fields: Value) {
    // In an `--in-cluster` run's pod: on one line, marked, among the
    // progress lines its log also holds.
    if std::env::var_os(kubectl_redis_core::ops::job::ENV_RESULT_LINE).is_some() {
        match serde_json::to_string(&document(kind, fields)) {
            Ok(s) => {
                println!("{}{s}", kubectl_redis_core::ops::job::RESULT_PREFIX);
                // Also the pod's termination message (at most 4 KiB), which
                // `runs` shows without reading the log.
                if s.len() <= 4096 {
                    let _ = std::fs::write("/dev/termination-log", &s);
                }
            }
            Err(e) => ui.error(&format!("cannot encode the result: {e}"), None),
        }
        return;
    }
    match serde_json::to_string_pretty(&document(kind, fields)) {
        Ok(s) => println!("{s}"),
        Err(e) => ui.error(&format!("cannot encode the result: {e}"), None),
    }
}

/// `fields` with `apiVersion` and `kind` in front.
pub fn document(kind: &str, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("apiVersion".into(), API_VERSION.into());
    m.insert("kind".into(), kind.into());
    if let Value::Object(o) = fields {
        m.extend(o);
    }
    Value::Object(m)
}

/// A failure before there is anything else to say: `error` and `exit_code`.
pub fn failure(
    ui: &Ui,
    kind: &str,
    exit: kubectl_redis_core::exit::Exit,
    message: &str,
    hint: Option<&str>,
) {
    print(
        ui,
        kind,
        json!({ "error": error(message, hint), "exit_code": exit.code() }),
    );
}

/// An error as every document carries it.
pub fn error(message: &str, hint: Option<&str>) -> Value {
    json!({ "message": message, "hint": hint })
}
