//! A local directory of backups, as the core's listing reads it.

use kubectl_redis_core::ops::list::Entry;
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
            let manifest =
                if kubectl_redis_core::store::names::parse_backup_file_name(&name).is_some() {
                    super::rdbfile::manifest_for(&e.path()).transpose()
                } else {
                    None
                };
            let set = kubectl_redis_core::store::set::set_of_manifest(&name).map(|_| {
                std::fs::read(e.path())
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            });
            Some(Entry {
                name,
                bytes: md.len(),
                modified,
                is_file: md.is_file(),
                manifest,
                set,
            })
        })
        .collect())
}
