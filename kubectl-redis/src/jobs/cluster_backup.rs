//! `backup` of a Redis Cluster: detected by `cluster_enabled:1`, one
//! verified stream snapshot per primary, taken in parallel into a staging
//! directory, then merged into one RDB file (the core's
//! [`Merger`](kubectl_redis_core::rdb::merge::Merger)) that is stored like
//! any backup (verified again on the way, encrypted when asked) with a
//! manifest listing the shards: node ids, addresses, slot ranges, keys and
//! each snapshot's sha256. Nothing appears in the repository unless every
//! shard succeeded.

use crate::kube::lease::Locks;
use crate::kube::Kube;
use crate::redis::auth::Auth;
use crate::redis::Conn;
use crate::store::copy::{ChannelWriter, STOPPED};
use crate::store::crypt::{Identities, Recipients};
use crate::store::repo::Repo;
use crate::ui::Ui;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubectl_redis_core::backup::{self as machine, Endpoint, Line, Plan, Url};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::kube::lock::{self, Decision, LeaseError};
use kubectl_redis_core::kube::pods::{self, PodInfo};
use kubectl_redis_core::rdb::merge::Merger;
use kubectl_redis_core::rdb::records::Splitter;
use kubectl_redis_core::store::manifest::Shard;
use kubectl_redis_core::store::names;
use kubectl_redis_core::topo::cluster::SlotMap;
use kubectl_redis_core::wire::reply::Reply;
use std::io::{Read, Write};
use std::sync::Arc;

/// A cluster found where the backup was pointed.
pub struct Found {
    pub map: SlotMap,
    /// The pods of the namespace (empty for `--url`).
    pub pods: Vec<PodInfo>,
}

async fn is_cluster(conn: &mut Conn) -> Result<bool, String> {
    let r = conn.command(&["INFO".into(), "cluster".into()]).await?;
    Ok(match r {
        Reply::Bulk(b) => String::from_utf8_lossy(&b).contains("cluster_enabled:1"),
        _ => false,
    })
}

/// Whether the backup's target is a Redis Cluster node: straight for
/// `--url`; through Kubernetes when no `--pod` is named and several Ready
/// pods match (a cluster is several nodes), by asking the first of them.
/// Anything that fails here leaves the decision to the single-server path.
/// `doing` ends the note said when a cluster is found by label.
pub async fn detect(
    ui: &Ui,
    k: Option<&Kube>,
    auth: &mut Auth,
    url: Option<&Url>,
    selector: &str,
    named_pod: bool,
    doing: &str,
) -> Option<Found> {
    if let Some(u) = url {
        let (mut conn, _) = crate::redis::open_authed(&Endpoint::Url(u.clone()), None, auth)
            .await
            .ok()?;
        if !is_cluster(&mut conn).await.ok()? {
            return None;
        }
        let map = crate::redis::cluster::slot_map(&mut conn, &u.host)
            .await
            .ok()?;
        return Some(Found {
            map,
            pods: Vec::new(),
        });
    }
    let k = k?;
    if named_pod {
        return None;
    }
    let api: Api<Pod> = Api::namespaced(k.client.clone(), &k.namespace);
    let mut listed = crate::kube::pods::list_pods(&api, selector, None)
        .await
        .ok()?;
    listed.retain(|p| p.ready && !p.terminating && p.phase == "Running");
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    if listed.len() < 2 {
        return None;
    }
    let first = &listed[0];
    let t = pods::select(
        std::slice::from_ref(first),
        &pods::Wanted {
            pod: Some(&first.name),
            ..Default::default()
        },
    )
    .ok()?;
    if auth.password.is_none() {
        if let Ok(Some((pw, from))) =
            crate::redis::pod_password(k, &api, &t.pod, &t.container).await
        {
            auth.password = Some(pw);
            auth.source = Some(from);
        }
    }
    let (mut conn, fwd) = crate::redis::open_authed(&Endpoint::Pod(t), Some(&api), auth)
        .await
        .ok()?;
    let cluster = is_cluster(&mut conn).await.unwrap_or(false);
    let map = if cluster {
        crate::redis::cluster::slot_map(&mut conn, &first.ip)
            .await
            .ok()
    } else {
        None
    };
    drop(conn);
    if let Some(f) = fwd {
        f.close();
    }
    let map = map?;
    ui.note(&format!(
        "{} pods match {selector} and {} is a Redis Cluster node: {doing}",
        listed.len(),
        first.name
    ));
    let pods = crate::kube::pods::list_pods(&api, "", None).await.ok()?;
    Some(Found { map, pods })
}

/// What the cluster backup produced, for the report.
pub struct Done {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub keys: u64,
    pub shards: Vec<Shard>,
    /// The stored manifest (read back from a local repository).
    pub manifest: Option<kubectl_redis_core::store::manifest::Manifest>,
    /// Other repositories: (repository, path, error).
    pub copies: Vec<(String, String, Option<String>)>,
    /// One shard of a backup set: how sealing it went.
    pub set: Option<SetDone>,
}

/// One shard of a backup set, as its Job takes it: the set, the shard (the
/// lowest slot its primary served when the set was planned) and every
/// shard the set was planned with.
#[derive(Clone, Debug)]
pub struct SetJob {
    pub set: String,
    pub slot: u16,
    pub planned: Vec<u16>,
}

/// A shard stored: whether this Job sealed the set (it finished last),
/// which shards it still waits for, or why it can never be sealed.
#[derive(Clone, Debug)]
pub struct SetDone {
    pub set: String,
    pub slot: u16,
    pub sealed: bool,
    pub waiting: Vec<u16>,
    pub broken: Option<String>,
}

/// Why it failed: the exit code, the message, the hint.
pub type Failed = (Exit, String, String);

/// Runs the cluster backup: every primary's snapshot in parallel, merged,
/// stored in `repos[0]` and copied to the others; on Kubernetes under the
/// cluster's one Lease (the shards take none of their own).
pub async fn run(
    ui: &Ui,
    k: Option<Kube>,
    auth: Auth,
    found: Found,
    base: &Plan,
    repos: Vec<(Repo, Option<Recipients>)>,
    shard: Option<SetJob>,
) -> Result<Done, Failed> {
    // --url: every node the cluster announces must be a host the user
    // allowed, before any is dialed (a replica chosen later included).
    if base.url.is_some() {
        let allowed = crate::redis::allowed_hosts().ok_or_else(|| {
            (
                Exit::Invalid,
                "no host was allowed for this --url run".to_string(),
                String::new(),
            )
        })?;
        allowed
            .check_all(
                found.map.nodes.iter().map(|n| (n.host.as_str(), n.port)),
                "the cluster's slot map",
            )
            .map_err(|e| {
                (
                    Exit::Invalid,
                    e,
                    format!(
                        "see the addresses with `redis-cli -u URL CLUSTER SHARDS`; {} takes each trusted host or network",
                        kubectl_redis_core::topo::hosts::FLAG
                    ),
                )
            })?;
    }
    // A set's shards run at once, each in its own Job: none takes the
    // cluster's Lease (one would hold off the others).
    let lease = match (&k, base.url.is_some() || shard.is_some()) {
        (Some(k), false) => lock::cluster_lease_name(&found.map, &found.pods).map(|name| (k, name)),
        _ => None,
    };
    let mut held = None;
    if let Some((k, name)) = &lease {
        held = take_lease(ui, k, name, base).await?;
    }
    let lost = held.as_ref().map(Locks::lost_watch);
    let r = run_locked(ui, k.clone(), auth, found, base, repos, lost, shard).await;
    if let (Some(mut locks), Some((_, name))) = (held, lease) {
        if let Err(e) = locks.release(&name).await {
            ui.warn(&format!(
                "could not release the lock Lease {name}: {e} (it expires on its own)"
            ));
        }
    }
    r
}

/// Takes the cluster's Lease and keeps renewing it. `None` when Leases
/// cannot be used here (the backup goes on without, and says so, as a
/// single server's does); an error when another run holds it.
async fn take_lease(ui: &Ui, k: &Kube, name: &str, base: &Plan) -> Result<Option<Locks>, Failed> {
    let mut locks = Locks::new(k.client.clone(), &k.namespace, base.holder.clone());
    let without = |e: LeaseError| ui.warn(&lock::backing_up_without(name, e));
    let found = match locks.observe(ui, name).await {
        Ok(f) => f,
        Err(e) => {
            without(e);
            return Ok(None);
        }
    };
    match lock::decide(found.as_ref(), name, &base.holder, crate::env::unix_now()) {
        Decision::Held { message, hint } => Err((Exit::Locked, message, hint)),
        Decision::Take { replaces, warning } => {
            if let Some(w) = warning {
                ui.warn(&w);
            }
            match locks.take(name, base.lease_s, replaces).await {
                Ok(()) => Ok(Some(locks)),
                Err(LeaseError::Conflict) => {
                    let (message, hint) = lock::taken_meanwhile(name);
                    Err((Exit::Locked, message, hint))
                }
                Err(e) => {
                    without(e);
                    Ok(None)
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_locked(
    ui: &Ui,
    k: Option<Kube>,
    auth: Auth,
    found: Found,
    base: &Plan,
    repos: Vec<(Repo, Option<Recipients>)>,
    lost: Option<tokio::sync::watch::Receiver<Option<String>>>,
    shard: Option<SetJob>,
) -> Result<Done, Failed> {
    let map = &found.map;
    let ranges = map.ranges();
    // Shards in slot order: the manifest reads the same whatever order the
    // cluster lists its nodes in.
    let mut primaries: Vec<usize> = map
        .primaries_by_slot()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    // A set's shard: the primary serving its slot now (after a failover,
    // the promoted replica).
    if let Some(j) = &shard {
        let owner = ranges
            .iter()
            .find(|(a, b, _)| *a <= j.slot && j.slot <= *b)
            .map(|(_, _, n)| *n);
        match owner {
            Some(n) => primaries.retain(|p| *p == n),
            None => {
                return Err((
                    Exit::Unhealthy,
                    format!(
                        "no primary serves slot {} of set {}'s shard: the cluster is not whole",
                        j.slot, j.set
                    ),
                    "see CLUSTER INFO; run the backup again once every slot is served".into(),
                ))
            }
        }
    }
    let staging_root = match &repos[0].0 {
        Repo::Local(d) => d.clone(),
        Repo::Remote(_) => std::env::temp_dir().to_string_lossy().into_owned(),
    };
    std::fs::create_dir_all(&staging_root).map_err(|e| {
        (
            Exit::Error,
            format!("cannot create {staging_root}: {e}"),
            String::new(),
        )
    })?;
    let staging = Staging::new(&staging_root, base.started_unix).map_err(|e| {
        (
            Exit::Error,
            format!("cannot create a staging directory in {staging_root}: {e}"),
            "check the space and permissions there".into(),
        )
    })?;
    ui.line(
        "backup",
        &Line::Step(format!(
            "Redis Cluster: {} shards; one snapshot each (from a healthy replica where there is one), in parallel",
            primaries.len()
        )),
    );
    // One plan per primary: its pod (or address), its own staging folder.
    let mut plans = Vec::new();
    let mut shards = Vec::new();
    for &n in &primaries {
        let primary = &map.nodes[n];
        // A healthy replica spares the primary the fork (--from).
        let picked = match base.from {
            pods::Prefer::Primary => Err("--from primary".to_string()),
            _ => pick_replica(k.as_ref(), &found.pods, &auth, base.url.is_some(), map, n).await,
        };
        let (node, role) = match (base.from, picked) {
            (pods::Prefer::Primary, _) => (primary.clone(), "primary"),
            (_, Ok(r)) => (r, "replica"),
            (pods::Prefer::Replica, Err(why)) => {
                return Err((
                    Exit::Unhealthy,
                    format!(
                        "--from replica: the shard of {}:{} has no healthy, caught-up replica ({why})",
                        primary.host, primary.port
                    ),
                    "back up the primaries with --from primary (or --from auto, which falls back to them)".into(),
                ))
            }
            (pods::Prefer::Auto, Err(why)) => {
                ui.line(
                    "backup",
                    &Line::Detail(format!(
                        "shard {}:{}: reading the primary ({why})",
                        primary.host, primary.port
                    )),
                );
                (primary.clone(), "primary")
            }
        };
        let node = &node;
        let dir = staging.path().join(format!("shard-{n}"));
        std::fs::create_dir_all(&dir).map_err(|e| (Exit::Error, e.to_string(), String::new()))?;
        let mut plan = base.clone();
        plan.out_dir = dir.to_string_lossy().into_owned();
        plan.method = machine::Method::Stream;
        plan.from = pods::Prefer::Primary;
        plan.recipients = Vec::new();
        plan.locked_outside = true;
        let mut pod = None;
        if base.url.is_some() {
            plan.url = Some(Url {
                host: node.host.clone(),
                port: node.port,
            });
        } else {
            let t = pods::target_serving(&found.pods, &node.host, node.port).map_err(|e| {
                (
                    Exit::Invalid,
                    format!(
                        "the cluster node {}:{} in namespace {}: {e}",
                        node.host, node.port, base.namespace
                    ),
                    "check `kubectl get pods -o wide`".into(),
                )
            })?;
            plan.pod = Some(t.pod.clone());
            plan.container = Some(t.container);
            plan.port = Some(node.port);
            pod = Some(t.pod);
        }
        shards.push(Shard {
            node_id: primary.id.clone(),
            address: format!("{}:{}", node.host, node.port),
            role: role.into(),
            pod,
            slots: ranges
                .iter()
                .filter(|(_, _, o)| *o == n)
                .map(|(a, b, _)| [*a, *b])
                .collect(),
            keys: 0,
            sha256: String::new(),
        });
        plans.push(plan);
    }
    let mut shells: Vec<crate::jobs::backup::Shell<'_>> = plans
        .iter()
        .map(|p| {
            crate::jobs::backup::Shell::new(
                ui,
                k.clone(),
                auth.clone(),
                p.holder.clone(),
                Repo::Local(p.out_dir.clone()),
                None,
            )
            .with_lease_of(lost.clone())
        })
        .collect();
    let t0 = std::time::Instant::now();
    let finishes = futures::future::join_all(
        shells
            .iter_mut()
            .zip(plans.iter().cloned())
            .map(|(sh, p)| crate::jobs::backup::drive(sh, p)),
    )
    .await;
    let mut files = Vec::new();
    for (f, shard) in finishes.iter().zip(shards.iter_mut()) {
        match (&f.report, f.exit) {
            (Some(r), Exit::Ok) => {
                shard.keys = r.manifest.keys;
                shard.sha256 = r.manifest.sha256.clone();
                files.push((r.path.clone(), r.manifest.redis_version.clone()));
            }
            _ => {
                let e = f.error.as_ref();
                return Err((
                    f.exit,
                    format!(
                        "the snapshot of shard {} failed: {}; nothing was stored",
                        shard.address,
                        e.map(|e| e.message.as_str()).unwrap_or("no result")
                    ),
                    e.and_then(|e| e.hint.clone()).unwrap_or_default(),
                ));
            }
        }
    }
    // The shards stop when the cluster's Lease is lost; one lost after the
    // last shard finished is caught here, before anything is stored.
    if let Some(why) = lost.as_ref().and_then(|l| l.borrow().clone()) {
        return Err((
            Exit::Locked,
            format!(
                "{}; nothing was stored",
                kubectl_redis_core::kube::lock::lost_message("of the cluster", &why)
            ),
            "run the backup again".into(),
        ));
    }
    if let Some(j) = shard {
        let (path, _) = files.remove(0);
        return store_shard(ui, &path, base, &repos[0], &shards[0], j).await;
    }
    ui.line(
        "backup",
        &Line::Step(format!(
            "{} snapshots in {}; merge them into one file as it is stored, checking every byte again",
            files.len(),
            kubectl_redis_core::human::millis(t0.elapsed().as_millis() as u64)
        )),
    );
    let t0 = std::time::Instant::now();
    let keys: u64 = shards.iter().map(|s| s.keys).sum();
    // The first free name (backups in the same second get a suffix).
    let encrypted = repos[0].1.is_some();
    let taken = |n: &str| match &repos[0].0 {
        Repo::Local(d) => {
            let p = std::path::Path::new(d);
            p.join(n).exists() || p.join(format!("{n}.json")).exists()
        }
        Repo::Remote(_) => false,
    };
    let name = (0..100)
        .map(|a| names::backup_file_name_for(base.started_unix, a, encrypted))
        .find(|n| !taken(n))
        .ok_or((
            Exit::Error,
            "no free backup name in this second".to_string(),
            "run the backup again".to_string(),
        ))?;
    let created = names::rfc3339(base.started_unix);
    let source = source_of(base);
    let shards_m = shards.clone();
    let adjust = move |m: &mut kubectl_redis_core::store::manifest::Manifest| {
        m.method = "stream".into();
        m.created = created.clone();
        m.source = source.clone();
        m.shards = shards_m.clone();
    };
    let ids = Arc::new(Identities::none());
    // The merge runs on its own thread into a pipe the store reads (and
    // checks) as it writes, so the two overlap and the merged file is never
    // written twice; with other repositories it is also kept in staging, to
    // copy from.
    let merged = (repos.len() > 1).then(|| staging.path().join("merged.rdb"));
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let version = files.first().and_then(|(_, v)| v.clone());
    let keep = merged.clone();
    let merging = tokio::task::spawn_blocking(move || {
        let mut out = Pipe {
            out: ChannelWriter::new(tx),
            keep: None,
        };
        if let Some(p) = &keep {
            // Plaintext data, like the snapshots beside it: 0600.
            let f = std::os::unix::fs::OpenOptionsExt::mode(
                std::fs::OpenOptions::new().write(true).create_new(true),
                0o600,
            )
            .open(p)
            .map_err(|e| format!("{}: {e}", p.display()))?;
            out.keep = Some(std::io::BufWriter::with_capacity(1 << 20, f));
        }
        let module_aux = merge(&files, &mut out, version)?;
        out.finish().map_err(|e| e.to_string())?;
        Ok(module_aux)
    });
    let piped: Box<dyn Read + Send> = Box::new(crate::store::copy::PipeReader {
        rx,
        chunk: Vec::new(),
        at: 0,
    });
    let stored = crate::store::copy::copy_from(
        piped,
        "the merged snapshots",
        None,
        &repos[0].0,
        &name,
        repos[0].1.as_ref(),
        &ids,
        &adjust,
    )
    .await;
    let merge_result = merging
        .await
        .unwrap_or_else(|e| Err(format!("internal error: {e}")));
    let first: (String, u64, String) = match (merge_result, stored) {
        (Ok(module_aux), Ok(c)) => {
            if module_aux > 0 {
                ui.warn(&format!(
                    "the shards' snapshots held {module_aux} module aux record(s) (a module's own data beside its keys), which the merged backup does not carry; keys of module types are in it"
                ));
            }
            (c.destination, c.bytes, c.sha256)
        }
        // The store stopped reading: its own error says why.
        (Err(e), Err((exit, p))) if e == STOPPED => return Err((exit, p.message, p.hint)),
        (Err(e), _) => {
            return Err((
                Exit::Error,
                format!("merging the shards' snapshots: {e}; nothing was stored"),
                String::new(),
            ))
        }
        (Ok(_), Err((exit, p))) => return Err((exit, p.message, p.hint)),
    };
    ui.line(
        "backup",
        &Line::Step(format!(
            "merged and stored in {}",
            kubectl_redis_core::human::millis(t0.elapsed().as_millis() as u64)
        )),
    );
    let mut copies = Vec::new();
    if let Some(m) = &merged {
        let src = crate::store::source::Source::Local(m.clone());
        for (repo, rcpt) in &repos[1..] {
            let r =
                crate::store::copy::copy_one(&src, None, repo, &name, rcpt.as_ref(), &ids, &adjust)
                    .await;
            match r {
                Ok(c) => copies.push((repo.display(), c.destination, None)),
                Err((_, p)) => copies.push((repo.display(), String::new(), Some(p.message))),
            }
        }
    }
    let (path, bytes, sha256) = first;
    // The manifest as stored (the result reports its fields), read back
    // from the first repository.
    let manifest = repos[0].0.manifest(&name).await.ok().flatten();
    Ok(Done {
        path,
        bytes,
        sha256,
        keys,
        shards,
        manifest,
        copies,
        set: None,
    })
}

/// A set's shard: its snapshot (at `path`, verified as it came) stored as
/// it is under the shard's name, checked again on the way (encrypted when
/// asked), its manifest recording the shard; then the set sealed when
/// every planned shard is stored.
async fn store_shard(
    ui: &Ui,
    path: &str,
    base: &Plan,
    (repo, rcpt): &(Repo, Option<Recipients>),
    shard: &Shard,
    j: SetJob,
) -> Result<Done, Failed> {
    use kubectl_redis_core::store::set;
    let name = set::shard_file_name(&j.set, j.slot, rcpt.is_some());
    let source = source_of(base);
    let created = names::rfc3339(base.started_unix);
    let (src2, sh2) = (source.clone(), shard.clone());
    let adjust = move |m: &mut kubectl_redis_core::store::manifest::Manifest| {
        m.method = "stream".into();
        m.created = created.clone();
        m.source = src2.clone();
        m.shards = vec![sh2.clone()];
    };
    let f = std::fs::File::open(path)
        .map_err(|e| (Exit::Error, format!("{path}: {e}"), String::new()))?;
    let t0 = std::time::Instant::now();
    let c = crate::store::copy::copy_from(
        Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
        "the shard's snapshot",
        None,
        repo,
        &name,
        rcpt.as_ref(),
        &Arc::new(Identities::none()),
        &adjust,
    )
    .await
    .map_err(|(exit, p)| (exit, p.message, p.hint))?;
    ui.line(
        "backup",
        &Line::Step(format!(
            "shard at slot {} of set {} stored in {}",
            j.slot,
            j.set,
            kubectl_redis_core::human::millis(t0.elapsed().as_millis() as u64)
        )),
    );
    // Seal: every planned shard's manifest, then the set's, create-only.
    // Each shard's Job stores its own before it looks, so the last to
    // finish sees them all.
    let enc = rcpt.is_some();
    let mut found = Vec::new();
    for s in &j.planned {
        let m = repo
            .manifest(&set::shard_file_name(&j.set, *s, enc))
            .await
            .map_err(|e| (Exit::Storage, e, "check the repository".to_string()))?;
        found.push(m);
    }
    let outcome = set::seal(&j.set, &j.planned, &found, source, &crate::env::tool());
    let mut done = SetDone {
        set: j.set.clone(),
        slot: j.slot,
        sealed: false,
        waiting: Vec::new(),
        broken: None,
    };
    match outcome {
        set::Seal::Waiting { missing } => {
            ui.line(
                "backup",
                &Line::Detail(format!(
                    "the set is sealed by the last shard to finish; {} still running",
                    missing.len()
                )),
            );
            done.waiting = missing;
        }
        set::Seal::Broken(why) => {
            ui.warn(&format!("set {} cannot be sealed: {why}", j.set));
            done.broken = Some(why);
        }
        set::Seal::Ready(m) => {
            let body = serde_json::to_vec_pretty(&m)
                .map_err(|e| (Exit::Error, e.to_string(), String::new()))?;
            match put_new(repo, &set::set_manifest_name(&j.set), body).await {
                Ok(true) => {
                    ui.line(
                        "backup",
                        &Line::Step(format!(
                            "every shard stored: set {} sealed ({} shards, {} keys)",
                            j.set,
                            m.shards.len(),
                            m.keys
                        )),
                    );
                    done.sealed = true;
                }
                // Another shard's Job sealed it at the same moment.
                Ok(false) => {}
                Err(e) => return Err((Exit::Storage, e, "check the repository".into())),
            }
        }
    }
    let manifest = repo.manifest(&name).await.ok().flatten();
    Ok(Done {
        path: c.destination,
        bytes: c.bytes,
        sha256: c.sha256,
        keys: shard.keys,
        shards: vec![shard.clone()],
        manifest,
        copies: Vec::new(),
        set: Some(done),
    })
}

/// Where a cluster backup came from, as its manifest records it.
fn source_of(base: &Plan) -> kubectl_redis_core::store::manifest::Source {
    kubectl_redis_core::store::manifest::Source {
        context: base.context.clone(),
        namespace: (!base.namespace.is_empty()).then(|| base.namespace.clone()),
        pod: None,
        url: base
            .url
            .as_ref()
            .map(|u| format!("redis://{}:{}", u.host, u.port)),
        role: None,
    }
}

/// Merges `files` into a new private file at `out` (0600) on a blocking
/// thread: every key, or with `only` the keys of those slot ranges.
/// Returns how many module aux records the merge left out.
pub async fn merge_to_file(
    files: Vec<(String, Option<String>)>,
    out: std::path::PathBuf,
    only: Option<&'static [[u16; 2]]>,
) -> Result<u64, String> {
    tokio::task::spawn_blocking(move || {
        let f = std::os::unix::fs::OpenOptionsExt::mode(
            std::fs::OpenOptions::new().write(true).create_new(true),
            0o600,
        )
        .open(&out)
        .map_err(|e| format!("{}: {e}", out.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        match only {
            Some(only) => {
                let keep = |k: &[u8]| {
                    let s = kubectl_redis_core::topo::cluster::key_slot(k);
                    only.iter().any(|[a, b]| *a <= s && s <= *b)
                };
                merge_only(&files, &mut w, None, Some(&keep))
            }
            None => merge(&files, &mut w, None),
        }
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
}

/// Writes `name` only if it does not exist: `Ok(false)` when it did.
pub async fn put_new(repo: &Repo, name: &str, body: Vec<u8>) -> Result<bool, String> {
    match repo {
        Repo::Local(d) => {
            let dir = std::path::Path::new(d);
            let tmp = dir.join(format!(".{name}.{}", std::process::id()));
            let write = || -> std::io::Result<()> {
                let mut f = std::os::unix::fs::OpenOptionsExt::mode(
                    std::fs::OpenOptions::new().write(true).create_new(true),
                    0o600,
                )
                .open(&tmp)?;
                f.write_all(&body)?;
                f.sync_all()
            };
            write().map_err(|e| format!("{}: {e}", tmp.display()))?;
            // link(2) fails when the name exists: create-only, whole.
            let r = std::fs::hard_link(&tmp, dir.join(name));
            let _ = std::fs::remove_file(&tmp);
            match r {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(format!("{}: {e}", dir.join(name).display())),
            }
        }
        Repo::Remote(r) => match r.put_new(name, body).await {
            Ok(()) => Ok(true),
            Err(crate::store::repo::PutNew::Exists) => Ok(false),
            Err(crate::store::repo::PutNew::Failed(p)) => Err(p.message),
        },
    }
}

/// How long a replica may take to catch up with its primary's offset as
/// the backup began.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(10);

/// The first replica of shard `n` fit to back up from, or why none is: by
/// its own `INFO replication` (linked, not loading a full copy, heard from
/// its primary within 15 s), and caught up: its offset reaches the one its
/// primary had when the backup began, so the snapshot holds every write
/// made before (a linked replica can still be seconds behind).
async fn pick_replica(
    k: Option<&Kube>,
    pods_here: &[PodInfo],
    auth: &Auth,
    url_mode: bool,
    map: &SlotMap,
    n: usize,
) -> Result<kubectl_redis_core::topo::cluster::Node, String> {
    let candidates = map.replica_candidates(n)?;
    let primary = &map.nodes[n];
    let (target, history) =
        match with_replication(k, pods_here, auth, url_mode, primary, |rep, _| {
            Some(
                rep.offset
                    .map(|o| (o, rep.replid.clone()))
                    .ok_or_else(|| "no master_repl_offset".to_string()),
            )
        })
        .await
        {
            Ok(o) => o,
            Err(e) => return Err(format!("the primary's replication offset: {e}")),
        };
    let mut why = Vec::new();
    for r in candidates {
        let node = &r.node;
        let addr = format!("{}:{}", node.host, node.port);
        let fit = with_replication(k, pods_here, auth, url_mode, node, |rep, waited| {
            if let Some(why) = rep.unfit_replica() {
                return Some(Err(why));
            }
            // Offsets compare only within one replication history.
            if history.is_some() && rep.replid.is_some() && rep.replid != history {
                return Some(Err(
                    "it follows another replication history than its primary".into(),
                ));
            }
            let at = rep.offset.unwrap_or(0);
            if at >= target {
                return Some(Ok(()));
            }
            (waited >= CATCH_UP).then(|| {
                Err(format!(
                    "{} bytes behind its primary after {} s",
                    target - at,
                    CATCH_UP.as_secs()
                ))
            })
        })
        .await;
        match fit {
            Ok(()) => return Ok(node.clone()),
            Err(e) => why.push(format!("{addr}: {e}")),
        }
    }
    Err(why.join("; "))
}

/// Asks `node` for `INFO replication` every 100 ms until `decide` (given
/// the answer and the time waited) returns a result.
async fn with_replication<T>(
    k: Option<&Kube>,
    pods_here: &[PodInfo],
    auth: &Auth,
    url_mode: bool,
    node: &kubectl_redis_core::topo::cluster::Node,
    mut decide: impl FnMut(
        &kubectl_redis_core::topo::replication::Replication,
        std::time::Duration,
    ) -> Option<Result<T, String>>,
) -> Result<T, String> {
    let api: Option<Api<Pod>> = k.map(|k| Api::namespaced(k.client.clone(), &k.namespace));
    let to = if url_mode {
        Endpoint::Url(Url {
            host: node.host.clone(),
            port: node.port,
        })
    } else {
        Endpoint::Pod(pods::target_serving(pods_here, &node.host, node.port)?)
    };
    let (mut conn, fwd) = crate::redis::open_authed(&to, api.as_ref(), auth).await?;
    let t0 = std::time::Instant::now();
    let r = loop {
        let rep = match conn.command(&["INFO".into(), "replication".into()]).await {
            Ok(Reply::Bulk(b)) => kubectl_redis_core::topo::replication::Replication::parse(
                &String::from_utf8_lossy(&b),
            ),
            Ok(other) => break Err(format!("INFO replication: {other:?}")),
            Err(e) => break Err(e),
        };
        if let Some(r) = decide(&rep, t0.elapsed()) {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    drop(conn);
    if let Some(f) = fwd {
        f.close();
    }
    r
}

/// A hidden directory for the shards' snapshots, removed with everything
/// in it when dropped (success, failure or Ctrl-C).
struct Staging(std::path::PathBuf);

impl Staging {
    fn new(root: &str, started: i64) -> std::io::Result<Self> {
        let p = std::path::Path::new(root)
            .join(format!(".kr-cluster-{started}-{}", std::process::id()));
        std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
            .create(&p)?;
        Ok(Staging(p))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The merge's output: the copy's chunked channel writer to the store's
/// reader, and a copy to a file when other repositories need one.
struct Pipe {
    out: ChannelWriter,
    keep: Option<std::io::BufWriter<std::fs::File>>,
}

impl Pipe {
    fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()?;
        if let Some(k) = self.keep.take() {
            k.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        Ok(())
    }
}

impl Write for Pipe {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Some(k) = &mut self.keep {
            k.write_all(b)?;
        }
        self.out.write_all(b)?;
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Merges the shards' snapshots into `w`; returns how many module aux
/// records they held (the merge does not carry those).
pub fn merge(
    files: &[(String, Option<String>)],
    w: &mut dyn Write,
    version: Option<String>,
) -> Result<u64, String> {
    merge_only(files, w, version, None)
}

/// Which keys a merge keeps, by name.
pub type KeyFilter<'a> = &'a (dyn Fn(&[u8]) -> bool + Sync);

/// [`merge`], keeping only the keys `keep` accepts (by name): a backup
/// set's keys of one target primary's slots.
pub fn merge_only(
    files: &[(String, Option<String>)],
    w: &mut dyn Write,
    version: Option<String>,
    keep: Option<KeyFilter<'_>>,
) -> Result<u64, String> {
    use kubectl_redis_core::rdb::records::Record;
    let mut module_aux = 0;
    // Inside a big key that is left out: its parts and end go too.
    let mut skipping = false;
    let mut m = Merger::new(version);
    let mut buf = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 256 << 10];
    for (path, _) in files {
        let mut f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
        let mut s = Splitter::new(64 << 20);
        loop {
            let n = f.read(&mut chunk).map_err(|e| format!("{path}: {e}"))?;
            if n == 0 {
                break;
            }
            let mut err = None;
            s.feed(&chunk[..n], &mut |r| {
                if let Some(keep) = keep {
                    let out = match &r {
                        Record::Key { key, .. } => !keep(key.name),
                        Record::BigStart { name, .. } => {
                            skipping = !keep(name);
                            skipping
                        }
                        Record::BigPart(_) => skipping,
                        Record::BigEnd(_) => std::mem::replace(&mut skipping, false),
                        _ => false,
                    };
                    if out {
                        return;
                    }
                }
                if let Err(e) = m.record(r, &mut buf) {
                    err.get_or_insert(e);
                }
            })
            .map_err(|e| format!("{path}: {e}"))?;
            if let Some(e) = err {
                return Err(e);
            }
            w.write_all(&buf).map_err(|e| e.to_string())?;
            buf.clear();
        }
        module_aux += s.finish().map_err(|e| format!("{path}: {e}"))?.module_aux;
    }
    m.finish(&mut buf)?;
    w.write_all(&buf).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    Ok(module_aux)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubectl_redis_core::rdb::crc64::Crc64;
    use kubectl_redis_core::rdb::reader::read_all;

    const EMPTY: &[u8] = include_bytes!("../../../core/tests/fixtures/empty-7.0.rdb");
    const ALL: &[u8] = include_bytes!("../../../core/tests/fixtures/all-types-7.0.rdb");

    /// `file` (ending in 0xFF and its CRC-64) with one module aux record
    /// before the end, and its CRC made right again.
    fn with_module_aux(file: &[u8]) -> Vec<u8> {
        let mut b = file[..file.len() - 9].to_vec();
        b.push(0xF7);
        b.push(0x81);
        b.extend_from_slice(&0x0123_4567_89ab_cdefu64.to_be_bytes());
        b.extend_from_slice(&[2, 2]); // when: after the keyspace
        b.extend_from_slice(&[2, 42]); // an unsigned integer
        b.push(0); // the module's EOF
        b.push(0xFF);
        let mut crc = Crc64::new();
        crc.update(&b);
        b.extend_from_slice(&crc.value().to_le_bytes());
        b
    }

    #[test]
    fn module_aux_records_are_counted_and_the_keys_merged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let aux = with_module_aux(EMPTY);
        assert_eq!(read_all(&aux, &mut |_| {}).map(|s| s.module_aux), Ok(1));
        let mut files = Vec::new();
        for (name, bytes) in [("aux.rdb", &aux[..]), ("all.rdb", ALL)] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).expect("write");
            files.push((p.to_string_lossy().into_owned(), None));
        }
        let mut out = Vec::new();
        assert_eq!(merge(&files, &mut out, Some("7.0.15".into())), Ok(1));
        let merged = read_all(&out, &mut |_| {}).expect("the merged file reads");
        let all = read_all(ALL, &mut |_| {}).expect("input");
        assert_eq!(merged.dbs, all.dbs);
        assert_eq!(merged.module_aux, 0, "not carried, and said so");
    }
}
