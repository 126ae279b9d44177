//! `backup --in-cluster` of a Redis Cluster: a backup set, one Job per
//! shard (`core::store::set`).
//!
//! The run's first Job finds the cluster and, instead of backing it up,
//! plans the set ([`plan`]): its name, and each shard by the lowest slot
//! its primary serves and the pod serving it. This process then starts one
//! Job per shard, each preferring its shard's node, and follows them all
//! ([`fan_out`]). Each shard's Job stores its snapshot straight into the
//! repository and looks whether every planned shard is stored; the last
//! to finish writes the set's manifest, create-only. A plugin killed
//! meanwhile leaves the Jobs to finish and seal the set on their own.
//! When a shard's Job fails (or on Ctrl-C), the others are stopped and a
//! last Job removes the shards' files ([`abort`]), unless the set was
//! sealed already: a set is listed whole or not at all.

use crate::args::Output;
use crate::jobs::in_cluster::{self, Followed, Plan, Starter};
use crate::output;
use crate::store::repo::Repo;
use crate::ui::Ui;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::store::set;
use serde_json::{json, Value};

/// The kind of the first Job's result when it planned a set.
pub const PLAN_KIND: &str = "BackupSetPlan";

/// The first Job of a set: names the set (the first name free in the
/// repository) and its shards, and prints the plan as its result.
pub async fn plan(
    ui: &Ui,
    output: Output,
    repo: &Repo,
    encrypted: bool,
    found: &crate::jobs::cluster_backup::Found,
    base: &kubectl_redis_core::backup::Plan,
) -> Exit {
    let map = &found.map;
    let shards = map.primaries_by_slot();
    let slots: Vec<u16> = shards.iter().map(|(s, _)| *s).collect();
    let mut name = None;
    for attempt in 0..100 {
        let candidate = set::set_name(base.started_unix, attempt);
        let mut taken = exists(repo, &set::set_manifest_name(&candidate)).await;
        for s in &slots {
            if taken.as_ref().is_ok_and(|t| !t) {
                taken = exists(repo, &set::shard_file_name(&candidate, *s, encrypted)).await;
            }
        }
        match taken {
            Ok(false) => {
                name = Some(candidate);
                break;
            }
            Ok(true) => {}
            Err(e) => {
                let hint = "check the repository and its credentials";
                ui.error(&e, Some(hint));
                if output == Output::Json {
                    output::failure(ui, "BackupResult", Exit::Storage, &e, Some(hint));
                }
                return Exit::Storage;
            }
        }
    }
    let Some(name) = name else {
        let m = "no free backup set name in this second";
        ui.error(m, Some("run the backup again"));
        return Exit::Error;
    };
    let docs = primaries_doc(found);
    ui.note(&format!(
        "a Redis Cluster of {} shards: backup set {name}, one Job per shard",
        docs.len()
    ));
    let v = json!({
        "set": name,
        "path": repo.location(&name),
        "encrypted": encrypted,
        "shards": docs,
        "exit_code": 0,
    });
    match output {
        Output::Json => output::print(ui, PLAN_KIND, v),
        Output::Text => println!("{name}"),
    }
    Exit::Ok
}

/// A cluster's primaries in slot order, as a set's plans name them: the
/// lowest slot each serves, its node id, address, pod and slot ranges.
fn primaries_doc(found: &crate::jobs::cluster_backup::Found) -> Vec<Value> {
    let map = &found.map;
    let ranges = map.ranges();
    map.primaries_by_slot()
        .iter()
        .map(|(slot, n)| {
            let node = &map.nodes[*n];
            let pod =
                kubectl_redis_core::kube::pods::target_serving(&found.pods, &node.host, node.port)
                    .ok()
                    .map(|t| t.pod);
            json!({
                "slot": slot,
                "node_id": node.id,
                "address": format!("{}:{}", node.host, node.port),
                "pod": pod,
                "slots": ranges.iter().filter(|(_, _, o)| o == n).map(|(a, b, _)| [a, b]).collect::<Vec<_>>(),
            })
        })
        .collect()
}

async fn exists(repo: &Repo, name: &str) -> Result<bool, String> {
    match repo {
        Repo::Local(d) => Ok(std::path::Path::new(d).join(name).exists()),
        Repo::Remote(r) => r.exists(name).await.map_err(|p| p.message),
    }
}

/// Removes the files of set `set`'s shards (and their manifests) unless the
/// set was sealed: after a shard's Job failed, or Ctrl-C.
pub async fn abort(ui: &Ui, output: Output, repo: &Repo, set: &str, slots: &[u16]) -> Exit {
    let sealed = exists(repo, &set::set_manifest_name(set)).await;
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    match &sealed {
        Ok(true) => ui.note(&format!("set {set} was sealed: its shards are kept")),
        Ok(false) => {
            for s in slots {
                for enc in [false, true] {
                    let f = set::shard_file_name(set, *s, enc);
                    for n in [kubectl_redis_core::store::manifest::name_for(&f), f] {
                        match exists(repo, &n).await {
                            Ok(true) => match repo.remove_leftover(&n).await {
                                Ok(()) => removed.push(n),
                                Err(p) => errors.push(p.message),
                            },
                            Ok(false) => {}
                            Err(e) => errors.push(e),
                        }
                    }
                }
            }
        }
        Err(e) => errors.push(e.clone()),
    }
    let exit = if errors.is_empty() {
        Exit::Ok
    } else {
        ui.error(
            &format!(
                "could not remove all of set {set}'s shards: {}",
                errors.join("; ")
            ),
            Some("`kubectl redis prune` removes them later (they are never listed as a backup)"),
        );
        Exit::Storage
    };
    let v = json!({
        "set": set,
        "sealed": sealed.unwrap_or(false),
        "removed": removed,
        "exit_code": exit.code(),
    });
    match output {
        Output::Json => output::print(ui, "BackupSetAbort", v),
        Output::Text => {
            for r in removed {
                println!("removed {r}");
            }
        }
    }
    exit
}

/// The plugin's arguments for one of the set's Jobs: the first Job's,
/// without `--set-plan`, with `extra`.
fn args_with(base: &Plan, extra: &[String]) -> Vec<String> {
    let mut a: Vec<String> = base
        .args
        .iter()
        .filter(|a| *a != "--set-plan")
        .cloned()
        .collect();
    a.extend(extra.iter().cloned());
    a
}

/// How one shard's Job ended.
struct Ended {
    slot: u16,
    name: String,
    end: Followed,
    tail: Vec<String>,
}

/// One Job per shard of the set the first Job planned (`planned`, its
/// result), followed together; the set's result printed as a
/// `BackupResult` whose `set` lists the shards.
pub async fn fan_out(
    ui: &Ui,
    starter: &Starter<'_>,
    base: &Plan,
    planned: &Value,
    output: Output,
    text: &dyn Fn(&Value),
) -> Exit {
    let apis = starter.apis;
    let fail = failer(ui, output, "BackupResult");
    let set_name = planned["set"].as_str().unwrap_or_default().to_string();
    let shards: Vec<(u16, Option<String>)> = planned["shards"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let slot = u16::try_from(s["slot"].as_u64()?).ok()?;
            Some((slot, s["pod"].as_str().map(str::to_string)))
        })
        .collect();
    if set_name.is_empty() || shards.is_empty() {
        return fail(
            Exit::Error,
            "the first Job's plan names no set or no shard".into(),
            "report this with the Job's log".into(),
        );
    }
    let slots = shards
        .iter()
        .map(|(s, _)| s.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let t0 = std::time::Instant::now();
    // Every shard's Job, each preferring the node of the pod it reads.
    let mut started = Vec::new();
    for (slot, pod) in &shards {
        let node = match pod {
            Some(p) => apis
                .pods
                .get(p)
                .await
                .ok()
                .and_then(|p| p.spec.and_then(|s| s.node_name)),
            None => None,
        };
        let plan = Plan {
            command: "backup".into(),
            args: args_with(
                base,
                &[
                    "--set".into(),
                    set_name.clone(),
                    "--shard".into(),
                    slot.to_string(),
                    "--set-shards".into(),
                    slots.clone(),
                ],
            ),
            rules: base.rules.clone(),
            node: node.clone(),
        };
        match starter.start(ui, &plan).await {
            Ok(s) => {
                ui.note(&format!(
                    "shard at slot {slot}: run {}{}",
                    s.name,
                    node.map(|n| format!(" (preferring node {n})"))
                        .unwrap_or_default()
                ));
                started.push((*slot, s));
            }
            Err(r) => {
                for (_, s) in &started {
                    apis.stop_run(ui, &s.name, &s.docs).await;
                }
                cleanup_set(ui, starter, base, &set_name, &slots).await;
                return fail(r.exit, r.message, r.hint);
            }
        }
    }
    // Followed together; the first failure stops the others.
    use futures::stream::{FuturesUnordered, StreamExt};
    let mut pending: FuturesUnordered<_> = started
        .iter()
        .map(|(slot, s)| async move {
            let mut tail = Vec::new();
            let label = format!("[slot {slot}] ");
            let end = in_cluster::follow_as(ui, apis, &s.name, &label, &mut tail, true).await;
            Ended {
                slot: *slot,
                name: s.name.clone(),
                end,
                tail,
            }
        })
        .collect();
    let mut ended: Vec<Ended> = Vec::new();
    let mut stopping = false;
    let mut first_bad = None;
    while let Some(e) = pending.next().await {
        let ok = matches!(&e.end, Followed::Exited(0, Some(_)));
        let interrupted = matches!(&e.end, Followed::Interrupted);
        if !ok && !interrupted && !stopping {
            stopping = true;
            first_bad = Some(e.slot);
            ui.warn(&format!(
                "the Job of the shard at slot {} failed: stopping the other shards' Jobs",
                e.slot
            ));
            for (slot, s) in &started {
                if *slot != e.slot && !ended.iter().any(|x| x.slot == *slot) {
                    apis.deadline_now(&s.name).await;
                }
            }
        }
        ended.push(e);
    }
    drop(pending);
    ended.sort_by_key(|e| e.slot);
    let interrupted = ended.iter().any(|e| matches!(e.end, Followed::Interrupted));
    let all_ok = ended
        .iter()
        .all(|e| matches!(&e.end, Followed::Exited(0, Some(_))));
    let results: Vec<&Value> = ended
        .iter()
        .filter_map(|e| match &e.end {
            Followed::Exited(0, Some(v)) => Some(v),
            _ => None,
        })
        .collect();
    let broken: Vec<String> = results
        .iter()
        .filter_map(|v| v["set"]["broken"].as_str().map(str::to_string))
        .collect();
    // Sealed by the Job that stored its shard last (or, at the same moment,
    // by another that saw every shard stored).
    let sealed = results.iter().any(|v| {
        v["set"]["sealed"] == json!(true)
            || v["set"]["waiting_for"]
                .as_array()
                .is_some_and(|a| a.is_empty())
    });
    let broken = if all_ok && broken.is_empty() && !sealed {
        vec!["no shard's Job saw every shard stored".to_string()]
    } else {
        broken
    };
    if all_ok && broken.is_empty() {
        for (_, s) in &started {
            if let Err(e) =
                crate::kube::objects::delete_all(&apis.client, &apis.ns, &s.docs[..3]).await
            {
                ui.warn(&format!("could not remove all of run {}: {e}", s.name));
            }
        }
        let v = output::document(
            "BackupResult",
            set_result(&set_name, planned, &results, t0.elapsed()),
        );
        let run = runs_doc(apis, started.iter().map(|(_, s)| s));
        ui.note(&format!(
            "set {set_name}: {} shards, {} keys, in {}",
            results.len(),
            v["keys"],
            kubectl_redis_core::human::millis(u64::try_from(t0.elapsed().as_millis()).unwrap_or(0))
        ));
        in_cluster::print_result(ui, output, v, run, text);
        return Exit::Ok;
    }
    // A shard failed, the set could not be sealed, or Ctrl-C: every Job
    // stopped and removed, then the shards' files.
    for (_, s) in &started {
        let left = apis.stop_run(ui, &s.name, &s.docs).await;
        if !left.is_empty() {
            ui.warn(&format!(
                "could not remove all of run {}: {}",
                s.name,
                left.join("; ")
            ));
        }
    }
    cleanup_set(ui, starter, base, &set_name, &slots).await;
    if interrupted {
        return fail(
            Exit::Interrupted,
            format!("interrupted: the set {set_name}'s Jobs were stopped and removed, and its shards' files; nothing is listed"),
            "run it again".into(),
        );
    }
    if let Some(why) = broken.first() {
        return fail(
            Exit::Error,
            format!("set {set_name} could not be sealed: {why}; its shards' files were removed"),
            "run the backup again once the cluster's slots stay put".into(),
        );
    }
    // The shard that failed first (the others were stopped because of it).
    let Some(bad) = ended
        .iter()
        .find(|e| Some(e.slot) == first_bad)
        .or_else(|| {
            ended
                .iter()
                .find(|e| !matches!(&e.end, Followed::Exited(0, Some(_))))
        })
    else {
        return fail(Exit::Error, format!("set {set_name} failed"), String::new());
    };
    let (exit, why, last) = failed_job(&bad.end, &bad.tail);
    fail(
        exit,
        format!(
            "the shard at slot {} failed (run {}): {why}; set {set_name} was not written and the other shards' files were removed{last}",
            bad.slot, bad.name
        ),
        "fix what it names, then run the backup again".into(),
    )
}

/// Says a failure (and prints it as a `kind` document with `-o json`);
/// returns its exit code.
fn failer<'a>(
    ui: &'a Ui,
    output: Output,
    kind: &'a str,
) -> impl Fn(Exit, String, String) -> Exit + 'a {
    move |exit, message, hint| {
        ui.error(&message, Some(&hint));
        if output == Output::Json {
            output::failure(ui, kind, exit, &message, Some(&hint));
        }
        exit
    }
}

/// Why a set's Job failed: its exit code (never 0), what it said, and its
/// last lines as the end of a sentence.
fn failed_job(end: &Followed, tail: &[String]) -> (Exit, String, String) {
    let (exit, why) = match end {
        Followed::Exited(code, v) => (
            Exit::from_code(*code),
            v.as_ref()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| format!("exit code {code}")),
        ),
        Followed::Stuck { reason, message } => (
            Exit::Error,
            format!("its pod cannot start: {reason}: {message}"),
        ),
        Followed::JobFailed(w) => (Exit::Error, w.clone()),
        Followed::Interrupted => (Exit::Interrupted, "interrupted".into()),
    };
    let last = if tail.is_empty() {
        String::new()
    } else {
        format!("; its last lines: {}", tail.join(" | "))
    };
    (if exit == Exit::Ok { Exit::Error } else { exit }, why, last)
}

/// The `run` object of a set's result: [`in_cluster::run_doc`] of its
/// first Job, with every Job's name in `names`.
fn runs_doc<'a>(
    apis: &in_cluster::Apis,
    mut jobs: impl Iterator<Item = &'a in_cluster::Started> + Clone,
) -> Value {
    let names: Vec<String> = jobs.clone().map(|s| s.name.clone()).collect();
    let mut v = match jobs.next() {
        Some(s) => in_cluster::run_doc(&s.name, &apis.ns, &s.image),
        None => in_cluster::run_doc("", &apis.ns, ""),
    };
    v["names"] = json!(names);
    v
}

/// Runs the set's last Job: removes its shards' files unless sealed.
async fn cleanup_set(ui: &Ui, starter: &Starter<'_>, base: &Plan, set_name: &str, slots: &str) {
    let plan = Plan {
        command: "backup".into(),
        args: args_with(
            base,
            &[
                "--set".into(),
                set_name.to_string(),
                "--set-abort".into(),
                "--set-shards".into(),
                slots.to_string(),
            ],
        ),
        rules: base.rules.clone(),
        node: None,
    };
    let said = "remove them with `kubectl redis prune` (they are never listed as a backup)";
    let s = match starter.start(ui, &plan).await {
        Ok(s) => s,
        Err(r) => {
            ui.warn(&format!(
                "could not start the Job removing set {set_name}'s shards: {}; {said}",
                r.message
            ));
            return;
        }
    };
    let end = in_cluster::follow_as(
        ui,
        starter.apis,
        &s.name,
        "[cleanup] ",
        &mut Vec::new(),
        false,
    )
    .await;
    if !matches!(end, Followed::Exited(0, _)) {
        ui.warn(&format!(
            "the Job removing set {set_name}'s shards did not finish; {said}"
        ));
    }
    let _ = starter.apis.delete_run(&s.name, &s.docs).await;
}

/// The set's `BackupResult`: the set's path, totals, each shard's record
/// and its own result.
fn set_result(
    set_name: &str,
    planned: &Value,
    results: &[&Value],
    took: std::time::Duration,
) -> Value {
    let sum = |f: &str| results.iter().filter_map(|v| v[f].as_u64()).sum::<u64>();
    let shards: Vec<Value> = results
        .iter()
        .filter_map(|v| v["shards"].as_array().and_then(|a| a.first().cloned()))
        .collect();
    let files: Vec<Value> = results
        .iter()
        .map(|v| {
            json!({
                "slot": v["set"]["slot"],
                "path": v["path"],
                "bytes": v["bytes"],
                "keys": v["keys"],
                "sha256": v["sha256"],
                "duration_ms": v["duration_ms"],
            })
        })
        .collect();
    let first = results.first();
    let mut per_db = serde_json::Map::new();
    for v in results {
        for (db, c) in v["keys_per_db"].as_object().into_iter().flatten() {
            let e = per_db
                .entry(db.clone())
                .or_insert_with(|| json!({"keys": 0, "expires": 0}));
            for f in ["keys", "expires"] {
                e[f] = json!(e[f].as_u64().unwrap_or(0) + c[f].as_u64().unwrap_or(0));
            }
        }
    }
    json!({
        "path": planned["path"],
        "rdb_version": first.map(|v| v["rdb_version"].clone()),
        "rdb_flavor": first.map(|v| v["rdb_flavor"].clone()),
        "keys_per_db": per_db,
        "bytes": sum("bytes"),
        "method": "stream",
        "created": first.map(|v| v["created"].clone()),
        "duration_ms": u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        "keys": sum("keys"),
        "verified": results.iter().all(|v| v["verified"] == json!(true)),
        "redis_version": first.map(|v| v["redis_version"].clone()),
        "source": first.map(|v| v["source"].clone()),
        "encryption": first.map(|v| v["encryption"].clone()),
        "shards": shards,
        "set": {
            "name": set_name,
            "sealed": true,
            "files": files,
        },
        "exit_code": 0,
    })
}

/// The kind of a restore's first Job's result when it planned one Job per
/// target primary.
pub const RESTORE_PLAN_KIND: &str = "RestoreSetPlan";

/// A set's restore into a Redis Cluster, first Job: the target's primaries
/// (in slot order), each with its slot ranges and pod.
pub fn restore_plan(
    ui: &Ui,
    output: Output,
    set: &str,
    found: &crate::jobs::cluster_backup::Found,
) -> Exit {
    let map = &found.map;
    let primaries = primaries_doc(found);
    ui.note(&format!(
        "backup set {set} into a Redis Cluster of {} primaries: one Job per primary, each loading the keys of its slots from every shard's file",
        primaries.len()
    ));
    // The cluster's one Lease: the run holds it while the Jobs restore.
    let lease = kubectl_redis_core::kube::lock::cluster_lease_name(map, &found.pods);
    let v = json!({"set": set, "primaries": primaries, "lease": lease, "exit_code": 0});
    match output {
        Output::Json => output::print(ui, RESTORE_PLAN_KIND, v),
        Output::Text => println!("{set}"),
    }
    Exit::Ok
}

/// One restore Job per target primary the first Job planned, followed
/// together; their results summed into one `RestoreResult` whose
/// `primaries` lists each. A Job that fails does not stop the others (each
/// restores its own primary's slots; stopping one halfway would leave it
/// emptier): the failure is named with its last lines.
pub async fn restore_fan_out(
    ui: &Ui,
    starter: &Starter<'_>,
    base: &Plan,
    planned: &Value,
    output: Output,
    text: &dyn Fn(&Value),
) -> Exit {
    let apis = starter.apis;
    let fail = failer(ui, output, "RestoreResult");
    let prims: Vec<(String, Vec<[u64; 2]>)> = planned["primaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let pod = p["pod"].as_str()?.to_string();
            let slots = p["slots"]
                .as_array()?
                .iter()
                .filter_map(|r| Some([r[0].as_u64()?, r[1].as_u64()?]))
                .collect();
            Some((pod, slots))
        })
        .collect();
    if prims.is_empty() {
        return fail(
            Exit::Error,
            "the first Job's plan names no primary with a pod".into(),
            "report this with the Job's log".into(),
        );
    }
    // The cluster's Lease, held here (and renewed) while the Jobs run, as
    // one restore through the cluster would hold it; the Jobs take none.
    let mut locks = None;
    if let Some(name) = planned["lease"].as_str() {
        use kubectl_redis_core::kube::lock::{self, Decision};
        let mut l = crate::kube::lease::Locks::new(
            apis.client.clone(),
            &apis.ns,
            crate::kube::lease::holder(None),
        );
        let found =
            match l.observe(ui, name).await {
                Ok(f) => f,
                Err(e) => return fail(
                    Exit::Error,
                    format!(
                        "cannot read the cluster's lock Lease {name}: {e:?}; nothing was changed"
                    ),
                    "check your permissions on leases.coordination.k8s.io (`kubectl redis status`)"
                        .into(),
                ),
            };
        let holder = crate::kube::lease::holder(None);
        match lock::decide(found.as_ref(), name, &holder, crate::env::unix_now()) {
            Decision::Held { message, hint } => return fail(Exit::Locked, message, hint),
            Decision::Take { replaces, warning } => {
                if let Some(w) = warning {
                    ui.warn(&w);
                }
                if let Err(e) = l.take(name, crate::kube::lease::DURATION_S, replaces).await {
                    return fail(
                        Exit::Locked,
                        format!("cannot take the cluster's lock Lease {name}: {e:?}; nothing was changed"),
                        "wait for the other backup or restore to finish".into(),
                    );
                }
                ui.note(&format!(
                    "lock: Lease {name}, the cluster's, held here while the Jobs restore"
                ));
                locks = Some((l, name.to_string()));
            }
        }
    }
    let r = restore_jobs(ui, starter, base, planned, output, text, &prims).await;
    if let Some((mut l, name)) = locks {
        if let Err(e) = l.release(&name).await {
            ui.warn(&format!(
                "could not release the lock Lease {name}: {e} (it expires on its own)"
            ));
        }
    }
    r
}

/// [`restore_fan_out`]'s Jobs, under the cluster's Lease.
async fn restore_jobs(
    ui: &Ui,
    starter: &Starter<'_>,
    base: &Plan,
    planned: &Value,
    output: Output,
    text: &dyn Fn(&Value),
    prims: &[(String, Vec<[u64; 2]>)],
) -> Exit {
    let apis = starter.apis;
    let fail = failer(ui, output, "RestoreResult");
    let mut started = Vec::new();
    for (pod, slots) in prims {
        let ranges = slots
            .iter()
            .map(|[a, b]| format!("{a}-{b}"))
            .collect::<Vec<_>>()
            .join(",");
        let node = apis
            .pods
            .get(pod)
            .await
            .ok()
            .and_then(|p| p.spec.and_then(|s| s.node_name));
        // Its primary's pod, named instead of the selector.
        let mut args = Vec::new();
        let mut it = args_with(base, &[]).into_iter();
        while let Some(a) = it.next() {
            if a == "-l" || a == "--selector" {
                it.next();
                continue;
            }
            args.push(a);
        }
        args.extend([
            "--pod".into(),
            pod.clone(),
            "--only-slots".into(),
            ranges.clone(),
        ]);
        let plan = Plan {
            command: "restore".into(),
            args,
            rules: base.rules.clone(),
            node,
        };
        match starter.start(ui, &plan).await {
            Ok(s) => {
                ui.note(&format!("primary {pod} (slots {ranges}): run {}", s.name));
                started.push((pod.clone(), ranges, s));
            }
            Err(r) => {
                for (_, _, s) in &started {
                    apis.stop_run(ui, &s.name, &s.docs).await;
                }
                return fail(r.exit, r.message, r.hint);
            }
        }
    }
    let ends = futures::future::join_all(started.iter().map(|(pod, _, s)| async move {
        let mut tail = Vec::new();
        let label = format!("[{pod}] ");
        let end = in_cluster::follow_as(ui, apis, &s.name, &label, &mut tail, true).await;
        (end, tail)
    }))
    .await;
    if ends.iter().any(|(e, _)| matches!(e, Followed::Interrupted)) {
        for (_, _, s) in &started {
            apis.stop_run(ui, &s.name, &s.docs).await;
        }
        return fail(
            Exit::Interrupted,
            "interrupted: every primary's restore Job was stopped (SIGTERM: each winds down) and removed; the cluster holds part of the set".into(),
            "restore the set again".into(),
        );
    }
    for (_, _, s) in &started {
        if let Err(e) = crate::kube::objects::delete_all(&apis.client, &apis.ns, &s.docs[..3]).await
        {
            ui.warn(&format!("could not remove all of run {}: {e}", s.name));
        }
    }
    let ok = |e: &Followed| matches!(e, Followed::Exited(0, Some(_)));
    let done = ends.iter().filter(|(e, _)| ok(e)).count();
    if let Some(((pod, _, s), (end, tail))) =
        started.iter().zip(ends.iter()).find(|(_, (e, _))| !ok(e))
    {
        let (exit, why, last) = failed_job(end, tail);
        return fail(
            exit,
            format!(
                "the restore into primary {pod} failed (run {}): {why}; {done} of {} primaries were restored{last}",
                s.name,
                started.len()
            ),
            "fix what it names, then restore the set again (each primary is flushed first)".into(),
        );
    }
    let results: Vec<&Value> = ends
        .iter()
        .filter_map(|(e, _)| match e {
            Followed::Exited(0, Some(v)) => Some(v),
            _ => None,
        })
        .collect();
    let mut v = results.first().map(|v| (*v).clone()).unwrap_or_default();
    let sum = |get: &dyn Fn(&Value) -> &Value| -> u64 {
        results.iter().filter_map(|r| get(r).as_u64()).sum()
    };
    v["file"] = planned["set"].clone();
    v["keys_expected"] = json!(sum(&|r| &r["keys_expected"]));
    v["keys_loaded"] = json!(sum(&|r| &r["keys_loaded"]));
    for f in [
        "keys_restored",
        "keys_by_payload",
        "keys_by_commands",
        "keys_expired",
    ] {
        if v["load"].is_object() {
            v["load"][f] = json!(sum(&|r| &r["load"][f]));
        }
    }
    if let Some(dbs) = v["databases"].as_array_mut() {
        for d in dbs.iter_mut() {
            let db = d["db"].clone();
            for f in ["keys_expected", "keys_loaded"] {
                let total: u64 = results
                    .iter()
                    .filter_map(|r| r["databases"].as_array())
                    .flatten()
                    .filter(|x| x["db"] == db)
                    .filter_map(|x| x[f].as_u64())
                    .sum();
                d[f] = json!(total);
            }
        }
    }
    v["primaries"] = json!(started
        .iter()
        .zip(results.iter())
        .map(|((pod, ranges, s), r)| json!({
            "pod": pod, "slots": ranges, "run": s.name,
            "keys_loaded": r["keys_loaded"], "duration_ms": r["duration_ms"],
        }))
        .collect::<Vec<_>>());
    let run = runs_doc(apis, started.iter().map(|(_, _, s)| s));
    ui.note(&format!(
        "set {} restored into {} primaries in parallel: {} keys",
        planned["set"].as_str().unwrap_or_default(),
        started.len(),
        v["keys_loaded"]
    ));
    in_cluster::print_result(ui, output, v, run, text);
    Exit::Ok
}
