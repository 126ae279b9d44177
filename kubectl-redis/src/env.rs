//! Small helpers over the process environment and the wall clock. A leaf.

use std::time::Duration;

/// `kubectl-redis x.y.z`, for manifests.
pub fn tool() -> String {
    format!("kubectl-redis {}", env!("CARGO_PKG_VERSION"))
}

/// The repository (a directory or an object-storage URL): flag
/// (`--out-dir`/`--repo`), then $KUBECTL_REDIS_REPO, then $OUT_DIR, then
/// $BACKUPS_DIR, then ./backups.
pub fn out_dir(flag: Option<String>) -> String {
    flag.or_else(|| env_nonempty("KUBECTL_REDIS_REPO"))
        .or_else(|| env_nonempty("OUT_DIR"))
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

/// How long a transfer may go without a byte either way before it counts
/// as stalled (a half-open port-forward, a hung server or bucket):
/// `$KUBECTL_REDIS_STALL_TIMEOUT` seconds, else 60.
pub fn stall() -> Duration {
    let s = env_nonempty("KUBECTL_REDIS_STALL_TIMEOUT")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60);
    Duration::from_secs(s)
}

/// The end of a stalled-transfer message: how long, and the knob.
pub fn stalled(what: &str) -> String {
    format!(
        "{what} for {} s: the transfer stalled (a half-open port-forward or a hung server); for a slower link raise $KUBECTL_REDIS_STALL_TIMEOUT (seconds)",
        stall().as_secs()
    )
}

pub fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// This machine's name: `/etc/hostname`, else `$HOSTNAME`, else `localhost`.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| env_nonempty("HOSTNAME"))
        .unwrap_or_else(|| "localhost".into())
}
