//! Pods as the core's pod choice sees them.

use super::api_error;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ListParams;
use kube::Api;
use kubectl_redis_core::backup::{ConnectError, Endpoint};
use kubectl_redis_core::kube::pods::{
    has_sentinel, is_sentinel, known_roles, port_in_argv, role_from_labels, roles_unknown,
    sentinel_in_argv, ContainerInfo, PodInfo, Roles, Target, Wanted, FALLBACK_SELECTORS,
};
use kubectl_redis_core::topo::replication::{apply_asked, Asked, Replication};
use kubectl_redis_core::topo::sentinel::{
    apply_roles, mark_watched, master_of, masters, peers, sentinel_port, View,
};
use kubectl_redis_core::wire::reply::Reply;

/// As [`list_pods`]; when the runbook's `app=redis` finds nothing (and no pod
/// is named), the labels charts and operators use are tried in turn, and
/// the one that matched is said. The pods' roles are settled as
/// [`find_pods_and_roles`] says.
pub async fn find_pods(
    ui: &crate::ui::Ui,
    api: &Api<Pod>,
    selector: &str,
    name: Option<&str>,
) -> Result<Vec<PodInfo>, String> {
    find_pods_and_roles(ui, api, selector, name)
        .await
        .map(|f| f.pods)
}

/// Pods found, and how their roles were learned.
pub struct Found {
    pub pods: Vec<PodInfo>,
    /// What Sentinel said, when it was asked.
    pub sentinel: Option<Result<View, String>>,
    /// The Ready pods' roles and how they are known, when any is.
    pub roles: Option<Roles>,
}

/// As [`find_pods`], also giving what Sentinel said when it was asked and
/// the roles found (`status` shows both). With Sentinel beside Redis, the
/// primary is the one Sentinel names. When several Ready pods match and
/// neither labels nor Sentinel say which is the primary, each is asked for
/// its `INFO replication` over a port-forward (no exec): exactly one
/// primary whose replicas are the others is marked so, and said; anything
/// else is said naming each pod's role, and the choice stays the user's.
pub async fn find_pods_and_roles(
    ui: &crate::ui::Ui,
    api: &Api<Pod>,
    selector: &str,
    name: Option<&str>,
) -> Result<Found, String> {
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
    // With Sentinel beside Redis, or on its own in the namespace, the
    // primary is the one Sentinel names.
    let mut seen = None;
    let mut by_sentinel = false;
    let beside = found.iter().any(has_sentinel);
    if name.is_none() && !found.is_empty() {
        let sentinels = if beside {
            found.clone()
        } else {
            standalone_sentinels(api, &found).await
        };
        if !sentinels.is_empty() {
            let view = sentinel_view(api, &sentinels, &found).await;
            match &view {
                Ok(v) => match apply_roles(&mut found, &v.master) {
                    Some((primary, overrode)) => {
                        by_sentinel = true;
                        let watched = if beside {
                            String::new()
                        } else {
                            let n = mark_watched(&mut found, v);
                            format!(" (a Sentinel on its own, watching {n} pod(s) here: restores go live)")
                        };
                        ui.note(&format!(
                            "Sentinel (asked in pod {}) names {}:{} the primary of {}: pod {primary}{}{watched}",
                            v.asked,
                            v.master.ip,
                            v.master.port,
                            v.master.name,
                            if overrode { " (not what its labels say)" } else { "" }
                        ))
                    }
                    None if !beside => ui.note(&format!(
                        "a Sentinel runs in pod {} and names {}:{} the primary of {}, which no pod here serves; it does not watch these pods",
                        v.asked, v.master.ip, v.master.port, v.master.name
                    )),
                    None => ui.warn(&format!(
                        "Sentinel names {}:{} the primary of {}, and no pod here serves that address; going by labels",
                        v.master.ip, v.master.port, v.master.name
                    )),
                },
                Err(e) => ui.warn(&format!(
                    "could not ask Sentinel{} which pod is the primary ({e}); going by labels",
                    if beside { "" } else { " (running on its own in this namespace)" }
                )),
            }
            seen = Some(view);
        }
    }
    let roles = if by_sentinel {
        known_roles(&found, "sentinel")
    } else if roles_unknown(&found, name.is_some()) {
        let asked = ask_roles(api, &found).await;
        let r = apply_asked(&mut found, &asked);
        match (&r.unsettled, r.pods.iter().find(|p| p.role == "primary")) {
            (None, Some(p)) => ui.note(&format!(
                "no pod is labelled with its role; asked each of the {} Ready pods for its INFO replication: {} is the primary and the others its replicas",
                asked.len(),
                p.pod
            )),
            (why, _) => ui.warn(&format!(
                "no pod is labelled with its role, and asking each of the {} Ready pods for its INFO replication settles nothing: {}",
                asked.len(),
                why.as_deref().unwrap_or("no primary")
            )),
        }
        Some(r)
    } else {
        known_roles(&found, "labels")
    };
    Ok(Found {
        pods: found,
        sentinel: seen,
        roles,
    })
}

/// The most pods asked for their role; more are left to labels and --pod.
const MAX_ASKED: usize = 16;

/// How long one pod has to answer `INFO replication`, port-forward included.
const ASK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Each Ready pod's `INFO replication`, asked at once through port-forwards
/// (with the user's password, else the pod's own).
async fn ask_roles(api: &Api<Pod>, pods: &[PodInfo]) -> Vec<Asked> {
    let mut ready: Vec<&PodInfo> = pods
        .iter()
        .filter(|p| p.ready && !p.terminating && p.phase == "Running")
        .collect();
    ready.sort_by(|a, b| a.name.cmp(&b.name));
    ready.truncate(MAX_ASKED);
    futures::future::join_all(ready.into_iter().map(|p| async move {
        let info = match tokio::time::timeout(ASK_TIMEOUT, ask_one(api, p)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", ASK_TIMEOUT.as_secs())),
        };
        Asked {
            pod: p.name.clone(),
            info,
        }
    }))
    .await
}

async fn ask_one(api: &Api<Pod>, p: &PodInfo) -> Result<Replication, String> {
    let t = kubectl_redis_core::kube::pods::select(
        std::slice::from_ref(p),
        &Wanted {
            pod: Some(&p.name),
            ..Default::default()
        },
    )
    .map_err(|e| format!("no Redis container: {e:?}"))?;
    let mut auth = crate::redis::auth::global().cloned().unwrap_or_default();
    if auth.password.is_none() {
        let client = api.clone().into_client();
        let ns = api.namespace().unwrap_or("default").to_string();
        let pod = api.get(&p.name).await.map_err(api_error)?;
        if let Some((pw, from)) =
            crate::kube::secrets::from_pod_env(&client, &ns, &pod, &t.container).await?
        {
            auth.password = Some(pw);
            auth.source = Some(from);
        }
    }
    let (mut conn, fwd) = crate::redis::open_authed(&Endpoint::Pod(t), Some(api), &auth).await?;
    let r = conn
        .command(&["INFO".to_string(), "replication".to_string()])
        .await;
    drop(conn);
    if let Some(f) = fwd {
        f.close();
    }
    match r? {
        Reply::Bulk(b) => Ok(Replication::parse(&String::from_utf8_lossy(&b))),
        Reply::Text(t) => Ok(Replication::parse(&t)),
        Reply::Error(e) => Err(e),
        other => Err(format!("INFO replication answered {other:?}")),
    }
}

/// Pods running Sentinel on their own in the namespace (Spotahome's
/// `rfs-*`, a Sentinel Deployment beside a Redis one): a container that
/// runs it (named like it, port 26379, or `redis-sentinel`/`--sentinel` in
/// its command), the label `app.kubernetes.io/component=sentinel`, or the
/// pods behind a Service exposing 26379. Best effort: a listing refused
/// (RBAC) finds nothing.
async fn standalone_sentinels(api: &Api<Pod>, redis: &[PodInfo]) -> Vec<PodInfo> {
    // The selectors of the Services exposing 26379.
    let services: Api<Service> = Api::namespaced(
        api.clone().into_client(),
        api.namespace().unwrap_or("default"),
    );
    let selectors: Vec<std::collections::BTreeMap<String, String>> = services
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|svc| {
            let spec = svc.spec?;
            let sentinel_port = spec.ports.iter().flatten().any(|p| {
                p.port == 26379 || matches!(&p.target_port, Some(IntOrString::Int(26379)))
            });
            spec.selector.filter(|s| sentinel_port && !s.is_empty())
        })
        .collect();
    // One listing of the namespace's pods, judged here: no call per label
    // or Service.
    let pods = api
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    pods.iter()
        .filter(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            let has = |k: &str, v: &str| labels.get(k).is_some_and(|x| x == v);
            has("app.kubernetes.io/component", "sentinel")
                || selectors
                    .iter()
                    .any(|sel| sel.iter().all(|(k, v)| has(k, v)))
        })
        .map(pod_info)
        .chain(pods.iter().map(pod_info).filter(has_sentinel))
        .fold(Vec::<PodInfo>::new(), |mut found, p| {
            if !found.iter().any(|f| f.name == p.name) && !redis.iter().any(|r| r.name == p.name) {
                found.push(p);
            }
            found
        })
}

/// Asks a Sentinel (the first Ready pod of `sentinels`, through a
/// port-forward) about the master set the `redis` pods serve: `SENTINEL
/// MASTERS`, then its replicas and Sentinels. Without a password first; on
/// NOAUTH, with the Redis container's own (the Bitnami chart gives Sentinel
/// the same): the Sentinel pod's Redis container, else the first Redis
/// pod's.
pub async fn sentinel_view(
    api: &Api<Pod>,
    sentinels: &[PodInfo],
    pods: &[PodInfo],
) -> Result<View, String> {
    let mut with: Vec<&PodInfo> = sentinels
        .iter()
        .filter(|p| p.ready && !p.terminating)
        .collect();
    with.sort_by(|a, b| a.name.cmp(&b.name));
    let pod = with.first().ok_or("no Ready pod runs Sentinel")?;
    // A pod found by its label or Service may not declare the port.
    let (container, port) = sentinel_port(pod)
        .or_else(|| pod.containers.first().map(|c| (c.name.clone(), 26379)))
        .ok_or("no Sentinel container")?;
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
            ConnectError::Tls(m) => m,
        })?;
    let result = async {
        let ask = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut r = conn.command(&ask(&["SENTINEL", "MASTERS"])).await?;
        if matches!(&r, Reply::Error(e) if e.starts_with("NOAUTH")) {
            let client = api.clone().into_client();
            let ns = api.namespace().unwrap_or("default").to_string();
            let beside = pod
                .containers
                .iter()
                .find(|c| !is_sentinel(c))
                .map(|c| (pod.name.clone(), c.name.clone()));
            let (holder, redis) = beside
                .or_else(|| {
                    let r = pods.iter().find(|p| p.ready)?;
                    let c = r.containers.iter().find(|c| !is_sentinel(c))?;
                    Some((r.name.clone(), c.name.clone()))
                })
                .ok_or("Sentinel needs a password and no Redis container here has one")?;
            let p = api.get(&holder).await.map_err(api_error)?;
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
        sentinel_pod: None,
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
                    .map(|c| {
                        let argv = argv_of(c);
                        ContainerInfo {
                            name: c.name.clone(),
                            ports: declared_ports(c),
                            // Only the port and whether it runs Sentinel are
                            // kept: the command line may hold a password.
                            argv_port: port_in_argv(&argv),
                            runs_sentinel: sentinel_in_argv(&argv),
                            tls: tls_spec(c),
                            env_port: c.env.iter().flatten().find_map(|v| {
                                matches!(v.name.as_str(), "REDIS_PORT" | "REDIS_PORT_NUMBER")
                                    .then(|| v.value.as_deref()?.trim().parse().ok())
                                    .flatten()
                            }),
                        }
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

/// What a container's command line, literal environment and ports say
/// about TLS (paths and ports only).
pub fn tls_spec(
    c: &k8s_openapi::api::core::v1::Container,
) -> kubectl_redis_core::kube::tls::TlsSpec {
    // Only TLS variables: a literal REDIS_PASSWORD never reaches the core.
    let env: Vec<(String, String)> = c
        .env
        .iter()
        .flatten()
        .filter(|v| v.name.starts_with("REDIS_TLS_") || v.name.starts_with("REDIS_SENTINEL_TLS_"))
        .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
        .collect();
    kubectl_redis_core::kube::tls::TlsSpec::from_container(&argv_of(c), &env, &declared_ports(c))
}

/// A container's command and args, in order (kept only for what is read
/// from them: the command line may hold a password).
fn argv_of(c: &k8s_openapi::api::core::v1::Container) -> Vec<String> {
    c.command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .cloned()
        .collect()
}

/// A container's declared ports: `(name, number)`.
fn declared_ports(c: &k8s_openapi::api::core::v1::Container) -> Vec<(Option<String>, u16)> {
    c.ports
        .iter()
        .flatten()
        .filter_map(|p| Some((p.name.clone(), u16::try_from(p.container_port).ok()?)))
        .collect()
}
