//! Pods as the core's pod choice sees them.

use super::api_error;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::Api;
use kubectl_redis_core::kube::pods::{ContainerInfo, PodInfo};

/// Pods matching `selector`, or the one pod `name`, as the core sees them.
pub async fn list_pods(
    api: &Api<Pod>,
    selector: &str,
    name: Option<&str>,
) -> Result<Vec<PodInfo>, String> {
    let pods = match name {
        Some(n) => match api.get_opt(n).await.map_err(api_error)? {
            Some(p) => vec![p],
            None => vec![],
        },
        None => {
            api.list(&ListParams::default().labels(selector))
                .await
                .map_err(api_error)?
                .items
        }
    };
    Ok(pods.iter().map(pod_info).collect())
}

fn pod_info(p: &Pod) -> PodInfo {
    let status = p.status.as_ref();
    let name = p.metadata.name.clone().unwrap_or_default();
    PodInfo {
        uid: p.metadata.uid.clone().unwrap_or_default(),
        restarts: status
            .and_then(|s| s.container_statuses.as_ref())
            .map(|cs| {
                cs.iter()
                    .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0),
        owner: owner(p).unwrap_or_else(|| format!("Pod/{name}")),
        name,
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        ready: status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
        terminating: p.metadata.deletion_timestamp.is_some(),
        default_container: p
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubectl.kubernetes.io/default-container").cloned()),
        containers: p
            .spec
            .as_ref()
            .map(|s| {
                s.containers
                    .iter()
                    .map(|c| ContainerInfo {
                        name: c.name.clone(),
                        ports: c
                            .ports
                            .iter()
                            .flatten()
                            .filter_map(|p| {
                                Some((p.name.clone(), u16::try_from(p.container_port).ok()?))
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The workload owning a pod: a ReplicaSet's name minus its
/// pod-template-hash is its Deployment's.
fn owner(p: &Pod) -> Option<String> {
    let r = p
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))?;
    if r.kind == "ReplicaSet" {
        let hash = p
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"));
        if let Some(base) = hash.and_then(|h| r.name.strip_suffix(&format!("-{h}"))) {
            return Some(format!("Deployment/{base}"));
        }
    }
    Some(format!("{}/{}", r.kind, r.name))
}
