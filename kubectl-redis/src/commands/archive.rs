//! `kubectl redis archive`: the continuous archive of the replication
//! stream (point-in-time recovery). `archive run` is the archiver in the
//! foreground; `archive status` shows what a repository holds: each
//! chain's recovery window, the gaps between chains, segments that do not
//! continue their chain.

use crate::archive::run::{self, Ack, Config, End};
use crate::archive::store;
use crate::args::{Output, TlsArgs};
use crate::store::repo::Repo;
use crate::ui::Ui;
use clap::{Args, Subcommand};
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::pitr::{self, chain};
use kubectl_redis_core::store::names::rfc3339;

pub const LONG_ABOUT: &str = "Archive every write as it happens, for restores to any second.\n\n\
The archiver is a replica as far as Redis is concerned: it sends PSYNC, stores the snapshot \
the primary answers with as an ordinary verified backup (the base, encrypted like any backup), \
then cuts the replication stream into segments: Redis 7 AOF files with #TS: lines, closed every \
--segment-size or --segment-interval (never inside MULTI/EXEC), uploaded create-only with a \
manifest. It acknowledges to Redis (REPLCONF ACK) only offsets whose segment is stored, so \
`WAIT 1 0` returns once a write is archived. After a dropped link or a restart it resumes with \
PSYNC from what the repository holds; only when the primary cannot continue (+FULLRESYNC) does a \
new base start, and the gap is shown by `archive status`. Nothing on the server is changed.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  stopped by a signal after storing everything received whole\n    2  bad arguments, refused credentials, TLS that cannot work, or object storage without recipients (give --encrypt-to or --no-encrypt)\n    9  Redis refused to act as a primary for the archiver (PSYNC or REPLCONF renamed or not allowed)\n   12  the repository cannot be read, or holds another archiver's segment under a name\n   13  the repository's recipients are not the pinned ones\n\nExamples:\n  REDISCLI_AUTH=... kubectl redis archive run --url redis://10.0.0.5:6379 --repo s3://backups/prod\n  kubectl redis archive status --repo s3://backups/prod -o json";

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
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The Redis primary to follow: redis://HOST:PORT or rediss://HOST:PORT (the password
    /// from $REDISCLI_AUTH, never the URL)
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Where bases and segments go: a directory or s3://, gs://, az:// URL
    #[arg(long, value_name = "REPO")]
    pub repo: String,
    /// The archive's name in the repository (pitr/NAME/) [default: from the URL's host and port]
    #[arg(long, value_name = "NAME")]
    pub archive: Option<String>,
    /// Close a segment once it holds this much (e.g. 16MiB)
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = crate::args::parse_bytes)]
    pub segment_size: u64,
    /// Close a segment once its first write is this old: the most a crash can lose of what
    /// Redis already acknowledged to its clients, and how late `WAIT 1` returns
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::args::parse_duration)]
    pub segment_interval: std::time::Duration,
    /// Segments waiting for the repository (in memory); when full, reading stops
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
    /// An ACL user for the archiver (it needs +psync +replconf +ping; the password from
    /// $REDISCLI_AUTH)
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    #[command(flatten)]
    pub tls: TlsArgs,
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

pub async fn run(ui: &Ui, args: ArchiveArgs) -> Exit {
    match args.command {
        ArchiveCommand::Run(a) => run_archiver(ui, *a).await,
        ArchiveCommand::Status(a) => status(ui, a).await,
    }
}

async fn run_archiver(ui: &Ui, args: RunArgs) -> Exit {
    let (host, port) = match crate::redis::parse_url(&args.url).and_then(|(host, port)| {
        crate::redis::allow_hosts(kubectl_redis_core::topo::hosts::Allowed::new(&host, &[])?);
        Ok((host, port))
    }) {
        Ok(x) => x,
        Err(e) => {
            ui.error(
                &e,
                Some("use redis://HOST:PORT; give a password with $REDISCLI_AUTH"),
            );
            return Exit::Invalid;
        }
    };
    if let Err(e) =
        crate::redis::tls::setup(&args.tls, crate::redis::url_tls(&args.url), None).await
    {
        ui.error(
            &e,
            Some("see the TLS flags in `kubectl redis archive run --help`"),
        );
        return Exit::Invalid;
    }
    let auth = match crate::redis::auth::explicit(None, "", None, args.user_name.clone()).await {
        Ok(a) => a,
        Err(e) => {
            ui.error(&e, None);
            return Exit::Invalid;
        }
    };
    let repo = match Repo::open(&args.repo) {
        Ok(r) => r,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Invalid;
        }
    };
    let recipients = match crate::commands::backup::recipients_for(
        &repo,
        &args.encrypt_to,
        &args.encrypt_to_file,
        args.no_encrypt,
    )
    .await
    {
        Ok(r) => r,
        Err((exit, p)) => {
            ui.error(&p.message, Some(&p.hint));
            return exit;
        }
    };
    let archive = args
        .archive
        .clone()
        .unwrap_or_else(|| pitr::archive_name(&format!("{host}-{port}")));
    if archive.is_empty() || archive != pitr::archive_name(&archive) {
        ui.error(
            &format!("--archive {archive:?}: use letters, digits, '-', '.' and '_'"),
            None,
        );
        return Exit::Invalid;
    }
    let scheme = if crate::redis::url_tls(&args.url) {
        "rediss"
    } else {
        "redis"
    };
    let label = format!("{scheme}://{host}:{port}");
    let limits = pitr::stream::Limits {
        bytes: usize::try_from(args.segment_size)
            .unwrap_or(usize::MAX)
            .max(1),
        interval_ms: i64::try_from(args.segment_interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1),
    };
    let config = Config {
        endpoint: kubectl_redis_core::backup::Endpoint::Url(kubectl_redis_core::backup::Url {
            host,
            port,
        }),
        source: kubectl_redis_core::store::manifest::Source {
            url: Some(label.clone()),
            role: Some("primary".into()),
            ..Default::default()
        },
        label,
        repo,
        recipients: recipients.map(std::sync::Arc::new),
        archive: archive.clone(),
        limits,
        spool_bytes: usize::try_from(args.spool_size)
            .unwrap_or(usize::MAX)
            .clamp(1 << 20, u32::MAX as usize),
        ack: if args.ack == "received" {
            Ack::Received
        } else {
            Ack::Stored
        },
        heartbeat_ms: limits.interval_ms.saturating_mul(6),
    };
    ui.line(
        "archive",
        &kubectl_redis_core::backup::Line::Step(format!(
            "archiving {} into {} as {archive}",
            config.label,
            config.repo.display()
        )),
    );
    match run::run(ui, &auth, config).await {
        End::Stopped(n) => {
            ui.note(&format!(
                "archive: stopped by signal {n}; everything received whole is stored"
            ));
            Exit::Ok
        }
        End::Failed(exit, m, hint) => {
            ui.error(&m, Some(&hint));
            exit
        }
    }
}

/// One archive's state, as `archive status -o json` prints it
/// (`schemas/archive-status.schema.json`).
struct ArchiveState {
    archive: String,
    windows: Vec<chain::Window>,
    gaps: Vec<chain::Gap>,
    broken: Vec<String>,
    last_offset: Option<u64>,
}

impl ArchiveState {
    fn json(&self) -> serde_json::Value {
        let latest = self.windows.iter().map(|w| w.to).max();
        serde_json::json!({
            "archive": self.archive,
            "windows": self.windows.iter().map(|w| serde_json::json!({
                "base": w.base,
                "from": rfc3339(w.from), "to": rfc3339(w.to),
                "from_unix": w.from, "to_unix": w.to,
                "segments": w.segments, "commands": w.commands,
            })).collect::<Vec<_>>(),
            "gaps": self.gaps.iter().map(|g| serde_json::json!({
                "after": rfc3339(g.after), "before": rfc3339(g.before),
                "after_unix": g.after, "before_unix": g.before,
            })).collect::<Vec<_>>(),
            "broken": self.broken,
            "latest": latest.map(rfc3339),
            "last_offset": self.last_offset,
        })
    }
}

async fn status(ui: &Ui, args: StatusArgs) -> Exit {
    let repo = match Repo::open(&args.repo) {
        Ok(r) => r,
        Err(p) => return failed(ui, args.output, Exit::Invalid, &p),
    };
    let names = match &args.archive {
        Some(a) => vec![a.clone()],
        None => match store::names_under(&repo, pitr::DIR).await {
            Ok(n) => {
                let mut a: Vec<String> = n
                    .iter()
                    .filter_map(|p| p.split('/').nth(1).map(str::to_string))
                    .collect();
                a.dedup();
                a
            }
            Err(p) => return failed(ui, args.output, Exit::Storage, &p),
        },
    };
    let mut out = Vec::new();
    for a in names {
        let (chains, _) = match store::chains(&repo, &a).await {
            Ok(c) => c,
            Err(p) => return failed(ui, args.output, Exit::Storage, &p),
        };
        let (windows, gaps) = chain::windows(&chains);
        out.push(ArchiveState {
            archive: a,
            last_offset: chains.last().map(chain::Chain::last_offset),
            broken: chains.iter().flat_map(|c| c.broken.clone()).collect(),
            windows,
            gaps,
        });
    }
    if args.output == Output::Json {
        crate::output::print(
            ui,
            "ArchiveStatus",
            serde_json::json!({"repo": repo.display(), "archives": out.iter().map(ArchiveState::json).collect::<Vec<_>>(), "error": null, "exit_code": 0}),
        );
        return Exit::Ok;
    }
    if out.is_empty() {
        println!("no archive in {}", repo.display());
    }
    for a in &out {
        println!("archive {}", a.archive);
        for w in &a.windows {
            println!(
                "  {} .. {}  base {}, {} segments, {} commands",
                rfc3339(w.from),
                rfc3339(w.to),
                w.base,
                w.segments,
                w.commands
            );
        }
        for g in &a.gaps {
            println!(
                "  GAP  nothing archived between {} and {}",
                rfc3339(g.after),
                rfc3339(g.before)
            );
        }
        for b in &a.broken {
            println!("  BROKEN  {b}");
        }
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
