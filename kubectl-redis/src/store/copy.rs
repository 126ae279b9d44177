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
pub async fn copy_one(
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
        destination: dst.location(out_name),
        bytes: stored.size,
        sha256: stored.sha256,
        encrypted: encrypt.is_some() || read.encrypted,
    })
}
