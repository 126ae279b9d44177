//! `kubectl redis schedule`: prints (or applies) a CronJob that runs the
//! plugin's own image in the cluster, with the least RBAC it needs.

use crate::args::{parse_duration, KubeArgs, TargetArgs};
use crate::env;
use crate::ui::Ui;
use clap::{Args, ValueEnum};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::ops::schedule::{
    alert_rule, cron_for, manifests, period_s, yaml, Access, Drill, Spec, Volume,
};
use std::time::Duration;

pub const LONG_ABOUT: &str =
    "Print (or, with --apply, apply) a CronJob, ServiceAccount, Role and RoleBinding \
that run `kubectl-redis backup` from the plugin's own image on a schedule, inside \
the cluster. The Role holds only what a backup needs: get/list pods, get/create on \
pods/portforward and pods/exec (streams are authorized as get before Kubernetes \
1.31), and the Lease. Backups go to /backups in the pod: a PVC (--pvc), a node \
directory (--host-path), or an emptyDir that vanishes with the pod. The image is \
built by the repository's Dockerfile.";

pub const AFTER_HELP: &str = "Examples:\n  kubectl redis schedule --every 1h -n prod --repo s3://backups/prod --encrypt-to age1... \\\n      --repo-credentials-from-secret backup-s3 --pushgateway http://pushgateway.monitoring:9091 --alerts\n  kubectl redis schedule --every 1h -n prod --repo s3://backups/prod --pushgateway http://pushgateway.monitoring:9091 --alerts --alert-archive-lag 1m\n  kubectl redis schedule --every 1h -n prod --repo s3://backups/prod --service-account-annotation eks.amazonaws.com/role-arn=arn:aws:iam::123:role/backup\n  kubectl redis schedule --every 1h -n october --pvc redis-backups > backup-cronjob.yaml\n  kubectl redis schedule --cron '0 3 * * *' -n prod --pvc backups --apply\n  kubectl redis schedule --every 6h --image registry.example/kubectl-redis:0.1.0 --password-from-secret redis-auth/password\n  kubectl redis schedule --every 1d -n prod --repo s3://backups/prod --drill --drill-identity-from-secret drill-key/key.txt";

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScheduleOutput {
    /// YAML documents
    #[default]
    Yaml,
    /// A v1 List
    Json,
}

#[derive(Args, Debug)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How often: 30m, 1h, 6h, 1d, 1w (must divide an hour or a day)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "cron")]
    pub every: Option<Duration>,
    /// A cron expression instead of --every
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// The image to run (the Dockerfile in the repository builds it) [default: ghcr.io/kubectl-redis/kubectl-redis:VERSION]
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Keep backups on this PersistentVolumeClaim
    #[arg(long, value_name = "NAME", conflicts_with = "host_path")]
    pub pvc: Option<String>,
    /// Keep backups in this directory on the node (single-node and development clusters)
    #[arg(long, value_name = "DIR")]
    pub host_path: Option<String>,
    /// The backup method the Job uses
    #[arg(long, value_name = "METHOD", default_value = "auto", value_parser = ["auto", "stream", "bgsave"])]
    pub method: String,
    /// Password Secret for the backup (NAME/KEY); the Role may read that Secret only
    #[arg(long, value_name = "NAME/KEY")]
    pub password_from_secret: Option<String>,
    /// TLS to Redis from a kubernetes.io/tls Secret (ca.crt, tls.crt, tls.key), mounted
    /// read-only into the Job's pod (the Role gets no access to it). A pod whose spec says TLS
    /// needs none: the Secret its certificates live on is read
    #[arg(long, value_name = "NAME")]
    pub tls_from_secret: Option<String>,
    /// The name the server's certificate must carry (passed to the Job's backup)
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Back up to this object storage instead of a volume (s3://BUCKET/PREFIX, gs://..., az://...)
    #[arg(long, value_name = "URL", conflicts_with_all = ["pvc", "host_path"])]
    pub repo: Option<String>,
    /// Encrypt each backup with age to this recipient (public key); repeatable
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Encrypt each backup with the passphrase in this Secret's key (add get on that Secret to the Role yourself)
    #[arg(long, value_name = "NAME/KEY", conflicts_with = "encrypt_to")]
    pub passphrase_from_secret: Option<String>,
    /// Store plaintext backups in object storage
    #[arg(long, conflicts_with_all = ["encrypt_to", "passphrase_from_secret"])]
    pub no_encrypt: bool,
    /// A Secret whose keys become the Job's environment: storage credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AZURE_STORAGE_ACCOUNT_KEY, GOOGLE_SERVICE_ACCOUNT_KEY, ...)
    #[arg(long, value_name = "NAME")]
    pub repo_credentials_from_secret: Option<String>,
    /// An annotation on the ServiceAccount, for cloud identity: eks.amazonaws.com/role-arn=ARN (IRSA), iam.gke.io/gcp-service-account=EMAIL, azure.workload.identity/client-id=ID; repeatable
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_annotation)]
    pub service_account_annotation: Vec<(String, String)>,
    /// Push each run's metrics to this Prometheus Pushgateway
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    /// Also print a PrometheusRule: no successful backup for --alert-after, or the last one failed (needs --pushgateway)
    #[arg(long, requires = "pushgateway")]
    pub alerts: bool,
    /// How old the newest successful backup may get before RedisBackupTooOld fires [default: twice the schedule's period]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "alerts")]
    pub alert_after: Option<Duration>,
    /// Also alert on this namespace's point-in-time archivers (`kubectl redis archive start --service-monitor`): RedisArchiveBehind when a write waits longer than this to be stored, RedisArchiveDown, RedisArchiveSpoolFull, RedisArchiveMetricsAbsent
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "alerts")]
    pub alert_archive_lag: Option<Duration>,
    /// Sign each backup's manifest with the key in this Secret's key (a file `kubectl redis repo keygen` wrote: `kubectl create secret generic NAME --from-file=key=FILE`), mounted read-only into the Job's pod
    #[arg(long, value_name = "NAME/KEY")]
    pub sign_with_secret: Option<String>,
    /// Kill a Job still running after this long (activeDeadlineSeconds), so a stalled run cannot block the later ones [default: the schedule's period, 10m to 6h]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub job_deadline: Option<Duration>,
    /// Also schedule a restore drill: a second CronJob (NAME-drill) restoring the newest backup into a throwaway pod and checking it (`kubectl redis drill`); its Job fails (exit 7) on any difference
    #[arg(long)]
    pub drill: bool,
    /// When the drill runs
    #[arg(
        long,
        value_name = "EXPR",
        default_value = "0 4 * * 0",
        requires = "drill"
    )]
    pub drill_cron: String,
    /// Namespace of the drill's throwaway pod (the Role there is yours to grant)
    #[arg(long, value_name = "NAMESPACE", requires = "drill")]
    pub drill_in: Option<String>,
    /// The drill decrypts backups with the age identity in this Secret's key (add get on that Secret to the Role yourself)
    #[arg(long, value_name = "NAME/KEY", requires = "drill")]
    pub drill_identity_from_secret: Option<String>,
    /// Name of the CronJob, ServiceAccount, Role and RoleBinding
    #[arg(long, value_name = "NAME", default_value = "kubectl-redis-backup")]
    pub name: String,
    /// CronJob API version when printing (with --apply it is asked of the cluster)
    #[arg(long = "cronjob-api", value_name = "VERSION", id = "cronjob_api_flag", value_parser = ["batch/v1", "batch/v1beta1"])]
    pub cronjob_api_flag: Option<String>,
    #[arg(skip = String::from("batch/v1"))]
    pub cronjob_api: String,
    /// Apply to the cluster (server-side apply) instead of printing
    #[arg(long)]
    pub apply: bool,
    /// Output format when printing
    #[arg(short = 'o', long, value_enum, default_value_t = ScheduleOutput::Yaml)]
    pub output: ScheduleOutput,
}

use crate::kube::objects::parse_annotation;
pub use crate::kube::objects::{apply_all, default_image, delete_all};

pub async fn run(ui: &Ui, kube: &KubeArgs, args: ScheduleArgs) -> Exit {
    let cron = match (&args.cron, args.every) {
        (Some(c), _) => c.clone(),
        (None, Some(d)) => match cron_for(d.as_secs()) {
            Ok(c) => c,
            Err(e) => {
                ui.error(&e, None);
                return Exit::Invalid;
            }
        },
        (None, None) => {
            ui.error(
                "when should it run?",
                Some("--every 1h (or 30m, 6h, 1d, 1w), or --cron '0 3 * * *'"),
            );
            return Exit::Invalid;
        }
    };
    let volume = match (&args.pvc, &args.host_path) {
        (Some(p), _) => Volume::Pvc(p.clone()),
        (None, Some(h)) => Volume::HostPath(h.clone()),
        (None, None) if args.repo.is_some() => Volume::Empty,
        (None, None) => {
            ui.note("note: no --pvc: backups go to an emptyDir and vanish with each Job's pod; give --pvc NAME to keep them");
            Volume::Empty
        }
    };
    let mut backup_args = Vec::new();
    if let Some(s) = &args.target.selector {
        backup_args.extend(["-l".to_string(), s.clone()]);
    }
    if let Some(p) = &args.target.pod {
        backup_args.extend(["--pod".to_string(), p.clone()]);
    }
    if let Some(c) = &args.target.container {
        backup_args.extend(["--container".to_string(), c.clone()]);
    }
    if let Some(p) = args.target.redis_port {
        backup_args.extend(["--redis-port".to_string(), p.to_string()]);
    }
    if let Some(s) = &args.password_from_secret {
        backup_args.extend(["--password-from-secret".to_string(), s.clone()]);
    }
    if let Some(n) = &args.tls_server_name {
        backup_args.extend(["--tls-server-name".to_string(), n.clone()]);
    }
    backup_args.extend(["--method".to_string(), args.method.clone()]);
    // Encrypted to the repository's recorded recipients: pinned to the ones
    // it records now, so a bucket writer cannot redirect the Job's backups
    // to their own key (the Job then refuses, exit 13).
    if let (Some(url), true) = (
        &args.repo,
        args.encrypt_to.is_empty() && args.passphrase_from_secret.is_none() && !args.no_encrypt,
    ) {
        let read = match crate::store::repo::Repo::open(url) {
            Ok(r) => tokio::time::timeout(std::time::Duration::from_secs(15), r.config())
                .await
                .map_err(|_| "no answer within 15 s".to_string())
                .and_then(|c| c.map_err(|p| p.message)),
            Err(p) => Err(p.message),
        };
        match read {
            Ok(Some(c)) if !c.recipients.is_empty() => {
                let fp = crate::store::trust::fingerprint(&c.recipients);
                ui.note(&format!("the Job's backups are pinned to {url}'s recipients ({fp})"));
                backup_args.extend(["--pin-recipients".to_string(), fp]);
            }
            Ok(_) => {}
            Err(e) => ui.warn(&format!(
                "could not read {url}'s recorded recipients from here ({e}): the Job's backups are not pinned to them; run with the bucket's credentials to pin them"
            )),
        }
    }
    for r in &args.encrypt_to {
        backup_args.extend(["--encrypt-to".to_string(), r.clone()]);
    }
    if let Some(p) = &args.passphrase_from_secret {
        backup_args.extend(["--passphrase-from-secret".to_string(), p.clone()]);
    }
    if args.no_encrypt {
        backup_args.push("--no-encrypt".to_string());
    }
    if let Some(p) = &args.pushgateway {
        backup_args.extend(["--pushgateway".to_string(), p.clone()]);
    }
    if let Some(r) = &args.repo {
        if let Err(p) = crate::store::repo::Repo::open(r) {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Invalid;
        }
        if crate::store::repo::is_remote(r)
            && args.encrypt_to.is_empty()
            && args.passphrase_from_secret.is_none()
            && !args.no_encrypt
        {
            ui.note("note: no --encrypt-to: the Job's backups are refused unless the repository records recipients (`kubectl redis repo init URL --encrypt-to ...`), or --no-encrypt is given");
        }
        if args.repo_credentials_from_secret.is_none() && args.service_account_annotation.is_empty()
        {
            ui.note("note: the Job finds storage credentials only in its environment or the node's metadata; give --repo-credentials-from-secret NAME or --service-account-annotation (IRSA, workload identity)");
        }
    }
    // Namespace: -n, $NS, the context's, default; resolved without a cluster
    // when only printing.
    let (namespace, client) = if args.apply {
        let Some(k) = crate::kube::connect_or_report(ui, kube, None).await else {
            return Exit::Error;
        };
        (k.namespace.clone(), Some(k.client))
    } else {
        let ns = kube
            .namespace
            .clone()
            .or_else(|| env::env_nonempty("NS"))
            .unwrap_or_else(|| "default".to_string());
        (ns, None)
    };
    let mut cronjob_api = args.cronjob_api.clone();
    if let (Some(c), None) = (&client, &args.cronjob_api_flag) {
        // batch/v1 CronJob is served from Kubernetes 1.21.
        if let Ok(list) = c.list_api_group_resources("batch/v1").await {
            if !list.resources.iter().any(|r| r.name == "cronjobs") {
                cronjob_api = "batch/v1beta1".into();
            }
        }
    }
    let signing_secret = match args.sign_with_secret.as_deref().map(|r| {
        r.split_once('/')
            .filter(|(n, k)| !n.is_empty() && !k.is_empty() && !k.contains('/'))
            .map(|(n, k)| (n.to_string(), k.to_string()))
    }) {
        None => None,
        Some(Some(x)) => Some(x),
        Some(None) => {
            ui.error(
                "--sign-with-secret takes NAME/KEY (a Secret in the namespace and a key in it)",
                Some("kubectl create secret generic backup-signing --from-file=key=signing.key, then --sign-with-secret backup-signing/key"),
            );
            return Exit::Invalid;
        }
    };
    // The Role names the Leases and Secrets it grants, where they can be
    // found: the Redis pods' workloads (their Leases) and password Secrets.
    use crate::jobs::in_cluster::secret_of;
    let mut access = Access {
        exec: args.method != "stream",
        // TLS from a Secret: the certificate is checked against the
        // names of the Services selecting the pod.
        services: args.tls_from_secret.is_some() && args.tls_server_name.is_none(),
        lease_names: Vec::new(),
        secret_names: [
            secret_of(&args.password_from_secret),
            secret_of(&args.passphrase_from_secret),
        ]
        .into_iter()
        .flatten()
        .collect(),
    };
    let looked_up = match &client {
        Some(c) => Some(c.clone()),
        // Printing only: the cluster if it answers quickly, else offline.
        None => tokio::time::timeout(
            std::time::Duration::from_secs(5),
            crate::kube::connect(kube),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .filter(|k| k.namespace == namespace)
        .map(|k| k.client),
    };
    // As the Job will search (its environment has no $APP_LABEL).
    let selector = args
        .target
        .selector
        .clone()
        .unwrap_or_else(|| "app=redis".to_string());
    match &looked_up {
        Some(c) => match crate::kube::objects::narrowing(
            c,
            &namespace,
            &selector,
            args.target.pod.as_deref(),
            args.tls_from_secret.is_some(),
        )
        .await {
            Ok((leases, secrets, tls)) if !leases.is_empty() => {
                access.lease_names = leases;
                access.secret_names.extend(secrets);
                access.services |= tls && args.tls_server_name.is_none();
            }
            Ok(_) => ui.note(&format!("note: no pod matches {selector} in {namespace}: the Role allows writing every Lease there (run again once Redis runs to name its Lease)")),
            Err(e) => ui.note(&format!("note: could not list the Redis pods ({e}): the Role allows writing every Lease in {namespace}")),
        },
        None => ui.note(&format!("note: the cluster was not reached: the Role allows writing every Lease in {namespace} and reading no Secret but those named by flags (run with cluster access, or --apply, to name them)")),
    }
    access.secret_names.sort();
    access.secret_names.dedup();
    let spec = Spec {
        namespace: namespace.clone(),
        cron,
        image: args.image.clone().unwrap_or_else(default_image),
        backup_args,
        volume,
        cronjob_api,
        name: args.name.clone(),
        repo: args.repo.clone(),
        env_secret: args.repo_credentials_from_secret.clone(),
        sa_annotations: args.service_account_annotation.clone(),
        drill: args.drill.then(|| {
            let mut a = Vec::new();
            if let Some(s) = &args.target.selector {
                a.extend(["-l".to_string(), s.clone()]);
            }
            if let Some(n) = &args.drill_in {
                a.extend(["--in".to_string(), n.clone()]);
            }
            if let Some(s) = &args.drill_identity_from_secret {
                a.extend(["--identity-from-secret".to_string(), s.clone()]);
            }
            Drill {
                cron: args.drill_cron.clone(),
                args: a,
                namespace: args.drill_in.clone(),
                secret_names: secret_of(&args.drill_identity_from_secret)
                    .into_iter()
                    .collect(),
            }
        }),
        deadline_s: args
            .job_deadline
            .map(|d| d.as_secs().max(1))
            .unwrap_or_else(|| {
                kubectl_redis_core::ops::schedule::default_deadline_s(
                    args.every.map(|d| d.as_secs()),
                )
            }),
        access,
        signing_secret,
        tls_secret: args.tls_from_secret.clone(),
    };
    let mut docs = manifests(&spec);
    if args.alerts {
        let after = args
            .alert_after
            .map(|d| d.as_secs())
            .unwrap_or_else(|| 2 * period_s(args.every.map(|d| d.as_secs())));
        docs.push(alert_rule(
            &spec,
            after,
            args.alert_archive_lag.map(|d| d.as_secs().max(1)),
        ));
    }
    let Some(client) = client else {
        match args.output {
            ScheduleOutput::Yaml => print!("{}", yaml(&docs)),
            ScheduleOutput::Json => {
                let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs});
                match serde_json::to_string_pretty(&list) {
                    Ok(s) => println!("{s}"),
                    Err(e) => ui.error(&format!("cannot encode: {e}"), None),
                }
            }
        }
        return Exit::Ok;
    };
    if let Err(e) = apply_all(&client, &namespace, &docs).await {
        ui.error(
            &e,
            Some("applying needs create/patch on serviceaccounts, roles, rolebindings and cronjobs; or print it and apply with kubectl"),
        );
        return Exit::Error;
    }
    ui.note(&format!(
        "scheduled: {} in namespace {namespace}; run one now with `kubectl -n {namespace} create job --from=cronjob/{} {}-now`",
        spec.cron, spec.name, spec.name
    ));
    Exit::Ok
}
