//! `kubectl redis archive start`: the archiver as a Deployment next to
//! Redis (1 replica, `Recreate`: never two archivers of one archive), with
//! a ServiceAccount and the least RBAC it needs, credentials from Secrets
//! only, and a Service naming its metrics port. Plain JSON values, applied
//! or printed by the shell.

use serde_json::{json, Value};

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Namespace of Redis (and of the archiver).
    pub namespace: String,
    /// Object names (`kubectl-redis-archiver` unless given).
    pub name: String,
    /// The plugin's image.
    pub image: String,
    /// Arguments after `archive run` (target, repository, limits...).
    pub run_args: Vec<String>,
    /// A Secret whose keys become the archiver's environment (storage
    /// credentials): never literal values.
    pub env_secret: Option<String>,
    /// Secrets the archiver reads through the API (the Redis password, the
    /// pod's TLS files): `get` on these names only.
    pub secret_names: Vec<String>,
    /// `list` on Services (a TLS certificate checked against their names).
    pub services: bool,
    /// Annotations on the ServiceAccount (workload identity).
    pub sa_annotations: Vec<(String, String)>,
    /// `--tls-from-secret`: mounted read-only, given as `--tls-from-dir`.
    pub tls_secret: Option<String>,
    /// A ServiceMonitor (prometheus-operator) that scrapes the metrics
    /// Service, so `schedule --alerts --alert-archive-lag` rules see it.
    pub service_monitor: bool,
    /// `--spool-size`: the spool lives on an emptyDir of twice that (the
    /// archiver counts plaintext; encryption and the last segment add a
    /// little), given as `--spool-dir`.
    pub spool_bytes: u64,
}

/// Where the spool's emptyDir is mounted.
pub const SPOOL_DIR: &str = "/var/spool/kubectl-redis";

/// The port the archiver's metrics are served on.
pub const METRICS_PORT: u16 = 9121;
/// Where a `--tls-from-secret` Secret is mounted.
pub const TLS_DIR: &str = "/etc/kubectl-redis/tls";

/// The labels every object carries (`kubectl get all -l` finds them).
pub fn labels(name: &str) -> Value {
    json!({"app.kubernetes.io/name": "kubectl-redis", "app.kubernetes.io/component": "archiver", "app.kubernetes.io/instance": name})
}

/// The archiver's Role: find the Redis pods and follow one over the pod
/// network, read the Secrets it names. No exec, no port-forward, no writes
/// to anything of the cluster's.
pub fn rules(s: &Spec) -> Value {
    let mut r = vec![json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]})];
    if !s.secret_names.is_empty() {
        r.push(json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": s.secret_names, "verbs": ["get"]}));
    }
    if s.services {
        r.push(json!({"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}));
    }
    // Events about its own pod (a new base, a full spool, a stop).
    r.push(json!({"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}));
    Value::Array(r)
}

/// An Event about the archiver's pod `pod` in `namespace` (`warning`:
/// type Warning, else Normal), at Unix second `now`; its name is the pod's
/// with the reason and the time, unique enough for one a minute.
pub fn event(
    namespace: &str,
    pod: &str,
    warning: bool,
    reason: &str,
    message: &str,
    now: i64,
) -> Value {
    let t = crate::store::names::rfc3339(now);
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": format!("{pod}.{}.{now:x}", reason.to_ascii_lowercase()),
            "namespace": namespace
        },
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": if warning { "Warning" } else { "Normal" },
        "source": {"component": "kubectl-redis-archiver"},
        "firstTimestamp": t,
        "lastTimestamp": t,
        "count": 1
    })
}

/// ServiceAccount, Role, RoleBinding, Deployment, Service (and a
/// ServiceMonitor when asked): in apply order (and the reverse for
/// `archive stop`).
pub fn manifests(s: &Spec) -> Vec<Value> {
    let labels = labels(&s.name);
    let meta = json!({"name": s.name, "namespace": s.namespace, "labels": labels});
    let mut args: Vec<String> = vec!["archive".into(), "run".into()];
    args.extend(s.run_args.iter().cloned());
    args.extend([
        "--metrics-port".into(),
        METRICS_PORT.to_string(),
        "--spool-dir".into(),
        SPOOL_DIR.into(),
    ]);
    let mut container = json!({
        "name": "archiver",
        "image": s.image,
        "args": args,
        "env": [
            {"name": "NO_COLOR", "value": "1"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            // Redis over the pod network, as every run in the cluster.
            {"name": super::job::ENV_POD_NETWORK, "value": "1"},
            {"name": super::job::ENV_NODE, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
        ],
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {
            "runAsNonRoot": true,
            "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "spool", "mountPath": SPOOL_DIR}
        ]
    });
    if let Some(secret) = &s.env_secret {
        container["envFrom"] = json!([{"secretRef": {"name": secret}}]);
    }
    let mut volumes = vec![
        json!({"name": "tmp", "emptyDir": {}}),
        json!({"name": "spool", "emptyDir": {"sizeLimit": s.spool_bytes.saturating_mul(2).max(1 << 20).to_string()}}),
    ];
    if let Some(t) = &s.tls_secret {
        volumes
            .push(json!({"name": "redis-tls", "secret": {"secretName": t, "defaultMode": 0o400}}));
        if let Some(m) = container["volumeMounts"].as_array_mut() {
            m.push(json!({"name": "redis-tls", "mountPath": TLS_DIR, "readOnly": true}));
        }
        if let Some(a) = container["args"].as_array_mut() {
            a.push(json!("--tls-from-dir"));
            a.push(json!(TLS_DIR));
        }
    }
    let mut sa_meta = meta.clone();
    if !s.sa_annotations.is_empty() {
        let a: serde_json::Map<String, Value> = s
            .sa_annotations
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        sa_meta["annotations"] = Value::Object(a);
    }
    let mut pod_labels = labels.clone();
    if s.sa_annotations
        .iter()
        .any(|(k, _)| k.starts_with("azure.workload.identity/"))
    {
        pod_labels["azure.workload.identity/use"] = json!("true");
    }
    let mut docs = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules(s)}),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": s.name},
            "subjects": [{"kind": "ServiceAccount", "name": s.name, "namespace": s.namespace}]
        }),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {
                "replicas": 1,
                // Never two archivers of one archive, even during a rollout.
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "serviceAccountName": s.name,
                        "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                        "terminationGracePeriodSeconds": 60,
                        "containers": [container],
                        "volumes": volumes
                    }
                }
            }
        }),
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": labels, "ports": [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"}]}
        }),
    ];
    if s.service_monitor {
        docs.push(json!({
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": meta,
            "spec": {"selector": {"matchLabels": labels}, "endpoints": [{"port": "metrics", "interval": "15s"}]}
        }));
    }
    docs
}
