//! A backup to read: a local path or an object-storage URL, plaintext or an
//! age file, with its manifest. Reading is synchronous (age decrypts through
//! `std::io::Read`) and streamed: an object's bytes arrive through a bounded
//! channel from an async download, so memory stays flat and nothing is
//! written to disk.

use crate::store::crypt::{self, DecryptFail, Identities};
use crate::store::rdbfile::{self, Checked, Inline};
use crate::store::repo::{self, Problem, Remote, Repo};
use futures::StreamExt;
use kubectl_redis_core::rdb::reader::Event;
use kubectl_redis_core::store::manifest::Manifest;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};

/// Where a backup is.
pub enum Source {
    Local(PathBuf),
    Remote { remote: Remote, name: String },
}

impl Source {
    /// A path, `file://PATH`, or `s3://BUCKET/PREFIX/NAME` (gs://, az://).
    pub fn open(s: &str) -> Result<Source, Problem> {
        if !repo::is_remote(s) {
            return Ok(Source::Local(PathBuf::from(
                s.strip_prefix("file://").unwrap_or(s),
            )));
        }
        let (dir, name) = repo::split(s);
        if name.is_empty() {
            return Err(Problem {
                message: format!("{s} names a repository, not a backup"),
                hint: "give URL/redis-backup-....rdb (see `kubectl redis list --repo URL`), or --latest with --repo".into(),
            });
        }
        match Repo::open(&dir)? {
            Repo::Remote(remote) => Ok(Source::Remote { remote, name }),
            Repo::Local(d) => Ok(Source::Local(PathBuf::from(d).join(name))),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Source::Local(p) => p.display().to_string(),
            Source::Remote { remote, name } => remote.url_of(name),
        }
    }

    /// The file name (no directory).
    pub fn name(&self) -> String {
        match self {
            Source::Local(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Source::Remote { name, .. } => name.clone(),
        }
    }

    /// The manifest next to it: `Ok(None)` when there is none.
    pub async fn manifest(&self) -> Result<Option<Manifest>, String> {
        match self {
            Source::Local(p) => rdbfile::manifest_for(p),
            Source::Remote { remote, name } => remote.manifest(name).await,
        }
    }

    /// The stored bytes, as a blocking reader (call from a blocking thread).
    pub async fn reader(&self) -> Result<Box<dyn Read + Send>, Problem> {
        match self {
            Source::Local(p) => {
                let md = std::fs::metadata(p).map_err(|e| Problem {
                    message: format!("cannot read {}: {e}", p.display()),
                    hint:
                        "give the path of a backup, e.g. ./backups/redis-backup-20251024_180500.rdb"
                            .into(),
                })?;
                if !md.is_file() {
                    return Err(Problem {
                        message: format!("{} is not a regular file", p.display()),
                        hint: "give the path of a backup file".into(),
                    });
                }
                let f = std::fs::File::open(p).map_err(|e| Problem {
                    message: format!("cannot open {}: {e}", p.display()),
                    hint: "check the file's permissions".into(),
                })?;
                Ok(Box::new(f))
            }
            Source::Remote { remote, name } => {
                let (_, mut stream) = remote.get(name).await?;
                let (tx, rx) = mpsc::sync_channel::<Result<bytes::Bytes, String>>(64);
                tokio::spawn(async move {
                    while let Some(c) = stream.next().await {
                        let stop = c.is_err();
                        // A blocking send on a runtime thread would stall it:
                        // when the channel is full, wait in the blocking pool.
                        let sent = match tx.try_send(c) {
                            Ok(()) => true,
                            Err(mpsc::TrySendError::Full(c)) => {
                                let tx2 = tx.clone();
                                tokio::task::spawn_blocking(move || tx2.send(c).is_ok())
                                    .await
                                    .unwrap_or(false)
                            }
                            Err(mpsc::TrySendError::Disconnected(_)) => false,
                        };
                        if !sent || stop {
                            return;
                        }
                    }
                });
                Ok(Box::new(ChannelReader {
                    rx,
                    cur: bytes::Bytes::new(),
                }))
            }
        }
    }
}

/// Reads chunks sent through a channel.
struct ChannelReader {
    rx: mpsc::Receiver<Result<bytes::Bytes, String>>,
    cur: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.recv() {
                Ok(Ok(b)) => self.cur = b,
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// Counts and hashes what passes through.
struct Counted<R> {
    inner: R,
    state: Arc<Mutex<(Option<Sha256>, u64)>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut s) = self.state.lock() {
            if let Some(h) = &mut s.0 {
                h.update(&buf[..n]);
            }
            s.1 += n as u64;
        }
        Ok(n)
    }
}

/// What reading a backup found.
pub struct Read_ {
    /// The stored bytes' size and SHA-256 (empty when not asked for).
    pub stored_size: u64,
    pub stored_sha256: String,
    /// The stored bytes are an age file.
    pub encrypted: bool,
    /// The plaintext RDB as checked; `None` when encrypted and no identity
    /// was given (integrity of the stored bytes only), or when only hashing
    /// was asked for.
    pub plain: Option<Checked>,
    /// Hashing only ([`read_into`] with `verify` false): the plaintext's
    /// size and SHA-256.
    pub plain_hashed: Option<(u64, String)>,
}

/// Why a backup could not be read.
pub enum ReadFail {
    /// Unreadable (I/O, network).
    Io(String),
    /// Encrypted, and the identities do not fit.
    Key(String),
    /// Looks like age but is damaged.
    Corrupt(String),
}

/// Reads the stored bytes `raw` whole: their SHA-256 (with `hash`); the plaintext
/// through the reader (decrypted with `ids` when it is an age file; with no
/// identities an age file is only hashed). `sink` sees the RDB events.
pub fn read(
    raw: Box<dyn Read + Send>,
    ids: &Identities,
    hash_plain: bool,
    sink: &mut dyn FnMut(Event<'_>),
) -> Result<Read_, ReadFail> {
    read_into(raw, ids, hash_plain, true, sink, None)
}

/// [`read`], also writing the plaintext to `out`. With `verify` false the
/// plaintext is only hashed, not read as RDB (a copy of a backup whose
/// manifest, written after it was verified, its SHA-256 must match).
pub fn read_into(
    raw: Box<dyn Read + Send>,
    ids: &Identities,
    hash_plain: bool,
    verify: bool,
    sink: &mut dyn FnMut(Event<'_>),
    out: Option<&mut dyn std::io::Write>,
) -> Result<Read_, ReadFail> {
    let state = Arc::new(Mutex::new((hash_plain.then(Sha256::new), 0u64)));
    let mut counted = BufReader::with_capacity(
        1 << 20,
        Counted {
            inner: raw,
            state: state.clone(),
        },
    );
    let head = counted
        .fill_buf()
        .map_err(|e| ReadFail::Io(e.to_string()))?;
    let gpg = is_gpg(head);
    let encrypted = crypt::is_age(head) || gpg;
    let plain = if gpg {
        // The runbook's `gpg --symmetric` files, through the user's own gpg
        // (its agent asks for the passphrase), streamed.
        let mut child = std::process::Command::new("gpg")
            .args(["--quiet", "--decrypt"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| {
                ReadFail::Key(format!(
                    "this is a gpg file and gpg cannot be run ({e}): install gnupg, or decrypt it first with `gpg -d FILE > dump.rdb`"
                ))
            })?;
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ReadFail::Io("gpg's pipes are missing".into()));
        };
        let pump = std::thread::spawn(move || {
            let r = std::io::copy(&mut counted, &mut stdin);
            drop(stdin);
            r
        });
        let errs = std::thread::spawn(move || {
            let mut t = String::new();
            let _ = stderr.read_to_string(&mut t);
            t
        });
        // gpg files carry no manifest of ours: every byte is read as RDB.
        let c = check_plain(&mut stdout, hash_plain, true, sink, out);
        drop(stdout);
        let status = child.wait();
        let pumped = pump.join();
        let errs = errs.join().unwrap_or_default();
        match status {
            Ok(st) if st.success() => {}
            _ => {
                let first = errs
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("gpg failed")
                    .to_string();
                return Err(ReadFail::Key(format!("gpg could not decrypt it: {first}")));
            }
        }
        if let Ok(Err(e)) = pumped {
            return Err(ReadFail::Io(e.to_string()));
        }
        let (sha, size) = match state.lock() {
            Ok(mut g) => (g.0.take(), g.1),
            Err(_) => return Err(ReadFail::Io("internal error: the hash is poisoned".into())),
        };
        return Ok(Read_ {
            plain_hashed: None,
            stored_size: size,
            stored_sha256: sha.map(|h| rdbfile::hex(&h.finalize())).unwrap_or_default(),
            encrypted: true,
            plain: match c? {
                Plain::Checked(c) => Some(c),
                Plain::Hashed(..) => None,
            },
        });
    } else if !encrypted {
        // The plaintext is the stored bytes: hashed once, by `counted`.
        Some(check_plain(&mut counted, false, verify, sink, out)?)
    } else if ids.is_empty() {
        std::io::copy(&mut counted, &mut std::io::sink())
            .map_err(|e| ReadFail::Io(e.to_string()))?;
        None
    } else {
        let mut r = match crypt::decrypt(&mut counted, ids) {
            Ok(r) => r,
            Err(DecryptFail::Key(m)) => return Err(ReadFail::Key(m)),
            Err(DecryptFail::NotAge(m)) => return Err(ReadFail::Corrupt(m)),
        };
        let c = check_plain(&mut r, hash_plain, verify, sink, out).map_err(|e| match e {
            // age's own authentication: a flipped byte in the ciphertext.
            ReadFail::Io(m) if m.contains("decrypt") || m.contains("chunk") => {
                ReadFail::Corrupt(format!("the ciphertext is damaged: {m}"))
            }
            e => e,
        })?;
        drop(r);
        // Whatever follows the last chunk still counts for the stored hash.
        std::io::copy(&mut counted, &mut std::io::sink())
            .map_err(|e| ReadFail::Io(e.to_string()))?;
        Some(c)
    };
    drop(counted);
    let (sha, size) = match state.lock() {
        Ok(mut g) => (g.0.take(), g.1),
        Err(_) => return Err(ReadFail::Io("internal error: the hash is poisoned".into())),
    };
    let stored_sha256 = sha.map(|h| rdbfile::hex(&h.finalize())).unwrap_or_default();
    let (mut plain, plain_hashed) = match plain {
        Some(Plain::Checked(c)) => (Some(c), None),
        Some(Plain::Hashed(n, h)) => (None, Some((n, h))),
        None => (None, None),
    };
    if let (false, Some(p)) = (encrypted, &mut plain) {
        if hash_plain {
            p.sha256 = Some(stored_sha256.clone());
        }
    }
    Ok(Read_ {
        plain_hashed,
        stored_size: size,
        stored_sha256,
        encrypted,
        plain,
    })
}

enum Plain {
    Checked(Checked),
    Hashed(u64, String),
}

fn check_plain(
    r: &mut dyn Read,
    hash: bool,
    verify: bool,
    sink: &mut dyn FnMut(Event<'_>),
    mut out: Option<&mut dyn std::io::Write>,
) -> Result<Plain, ReadFail> {
    // Read as RDB (hashing inside), or only hashed.
    let mut check = verify.then(|| Inline::new(hash));
    let mut h = (!verify && hash).then(Sha256::new);
    let size = rdbfile::each_chunk(r, &mut |c| {
        if let Some(k) = &mut check {
            k.feed_with(c, sink);
        }
        if let Some(h) = &mut h {
            h.update(c);
        }
        if let Some(w) = out.as_deref_mut() {
            w.write_all(c)
                .map_err(|e| format!("writing the copy: {e}"))?;
        }
        Ok(())
    })
    .map_err(|e| match e {
        rdbfile::ChunkError::Read(e) => ReadFail::Io(e.to_string()),
        rdbfile::ChunkError::Stop(m) => ReadFail::Io(m),
    })?;
    Ok(match check {
        Some(k) => {
            let (sha256, result) = k.finish();
            Plain::Checked(Checked {
                size,
                sha256,
                result,
            })
        }
        None => Plain::Hashed(
            size,
            h.map(|h| rdbfile::hex(&h.finalize())).unwrap_or_default(),
        ),
    })
}

/// Whether `head` starts like an OpenPGP message: binary (a symmetric-key
/// or public-key session packet, old or new format) or ASCII-armored.
pub fn is_gpg(head: &[u8]) -> bool {
    matches!(head.first(), Some(0x8c | 0xc3 | 0x84 | 0x85 | 0xc1))
        || head.starts_with(b"-----BEGIN PGP MESSAGE-----")
}

/// Compares what was read with the manifest; the differences.
pub fn differences(m: &Manifest, r: &Read_) -> Vec<String> {
    let mut d = Vec::new();
    let (size, sha) = m.stored();
    if r.encrypted != m.encryption.is_some() {
        d.push(if r.encrypted {
            "the file is encrypted, the manifest says plaintext".to_string()
        } else {
            "the file is plaintext, the manifest says encrypted".to_string()
        });
        return d;
    }
    if r.stored_size != size {
        d.push(format!(
            "size is {} bytes, the manifest says {size}",
            r.stored_size
        ));
    }
    if !r.stored_sha256.eq_ignore_ascii_case(sha) {
        d.push(format!(
            "sha256 is {}, the manifest says {sha}",
            r.stored_sha256
        ));
    }
    if let (Some((n, h)), true) = (&r.plain_hashed, r.encrypted) {
        d.extend(m.differences(*n, h, None));
    }
    if let Some(p) = &r.plain {
        if r.encrypted {
            d.extend(m.differences(
                p.size,
                p.sha256.as_deref().unwrap_or_default(),
                p.result.as_ref().ok(),
            ));
        } else if let Ok(s) = &p.result {
            if s.keys() != m.keys {
                d.push(format!("{} keys, the manifest says {}", s.keys(), m.keys));
            }
        }
    }
    d
}

/// A plaintext copy of a backup in a private directory (0700, file 0600),
/// removed when dropped: how a restore from object storage or an encrypted
/// file hands the pod a file to load.
pub struct LocalCopy {
    dir: PathBuf,
    pub path: PathBuf,
}

impl LocalCopy {
    /// A copy at `path` inside the private directory `dir` (from
    /// [`private_dir`]), both removed when dropped.
    pub(crate) fn new(dir: PathBuf, path: PathBuf) -> Self {
        LocalCopy { dir, path }
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        crate::signals::unregister_private(&self.dir);
    }
}

/// Downloads (and decrypts) `src` into a [`LocalCopy`], checking every
/// byte on the way and the stored bytes against the manifest; the copy gets
/// a plaintext manifest so the restore checks it again like any file.
pub async fn local_copy(
    src: &Source,
    ids: Identities,
) -> Result<(LocalCopy, Read_), (kubectl_redis_core::exit::Exit, Problem)> {
    use kubectl_redis_core::exit::Exit;
    let storage = |p: Problem| {
        let e = match src {
            Source::Remote { .. } => Exit::Storage,
            Source::Local(_) => Exit::Invalid,
        };
        (e, p)
    };
    let manifest = src.manifest().await.map_err(|m| {
        (
            Exit::Invalid,
            Problem {
                message: m,
                hint: "fix or remove the manifest".into(),
            },
        )
    })?;
    // A key held by KMS: unwrapped with the user's own credentials.
    let mut ids = ids;
    if src.name().ends_with(".age") {
        if let Some((id, from)) =
            crate::store::kms::unwrap_for(manifest.as_ref(), !ids.is_empty()).await?
        {
            ids.add_x25519(id, &from);
        }
    }
    let raw = src.reader().await.map_err(storage)?;
    let private = private_dir().map_err(|e| {
        (
            Exit::Error,
            Problem {
                message: e,
                hint: "set $TMPDIR to a writable directory".into(),
            },
        )
    })?;
    let (dir, file) = crate::store::files::create_temp(&private.to_string_lossy(), ".restore-")
        .map_err(|e| {
            (
                Exit::Error,
                Problem {
                    message: format!("cannot create a private temporary file: {e}"),
                    hint: "set $TMPDIR to a writable directory".into(),
                },
            )
        })
        .map(|(p, f)| (PathBuf::from(p), f))?;
    let copy_dir = dir.parent().map(PathBuf::from).unwrap_or_default();
    let name = src.name();
    let plain_name = name
        .strip_suffix(".age")
        .or_else(|| name.strip_suffix(".gpg"))
        .unwrap_or(&name)
        .to_string();
    let path = copy_dir.join(&plain_name);
    let copy = LocalCopy {
        dir: copy_dir,
        path: path.clone(),
    };
    let done = tokio::task::spawn_blocking(move || {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let r = read_into(raw, &ids, true, true, &mut |_| {}, Some(&mut w));
        let flushed = w
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all());
        (r, flushed)
    })
    .await;
    let read = match done {
        Ok((Ok(r), Ok(()))) => r,
        Ok((Ok(_), Err(e))) => {
            return Err((
                Exit::Error,
                Problem {
                    message: format!("writing the local copy: {e}"),
                    hint: "check free space in $TMPDIR".into(),
                },
            ))
        }
        Ok((Err(ReadFail::Io(m)), _)) => {
            return Err(storage(Problem {
                message: format!("reading {}: {m}", src.display()),
                hint: "check the connection and retry; nothing was changed".into(),
            }))
        }
        Ok((Err(ReadFail::Key(m)), _)) => {
            return Err((
                Exit::Key,
                Problem {
                    message: m,
                    hint: crate::keys::KEY_HINT.into(),
                },
            ))
        }
        Ok((Err(ReadFail::Corrupt(m)), _)) => {
            return Err((
                Exit::Corrupt,
                Problem {
                    message: format!("{}: {m}", src.display()),
                    hint: "do not restore this file; use another backup".into(),
                },
            ))
        }
        Err(e) => {
            return Err((
                Exit::Error,
                Problem {
                    message: format!("internal error: {e}"),
                    hint: String::new(),
                },
            ))
        }
    };
    if read.plain.is_none() {
        return Err((
            Exit::Key,
            Problem {
                message: format!("{} is encrypted (age) and no identity was given", src.display()),
                hint: "give --identity FILE (or $KUBECTL_REDIS_IDENTITY, --identity-from-secret NAME/KEY)".into(),
            },
        ));
    }
    std::fs::rename(&dir, &path).map_err(|e| {
        (
            Exit::Error,
            Problem {
                message: format!("naming the local copy: {e}"),
                hint: String::new(),
            },
        )
    })?;
    if let Some(mut m) = manifest {
        let d = differences(&m, &read);
        if !d.is_empty() {
            return Err((
                Exit::Corrupt,
                Problem {
                    message: format!(
                        "{} differs from its manifest: {}",
                        src.display(),
                        d.join("; ")
                    ),
                    hint: "do not restore this file; use another backup".into(),
                },
            ));
        }
        m.encryption = None;
        m.file = plain_name;
        crate::store::files::write_manifest(&path.to_string_lossy(), &m).map_err(|e| {
            (
                Exit::Error,
                Problem {
                    message: e,
                    hint: String::new(),
                },
            )
        })?;
    }
    Ok((copy, read))
}

/// A new private directory for a plaintext copy, made as `mkdtemp` does
/// (a random name, created 0700 only if it did not exist: never one an
/// attacker prepared), named after this process so a later run can tell a
/// killed run's leftovers, which it removes first. Registered to be removed
/// if a signal ends the process.
pub(crate) fn private_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    remove_stale(&base);
    let dir = tempfile::Builder::new()
        .prefix(&format!("kubectl-redis-{}-", std::process::id()))
        .tempdir_in(&base)
        .map_err(|e| {
            format!(
                "cannot create a private directory in {}: {e}",
                base.display()
            )
        })?
        .keep();
    crate::signals::register_private(&dir);
    Ok(dir)
}

/// Removes `kubectl-redis-PID-*` directories in `base` that this user owns
/// and whose process is gone (plaintext a killed run left behind).
fn remove_stale(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("kubectl-redis-")
            .and_then(|r| r.split_once('-'))
            .and_then(|(p, _)| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if !meta.is_dir() || !owned_by_me(&meta) || pid == std::process::id() as i32 || alive(pid) {
            continue;
        }
        if std::fs::remove_dir_all(e.path()).is_ok() {
            eprintln!(
                "note: removed {}, a private copy left by a killed run (process {pid})",
                e.path().display()
            );
        }
    }
}

#[cfg(unix)]
fn owned_by_me(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    meta.uid() == unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn owned_by_me(_: &std::fs::Metadata) -> bool {
    false
}

/// Whether process `pid` exists (a signal 0 reaches it or is refused).
#[cfg(unix)]
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return true;
    }
    // SAFETY: kill with signal 0 only checks for the process.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn alive(_: i32) -> bool {
    true
}
