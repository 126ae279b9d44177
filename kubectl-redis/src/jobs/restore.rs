//! The interpreter of the core's restore machine: one arm per effect (the
//! writers, the Lease, exec in the pod, the upload, confirmation).

use crate::kube::lease::Locks;
use crate::kube::portforward::Forward;
use crate::kube::Kube;
use crate::kube::{api_error, exec};
use crate::redis::auth::Auth;
use crate::redis::Conn;
use crate::ui::{Progress, Ui};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use kube::Api;
use kubectl_redis_core::backup::{ConnectError, Endpoint};
use kubectl_redis_core::backup::{Failure, Line};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::restore::live::Survey;
use kubectl_redis_core::restore::{
    Answer, Effect, Finish, Input, LocalFile, Plan, Report, Restore, Writer, WriterKind,
    WriterState, HOLDER_ANNOTATION, REPLICAS_ANNOTATION,
};
use kubectl_redis_core::wire::reply::Reply;
use std::collections::VecDeque;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::pin::pin;
use std::time::{Duration, Instant};

/// What the effects act on.
pub struct Shell<'a> {
    ui: &'a Ui,
    k: &'a Kube,
    pub pods: Api<Pod>,
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

/// The interpreter: the cluster (absent with `--url`), and the connection
/// of a live restore with the credentials only the shell sees.
struct Run<'a> {
    ui: &'a Ui,
    sh: Option<Shell<'a>>,
    auth: Auth,
    conn: Option<(Conn, Option<Forward>)>,
    /// `--to-time`: the checked segments to replay after the base.
    replay: Option<&'a crate::archive::replay::Prepared>,
    /// The load went into a Redis Cluster through this entry: the replay
    /// is routed by slot too.
    cluster_entry: Option<String>,
}

/// Runs the machine to its end, doing each effect; Ctrl-C is an input.
/// `replay` (with `plan.replay`) is what `--to-time` replays after the
/// base, before writers are scaled back. With `audit` (the source's name),
/// the moment changes start is posted as a `RestoreStarted` Event.
pub async fn drive(
    ui: &Ui,
    k: Option<&Kube>,
    auth: Auth,
    plan: Plan,
    replay: Option<&crate::archive::replay::Prepared>,
    audit: Option<&str>,
) -> Finish {
    let t0 = Instant::now();
    let now = || u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut sh = Run {
        ui,
        sh: k.map(|k| Shell::new(ui, k, plan.holder.clone())),
        auth,
        conn: None,
        replay,
        cluster_entry: None,
    };
    let mut m = Restore::new(plan);
    let mut inputs = VecDeque::from([Input::Start]);
    // Signals are this loop's to handle (the run winds down itself).
    let _handled = crate::signals::Handled::new();
    let mut ctrl_c = pin!(crate::signals::interrupted());
    let mut interrupted = false;
    // The Lease's renewal says when it was lost (never, with --url).
    let mut lost = sh.sh.as_ref().map(|s| s.locks.lost_watch());
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
            if let Effect::Begin { namespace, pod } = &effect {
                if let (Some(k), Some(source)) = (k, audit) {
                    let ns = if namespace.is_empty() {
                        &k.namespace
                    } else {
                        namespace
                    };
                    crate::audit::event(
                        ui,
                        k,
                        ns,
                        pod,
                        false,
                        "Restore",
                        "RestoreStarted",
                        &format!(
                            "restoring {source} into {ns}/{pod}: confirmed, changes start now"
                        ),
                    )
                    .await;
                }
                continue;
            }
            ui.trace(&format!("> {effect:?}"));
            // Not answered.
            if matches!(effect, Effect::Disconnect) {
                sh.perform(effect).await;
                continue;
            }
            let must_finish = m.uninterruptible();
            // Checked before every change: a lost Lease stops the restore
            // as Ctrl-C does (writers put back), the effect not carried out.
            if !interrupted && !must_finish {
                if let Some(why) = lost.as_ref().and_then(|l| l.borrow().clone()) {
                    interrupted = true;
                    ui.line(
                        "restore",
                        &Line::Warn(format!(
                            "the lock Lease was lost ({why}); putting things back"
                        )),
                    );
                    inputs.push_back(Input::LeaseLost(why));
                    continue;
                }
            }
            // A load handles Ctrl-C itself, to say how far it got.
            let result = if interrupted || must_finish || matches!(effect, Effect::Load { .. }) {
                sh.perform(effect).await
            } else {
                let lost_now = async {
                    match lost.as_mut() {
                        Some(l) => crate::kube::lease::lost_signal(l).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    r = sh.perform(effect) => r,
                    _ = &mut ctrl_c => {
                        interrupted = true;
                        ui.line("restore", &Line::Warn("interrupted; putting things back".into()));
                        Input::Interrupt
                    }
                    why = lost_now => {
                        interrupted = true;
                        ui.line("restore", &Line::Warn(format!("the lock Lease was lost ({why}); putting things back")));
                        Input::LeaseLost(why)
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

impl Run<'_> {
    async fn perform(&mut self, effect: Effect) -> Input {
        match effect {
            Effect::ReadLocal { id, path } => Input::Local(id, read_local(&path)),
            Effect::Connect { id, to } => Input::Connected(id, self.connect(to).await),
            Effect::Send { id, args } => Input::Reply(
                id,
                match &mut self.conn {
                    Some((c, _)) => c.command(&args).await,
                    None => Err("not connected".into()),
                },
            ),
            Effect::Wipe { id } => Input::Done(
                id,
                match &mut self.conn {
                    Some((c, _)) => c.wipe().await.map(|n| {
                        self.ui.note(&format!("{n} keys deleted with UNLINK"));
                    }),
                    None => Err("not connected".into()),
                },
            ),
            Effect::Load {
                id,
                path,
                bytes,
                options,
                entry,
            } => match &mut self.conn {
                Some((c, _)) if options.cluster => Input::Loaded(id, {
                    self.cluster_entry = Some(entry.clone());
                    crate::redis::cluster::load(
                        self.ui,
                        c,
                        &entry,
                        self.sh.as_ref().map(|s| &s.pods),
                        &self.auth,
                        &path,
                        bytes,
                        options,
                    )
                    .await
                }),
                Some((c, _)) => Input::Loaded(id, c.load(self.ui, &path, bytes, options).await),
                None => Input::Loaded(
                    id,
                    kubectl_redis_core::restore::Loaded {
                        report: Default::default(),
                        error: Some("not connected".into()),
                        keyspace: None,
                        interrupted: false,
                        elapsed_ms: 0,
                    },
                ),
            },
            Effect::Replay { id } => Input::Replayed(
                id,
                match (&mut self.conn, self.replay) {
                    (Some((c, _)), Some(p)) => match &self.cluster_entry {
                        Some(entry) => {
                            crate::redis::cluster::replay(
                                self.ui,
                                c,
                                entry,
                                self.sh.as_ref().map(|s| &s.pods),
                                &self.auth,
                                p,
                            )
                            .await
                        }
                        None => crate::archive::replay::replay(c, p).await,
                    },
                    (None, _) => Err("not connected".into()),
                    (_, None) => Err("internal error: nothing prepared to replay".into()),
                },
            ),
            Effect::Disconnect => {
                if let Some((conn, fwd)) = self.conn.take() {
                    drop(conn);
                    if let Some(f) = fwd {
                        f.close();
                    }
                }
                Input::Interrupt
            }
            Effect::Say(_) | Effect::Begin { .. } | Effect::Finish(_) => Input::Interrupt,
            other => match &mut self.sh {
                Some(sh) => sh.perform(other).await,
                None => no_cluster(other),
            },
        }
    }

    /// Opens the connection and authenticates: the user's password, else
    /// (for a pod) the container's own `REDIS_PASSWORD`.
    async fn connect(&mut self, to: Endpoint) -> Result<Option<String>, ConnectError> {
        let failed = ConnectError::Failed;
        let mut conn = crate::redis::open(&to, self.sh.as_ref().map(|sh| &sh.pods)).await?;
        if self.auth.password.is_none() {
            if let (Endpoint::Pod(t), Some(sh)) = (&to, &self.sh) {
                let found = crate::redis::pod_password(sh.k, &sh.pods, &t.pod, &t.container)
                    .await
                    .map_err(failed)?;
                if let Some((pw, from)) = found {
                    self.auth.password = Some(pw);
                    self.auth.source = Some(from);
                }
            }
        }
        let said = match &self.auth.password {
            Some(pw) => {
                let from = self.auth.source.clone().unwrap_or_default();
                match conn.0.auth(self.auth.user.as_deref(), pw).await {
                    Ok(Reply::Error(e)) => {
                        return Err(failed(format!(
                            "AUTH with the password from {from} refused: {e}"
                        )))
                    }
                    Ok(_) => Some(match &self.auth.user {
                        Some(u) => format!("AUTH as {u} with the password from {from}"),
                        None => format!("AUTH with the password from {from}"),
                    }),
                    Err(e) => return Err(failed(e)),
                }
            }
            None => None,
        };
        self.conn = Some(conn);
        Ok(said)
    }
}

/// Answers an effect that needs the cluster when there is none (`--url`).
fn no_cluster(effect: Effect) -> Input {
    let e = || "no cluster (--url)".to_string();
    match effect {
        Effect::ListPods { id, .. } => Input::Pods(id, Err(e())),
        Effect::Redis { id, .. } | Effect::Exec { id, .. } => Input::Exec(id, Err(e())),
        Effect::Probe { id, .. } => Input::Probed(id, Err(e())),
        Effect::GetWriter { id, .. } => Input::Writer(id, Err(e())),
        Effect::Lock { id, request } => {
            Input::Lock(id, crate::jobs::backup::no_cluster(request, e()))
        }
        Effect::CountPods { id, .. } => Input::PodCount(id, Err(e())),
        Effect::Annotate { id, .. } | Effect::Scale { id, .. } | Effect::Upload { id, .. } => {
            Input::Done(id, Err(e()))
        }
        Effect::Timer { id, .. } => Input::Timer(id),
        _ => Input::Interrupt,
    }
}

impl Shell<'_> {
    async fn perform(&mut self, effect: Effect) -> Input {
        match effect {
            Effect::ReadLocal { id, path } => Input::Local(id, read_local(&path)),
            // Every pod of the namespace (a cluster's nodes): as they are.
            Effect::ListPods {
                id,
                selector,
                name: None,
                ..
            } if selector.is_empty() => {
                Input::Pods(id, crate::kube::pods::list_pods(&self.pods, "", None).await)
            }
            Effect::ListPods {
                id, selector, name, ..
            } => Input::Pods(
                id,
                crate::kube::pods::find_pods(self.ui, &self.pods, &selector, name.as_deref()).await,
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
            Effect::Lock { id, request } => {
                Input::Lock(id, self.locks.perform(self.ui, request).await)
            }
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
                sha256,
            } => {
                let mut p = Progress::new(self.ui, "upload");
                Input::Done(
                    id,
                    exec::upload(&self.pods, &target, &local, &remote, bytes, &sha256, &mut p)
                        .await,
                )
            }
            Effect::Timer { id, after_ms } => {
                tokio::time::sleep(Duration::from_millis(after_ms)).await;
                Input::Timer(id)
            }
            // Handled by the caller, or by `Run`.
            _ => Input::Interrupt,
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
    let mut survey = Survey::default();
    let mut sha256 = String::new();
    let verified = if md.is_file() && md.len() > 0 {
        verify_local(Path::new(path), &mut survey, &mut sha256)
    } else {
        Err("not a regular, non-empty file".to_string())
    };
    Ok(LocalFile {
        is_file: md.is_file(),
        bytes: md.len(),
        head,
        verified,
        survey,
        sha256,
    })
}

/// Every byte through the reader, and the manifest compared when there is
/// one; what the file holds by type goes into `survey`.
fn verify_local(
    path: &Path,
    survey: &mut Survey,
    sha256: &mut String,
) -> Result<kubectl_redis_core::rdb::reader::Summary, String> {
    use kubectl_redis_core::rdb::reader::Event;
    let manifest = crate::store::rdbfile::manifest_for(path)?;
    let c = crate::store::rdbfile::check(path, true, &mut |e| match e {
        Event::Key(k) => survey.add(&k),
        Event::Function { .. } => survey.functions += 1,
        Event::ModuleAux { .. } => survey.module_aux += 1,
        _ => {}
    })?;
    *sha256 = c.sha256.clone().unwrap_or_default();
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
pub async fn confirm() -> Answer {
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
