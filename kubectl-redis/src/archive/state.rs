//! What an archive holds, as `archive status` and `list` show it: each
//! chain's recovery window, the gaps between chains, and segments that do
//! not continue their chain.

use super::store;
use crate::store::repo::{Problem, Repo};
use kubectl_redis_core::pitr::chain;
use kubectl_redis_core::store::names::rfc3339;

/// One archive's state (`schemas/archive-status.schema.json`, `archives`).
pub struct ArchiveState {
    pub archive: String,
    pub windows: Vec<chain::Window>,
    pub gaps: Vec<chain::Gap>,
    pub broken: Vec<String>,
    /// Seconds (first, last) where the archiver was behind.
    pub uncertain: Vec<(i64, i64)>,
    pub last_offset: Option<u64>,
}

/// A Redis Cluster's archive: its shards' archives and the seconds every
/// shard reaches (what `restore --to-time --archive NAME` can restore).
pub struct ClusterState {
    pub archive: String,
    pub shards: Vec<String>,
    pub windows: Vec<(i64, i64)>,
}

/// The clusters among `states` (shards `NAME.shard-SLOT` grouped by NAME).
pub fn clusters(states: &[ArchiveState]) -> Vec<ClusterState> {
    let mut out: Vec<ClusterState> = Vec::new();
    for s in states {
        let Some((name, _)) = kubectl_redis_core::pitr::shard_of(&s.archive) else {
            continue;
        };
        if !out.iter().any(|c| c.archive == name) {
            out.push(ClusterState {
                archive: name.to_string(),
                shards: Vec::new(),
                windows: Vec::new(),
            });
        }
    }
    for c in &mut out {
        let mine: Vec<&ArchiveState> = states
            .iter()
            .filter(|s| {
                kubectl_redis_core::pitr::shard_of(&s.archive).is_some_and(|(n, _)| n == c.archive)
            })
            .collect();
        c.shards = mine.iter().map(|s| s.archive.clone()).collect();
        let windows: Vec<Vec<chain::Window>> = mine.iter().map(|s| s.windows.clone()).collect();
        c.windows = chain::common(&windows);
    }
    out
}

impl ClusterState {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "archive": self.archive,
            "shards": self.shards,
            "windows": self.windows.iter().map(|(a, b)| serde_json::json!({
                "from": rfc3339(*a), "to": rfc3339(*b), "from_unix": a, "to_unix": b,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn text(&self) -> String {
        let mut s = format!(
            "Redis Cluster archive {} ({} shards: {})\n",
            self.archive,
            self.shards.len(),
            self.shards.join(", ")
        );
        if self.windows.is_empty() {
            s.push_str("  no second that every shard reaches\n");
        }
        for (a, b) in &self.windows {
            s.push_str(&format!(
                "  {} .. {}  every shard (restore --to-time --archive {})\n",
                rfc3339(*a),
                rfc3339(*b),
                self.archive
            ));
        }
        s
    }
}

/// The state of each archive in `names` (every archive in `repo` when
/// `None`).
pub async fn states(repo: &Repo, names: Option<&str>) -> Result<Vec<ArchiveState>, Problem> {
    let names = match names {
        Some(a) => {
            // A Redis Cluster's archive: its shards.
            let all = store::archive_names(repo).await?;
            let shards: Vec<String> = kubectl_redis_core::pitr::shards_of(&all, a)
                .into_iter()
                .map(|(_, n)| n.to_string())
                .collect();
            if all.iter().any(|n| n == a) || shards.is_empty() {
                vec![a.to_string()]
            } else {
                shards
            }
        }
        None => store::archive_names(repo).await?,
    };
    let mut out = Vec::new();
    for a in names {
        let (chains, _) = store::chains(repo, &a).await?;
        let (windows, gaps) = chain::windows(&chains);
        out.push(ArchiveState {
            archive: a,
            last_offset: chains.last().map(chain::Chain::last_offset),
            broken: chains.iter().flat_map(|c| c.broken.clone()).collect(),
            uncertain: chains.iter().flat_map(chain::Chain::uncertain).collect(),
            windows,
            gaps,
        });
    }
    Ok(out)
}

impl ArchiveState {
    pub fn json(&self) -> serde_json::Value {
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
            "uncertain": self.uncertain.iter().map(|(a, b)| serde_json::json!({
                "from": rfc3339(*a), "to": rfc3339(*b), "from_unix": a, "to_unix": b,
            })).collect::<Vec<_>>(),
            "latest": latest.map(rfc3339),
            "last_offset": self.last_offset,
        })
    }

    /// The state in lines of text: the archive's name, then a line per
    /// window, gap and broken segment.
    pub fn text(&self) -> String {
        let mut s = format!("archive {}\n", self.archive);
        for w in &self.windows {
            s.push_str(&format!(
                "  {} .. {}  base {}, {} segments, {} commands\n",
                rfc3339(w.from),
                rfc3339(w.to),
                w.base,
                w.segments,
                w.commands
            ));
        }
        for g in &self.gaps {
            s.push_str(&format!(
                "  GAP  nothing archived between {} and {}\n",
                rfc3339(g.after),
                rfc3339(g.before)
            ));
        }
        for (a, b) in &self.uncertain {
            s.push_str(&format!(
                "  BEHIND  {} .. {}: the archiver was behind (its spool was full); restores to these seconds are refused\n",
                rfc3339(*a),
                rfc3339(*b)
            ));
        }
        for b in &self.broken {
            s.push_str(&format!("  BROKEN  {b}\n"));
        }
        s
    }
}
