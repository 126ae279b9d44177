//! Backup repositories: a local directory, or a prefix in object storage
//! (`s3://`, `gs://`, `az://`) opened with `object_store` from each cloud's
//! usual environment. A backup in object storage exists only when its
//! manifest does: the data is uploaded first, the manifest last, create-only.

use futures::stream::BoxStream;
use futures::StreamExt;
use kubectl_redis_core::ops::list::{listing, listing_in, Entry, Listing};
use kubectl_redis_core::store::{manifest, names};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as OPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use std::sync::Arc;

/// A problem, said as the user should hear it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub message: String,
    pub hint: String,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Where backups are kept.
#[derive(Clone)]
pub enum Repo {
    /// A local directory (plain path or `file://`).
    Local(String),
    /// A prefix in object storage.
    Remote(Remote),
}

/// A prefix in a bucket or container.
#[derive(Clone)]
pub struct Remote {
    /// `s3://bucket/prefix`, no trailing slash, never with a secret.
    pub url: String,
    pub store: Arc<dyn ObjectStore>,
    pub prefix: OPath,
    /// Which credential source is in use, for errors ("web identity", ...).
    pub credentials: String,
    /// `s3`, `gs`, `az`.
    pub scheme: String,
    /// The bucket or container.
    pub bucket: String,
}

/// A multipart upload that was started and never completed nor aborted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaleUpload {
    pub key: String,
    #[serde(skip)]
    pub upload_id: String,
    /// When it was started, Unix seconds.
    pub initiated_unix: i64,
    /// Why it was judged less surely than by its parts.
    #[serde(skip)]
    pub note: Option<String>,
}

/// Whether `s` names object storage (a URL other than `file://`).
pub fn is_remote(s: &str) -> bool {
    matches!(scheme(s), Some(sc) if sc != "file")
}

fn scheme(s: &str) -> Option<&str> {
    s.split_once("://").map(|(a, _)| a)
}

/// `URL/NAME` split into the repository and the file name.
pub fn split(s: &str) -> (String, String) {
    let t = s.trim_end_matches('/');
    match t.rsplit_once('/') {
        Some((dir, name)) if !dir.ends_with(':') && !dir.ends_with("/") => {
            (dir.to_string(), name.to_string())
        }
        _ => (t.to_string(), String::new()),
    }
}

/// The most objects a repository listing holds.
const MAX_ENTRIES: usize = 100_000;

/// The repository's own settings object, written by `repo init`.
pub const CONFIG: &str = "kubectl-redis-repo.json";
/// Its `format`.
pub const CONFIG_FORMAT: &str = "kubectl-redis.io/repository/v1";

/// A repository's settings: who every backup to it is encrypted to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub format: String,
    /// Public age recipients; every backup is encrypted to these unless the
    /// command line names others or says `--no-encrypt`.
    pub recipients: Vec<String>,
    /// Public keys (`kr-ed25519:...`) whose signature a backup needs to be
    /// restored by `--latest` or drilled; empty: none required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// RFC 3339.
    pub created: String,
}

impl Repo {
    /// The repository's settings (`repo init`), if it has any.
    pub async fn config(&self) -> Result<Option<Config>, Problem> {
        let bytes = match self {
            Repo::Local(d) => match std::fs::read(std::path::Path::new(d).join(CONFIG)) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(Problem::new(
                        format!("cannot read {d}/{CONFIG}: {e}"),
                        "check the directory's permissions",
                    ))
                }
            },
            Repo::Remote(r) => match r.store.get(&r.path(CONFIG)).await {
                Ok(g) => g
                    .bytes()
                    .await
                    .map_err(|e| r.problem("reading", CONFIG, e))?
                    .to_vec(),
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(r.problem("reading", CONFIG, e)),
            },
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Problem::new(
                format!(
                    "{}/{CONFIG} is not a repository config: {e}",
                    self.display()
                ),
                "rewrite it with `kubectl redis repo init URL --encrypt-to ... --force`",
            )
        })
    }

    /// The backups in the repository, newest first, and its incomplete
    /// leftovers. A local directory that does not exist is empty.
    pub async fn listing(&self) -> Result<Listing, Problem> {
        self.listing_with_times().await.map(|(l, _)| l)
    }

    /// [`Repo::listing`], with every entry's modification time (for
    /// leftovers), from one listing of the repository.
    pub async fn listing_with_times(
        &self,
    ) -> Result<(Listing, std::collections::HashMap<String, i64>), Problem> {
        let now = crate::env::unix_now();
        let (entries, l) = match self {
            Repo::Local(dir) => match crate::store::local::read_entries(dir) {
                Ok(e) => {
                    let l = listing(dir, &e, now);
                    (e, l)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    (Vec::new(), listing(dir, &[], now))
                }
                Err(e) => {
                    return Err(Problem::new(
                        format!("cannot read {dir}: {e}"),
                        "check the directory's permissions, or choose another with --out-dir",
                    ))
                }
            },
            Repo::Remote(r) => {
                let e = r.entries().await?;
                let l = listing_in(&r.url, &e, now, true);
                (e, l)
            }
        };
        let times = entries.into_iter().map(|e| (e.name, e.modified)).collect();
        Ok((l, times))
    }

    /// The manifest of backup `name`: `Ok(None)` when it has none.
    pub async fn manifest(&self, name: &str) -> Result<Option<manifest::Manifest>, String> {
        match self {
            Repo::Local(dir) => {
                crate::store::rdbfile::manifest_for(&std::path::Path::new(dir).join(name))
            }
            Repo::Remote(r) => r.manifest(name).await,
        }
    }

    /// Removes one backup and its manifest. In object storage the manifest
    /// goes first (the backup stops counting), then the data; locally the
    /// data goes first (a manifest without its file is harmless).
    pub async fn remove_backup(&self, name: &str) -> Result<(), Problem> {
        if kubectl_redis_core::store::set::parse_set_name(name).is_some() {
            return self.remove_set(name).await;
        }
        let mname = manifest::name_for(name);
        match self {
            Repo::Local(dir) => {
                let p = std::path::Path::new(dir).join(name);
                std::fs::remove_file(&p).map_err(|e| {
                    Problem::new(
                        format!("{}: {e}", p.display()),
                        "check the directory's permissions",
                    )
                })?;
                let mp = std::path::Path::new(dir).join(&mname);
                let _ = std::fs::remove_file(
                    std::path::Path::new(dir).join(crate::store::trust::sig_name(&mname)),
                );
                match std::fs::remove_file(&mp) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Problem::new(
                        format!("{}: {e}", mp.display()),
                        "check the directory's permissions",
                    )),
                    _ => Ok(()),
                }
            }
            Repo::Remote(r) => {
                r.delete(&mname).await?;
                r.delete(&crate::store::trust::sig_name(&mname)).await?;
                r.delete(name).await
            }
        }
    }

    /// The manifest of backup set `set` (`SET.json`).
    pub async fn set_manifest(
        &self,
        set: &str,
    ) -> Result<kubectl_redis_core::store::set::SetManifest, String> {
        let name = kubectl_redis_core::store::set::set_manifest_name(set);
        match self {
            Repo::Local(d) => {
                let p = std::path::Path::new(d).join(&name);
                std::fs::read(&p)
                    .map_err(|e| format!("{}: {e}", p.display()))
                    .and_then(|b| {
                        serde_json::from_slice(&b)
                            .map_err(|e| format!("{} is not valid: {e}", p.display()))
                    })
            }
            Repo::Remote(r) => r.small_json(&name).await,
        }
    }

    /// Removes a backup set: its manifest first (the set stops counting),
    /// then each shard's file and manifest.
    pub async fn remove_set(&self, set: &str) -> Result<(), Problem> {
        use kubectl_redis_core::store::set;
        let mname = set::set_manifest_name(set);
        let files = self
            .set_manifest(set)
            .await
            .map(|m| m.files())
            .unwrap_or_default();
        self.remove_leftover(&mname).await?;
        for f in files {
            self.remove_leftover(&manifest::name_for(&f)).await?;
            self.remove_leftover(&f).await?;
        }
        Ok(())
    }

    /// Removes a leftover (a temporary file, or data without a manifest).
    pub async fn remove_leftover(&self, name: &str) -> Result<(), Problem> {
        match self {
            Repo::Local(dir) => {
                let p = std::path::Path::new(dir).join(name);
                match std::fs::remove_file(&p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Problem::new(
                        format!("{}: {e}", p.display()),
                        "check the directory's permissions",
                    )),
                    _ => Ok(()),
                }
            }
            Repo::Remote(r) => r.delete(name).await,
        }
    }

    /// Opens `s`: a path, `file://PATH`, `s3://`, `gs://`, `az://`.
    pub fn open(s: &str) -> Result<Repo, Problem> {
        let Some(sc) = scheme(s) else {
            return Ok(Repo::Local(s.to_string()));
        };
        if sc == "file" {
            let p = s.trim_start_matches("file://");
            return Ok(Repo::Local(if p.is_empty() {
                "/".into()
            } else {
                p.into()
            }));
        }
        Remote::open(s).map(Repo::Remote)
    }

    /// Where object `name` is: its path in a directory, or its URL.
    pub fn location(&self, name: &str) -> String {
        match self {
            Repo::Local(d) => kubectl_redis_core::backup::join(d, name),
            Repo::Remote(r) => r.url_of(name),
        }
    }

    /// The repository as the user should see it.
    pub fn display(&self) -> String {
        match self {
            Repo::Local(d) => d.clone(),
            Repo::Remote(r) => r.url.clone(),
        }
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Remote {
    /// Opens an object-storage URL with credentials from the environment.
    pub fn open(s: &str) -> Result<Remote, Problem> {
        let parsed = url::Url::parse(s).map_err(|e| {
            Problem::new(
                format!("{s} is not a repository URL: {e}"),
                "use s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or a directory",
            )
        })?;
        let bucket = parsed.host_str().unwrap_or_default().to_string();
        if bucket.is_empty() {
            return Err(Problem::new(
                format!("{s} names no bucket"),
                "use s3://BUCKET/PREFIX (or gs://, az://)",
            ));
        }
        let prefix = parsed.path().trim_matches('/').to_string();
        let clean = if prefix.is_empty() {
            format!("{}://{bucket}", parsed.scheme())
        } else {
            format!("{}://{bucket}/{prefix}", parsed.scheme())
        };
        let root = format!("{}://{bucket}", parsed.scheme());
        let built = match parsed.scheme() {
            "s3" | "s3a" => s3(&root),
            "gs" => gcs(&root),
            "az" | "azure" | "abfs" | "abfss" => azure(&root),
            other => {
                return Err(Problem::new(
                    format!("unknown repository scheme {other}://"),
                    "use s3://, gs://, az://, file:// or a plain directory",
                ))
            }
        };
        let (store, credentials) = built.map_err(|e| {
            let text = e.to_string();
            Problem::new(
                format!("cannot open {clean}: {text}"),
                if text.contains("builder error") {
                    "the HTTP client could not start: usually no CA certificates (/etc/ssl/certs/ca-certificates.crt) in this image or machine"
                } else {
                    "check the URL and the storage settings in the environment (see `kubectl redis backup --help`)"
                },
            )
        })?;
        Ok(Remote {
            url: clean,
            store,
            prefix: OPath::from(prefix),
            credentials,
            scheme: match parsed.scheme() {
                "s3a" => "s3".to_string(),
                other => other.to_string(),
            },
            bucket,
        })
    }

    /// An S3 client from the AWS SDK, configured from the same environment
    /// (endpoint, region, path-style), for what `object_store` cannot do.
    async fn sdk_s3(&self) -> aws_sdk_s3::Client {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(p) = env("AWS_PROFILE") {
            loader = loader.profile_name(p);
        }
        if env("AWS_REGION").is_none() && env("AWS_DEFAULT_REGION").is_none() {
            loader = loader.region(aws_config::Region::new(
                aws_profile_value("region").unwrap_or_else(|| "us-east-1".into()),
            ));
        }
        let conf = loader.load().await;
        let mut b = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").is_none_or(|v| v != "true"));
        if let Some(ep) = env("AWS_ENDPOINT_URL_S3")
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| env("AWS_ENDPOINT"))
        {
            b = b.endpoint_url(ep);
        }
        aws_sdk_s3::Client::from_conf(b.build())
    }

    /// Multipart uploads under the prefix started before `before_unix` and
    /// never finished (left by a `kill -9`): S3 only (`None` elsewhere:
    /// Azure drops uncommitted blocks after 7 days by itself).
    pub async fn stale_uploads(
        &self,
        before_unix: i64,
    ) -> Result<Option<Vec<StaleUpload>>, Problem> {
        if self.scheme != "s3" {
            return Ok(None);
        }
        let c = self.sdk_s3().await;
        let prefix = if self.prefix.as_ref().is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix.as_ref())
        };
        let mut out = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut id_marker: Option<String> = None;
        loop {
            let r = c
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .set_key_marker(key_marker.clone())
                .set_upload_id_marker(id_marker.clone())
                .send()
                .await
                .map_err(|e| Problem::new(
                    format!("listing multipart uploads in {}: {}", self.url, error_chain(&e)),
                    "prune needs s3:ListBucketMultipartUploads on the bucket (or skip it: the rest was done)",
                ))?;
            for u in r.uploads() {
                let initiated = u.initiated().map(|t| t.secs()).unwrap_or(i64::MAX);
                if let (Some(k), Some(id)) = (u.key(), u.upload_id()) {
                    if initiated >= before_unix {
                        continue;
                    }
                    // A backup running longer than the cut-off keeps
                    // sending parts: its newest part says it is alive.
                    // A store that cannot list parts (some S3 look-alikes
                    // answer in a form the SDK refuses): judged by the
                    // start alone, as before, and said.
                    let (last, note) = match self.last_part(&c, k, id).await {
                        Ok(l) => (Some(l), None),
                        Err(e) => (
                            Some(None),
                            Some(format!("the parts of the unfinished upload {k} could not be listed ({e}): judged by its start time alone; a backup running longer than --leftovers-older-than would be cut")),
                        ),
                    };
                    if names::upload_abandoned(initiated, last, before_unix) {
                        out.push(StaleUpload {
                            key: k.to_string(),
                            upload_id: id.to_string(),
                            initiated_unix: initiated,
                            note,
                        });
                    }
                }
            }
            if r.is_truncated() != Some(true) {
                break;
            }
            key_marker = r.next_key_marker().map(str::to_string);
            id_marker = r.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && id_marker.is_none() {
                break;
            }
        }
        Ok(Some(out))
    }

    /// When the newest part of an upload was sent: `Some(None)` without
    /// parts, `None` when the parts cannot be listed.
    async fn last_part(
        &self,
        c: &aws_sdk_s3::Client,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<i64>, String> {
        let mut newest: Option<i64> = None;
        let mut marker: Option<String> = None;
        loop {
            let r = c
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(|e| error_chain(&e))?;
            for p in r.parts() {
                if let Some(t) = p.last_modified() {
                    newest = Some(newest.map_or(t.secs(), |n| n.max(t.secs())));
                }
            }
            if r.is_truncated() != Some(true) {
                return Ok(newest);
            }
            marker = r.next_part_number_marker().map(str::to_string);
            if marker.is_none() {
                return Ok(newest);
            }
        }
    }

    /// Aborts a multipart upload (its parts are deleted).
    pub async fn abort_upload(&self, u: &StaleUpload) -> Result<(), Problem> {
        self.sdk_s3()
            .await
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&u.key)
            .upload_id(&u.upload_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                Problem::new(
                    format!("aborting the upload of {}: {}", u.key, error_chain(&e)),
                    "prune needs s3:AbortMultipartUpload on the bucket",
                )
            })
    }

    /// The object path of `name` in this repository (`a/b` is two levels,
    /// as the archive's `pitr/...` names are; never one part with an
    /// encoded slash).
    pub fn path(&self, name: &str) -> OPath {
        name.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.prefix.clone(), |p, part| p.join(part))
    }

    /// `URL/NAME`.
    pub fn url_of(&self, name: &str) -> String {
        format!("{}/{name}", self.url)
    }

    /// Every object directly under the prefix, with the manifests of
    /// backups read, as the core's listing takes them.
    pub async fn entries(&self) -> Result<Vec<Entry>, Problem> {
        use futures::StreamExt;
        // Streamed and bounded: a bucket holding more than this under the
        // prefix (a hostile or mistaken one) never fills memory.
        let depth = self.prefix.parts().count() + 1;
        let mut stream = self.store.list(Some(&self.prefix));
        let mut objects = Vec::new();
        while let Some(o) = stream.next().await {
            let o = o.map_err(|e| self.problem("listing", &self.url, e))?;
            if o.location.parts().count() != depth {
                continue;
            }
            if objects.len() >= MAX_ENTRIES {
                return Err(Problem::new(
                    format!(
                        "{} holds more than {MAX_ENTRIES} objects: not listed (memory stays bounded)",
                        self.url
                    ),
                    "prune it (`kubectl redis prune`), or give each Redis its own prefix",
                ));
            }
            objects.push(o);
        }
        let mut out = Vec::new();
        let names: std::collections::HashSet<String> = objects
            .iter()
            .filter_map(|o| o.location.filename().map(str::to_string))
            .collect();
        for o in &objects {
            let Some(name) = o.location.filename().map(str::to_string) else {
                continue;
            };
            let manifest = if names::parse_backup_file_name(&name).is_some()
                && names.contains(&manifest::name_for(&name))
            {
                Some(self.manifest(&name).await.and_then(|m| {
                    m.ok_or_else(|| format!("{} vanished", manifest::name_for(&name)))
                }))
            } else {
                None
            };
            let set = match kubectl_redis_core::store::set::set_of_manifest(&name) {
                Some(_) => Some(self.small_json(&name).await),
                None => None,
            };
            out.push(Entry {
                name,
                bytes: o.size,
                modified: o.last_modified.timestamp(),
                is_file: true,
                manifest,
                set,
            });
        }
        Ok(out)
    }

    /// The manifest of backup `name`: `Ok(None)` when there is none.
    pub async fn manifest(&self, name: &str) -> Result<Option<manifest::Manifest>, String> {
        let mname = manifest::name_for(name);
        match self.store.get(&self.path(&mname)).await {
            Ok(r) => {
                let b = r
                    .bytes()
                    .await
                    .map_err(|e| self.problem("reading", &mname, e).message)?;
                serde_json::from_slice(&b)
                    .map(Some)
                    .map_err(|e| format!("{} is not a valid manifest: {e}", self.url_of(&mname)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.problem("reading", &mname, e).message),
        }
    }

    /// A small JSON object, parsed (a set's manifest).
    pub async fn small_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<T, String> {
        let r = self
            .store
            .get(&self.path(name))
            .await
            .map_err(|e| self.problem("reading", name, e).message)?;
        let b = r
            .bytes()
            .await
            .map_err(|e| self.problem("reading", name, e).message)?;
        serde_json::from_slice(&b).map_err(|e| format!("{} is not valid: {e}", self.url_of(name)))
    }

    /// The objects under `sub` (a sub-prefix such as `audit/`), name and
    /// bytes each: small objects, at most [`MAX_ENTRIES`] of them.
    pub async fn objects_under(&self, sub: &str) -> Result<Vec<(String, bytes::Bytes)>, Problem> {
        use futures::StreamExt;
        let base = self.path(sub);
        let mut stream = self.store.list(Some(&base));
        let mut names = Vec::new();
        while let Some(o) = stream.next().await {
            let o = o.map_err(|e| self.problem("listing", &self.url_of(sub), e))?;
            if names.len() >= MAX_ENTRIES {
                return Err(Problem::new(
                    format!(
                        "{} holds more than {MAX_ENTRIES} objects: not read",
                        self.url_of(sub)
                    ),
                    "narrow it down (for the audit trail: --since)",
                ));
            }
            names.push(o.location);
        }
        let mut out = Vec::new();
        for n in names {
            let r = self
                .store
                .get(&n)
                .await
                .map_err(|e| self.problem("reading", n.as_ref(), e))?;
            let b = r
                .bytes()
                .await
                .map_err(|e| self.problem("reading", n.as_ref(), e))?;
            let rel = n
                .as_ref()
                .strip_prefix(self.prefix.as_ref())
                .unwrap_or(n.as_ref());
            out.push((rel.trim_start_matches('/').to_string(), b));
        }
        Ok(out)
    }

    /// Whether `name` exists.
    pub async fn exists(&self, name: &str) -> Result<bool, Problem> {
        match self.store.head(&self.path(name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.problem("checking", name, e)),
        }
    }

    /// Writes a small object only if `name` does not exist yet.
    pub async fn put_new(&self, name: &str, bytes: impl Into<bytes::Bytes>) -> Result<(), PutNew> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&self.path(name), PutPayload::from(bytes.into()), opts)
            .await
        {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Err(PutNew::Exists),
            Err(e) => Err(PutNew::Failed(self.problem("writing", name, e))),
        }
    }

    /// Writes a small object, replacing it.
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), Problem> {
        self.store
            .put(&self.path(name), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| self.problem("writing", name, e))
    }

    /// Deletes `name` (absent is fine).
    pub async fn delete(&self, name: &str) -> Result<(), Problem> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.problem("deleting", name, e)),
        }
    }

    /// The bytes of `name`, streamed, with its size.
    pub async fn get(
        &self,
        name: &str,
    ) -> Result<(u64, BoxStream<'static, Result<bytes::Bytes, String>>), Problem> {
        let r = self
            .store
            .get(&self.path(name))
            .await
            .map_err(|e| self.problem("reading", name, e))?;
        let size = r.meta.size;
        let url = self.url_of(name);
        let s = r
            .into_stream()
            .map(move |c| c.map_err(|e| format!("reading {url}: {e}")))
            .boxed();
        Ok((size, s))
    }

    /// An object-storage error as the user should hear it: what was done,
    /// where, with which credential source, and the fix.
    pub fn problem(&self, doing: &str, name: &str, e: object_store::Error) -> Problem {
        let at = if name.contains("://") {
            name.to_string()
        } else {
            self.url_of(name)
        };
        let text = e.to_string();
        if bucket_missing(&text) {
            return self.by_text(doing, &at, &text);
        }
        match e {
            object_store::Error::NotFound { .. } => Problem::new(
                format!("{doing} {at}: not found"),
                "check the name with `kubectl redis list --repo URL`",
            ),
            object_store::Error::PermissionDenied { .. } => Problem::new(
                format!(
                    "{doing} {at} was refused (permission denied) with {}",
                    self.credentials
                ),
                "grant this identity read, write, list and delete on the prefix, or use other credentials",
            ),
            object_store::Error::Unauthenticated { .. } => Problem::new(
                format!(
                    "{doing} {at}: the credentials were not accepted ({})",
                    self.credentials
                ),
                "check the keys, the region and the endpoint ($AWS_ENDPOINT_URL for S3-compatible stores)",
            ),
            _ => self.by_text(doing, &at, &text),
        }
    }

    /// An error known only by its text (an I/O error from an upload).
    pub fn io_problem(&self, doing: &str, name: &str, e: &std::io::Error) -> Problem {
        self.by_text(doing, &self.url_of(name), &e.to_string())
    }

    /// Checks, before anything else is done, that the prefix can be listed
    /// (the bucket exists, the credentials are accepted).
    pub async fn preflight(&self) -> Result<(), Problem> {
        self.store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map(|_| ())
            .map_err(|e| self.problem("listing", &self.url, e))
    }

    fn by_text(&self, doing: &str, at: &str, text: &str) -> Problem {
        match () {
            _ if bucket_missing(text) => Problem::new(
                format!("{doing} {at}: the bucket does not exist"),
                "create it first, or fix the name in the URL",
            ),
            _ if text.contains("403")
                || text.contains("AccessDenied")
                || text.contains("SignatureDoesNotMatch")
                || text.contains("InvalidAccessKeyId") =>
            {
                Problem::new(
                    format!(
                        "{doing} {at} was refused with {}: {}",
                        self.credentials,
                        first_line(text)
                    ),
                    "check the keys and their permissions on the bucket",
                )
            }
            _ => Problem::new(
                format!("{doing} {at}: {}", first_line(text)),
                "check the endpoint and the network; the store said the above",
            ),
        }
    }
}

fn bucket_missing(text: &str) -> bool {
    text.contains("NoSuchBucket")
        || text.contains("ContainerNotFound")
        || text.contains("bucket does not exist")
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("").trim();
    if l.len() > 400 {
        format!(
            "{}...",
            &l[..l.char_indices().nth(400).map_or(l.len(), |(i, _)| i)]
        )
    } else {
        l.to_string()
    }
}

/// A create-only write's outcome.
pub enum PutNew {
    Exists,
    Failed(Problem),
}

type Built = Result<(Arc<dyn ObjectStore>, String), object_store::Error>;

/// How often a failed request (or a download cut off) is retried:
/// `object_store`'s defaults (10 times, within 3 minutes, with backoff), or
/// `$KUBECTL_REDIS_STORE_RETRIES` times.
fn retry() -> object_store::RetryConfig {
    let mut r = object_store::RetryConfig::default();
    if let Some(n) = env("KUBECTL_REDIS_STORE_RETRIES").and_then(|v| v.parse().ok()) {
        r.max_retries = n;
    }
    r
}

fn s3(root: &str) -> Built {
    let mut b = AmazonS3Builder::from_env()
        .with_url(root)
        .with_retry(retry());
    let endpoint = env("AWS_ENDPOINT_URL_S3")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| env("AWS_ENDPOINT"));
    if let Some(ep) = &endpoint {
        // An http:// endpoint is the user's explicit choice (MinIO, a lab).
        if ep.starts_with("http://") {
            b = b.with_allow_http(true);
        }
    }
    if env("AWS_REGION").is_none() && env("AWS_DEFAULT_REGION").is_none() {
        if let Some(r) = aws_profile_value("region") {
            b = b.with_region(r);
        }
    }
    let creds = if env("AWS_ACCESS_KEY_ID").is_some() {
        "AWS_ACCESS_KEY_ID from the environment".to_string()
    } else if env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        "web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, e.g. IRSA)".to_string()
    } else if env("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
        || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
    {
        "container credentials (EKS Pod Identity / ECS)".to_string()
    } else if let Some(profile) = aws_profile_in_use() {
        // The AWS SDK's own profile provider: static keys, SSO,
        // credential_process, assumed roles (object_store has none of it).
        let p = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(&profile)
            .build();
        b = b.with_credentials(Arc::new(SdkCredentials(
            aws_credential_types::provider::SharedCredentialsProvider::new(p),
        )));
        format!("profile {profile} from ~/.aws (through the AWS SDK)")
    } else {
        "instance metadata (IMDS), as no AWS credentials are set".to_string()
    };
    let creds = match &endpoint {
        Some(ep) => format!("{creds}, endpoint {ep}"),
        None => creds,
    };
    Ok((Arc::new(b.build()?), creds))
}

fn gcs(root: &str) -> Built {
    let b = GoogleCloudStorageBuilder::from_env()
        .with_url(root)
        .with_retry(retry());
    let creds = if env("GOOGLE_SERVICE_ACCOUNT").is_some()
        || env("GOOGLE_SERVICE_ACCOUNT_PATH").is_some()
        || env("GOOGLE_APPLICATION_CREDENTIALS").is_some()
    {
        "the service account file in $GOOGLE_APPLICATION_CREDENTIALS".to_string()
    } else if env("GOOGLE_SERVICE_ACCOUNT_KEY").is_some() {
        "the service account key in $GOOGLE_SERVICE_ACCOUNT_KEY".to_string()
    } else {
        "application default credentials, else the metadata server (GKE Workload Identity)"
            .to_string()
    };
    Ok((Arc::new(b.build()?), creds))
}

fn azure(root: &str) -> Built {
    let b = MicrosoftAzureBuilder::from_env()
        .with_url(root)
        .with_retry(retry());
    let creds = if env("AZURE_STORAGE_USE_EMULATOR").is_some() {
        "the storage emulator (Azurite)".to_string()
    } else if env("AZURE_STORAGE_ACCOUNT_KEY").is_some()
        || env("AZURE_STORAGE_ACCESS_KEY").is_some()
    {
        "the account key in $AZURE_STORAGE_ACCOUNT_KEY".to_string()
    } else if env("AZURE_STORAGE_SAS_KEY").is_some() || env("AZURE_STORAGE_SAS_TOKEN").is_some() {
        "the SAS token in $AZURE_STORAGE_SAS_KEY".to_string()
    } else if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        "workload identity ($AZURE_FEDERATED_TOKEN_FILE)".to_string()
    } else {
        "managed identity (instance metadata), as no Azure credentials are set".to_string()
    };
    Ok((Arc::new(b.build()?), creds))
}

/// The AWS profile in use: `$AWS_PROFILE`, else `default`.
fn aws_profile() -> String {
    env("AWS_PROFILE").unwrap_or_else(|| "default".into())
}

fn aws_dir_file(var: &str, name: &str) -> Option<std::path::PathBuf> {
    env(var)
        .map(std::path::PathBuf::from)
        .or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(".aws").join(name)))
}

/// `key` of section `section` in an INI text (the AWS files' format).
pub fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('#') || l.starts_with(';') || l.is_empty() {
            continue;
        }
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = s.trim().to_string();
            continue;
        }
        if current == section {
            if let Some((k, v)) = l.split_once('=') {
                if k.trim() == key {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

/// The profile to use, when there is one: `$AWS_PROFILE`, else `default`
/// when `~/.aws/credentials` or `~/.aws/config` exists.
fn aws_profile_in_use() -> Option<String> {
    if let Some(p) = env("AWS_PROFILE") {
        return Some(p);
    }
    let exists = |var: &str, name: &str| aws_dir_file(var, name).is_some_and(|p| p.exists());
    (exists("AWS_SHARED_CREDENTIALS_FILE", "credentials") || exists("AWS_CONFIG_FILE", "config"))
        .then(|| "default".to_string())
}

/// The AWS SDK's credential providers, as object_store's.
#[derive(Debug)]
struct SdkCredentials(aws_credential_types::provider::SharedCredentialsProvider);

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = object_store::aws::AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<Self::Credential>> {
        use aws_credential_types::provider::ProvideCredentials;
        let c = self
            .0
            .provide_credentials()
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: format!("the AWS profile gave no credentials: {}", error_chain(&e)).into(),
            })?;
        Ok(Arc::new(object_store::aws::AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        }))
    }
}

/// An error with its causes, one after the other.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// A setting of the profile in `~/.aws/config`.
fn aws_profile_value(key: &str) -> Option<String> {
    let profile = aws_profile();
    let section = if profile == "default" {
        profile
    } else {
        format!("profile {profile}")
    };
    let t =
        aws_dir_file("AWS_CONFIG_FILE", "config").and_then(|p| std::fs::read_to_string(p).ok())?;
    ini_value(&t, &section, key)
}

/// The listing of the repository `dir` (a directory or a URL; an absent
/// directory is empty); a failure is reported and gives `None`.
pub async fn listing_or_report(ui: &crate::ui::Ui, dir: &str) -> Option<(Repo, Listing)> {
    let repo = match Repo::open(dir) {
        Ok(r) => r,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return None;
        }
    };
    match repo.listing().await {
        Ok(l) => Some((repo, l)),
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket holding more objects under the prefix than a listing keeps
    /// is refused, naming the fix; objects under deeper prefixes do not
    /// count. Before, the whole listing was held in memory.
    #[tokio::test]
    async fn listings_are_bounded() {
        use object_store::ObjectStoreExt;
        let mem = Arc::new(object_store::memory::InMemory::new());
        let r = Remote {
            url: "s3://backups/prod".into(),
            store: mem.clone(),
            prefix: OPath::from("prod"),
            credentials: "test".into(),
            scheme: "s3".into(),
            bucket: "backups".into(),
        };
        for i in 0..MAX_ENTRIES {
            mem.put(
                &OPath::from(format!("prod/x{i}")),
                bytes::Bytes::new().into(),
            )
            .await
            .unwrap();
        }
        mem.put(&OPath::from("prod/deeper/y"), bytes::Bytes::new().into())
            .await
            .unwrap();
        assert_eq!(r.entries().await.map(|e| e.len()).ok(), Some(MAX_ENTRIES));
        mem.put(&OPath::from("prod/one-more"), bytes::Bytes::new().into())
            .await
            .unwrap();
        let e = r
            .entries()
            .await
            .err()
            .map(|p| p.message)
            .unwrap_or_default();
        assert!(e.contains("more than 100000 objects"), "{e}");
    }

    #[test]
    fn ini() {
        let t = "[default]\naws_access_key_id = A\n# c\n[profile x]\nregion=eu-west-1\n";
        assert_eq!(
            ini_value(t, "default", "aws_access_key_id").as_deref(),
            Some("A")
        );
        assert_eq!(
            ini_value(t, "profile x", "region").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(ini_value(t, "default", "region"), None);
    }

    #[test]
    fn remote_or_not() {
        assert!(is_remote("s3://b/p"));
        assert!(is_remote("az://c"));
        assert!(!is_remote("file:///tmp/x"));
        assert!(!is_remote("./backups"));
        assert_eq!(
            split("s3://b/p/redis-backup-1.rdb"),
            ("s3://b/p".to_string(), "redis-backup-1.rdb".to_string())
        );
        assert_eq!(split("s3://b"), ("s3://b".to_string(), String::new()));
    }
}
