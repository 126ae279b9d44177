//! `kubectl redis restore`: performs the effects of the core's restore machine,
//! and `--recover`, which puts back writers a killed restore left scaled down.

use crate::args::{parse_duration, KubeArgs, Output, TargetArgs};
use crate::env;
use crate::kube::api_error;
use crate::kube::lease::{self};
use crate::kube::Kube;
use crate::redis::auth;
use crate::store::repo::{Problem, Repo};
use crate::store::source::Source;
use crate::ui::Ui;
use clap::Args;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use kube::Api;
use kubectl_redis_core::backup::Line;
use kubectl_redis_core::backup::Url;
use kubectl_redis_core::exit;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::kube::lock;
use kubectl_redis_core::restore::{
    Finish, Method, Plan, Writer, WriterKind, HOLDER_ANNOTATION, REPLICAS_ANNOTATION,
};
use std::time::Duration;

pub const LONG_ABOUT: &str = "Replace all data in Redis with a backup.\n\n\
Checks everything before changing anything: the file (every byte verified, and \
compared with its manifest when it has one; --force-unverified overrides), the pod, that the server can load this RDB version, persistence \
settings, the writers, and a Lease that makes this the only backup or restore \
of this Redis. Prints the plan and asks `Continue? (yes/no):`. Then records \
each writer's replicas in an annotation on it, scales writers to 0 and waits \
for their pods to go, copies the file into the pod (checked by size and \
sha256), moves it into place (as the base of a fresh AOF when appendonly is \
yes, so the restore is not silently ignored), stops Redis with SHUTDOWN \
NOSAVE, waits for it to come back, checks PING and every database's key count \
against the backup's, and scales \
writers back to their recorded counts. On any failure or Ctrl-C writers are \
scaled back; if the plugin itself is killed, `restore --recover` puts them \
back from the annotations.\n\n\
--method live replays the backup into the running server instead, over one \
connection (a port-forward, or --url): RESTORE with each value's bytes as they \
stand in the file, or plain commands where the server does not know a type \
(a newer file into an older server) or a value is too big for one payload. \
No exec, no shell or tools in the image, no restart. Keys not in the backup \
are deleted first (FLUSHALL ASYNC; SCAN + UNLINK where FLUSHALL is renamed \
away) unless --merge. What the server cannot take is refused before \
anything changes, naming the keys; keys whose TTL passed are skipped. It \
cannot be rolled back: take a backup first. --method auto (the default) picks \
live when a swap cannot run or is unsafe (no exec, no tools, a server older \
than the file, replicas attached, Sentinel beside it) and swap otherwise, and \
says why.\n\n\
A Redis Cluster (--pod NODE, --url, or several matching pods that are its \
nodes) is restored live, into the whole cluster, under one Lease for the \
cluster: every primary gets a connection and a FLUSHALL ASYNC (unless \
--merge), each key goes to the primary owning its slot, MOVED and ASK are \
followed. Any backup fits: a cluster's, or a single server's with keys in \
database 0 only.\n\n\
--to-time from a Redis Cluster's archive (its shards ARCHIVE.shard-SLOT) brings \
every shard to the same second: each shard's base (checked, then merged into one \
file) and its writes up to that second, routed by slot into a cluster of any \
shape, or all into one server. A shard whose replay holds a FLUSHALL starts from \
what follows it. The shards' bases must cover every slot.";

pub fn after_help() -> String {
    format!(
        "Environment:\n  BACKUP                 file when --file is not given\n  WORKER_DEPLOY          writers when --scale-down is not given (comma-separated)\n  NS, APP_LABEL          as for backup\n\n{}\nExamples:\n  kubectl redis restore --file ./backups/redis-backup-20251024_180500.rdb -n october\n  kubectl redis restore --file x.rdb --scale-down deploy/api --scale-down sts/celery --yes\n  kubectl redis restore --file x.rdb --dry-run        # checks and plan only\n  kubectl redis restore --recover -n october          # after a killed restore\n  kubectl redis restore --file x.rdb --method live    # no exec, no restart\n  kubectl redis restore --file x.rdb -n prod -l app.kubernetes.io/name=redis-cluster   # a whole Redis Cluster\n  REDISCLI_AUTH=... kubectl redis restore --file x.rdb --url redis://127.0.0.1:6379 --yes",
        exit::help_table()
    )
}

/// `--method` of restore.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreMethod {
    /// Live when a swap cannot run or is unsafe, swap otherwise
    Auto,
    /// Copy the file into the pod and restart Redis (needs exec, sh and file tools)
    Swap,
    /// Replay the backup into the running server (no exec, no restart)
    Live,
}

/// Which backup a restore or a drill uses: `--file`, or `--latest` in a
/// repository.
#[derive(Args, Debug)]
pub struct BackupChoice {
    /// The backup: a path, or a URL in object storage (s3://BUCKET/PREFIX/NAME, gs://, az://) [env: BACKUP]
    #[arg(short = 'f', long, value_name = "PATH|URL")]
    pub file: Option<String>,
    /// Use the newest verified backup in the repository (--repo / --out-dir)
    #[arg(long, conflicts_with = "file")]
    pub latest: bool,
    /// Repository for --latest: a directory or object-storage URL [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
    pub out_dir: Option<String>,
    /// Restore to a moment from the repository's archive (`kubectl redis archive`): `latest`,
    /// `-10m` (ago) or a UTC time like 2026-12-04T12:00:05Z. Loads the newest base before it,
    /// then replays the archived writes up to the end of that second (whole transactions)
    #[arg(long, value_name = "WHEN", allow_hyphen_values = true, conflicts_with_all = ["file", "latest"], requires = "out_dir")]
    pub to_time: Option<String>,
    /// The archive to restore from (pitr/NAME/ in the repository; a Redis Cluster's: the name its shards NAME.shard-SLOT share) [default: the only one]
    #[arg(long, value_name = "NAME", requires = "to_time")]
    pub archive: Option<String>,
}

impl BackupChoice {
    /// The file asked for (`--file`, else `$BACKUP`), or `None` with `--latest`.
    pub fn file(&self) -> Option<String> {
        if self.latest || self.to_time.is_some() {
            return None;
        }
        self.file.clone().or_else(|| env::env_nonempty("BACKUP"))
    }
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub backup: BackupChoice,
    #[command(flatten)]
    pub keys: crate::keys::KeyArgs,
    #[command(flatten)]
    pub trust: crate::keys::TrustArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// A writer to stop while restoring: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker, skipped with a warning when missing]
    #[arg(long = "scale-down", value_name = "KIND/NAME")]
    pub scale_down: Vec<String>,
    /// Stop no writers at all
    #[arg(long, visible_alias = "keep-writers", conflicts_with = "scale_down")]
    pub no_scale_down: bool,
    /// How the backup gets in: swap (copy the file into the pod, restart Redis), live (replay it into the running server), auto (live when a swap cannot run)
    #[arg(long, value_enum, default_value_t = RestoreMethod::Auto, value_name = "METHOD")]
    pub method: RestoreMethod,
    /// Restore live into this server (outside Kubernetes, or through your own port-forward); no lock, no writers; rediss:// for TLS
    #[arg(long, value_name = "redis[s]://HOST:PORT", conflicts_with_all = ["pod", "selector", "scale_down", "recover"])]
    pub url: Option<String>,
    /// With --url: a further host that may receive the password and the data (a Redis Cluster's nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url's host by default
    #[arg(long, value_name = "HOST", requires = "url")]
    pub allow_host: Vec<String>,
    /// Live: keep keys that are not in the backup (replace only the backup's own)
    #[arg(long)]
    pub merge: bool,
    /// A set's first restore Job: plan one Job per target primary when the set goes into a Redis Cluster (else restore as usual)
    #[arg(long, hide = true)]
    pub set_plan: bool,
    /// A set's restore Job: restore only the keys of these slot ranges (FIRST-LAST,...) into the one primary serving them
    #[arg(long, hide = true, value_name = "RANGES", value_parser = parse_ranges)]
    pub only_slots: Option<SlotRanges>,
    /// Take a verified backup of the current data first (into DIR|URL, else the default repository), and restore only if it succeeded
    #[arg(long, value_name = "DIR|URL", num_args = 0..=1, default_missing_value = "")]
    pub backup_first: Option<String>,
    /// Live: values bigger than this go as commands in batches instead of one RESTORE (also capped by the server's proto-max-bulk-len)
    #[arg(long, value_name = "BYTES", default_value = "16MiB", value_parser = crate::args::parse_bytes)]
    pub big_value_bytes: u64,
    /// Read the Redis password from this Secret's key (in the namespace); never printed
    #[arg(long, value_name = "NAME/KEY")]
    pub password_from_secret: Option<String>,
    /// ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Check everything and print the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// DANGER: restore a file that fails verification (corrupt, or differs from its manifest)
    #[arg(long)]
    pub force_unverified: bool,
    /// Also write Prometheus metrics of this run here (see `kubectl redis check --help`)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<String>,
    /// How long Redis may take to come back after SHUTDOWN NOSAVE
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// How long writers' pods may take to go away
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub scale_timeout: Duration,
    /// Put back writers that a killed restore left scaled down, then exit
    #[arg(long, conflicts_with_all = ["file", "dry_run"])]
    pub recover: bool,
    /// Restore a sanitized copy (`copy --sanitize`: keys dropped or masked), into staging
    #[arg(long)]
    pub allow_sanitized: bool,
    #[command(flatten)]
    pub sanitize: crate::sanitize::SanitizeArgs,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(flatten)]
    pub tls: crate::args::TlsArgs,
    #[command(flatten)]
    pub in_cluster: crate::jobs::in_cluster::InClusterArgs,
}

/// Runs the command; with --metrics-file, records how it ended.
pub async fn run(ui: &Ui, kube: &KubeArgs, args: RestoreArgs) -> Exit {
    if args.in_cluster.in_cluster {
        return in_cluster(ui, kube, &args).await;
    }
    let metrics = args.metrics_file.clone();
    crate::metrics::with_metrics(ui, metrics, "restore", run_inner(ui, kube, args)).await
}

async fn run_inner(ui: &Ui, kube: &KubeArgs, args: RestoreArgs) -> Exit {
    // Bad arguments are reported before the cluster is contacted.
    let file = args.backup.file();
    let invalid = |message: &str, hint: &str| {
        ui.error(message, Some(hint));
        if args.output == Output::Json {
            crate::output::failure(ui, "RestoreResult", Exit::Invalid, message, Some(hint));
        }
        Exit::Invalid
    };
    if args.backup.out_dir.is_some() && !args.backup.latest && args.backup.to_time.is_none() {
        return invalid(
            "--repo (--out-dir) says where --latest or --to-time look",
            "add --latest (the newest verified backup) or --to-time WHEN, or give the backup with --file",
        );
    }
    if file.is_none() && !args.recover && !args.backup.latest && args.backup.to_time.is_none() {
        return invalid(
            "no backup file: pass --file PATH (or set $BACKUP), or --latest",
            "list backups with `kubectl redis list`",
        );
    }
    let url = match args.url.as_deref().map(|u| {
        crate::redis::parse_url(u).and_then(|(host, port)| {
            let allowed = kubectl_redis_core::topo::hosts::Allowed::new(&host, &args.allow_host)?;
            crate::redis::allow_hosts(allowed);
            Ok((host, port))
        })
    }) {
        None => None,
        Some(Ok((host, port))) => Some(Url { host, port }),
        Some(Err(e)) => {
            return invalid(
                &e,
                "use redis://HOST:PORT; give a password with $REDISCLI_AUTH",
            )
        }
    };
    if url.is_some() && args.method == RestoreMethod::Swap {
        return invalid(
            "--url works only with --method live (a swap copies the file into a pod)",
            "drop --method swap, or drop --url to restore into a pod",
        );
    }
    if args.merge && args.method == RestoreMethod::Swap {
        return invalid(
            "--merge works only with --method live (a swap replaces the whole dataset)",
            "add --method live",
        );
    }
    let writers = match writers(&args) {
        Ok(w) => w,
        Err(e) => {
            return invalid(
                &format!("--scale-down {e}"),
                "name writers as deploy/NAME or sts/NAME",
            )
        }
    };
    let k = if url.is_some() {
        None
    } else {
        let Some(k) = crate::kube::connect_or_report(
            ui,
            kube,
            (args.output == Output::Json).then_some(if args.recover {
                "RecoverResult"
            } else {
                "RestoreResult"
            }),
        )
        .await
        else {
            return Exit::Error;
        };
        Some(k)
    };
    if args.recover {
        if let Some(k) = &k {
            return recover(ui, k, args.output).await;
        }
    }
    if let Err(e) = crate::redis::tls::setup(
        &args.tls,
        args.url.as_deref().is_some_and(crate::redis::url_tls),
        k.as_ref(),
    )
    .await
    {
        return invalid(&e, "see the TLS flags in `kubectl redis restore --help`");
    }
    let auth = match auth::explicit(
        k.as_ref().map(|k| &k.client),
        k.as_ref().map(|k| k.namespace.as_str()).unwrap_or_default(),
        args.password_from_secret.as_deref(),
        args.user_name.clone(),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            return invalid(
                &e,
                "check the Secret with `kubectl get secret NAME -o yaml` (names only are printed); with --url use $REDISCLI_AUTH",
            )
        }
    };
    // The swap path hands the user's password to redis-cli in the pod.
    auth::set_global(auth.clone());
    if let Some(only) = args.only_slots.clone() {
        crate::redis::cluster::restrict_to(only.0);
    }
    // A backup set into a Redis Cluster, from `--in-cluster`: plan one Job
    // per target primary (the plugin starts them) instead of restoring.
    if args.set_plan && url.is_none() && args.target.pod.is_none() {
        if let Some(set) = file.as_deref().and_then(set_location).map(|(_, n)| n) {
            let mut probe = auth.clone();
            let selector = env::selector(args.target.selector.clone());
            if let Some(found) = Box::pin(crate::jobs::cluster_backup::detect(
                ui,
                k.as_ref(),
                &mut probe,
                None,
                &selector,
                false,
                "restoring the set one Job per primary",
            ))
            .await
            {
                return crate::jobs::backup_set::restore_plan(ui, args.output, &set, &found);
            }
        }
    }
    let fail = |exit: Exit, p: &Problem| {
        ui.error(&p.message, Some(&p.hint));
        if args.output == Output::Json {
            crate::output::failure(ui, "RestoreResult", exit, &p.message, Some(&p.hint));
        }
        exit
    };
    // --sanitize: rules and key checked before anything changes.
    if args.sanitize.sanitize.is_some() && args.backup.to_time.is_some() {
        return fail(
            Exit::Invalid,
            &Problem {
                message: "--sanitize cannot be used with --to-time: the archive's writes would be replayed unsanitized".into(),
                hint: "restore a sanitized copy made by `kubectl redis copy --sanitize`, or drop --sanitize".into(),
            },
        );
    }
    let sanitize = match args.sanitize.load(kube).await {
        Ok(p) => p,
        Err(p) => return fail(Exit::Invalid, &p),
    };
    // --to-time: the plan, and every segment checked before any change.
    let pitr = match prepare_pitr(ui, kube, &args.backup, &args.keys, &args.trust, "restore").await
    {
        Ok(p) => p,
        Err((exit, p)) => return fail(exit, &p),
    };
    let (mut file, _copy) = match base_of(
        ui,
        kube,
        pitr.as_ref(),
        file,
        &args.backup,
        &args.keys,
        &args.trust,
        args.allow_sanitized,
        "restore",
    )
    .await
    {
        Ok(x) => x,
        Err((exit, p)) => return fail(exit, &p),
    };
    // The sanitized copy is made before anything changes, and loaded
    // instead of the backup.
    let _sanitized = match &sanitize {
        Some(plan) => match crate::sanitize::private_copy(plan, &file).await {
            Ok((c, rep)) => {
                crate::sanitize::say(ui, &file, &c.path.to_string_lossy(), &rep);
                file = c.path.to_string_lossy().into_owned();
                Some(c)
            }
            Err((exit, p)) => return fail(exit, &p),
        },
        None => None,
    };
    let source_name = std::path::Path::new(&file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    if let (Some(to), false) = (&args.backup_first, args.dry_run) {
        if let Err(p) = backup_first(ui, kube, &args, to).await {
            return fail(Exit::Error, &p);
        }
    }
    let namespace = k.as_ref().map(|k| k.namespace.clone()).unwrap_or_default();
    let user = k.as_ref().and_then(|k| k.user.clone());
    let selector = env::selector(args.target.selector);
    let mut pod = args.target.pod;
    if pod.is_none() && url.is_none() {
        // Several pods match and they are a Redis Cluster's nodes: the
        // restore goes through the primary serving slot 0 (any would do).
        pod = cluster_entry(ui, k.as_ref(), &auth, &selector).await;
    }
    let plan = Plan {
        namespace,
        selector,
        pod,
        container: args.target.container,
        port: args.target.redis_port,
        file,
        writers,
        yes: args.yes,
        dry_run: args.dry_run,
        force_unverified: args.force_unverified,
        holder: lease::holder(user.as_deref()),
        started_unix: env::unix_now(),
        lease_s: lease::DURATION_S,
        scale_timeout_ms: env::millis(args.scale_timeout),
        restart_timeout_ms: env::millis(args.timeout),
        poll_ms: 500,
        method: match args.method {
            RestoreMethod::Swap => Method::Swap,
            RestoreMethod::Live => Method::Live,
            RestoreMethod::Auto => Method::Auto,
        },
        url,
        merge: args.merge,
        big_value_bytes: args.big_value_bytes,
        locked_outside: args.only_slots.is_some(),
        replay: pitr.as_ref().map(|p| p.commands),
    };
    let finish = crate::jobs::restore::drive(
        ui,
        k.as_ref(),
        auth.clone(),
        plan,
        pitr.as_ref(),
        Some(&source_name),
    )
    .await;
    let replayed = finish.report.replayed;
    report_pitr(ui, args.output, &finish, pitr.as_ref(), replayed);
    if !args.dry_run {
        crate::audit::after_restore(ui, k.as_ref(), &finish, &source_name).await;
    }
    finish.exit
}

/// `--to-time` (restore and drill): the plan, and every segment it needs
/// checked before any change, said in `step`'s lines. `None` without
/// `--to-time`.
pub async fn prepare_pitr(
    ui: &Ui,
    kube: &KubeArgs,
    choice: &BackupChoice,
    keys: &crate::keys::KeyArgs,
    trust: &crate::keys::TrustArgs,
    step: &str,
) -> Result<Option<crate::archive::replay::Prepared>, (Exit, Problem)> {
    let Some(when) = &choice.to_time else {
        return Ok(None);
    };
    let repo = Repo::open(choice.out_dir.as_deref().unwrap_or_default())
        .map_err(|p| (Exit::Invalid, p))?;
    let archive = crate::archive::replay::archive_of(&repo, choice.archive.as_deref()).await?;
    let ids = load_identities(kube, keys).await?;
    let mut p = crate::archive::replay::prepare(ui, &repo, &archive, when, &ids).await?;
    ui.line(step, &Line::Step("point in time".into()));
    for l in crate::archive::replay::describe(&p) {
        ui.line(step, &Line::Detail(l));
    }
    if !p.shards.is_empty() {
        merge_bases(ui, kube, keys, trust, &mut p).await?;
    }
    Ok(Some(p))
}

/// The file to restore, as a local plaintext path (and the private copy to
/// keep while it is used): `--to-time`'s base (a Redis Cluster's bases
/// are merged and checked already), else `file` fetched as `--file` is.
#[allow(clippy::too_many_arguments)]
pub async fn base_of(
    ui: &Ui,
    kube: &KubeArgs,
    pitr: Option<&crate::archive::replay::Prepared>,
    file: Option<String>,
    choice: &BackupChoice,
    keys: &crate::keys::KeyArgs,
    trust: &crate::keys::TrustArgs,
    allow_sanitized: bool,
    purpose: &str,
) -> Result<(String, Option<crate::store::source::LocalCopy>), (Exit, Problem)> {
    match pitr {
        Some(p) if p.merged => Ok((p.base_file.clone(), None)),
        Some(p) => {
            fetch(
                ui,
                kube,
                Some(p.base_file.clone()),
                None,
                keys,
                trust,
                false,
                purpose,
            )
            .await
        }
        None => {
            fetch(
                ui,
                kube,
                file,
                choice.out_dir.clone(),
                keys,
                trust,
                allow_sanitized,
                purpose,
            )
            .await
        }
    }
}

/// A Redis Cluster's archive: each shard's base fetched and checked (as
/// `--file` would be), then merged into one file in a private directory
/// that the restore loads (routed by slot into a cluster, or whole into
/// one server).
async fn merge_bases(
    ui: &Ui,
    kube: &KubeArgs,
    keys: &crate::keys::KeyArgs,
    trust: &crate::keys::TrustArgs,
    p: &mut crate::archive::replay::Prepared,
) -> Result<(), (Exit, Problem)> {
    let mut files = Vec::new();
    let mut copies = Vec::new();
    for b in p.shard_bases.clone() {
        let (f, c) = fetch(ui, kube, Some(b), None, keys, trust, false, "restore").await?;
        files.push((f, None));
        copies.push(c);
    }
    let dir = p.private_dir().map_err(|e| {
        (
            Exit::Error,
            Problem {
                message: e,
                hint: "set $TMPDIR to a directory you can write".into(),
            },
        )
    })?;
    let out = dir.join("merged-bases.rdb");
    let path = out.to_string_lossy().into_owned();
    let merged = crate::jobs::cluster_backup::merge_to_file(files, out, None).await;
    drop(copies);
    match merged {
        Ok(aux) => {
            if aux > 0 {
                ui.warn(&format!(
                    "the shards' bases hold {aux} module aux record(s): the merge does not carry them"
                ));
            }
            ui.note(&format!(
                "{} shard base(s) merged into one file for the restore",
                p.shard_bases.len()
            ));
            p.base_file = path;
            p.merged = true;
            Ok(())
        }
        Err(e) => Err((
            Exit::Corrupt,
            Problem {
                message: format!("merging the shards' bases: {e}; nothing was changed"),
                hint: "verify them with `kubectl redis verify --archive NAME --repo ...`".into(),
            },
        )),
    }
}

/// The identities `--identity` and its kin name, or why they cannot be read.
async fn load_identities(
    kube: &KubeArgs,
    keys: &crate::keys::KeyArgs,
) -> Result<crate::store::crypt::Identities, (Exit, Problem)> {
    keys.load(kube).await.map_err(|e| {
        (
            Exit::Invalid,
            Problem {
                message: e,
                hint: "give an age identity file or an unencrypted SSH private key".into(),
            },
        )
    })
}

/// `point_in_time` in JSON: what `--to-time` replayed after the base.
pub fn pitr_json(p: &crate::archive::replay::Prepared, replayed: Option<u64>) -> serde_json::Value {
    serde_json::json!({
        "to": kubectl_redis_core::store::names::rfc3339(p.to),
        "base": p.base,
        "segments": p.segments,
        "commands": p.commands,
        "replayed": replayed,
        "last_command_at": p.last_ts.map(kubectl_redis_core::store::names::rfc3339),
    })
}

/// The result, with what `--to-time` replayed (`point_in_time` in JSON).
fn report_pitr(
    ui: &Ui,
    output: Output,
    f: &Finish,
    p: Option<&crate::archive::replay::Prepared>,
    replayed: Option<u64>,
) {
    let extra = p.map(|p| ("point_in_time", pitr_json(p, replayed)));
    report(ui, output, f, extra);
}

/// The pod to restore a Redis Cluster through when it was found by label:
/// the one serving the primary of slot 0. `None` when the pods matching
/// are not a cluster's (the usual search then decides).
async fn cluster_entry(
    ui: &Ui,
    k: Option<&crate::kube::Kube>,
    auth: &auth::Auth,
    selector: &str,
) -> Option<String> {
    let found = crate::jobs::cluster_backup::detect(
        ui,
        k,
        &mut auth.clone(),
        None,
        selector,
        false,
        "restoring into the whole cluster",
    )
    .await?;
    let node = found.map.owner(0).map(|n| &found.map.nodes[n])?;
    match kubectl_redis_core::kube::pods::target_serving(&found.pods, &node.host, node.port) {
        Ok(t) => {
            ui.note(&format!(
                "through pod {} (the primary of slot 0, {}:{})",
                t.pod, node.host, node.port
            ));
            Some(t.pod)
        }
        Err(e) => {
            ui.warn(&format!("the cluster's entry node: {e}"));
            None
        }
    }
}

/// `--backup-first`: a backup of the same Redis (same target flags,
/// credentials and `--url`) with the backup command's own checks; the
/// restore goes on only if it succeeded.
async fn backup_first(
    ui: &Ui,
    kube: &KubeArgs,
    args: &RestoreArgs,
    to: &str,
) -> Result<(), Problem> {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        b: crate::commands::backup::BackupArgs,
    }
    let mut argv: Vec<String> = vec!["backup".into()];
    let mut opt = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            argv.extend([flag.to_string(), v]);
        }
    };
    opt("--out-dir", (!to.is_empty()).then(|| to.to_string()));
    opt("--selector", args.target.selector.clone());
    opt("--pod", args.target.pod.clone());
    opt("--container", args.target.container.clone());
    opt(
        "--redis-port",
        args.target.redis_port.map(|p| p.to_string()),
    );
    opt("--url", args.url.clone());
    for h in &args.allow_host {
        opt("--allow-host", Some(h.clone()));
    }
    opt("--password-from-secret", args.password_from_secret.clone());
    opt("--user-name", args.user_name.clone());
    let mut b = Wrap::try_parse_from(&argv)
        .map_err(|e| Problem {
            message: format!("cannot prepare the backup: {e}"),
            hint: "run `kubectl redis backup` yourself first".into(),
        })?
        .b;
    b.quiet = true;
    ui.line(
        "restore",
        &Line::Step("backup first (--backup-first)".into()),
    );
    match crate::commands::backup::run(ui, kube, b).await {
        Exit::Ok => Ok(()),
        e => Err(Problem {
            message: format!(
                "the backup before the restore failed (exit {}); nothing was changed",
                e.code()
            ),
            hint: "fix what the backup says above, or restore without --backup-first".into(),
        }),
    }
}

/// The backup to restore as a local plaintext file: `file`, or the newest
/// verified one in `out_dir` when `file` is `None`. From object storage or
/// encrypted, a checked copy in a private directory, removed when the
/// returned guard drops. The read is recorded in the repository's audit
/// trail, for `purpose` (`restore`, `drill`).
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    ui: &Ui,
    kube: &KubeArgs,
    file: Option<String>,
    out_dir: Option<String>,
    keys: &crate::keys::KeyArgs,
    trust: &crate::keys::TrustArgs,
    allow_sanitized: bool,
    purpose: &str,
) -> Result<(String, Option<crate::store::source::LocalCopy>), (Exit, Problem)> {
    let key_problem = |message: String| {
        (
            Exit::Key,
            Problem {
                message,
                hint: "give the signer's public key with --trust (`repo keygen` printed it)".into(),
            },
        )
    };
    let file = match file {
        Some(f) => {
            // The repository it is in: its settings may require signers.
            let src = Source::open(&f).map_err(|p| (Exit::Invalid, p))?;
            let repo = match &src {
                Source::Remote { remote, .. } => Some(Repo::Remote(remote.clone())),
                Source::Local(p) => p
                    .parent()
                    .map(|d| Repo::Local(d.to_string_lossy().into_owned())),
            };
            let trusted = crate::store::trust::trusted_keys(&trust.trust, repo.as_ref())
                .await
                .map_err(key_problem)?;
            if !trusted.is_empty() {
                match crate::store::trust::check_source(&src, &trusted).await {
                    Ok(k) => ui.note(&format!("signed by {k}")),
                    Err(why) if trust.allow_unsigned => ui.warn(&format!(
                        "{f} is not signed by a trusted key ({why}): restoring it anyway (--allow-unsigned)"
                    )),
                    Err(why) => {
                        return Err((
                            Exit::Key,
                            Problem {
                                message: format!(
                                    "{f} is not signed by a trusted key ({why}); nothing was changed"
                                ),
                                hint: "restore a signed backup (--latest picks the newest), --trust the key that signed it, or --allow-unsigned if you know where it came from".into(),
                            },
                        ))
                    }
                }
            }
            f
        }
        None => {
            let f = latest(ui, out_dir, trust).await?;
            ui.note(&format!("newest verified backup: {f}"));
            f
        }
    };
    // A backup set: every shard's file fetched and checked, then merged.
    if let Some((repo, set)) = set_location(&file) {
        return Box::pin(fetch_set(ui, kube, &repo, &set, keys, trust, purpose)).await;
    }
    // From object storage or encrypted: a checked plaintext copy in a
    // private directory, removed when this returns.
    let src = Source::open(&file).map_err(|p| (Exit::Invalid, p))?;
    // A sanitized copy is never mistaken for a full backup.
    let src_manifest = src.manifest().await.ok().flatten();
    let sanitized = kubectl_redis_core::store::names::is_sanitized_name(&src.name())
        || src_manifest.as_ref().is_some_and(|m| m.sanitized);
    if sanitized && !allow_sanitized {
        return Err((
            Exit::Invalid,
            Problem {
                message: format!(
                    "{} is a sanitized copy (keys dropped or masked), not a full backup; nothing was changed",
                    src.display()
                ),
                hint: "restore a full backup, or add --allow-sanitized to load this copy (into staging)".into(),
            },
        ));
    }
    if sanitized {
        ui.warn(&format!(
            "{} is a sanitized copy: keys were dropped or masked (--allow-sanitized)",
            src.display()
        ));
    }
    let needs_copy = match &src {
        Source::Remote { .. } => true,
        Source::Local(p) => is_age_file(p),
    };
    let mut copy = None;
    let file = if needs_copy {
        let ids = load_identities(kube, keys).await?;
        ui.note(&format!(
            "fetching {}{} into a private temporary file (removed afterwards)",
            src.display(),
            if src.name().ends_with(".age") {
                " and decrypting it"
            } else {
                ""
            }
        ));
        match crate::store::source::local_copy(&src, ids).await {
            Ok((c, r)) => {
                ui.note(&format!(
                    "{} bytes fetched, {} checked",
                    r.stored_size,
                    r.plain.as_ref().map_or(0, |p| p.size)
                ));
                let p = c.path.to_string_lossy().into_owned();
                copy = Some(c);
                p
            }
            Err(e) => return Err(e),
        }
    } else {
        file
    };
    // The repository's audit trail: who read which backup, for what.
    crate::audit::read_of(
        ui,
        &src,
        purpose,
        src_manifest.as_ref().map(|m| m.stored().1),
        None,
    )
    .await;
    Ok((file, copy))
}

/// Whether the local file `p` is encrypted (age or gpg, by its first bytes).
fn is_age_file(p: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 27];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| crate::store::crypt::is_age(&head) || crate::store::source::is_gpg(&head))
}

/// The newest verified backup in the repository.
/// The repository and name of `file` when it names a backup set
/// (`.../redis-backup-...set`).
pub fn set_location(file: &str) -> Option<(Repo, String)> {
    let (dir, name) = match file.rsplit_once('/') {
        Some((d, n)) => (if d.is_empty() { "/" } else { d }, n),
        None => (".", file),
    };
    kubectl_redis_core::store::set::parse_set_name(name)?;
    let repo = Repo::open(dir).ok()?;
    Some((repo, name.to_string()))
}

/// A set's manifest, read from its repository.
pub async fn set_manifest(
    repo: &Repo,
    set: &str,
) -> Result<kubectl_redis_core::store::set::SetManifest, (Exit, Problem)> {
    let r = repo.set_manifest(set).await;
    r.map_err(|m| {
        (
            Exit::Invalid,
            Problem {
                message: format!("backup set {set}: {m}"),
                hint: "see the repository's sets with `kubectl redis list --repo ...`; a set exists only once its manifest does".into(),
            },
        )
    })
}

/// A backup set as one file to restore: each shard's file fetched and
/// checked as `--file` would be, then merged (every key of every shard)
/// into a private file, loaded routed by slot into a cluster of any shape
/// or whole into one server.
async fn fetch_set(
    ui: &Ui,
    kube: &KubeArgs,
    repo: &Repo,
    set: &str,
    keys: &crate::keys::KeyArgs,
    trust: &crate::keys::TrustArgs,
    purpose: &str,
) -> Result<(String, Option<crate::store::source::LocalCopy>), (Exit, Problem)> {
    let m = set_manifest(repo, set).await?;
    ui.note(&format!(
        "backup set {set}: {} shards, {} keys; each fetched and checked, then merged into one file",
        m.shards.len(),
        m.keys
    ));
    let mut files = Vec::new();
    let mut copies = Vec::new();
    for sh in &m.shards {
        let (f, c) = Box::pin(fetch(
            ui,
            kube,
            Some(repo.location(&sh.file)),
            None,
            keys,
            trust,
            false,
            purpose,
        ))
        .await?;
        files.push((f, None));
        copies.push(c);
    }
    let dir = crate::store::source::private_dir().map_err(|e| {
        (
            Exit::Error,
            Problem {
                message: e,
                hint: "set $TMPDIR to a directory you can write".into(),
            },
        )
    })?;
    let out = dir.join(format!("{set}.rdb"));
    let copy = crate::store::source::LocalCopy::new(dir, out.clone());
    let path = out.to_string_lossy().into_owned();
    // One Job per target primary: only the keys of its slots.
    let merged =
        crate::jobs::cluster_backup::merge_to_file(files, out, crate::redis::cluster::restricted())
            .await;
    drop(copies);
    match merged {
        Ok(aux) => {
            if aux > 0 {
                ui.warn(&format!(
                    "the set's shards hold {aux} module aux record(s): the merge does not carry them"
                ));
            }
            Ok((path, Some(copy)))
        }
        Err(e) => Err((
            Exit::Corrupt,
            Problem {
                message: format!("merging set {set}'s shards: {e}; nothing was changed"),
                hint: format!(
                    "verify it with `kubectl redis verify {}`",
                    repo.location(set)
                ),
            },
        )),
    }
}

async fn latest(
    ui: &Ui,
    dir: Option<String>,
    trust: &crate::keys::TrustArgs,
) -> Result<String, (Exit, Problem)> {
    let dir = env::out_dir(dir);
    let repo = Repo::open(&dir).map_err(|p| (Exit::Invalid, p))?;
    let l = repo.listing().await.map_err(|p| {
        let e = match repo {
            Repo::Remote(_) => Exit::Storage,
            Repo::Local(_) => Exit::Error,
        };
        (e, p)
    })?;
    let trusted = crate::store::trust::trusted_keys(&trust.trust, Some(&repo))
        .await
        .map_err(|m| {
            (
                Exit::Invalid,
                Problem {
                    message: m,
                    hint: "give the key `kubectl redis repo keygen` printed".into(),
                },
            )
        })?;
    let mut skipped = 0;
    let sanitized = l.backups.iter().filter(|b| b.sanitized).count();
    // Sanitized copies are never the newest full backup.
    for b in l
        .backups
        .iter()
        .filter(|b| b.status == "verified" && !b.sanitized)
    {
        if trusted.is_empty() || trust.allow_unsigned {
            return Ok(b.path.clone());
        }
        // Signatures required: a backup planted in the bucket, or one
        // changed since it was signed, is passed over, named.
        let src = Source::open(&b.path).map_err(|p| (Exit::Invalid, p))?;
        match crate::store::trust::check_source(&src, &trusted).await {
            Ok(k) => {
                ui.note(&format!("{} is signed by {k}", b.file));
                return Ok(b.path.clone());
            }
            Err(why) => {
                skipped += 1;
                ui.warn(&format!(
                    "skipping {}: not signed by a trusted key ({why})",
                    b.file
                ));
            }
        }
    }
    Err((
        if skipped > 0 {
            Exit::Key
        } else {
            Exit::Invalid
        },
        Problem {
            message: if skipped > 0 {
                format!(
                    "no verified backup in {} is signed by a trusted key ({skipped} passed over)",
                    repo.display()
                )
            } else if sanitized > 0 {
                format!(
                    "no verified full backup in {} ({sanitized} sanitized copies passed over)",
                    repo.display()
                )
            } else {
                format!("no verified backup in {}", repo.display())
            },
            hint: if sanitized > 0 && skipped == 0 {
                "a sanitized copy is restored only by name: --file NAME --allow-sanitized".into()
            } else {
                "see `kubectl redis list --repo ...`, or pass --file".into()
            },
        },
    ))
}

fn writers(args: &RestoreArgs) -> Result<Vec<Writer>, String> {
    if args.no_scale_down || args.url.is_some() {
        return Ok(Vec::new());
    }
    crate::kube::workloads::writer_list(&args.scale_down)
}

/// The result: errors on stderr; with `-o json`, the RestoreResult, with
/// `extra` fields (`point_in_time`) added.
fn report(ui: &Ui, output: Output, f: &Finish, extra: Option<(&str, serde_json::Value)>) {
    if let Some(e) = &f.error {
        ui.error(&e.message, e.hint.as_deref());
    }
    if output == Output::Json {
        let mut v = serde_json::to_value(&f.report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("exit_code".into(), f.exit.code().into());
            o.insert(
                "error".into(),
                f.error
                    .as_ref()
                    .map(|e| crate::output::error(&e.message, e.hint.as_deref()))
                    .unwrap_or_default(),
            );
            if let Some((k, x)) = extra {
                o.insert(k.into(), x);
            }
        }
        crate::output::print(ui, "RestoreResult", v);
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
    let sh = crate::jobs::restore::Shell::new(ui, k, lease::holder(k.user.as_deref()));
    let mut done = Vec::new();
    let mut dead: Vec<String> = Vec::new();
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
            Ok(false) => {
                if !dead.contains(&by) {
                    dead.push(by.clone());
                }
            }
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
        // The audit trail: an Event on the writer put back (or not).
        let reg = kubectl_redis_core::ops::audit::Regarding {
            api_version: "apps/v1".into(),
            kind: match w.kind {
                WriterKind::Deployment => "Deployment".into(),
                WriterKind::StatefulSet => "StatefulSet".into(),
            },
            name: w.name.clone(),
            namespace: k.namespace.clone(),
            uid: None,
        };
        let (warning, reason, note) = match &r {
            Ok(()) => (
                false,
                "RecoverSucceeded",
                format!("{w} put back to {replicas} replicas after a killed restore ({by})"),
            ),
            Err(e) => (
                true,
                "RecoverFailed",
                format!("{w} could not be put back to {replicas} replicas: {e}"),
            ),
        };
        crate::audit::event_on(ui, k, &reg, warning, "Recover", reason, &note).await;
        done.push(
            serde_json::json!({"name": w.to_string(), "replicas": replicas, "restored": r.is_ok()}),
        );
    }
    // A swap that died between installing the backup and Redis taking it:
    // its Lease says what was installed where. Redis restarted since: the
    // backup is loaded, only the kept old file goes. Not restarted: the old
    // data is what Redis holds, and the old file comes back (else the next
    // restart would load the backup, losing every write since).
    let mut installs = Vec::new();
    match sh.locks.api.list(&ListParams::default()).await {
        Ok(l) => {
            for lease in l.items {
                let Some(note) = lease
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(lock::INSTALL_NOTE))
                    .and_then(|v| serde_json::from_str::<lock::Installing>(v).ok())
                else {
                    continue;
                };
                let by = lease
                    .spec
                    .as_ref()
                    .and_then(|s| s.holder_identity.clone())
                    .unwrap_or_default();
                if !dead.contains(&by) {
                    match sh.locks.holder_alive(ui, &by).await {
                        Ok(false) => dead.push(by.clone()),
                        Ok(true) => {
                            ui.error(
                                &format!("{}:{} is being installed by a restore that is still running ({by}); leaving it alone", note.pod, note.path),
                                Some("wait for that restore to finish"),
                            );
                            exit = Exit::Locked;
                            continue;
                        }
                        Err(e) => return recover_error(ui, &k.namespace, "leases", e),
                    }
                }
                installs.push(fix_install(ui, &sh, &note, &by).await);
                if installs.last().is_some_and(|i| i["done"] == false) {
                    exit = Exit::Error;
                }
            }
        }
        Err(e) => return recover_error(ui, &k.namespace, "leases", e),
    }
    // The killed restores' Leases: nobody renews them, and they would only
    // make the next backup or restore wait for them to lapse.
    let mut released = Vec::new();
    for by in dead {
        match sh.locks.remove_stale(&by).await {
            Ok(names) => {
                for n in names {
                    ui.line(
                        "recover",
                        &Line::Step(format!("released the lock Lease {n} left by {by}")),
                    );
                    released.push(n);
                }
            }
            Err(e) => ui.line(
                "recover",
                &Line::Warn(format!(
                    "could not release the lock Lease left by {by}: {e} (it lapses on its own)"
                )),
            ),
        }
    }
    if output == Output::Json {
        crate::output::print(
            ui,
            "RecoverResult",
            serde_json::json!({
                "namespace": k.namespace, "writers": done, "installs": installs, "released_leases": released,
                "error": (exit != Exit::Ok).then(|| crate::output::error(
                    "not every writer could be put back (see the messages above)",
                    Some("run `kubectl redis restore --recover` again once the reason is fixed"),
                )),
                "exit_code": exit.code(),
            }),
        );
    }
    exit
}

/// Finishes or reverts the install `note` records (see [`recover`]); its
/// report.
async fn fix_install(
    ui: &Ui,
    sh: &crate::jobs::restore::Shell<'_>,
    note: &lock::Installing,
    by: &str,
) -> serde_json::Value {
    let pod = sh.pods.get_opt(&note.pod).await.ok().flatten();
    let uid = pod.as_ref().and_then(|p| p.metadata.uid.clone());
    let restarts = pod
        .as_ref()
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.iter().find(|c| c.name == note.container))
        .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
        .unwrap_or(0);
    let report = |action: &str, done: bool| serde_json::json!({"pod": note.pod, "path": note.path, "action": action, "done": done});
    let target = kubectl_redis_core::kube::pods::Target {
        pod: note.pod.clone(),
        container: note.container.clone(),
        port: 0,
    };
    let (action, argv, said) = match lock::install_fix(note, uid.as_deref(), restarts) {
        None => {
            ui.line(
                "recover",
                &Line::Step(format!(
                    "{} (installing {} for {by}) is gone: nothing to put back",
                    note.pod, note.path
                )),
            );
            return report("pod_gone", true);
        }
        Some(lock::InstallFix::Finish) => (
            "finished",
            vec!["rm".to_string(), "-rf".to_string(), format!("{}.kr-old", note.path)],
            format!(
                "{}: Redis restarted onto the backup {by} installed at {}; removing the previous file kept beside it",
                note.pod, note.path
            ),
        ),
        Some(lock::InstallFix::Revert) => (
            "reverted",
            vec![
                "sh".to_string(),
                "-c".to_string(),
                kubectl_redis_core::restore::REINSTATE.to_string(),
                "kubectl-redis".to_string(),
                note.path.clone(),
            ],
            format!(
                "{}: {by} installed a backup at {} and died before Redis restarted onto it: putting the previous file back (Redis still holds the old data)",
                note.pod, note.path
            ),
        ),
    };
    ui.line("recover", &Line::Step(said));
    match crate::kube::exec::run(&sh.pods, &target, argv).await {
        Ok(o) if o.exit_code.unwrap_or(0) == 0 => report(action, true),
        Ok(o) => {
            ui.error(&format!("{}: {}", note.pod, o.complaint().trim()), None);
            report(action, false)
        }
        Err(e) => {
            ui.error(
                &format!("{}: {e}", note.pod),
                Some("check `kubectl auth can-i create pods/exec`"),
            );
            report(action, false)
        }
    }
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

/// `restore --in-cluster`: the same restore as a Job next to Redis, reading
/// the backup straight from the repository. Without --yes, a first Job
/// runs it with --dry-run (every check and the plan, nothing changed), the
/// answer is asked here, and a second Job restores.
async fn in_cluster(ui: &Ui, kube: &KubeArgs, args: &RestoreArgs) -> Exit {
    use crate::jobs::in_cluster::{self, reachable, Plan, UNREACHABLE_HINT};
    let output = args.output;
    let fail = |exit: Exit, message: String, hint: &str| {
        ui.error(&message, Some(hint));
        if output == Output::Json {
            crate::output::failure(ui, "RestoreResult", exit, &message, Some(hint));
        }
        exit
    };
    let k = &args.keys;
    let tls = &args.tls;
    let local: [(bool, &str, &str); 9] = [
        (args.metrics_file.is_some(), "--metrics-file", "drop it; the Job's result has the numbers"),
        (!k.identity.is_empty(), "--identity", "put the identity in a Secret: --identity-from-secret NAME/KEY"),
        (k.passphrase_file.is_some(), "--passphrase-file", "use --passphrase-from-secret NAME/KEY"),
        (args.sanitize.sanitize.is_some(), "--sanitize", "make a sanitized copy first (`kubectl redis copy SRC DST --sanitize RULES`) and restore that"),
        (tls.cacert.is_some() || tls.cert.is_some() || tls.key.is_some(), "--cacert/--cert/--key", "use --tls-from-secret NAME"),
        (tls.tls_from_dir.is_some(), "--tls-from-dir", "use --tls-from-secret NAME"),
        (args.recover, "--recover", "run `kubectl redis restore --recover` without --in-cluster"),
        (args.user_name.is_some() && args.password_from_secret.is_none(), "--user-name without --password-from-secret", "give the password with --password-from-secret NAME/KEY"),
        (args.in_cluster.detach && !args.yes && !args.dry_run, "--detach without --yes", "a detached restore cannot ask: add --yes (or --dry-run)"),
    ];
    if let Some((flag, hint)) = in_cluster::local_flag(&local) {
        return fail(
            Exit::Invalid,
            format!("{flag} cannot be used with --in-cluster: the Job runs in the cluster, without this machine's files or terminal"),
            hint,
        );
    }
    // Where the backup is read: the repository (or a directory on --pvc).
    let file = args.backup.file();
    for r in file
        .iter()
        .chain(args.backup.out_dir.iter())
        .chain(args.backup_first.iter().filter(|b| !b.is_empty()))
    {
        if !reachable(&args.in_cluster, r) {
            return fail(
                Exit::Invalid,
                format!("--in-cluster reads and writes straight in the repository, and {r} is on this machine"),
                UNREACHABLE_HINT,
            );
        }
    }
    if args.backup_first.as_deref() == Some("") {
        return fail(
            Exit::Invalid,
            "--backup-first without a repository would keep the safety backup in the Job's pod, which goes".into(),
            "give it the repository: --backup-first s3://BUCKET/PREFIX",
        );
    }
    if env::env_nonempty("REDISCLI_AUTH").is_some() && args.password_from_secret.is_none() {
        ui.warn("$REDISCLI_AUTH is not passed to the Job (a password never goes into its spec): it uses the Redis container's own password; give --password-from-secret NAME/KEY for another");
    }
    let mut a = in_cluster::Argv::new(&["restore"]);
    a.opt("--file", file.clone());
    a.opt("--repo", args.backup.out_dir.clone());
    a.opt("--to-time", args.backup.to_time.clone());
    a.opt("--archive", args.backup.archive.clone());
    a.opt("-l", args.target.selector.clone());
    a.opt("--pod", args.target.pod.clone());
    a.opt("--container", args.target.container.clone());
    a.opt("--redis-port", args.target.redis_port);
    a.opt("--url", args.url.clone());
    a.opt("--password-from-secret", args.password_from_secret.clone());
    a.opt("--user-name", args.user_name.clone());
    let key_secrets = in_cluster::key_flags(k, &mut a);
    a.opt("--backup-first", args.backup_first.clone());
    a.opt("--tls-server-name", tls.tls_server_name.clone());
    a.opt("--tls-from-secret", tls.tls_from_secret.clone());
    a.opt("--big-value-bytes", Some(args.big_value_bytes));
    a.secs("--timeout", args.timeout);
    a.secs("--scale-timeout", args.scale_timeout);
    a.opt(
        "--method",
        clap::ValueEnum::to_possible_value(&args.method).map(|v| v.get_name().to_string()),
    );
    a.each("--allow-host", &args.allow_host);
    a.each("--trust", &args.trust.trust);
    // The writers: as given, else $WORKER_DEPLOY here (the Job has no such
    // variable), else the Job's own default (deploy/worker).
    let writers: Vec<String> = if args.scale_down.is_empty() {
        env::env_nonempty("WORKER_DEPLOY")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    } else {
        args.scale_down.clone()
    };
    a.each("--scale-down", writers);
    a.switch("--latest", args.backup.latest);
    a.switch("--no-scale-down", args.no_scale_down);
    a.switch("--merge", args.merge);
    a.switch("--force-unverified", args.force_unverified);
    a.switch("--allow-sanitized", args.allow_sanitized);
    a.switch("--allow-unsigned", args.trust.allow_unsigned);
    a.switch("--tls", tls.tls);
    a.switch("--insecure-skip-verify", tls.insecure_skip_verify);
    use in_cluster::secret_of;
    let mut access = kubectl_redis_core::ops::schedule::Access {
        exec: true,
        services: tls.tls_from_secret.is_some() && tls.tls_server_name.is_none(),
        lease_names: Vec::new(),
        secret_names: secret_of(&args.password_from_secret)
            .into_iter()
            .chain(key_secrets)
            .chain(tls.tls_from_secret.clone())
            .collect(),
    };
    let mut node = None;
    if args.url.is_none() {
        let json = (output == Output::Json).then_some("RestoreResult");
        match in_cluster::narrow(ui, kube, json, &args.target, tls, &mut access).await {
            Ok(n) => node = n,
            Err(exit) => return exit,
        }
    }
    access.secret_names.sort();
    access.secret_names.dedup();
    let rules = kubectl_redis_core::ops::job::restore_rules(&access);
    let plan = |extra: &str| Plan {
        command: "restore".into(),
        args: a.0.iter().cloned().chain([extra.to_string()]).collect(),
        rules: rules.clone(),
        node: node.clone(),
    };
    let text = |_: &serde_json::Value| {};
    // A backup set into a Redis Cluster: one Job per target primary, when
    // no writers are to be scaled (each Job restores only its primary; the
    // writers would be scaled by all of them at once).
    let fan_out = args.no_scale_down
        && args.url.is_none()
        && args.target.pod.is_none()
        && args
            .backup
            .file()
            .as_deref()
            .and_then(set_location)
            .is_some();
    let plan = |extra: &str| {
        let mut p = plan(extra);
        if fan_out && extra == "--yes" {
            p.args.push("--set-plan".into());
        }
        p
    };
    if args.yes || args.dry_run {
        let extra = if args.dry_run { "--dry-run" } else { "--yes" };
        return in_cluster::run(
            ui,
            kube,
            &args.in_cluster,
            plan(extra),
            output,
            "RestoreResult",
            &text,
        )
        .await;
    }
    // Asked here: the checks and the plan from a first Job, then the answer.
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return fail(
            Exit::Aborted,
            "refusing to replace all data without confirmation: standard input is not a terminal; nothing was changed".into(),
            "pass --yes to confirm non-interactively (or --dry-run to see the plan)",
        );
    }
    ui.note("first the checks and the plan, from a Job that changes nothing (--dry-run):");
    let checked = in_cluster::run(
        ui,
        kube,
        &args.in_cluster,
        plan("--dry-run"),
        Output::Text,
        "RestoreResult",
        &text,
    )
    .await;
    if checked != Exit::Ok {
        return checked;
    }
    match crate::jobs::restore::confirm().await {
        kubectl_redis_core::restore::Answer::Yes => {}
        _ => {
            return fail(
                Exit::Aborted,
                "aborted: nothing was changed".into(),
                "answer yes to restore, or pass --yes",
            )
        }
    }
    in_cluster::run(
        ui,
        kube,
        &args.in_cluster,
        plan("--yes"),
        output,
        "RestoreResult",
        &text,
    )
    .await
}

/// Slot ranges, `[first, last]` each.
#[derive(Debug, Clone)]
pub struct SlotRanges(pub Vec<[u16; 2]>);

/// `0-5460,10923-16383`.
fn parse_ranges(s: &str) -> Result<SlotRanges, String> {
    s.split(',')
        .map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            let n = |x: &str| {
                x.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|v| u32::from(*v) < kubectl_redis_core::store::set::SLOTS)
                    .ok_or_else(|| format!("{x:?} is not a slot (0-16383)"))
            };
            let (a, b) = (n(a)?, n(b)?);
            if a > b {
                return Err(format!("{r}: the first slot is after the last"));
            }
            Ok([a, b])
        })
        .collect::<Result<Vec<_>, String>>()
        .map(SlotRanges)
}
