//! The audit trail: Kubernetes Events (`events.k8s.io/v1`) on the Redis
//! workload for backups, restores and drills, and one small JSON record per
//! access in the repository's `audit/` prefix (created create-only, never
//! rewritten), listed by `kubectl redis audit`. Both are best effort: a
//! missing permission or a refused write is a warning, never a failure of
//! the work it records.

use crate::store::repo::{Problem, PutNew, Repo};
use kubectl_redis_core::ops::audit::{self, Record, Regarding, Who};
use std::sync::atomic::{AtomicBool, Ordering};

static KUBE_USER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The kubeconfig user this process connected as (set by the connection).
pub fn set_kube_user(u: &str) {
    let _ = KUBE_USER.set(u.to_string());
}

/// Who runs this process: the kubeconfig user (`kube_user`, else the one
/// this process connected as, if it did), and `$USER@host`.
pub fn who(kube_user: Option<&str>) -> Who {
    let kube_user = kube_user.or_else(|| KUBE_USER.get().map(String::as_str));
    let user = crate::env::env_nonempty("USER").unwrap_or_else(|| "unknown".into());
    Who {
        kube_user: kube_user.map(str::to_string),
        local: format!("{user}@{}", crate::env::hostname()),
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The workload `pod` belongs to (Deployment, StatefulSet), else the pod.
async fn regarding(k: &crate::kube::Kube, namespace: &str, pod: &str) -> Regarding {
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::Pod;
    let pods: kube::Api<Pod> = kube::Api::namespaced(k.client.clone(), namespace);
    let p = pods.get(pod).await.ok();
    let owner = p.as_ref().and_then(|p| {
        p.metadata
            .owner_references
            .as_ref()?
            .iter()
            .find(|o| o.controller == Some(true))
            .map(|o| (o.kind.clone(), o.name.clone(), o.uid.clone()))
    });
    let rs_owner = match &owner {
        Some((kind, name, _)) if kind == "ReplicaSet" => {
            let rss: kube::Api<ReplicaSet> = kube::Api::namespaced(k.client.clone(), namespace);
            rss.get(name).await.ok().and_then(|rs| {
                rs.metadata
                    .owner_references?
                    .into_iter()
                    .find(|o| o.controller == Some(true))
                    .map(|o| (o.kind, o.name, o.uid))
            })
        }
        _ => None,
    };
    let uid = p.as_ref().and_then(|p| p.metadata.uid.clone());
    audit::workload(
        namespace,
        pod,
        uid.as_deref(),
        owner
            .as_ref()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
        rs_owner
            .as_ref()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
    )
}

static EVENTS_REFUSED: AtomicBool = AtomicBool::new(false);

/// Posts an Event about the workload of `pod`. A refusal (no `create
/// events`) is warned about once; nothing fails because of it.
#[allow(clippy::too_many_arguments)]
pub async fn event(
    ui: &crate::ui::Ui,
    k: &crate::kube::Kube,
    namespace: &str,
    pod: &str,
    warning: bool,
    action: &str,
    reason: &str,
    note: &str,
) {
    if pod.is_empty() || EVENTS_REFUSED.load(Ordering::Relaxed) {
        return;
    }
    let reg = regarding(k, namespace, pod).await;
    event_on(ui, k, &reg, warning, action, reason, note).await;
}

/// Posts an Event about `reg` itself (a workload, or a writer a recovery
/// put back), warning once when refused.
#[allow(clippy::too_many_arguments)]
pub async fn event_on(
    ui: &crate::ui::Ui,
    k: &crate::kube::Kube,
    reg: &Regarding,
    warning: bool,
    action: &str,
    reason: &str,
    note: &str,
) {
    if EVENTS_REFUSED.load(Ordering::Relaxed) {
        return;
    }
    let namespace = reg.namespace.as_str();
    let who = who(k.user.as_deref());
    let note = format!("{note}; by {}", who.describe());
    let ev = audit::event(reg, warning, action, reason, &note, &who, now_us());
    let api: kube::Api<k8s_openapi::api::events::v1::Event> =
        kube::Api::namespaced(k.client.clone(), namespace);
    let r = match serde_json::from_value::<k8s_openapi::api::events::v1::Event>(ev) {
        Ok(e) => tokio::time::timeout(
            std::time::Duration::from_secs(10),
            api.create(&kube::api::PostParams::default(), &e),
        )
        .await
        .map_err(|_| "the API server did not answer in 10 s".to_string())
        .and_then(|r| r.map(|_| ()).map_err(crate::kube::api_error)),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = r {
        EVENTS_REFUSED.store(true, Ordering::Relaxed);
        ui.warn(&format!(
            "no audit Event {reason} on {} {}: {e} (grant `create` on events.k8s.io events in {namespace} to record them; `kubectl redis status` lists it)",
            reg.kind, reg.name
        ));
    }
}

/// Records one access in `repo`'s `audit/` prefix. A record that cannot
/// be written is warned about; the work it records stands.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    ui: &crate::ui::Ui,
    repo: &Repo,
    action: &str,
    by_command: &str,
    file: &str,
    sha256: Option<&str>,
    decrypted: bool,
    kube_user: Option<&str>,
    peer: Option<&str>,
) {
    let ms = now_us() / 1000;
    let rec = audit::record(
        ms,
        action,
        by_command,
        file,
        sha256,
        decrypted,
        &who(kube_user),
        &crate::env::tool(),
        peer,
    );
    let Ok(bytes) = serde_json::to_vec_pretty(&rec) else {
        return;
    };
    let mut nonce = std::process::id().to_be_bytes();
    {
        use ring::rand::SecureRandom;
        let _ = ring::rand::SystemRandom::new().fill(&mut nonce);
    }
    let nonce = crate::store::rdbfile::hex(&nonce);
    let name = audit::record_name(ms, action, &nonce);
    let r: Result<(), String> = match repo {
        Repo::Remote(r) => match r.put_new(&name, bytes).await {
            Ok(()) => Ok(()),
            Err(PutNew::Exists) => Err(format!("{name} exists already")),
            Err(PutNew::Failed(p)) => Err(p.message),
        },
        Repo::Local(d) => write_local(d, &name, &bytes),
    };
    if let Err(e) = r {
        ui.warn(&format!(
            "the access was not recorded in {}'s audit trail: {e}",
            repo.display()
        ));
    }
}

/// A record written whole, under a name no other file has (create-only).
fn write_local(dir: &str, name: &str, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let path = std::path::Path::new(dir).join(name);
    let parent = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let p = parent.to_string_lossy().into_owned();
    let (temp, mut f) =
        crate::store::files::create_temp(&p, ".audit-").map_err(|e| format!("{p}: {e}"))?;
    if let Err(e) = f.write_all(bytes) {
        crate::store::files::discard(&temp);
        return Err(e.to_string());
    }
    crate::store::files::commit(&temp, &path.to_string_lossy()).map_err(|e| match e {
        kubectl_redis_core::backup::CommitError::Exists => format!("{name} exists already"),
        kubectl_redis_core::backup::CommitError::Failed(m) => m,
    })
}

/// Every record in `repo`'s audit trail since `since_ms`, oldest first.
pub async fn records(repo: &Repo, since_ms: i64) -> Result<(Vec<Record>, Vec<String>), Problem> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    match repo {
        Repo::Local(d) => {
            let dir = std::path::Path::new(d).join(audit::PREFIX);
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok((out, bad));
                }
                Err(e) => {
                    return Err(Problem::new(
                        format!("cannot read {}: {e}", dir.display()),
                        "check the repository path and its permissions",
                    ))
                }
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.ends_with(".json") || name.starts_with('.') {
                    continue;
                }
                match std::fs::read(e.path())
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice::<Record>(&b).map_err(|e| e.to_string()))
                {
                    Ok(r) if r.time_ms >= since_ms => out.push(r),
                    Ok(_) => {}
                    Err(why) => bad.push(format!("{}{name}: {why}", audit::PREFIX)),
                }
            }
        }
        Repo::Remote(r) => {
            for (name, bytes) in r.objects_under(audit::PREFIX).await? {
                match serde_json::from_slice::<Record>(&bytes) {
                    Ok(rec) if rec.time_ms >= since_ms => out.push(rec),
                    Ok(_) => {}
                    Err(why) => bad.push(format!("{name}: {why}")),
                }
            }
        }
    }
    out.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(a.action.cmp(&b.action)));
    Ok((out, bad))
}

/// The repository a backup is read from, when it is in one: an object
/// store's prefix, or the directory of a file named as our backups are
/// (a `dump.rdb` somewhere is not a repository).
pub fn repo_of(src: &crate::store::source::Source) -> Option<Repo> {
    use crate::store::source::Source;
    match src {
        Source::Remote { remote, .. } => Some(Repo::Remote(remote.clone())),
        Source::Local(p) => {
            let name = p.file_name()?.to_string_lossy().into_owned();
            kubectl_redis_core::store::names::parse_backup_file_name(&name)?;
            let dir = p.parent()?.to_string_lossy().into_owned();
            Some(Repo::Local(if dir.is_empty() { ".".into() } else { dir }))
        }
    }
}

/// Records that `src` was read for `by_command` (decrypted when it is an
/// age file and was opened), in its repository's audit trail.
pub async fn read_of(
    ui: &crate::ui::Ui,
    src: &crate::store::source::Source,
    by_command: &str,
    sha256: Option<&str>,
    peer: Option<&str>,
) {
    let Some(repo) = repo_of(src) else { return };
    let name = src.name();
    // Reading for these commands decrypts an age file; a plain copy of
    // one moves its stored bytes only.
    let decrypted = name.ends_with(".age") && by_command != "copy";
    record(
        ui, &repo, "read", by_command, &name, sha256, decrypted, None, peer,
    )
    .await;
}

/// After `backup`: the access recorded in each repository written, and an
/// Event on the Redis workload (BackupSucceeded, or BackupFailed naming
/// why). `pod_hint`: the pod named with `--pod`, for a failure before the
/// backup found one.
#[allow(clippy::too_many_arguments)]
pub async fn after_backup(
    ui: &crate::ui::Ui,
    k: Option<&crate::kube::Kube>,
    first: &Repo,
    finish: &kubectl_redis_core::backup::Finish,
    copies: &[(String, String, Option<String>)],
    pod_hint: Option<&str>,
    sanitized: bool,
) {
    let by = if sanitized {
        "backup --sanitize"
    } else {
        "backup"
    };
    if let Some(r) = &finish.report {
        let m = &r.manifest;
        let file = std::path::Path::new(&r.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| m.file.clone());
        let source = match (&m.source.namespace, &m.source.pod, &m.source.url) {
            (Some(ns), Some(p), _) => Some(format!("pod {ns}/{p}")),
            (_, _, Some(u)) => Some(u.clone()),
            _ => None,
        };
        let sha = m.stored().1.to_string();
        // The first repository, then each further one written to.
        let others = copies
            .iter()
            .filter(|(_, _, err)| err.is_none())
            .filter_map(|(label, _, _)| Repo::open(label).ok());
        for repo in std::iter::once(first.clone()).chain(others) {
            record(
                ui,
                &repo,
                "backup-written",
                by,
                &file,
                Some(&sha),
                false,
                None,
                source.as_deref(),
            )
            .await;
        }
        if let (Some(k), Some(ns), Some(pod)) = (k, &m.source.namespace, &m.source.pod) {
            let note = format!(
                "{}backup {file} ({} keys, sha256 {}) stored in {}{}",
                if sanitized { "sanitized " } else { "" },
                m.keys,
                &sha[..12.min(sha.len())],
                first.display(),
                if copies.is_empty() {
                    String::new()
                } else {
                    format!(
                        " and {} more",
                        copies.iter().filter(|c| c.2.is_none()).count()
                    )
                }
            );
            event(ui, k, ns, pod, false, "Backup", "BackupSucceeded", &note).await;
        }
    } else if let (Some(k), Some(pod)) = (k, pod_hint) {
        let why = finish
            .error
            .as_ref()
            .map_or("failed".to_string(), |e| e.message.clone());
        let note = format!("backup failed (exit {}): {why}", finish.exit.code());
        event(
            ui,
            k,
            &k.namespace,
            pod,
            true,
            "Backup",
            "BackupFailed",
            &note,
        )
        .await;
    }
}

/// The first pod `selector` finds in the namespace (for an Event about a
/// run that failed before it chose one).
pub async fn first_pod(k: &crate::kube::Kube, selector: &str) -> Option<String> {
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(k.client.clone(), &k.namespace);
    let l = pods
        .list(&kube::api::ListParams::default().labels(selector))
        .await
        .ok()?;
    l.items.into_iter().find_map(|p| p.metadata.name)
}

/// After `restore` (not a dry run): an Event on the Redis workload,
/// RestoreSucceeded, or RestoreFailed saying whether anything changed.
pub async fn after_restore(
    ui: &crate::ui::Ui,
    k: Option<&crate::kube::Kube>,
    finish: &kubectl_redis_core::restore::Finish,
    source: &str,
) {
    let r = &finish.report;
    let Some(k) = k else { return };
    if r.pod.is_empty() {
        return;
    }
    let ns = if r.namespace.is_empty() {
        k.namespace.clone()
    } else {
        r.namespace.clone()
    };
    if finish.exit == kubectl_redis_core::exit::Exit::Ok {
        let note = format!(
            "restored {source} into {ns}/{}{}{}",
            r.pod,
            r.method
                .as_ref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            r.keys_loaded
                .map(|n| format!(": {n} keys"))
                .unwrap_or_default()
        );
        event(
            ui,
            k,
            &ns,
            &r.pod,
            false,
            "Restore",
            "RestoreSucceeded",
            &note,
        )
        .await;
    } else {
        let why = finish
            .error
            .as_ref()
            .map_or("failed".to_string(), |e| e.message.clone());
        let note = format!(
            "restore of {source} failed (exit {}): {why}; {}",
            finish.exit.code(),
            if r.changed {
                "the data was changed"
            } else {
                "nothing was changed"
            }
        );
        event(ui, k, &ns, &r.pod, true, "Restore", "RestoreFailed", &note).await;
    }
}

/// Where a pruned backup came from: its manifest's context, namespace and
/// pod (a backup made with `--url` has none, and gets no Event).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PrunedFrom {
    pub context: Option<String>,
    pub namespace: String,
    pub pod: String,
}

impl PrunedFrom {
    pub fn of(s: &kubectl_redis_core::store::manifest::Source) -> Option<PrunedFrom> {
        Some(PrunedFrom {
            context: s.context.clone(),
            namespace: s.namespace.clone()?,
            pod: s.pod.clone()?,
        })
    }
}

/// After `prune --yes`: one `BackupPruned` Event on each workload whose
/// backups went, naming them and the repository `repo`. The cluster is the
/// one `--context` names, else the context each backup was made through
/// (its manifest says), else the current one. A cluster that cannot be
/// reached is said once (a prune of local files may run far from any
/// cluster); nothing fails because of it.
pub async fn after_prune(
    ui: &crate::ui::Ui,
    kube: &crate::args::KubeArgs,
    repo: &str,
    removed: Vec<(PrunedFrom, String)>,
) {
    let mut groups: std::collections::BTreeMap<PrunedFrom, Vec<String>> = Default::default();
    for (from, file) in removed {
        groups.entry(from).or_default().push(file);
    }
    let mut clients: std::collections::HashMap<Option<String>, Option<crate::kube::Kube>> =
        Default::default();
    for (from, files) in groups {
        let context = kube.context.clone().or_else(|| from.context.clone());
        if !clients.contains_key(&context) {
            let args = crate::args::KubeArgs {
                context: context.clone(),
                ..kube.clone()
            };
            let k = match crate::kube::connect(&args).await {
                Ok(k) => Some(k),
                Err(e) => {
                    ui.note(&format!(
                        "no audit Event for the pruned backups of {}/{}{}: {}",
                        from.namespace,
                        from.pod,
                        context
                            .as_deref()
                            .map(|c| format!(" (context {c})"))
                            .unwrap_or_default(),
                        e.message
                    ));
                    None
                }
            };
            clients.insert(context.clone(), k);
        }
        let Some(Some(k)) = clients.get(&context) else {
            continue;
        };
        const SHOWN: usize = 5;
        let mut names = files
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if files.len() > SHOWN {
            names.push_str(&format!(" and {} more", files.len() - SHOWN));
        }
        let note = format!(
            "prune removed {} backup(s) of {}/{} from {repo}: {names}",
            files.len(),
            from.namespace,
            from.pod
        );
        event(
            ui,
            k,
            &from.namespace,
            &from.pod,
            false,
            "Prune",
            "BackupPruned",
            &note,
        )
        .await;
    }
}
