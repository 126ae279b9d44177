//! One backup copied whole into a repository: read from a file, a
//! repository or a stream made as it is read (a cluster backup's merged
//! shards), checked (against its manifest's sha256, or every byte as RDB),
//! re-encrypted when asked, and committed through [`Put`] with its manifest.
//! `kubectl redis copy` and the cluster backup's store use it.

use crate::store::crypt::{Identities, Recipients};
use crate::store::put::Put;
use crate::store::repo::{Problem, Repo};
use crate::store::source::{self, ReadFail, Source};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::store::manifest::{self, Manifest};
use kubectl_redis_core::store::names;
use std::io::Read;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// What was copied (`kubectl redis copy -o json` lists these).
#[derive(serde::Serialize)]
pub struct Copied {
    pub file: String,
    pub destination: String,
    pub bytes: u64,
    pub sha256: String,
    pub encrypted: bool,
}

/// The error a [`ChannelWriter`] gives once its receiver has gone.
pub const STOPPED: &str = "the destination stopped";

/// Writes into a tokio channel from a blocking thread, in 1 MiB chunks.
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: tokio::sync::mpsc::Sender<Vec<u8>>) -> Self {
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
            // The next chunk gets its own full-size buffer (no regrowing).
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(1 << 20));
            self.tx
                .blocking_send(chunk)
                .map_err(|_| std::io::Error::other(STOPPED))?;
        }
        Ok(())
    }
}

/// The store's side of the pipe (read on a blocking thread): end of file
/// when the writer has finished (or failed: the writer's own result says
/// which): a cluster backup's merge, a sanitized copy.
pub struct PipeReader {
    pub rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    pub chunk: Vec<u8>,
    pub at: usize,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(c) => {
                    self.chunk = c;
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
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

/// The stored bytes of `src`, or why not (a store's failure is exit 12, a
/// local file's exit 2).
async fn open(src: &Source) -> Result<Box<dyn Read + Send>, (Exit, Problem)> {
    src.reader().await.map_err(|p| {
        let e = match src {
            Source::Remote { .. } => Exit::Storage,
            Source::Local(_) => Exit::Invalid,
        };
        (e, p)
    })
}

/// Copies one backup; `adjust` may change the manifest before it is
/// written (a cluster backup records its shards).
pub async fn copy_one(
    src: &Source,
    manifest: Option<Manifest>,
    dst: &Repo,
    out_name: &str,
    encrypt: Option<&Recipients>,
    ids: &Arc<Identities>,
    adjust: &dyn Fn(&mut Manifest),
) -> Result<Copied, (Exit, Problem)> {
    // Re-encrypting reads the plaintext: a key held by KMS is unwrapped.
    let ids = if encrypt.is_some() && src.name().ends_with(".age") {
        crate::store::kms::identities_for(ids, manifest.as_ref()).await?
    } else {
        ids.clone()
    };
    let raw = open(src).await?;
    copy_from(
        raw,
        &src.display(),
        manifest,
        dst,
        out_name,
        encrypt,
        &ids,
        adjust,
    )
    .await
}

/// As [`copy_one`], from bytes read from `raw` (named `src_name` in
/// errors): a file, or a stream made as it is read (the merged shards of a
/// cluster backup).
#[allow(clippy::too_many_arguments)]
pub async fn copy_from(
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
    // Copied as stored: the bytes must be what the name says. A plaintext
    // file named `.age` would otherwise land in plaintext under a name that
    // says encrypted (and be skipped by every "encrypt plaintext" rule).
    let named_encrypted = out_name.ends_with(".age");
    if !reencrypt && named_encrypted != read.encrypted {
        put.abort().await;
        let (is, named) = if read.encrypted {
            ("age-encrypted", "plaintext")
        } else {
            ("plaintext", "age-encrypted")
        };
        return Err(bad(
            Exit::Invalid,
            format!("{src_name} is {is} but named as {named}: not copied"),
            if read.encrypted {
                "rename it to end in .age"
            } else {
                "rename it to end in .rdb (copy then encrypts it to the destination's recipients), or encrypt it with age first"
            },
        ));
    }
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
                &crate::env::tool(),
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
    // A file made here (merged, sanitized, or a source without a manifest)
    // is made by this user; a copy keeps its maker.
    if m.made_by.is_none() || verify {
        m.made_by = Some(crate::audit::who(None));
    }
    adjust(&mut m);
    if let Some(r) = encrypt {
        m.encryption = Some(manifest::Encryption {
            format: "age".into(),
            recipients: r.public.clone(),
            size: 0,
            sha256: String::new(),
            kms: r.kms.clone(),
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
        destination: dst.location(out_name),
        bytes: stored.size,
        sha256: stored.sha256,
        encrypted: encrypt.is_some() || read.encrypted,
    })
}

/// A sanitized copy of one backup: its plaintext (decrypted with `ids`,
/// checked against `manifest`) goes through the sanitizer as it streams,
/// and the result is stored as [`copy_from`] stores any stream (every byte
/// read again as RDB, its own manifest written last) under `out_name`,
/// recording the rules, the key's id and what each rule did. A source that
/// is damaged or does not match its manifest leaves the copy unfinished,
/// so nothing is stored.
#[allow(clippy::too_many_arguments)]
pub async fn copy_sanitized(
    src: &Source,
    manifest: Option<Manifest>,
    dst: &Repo,
    out_name: &str,
    encrypt: Option<&Recipients>,
    ids: &Arc<Identities>,
    plan: &crate::sanitize::Plan,
) -> Result<(Copied, kubectl_redis_core::rdb::sanitize::Report), (Exit, Problem)> {
    use kubectl_redis_core::rdb::sanitize::Report;
    let ids = &if src.name().ends_with(".age") {
        crate::store::kms::identities_for(ids, manifest.as_ref()).await?
    } else {
        ids.clone()
    };
    let raw = open(src).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let report: Arc<std::sync::Mutex<Option<Report>>> = Arc::default();
    let (ids2, plan2, m2, report2) = (ids.clone(), plan.clone(), manifest.clone(), report.clone());
    let src_name = src.display();
    let src_name2 = src_name.clone();
    let redis_ver = manifest.as_ref().and_then(|m| m.redis_version.clone());
    let worker = tokio::task::spawn_blocking(move || -> Result<(), (Exit, Problem)> {
        let bad = |exit: Exit, message: String, hint: &str| {
            (
                exit,
                Problem {
                    message,
                    hint: hint.to_string(),
                },
            )
        };
        let mut w = crate::sanitize::Writer::new(
            &plan2,
            ChannelWriter::new(tx),
            crate::sanitize::now_ms(),
            redis_ver,
        );
        // The sanitizer reads every byte as RDB; the source is hashed
        // against its manifest besides.
        let r = source::read_into(raw, &ids2, true, false, &mut |_| {}, Some(&mut w));
        if let Some((rules, e)) = w.failure() {
            return Err(if rules {
                bad(
                    Exit::Invalid,
                    e,
                    "change the rules (docs/sanitize.md); nothing was stored",
                )
            } else {
                bad(
                    Exit::Corrupt,
                    format!("{src_name2}: {e}"),
                    "not copied; this backup cannot be trusted",
                )
            });
        }
        let read = match r {
            Ok(read) => read,
            Err(ReadFail::Io(m)) => {
                return Err(bad(
                    Exit::Storage,
                    format!("reading {src_name2}: {m}"),
                    "check the source",
                ))
            }
            Err(ReadFail::Key(m)) => return Err(bad(Exit::Key, m, crate::keys::KEY_HINT)),
            Err(ReadFail::Corrupt(m)) => {
                return Err(bad(
                    Exit::Corrupt,
                    m,
                    "not copied; this backup cannot be trusted",
                ))
            }
        };
        if let Some(m) = &m2 {
            let d = source::differences(m, &read);
            if !d.is_empty() {
                return Err(bad(
                    Exit::Corrupt,
                    format!("{src_name2} differs from its manifest: {}", d.join("; ")),
                    "not copied; this backup cannot be trusted",
                ));
            }
        }
        match w.finish() {
            Ok((rep, out)) => {
                if let Ok(mut g) = report2.lock() {
                    *g = Some(rep);
                }
                // The end of the copy: the store sees it whole now.
                drop(out);
                Ok(())
            }
            Err((true, e)) => Err(bad(
                Exit::Invalid,
                e,
                "change the rules (docs/sanitize.md); nothing was stored",
            )),
            Err((false, e)) => Err(bad(
                Exit::Corrupt,
                format!("{src_name2}: {e}"),
                "not copied; this backup cannot be trusted",
            )),
        }
    });
    let piped: Box<dyn Read + Send> = Box::new(PipeReader {
        rx,
        chunk: Vec::new(),
        at: 0,
    });
    let from = src.name();
    let record = |m: &mut Manifest| {
        m.sanitized = true;
        if let Some(orig) = &manifest {
            m.source = orig.source.clone();
            m.method = orig.method.clone();
            m.created = orig.created.clone();
            if m.redis_version.is_none() {
                m.redis_version = orig.redis_version.clone();
            }
        }
        if let Some(rep) = report.lock().ok().and_then(|g| g.clone()) {
            m.sanitize = Some(crate::sanitize::manifest_record(plan, &from, &rep));
        }
    };
    let stored = copy_from(
        piped,
        &format!("the sanitized copy of {src_name}"),
        None,
        dst,
        out_name,
        encrypt,
        ids,
        &record,
    )
    .await;
    let worked = match worker.await {
        Ok(r) => r,
        Err(e) => Err((
            Exit::Error,
            Problem {
                message: format!("internal error: {e}"),
                hint: String::new(),
            },
        )),
    };
    // The sanitizer's own failure says why better than the truncated
    // stream it left.
    worked?;
    let copied = stored?;
    let rep = report.lock().ok().and_then(|g| g.clone()).ok_or((
        Exit::Error,
        Problem {
            message: "internal error: the sanitizer gave no report".into(),
            hint: String::new(),
        },
    ))?;
    Ok((copied, rep))
}
