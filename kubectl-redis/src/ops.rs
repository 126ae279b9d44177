//! Daily operations on the backup directory: `prune` (retention) and
//! `check` (newest backup's age, Prometheus metrics).

use crate::cli::{self, CheckArgs, Output, PruneArgs};
use crate::ui::Ui;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::human;
use kubectl_redis_core::list::{listing, Listing};
use kubectl_redis_core::metrics::{merge, Gauge};
use kubectl_redis_core::retention::{decide, is_ours, Policy};

fn read(ui: &Ui, dir: &str) -> Option<Listing> {
    match crate::list::read_entries(dir) {
        Ok(e) => Some(listing(dir, &e, cli::unix_now())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(listing(dir, &[], cli::unix_now()))
        }
        Err(e) => {
            ui.error(
                &format!("cannot read {dir}: {e}"),
                Some("check the directory's permissions, or choose another with --out-dir"),
            );
            None
        }
    }
}

pub fn prune(ui: &Ui, args: PruneArgs) -> Exit {
    let p = Policy {
        last: args.keep_last,
        within_s: args.keep_within.map(|d| d.as_secs() as i64),
        hourly: args.keep_hourly,
        daily: args.keep_daily,
        weekly: args.keep_weekly,
    };
    if p.is_empty() {
        ui.error(
            "no retention rule given: prune would keep only the newest backup",
            Some("say what to keep, e.g. --keep-last 10, --keep-within 7d, --keep-daily 30"),
        );
        return Exit::Invalid;
    }
    let dir = cli::out_dir(args.out_dir);
    let Some(l) = read(ui, &dir) else {
        return Exit::Error;
    };
    let verdicts = decide(&l.backups, &p, cli::unix_now());
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for v in verdicts.iter().filter(|v| !v.keep) {
        if !args.yes || !is_ours(&v.file) {
            continue;
        }
        // The backup first: a manifest without its file is harmless, the
        // reverse would look unverified.
        match std::fs::remove_file(&v.path) {
            Ok(()) => {
                let m = format!("{}.json", v.path);
                if let Err(e) = std::fs::remove_file(&m) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        failed.push(format!("{m}: {e}"));
                    }
                }
                removed.push(v.file.clone());
            }
            Err(e) => failed.push(format!("{}: {e}", v.path)),
        }
    }
    let keep = verdicts.iter().filter(|v| v.keep).count();
    let drop: Vec<&str> = verdicts
        .iter()
        .filter(|v| !v.keep)
        .map(|v| v.file.as_str())
        .collect();
    match args.output {
        Output::Json => {
            let v = serde_json::json!({
                "dir": dir, "dry_run": !args.yes, "policy": p, "backups": verdicts,
                "kept": keep, "removed": removed, "would_remove": if args.yes { Vec::new() } else { drop.clone() },
                "errors": failed,
            });
            if let Ok(s) = serde_json::to_string_pretty(&v) {
                println!("{s}");
            }
        }
        Output::Text => {
            for v in &verdicts {
                let what = if v.keep {
                    format!("keep    ({})", v.reasons.join(", "))
                } else if args.yes {
                    "removed".to_string()
                } else {
                    "remove".to_string()
                };
                println!(
                    "{:<36} {:>9}  {}  {what}",
                    v.file,
                    human::bytes(v.bytes),
                    v.created
                );
            }
            if args.yes {
                ui.note(&format!(
                    "{} kept, {} removed (with their manifests)",
                    keep,
                    removed.len()
                ));
            } else if drop.is_empty() {
                ui.note(&format!("{keep} kept, nothing to remove"));
            } else {
                ui.note(&format!(
                    "dry run: {} would be removed, {keep} kept; run again with --yes to remove them",
                    drop.len()
                ));
            }
        }
    }
    if !failed.is_empty() {
        ui.error(
            &format!("could not remove: {}", failed.join("; ")),
            Some("check the directory's permissions"),
        );
        return Exit::Error;
    }
    Exit::Ok
}

/// Writes `gauges` into `path`, keeping other commands' metrics.
pub fn write_metrics(path: &str, gauges: &[Gauge]) -> Result<(), String> {
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {path}: {e}")),
    };
    crate::files::write_whole(path, merge(&existing, gauges).as_bytes())
        .map_err(|e| format!("cannot write {path}: {e}"))
}

/// Runs a backup or restore; with a metrics file, records when it ended,
/// how, and how long it took.
pub async fn with_metrics(
    ui: &Ui,
    path: Option<String>,
    what: &'static str,
    run: impl std::future::Future<Output = Exit>,
) -> Exit {
    let t0 = std::time::Instant::now();
    let exit = run.await;
    let Some(path) = path else { return exit };
    let (code, success, dur): (&'static str, &'static str, &'static str) = match what {
        "restore" => (
            "kubectl_redis_restore_last_exit_code",
            "kubectl_redis_restore_last_success_timestamp_seconds",
            "kubectl_redis_restore_last_duration_seconds",
        ),
        _ => (
            "kubectl_redis_backup_last_exit_code",
            "kubectl_redis_backup_last_success_timestamp_seconds",
            "kubectl_redis_backup_last_duration_seconds",
        ),
    };
    let mut g = vec![Gauge::one(
        code,
        "Exit code of the last run (0: success).",
        vec![],
        f64::from(exit.code()),
    )];
    if exit == Exit::Ok {
        g.push(Gauge::one(
            success,
            "When the last successful run ended, Unix seconds.",
            vec![],
            cli::unix_now() as f64,
        ));
        g.push(Gauge::one(
            dur,
            "How long the last successful run took, seconds.",
            vec![],
            t0.elapsed().as_secs_f64(),
        ));
    }
    if let Err(e) = write_metrics(&path, &g) {
        ui.error(&e, Some("check --metrics-file's directory and permissions"));
    }
    exit
}

pub fn check(ui: &Ui, args: CheckArgs) -> Exit {
    let dir = cli::out_dir(args.out_dir);
    let Some(l) = read(ui, &dir) else {
        return Exit::Error;
    };
    let now = cli::unix_now();
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
            let v = serde_json::json!({
                "ok": fresh, "dir": dir, "max_age_seconds": max, "newest": newest,
                "message": message, "exit_code": exit.code(),
            });
            if let Ok(s) = serde_json::to_string_pretty(&v) {
                println!("{s}");
            }
        }
        Output::Text if fresh => println!("OK  {message}"),
        Output::Text => ui.error(
            &message,
            Some("run `kubectl redis backup`; `kubectl redis list` shows each backup's status"),
        ),
    }
    exit
}
