//! `kubectl redis archive`: the continuous archive of the replication
//! stream (point-in-time recovery). `archive run` is the archiver in the
//! foreground; `archive status` shows what a repository holds: each
//! chain's recovery window, the gaps between chains, segments that do not
//! continue their chain.

use crate::archive::run::{self, Ack, Config, End, Follow};
use crate::archive::state;
use crate::args::{KubeArgs, Output, TargetArgs, TlsArgs};
use crate::store::repo::Repo;
use crate::ui::Ui;
use clap::{Args, Subcommand};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::pitr;

pub const LONG_ABOUT: &str = "Archive every write as it happens, for restores to any second.\n\n\
The archiver is a replica as far as Redis is concerned: it sends PSYNC, stores the snapshot \
the primary answers with as an ordinary verified backup (the base, encrypted like any backup), \
then cuts the replication stream into segments: Redis 7 AOF files with #TS: lines, closed every \
--segment-size or --segment-interval (never inside MULTI/EXEC), uploaded create-only with a \
manifest. It acknowledges to Redis (REPLCONF ACK) only offsets whose segment is stored, so \
`WAIT 1 0` returns once a write is archived. After a dropped link or a restart it resumes with \
PSYNC from what the repository holds; only when the primary cannot continue (+FULLRESYNC) does a \
new base start, and the gap is shown by `archive status`. Nothing on the server is changed.\n\n\
A Redis Cluster (--url to any node, or the pods matching -l are its nodes) is archived shard by \
shard: one follower per primary, each an archive of its own named ARCHIVE.shard-SLOT (SLOT the \
lowest slot it served when archiving began), each finding its shard's primary again at every \
connection (a failover continues the chain). `restore --to-time --archive ARCHIVE` brings every \
shard to the same second.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  stopped by a signal after storing everything received whole\n    2  bad arguments, refused credentials, TLS that cannot work, or object storage without recipients (give --encrypt-to or --no-encrypt)\n    9  Redis refused to act as a primary for the archiver (PSYNC or REPLCONF renamed or not allowed)\n   12  the repository cannot be read, or holds another archiver's segment under a name\n   13  the repository's recipients are not the pinned ones\n\nExamples:\n  REDISCLI_AUTH=... kubectl redis archive run --url redis://10.0.0.5:6379 --repo s3://backups/prod\n  kubectl redis archive run --url redis://10.0.0.5:7000 --allow-host 10.0.0.0/24 --archive prod-rc --repo s3://backups/prod   # a Redis Cluster, every shard\n  kubectl redis archive status --repo s3://backups/prod -o json";

#[derive(Args, Debug)]
pub struct ArchiveArgs {
    #[command(subcommand)]
    pub command: ArchiveCommand,
}

#[derive(Subcommand, Debug)]
pub enum ArchiveCommand {
    /// Follow a Redis and archive its writes, in the foreground, until SIGTERM or Ctrl-C
    #[command(long_about = LONG_ABOUT, after_help = AFTER_HELP)]
    Run(Box<RunArgs>),
    /// Show the archives in a repository: recovery windows, gaps, broken segments
    Status(StatusArgs),
    /// Deploy the archiver next to Redis: a Deployment of the plugin's image with least RBAC
    #[command(after_help = START_HELP)]
    Start(Box<StartArgs>),
    /// Remove what `archive start` created (the archive in the repository stays)
    Stop(StopArgs),
}

pub const START_HELP: &str = "The Deployment runs `kubectl redis archive run` with the same flags, 1 replica, \
Recreate (never two archivers of one archive). Its Role may find the Redis pods, port-forward \
to them and read the Secrets it names (the Redis password, the pod's TLS files) by name: \
nothing else. Storage credentials come from --repo-credentials-from-secret (as environment \
variables), never literal values. Its metrics are on port 9121 of the Service of its name.\n\n\
Examples:\n  kubectl redis archive start -n prod --repo s3://backups/prod --repo-credentials-from-secret backup-s3 --apply\n  \
kubectl redis archive start -n prod --repo s3://backups/prod > archiver.yaml\n  kubectl redis archive stop -n prod";

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Follow a server by address: redis://HOST:PORT or rediss://HOST:PORT (the password from
    /// $REDISCLI_AUTH, never the URL) [default: the primary among the pods, as `backup` finds it]
    #[arg(long, value_name = "URL", conflicts_with_all = ["selector", "pod"])]
    pub url: Option<String>,
    /// With --url: a further host that may receive the password and the stream (a Redis Cluster's nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url's host by default
    #[arg(long, value_name = "HOST", requires = "url")]
    pub allow_host: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Password Secret (NAME/KEY) [default: the Redis container's own, read through the API]
    #[arg(long, value_name = "NAME/KEY", conflicts_with = "url")]
    pub password_from_secret: Option<String>,
    #[command(flatten)]
    pub common: Common,
    /// Serve Prometheus metrics on this port (GET /metrics)
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// Keep the spool in this directory instead of memory (segments waiting for the repository, encrypted when the archive is; emptied at start: the chain resumes from what the repository holds). `archive start` uses an emptyDir
    #[arg(long, value_name = "DIR")]
    pub spool_dir: Option<std::path::PathBuf>,
}

/// The flags `archive run` and `archive start` share.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Where bases and segments go: a directory or s3://, gs://, az:// URL
    #[arg(long, value_name = "REPO")]
    pub repo: String,
    /// The archive's name in the repository (pitr/NAME/) [default: NAMESPACE-WORKLOAD, or the
    /// URL's host and port]
    #[arg(long, value_name = "NAME")]
    pub archive: Option<String>,
    /// Close a segment once it holds this much (e.g. 16MiB)
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = crate::args::parse_bytes)]
    pub segment_size: u64,
    /// Close a segment once its first write is this old: the most a crash can lose of what
    /// Redis already acknowledged to its clients, and how late `WAIT 1` returns
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::args::parse_duration)]
    pub segment_interval: std::time::Duration,
    /// Segments waiting for the repository (in memory, or in --spool-dir); when full, reading stops
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = crate::args::parse_bytes)]
    pub spool_size: u64,
    /// What REPLCONF ACK reports: `stored` (only what the repository holds) or `received`
    /// (for servers whose min-replicas-to-write would otherwise wait on the repository)
    #[arg(long, value_name = "WHAT", default_value = "stored", value_parser = ["stored", "received"])]
    pub ack: String,
    /// Encrypt to these age recipients [default: the repository's, from `repo init`]
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Recipients from a file (one per line)
    #[arg(long, value_name = "FILE")]
    pub encrypt_to_file: Vec<String>,
    /// Store plaintext in object storage
    #[arg(long, conflicts_with_all = ["encrypt_to", "encrypt_to_file"])]
    pub no_encrypt: bool,
    /// An ACL user for the archiver (it needs +psync +replconf +ping +info)
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: Common,
    /// Password Secret (NAME/KEY) [default: the Redis container's own, read through the API]
    #[arg(long, value_name = "NAME/KEY")]
    pub password_from_secret: Option<String>,
    /// A Secret whose keys become the archiver's environment: storage credentials
    /// (AWS_ACCESS_KEY_ID, AZURE_STORAGE_ACCOUNT_KEY, ...)
    #[arg(long, value_name = "NAME")]
    pub repo_credentials_from_secret: Option<String>,
    /// Annotations for its ServiceAccount (workload identity), KEY=VALUE; repeatable
    #[arg(long = "service-account-annotation", value_name = "KEY=VALUE")]
    pub sa_annotations: Vec<String>,
    /// The plugin's image [default: the image of this version]
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// The objects' name
    #[arg(long, value_name = "NAME", default_value = "kubectl-redis-archiver")]
    pub name: String,
    /// Also a ServiceMonitor (prometheus-operator) scraping its metrics, for the rules of `kubectl redis schedule --alerts --alert-archive-lag`
    #[arg(long)]
    pub service_monitor: bool,
    /// Apply to the cluster (server-side apply) instead of printing
    #[arg(long)]
    pub apply: bool,
    /// Print only, even with cluster access
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// The objects' name (as given to `archive start`)
    #[arg(long, value_name = "NAME", default_value = "kubectl-redis-archiver")]
    pub name: String,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The repository: a directory or s3://, gs://, az:// URL
    #[arg(long, value_name = "REPO")]
    pub repo: String,
    /// One archive only [default: every archive in the repository]
    #[arg(long, value_name = "NAME")]
    pub archive: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub async fn run(ui: &Ui, kube: &KubeArgs, args: ArchiveArgs) -> Exit {
    match args.command {
        ArchiveCommand::Run(a) => run_archiver(ui, kube, *a).await,
        ArchiveCommand::Status(a) => status(ui, a).await,
        ArchiveCommand::Start(a) => start(ui, kube, *a).await,
        ArchiveCommand::Stop(a) => stop(ui, kube, a).await,
    }
}

async fn run_archiver(ui: &Ui, kube: &KubeArgs, args: RunArgs) -> Exit {
    let c = &args.common;
    // By address, or the primary among pods (found again at every
    // connection, so a failover is followed).
    // By address, or the primary among pods (found again at every
    // connection, so a failover is followed).
    let url = match &args.url {
        Some(url) => match crate::redis::parse_url(url).and_then(|(host, port)| {
            crate::redis::allow_hosts(kubectl_redis_core::topo::hosts::Allowed::new(
                &host,
                &args.allow_host,
            )?);
            Ok((host, port))
        }) {
            Ok((host, port)) => Some(kubectl_redis_core::backup::Url { host, port }),
            Err(e) => {
                ui.error(
                    &e,
                    Some("use redis://HOST:PORT; give a password with $REDISCLI_AUTH"),
                );
                return Exit::Invalid;
            }
        },
        None => None,
    };
    let k = match url {
        Some(_) => None,
        None => match crate::kube::connect_or_report(ui, kube, None).await {
            Some(k) => Some(k),
            None => return Exit::Error,
        },
    };
    if let Err(e) = crate::redis::tls::setup(
        &c.tls,
        args.url.as_deref().is_some_and(crate::redis::url_tls),
        k.as_ref(),
    )
    .await
    {
        ui.error(
            &e,
            Some("see the TLS flags in `kubectl redis archive run --help`"),
        );
        return Exit::Invalid;
    }
    let mut auth = match crate::redis::auth::explicit(
        k.as_ref().map(|k| &k.client),
        k.as_ref().map(|k| k.namespace.as_str()).unwrap_or_default(),
        args.password_from_secret.as_deref(),
        c.user_name.clone(),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            ui.error(&e, None);
            return Exit::Invalid;
        }
    };
    let selector = crate::env::selector(args.target.selector.clone());
    // A Redis Cluster: every shard is archived (one follower each).
    let cluster = crate::jobs::cluster_backup::detect(
        ui,
        k.as_ref(),
        &mut auth,
        url.as_ref(),
        &selector,
        args.target.pod.is_some(),
        "archiving every shard",
    )
    .await;
    let (follow, label, default_archive) = match (&url, &k) {
        (Some(u), _) => {
            let scheme = if args.url.as_deref().is_some_and(crate::redis::url_tls) {
                "rediss"
            } else {
                "redis"
            };
            (
                Follow::Url(u.clone()),
                format!("{scheme}://{}:{}", u.host, u.port),
                pitr::archive_name(&format!("{}-{}", u.host, u.port)),
            )
        }
        (None, Some(k)) => {
            let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
                kube::Api::namespaced(k.client.clone(), &k.namespace);
            let pods =
                match crate::kube::pods::find_pods(ui, &api, &selector, args.target.pod.as_deref())
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        ui.error(&format!("cannot list pods in {}: {e}", k.namespace), None);
                        return Exit::Error;
                    }
                };
            let mut first = pods.first().map(|p| p.name.clone()).unwrap_or_default();
            if cluster.is_none() {
                let t = match kubectl_redis_core::kube::pods::select(&pods, &args.target.wanted()) {
                    Ok(t) => t,
                    Err(e) => {
                        ui.error(
                            &format!(
                                "no Redis primary to follow in {} ({selector}): {e:?}",
                                k.namespace
                            ),
                            Some("name it with --pod, or choose pods with -l"),
                        );
                        return Exit::Invalid;
                    }
                };
                if auth.password.is_none() {
                    match crate::redis::pod_password(k, &api, &t.pod, &t.container).await {
                        Ok(Some((pw, from))) => {
                            ui.note(&format!("password: {from}"));
                            auth.password = Some(pw);
                            auth.source = Some(from);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            ui.error(
                                &format!("reading the Redis container's password: {e}"),
                                Some("give --password-from-secret NAME/KEY"),
                            );
                            return Exit::Invalid;
                        }
                    }
                }
                first = t.pod;
            }
            // Named after the workload, the same whichever pod is the
            // primary today (the first of the matching pods' workloads).
            let mut owners: Vec<String> = pods
                .iter()
                .filter_map(|p| p.owner.split_once('/').map(|(_, n)| n.to_string()))
                .filter(|n| !n.is_empty())
                .collect();
            owners.sort();
            let workload = owners.first().cloned().unwrap_or(first);
            (
                Follow::Pods {
                    api: Box::new(api),
                    selector: selector.clone(),
                    pod: args.target.pod.clone(),
                    container: args.target.container.clone(),
                    port: args.target.redis_port,
                },
                format!("{}/{workload}", k.namespace),
                pitr::archive_name(&format!("{}-{workload}", k.namespace)),
            )
        }
        (None, None) => return Exit::Error,
    };
    let repo = match Repo::open(&c.repo) {
        Ok(r) => r,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Invalid;
        }
    };
    // A segment has no manifest to carry a KMS-wrapped key: refused before
    // any KMS is asked to wrap one.
    let kms_named = match crate::store::crypt::Recipients::parse(&c.encrypt_to, &c.encrypt_to_file)
    {
        Ok(Some(r)) => r.has_kms(),
        Ok(None) if !c.no_encrypt => repo
            .config()
            .await
            .ok()
            .flatten()
            .is_some_and(|cfg| cfg.recipients.iter().any(|r| crate::store::kms::is_kms(r))),
        // Reported below.
        Ok(None) | Err(_) => false,
    };
    if kms_named {
        ui.error(
            "the archive cannot be encrypted to a KMS key yet (its segments carry no manifest for the wrapped key)",
            Some("give age recipients (--encrypt-to age1...), or record them with `repo init` for the archive's repository"),
        );
        return Exit::Invalid;
    }
    let recipients = match crate::commands::backup::recipients_for(
        &repo,
        &c.encrypt_to,
        &c.encrypt_to_file,
        c.no_encrypt,
    )
    .await
    {
        Ok(r) => r,
        Err((exit, p)) => {
            ui.error(&p.message, Some(&p.hint));
            return exit;
        }
    };
    let archive = c.archive.clone().unwrap_or(default_archive);
    if archive.is_empty() || archive != pitr::archive_name(&archive) {
        ui.error(
            &format!("--archive {archive:?}: use letters, digits, '-', '.' and '_'"),
            None,
        );
        return Exit::Invalid;
    }
    let limits = pitr::stream::Limits {
        bytes: usize::try_from(c.segment_size).unwrap_or(usize::MAX).max(1),
        interval_ms: i64::try_from(c.segment_interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1),
    };
    let source = kubectl_redis_core::store::manifest::Source {
        context: k.as_ref().and_then(|k| k.context.clone()),
        namespace: k.as_ref().map(|k| k.namespace.clone()),
        url: args.url.as_ref().map(|_| label.clone()),
        ..Default::default()
    };
    if let Some(d) = &args.spool_dir {
        match crate::archive::run::clear_spool(d) {
            Ok(0) => {}
            Ok(n) => ui.note(&format!(
                "removed {n} segment(s) a previous run left in the spool {}: the chain resumes from what the repository holds",
                d.display()
            )),
            Err(e) => {
                ui.error(&e, Some("give --spool-dir a directory this user can write"));
                return Exit::Invalid;
            }
        }
    }
    if let Some(k) = &k {
        crate::archive::events::init(&k.client);
    }
    // One follower, or one per shard: the lowest slot each primary serves
    // names its archive (ARCHIVE.shard-SLOT) and finds its primary again
    // at every connection. The spool is shared out between them.
    let shards: Vec<Option<u16>> = match &cluster {
        None => vec![None],
        Some(f) => {
            let mut firsts: Vec<u16> = f
                .map
                .primaries()
                .iter()
                .filter_map(|&n| f.map.ranges().iter().find(|(_, _, o)| *o == n).map(|r| r.0))
                .collect();
            firsts.sort_unstable();
            firsts.into_iter().map(Some).collect()
        }
    };
    let recipients = recipients.map(std::sync::Arc::new);
    let spool_bytes = usize::try_from(c.spool_size)
        .unwrap_or(usize::MAX)
        .clamp(1 << 20, u32::MAX as usize);
    let spool_bytes = (spool_bytes / shards.len()).max(1 << 20);
    let mut configs = Vec::new();
    let known: std::sync::Arc<std::sync::Mutex<Vec<kubectl_redis_core::backup::Url>>> =
        Default::default();
    let mut archives: crate::archive::metrics::Archives = Vec::new();
    for shard in &shards {
        let name = match shard {
            Some(s) => pitr::shard_archive(&archive, *s),
            None => archive.clone(),
        };
        let spool_dir = match (&args.spool_dir, shard) {
            (Some(d), Some(s)) => {
                let sub = d.join(format!("shard-{s}"));
                if let Err(e) = std::fs::create_dir_all(&sub) {
                    ui.error(
                        &format!("{}: {e}", sub.display()),
                        Some("give --spool-dir a directory this user can write"),
                    );
                    return Exit::Invalid;
                }
                Some(sub)
            }
            (d, _) => d.clone(),
        };
        let state: crate::archive::run::Shared = Default::default();
        archives.push((name.clone(), state.clone()));
        configs.push(Config {
            follow: follow.clone(),
            source: source.clone(),
            label: label.clone(),
            repo: repo.clone(),
            recipients: recipients.clone(),
            archive: name,
            limits,
            spool_bytes,
            spool_dir,
            ack: if c.ack == "received" {
                Ack::Received
            } else {
                Ack::Stored
            },
            heartbeat_ms: limits.interval_ms.saturating_mul(3),
            state,
            shard: *shard,
            known: known.clone(),
        });
    }
    if let Some(port) = args.metrics_port {
        if let Err(e) = crate::archive::metrics::serve(port, archives).await {
            ui.error(&e, Some("choose a free port"));
            return Exit::Invalid;
        }
    }
    match &cluster {
        None => ui.line(
            "archive",
            &kubectl_redis_core::backup::Line::Step(format!(
                "archiving {label} into {} as {archive}",
                repo.display()
            )),
        ),
        Some(_) => ui.line(
            "archive",
            &kubectl_redis_core::backup::Line::Step(format!(
                "archiving the Redis Cluster {label} into {} as {archive}: one follower per shard ({})",
                repo.display(),
                configs
                    .iter()
                    .map(|c| c.archive.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ),
    }
    // The shards run side by side; when one fails for good, the others
    // wind down (stored what they received) and the run fails.
    let auth = &auth;
    let ends = futures::future::join_all(configs.into_iter().map(|config| async move {
        let name = config.archive.clone();
        let end = run::run(ui, auth, config).await;
        if let End::Failed(..) = end {
            crate::signals::stop_all(libc::SIGTERM);
        }
        (name, end)
    }))
    .await;
    let several = ends.len() > 1;
    let mut exit = Exit::Ok;
    let mut stopped = None;
    for (name, end) in ends {
        match end {
            End::Stopped(n) => stopped = Some(n),
            End::Failed(e, m, hint) => {
                let m = if several { format!("{name}: {m}") } else { m };
                ui.error(&m, Some(&hint));
                crate::archive::events::stopped(e.code(), &m);
                if exit == Exit::Ok {
                    exit = e;
                }
            }
        }
    }
    if exit != Exit::Ok {
        crate::archive::events::flush().await;
        return exit;
    }
    if let Some(n) = stopped {
        ui.note(&format!(
            "archive: stopped by signal {n}; everything received whole is stored"
        ));
    }
    Exit::Ok
}

/// `archive start`: the Deployment, its RBAC and Service, printed or
/// applied.
async fn start(ui: &Ui, kube: &KubeArgs, args: StartArgs) -> Exit {
    use kubectl_redis_core::ops::archive::{manifests, Spec};
    let c = &args.common;
    let mut sa_annotations = Vec::new();
    for a in &args.sa_annotations {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => sa_annotations.push((k.to_string(), v.to_string())),
            _ => {
                ui.error(
                    &format!("--service-account-annotation {a}: expected KEY=VALUE"),
                    None,
                );
                return Exit::Invalid;
            }
        }
    }
    if !crate::store::repo::is_remote(&c.repo) {
        ui.error(
            &format!(
                "--repo {}: the archiver runs in a pod; its repository must be object storage",
                c.repo
            ),
            Some("use s3://, gs:// or az:// (a directory is for `archive run` on this machine)"),
        );
        return Exit::Invalid;
    }
    let k = if args.dry_run {
        None
    } else {
        match crate::kube::connect(kube).await {
            Ok(k) => Some(k),
            Err(_) if !args.apply => None,
            Err(e) => {
                ui.error(&e.message, Some(&e.hint));
                return Exit::Error;
            }
        }
    };
    let namespace = k
        .as_ref()
        .map(|k| k.namespace.clone())
        .or_else(|| kube.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let mut run_args: Vec<String> = vec![
        "-n".into(),
        namespace.clone(),
        "--repo".into(),
        c.repo.clone(),
    ];
    let mut opt = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            run_args.extend([flag.to_string(), v]);
        }
    };
    opt("--selector", args.target.selector.clone());
    opt("--pod", args.target.pod.clone());
    opt("--container", args.target.container.clone());
    opt(
        "--redis-port",
        args.target.redis_port.map(|p| p.to_string()),
    );
    opt("--password-from-secret", args.password_from_secret.clone());
    opt("--archive", c.archive.clone());
    opt("--user-name", c.user_name.clone());
    opt("--tls-server-name", c.tls.tls_server_name.clone());
    run_args.extend([
        "--segment-size".into(),
        c.segment_size.to_string(),
        "--segment-interval".into(),
        format!("{}ms", c.segment_interval.as_millis()),
        "--spool-size".into(),
        c.spool_size.to_string(),
        "--ack".into(),
        c.ack.clone(),
    ]);
    for r in &c.encrypt_to {
        run_args.extend(["--encrypt-to".into(), r.clone()]);
    }
    if c.no_encrypt {
        run_args.push("--no-encrypt".into());
    }
    if c.tls.tls {
        run_args.push("--tls".into());
    }
    if !c.encrypt_to_file.is_empty() || c.tls.cacert.is_some() || c.tls.cert.is_some() {
        ui.error(
            "files on this machine do not reach the archiver's pod",
            Some("give recipients with --encrypt-to (or `repo init`), and TLS files with --tls-from-secret"),
        );
        return Exit::Invalid;
    }
    let mut secret_names: Vec<String> = args
        .password_from_secret
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .map(|(n, _)| vec![n.to_string()])
        .unwrap_or_default();
    let mut services = c.tls.tls_from_secret.is_some() && c.tls.tls_server_name.is_none();
    if let Some(k) = &k {
        let selector = crate::env::selector(args.target.selector.clone());
        match crate::kube::objects::narrowing(
            &k.client,
            &namespace,
            &selector,
            args.target.pod.as_deref(),
            c.tls.tls_from_secret.is_some(),
        )
        .await
        {
            Ok((_, secrets, tls)) => {
                secret_names.extend(secrets);
                services |= tls && c.tls.tls_server_name.is_none();
            }
            Err(e) => ui.note(&format!("note: could not list the Redis pods ({e}): the Role reads no Secret but those named by flags")),
        }
    }
    secret_names.sort();
    secret_names.dedup();
    let spec = Spec {
        namespace: namespace.clone(),
        name: args.name.clone(),
        image: args
            .image
            .clone()
            .unwrap_or_else(crate::commands::schedule::default_image),
        run_args,
        env_secret: args.repo_credentials_from_secret.clone(),
        secret_names,
        services,
        sa_annotations,
        tls_secret: c.tls.tls_from_secret.clone(),
        service_monitor: args.service_monitor,
        spool_bytes: c.spool_size,
    };
    let docs = manifests(&spec);
    match (&k, args.apply) {
        (Some(k), true) => {
            if let Err(e) = crate::commands::schedule::apply_all(&k.client, &namespace, &docs).await
            {
                ui.error(
                    &e,
                    Some("applying needs create/patch on serviceaccounts, roles, rolebindings, deployments and services"),
                );
                return Exit::Error;
            }
            ui.note(&format!(
                "archiver started in {namespace}; follow it with `kubectl -n {namespace} logs deploy/{}` and `kubectl redis archive status --repo {}`",
                args.name, c.repo
            ));
            // The audit trail: an Event on the Redis workload it follows.
            let pod = match args.target.pod.clone() {
                Some(p) => Some(p),
                None => {
                    crate::audit::first_pod(k, &crate::env::selector(args.target.selector.clone()))
                        .await
                }
            };
            if let Some(pod) = pod {
                crate::audit::event(
                    ui,
                    k,
                    &namespace,
                    &pod,
                    false,
                    "Archive",
                    "ArchiveStarted",
                    &format!(
                        "archiver {} (deploy/{}) started: every write is archived to {}",
                        args.name, args.name, c.repo
                    ),
                )
                .await;
            }
        }
        _ => print!("{}", kubectl_redis_core::ops::schedule::yaml(&docs)),
    }
    Exit::Ok
}

/// The Redis pod the archiver `name` follows: its `--pod`, else the first
/// pod its `--selector` (or the default selector) finds.
async fn followed_pod(k: &crate::kube::Kube, name: &str) -> Option<String> {
    let deploys: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(k.client.clone(), &k.namespace);
    let d = serde_json::to_value(deploys.get(name).await.ok()?).ok()?;
    let args: Vec<String> = d["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()?
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    let after = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    if let Some(p) = after("--pod") {
        return Some(p);
    }
    let selector = crate::env::selector(after("--selector"));
    crate::audit::first_pod(k, &selector).await
}

/// `archive stop`: removes what `archive start` created.
async fn stop(ui: &Ui, kube: &KubeArgs, args: StopArgs) -> Exit {
    let Some(k) = crate::kube::connect_or_report(ui, kube, None).await else {
        return Exit::Error;
    };
    let spec = kubectl_redis_core::ops::archive::Spec {
        namespace: k.namespace.clone(),
        name: args.name.clone(),
        image: String::new(),
        run_args: Vec::new(),
        env_secret: None,
        secret_names: Vec::new(),
        services: false,
        sa_annotations: Vec::new(),
        tls_secret: None,
        // Whether `start` made one or not: deleting what is absent is fine.
        service_monitor: true,
        spool_bytes: 0,
    };
    let docs = kubectl_redis_core::ops::archive::manifests(&spec);
    // The Redis pod it follows, from its own arguments (for the Event).
    let followed = followed_pod(&k, &args.name).await;
    match crate::commands::schedule::delete_all(&k.client, &k.namespace, &docs).await {
        Ok(gone) if gone.is_empty() => {
            ui.note(&format!(
                "no archiver named {} in {}",
                args.name, k.namespace
            ));
            Exit::Ok
        }
        Ok(gone) => {
            for g in gone {
                println!("{g} deleted");
            }
            if let Some(pod) = &followed {
                crate::audit::event(
                    ui,
                    &k,
                    &k.namespace,
                    pod,
                    false,
                    "Archive",
                    "ArchiveStopped",
                    &format!(
                        "archiver {} stopped: writes after now are not archived",
                        args.name
                    ),
                )
                .await;
            }
            // Stopped means its pod is gone (it stores what it received
            // whole first): its replication link is closed.
            let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
                kube::Api::namespaced(k.client.clone(), &k.namespace);
            let sel = format!(
                "app.kubernetes.io/component=archiver,app.kubernetes.io/instance={}",
                args.name
            );
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
            loop {
                match pods
                    .list(&kube::api::ListParams::default().labels(&sel))
                    .await
                {
                    Ok(l) if l.items.is_empty() => break,
                    Ok(_) if std::time::Instant::now() < deadline => {
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await
                    }
                    Ok(l) => {
                        ui.warn(&format!(
                            "the archiver's pod {} is still terminating after 90 s",
                            l.items
                                .first()
                                .and_then(|p| p.metadata.name.clone())
                                .unwrap_or_default()
                        ));
                        break;
                    }
                    Err(e) => {
                        ui.warn(&format!(
                            "cannot see whether the archiver's pod is gone: {}",
                            crate::kube::api_error(e)
                        ));
                        break;
                    }
                }
            }
            ui.note("the archive in the repository stays; `archive status --repo ...` shows it");
            Exit::Ok
        }
        Err(e) => {
            ui.error(&e, Some("deleting needs delete on those kinds"));
            Exit::Error
        }
    }
}

async fn status(ui: &Ui, args: StatusArgs) -> Exit {
    let repo = match Repo::open(&args.repo) {
        Ok(r) => r,
        Err(p) => return failed(ui, args.output, Exit::Invalid, &p),
    };
    let out = match state::states(&repo, args.archive.as_deref()).await {
        Ok(o) => o,
        Err(p) => return failed(ui, args.output, Exit::Storage, &p),
    };
    let clusters = state::clusters(&out);
    if args.output == Output::Json {
        crate::output::print(
            ui,
            "ArchiveStatus",
            serde_json::json!({"repo": repo.display(), "archives": out.iter().map(state::ArchiveState::json).collect::<Vec<_>>(), "clusters": clusters.iter().map(state::ClusterState::json).collect::<Vec<_>>(), "error": null, "exit_code": 0}),
        );
        return Exit::Ok;
    }
    if out.is_empty() {
        println!("no archive in {}", repo.display());
    }
    for c in &clusters {
        print!("{}", c.text());
    }
    for a in &out {
        print!("{}", a.text());
    }
    Exit::Ok
}

fn failed(ui: &Ui, output: Output, exit: Exit, p: &crate::store::repo::Problem) -> Exit {
    ui.error(&p.message, Some(&p.hint));
    if output == Output::Json {
        crate::output::failure(ui, "ArchiveStatus", exit, &p.message, Some(&p.hint));
    }
    exit
}
