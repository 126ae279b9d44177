//! The interpreter of the core's restore machine: one arm per effect (the
//! writers, the Lease, exec in the pod, the upload, confirmation).

use crate::kube::lease::Locks;
use crate::kube::Kube;
use crate::kube::{api_error, exec};
use crate::ui::{Progress, Ui};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
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

/// What the effects act on.
pub struct Shell<'a> {
    ui: &'a Ui,
    k: &'a Kube,
    pods: Api<Pod>,
    pub locks: Locks,
}

impl<'a> Shell<'a> {
    pub fn new(ui: &'a Ui, k: &'a Kube, holder: String) -> Self {
        Shell {
            ui,
            k,
            pods: Api::namespaced(k.client.clone(), &k.namespace),
            locks: Locks::new(k.client.clone(), &k.namespace, holder),
        }
    }
}

/// Runs the machine to its end, doing each effect; Ctrl-C is an input.
pub async fn drive(ui: &Ui, k: &Kube, plan: Plan) -> Finish {
    let t0 = Instant::now();
    let now = || u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut sh = Shell::new(ui, k, plan.holder.clone());
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
                crate::kube::pods::list_pods(&self.pods, &selector, name.as_deref()).await,
            ),
            Effect::Redis { id, target, args } => {
                Input::Exec(id, exec::redis_cli(&self.pods, &target, &args).await)
            }
            Effect::Exec { id, target, argv } => {
                Input::Exec(id, exec::run(&self.pods, &target, argv).await)
            }
            Effect::Probe { id, target, tools } => {
                Input::Probed(id, exec::probe(&self.pods, &target, &tools).await)
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

    pub async fn get_writer(&self, w: &Writer) -> Result<Option<WriterState>, String> {
        crate::kube::workloads::writer_state(&self.k.client, &self.k.namespace, w).await
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

    pub async fn annotate(
        &self,
        w: &Writer,
        record: Option<i32>,
        holder: &str,
    ) -> Result<(), String> {
        let value = match record {
            Some(n) => serde_json::json!({"metadata": {"annotations": {
                REPLICAS_ANNOTATION: n.to_string(), HOLDER_ANNOTATION: holder}}}),
            None => serde_json::json!({"metadata": {"annotations": {
                REPLICAS_ANNOTATION: null, HOLDER_ANNOTATION: null}}}),
        };
        self.patch_writer(w, value, false).await
    }

    pub async fn scale(&self, w: &Writer, replicas: i32) -> Result<(), String> {
        let patch = serde_json::json!({"spec": {"replicas": replicas}});
        self.patch_writer(w, patch, true).await
    }
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
fn verify_local(path: &Path) -> Result<kubectl_redis_core::rdb::reader::Summary, String> {
    let manifest = crate::store::rdbfile::manifest_for(path)?;
    let c = crate::store::rdbfile::check(path, manifest.is_some(), &mut |_| {})?;
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
