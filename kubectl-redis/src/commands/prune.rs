//! `kubectl redis prune`: remove old backups by a retention policy.

use crate::args::{parse_duration, Output};
use crate::env;
use crate::ui::Ui;
use clap::Args;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::human;
use kubectl_redis_core::ops::retention::{decide, is_ours, Policy};
use std::time::Duration;

pub const LONG_ABOUT: &str =
    "Remove old backups by a retention policy. The rules add up: a backup is \
kept if any rule keeps it, and the newest backup is always kept. Only files named \
like our backups (redis-backup-YYYYMMDD_HHMMSS[-N].rdb) are candidates; each is \
removed together with its manifest. Leftovers of interrupted backups (hidden \
temporary files, and objects uploaded without a manifest) older than an hour are \
removed too, and in S3 the unfinished multipart uploads a killed backup \
left (invisible to listing). Works on a directory or an object-storage repository (--repo URL). \
Without --yes nothing is removed: the plan is printed. With --yes each removal is \
recorded in the repository's audit/ prefix, and a BackupPruned Event goes to the workload \
each removed backup came from (its manifest names the context, namespace and pod).";

pub const AFTER_HELP: &str = "Examples:\n  kubectl redis prune --keep-last 10                 # shows what would go\n  kubectl redis prune --keep-daily 30 --keep-pitr 7d --yes   # restores to any second of the last week stay possible\n  kubectl redis prune --keep-within 7d --keep-daily 30 --yes\n  kubectl redis prune --keep-hourly 24 --keep-daily 7 --keep-weekly 8 -o json";

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Directory or object-storage URL of the backups [env: KUBECTL_REDIS_REPO, OUT_DIR, BACKUPS_DIR] [default: ./backups]
    #[arg(long, visible_alias = "repo", value_name = "DIR|URL")]
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
    /// Point-in-time archives (`kubectl redis archive`): keep the bases (and their segments)
    /// needed to restore any second this far back; older chains go with their segments. Without
    /// it, every base an archive chain starts from is kept
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub keep_pitr: Option<Duration>,
    /// Leftovers of interrupted backups (temporary files, data without a manifest, unfinished multipart uploads) older than this are removed
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    pub leftovers_older_than: Duration,
    /// Remove for real (without it, only the plan is printed)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub async fn run(ui: &Ui, kube: &crate::args::KubeArgs, args: PruneArgs) -> Exit {
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
    let dir = env::out_dir(args.out_dir);
    let remote = crate::store::repo::is_remote(&dir);
    let io_exit = if remote { Exit::Storage } else { Exit::Error };
    let repo = match crate::store::repo::Repo::open(&dir) {
        Ok(r) => r,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return Exit::Invalid;
        }
    };
    let (l, times) = match repo.listing_with_times().await {
        Ok(x) => x,
        Err(p) => {
            ui.error(&p.message, Some(&p.hint));
            return io_exit;
        }
    };
    let dir = repo.display();
    let now = env::unix_now();
    let mut verdicts = decide(&l.backups, &p, now);
    // The bases of point-in-time archives: kept while an archive needs
    // them (every one without --keep-pitr; with it, those whose chain
    // reaches into that window, and each archive's newest). A base that
    // goes takes its segments with it.
    let archives = match crate::archive::store::archive_names(&repo).await {
        Ok(a) => a,
        Err(e) => {
            ui.error(&e.message, Some(&e.hint));
            return io_exit;
        }
    };
    let mut bases: std::collections::HashMap<String, (String, bool)> = Default::default();
    for a in &archives {
        let chains = match crate::archive::store::chains(&repo, a).await {
            Ok((c, _)) => c,
            Err(e) => {
                ui.error(&e.message, Some(&e.hint));
                return io_exit;
            }
        };
        let newest = chains.iter().map(|c| c.base.time_ms).max();
        for c in &chains {
            let needed = match args.keep_pitr {
                None => true,
                Some(d) => Some(c.base.time_ms) == newest || c.to_s() >= now - d.as_secs() as i64,
            };
            bases.insert(c.base.name.clone(), (a.clone(), needed));
        }
    }
    for v in verdicts.iter_mut() {
        if let Some((a, true)) = bases.get(&v.file) {
            if !v.keep {
                v.keep = true;
                v.reasons.push(format!("archive base (pitr/{a})"));
            }
        }
    }
    let mut removed = Vec::new();
    let mut segments_removed = 0usize;
    let mut failed = Vec::new();
    // Where each removed backup came from (its manifest's source), for
    // the Events on those workloads.
    let mut sources: Vec<(crate::audit::PrunedFrom, String)> = Vec::new();
    for v in verdicts.iter().filter(|v| !v.keep) {
        if !args.yes || !is_ours(&v.file) {
            continue;
        }
        let from = repo
            .manifest(&v.file)
            .await
            .ok()
            .flatten()
            .and_then(|m| crate::audit::PrunedFrom::of(&m.source));
        match repo.remove_backup(&v.file).await {
            Ok(()) => {
                crate::audit::record(
                    ui, &repo, "deleted", "prune", &v.file, None, false, None, None,
                )
                .await;
                if let Some(f) = from {
                    sources.push((f, v.file.clone()));
                }
                removed.push(v.file.clone())
            }
            Err(e) => {
                failed.push(e.message);
                continue;
            }
        }
        if let Some((a, _)) = bases.get(&v.file) {
            match crate::archive::store::remove_chain(&repo, a, &v.file).await {
                Ok(n) => segments_removed += n,
                Err(e) => failed.push(e.message),
            }
        }
    }
    // Leftovers of interrupted backups: temporary files, and data uploaded
    // without a manifest; only those old enough not to be running now.
    let min_age = args.leftovers_older_than.as_secs() as i64;
    let mut leftovers = Vec::new();
    let mut young = 0usize;
    if !l.partial.is_empty() {
        for name in &l.partial {
            let old = times.get(name).is_some_and(|t| now - t >= min_age);
            if !old {
                young += 1;
                continue;
            }
            if args.yes {
                if let Err(e) = repo.remove_leftover(name).await {
                    failed.push(e.message);
                    continue;
                }
            }
            leftovers.push(name.clone());
        }
    }
    // Multipart uploads a killed backup left (S3): invisible to listing,
    // aborted here once old enough.
    let mut stale: Vec<crate::store::repo::StaleUpload> = Vec::new();
    if let crate::store::repo::Repo::Remote(r) = &repo {
        match r.stale_uploads(now - min_age).await {
            Ok(Some(list)) => {
                for u in list {
                    if let Some(n) = &u.note {
                        ui.note(&format!("note: {n}"));
                    }
                    if args.yes {
                        if let Err(e) = r.abort_upload(&u).await {
                            failed.push(e.message);
                            continue;
                        }
                    }
                    stale.push(u);
                }
            }
            Ok(None) => {}
            Err(e) => ui.note(&format!("note: {} ({})", e.message, e.hint)),
        }
    }
    let keep = verdicts.iter().filter(|v| v.keep).count();
    crate::audit::after_prune(ui, kube, &dir, sources).await;
    let drop: Vec<&str> = verdicts
        .iter()
        .filter(|v| !v.keep)
        .map(|v| v.file.as_str())
        .collect();
    match args.output {
        Output::Json => {
            let errors: Vec<serde_json::Value> = failed
                .iter()
                .map(|m| crate::output::error(m, Some("check the directory's permissions")))
                .collect();
            crate::output::print(
                ui,
                "PruneResult",
                serde_json::json!({
                    "dir": dir, "dry_run": !args.yes, "policy": p, "backups": verdicts,
                    "kept": keep, "removed": removed, "would_remove": if args.yes { Vec::new() } else { drop.clone() },
                    "leftovers": leftovers, "leftovers_removed": args.yes,
                    "unfinished_uploads": stale,
                    "pitr_segments_removed": segments_removed,
                    "errors": errors, "exit_code": if failed.is_empty() { 0 } else { io_exit.code() },
                }),
            );
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
            if !leftovers.is_empty() {
                ui.note(&format!(
                    "{} incomplete leftover(s) of interrupted backups {}: {}",
                    leftovers.len(),
                    if args.yes {
                        "removed"
                    } else {
                        "would be removed"
                    },
                    leftovers.join(", ")
                ));
            }
            if !stale.is_empty() {
                ui.note(&format!(
                    "{} unfinished multipart upload(s) of killed backups {}: {}",
                    stale.len(),
                    if args.yes {
                        "aborted"
                    } else {
                        "would be aborted"
                    },
                    stale
                        .iter()
                        .map(|u| u.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if young > 0 {
                ui.note(&format!(
                    "{young} incomplete file(s) younger than --leftovers-older-than left alone (a backup may be writing them)"
                ));
            }
            if args.keep_pitr.is_none() && bases.values().any(|(_, n)| *n) {
                ui.note("the bases of point-in-time archives are kept: give --keep-pitr DURATION to let older chains go");
            }
            if args.yes {
                ui.note(&format!(
                    "{} kept, {} removed (with their manifests){}",
                    keep,
                    removed.len(),
                    if segments_removed > 0 {
                        format!(", and {segments_removed} archive segment(s) of the removed bases")
                    } else {
                        String::new()
                    }
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
            Some("check the directory's permissions (or the store's: delete on the prefix)"),
        );
        return io_exit;
    }
    Exit::Ok
}
