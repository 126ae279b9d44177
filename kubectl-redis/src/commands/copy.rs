//! `kubectl redis copy SRC DST`: backups from one repository to another
//! (local, S3, GCS, Azure, any direction), checked on the way, skipping
//! what is already there: the runbook's multi-region copies.

use crate::args::Output;
use crate::commands::backup::recipients_for;
use crate::store::crypt::{Identities, Recipients};
use crate::store::put::Put;
use crate::store::repo::{Problem, Repo};
use crate::store::source::{self, ReadFail, Source};
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::store::manifest::{self, Manifest};
use kubectl_redis_core::store::names;
use std::io::Read;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

pub const LONG_ABOUT: &str = "Copy backups from one repository to another: local \
directories, s3://, gs://, az://, in any direction. Each backup streams from the \
source to the destination (no local copy), its stored bytes checked against its \
manifest (sha256) and, when it is plaintext or an identity is given, every byte of \
the RDB verified; the copy is read back, and its manifest is written last, so a \
copy broken off counts for nothing. Backups already at the destination with the \
same sha256 are skipped. Encrypted backups are copied as they are (no key \
needed); --encrypt-to encrypts plaintext ones on the way (or, with --identity, \
re-encrypts encrypted ones to new recipients).";

pub const AFTER_HELP: &str = "Exit codes:\n    0  every backup copied or already there\n    2  bad arguments, a backup not found, or plaintext to object storage without --encrypt-to / --no-encrypt\n    8  a source backup is corrupt or differs from its manifest (not copied)\n   12  a repository refused or could not be reached (the others were copied)\n   13  re-encrypting needs an identity that fits\n\nExamples:\n  kubectl redis copy ./backups s3://backups-eu/prod --latest 1 --encrypt-to age1...\n  kubectl redis copy s3://backups-us/prod az://backups-eu/prod      # every backup, skipping those there\n  kubectl redis copy s3://a/prod gs://b/prod redis-backup-20251024_180500.rdb.age";

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Source repository: a directory or URL (s3://BUCKET/PREFIX, gs://..., az://...)
    #[arg(value_name = "SRC")]
    pub source: String,
    /// Destination repository: a directory or URL
    #[arg(value_name = "DST")]
    pub destination: String,
    /// Backups to copy, by file name (default: every backup in SRC)
    #[arg(value_name = "NAME", conflicts_with = "latest")]
    pub names: Vec<String>,
    /// Copy only the newest N backups
    #[arg(long, value_name = "N")]
    pub latest: Option<usize>,
    /// Encrypt plaintext backups with age to this recipient on the way (age1... or SSH public key); repeatable
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Encrypt to every recipient in this file; repeatable
    #[arg(long, value_name = "FILE")]
    pub encrypt_to_file: Vec<String>,
    /// Copy plaintext backups into object storage as plaintext
    #[arg(long, conflicts_with_all = ["encrypt_to", "encrypt_to_file"])]
    pub no_encrypt: bool,
    #[command(flatten)]
    pub keys: crate::keys::KeyArgs,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(serde::Serialize)]
pub(crate) struct Copied {
    pub file: String,
    pub destination: String,
    pub bytes: u64,
    pub sha256: String,
    pub encrypted: bool,
}

pub async fn run(ui: &Ui, kube: &crate::args::KubeArgs, args: CopyArgs) -> Exit {
    let json = args.output == Output::Json;
    let fail = |exit: Exit, p: &Problem| {
        ui.error(&p.message, Some(&p.hint));
        if json {
            crate::output::failure(ui, "CopyResult", exit, &p.message, Some(&p.hint));
        }
        exit
    };
    let src = match Repo::open(&args.source) {
        Ok(r) => r,
        Err(p) => return fail(Exit::Invalid, &p),
    };
    let dst = match Repo::open(&args.destination) {
        Ok(r) => r,
        Err(p) => return fail(Exit::Invalid, &p),
    };
    if src.display() == dst.display() {
        return fail(
            Exit::Invalid,
            &Problem {
                message: "the source and the destination are the same repository".into(),
                hint: "name two different repositories".into(),
            },
        );
    }
    let storage = |r: &Repo| match r {
        Repo::Remote(_) => Exit::Storage,
        Repo::Local(_) => Exit::Error,
    };
    let listing = match src.listing().await {
        Ok(l) => l,
        Err(p) => return fail(storage(&src), &p),
    };
    if let Repo::Remote(r) = &dst {
        if let Err(p) = r.preflight().await {
            return fail(Exit::Storage, &p);
        }
    }
    let ids = match args.keys.load(kube).await {
        Ok(i) => Arc::new(i),
        Err(e) => {
            return fail(
                Exit::Invalid,
                &Problem {
                    message: e,
                    hint: "give an age identity file or an unencrypted SSH private key".into(),
                },
            )
        }
    };
    // Which backups.
    let mut chosen: Vec<String> = Vec::new();
    if args.names.is_empty() {
        let n = args.latest.unwrap_or(usize::MAX);
        chosen.extend(listing.backups.iter().take(n).map(|b| b.file.clone()));
    } else {
        for n in &args.names {
            if !listing.backups.iter().any(|b| &b.file == n) {
                return fail(
                    Exit::Invalid,
                    &Problem {
                        message: format!("{n} is not a backup in {}", src.display()),
                        hint: format!("see `kubectl redis list --repo {}`", src.display()),
                    },
                );
            }
            chosen.push(n.clone());
        }
    }
    // Whom plaintext is encrypted to at the destination.
    let any_plain = chosen.iter().any(|n| !names::is_encrypted_name(n));
    let recipients = if any_plain || !args.encrypt_to.is_empty() || !args.encrypt_to_file.is_empty()
    {
        match recipients_for(
            &dst,
            &args.encrypt_to,
            &args.encrypt_to_file,
            args.no_encrypt,
        )
        .await
        {
            Ok(r) => r,
            Err((exit, p)) => return fail(exit, &p),
        }
    } else {
        None
    };
    let dst_listing = match dst.listing().await {
        Ok(l) => l,
        Err(p) => return fail(storage(&dst), &p),
    };
    let mut copied = Vec::new();
    let mut skipped = Vec::new();
    let mut errors: Vec<serde_json::Value> = Vec::new();
    let mut worst = Exit::Ok;
    for name in &chosen {
        let src_loc = match &src {
            Repo::Local(d) => Source::Local(std::path::Path::new(d).join(name)),
            Repo::Remote(r) => Source::Remote {
                remote: r.clone(),
                name: name.clone(),
            },
        };
        let m = src_loc.manifest().await.ok().flatten();
        let encrypted = names::is_encrypted_name(name);
        // Re-encrypt only plaintext, or encrypted backups when asked (with an identity).
        let reencrypt = recipients.is_some()
            && (!encrypted || (!args.encrypt_to.is_empty() || !args.encrypt_to_file.is_empty()));
        let out_name = if reencrypt && !encrypted {
            format!("{name}.age")
        } else {
            name.clone()
        };
        if let Some(there) = dst_listing.backups.iter().find(|b| b.file == out_name) {
            let same = match (&m, dst_manifest(&dst, &there.file).await) {
                (Some(a), Some(b)) if !reencrypt => a.stored() == b.stored(),
                (Some(a), Some(b)) => a.sha256 == b.sha256,
                _ => false,
            };
            if same {
                if !json {
                    ui.note(&format!("{out_name}: already in {}", dst.display()));
                }
                skipped.push(out_name);
                continue;
            }
            let p = Problem {
                message: format!(
                    "{out_name} exists in {} and differs from the source",
                    dst.display()
                ),
                hint: "nothing is overwritten; remove it there first if it is wrong".into(),
            };
            ui.error(&p.message, Some(&p.hint));
            errors.push(crate::output::error(&p.message, Some(&p.hint)));
            worst = worse(worst, Exit::Invalid);
            continue;
        }
        if !json {
            ui.note(&format!(
                "{name} -> {}/{out_name}{}",
                dst.display(),
                if reencrypt { " (encrypting)" } else { "" }
            ));
        }
        match copy_one(
            &src_loc,
            m,
            &dst,
            &out_name,
            reencrypt.then_some(()).and(recipients.as_ref()),
            &ids,
            &|_| {},
        )
        .await
        {
            Ok(c) => copied.push(c),
            Err((exit, p)) => {
                ui.error(&format!("{name}: {}", p.message), Some(&p.hint));
                errors.push(crate::output::error(
                    &format!("{name}: {}", p.message),
                    Some(&p.hint),
                ));
                worst = worse(worst, exit);
            }
        }
    }
    if json {
        crate::output::print(
            ui,
            "CopyResult",
            serde_json::json!({
                "source": src.display(), "destination": dst.display(),
                "copied": copied, "skipped": skipped, "errors": errors,
                "exit_code": worst.code(),
            }),
        );
    } else {
        for c in &copied {
            println!("{}", c.destination);
        }
        ui.note(&format!(
            "{} copied, {} already there, {} failed",
            copied.len(),
            skipped.len(),
            errors.len()
        ));
    }
    worst
}

fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::Invalid => 1,
        Exit::Key | Exit::Storage | Exit::Error => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

async fn dst_manifest(dst: &Repo, name: &str) -> Option<Manifest> {
    match dst {
        Repo::Local(d) => crate::store::rdbfile::manifest_for(&std::path::Path::new(d).join(name))
            .ok()
            .flatten(),
        Repo::Remote(r) => r.manifest(name).await.ok().flatten(),
    }
}

/// The error a [`ChannelWriter`] gives once its receiver has gone.
pub(crate) const STOPPED: &str = "the destination stopped";

/// Writes into a tokio channel from a blocking thread, in 1 MiB chunks.
pub(crate) struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub(crate) fn new(tx: tokio::sync::mpsc::Sender<Vec<u8>>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(1 << 20),
        }
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 1 << 20 {
            self.flush()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = std::mem::take(&mut self.buf);
            self.tx
                .blocking_send(chunk)
                .map_err(|_| std::io::Error::other(STOPPED))?;
        }
        Ok(())
    }
}

/// Copies the raw bytes it reads to a writer (a byte-identical copy).
struct Tee<R> {
    inner: R,
    out: ChannelWriter,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        std::io::Write::write_all(&mut self.out, &buf[..n])?;
        if n == 0 {
            std::io::Write::flush(&mut self.out)?;
        }
        Ok(n)
    }
}

/// Copies one backup; `adjust` may change the manifest before it is
/// written (a cluster backup records its shards).
pub(crate) async fn copy_one(
    src: &Source,
    manifest: Option<Manifest>,
    dst: &Repo,
    out_name: &str,
    encrypt: Option<&Recipients>,
    ids: &Arc<Identities>,
    adjust: &dyn Fn(&mut Manifest),
) -> Result<Copied, (Exit, Problem)> {
    let raw = src.reader().await.map_err(|p| {
        let e = match src {
            Source::Remote { .. } => Exit::Storage,
            Source::Local(_) => Exit::Invalid,
        };
        (e, p)
    })?;
    copy_from(
        raw,
        &src.display(),
        manifest,
        dst,
        out_name,
        encrypt,
        ids,
        adjust,
    )
    .await
}

/// As [`copy_one`], from bytes read from `raw` (named `src_name` in
/// errors): a file, or a stream made as it is read (the merged shards of a
/// cluster backup).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn copy_from(
    raw: Box<dyn Read + Send>,
    src_name: &str,
    manifest: Option<Manifest>,
    dst: &Repo,
    out_name: &str,
    encrypt: Option<&Recipients>,
    ids: &Arc<Identities>,
    adjust: &dyn Fn(&mut Manifest),
) -> Result<Copied, (Exit, Problem)> {
    let dst_exit = match dst {
        Repo::Remote(_) => Exit::Storage,
        Repo::Local(_) => Exit::Error,
    };
    let mut put = Put::begin(dst, out_name, &format!(".{out_name}."), encrypt)
        .await
        .map_err(|m| {
            (
                dst_exit,
                Problem {
                    message: m,
                    hint: "check the destination".into(),
                },
            )
        })?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let reencrypt = encrypt.is_some();
    // The identities go to the blocking thread only when decrypting.
    let owned_ids = reencrypt.then(|| ids.clone());
    // A manifest (written after the backup was verified) whose sha256 must
    // match makes hashing enough; without one, every byte is read as RDB.
    let verify = manifest.is_none();
    let reader = tokio::task::spawn_blocking(move || {
        let out = ChannelWriter::new(tx);
        match owned_ids {
            // Plaintext out, encrypted by the destination's sink.
            Some(ids) => {
                let mut out = out;
                let r = source::read_into(raw, &ids, true, verify, &mut |_| {}, Some(&mut out));
                let f = std::io::Write::flush(&mut out);
                (r, f)
            }
            // The stored bytes as they are.
            None => {
                let tee = Tee { inner: raw, out };
                let r = source::read_into(
                    Box::new(tee),
                    &Identities::none(),
                    true,
                    verify,
                    &mut |_| {},
                    None,
                );
                (r, Ok(()))
            }
        }
    });
    let mut write_err = None;
    while let Some(chunk) = rx.recv().await {
        if write_err.is_none() {
            if let Err(e) = put.sink.write_all(&chunk).await {
                write_err = Some(e);
            }
        }
    }
    let (read, flushed) = match reader.await {
        Ok(x) => x,
        Err(e) => {
            put.abort().await;
            return Err((
                Exit::Error,
                Problem {
                    message: format!("internal error: {e}"),
                    hint: String::new(),
                },
            ));
        }
    };
    let bad = |exit: Exit, message: String, hint: &str| {
        (
            exit,
            Problem {
                message,
                hint: hint.to_string(),
            },
        )
    };
    let read = match (read, flushed, write_err) {
        (_, _, Some(e)) => {
            put.abort().await;
            return Err(bad(
                dst_exit,
                format!("writing {}: {e}", out_name),
                "check the destination",
            ));
        }
        (Ok(r), Ok(()), None) => r,
        (Ok(_), Err(e), None) => {
            put.abort().await;
            return Err(bad(
                dst_exit,
                format!("writing {out_name}: {e}"),
                "check the destination",
            ));
        }
        (Err(ReadFail::Io(m)), _, _) => {
            put.abort().await;
            return Err(bad(
                Exit::Storage,
                format!("reading {src_name}: {m}"),
                "check the source",
            ));
        }
        (Err(ReadFail::Key(m)), _, _) => {
            put.abort().await;
            return Err(bad(
                Exit::Key,
                m,
                "give the identity the backup was encrypted to with --identity",
            ));
        }
        (Err(ReadFail::Corrupt(m)), _, _) => {
            put.abort().await;
            return Err(bad(
                Exit::Corrupt,
                m,
                "not copied; this backup cannot be trusted",
            ));
        }
    };
    // The source must be what its manifest says, and readable RDB.
    if let Some(Err(e)) = read.plain.as_ref().map(|p| &p.result) {
        put.abort().await;
        return Err(bad(
            Exit::Corrupt,
            format!("corrupt: {e}"),
            "not copied; this backup cannot be trusted",
        ));
    }
    let mut m = match manifest {
        Some(m) => {
            let d = source::differences(&m, &read);
            if !d.is_empty() {
                put.abort().await;
                return Err(bad(
                    Exit::Corrupt,
                    format!("differs from its manifest: {}", d.join("; ")),
                    "not copied; this backup cannot be trusted",
                ));
            }
            m
        }
        None => match read
            .plain
            .as_ref()
            .and_then(|p| p.result.as_ref().ok().map(|s| (p, s)))
        {
            Some((p, s)) => Manifest::new(
                out_name,
                p.sha256.as_deref().unwrap_or_default(),
                s,
                manifest::Source::default(),
                "copy",
                &names::parse_backup_file_name(out_name)
                    .map(names::rfc3339)
                    .unwrap_or_default(),
                &crate::commands::backup::tool(),
            ),
            None => {
                put.abort().await;
                return Err(bad(
                    Exit::Key,
                    "encrypted, without a manifest to check it against".into(),
                    "give --identity to check every byte",
                ));
            }
        },
    };
    m.file = out_name.to_string();
    adjust(&mut m);
    if let Some(r) = encrypt {
        m.encryption = Some(manifest::Encryption {
            format: "age".into(),
            recipients: r.public.clone(),
            size: 0,
            sha256: String::new(),
        });
    }
    let dest_path = match dst {
        Repo::Local(d) => Some(kubectl_redis_core::backup::join(d, out_name)),
        Repo::Remote(_) => None,
    };
    let stored = match put.commit(dest_path.as_deref(), m, &mut |_| {}).await {
        Ok(s) => s,
        Err(e) => {
            put.abort().await;
            let msg = match e {
                kubectl_redis_core::backup::CommitError::Exists => {
                    format!("{out_name} appeared at the destination meanwhile")
                }
                kubectl_redis_core::backup::CommitError::Failed(m) => m,
            };
            return Err(bad(dst_exit, msg, "check the destination"));
        }
    };
    Ok(Copied {
        file: out_name.to_string(),
        destination: match dst {
            Repo::Local(d) => kubectl_redis_core::backup::join(d, out_name),
            Repo::Remote(r) => r.url_of(out_name),
        },
        bytes: stored.size,
        sha256: stored.sha256,
        encrypted: encrypt.is_some() || read.encrypted,
    })
}
