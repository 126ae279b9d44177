//! `kubectl redis verify FILE...`: every byte of each file checked by the
//! core's reader (structure, packed encodings, LZF, CRC-64), and compared
//! with the backup's manifest when it has one.

use crate::args::{parse_duration, Output};
use crate::env;
use crate::jobs::backup::{drive, Shell};
use crate::output;
use crate::store::rdbfile;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::backup::{Method, Plan, Url};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::rdb::inspect::checksum_text;
use kubectl_redis_core::rdb::reader::Checksum;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

pub const LONG_ABOUT: &str =
    "Check every byte of RDB files: the structure of every key and value, the \
packed encodings inside them (listpack, ziplist, intset), LZF-compressed strings, \
and the CRC-64 at the end. Reads in bounded memory whatever the file's size. When \
a backup has a manifest (FILE.json, written by `kubectl redis backup`), its size, \
sha256 and key count must match too. Exit 0 only when every file checks out.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  every file checks out\n    1  --url: the server could not be reached\n    2  a file is missing or unreadable\n    8  a file is corrupt or differs from its manifest\n    9  --url: the server refused SYNC\n\nExamples:\n  kubectl redis verify ./backups/*.rdb\n  kubectl redis verify dump.rdb -o json | jq .files[0].keys\n  kubectl redis verify --url redis://127.0.0.1:6379     # what a backup would hold, now";

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// RDB files to check
    #[arg(value_name = "FILE", required_unless_present = "url")]
    pub files: Vec<String>,
    /// Instead of files: take a snapshot of this Redis over SYNC and check it, saving nothing
    #[arg(long, value_name = "redis://HOST:PORT", conflicts_with = "files")]
    pub url: Option<String>,
    /// How long the server may take to start sending the snapshot (with --url)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Serialize)]
struct FileResult {
    file: String,
    ok: bool,
    bytes: u64,
    sha256: Option<String>,
    rdb_version: Option<u32>,
    flavor: Option<String>,
    keys: Option<u64>,
    checksum: Option<Checksum>,
    manifest: &'static str,
    #[serde(serialize_with = "error_object")]
    error: Option<String>,
    exit_code: u8,
}

/// A file's error as every document carries errors: `{message, hint}`.
fn error_object<S: serde::Serializer>(e: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let v = e.as_ref().map(|m| {
        let exit = if m.starts_with("corrupt") || m.starts_with("differs") {
            Exit::Corrupt
        } else {
            Exit::Invalid
        };
        output::error(m, hint(exit))
    });
    serde::Serialize::serialize(&v, s)
}

pub fn run(ui: &Ui, args: VerifyArgs) -> Exit {
    let mut worst = Exit::Ok;
    let mut results = Vec::new();
    for file in &args.files {
        let (r, exit) = one(Path::new(file));
        if rank(exit) > rank(worst) {
            worst = exit;
        }
        if args.output == Output::Text {
            match &r.error {
                None => println!(
                    "OK  {file}: {} RDB {}, {} keys, {}, {} bytes{}",
                    r.flavor.as_deref().unwrap_or("?").to_uppercase(),
                    r.rdb_version.unwrap_or(0),
                    r.keys.unwrap_or(0),
                    r.checksum.as_ref().map(checksum_text).unwrap_or_default(),
                    r.bytes,
                    match r.manifest {
                        "match" => ", matches its manifest",
                        _ => "",
                    }
                ),
                Some(e) => ui.error(&format!("{file}: {e}"), hint(exit)),
            }
        }
        results.push(r);
    }
    if args.output == Output::Json {
        output::print(
            ui,
            "VerifyResult",
            serde_json::json!({ "ok": worst == Exit::Ok, "files": results, "exit_code": worst.code() }),
        );
    }
    worst
}

/// `verify --url`: a snapshot over SYNC, checked as it arrives, not saved:
/// the backup machine's stream method with nothing to save.
pub async fn run_url(ui: &Ui, args: VerifyArgs) -> Exit {
    let url = args.url.clone().unwrap_or_default();
    let (host, port) = match crate::redis::parse_url(&url) {
        Ok(x) => x,
        Err(e) => {
            ui.error(
                &e,
                Some("use redis://HOST:PORT; give a password with $REDISCLI_AUTH"),
            );
            return Exit::Invalid;
        }
    };
    let auth = match crate::redis::auth::explicit(None, "", None, None).await {
        Ok(a) => a,
        Err(e) => {
            ui.error(&e, None);
            return Exit::Invalid;
        }
    };
    let label = format!("redis://{host}:{port}");
    let plan = Plan {
        namespace: String::new(),
        selector: String::new(),
        pod: None,
        container: None,
        port: None,
        out_dir: String::new(),
        started_unix: env::unix_now(),
        timeout_ms: env::millis(args.timeout),
        poll_ms: 250,
        holder: String::new(),
        context: None,
        tool: crate::commands::backup::tool(),
        lease_s: 0,
        method: Method::Stream,
        url: Some(Url { host, port }),
        credentials: crate::commands::backup::credentials(&auth),
        check_only: true,
        diskless: false,
    };
    let mut shell = Shell::new(ui, None, auth, String::new());
    let f = drive(&mut shell, plan).await;
    let v = match (&f.report, &f.error) {
        (Some(r), _) => {
            let m = &r.manifest;
            let checksum = r.checksum.as_ref().map(checksum_text).unwrap_or_default();
            if args.output == Output::Text {
                println!(
                    "OK  {label}: {} RDB {}, {} keys, {checksum}, {} bytes",
                    m.flavor.to_uppercase(),
                    m.rdb_version,
                    m.keys,
                    r.bytes
                );
            }
            serde_json::json!({"ok": true, "url": label, "bytes": r.bytes, "sha256": m.sha256,
                "rdb_version": m.rdb_version, "flavor": m.flavor, "keys": m.keys,
                "keys_per_db": m.keys_per_db, "checksum": r.checksum, "diskless": r.diskless,
                "error": null, "exit_code": 0})
        }
        (None, e) => {
            let (message, hint) = e
                .as_ref()
                .map(|e| (e.message.as_str(), e.hint.as_deref()))
                .unwrap_or(("failed", None));
            ui.error(message, hint);
            serde_json::json!({"ok": false, "url": label, "error": output::error(message, hint), "exit_code": f.exit.code()})
        }
    };
    if args.output == Output::Json {
        output::print(ui, "SnapshotCheck", v);
    }
    f.exit
}

/// Corruption outranks unreadable files, which outrank success.
fn rank(e: Exit) -> u8 {
    match e {
        Exit::Ok => 0,
        Exit::Invalid => 1,
        _ => 2,
    }
}

fn hint(e: Exit) -> Option<&'static str> {
    match e {
        Exit::Corrupt => {
            Some("do not restore this file; take a new backup, or use an older one that verifies")
        }
        _ => None,
    }
}

fn one(path: &Path) -> (FileResult, Exit) {
    let file = path.display().to_string();
    let mut r = FileResult {
        file,
        ok: false,
        bytes: 0,
        sha256: None,
        rdb_version: None,
        flavor: None,
        keys: None,
        checksum: None,
        manifest: "none",
        error: None,
        exit_code: 0,
    };
    // The SHA-256 is only needed to compare with a manifest.
    let manifest = rdbfile::manifest_for(path);
    let hash = matches!(manifest, Ok(Some(_)));
    let checked = match rdbfile::check(path, hash, &mut |_| {}) {
        Ok(c) => c,
        Err(e) => {
            r.error = Some(e);
            r.exit_code = Exit::Invalid.code();
            return (r, Exit::Invalid);
        }
    };
    r.bytes = checked.size;
    r.sha256 = checked.sha256.clone();
    let mut exit = Exit::Ok;
    match &checked.result {
        Ok(s) => {
            r.rdb_version = Some(s.header.version);
            r.flavor = Some(format!("{:?}", s.header.flavor).to_lowercase());
            r.keys = Some(s.keys());
            r.checksum = Some(s.checksum);
        }
        Err(e) => {
            r.error = Some(format!("corrupt: {e}"));
            exit = Exit::Corrupt;
        }
    }
    match manifest {
        Ok(Some(m)) => {
            let sha = checked.sha256.as_deref().unwrap_or_default();
            let d = m.differences(checked.size, sha, checked.result.as_ref().ok());
            if d.is_empty() {
                r.manifest = "match";
            } else {
                r.manifest = "mismatch";
                if exit == Exit::Ok {
                    r.error = Some(format!("differs from its manifest: {}", d.join("; ")));
                    exit = Exit::Corrupt;
                }
            }
        }
        Ok(None) => {}
        Err(e) => {
            r.manifest = "unreadable";
            if exit == Exit::Ok {
                r.error = Some(e);
                exit = Exit::Invalid;
            }
        }
    }
    r.ok = exit == Exit::Ok;
    r.exit_code = exit.code();
    (r, exit)
}
