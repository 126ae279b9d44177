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
use kubectl_redis_core::kube::lock::{Answer, LeaseError, LeaseState, Request};
use std::time::Duration;

/// Lease duration; renewed every third of it, taken over this long after a
/// holder stops renewing.
pub const DURATION_S: i64 = 15;

pub struct Locks {
    pub api: Api<Lease>,
    pub holder: String,
    renewal: Option<tokio::task::JoinHandle<()>>,
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
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| env::env_nonempty("HOSTNAME"))
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}/{}", std::process::id())
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
        Locks {
            api: Api::namespaced(client, namespace),
            holder,
            renewal: None,
        }
    }

    /// Does what the core asked about the lock.
    pub async fn perform(&mut self, request: Request) -> Answer {
        match request {
            Request::Get { name } => Answer::Found(self.get(&name).await),
            Request::Take {
                name,
                duration_s,
                replaces,
                ..
            } => Answer::Taken(self.take(&name, duration_s, replaces).await),
            Request::Release { name } => Answer::Released(self.release(&name).await),
        }
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
        match replaces {
            None => self.api.create(&pp, &lease).await.map(|_| ()),
            Some(_) => self.api.replace(name, &pp, &lease).await.map(|_| ()),
        }
        .map_err(lease_error)?;
        self.renewal = Some(tokio::spawn(renew(
            self.api.clone(),
            name.to_string(),
            self.holder.clone(),
            duration_s,
        )));
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

    /// Whether `holder` still renews a Lease here: waits (at most one lease
    /// duration) for either a renewal (alive) or expiry (gone).
    pub async fn holder_alive(&self, ui: &Ui, holder: &str) -> Result<bool, kube::Error> {
        let mut first: Option<i64> = None;
        let mut said = false;
        loop {
            let held = self
                .api
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter_map(|l| l.spec)
                .find(|s| s.holder_identity.as_deref() == Some(holder));
            let Some(spec) = held else { return Ok(false) };
            let renewed = renewed_of(&spec);
            let duration = spec
                .lease_duration_seconds
                .map(i64::from)
                .unwrap_or(DURATION_S);
            if renewed + duration < unix_now() {
                return Ok(false);
            }
            match first {
                None => first = Some(renewed),
                Some(f) if renewed > f => return Ok(true),
                Some(_) => {}
            }
            if !said {
                ui.line(
                    "recover",
                    &Line::Step(format!(
                        "{holder} holds the lock (renewed {}s ago): waiting up to {duration}s to see whether it is still running...",
                        (unix_now() - renewed).max(0)
                    )),
                );
                said = true;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Renews the Lease every third of its duration while we hold it.
async fn renew(api: Api<Lease>, name: String, holder: String, duration_s: i64) {
    let every = Duration::from_secs(u64::try_from(duration_s / 3).unwrap_or(5).max(1));
    loop {
        tokio::time::sleep(every).await;
        let Ok(Some(l)) = api.get_opt(&name).await else {
            continue;
        };
        if l.spec.and_then(|s| s.holder_identity).as_deref() != Some(holder.as_str()) {
            return;
        }
        let patch = serde_json::json!({"spec": {"renewTime": MicroTime(Timestamp::now())}});
        let _ = api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await;
    }
}
