//! `kubectl redis backup`: flags, the plan for the core's backup machine,
//! and the result on stdout. The effects are done by `jobs::backup`.

use crate::args::{parse_duration, KubeArgs, Output, TargetArgs};
use crate::env;
use crate::jobs::backup::{drive, Shell};
use crate::kube::lease;
use crate::output;
use crate::redis::auth::{self, Auth};
use crate::store::crypt::Recipients;
use crate::store::repo::{self, Problem, Repo};
use crate::ui::Ui;
use clap::{Args, ValueEnum};
use kubectl_redis_core::backup::{self as machine, Credentials, Finish, Plan, Url};
use kubectl_redis_core::exit::{self, Exit};
use kubectl_redis_core::kube::pods;
use std::time::Duration;

pub const LONG_ABOUT: &str = "Snapshot Redis into a verified local file.\n\n\
Finds the Running and Ready pod with the label selector (or takes --url), then \
gets a snapshot one of two ways. stream: speaks the replication protocol \
(REPLCONF, SYNC) through a port-forward: no exec, no shell in the image. Where the \
server would delay a diskless snapshot (repl-diskless-sync-delay, 5 s by default) it \
asks for one written to the server's disk, which starts at once as BGSAVE does; \
--diskless waits instead and needs no free space on the Redis volume. bgsave (the runbook's \
way): BGSAVE, wait until LASTSAVE advances, stream /data/dump.rdb out of the pod \
through exec. --method auto (the default) uses stream when the server and your \
RBAC allow it and says when it falls back.\n\n\
Every byte is verified while it is written (structure, packed encodings, LZF, \
CRC-64), into a hidden temporary file that is fsynced and only then named \
redis-backup-YYYYMMDD_HHMMSS.rdb (UTC, mode 0600) in OUT_DIR, next to a manifest \
(the same name + .json: sha256, keys per database, source, method). A corrupt \
snapshot (exit 8), an interruption or any failure leaves no file behind. Progress \
goes to stderr, the path of the backup to stdout.\n\n\
Replicas and clusters: with replicas beside the primary (known by their labels \
as Bitnami and the operators set them, by Sentinel, or, when several pods match \
with no role labels, by asking each its INFO replication), a healthy replica is \
read and the primary spared the fork (--from). A Redis Cluster (--url to a node, or several matching \
pods that are nodes) is backed up whole: one snapshot per shard in parallel, \
from healthy replicas where there are, merged into one verified backup whose \
manifest lists the shards and their slots, under one Lease for the cluster.";

pub fn after_help() -> String {
    format!(
        "Environment:\n  NS                     namespace when -n is not given\n  APP_LABEL              selector when -l is not given; a bare value V means app=V\n  OUT_DIR, BACKUPS_DIR   output directory when --out-dir is not given\n  REDISCLI_AUTH          Redis password when --password-from-secret is not given\n                         (else the container's REDIS_PASSWORD is used); never printed\n\n{}\nExamples:\n  kubectl redis backup -n october\n  kubectl redis backup -n prod --pod redis-0 --timeout 2m --out-dir /mnt/backups\n  kubectl redis backup -n prod --password-from-secret redis-auth/password\n  kubectl redis backup --method bgsave             # the runbook's BGSAVE + copy\n  kubectl redis backup --url redis://127.0.0.1:6379  # any Redis, no Kubernetes\n  kubectl redis backup -n prod --from primary        # never read a replica\n  kubectl redis backup -o json | jq -r .path",
        exit::help_table()
    )
}

/// How a backup gets the data.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Method {
    /// stream when the server and cluster allow it, else bgsave
    #[default]
    Auto,
    /// replication SYNC through a port-forward (or --url): no exec, no shell, no disk on the server
    Stream,
    /// BGSAVE in the pod, then copy the file out through exec (the runbook's way)
    Bgsave,
}

/// Which server a backup reads from.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum From {
    /// a healthy, caught-up replica when replicas are known beside the primary, else the primary
    #[default]
    Auto,
    /// always the primary
    Primary,
    /// a healthy, caught-up replica, or fail (exit 11)
    Replica,
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How to get the snapshot
    #[arg(long, value_enum, default_value_t = Method::Auto, value_name = "METHOD")]
    pub method: Method,
    /// Which server to read: a healthy replica beside the primary, once caught up with it (up to 10 s), sparing the primary the fork, else the primary (auto); only a replica; only the primary
    #[arg(long, value_enum, default_value_t = From::Auto, value_name = "WHICH", conflicts_with = "pod")]
    pub from: From,
    /// Back up this Redis directly (outside Kubernetes, or through your own port-forward); stream method only; rediss:// for TLS
    #[arg(long, value_name = "redis[s]://HOST:PORT", conflicts_with_all = ["pod", "selector"])]
    pub url: Option<String>,
    /// With --url: a further host that may receive the password and the data (a Redis Cluster's nodes as it announces them: a name, an address, or a network such as 10.0.0.0/8); repeatable. Only --url's host by default
    #[arg(long, value_name = "HOST", requires = "url")]
    pub allow_host: Vec<String>,
    /// Read the Redis password from this Secret's key (in the namespace); never printed
    #[arg(long, value_name = "NAME/KEY")]
    pub password_from_secret: Option<String>,
    /// Stream: always ask for a diskless snapshot, waiting out the server's repl-diskless-sync-delay (default: when the server delays those, ask for one written to its disk, which starts at once)
    #[arg(long)]
    pub diskless: bool,
    /// ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// Also write Prometheus metrics of this run here (see `kubectl redis check --help`)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<String>,
    /// Also push the same metrics to this Prometheus Pushgateway (job kubectl-redis-backup)
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    /// Where the backup goes: a directory, or object storage (s3://BUCKET/PREFIX, gs://..., az://CONTAINER/PREFIX, file:///PATH); repeat it to write the same snapshot to several places at once [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
    pub out_dir: Vec<String>,
    /// Encrypt the backup with age to this recipient: an age public key (age1...), an SSH public key, or a KMS key (awskms://arn:aws:kms:REGION:ACCOUNT:key/ID, gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K, azurekv://VAULT/keys/NAME: the age key wrapped by KMS, one call per backup); repeatable
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Encrypt to every recipient in this file (one per line, # comments); repeatable
    #[arg(long, value_name = "FILE")]
    pub encrypt_to_file: Vec<String>,
    /// Encrypt with the passphrase in this Secret's key (age scrypt), for teams used to `gpg --symmetric`
    #[arg(long, value_name = "NAME/KEY", conflicts_with_all = ["encrypt_to", "encrypt_to_file"])]
    pub passphrase_from_secret: Option<String>,
    /// Encrypt with the passphrase in this file (its first line)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["encrypt_to", "encrypt_to_file", "passphrase_from_secret"])]
    pub passphrase_file: Option<String>,
    /// Store a plaintext backup in object storage, or ignore the repository's recipients (`repo init`)
    #[arg(long, conflicts_with_all = ["encrypt_to", "encrypt_to_file", "passphrase_from_secret", "passphrase_file"])]
    pub no_encrypt: bool,
    /// Refuse the repository's recorded recipients unless they have this fingerprint (sha256:..., `repo show`); `schedule` pins them this way, so a bucket writer cannot redirect the Job's backups to their own key
    #[arg(long, value_name = "FINGERPRINT")]
    pub pin_recipients: Option<String>,
    /// Sign the manifest with this key (from `kubectl redis repo keygen`; also $KUBECTL_REDIS_SIGNING_KEY), so `restore --latest` and `drill` can tell your backups from planted ones
    #[arg(long, value_name = "FILE")]
    pub sign_with: Option<String>,
    /// How long BGSAVE may take: 30s, 2m, 1h or plain seconds
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Print nothing on stdout (a backup taken by `restore --backup-first`).
    #[arg(skip)]
    pub quiet: bool,
    #[command(flatten)]
    pub sanitize: crate::sanitize::SanitizeArgs,
    #[command(flatten)]
    pub tls: crate::args::TlsArgs,
    #[command(flatten)]
    pub in_cluster: crate::jobs::in_cluster::InClusterArgs,
    /// With --in-cluster and a Redis Cluster: one Job reading every shard and merging them into one file, instead of a backup set (one Job per shard, in parallel; see docs/in-cluster.md)
    #[arg(long, requires = "in_cluster")]
    pub merge: bool,
    /// A set's first Job: plan one Job per shard when the target is a Redis Cluster (else back up as usual)
    #[arg(long, hide = true)]
    pub set_plan: bool,
    /// A set's shard Job: the set's name
    #[arg(long, hide = true, value_name = "SET")]
    pub set: Option<String>,
    /// A set's shard Job: the lowest slot of its shard
    #[arg(long, hide = true, value_name = "SLOT")]
    pub shard: Option<u16>,
    /// A set's Jobs: every shard's lowest slot
    #[arg(long, hide = true, value_name = "SLOT,...", value_delimiter = ',')]
    pub set_shards: Vec<u16>,
    /// A set's last Job after a shard failed: remove its shards' files unless it was sealed
    #[arg(long, hide = true, requires = "set")]
    pub set_abort: bool,
}

/// Runs the command; with --metrics-file, records how it ended.
pub async fn run(ui: &Ui, kube: &KubeArgs, args: BackupArgs) -> Exit {
    if args.in_cluster.in_cluster {
        return in_cluster(ui, kube, &args).await;
    }
    let metrics = args.metrics_file.clone();
    // Grouped by namespace (as a scheduled backup's `-n` names it), so
    // that each namespace's backups keep their own metrics and its alert
    // rules see only them. `redis_namespace`, not `namespace`: Prometheus
    // gives the Pushgateway's own namespace that name when scraping it.
    let namespace = kube
        .namespace
        .clone()
        .or_else(|| crate::env::env_nonempty("NS"))
        .filter(|_| args.url.is_none());
    let push = args.pushgateway.clone().map(|url| {
        let grouping = namespace
            .map(|n| vec![("redis_namespace", n)])
            .unwrap_or_default();
        (url, grouping)
    });
    crate::metrics::with_metrics_to(ui, metrics, push, "backup", run_inner(ui, kube, args)).await
}

async fn run_inner(ui: &Ui, kube: &KubeArgs, args: BackupArgs) -> Exit {
    let output = args.output;
    let quiet = args.quiet;
    let fail = |exit: Exit, message: &str, hint: &str| {
        let f = failed(exit, message, hint);
        report(ui, output, quiet, &f, &[]);
        exit
    };
    // --url: straight to a Redis, no cluster; the stream method only.
    let (k, url) = match &args.url {
        Some(u) => {
            if args.method == Method::Bgsave {
                return fail(
                    Exit::Invalid,
                    "--url works only with --method stream (bgsave copies the file out of a pod)",
                    "drop --method bgsave, or drop --url to back up a pod",
                );
            }
            match crate::redis::parse_url(u).and_then(|(host, port)| {
                let allowed =
                    kubectl_redis_core::topo::hosts::Allowed::new(&host, &args.allow_host)?;
                crate::redis::allow_hosts(allowed);
                Ok((host, port))
            }) {
                Ok((host, port)) => (None, Some(Url { host, port })),
                Err(e) => {
                    return fail(
                        Exit::Invalid,
                        &e,
                        "use redis://HOST:PORT; give a password with $REDISCLI_AUTH",
                    )
                }
            }
        }
        None => match crate::kube::connect_or_report(ui, kube, json_kind(output)).await {
            Some(k) => (Some(k), None),
            None => return Exit::Error,
        },
    };
    if let Err(e) = crate::redis::tls::setup(
        &args.tls,
        args.url.as_deref().is_some_and(crate::redis::url_tls),
        k.as_ref(),
    )
    .await
    {
        return fail(
            Exit::Invalid,
            &e,
            "see the TLS flags in `kubectl redis backup --help`",
        );
    }
    let auth =
        match auth::explicit(
            k.as_ref().map(|k| &k.client),
            k.as_ref().map(|k| k.namespace.as_str()).unwrap_or_default(),
            args.password_from_secret.as_deref(),
            args.user_name.clone(),
        )
        .await
        {
            Ok(a) => a,
            Err(e) if url.is_some() => {
                return fail(
                    Exit::Invalid,
                    &e,
                    "with --url, give the password in $REDISCLI_AUTH",
                )
            }
            Err(e) => return fail(
                Exit::Invalid,
                &e,
                "check the Secret with `kubectl get secret NAME -o yaml` (names only are printed)",
            ),
        };
    // Signed by whom: the key is loaded before anything is touched.
    let sign_with = args
        .sign_with
        .clone()
        .or_else(|| env::env_nonempty("KUBECTL_REDIS_SIGNING_KEY"));
    if let Some(f) = sign_with {
        match crate::store::trust::Signer::load(&f) {
            Ok(s) => crate::store::trust::set_signer(s),
            Err(e) => {
                return fail(
                    Exit::Key,
                    &e,
                    "give the secret key file `kubectl redis repo keygen --out FILE` wrote",
                )
            }
        }
    }
    // --sanitize: rules and key checked before anything is touched.
    let sanitize = match args.sanitize.load(kube).await {
        Ok(p) => p,
        Err(p) => return fail(Exit::Invalid, &p.message, &p.hint),
    };
    // Where, and encrypted to whom: settled before anything is touched.
    let pass = match crate::keys::passphrase(
        kube,
        args.passphrase_from_secret.as_deref(),
        args.passphrase_file.as_deref(),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            return fail(
                Exit::Invalid,
                &e,
                "check the Secret (names only are printed) or the file",
            )
        }
    };
    let mut dirs = args.out_dir.clone();
    if dirs.is_empty() {
        dirs.push(env::out_dir(None));
    }
    let mut repos: Vec<(Repo, Option<Recipients>)> = Vec::new();
    for d in &dirs {
        let repo = match Repo::open(d) {
            Ok(r) => r,
            Err(p) => return fail(Exit::Invalid, &p.message, &p.hint),
        };
        if repos.iter().any(|(r, _)| r.display() == repo.display()) {
            return fail(
                Exit::Invalid,
                &format!("{d} is given twice"),
                "name each repository once",
            );
        }
        if let Repo::Remote(r) = &repo {
            if let Err(p) = r.preflight().await {
                return fail(Exit::Storage, &p.message, &p.hint);
            }
        }
        let recipients = match &pass {
            Some((pw, from)) => match Recipients::passphrase(pw, from) {
                Ok(r) => Some(r),
                Err(e) => {
                    return fail(
                        Exit::Invalid,
                        &e,
                        "use a longer passphrase (a generated one: `openssl rand -base64 24`)",
                    )
                }
            },
            None => match recipients_for_pinned(
                &repo,
                &args.encrypt_to,
                &args.encrypt_to_file,
                args.no_encrypt,
                args.pin_recipients.as_deref(),
            )
            .await
            {
                Ok(r) => r,
                Err((exit, p)) => return fail(exit, &p.message, &p.hint),
            },
        };
        repos.push((repo, recipients));
    }
    // A KMS-wrapped key goes into the manifest every repository shares:
    // they must all be encrypted to the same recipients (one envelope).
    if repos.len() > 1
        && repos
            .iter()
            .any(|(_, r)| r.as_ref().is_some_and(|r| r.has_kms()))
    {
        let first = repos[0].1.as_ref().map(|r| r.public.clone());
        if repos
            .iter()
            .any(|(_, r)| r.as_ref().map(|r| r.public.clone()) != first)
        {
            return fail(
                Exit::Invalid,
                "with a KMS key among the recipients, every repository must be encrypted to the same recipients (the wrapped key is recorded once for all of them)",
                "give the same --encrypt-to for every --repo (or record the same recipients with `repo init`), or back up to each repository on its own",
            );
        }
    }
    if repos.iter().any(|(_, r)| r.is_some()) && repos.iter().any(|(_, r)| r.is_none()) {
        return fail(
            Exit::Invalid,
            "some repositories would get an encrypted backup and others a plaintext one",
            "give --encrypt-to for all of them (or record recipients with `repo init` in each), or --no-encrypt",
        );
    }
    let (repo, recipients) = repos.remove(0);
    let copies = repos;
    // The bgsave path hands the user's password to redis-cli in the pod.
    auth::set_global(auth.clone());
    let plan = Plan {
        namespace: k.as_ref().map(|k| k.namespace.clone()).unwrap_or_default(),
        selector: env::selector(args.target.selector),
        pod: args.target.pod,
        container: args.target.container,
        port: args.target.redis_port,
        out_dir: repo.display(),
        started_unix: env::unix_now(),
        timeout_ms: env::millis(args.timeout),
        poll_ms: 250,
        holder: lease::holder(k.as_ref().and_then(|k| k.user.as_deref())),
        context: k.as_ref().and_then(|k| k.context.clone()),
        tool: crate::env::tool(),
        lease_s: lease::DURATION_S,
        method: match args.method {
            Method::Auto => machine::Method::Auto,
            Method::Stream => machine::Method::Stream,
            Method::Bgsave => machine::Method::Bgsave,
        },
        url,
        credentials: credentials(&auth),
        check_only: false,
        diskless: args.diskless,
        recipients: recipients
            .as_ref()
            .map(|r| r.public.clone())
            .unwrap_or_default(),
        from: match args.from {
            From::Auto => pods::Prefer::Auto,
            From::Primary => pods::Prefer::Primary,
            From::Replica => pods::Prefer::Replica,
        },
        locked_outside: false,
    };
    if args.set_abort {
        let set = args.set.clone().unwrap_or_default();
        return crate::jobs::backup_set::abort(ui, output, &repo, &set, &args.set_shards).await;
    }
    // A Redis Cluster: every primary, merged into one backup.
    let mut probe_auth = auth.clone();
    if let Some(found) = crate::jobs::cluster_backup::detect(
        ui,
        k.as_ref(),
        &mut probe_auth,
        plan.url.as_ref(),
        &plan.selector,
        plan.pod.is_some(),
        "backing up the whole cluster",
    )
    .await
    {
        if sanitize.is_some() {
            return fail(
                Exit::Invalid,
                "backup --sanitize takes one server, and this is a Redis Cluster",
                "back up the cluster, then make the sanitized copy with `kubectl redis copy SRC DST --sanitize RULES`",
            );
        }
        let t0 = std::time::Instant::now();
        let shard = match (&args.set, args.shard) {
            (Some(set), Some(slot)) => Some(crate::jobs::cluster_backup::SetJob {
                set: set.clone(),
                slot,
                planned: args.set_shards.clone(),
            }),
            _ => None,
        };
        if args.set_plan && copies.is_empty() && shard.is_none() {
            return crate::jobs::backup_set::plan(
                ui,
                output,
                &repo,
                recipients.is_some(),
                &found,
                &plan,
            )
            .await;
        }
        let mut all = vec![(repo, recipients)];
        all.extend(copies);
        return match crate::jobs::cluster_backup::run(ui, k, probe_auth, found, &plan, all, shard)
            .await
        {
            Ok(done) => report_cluster(ui, output, quiet, &done, t0.elapsed()),
            Err((exit, message, hint)) => fail(exit, &message, &hint),
        };
    }
    if let Some(sp) = &sanitize {
        return sanitized_backup(
            ui,
            output,
            quiet,
            k,
            auth,
            plan,
            sp,
            (repo, recipients),
            copies,
        )
        .await;
    }
    let audit_kube = k.clone();
    let audit_repo = repo.clone();
    let pod_hint = plan.pod.clone();
    let selector = plan.selector.clone();
    let mut shell =
        Shell::new(ui, k, auth, plan.holder.clone(), repo, recipients).with_copies(copies);
    let mut finish = drive(&mut shell, plan).await;
    if let (Some(r), Some(st)) = (&mut finish.report, &shell.stored) {
        if let Some(e) = &mut r.manifest.encryption {
            e.size = st.size;
            e.sha256 = st.sha256.clone();
        }
    }
    // Copies that failed: the backup stands where it was written, and the
    // exit code says some places are missing it.
    let failed: Vec<String> = shell
        .copy_results
        .iter()
        .filter_map(|(repo, _, e)| e.as_ref().map(|e| format!("{repo}: {e}")))
        .collect();
    if finish.exit == Exit::Ok && !failed.is_empty() {
        finish.exit = Exit::Storage;
        finish.error = Some(machine::Failure {
            message: format!(
                "the backup was not written to every repository: {}",
                failed.join("; ")
            ),
            hint: Some(
                "the others are kept; copy it later with `kubectl redis copy SRC DST`".into(),
            ),
        });
    }
    report(ui, output, quiet, &finish, &shell.copy_results);
    // The audit trail: the repositories' records, the workload's Event.
    let hint = match (&pod_hint, &audit_kube, &finish.report) {
        (Some(p), _, _) => Some(p.clone()),
        (None, Some(k), None) => crate::audit::first_pod(k, &selector).await,
        _ => None,
    };
    crate::audit::after_backup(
        ui,
        audit_kube.as_ref(),
        &audit_repo,
        &finish,
        &shell.copy_results,
        hint.as_deref(),
        false,
    )
    .await;
    finish.exit
}

/// `backup --sanitize`: the snapshot is taken into a private directory
/// (0700, removed afterwards; the full backup is never stored), then
/// sanitized on its way into each repository as `copy --sanitize` does.
/// The result names the sanitized copy.
#[allow(clippy::too_many_arguments)]
async fn sanitized_backup(
    ui: &Ui,
    output: Output,
    quiet: bool,
    k: Option<crate::kube::Kube>,
    auth: auth::Auth,
    mut plan: Plan,
    sp: &crate::sanitize::Plan,
    first: (Repo, Option<Recipients>),
    copies: Vec<(Repo, Option<Recipients>)>,
) -> Exit {
    let fail = |exit: Exit, message: &str, hint: &str| {
        let f = failed(exit, message, hint);
        report(ui, output, quiet, &f, &[]);
        exit
    };
    let staging = match crate::store::source::private_dir() {
        Ok(d) => crate::store::source::LocalCopy::new(d.clone(), d),
        Err(e) => return fail(Exit::Error, &e, "set $TMPDIR to a writable directory"),
    };
    let dir = staging.path.to_string_lossy().into_owned();
    plan.out_dir = dir.clone();
    plan.recipients = Vec::new();
    ui.note(&format!(
        "--sanitize: the snapshot goes to a private directory first ({dir}, removed afterwards), then only its sanitized copy is stored"
    ));
    let audit_kube = k.clone();
    let mut shell = Shell::new(ui, k, auth, plan.holder.clone(), Repo::Local(dir), None);
    let mut finish = drive(&mut shell, plan).await;
    let Some(r) = finish.report.as_mut() else {
        report(ui, output, quiet, &finish, &[]);
        return finish.exit;
    };
    let staged = std::path::PathBuf::from(&r.path);
    let name = staged
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let src = crate::store::source::Source::Local(staged.clone());
    let ids = std::sync::Arc::new(crate::store::crypt::Identities::none());
    let mut results = Vec::new();
    let mut first_done = None;
    for (i, (repo, rcpt)) in std::iter::once(first).chain(copies).enumerate() {
        let Some(out_name) =
            kubectl_redis_core::store::names::sanitized_name(&name, rcpt.is_some())
        else {
            return fail(Exit::Error, &format!("{name} is not a backup's name"), "");
        };
        match crate::store::copy::copy_sanitized(
            &src,
            Some(r.manifest.clone()),
            &repo,
            &out_name,
            rcpt.as_ref(),
            &ids,
            sp,
        )
        .await
        {
            Ok((c, rep)) => {
                if i == 0 {
                    crate::sanitize::say(ui, &name, &out_name, &rep);
                    first_done = Some((c, repo));
                } else {
                    results.push((repo.display(), c.destination, None));
                }
            }
            Err((exit, p)) if i == 0 => return fail(exit, &p.message, &p.hint),
            Err((_, p)) => results.push((repo.display(), String::new(), Some(p.message))),
        }
    }
    let Some((c, repo)) = first_done else {
        return fail(Exit::Error, "internal error: no sanitized copy", "");
    };
    // The result describes the sanitized copy, not the staged snapshot.
    let m = match &repo {
        Repo::Local(d) => {
            crate::store::rdbfile::manifest_for(&std::path::Path::new(d).join(&c.file))
                .ok()
                .flatten()
        }
        Repo::Remote(rr) => rr.manifest(&c.file).await.ok().flatten(),
    };
    r.path = c.destination.clone();
    r.bytes = c.bytes;
    if let Some(m) = m {
        r.manifest = m;
    }
    if !results.iter().all(|(_, _, e)| e.is_none()) {
        finish.exit = Exit::Storage;
        finish.error = Some(machine::Failure {
            message: "the sanitized backup was not written to every repository".into(),
            hint: Some(
                "the others are kept; copy it later with `kubectl redis copy SRC DST`".into(),
            ),
        });
    }
    drop(staging);
    report(ui, output, quiet, &finish, &results);
    crate::audit::after_backup(
        ui,
        audit_kube.as_ref(),
        &repo,
        &finish,
        &results,
        None,
        true,
    )
    .await;
    finish.exit
}

/// The result of a cluster backup: the path on stdout, or a
/// `BackupResult` with its shards.
fn report_cluster(
    ui: &Ui,
    output: Output,
    quiet: bool,
    d: &crate::jobs::cluster_backup::Done,
    took: Duration,
) -> Exit {
    let failed: Vec<String> = d
        .copies
        .iter()
        .filter_map(|(r, _, e)| e.as_ref().map(|e| format!("{r}: {e}")))
        .collect();
    let broken = d.set.as_ref().and_then(|s| s.broken.clone());
    let exit = if let Some(why) = &broken {
        ui.error(
            &format!("the shard is stored, but its set cannot be sealed: {why}"),
            Some("run the backup again once the cluster's slots stay put"),
        );
        Exit::Error
    } else if failed.is_empty() {
        Exit::Ok
    } else {
        ui.error(
            &format!(
                "the backup was not written to every repository: {}",
                failed.join("; ")
            ),
            Some("the others are kept; copy it later with `kubectl redis copy SRC DST`"),
        );
        Exit::Storage
    };
    ui.line(
        "backup",
        &kubectl_redis_core::backup::Line::Step(format!(
            "OK: {} keys from {} shards -> {}",
            d.keys,
            d.shards.len(),
            d.path
        )),
    );
    match output {
        Output::Json => {
            let m = d.manifest.as_ref();
            let v = serde_json::json!({
                "path": d.path,
                "bytes": m.map_or(d.bytes, |m| m.size),
                "method": "stream",
                "rdb_version": m.map_or(0, |m| m.rdb_version),
                "rdb_flavor": m.map_or("redis".to_string(), |m| m.flavor.clone()),
                "created": m.map(|m| m.created.clone()).unwrap_or_default(),
                "duration_ms": u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                "keys": d.keys,
                "keys_per_db": m.map(|m| serde_json::json!(m.keys_per_db)).unwrap_or(serde_json::json!({})),
                "sha256": m.map_or(d.sha256.clone(), |m| m.sha256.clone()),
                "crc64": m.map(|m| m.crc64.clone()).unwrap_or_default(),
                "verified": m.is_some_and(|m| m.verified),
                "manifest": format!("{}.json", d.path),
                "source": m.map_or(serde_json::json!({}), |m| serde_json::json!(m.source)),
                "redis_version": m.and_then(|m| m.redis_version.clone()),
                "encryption": m.and_then(|m| m.encryption.as_ref()),
                "shards": d.shards,
                "copies": d.copies.iter().map(|(repo, path, e)| serde_json::json!({
                    "repository": repo, "path": path, "ok": e.is_none(),
                    "error": e.as_ref().map(|m| output::error(m, None)),
                })).collect::<Vec<_>>(),
                "exit_code": exit.code(),
            });
            let mut v = v;
            // A set's shard (inside its Job): how sealing the set went.
            if let (Some(s), Some(o)) = (&d.set, v.as_object_mut()) {
                o.insert(
                    "set".into(),
                    serde_json::json!({
                        "name": s.set, "slot": s.slot, "sealed": s.sealed,
                        "waiting_for": s.waiting, "broken": s.broken,
                    }),
                );
            }
            output::print(ui, "BackupResult", v);
        }
        Output::Text if quiet => {}
        Output::Text => {
            println!("{}", d.path);
            for (_, path, e) in &d.copies {
                if e.is_none() {
                    println!("{path}");
                }
            }
        }
    }
    exit
}

/// Who the backup is encrypted to: the command line, else the repository's
/// config (`repo init`), else nobody; a backup leaving the machine in
/// plaintext must be asked for with `--no-encrypt`.
pub async fn recipients_for(
    repo: &Repo,
    to: &[String],
    files: &[String],
    no_encrypt: bool,
) -> Result<Option<Recipients>, (Exit, Problem)> {
    recipients_for_pinned(repo, to, files, no_encrypt, None).await
}

/// As [`recipients_for`]; the repository's recorded recipients must have
/// the fingerprint `pin` when given, and a change since this machine last
/// used the repository is warned about.
pub async fn recipients_for_pinned(
    repo: &Repo,
    to: &[String],
    files: &[String],
    no_encrypt: bool,
    pin: Option<&str>,
) -> Result<Option<Recipients>, (Exit, Problem)> {
    let invalid = |m: String| {
        (
            Exit::Invalid,
            Problem {
                message: m,
                hint: "give age public keys (age1..., from `age-keygen`) or SSH public keys; secret keys never go on the command line".into(),
            },
        )
    };
    if let Some(mut r) = Recipients::parse(to, files).map_err(invalid)? {
        r.resolve_kms().await?;
        return Ok(Some(r));
    }
    if no_encrypt {
        return Ok(None);
    }
    let config = repo.config().await.map_err(|p| (Exit::Storage, p))?;
    if let Some(c) = config.filter(|c| !c.recipients.is_empty()) {
        let fp = crate::store::trust::fingerprint(&c.recipients);
        if let Some(pin) = pin.filter(|p| p.trim() != fp) {
            return Err((
                Exit::Key,
                Problem {
                    message: format!(
                        "the recipients recorded in {}/{} are not the ones pinned ({} pinned, {fp} now: {}); nothing was backed up rather than encrypt to keys you did not choose",
                        repo.display(),
                        repo::CONFIG,
                        pin.trim(),
                        c.recipients.join(", ")
                    ),
                    hint: "if you changed them yourself (`repo init --force`), pin the new ones: `kubectl redis schedule ...` again, or --pin-recipients with `repo show`'s fingerprint".into(),
                },
            ));
        }
        if let Some(w) = crate::store::trust::remember_recipients(&repo.display(), &c.recipients) {
            crate::ui::warning(&w);
        }
        let mut r = Recipients::parse(&c.recipients, &[])
            .map_err(|m| invalid(format!("{}/{}: {m}", repo.display(), repo::CONFIG)))?;
        if let Some(r) = r.as_mut() {
            r.resolve_kms().await?;
        }
        return Ok(r);
    }
    if let Some(pin) = pin {
        return Err((
            Exit::Key,
            Problem {
                message: format!(
                    "{} records no recipients, but {pin} was pinned: its settings were removed; nothing was backed up",
                    repo.display()
                ),
                hint: "restore the repository's settings (`repo init`), or give --encrypt-to".into(),
            },
        ));
    }
    if let Repo::Remote(r) = repo {
        return Err((
            Exit::Invalid,
            Problem {
                message: format!(
                    "{} is object storage and no recipients are set: backups leave this machine encrypted unless you say otherwise",
                    r.url
                ),
                hint: "add --encrypt-to age1... (or record them once: kubectl redis repo init URL --encrypt-to age1...), or --no-encrypt to store plaintext".into(),
            },
        ));
    }
    Ok(None)
}

fn json_kind(o: Output) -> Option<&'static str> {
    (o == Output::Json).then_some("BackupResult")
}

/// What the machine may know of the credentials: never the password.
pub fn credentials(a: &Auth) -> Credentials {
    Credentials {
        user: a.user.clone(),
        password_from: a
            .password
            .as_ref()
            .map(|_| a.source.clone().unwrap_or_else(|| "the environment".into())),
    }
}

fn failed(exit: Exit, message: &str, hint: &str) -> Finish {
    Finish {
        exit,
        report: None,
        error: Some(machine::Failure {
            message: message.to_string(),
            hint: Some(hint.to_string()),
        }),
    }
}

fn report(
    ui: &Ui,
    output: Output,
    quiet: bool,
    f: &Finish,
    copies: &[(String, String, Option<String>)],
) {
    if let Some(e) = &f.error {
        ui.error(&e.message, e.hint.as_deref());
    }
    match output {
        Output::Json => {
            let mut v = json(f);
            if let (Some(o), false) = (v.as_object_mut(), copies.is_empty()) {
                let c: Vec<serde_json::Value> = copies
                    .iter()
                    .map(|(repo, path, e)| {
                        serde_json::json!({
                            "repository": repo, "path": path, "ok": e.is_none(),
                            "error": e.as_ref().map(|m| output::error(m, None)),
                        })
                    })
                    .collect();
                o.insert("copies".into(), c.into());
            }
            output::print(ui, "BackupResult", v)
        }
        Output::Text if quiet => {}
        Output::Text => {
            if let Some(r) = &f.report {
                println!("{}", r.path);
            }
            for (_, path, e) in copies {
                if e.is_none() {
                    println!("{path}");
                }
            }
        }
    }
}

fn json(f: &Finish) -> serde_json::Value {
    let Some(r) = &f.report else {
        let e = f.error.as_ref();
        return serde_json::json!({
            "error": output::error(
                e.map(|e| e.message.as_str()).unwrap_or("failed"),
                e.and_then(|e| e.hint.as_deref()),
            ),
            "exit_code": f.exit.code(),
        });
    };
    let m = &r.manifest;
    let mut v = serde_json::json!({
        "path": r.path,
        "bytes": r.bytes,
        "method": m.method,
        "rdb_version": r.rdb.version,
        "rdb_flavor": r.rdb.flavor,
        "created": r.created,
        "duration_ms": r.duration_ms,
        "keys": m.keys,
        "keys_per_db": m.keys_per_db,
        "sha256": m.sha256,
        "crc64": m.crc64,
        "verified": m.verified,
        "manifest": format!("{}.json", r.path),
        "encryption": m.encryption,
        "exit_code": f.exit.code(),
    });
    if let (Some(o), true) = (v.as_object_mut(), m.sanitized) {
        o.insert("sanitized".into(), true.into());
        o.insert(
            "sanitize".into(),
            serde_json::to_value(&m.sanitize).unwrap_or_default(),
        );
    }
    let extra = match r.method {
        machine::Method::Bgsave => serde_json::json!({
            "namespace": r.namespace,
            "pod": r.pod,
            "container": r.container,
            "remote_path": r.remote_path,
            "lastsave_unix": r.lastsave,
            "bgsave_ms": r.bgsave_ms,
            "copy_ms": r.copy_ms,
            "source": m.source,
        }),
        _ => serde_json::json!({
            "diskless": r.diskless,
            "redis_version": m.redis_version,
            "source": m.source,
            "sync_ms": r.sync_ms,
        }),
    };
    if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    // Saved, but not everywhere (several --repo): the error says where not.
    if let (Some(o), Some(e)) = (v.as_object_mut(), &f.error) {
        o.insert("error".into(), output::error(&e.message, e.hint.as_deref()));
    }
    v
}

/// `backup --in-cluster`: the same backup as a Job next to Redis, writing
/// straight to the repository; this process follows it.
async fn in_cluster(ui: &Ui, kube: &KubeArgs, args: &BackupArgs) -> Exit {
    use crate::jobs::in_cluster::{self, Plan};
    let output = args.output;
    let fail = |message: String, hint: &str| {
        ui.error(&message, Some(hint));
        if output == Output::Json {
            output::failure(ui, "BackupResult", Exit::Invalid, &message, Some(hint));
        }
        Exit::Invalid
    };
    // What names a file on this machine cannot reach the Job.
    let local: [(bool, &str, &str); 9] = [
        (
            args.metrics_file.is_some(),
            "--metrics-file",
            "use --pushgateway",
        ),
        (
            !args.encrypt_to_file.is_empty(),
            "--encrypt-to-file",
            "give the recipients with --encrypt-to, or record them with `repo init`",
        ),
        (
            args.passphrase_file.is_some(),
            "--passphrase-file",
            "use --passphrase-from-secret",
        ),
        (
            args.sign_with.is_some(),
            "--sign-with",
            "sign with a scheduled backup's --sign-with-secret, or run without --in-cluster",
        ),
        (
            args.sanitize.sanitize.is_some(),
            "--sanitize",
            "sanitize a copy afterwards: `kubectl redis copy SRC DST --sanitize RULES`",
        ),
        (
            args.tls.cacert.is_some() || args.tls.cert.is_some() || args.tls.key.is_some(),
            "--cacert/--cert/--key",
            "use --tls-from-secret NAME",
        ),
        (
            args.tls.tls_from_dir.is_some(),
            "--tls-from-dir",
            "use --tls-from-secret NAME",
        ),
        (
            args.user_name.is_some() && args.password_from_secret.is_none(),
            "--user-name without --password-from-secret",
            "give the password with --password-from-secret NAME/KEY",
        ),
        (
            args.diskless && args.method == Method::Bgsave,
            "--diskless with --method bgsave",
            "drop one of them",
        ),
    ];
    if let Some((flag, hint)) = in_cluster::local_flag(&local) {
        return fail(
            format!("{flag} cannot be used with --in-cluster: it names something on this machine, which the Job does not have"),
            hint,
        );
    }
    // Where the backup goes: the repository itself (or a directory on --pvc).
    let mut repos = args.out_dir.clone();
    if repos.is_empty() {
        repos.push(env::out_dir(None));
    }
    for r in &repos {
        if repo::is_remote(r) {
            if let Err(p) = Repo::open(r) {
                return fail(p.message, &p.hint);
            }
            continue;
        }
        if !in_cluster::reachable(&args.in_cluster, r) {
            return fail(
                format!("--in-cluster writes straight to the repository, and {r} is a directory on this machine"),
                in_cluster::UNREACHABLE_HINT,
            );
        }
    }
    if env::env_nonempty("REDISCLI_AUTH").is_some() && args.password_from_secret.is_none() {
        ui.warn("$REDISCLI_AUTH is not passed to the Job (a password never goes into its spec): it uses the Redis container's own password; give --password-from-secret NAME/KEY for another");
    }
    let mut a = in_cluster::Argv::new(&["backup"]);
    a.opt("-l", args.target.selector.clone());
    a.opt("--pod", args.target.pod.clone());
    a.opt("--container", args.target.container.clone());
    a.opt("--redis-port", args.target.redis_port);
    a.opt("--url", args.url.clone());
    a.opt("--password-from-secret", args.password_from_secret.clone());
    a.opt("--user-name", args.user_name.clone());
    a.opt("--pushgateway", args.pushgateway.clone());
    a.opt(
        "--passphrase-from-secret",
        args.passphrase_from_secret.clone(),
    );
    a.opt("--pin-recipients", args.pin_recipients.clone());
    a.opt("--tls-server-name", args.tls.tls_server_name.clone());
    a.opt("--tls-from-secret", args.tls.tls_from_secret.clone());
    a.each("--allow-host", &args.allow_host);
    a.each("--repo", &repos);
    a.each("--encrypt-to", &args.encrypt_to);
    let name = |v: Option<clap::builder::PossibleValue>| v.map(|v| v.get_name().to_string());
    a.opt("--method", name(args.method.to_possible_value()));
    a.opt("--from", name(args.from.to_possible_value()));
    a.secs("--timeout", args.timeout);
    a.switch("--diskless", args.diskless);
    a.switch("--no-encrypt", args.no_encrypt);
    a.switch("--tls", args.tls.tls);
    a.switch("--insecure-skip-verify", args.tls.insecure_skip_verify);
    // A Redis Cluster becomes a backup set, one Job per shard (the first Job
    // finds out and plans it); --merge keeps one Job and one merged file,
    // as a detached run does (nothing is left to start the shards' Jobs).
    a.switch(
        "--set-plan",
        !args.merge && !args.in_cluster.detach && repos.len() == 1,
    );
    // The Role: what a scheduled backup of the same pods may do, without
    // the port-forward; Secrets and Leases by name where they are found.
    use in_cluster::secret_of;
    let mut access = kubectl_redis_core::ops::schedule::Access {
        exec: args.method != Method::Stream && args.url.is_none(),
        services: args.tls.tls_from_secret.is_some() && args.tls.tls_server_name.is_none(),
        lease_names: Vec::new(),
        secret_names: [
            secret_of(&args.password_from_secret),
            secret_of(&args.passphrase_from_secret),
        ]
        .into_iter()
        .flatten()
        .chain(args.tls.tls_from_secret.clone())
        .collect(),
    };
    let mut node = None;
    if args.url.is_none() {
        let json = (output == Output::Json).then_some("BackupResult");
        match in_cluster::narrow(ui, kube, json, &args.target, &args.tls, &mut access).await {
            Ok(n) => node = n,
            Err(exit) => return exit,
        }
    }
    access.secret_names.sort();
    access.secret_names.dedup();
    let plan = Plan {
        command: "backup".into(),
        args: a.0,
        rules: kubectl_redis_core::ops::job::backup_rules(&access),
        node,
    };
    let quiet = args.quiet;
    let text = move |v: &serde_json::Value| {
        if !quiet {
            in_cluster::backup_text(v);
        }
    };
    in_cluster::run(
        ui,
        kube,
        &args.in_cluster,
        plan,
        output,
        "BackupResult",
        &text,
    )
    .await
}
