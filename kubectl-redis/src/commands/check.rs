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
when there is none (exit 10). A backup counts as verified when its manifest says \
so and its size matches. --metrics-file writes Prometheus text-format gauges \
(whole, atomically) for node-exporter's textfile collector; backup and restore \
can write the same file, each replacing only its own metrics.";

pub const AFTER_HELP: &str = "Exit codes:\n    0  the newest verified backup is recent enough\n    1  the directory cannot be read, or the metrics file cannot be written\n   10  no verified backup, or the newest is older than --max-age\n\nExamples:\n  kubectl redis check --max-age 24h\n  kubectl redis check --max-age 26h --metrics-file /var/lib/node_exporter/textfile/redis_backup.prom";

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
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
    let fresh = newest.is_some_and(|b| b.age_seconds <= max);
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
        if let Err(e) = write_metrics(path, &g) {
            ui.error(&e, Some("check --metrics-file's directory and permissions"));
            return Exit::Error;
        }
    }
    let message = match newest {
        None if l.backups.is_empty() => format!("no backups in {dir}"),
        None => format!(
            "no verified backup in {dir} ({} without a valid manifest)",
            l.backups.len()
        ),
        Some(b) if !fresh => format!(
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
    match args.output {
        Output::Json => {
            let error = (!fresh).then(|| {
                crate::output::error(
                    &message,
                    Some("run `kubectl redis backup`; `kubectl redis list` shows each backup's status"),
                )
            });
            crate::output::print(
                ui,
                "BackupCheck",
                serde_json::json!({
                    "ok": fresh, "dir": dir, "max_age_seconds": max, "newest": newest,
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
