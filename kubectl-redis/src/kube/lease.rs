//! The lock Lease (coordination.k8s.io/v1) shared by backup and restore:
//! read, take (create or replace one exact version), renew in the
//! background every third of its duration, release.

use crate::env::{self, unix_now};
use crate::kube::api_error;
use crate::ui::Ui;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Api, Client};
use kubectl_redis_core::backup::Line;
use kubectl_redis_core::kube::lock::{self, Answer, LeaseError, LeaseState, Request};
use std::sync::Arc;
use std::time::Duration;

/// Lease duration; renewed every third of it, taken over this long after a
/// holder stops renewing.
pub const DURATION_S: i64 = 15;

pub struct Locks {
    pub api: Api<Lease>,
    pub holder: String,
    renewal: Option<tokio::task::JoinHandle<()>>,
    /// The version of the Lease this process wrote last (shared with the
    /// renewal).
    version: Option<Arc<tokio::sync::Mutex<String>>>,
    /// Why the Lease this process took was lost (set by the renewal).
    lost: tokio::sync::watch::Receiver<Option<String>>,
    lost_tx: tokio::sync::watch::Sender<Option<String>>,
}

/// Milliseconds on a clock that keeps counting while the machine sleeps
/// (`CLOCK_BOOTTIME` on Linux; `CLOCK_MONOTONIC`, which does on macOS,
/// elsewhere): a laptop that slept through its renewals must know it.
pub fn boot_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let clock = libc::CLOCK_BOOTTIME;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let clock = libc::CLOCK_MONOTONIC;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1000
        + u64::try_from(ts.tv_nsec).unwrap_or(0) / 1_000_000
}

/// Waits until `rx` says the Lease was lost, and says why; never returns
/// while it is held (or when nothing was taken).
pub async fn lost_signal(rx: &mut tokio::sync::watch::Receiver<Option<String>>) -> String {
    loop {
        if let Some(w) = rx.borrow_and_update().clone() {
            return w;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        if let Some(h) = self.renewal.take() {
            h.abort();
        }
    }
}

fn lease_error(e: kube::Error) -> LeaseError {
    match e {
        kube::Error::Api(s) if s.code == 409 => LeaseError::Conflict,
        kube::Error::Api(s) if s.code == 403 => LeaseError::Forbidden(s.message),
        other => LeaseError::Other(api_error(other)),
    }
}

/// `user@host/pid`: who holds the Lease (and, for restore, scaled writers).
/// The user is `$USER`, else the kubeconfig user (as the API server's audit
/// log knows them), else `unknown`.
pub fn holder(kube_user: Option<&str>) -> String {
    let user = env::env_nonempty("USER")
        .or_else(|| kube_user.map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}/{}", env::hostname(), std::process::id())
}

fn renewed_of(spec: &LeaseSpec) -> i64 {
    spec.renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0.as_second())
        .unwrap_or(0)
}

impl Locks {
    pub fn new(client: Client, namespace: &str, holder: String) -> Self {
        let (lost_tx, lost) = tokio::sync::watch::channel(None);
        Locks {
            api: Api::namespaced(client, namespace),
            holder,
            renewal: None,
            version: None,
            lost,
            lost_tx,
        }
    }

    /// A receiver of the same, for a `select!` beside the work.
    pub fn lost_watch(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.lost.clone()
    }

    /// Does what the core asked about the lock.
    pub async fn perform(&mut self, ui: &Ui, request: Request) -> Answer {
        match request {
            Request::Get { name } => Answer::Found(self.observe(ui, &name).await),
            Request::Take {
                name,
                duration_s,
                replaces,
                ..
            } => Answer::Taken(self.take(&name, duration_s, replaces).await),
            Request::Release { name } => Answer::Released(self.release(&name).await),
            Request::Note { name, key, value } => {
                Answer::Noted(self.note(&name, &key, &value).await)
            }
        }
    }

    /// The Lease, for deciding whether to take it: one held by another
    /// holder that looks stale by its own `renewTime` is watched (one
    /// duration and a second) and answered with how long it stayed
    /// unchanged, so it is taken over only on what this process saw.
    pub async fn observe(&self, ui: &Ui, name: &str) -> Result<Option<LeaseState>, LeaseError> {
        let found = self.get(name).await?;
        let first = match &found {
            Some(l) if lock::worth_watching(Some(l), &self.holder, unix_now()) => l.clone(),
            _ => return Ok(found),
        };
        let wait = lock::watch_ms(&first);
        ui.line(
            "lock",
            &Line::Step(format!(
                "the lock Lease {name} held by {} looks stale by its own clock: watching it {}s before taking it over...",
                first.holder,
                wait / 1000
            )),
        );
        let t0 = boot_ms();
        let mut latest = Some(first.clone());
        while boot_ms().saturating_sub(t0) < wait {
            tokio::time::sleep(Duration::from_millis(500)).await;
            latest = self.get(name).await?;
            if latest.as_ref().map(|l| &l.resource_version) != Some(&first.resource_version) {
                break;
            }
        }
        Ok(lock::watched(&first, latest, boot_ms().saturating_sub(t0)))
    }

    pub async fn get(&self, name: &str) -> Result<Option<LeaseState>, LeaseError> {
        let Some(l) = self.api.get_opt(name).await.map_err(lease_error)? else {
            return Ok(None);
        };
        let spec = l.spec.unwrap_or_default();
        Ok(Some(LeaseState {
            holder: spec.holder_identity.clone().unwrap_or_default(),
            renewed_unix: renewed_of(&spec),
            duration_s: spec
                .lease_duration_seconds
                .map(i64::from)
                .unwrap_or(DURATION_S),
            resource_version: l.metadata.resource_version.unwrap_or_default(),
            unchanged_ms: None,
        }))
    }

    pub async fn take(
        &mut self,
        name: &str,
        duration_s: i64,
        replaces: Option<String>,
    ) -> Result<(), LeaseError> {
        let now = MicroTime(Timestamp::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                resource_version: replaces.clone(),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_string(),
                        "kubectl-redis".to_string(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.holder.clone()),
                lease_duration_seconds: Some(
                    i32::try_from(duration_s).unwrap_or(DURATION_S as i32),
                ),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                ..LeaseSpec::default()
            }),
        };
        let pp = PostParams::default();
        let written = match replaces {
            None => self.api.create(&pp, &lease).await,
            Some(_) => self.api.replace(name, &pp, &lease).await,
        }
        .map_err(lease_error)?;
        let _ = self.lost_tx.send(None);
        let version = Arc::new(tokio::sync::Mutex::new(
            written.metadata.resource_version.unwrap_or_default(),
        ));
        self.version = Some(version.clone());
        self.renewal = Some(tokio::spawn(renew(
            self.api.clone(),
            Renewal {
                name: name.to_string(),
                holder: self.holder.clone(),
                duration_s,
                version,
            },
            self.lost_tx.clone(),
        )));
        Ok(())
    }

    /// Sets the annotation `key` on the Lease `name` (ours), over the
    /// version the renewal last wrote, which then follows.
    pub async fn note(&self, name: &str, key: &str, value: &str) -> Result<(), String> {
        let Some(version) = &self.version else {
            return Err("the Lease is not held".into());
        };
        let mut v = version.lock().await;
        let patch =
            serde_json::json!({"metadata": {"resourceVersion": *v, "annotations": {key: value}}});
        let l = self
            .api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(api_error)?;
        *v = l.metadata.resource_version.unwrap_or_default();
        Ok(())
    }

    /// Stops renewing, and deletes the Lease if (and only if) we hold it.
    pub async fn release(&mut self, name: &str) -> Result<(), String> {
        if let Some(h) = self.renewal.take() {
            h.abort();
        }
        match self.get(name).await {
            Ok(Some(l)) if l.holder == self.holder => {
                let dp = DeleteParams {
                    preconditions: Some(Preconditions {
                        resource_version: Some(l.resource_version),
                        uid: None,
                    }),
                    ..DeleteParams::default()
                };
                self.api
                    .delete(name, &dp)
                    .await
                    .map(|_| ())
                    .map_err(api_error)
            }
            Ok(_) => Ok(()),
            Err(LeaseError::Forbidden(m) | LeaseError::Other(m)) => Err(m),
            Err(LeaseError::Conflict) => Ok(()),
        }
    }

    /// Removes the Leases a dead `holder` left (no longer renewed), each only
    /// if nobody took it over meanwhile. Returns their names.
    pub async fn remove_stale(&self, holder: &str) -> Result<Vec<String>, String> {
        let leases = self
            .api
            .list(&ListParams::default())
            .await
            .map_err(api_error)?;
        let mut removed = Vec::new();
        for l in leases.items {
            let (Some(name), Some(spec)) = (l.metadata.name.clone(), l.spec.as_ref()) else {
                continue;
            };
            let duration = spec
                .lease_duration_seconds
                .map(i64::from)
                .unwrap_or(DURATION_S);
            if spec.holder_identity.as_deref() != Some(holder)
                || renewed_of(spec) + duration >= unix_now()
            {
                continue;
            }
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    resource_version: l.metadata.resource_version.clone(),
                    uid: None,
                }),
                ..DeleteParams::default()
            };
            match self.api.delete(&name, &dp).await {
                Ok(_) => removed.push(name),
                // Taken over or gone meanwhile: not ours to remove.
                Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
                Err(e) => return Err(api_error(e)),
            }
        }
        Ok(removed)
    }

    /// Whether `holder` still renews a Lease here, judged only by what this
    /// process sees (never by comparing its clock with the holder's): alive
    /// as soon as its Lease is renewed; gone when it has none, or when its
    /// Lease stays unrenewed for one duration and a second.
    pub async fn holder_alive(&self, ui: &Ui, holder: &str) -> Result<bool, kube::Error> {
        let held = |leases: Vec<Lease>| {
            leases.into_iter().find(|l| {
                l.spec.as_ref().and_then(|s| s.holder_identity.as_deref()) == Some(holder)
            })
        };
        let Some(first) = held(self.api.list(&ListParams::default()).await?.items) else {
            return Ok(false);
        };
        let name = first.metadata.name.clone().unwrap_or_default();
        let version = first.metadata.resource_version.clone().unwrap_or_default();
        let spec = first.spec.unwrap_or_default();
        let duration = spec
            .lease_duration_seconds
            .map(i64::from)
            .unwrap_or(DURATION_S);
        let wait = u64::try_from(duration.max(1)).unwrap_or(15) * 1000 + 1000;
        ui.line(
            "recover",
            &Line::Step(format!(
                "{holder} holds the lock Lease {name} (its renewTime says {}s ago): watching it up to {}s to see whether it is still renewed...",
                (unix_now() - renewed_of(&spec)).max(0),
                wait / 1000
            )),
        );
        let t0 = boot_ms();
        while boot_ms().saturating_sub(t0) < wait {
            tokio::time::sleep(Duration::from_millis(500)).await;
            match self.api.get_opt(&name).await? {
                None => return Ok(false),
                Some(l)
                    if l.spec.as_ref().and_then(|s| s.holder_identity.as_deref())
                        != Some(holder) =>
                {
                    return Ok(false)
                }
                Some(l) if l.metadata.resource_version.as_deref() != Some(version.as_str()) => {
                    return Ok(true)
                }
                Some(_) => {}
            }
        }
        Ok(false)
    }
}

struct Renewal {
    name: String,
    holder: String,
    duration_s: i64,
    /// The version we last wrote: any other means someone else wrote it.
    /// Shared with [`Locks::note`], which writes the Lease too; held for a
    /// whole renewal so the two never cross.
    version: Arc<tokio::sync::Mutex<String>>,
}

/// Renews the Lease every third of its duration while we hold it, each
/// time only over the version we wrote last. Stops, telling `lost` why,
/// when the Lease is gone, someone else wrote it, or no renewal succeeded
/// for two thirds of its duration on a clock that counts sleep: then
/// another process, watching it unrenewed, may take it over.
async fn renew(api: Api<Lease>, r: Renewal, lost: tokio::sync::watch::Sender<Option<String>>) {
    let every = Duration::from_secs(u64::try_from(r.duration_s / 3).unwrap_or(5).max(1));
    let mut last_ok = boot_ms();
    let mut failing = false;
    loop {
        // After a failed renewal, try again every second.
        tokio::time::sleep(if failing {
            Duration::from_secs(1)
        } else {
            every
        })
        .await;
        failing = true;
        let mut version = r.version.lock().await;
        let since = boot_ms().saturating_sub(last_ok);
        let found = match api.get_opt(&r.name).await {
            Ok(l) => Ok(l),
            Err(e) => Err(api_error(e)),
        };
        let state = found.as_ref().map(|l| {
            l.as_ref().map(|l| LeaseState {
                holder: l
                    .spec
                    .as_ref()
                    .and_then(|s| s.holder_identity.clone())
                    .unwrap_or_default(),
                renewed_unix: l.spec.as_ref().map(renewed_of).unwrap_or(0),
                duration_s: r.duration_s,
                resource_version: l.metadata.resource_version.clone().unwrap_or_default(),
                unchanged_ms: None,
            })
        });
        let verdict = lock::lost(
            match &state {
                Ok(l) => Ok(l.as_ref()),
                Err(e) => Err(e.as_str()),
            },
            &r.holder,
            &version,
            since,
            r.duration_s,
        );
        if let Some(why) = verdict {
            let _ = lost.send(Some(why));
            return;
        }
        if state.is_err() {
            continue;
        }
        // A merge patch carrying the version we wrote: refused (409) if
        // anyone wrote the Lease since.
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": *version},
            "spec": {"renewTime": MicroTime(Timestamp::now())}
        });
        match api
            .patch(&r.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(l) => {
                *version = l.metadata.resource_version.unwrap_or_default();
                last_ok = boot_ms();
                failing = false;
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let _ = lost.send(Some("someone else wrote it".into()));
                return;
            }
            Err(_) => {}
        }
    }
}
