//! `kubectl redis status`: from facts the shell gathered, what is healthy,
//! what is not, and the fix for each problem (the runbook's troubleshooting
//! section, automated). Also the RBAC each command needs.

use serde::Serialize;

use crate::human;

/// One permission a command may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Need {
    /// `list`, `create`, ...
    pub verb: &'static str,
    /// API group (`""` for core).
    pub group: &'static str,
    /// `pods`, `deployments`, ...
    pub resource: &'static str,
    /// `exec`, `portforward`, `scale`, or `""`.
    pub subresource: &'static str,
    /// What is lost without it.
    pub disables: &'static str,
}

/// Every permission the plugin uses, in the order `status` shows them.
pub const NEEDS: &[Need] = &[
    Need { verb: "list", group: "", resource: "pods", subresource: "", disables: "everything that finds the Redis pod (backup, restore, status)" },
    Need { verb: "get", group: "", resource: "pods", subresource: "", disables: "restore's wait for Redis to come back; --pod" },
    Need { verb: "create", group: "", resource: "pods", subresource: "portforward", disables: "backup --method stream (auto falls back to bgsave) and restore --method live, on Kubernetes 1.31+" },
    Need { verb: "get", group: "", resource: "pods", subresource: "portforward", disables: "backup --method stream before Kubernetes 1.31 (websocket streams are authorized as get there)" },
    Need { verb: "create", group: "", resource: "pods", subresource: "exec", disables: "backup --method bgsave, restore --method swap (auto restores live instead), and status's Redis details, on Kubernetes 1.31+" },
    Need { verb: "get", group: "", resource: "pods", subresource: "exec", disables: "the same before Kubernetes 1.31 (websocket streams are authorized as get there)" },
    Need { verb: "get", group: "apps", resource: "deployments", subresource: "", disables: "restore: reading writers' replicas" },
    Need { verb: "patch", group: "apps", resource: "deployments", subresource: "", disables: "restore: recording writers' replicas (annotation)" },
    Need { verb: "patch", group: "apps", resource: "deployments", subresource: "scale", disables: "restore: scaling writers down and back" },
    Need { verb: "patch", group: "apps", resource: "statefulsets", subresource: "scale", disables: "restore --scale-down sts/NAME" },
    Need { verb: "get", group: "coordination.k8s.io", resource: "leases", subresource: "", disables: "the one-at-a-time lock (backup warns and goes on; restore refuses)" },
    Need { verb: "create", group: "coordination.k8s.io", resource: "leases", subresource: "", disables: "taking the lock" },
    Need { verb: "delete", group: "coordination.k8s.io", resource: "leases", subresource: "", disables: "releasing the lock at once (it then expires after 15 s)" },
    Need { verb: "get", group: "", resource: "secrets", subresource: "", disables: "--password-from-secret, and a REDIS_PASSWORD from a secretKeyRef for stream backups" },
    Need { verb: "create", group: "events.k8s.io", resource: "events", subresource: "", disables: "the audit Events on the Redis workload (BackupSucceeded, RestoreFailed, ...): a warning, never a failure" },
    Need { verb: "get", group: "apps", resource: "replicasets", subresource: "", disables: "naming a pod's Deployment in the audit Events (they name its ReplicaSet)" },
    Need { verb: "create", group: "batch", resource: "jobs", subresource: "", disables: "--in-cluster (the run's Job)" },
    Need { verb: "create", group: "", resource: "serviceaccounts", subresource: "", disables: "--in-cluster (the run's ServiceAccount)" },
    Need { verb: "create", group: "rbac.authorization.k8s.io", resource: "roles", subresource: "", disables: "--in-cluster (the run's Role)" },
    Need { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", subresource: "", disables: "--in-cluster (the run's RoleBinding)" },
    Need { verb: "get", group: "", resource: "pods", subresource: "log", disables: "--in-cluster: following the Job's progress" },
];

/// How a line reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fine.
    Ok,
    /// Works, but worth knowing.
    Warn,
    /// Broken: backups or restores will fail.
    Fail,
    /// Could not be found out.
    Unknown,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Short name: `cluster`, `pod`, `ping`, ...
    pub what: String,
    /// Verdict.
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// What to do, for warnings and failures.
    pub fix: Option<String>,
}

/// What the shell found. Every field is optional: a failed lookup is a
/// fact too (`Err` with the reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// Namespace and where it came from.
    pub namespace: String,
    /// kubeconfig context.
    pub context: Option<String>,
    /// API server version, or why unknown.
    pub server_version: Option<Result<String, String>>,
    /// Chosen pod: name, ready, restarts; or why none.
    pub pod: Option<Result<PodFacts, String>>,
    /// `INFO` fields (all sections), or why not read.
    pub info: Option<Result<std::collections::BTreeMap<String, String>, String>>,
    /// `CONFIG GET` answers: name -> value.
    pub config: std::collections::BTreeMap<String, String>,
    /// `df` of the data directory: (used KiB, available KiB).
    pub disk: Option<Result<(u64, u64), String>>,
    /// `COMMAND INFO SYNC` says SYNC exists.
    pub sync_available: Option<bool>,
    /// Writers: name, replicas, pending recovery record.
    pub writers: Vec<WriterFacts>,
    /// Newest local backup: file, age seconds, status.
    pub newest_backup: Option<(String, i64, String)>,
    /// Unix time now.
    pub now_unix: i64,
    /// The RBAC answers: index into [`NEEDS`] -> allowed.
    pub rbac: Vec<Option<bool>>,
    /// What Sentinel says, when Sentinel runs beside Redis; or why it
    /// could not be asked.
    pub sentinel: Option<Result<crate::topo::sentinel::View, String>>,
    /// The Ready pods' roles and how they were learned (labels, Sentinel,
    /// or each pod's `INFO replication`), when any is known or was asked.
    pub roles: Option<crate::kube::pods::Roles>,
    /// `CLUSTER INFO`, when the server runs in cluster mode.
    pub cluster: Option<std::collections::BTreeMap<String, String>>,
    /// TLS to the pod's port, when it speaks TLS.
    pub tls: Option<TlsFacts>,
}

/// What a TLS connection to the pod showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsFacts {
    /// The port.
    pub port: u16,
    /// Why it is TLS (the pod's spec, or a flag).
    pub why: String,
    /// The server certificate's subject, when a handshake got that far.
    pub subject: Option<String>,
    /// The names it is issued for (DNS names and addresses).
    pub names: Vec<String>,
    /// Its validity, seconds since the epoch.
    pub not_before: Option<i64>,
    /// Its end, seconds since the epoch.
    pub not_after: Option<i64>,
    /// The server asked for a client certificate (required, or optional with tls-auth-clients optional).
    pub client_cert_asked: Option<bool>,
    /// What the plugin uses: the CA, the client certificate, the names it
    /// checks.
    pub uses: String,
    /// Why the connection failed, if it did.
    pub error: Option<String>,
}

/// The pod as found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodFacts {
    /// Name.
    pub name: String,
    /// Container.
    pub container: String,
    /// Port.
    pub port: u16,
    /// Ready.
    pub ready: bool,
    /// Container restarts.
    pub restarts: u32,
    /// Other pods that matched the selector.
    pub others: usize,
}

/// A writer as found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriterFacts {
    /// `deploy/worker`.
    pub name: String,
    /// `spec.replicas`, or `None` when it does not exist.
    pub replicas: Option<i32>,
    /// The restore record annotation, if a restore left one.
    pub recorded: Option<i32>,
    /// Could not be read.
    pub error: Option<String>,
}

fn line(what: &str, level: Level, detail: impl Into<String>, fix: Option<String>) -> Line {
    Line {
        what: what.into(),
        level,
        detail: detail.into(),
        fix,
    }
}

/// The report's lines, in order.
pub fn evaluate(f: &Facts) -> Vec<Line> {
    let mut out = Vec::new();
    let ns = &f.namespace;
    match &f.server_version {
        Some(Ok(v)) => out.push(line(
            "cluster",
            Level::Ok,
            format!(
                "reachable: context {}, Kubernetes {v}",
                f.context.as_deref().unwrap_or("(in-cluster)")
            ),
            None,
        )),
        Some(Err(e)) => out.push(line(
            "cluster",
            Level::Fail,
            format!("unreachable: {e}"),
            Some(
                "check `kubectl cluster-info`, the context (--context) and your credentials".into(),
            ),
        )),
        None => {}
    }
    match &f.pod {
        Some(Ok(p)) => {
            let level = if !p.ready {
                Level::Fail
            } else if p.restarts > 0 || p.others > 0 {
                Level::Warn
            } else {
                Level::Ok
            };
            let mut detail = format!(
                "{} (container {}, port {}): {}, {} restart{}",
                p.name,
                p.container,
                p.port,
                if p.ready { "Ready" } else { "not Ready" },
                p.restarts,
                if p.restarts == 1 { "" } else { "s" }
            );
            if p.others > 0 {
                detail.push_str(&format!("; {} other pod(s) match", p.others));
            }
            let fix = match level {
                Level::Fail => Some(format!("`kubectl -n {ns} describe pod {}` says why it is not Ready", p.name)),
                Level::Warn if p.restarts > 0 => Some(format!(
                    "`kubectl -n {ns} logs {} --previous` shows why it restarted (a restore restarts it once)",
                    p.name
                )),
                _ => None,
            };
            out.push(line("pod", level, detail, fix));
        }
        Some(Err(e)) => out.push(line(
            "pod",
            Level::Fail,
            e.clone(),
            Some(format!(
                "`kubectl -n {ns} get pods --show-labels`; choose with -n, -l or --pod"
            )),
        )),
        None => {}
    }
    roles_line(f, &mut out);
    sentinel_line(f, &mut out);
    tls_line(f, &mut out);
    cluster_line(f, &mut out);
    match &f.info {
        Some(Ok(i)) => redis_lines(f, i, &mut out),
        Some(Err(e)) => out.push(line(
            "redis",
            Level::Unknown,
            format!("could not read INFO: {e}"),
            Some("needs create on pods/exec and redis-cli in the container; a password: --password-from-secret or REDIS_PASSWORD".into()),
        )),
        None => {}
    }
    match f.sync_available {
        Some(true) => out.push(line(
            "sync",
            Level::Ok,
            "SYNC is available: stream backups possible",
            None,
        )),
        Some(false) => out.push(line(
            "sync",
            Level::Warn,
            "SYNC is renamed or blocked: backups use BGSAVE + copy",
            Some("that needs pods/exec, sh in the image and free space for the dump; nothing to do if those hold".into()),
        )),
        None => {}
    }
    for w in &f.writers {
        match (&w.error, w.replicas, w.recorded) {
            (Some(e), ..) => out.push(line(
                "writer",
                Level::Unknown,
                format!("{}: {e}", w.name),
                None,
            )),
            (None, None, _) => out.push(line(
                "writer",
                Level::Warn,
                format!("{} not found: a restore will stop no writer", w.name),
                Some(
                    "name your writers with `restore --scale-down deploy/NAME` (or $WORKER_DEPLOY)"
                        .into(),
                ),
            )),
            (None, Some(r), Some(rec)) => out.push(line(
                "writer",
                Level::Fail,
                format!(
                    "{}: {r} replicas, and a record from an unfinished restore ({rec} replicas)",
                    w.name
                ),
                Some(format!(
                    "`kubectl redis restore --recover -n {ns}` puts it back"
                )),
            )),
            (None, Some(r), None) => out.push(line(
                "writer",
                Level::Ok,
                format!("{}: {r} replicas", w.name),
                None,
            )),
        }
    }
    match &f.newest_backup {
        Some((file, age, status)) => {
            let level = if status != "verified" || *age > 86_400 {
                Level::Warn
            } else {
                Level::Ok
            };
            let fix = (level == Level::Warn).then(|| {
                "take one with `kubectl redis backup`; alert on age with `kubectl redis check --max-age 24h`".to_string()
            });
            out.push(line(
                "backup",
                level,
                format!(
                    "newest local backup {file}: {} old, {status}",
                    human::age(*age)
                ),
                fix,
            ));
        }
        None => out.push(line(
            "backup",
            Level::Warn,
            "no local backup in the output directory",
            Some("`kubectl redis backup` (choose the directory with --out-dir or $OUT_DIR)".into()),
        )),
    }
    out
}

/// The Redis Cluster line: its state and how many of the 16384 slots are
/// served; backups and restores of the cluster need every slot.
fn tls_line(f: &Facts, out: &mut Vec<Line>) {
    use crate::kube::tls::Expiry;
    let Some(t) = &f.tls else { return };
    let mut detail = if t.why.starts_with("port ") {
        t.why.clone()
    } else {
        format!("port {} ({})", t.port, t.why)
    };
    if let Some(s) = &t.subject {
        detail.push_str(&format!("; certificate {s}"));
    }
    if !t.names.is_empty() {
        detail.push_str(&format!(" for {}", t.names.join(", ")));
    }
    let expiry = match (t.not_before, t.not_after) {
        (Some(b), Some(a)) => Some(Expiry::of(b, a, f.now_unix)),
        _ => None,
    };
    if let Some(Expiry::Fine { days_left } | Expiry::Soon { days_left }) = &expiry {
        detail.push_str(&format!(", {days_left} day(s) left"));
    }
    match t.client_cert_asked {
        Some(true) => detail.push_str("; the server asks for a client certificate"),
        Some(false) => detail.push_str("; no client certificate asked"),
        None => {}
    }
    detail.push_str(&format!("; the plugin uses {}", t.uses));
    let warning = expiry
        .as_ref()
        .and_then(|e| e.warning("the server's certificate"));
    let (level, fix) = match (&t.error, &expiry) {
        (Some(e), _) => (Level::Fail, Some(e.clone())),
        (None, Some(Expiry::Expired { .. } | Expiry::NotYet { .. })) => (Level::Fail, warning),
        (None, Some(Expiry::Soon { .. })) => (Level::Warn, warning),
        _ => (Level::Ok, None),
    };
    out.push(line("tls", level, detail, fix));
}

fn cluster_line(f: &Facts, out: &mut Vec<Line>) {
    let Some(c) = &f.cluster else { return };
    let get = |k: &str| c.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let num = |k: &str| get(k).parse::<u64>().unwrap_or(0);
    let state = get("cluster_state");
    let ok_slots = num("cluster_slots_ok");
    let level = if state == "ok" && ok_slots == 16384 {
        Level::Ok
    } else {
        Level::Fail
    };
    out.push(line(
        "redis-cluster",
        level,
        format!(
            "cluster_state:{state}, {ok_slots} of 16384 slots served ({} assigned, {} pfail, {} fail), {} primaries, {} nodes known; restores go live, each key to its slot's primary",
            num("cluster_slots_assigned"),
            num("cluster_slots_pfail"),
            num("cluster_slots_fail"),
            num("cluster_size"),
            num("cluster_known_nodes")
        ),
        (level == Level::Fail).then(|| {
            "a backup or restore of the cluster needs every slot served: `redis-cli --cluster check HOST:PORT` finds the missing ones".to_string()
        }),
    ));
}

/// The roles line: each Ready pod's role and how it is known; a warning
/// when asking settled nothing (backup and restore then need --pod).
fn roles_line(f: &Facts, out: &mut Vec<Line>) {
    let Some(r) = &f.roles else { return };
    let how = match r.how.as_str() {
        "sentinel" => "as Sentinel names the primary",
        "info" => "from each pod's INFO replication: no pod has a role label",
        _ => "from their labels",
    };
    let pods = r
        .pods
        .iter()
        .map(|p| match &p.detail {
            Some(d) if r.unsettled.is_some() => format!("{} {d}", p.pod),
            _ => format!("{} {}", p.pod, p.role),
        })
        .collect::<Vec<_>>()
        .join(", ");
    match &r.unsettled {
        None => out.push(line("roles", Level::Ok, format!("{pods} ({how})"), None)),
        Some(why) => out.push(line(
            "roles",
            Level::Warn,
            format!("no primary found among the Ready pods: {why}"),
            Some("back up and restore name the pod with --pod NAME; label the primary (app.kubernetes.io/component=master) to make it known".into()),
        )),
    }
}

/// The Sentinel line: the master set, its quorum, replicas and Sentinels,
/// any failover; restores there go live.
fn sentinel_line(f: &Facts, out: &mut Vec<Line>) {
    match &f.sentinel {
        Some(Ok(v)) => {
            let m = &v.master;
            let level = if m.failing_over() || m.down() {
                Level::Warn
            } else {
                Level::Ok
            };
            let state = if m.failing_over() {
                format!(
                    ", FAILOVER IN PROGRESS ({})",
                    m.failover_state.as_deref().unwrap_or("running")
                )
            } else if m.down() {
                format!(", primary seen DOWN ({})", m.flags.join(","))
            } else {
                String::new()
            };
            out.push(line(
                "sentinel",
                level,
                format!(
                    "{}: primary {}:{}{} , quorum {}, {} Sentinel(s), {} replica(s){state}; restores go live here (a restart would fail over)",
                    m.name,
                    m.ip,
                    m.port,
                    v.primary_pod
                        .as_ref()
                        .map(|p| format!(" (pod {p})"))
                        .unwrap_or_default(),
                    m.quorum,
                    m.sentinels,
                    m.replicas
                )
                .replace(" ,", ","),
                (level == Level::Warn).then(|| {
                    "wait for Sentinel to settle (`kubectl redis status` again) before a restore".to_string()
                }),
            ));
        }
        Some(Err(e)) => out.push(line(
            "sentinel",
            Level::Warn,
            format!("Sentinel runs beside Redis and could not be asked: {e}"),
            Some("the primary is then chosen by labels; check the Sentinel container and its port (26379)".into()),
        )),
        None => {}
    }
}

fn redis_lines(f: &Facts, i: &std::collections::BTreeMap<String, String>, out: &mut Vec<Line>) {
    let get = |k: &str| i.get(k).map(|v| v.trim().to_string());
    let version = get("valkey_version")
        .map(|v| format!("Valkey {v}"))
        .or_else(|| get("redis_version").map(|v| format!("Redis {v}")))
        .unwrap_or_else(|| "Redis".into());
    let role = get("role").unwrap_or_else(|| "?".into());
    let replicas = get("connected_slaves").unwrap_or_else(|| "0".into());
    let role_level = if role == "master" {
        Level::Ok
    } else {
        Level::Warn
    };
    out.push(line(
        "redis",
        role_level,
        format!("PONG from {version}, role {role}, {replicas} replica(s)"),
        (role_level == Level::Warn).then(|| {
            "this pod is a replica: back up and restore the primary (--pod NAME)".to_string()
        }),
    ));
    let keyspace: Vec<String> = i
        .iter()
        .filter(|(k, _)| k.starts_with("db") && k[2..].chars().all(|c| c.is_ascii_digit()))
        .map(|(k, v)| format!("{k} {}", v.split(',').next().unwrap_or("").trim()))
        .collect();
    out.push(line(
        "keys",
        Level::Ok,
        if keyspace.is_empty() {
            "no keys".to_string()
        } else {
            keyspace.join(", ")
        },
        None,
    ));
    let lastsave = get("rdb_last_save_time").and_then(|v| v.parse::<i64>().ok());
    let status = get("rdb_last_bgsave_status").unwrap_or_default();
    let (lvl, fix) = if status == "err" {
        (
            Level::Fail,
            Some(
                "a full or read-only data volume, usually: `df -h` in the pod and its logs"
                    .to_string(),
            ),
        )
    } else {
        (Level::Ok, None)
    };
    out.push(line(
        "lastsave",
        lvl,
        match lastsave {
            Some(t) => format!(
                "last save {} ago, status {}",
                human::age((f.now_unix - t).max(0)),
                if status.is_empty() { "?" } else { &status }
            ),
            None => "no LASTSAVE".into(),
        },
        fix,
    ));
    let c = |k: &str| f.config.get(k).cloned().unwrap_or_else(|| "?".into());
    let aof = c("appendonly");
    out.push(line(
        "persistence",
        Level::Ok,
        format!(
            "save \"{}\", appendonly {aof}, dir {}, dbfilename {}, repl-diskless-sync {}",
            c("save"),
            c("dir"),
            c("dbfilename"),
            c("repl-diskless-sync")
        ),
        None,
    ));
    let used = get("used_memory").and_then(|v| v.parse::<u64>().ok());
    match (&f.disk, used) {
        (Some(Ok((_, avail_kib))), Some(used)) => {
            let avail = avail_kib.saturating_mul(1024);
            let level = if avail < used { Level::Fail } else { Level::Ok };
            out.push(line(
                "disk",
                level,
                format!(
                    "{} used in memory, {} free on the data volume",
                    human::bytes(used),
                    human::bytes(avail)
                ),
                (level == Level::Fail).then(|| {
                    "BGSAVE may not fit: free space, or use the stream method (diskless, nothing written)".to_string()
                }),
            ));
        }
        (Some(Err(e)), _) => out.push(line(
            "disk",
            Level::Unknown,
            format!("df failed: {e}"),
            None,
        )),
        _ => {}
    }
}

/// The RBAC table's rows: (permission as `verb resource[/sub]`, allowed, what it disables).
pub fn rbac_rows(f: &Facts) -> Vec<(String, Option<bool>, &'static str)> {
    NEEDS
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let r = if n.subresource.is_empty() {
                n.resource.to_string()
            } else {
                format!("{}/{}", n.resource, n.subresource)
            };
            (
                format!("{} {r}", n.verb),
                f.rbac.get(i).copied().flatten(),
                n.disables,
            )
        })
        .collect()
}

/// The worst level among the lines (for the exit code).
pub fn worst(lines: &[Line]) -> Level {
    if lines.iter().any(|l| l.level == Level::Fail) {
        Level::Fail
    } else if lines
        .iter()
        .any(|l| l.level == Level::Warn || l.level == Level::Unknown)
    {
        Level::Warn
    } else {
        Level::Ok
    }
}

/// The `-o json` document's fields (schema `schemas/status.schema.json`):
/// every fact under a named field with its unit, the checks, the RBAC table
/// and, when something fails, the first failure as `error`.
pub fn json_report(f: &Facts, exit_code: u8) -> serde_json::Value {
    use serde_json::json;
    let checks = evaluate(f);
    let info = match &f.info {
        Some(Ok(i)) => Some(i),
        _ => None,
    };
    let get = |k: &str| info.and_then(|i| i.get(k)).map(|v| v.trim().to_string());
    let int = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
    let redis = info.map(|i| {
        let mut dbs = serde_json::Map::new();
        let mut keys = 0u64;
        for (n, (k, e)) in crate::wire::reply::keyspace(i) {
            keys += k;
            dbs.insert(n.to_string(), json!({"keys": k, "expires": e}));
        }
        json!({
            "version": get("redis_version"),
            "role": get("role"),
            "connected_replicas": int("connected_slaves"),
            "keys": keys,
            "keys_per_db": dbs,
            "last_save_unix": int("rdb_last_save_time"),
            "last_bgsave_ok": get("rdb_last_bgsave_status").map(|s| s == "ok"),
            "bgsave_in_progress": int("rdb_bgsave_in_progress").map(|n| n != 0),
            "used_memory_bytes": int("used_memory"),
        })
    });
    let c = |k: &str| f.config.get(k).cloned();
    let pod = match &f.pod {
        Some(Ok(p)) => json!({
            "name": p.name, "container": p.container, "port": p.port, "ready": p.ready,
            "restarts": p.restarts, "other_matching_pods": p.others,
        }),
        _ => serde_json::Value::Null,
    };
    let disk = match &f.disk {
        Some(Ok((used_kib, free_kib))) => json!({
            "used_bytes": used_kib.saturating_mul(1024),
            "free_bytes": free_kib.saturating_mul(1024),
        }),
        _ => serde_json::Value::Null,
    };
    let rbac: Vec<serde_json::Value> = rbac_rows(f)
        .into_iter()
        .map(|(permission, allowed, without_it)| {
            json!({"permission": permission, "allowed": allowed, "without_it": without_it})
        })
        .collect();
    let error = checks
        .iter()
        .find(|l| l.level == Level::Fail)
        .map(|l| json!({"message": format!("{}: {}", l.what, l.detail), "hint": l.fix}));
    json!({
        "namespace": f.namespace,
        "context": f.context,
        "cluster": {
            "reachable": matches!(f.server_version, Some(Ok(_))),
            "kubernetes_version": match &f.server_version { Some(Ok(v)) => Some(v), _ => None },
        },
        "pod": pod,
        "redis": redis,
        "persistence": {
            "save": c("save"), "appendonly": c("appendonly"), "dir": c("dir"),
            "dbfilename": c("dbfilename"), "repl_diskless_sync": c("repl-diskless-sync"),
        },
        "disk": disk,
        "sync_available": f.sync_available,
        "writers": f.writers.iter().map(|w| json!({
            "name": w.name, "replicas": w.replicas, "recorded_replicas": w.recorded, "error": w.error,
        })).collect::<Vec<_>>(),
        "newest_backup": f.newest_backup.as_ref().map(|(file, age, status)| json!({
            "file": file, "age_seconds": age, "status": status,
        })),
        "tls": f.tls.as_ref().map(|t| json!({
            "port": t.port, "why": t.why, "subject": t.subject, "names": t.names,
            "not_before_unix": t.not_before, "not_after_unix": t.not_after,
            "days_left": t.not_after.map(|a| (a - f.now_unix).div_euclid(86_400)),
            "client_cert_asked": t.client_cert_asked, "uses": t.uses, "error": t.error,
        })),
        "redis_cluster": f.cluster.as_ref().map(|c| {
            let num = |k: &str| c.get(k).and_then(|v| v.trim().parse::<u64>().ok());
            json!({
                "state": c.get("cluster_state").map(|v| v.trim()),
                "slots_assigned": num("cluster_slots_assigned"),
                "slots_ok": num("cluster_slots_ok"),
                "slots_pfail": num("cluster_slots_pfail"),
                "slots_fail": num("cluster_slots_fail"),
                "primaries": num("cluster_size"),
                "known_nodes": num("cluster_known_nodes"),
            })
        }),
        "roles": f.roles.as_ref().map(|r| json!({
            "how": r.how,
            "pods": r.pods.iter().map(|p| json!({"pod": p.pod, "role": p.role, "detail": p.detail})).collect::<Vec<_>>(),
            "unsettled": r.unsettled,
        })),
        "sentinel": match &f.sentinel {
            Some(Ok(v)) => json!({
                "master_name": v.master.name,
                "primary": {"ip": v.master.ip, "port": v.master.port, "pod": v.primary_pod},
                "quorum": v.master.quorum,
                "sentinels": v.master.sentinels,
                "flags": v.master.flags,
                "failover_in_progress": v.master.failing_over(),
                "failover_state": v.master.failover_state,
                "replicas": v.replicas.iter().map(|p| json!({"ip": p.ip, "port": p.port, "flags": p.flags})).collect::<Vec<_>>(),
                "other_sentinels": v.sentinels.iter().map(|p| json!({"ip": p.ip, "port": p.port, "flags": p.flags})).collect::<Vec<_>>(),
                "asked_pod": v.asked,
            }),
            Some(Err(e)) => json!({"error": e}),
            None => serde_json::Value::Null,
        },
        "checks": checks,
        "rbac": rbac,
        "error": error,
        "exit_code": exit_code,
    })
}
