//! `kubectl redis backup`: performs the effects of the core's backup machine.

use crate::cli::{self, BackupArgs, KubeArgs, Method, Output};
use crate::lease::{self, Locks};
use crate::ui::{Progress, Ui};
use crate::{exec, files, kube_ctx, stream};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubectl_redis_core::backup::{Backup, CopyError, Effect, Finish, Input, Line, Plan};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::lock::Request;
use std::collections::VecDeque;
use std::pin::pin;
use std::time::Instant;

/// Runs the command; with --metrics-file, records how it ended.
pub async fn run(ui: &Ui, kube: &KubeArgs, args: BackupArgs) -> Exit {
    let metrics = args.metrics_file.clone();
    crate::ops::with_metrics(ui, metrics, "backup", run_inner(ui, kube, args)).await
}

async fn run_inner(ui: &Ui, kube: &KubeArgs, args: BackupArgs) -> Exit {
    if let Some(url) = args.url.clone() {
        return run_url(ui, &url, args).await;
    }
    let Some(k) = kube_ctx::connect_or_report(ui, kube).await else {
        return Exit::Error;
    };
    let auth = match crate::auth::explicit(
        Some(&k.client),
        &k.namespace,
        args.password_from_secret.as_deref(),
        args.user_name.clone(),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            ui.error(&e, Some("check the Secret with `kubectl get secret NAME -o yaml` (names only are printed)"));
            return Exit::Invalid;
        }
    };
    crate::auth::set_global(auth.clone());
    if args.method != Method::Bgsave {
        match stream_in_cluster(ui, &k, &args, &auth).await {
            Ok(exit) => return exit,
            Err((message, hint)) if args.method == Method::Auto => {
                ui.line(
                    "backup",
                    &Line::Warn(format!(
                        "stream backup not possible ({message}); using --method bgsave"
                    )),
                );
                ui.note(&format!("  ({hint})"));
            }
            Err((message, hint)) => {
                ui.error(&message, Some(&hint));
                report_error(args.output, Exit::SyncRefused, &message, &hint);
                return Exit::SyncRefused;
            }
        }
    }
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

fn report_error(output: Output, exit: Exit, message: &str, hint: &str) {
    if output == Output::Json {
        let v = serde_json::json!({ "error": message, "hint": hint, "exit_code": exit.code() });
        if let Ok(s) = serde_json::to_string_pretty(&v) {
            println!("{s}");
        }
    }
}

/// `--url`: straight to a Redis (no cluster); only the stream method.
async fn run_url(ui: &Ui, url: &str, args: BackupArgs) -> Exit {
    let fail = |ui: &Ui, exit: Exit, m: &str, h: &str| {
        ui.error(m, Some(h));
        report_error(args.output, exit, m, h);
        exit
    };
    if args.method == Method::Bgsave {
        return fail(
            ui,
            Exit::Invalid,
            "--url works only with --method stream (bgsave copies the file out of a pod)",
            "drop --method bgsave, or drop --url to back up a pod",
        );
    }
    let (host, port) = match parse_url(url) {
        Ok(x) => x,
        Err(e) => {
            return fail(
                ui,
                Exit::Invalid,
                &e,
                "use redis://HOST:PORT; give a password with $REDISCLI_AUTH",
            )
        }
    };
    let auth = match crate::auth::explicit(
        None,
        "",
        args.password_from_secret.as_deref(),
        args.user_name.clone(),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            return fail(
                ui,
                Exit::Invalid,
                &e,
                "with --url, give the password in $REDISCLI_AUTH",
            )
        }
    };
    let mut conn = match tokio::net::TcpStream::connect((host.as_str(), port)).await {
        Ok(c) => c,
        Err(e) => {
            return fail(
                ui,
                Exit::Error,
                &format!("cannot connect to {host}:{port}: {e}"),
                "check the address; for a pod, use `kubectl port-forward` or drop --url",
            )
        }
    };
    let _ = conn.set_nodelay(true);
    let origin = stream::Origin {
        source: kubectl_redis_core::manifest::Source {
            url: Some(format!("redis://{host}:{port}")),
            ..Default::default()
        },
        label: format!("redis://{host}:{port}"),
    };
    let started_unix = cli::unix_now();
    let tool = format!("kubectl-redis {}", env!("CARGO_PKG_VERSION"));
    let out_dir = cli::out_dir(args.out_dir.clone());
    let work = stream::backup(
        ui,
        &mut conn,
        &auth,
        &origin,
        &out_dir,
        started_unix,
        args.timeout,
        &tool,
    );
    let r = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => {
            ui.line("backup", &Line::Warn("interrupted; nothing was saved".into()));
            return Exit::Interrupted;
        }
    };
    finish_stream(ui, args.output, r).unwrap_or_else(|(m, h)| fail(ui, Exit::SyncRefused, &m, &h))
}

/// `redis://HOST:PORT` (a password in the URL is refused: it would be in argv).
pub fn parse_url(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| format!("'{url}' is not a redis:// URL"))?;
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    if auth.is_some_and(|a| a.contains(':')) {
        return Err("a password in --url would be visible in the process list; remove it and set $REDISCLI_AUTH".into());
    }
    let hostport = hostport.split('/').next().unwrap_or_default();
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("bad port in '{url}'"))?,
        ),
        None => (hostport, 6379),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("no host in '{url}'"));
    }
    Ok((host.to_string(), port))
}

/// Prints a stream backup's result; `Err((message, hint))` for a refusal.
fn finish_stream(
    ui: &Ui,
    output: Output,
    r: Result<stream::Done, stream::Failed>,
) -> Result<Exit, (String, String)> {
    match r {
        Ok(d) => {
            ui.line("backup", &Line::Step("OK".into()));
            match output {
                Output::Json => {
                    let v = serde_json::json!({
                        "path": d.path,
                        "bytes": d.manifest.size,
                        "method": "stream",
                        "diskless": d.framing == kubectl_redis_core::repl::Framing::Diskless,
                        "rdb_version": d.manifest.rdb_version,
                        "rdb_flavor": d.manifest.flavor,
                        "redis_version": d.manifest.redis_version,
                        "keys": d.manifest.keys,
                        "keys_per_db": d.manifest.keys_per_db,
                        "sha256": d.manifest.sha256,
                        "crc64": d.manifest.crc64,
                        "verified": d.manifest.verified,
                        "source": d.manifest.source,
                        "created": d.manifest.created,
                        "duration_ms": d.duration_ms,
                        "sync_ms": d.sync_ms,
                        "manifest": format!("{}.json", d.path),
                        "exit_code": 0,
                    });
                    match serde_json::to_string_pretty(&v) {
                        Ok(s) => println!("{s}"),
                        Err(e) => ui.error(&format!("cannot encode the result: {e}"), None),
                    }
                }
                Output::Text => println!("{}", d.path),
            }
            Ok(Exit::Ok)
        }
        Err(stream::Failed::Refused { message, hint }) => Err((message, hint)),
        Err(stream::Failed::Other {
            exit,
            message,
            hint,
        }) => {
            ui.error(&message, hint.as_deref());
            report_error(output, exit, &message, hint.as_deref().unwrap_or(""));
            Ok(exit)
        }
    }
}

/// The stream method against a pod: find it, lock, port-forward, download.
/// `Err` when the cluster or server refuses streaming (bgsave may work).
async fn stream_in_cluster(
    ui: &Ui,
    k: &kube_ctx::Kube,
    args: &BackupArgs,
    auth: &crate::auth::Auth,
) -> Result<Exit, (String, String)> {
    use kubectl_redis_core::pods::{self, Query};
    let api: Api<Pod> = Api::namespaced(k.client.clone(), &k.namespace);
    let selector = cli::selector(args.target.selector.clone());
    let what = match &args.target.pod {
        Some(p) => format!("pod {p}"),
        None => format!("label {selector}"),
    };
    ui.line(
        "backup",
        &Line::Step(format!(
            "detecting redis pod in ns={} {what}...",
            k.namespace
        )),
    );
    let listing = exec::list_pods(&api, &selector, args.target.pod.as_deref()).await;
    let q = Query {
        namespace: &k.namespace,
        selector: &selector,
        wanted: args.target.wanted(),
    };
    let (target, info) = match pods::choose(listing, &q) {
        Ok(x) => x,
        Err(r) => {
            ui.error(&r.message, Some(&r.hint));
            report_error(args.output, r.exit, &r.message, &r.hint);
            return Ok(r.exit);
        }
    };
    ui.line(
        "backup",
        &Line::Detail(format!(
            "{} (container {}, port {})",
            target.pod, target.container, target.port
        )),
    );
    let mut auth = auth.clone();
    if auth.password.is_none() {
        if let Ok(p) = api.get(&target.pod).await {
            match crate::auth::from_pod_env(&k.client, &k.namespace, &p, &target.container).await {
                Ok(Some(pw)) => {
                    auth.password = Some(pw);
                    auth.source = Some("the container's REDIS_PASSWORD".into());
                }
                Ok(None) => {}
                Err(e) => ui.line(
                    "backup",
                    &Line::Warn(format!("cannot read the pod's REDIS_PASSWORD: {e}")),
                ),
            }
        }
    }
    let mut locks = Locks::new(k.client.clone(), &k.namespace, lease::holder());
    let lease_name = match stream::lock(ui, &mut locks, &info.owner, &target.pod).await {
        Ok(n) => n,
        Err(f) => return finish_stream(ui, args.output, Err(f)),
    };
    let result = async {
        let mut pf = match api.portforward(&target.pod, &[target.port]).await {
            Ok(pf) => pf,
            Err(kube::Error::Api(ae)) if ae.code == 403 => {
                return Err(stream::Failed::Refused {
                    message: format!("port-forward to {} is not allowed: {}", target.pod, ae.message),
                    hint: format!(
                        "it needs create on pods/portforward (get before Kubernetes 1.31): `kubectl auth can-i get pods/portforward -n {}`; `kubectl redis status` shows every permission",
                        k.namespace
                    ),
                })
            }
            Err(e) => {
                return Err(stream::Failed::Refused {
                    message: format!("port-forward to {} failed: {}", target.pod, exec::api_error(e)),
                    hint: "check the pod's port with --redis-port".into(),
                })
            }
        };
        let Some(mut conn) = pf.take_stream(target.port) else {
            return Err(stream::Failed::Refused {
                message: "the port-forward has no stream".into(),
                hint: "use --method bgsave".into(),
            });
        };
        let origin = stream::Origin {
            source: kubectl_redis_core::manifest::Source {
                context: k.context.clone(),
                namespace: Some(k.namespace.clone()),
                pod: Some(target.pod.clone()),
                url: None,
            },
            label: format!("pod {}/{}:{}", k.namespace, target.pod, target.port),
        };
        let tool = format!("kubectl-redis {}", env!("CARGO_PKG_VERSION"));
        let out_dir = cli::out_dir(args.out_dir.clone());
        let r = stream::backup(
            ui,
            &mut conn,
            &auth,
            &origin,
            &out_dir,
            cli::unix_now(),
            args.timeout,
            &tool,
        )
        .await;
        drop(conn);
        pf.abort();
        r
    };
    let r = tokio::select! {
        r = result => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    if let Some(name) = &lease_name {
        if let Err(e) = locks.release(name).await {
            ui.line(
                "backup",
                &Line::Warn(format!("could not release Lease {name}: {e}")),
            );
        }
    }
    match r {
        None => {
            ui.line(
                "backup",
                &Line::Warn("interrupted; nothing was saved".into()),
            );
            Ok(Exit::Interrupted)
        }
        Some(r) => finish_stream(ui, args.output, r),
    }
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
