//! Pods as the core's pod choice sees them.

use super::api_error;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::Api;
use kubectl_redis_core::backup::{ConnectError, Endpoint};
use kubectl_redis_core::kube::pods::{
    has_sentinel, port_in_argv, role_from_labels, ContainerInfo, PodInfo, Target,
    FALLBACK_SELECTORS,
};
use kubectl_redis_core::topo::sentinel::{
    apply_roles, master_of, masters, peers, sentinel_port, View,
};
use kubectl_redis_core::wire::reply::Reply;

/// As [`list_pods`]; when the runbook's `app=redis` finds nothing (and no pod
/// is named), the labels charts and operators use are tried in turn, and
/// the one that matched is said.
pub async fn find_pods(
    ui: &crate::ui::Ui,
    api: &Api<Pod>,
    selector: &str,
    name: Option<&str>,
) -> Result<Vec<PodInfo>, String> {
    find_pods_and_sentinel(ui, api, selector, name)
        .await
        .map(|(pods, _)| pods)
}

/// As [`find_pods`], also giving what Sentinel said when it was asked
/// (`status` shows it).
pub async fn find_pods_and_sentinel(
    ui: &crate::ui::Ui,
    api: &Api<Pod>,
    selector: &str,
    name: Option<&str>,
) -> Result<(Vec<PodInfo>, Option<Result<View, String>>), String> {
    let mut found = list_pods(api, selector, name).await?;
    if found.is_empty() && name.is_none() && selector == "app=redis" {
        for s in FALLBACK_SELECTORS {
            found = list_pods(api, s, None).await?;
            if !found.is_empty() {
                ui.note(&format!(
                    "no pod has the label app=redis; {} pod(s) have {s} (as charts and operators label Redis); -l chooses",
                    found.len()
                ));
                break;
            }
        }
    }
    // With Sentinel beside Redis, the primary is the one Sentinel names.
    let mut seen = None;
    if name.is_none() && found.iter().any(has_sentinel) {
        let view = sentinel_view(api, &found).await;
        match &view {
            Ok(v) => match apply_roles(&mut found, &v.master) {
                Some((primary, overrode)) => ui.note(&format!(
                    "Sentinel (asked in pod {}) names {}:{} the primary of {}: pod {primary}{}",
                    v.asked,
                    v.master.ip,
                    v.master.port,
                    v.master.name,
                    if overrode { " (not what its labels say)" } else { "" }
                )),
                None => ui.warn(&format!(
                    "Sentinel names {}:{} the primary of {}, and no pod here serves that address; going by labels",
                    v.master.ip, v.master.port, v.master.name
                )),
            },
            Err(e) => ui.warn(&format!(
                "could not ask Sentinel which pod is the primary ({e}); going by labels"
            )),
        }
        seen = Some(view);
    }
    Ok((found, seen))
}

/// Asks the Sentinel beside these pods (the first Ready one's, through a
/// port-forward) about the master set they serve: `SENTINEL MASTERS`, then
/// its replicas and Sentinels. Without a password first; on NOAUTH, with
/// the Redis container's own (the Bitnami chart gives Sentinel the same).
pub async fn sentinel_view(api: &Api<Pod>, pods: &[PodInfo]) -> Result<View, String> {
    let mut with: Vec<&PodInfo> = pods
        .iter()
        .filter(|p| has_sentinel(p) && p.ready && !p.terminating)
        .collect();
    with.sort_by(|a, b| a.name.cmp(&b.name));
    let pod = with.first().ok_or("no Ready pod runs Sentinel")?;
    let (container, port) = sentinel_port(pod).ok_or("no Sentinel container")?;
    let t = Target {
        pod: pod.name.clone(),
        container,
        port,
    };
    let (mut conn, fwd) = crate::redis::open(&Endpoint::Pod(t.clone()), Some(api))
        .await
        .map_err(|e| match e {
            ConnectError::Forbidden(m) | ConnectError::Failed(m) => {
                format!("port-forward to {}:{port}: {m}", pod.name)
            }
        })?;
    let result = async {
        let ask = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut r = conn.command(&ask(&["SENTINEL", "MASTERS"])).await?;
        if matches!(&r, Reply::Error(e) if e.starts_with("NOAUTH")) {
            let client = api.clone().into_client();
            let ns = api.namespace().unwrap_or("default").to_string();
            let p = api.get(&pod.name).await.map_err(api_error)?;
            let redis = pod
                .containers
                .iter()
                .find(|c| !c.name.contains("sentinel"))
                .map(|c| c.name.clone())
                .unwrap_or_default();
            let (pw, _) = crate::kube::secrets::from_pod_env(&client, &ns, &p, &redis)
                .await?
                .ok_or("Sentinel needs a password and the Redis container has none")?;
            if let Reply::Error(e) = conn.auth(None, &pw).await? {
                return Err(format!(
                    "Sentinel refused the Redis container's password: {e}"
                ));
            }
            r = conn.command(&ask(&["SENTINEL", "MASTERS"])).await?;
        }
        if let Reply::Error(e) = &r {
            return Err(format!("SENTINEL MASTERS: {e}"));
        }
        let all = masters(&r);
        let master = master_of(&all, pods).cloned().ok_or_else(|| {
            format!(
                "Sentinel monitors {} master sets and none is served here",
                all.len()
            )
        })?;
        let replicas = peers(
            &conn
                .command(&ask(&["SENTINEL", "REPLICAS", &master.name]))
                .await?,
        );
        let sentinels = peers(
            &conn
                .command(&ask(&["SENTINEL", "SENTINELS", &master.name]))
                .await?,
        );
        Ok(View {
            asked: pod.name.clone(),
            primary_pod: kubectl_redis_core::kube::pods::serving(pods, &master.ip, master.port)
                .map(|p| p.name.clone()),
            master,
            replicas,
            sentinels,
        })
    }
    .await;
    drop(conn);
    if let Some(f) = fwd {
        f.close();
    }
    result
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
        ip: status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        host_ip: status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
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
