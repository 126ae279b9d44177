//! `kubectl redis verify FILE...`: every byte of each file checked by the
//! core's reader (structure, packed encodings, LZF, CRC-64), and compared
//! with the backup's manifest when it has one.

use crate::cli::{Output, VerifyArgs};
use crate::rdbfile;
use crate::ui::Ui;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::inspect::checksum_text;
use kubectl_redis_core::reader::Checksum;
use serde::Serialize;
use std::path::Path;

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
    error: Option<String>,
    exit_code: u8,
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
        let v = serde_json::json!({ "ok": worst == Exit::Ok, "files": results, "exit_code": worst.code() });
        match serde_json::to_string_pretty(&v) {
            Ok(s) => println!("{s}"),
            Err(e) => ui.error(&format!("cannot encode the result: {e}"), None),
        }
    }
    worst
}

/// `verify --url`: a snapshot over SYNC, checked as it arrives, not saved.
pub async fn run_url(ui: &Ui, args: VerifyArgs) -> Exit {
    let url = args.url.clone().unwrap_or_default();
    let (host, port) = match crate::backup::parse_url(&url) {
        Ok(x) => x,
        Err(e) => {
            ui.error(
                &e,
                Some("use redis://HOST:PORT; give a password with $REDISCLI_AUTH"),
            );
            return Exit::Invalid;
        }
    };
    let auth = match crate::auth::explicit(None, "", None, None).await {
        Ok(a) => a,
        Err(e) => {
            ui.error(&e, None);
            return Exit::Invalid;
        }
    };
    let mut conn = match tokio::net::TcpStream::connect((host.as_str(), port)).await {
        Ok(c) => c,
        Err(e) => {
            ui.error(
                &format!("cannot connect to {host}:{port}: {e}"),
                Some("check the address"),
            );
            return Exit::Error;
        }
    };
    let label = format!("redis://{host}:{port}");
    let r = crate::stream::download(
        ui,
        &mut conn,
        &auth,
        tokio::io::sink(),
        &label,
        args.timeout,
    )
    .await;
    let (exit, v) = match r {
        Ok((s, sha, _, bytes)) => {
            if args.output == Output::Text {
                println!(
                    "OK  {label}: {} RDB {}, {} keys, {}, {bytes} bytes",
                    format!("{:?}", s.header.flavor).to_uppercase(),
                    s.header.version,
                    s.keys(),
                    checksum_text(&s.checksum)
                );
            }
            (
                Exit::Ok,
                serde_json::json!({"ok": true, "url": label, "bytes": bytes, "sha256": sha,
                    "rdb_version": s.header.version, "keys": s.keys(), "checksum": s.checksum, "exit_code": 0}),
            )
        }
        Err(crate::stream::Failed::Refused { message, hint }) => {
            ui.error(&message, Some(&hint));
            (
                Exit::SyncRefused,
                serde_json::json!({"ok": false, "url": label, "error": message, "exit_code": 9}),
            )
        }
        Err(crate::stream::Failed::Other {
            exit,
            message,
            hint,
        }) => {
            ui.error(&message, hint.as_deref());
            (
                exit,
                serde_json::json!({"ok": false, "url": label, "error": message, "exit_code": exit.code()}),
            )
        }
    };
    if args.output == Output::Json {
        if let Ok(s) = serde_json::to_string_pretty(&v) {
            println!("{s}");
        }
    }
    exit
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
