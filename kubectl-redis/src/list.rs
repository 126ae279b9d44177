//! `kubectl redis list`: the backups in the output directory, newest first.

use crate::cli::{self, ListArgs, Output};
use crate::ui::Ui;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::list::{listing, table, Entry};
use std::time::UNIX_EPOCH;

/// The directory's entries as the core's listing wants them (with the
/// manifests of backups read).
pub fn read_entries(dir: &str) -> std::io::Result<Vec<Entry>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            // metadata() follows symlinks: a link to a backup counts.
            let md = std::fs::metadata(e.path()).ok()?;
            let modified = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let manifest = if kubectl_redis_core::names::parse_backup_file_name(&name).is_some() {
                crate::rdbfile::manifest_for(&e.path()).transpose()
            } else {
                None
            };
            Some(Entry {
                name,
                bytes: md.len(),
                modified,
                is_file: md.is_file(),
                manifest,
            })
        })
        .collect())
}

pub fn run(ui: &Ui, args: ListArgs) -> Exit {
    let dir = cli::out_dir(args.out_dir);
    let now = cli::unix_now();
    let entries = match read_entries(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ui.note(&format!(
                "no backups: {dir} does not exist (choose it with --out-dir or $OUT_DIR)"
            ));
            Vec::new()
        }
        Err(e) => {
            ui.error(
                &format!("cannot read {dir}: {e}"),
                Some("check the directory's permissions, or choose another with --out-dir"),
            );
            return Exit::Error;
        }
    };
    let l = listing(&dir, &entries, now);
    match args.output {
        Output::Json => match serde_json::to_string_pretty(&l) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                ui.error(&format!("cannot encode the listing: {e}"), None);
                return Exit::Error;
            }
        },
        Output::Text => {
            if l.backups.is_empty() {
                ui.note(&format!("no backups in {dir}"));
            } else {
                print!("{}", table(&l));
            }
        }
    }
    if !l.partial.is_empty() {
        ui.note(&format!(
            "{} incomplete file(s) from interrupted backups in {dir} (safe to delete): {}",
            l.partial.len(),
            l.partial.join(", ")
        ));
    }
    Exit::Ok
}
