//! The archiver's Prometheus metrics, served over HTTP (`GET /metrics`,
//! hyper's server) on `--metrics-port`: the link, the lag, segments and
//! bases stored, the spool, errors.

use super::run::Shared;
use kubectl_redis_core::ops::metrics::{merge, Gauge};

/// The archives this process keeps (one, or one per Redis Cluster shard)
/// and each one's state.
pub type Archives = Vec<(String, Shared)>;

/// The metrics text for the archivers' state now (`now_ms`: the clock):
/// one sample per archive, labelled with its name.
pub fn render(archives: &Archives, now_ms: i64) -> String {
    type Sample = (Vec<(&'static str, String)>, f64);
    let mut cols: Vec<(&'static str, &'static str, Vec<Sample>)> = Vec::new();
    for (archive, state) in archives {
        let Ok(s) = state.lock() else {
            continue;
        };
        let l = || vec![("archive", archive.clone())];
        let lag_s = s
            .pending_since_ms
            .map(|t| ((now_ms - t).max(0) as f64) / 1000.0)
            .unwrap_or(0.0);
        let rows: Vec<(&'static str, &'static str, Sample)> = vec![
            (
                "kubectl_redis_archive_up",
                "1 while the replication link to the primary is up.",
                (
                    vec![("archive", archive.clone()), ("primary", s.primary.clone())],
                    if s.up { 1.0 } else { 0.0 },
                ),
            ),
            (
                "kubectl_redis_archive_received_offset",
                "The replication offset received from the primary.",
                (l(), s.received as f64),
            ),
            (
                "kubectl_redis_archive_stored_offset",
                "The replication offset stored in the repository (what REPLCONF ACK reports).",
                (l(), s.stored as f64),
            ),
            (
                "kubectl_redis_archive_lag_bytes",
                "Stream bytes received and not yet stored.",
                (l(), s.received.saturating_sub(s.stored) as f64),
            ),
            (
                "kubectl_redis_archive_lag_seconds",
                "How long the oldest write not yet stored has waited.",
                (l(), lag_s),
            ),
            (
                "kubectl_redis_archive_last_stored_timestamp_seconds",
                "When the newest stored write arrived (Unix seconds).",
                (l(), s.last_stored_unix as f64),
            ),
            (
                "kubectl_redis_archive_segments_stored",
                "Segments stored by this archiver since it started.",
                (l(), s.segments as f64),
            ),
            (
                "kubectl_redis_archive_bases_stored",
                "Bases (new chains) stored by this archiver since it started.",
                (l(), s.bases as f64),
            ),
            (
                "kubectl_redis_archive_spool_bytes",
                "Sealed segments waiting for the repository.",
                (l(), s.spool_bytes as f64),
            ),
            (
                "kubectl_redis_archive_spool_full",
                "1 while the spool is full and reading has stopped.",
                (l(), if s.spool_full { 1.0 } else { 0.0 }),
            ),
            (
                "kubectl_redis_archive_errors",
                "Dropped links and failed uploads since it started.",
                (l(), s.errors as f64),
            ),
        ];
        for (name, help, sample) in rows {
            match cols.iter_mut().find(|c| c.0 == name) {
                Some(c) => c.2.push(sample),
                None => cols.push((name, help, vec![sample])),
            }
        }
    }
    let gauges: Vec<Gauge> = cols
        .into_iter()
        .map(|(name, help, samples)| Gauge {
            name,
            help,
            samples,
        })
        .collect();
    merge("", &gauges)
}

/// Serves [`render`] on `port` until the process ends.
pub async fn serve(port: u16, archives: Archives) -> Result<(), String> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .map_err(|e| format!("--metrics-port {port}: {e}"))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let archives = archives.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (code, body) = if req.uri().path() == "/metrics" {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis() as i64)
                            .unwrap_or(0);
                        (200, render(&archives, now))
                    } else {
                        (404, "not found: GET /metrics\n".to_string())
                    };
                    async move {
                        hyper::Response::builder()
                            .status(code)
                            .header("content-type", "text/plain; version=0.0.4")
                            .body(Full::new(Bytes::from(body)))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(())
}
