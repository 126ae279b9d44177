//! A run as a Kubernetes Job next to the data (`--in-cluster`): its
//! ServiceAccount, Role and RoleBinding made for the run alone, and the Job
//! running the plugin's own image, as plain JSON values; the lines the
//! Job's plugin prints ([`read_line`]) and what its pod's state means
//! ([`pod_state`]).
//!
//! The pod passes the Pod Security "restricted" profile: non-root, a
//! read-only root filesystem (a scratch `emptyDir` at `/tmp`), no
//! capabilities, no privilege escalation, the `RuntimeDefault` seccomp
//! profile. Secrets reach it as environment variables from Secrets, never
//! as literal values or arguments. `--job-overrides` is a JSON merge patch
//! (RFC 7386, an object) or a JSON patch (RFC 6902, an array of
//! operations) over the pod spec, as `kubectl run --overrides` with
//! `--override-type merge` or `json`; what it does to the profile is said
//! by [`restricted_violations`].

use serde_json::{json, Map, Value};

/// The label every object of a run carries, with the run's name.
pub const RUN_LABEL: &str = "kubectl-redis.io/run";

/// Where a PVC given with `--pvc` is mounted, and the plugin's scratch
/// directory (`$TMPDIR`) on the read-only root filesystem.
pub const PVC_DIR: &str = "/backups";
pub const TMP_DIR: &str = "/tmp";

/// Set in a run's pod: reach Redis over the pod network (the pod's IP, or
/// loopback for a host-network pod on the same node), never a port-forward.
pub const ENV_POD_NETWORK: &str = "KUBECTL_REDIS_POD_NETWORK";
/// Set in a run's pod: print the `-o json` result on one line after
/// [`RESULT_PREFIX`], among the progress lines.
pub const ENV_RESULT_LINE: &str = "KUBECTL_REDIS_RESULT_LINE";
/// Set in a run's pod: the node it runs on (the downward API).
pub const ENV_NODE: &str = "KUBECTL_REDIS_NODE";
/// What starts the line holding a run's result.
pub const RESULT_PREFIX: &str = "kubectl-redis-result: ";

/// A line of a run's log.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// The result document (`-o json`).
    Result(Value),
    /// Anything else: progress, notes, warnings, as the plugin prints them.
    Progress(String),
}

/// What a line of a run's log is. A result line that does not parse is
/// shown as progress (the run's exit code still counts).
pub fn read_line(line: &str) -> Line {
    let line = line.trim_end_matches(['\r', '\n']);
    match line.strip_prefix(RESULT_PREFIX) {
        Some(json) => match serde_json::from_str::<Value>(json) {
            Ok(v) if v.is_object() => Line::Result(v),
            _ => Line::Progress(line.to_string()),
        },
        None => Line::Progress(line.to_string()),
    }
}

/// What a run's pod is doing, from its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodState {
    /// Not started yet (scheduling, pulling, creating).
    Starting,
    Running,
    /// Cannot start and will not by waiting: the image cannot be pulled,
    /// a Secret it names is missing, ... (the waiting reason and message).
    Stuck {
        reason: String,
        message: String,
    },
    /// Its container ended with this code.
    Exited(i32),
}

/// The state of a run's pod from its container's status: the waiting
/// reason, the exit code once terminated.
pub fn pod_state(waiting: Option<(&str, &str)>, running: bool, exit: Option<i32>) -> PodState {
    if let Some(code) = exit {
        return PodState::Exited(code);
    }
    if running {
        return PodState::Running;
    }
    match waiting {
        Some((reason, message))
            if matches!(
                reason,
                "ImagePullBackOff"
                    | "ErrImageNeverPull"
                    | "InvalidImageName"
                    | "CreateContainerConfigError"
                    | "CreateContainerError"
                    | "RunContainerError"
            ) =>
        {
            PodState::Stuck {
                reason: reason.to_string(),
                message: message.to_string(),
            }
        }
        _ => PodState::Starting,
    }
}

/// The Role of a run that touches only the repository (`copy`, `verify`):
/// reading the Secrets it names (an identity), by name; nothing else.
pub fn repository_rules(secret_names: &[String]) -> Vec<Value> {
    if secret_names.is_empty() {
        return Vec::new();
    }
    vec![
        json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": secret_names, "verbs": ["get"]}),
    ]
}

/// The Role of a drill run: make, watch and remove its throwaway pod and
/// Lease, the Secrets it names (an identity) by name, Events about the
/// drill; no port-forward (the run reaches its pod over the pod network)
/// and no exec (the drill restores live).
pub fn drill_rules(secret_names: &[String]) -> Vec<Value> {
    let mut r = vec![
        json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "create", "delete"]}),
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "patch", "delete"]}),
        json!({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]}),
        json!({"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get"]}),
    ];
    r.extend(repository_rules(secret_names));
    r
}

/// The Role of a restore run: find the pod and wait for it again, exec
/// into it (the file swap), scale the writers down and back and record
/// their replicas (Deployments and StatefulSets), the Leases and Secrets
/// `access` names (by name where known), Events; no port-forward (the
/// run reaches Redis over the pod network).
pub fn restore_rules(access: &super::schedule::Access) -> Vec<Value> {
    let mut r = vec![
        json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}),
        json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]}),
        json!({"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get", "list", "patch"]}),
        json!({"apiGroups": ["apps"], "resources": ["deployments/scale", "statefulsets/scale"], "verbs": ["get", "patch", "update"]}),
        json!({"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get"]}),
        json!({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]}),
    ];
    if access.lease_names.is_empty() {
        r.push(json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "patch", "delete"]}));
    } else {
        r.push(json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]}));
        r.push(json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": access.lease_names, "verbs": ["get", "update", "patch", "delete"]}));
    }
    if !access.secret_names.is_empty() {
        r.push(json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": access.secret_names, "verbs": ["get"]}));
    }
    if access.services {
        r.push(json!({"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}));
    }
    r
}

/// The Role of a backup run: a scheduled backup's ([`super::schedule::rules`]:
/// no port-forward, the run reaches Redis over the pod network).
pub fn backup_rules(access: &super::schedule::Access) -> Vec<Value> {
    match super::schedule::rules(access) {
        Value::Array(rules) => rules,
        _ => Vec::new(),
    }
}

/// An environment variable taken from a Secret's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEnv {
    pub name: String,
    pub secret: String,
    pub key: String,
}

/// Requests and limits (`--job-resources cpu=100m,memory=128Mi,...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub requests: Vec<(String, String)>,
    pub limits: Vec<(String, String)>,
}

impl Default for Resources {
    /// Small: the work streams, whatever the data's size.
    fn default() -> Self {
        Resources {
            requests: vec![
                ("cpu".into(), "100m".into()),
                ("memory".into(), "64Mi".into()),
            ],
            limits: vec![("memory".into(), "256Mi".into())],
        }
    }
}

/// `cpu=100m,memory=128Mi` sets requests; a `requests.` or `limits.`
/// prefix says which (`limits.memory=512Mi`). A memory request without a
/// memory limit gets itself as the limit. Only `cpu`, `memory` and
/// `ephemeral-storage`; quantities are checked for their shape only.
pub fn parse_resources(s: &str) -> Result<Resources, String> {
    let mut r = Resources {
        requests: Vec::new(),
        limits: Vec::new(),
    };
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("{part}: expected NAME=QUANTITY, e.g. cpu=100m,memory=128Mi"))?;
        let (list, name) = match k.split_once('.') {
            Some(("requests", n)) => (&mut r.requests, n),
            Some(("limits", n)) => (&mut r.limits, n),
            Some(_) => return Err(format!("{k}: prefix with requests. or limits.")),
            None => (&mut r.requests, k),
        };
        if !matches!(name, "cpu" | "memory" | "ephemeral-storage") {
            return Err(format!("{name}: only cpu, memory and ephemeral-storage"));
        }
        let quantity_ok = !v.is_empty()
            && v.chars().next().is_some_and(|c| c.is_ascii_digit())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
        if !quantity_ok {
            return Err(format!(
                "{k}={v}: not a quantity (e.g. 100m, 0.5, 128Mi, 1G)"
            ));
        }
        list.retain(|(n, _)| n != name);
        list.push((name.to_string(), v.to_string()));
    }
    if r.requests.is_empty() && r.limits.is_empty() {
        return Err("no resources given (e.g. cpu=100m,memory=128Mi)".into());
    }
    // A memory request without a limit gets the request as its limit: a
    // runaway run is stopped rather than starving the node.
    if let Some((_, m)) = r.requests.iter().find(|(n, _)| n == "memory") {
        if !r.limits.iter().any(|(n, _)| n == "memory") {
            let m = m.clone();
            r.limits.push(("memory".into(), m));
        }
    }
    Ok(r)
}

/// One run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run's name ([`run_name`]): every object's name.
    pub name: String,
    pub namespace: String,
    /// The plugin's command (`backup`, `restore`, ...), for the labels.
    pub command: String,
    /// The image with the plugin as its entrypoint.
    pub image: String,
    /// The plugin's arguments.
    pub args: Vec<String>,
    /// Variables from Secrets (the Redis password, an identity).
    pub env: Vec<SecretEnv>,
    /// A Secret whose keys all become variables (repository credentials).
    pub env_from: Option<String>,
    /// A PVC mounted at [`PVC_DIR`] (a local repository).
    pub pvc: Option<String>,
    /// The node to prefer (the Redis pod's).
    pub node: Option<String>,
    pub resources: Resources,
    /// `ttlSecondsAfterFinished`.
    pub ttl_s: u32,
    /// `activeDeadlineSeconds`.
    pub deadline_s: u64,
    /// The Role's rules (what the run needs, no more).
    pub rules: Vec<Value>,
    /// `--job-overrides`: over the pod spec last ([`apply_overrides`]).
    pub overrides: Option<Value>,
    /// Annotations on the ServiceAccount (IRSA, workload identity).
    pub sa_annotations: Vec<(String, String)>,
}

/// A run's name: `kubectl-redis-COMMAND-YYYYMMDD-HHMMSS-SUFFIX` (at most 52
/// characters, so the Job's pods' names fit), from the time and a random
/// suffix the shell gives.
pub fn run_name(command: &str, unix_s: i64, suffix: &str) -> String {
    let stamp = crate::store::names::stamp(unix_s).replace('_', "-");
    let mut n = format!("kubectl-redis-{command}-{stamp}-{suffix}").to_ascii_lowercase();
    n.retain(|c| c.is_ascii_alphanumeric() || c == '-');
    n.truncate(52);
    n.trim_end_matches('-').to_string()
}

/// The labels of every object of `run`: `kubectl get all -l
/// kubectl-redis.io/run=NAME` finds them.
pub fn labels(run: &Run) -> Value {
    json!({
        "app.kubernetes.io/name": "kubectl-redis",
        "app.kubernetes.io/managed-by": "kubectl-redis",
        "app.kubernetes.io/component": run.command,
        RUN_LABEL: run.name,
    })
}

/// The run's ServiceAccount, Role, RoleBinding and Job, in the order to
/// create them (the Job last, once it may do what it needs); an error when
/// `--job-overrides` does not apply to the pod spec.
pub fn manifests(run: &Run) -> Result<Vec<Value>, String> {
    let labels = labels(run);
    let meta = || json!({"name": run.name, "namespace": run.namespace, "labels": labels});
    let mut sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(), "automountServiceAccountToken": true});
    if !run.sa_annotations.is_empty() {
        sa["metadata"]["annotations"] = Value::Object(
            run.sa_annotations
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect(),
        );
    }
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(), "rules": run.rules});
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": run.name},
        "subjects": [{"kind": "ServiceAccount", "name": run.name, "namespace": run.namespace}]
    });
    let mut env = vec![
        json!({"name": "NO_COLOR", "value": "1"}),
        json!({"name": "TMPDIR", "value": TMP_DIR}),
        json!({"name": ENV_POD_NETWORK, "value": "1"}),
        json!({"name": ENV_RESULT_LINE, "value": "1"}),
        json!({"name": ENV_NODE, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}),
    ];
    env.extend(run.env.iter().map(|e| {
        json!({"name": e.name, "valueFrom": {"secretKeyRef": {"name": e.secret, "key": e.key}}})
    }));
    let pairs = |l: &[(String, String)]| {
        Value::Object(
            l.iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<Map<String, Value>>(),
        )
    };
    let mut mounts = vec![json!({"name": "tmp", "mountPath": TMP_DIR})];
    let mut volumes = vec![json!({"name": "tmp", "emptyDir": {}})];
    if let Some(c) = &run.pvc {
        mounts.push(json!({"name": "repository", "mountPath": PVC_DIR}));
        volumes.push(json!({"name": "repository", "persistentVolumeClaim": {"claimName": c}}));
    }
    let mut container = json!({
        "name": run.command,
        "image": run.image,
        "args": run.args,
        "env": env,
        "volumeMounts": mounts,
        "resources": {"requests": pairs(&run.resources.requests), "limits": pairs(&run.resources.limits)},
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}
        },
        "terminationMessagePolicy": "FallbackToLogsOnError"
    });
    if let Some(s) = &run.env_from {
        container["envFrom"] = json!([{"secretRef": {"name": s}}]);
    }
    let mut pod = json!({
        "serviceAccountName": run.name,
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": true,
            // distroless's nonroot user.
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "fsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"}
        },
        "containers": [container],
        "volumes": volumes
    });
    if let Some(node) = &run.node {
        pod["affinity"] = json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "preference": {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
        }]}});
    }
    if let Some(o) = &run.overrides {
        apply_overrides(&mut pod, o)?;
    }
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": meta(),
        "spec": {
            // A failed run is not retried behind the user's back.
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": run.ttl_s,
            "activeDeadlineSeconds": run.deadline_s,
            "template": {"metadata": {"labels": labels}, "spec": pod}
        }
    });
    Ok(vec![sa, role, binding, job])
}

/// `--job-overrides` over a pod spec: an object is a JSON merge patch (RFC
/// 7386), an array a JSON patch (RFC 6902: `add`, `remove`, `replace`,
/// `test`), anything else an error. Nothing is changed when an operation
/// fails.
pub fn apply_overrides(pod: &mut Value, overrides: &Value) -> Result<(), String> {
    match overrides {
        Value::Object(_) => {
            merge_patch(pod, overrides);
            Ok(())
        }
        Value::Array(ops) => {
            let mut p = pod.clone();
            for (i, op) in ops.iter().enumerate() {
                json_patch_op(&mut p, op).map_err(|e| format!("operation {}: {e}", i + 1))?;
            }
            *pod = p;
            Ok(())
        }
        _ => Err(
            "give a JSON object (a merge patch) or an array of operations (a JSON patch)".into(),
        ),
    }
}

/// The tokens of a JSON pointer (RFC 6901).
fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("the path {path} does not start with /"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn json_patch_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let kind = op["op"].as_str().ok_or("no \"op\"")?;
    let path = op["path"].as_str().ok_or("no \"path\"")?;
    let mut toks = pointer(path)?;
    let Some(last) = toks.pop() else {
        return Err("the whole pod spec cannot be the path".into());
    };
    let mut parent = &mut *doc;
    for t in &toks {
        parent = match parent {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("{path}: {t} is not there"))?;
    }
    let value = || op.get("value").cloned().ok_or("no \"value\"");
    match (kind, parent) {
        ("add", Value::Object(m)) => {
            m.insert(last, value()?);
        }
        ("add", Value::Array(a)) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= a.len())
                    .ok_or_else(|| format!("{path}: no index {last}"))?
            };
            a.insert(i, value()?);
        }
        ("replace" | "remove" | "test", Value::Object(m)) => {
            let slot = m
                .get_mut(&last)
                .ok_or_else(|| format!("{path}: {last} is not there"))?;
            match kind {
                "replace" => *slot = value()?,
                "test" if *slot != value()? => return Err(format!("{path} differs")),
                "test" => {}
                _ => {
                    m.remove(&last);
                }
            }
        }
        ("replace" | "remove" | "test", Value::Array(a)) => {
            let i = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < a.len())
                .ok_or_else(|| format!("{path}: no index {last}"))?;
            match kind {
                "replace" => a[i] = value()?,
                "test" if a[i] != value()? => return Err(format!("{path} differs")),
                "test" => {}
                _ => {
                    a.remove(i);
                }
            }
        }
        ("add" | "replace" | "remove" | "test", _) => {
            return Err(format!("{path}: its parent is not an object or an array"))
        }
        (k, _) => return Err(format!("\"{k}\": only add, remove, replace and test")),
    }
    Ok(())
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes a
/// key, anything else (arrays included) replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// What in `pod` (a pod spec) the Pod Security "restricted" profile
/// refuses: empty for the spec [`manifests`] makes; an override that
/// weakens it (e.g. `hostNetwork`, which a cluster without a pod network
/// needs) is named, so the shell can say so before the namespace's
/// admission refuses it.
pub fn restricted_violations(pod: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[host] == json!(true) {
            out.push(format!("{host}: true"));
        }
    }
    if pod["volumes"]
        .as_array()
        .is_some_and(|v| v.iter().any(|v| v.get("hostPath").is_some()))
    {
        out.push("a hostPath volume".into());
    }
    let pod_non_root = pod["securityContext"]["runAsNonRoot"] == json!(true);
    let pod_seccomp = pod["securityContext"]["seccompProfile"]["type"].as_str();
    for c in pod["containers"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == json!(true) {
            out.push(format!("container {name}: privileged"));
        }
        if sc["allowPrivilegeEscalation"] != json!(false) {
            out.push(format!(
                "container {name}: allowPrivilegeEscalation not false"
            ));
        }
        if !(sc["runAsNonRoot"] == json!(true) || (pod_non_root && sc["runAsNonRoot"].is_null())) {
            out.push(format!("container {name}: runAsNonRoot not true"));
        }
        if sc["runAsUser"] == json!(0) || pod["securityContext"]["runAsUser"] == json!(0) {
            out.push(format!("container {name}: runAsUser 0"));
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "ALL"));
        if !drops_all {
            out.push(format!("container {name}: capabilities not dropping ALL"));
        }
        let adds = sc["capabilities"]["add"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x != "NET_BIND_SERVICE"));
        if adds {
            out.push(format!("container {name}: capabilities added"));
        }
        let seccomp = sc["seccompProfile"]["type"].as_str().or(pod_seccomp);
        if !matches!(seccomp, Some("RuntimeDefault") | Some("Localhost")) {
            out.push(format!(
                "container {name}: no RuntimeDefault seccomp profile"
            ));
        }
    }
    out
}
