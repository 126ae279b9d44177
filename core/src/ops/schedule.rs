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
    /// `--repo URL`: object storage instead of the `/backups` volume.
    pub repo: Option<String>,
    /// A Secret whose keys become the Job's environment (AWS_ACCESS_KEY_ID,
    /// AZURE_STORAGE_ACCOUNT_KEY, ...): storage credentials, never in args.
    pub env_secret: Option<String>,
    /// Annotations on the ServiceAccount (IRSA, GKE or Azure workload identity).
    pub sa_annotations: Vec<(String, String)>,
    /// `--drill`: a second CronJob restoring the newest backup into a
    /// throwaway pod and checking it.
    pub drill: Option<Drill>,
    /// The Jobs' `activeDeadlineSeconds`: a run stuck longer is killed, so
    /// with `concurrencyPolicy: Forbid` it cannot block every later one.
    pub deadline_s: u64,
    /// What the backup's Role grants beyond finding pods and the
    /// port-forward.
    pub access: Access,
    /// `--sign-with-secret NAME/KEY`: the signing key, mounted read-only
    /// into the backup's pod (never its environment or arguments).
    pub signing_secret: Option<(String, String)>,
    /// `--tls-from-secret NAME`: a kubernetes.io/tls Secret mounted
    /// read-only into the backup's pod at [`TLS_DIR`] and given to it as
    /// `--tls-from-dir`, so its Role needs no access to the Secret.
    pub tls_secret: Option<String>,
}

/// Where the signing key is mounted in the backup's pod.
pub const SIGNING_DIR: &str = "/etc/kubectl-redis/signing";

/// Where a `--tls-from-secret` Secret is mounted in the backup's pod.
pub const TLS_DIR: &str = "/etc/kubectl-redis/tls";

/// The narrowing of a Role: exec only for a method that may run redis-cli
/// in the pod, and Leases and Secrets by name where the names are known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    /// `pods/exec` (the bgsave method, or auto's fallback to it).
    pub exec: bool,
    /// The lock Leases the backup may write (`kubectl-redis-WORKLOAD`);
    /// empty when the workload could not be found: every Lease then.
    pub lease_names: Vec<String>,
    /// The Secrets it reads through the API (`--password-from-secret`,
    /// `--passphrase-from-secret`, the Redis container's own password).
    pub secret_names: Vec<String>,
    /// `list` on Services: a TLS server's certificate is checked against
    /// the names of the Services selecting its pod.
    pub services: bool,
}

/// The Jobs' deadline when none is given: the schedule's period (a run
/// still going when the next is due is stuck), at least 10 minutes and at
/// most 6 hours.
pub fn default_deadline_s(every_s: Option<u64>) -> u64 {
    period_s(every_s).clamp(600, 6 * 3600)
}

/// The restore drill's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drill {
    /// Cron expression.
    pub cron: String,
    /// Arguments after `drill --latest -n NS --repo R` (`--in`, identity, ...).
    pub args: Vec<String>,
    /// `--in`: where the throwaway pod runs (else the Redis namespace).
    pub namespace: Option<String>,
    /// Secrets the drill reads (`--identity-from-secret`).
    pub secret_names: Vec<String>,
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
    if !every_s.is_multiple_of(60) || m == 0 {
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

/// The least RBAC a scheduled backup needs: find the pod (the Job dials it
/// over the pod network: no port-forward), exec only where `access` says
/// the method may use it, hold its Lease, read the Secrets it names. Both
/// get and create on pods/exec: websocket streams are authorized as get
/// before Kubernetes 1.31, as create after. `create` cannot be limited by
/// name in RBAC, so a Lease's creation is granted apart from the rest.
pub fn rules(access: &Access) -> Value {
    let mut r = vec![json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]})];
    if access.exec {
        r.push(json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]}));
    }
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
    // The audit trail: an Event on the workload, named through its ReplicaSet.
    r.push(json!({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]}));
    r.push(json!({"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get"]}));
    Value::Array(r)
}

/// The drill's own Role, in the namespace its throwaway pod runs in: the
/// pod's life (reached over the pod network), its Lease (named after a pod
/// that does not exist yet, so not by name), the Secrets it reads.
pub fn drill_rules(d: &Drill) -> Value {
    let mut r = vec![
        json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "create", "delete"]}),
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "patch", "delete"]}),
    ];
    if !d.secret_names.is_empty() {
        r.push(json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": d.secret_names, "verbs": ["get"]}));
    }
    Value::Array(r)
}

/// The four objects, in apply order.
pub fn manifests(s: &Spec) -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/name": "kubectl-redis", "app.kubernetes.io/component": "scheduled-backup"});
    let meta =
        |kind_name: &str| json!({"name": kind_name, "namespace": s.namespace, "labels": labels});
    let mut args: Vec<String> = vec!["backup".into(), "-n".into(), s.namespace.clone()];
    match &s.repo {
        Some(r) => args.extend(["--repo".into(), r.clone()]),
        None => args.extend(["--out-dir".into(), "/backups".into()]),
    }
    args.extend(s.backup_args.iter().cloned());
    let volume = match &s.volume {
        Volume::Pvc(c) => json!({"name": "backups", "persistentVolumeClaim": {"claimName": c}}),
        Volume::HostPath(p) => {
            json!({"name": "backups", "hostPath": {"path": p, "type": "DirectoryOrCreate"}})
        }
        Volume::Empty => json!({"name": "backups", "emptyDir": {}}),
    };
    let mut container = json!({
        "name": "backup",
        "image": s.image,
        "args": args,
        // Redis over the pod network, as every run in the cluster.
        "env": [
            {"name": "NO_COLOR", "value": "1"},
            {"name": super::job::ENV_POD_NETWORK, "value": "1"},
            {"name": super::job::ENV_NODE, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
        ],
        "volumeMounts": [{"name": "backups", "mountPath": "/backups"}],
        "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    });
    if let Some(secret) = &s.env_secret {
        container["envFrom"] = json!([{"secretRef": {"name": secret}}]);
    }
    let mut pod = json!({
        "serviceAccountName": s.name,
        "restartPolicy": "Never",
        "containers": [container],
        "volumes": [volume]
    });
    if s.repo.is_some() {
        // Nothing is kept in the pod: /backups is only a scratch emptyDir.
        pod["volumes"] = json!([{"name": "backups", "emptyDir": {}}]);
    }
    // The drill signs nothing: its pod is made before the key is added.
    let drill_pod = pod.clone();
    if let Some((name, key)) = &s.signing_secret {
        if let Some(v) = pod["volumes"].as_array_mut() {
            v.push(json!({"name": "signing-key", "secret": {"secretName": name, "items": [{"key": key, "path": "key"}], "defaultMode": 0o400}}));
        }
        let c = &mut pod["containers"][0];
        if let Some(m) = c["volumeMounts"].as_array_mut() {
            m.push(json!({"name": "signing-key", "mountPath": SIGNING_DIR, "readOnly": true}));
        }
        if let Some(a) = c["args"].as_array_mut() {
            a.push(json!("--sign-with"));
            a.push(json!(format!("{SIGNING_DIR}/key")));
        }
    }
    if let Some(name) = &s.tls_secret {
        if let Some(v) = pod["volumes"].as_array_mut() {
            v.push(
                json!({"name": "redis-tls", "secret": {"secretName": name, "defaultMode": 0o400}}),
            );
        }
        let c = &mut pod["containers"][0];
        if let Some(m) = c["volumeMounts"].as_array_mut() {
            m.push(json!({"name": "redis-tls", "mountPath": TLS_DIR, "readOnly": true}));
        }
        if let Some(a) = c["args"].as_array_mut() {
            a.push(json!("--tls-from-dir"));
            a.push(json!(TLS_DIR));
        }
    }
    let mut pod_labels = labels.clone();
    if s.sa_annotations
        .iter()
        .any(|(k, _)| k.starts_with("azure.workload.identity/"))
    {
        // Azure Workload Identity injects its token only into labelled pods.
        pod_labels["azure.workload.identity/use"] = json!("true");
    }
    let mut sa_meta = meta(&s.name);
    if !s.sa_annotations.is_empty() {
        let a: serde_json::Map<String, Value> = s
            .sa_annotations
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        sa_meta["annotations"] = Value::Object(a);
    }
    let drill_job = s.drill.as_ref().map(|d| {
        let mut args: Vec<String> = vec!["drill".into(), "--latest".into(), "-n".into(), s.namespace.clone()];
        match &s.repo {
            Some(r) => args.extend(["--repo".into(), r.clone()]),
            None => args.extend(["--repo".into(), "/backups".into()]),
        }
        args.extend(d.args.iter().cloned());
        let mut p = drill_pod.clone();
        p["containers"][0]["name"] = json!("drill");
        p["containers"][0]["args"] = json!(args);
        // Its own ServiceAccount: the backup's may not create pods.
        p["serviceAccountName"] = json!(format!("{}-drill", s.name));
        let mut meta = meta(&format!("{}-drill", s.name));
        meta["labels"]["app.kubernetes.io/component"] = json!("restore-drill");
        let mut labels = pod_labels.clone();
        labels["app.kubernetes.io/component"] = json!("restore-drill");
        json!({
            "apiVersion": s.cronjob_api, "kind": "CronJob", "metadata": meta,
            "spec": {
                "schedule": d.cron,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {"backoffLimit": 0, "activeDeadlineSeconds": s.deadline_s, "template": {"metadata": {"labels": labels}, "spec": p}}}
            }
        })
    });
    let mut docs = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa_meta}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(&s.name), "rules": rules(&s.access)}),
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
                "jobTemplate": {"spec": {"backoffLimit": 1, "activeDeadlineSeconds": s.deadline_s, "template": {"metadata": {"labels": pod_labels}, "spec": pod}}}
            }
        }),
    ];
    if let Some(d) = &s.drill {
        let name = format!("{}-drill", s.name);
        let drill_ns = d.namespace.clone().unwrap_or_else(|| s.namespace.clone());
        let mut labels = labels.clone();
        labels["app.kubernetes.io/component"] = json!("restore-drill");
        let meta_in = |ns: &str| json!({"name": name, "namespace": ns, "labels": labels});
        let mut sa = meta_in(&s.namespace);
        if let Some(a) = sa_meta.get("annotations") {
            sa["annotations"] = a.clone();
        }
        let subject = json!([{"kind": "ServiceAccount", "name": name, "namespace": s.namespace}]);
        docs.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": sa}));
        docs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta_in(&drill_ns), "rules": drill_rules(d)}));
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta_in(&drill_ns),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject
        }));
        if drill_ns != s.namespace {
            // In the source namespace: find the Redis pod's image.
            let mut source = meta_in(&s.namespace);
            source["name"] = json!(format!("{name}-source"));
            docs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": source,
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}));
            docs.push(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": source,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("{name}-source")},
                "subjects": subject
            }));
        }
    }
    docs.extend(drill_job);
    docs
}

/// A PrometheusRule (prometheus-operator) alerting when the newest
/// successful backup is older than `max_age_s`, and when the last backup
/// failed; over the metrics `backup --pushgateway` (or `--metrics-file`
/// through node_exporter) records.
///
/// With `archive_lag_s`, a second group alerts on the point-in-time
/// archivers of the namespace, over the metrics each serves (scraped
/// through `archive start --service-monitor`): behind by more than that,
/// its link down, its spool full, or no archiver reporting at all.
pub fn alert_rule(s: &Spec, max_age_s: u64, archive_lag_s: Option<u64>) -> Value {
    let labels = json!({"app.kubernetes.io/name": "kubectl-redis", "app.kubernetes.io/component": "scheduled-backup"});
    // This namespace's backups only (the scheduled backup pushes with its
    // namespace as `redis_namespace`).
    let sel = format!(
        "{{job=\"kubectl-redis-backup\",redis_namespace=\"{}\"}}",
        s.namespace
    );
    let mut rule = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": s.name, "namespace": s.namespace, "labels": labels},
        "spec": {"groups": [{
            "name": "kubectl-redis-backup",
            "rules": [
                {
                    "alert": "RedisBackupTooOld",
                    "expr": format!("time() - max(kubectl_redis_backup_last_success_timestamp_seconds{sel}) > {max_age_s}"),
                    "for": "5m",
                    "labels": {"severity": "critical"},
                    "annotations": {
                        "summary": "No successful Redis backup in namespace ".to_string() + &s.namespace + " for longer than the schedule allows",
                        "description": "The newest successful backup is {{ $value | humanizeDuration }} old. Check the CronJob's Jobs: kubectl -n ".to_string() + &s.namespace + " get jobs -l app.kubernetes.io/name=kubectl-redis"
                    }
                },
                {
                    "alert": "RedisBackupFailed",
                    "expr": format!("max(kubectl_redis_backup_last_exit_code{sel}) != 0"),
                    "for": "1m",
                    "labels": {"severity": "warning"},
                    "annotations": {
                        "summary": "The last Redis backup in namespace ".to_string() + &s.namespace + " failed",
                        "description": "Exit code {{ $value }} (see `kubectl redis backup --help`). Logs: kubectl -n ".to_string() + &s.namespace + " logs job/<the failed job>"
                    }
                },
                {
                    "alert": "RedisBackupMetricsAbsent",
                    "expr": format!("absent(kubectl_redis_backup_last_exit_code{sel})"),
                    "for": format!("{}s", max_age_s),
                    "labels": {"severity": "warning"},
                    "annotations": {
                        "summary": "No kubectl-redis backup in namespace ".to_string() + &s.namespace + " has reported to the Pushgateway",
                        "description": "Give the schedule --pushgateway URL, and check that Prometheus scrapes the Pushgateway."
                    }
                }
            ]
        }]}
    });
    if let (Some(lag), Some(groups)) = (archive_lag_s, rule["spec"]["groups"].as_array_mut()) {
        groups.push(archive_alerts(&s.namespace, lag));
    }
    rule
}

/// The alerts on the archivers of `namespace` (their metrics carry the
/// `namespace` label Prometheus gives scraped targets).
fn archive_alerts(namespace: &str, lag_s: u64) -> Value {
    let sel = format!("{{namespace=\"{namespace}\"}}");
    let status = "Logs: kubectl -n ".to_string()
        + namespace
        + " logs deploy/kubectl-redis-archiver; the recovery window: kubectl redis archive status --repo URL";
    json!({
        "name": "kubectl-redis-archive",
        "rules": [
            {
                "alert": "RedisArchiveBehind",
                "expr": format!("max by (archive) (kubectl_redis_archive_lag_seconds{sel}) > {lag_s}"),
                "for": "1m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "The point-in-time archive {{ $labels.archive }} in namespace ".to_string() + namespace + " has writes not stored for longer than allowed",
                    "description": "The oldest write not yet stored waited {{ $value | humanizeDuration }}: a restore to now would lose them. ".to_string() + &status
                }
            },
            {
                "alert": "RedisArchiveDown",
                "expr": format!("max by (archive) (kubectl_redis_archive_up{sel}) == 0"),
                "for": "2m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "The archiver of {{ $labels.archive }} in namespace ".to_string() + namespace + " has no replication link to the primary",
                    "description": "Nothing is archived while it is down; when it comes back it continues the chain or starts a new base (a gap). ".to_string() + &status
                }
            },
            {
                "alert": "RedisArchiveSpoolFull",
                "expr": format!("max by (archive) (kubectl_redis_archive_spool_full{sel}) == 1"),
                "for": "1m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": "The archiver of {{ $labels.archive }} in namespace ".to_string() + namespace + " cannot store segments and has stopped reading",
                    "description": "The repository is unreachable or refuses writes. ".to_string() + &status
                }
            },
            {
                "alert": "RedisArchiveMetricsAbsent",
                "expr": format!("absent(kubectl_redis_archive_up{sel})"),
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "No archiver in namespace ".to_string() + namespace + " reports metrics",
                    "description": "Start one with `kubectl redis archive start --service-monitor --apply`, or check that Prometheus scrapes its Service (port metrics)."
                }
            }
        ]
    })
}

/// The longest gap between two runs of a schedule made by [`cron_for`]
/// (seconds), or a day for other expressions.
pub fn period_s(every_s: Option<u64>) -> u64 {
    every_s.unwrap_or(86_400)
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
