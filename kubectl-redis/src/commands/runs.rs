//! `kubectl redis runs`: the `--in-cluster` runs in a namespace (their
//! Jobs), one followed (`runs logs`), one stopped (`runs delete`).

use crate::args::{KubeArgs, Output};
use crate::jobs::in_cluster::{self, Apis, Followed};
use crate::output;
use crate::ui::Ui;
use clap::{Args, Subcommand};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::ops::job::RUN_LABEL;
use serde_json::{json, Value};

pub const LONG_ABOUT: &str =
    "The runs `--in-cluster` started in the namespace, newest first: each \
one's command, state (starting, running, succeeded, failed), start, end, exit code and result \
(a backup's path), from its Job and its pod's termination message. A run is listed until its Job \
goes, an hour after it ended (ttlSecondsAfterFinished). `runs logs NAME` follows one as the \
command that started it would have (its progress, its result, its exit code); `runs delete NAME` \
stops one and removes its objects.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  listed; `logs`: the run succeeded; `delete`: removed\n    1  the cluster cannot be reached; `logs`: the run failed without an exit code of its own\n    2  no such run\n  130  `logs` interrupted (the run goes on)\n  `logs` otherwise exits with the run's own exit code.\n\nExamples:\n  kubectl redis backup -n prod --in-cluster --repo s3://backups/prod --detach\n  kubectl redis runs -n prod\n  kubectl redis runs logs -n prod kubectl-redis-backup-20261205-103000-x7k2p\n  kubectl redis runs -n prod -o json | jq -r '.runs[] | select(.state == \"succeeded\") | .result.path'";

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text, global = true)]
    pub output: Output,
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Follow a run: its progress as it comes, its result, its exit code
    Logs {
        /// The run's name (`kubectl redis runs` lists them)
        name: String,
    },
    /// Stop a run: delete its Job (its pod stops; nothing half-written is listed) and its objects
    Delete {
        /// The run's name
        name: String,
    },
}

pub async fn run(ui: &Ui, kube: &KubeArgs, args: RunsArgs) -> Exit {
    let json = args.output == Output::Json;
    let kind = match &args.command {
        None => "RunList",
        Some(_) => "Run",
    };
    let Some(k) = crate::kube::connect_or_report(ui, kube, json.then_some(kind)).await else {
        return Exit::Error;
    };
    let apis = Apis::new(&k.client, &k.namespace);
    let fail = |exit: Exit, message: &str, hint: &str| {
        ui.error(message, Some(hint));
        if json {
            output::failure(ui, kind, exit, message, Some(hint));
        }
        exit
    };
    match args.command {
        None => list(ui, &apis, args.output).await,
        Some(RunsCommand::Logs { name }) => {
            if let Err(e) = apis.jobs.get(&name).await {
                return fail(
                    Exit::Invalid,
                    &format!(
                        "no run {name} in {}: {}",
                        k.namespace,
                        crate::kube::api_error(e)
                    ),
                    "list them with `kubectl redis runs -n NAMESPACE`",
                );
            }
            let image = image_of(&apis, &name).await;
            match in_cluster::follow(ui, &apis, &name).await {
                Followed::Exited(code, result) => {
                    let exit = Exit::from_code(code);
                    match result {
                        Some(v) => in_cluster::print_result(
                            ui,
                            args.output,
                            v,
                            in_cluster::run_doc(&name, &k.namespace, &image),
                            &|v: &Value| match v["path"].as_str() {
                                Some(_) => in_cluster::backup_text(v),
                                None => println!("{v}"),
                            },
                        ),
                        None => {
                            return fail(
                                if exit == Exit::Ok { Exit::Error } else { exit },
                                &format!("the run {name} ended (exit code {code}) without a result"),
                                &format!("see its log: kubectl logs -n {} job/{name}", k.namespace),
                            )
                        }
                    }
                    exit
                }
                Followed::Stuck { reason, message } => fail(
                    Exit::Error,
                    &format!("the run's pod cannot start: {reason}: {message}"),
                    &format!("remove it: kubectl redis runs delete -n {} {name}", k.namespace),
                ),
                Followed::JobFailed(why) => fail(
                    Exit::Error,
                    &format!("the run {name} failed: {why}"),
                    "see the events: kubectl get events -n NAMESPACE",
                ),
                Followed::Interrupted => fail(
                    Exit::Interrupted,
                    &format!("stopped following {name}; it goes on"),
                    "follow it again with `kubectl redis runs logs NAME`, or stop it with `kubectl redis runs delete NAME`",
                ),
            }
        }
        Some(RunsCommand::Delete { name }) => {
            let label = format!("{RUN_LABEL}={name}");
            let found = apis
                .jobs
                .list(&ListParams::default().labels(&label))
                .await
                .map(|l| !l.items.is_empty());
            match found {
                Ok(true) => {}
                Ok(false) => {
                    return fail(
                        Exit::Invalid,
                        &format!("no run {name} in {}", k.namespace),
                        "list them with `kubectl redis runs -n NAMESPACE`",
                    )
                }
                Err(e) => {
                    return fail(
                        Exit::Error,
                        &format!("cannot list the runs: {}", crate::kube::api_error(e)),
                        "check your permissions (`kubectl redis status`)",
                    )
                }
            }
            let docs = ["ServiceAccount", "Role", "RoleBinding"].map(|kind| {
                let av = if kind == "ServiceAccount" {
                    "v1"
                } else {
                    "rbac.authorization.k8s.io/v1"
                };
                json!({"apiVersion": av, "kind": kind, "metadata": {"name": name}})
            });
            let left = apis.stop_run(ui, &name, &docs).await;
            if !left.is_empty() {
                return fail(
                    Exit::Error,
                    &format!("could not remove all of run {name}: {}", left.join("; ")),
                    &format!(
                        "remove it with `kubectl delete job,sa,role,rolebinding -n {} -l {label}`",
                        k.namespace
                    ),
                );
            }
            if json {
                output::print(
                    ui,
                    "Run",
                    json!({"name": name, "namespace": k.namespace, "state": "deleted", "exit_code": 0}),
                );
            } else {
                println!("run {name} deleted");
            }
            Exit::Ok
        }
    }
}

/// The image a run's Job runs.
async fn image_of(apis: &Apis, name: &str) -> String {
    apis.jobs
        .get(name)
        .await
        .ok()
        .and_then(|j| j.spec)
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.into_iter().next())
        .and_then(|c| c.image)
        .unwrap_or_default()
}

/// One run as listed.
fn row(job: &Job, pods: &[Pod]) -> Option<Value> {
    let meta = &job.metadata;
    let name = meta.name.clone()?;
    let labels = meta.labels.as_ref()?;
    labels.get(RUN_LABEL)?;
    let command = labels
        .get("app.kubernetes.io/component")
        .cloned()
        .unwrap_or_default();
    let st = job.status.clone().unwrap_or_default();
    let pod = pods.iter().find(|p| {
        p.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("job-name"))
            .is_some_and(|j| *j == name)
    });
    let terminated = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.clone());
    let running = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .is_some_and(|s| s.running.is_some());
    let failed = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Failed" && c.status == "True");
    let state = if st.succeeded.unwrap_or(0) > 0 {
        "succeeded"
    } else if st.failed.unwrap_or(0) > 0 || failed.is_some() {
        "failed"
    } else if running {
        "running"
    } else {
        "starting"
    };
    let result = terminated
        .as_ref()
        .and_then(|t| t.message.as_deref())
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
        .filter(Value::is_object);
    Some(json!({
        "name": name,
        "command": command,
        "state": state,
        "started": st.start_time.as_ref().map(|t| t.0.to_string()),
        "finished": st.completion_time.as_ref().map(|t| t.0.to_string())
            .or_else(|| terminated.as_ref().and_then(|t| t.finished_at.as_ref()).map(|t| t.0.to_string())),
        "exit_code": terminated.as_ref().map(|t| t.exit_code),
        "reason": failed.map(|c| format!("{}: {}", c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default())),
        "result": result,
    }))
}

async fn list(ui: &Ui, apis: &Apis, out: Output) -> Exit {
    let lp = ListParams::default().labels("app.kubernetes.io/managed-by=kubectl-redis");
    let (jobs, pods) = match (apis.jobs.list(&lp).await, apis.pods.list(&lp).await) {
        (Ok(j), Ok(p)) => (j.items, p.items),
        (Err(e), _) | (_, Err(e)) => {
            let m = format!(
                "cannot list the runs in {}: {}",
                apis.ns,
                crate::kube::api_error(e)
            );
            let hint = "list needs list on jobs.batch and pods";
            ui.error(&m, Some(hint));
            if out == Output::Json {
                output::failure(ui, "RunList", Exit::Error, &m, Some(hint));
            }
            return Exit::Error;
        }
    };
    let mut rows: Vec<Value> = jobs.iter().filter_map(|j| row(j, &pods)).collect();
    rows.sort_by(|a, b| b["started"].as_str().cmp(&a["started"].as_str()));
    match out {
        Output::Json => output::print(
            ui,
            "RunList",
            json!({"namespace": apis.ns, "runs": rows, "exit_code": 0}),
        ),
        Output::Text => {
            if rows.is_empty() {
                ui.note(&format!("no runs in {} (`--in-cluster` starts them; each is listed until an hour after it ends)", apis.ns));
            }
            for r in &rows {
                let code = r["exit_code"]
                    .as_i64()
                    .map(|c| format!(" (exit {c})"))
                    .unwrap_or_default();
                let what = r["result"]["path"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| r["reason"].as_str().map(str::to_string))
                    .unwrap_or_default();
                println!(
                    "{}  {}  {}{}  {}  {}",
                    r["name"].as_str().unwrap_or_default(),
                    r["command"].as_str().unwrap_or_default(),
                    r["state"].as_str().unwrap_or_default(),
                    code,
                    r["started"].as_str().unwrap_or("-"),
                    what
                );
            }
        }
    }
    Exit::Ok
}
