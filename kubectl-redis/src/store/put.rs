//! Writing one backup into a repository, whole or not at all. Locally: a
//! hidden 0600 temporary file, fsynced, linked under its name without
//! replacing anything, then the manifest. In object storage: a multipart
//! upload straight to the name (refused when the name or its manifest
//! exists), completed only when the caller commits, read back and hashed,
//! then the manifest created last, create-only: the backup exists once its
//! manifest does. [`Put::abort`] leaves nothing (or, remotely, aborts the
//! upload's parts).

use crate::store::crypt::Recipients;
use crate::store::files;
use crate::store::repo::{PutNew, Remote, Repo};
use crate::store::sink::{Sink, Stored};
use kubectl_redis_core::backup::CommitError;
use kubectl_redis_core::store::manifest::{self, Manifest};

/// The signature of `m` as its manifest file's bytes, when this process
/// signs (`--sign-with`).
fn signature(m: &Manifest) -> Result<Option<Vec<u8>>, CommitError> {
    let Some(signer) = crate::store::trust::signer() else {
        return Ok(None);
    };
    let mut b = serde_json::to_vec_pretty(m)
        .map_err(|e| CommitError::Failed(format!("internal error: {e}")))?;
    b.push(b'\n');
    Ok(Some(signer.sign(&b)))
}

/// Runs blocking file work (fsync, rename) on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CommitError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CommitError::Failed(format!("internal error: {e}")))
}

/// A backup being written.
pub struct Put {
    pub sink: Sink,
    repo: Repo,
    /// The final name (no directory).
    pub name: String,
    /// Local: the temporary file's path.
    temp: Option<String>,
    /// Once the stored bytes are complete (a local commit may be retried
    /// under another name).
    stored: Option<Stored>,
    /// The public recipients this put encrypts to (for its manifest).
    recipients: Option<Vec<String>>,
}

impl Put {
    /// Starts writing `name` into `repo`.
    pub async fn begin(
        repo: &Repo,
        name: &str,
        temp_prefix: &str,
        recipients: Option<&Recipients>,
    ) -> Result<Put, String> {
        match repo {
            Repo::Local(dir) => {
                let (path, f) = files::create_temp(dir, temp_prefix).map_err(|e| e.to_string())?;
                match Sink::file(tokio::fs::File::from_std(f), recipients) {
                    Ok(sink) => Ok(Put {
                        sink,
                        repo: repo.clone(),
                        name: name.to_string(),
                        temp: Some(path),
                        stored: None,
                        recipients: recipients.map(|r| r.public.clone()),
                    }),
                    Err(e) => {
                        files::discard(&path);
                        Err(e.to_string())
                    }
                }
            }
            Repo::Remote(r) => {
                for n in [name.to_string(), manifest::name_for(name)] {
                    if r.exists(&n).await.map_err(|p| p.message)? {
                        return Err(format!(
                            "{} already exists; nothing is overwritten",
                            r.url_of(&n)
                        ));
                    }
                }
                // Create-only where the store allows (see create_only).
                let store =
                    std::sync::Arc::new(crate::store::create_only::CreateOnly(r.store.clone()));
                let sink =
                    Sink::upload(store, r.path(name), recipients).map_err(|e| e.to_string())?;
                Ok(Put {
                    sink,
                    repo: repo.clone(),
                    name: name.to_string(),
                    temp: None,
                    stored: None,
                    recipients: recipients.map(|r| r.public.clone()),
                })
            }
        }
    }

    /// Where the backup is once committed.
    pub fn final_path(&self) -> String {
        self.repo.location(&self.name)
    }

    /// The temporary path (local) or the URL (remote) the machine knows.
    pub fn handle(&self) -> String {
        match (&self.repo, &self.temp) {
            (Repo::Local(_), Some(t)) => t.clone(),
            (Repo::Remote(r), _) => r.url_of(&self.name),
            (Repo::Local(d), None) => kubectl_redis_core::backup::join(d, &self.name),
        }
    }

    /// Completes the stored bytes and writes `manifest` (its `encryption`
    /// filled in with the stored bytes' size and sha256). `dest` is the
    /// final local path (ignored remotely: the upload already has its name).
    /// `on_stored` hears what was stored, before the manifest is written.
    pub async fn commit(
        &mut self,
        dest: Option<&str>,
        mut manifest: Manifest,
        on_stored: &mut dyn FnMut(&Stored),
    ) -> Result<Stored, CommitError> {
        let stored = match self.stored.clone() {
            Some(s) => Ok(s),
            None => self.sink.finish().await,
        };
        let stored = match stored {
            Ok(s) => {
                self.stored = Some(s.clone());
                s
            }
            Err(e) => {
                self.sink.abort().await;
                return Err(CommitError::Failed(match &self.repo {
                    Repo::Local(_) => {
                        if let Some(t) = &self.temp {
                            files::discard(t);
                        }
                        format!("completing {}: {e}", self.name)
                    }
                    Repo::Remote(r) => {
                        r.io_problem("completing the upload of", &self.name, &e)
                            .message
                    }
                }));
            }
        };
        if let Some(enc) = &mut manifest.encryption {
            enc.size = stored.size;
            enc.sha256 = stored.sha256.clone();
            if let Some(r) = &self.recipients {
                enc.recipients = r.clone();
            }
        }
        match &self.repo {
            Repo::Local(dir) => {
                let temp = self.temp.clone().unwrap_or_default();
                let dest = dest
                    .map(str::to_string)
                    .unwrap_or_else(|| kubectl_redis_core::backup::join(dir, &self.name));
                // fsyncs and renames block: off the runtime's one thread,
                // where the Lease's renewal runs.
                let (t, d) = (temp.clone(), dest.clone());
                blocking(move || files::commit(&t, &d)).await??;
                on_stored(&stored);
                // The signature first: a manifest is what makes a backup
                // count, and a signed one must never appear unsigned.
                if let Some(sig) = signature(&manifest)? {
                    let p = format!("{dest}.json.sig");
                    blocking(move || files::write_whole(&p, &sig))
                        .await?
                        .map_err(|e| {
                            CommitError::Failed(format!(
                                "the backup is saved as {dest}, but its signature could not be written: {e}"
                            ))
                        })?;
                }
                let d = dest.clone();
                blocking(move || files::write_manifest(&d, &manifest))
                    .await?
                    .map_err(|e| {
                        CommitError::Failed(format!(
                            "the backup is saved as {dest}, but its manifest could not be written: {e}"
                        ))
                    })?;
                Ok(stored)
            }
            Repo::Remote(r) => {
                commit_remote(r, &self.name, &stored, &manifest).await?;
                on_stored(&stored);
                Ok(stored)
            }
        }
    }

    /// Throws away what was written.
    pub async fn abort(mut self) {
        self.abort_mut().await;
    }

    /// [`Put::abort`] in place.
    pub async fn abort_mut(&mut self) {
        self.sink.abort().await;
        if let Some(t) = &self.temp {
            files::discard(t);
        }
    }
}

async fn commit_remote(
    r: &Remote,
    name: &str,
    stored: &Stored,
    manifest: &Manifest,
) -> Result<(), CommitError> {
    let fail = CommitError::Failed;
    // Read back what the store holds: the manifest must describe it.
    let back = read_back(r, name).await;
    let ok = matches!(&back, Ok((size, sha)) if *size == stored.size && *sha == stored.sha256);
    if !ok {
        let _ = r.delete(name).await;
        return Err(fail(match back {
            Ok((size, sha)) => format!(
                "{} was read back as {size} bytes with sha256 {sha}, but {} bytes with sha256 {} were sent; it was deleted",
                r.url_of(name),
                stored.size,
                stored.sha256
            ),
            Err(p) => format!("reading {} back: {p}; it was deleted", r.url_of(name)),
        }));
    }
    let mut b = serde_json::to_vec_pretty(manifest).map_err(|e| fail(e.to_string()))?;
    b.push(b'\n');
    let mname = manifest::name_for(name);
    if let Some(signer) = crate::store::trust::signer() {
        let sname = crate::store::trust::sig_name(&mname);
        match r.put_new(&sname, signer.sign(&b)).await {
            Ok(()) => {}
            Err(PutNew::Exists) => {
                return Err(fail(format!(
                    "{} exists already (another writer?); this backup's data is left without a manifest",
                    r.url_of(&sname)
                )))
            }
            Err(PutNew::Failed(p)) => {
                let _ = r.delete(name).await;
                return Err(fail(format!(
                    "{}; without its signature the backup does not count, and its data was deleted",
                    p.message
                )));
            }
        }
    }
    match r.put_new(&mname, b).await {
        Ok(()) => Ok(()),
        Err(PutNew::Exists) => Err(fail(format!(
            "{} appeared meanwhile: another writer used the same name; this run's data at {} stays, without a manifest of its own (their manifest's sha256 decides whose it is: `kubectl redis verify {}`)",
            r.url_of(&mname),
            r.url_of(name),
            r.url_of(name)
        ))),
        Err(PutNew::Failed(p)) => {
            let _ = r.delete(name).await;
            Err(fail(format!(
                "{}; without its manifest the backup does not count, and its data was deleted",
                p.message
            )))
        }
    }
}

/// Size and SHA-256 of what the store holds under `name`: its size from a
/// HEAD, then ranges of 8 MiB fetched 2 at a time and hashed in order
/// (memory stays within 2 ranges).
/// Ranges a read-back keeps in flight.
const READ_BACK_AHEAD: usize = 2;

async fn read_back(r: &Remote, name: &str) -> Result<(u64, String), String> {
    use futures::StreamExt;
    use object_store::ObjectStoreExt;
    use sha2::Digest;
    const RANGE: u64 = 8 << 20;
    let path = r.path(name);
    let size = r
        .store
        .head(&path)
        .await
        .map_err(|e| r.problem("checking", name, e).message)?
        .size;
    let ranges: Vec<std::ops::Range<u64>> = (0..size.div_ceil(RANGE))
        .map(|i| i * RANGE..((i + 1) * RANGE).min(size))
        .collect();
    let store = r.store.clone();
    let mut parts = futures::stream::iter(ranges)
        .map(|rg| {
            let store = store.clone();
            let path = path.clone();
            async move { store.get_range(&path, rg).await }
        })
        .buffered(READ_BACK_AHEAD);
    let mut h = sha2::Sha256::new();
    let mut n = 0u64;
    while let Some(c) = parts.next().await {
        let c = c.map_err(|e| r.problem("reading back", name, e).message)?;
        n += c.len() as u64;
        h.update(&c);
    }
    Ok((n, crate::store::rdbfile::hex(&h.finalize())))
}

#[cfg(test)]
mod tests {
    //! The failures a real store cannot be made to produce on cue: bytes
    //! read back that differ from those sent, and a manifest created by
    //! another writer between the upload and its own. Over object_store's
    //! in-memory store, wrapped where it must misbehave.
    use super::*;
    use futures::stream::{BoxStream, StreamExt};
    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::{
        CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload,
        ObjectMeta, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
        PutResult,
    };
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;

    /// An in-memory store whose ranged reads come back with one byte
    /// flipped (a store corrupting data at rest or on the way).
    #[derive(Debug, Default)]
    struct Flipping(InMemory);

    impl std::fmt::Display for Flipping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Flipping")
        }
    }

    #[async_trait::async_trait]
    impl ObjectStore for Flipping {
        async fn put_opts(
            &self,
            l: &Path,
            p: PutPayload,
            o: PutOptions,
        ) -> object_store::Result<PutResult> {
            self.0.put_opts(l, p, o).await
        }
        async fn put_multipart_opts(
            &self,
            l: &Path,
            o: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            self.0.put_multipart_opts(l, o).await
        }
        async fn get_opts(&self, l: &Path, o: GetOptions) -> object_store::Result<GetResult> {
            let ranged = o.range.is_some() && !o.head;
            let mut r = self.0.get_opts(l, o).await?;
            if ranged {
                let empty = futures::stream::empty().boxed();
                let payload = std::mem::replace(&mut r.payload, GetResultPayload::Stream(empty));
                let GetResultPayload::Stream(s) = payload else {
                    return Err(object_store::Error::NotImplemented {
                        operation: "get".into(),
                        implementer: "Flipping".into(),
                    });
                };
                let chunks: Vec<bytes::Bytes> = s
                    .collect::<Vec<_>>()
                    .await
                    .into_iter()
                    .collect::<Result<_, _>>()?;
                let mut all: Vec<u8> = chunks.concat();
                if let Some(b) = all.first_mut() {
                    *b ^= 1;
                }
                r.payload = GetResultPayload::Stream(
                    futures::stream::once(async move { Ok(bytes::Bytes::from(all)) }).boxed(),
                );
            }
            Ok(r)
        }
        fn delete_stream(
            &self,
            l: BoxStream<'static, object_store::Result<Path>>,
        ) -> BoxStream<'static, object_store::Result<Path>> {
            self.0.delete_stream(l)
        }
        fn list(&self, p: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.0.list(p)
        }
        async fn list_with_delimiter(&self, p: Option<&Path>) -> object_store::Result<ListResult> {
            self.0.list_with_delimiter(p).await
        }
        async fn copy_opts(&self, f: &Path, t: &Path, o: CopyOptions) -> object_store::Result<()> {
            self.0.copy_opts(f, t, o).await
        }
    }

    fn remote(store: Arc<dyn ObjectStore>) -> Repo {
        Repo::Remote(Remote {
            url: "s3://backups/prod".into(),
            store,
            prefix: Path::from("prod"),
            credentials: "test".into(),
            scheme: "s3".into(),
            bucket: "backups".into(),
        })
    }

    const NAME: &str = "redis-backup-20261204_120000.rdb";

    fn manifest() -> Manifest {
        serde_json::from_value(serde_json::json!({
            "format": "kubectl-redis/manifest/v1", "file": NAME, "size": 9, "sha256": "",
            "flavor": "redis", "rdb_version": 11, "redis_version": null, "crc64": "none",
            "verified": true, "keys_per_db": {}, "keys": 0, "source": {}, "method": "stream",
            "created": "2026-12-04T12:00:00Z", "tool": "test"
        }))
        .unwrap_or_else(|e| panic!("a manifest: {e}"))
    }

    async fn exists(store: &dyn ObjectStore, name: &str) -> bool {
        store
            .head(&Path::from(format!("prod/{name}")))
            .await
            .is_ok()
    }

    /// Read back differently from what was sent: the object is deleted and
    /// no manifest is written, so no backup is listed.
    #[tokio::test]
    async fn a_read_back_that_differs_deletes_the_upload() {
        let store: Arc<dyn ObjectStore> = Arc::new(Flipping::default());
        let repo = remote(store.clone());
        let mut put = Put::begin(&repo, NAME, "", None).await.unwrap();
        put.sink.write_all(b"REDIS0011").await.unwrap();
        let e = put.commit(None, manifest(), &mut |_| {}).await;
        let Err(CommitError::Failed(m)) = e else {
            panic!("a corrupted read-back must fail the commit: {e:?}")
        };
        assert!(
            m.contains("was read back as") && m.contains("it was deleted"),
            "{m}"
        );
        assert!(!exists(store.as_ref(), NAME).await, "the data was deleted");
        assert!(
            !exists(store.as_ref(), &manifest::name_for(NAME)).await,
            "no manifest"
        );
    }

    /// Another writer's manifest appears between the upload and ours: ours
    /// is not written over it, the commit fails saying so, and theirs stays.
    #[tokio::test]
    async fn a_manifest_that_appears_meanwhile_is_not_overwritten() {
        let mem = Arc::new(InMemory::new());
        let store: Arc<dyn ObjectStore> = mem.clone();
        let repo = remote(store.clone());
        let mut put = Put::begin(&repo, NAME, "", None).await.unwrap();
        put.sink.write_all(b"REDIS0011").await.unwrap();
        let theirs = Path::from(format!("prod/{}", manifest::name_for(NAME)));
        store
            .put(&theirs, b"{\"theirs\":true}".to_vec().into())
            .await
            .unwrap();
        let e = put.commit(None, manifest(), &mut |_| {}).await;
        let Err(CommitError::Failed(m)) = e else {
            panic!("a manifest there already must fail the commit: {e:?}")
        };
        assert!(m.contains("appeared meanwhile"), "{m}");
        let kept = store.get(&theirs).await.unwrap().bytes().await.unwrap();
        assert_eq!(
            &kept[..],
            b"{\"theirs\":true}",
            "their manifest is untouched"
        );
    }

    /// The control: the same put over a well-behaved store commits, and
    /// the object and its manifest are there.
    #[tokio::test]
    async fn a_faithful_store_commits() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let repo = remote(store.clone());
        let mut put = Put::begin(&repo, NAME, "", None).await.unwrap();
        put.sink.write_all(b"REDIS0011").await.unwrap();
        let stored = put.commit(None, manifest(), &mut |_| {}).await.unwrap();
        assert_eq!(stored.size, 9);
        assert!(exists(store.as_ref(), NAME).await);
        assert!(exists(store.as_ref(), &manifest::name_for(NAME)).await);
    }
}
