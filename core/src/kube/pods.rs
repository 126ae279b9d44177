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
    /// Its role, from the labels charts and operators put on it:
    /// `Some(true)` a primary, `Some(false)` a replica, `None` unknown.
    pub primary: Option<bool>,
    /// `status.podIP`: how Sentinel and Redis Cluster know it.
    pub ip: String,
    /// `status.hostIP`: the node's address (a pod on the host's network
    /// has it as its own).
    pub host_ip: String,
    /// A Sentinel deployed on its own (in this other pod) watches this
    /// Redis: a restart of it makes Sentinel fail over, as with a Sentinel
    /// beside it ([`has_sentinel`]).
    pub sentinel_pod: Option<String>,
}

/// A pod's role from its labels: Bitnami's `app.kubernetes.io/component`
/// (`master`/`replica`) and `isMaster`, OpsTree's `redis-role`
/// (`master`/`slave`), Spotahome's `redisfailovers-role`.
pub fn role_from_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<bool> {
    for (k, v) in labels {
        match (k, v) {
            ("app.kubernetes.io/component", "master")
            | ("isMaster", "true")
            | ("redis-role", "master")
            | ("redisfailovers-role", "master") => return Some(true),
            ("app.kubernetes.io/component", "replica" | "slave")
            | ("isMaster", "false")
            | ("redis-role", "slave")
            | ("redisfailovers-role", "slave") => return Some(false),
            _ => {}
        }
    }
    None
}

/// How the Ready pods' roles were learned, and what they are (`status`
/// shows it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Roles {
    /// `labels`, `sentinel` (the pod Sentinel names), or `info` (each pod
    /// asked for its `INFO replication`).
    pub how: String,
    /// Each Ready pod, by name.
    pub pods: Vec<PodRole>,
    /// When asking settled nothing: why (each pod's role named).
    pub unsettled: Option<String>,
}

/// One pod's role in [`Roles`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodRole {
    /// The pod.
    pub pod: String,
    /// `primary`, `replica`, or `unknown`.
    pub role: String,
    /// What it said when asked (`primary with 1 replica(s)`, `replica of
    /// 10.0.0.5:6379`, `no answer (...)`).
    pub detail: Option<String>,
}

/// Whether asking each pod its role could settle the choice: no pod is
/// named, and several Ready pods match with none known as the primary.
pub fn roles_unknown(pods: &[PodInfo], named: bool) -> bool {
    let ready: Vec<&PodInfo> = pods
        .iter()
        .filter(|p| not_ready_reason(p).is_none())
        .collect();
    !named && ready.len() > 1 && !ready.iter().any(|p| p.primary == Some(true))
}

/// The roles of the Ready pods as their labels (or Sentinel) set them,
/// when any pod has one.
pub fn known_roles(pods: &[PodInfo], how: &str) -> Option<Roles> {
    let mut ready: Vec<&PodInfo> = pods
        .iter()
        .filter(|p| not_ready_reason(p).is_none())
        .collect();
    if !ready.iter().any(|p| p.primary.is_some()) {
        return None;
    }
    ready.sort_by(|a, b| a.name.cmp(&b.name));
    Some(Roles {
        how: how.into(),
        pods: ready
            .iter()
            .map(|p| PodRole {
                pod: p.name.clone(),
                role: match p.primary {
                    Some(true) => "primary",
                    Some(false) => "replica",
                    None => "unknown",
                }
                .into(),
                detail: None,
            })
            .collect(),
        unsettled: None,
    })
}

/// Which server a backup reads from (`backup --from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    /// A healthy replica when one is labelled, else the primary.
    #[default]
    Auto,
    /// Always the primary.
    Primary,
    /// A healthy replica, or nothing.
    Replica,
}

/// The Running and Ready pods of a listing labelled as replicas, by name.
pub fn labelled_replicas(pods: &[PodInfo]) -> Vec<&PodInfo> {
    let mut r: Vec<&PodInfo> = pods
        .iter()
        .filter(|p| p.primary == Some(false) && not_ready_reason(p).is_none())
        .collect();
    r.sort_by(|a, b| a.name.cmp(&b.name));
    r
}

/// Whether Sentinel runs beside Redis in this pod (a container named like
/// it, the Sentinel port 26379, or `redis-sentinel`/`--sentinel` in its
/// command), as the Bitnami chart deploys it: then a restart of this Redis
/// makes Sentinel fail over.
pub fn has_sentinel(p: &PodInfo) -> bool {
    p.containers.iter().any(is_sentinel)
}

/// Whether this container runs Sentinel.
pub fn is_sentinel(c: &ContainerInfo) -> bool {
    c.runs_sentinel || c.name.contains("sentinel") || c.ports.iter().any(|(_, port)| *port == 26379)
}

/// Whether `redis-sentinel` (or `valkey-sentinel`) or `--sentinel` is in a
/// container's command and args (`redis-server /conf/s.conf --sentinel`).
pub fn sentinel_in_argv(argv: &[String]) -> bool {
    argv.iter().flat_map(|a| a.split_whitespace()).any(|w| {
        w == "--sentinel"
            || w.rsplit('/')
                .next()
                .is_some_and(|b| b == "redis-sentinel" || b == "valkey-sentinel")
    })
}

/// Where a Sentinel that watches this Redis runs, for messages: `beside
/// Redis in pod NAME`, or `in pod NAME, watching it` (on its own); `None`
/// when none does.
pub fn sentinel_watching(p: &PodInfo) -> Option<String> {
    if has_sentinel(p) {
        return Some(format!("beside Redis in pod {}", p.name));
    }
    p.sentinel_pod
        .as_ref()
        .map(|s| format!("in pod {s}, watching it"))
}

/// The selectors tried, in order, when the user names none: the runbook's,
/// then the labels the Bitnami charts, Valkey charts and operators put on
/// Redis pods.
pub const FALLBACK_SELECTORS: &[&str] = &[
    "app.kubernetes.io/name=redis",
    "app.kubernetes.io/name=valkey",
    "app.kubernetes.io/component=redis",
    "redis_setup_type",
];

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerInfo {
    /// Container name.
    pub name: String,
    /// Declared container ports: `(name, port)`.
    pub ports: Vec<(Option<String>, u16)>,
    /// `--port N` from its command and args ([`port_in_argv`]). The command
    /// line itself is never kept: it may hold a password (`--requirepass`).
    pub argv_port: Option<u16>,
    /// `REDIS_PORT` or `REDIS_PORT_NUMBER` from its environment (literal).
    pub env_port: Option<u16>,
    /// Its command runs Sentinel ([`sentinel_in_argv`]).
    pub runs_sentinel: bool,
    /// What its command line and environment say about TLS.
    pub tls: crate::kube::tls::TlsSpec,
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
    // Labelled roles settle a primary among its replicas.
    let primaries: Vec<&PodInfo> = ready
        .iter()
        .copied()
        .filter(|p| p.primary == Some(true))
        .collect();
    if ready.len() > 1 && primaries.len() == 1 {
        ready = primaries;
    }
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
    let port = wanted.port.unwrap_or_else(|| port_of(container).0);
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

/// The Redis port of a container and why: a port named `redis`, else one
/// named `tcp-redis` or containing `redis`, else its TLS port when the
/// plain one is off ([`TlsSpec::only_port`](crate::kube::tls::TlsSpec::only_port)), else 6379 if declared, else the
/// only declared port, else `--port N` in its command or args, else its
/// `REDIS_PORT`/`REDIS_PORT_NUMBER`, else 6379.
pub fn port_of(c: &ContainerInfo) -> (u16, String) {
    let named = |pred: &dyn Fn(&str) -> bool| {
        c.ports
            .iter()
            .find(|(n, _)| n.as_deref().is_some_and(pred))
            .map(|(n, p)| (*p, n.clone().unwrap_or_default()))
    };
    if let Some((p, _)) = named(&|n| n == "redis") {
        return (p, "the port named redis".into());
    }
    if let Some((p, n)) = named(&|n| n == "tcp-redis" || n.to_ascii_lowercase().contains("redis")) {
        return (p, format!("the port named {n}"));
    }
    if let Some(found) = c.tls.only_port() {
        return found;
    }
    if c.ports.iter().any(|(_, p)| *p == 6379) {
        return (6379, "6379 is declared".into());
    }
    if let [(_, p)] = c.ports.as_slice() {
        return (*p, "its only declared port".into());
    }
    if let Some(p) = c.argv_port {
        return (p, "--port in its command line (no port declared)".into());
    }
    if let Some(p) = c.env_port {
        return (
            p,
            "its REDIS_PORT environment variable (no port declared)".into(),
        );
    }
    (6379, "the default (no port declared or configured)".into())
}

/// `--port N` or `--port=N` in a container's command and args, also inside
/// `sh -c "redis-server --port N"`; a value that is not a number (`$PORT`)
/// does not count.
pub fn port_in_argv(argv: &[String]) -> Option<u16> {
    let words: Vec<&str> = argv.iter().flat_map(|a| a.split_whitespace()).collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let v = match w.strip_prefix("--port=") {
            Some(v) => Some(v),
            None if *w == "--port" => words.get(i + 1).copied(),
            None => None,
        };
        v.and_then(|v| v.parse::<u16>().ok()).filter(|p| *p > 0)
    })
}

/// Why the target's port is what it is, when that is worth saying (not
/// `--redis-port`, not a port named `redis`).
pub fn port_reason(pod: &PodInfo, t: &Target) -> Option<String> {
    let c = pod.containers.iter().find(|c| c.name == t.container)?;
    let (p, why) = port_of(c);
    (p == t.port && why != "the port named redis").then_some(why)
}

/// Whether the target's port speaks TLS by its container's spec, and why
/// (the plugin then connects with TLS without a flag).
pub fn tls_reason(pod: &PodInfo, t: &Target) -> Option<String> {
    let c = pod.containers.iter().find(|c| c.name == t.container)?;
    c.tls.on(t.port)
}

fn loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1" || ip == "localhost"
}

/// The pod serving `ip:port` (as Sentinel and Redis Cluster name nodes):
/// the one with that pod IP and Redis port; or,
/// when Sentinel knows the primary by a loopback address (pods on the
/// host's network), the only pod with that Redis port.
pub fn serving<'a>(pods: &'a [PodInfo], ip: &str, port: u16) -> Option<&'a PodInfo> {
    let redis_port = |p: &PodInfo| {
        p.containers
            .iter()
            .filter(|c| !c.name.contains("sentinel"))
            .any(|c| port_of(c).0 == port)
    };
    if let Some(p) = pods.iter().find(|p| p.ip == ip && redis_port(p)) {
        return Some(p);
    }
    if loopback(ip) || pods.iter().any(|p| p.host_ip == ip) {
        let by_port: Vec<&PodInfo> = pods.iter().filter(|p| redis_port(p)).collect();
        if let [one] = by_port.as_slice() {
            return Some(one);
        }
    }
    None
}

/// The target serving `host:port`: its pod, its Redis container, that port.
pub fn target_serving(pods: &[PodInfo], host: &str, port: u16) -> Result<Target, String> {
    let p = serving(pods, host, port).ok_or_else(|| {
        format!("no pod serves {host}:{port} (nodes are matched to pods by IP and port; see `kubectl get pods -o wide`)")
    })?;
    select(
        std::slice::from_ref(p),
        &Wanted {
            pod: Some(&p.name),
            port: Some(port),
            ..Default::default()
        },
    )
    .map_err(|e| format!("pod {}: {e:?}", p.name))
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
