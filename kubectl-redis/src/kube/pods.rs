//! Pods as the core's pod choice sees them.

use super::api_error;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::Api;
use kubectl_redis_core::kube::pods::{
    port_in_argv, role_from_labels, ContainerInfo, PodInfo, FALLBACK_SELECTORS,
};

/// As [`list_pods`]; when the runbook's `app=redis` finds nothing (and no pod
/// is named), the labels charts and operators use are tried in turn, and
/// the one that matched is said.
pub async fn find_pods(
    ui: &crate::ui::Ui,
    api: &Api<Pod>,
    selector: &str,
    name: Option<&str>,
) -> Result<Vec<PodInfo>, String> {
    let first = list_pods(api, selector, name).await?;
    if !first.is_empty() || name.is_some() || selector != "app=redis" {
        return Ok(first);
    }
    for s in FALLBACK_SELECTORS {
        let found = list_pods(api, s, None).await?;
        if !found.is_empty() {
            ui.note(&format!(
                "no pod has the label app=redis; {} pod(s) have {s} (as charts and operators label Redis); -l chooses",
                found.len()
            ));
            return Ok(found);
        }
    }
    Ok(first)
}

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
        primary: p
            .metadata
            .labels
            .as_ref()
            .and_then(|l| role_from_labels(l.iter().map(|(k, v)| (k.as_str(), v.as_str())))),
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
                        // Only the port is kept: the command line may hold a password.
                        argv_port: port_in_argv(
                            &c.command
                                .iter()
                                .flatten()
                                .chain(c.args.iter().flatten())
                                .cloned()
                                .collect::<Vec<_>>(),
                        ),
                        env_port: c.env.iter().flatten().find_map(|v| {
                            matches!(v.name.as_str(), "REDIS_PORT" | "REDIS_PORT_NUMBER")
                                .then(|| v.value.as_deref()?.trim().parse().ok())
                                .flatten()
                        }),
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
