//! `--in-cluster`: the work runs as a Kubernetes Job next to the data,
//! from the plugin's own image, and this process only creates the run's
//! objects and follows it. The Job reaches Redis over the pod network and
//! writes straight to the repository: no byte of the data crosses this
//! machine or a port-forward.
//!
//! A run is a ServiceAccount, a Role and a RoleBinding made for it alone
//! (owned by its Job, so they go when the Job does) and the Job
//! (`ttlSecondsAfterFinished`). Its pod prints progress lines and, last,
//! its result on one line (`core::ops::job::read_line`); this process shows
//! the progress as it comes, prints the result as a local run does, and
//! exits with the Job's exit code. Ctrl-C deletes the run; `--detach`
//! returns at once with its name.

use crate::args::{KubeArgs, Output};
use crate::output;
use crate::ui::Ui;
use clap::Args;
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::ops::job::{self, Line, PodState, Run};
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Running in the cluster")]
pub struct InClusterArgs {
    /// Run the work as a Kubernetes Job next to the data, from the plugin's own image: it reaches Redis over the pod network and writes straight to the repository (--repo URL, or a directory on --pvc), so no data crosses this machine. Progress, result and exit code are the Job's
    #[arg(long)]
    pub in_cluster: bool,
    /// The Job's image: the plugin's own, as `schedule --image` (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]
    #[arg(long, value_name = "IMAGE", requires = "in_cluster")]
    pub job_image: Option<String>,
    /// Over the Job's pod spec: a JSON object is a merge patch, a JSON array a JSON patch (RFC 6902), as `kubectl run --overrides`: node selectors, tolerations, hostNetwork, imagePullSecrets
    #[arg(long, value_name = "JSON", requires = "in_cluster")]
    pub job_overrides: Option<String>,
    /// The Job's requests and limits [default: cpu=100m,memory=64Mi,limits.memory=256Mi]
    #[arg(long, value_name = "cpu=100m,memory=128Mi", requires = "in_cluster")]
    pub job_resources: Option<String>,
    /// A Secret whose keys become the Job's environment: storage credentials (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...), never in arguments
    #[arg(long, value_name = "NAME", requires = "in_cluster")]
    pub repo_credentials_from_secret: Option<String>,
    /// An annotation on the run's ServiceAccount (IRSA, GKE or Azure workload identity), KEY=VALUE; repeatable
    #[arg(long, value_name = "KEY=VALUE", requires = "in_cluster", value_parser = crate::kube::objects::parse_annotation)]
    pub service_account_annotation: Vec<(String, String)>,
    /// Mount this PersistentVolumeClaim at /backups in the Job: a directory repository then lives there (--repo /backups/DIR)
    #[arg(long, value_name = "NAME", requires = "in_cluster")]
    pub pvc: Option<String>,
    /// Return once the Job is created, printing the run's name (follow it with `kubectl logs -f job/NAME`)
    #[arg(long, requires = "in_cluster")]
    pub detach: bool,
    /// How long the Job may run before Kubernetes stops it
    #[arg(long, value_name = "DURATION", requires = "in_cluster", default_value = "6h", value_parser = crate::args::parse_duration)]
    pub job_deadline: Duration,
}

/// A failure before or while running: the exit, the message, the fix.
pub struct Refused {
    pub exit: Exit,
    pub message: String,
    pub hint: String,
}

fn refused(exit: Exit, message: impl Into<String>, hint: impl Into<String>) -> Refused {
    Refused {
        exit,
        message: message.into(),
        hint: hint.into(),
    }
}

/// What a run is to do, before its objects exist.
pub struct Plan {
    /// `backup`, `restore`, ...
    pub command: String,
    /// The plugin's arguments in the Job (`-o json` added).
    pub args: Vec<String>,
    /// The Role's rules.
    pub rules: Vec<Value>,
    /// The node to prefer (the Redis pod's).
    pub node: Option<String>,
}

/// Whether the Job can reach `r`: object storage, or a path under the
/// `--pvc` mount.
pub fn reachable(ic: &InClusterArgs, r: &str) -> bool {
    use kubectl_redis_core::ops::job::PVC_DIR;
    crate::store::repo::is_remote(r) || {
        let p = r.strip_prefix("file://").unwrap_or(r);
        ic.pvc.is_some() && (p == PVC_DIR || p.starts_with(&format!("{PVC_DIR}/")))
    }
}

/// The hint for a location the Job cannot reach.
pub const UNREACHABLE_HINT: &str = "give s3://BUCKET/PREFIX (gs://, az://) with --repo-credentials-from-secret NAME, or --pvc CLAIM with /backups/...";

/// The plugin's arguments in a run's Job, flag by flag.
pub struct Argv(pub Vec<String>);

impl Argv {
    /// The command (and its positional arguments).
    pub fn new(first: &[&str]) -> Argv {
        Argv(first.iter().map(|s| s.to_string()).collect())
    }

    /// `name value` when there is a value.
    pub fn opt(&mut self, name: &str, v: Option<impl ToString>) {
        if let Some(v) = v {
            self.0.extend([name.to_string(), v.to_string()]);
        }
    }

    /// `name value` for each value.
    pub fn each<T: ToString>(&mut self, name: &str, vs: impl IntoIterator<Item = T>) {
        for v in vs {
            self.opt(name, Some(v));
        }
    }

    /// `name` alone when `on`.
    pub fn switch(&mut self, name: &str, on: bool) {
        if on {
            self.0.push(name.to_string());
        }
    }

    /// A duration as the plugin's flags take it (whole seconds, at least 1).
    pub fn secs(&mut self, name: &str, d: Duration) {
        self.opt(name, Some(format!("{}s", d.as_secs().max(1))));
    }
}

/// The first flag of `local` that is set (a flag naming something on this
/// machine, which the Job does not have): its name and what to use instead.
pub fn local_flag<'a>(local: &[(bool, &'a str, &'a str)]) -> Option<(&'a str, &'a str)> {
    local
        .iter()
        .find(|(on, _, _)| *on)
        .map(|(_, f, h)| (*f, *h))
}

/// An identity or passphrase from a Secret, passed on to the Job: its flags
/// added to `a`; the Secrets' names, which the run's Role may read.
pub fn key_flags(k: &crate::keys::KeyArgs, a: &mut Argv) -> Vec<String> {
    a.opt("--identity-from-secret", k.identity_from_secret.clone());
    a.opt("--passphrase-from-secret", k.passphrase_from_secret.clone());
    [
        secret_of(&k.identity_from_secret),
        secret_of(&k.passphrase_from_secret),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The name of the Secret in `NAME/KEY`.
pub fn secret_of(r: &Option<String>) -> Option<String> {
    r.as_deref()
        .and_then(|r| r.split_once('/'))
        .map(|(n, _)| n.to_string())
}

/// Narrows a run's Role to the Redis pods `target` finds in the namespace
/// of `kube`: their workloads' Leases and their Secrets go into `access`.
/// Returns the node of the pod to prefer; a refusal (said, and as a
/// `json_kind` document with `-o json`) when no pod matches.
pub async fn narrow(
    ui: &Ui,
    kube: &KubeArgs,
    json_kind: Option<&str>,
    target: &crate::args::TargetArgs,
    tls: &crate::args::TlsArgs,
    access: &mut kubectl_redis_core::ops::schedule::Access,
) -> Result<Option<String>, Exit> {
    let Some(k) = crate::kube::connect_or_report(ui, kube, json_kind).await else {
        return Err(Exit::Error);
    };
    let selector = crate::env::selector(target.selector.clone());
    let hint = "check -l/--pod and -n";
    let found = crate::kube::objects::narrowing(
        &k.client,
        &k.namespace,
        &selector,
        target.pod.as_deref(),
        tls.tls_from_secret.is_some(),
    )
    .await;
    let message = match found {
        Ok((leases, secrets, t)) if !leases.is_empty() => {
            access.lease_names = leases;
            access.secret_names.extend(secrets);
            access.services |= t && tls.tls_server_name.is_none();
            let pods: Api<Pod> = Api::namespaced(k.client.clone(), &k.namespace);
            let lp = ListParams::default().labels(&selector);
            return Ok(pods.list(&lp).await.ok().and_then(|l| {
                l.items
                    .into_iter()
                    .find(|p| target.pod.is_none() || p.metadata.name == target.pod)
                    .and_then(|p| p.spec.and_then(|s| s.node_name))
            }));
        }
        Ok(_) => format!(
            "no Running and Ready pod matches {selector} in {}",
            k.namespace
        ),
        Err(e) => e,
    };
    ui.error(&message, Some(hint));
    if let Some(kind) = json_kind {
        output::failure(ui, kind, Exit::Invalid, &message, Some(hint));
    }
    Err(Exit::Invalid)
}

/// The permissions this user needs to start a run: create its four
/// objects, delete them, read its pod's status and log.
const NEEDS: &[(&str, &str, &str, &str)] = &[
    ("create", "batch", "jobs", ""),
    ("delete", "batch", "jobs", ""),
    ("create", "", "serviceaccounts", ""),
    ("create", "rbac.authorization.k8s.io", "roles", ""),
    ("create", "rbac.authorization.k8s.io", "rolebindings", ""),
    ("list", "", "pods", ""),
    ("get", "", "pods", "log"),
];

/// The permissions of [`NEEDS`] this user lacks in `ns`, as `verb
/// resource` (an unanswered review counts as allowed: the API server
/// then refuses by itself).
async fn missing_permissions(client: &kube::Client, ns: &str) -> Vec<String> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut missing = Vec::new();
    for (verb, group, resource, sub) in NEEDS {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(ns.to_string()),
                    verb: Some(verb.to_string()),
                    group: Some(group.to_string()),
                    resource: Some(resource.to_string()),
                    subresource: (!sub.is_empty()).then(|| sub.to_string()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let allowed = api
            .create(&PostParams::default(), &review)
            .await
            .ok()
            .and_then(|r| r.status)
            .map(|s| s.allowed);
        if allowed == Some(false) {
            let what = match (group.is_empty(), sub.is_empty()) {
                (true, true) => resource.to_string(),
                (true, false) => format!("{resource}/{sub}"),
                (false, _) => format!("{resource}.{group}"),
            };
            missing.push(format!("{verb} {what}"));
        }
    }
    missing
}

/// A random suffix for a run's name (5 lowercase letters and digits).
fn suffix() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 5];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    b.iter()
        .map(|x| char::from(A[usize::from(*x) % A.len()]))
        .collect()
}

/// The objects' APIs in a namespace.
pub struct Apis {
    pub jobs: Api<Job>,
    pub pods: Api<Pod>,
    pub client: kube::Client,
    pub ns: String,
}

impl Apis {
    pub fn new(client: &kube::Client, ns: &str) -> Apis {
        Apis {
            jobs: Api::namespaced(client.clone(), ns),
            pods: Api::namespaced(client.clone(), ns),
            client: client.clone(),
            ns: ns.to_string(),
        }
    }

    /// Stops a run as its pod would want: the Job's deadline set to now,
    /// so Kubernetes stops its pod with SIGTERM and the plugin in it winds
    /// down (a restore puts the writers back) while its Role still lets it;
    /// once the pod has ended (or after `grace`), the run's objects go.
    pub async fn stop_run(&self, ui: &Ui, name: &str, docs: &[Value]) -> Vec<String> {
        if self.deadline_now(name).await {
            ui.note(&format!(
                "stopping run {name}: its pod winds down (up to a minute)"
            ));
            let grace = std::time::Instant::now() + Duration::from_secs(60);
            while std::time::Instant::now() < grace {
                match pod_of(&self.pods, name).await {
                    Some((_, PodState::Running)) => {}
                    _ => break,
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        self.delete_run(name, docs).await
    }

    /// Sets the Job's deadline to now: Kubernetes stops its pod with
    /// SIGTERM. Whether the Job took it.
    pub async fn deadline_now(&self, name: &str) -> bool {
        let patch = json!({"spec": {"activeDeadlineSeconds": 1}});
        let pp = kube::api::PatchParams::default();
        self.jobs
            .patch(name, &pp, &kube::api::Patch::Merge(&patch))
            .await
            .is_ok()
    }

    /// Deletes the run's objects (the Job with its pods); absent ones are
    /// fine. What could not be deleted is returned, to be said.
    pub async fn delete_run(&self, name: &str, docs: &[Value]) -> Vec<String> {
        let mut left = Vec::new();
        let dp = DeleteParams::background();
        match self.jobs.delete(name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(ae)) if ae.code == 404 => {}
            Err(e) => left.push(format!("job/{name}: {}", crate::kube::api_error(e))),
        }
        if let Err(e) = crate::kube::objects::delete_all(&self.client, &self.ns, docs).await {
            left.push(e);
        }
        left
    }
}

/// Creates the run's objects: ServiceAccount, Role, RoleBinding, then the
/// Job; the first three are then owned by the Job (they go with it).
async fn create(apis: &Apis, docs: &[Value]) -> Result<(), String> {
    let (Some(job_doc), Some(rest)) = (docs.last(), docs.get(..docs.len().saturating_sub(1)))
    else {
        return Err("internal error: no Job to create".into());
    };
    crate::kube::objects::create_all(&apis.client, &apis.ns, rest).await?;
    let job: Job = serde_json::from_value(job_doc.clone())
        .map_err(|e| format!("internal error building the Job: {e}"))?;
    let made = apis
        .jobs
        .create(&PostParams::default(), &job)
        .await
        .map_err(|e| format!("cannot create the Job: {}", crate::kube::api_error(e)))?;
    let (Some(name), Some(uid)) = (made.metadata.name, made.metadata.uid) else {
        return Ok(());
    };
    let owner = json!({"metadata": {"ownerReferences": [{
        "apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": uid
    }]}});
    // Best effort: without it they are still deleted when the run is followed.
    crate::kube::objects::patch_all(&apis.client, &apis.ns, rest, &owner).await;
    Ok(())
}

/// How following a run ended.
pub enum Followed {
    /// The container's exit code and the result line, when there was one.
    Exited(i32, Option<Value>),
    Stuck {
        reason: String,
        message: String,
    },
    /// The Job failed without its container saying why (its deadline).
    JobFailed(String),
    Interrupted,
}

/// The state of the run's pod, and its name.
async fn pod_of(pods: &Api<Pod>, name: &str) -> Option<(String, PodState)> {
    let lp = ListParams::default().labels(&format!("job-name={name}"));
    let list = pods.list(&lp).await.ok()?;
    let pod = list.items.into_iter().next()?;
    let pod_name = pod.metadata.name.clone()?;
    let cs = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first().cloned());
    let state = cs.and_then(|c| c.state);
    let waiting = state.as_ref().and_then(|s| s.waiting.as_ref());
    let running = state.as_ref().is_some_and(|s| s.running.is_some());
    let exit = state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.exit_code);
    let w = waiting.map(|w| {
        (
            w.reason.clone().unwrap_or_default(),
            w.message.clone().unwrap_or_default(),
        )
    });
    Some((
        pod_name,
        job::pod_state(
            w.as_ref().map(|(r, m)| (r.as_str(), m.as_str())),
            running,
            exit,
        ),
    ))
}

/// Why the Job failed, from its conditions (a deadline passed, ...).
async fn job_failed(jobs: &Api<Job>, name: &str) -> Option<String> {
    let j = match jobs.get(name).await {
        Ok(j) => j,
        Err(kube::Error::Api(ae)) if ae.code == 404 => {
            return Some("the Job was deleted by someone else".into())
        }
        Err(_) => return None,
    };
    j.status?
        .conditions?
        .into_iter()
        .find(|c| c.type_ == "Failed" && c.status == "True")
        .map(|c| {
            format!(
                "{}: {}",
                c.reason.unwrap_or_default(),
                c.message.unwrap_or_default()
            )
        })
}

/// Follows the run until its container ends: its log lines shown as they
/// come (progress) or kept (the result), its pod watched for a stuck start.
pub async fn follow(ui: &Ui, apis: &Apis, name: &str) -> Followed {
    follow_as(ui, apis, name, "", &mut Vec::new(), true).await
}

/// [`follow`], each progress line said after `label` (a set's shard), and
/// the last lines kept in `tail` (to name what a failed Job said last).
pub async fn follow_as(
    ui: &Ui,
    apis: &Apis,
    name: &str,
    label: &str,
    tail: &mut Vec<String>,
    interruptible: bool,
) -> Followed {
    let mut say = |p: String| {
        ui.note(&format!("{label}{p}"));
        tail.push(p);
        if tail.len() > 5 {
            tail.remove(0);
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Line>();
    let mut logs: Option<tokio::task::JoinHandle<()>> = None;
    let mut result: Option<Value> = None;
    let mut said_waiting = false;
    // A run cleaning up after Ctrl-C is followed to its end.
    let interrupted = async {
        if interruptible {
            crate::signals::interrupted().await
        } else {
            std::future::pending().await
        }
    };
    tokio::pin!(interrupted);
    let began = std::time::Instant::now();
    loop {
        let state = pod_of(&apis.pods, name).await;
        match &state {
            Some((pod, PodState::Running | PodState::Exited(_))) if logs.is_none() => {
                let pods = apis.pods.clone();
                let pod = pod.clone();
                let tx = tx.clone();
                logs = Some(tokio::spawn(async move {
                    let lp = LogParams {
                        follow: true,
                        ..LogParams::default()
                    };
                    let Ok(stream) = pods.log_stream(&pod, &lp).await else {
                        return;
                    };
                    let mut lines = stream.lines();
                    while let Some(Ok(l)) = lines.next().await {
                        if tx.send(job::read_line(&l)).is_err() {
                            return;
                        }
                    }
                }));
            }
            Some((_, PodState::Starting)) if !said_waiting => {
                said_waiting = true;
                ui.note(&format!(
                    "{label}waiting for the Job's pod to start ({name})"
                ));
            }
            _ => {}
        }
        if let Some((_, PodState::Stuck { reason, message })) = &state {
            return Followed::Stuck {
                reason: reason.clone(),
                message: message.clone(),
            };
        }
        if let Some((_, PodState::Exited(code))) = &state {
            // The rest of the log, then the end.
            if let Some(h) = logs.take() {
                let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
            }
            while let Ok(l) = rx.try_recv() {
                match l {
                    Line::Result(v) => result = Some(v),
                    Line::Progress(p) => say(p),
                }
            }
            return Followed::Exited(*code, result);
        }
        if state.is_none() {
            if let Some(why) = job_failed(&apis.jobs, name).await {
                return Followed::JobFailed(why);
            }
        }
        // Often while a short run starts and ends, then once a second.
        let every = if began.elapsed() < Duration::from_secs(30) {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(1)
        };
        let tick = tokio::time::sleep(every);
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut interrupted => return Followed::Interrupted,
                _ = &mut tick => break,
                l = rx.recv() => match l {
                    Some(Line::Result(v)) => result = Some(v),
                    Some(Line::Progress(p)) => say(p),
                    None => {}
                },
            }
        }
    }
}

/// Runs `plan` as a Job in the namespace of `kube`, following it unless
/// `--detach`; `kind` is the result document's kind (`BackupResult`);
/// `text` prints a result document for `-o text`.
pub async fn run(
    ui: &Ui,
    kube: &KubeArgs,
    ic: &InClusterArgs,
    plan: Plan,
    output: Output,
    kind: &str,
    text: &dyn Fn(&Value),
) -> Exit {
    let json_kind = (output == Output::Json).then_some(kind);
    let fail = |r: Refused| {
        ui.error(&r.message, Some(&r.hint));
        if let Some(kind) = json_kind {
            output::failure(ui, kind, r.exit, &r.message, Some(&r.hint));
        }
        r.exit
    };
    let resources = match ic.job_resources.as_deref().map(job::parse_resources) {
        None => job::Resources::default(),
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return fail(refused(
                Exit::Invalid,
                format!("--job-resources: {e}"),
                "e.g. --job-resources cpu=100m,memory=128Mi,limits.memory=512Mi",
            ))
        }
    };
    let overrides = match ic
        .job_overrides
        .as_deref()
        .map(serde_json::from_str::<Value>)
    {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            return fail(refused(
                Exit::Invalid,
                format!("--job-overrides is not JSON: {e}"),
                r#"e.g. --job-overrides '{"nodeSelector": {"pool": "backup"}}' (a merge patch) or '[{"op": "add", "path": "/hostNetwork", "value": true}]' (a JSON patch)"#,
            ))
        }
    };
    let Some(k) = crate::kube::connect_or_report(ui, kube, json_kind).await else {
        return Exit::Error;
    };
    let missing = missing_permissions(&k.client, &k.namespace).await;
    if !missing.is_empty() {
        return fail(refused(
            Exit::Error,
            format!(
                "--in-cluster needs permissions you do not have in {}: {}; nothing was created",
                k.namespace,
                missing.join(", ")
            ),
            "ask for them in a Role bound to you (granting the run's Role also needs its permissions), or run without --in-cluster",
        ));
    }
    let apis = Apis::new(&k.client, &k.namespace);
    let _handled = crate::signals::Handled::new();
    let starter = Starter {
        apis: &apis,
        ic,
        resources,
        overrides,
    };
    let Started {
        name,
        docs,
        image: r_image,
        args: r_args,
    } = match starter.start(ui, &plan).await {
        Ok(s) => s,
        Err(r) => return fail(r),
    };
    let r = (r_image, r_args);
    ui.note(&format!(
        "run {name}: a Job in {} from {} ({})",
        k.namespace,
        r.0,
        r.1.join(" ")
    ));
    let r = RunImage { image: r.0 };
    if ic.detach {
        match output {
            Output::Json => output::print(
                ui,
                "Run",
                json!({"name": name, "namespace": k.namespace, "command": plan.command, "image": r.image, "state": "created", "exit_code": 0}),
            ),
            Output::Text => println!("{name}"),
        }
        ui.note(&format!(
            "follow it with `kubectl redis runs logs -n {ns} {name}`, stop it with `kubectl redis runs delete -n {ns} {name}`; its objects go an hour after it ends",
            ns = k.namespace
        ));
        return Exit::Ok;
    }
    let end = follow(ui, &apis, &name).await;
    // A Redis Cluster's backup set: the first Job planned one Job per shard.
    if let Followed::Exited(0, Some(v)) = &end {
        if v["kind"] == json!(crate::jobs::backup_set::PLAN_KIND) {
            if let Err(e) =
                crate::kube::objects::delete_all(&apis.client, &apis.ns, &docs[..3]).await
            {
                ui.warn(&format!("could not remove all of run {name}: {e}"));
            }
            return Box::pin(crate::jobs::backup_set::fan_out(
                ui, &starter, &plan, v, output, text,
            ))
            .await;
        }
        if v["kind"] == json!(crate::jobs::backup_set::RESTORE_PLAN_KIND) {
            if let Err(e) =
                crate::kube::objects::delete_all(&apis.client, &apis.ns, &docs[..3]).await
            {
                ui.warn(&format!("could not remove all of run {name}: {e}"));
            }
            return crate::jobs::backup_set::restore_fan_out(ui, &starter, &plan, v, output, text)
                .await;
        }
    }
    // The Job stays (its log) until ttlSecondsAfterFinished; the rest goes now.
    let cleanup = |left: Vec<String>| {
        if !left.is_empty() {
            ui.warn(&format!(
                "could not remove all of run {name}: {}; remove it with `kubectl delete job,sa,role,rolebinding -n {} -l {}={name}`",
                left.join("; "),
                k.namespace,
                job::RUN_LABEL
            ));
        }
    };
    match end {
        Followed::Exited(code, result) => {
            if let Err(e) =
                crate::kube::objects::delete_all(&apis.client, &apis.ns, &docs[..3]).await
            {
                cleanup(vec![e]);
            }
            let exit = Exit::from_code(code);
            match result {
                Some(v) => {
                    print_result(ui, output, v, run_doc(&name, &k.namespace, &r.image), text)
                }
                None => {
                    let r = refused(
                        if exit == Exit::Ok { Exit::Error } else { exit },
                        format!("the Job {name} ended (exit code {code}) without a result"),
                        format!("see its log: kubectl logs -n {} job/{name}", k.namespace),
                    );
                    return fail(r);
                }
            }
            exit
        }
        Followed::Stuck { reason, message } => {
            cleanup(apis.delete_run(&name, &docs).await);
            fail(refused(
                Exit::Error,
                format!("the Job's pod cannot start: {reason}: {message}; the run was removed"),
                if reason.contains("Image") {
                    "check --job-image: the nodes must be able to pull it (build it with the repository's Dockerfile; imagePullSecrets through --job-overrides)"
                } else {
                    "check the Secrets the run names (--repo-credentials-from-secret) exist in the namespace"
                },
            ))
        }
        Followed::JobFailed(why) => {
            cleanup(apis.delete_run(&name, &docs).await);
            let hint = if why.contains("DeadlineExceeded") {
                "give it more time with --job-deadline"
            } else {
                "see what happened: kubectl get events -n NAMESPACE"
            };
            fail(refused(
                Exit::Error,
                format!("the Job {name} failed: {why}"),
                hint,
            ))
        }
        Followed::Interrupted => {
            cleanup(apis.stop_run(ui, &name, &docs).await);
            let (what, hint) = if plan.command == "restore" {
                (
                    "its pod was stopped with SIGTERM, on which the restore puts the writers back",
                    format!("check with `kubectl redis status -n {}`; if writers are still at 0, `kubectl redis restore --recover -n {}`", k.namespace, k.namespace),
                )
            } else {
                (
                    "what it had not finished is not listed",
                    "run it again".to_string(),
                )
            };
            fail(refused(
                Exit::Interrupted,
                format!("interrupted: the run {name} was stopped and removed; {what}"),
                hint,
            ))
        }
    }
}

/// A run's Job, created.
pub struct Started {
    pub name: String,
    /// ServiceAccount, Role, RoleBinding, Job.
    pub docs: Vec<Value>,
    pub image: String,
    pub args: Vec<String>,
}

struct RunImage {
    image: String,
}

/// What starting a run's Job takes, checked once for every Job of a run.
pub struct Starter<'a> {
    pub apis: &'a Apis,
    pub ic: &'a InClusterArgs,
    pub resources: job::Resources,
    pub overrides: Option<Value>,
}

impl Starter<'_> {
    /// Renders `plan`'s objects and creates them (the Job last); on
    /// failure, what was created is removed.
    pub async fn start(&self, ui: &Ui, plan: &Plan) -> Result<Started, Refused> {
        let (apis, ic) = (self.apis, self.ic);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let name = job::run_name(&plan.command, now, &suffix());
        // The command, the namespace, its flags, and the result as JSON.
        let mut args: Vec<String> = plan.args.iter().take(1).cloned().collect();
        args.extend(["-n".to_string(), apis.ns.clone()]);
        args.extend(plan.args.iter().skip(1).cloned());
        args.extend(["-o".to_string(), "json".to_string()]);
        let r = Run {
            name: name.clone(),
            namespace: apis.ns.clone(),
            command: plan.command.clone(),
            image: ic
                .job_image
                .clone()
                .unwrap_or_else(crate::kube::objects::default_image),
            args,
            env: Vec::new(),
            env_from: ic.repo_credentials_from_secret.clone(),
            pvc: ic.pvc.clone(),
            node: plan.node.clone(),
            resources: self.resources.clone(),
            ttl_s: 3600,
            deadline_s: ic.job_deadline.as_secs().max(60),
            rules: plan.rules.clone(),
            overrides: self.overrides.clone(),
            sa_annotations: ic.service_account_annotation.clone(),
        };
        let docs = job::manifests(&r).map_err(|e| {
            refused(
                Exit::Invalid,
                format!("--job-overrides does not apply to the Job's pod spec: {e}"),
                "paths are inside the pod spec: /hostNetwork, /containers/0/env/-, /nodeSelector",
            )
        })?;
        let pod_spec = &docs[3]["spec"]["template"]["spec"];
        let weakened = job::restricted_violations(pod_spec);
        if !weakened.is_empty() {
            ui.warn(&format!(
                "--job-overrides takes the Job's pod out of the Pod Security \"restricted\" profile ({}): a namespace enforcing it refuses the pod",
                weakened.join(", ")
            ));
        }
        if let Err(e) = create(apis, &docs).await {
            let left = apis.delete_run(&name, &docs).await;
            let mut hint =
                "check your permissions in the namespace (`kubectl redis status`)".to_string();
            if !left.is_empty() {
                hint = format!(
                    "{hint}; remove what is left with `kubectl delete job,sa,role,rolebinding -n {} -l {}={name}`",
                    apis.ns,
                    job::RUN_LABEL
                );
            }
            return Err(refused(Exit::Error, e, hint));
        }
        Ok(Started {
            name,
            docs,
            image: r.image,
            args: r.args,
        })
    }
}

/// A run's result document, as the command prints it: `-o json` the
/// document with `run` added, text by `text`.
pub fn print_result(ui: &Ui, output: Output, mut v: Value, run: Value, text: &dyn Fn(&Value)) {
    match output {
        Output::Json => {
            if let Value::Object(m) = &mut v {
                m.insert("run".into(), run);
            }
            match serde_json::to_string_pretty(&v) {
                Ok(s) => println!("{s}"),
                Err(e) => ui.error(&format!("cannot encode the result: {e}"), None),
            }
        }
        Output::Text => text(&v),
    }
}

/// A backup result's text: its path, then each further copy's.
pub fn backup_text(v: &Value) {
    if let Some(p) = v["path"].as_str() {
        println!("{p}");
    }
    for c in v["copies"].as_array().into_iter().flatten() {
        if let (Some(p), true) = (c["path"].as_str(), c["ok"] == json!(true)) {
            println!("{p}");
        }
    }
}

/// The `run` object added to an in-cluster result: the run, and the bytes
/// this process moved through port-forwards (none: the Job moved the data).
pub fn run_doc(name: &str, namespace: &str, image: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "image": image,
        "port_forward_bytes": crate::kube::portforward::bytes(),
    })
}
