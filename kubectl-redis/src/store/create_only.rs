//! A backup's data object written create-only, as far as the store allows.
//!
//! object_store's buffered writer ends a small upload with one `put` and a
//! large one with a multipart upload, both overwriting. Wrapped in
//! [`CreateOnly`], the single `put` is a conditional create
//! (`PutMode::Create`: `If-None-Match: *` on S3, `ifGenerationMatch=0` on
//! GCS, `If-None-Match` on Azure), and a multipart upload checks, just
//! before completing, that no object appeared under its name meanwhile,
//! aborting its parts if one did. object_store 0.14 completes multipart
//! uploads only in overwrite mode, so that last check leaves a window of one
//! request (before, the whole upload's duration).

use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};
use std::sync::Arc;

/// The store, creating objects only where none exists.
#[derive(Debug)]
pub struct CreateOnly(pub Arc<dyn ObjectStore>);

impl std::fmt::Display for CreateOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CreateOnly({})", self.0)
    }
}

fn exists_error(path: &Path) -> object_store::Error {
    object_store::Error::AlreadyExists {
        path: path.to_string(),
        source: "another writer created it while this upload ran; nothing was overwritten".into(),
    }
}

#[async_trait::async_trait]
impl ObjectStore for CreateOnly {
    async fn put_opts(
        &self,
        l: &Path,
        p: PutPayload,
        mut o: PutOptions,
    ) -> object_store::Result<PutResult> {
        o.mode = PutMode::Create;
        match self.0.put_opts(l, p, o).await {
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Err(exists_error(l)),
            r => r,
        }
    }

    async fn put_multipart_opts(
        &self,
        l: &Path,
        o: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let inner = self.0.put_multipart_opts(l, o).await?;
        Ok(Box::new(CheckedUpload {
            inner,
            store: self.0.clone(),
            path: l.clone(),
        }))
    }

    async fn get_opts(&self, l: &Path, o: GetOptions) -> object_store::Result<GetResult> {
        self.0.get_opts(l, o).await
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

/// A multipart upload that completes only if its name is still free.
#[derive(Debug)]
struct CheckedUpload {
    inner: Box<dyn MultipartUpload>,
    store: Arc<dyn ObjectStore>,
    path: Path,
}

#[async_trait::async_trait]
impl MultipartUpload for CheckedUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        match self.store.head(&self.path).await {
            Ok(_) => {
                let _ = self.inner.abort().await;
                Err(exists_error(&self.path))
            }
            Err(object_store::Error::NotFound { .. }) => self.inner.complete().await,
            Err(e) => {
                let _ = self.inner.abort().await;
                Err(e)
            }
        }
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::WriteMultipart;

    /// Another writer's object, created after the upload began, is never
    /// replaced: neither by a small upload's single put nor by a multipart
    /// upload's completion. Both overwrote it before.
    #[tokio::test]
    async fn an_object_created_meanwhile_is_not_overwritten() {
        let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let store = CreateOnly(mem.clone());
        let path = Path::from("prod/redis-backup-20261204_120000.rdb");
        // A multipart upload starts; another writer creates the object.
        let upload = store
            .put_multipart_opts(&path, PutMultipartOptions::default())
            .await
            .expect("start");
        let mut w = WriteMultipart::new(upload);
        w.write(b"ours");
        mem.put(&path, PutPayload::from_static(b"theirs"))
            .await
            .expect("theirs");
        let e = w.finish().await.expect_err("completed over theirs");
        assert!(
            matches!(e, object_store::Error::AlreadyExists { .. }),
            "{e}"
        );
        // A single put over it: refused too.
        let e = store
            .put_opts(
                &path,
                PutPayload::from_static(b"ours"),
                PutOptions::default(),
            )
            .await
            .expect_err("put over theirs");
        assert!(e.to_string().contains("nothing was overwritten"), "{e}");
        let kept = mem
            .get(&path)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(&kept[..], b"theirs");
        // Free names are written as before.
        let other = Path::from("prod/other.rdb");
        store
            .put_opts(&other, PutPayload::from_static(b"x"), PutOptions::default())
            .await
            .expect("put");
        let upload = store
            .put_multipart_opts(&Path::from("prod/big.rdb"), PutMultipartOptions::default())
            .await
            .expect("start");
        let mut w = WriteMultipart::new(upload);
        w.write(b"big");
        w.finish().await.expect("complete");
    }
}
