//! Where a backup's bytes go while they are taken: a local temporary file or
//! an object-storage upload, optionally through age encryption, with the
//! stored bytes' size and SHA-256 counted on the way. Nothing counts until
//! [`Sink::finish`]: a local file is then fsynced (and named by the caller),
//! an upload completed. [`Sink::abort`] throws an upload's parts away.

use crate::store::crypt::{self, Recipients};
use object_store::buffered::BufWriter;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How big the stream will be, when the source says so before the first
/// byte (a SYNC on disk announces its length, the pod's dump its size):
/// shared between the sinks of a backup and whoever learns the size.
#[derive(Clone, Default)]
pub struct SizeHint(Arc<std::sync::atomic::AtomicU64>);

impl SizeHint {
    pub fn set(&self, n: u64) {
        self.0.store(n, std::sync::atomic::Ordering::Relaxed);
    }
    pub fn get(&self) -> Option<u64> {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }
}

/// Parts grow with the object, all the same size (R2 requires it): at
/// least [`part_size`], and big enough that the expected size (plus a
/// tenth, for encryption and growth) fits in 9,000 of S3's 10,000 parts,
/// but never past [`MAX_GROWN_PART`] on the server's word alone: the size
/// is what the server declared, and each part is held in memory (twice,
/// uploading two at once). Past 9,000 x 64 MiB (about 560 GiB) set
/// `$KUBECTL_REDIS_PART_SIZE_MB`.
pub fn part_size_for(expected: Option<u64>) -> usize {
    let base = part_size();
    let Some(n) = expected else { return base };
    let need = n.saturating_add(n / 10).div_ceil(9_000);
    let need =
        usize::try_from(need.div_ceil(1 << 20).saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    base.max(need.min(MAX_GROWN_PART))
}

/// The largest part a declared size grows parts to.
pub const MAX_GROWN_PART: usize = 64 << 20;

/// Part size of multipart uploads when the size is not known: every part
/// the same size; 10,000 parts of 8 MiB allow 80 GiB.
/// `$KUBECTL_REDIS_PART_SIZE_MB` (5 to 5120) changes it.
pub fn part_size() -> usize {
    std::env::var("KUBECTL_REDIS_PART_SIZE_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (5..=5120).contains(n))
        .unwrap_or(8)
        << 20
}

/// Parts in flight at once (memory: this many parts, plus one being filled:
/// 3 x 8 MiB with the default part size). Two keep a backup's upload up
/// with the snapshot as four did, at half the buffers (issue 21:
/// `make bench-storage`, 5,546 against 5,556 ms for 112 MB, peak 43 against
/// 61 MB).
pub const CONCURRENCY: usize = 2;

enum Inner {
    File(tokio::fs::File),
    /// An upload not started yet: it starts at the first byte, when the
    /// size hint (if any) sets the part size.
    Waiting(Arc<dyn object_store::ObjectStore>, object_store::path::Path),
    Upload(Box<BufWriter>),
}

/// A buffer the age writer writes into and the sink drains.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut v) => {
                v.extend_from_slice(b);
                Ok(b.len())
            }
            Err(_) => Err(std::io::Error::other("encryption buffer poisoned")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// The stored bytes' size and SHA-256 (the ciphertext's when encrypted).
#[derive(Debug, Clone)]
pub struct Stored {
    pub size: u64,
    pub sha256: String,
}

pub struct Sink {
    inner: Inner,
    age: Option<(age::stream::StreamWriter<Shared>, Shared)>,
    pending: Vec<u8>,
    off: usize,
    /// The expected size, for the part size.
    pub hint: SizeHint,
    sha: Sha256,
    size: u64,
    done: bool,
    /// The first stored bytes, to prove ciphertext was stored when asked.
    head: Vec<u8>,
    encrypted: bool,
}

impl Sink {
    /// Into a local file.
    pub fn file(f: tokio::fs::File, recipients: Option<&Recipients>) -> std::io::Result<Sink> {
        Sink::new(Inner::File(f), recipients)
    }

    /// Into an object-storage upload of `path`.
    pub fn upload(
        store: Arc<dyn object_store::ObjectStore>,
        path: object_store::path::Path,
        recipients: Option<&Recipients>,
    ) -> std::io::Result<Sink> {
        Sink::new(Inner::Waiting(store, path), recipients)
    }

    fn new(inner: Inner, recipients: Option<&Recipients>) -> std::io::Result<Sink> {
        let age = match recipients {
            Some(r) => {
                let shared = Shared::default();
                let w = r.encryptor()?.wrap_output(shared.clone())?;
                Some((w, shared))
            }
            None => None,
        };
        Ok(Sink {
            inner,
            encrypted: age.is_some(),
            head: Vec::new(),
            age,
            pending: Vec::new(),
            off: 0,
            hint: SizeHint::default(),
            sha: Sha256::new(),
            size: 0,
            done: false,
        })
    }

    fn stage(&mut self, bytes: Vec<u8>) {
        if self.head.len() < crypt::MAGIC.len() {
            let take = (crypt::MAGIC.len() - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.sha.update(&bytes);
        self.size += bytes.len() as u64;
        if self.off >= self.pending.len() {
            self.pending = bytes;
            self.off = 0;
        } else {
            self.pending.extend_from_slice(&bytes);
        }
    }

    /// Starts a waiting upload, its parts sized by the hint.
    fn start(&mut self) {
        if let Inner::Waiting(store, path) = &self.inner {
            let w = BufWriter::with_capacity(
                store.clone(),
                path.clone(),
                part_size_for(self.hint.get()),
            )
            .with_max_concurrency(CONCURRENCY);
            self.inner = Inner::Upload(Box::new(w));
        }
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.off < self.pending.len() {
            self.start();
        }
        while self.off < self.pending.len() {
            let buf = &self.pending[self.off..];
            let n = match &mut self.inner {
                Inner::File(f) => ready!(Pin::new(f).poll_write(cx, buf))?,
                Inner::Upload(w) => ready!(Pin::new(w.as_mut()).poll_write(cx, buf))?,
                Inner::Waiting(..) => 0,
            };
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.off += n;
        }
        self.pending.clear();
        self.off = 0;
        Poll::Ready(Ok(()))
    }

    /// Ends the stream: the last encrypted chunk, then an fsync (file) or
    /// the upload's completion. Only after this does the object exist.
    pub async fn finish(&mut self) -> std::io::Result<Stored> {
        if let Some((w, shared)) = self.age.take() {
            w.finish()?;
            let rest = shared.take();
            self.stage(rest);
        }
        self.flush().await?;
        // Fail closed (WAL-G's CVE-2021-38599): encryption was asked for,
        // so what is stored must be an age file, or it is never completed.
        if self.encrypted && !crypt::is_age(&self.head) {
            self.abort().await;
            return Err(std::io::Error::other(
                "internal error: the stored bytes are not an age file; nothing was kept",
            ));
        }
        self.done = true;
        match &mut self.inner {
            Inner::File(f) => f.sync_all().await?,
            Inner::Upload(w) => w.shutdown().await?,
            Inner::Waiting(..) => {
                // Nothing was written: an empty object, still whole.
                self.start();
                if let Inner::Upload(w) = &mut self.inner {
                    w.shutdown().await?;
                }
            }
        }
        let sha = std::mem::take(&mut self.sha);
        Ok(Stored {
            size: self.size,
            sha256: crate::store::rdbfile::hex(&sha.finalize()),
        })
    }

    /// Throws an upload's parts away (a local file is the caller's to remove).
    pub async fn abort(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if let Inner::Upload(w) = &mut self.inner {
            let _ = w.abort().await;
        }
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        let out = match &mut this.age {
            Some((w, shared)) => {
                w.write_all(buf)?;
                shared.take()
            }
            None => buf.to_vec(),
        };
        if !out.is_empty() {
            this.stage(out);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        match &mut this.inner {
            Inner::File(f) => Pin::new(f).poll_flush(cx),
            Inner::Upload(w) => Pin::new(w.as_mut()).poll_flush(cx),
            Inner::Waiting(..) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Completing is [`Sink::finish`]'s job, after verification.
        self.poll_flush(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::ObjectStoreExt;

    fn recipients() -> Recipients {
        let public = age::x25519::Identity::generate().to_public().to_string();
        Recipients::parse(&[public], &[])
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("a generated recipient parses"))
    }

    /// Fail closed: encryption was asked for, and what reached the sink's
    /// store is not an age file (a bug the encryptor cannot produce, so
    /// simulated by taking the encryptor away): the upload is never
    /// completed and no object appears. With the encryptor, it is.
    #[tokio::test]
    async fn plaintext_never_completes_an_encrypted_upload() {
        let store: Arc<dyn object_store::ObjectStore> = Arc::new(InMemory::new());
        let path = object_store::path::Path::from("backups/x.rdb.age");
        let rdb = b"REDIS0011\xfa\x09redis-ver\x067.0.15\xff";

        let mut s = Sink::upload(store.clone(), path.clone(), Some(&recipients())).unwrap();
        s.age = None;
        s.write_all(rdb).await.unwrap();
        let e = s.finish().await.expect_err("plaintext under encryption");
        assert!(e.to_string().contains("not an age file"), "{e}");
        assert!(
            matches!(
                store.head(&path).await,
                Err(object_store::Error::NotFound { .. })
            ),
            "no object was completed"
        );

        let mut s = Sink::upload(store.clone(), path.clone(), Some(&recipients())).unwrap();
        s.write_all(rdb).await.unwrap();
        let stored = s.finish().await.unwrap();
        let got = store.get(&path).await.unwrap().bytes().await.unwrap();
        assert!(crypt::is_age(&got), "an age file is stored");
        assert_eq!(stored.size, got.len() as u64);
    }

    #[test]
    fn parts_grow_with_the_object_and_stay_equal() {
        assert_eq!(part_size_for(None), 8 << 20);
        assert_eq!(part_size_for(Some(112_000_000)), 8 << 20);
        // 200 GB: 9,000 parts of at least 24 MiB.
        let p = part_size_for(Some(200_000_000_000)) as u64;
        assert!(p >= 24 << 20 && p.is_multiple_of(1 << 20), "{p}");
        assert!(200_000_000_000u64.div_ceil(p) <= 10_000);
        // A server declaring an absurd size does not make parts of 5 GiB
        // held in memory (a CronJob's limit is 128 Mi): they stop growing
        // at 64 MiB.
        assert_eq!(part_size_for(Some(u64::MAX)), MAX_GROWN_PART);
        assert_eq!(part_size_for(Some(10_000_000_000_000)), 64 << 20);
    }
}
