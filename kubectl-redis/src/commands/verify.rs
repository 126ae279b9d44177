//! `kubectl redis verify FILE...`: every byte of each file checked by the
//! core's reader (structure, packed encodings, LZF, CRC-64), and compared
//! with the backup's manifest when it has one.

use crate::args::{parse_duration, Output};
use crate::env;
use crate::jobs::backup::{drive, Shell};
use crate::output;
use crate::store::crypt::Identities;
use crate::store::source::{self, ReadFail, Source};
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::backup::{Method, Plan, Url};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::rdb::inspect::checksum_text;
use kubectl_redis_core::rdb::reader::Checksum;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

pub const LONG_ABOUT: &str =
    "Check every byte of RDB files: the structure of every key and value, the \
packed encodings inside them (listpack, ziplist, intset), LZF-compressed strings, \
and the CRC-64 at the end. Reads in bounded memory whatever the file's size. When \
a backup has a manifest (FILE.json, written by `kubectl redis backup`), its size, \
sha256 and key count must match too. Exit 0 only when every file checks out.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  every file checks out\n    1  --url: the server could not be reached\n    2  a file is missing or unreadable; --archive: no such archive\n    8  a file is corrupt or differs from its manifest; --archive: a segment is, or does not continue its chain\n    9  --url: the server refused SYNC\n   12  object storage could not be read\n   13  an encrypted file needs a key that was not given, or none fits\n\nExamples:\n  kubectl redis verify ./backups/*.rdb\n  kubectl redis verify --archive --repo s3://backups/prod --identity key.txt   # every chain, every segment\n  kubectl redis verify dump.rdb -o json | jq .files[0].keys\n  kubectl redis verify --url redis://127.0.0.1:6379     # what a backup would hold, now";

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Backups to check: paths, or URLs in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://)
    #[arg(value_name = "FILE|URL", required_unless_present_any = ["url", "archive"])]
    pub files: Vec<String>,
    /// Check the point-in-time archive NAME in --repo whole (every archive when no NAME is given): each chain's base as a backup, and every segment's sha256, its offsets continuing the one before, every command parsed
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["files", "url"])]
    pub archive: Option<String>,
    /// The repository holding the archive (with --archive) [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR|URL", requires = "archive")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub keys: crate::keys::KeyArgs,
    /// Instead of files: take a snapshot of this Redis over SYNC and check it, saving nothing
    #[arg(long, value_name = "redis[s]://HOST:PORT", conflicts_with = "files")]
    pub url: Option<String>,
    /// How long the server may take to start sending the snapshot (with --url)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub tls: crate::args::TlsArgs,
    #[command(flatten)]
    pub in_cluster: crate::jobs::in_cluster::InClusterArgs,
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
    /// The stored bytes are an age file.
    encrypted: bool,
    /// `every-byte`: the RDB was read whole; `stored-bytes`: an encrypted
    /// file checked against its manifest without a key.
    checked: &'static str,
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

pub async fn run(ui: &Ui, kube: &crate::args::KubeArgs, args: VerifyArgs) -> Exit {
    if args.in_cluster.in_cluster {
        return in_cluster(ui, kube, &args).await;
    }
    let mut worst = Exit::Ok;
    let mut results = Vec::new();
    let ids = match args.keys.load(kube).await {
        Ok(i) => Arc::new(i),
        Err(e) => {
            ui.error(
                &e,
                Some("give an age identity file or an unencrypted SSH private key"),
            );
            return Exit::Invalid;
        }
    };
    let mut chains = Vec::new();
    let mut files = args.files.clone();
    if let Some(a) = &args.archive {
        match archive_chains(ui, args.repo.clone(), a, &ids, args.output).await {
            Ok((bases, c, exit)) => {
                files = bases;
                chains = c;
                worst = exit;
            }
            Err((exit, p)) => {
                ui.error(&p.message, Some(&p.hint));
                if args.output == Output::Json {
                    output::print(
                        ui,
                        "VerifyResult",
                        serde_json::json!({ "ok": false, "files": [], "chains": [], "error": output::error(&p.message, Some(&p.hint)), "exit_code": exit.code() }),
                    );
                }
                return exit;
            }
        }
    }
    // A backup set: its manifest read, its shards covering every slot
    // once, then each shard's file checked as any file.
    let mut sets = Vec::new();
    let mut expanded = Vec::new();
    for f in files {
        let Some((repo, set)) = crate::commands::restore::set_location(&f) else {
            expanded.push(f);
            continue;
        };
        let (exit, error, shards, keys) = match crate::commands::restore::set_manifest(&repo, &set)
            .await
        {
            Ok(m) => {
                let ranges: Vec<[u16; 2]> = m.shards.iter().flat_map(|s| s.slots.clone()).collect();
                expanded.extend(m.shards.iter().map(|s| repo.location(&s.file)));
                match kubectl_redis_core::store::set::coverage(&ranges) {
                    Ok(()) => (Exit::Ok, None, m.shards.len(), m.keys),
                    Err(e) => (
                        Exit::Corrupt,
                        Some(format!("its shards {e}")),
                        m.shards.len(),
                        m.keys,
                    ),
                }
            }
            Err((exit, p)) => (exit, Some(p.message), 0, 0),
        };
        if rank(exit) > rank(worst) {
            worst = exit;
        }
        if args.output == Output::Text {
            match &error {
                None => {
                    println!("SET {f}: {shards} shards, {keys} keys, every slot once; its shards:")
                }
                Some(e) => ui.error(&format!("{f}: {e}"), hint(exit)),
            }
        }
        sets.push(serde_json::json!({
            "set": f, "ok": error.is_none(), "shards": shards, "keys": keys,
            "error": error.as_ref().map(|e| output::error(e, hint(exit))),
            "exit_code": exit.code(),
        }));
    }
    let files = expanded;
    for file in &files {
        let (r, exit) = one(file, ids.clone()).await;
        if rank(exit) > rank(worst) {
            worst = exit;
        }
        // A backup decrypted with a key: the read goes into its
        // repository's audit trail.
        if r.encrypted && r.checked == "every-byte" && r.error.is_none() {
            if let Ok(src) = Source::open(file) {
                crate::audit::read_of(ui, &src, "verify", r.sha256.as_deref(), None).await;
            }
        }
        if args.output == Output::Text {
            match &r.error {
                None if r.checked == "stored-bytes" => println!(
                    "OK  {file}: encrypted, {} bytes, sha256 matches its manifest (stored bytes only; give --identity to check every byte)",
                    r.bytes
                ),
                None => println!(
                    "OK  {file}: {}{} RDB {}, {} keys, {}, {} bytes{}",
                    if r.encrypted { "encrypted, " } else { "" },
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
            serde_json::json!({ "ok": worst == Exit::Ok, "files": results, "chains": chains, "sets": sets, "error": null, "exit_code": worst.code() }),
        );
    }
    worst
}

/// One chain of a point-in-time archive, as `verify --archive -o json`
/// prints it.
#[derive(Serialize)]
struct ChainResult {
    archive: String,
    base: String,
    ok: bool,
    from: String,
    to: String,
    segments: usize,
    commands: u64,
    /// `every-byte`: every segment decrypted and parsed; `stored-bytes`:
    /// encrypted segments checked against their manifests without a key.
    checked: &'static str,
    /// Segments of the base that do not continue its chain.
    broken: Vec<String>,
    #[serde(serialize_with = "error_object")]
    error: Option<String>,
    exit_code: u8,
}

/// `verify --archive`: every chain of the archive(s) checked; returns the
/// bases to check as backups, each chain's result and the worst exit.
async fn archive_chains(
    ui: &Ui,
    repo: Option<String>,
    archive: &str,
    ids: &Identities,
    out: Output,
) -> Result<(Vec<String>, Vec<ChainResult>, Exit), (Exit, crate::store::repo::Problem)> {
    use crate::archive::{replay, store};
    use kubectl_redis_core::store::names::rfc3339;
    let repo =
        crate::store::repo::Repo::open(&env::out_dir(repo)).map_err(|p| (Exit::Invalid, p))?;
    let names = if archive.is_empty() {
        store::archive_names(&repo)
            .await
            .map_err(|p| (Exit::Storage, p))?
    } else {
        vec![archive.to_string()]
    };
    if names.is_empty() {
        return Err((
            Exit::Invalid,
            crate::store::repo::Problem::new(
                format!("{} holds no archive (no pitr/ segments)", repo.display()),
                "name the repository with --repo (or $KUBECTL_REDIS_REPO)",
            ),
        ));
    }
    let (mut bases, mut results, mut worst) = (Vec::new(), Vec::new(), Exit::Ok);
    for a in &names {
        let (chains, manifests) = store::chains(&repo, a)
            .await
            .map_err(|p| (Exit::Storage, p))?;
        if chains.is_empty() {
            return Err((
                Exit::Invalid,
                crate::store::repo::Problem::new(
                    format!("archive {a} has no base in {}", repo.display()),
                    "see the archives with `kubectl redis list --repo ...`",
                ),
            ));
        }
        for c in &chains {
            bases.push(repo.location(&c.base.name));
            let mut r = ChainResult {
                archive: a.clone(),
                base: c.base.name.clone(),
                ok: true,
                from: rfc3339(c.from_s()),
                to: rfc3339(c.to_s()),
                segments: c.segments.len(),
                commands: c.commands(),
                checked: "every-byte",
                broken: c.broken.clone(),
                error: None,
                exit_code: 0,
            };
            let mut exit = Exit::Ok;
            for s in &c.segments {
                let Some(m) = manifests.get(&s.name) else {
                    continue;
                };
                // Its own manifest, not only the pack's copy of it.
                let mname = kubectl_redis_core::pitr::segment_manifest_name(&s.name);
                let own = store::get(&repo, &mname)
                    .await
                    .map_err(|p| (Exit::Storage, p))?;
                if serde_json::from_slice::<kubectl_redis_core::pitr::SegmentManifest>(&own)
                    .ok()
                    .as_ref()
                    != Some(m)
                {
                    r.error = Some(format!("corrupt: segment {}: its manifest {mname} does not parse or differs from the pack's copy", s.name));
                    exit = Exit::Corrupt;
                    break;
                }
                match replay::check_segment(&repo, &s.name, m, ids).await {
                    Ok((Some(_), _)) => {}
                    Ok((None, _)) => r.checked = "stored-bytes",
                    Err((e, p)) => {
                        r.error = Some(match e {
                            Exit::Corrupt => format!("corrupt: {}", p.message),
                            _ => p.message,
                        });
                        exit = e;
                        break;
                    }
                }
            }
            if exit == Exit::Ok && !c.broken.is_empty() {
                r.error = Some(format!(
                    "corrupt: {} segment(s) do not continue the chain: {}",
                    c.broken.len(),
                    c.broken.join(", ")
                ));
                exit = Exit::Corrupt;
            }
            r.ok = exit == Exit::Ok;
            r.exit_code = exit.code();
            if rank(exit) > rank(worst) {
                worst = exit;
            }
            if out == Output::Text {
                match &r.error {
                    None => println!(
                        "OK  archive {a}, chain of {}: {} .. {}, {} segments, {} commands, offsets {}..={} without a gap{}",
                        r.base,
                        r.from,
                        r.to,
                        r.segments,
                        r.commands,
                        c.base.offset + 1,
                        c.last_offset(),
                        if r.checked == "stored-bytes" {
                            " (encrypted: stored bytes only; give --identity to parse every command)"
                        } else {
                            ", every command parsed"
                        }
                    ),
                    Some(e) => ui.error(&format!("archive {a}, chain of {}: {e}", r.base), hint(exit)),
                }
            }
            results.push(r);
        }
    }
    Ok((bases, results, worst))
}

/// `verify --url`: a snapshot over SYNC, checked as it arrives, not saved:
/// the backup machine's stream method with nothing to save.
pub async fn run_url(ui: &Ui, args: VerifyArgs) -> Exit {
    let url = args.url.clone().unwrap_or_default();
    let (host, port) = match crate::redis::parse_url(&url).and_then(|(host, port)| {
        crate::redis::allow_hosts(kubectl_redis_core::topo::hosts::Allowed::new(&host, &[])?);
        Ok((host, port))
    }) {
        Ok(x) => x,
        Err(e) => {
            ui.error(
                &e,
                Some("use redis://HOST:PORT; give a password with $REDISCLI_AUTH"),
            );
            return Exit::Invalid;
        }
    };
    if let Err(e) = crate::redis::tls::setup(&args.tls, crate::redis::url_tls(&url), None).await {
        ui.error(
            &e,
            Some("see the TLS flags in `kubectl redis verify --help`"),
        );
        return Exit::Invalid;
    }
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
        tool: crate::env::tool(),
        lease_s: 0,
        method: Method::Stream,
        url: Some(Url { host, port }),
        credentials: crate::commands::backup::credentials(&auth),
        check_only: true,
        diskless: false,
        recipients: Vec::new(),
        from: kubectl_redis_core::kube::pods::Prefer::Primary,
        locked_outside: false,
    };
    let mut shell = Shell::new(
        ui,
        None,
        auth,
        String::new(),
        crate::store::repo::Repo::Local(String::new()),
        None,
    );
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

/// Corruption outranks missing keys and unreachable storage, which
/// outrank unreadable files, which outrank success.
fn rank(e: Exit) -> u8 {
    match e {
        Exit::Ok => 0,
        Exit::Invalid => 1,
        Exit::Key | Exit::Storage => 2,
        _ => 3,
    }
}

fn hint(e: Exit) -> Option<&'static str> {
    match e {
        Exit::Corrupt => {
            Some("do not restore this file; take a new backup, or use an older one that verifies")
        }
        Exit::Key => Some(crate::keys::KEY_HINT),
        Exit::Storage => Some("check the URL, the credentials and the endpoint"),
        _ => None,
    }
}

async fn one(loc: &str, ids: Arc<Identities>) -> (FileResult, Exit) {
    let mut r = FileResult {
        file: loc.to_string(),
        ok: false,
        bytes: 0,
        sha256: None,
        rdb_version: None,
        flavor: None,
        keys: None,
        checksum: None,
        encrypted: false,
        checked: "every-byte",
        manifest: "none",
        error: None,
        exit_code: 0,
    };
    let fail = |mut r: FileResult, exit: Exit, e: String| {
        r.error = Some(e);
        r.exit_code = exit.code();
        (r, exit)
    };
    let src = match Source::open(loc) {
        Ok(s) => s,
        Err(p) => return fail(r, Exit::Invalid, p.message),
    };
    let remote = matches!(src, Source::Remote { .. });
    let io_exit = if remote { Exit::Storage } else { Exit::Invalid };
    let manifest = src.manifest().await;
    // The SHA-256 is only needed to compare with a manifest.
    let hash = matches!(manifest, Ok(Some(_)));
    // A key held by KMS: every byte is checked when Decrypt is allowed
    // (else the stored bytes, as without a key).
    let ids = match (&manifest, ids.is_empty()) {
        (Ok(Some(m)), true) if loc.ends_with(".age") => {
            crate::store::kms::identities_for(&ids, Some(m))
                .await
                .unwrap_or(ids)
        }
        _ => ids,
    };
    let raw = match src.reader().await {
        Ok(x) => x,
        Err(p) => return fail(r, io_exit, p.message),
    };
    let read =
        tokio::task::spawn_blocking(move || source::read(raw, &ids, hash, &mut |_| {})).await;
    let read = match read {
        Ok(Ok(x)) => x,
        Ok(Err(ReadFail::Io(e))) => return fail(r, io_exit, format!("reading {loc}: {e}")),
        Ok(Err(ReadFail::Key(e))) => {
            r.encrypted = true;
            return fail(r, Exit::Key, e);
        }
        Ok(Err(ReadFail::Corrupt(e))) => {
            r.encrypted = true;
            return fail(r, Exit::Corrupt, format!("corrupt: {e}"));
        }
        Err(e) => return fail(r, Exit::Error, format!("internal error: {e}")),
    };
    r.encrypted = read.encrypted;
    r.bytes = read.stored_size;
    r.sha256 = (!read.stored_sha256.is_empty()).then(|| read.stored_sha256.clone());
    let mut exit = Exit::Ok;
    match &read.plain {
        Some(p) => match &p.result {
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
        },
        None => r.checked = "stored-bytes",
    }
    match manifest {
        Ok(Some(m)) => {
            let d = source::differences(&m, &read);
            if d.is_empty() {
                r.manifest = "match";
                if r.keys.is_none() {
                    r.keys = Some(m.keys);
                }
            } else {
                r.manifest = "mismatch";
                if exit == Exit::Ok {
                    r.error = Some(format!("differs from its manifest: {}", d.join("; ")));
                    exit = Exit::Corrupt;
                }
            }
        }
        Ok(None) => {
            if read.plain.is_none() && exit == Exit::Ok {
                r.error = Some(
                    "the backup is encrypted and has no manifest to check it against without a key"
                        .into(),
                );
                exit = Exit::Key;
            }
        }
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

/// `verify --in-cluster`: the files (or an archive's chains) checked by a
/// Job, read inside the cluster (a Role that may read only the Secrets it
/// names).
async fn in_cluster(ui: &Ui, kube: &crate::args::KubeArgs, args: &VerifyArgs) -> Exit {
    use crate::jobs::in_cluster::{self, reachable, Argv, Plan, UNREACHABLE_HINT};
    let output = args.output;
    let fail = |message: String, hint: &str| {
        ui.error(&message, Some(hint));
        if output == Output::Json {
            output::failure(ui, "VerifyResult", Exit::Invalid, &message, Some(hint));
        }
        Exit::Invalid
    };
    let k = &args.keys;
    let local: [(bool, &str, &str); 3] = [
        (
            !k.identity.is_empty(),
            "--identity",
            "put the identity in a Secret: --identity-from-secret NAME/KEY",
        ),
        (
            k.passphrase_file.is_some(),
            "--passphrase-file",
            "use --passphrase-from-secret NAME/KEY",
        ),
        (
            args.url.is_some(),
            "--url",
            "verify --url reads a live server from here; run it without --in-cluster",
        ),
    ];
    if let Some((flag, hint)) = in_cluster::local_flag(&local) {
        return fail(format!("{flag} cannot be used with --in-cluster"), hint);
    }
    for r in args.files.iter().chain(args.repo.iter()) {
        if !reachable(&args.in_cluster, r) {
            return fail(
                format!("--in-cluster verifies inside the cluster, and {r} is on this machine"),
                UNREACHABLE_HINT,
            );
        }
    }
    let mut a = Argv::new(&["verify"]);
    a.0.extend(args.files.iter().cloned());
    if let Some(name) = &args.archive {
        a.switch("--archive", true);
        a.0.extend((!name.is_empty()).then(|| name.clone()));
    }
    a.opt("--repo", args.repo.clone());
    let secrets = in_cluster::key_flags(k, &mut a);
    let plan = Plan {
        command: "verify".into(),
        args: a.0,
        rules: kubectl_redis_core::ops::job::repository_rules(&secrets),
        node: None,
    };
    let text = |v: &serde_json::Value| {
        for f in v["files"].as_array().into_iter().flatten() {
            let file = f["file"].as_str().unwrap_or_default();
            match f["error"]["message"].as_str() {
                None => println!(
                    "OK  {file}: {} keys, {} bytes ({})",
                    f["keys"].as_u64().unwrap_or(0),
                    f["bytes"].as_u64().unwrap_or(0),
                    f["checked"].as_str().unwrap_or_default()
                ),
                Some(e) => println!("FAIL  {file}: {e}"),
            }
        }
    };
    in_cluster::run(
        ui,
        kube,
        &args.in_cluster,
        plan,
        output,
        "VerifyResult",
        &text,
    )
    .await
}
