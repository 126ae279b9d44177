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

/// Pushes `gauges` to a Prometheus Pushgateway (the way batch jobs report):
/// POST to `URL/metrics/job/JOB[/LABEL/VALUE...]`, which replaces only
/// these metrics in that group, so the last success's timestamp survives a
/// failed run. `grouping` adds labels to the group (the namespace), so that
/// backups of two namespaces keep their own metrics instead of overwriting
/// each other's.
pub async fn push(
    url: &str,
    job: &str,
    grouping: &[(&str, String)],
    gauges: &[Gauge],
) -> Result<(), String> {
    let mut endpoint = format!("{}/metrics/job/{job}", url.trim_end_matches('/'));
    // A namespace is a DNS label: it needs no escaping in the path; a
    // value that would (empty, or with a slash) is left out.
    for (k, v) in grouping {
        if !v.is_empty() && !v.contains('/') {
            endpoint.push_str(&format!("/{k}/{v}"));
        }
    }
    let body = merge("", gauges);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| {
            format!("cannot push to {url}: {e} (no CA certificates in /etc/ssl/certs?)")
        })?;
    let r = client
        .post(&endpoint)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot push metrics to {endpoint}: {e}"))?;
    if !r.status().is_success() {
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        return Err(format!(
            "the Pushgateway at {endpoint} answered {status}: {}",
            text.lines().next().unwrap_or("")
        ));
    }
    Ok(())
}

/// Runs a backup or restore; with a metrics file (and/or a Pushgateway),
/// records when it ended, how, and how long it took.
pub async fn with_metrics(
    ui: &Ui,
    path: Option<String>,
    what: &'static str,
    run: impl std::future::Future<Output = Exit>,
) -> Exit {
    with_metrics_to(ui, path, None, what, run).await
}

/// [`with_metrics`], also pushing to `pushgateway`.
pub async fn with_metrics_to(
    ui: &Ui,
    path: Option<String>,
    pushgateway: Option<(String, Vec<(&'static str, String)>)>,
    what: &'static str,
    run: impl std::future::Future<Output = Exit>,
) -> Exit {
    let t0 = std::time::Instant::now();
    let exit = run.await;
    if path.is_none() && pushgateway.is_none() {
        return exit;
    }
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
    if let Some(path) = path {
        if let Err(e) = write_metrics(&path, &g) {
            ui.error(&e, Some("check --metrics-file's directory and permissions"));
        }
    }
    if let Some((url, grouping)) = pushgateway {
        if let Err(e) = push(&url, &format!("kubectl-redis-{what}"), &grouping, &g).await {
            ui.error(
                &e,
                Some(
                    "the backup's own result stands; check --pushgateway's URL (http://HOST:9091)",
                ),
            );
        }
    }
    exit
}
