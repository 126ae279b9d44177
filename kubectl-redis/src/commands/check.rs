//! `kubectl redis check`: is the newest verified backup recent enough?
//! With --metrics-file, Prometheus gauges for node-exporter.

use crate::args::{parse_duration, Output};
use crate::env;
use crate::metrics::write_metrics;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::human;
use kubectl_redis_core::ops::metrics::Gauge;
use std::time::Duration;

pub const LONG_ABOUT: &str =
    "Exit non-zero when the newest verified backup is older than --max-age, or \
when there is none (exit 10); with --max-archive-lag, also when the point-in-time \
archive's newest second is older than that. A backup counts as verified when its manifest says \
so and its size matches. --metrics-file writes Prometheus text-format gauges \
(whole, atomically) for node-exporter's textfile collector; backup and restore \
can write the same file, each replacing only its own metrics.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  the newest verified backup is recent enough\n    1  the directory cannot be read, or the metrics file cannot be written\n   10  no verified backup, or the newest is older than --max-age; the archive behind more than --max-archive-lag\n\nExamples:\n  kubectl redis check --max-age 24h\n  kubectl redis check --max-age 26h --max-archive-lag 1m --repo s3://backups/prod\n  kubectl redis check --max-age 26h --metrics-file /var/lib/node_exporter/textfile/redis_backup.prom";

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
    pub out_dir: Option<String>,
    /// The oldest the newest verified backup may be
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    pub max_age: Duration,
    /// Also fail when the newest second the point-in-time archive holds (`kubectl redis archive`)
    /// is older than this (an idle server's archive still advances: a heartbeat segment every
    /// three segment intervals)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_archive_lag: Option<Duration>,
    /// The archive --max-archive-lag checks [default: every archive in the repository]
    #[arg(long, value_name = "NAME", requires = "max_archive_lag")]
    pub archive: Option<String>,
    /// Write Prometheus text-format metrics here (atomically)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub async fn run(ui: &Ui, args: CheckArgs) -> Exit {
    let dir = env::out_dir(args.out_dir);
    let Some((repo, l)) = crate::store::repo::listing_or_report(ui, &dir).await else {
        return if crate::store::repo::is_remote(&dir) {
            Exit::Storage
        } else {
            Exit::Error
        };
    };
    let dir = repo.display();
    let now = env::unix_now();
    let newest = l.backups.iter().find(|b| b.status == "verified");
    let max = args.max_age.as_secs() as i64;
    let backup_fresh = newest.is_some_and(|b| b.age_seconds <= max);
    // The archive: its newest second, per archive.
    let mut archives: Vec<(String, Option<i64>)> = Vec::new();
    if args.max_archive_lag.is_some() {
        let names = match &args.archive {
            Some(a) => vec![a.clone()],
            None => match crate::archive::store::archive_names(&repo).await {
                Ok(a) => a,
                Err(p) => {
                    ui.error(&p.message, Some(&p.hint));
                    return Exit::Storage;
                }
            },
        };
        for a in names {
            match crate::archive::store::chains(&repo, &a).await {
                Ok((chains, _)) => archives.push((a, chains.iter().map(|c| c.to_s()).max())),
                Err(p) => {
                    ui.error(&p.message, Some(&p.hint));
                    return Exit::Storage;
                }
            }
        }
    }
    let lag_max = args.max_archive_lag.map(|d| d.as_secs() as i64);
    let archive_ok = match lag_max {
        None => true,
        Some(m) => {
            !archives.is_empty()
                && archives
                    .iter()
                    .all(|(_, t)| t.is_some_and(|t| now - t <= m))
        }
    };
    let fresh = backup_fresh && archive_ok;
    let exit = if fresh { Exit::Ok } else { Exit::Stale };
    if let Some(path) = &args.metrics_file {
        let label = || vec![("dir", dir.clone())];
        let mut g = vec![
            Gauge::one(
                "kubectl_redis_backups",
                "Backups in the directory (verified or not).",
                label(),
                l.backups.len() as f64,
            ),
            Gauge::one(
                "kubectl_redis_backup_check_ok",
                "1 when the newest verified backup is within --max-age.",
                label(),
                f64::from(u8::from(fresh)),
            ),
        ];
        if let Some(b) = newest {
            g.push(Gauge::one(
                "kubectl_redis_backup_newest_age_seconds",
                "Age of the newest verified backup.",
                label(),
                (now - b.created_unix) as f64,
            ));
            g.push(Gauge::one(
                "kubectl_redis_backup_newest_size_bytes",
                "Size of the newest verified backup.",
                label(),
                b.bytes as f64,
            ));
            g.push(Gauge::one(
                "kubectl_redis_backup_newest_keys",
                "Keys in the newest verified backup.",
                label(),
                b.keys.unwrap_or(0) as f64,
            ));
            g.push(Gauge::one(
                "kubectl_redis_backup_newest_timestamp_seconds",
                "When the newest verified backup was taken, Unix seconds.",
                label(),
                b.created_unix as f64,
            ));
        }
        for (a, t) in &archives {
            if let Some(t) = t {
                g.push(Gauge::one(
                    "kubectl_redis_archive_newest_age_seconds",
                    "Seconds since the newest moment the point-in-time archive can restore.",
                    vec![("dir", dir.clone()), ("archive", a.clone())],
                    (now - t) as f64,
                ));
            }
        }
        if let Err(e) = write_metrics(path, &g) {
            ui.error(&e, Some("check --metrics-file's directory and permissions"));
            return Exit::Error;
        }
    }
    let mut message = match newest {
        None if l.backups.is_empty() => format!("no backups in {dir}"),
        None => format!(
            "no verified backup in {dir} ({} without a valid manifest)",
            l.backups.len()
        ),
        Some(b) if !backup_fresh => format!(
            "the newest verified backup, {}, is {} old (more than {})",
            b.file,
            human::age(b.age_seconds),
            human::age(max)
        ),
        Some(b) => format!(
            "newest verified backup {} is {} old",
            b.file,
            human::age(b.age_seconds)
        ),
    };
    if let Some(m) = lag_max {
        if archives.is_empty() {
            message.push_str(&format!("; no point-in-time archive in {dir}"));
        }
        for (a, t) in &archives {
            match t {
                Some(t) if now - t > m => message.push_str(&format!(
                    "; archive {a} is {} behind (more than {})",
                    human::age(now - t),
                    human::age(m)
                )),
                Some(t) => {
                    message.push_str(&format!("; archive {a} is {} behind", human::age(now - t)))
                }
                None => message.push_str(&format!("; archive {a} holds nothing")),
            }
        }
    }
    match args.output {
        Output::Json => {
            let error = (!fresh).then(|| {
                crate::output::error(
                    &message,
                    Some("run `kubectl redis backup` (and keep the archiver running: `kubectl redis archive status`); `kubectl redis list` shows each backup's status"),
                )
            });
            crate::output::print(
                ui,
                "BackupCheck",
                serde_json::json!({
                    "ok": fresh, "dir": dir, "max_age_seconds": max, "newest": newest,
                    "archives": lag_max.map(|m| archives.iter().map(|(a, t)| serde_json::json!({
                        "archive": a,
                        "latest": t.map(kubectl_redis_core::store::names::rfc3339),
                        "lag_seconds": t.map(|t| now - t),
                        "ok": t.is_some_and(|t| now - t <= m),
                    })).collect::<Vec<_>>()),
                    "message": message, "error": error, "exit_code": exit.code(),
                }),
            );
        }
        Output::Text if fresh => println!("OK  {message}"),
        Output::Text => ui.error(
            &message,
            Some("run `kubectl redis backup`; `kubectl redis list` shows each backup's status"),
        ),
    }
    exit
}
