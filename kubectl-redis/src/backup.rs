//! `kubectl redis backup`: performs the effects of the core's backup machine.

use crate::cli::{self, BackupArgs, KubeArgs, Output};
use crate::lease::{self, Locks};
use crate::ui::{Progress, Ui};
use crate::{exec, files, kube_ctx};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubectl_redis_core::backup::{Backup, CopyError, Effect, Finish, Input, Line, Plan};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::lock::Request;
use std::collections::VecDeque;
use std::pin::pin;
use std::time::Instant;

pub async fn run(ui: &Ui, kube: &KubeArgs, args: BackupArgs) -> Exit {
    let Some(k) = kube_ctx::connect_or_report(ui, kube).await else {
        return Exit::Error;
    };
    let plan = Plan {
        namespace: k.namespace.clone(),
        selector: cli::selector(args.target.selector),
        pod: args.target.pod,
        container: args.target.container,
        port: args.target.redis_port,
        out_dir: cli::out_dir(args.out_dir),
        started_unix: cli::unix_now(),
        timeout_ms: cli::millis(args.timeout),
        poll_ms: 250,
        holder: lease::holder(),
        context: k.context.clone(),
        tool: format!("kubectl-redis {}", env!("CARGO_PKG_VERSION")),
        lease_s: lease::DURATION_S,
    };
    let api: Api<Pod> = Api::namespaced(k.client.clone(), &k.namespace);
    let mut locks = Locks::new(k.client.clone(), &k.namespace, plan.holder.clone());
    let finish = drive(ui, &api, &mut locks, plan).await;
    report(ui, args.output, &finish);
    finish.exit
}

fn report(ui: &Ui, output: Output, f: &Finish) {
    if let Some(e) = &f.error {
        ui.error(&e.message, e.hint.as_deref());
    }
    match output {
        Output::Json => match serde_json::to_string_pretty(&json(f)) {
            Ok(s) => println!("{s}"),
            Err(e) => ui.error(&format!("cannot encode the result: {e}"), None),
        },
        Output::Text => {
            if let Some(r) = &f.report {
                println!("{}", r.path);
            }
        }
    }
}

fn json(f: &Finish) -> serde_json::Value {
    match (&f.report, &f.error) {
        (Some(r), _) => serde_json::json!({
            "path": r.path,
            "bytes": r.bytes,
            "namespace": r.namespace,
            "pod": r.pod,
            "container": r.container,
            "remote_path": r.remote_path,
            "lastsave": r.lastsave,
            "rdb_version": r.rdb.version,
            "rdb_flavor": r.rdb.flavor,
            "created": r.created,
            "duration_ms": r.duration_ms,
            "bgsave_ms": r.bgsave_ms,
            "copy_ms": r.copy_ms,
            "method": r.manifest.method,
            "keys": r.manifest.keys,
            "keys_per_db": r.manifest.keys_per_db,
            "sha256": r.manifest.sha256,
            "crc64": r.manifest.crc64,
            "verified": r.manifest.verified,
            "manifest": format!("{}.json", r.path),
            "exit_code": f.exit.code(),
        }),
        (None, e) => serde_json::json!({
            "error": e.as_ref().map(|e| e.message.clone()),
            "hint": e.as_ref().and_then(|e| e.hint.clone()),
            "exit_code": f.exit.code(),
        }),
    }
}

/// Writes `dest.json` whole or not at all. A failure leaves a verified
/// backup without a manifest: warned about, not fatal.
pub fn write_manifest(ui: &Ui, dest: &str, m: &kubectl_redis_core::manifest::Manifest) {
    let path = format!("{dest}.json");
    let r = serde_json::to_vec_pretty(m)
        .map_err(|e| e.to_string())
        .and_then(|mut b| {
            b.push(b'\n');
            files::write_whole(&path, &b).map_err(|e| e.to_string())
        });
    if let Err(e) = r {
        ui.line(
            "backup",
            &Line::Warn(format!(
                "the backup is saved and verified, but its manifest {path} could not be written: {e}"
            )),
        );
    }
}

/// Runs the machine to its end, doing each effect; Ctrl-C is an input.
async fn drive(ui: &Ui, api: &Api<Pod>, locks: &mut Locks, plan: Plan) -> Finish {
    let t0 = Instant::now();
    let now = || u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut m = Backup::new(plan);
    let mut inputs = VecDeque::from([Input::Start]);
    let mut files: std::collections::HashMap<String, tokio::fs::File> = Default::default();
    let mut ctrl_c = pin!(tokio::signal::ctrl_c());
    let mut interrupted = false;
    while let Some(input) = inputs.pop_front() {
        ui.trace(&format!("< {input:?}"));
        for effect in m.handle(now(), input) {
            if !matches!(effect, Effect::Say(_)) {
                ui.trace(&format!("> {effect:?}"));
            }
            // Saving and removing files cannot be half done: they run to
            // completion. Everything else races against Ctrl-C.
            let cancellable = !interrupted
                && !matches!(
                    effect,
                    Effect::Commit { .. }
                        | Effect::Discard { .. }
                        | Effect::Lock {
                            request: Request::Release { .. },
                            ..
                        }
                        | Effect::Finish(_)
                );
            let work = async {
                match effect {
                    Effect::Say(line) => {
                        ui.line("backup", &line);
                        None
                    }
                    Effect::Finish(f) => Some(Err(f)),
                    Effect::ListPods {
                        id, selector, name, ..
                    } => Some(Ok(Input::Pods(
                        id,
                        exec::list_pods(api, &selector, name.as_deref()).await,
                    ))),
                    Effect::Redis { id, target, args } => Some(Ok(Input::Redis(
                        id,
                        exec::redis_cli(api, &target, &args).await,
                    ))),
                    Effect::Timer { id, after_ms } => {
                        tokio::time::sleep(std::time::Duration::from_millis(after_ms)).await;
                        Some(Ok(Input::Timer(id)))
                    }
                    Effect::CreateTemp { id, dir, prefix } => {
                        let r = files::create_temp(&dir, &prefix).map(|(path, f)| {
                            files.insert(path.clone(), tokio::fs::File::from_std(f));
                            path
                        });
                        Some(Ok(Input::TempCreated(id, r.map_err(|e| e.to_string()))))
                    }
                    Effect::CopyOut {
                        id,
                        target,
                        remote_path,
                        local_path,
                        label,
                    } => {
                        let r = match files.remove(&local_path) {
                            Some(f) => {
                                let mut p = Progress::new(ui, &label);
                                exec::copy_out(api, &target, &remote_path, f, &mut p).await
                            }
                            None => Err(CopyError::Failed(format!("{local_path} is not open"))),
                        };
                        Some(Ok(Input::Copied(id, r)))
                    }
                    Effect::Commit {
                        id,
                        temp,
                        dest,
                        manifest,
                    } => {
                        let r = files::commit(&temp, &dest);
                        if r.is_ok() {
                            write_manifest(ui, &dest, &manifest);
                        }
                        Some(Ok(Input::Committed(id, r)))
                    }
                    Effect::Lock { id, request } => {
                        Some(Ok(Input::Lock(id, locks.perform(request).await)))
                    }
                    Effect::Discard { id, path } => {
                        files.remove(&path);
                        files::discard(&path);
                        Some(Ok(Input::Discarded(id)))
                    }
                }
            };
            let result = if cancellable {
                tokio::select! {
                    r = work => r,
                    _ = &mut ctrl_c => {
                        interrupted = true;
                        ui.line("backup", &Line::Warn("interrupted; cleaning up".to_string()));
                        Some(Ok(Input::Interrupt))
                    }
                }
            } else {
                work.await
            };
            match result {
                None => {}
                Some(Ok(next)) => inputs.push_back(next),
                Some(Err(finish)) => return finish,
            }
        }
    }
    // The machine always finishes; reaching here is a bug worth reporting.
    Finish {
        exit: Exit::Error,
        report: None,
        error: Some(kubectl_redis_core::backup::Failure {
            message: "internal error: the backup stopped without a result".to_string(),
            hint: Some("please report this with the output of --verbose".to_string()),
        }),
    }
}
