//! Prometheus text-format metrics files: each command replaces only its own
//! families, written whole (temp, fsync, rename).

use crate::env;
use crate::ui::Ui;
use kubectl_redis_core::exit::Exit;
use kubectl_redis_core::ops::metrics::{merge, Gauge};

/// Writes `gauges` into `path`, keeping other commands' metrics.
pub fn write_metrics(path: &str, gauges: &[Gauge]) -> Result<(), String> {
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {path}: {e}")),
    };
    crate::store::files::write_whole(path, merge(&existing, gauges).as_bytes())
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
            env::unix_now() as f64,
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
