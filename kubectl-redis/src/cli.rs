//! Flags, subcommands and dispatch.

use crate::ui::{self, Ui};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use kubectl_redis_core::exit::{self, Exit};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const ABOUT: &str = "Back up and restore Redis running in Kubernetes";

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-redis",
    bin_name = "kubectl redis",
    version,
    about = ABOUT,
    long_about = None,
    propagate_version = true,
    after_help = "Examples:\n  kubectl redis backup -n october          # BGSAVE and copy the dump to ./backups\n  kubectl redis list                       # backups, newest first\n  kubectl redis restore --file F -n october  # replace all data with a backup (asks first)\n\nRun 'kubectl redis COMMAND --help' for a command's flags, environment and exit codes."
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Cluster selection, as kubectl's global flags.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Cluster")]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace (default: $NS, then the context's namespace, then "default")
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub struct UiArgs {
    /// When to use colour (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    /// Print each step of the state machine to stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Output {
    /// Human-readable text
    #[default]
    Text,
    /// One JSON document on stdout
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Snapshot Redis into a verified local file (replication stream or BGSAVE)
    #[command(
        long_about = "Snapshot Redis into a verified local file.\n\n\
Finds the Running and Ready pod with the label selector (or takes --url), then \
gets a snapshot one of two ways. stream: speaks the replication protocol \
(REPLCONF capa eof, SYNC) through a port-forward: no exec, no shell in the image, \
and with diskless sync no free space on the Redis volume. bgsave (the runbook's \
way): BGSAVE, wait until LASTSAVE advances, stream /data/dump.rdb out of the pod \
through exec. --method auto (the default) uses stream when the server and your \
RBAC allow it and says when it falls back.\n\n\
Every byte is verified while it is written (structure, packed encodings, LZF, \
CRC-64), into a hidden temporary file that is fsynced and only then named \
redis-backup-YYYYMMDD_HHMMSS.rdb (UTC, mode 0600) in OUT_DIR, next to a manifest \
(the same name + .json: sha256, keys per database, source, method). A corrupt \
snapshot (exit 8), an interruption or any failure leaves no file behind. Progress \
goes to stderr, the path of the backup to stdout.",
        after_help = backup_after_help()
    )]
    Backup(BackupArgs),
    /// Replace all data in Redis with a backup (asks first)
    #[command(
        long_about = "Replace all data in Redis with a backup.\n\n\
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
back from the annotations.",
        after_help = restore_after_help()
    )]
    Restore(RestoreArgs),
    /// List local backups, newest first
    #[command(
        after_help = "Environment:\n  OUT_DIR, BACKUPS_DIR   directory to read when --out-dir is not given\n\nExamples:\n  kubectl redis list\n  kubectl redis list --out-dir /mnt/backups -o json"
    )]
    List(ListArgs),
    /// Check every byte of RDB files: structure, encodings, CRC-64
    #[command(
        long_about = "Check every byte of RDB files: the structure of every key and value, the \
packed encodings inside them (listpack, ziplist, intset), LZF-compressed strings, \
and the CRC-64 at the end. Reads in bounded memory whatever the file's size. When \
a backup has a manifest (FILE.json, written by `kubectl redis backup`), its size, \
sha256 and key count must match too. Exit 0 only when every file checks out.",
        after_help = "Exit codes:\n    0  every file checks out\n    1  --url: the server could not be reached\n    2  a file is missing or unreadable\n    8  a file is corrupt or differs from its manifest\n    9  --url: the server refused SYNC\n\nExamples:\n  kubectl redis verify ./backups/*.rdb\n  kubectl redis verify dump.rdb -o json | jq .files[0].keys\n  kubectl redis verify --url redis://127.0.0.1:6379     # what a backup would hold, now"
    )]
    Verify(VerifyArgs),
    /// Show what an RDB file holds: keys per db, types, biggest keys
    #[command(
        long_about = "Show what an RDB file holds, offline: format and server version, \
creation time, memory in use when saved, keys and expiries per database, a \
histogram of types and encodings, the biggest keys, and space by key prefix. \
Sizes are bytes in the file (compressed), not memory in Redis. The file is \
verified while it is read; a corrupt file is reported (exit 8).",
        after_help = "Examples:\n  kubectl redis inspect ./backups/redis-backup-20251024_180500.rdb\n  kubectl redis inspect dump.rdb --top 20 --prefix-sep :\n  kubectl redis inspect dump.rdb -o json | jq .dbs"
    )]
    Inspect(InspectArgs),
    /// Check everything a backup or restore depends on, and your RBAC
    #[command(
        long_about = "Check everything a backup or restore depends on: the cluster, the Redis pod \
(readiness, restarts), PING, role and replicas, keys per database, LASTSAVE and the \
last BGSAVE's status, persistence settings, memory against free space on the data \
volume, whether SYNC is allowed (stream backups), the writers and any unfinished \
restore's record, and the newest local backup. Then your RBAC: a \
SelfSubjectAccessReview for every permission the plugin uses, with what each \
missing one disables. Each problem line names its fix.",
        after_help = "Exit codes:\n    0  nothing that will make a backup or restore fail (warnings may remain)\n    1  the cluster cannot be reached\n   11  a problem that will make backups or restores fail\n\nExamples:\n  kubectl redis status -n october\n  kubectl redis status -n prod --pod redis-0 -o json | jq .rbac"
    )]
    Status(StatusArgs),
    /// Print (or apply) a CronJob that backs up on a schedule, with least-privilege RBAC
    #[command(
        long_about = "Print (or, with --apply, apply) a CronJob, ServiceAccount, Role and RoleBinding \
that run `kubectl-redis backup` from the plugin's own image on a schedule, inside \
the cluster. The Role holds only what a backup needs: get/list pods, get/create on \
pods/portforward and pods/exec (streams are authorized as get before Kubernetes \
1.31), and the Lease. Backups go to /backups in the pod: a PVC (--pvc), a node \
directory (--host-path), or an emptyDir that vanishes with the pod. The image is \
built by the repository's Dockerfile.",
        after_help = "Examples:\n  kubectl redis schedule --every 1h -n october --pvc redis-backups > backup-cronjob.yaml\n  kubectl redis schedule --cron '0 3 * * *' -n prod --pvc backups --apply\n  kubectl redis schedule --every 6h --image registry.example/kubectl-redis:0.1.0 --password-from-secret redis-auth/password"
    )]
    Schedule(ScheduleArgs),
    /// Remove old backups by a retention policy (a dry run unless --yes)
    #[command(
        long_about = "Remove old backups by a retention policy. The rules add up: a backup is \
kept if any rule keeps it, and the newest backup is always kept. Only files named \
like our backups (redis-backup-YYYYMMDD_HHMMSS[-N].rdb) are candidates; each is \
removed together with its manifest. Without --yes nothing is removed: the plan is \
printed.",
        after_help = "Examples:\n  kubectl redis prune --keep-last 10                 # shows what would go\n  kubectl redis prune --keep-within 7d --keep-daily 30 --yes\n  kubectl redis prune --keep-hourly 24 --keep-daily 7 --keep-weekly 8 -o json"
    )]
    Prune(PruneArgs),
    /// Exit non-zero when the newest verified backup is too old (for alerting)
    #[command(
        long_about = "Exit non-zero when the newest verified backup is older than --max-age, or \
when there is none (exit 10). A backup counts as verified when its manifest says \
so and its size matches. --metrics-file writes Prometheus text-format gauges \
(whole, atomically) for node-exporter's textfile collector; backup and restore \
can write the same file, each replacing only its own metrics.",
        after_help = "Exit codes:\n    0  the newest verified backup is recent enough\n    1  the directory cannot be read, or the metrics file cannot be written\n   10  no verified backup, or the newest is older than --max-age\n\nExamples:\n  kubectl redis check --max-age 24h\n  kubectl redis check --max-age 26h --metrics-file /var/lib/node_exporter/textfile/redis_backup.prom"
    )]
    Check(CheckArgs),
    /// Print a shell completion script
    #[command(
        after_help = "These complete the `kubectl-redis` command. For `kubectl redis <TAB>` (kubectl 1.26+),\nput the `kubectl_complete-redis` executable (installed beside kubectl-redis) on PATH:\nkubectl runs it and it answers with subcommands, flags, namespaces and pods (the\ncluster gets 60 ms, then the kubeconfig answers), contexts, and backup files for --file.\n\nExamples:\n  source <(kubectl redis completion bash)\n  kubectl redis completion zsh > \"${fpath[1]}/_kubectl-redis\"\n  kubectl redis completion fish > ~/.config/fish/completions/kubectl-redis.fish"
    )]
    Completion {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn backup_after_help() -> String {
    format!(
        "Environment:\n  NS                     namespace when -n is not given\n  APP_LABEL              selector when -l is not given; a bare value V means app=V\n  OUT_DIR, BACKUPS_DIR   output directory when --out-dir is not given\n  REDISCLI_AUTH          Redis password when --password-from-secret is not given\n                         (else the container's REDIS_PASSWORD is used); never printed\n\n{}\nExamples:\n  kubectl redis backup -n october\n  kubectl redis backup -n prod --pod redis-0 --timeout 2m --out-dir /mnt/backups\n  kubectl redis backup -n prod --password-from-secret redis-auth/password\n  kubectl redis backup --method bgsave             # the runbook's BGSAVE + copy\n  kubectl redis backup --url redis://127.0.0.1:6379  # any Redis, no cluster\n  kubectl redis backup -o json | jq -r .path",
        exit::help_table()
    )
}

/// Which Redis: the same flags for every command that talks to one.
#[derive(Args, Debug)]
pub struct TargetArgs {
    /// Label selector of the Redis pod [env: APP_LABEL] [default: app=redis]
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Use this pod instead of searching by label
    #[arg(long, value_name = "NAME", conflicts_with = "selector")]
    pub pod: Option<String>,
    /// Container running Redis (default: the pod's default container, else one named redis)
    #[arg(short = 'c', long, value_name = "NAME")]
    pub container: Option<String>,
    /// Port redis-cli connects to inside the pod (default: the container port named redis, else 6379)
    #[arg(long, value_name = "PORT")]
    pub redis_port: Option<u16>,
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

impl TargetArgs {
    /// What the user asked for, as the core's pod choice takes it.
    pub fn wanted(&self) -> kubectl_redis_core::pods::Wanted<'_> {
        kubectl_redis_core::pods::Wanted {
            pod: self.pod.as_deref(),
            container: self.container.as_deref(),
            port: self.redis_port,
        }
    }
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How to get the snapshot
    #[arg(long, value_enum, default_value_t = Method::Auto, value_name = "METHOD")]
    pub method: Method,
    /// Back up this Redis directly (outside Kubernetes, or through your own port-forward); stream method only
    #[arg(long, value_name = "redis://HOST:PORT", conflicts_with_all = ["pod", "selector"])]
    pub url: Option<String>,
    /// Read the Redis password from this Secret's key (in the namespace); never printed
    #[arg(long, value_name = "NAME/KEY")]
    pub password_from_secret: Option<String>,
    /// ACL user name (the password comes from --password-from-secret, $REDISCLI_AUTH or the pod)
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// Also write Prometheus metrics of this run here (see `kubectl redis check --help`)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<String>,
    /// Directory for the backup [env: OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// How long BGSAVE may take: 30s, 2m, 1h or plain seconds
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn restore_after_help() -> String {
    format!(
        "Environment:\n  BACKUP                 file when --file is not given\n  WORKER_DEPLOY          writers when --scale-down is not given (comma-separated)\n  NS, APP_LABEL          as for backup\n\n{}\nExamples:\n  kubectl redis restore --file ./backups/redis-backup-20251024_180500.rdb -n october\n  kubectl redis restore --file x.rdb --scale-down deploy/api --scale-down sts/celery --yes\n  kubectl redis restore --file x.rdb --dry-run        # checks and plan only\n  kubectl redis restore --recover -n october          # after a killed restore",
        exit::help_table()
    )
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup file [env: BACKUP]
    #[arg(short = 'f', long, value_name = "PATH")]
    pub file: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// A writer to stop while restoring: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker, skipped with a warning when missing]
    #[arg(long = "scale-down", value_name = "KIND/NAME")]
    pub scale_down: Vec<String>,
    /// Stop no writers at all
    #[arg(long, conflicts_with = "scale_down")]
    pub no_scale_down: bool,
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
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Directory to list [env: OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// RDB files to check
    #[arg(value_name = "FILE", required_unless_present = "url")]
    pub files: Vec<String>,
    /// Instead of files: take a snapshot of this Redis over SYNC and check it, saving nothing
    #[arg(long, value_name = "redis://HOST:PORT", conflicts_with = "files")]
    pub url: Option<String>,
    /// How long the server may take to start sending the snapshot (with --url)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The RDB file
    #[arg(value_name = "FILE")]
    pub file: String,
    /// How many of the biggest keys to list
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Group keys by the part before this separator, e.g. ':'
    #[arg(long, value_name = "SEP")]
    pub prefix_sep: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Writers to report on: deploy/NAME or sts/NAME; repeatable [env: WORKER_DEPLOY] [default: deploy/worker]
    #[arg(long = "scale-down", value_name = "KIND/NAME")]
    pub scale_down: Vec<String>,
    /// Where to look for local backups [env: OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

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
    /// Password Secret for the backup (NAME/KEY); add get on secrets to the Role yourself
    #[arg(long, value_name = "NAME/KEY")]
    pub password_from_secret: Option<String>,
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

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Directory of the backups [env: OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// Keep the newest N
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Keep everything newer than this (e.g. 7d, 36h)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub keep_within: Option<Duration>,
    /// Keep the newest backup of each of the last N hours that have one
    #[arg(long, value_name = "N")]
    pub keep_hourly: Option<usize>,
    /// Keep the newest backup of each of the last N days (UTC) that have one
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<usize>,
    /// Keep the newest backup of each of the last N weeks (Monday to Sunday, UTC)
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<usize>,
    /// Remove for real (without it, only the plan is printed)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Directory of the backups [env: OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// The oldest the newest verified backup may be
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    pub max_age: Duration,
    /// Write Prometheus text-format metrics here (atomically)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// `30s`, `2m`, `1h`, `1500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration: use e.g. 30s, 2m, 1h"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        "w" => Duration::from_secs(n.saturating_mul(604_800)),
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{s}': use ms, s, m, h, d or w"
            ))
        }
    };
    if d.is_zero() {
        return Err("the duration must be more than zero".to_string());
    }
    Ok(d)
}

/// The output directory: flag, then $OUT_DIR, then $BACKUPS_DIR, then ./backups.
pub fn out_dir(flag: Option<String>) -> String {
    flag.or_else(|| env_nonempty("OUT_DIR"))
        .or_else(|| env_nonempty("BACKUPS_DIR"))
        .unwrap_or_else(|| "./backups".to_string())
}

/// The selector: flag, then $APP_LABEL (a bare value V means app=V, as in the
/// runbook's scripts), then app=redis.
pub fn selector(flag: Option<String>) -> String {
    if let Some(s) = flag {
        return s;
    }
    match env_nonempty("APP_LABEL") {
        Some(v) if v.contains(['=', '!', ',', ' ']) => v,
        Some(v) => format!("app={v}"),
        None => "app=redis".to_string(),
    }
}

/// A duration in milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The wall clock, Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn runtime(ui: &Ui) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            ui.error(&format!("cannot start the async runtime: {e}"), None);
            None
        }
    }
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on
            // stderr; usage errors are bad input: exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Invalid.code()
            } else {
                0
            });
        }
    };
    let ui = Ui::new(&cli.ui);
    let code = match cli.command {
        Command::Completion { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "kubectl-redis", &mut std::io::stdout());
            Exit::Ok
        }
        Command::List(args) => crate::list::run(&ui, args),
        Command::Verify(args) if args.url.is_some() => match runtime(&ui) {
            Some(rt) => rt.block_on(crate::verify::run_url(&ui, args)),
            None => Exit::Error,
        },
        Command::Verify(args) => crate::verify::run(&ui, args),
        Command::Inspect(args) => crate::inspect::run(&ui, args),
        Command::Prune(args) => crate::ops::prune(&ui, args),
        Command::Schedule(mut args) => {
            if let Some(v) = &args.cronjob_api_flag {
                args.cronjob_api = v.clone();
            }
            match runtime(&ui) {
                Some(rt) => rt.block_on(crate::schedule::run(&ui, &cli.kube, args)),
                None => Exit::Error,
            }
        }
        Command::Status(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(crate::status::run(&ui, &cli.kube, args)),
            None => Exit::Error,
        },
        Command::Check(args) => crate::ops::check(&ui, args),
        Command::Backup(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(crate::backup::run(&ui, &cli.kube, args)),
            None => Exit::Error,
        },
        Command::Restore(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(crate::restore::run(&ui, &cli.kube, args)),
            None => Exit::Error,
        },
    };
    ui::flush();
    ExitCode::from(code.code())
}
