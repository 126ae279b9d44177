//! The top-level parser and the dispatch: nothing else. Each subcommand's
//! flags and work live in `commands/`; shared flag groups in `args`.

use crate::args::KubeArgs;
use crate::args::UiArgs;
use crate::commands::archive::{self, ArchiveArgs};
use crate::commands::audit::{self, AuditArgs};
use crate::commands::backup::{self, BackupArgs};
use crate::commands::check::{self, CheckArgs};
use crate::commands::copy::{self, CopyArgs};
use crate::commands::drill::{self, DrillArgs};
use crate::commands::inspect::{self, InspectArgs};
use crate::commands::list::{self, ListArgs};
use crate::commands::prune::{self, PruneArgs};
use crate::commands::repo::{self, RepoArgs};
use crate::commands::restore::{self, RestoreArgs};
use crate::commands::runs::{self, RunsArgs};
use crate::commands::schedule::{self, ScheduleArgs};
use crate::commands::status::{self, StatusArgs};
use crate::commands::verify::{self, VerifyArgs};
use crate::ui::{self, Ui};
use clap::{CommandFactory, Parser, Subcommand};
use kubectl_redis_core::exit::Exit;
use std::process::ExitCode;

const ABOUT: &str = "Back up and restore Redis running in Kubernetes";

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-redis",
    bin_name = "kubectl redis",
    version,
    about = ABOUT,
    long_about = None,
    propagate_version = true,
    after_help = "Examples:\n  kubectl redis backup -n october          # a verified snapshot in ./backups\n  kubectl redis list                       # backups, newest first\n  kubectl redis restore --file F -n october  # replace all data with a backup (asks first)\n\nRun 'kubectl redis COMMAND --help' for a command's flags, environment and exit codes."
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Snapshot Redis into a verified backup: a local file or object storage (replication stream or BGSAVE)
    #[command(
        long_about = backup::LONG_ABOUT,
        after_help = backup::after_help()
    )]
    Backup(BackupArgs),
    /// Replace all data in Redis with a backup (asks first)
    #[command(
        long_about = restore::LONG_ABOUT,
        after_help = restore::after_help()
    )]
    Restore(RestoreArgs),
    /// Restore a backup into a throwaway Redis pod, check it, time it, delete the pod
    #[command(
        long_about = drill::LONG_ABOUT,
        after_help = drill::after_help()
    )]
    Drill(DrillArgs),
    /// List backups in a directory or object storage, newest first
    #[command(
        long_about = list::LONG_ABOUT,
        after_help = list::AFTER_HELP
    )]
    List(ListArgs),
    /// Check every byte of RDB files: structure, encodings, CRC-64
    #[command(
        long_about = verify::LONG_ABOUT,
        after_help = verify::AFTER_HELP
    )]
    Verify(VerifyArgs),
    /// Show what an RDB file holds: keys per db, types, biggest keys
    #[command(
        long_about = inspect::LONG_ABOUT,
        after_help = inspect::AFTER_HELP
    )]
    Inspect(InspectArgs),
    /// Check everything a backup or restore depends on, and your RBAC
    #[command(
        long_about = status::LONG_ABOUT,
        after_help = status::AFTER_HELP
    )]
    Status(StatusArgs),
    /// Print (or apply) a CronJob that backs up on a schedule, with least-privilege RBAC
    #[command(
        long_about = schedule::LONG_ABOUT,
        after_help = schedule::AFTER_HELP
    )]
    Schedule(ScheduleArgs),
    /// Copy backups between repositories (local, S3, GCS, Azure), checked, skipping those there
    #[command(
        long_about = copy::LONG_ABOUT,
        after_help = copy::AFTER_HELP
    )]
    Copy(CopyArgs),
    /// A repository's settings: the recipients every backup to it is encrypted to
    #[command(
        long_about = repo::LONG_ABOUT,
        after_help = repo::AFTER_HELP
    )]
    Repo(RepoArgs),
    /// Remove old backups by a retention policy (a dry run unless --yes)
    #[command(
        long_about = prune::LONG_ABOUT,
        after_help = prune::AFTER_HELP
    )]
    Prune(PruneArgs),
    /// Show a repository's audit trail: every backup written, read and deleted, by whom
    #[command(
        long_about = audit::LONG_ABOUT,
        after_help = audit::AFTER_HELP
    )]
    Audit(AuditArgs),
    /// Exit non-zero when the newest verified backup is too old (for alerting)
    #[command(
        long_about = check::LONG_ABOUT,
        after_help = check::AFTER_HELP
    )]
    Check(CheckArgs),
    /// Archive every write as it happens, to restore to any second (point-in-time recovery)
    Archive(ArchiveArgs),
    /// The runs `--in-cluster` started (Jobs): list them, follow one, stop one
    #[command(
        long_about = runs::LONG_ABOUT,
        after_help = runs::AFTER_HELP
    )]
    Runs(RunsArgs),
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

/// The whole command line, for completion.
pub fn command() -> clap::Command {
    Cli::command()
}

fn runtime(ui: &Ui) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => {
            // Signals are handled from the start: a plaintext copy made
            // before the work begins is removed on Ctrl-C or SIGTERM too.
            rt.spawn(crate::signals::watch_signals());
            Some(rt)
        }
        Err(e) => {
            ui.error(&format!("cannot start the async runtime: {e}"), None);
            None
        }
    }
}

/// Runs a command. Each command's future is boxed before `block_on`: it
/// lives on the heap, not on the main thread's stack (a debug build's
/// futures of the bigger commands are large enough to overflow it).
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
        Command::Archive(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(archive::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Runs(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(runs::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::List(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(list::run(&ui, args))),
            None => Exit::Error,
        },
        Command::Verify(args) if args.url.is_some() => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(verify::run_url(&ui, args))),
            None => Exit::Error,
        },
        Command::Verify(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(verify::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Inspect(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(inspect::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Audit(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(audit::run(&ui, args))),
            None => Exit::Error,
        },
        Command::Prune(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(prune::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Schedule(mut args) => {
            if let Some(v) = &args.cronjob_api_flag {
                args.cronjob_api = v.clone();
            }
            match runtime(&ui) {
                Some(rt) => rt.block_on(Box::pin(schedule::run(&ui, &cli.kube, args))),
                None => Exit::Error,
            }
        }
        Command::Repo(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(repo::run(&ui, args))),
            None => Exit::Error,
        },
        Command::Copy(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(copy::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Status(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(status::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Check(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(check::run(&ui, args))),
            None => Exit::Error,
        },
        Command::Backup(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(backup::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Restore(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(restore::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
        Command::Drill(args) => match runtime(&ui) {
            Some(rt) => rt.block_on(Box::pin(drill::run(&ui, &cli.kube, args))),
            None => Exit::Error,
        },
    };
    ui::flush();
    ExitCode::from(code.code())
}
