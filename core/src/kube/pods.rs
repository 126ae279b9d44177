//! Choosing the pod, container and port to back up, from a pod listing.

use crate::exit::Exit;
use serde::Serialize;

/// The facts about one pod that the choice needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodInfo {
    /// Pod name.
    pub name: String,
    /// `metadata.uid`: tells a replaced pod from a restarted one.
    pub uid: String,
    /// `status.phase`, e.g. `Running`.
    pub phase: String,
    /// The `Ready` condition is true.
    pub ready: bool,
    /// `metadata.deletionTimestamp` is set.
    pub terminating: bool,
    /// The `kubectl.kubernetes.io/default-container` annotation.
    pub default_container: Option<String>,
    /// Containers in spec order.
    pub containers: Vec<ContainerInfo>,
    /// Restarts of all its containers, summed.
    pub restarts: u32,
    /// The workload that owns it (`Deployment/redis`, `StatefulSet/redis`),
    /// or `Pod/NAME` for a bare pod.
    pub owner: String,
}

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerInfo {
    /// Container name.
    pub name: String,
    /// Declared container ports: `(name, port)`.
    pub ports: Vec<(Option<String>, u16)>,
}

/// Where the Redis server to back up runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// The port `redis-cli` connects to inside the pod.
    pub port: u16,
}

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted<'a> {
    /// `--pod`
    pub pod: Option<&'a str>,
    /// `--container`
    pub container: Option<&'a str>,
    /// `--redis-port`
    pub port: Option<u16>,
}

/// Why no target could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// No pod matches the selector (or `--pod` names none).
    NotFound,
    /// Pods match but none is Running and Ready: `(name, why)`.
    NoneReady(Vec<(String, String)>),
    /// Several Running and Ready pods match.
    Ambiguous(Vec<String>),
    /// `--container` names no container of the pod.
    NoSuchContainer {
        /// The pod.
        pod: String,
        /// What was asked for.
        wanted: String,
        /// What the pod has.
        available: Vec<String>,
    },
}

fn not_ready_reason(p: &PodInfo) -> Option<String> {
    if p.terminating {
        Some("terminating".to_string())
    } else if p.phase != "Running" {
        Some(format!(
            "phase {}",
            if p.phase.is_empty() {
                "unknown"
            } else {
                &p.phase
            }
        ))
    } else if !p.ready {
        Some("not Ready".to_string())
    } else {
        None
    }
}

/// Picks the target among `pods` (already filtered by the label selector,
/// or the one pod named by `--pod`).
///
/// Only Running, Ready, non-terminating pods qualify. Several qualifying pods
/// are refused rather than guessed between (a replica and a primary look the
/// same here); the error lists them so the user can name one with `--pod`.
pub fn select(pods: &[PodInfo], wanted: &Wanted<'_>) -> Result<Target, SelectError> {
    let candidates: Vec<&PodInfo> = match wanted.pod {
        Some(name) => pods.iter().filter(|p| p.name == name).collect(),
        None => pods.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(SelectError::NotFound);
    }
    let mut ready: Vec<&PodInfo> = candidates
        .iter()
        .copied()
        .filter(|p| not_ready_reason(p).is_none())
        .collect();
    ready.sort_by(|a, b| a.name.cmp(&b.name));
    let pod = match ready.as_slice() {
        [] => {
            let mut why: Vec<(String, String)> = candidates
                .iter()
                .map(|p| (p.name.clone(), not_ready_reason(p).unwrap_or_default()))
                .collect();
            why.sort();
            return Err(SelectError::NoneReady(why));
        }
        [one] => *one,
        many => {
            return Err(SelectError::Ambiguous(
                many.iter().map(|p| p.name.clone()).collect(),
            ))
        }
    };
    let container = choose_container(pod, wanted.container)?;
    let port = wanted.port.unwrap_or_else(|| choose_port(container));
    Ok(Target {
        pod: pod.name.clone(),
        container: container.name.clone(),
        port,
    })
}

fn choose_container<'p>(
    pod: &'p PodInfo,
    wanted: Option<&str>,
) -> Result<&'p ContainerInfo, SelectError> {
    let by_name = |n: &str| pod.containers.iter().find(|c| c.name == n);
    if let Some(w) = wanted {
        return by_name(w).ok_or_else(|| SelectError::NoSuchContainer {
            pod: pod.name.clone(),
            wanted: w.to_string(),
            available: pod.containers.iter().map(|c| c.name.clone()).collect(),
        });
    }
    let found = pod
        .default_container
        .as_deref()
        .and_then(by_name)
        .or_else(|| by_name("redis"))
        .or_else(|| by_name("valkey"))
        .or_else(|| {
            pod.containers
                .iter()
                .find(|c| c.ports.iter().any(|(_, p)| *p == 6379))
        })
        .or_else(|| pod.containers.first());
    found.ok_or_else(|| SelectError::NoSuchContainer {
        pod: pod.name.clone(),
        wanted: "(any)".to_string(),
        available: Vec::new(),
    })
}

/// A port named `redis`, else 6379 if declared, else the only declared port,
/// else 6379.
fn choose_port(c: &ContainerInfo) -> u16 {
    if let Some((_, p)) = c.ports.iter().find(|(n, _)| n.as_deref() == Some("redis")) {
        return *p;
    }
    if c.ports.iter().any(|(_, p)| *p == 6379) {
        return 6379;
    }
    match c.ports.as_slice() {
        [(_, p)] => *p,
        _ => 6379,
    }
}

/// Where to look, as the user asked.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Label selector (unused when `wanted.pod` is set).
    pub selector: &'a str,
    /// `--pod`, `--container`, `--redis-port`.
    pub wanted: Wanted<'a>,
}

/// Why no target: the exit code, what went wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// [`Exit::Error`] when the pods could not be listed, else [`Exit::Invalid`].
    pub exit: Exit,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Chooses the target from a pod listing (or the API error instead of one),
/// returning it with its pod; a refusal names the fix.
pub fn choose(
    listing: Result<Vec<PodInfo>, String>,
    q: &Query<'_>,
) -> Result<(Target, PodInfo), Refusal> {
    let ns = q.namespace;
    let list = listing.map_err(|e| Refusal {
        exit: Exit::Error,
        message: format!("cannot list pods in namespace {ns}: {e}"),
        hint: format!(
            "check the cluster with `kubectl cluster-info` and your access with `kubectl auth can-i list pods -n {ns}`"
        ),
    })?;
    match select(&list, &q.wanted) {
        Ok(t) => {
            let pod = list
                .iter()
                .find(|p| p.name == t.pod)
                .cloned()
                .unwrap_or_default();
            Ok((t, pod))
        }
        Err(e) => {
            let (message, hint) = explain(e, q);
            Err(Refusal {
                exit: Exit::Invalid,
                message,
                hint,
            })
        }
    }
}

fn explain(e: SelectError, q: &Query<'_>) -> (String, String) {
    let (ns, sel) = (q.namespace, q.selector);
    match e {
        SelectError::NotFound => match q.wanted.pod {
            Some(p) => (
                format!("redis pod not found: no pod {p} in namespace {ns}"),
                format!("list pods with `kubectl -n {ns} get pods`, or pass --namespace"),
            ),
            None => (
                format!("redis pod not found: no pod with label {sel} in namespace {ns}"),
                format!(
                    "check with `kubectl -n {ns} get pods -l {sel}`; choose the namespace with -n (or $NS) and the label with -l (or $APP_LABEL)"
                ),
            ),
        },
        SelectError::NoneReady(pods) => (
            format!(
                "redis pod not found: no Running and Ready pod in namespace {ns} ({})",
                pods.iter()
                    .map(|(n, why)| format!("{n}: {why}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("wait for the pod to become Ready; `kubectl -n {ns} describe pod NAME` says why it is not"),
        ),
        SelectError::Ambiguous(pods) => (
            format!(
                "{} Running and Ready pods match label {sel} in namespace {ns}: {}",
                pods.len(),
                pods.join(", ")
            ),
            "name the one to use with --pod NAME (the primary, if these are replicas)".to_string(),
        ),
        SelectError::NoSuchContainer { pod, wanted, available } => (
            format!("pod {pod} has no container {wanted} (it has: {})", available.join(", ")),
            "choose one of its containers with --container NAME".to_string(),
        ),
    }
}
