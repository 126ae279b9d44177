//! `kubectl redis status`: gathers the facts (API server, pod, Redis through
//! redis-cli in the pod, writers, local backups, SelfSubjectAccessReviews)
//! for the core to judge.

use crate::args::{KubeArgs, Output, TargetArgs};
use crate::env;
use crate::kube::exec;
use crate::ui::Ui;
use clap::Args;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;
use kube::Api;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::kube::pods::{self, Query, Target};
use kubectl_redis_core::ops::status::{self, Facts, Level, PodFacts, WriterFacts, NEEDS};
use kubectl_redis_core::wire::reply::{self, Reply};
use owo_colors::{OwoColorize, Stream};

pub const LONG_ABOUT: &str =
    "Check everything a backup or restore depends on: the cluster, the Redis pod \
(readiness, restarts), PING, role and replicas, keys per database, LASTSAVE and the \
last BGSAVE's status, persistence settings, memory against free space on the data \
volume, whether SYNC is allowed (stream backups), the writers and any unfinished \
restore's record, and the newest local backup. Then your RBAC: a \
SelfSubjectAccessReview for every permission the plugin uses, with what each \
missing one disables. Each problem line names its fix.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  nothing that will make a backup or restore fail (warnings may remain)\n    1  the cluster cannot be reached\n   11  a problem that will make backups or restores fail\n\nExamples:\n  kubectl redis status -n october\n  kubectl redis status -n prod --pod redis-0 -o json | jq .rbac";

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Writers to report on: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker]
    #[arg(long = "scale-down", value_name = "KIND/NAME")]
    pub scale_down: Vec<String>,
    /// Where to look for the newest backup: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
    pub out_dir: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub tls: crate::args::TlsArgs,
}

pub async fn run(ui: &Ui, kube: &KubeArgs, args: StatusArgs) -> Exit {
    let Some(k) = crate::kube::connect_or_report(
        ui,
        kube,
        (args.output == Output::Json).then_some("StatusReport"),
    )
    .await
    else {
        return Exit::Error;
    };
    if let Err(e) = crate::redis::tls::setup(&args.tls, false, Some(&k)).await {
        ui.error(
            &e,
            Some("see the TLS flags in `kubectl redis status --help`"),
        );
        return Exit::Invalid;
    }
    let mut f = Facts {
        namespace: k.namespace.clone(),
        context: k.context.clone(),
        now_unix: env::unix_now(),
        ..Facts::default()
    };
    f.server_version = Some(
        k.client
            .apiserver_version()
            .await
            .map(|v| v.git_version)
            .map_err(crate::kube::api_error),
    );
    if matches!(f.server_version, Some(Err(_))) {
        return print(ui, args.output, &f);
    }
    let api: Api<Pod> = Api::namespaced(k.client.clone(), &k.namespace);
    let selector = env::selector(args.target.selector.clone());
    let listing =
        crate::kube::pods::find_pods_and_roles(ui, &api, &selector, args.target.pod.as_deref())
            .await
            .map(|found| {
                f.sentinel = found.sentinel;
                f.roles = found.roles;
                found.pods
            });
    let ready = listing
        .as_ref()
        .map(|l| l.iter().filter(|p| p.ready).count())
        .unwrap_or(0);
    let q = Query {
        namespace: &k.namespace,
        selector: &selector,
        wanted: args.target.wanted(),
    };
    // The names a narrowed Role grants (as `schedule` writes it): the
    // Lease of the Redis pod's workload, its password Secret.
    let mut names = Names::default();
    match pods::choose(listing, &q) {
        Ok((t, info)) => {
            names.lease = Some(kubectl_redis_core::kube::lock::lease_name(
                &info.owner,
                &info.name,
            ));
            if let Ok(p) = api.get(&t.pod).await {
                names.secrets = crate::kube::secrets::password_secret_names(&p);
            }
            f.pod = Some(Ok(PodFacts {
                name: t.pod.clone(),
                container: t.container.clone(),
                port: t.port,
                ready: info.ready,
                restarts: info.restarts,
                others: ready.saturating_sub(1),
            }));
            redis_facts(&api, &t, &mut f).await;
            f.tls = crate::redis::tls::status_probe(&api, &t).await;
        }
        Err(r) => f.pod = Some(Err(r.message)),
    }
    match crate::kube::workloads::writer_list(&args.scale_down) {
        Ok(ws) => {
            for w in ws {
                let name = w.to_string();
                f.writers.push(
                    match crate::kube::workloads::writer_state(&k.client, &k.namespace, &w).await {
                        Ok(Some(s)) => WriterFacts {
                            name,
                            replicas: Some(s.replicas),
                            recorded: s.recorded,
                            error: None,
                        },
                        Ok(None) => WriterFacts {
                            name,
                            ..WriterFacts::default()
                        },
                        Err(e) => WriterFacts {
                            name,
                            error: Some(e),
                            ..WriterFacts::default()
                        },
                    },
                );
            }
        }
        Err(e) => {
            ui.error(&e, Some("use deploy/NAME or sts/NAME"));
            return Exit::Invalid;
        }
    }
    let dir = env::out_dir(args.out_dir.clone());
    // The newest backup, wherever the repository is (unreadable: none shown).
    if let Ok(repo) = crate::store::repo::Repo::open(&dir) {
        if let Ok(l) = repo.listing().await {
            f.newest_backup = l
                .backups
                .first()
                .map(|b| (b.file.clone(), b.age_seconds, b.status.clone()));
        }
    }
    f.rbac = rbac(&k.client, &k.namespace, &names).await;
    print(ui, args.output, &f)
}

/// INFO, CONFIG GET, COMMAND INFO SYNC and df, through redis-cli in the pod.
async fn redis_facts(api: &Api<Pod>, t: &Target, f: &mut Facts) {
    let cli = |args: &[&str]| {
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move { exec::redis_cli(api, t, &a).await }
    };
    let info = match cli(&["INFO"]).await {
        Ok(o) => match reply::parse_cli_output(&o.stdout) {
            Reply::Text(t) if t.contains("redis_version") => Ok(reply::info_fields(&t)),
            Reply::Error(e) => Err(e),
            _ if !o.stderr.trim().is_empty() => Err(o.stderr.trim().to_string()),
            other => Err(format!("unexpected answer: {other:?}")),
        },
        Err(e) => Err(e),
    };
    let ok = info.is_ok();
    let cluster = info
        .as_ref()
        .is_ok_and(|i| i.get("cluster_enabled").map(|v| v.trim()) == Some("1"));
    f.info = Some(info);
    if !ok {
        return;
    }
    if cluster {
        if let Ok(o) = cli(&["CLUSTER", "INFO"]).await {
            if let Reply::Text(t) = reply::parse_cli_output(&o.stdout) {
                f.cluster = Some(reply::info_fields(&t));
            }
        }
    }
    for k in [
        "save",
        "appendonly",
        "dir",
        "dbfilename",
        "repl-diskless-sync",
    ] {
        if let Ok(o) = cli(&["CONFIG", "GET", k]).await {
            if let Some(v) = reply::parse_cli_output(&o.stdout).config_value(k) {
                f.config.insert(k.to_string(), v);
            }
        }
    }
    if let Ok(o) = cli(&["COMMAND", "INFO", "SYNC"]).await {
        // A renamed or removed command answers nil.
        let out = o.stdout.trim();
        f.sync_available =
            Some(!out.is_empty() && !out.contains("(nil)") && !out.starts_with("(error)"));
    }
    let dir = f
        .config
        .get("dir")
        .cloned()
        .unwrap_or_else(|| "/data".into());
    let df = exec::run(api, t, vec!["df".into(), "-Pk".into(), dir]).await;
    f.disk = Some(match df {
        Ok(o) if o.exit_code.unwrap_or(0) == 0 => o
            .stdout
            .lines()
            .nth(1)
            .and_then(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                Some((c.get(2)?.parse().ok()?, c.get(3)?.parse().ok()?))
            })
            .ok_or_else(|| format!("unexpected df output: {}", o.stdout.trim())),
        Ok(o) => Err(o.stderr.trim().to_string()),
        Err(e) => Err(e),
    });
}

/// Object names a permission may be limited to.
#[derive(Default)]
struct Names {
    lease: Option<String>,
    secrets: Vec<String>,
}

/// A SelfSubjectAccessReview per permission the plugin uses, asked for the
/// objects the plugin touches where they are known (the Lease, the
/// password Secrets): a Role limited by `resourceNames`, as `schedule`
/// writes, is then judged by what it allows. `create` is never limited by
/// name in RBAC, so it is asked without one.
async fn rbac(client: &kube::Client, ns: &str, names: &Names) -> Vec<Option<bool>> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let ask = |n: &kubectl_redis_core::ops::status::Need, name: Option<String>| {
        let api = api.clone();
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(ns.to_string()),
                    verb: Some(n.verb.to_string()),
                    group: Some(n.group.to_string()),
                    resource: Some(n.resource.to_string()),
                    subresource: (!n.subresource.is_empty()).then(|| n.subresource.to_string()),
                    name,
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        async move {
            api.create(&PostParams::default(), &review)
                .await
                .ok()
                .and_then(|r| r.status)
                .map(|s| s.allowed)
        }
    };
    let mut out = Vec::new();
    for n in NEEDS {
        let named: Vec<String> = match (n.resource, n.verb) {
            (_, "create") => Vec::new(),
            ("leases", _) => names.lease.iter().cloned().collect(),
            ("secrets", _) => names.secrets.clone(),
            _ => Vec::new(),
        };
        if named.is_empty() {
            out.push(ask(n, None).await);
            continue;
        }
        // Allowed for every object named (or for all of them at once).
        let mut all = Some(true);
        for name in named {
            all = match (all, ask(n, Some(name)).await) {
                (Some(true), Some(a)) => Some(a),
                (Some(true), None) => None,
                (x, _) => x,
            };
        }
        out.push(all);
    }
    out
}

fn mark(l: Level) -> String {
    match l {
        Level::Ok => "ok  "
            .if_supports_color(Stream::Stdout, |t| t.green())
            .to_string(),
        Level::Warn => "warn"
            .if_supports_color(Stream::Stdout, |t| t.yellow())
            .to_string(),
        Level::Fail => "FAIL"
            .if_supports_color(Stream::Stdout, |t| t.red())
            .to_string(),
        Level::Unknown => "?   ".to_string(),
    }
}

fn print(ui: &Ui, output: Output, f: &Facts) -> Exit {
    let lines = status::evaluate(f);
    let rows = status::rbac_rows(f);
    let exit = match (&f.server_version, status::worst(&lines)) {
        (Some(Err(_)), _) => Exit::Error,
        (_, Level::Fail) => Exit::Unhealthy,
        _ => Exit::Ok,
    };
    match output {
        Output::Json => {
            crate::output::print(ui, "StatusReport", status::json_report(f, exit.code()))
        }
        Output::Text => {
            println!("namespace {}", f.namespace);
            for l in &lines {
                println!("{} {:<12} {}", mark(l.level), l.what, l.detail);
                if let Some(fix) = &l.fix {
                    println!("     {:<12} fix: {fix}", "");
                }
            }
            if !rows.is_empty() && f.rbac.iter().any(Option::is_some) {
                println!("\nRBAC in {} (SelfSubjectAccessReview)", f.namespace);
                for (perm, allowed, disables) in &rows {
                    let (m, note) = match allowed {
                        Some(true) => (
                            "yes"
                                .if_supports_color(Stream::Stdout, |t| t.green())
                                .to_string(),
                            String::new(),
                        ),
                        Some(false) => (
                            "NO "
                                .if_supports_color(Stream::Stdout, |t| t.red())
                                .to_string(),
                            format!("  without it: {disables}"),
                        ),
                        None => ("?  ".to_string(), String::new()),
                    };
                    if note.is_empty() {
                        println!("  {m} {perm}");
                    } else {
                        println!("  {m} {perm:<32}{note}");
                    }
                }
            }
        }
    }
    exit
}
