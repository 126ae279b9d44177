//! `kubectl redis restore`: performs the effects of the core's restore machine,
//! and `--recover`, which puts back writers a killed restore left scaled down.

use crate::cli::{self, KubeArgs, Output, RestoreArgs};
use crate::exec::{self, api_error};
use crate::kube_ctx::{self, Kube};
use crate::lease::{self, Locks};
use crate::ui::{Progress, Ui};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{ListParams, Patch, PatchParams};
use kube::Api;
use kubectl_redis_core::backup::{Failure, Line};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::restore::{
    Answer, Effect, Finish, Input, LocalFile, Plan, Report, Restore, Writer, WriterKind,
    WriterState, HOLDER_ANNOTATION, REPLICAS_ANNOTATION,
};
use std::collections::VecDeque;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::pin::pin;
use std::time::{Duration, Instant};

/// Runs the command; with --metrics-file, records how it ended.
pub async fn run(ui: &Ui, kube: &KubeArgs, args: RestoreArgs) -> Exit {
    let metrics = args.metrics_file.clone();
    crate::ops::with_metrics(ui, metrics, "restore", run_inner(ui, kube, args)).await
}

async fn run_inner(ui: &Ui, kube: &KubeArgs, args: RestoreArgs) -> Exit {
    // Bad arguments are reported before the cluster is contacted.
    let file = args.file.clone().or_else(|| cli::env_nonempty("BACKUP"));
    if file.is_none() && !args.recover {
        ui.error(
            "no backup file: pass --file PATH (or set $BACKUP)",
            Some("list backups with `kubectl redis list`"),
        );
        return Exit::Invalid;
    }
    let writers = match writers(&args) {
        Ok(w) => w,
        Err(e) => {
            ui.error(
                &format!("--scale-down {e}"),
                Some("name writers as deploy/NAME or sts/NAME"),
            );
            return Exit::Invalid;
        }
    };
    let Some(k) = kube_ctx::connect_or_report(ui, kube).await else {
        return Exit::Error;
    };
    let Some(file) = file.filter(|_| !args.recover) else {
        return recover(ui, &k, args.output).await;
    };
    let plan = Plan {
        namespace: k.namespace.clone(),
        selector: cli::selector(args.target.selector),
        pod: args.target.pod,
        container: args.target.container,
        port: args.target.redis_port,
        file,
        writers,
        yes: args.yes,
        dry_run: args.dry_run,
        force_unverified: args.force_unverified,
        holder: lease::holder(),
        started_unix: cli::unix_now(),
        lease_s: lease::DURATION_S,
        scale_timeout_ms: cli::millis(args.scale_timeout),
        restart_timeout_ms: cli::millis(args.timeout),
        poll_ms: 500,
    };
    let finish = drive(ui, &k, plan).await;
    report(ui, args.output, &finish);
    finish.exit
}

fn writers(args: &RestoreArgs) -> Result<Vec<Writer>, String> {
    if args.no_scale_down {
        return Ok(Vec::new());
    }
    writer_list(&args.scale_down)
}

/// `--scale-down` values, else $WORKER_DEPLOY, else the runbook's `worker`.
pub fn writer_list(flags: &[String]) -> Result<Vec<Writer>, String> {
    if !flags.is_empty() {
        return flags.iter().map(|s| Writer::parse(s, true)).collect();
    }
    match cli::env_nonempty("WORKER_DEPLOY") {
        Some(v) => v
            .split(',')
            .map(|s| Writer::parse(s.trim(), true))
            .collect(),
        None => Ok(vec![Writer::parse("worker", false)?]),
    }
}

fn report(ui: &Ui, output: Output, f: &Finish) {
    if let Some(e) = &f.error {
        ui.error(&e.message, e.hint.as_deref());
    }
    if output == Output::Json {
        let mut v = serde_json::to_value(&f.report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("exit_code".into(), f.exit.code().into());
            if let Some(e) = &f.error {
                o.insert("error".into(), e.message.clone().into());
                o.insert("hint".into(), e.hint.clone().into());
            }
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
}

struct Shell<'a> {
    ui: &'a Ui,
    k: &'a Kube,
    pods: Api<Pod>,
    locks: Locks,
}

async fn drive(ui: &Ui, k: &Kube, plan: Plan) -> Finish {
    let t0 = Instant::now();
    let now = || u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut sh = Shell {
        ui,
        k,
        pods: Api::namespaced(k.client.clone(), &k.namespace),
        locks: Locks::new(k.client.clone(), &k.namespace, plan.holder.clone()),
    };
    let mut m = Restore::new(plan);
    let mut inputs = VecDeque::from([Input::Start]);
    let mut ctrl_c = pin!(tokio::signal::ctrl_c());
    let mut interrupted = false;
    while let Some(input) = inputs.pop_front() {
        ui.trace(&format!("< {input:?}"));
        for effect in m.handle(now(), input) {
            if let Effect::Say(line) = &effect {
                ui.line("restore", line);
                continue;
            }
            if let Effect::Finish(f) = effect {
                return f;
            }
            ui.trace(&format!("> {effect:?}"));
            let result = if interrupted {
                sh.perform(effect).await
            } else {
                tokio::select! {
                    r = sh.perform(effect) => r,
                    _ = &mut ctrl_c => {
                        interrupted = true;
                        ui.line("restore", &Line::Warn("interrupted; putting things back".into()));
                        Input::Interrupt
                    }
                }
            };
            inputs.push_back(result);
        }
    }
    Finish {
        exit: Exit::Error,
        report: Report::default(),
        error: Some(Failure {
            message: "internal error: the restore stopped without a result".into(),
            hint: Some(
                "run `kubectl redis restore --recover` and report this with --verbose output"
                    .into(),
            ),
        }),
    }
}

impl Shell<'_> {
    async fn perform(&mut self, effect: Effect) -> Input {
        match effect {
            Effect::ReadLocal { id, path } => Input::Local(id, read_local(&path)),
            Effect::ListPods {
                id, selector, name, ..
            } => Input::Pods(
                id,
                exec::list_pods(&self.pods, &selector, name.as_deref()).await,
            ),
            Effect::Redis { id, target, args } => {
                Input::Exec(id, exec::redis_cli(&self.pods, &target, &args).await)
            }
            Effect::Exec { id, target, argv } => {
                Input::Exec(id, exec::run(&self.pods, &target, argv).await)
            }
            Effect::GetWriter { id, writer } => Input::Writer(id, self.get_writer(&writer).await),
            Effect::Lock { id, request } => Input::Lock(id, self.locks.perform(request).await),
            Effect::Confirm { id } => Input::Answer(id, confirm().await),
            Effect::Annotate {
                id,
                writer,
                record,
                holder,
            } => Input::Done(id, self.annotate(&writer, record, &holder).await),
            Effect::Scale {
                id,
                writer,
                replicas,
            } => Input::Done(id, self.scale(&writer, replicas).await),
            Effect::CountPods { id, selector } => Input::PodCount(
                id,
                self.pods
                    .list(&ListParams::default().labels(&selector))
                    .await
                    .map(|l| l.items.len())
                    .map_err(api_error),
            ),
            Effect::Upload {
                id,
                target,
                local,
                remote,
                bytes,
            } => {
                let mut p = Progress::new(self.ui, "upload");
                Input::Done(
                    id,
                    exec::upload(&self.pods, &target, &local, &remote, bytes, &mut p).await,
                )
            }
            Effect::Timer { id, after_ms } => {
                tokio::time::sleep(Duration::from_millis(after_ms)).await;
                Input::Timer(id)
            }
            // Handled by the caller.
            Effect::Say(_) | Effect::Finish(_) => Input::Interrupt,
        }
    }

    async fn get_writer(&self, w: &Writer) -> Result<Option<WriterState>, String> {
        writer_state(&self.k.client, &self.k.namespace, w).await
    }

    /// A merge patch on the writer itself, or (`scale`) on its scale
    /// subresource.
    async fn patch_writer(
        &self,
        w: &Writer,
        patch: serde_json::Value,
        scale: bool,
    ) -> Result<(), String> {
        match w.kind {
            WriterKind::Deployment => self.patch_as::<Deployment>(&w.name, &patch, scale).await,
            WriterKind::StatefulSet => self.patch_as::<StatefulSet>(&w.name, &patch, scale).await,
        }
    }

    async fn patch_as<K>(
        &self,
        name: &str,
        patch: &serde_json::Value,
        scale: bool,
    ) -> Result<(), String>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.k.client.clone(), &self.k.namespace);
        let (pp, p) = (PatchParams::default(), Patch::Merge(patch));
        let r = if scale {
            api.patch_scale(name, &pp, &p).await.map(|_| ())
        } else {
            api.patch(name, &pp, &p).await.map(|_| ())
        };
        r.map_err(api_error)
    }

    async fn annotate(&self, w: &Writer, record: Option<i32>, holder: &str) -> Result<(), String> {
        let value = match record {
            Some(n) => serde_json::json!({"metadata": {"annotations": {
                REPLICAS_ANNOTATION: n.to_string(), HOLDER_ANNOTATION: holder}}}),
            None => serde_json::json!({"metadata": {"annotations": {
                REPLICAS_ANNOTATION: null, HOLDER_ANNOTATION: null}}}),
        };
        self.patch_writer(w, value, false).await
    }

    async fn scale(&self, w: &Writer, replicas: i32) -> Result<(), String> {
        let patch = serde_json::json!({"spec": {"replicas": replicas}});
        self.patch_writer(w, patch, true).await
    }
}

/// A writer's replicas, pod selector and restore record; `None` if it does not exist.
pub async fn writer_state(
    client: &kube::Client,
    ns: &str,
    w: &Writer,
) -> Result<Option<WriterState>, String> {
    let (replicas, selector, annotations) = match w.kind {
        WriterKind::Deployment => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            let Some(d) = api.get_opt(&w.name).await.map_err(api_error)? else {
                return Ok(None);
            };
            let spec = d.spec;
            (
                spec.replicas.unwrap_or(1),
                selector_string(&spec.selector),
                d.metadata.annotations,
            )
        }
        WriterKind::StatefulSet => {
            let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
            let Some(s) = api.get_opt(&w.name).await.map_err(api_error)? else {
                return Ok(None);
            };
            let spec = s.spec;
            (
                spec.replicas.unwrap_or(1),
                selector_string(&spec.selector),
                s.metadata.annotations,
            )
        }
    };
    let recorded = annotations
        .as_ref()
        .and_then(|a| a.get(REPLICAS_ANNOTATION))
        .and_then(|v| v.parse().ok());
    Ok(Some(WriterState {
        replicas,
        selector,
        recorded,
    }))
}

fn selector_string(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}

fn read_local(path: &str) -> Result<LocalFile, String> {
    let md = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    if md.is_file() {
        std::fs::File::open(path)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
            .map_err(|e| e.to_string())?;
    }
    let verified = if md.is_file() && md.len() > 0 {
        verify_local(Path::new(path))
    } else {
        Err("not a regular, non-empty file".to_string())
    };
    Ok(LocalFile {
        is_file: md.is_file(),
        bytes: md.len(),
        head,
        verified,
    })
}

/// Every byte through the reader, and the manifest compared when there is one.
fn verify_local(path: &Path) -> Result<kubectl_redis_core::reader::Summary, String> {
    let manifest = crate::rdbfile::manifest_for(path)?;
    let c = crate::rdbfile::check(path, manifest.is_some(), &mut |_| {})?;
    let s = c.result.map_err(|e| e.to_string())?;
    match manifest {
        Some(m) => {
            let d = m.differences(c.size, c.sha256.as_deref().unwrap_or_default(), Some(&s));
            if d.is_empty() {
                Ok(s)
            } else {
                Err(format!("it differs from its manifest: {}", d.join("; ")))
            }
        }
        None => Ok(s),
    }
}

/// The runbook's prompt; only `yes` proceeds.
async fn confirm() -> Answer {
    if !std::io::stdin().is_terminal() {
        return Answer::NoTerminal;
    }
    eprint!("Continue? (yes/no): ");
    let _ = std::io::stderr().flush();
    let line = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        std::io::stdin().read_line(&mut s).map(|_| s)
    })
    .await;
    match line {
        Ok(Ok(s)) if s.trim() == "yes" => Answer::Yes,
        _ => Answer::No,
    }
}

/// Finds writers a killed restore left scaled down (they carry the replica
/// record) and scales them back.
async fn recover(ui: &Ui, k: &Kube, output: Output) -> Exit {
    let deploys: Api<Deployment> = Api::namespaced(k.client.clone(), &k.namespace);
    let sets: Api<StatefulSet> = Api::namespaced(k.client.clone(), &k.namespace);
    let mut found: Vec<(Writer, i32, String)> = Vec::new();
    match deploys.list(&ListParams::default()).await {
        Ok(l) => found.extend(
            l.items
                .into_iter()
                .filter_map(|d| record(WriterKind::Deployment, d.metadata)),
        ),
        Err(e) => return recover_error(ui, &k.namespace, "deployments", e),
    }
    match sets.list(&ListParams::default()).await {
        Ok(l) => found.extend(
            l.items
                .into_iter()
                .filter_map(|s| record(WriterKind::StatefulSet, s.metadata)),
        ),
        Err(e) => return recover_error(ui, &k.namespace, "statefulsets", e),
    }
    let sh = Shell {
        ui,
        k,
        pods: Api::namespaced(k.client.clone(), &k.namespace),
        locks: Locks::new(k.client.clone(), &k.namespace, lease::holder()),
    };
    let mut done = Vec::new();
    let mut exit = Exit::Ok;
    if found.is_empty() {
        ui.line(
            "recover",
            &Line::Step(format!(
                "nothing to recover in namespace {}: no writer carries a replica record",
                k.namespace
            )),
        );
    }
    for (w, replicas, by) in found {
        // A restore that is still running renews its Lease: never undo its
        // scale-down from under it. A killed one stops renewing.
        match sh.locks.holder_alive(ui, &by).await {
            Ok(false) => {}
            Ok(true) => {
                ui.error(
                    &format!("{w} was scaled down by a restore that is still running ({by}); leaving it alone"),
                    Some("wait for that restore to finish; it scales its writers back itself"),
                );
                exit = Exit::Locked;
                continue;
            }
            Err(e) => return recover_error(ui, &k.namespace, "leases", e),
        }
        // Its restore may have finished while we waited.
        if matches!(sh.get_writer(&w).await, Ok(Some(ref st)) if st.recorded.is_none()) {
            ui.line(
                "recover",
                &Line::Step(format!("{w} was already put back by its restore")),
            );
            continue;
        }
        ui.line(
            "recover",
            &Line::Step(format!("scale {} back to {replicas} (recorded by {by})", w)),
        );
        let r = match sh.scale(&w, replicas).await {
            Ok(()) => sh.annotate(&w, None, "").await,
            Err(e) => Err(e),
        };
        if let Err(e) = &r {
            ui.error(
                &format!("cannot put back {w}: {e}"),
                Some("check `kubectl auth can-i patch deployments/scale`"),
            );
            exit = Exit::Error;
        }
        done.push(
            serde_json::json!({"name": w.to_string(), "replicas": replicas, "restored": r.is_ok()}),
        );
    }
    if output == Output::Json {
        let v = serde_json::json!({"namespace": k.namespace, "writers": done, "exit_code": exit.code()});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    exit
}

fn record(kind: WriterKind, m: ObjectMeta) -> Option<(Writer, i32, String)> {
    let a = m.annotations?;
    let replicas = a.get(REPLICAS_ANNOTATION)?.parse().ok()?;
    let by = a
        .get(HOLDER_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| "an earlier restore".into());
    Some((
        Writer {
            kind,
            name: m.name?,
            explicit: true,
        },
        replicas,
        by,
    ))
}

fn recover_error(ui: &Ui, ns: &str, what: &str, e: kube::Error) -> Exit {
    ui.error(
        &format!("cannot list {what} in namespace {ns}: {}", api_error(e)),
        Some("check the cluster and your access"),
    );
    Exit::Error
}
