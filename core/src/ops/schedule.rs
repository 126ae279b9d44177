//! `kubectl redis schedule`: the manifests of a scheduled backup (CronJob,
//! ServiceAccount, Role, RoleBinding) with the least RBAC the backup needs,
//! as plain JSON values (printed as YAML or applied by the shell).

use serde_json::{json, Value};

/// What to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Namespace of Redis (and of the CronJob).
    pub namespace: String,
    /// Cron expression.
    pub cron: String,
    /// Image with the plugin as its entrypoint.
    pub image: String,
    /// The backup's arguments after `backup` (selector, method, ...).
    pub backup_args: Vec<String>,
    /// Where backups go: a PVC, a host path, or nothing (emptyDir).
    pub volume: Volume,
    /// `batch/v1` (Kubernetes 1.21+) or `batch/v1beta1`.
    pub cronjob_api: String,
    /// Object names.
    pub name: String,
}

/// The backup directory's volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Volume {
    /// A PersistentVolumeClaim (what production wants).
    Pvc(String),
    /// A directory on the node (single-node and development clusters).
    HostPath(String),
    /// An emptyDir: backups vanish with the pod (the shell warns).
    Empty,
}

/// A schedule from `--every`: `30m` -> `*/30 * * * *`, `1h` -> `0 * * * *`,
/// `6h` -> `0 */6 * * *`, `1d` -> `0 0 * * *`, `1w` -> `0 0 * * 0`.
pub fn cron_for(every_s: u64) -> Result<String, String> {
    let m = every_s / 60;
    if every_s % 60 != 0 || m == 0 {
        return Err("--every must be whole minutes".into());
    }
    Ok(match m {
        1 => "* * * * *".into(),
        m if m < 60 && 60 % m == 0 => format!("*/{m} * * * *"),
        60 => "0 * * * *".into(),
        m if m % 60 == 0 && m < 1440 && 1440 % m == 0 => format!("0 */{} * * *", m / 60),
        1440 => "0 0 * * *".into(),
        10080 => "0 0 * * 0".into(),
        _ => {
            return Err(format!(
                "{m} minutes does not divide an hour or a day evenly; give the schedule with --cron 'MIN HOUR DOM MON DOW'"
            ))
        }
    })
}

/// The least RBAC a scheduled backup needs: find the pod, stream through a
/// port-forward (or exec for the bgsave fallback), hold the Lease. Both get
/// and create on the stream subresources: websocket streams are authorized as
/// get before Kubernetes 1.31, as create after.
pub fn rules() -> Value {
    json!([
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["pods/portforward", "pods/exec"], "verbs": ["get", "create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "patch", "delete"]}
    ])
}

/// The four objects, in apply order.
pub fn manifests(s: &Spec) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/name": "kubectl-redis", "app.kubernetes.io/component": "scheduled-backup"});
    let meta =
        |kind_name: &str| json!({"name": kind_name, "namespace": s.namespace, "labels": labels});
    let mut args: Vec<String> = vec![
        "backup".into(),
        "-n".into(),
        s.namespace.clone(),
        "--out-dir".into(),
        "/backups".into(),
    ];
    args.extend(s.backup_args.iter().cloned());
    let volume = match &s.volume {
        Volume::Pvc(c) => json!({"name": "backups", "persistentVolumeClaim": {"claimName": c}}),
        Volume::HostPath(p) => {
            json!({"name": "backups", "hostPath": {"path": p, "type": "DirectoryOrCreate"}})
        }
        Volume::Empty => json!({"name": "backups", "emptyDir": {}}),
    };
    let pod = json!({
        "serviceAccountName": s.name,
        "restartPolicy": "Never",
        "containers": [{
            "name": "backup",
            "image": s.image,
            "args": args,
            "env": [{"name": "NO_COLOR", "value": "1"}],
            "volumeMounts": [{"name": "backups", "mountPath": "/backups"}],
            "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
        }],
        "volumes": [volume]
    });
    vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(&s.name)}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(&s.name), "rules": rules()}),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(&s.name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": s.name},
            "subjects": [{"kind": "ServiceAccount", "name": s.name, "namespace": s.namespace}]
        }),
        json!({
            "apiVersion": s.cronjob_api, "kind": "CronJob", "metadata": meta(&s.name),
            "spec": {
                "schedule": s.cron,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {"backoffLimit": 1, "template": {"metadata": {"labels": labels}, "spec": pod}}}
            }
        }),
    ]
}

/// YAML for people (a `---` between documents). Strings are JSON-quoted,
/// which YAML reads as the same strings.
pub fn yaml(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit(d, 0, &mut out);
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Object(o) if !o.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        emit(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        emit(v, indent, out);
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}{k}: []\n")),
                    s => out.push_str(&format!("{pad}{k}: {}\n", scalar(s))),
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                match item {
                    Value::Object(o) if !o.is_empty() => {
                        let mut inner = String::new();
                        emit(item, indent + 2, &mut inner);
                        // The first line of the item goes after the dash.
                        let rest = inner.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {rest}"));
                    }
                    Value::Array(_) => {
                        out.push_str(&format!("{pad}-\n"));
                        emit(item, indent + 2, out);
                    }
                    s => out.push_str(&format!("{pad}- {}\n", scalar(s))),
                }
            }
        }
        s => out.push_str(&format!("{pad}{}\n", scalar(s))),
    }
}
